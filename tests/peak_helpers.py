"""Shared by the PEAK tests: product codes, sales at given store times, a PEAK connector."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import text

from app.config import ConnectorSettings
from data.cart import Cart, Discount
from data.catalog import lookup
from data.members import find_member
from data.operators import by_code
from data.payments import CASH, PaymentState
from data.pricing import price_cart
from data.sales import commit_sale
from tests.fake_peak import CONNECT_ID, CONNECT_KEY, USER_TOKEN

BKK = ZoneInfo("Asia/Bangkok")
MEMBER = "+66812345670"


def map_products(engine, *, except_skus: tuple[str, ...] = ()) -> None:
    """Every product gets the PEAK code P-<sku>, except those named."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE product SET external_ids = json_object('peak', 'P-' || sku)"))
        for sku in except_skus:
            conn.execute(text("UPDATE product SET external_ids = '{}' WHERE sku = :sku"), {"sku": sku})


def bkk(day: date, hh: int = 12, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, us, tzinfo=BKK).astimezone(UTC)


def days_ago(n: int) -> date:
    return (datetime.now(BKK) - timedelta(days=n)).date()


def sell(engine, place, items, *, at: datetime | None = None, member: str | None = None,
         basket: Decimal | None = None, line_discounts: dict[int, Decimal] | None = None, targets=(),
         tender: str = CASH) -> str:
    """Commit a sale of (code, quantity) items at `at`, optionally with a member and discounts."""
    cart = Cart()
    for code, qty in items:
        info = lookup(engine, code)
        assert info is not None, code
        cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price, vat_rate=info.vat_rate,
                 quantity=Decimal(qty), barcode=info.barcode)
    for index, amount in (line_discounts or {}).items():
        cart.set_line_discount(cart.lines[index].line_id, Discount(amount=amount))
    if basket is not None:
        cart.basket_discount = Discount(amount=basket)
    if member:
        cart.member_phone = member
        cart.member_id = find_member(engine, member, "TH")[1].id
    totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    if totals.total <= 0 and basket:  # a sale must cost something: leave one satang
        net = sum((lt.total + lt.basket_discount for lt in totals.lines), Decimal(0))
        cart.basket_discount = Discount(amount=net - Decimal("0.01"))
        totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    payment = PaymentState(totals.total, place.currency, place.cash_rounding)
    payment.apply(tender, None)
    return commit_sale(engine, place, by_code(engine, "1"), cart, payment, at=at, exports=targets)


def peak_connector(url: str, *, live: bool = True, **extra) -> ConnectorSettings:
    values = {"connect_id": CONNECT_ID, "connect_key": CONNECT_KEY, "user_token": USER_TOKEN,
              "pos_customer_code": "POS-CUST", "timeout": 0.5, "concurrency_wait": 0.05}
    values.update(extra)
    return ConnectorSettings(name="peak", kind="peak", url=url, live=live, retry_schedule=[1, 1, 1], **values)
