"""A deterministic demo store: Bangkok, THB, 7 % VAT included, products named in Thai and English
with valid EAN-13 barcodes, members, and the two demo operators of DESIGN.md.

The same arguments always give the same catalogue, so benchmarks and tests can name products.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from data.barcodes import with_check_digit
from data.cart import Cart
from data.catalog import search_text_for
from data.db import write_session
from data.models import Barcode, Member, Operator, Product, StockLevel
from data.operators import create_operator
from data.payments import CASH, PaymentState
from data.places import Place
from data.pricing import price_cart
from data.sales import commit_sale
from data.types import utcnow

Progress = Callable[[str, int, int], None]

DEMO_OPERATORS = [("1", "Somchai (cashier)", "1111", "cashier"), ("9", "Malee (manager)", "9999", "manager")]

# Real-looking items first; their barcodes are fixed so tests and people can scan them.
FIXED_PRODUCTS = [
    ("HL-001", "ปากกาเน้นข้อความ", "Highlighter pen", "35.00", "7", "4006381333931"),
    ("CF-001", "กาแฟเย็น", "Iced coffee", "45.00", "7", "8850000000010"),
    ("CF-002", "ชาไทยเย็น", "Thai iced tea", "40.00", "7", "8850000000027"),
    ("WT-001", "น้ำดื่ม 600 มล.", "Drinking water 600 ml", "7.00", "7", "8850000000034"),
    ("RC-001", "ข้าวหอมมะลิ 5 กก.", "Jasmine rice 5 kg", "189.00", "7", "8850000000041"),
    ("VG-001", "ผักบุ้ง", "Morning glory", "15.00", "0", "8850000000058"),
    ("SN-001", "ขนมปังกรอบ", "Crispy crackers", "20.50", "7", "8850000000065"),
    ("NO-001", "สมุดบันทึก", "Notebook", "59.00", "7", "5901234123457"),
    ("MK-001", "นมสด 1 ลิตร", "Fresh milk 1 l", "52.25", "7", "8850000000072"),
    ("EG-001", "ไข่ไก่ 10 ฟอง", "Eggs, 10", "48.00", "0", "8850000000089"),
]

_THAI_ITEMS = [("กาแฟ", "coffee"), ("ชา", "tea"), ("น้ำผลไม้", "juice"), ("ขนม", "snack"), ("ข้าว", "rice"),
               ("บะหมี่", "noodles"), ("สบู่", "soap"), ("แชมพู", "shampoo"), ("ยาสีฟัน", "toothpaste"),
               ("ผงซักฟอก", "detergent"), ("ปากกา", "pen"), ("สมุด", "notebook"), ("ถ่านไฟฉาย", "battery"),
               ("เสื้อยืด", "T-shirt"), ("ถุงเท้า", "socks"), ("น้ำปลา", "fish sauce"), ("ซอส", "sauce"),
               ("ผลไม้", "fruit"), ("ผัก", "vegetables"), ("ขนมปัง", "bread")]
_THAI_KINDS = [("พรีเมียม", "premium"), ("ออร์แกนิก", "organic"), ("รสเผ็ด", "spicy"), ("หวานน้อย", "less sweet"),
               ("คลาสสิก", "classic"), ("สีแดง", "red"), ("สีเขียว", "green"), ("ขนาดพกพา", "travel size"),
               ("แพ็คคู่", "twin pack"), ("สูตรใหม่", "new recipe")]
_SIZES = ["S", "M", "L", "XL", "100 g", "250 g", "500 g", "1 kg", "330 ml", "1 l"]


def demo_product(index: int, rng: random.Random) -> tuple[str, str, str, Decimal, Decimal, str]:
    """(sku, thai name, english name, price, vat rate, barcode) of generated product `index`."""
    item = _THAI_ITEMS[index % len(_THAI_ITEMS)]
    kind = _THAI_KINDS[(index // len(_THAI_ITEMS)) % len(_THAI_KINDS)]
    size = _SIZES[(index // (len(_THAI_ITEMS) * len(_THAI_KINDS))) % len(_SIZES)]
    serial = index // (len(_THAI_ITEMS) * len(_THAI_KINDS) * len(_SIZES))
    suffix = f" #{serial}" if serial else ""
    th = f"{item[0]}{kind[0]} {size}{suffix}"
    en = f"{kind[1].capitalize()} {item[1]} {size}{suffix}"
    price = Decimal(rng.randrange(10, 2000)) / 4  # quarter-baht steps, 2.50 to 499.75
    vat = Decimal("0") if item[1] in ("vegetables", "fruit") else Decimal("7")
    barcode = with_check_digit(f"885{100_000 + index:09d}")
    return f"P{index:06d}", th, en, price.quantize(Decimal("0.01")), vat, barcode


DEMO_MEMBERS = [(f"+668123456{i:02d}", name) for i, name in enumerate(
    ["Anong", "Boonsri", "Chai", "Dao", "Ekkachai", "Fah", "Guy", "Hansa", "Itsara", "Jintana",
     "Kanya", "Lek", "Mali", "Nok", "Ong", "Pim", "Rung", "Sombat", "Tida", "Wichai"], start=70)]


def has_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(Operator.id).limit(1)).first() is not None


def seed_demo(engine: Engine, place: Place, *, products: int = 1000, sales: int = 0, days: int = 7,
              progress: Progress | None = None, seed: int = 42) -> dict[str, int]:
    """Fill an empty database. Bulk inserts in chunks: 100,000 products take seconds, not minutes."""
    if has_data(engine):
        raise ValueError("the database already has data; use a new home folder for the demo store")
    report = progress or (lambda step, done, total: None)
    rng = random.Random(seed)
    total_products = max(products, len(FIXED_PRODUCTS))
    report("operators", 0, len(DEMO_OPERATORS))
    for i, (code, name, pin, role) in enumerate(DEMO_OPERATORS, 1):
        create_operator(engine, code, name, pin, role)
        report("operators", i, len(DEMO_OPERATORS))
    now = utcnow()
    chunk = 5000
    done = 0
    with write_session(engine) as s:
        conn = s.connection()
        rows = [(sku, th, en, Decimal(price), Decimal(vat), code) for sku, th, en, price, vat, code in FIXED_PRODUCTS]
        index = 0
        while len(rows) < total_products:
            index += 1
            rows.append(demo_product(index, rng))
        rows = rows[:total_products]
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            first_id = start + 1
            conn.execute(insert(Product), [
                {"id": first_id + i, "sku": sku, "name": th, "name_en": en, "price": price, "vat_rate": vat,
                 "active": True, "external_ids": {}, "search_text": search_text_for(sku, th, en, [code]),
                 "updated_at": now}
                for i, (sku, th, en, price, vat, code) in enumerate(part)])
            conn.execute(insert(Barcode), [{"code": r[5], "product_id": first_id + i} for i, r in enumerate(part)])
            conn.execute(insert(StockLevel), [
                {"store_id": place.store_id, "product_id": first_id + i, "on_hand": Decimal(100), "reserved": Decimal(0)}
                for i in range(len(part))])
            done += len(part)
            report("products", done, len(rows))
        conn.execute(insert(Member), [{"phone": p, "name": n, "created_at": now} for p, n in DEMO_MEMBERS])
        if conn.dialect.name == "postgresql":
            # Products went in with explicit ids: move the sequence past them for later inserts.
            conn.execute(text("SELECT setval(pg_get_serial_sequence('product', 'id'), (SELECT max(id) FROM product))"))
    if sales:
        _seed_sales(engine, place, sales=sales, days=days, rng=rng, report=report, products=len(rows))
    return {"products": len(rows), "operators": len(DEMO_OPERATORS), "members": len(DEMO_MEMBERS), "sales": sales}


def _seed_sales(engine: Engine, place: Place, *, sales: int, days: int, rng: random.Random,
                report: Progress, products: int) -> None:
    from data.operators import by_code

    cashier = by_code(engine, "1")
    with engine.connect() as conn:
        catalogue = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate)
                                 .where(Product.id <= min(products, 500))).all()
    start = utcnow() - timedelta(days=max(days, 1))
    span = timedelta(days=max(days, 1)).total_seconds()
    for n in range(sales):
        cart = Cart(uid=f"demo-sale-{seed_uid(n)}")
        for _ in range(rng.randint(1, 4)):
            pid, sku, name, price, vat = catalogue[rng.randrange(len(catalogue))]
            cart.add(product_id=pid, sku=sku, name=name, price=price, vat_rate=vat, quantity=Decimal(rng.randint(1, 3)))
        if n % 5 == 0:
            cart.member_id = n % len(DEMO_MEMBERS) + 1
        totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
        payment = PaymentState(totals.total, place.currency, place.cash_rounding)
        payment.apply(CASH if n % 3 else "card")
        at = start + timedelta(seconds=span * n / max(sales, 1))
        commit_sale(engine, place, cashier, cart, payment, at=at)
        report("sales", n + 1, sales)


def seed_uid(n: int) -> str:
    return f"{n:08d}"
