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
              orders: int = 0, progress: Progress | None = None, seed: int = 42) -> dict[str, int]:
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
    if orders:
        seed_orders(engine, place, orders, progress=report, seed=seed)
    return {"products": len(rows), "operators": len(DEMO_OPERATORS), "members": len(DEMO_MEMBERS), "sales": sales,
            "orders": orders}


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


# -- customer orders --------------------------------------------------------------------------------------

ORDER_DAYS = 60
OTHER_STORE = "BKK02"  # some orders were taken at another store for pickup here
_STATUS_MIX = [("open", 40), ("ready", 15), ("partial", 10), ("delivered", 25), ("cancelled", 10)]
_SOURCE_MIX = [("till", 50), ("phone", 20), ("ecommerce", 30)]
_WALK_IN = ["Arthit", "Busaba", "Chanida", "Decha", "Kittisak", "Naree", "Prasert", "Suda", "Thana", "Wanida"]
_STREETS = ["Sukhumvit Rd", "Silom Rd", "Rama IV Rd", "Phahonyothin Rd", "Ratchadaphisek Rd"]


def _pick(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def seed_orders(engine: Engine, place: Place, count: int, *, progress: Progress | None = None, seed: int = 42,
                now=None, days: int = ORDER_DAYS) -> int:
    """`count` deterministic customer orders over the last `days` days, in bulk Core inserts: the
    orders, their lines, online payments, the reservation journal (reserve, consume for what was
    picked up, release for cancelled orders) and stock_level.reserved raised by the journal's sum,
    so the invariant reserved = Σ journal holds. Mixed statuses, sources and delivery methods;
    customers are the demo members and a few walk-ins. 10,000 orders take a few seconds."""
    from sqlalchemy import func, update

    from data.cart import CartLine
    from data.models import CustomerOrder, CustomerOrderLine, OrderPayment, OrderSeries, ReservationEntry
    from data.orders import format_order_number

    report = progress or (lambda step, done, total: None)
    rng = random.Random(seed * 7919 + count)
    now = now or utcnow()
    start = now - timedelta(days=days)
    step = timedelta(days=days) / max(count, 1)
    co, col, op, rj = (CustomerOrder.__table__, CustomerOrderLine.__table__, OrderPayment.__table__,
                       ReservationEntry.__table__)
    with write_session(engine) as s:
        conn = s.connection()
        catalogue = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate)
                                 .where(Product.active.is_(True)).order_by(Product.id).limit(500)).all()
        barcodes = dict(conn.execute(select(Barcode.product_id, func.min(Barcode.code))
                                     .where(Barcode.product_id.in_([c[0] for c in catalogue]))
                                     .group_by(Barcode.product_id)).all())
        order_id = conn.execute(select(func.coalesce(func.max(co.c.id), 0))).scalar() + 1
        line_id = conn.execute(select(func.coalesce(func.max(col.c.id), 0))).scalar() + 1
        series = dict(conn.execute(select(OrderSeries.store_id, OrderSeries.next_number)).all())
        next_no = {st: series.get(st, 1) for st in (place.store_id, OTHER_STORE)}
        reserved: dict[int, Decimal] = {}
        o_rows, l_rows, p_rows, j_rows = [], [], [], []

        def flush() -> None:
            if o_rows:
                conn.execute(co.insert(), o_rows)
            if l_rows:
                conn.execute(col.insert(), l_rows)
            if p_rows:
                conn.execute(op.insert(), p_rows)
            if j_rows:
                conn.execute(rj.insert(), j_rows)
            for rows in (o_rows, l_rows, p_rows, j_rows):
                rows.clear()

        for n in range(count):
            at = start + step * n + timedelta(seconds=rng.randrange(0, max(int(step.total_seconds()), 1)))
            status = _pick(rng, _STATUS_MIX)
            source = _pick(rng, _SOURCE_MIX)
            taken_at = OTHER_STORE if rng.random() < 0.1 else place.store_id
            number = format_order_number(taken_at, next_no[taken_at])
            next_no[taken_at] += 1
            if rng.random() < 0.7:
                phone, name = DEMO_MEMBERS[rng.randrange(len(DEMO_MEMBERS))]
                member = phone
            else:
                name = _WALK_IN[rng.randrange(len(_WALK_IN))]
                phone, member = f"+6689{rng.randrange(10_000_000):07d}", None
            method = _pick(rng, [("pickup", 70), ("deliver", 20), ("ship", 10)])
            address = "" if method == "pickup" else f"{rng.randint(1, 999)} {rng.choice(_STREETS)}, Bangkok"
            picked_lines = rng.sample(catalogue, rng.randint(1, 4))
            oid = order_id + n
            cart_lines, lines = [], []
            qtys = [Decimal(rng.randint(1, 3)) for _ in picked_lines]
            if status == "partial" and len(qtys) == 1:
                qtys[0] += 1  # something handed over, something still to come
            for no, ((pid, sku, pname, price, vat), qty) in enumerate(zip(picked_lines, qtys), start=1):
                if status == "delivered":
                    picked = qty
                elif status == "partial":
                    # the first line (or part of it) went, the last one is still to come
                    picked = (qty if len(qtys) > 1 else qty - 1) if no == 1 else \
                        Decimal(0) if no == len(qtys) else Decimal(rng.randint(0, int(qty)))
                else:
                    picked = Decimal(0)
                line_status = ("voided" if status == "cancelled" else "delivered" if picked >= qty else "open")
                lid = line_id
                line_id += 1
                lines.append((lid, pid, sku, qty, picked, line_status))
                cart_lines.append(CartLine(str(lid), pid, sku, pname, qty, price, price, vat, barcodes.get(pid)))
                l_rows.append({"id": lid, "order_id": oid, "line_no": no, "sku": sku, "barcode": barcodes.get(pid),
                               "name": pname, "quantity": qty, "picked": picked, "status": line_status,
                               "unit_price": price, "original_price": price, "vat_rate": vat, "discount": {}})
            full = price_cart(Cart(lines=cart_lines), currency=place.currency,
                              prices_include_vat=place.prices_include_vat).total
            total = Decimal(0).quantize(full) if status == "cancelled" else full
            operator = "1" if rng.random() < 0.7 else "9"
            paid = applied = Decimal(0).quantize(full)
            if status == "delivered" or (source == "ecommerce" and status != "cancelled"):
                paid = total  # paid online in full (e-commerce), or paid off when handed over
            elif status in ("open", "ready", "partial") and rng.random() < 0.4:
                paid = (total * Decimal(rng.choice([20, 30, 50])) / 100).quantize(full)
            if paid > 0:
                p_rows.append({"order_id": oid, "uid": f"demo-order:{number}:pay", "kind": "online", "amount": paid,
                               "tender": "online", "receipt_number": f"PAY-{n + 1:06d}", "store_id": taken_at,
                               "operator": operator, "at": at})
            if status == "delivered":
                applied = paid
                p_rows.append({"order_id": oid, "uid": f"demo-order:{number}:applied", "kind": "applied",
                               "amount": paid, "tender": "online", "receipt_number": f"PAY-{n + 1:06d}",
                               "store_id": place.store_id, "operator": operator, "at": at})
            done_at = at + timedelta(hours=rng.randint(1, 72))
            for lid, pid, sku, qty, picked, line_status in lines:
                j_rows.append({"order_id": oid, "line_id": lid, "store_id": place.store_id, "sku": sku,
                               "kind": "reserve", "quantity": qty, "operator": operator, "at": at, "note": ""})
                if picked > 0:
                    j_rows.append({"order_id": oid, "line_id": lid, "store_id": place.store_id, "sku": sku,
                                   "kind": "consume", "quantity": picked, "operator": operator, "at": done_at,
                                   "note": "picked up (demo)"})
                if status == "cancelled":
                    j_rows.append({"order_id": oid, "line_id": lid, "store_id": place.store_id, "sku": sku,
                                   "kind": "release", "quantity": qty, "operator": "9", "at": done_at,
                                   "note": "order cancelled"})
                elif qty > picked:
                    reserved[pid] = reserved.get(pid, Decimal(0)) + qty - picked
            closed = done_at if status in ("delivered", "cancelled") else None
            o_rows.append({
                "id": oid, "number": number, "store_id": taken_at, "fulfil_store": place.store_id, "status": status,
                "source": source, "external_id": f"WEB-{seed}-{n + 1:06d}" if source == "ecommerce" else None,
                "customer_name": name, "customer_phone": phone, "member_phone": member, "delivery_method": method,
                "delivery_address": address, "expected_date": (at + timedelta(days=rng.randint(1, 14))).date().isoformat(),
                "comments": "gift wrap" if rng.random() < 0.05 else "", "currency": place.currency,
                "prices_include_vat": place.prices_include_vat, "basket_discount": {}, "total": total, "paid": paid,
                "applied": applied, "version": 1 if status in ("open", "ready") else 2, "created_by": operator,
                "created_at": at, "updated_at": closed or at, "closed_at": closed})
            if len(o_rows) >= 2000:
                flush()
                report("orders", n + 1, count)
        flush()
        for store, nxt in next_no.items():
            if store in series:
                conn.execute(update(OrderSeries.__table__).where(OrderSeries.store_id == store)
                             .values(next_number=nxt))
            elif nxt > 1:
                conn.execute(OrderSeries.__table__.insert().values(store_id=store, next_number=nxt))
        levels = dict(conn.execute(select(StockLevel.product_id, StockLevel.reserved)
                                   .where(StockLevel.store_id == place.store_id,
                                          StockLevel.product_id.in_(list(reserved)))).all())
        for pid, qty in reserved.items():
            if pid in levels:
                conn.execute(update(StockLevel.__table__)
                             .where(StockLevel.store_id == place.store_id, StockLevel.product_id == pid)
                             .values(reserved=(levels[pid] or Decimal(0)) + qty))
            else:
                conn.execute(insert(StockLevel), {"store_id": place.store_id, "product_id": pid,
                                                  "on_hand": Decimal(0), "reserved": qty})
        if conn.dialect.name == "postgresql":
            for table in ("customer_order", "customer_order_line"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    report("orders", count, count)
    return count
