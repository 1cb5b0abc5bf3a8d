"""Receipt layout: every line fits the paper in cells, the figures are there, and nothing from a product
name can reach the printer as a control code."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from app.devices.receipt_layout import center, fit, layout_receipt, left_right, wrap
from data.cart import Cart, Discount
from data.catalog import lookup, upsert_product
from data.db import write_session
from data.money import fmt_money
from data.operators import by_code
from data.payments import CARD, CASH, PaymentState
from data.pricing import price_cart
from data.sales import ReceiptDoc, ReceiptLine, ReceiptPayment, commit_refund, commit_sale, receipt_doc, refundable
from tests.conftest import COFFEE, GREENS, HIGHLIGHTER, MILK

D = Decimal
WIDTHS = (32, 42, 48)
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LONG_THAI = ("ข้าวหอมมะลิพิเศษคัดพิเศษจากทุ่งกุลาร้องไห้ บรรจุถุงสุญญากาศ น้ำหนักสุทธิห้ากิโลกรัม "
             "สูตรใหม่ล่าสุดไม่มีสารกันบูด")
LONG_LATIN = "Supercalifragilisticexpialidocious-extra-long-product-name-without-any-spaces-at-all-xxxxxxxx"
EVIL = "Evil \x1bp\x00\x19\xfa drawer \x1dV\x00 cut \x1b@ \u202eReversed\u202c \x9b31m"
CJK = "特大号抹茶味巧克力饼干礼盒装限定版本特别款式超长名称测试"


def assert_clean(lines: list[str], width: int) -> None:
    assert lines, "a receipt has lines"
    for line in lines:
        assert isinstance(line, str)
        assert cell_len(line) <= width, f"{cell_len(line)} cells > {width}: {line!r}"
        for ch in line:
            cat = unicodedata.category(ch)
            assert cat != "Cc", f"control character {ch!r} in {line!r}"
            assert not (cat == "Cf" and ch != "\u200d"), f"format character {ch!r} in {line!r}"
        assert "\x1b" not in line and "\x1d" not in line and "\x00" not in line


def line_with(lines: list[str], label: str) -> str:
    found = [l for l in lines if l.startswith(label)]
    assert found, f"no {label!r} line in:\n" + "\n".join(lines)
    return found[0]


# -- from a committed sale ---------------------------------------------------------------------------

@pytest.fixture
def sold(engine, place):
    """A committed sale with Thai, long, CJK and hostile names, a discount, a member and split tenders."""
    with write_session(engine) as s:
        for sku, name, en in (("LONG-TH", LONG_THAI, "Jasmine rice special"), ("LONG-EN", LONG_LATIN, LONG_LATIN),
                              ("EVIL-1", EVIL, EVIL), ("CJK-1", CJK, "")):
            upsert_product(s, sku=sku, name=name, name_en=en, price=D("1234.50"), vat_rate=D(7))
    cart = Cart()
    for code, qty in ((COFFEE, 2), (HIGHLIGHTER, 1), (MILK, "1.5"), (GREENS, 3), ("LONG-TH", 1), ("LONG-EN", 1),
                      ("EVIL-1", 1), ("CJK-1", 1)):
        p = lookup(engine, code)
        cart.add(product_id=p.id, sku=p.sku, name=p.name, price=p.price, vat_rate=p.vat_rate, quantity=D(qty),
                 barcode=p.barcode)
    cart.set_line_discount(cart.lines[0].line_id, Discount(percent=D(10)))
    cart.set_price(cart.lines[1].line_id, D("30.00"))
    cart.basket_discount = Discount(amount=D("5.00"))
    cart.member_id = 1
    totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    payment = PaymentState(totals.total, place.currency, place.cash_rounding)
    payment.apply(CARD, D("1000.00"), reference="VISA \x1b*1234")
    payment.apply(CASH, D("10000"))
    cashier = by_code(engine, "1")
    number = commit_sale(engine, place, cashier, cart, payment)
    return number, totals, payment


@pytest.mark.parametrize("width", WIDTHS)
def test_committed_sale_fits_and_shows_totals(engine, sold, width):
    number, totals, payment = sold
    doc = receipt_doc(engine, number)
    lines = layout_receipt(doc, width)
    assert_clean(lines, width)
    text = "\n".join(lines)
    assert number in text
    assert "Demo Store" in text
    total_line = line_with(lines, "TOTAL")
    assert total_line.endswith(f"THB {fmt_money(totals.total + payment.rounding, 'THB')}")
    assert line_with(lines, "Subtotal").endswith(fmt_money(totals.subtotal, "THB"))
    assert line_with(lines, "Discounts").endswith(fmt_money(-totals.discount_total, "THB"))
    assert line_with(lines, "Change").endswith(fmt_money(payment.change, "THB"))
    assert line_with(lines, "Member").endswith("+66812345670")
    assert line_with(lines, "Card").endswith("1,000.00")
    assert line_with(lines, "Cash ").endswith("10,000.00")
    if payment.rounding:
        assert line_with(lines, "Rounding").endswith(fmt_money(payment.rounding, "THB"))
    assert "(was 35.00)" in text  # the price override
    assert "N = no VAT" in text
    assert line_with(lines, "VAT 7% incl.")
    assert "*** COPY ***" not in text
    assert "REFUND" not in text
    assert lines[-1].strip() == "Thank you"


def test_receipt_figures_match_the_stored_sale(engine, sold):
    number, totals, payment = sold
    doc = receipt_doc(engine, number)
    assert doc.total == totals.total
    assert doc.vat_total == totals.vat
    assert doc.rounding == payment.rounding
    assert sum((line.total for line in doc.lines), D(0)) == doc.total
    assert sum((vat for _, _, vat in doc.vat_by_rate), D(0)) == doc.vat_total
    assert [p.tender for p in doc.payments] == [CARD, CASH]
    assert doc.member_phone == "+66812345670"


def test_every_name_is_printed_wrapped(engine, sold):
    number, _, _ = sold
    lines = layout_receipt(receipt_doc(engine, number), 32)
    joined = "".join(lines)
    # long words are cut over several lines, none of the text is lost
    assert LONG_LATIN.replace(" ", "") in joined.replace(" ", "")
    assert "ข้าวหอมมะลิ" in joined
    assert "Evil" in joined and "drawer" in joined and "Reversed" in joined


@pytest.mark.parametrize("width", WIDTHS)
def test_copy_banner(engine, sold, width):
    number, _, _ = sold
    lines = layout_receipt(receipt_doc(engine, number), width, copy=True)
    assert_clean(lines, width)
    assert lines[0].strip() == "*** COPY ***"
    assert lines[0] == center("*** COPY ***", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_refund_banner(engine, place, sold, width):
    number, _, _ = sold
    cashier, manager = by_code(engine, "1"), by_code(engine, "9")
    original = refundable(engine, number)
    line = next(l for l in original.lines if l.sku == "EVIL-1")
    pay = PaymentState(line.total, place.currency, place.cash_rounding)
    pay.apply(CASH)
    refund_no = commit_refund(engine, place, cashier, manager, number, {line.line_id: D(1)}, pay, uid="r-1",
                              reason="faulty \x1b\x00")
    doc = receipt_doc(engine, refund_no)
    assert doc.kind == "refund" and doc.refund_of == number
    lines = layout_receipt(doc, width)
    assert_clean(lines, width)
    text = "\n".join(lines)
    assert "*** REFUND ***" in text
    assert f"for receipt {number}" in text or width < len(f"for receipt {number}")
    assert line_with(lines, "REFUND TOTAL").endswith(f"THB {fmt_money(doc.total + doc.rounding, 'THB')}")
    assert "Evil" in text


# -- built by hand -----------------------------------------------------------------------------------

def make_doc(**changes) -> ReceiptDoc:
    base = dict(
        receipt_number="BKK01-T1-000042", kind="sale", store_id="BKK01", store_name="ร้านตัวอย่าง Demo Store",
        terminal="T1", operator="Somchai (cashier)", created_at=datetime(2026, 12, 1, 2, 30, tzinfo=UTC),
        timezone="Asia/Bangkok", currency="THB", prices_include_vat=True,
        lines=(
            ReceiptLine("ปากกาเน้นข้อความ", "HL-001", D(2), D("35.00"), D("35.00"), D("0.00"), D("70.00"), D(7)),
            ReceiptLine("ผักบุ้ง", "VG-001", D("0.5"), D("15.00"), D("15.00"), D("0.75"), D("6.75"), D(0)),
        ),
        payments=(ReceiptPayment("cash", D("76.75"), D("100.00"), D("23.25"), ""),),
        subtotal=D("77.50"), discount_total=D("0.75"), vat_total=D("4.58"), total=D("76.75"), rounding=D("0.00"),
        paid_total=D("76.75"), change_total=D("23.25"),
        vat_by_rate=((D(0), D("6.75"), D("0.00")), (D(7), D("65.42"), D("4.58"))),
        member_phone=None, refund_of=None,
    )
    base.update(changes)
    return ReceiptDoc(**base)


@pytest.mark.parametrize("width", WIDTHS)
def test_hand_built_receipt(width):
    lines = layout_receipt(make_doc(), width)
    assert_clean(lines, width)
    assert line_with(lines, "Receipt").endswith("BKK01-T1-000042")
    assert line_with(lines, "Date").endswith("2026-12-01 09:30"), "local time in the store's zone"
    assert line_with(lines, "Cashier").endswith("Somchai (cashier)")
    assert line_with(lines, "TOTAL").endswith("THB 76.75")
    assert line_with(lines, "Change").endswith("23.25")
    assert line_with(lines, "  Discount").endswith("-0.75")
    assert not any(l.startswith("Rounding") for l in lines)
    assert not any(l.startswith("VAT ") and "incl." not in l for l in lines)
    assert not any(l.startswith("Member") for l in lines)
    # quantities: whole without decimals, weighed as typed; the no-VAT mark
    assert any(l.startswith("  2 x 35.00") and l.endswith("70.00") for l in lines)
    assert any(l.startswith("  0.5 x 15.00") and l.endswith("7.50 N") for l in lines)


def test_exclusive_vat_and_rounding_lines():
    doc = make_doc(prices_include_vat=False, total=D("82.12"), vat_total=D("5.37"), rounding=D("0.13"),
                   vat_by_rate=((D(7), D("76.75"), D("5.37")),))
    lines = layout_receipt(doc, 42)
    assert_clean(lines, 42)
    assert line_with(lines, "VAT ").endswith("5.37")
    assert line_with(lines, "Rounding").endswith("0.13")
    assert line_with(lines, "TOTAL").endswith("THB 82.25")
    assert line_with(lines, "VAT 7% excl.")


@pytest.mark.parametrize("width", WIDTHS)
def test_hostile_text_everywhere(width):
    doc = make_doc(
        store_name="Shop\x1b@\x1bp\x00\x19\x1dV\x00\r\nnext",
        operator="Op\x1b[31m\x07",
        lines=(ReceiptLine("Evil \x1bp\x00\x19\xfa \x1dV\x00 \x9b2J\u202e", "EV", D(1), D("1.00"), D("1.00"), D(0),
                           D("1.00"), D(7)),
               ReceiptLine("[bold red]markup[/] <b>html</b>", "MK", D(1), D("1.00"), D("1.00"), D(0), D("1.00"),
                           D(7))),
        payments=(ReceiptPayment("PromptPay", D("2.00"), D("2.00"), D(0), "ref\x1b\x00\x1dV"),),
    )
    lines = layout_receipt(doc, width)
    assert_clean(lines, width)
    text = "\n".join(lines)
    assert "[bold red]markup[/] <b>html</b>" in text, "markup is printed literally"
    assert "PromptPay ref" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_huge_amounts_still_fit(width):
    big = D("99999999.99")
    doc = make_doc(
        lines=(ReceiptLine(CJK * 3, "BIG", D(9999), big, D("88888888.88"), big, big * 9999, D(7)),),
        subtotal=big * 9999, total=big * 9999, discount_total=big, change_total=big,
        payments=(ReceiptPayment("a-very-long-tender-name-that-goes-on-and-on", big, big, big, "x" * 80),),
    )
    assert_clean(layout_receipt(doc, width), width)


# Characters that join code points into one wider grapheme (variation selectors, keycaps, ZWJ, skin
# tones, tags) are left to test_emoji_with_variation_selector_fits, which covers the known bug.
_JOINERS = "".join(chr(c) for c in [*range(0xFE00, 0xFE10), 0x20E3, 0x200D, *range(0x1F3FB, 0x1F400),
                                    *range(0xE0020, 0xE0080)])
names = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=_JOINERS), max_size=120)
thai_heavy = st.text(alphabet=st.sampled_from(list("กขคงจฉชซญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮะัาำิีึืุูเแโใไๅ็่้๊๋์ ")
                                               + ["漢", "字", "🍜", "\x1b", "\x00", "\t", " "]), max_size=120)


@PROPS
@given(st.one_of(names, thai_heavy), st.one_of(names, thai_heavy), st.sampled_from(WIDTHS + (24, 80)),
       st.booleans(), st.sampled_from(["sale", "refund"]))
def test_any_text_fits_and_is_clean(name, other, width, copy, kind):
    doc = make_doc(
        kind=kind, refund_of="BKK01-T1-000001" if kind == "refund" else None, store_name=other, operator=other,
        member_phone="+66812345678",
        lines=(ReceiptLine(name, "X", D(1), D("1.00"), D("2.00"), D(0), D("1.00"), D(7)),
               ReceiptLine(other, "Y", D("0.125"), D("10.00"), D("10.00"), D("0.25"), D("1.00"), D(0))),
        payments=(ReceiptPayment("card", D("2.00"), D("2.00"), D(0), name),),
    )
    assert_clean(layout_receipt(doc, width, copy=copy), width)


# -- the helpers -------------------------------------------------------------------------------------

@PROPS
@given(st.one_of(names, thai_heavy), st.integers(min_value=2, max_value=80))
def test_fit_and_wrap(text, width):
    from data.text import printable

    text = printable(text)
    assert cell_len(fit(text, width)) <= width
    assert text.startswith(fit(text, width))
    wrapped = wrap(text, width)
    assert wrapped
    assert all(cell_len(line) <= width for line in wrapped)
    assert "".join(wrapped).replace(" ", "") == text.replace(" ", "")


@PROPS
@given(st.one_of(names, thai_heavy), st.one_of(names, thai_heavy), st.integers(min_value=4, max_value=80))
def test_left_right_is_exactly_the_width(left, right, width):
    from data.text import printable

    line = left_right(printable(left), printable(right), width)
    assert cell_len(line) <= width
    if cell_len(printable(right)) < width:
        assert cell_len(line) == width
        assert line.endswith(printable(right))


def test_thai_marks_take_no_cell():
    assert cell_len("น้ำ") == 2
    line = left_right("น้ำดื่ม 600 มล.", "7.00", 32)
    assert cell_len(line) == 32
    assert len(line) > 32


@pytest.mark.parametrize("width", WIDTHS)
def test_emoji_with_variation_selector_fits(width):
    hearts = "\u2764\ufe0f" * 40
    assert cell_len(fit(hearts, width)) <= width
    doc = make_doc(lines=(ReceiptLine(f"Valentine {hearts}", "VD", D(1), D("1.00"), D("1.00"), D(0), D("1.00"),
                                      D(7)),))
    assert_clean(layout_receipt(doc, width), width)
