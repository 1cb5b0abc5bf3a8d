"""Pricing, VAT, discounts, cash rounding, tendering and cashier input parsing (pure functions only)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.cart import MAX_QUANTITY, Cart, CartError, Discount, parse_discount, parse_quantity
from data.money import MoneyError, fmt_money, round_money, round_to_unit, to_decimal
from data.payments import CARD, CASH, PaymentState, TenderError
from data.pricing import allocate, cash_due, discount_amount, line_vat, price_cart

D = Decimal
CENT = D("0.01")
THB = "THB"
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def half_up(value: Decimal, q: Decimal = CENT) -> Decimal:
    return value.quantize(q, rounding=ROUND_HALF_UP)


def ref_vat(net: Decimal, rate: Decimal, inclusive: bool) -> Decimal:
    """The contract's VAT per line, computed independently of data.pricing."""
    if inclusive:
        return half_up(net * rate / (100 + rate))
    return half_up(net * rate / 100)


def make_cart(lines, basket: Discount | None = None) -> Cart:
    cart = Cart()
    for i, (price, qty, rate, disc) in enumerate(lines):
        line = cart.add(product_id=i + 1, sku=f"SKU-{i}", name=f"item {i}", price=price, vat_rate=rate,
                        quantity=qty)
        if disc is not None:
            cart.set_line_discount(line.line_id, disc)
    if basket is not None:
        cart.basket_discount = basket
    return cart


# -- strategies --------------------------------------------------------------------------------------

prices = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n).scaleb(-2))
whole_qty = st.integers(min_value=1, max_value=999).map(D)
weighed_qty = st.integers(min_value=1, max_value=999_999).map(lambda n: D(n).scaleb(-3))
quantities = st.one_of(whole_qty, weighed_qty)
rates = st.sampled_from([D(0), D(7), D(10), D(24)])
percents = st.integers(min_value=0, max_value=10_000).map(lambda n: D(n).scaleb(-2))  # 0.00 .. 100.00
amounts = st.integers(min_value=0, max_value=20_000_000).map(lambda n: D(n).scaleb(-2))
discounts = st.one_of(
    st.none(),
    percents.map(lambda p: Discount(percent=p)),
    amounts.map(lambda a: Discount(amount=a)),
)
line_specs = st.lists(st.tuples(prices, quantities, rates, discounts), min_size=1, max_size=8)


# -- price_cart properties -----------------------------------------------------------------------------

@PROPS
@given(line_specs, discounts, st.booleans())
def test_totals_are_the_sum_of_lines(specs, basket, inclusive):
    cart = make_cart(specs, basket)
    t = price_cart(cart, currency=THB, prices_include_vat=inclusive)
    assert len(t.lines) == len(cart.lines)
    lines_total = sum((lt.total for lt in t.lines), D(0))
    lines_vat = sum((lt.vat for lt in t.lines), D(0))
    if inclusive:
        assert t.total == lines_total
    else:
        assert t.total == lines_total + lines_vat
    assert t.vat == lines_vat
    assert t.subtotal == sum((lt.gross for lt in t.lines), D(0))
    assert t.line_discounts == sum((lt.line_discount for lt in t.lines), D(0))
    assert t.basket_discount == sum((lt.basket_discount for lt in t.lines), D(0))
    assert t.discount_total == t.line_discounts + t.basket_discount
    assert t.subtotal - t.discount_total == lines_total
    # Everything is an exact amount in satang.
    for value in (t.total, t.vat, t.subtotal, t.discount_total):
        assert value == value.quantize(CENT)
        assert isinstance(value, Decimal)


@PROPS
@given(line_specs, discounts, st.booleans())
def test_each_line_follows_the_rules(specs, basket, inclusive):
    cart = make_cart(specs, basket)
    t = price_cart(cart, currency=THB, prices_include_vat=inclusive)
    for line, lt in zip(cart.lines, t.lines):
        assert lt.line_id == line.line_id
        assert lt.gross == half_up(line.quantity * line.unit_price)
        assert D(0) <= lt.line_discount <= lt.gross
        assert lt.basket_discount >= 0
        assert lt.total >= 0, "a discount took a line below zero"
        assert lt.total == lt.gross - lt.line_discount - lt.basket_discount
        assert lt.vat == ref_vat(lt.total, line.vat_rate, inclusive)
        assert lt.vat >= 0
        if inclusive:
            assert lt.vat <= lt.total
    assert t.total >= 0


@PROPS
@given(line_specs, discounts, st.booleans())
def test_discounts_never_exceed_what_they_apply_to(specs, basket, inclusive):
    cart = make_cart(specs, basket)
    t = price_cart(cart, currency=THB, prices_include_vat=inclusive)
    nets = [lt.gross - lt.line_discount for lt in t.lines]
    net_sum = sum(nets, D(0))
    assert t.basket_discount <= net_sum
    if basket is not None:
        assert t.basket_discount == discount_amount(basket, net_sum, THB)
    for lt, net in zip(t.lines, nets):
        assert lt.basket_discount <= net


@PROPS
@given(line_specs, st.booleans())
def test_no_discount_means_total_is_subtotal_for_inclusive(specs, inclusive):
    specs = [(p, q, r, None) for p, q, r, _ in specs]
    t = price_cart(make_cart(specs), currency=THB, prices_include_vat=inclusive)
    assert t.discount_total == 0
    if inclusive:
        assert t.total == t.subtotal
    else:
        assert t.total == t.subtotal + t.vat


def test_empty_cart_is_zero():
    t = price_cart(Cart(), currency=THB, prices_include_vat=True)
    assert t.lines == ()
    assert t.total == t.vat == t.subtotal == 0
    assert str(t.total) == "0.00"


# -- VAT ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "net, rate, inclusive, expected",
    [
        (D("70.00"), D(7), True, D("4.58")),  # 70 * 7 / 107 = 4.5794
        (D("107.00"), D(7), True, D("7.00")),
        (D("100.00"), D(7), False, D("7.00")),
        (D("0.07"), D(7), False, D("0.00")),  # 0.0049
        (D("0.50"), D(7), False, D("0.04")),  # 0.035 -> half up
        (D("7.49"), D(10), True, D("0.68")),  # 0.6809
        (D("124.00"), D(24), True, D("24.00")),
        (D("15.00"), D(0), True, D("0.00")),
        (D("0.00"), D(7), True, D("0.00")),
    ],
)
def test_line_vat(net, rate, inclusive, expected):
    assert line_vat(net, rate, inclusive, THB) == expected


def test_line_vat_half_up_not_half_even():
    # 0.25 * 10 / 100 = 0.025: half up gives 0.03 (half even would give 0.02)
    assert line_vat(D("0.25"), D(10), False, THB) == D("0.03")
    # 0.15 * 10 / 100 = 0.015 -> 0.02 (half even would also give 0.02); 0.35 -> 0.035 -> 0.04
    assert line_vat(D("0.35"), D(10), False, THB) == D("0.04")


@PROPS
@given(prices, rates, st.booleans())
def test_line_vat_matches_reference(net, rate, inclusive):
    assert line_vat(net, rate, inclusive, THB) == ref_vat(net, rate, inclusive)


def test_vat_exclusive_cart_adds_vat():
    cart = make_cart([(D("100.00"), D(1), D(7), None), (D("15.00"), D(2), D(0), None)])
    t = price_cart(cart, currency=THB, prices_include_vat=False)
    assert t.subtotal == D("130.00")
    assert t.vat == D("7.00")
    assert t.total == D("137.00")


def test_vat_inclusive_cart_holds_vat():
    cart = make_cart([(D("35.00"), D(2), D(7), None), (D("15.00"), D(1), D(0), None)])
    t = price_cart(cart, currency=THB, prices_include_vat=True)
    assert t.total == D("85.00")
    assert t.vat == D("4.58")


def test_vat_is_per_line_not_on_the_total():
    # Three lines of 0.50 at 7 % exclusive: each 0.035 -> 0.04, so 0.12; on the total it would be 0.11.
    cart = Cart()
    for i in range(3):
        cart.add(product_id=i, sku=f"S{i}", name="x", price=D("0.50"), vat_rate=D(7), quantity=D(1))
    t = price_cart(cart, currency=THB, prices_include_vat=False)
    assert t.vat == D("0.12")
    assert t.total == D("1.62")


# -- discounts ---------------------------------------------------------------------------------------

def test_percentage_line_discount():
    cart = make_cart([(D("7.00"), D(2), D(7), Discount(percent=D(10)))])
    t = price_cart(cart, currency=THB, prices_include_vat=True)
    assert t.lines[0].line_discount == D("1.40")
    assert t.total == D("12.60")


def test_percentage_discount_rounds_half_up():
    assert discount_amount(Discount(percent=D(5)), D("0.10"), THB) == D("0.01")  # 0.005
    assert discount_amount(Discount(percent=D(33)), D("10.01"), THB) == D("3.30")  # 3.3033
    assert discount_amount(Discount(percent=D("12.5")), D("0.20"), THB) == D("0.03")  # 0.025


def test_amount_line_discount_capped_at_gross():
    cart = make_cart([(D("7.00"), D(2), D(7), Discount(amount=D("25")))])
    t = price_cart(cart, currency=THB, prices_include_vat=True)
    assert t.lines[0].line_discount == D("14.00")
    assert t.lines[0].total == 0
    assert t.lines[0].vat == 0
    assert t.total == 0


def test_hundred_percent_discount_is_free():
    cart = make_cart([(D("45.00"), D(3), D(7), Discount(percent=D(100)))])
    assert price_cart(cart, currency=THB, prices_include_vat=False).total == 0


def test_basket_percentage_discount_spread_over_lines():
    cart = make_cart([(D("35.00"), D(1), D(7), None), (D("45.00"), D(1), D(7), None),
                      (D("20.00"), D(1), D(0), None)], Discount(percent=D(10)))
    t = price_cart(cart, currency=THB, prices_include_vat=True)
    assert t.basket_discount == D("10.00")
    assert [lt.basket_discount for lt in t.lines] == [D("3.50"), D("4.50"), D("2.00")]
    assert t.total == D("90.00")
    assert t.lines[2].vat == 0


def test_basket_amount_discount_capped_at_what_is_left():
    cart = make_cart([(D("10.00"), D(1), D(7), Discount(amount=D("4"))), (D("5.00"), D(1), D(7), None)],
                     Discount(amount=D("500")))
    t = price_cart(cart, currency=THB, prices_include_vat=True)
    assert t.line_discounts == D("4.00")
    assert t.basket_discount == D("11.00")
    assert t.total == 0
    assert all(lt.total == 0 for lt in t.lines)


def test_basket_discount_after_line_discounts():
    cart = make_cart([(D("100.00"), D(1), D(7), Discount(percent=D(50))), (D("50.00"), D(1), D(7), None)],
                     Discount(amount=D("10.00")))
    t = price_cart(cart, currency=THB, prices_include_vat=True)
    # nets 50 and 50: basket 10 split evenly
    assert [lt.basket_discount for lt in t.lines] == [D("5.00"), D("5.00")]
    assert t.total == D("90.00")


def test_discount_amount_never_negative():
    assert discount_amount(Discount(amount=D("-5")), D("10.00"), THB) == 0
    assert discount_amount(Discount(amount=D("5")), D("0.00"), THB) == 0


# -- allocation --------------------------------------------------------------------------------------

weights_st = st.lists(st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n).scaleb(-2)),
                      min_size=1, max_size=12)


@PROPS
@given(weights_st, amounts)
def test_allocate_sums_exactly_and_respects_weights(weights, amount):
    shares = allocate(amount, weights, THB)
    assert len(shares) == len(weights)
    total_weight = sum(weights, D(0))
    expected = min(amount, total_weight) if amount > 0 and total_weight > 0 else D(0)
    assert sum(shares, D(0)) == expected
    for share, weight in zip(shares, weights):
        assert D(0) <= share <= weight
        assert share == share.quantize(CENT)
        if total_weight > 0:
            exact = expected * weight / total_weight
            assert abs(share - exact) < CENT, "largest remainder gives each line its share to within 0.01"


@pytest.mark.parametrize(
    "amount, weights, expected",
    [
        (D("10.00"), [D("10.00"), D("10.00"), D("10.00")], [D("3.34"), D("3.33"), D("3.33")]),
        (D("10.00"), [D("1.00"), D("1.00"), D("1.00")], [D("1.00"), D("1.00"), D("1.00")]),  # capped
        (D("0.01"), [D("5.00"), D("5.00")], [D("0.01"), D("0.00")]),
        (D("0.02"), [D("0.01"), D("100.00")], [D("0.00"), D("0.02")]),
        (D("5.00"), [D("0.00"), D("10.00")], [D("0.00"), D("5.00")]),
        (D("50.00"), [D("10.00"), D("20.00")], [D("10.00"), D("20.00")]),  # capped at the weights
        (D("0.00"), [D("10.00")], [D("0")]),
        (D("3.00"), [D("0.00"), D("0.00")], [D("0"), D("0")]),
    ],
)
def test_allocate_examples(amount, weights, expected):
    assert allocate(amount, weights, THB) == expected


# -- cash rounding -----------------------------------------------------------------------------------

QUARTER = D("0.25")


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("92.60", "92.50"),
        ("92.62", "92.50"),
        ("92.63", "92.75"),
        ("92.625", "92.75"),  # exactly half: up
        ("92.125", "92.25"),  # exactly half: up (half even would give 92.00)
        ("92.375", "92.50"),
        ("92.12", "92.00"),
        ("92.13", "92.25"),
        ("0.12", "0.00"),
        ("0.13", "0.25"),
        ("100.00", "100.00"),
    ],
)
def test_round_to_quarter_half_up(amount, expected):
    assert round_to_unit(D(amount), QUARTER) == D(expected)
    assert str(cash_due(D(amount), QUARTER, THB)) == expected


def test_cash_due_keeps_two_places():
    assert str(cash_due(D("92.60"), D("0.5"), THB)) == "92.50"
    assert str(cash_due(D("92.60"), D("1"), THB)) == "93.00"
    assert str(cash_due(D("92.60"), CENT, THB)) == "92.60"


@PROPS
@given(prices, st.sampled_from([D("0.25"), D("0.50"), D("1"), D("0.05"), D("0.01")]))
def test_round_to_unit_properties(amount, unit):
    rounded = round_to_unit(amount, unit)
    assert (rounded / unit) == (rounded / unit).to_integral_value(), "a whole number of coins"
    diff = rounded - amount
    assert -unit / 2 < diff <= unit / 2
    assert cash_due(amount, unit, THB) == rounded
    assert cash_due(amount, unit, THB) == cash_due(amount, unit, THB).quantize(CENT)


def test_round_to_unit_zero_unit_is_identity():
    assert round_to_unit(D("1.23"), D(0)) == D("1.23")


# -- tendering ---------------------------------------------------------------------------------------

def state(total: str, unit: str = "0.25") -> PaymentState:
    return PaymentState(D(total), THB, D(unit))


def test_cash_exact_due_is_rounded():
    p = state("92.60")
    assert p.cash_due() == D("92.50")
    assert p.due_for(CARD) == D("92.60")
    t = p.apply(CASH)
    assert t.amount == D("92.50") and t.tendered == D("92.50") and t.change == 0
    assert p.rounding == D("-0.10")
    assert p.complete
    assert p.paid == D("92.50")
    assert p.remaining == 0


def test_cash_rounding_up_is_recorded():
    p = state("92.63")
    p.apply(CASH, D("100"))
    assert p.rounding == D("0.12")
    assert p.paid == D("92.75")
    assert p.change == D("7.25")
    assert p.complete


def test_over_tender_cash_gives_change():
    p = state("92.60")
    t = p.apply(CASH, D("100"))
    assert t.amount == D("92.50")
    assert t.tendered == D("100.00")
    assert t.change == D("7.50")
    assert p.change == D("7.50")
    assert p.complete


def test_split_card_then_cash():
    p = state("92.60")
    card = p.apply(CARD, D("50"), reference="auth 123")
    assert card.amount == D("50.00") and card.change == 0 and card.reference == "auth 123"
    assert not p.complete
    assert p.remaining == D("42.60")
    assert p.cash_due() == D("42.50")
    cash = p.apply(CASH, D("50"))
    assert cash.amount == D("42.50")
    assert cash.change == D("7.50")
    assert p.rounding == D("-0.10")
    assert p.paid == D("92.50")
    assert p.paid == p.total + p.rounding
    assert p.complete
    assert [t.tender for t in p.tenders] == [CARD, CASH]


def test_split_partial_cash_then_card_pays_exact():
    p = state("92.60")
    p.apply(CASH, D("50"))
    assert p.remaining == D("42.60")
    with pytest.raises(TenderError):
        p.apply(CARD, D("42.61"))
    p.apply(CARD)
    assert p.complete
    assert p.rounding == 0
    assert p.change == 0
    assert p.paid == D("92.60")


def test_card_cannot_exceed_due():
    p = state("92.60")
    with pytest.raises(TenderError, match="cannot pay more"):
        p.apply(CARD, D("100"))
    assert p.tenders == []
    p.apply(CARD, D("92.60"))
    assert p.complete
    assert p.rounding == 0


def test_nothing_due_after_completion():
    p = state("10.00")
    p.apply(CASH)
    with pytest.raises(TenderError, match="nothing is due"):
        p.apply(CASH, D("5"))
    with pytest.raises(TenderError):
        p.apply(CARD, D("1"))


def test_refused_amounts():
    p = state("10.00")
    with pytest.raises(TenderError):
        p.apply(CASH, D("-1"))
    with pytest.raises(TenderError):
        p.apply(CASH, D("0"))
    with pytest.raises(TenderError):
        p.apply(CARD, D("0"))
    with pytest.raises(TenderError, match="far more"):
        p.apply(CASH, D("1000000"))
    assert p.tenders == [] and not p.complete


def test_remove_last_undoes_rounding():
    p = state("92.60")
    p.apply(CARD, D("50"))
    p.apply(CASH, D("50"))
    assert p.rounding == D("-0.10")
    last = p.remove_last()
    assert last.tender == CASH
    assert p.rounding == 0
    assert p.remaining == D("42.60")
    assert not p.complete
    assert p.remove_last().tender == CARD
    assert p.remove_last() is None
    assert p.remaining == D("92.60")


def test_zero_total_is_complete_at_once():
    p = state("0.00")
    assert p.complete
    assert p.paid == 0


def test_no_rounding_unit():
    p = state("92.63", "0.01")
    assert p.cash_due() == D("92.63")
    p.apply(CASH, D("100"))
    assert p.rounding == 0
    assert p.change == D("7.37")


def test_cash_between_remaining_and_rounded_due_leaves_nothing_negative():
    """92.63 is due, 92.75 in cash; 92.70 handed over is refused with the cash amount, nothing booked."""
    p = state("92.63")
    with pytest.raises(TenderError, match="92.75 is due in cash"):
        p.apply(CASH, D("92.70"))
    assert p.tenders == [] and p.remaining == D("92.63")
    p.apply(CASH, D("92.75"))
    assert p.complete and p.change == 0 and p.rounding == D("0.12")


tender_steps = st.lists(
    st.tuples(st.sampled_from([CASH, CARD]),
              st.one_of(st.none(), st.integers(min_value=1, max_value=200_000).map(lambda n: D(n).scaleb(-2)))),
    min_size=1, max_size=6,
)


@PROPS
@given(prices.filter(lambda p: p > 0), tender_steps, st.sampled_from(["0.25", "0.50", "1", "0.01"]))
def test_payment_invariants(total, steps, unit):
    p = state(str(total), unit)
    cash_unit = D(unit)
    for tender, amount in steps:
        if p.complete:
            break
        if tender == CASH and amount is not None:
            # coins and notes only: a multiple of the smallest unit
            amount = round_to_unit(amount, cash_unit)
        try:
            p.apply(tender, amount)
        except TenderError:
            continue
        assert p.remaining >= 0
        assert p.paid <= p.total + p.rounding
        assert abs(p.rounding) <= cash_unit / 2
    for t in p.tenders:
        assert t.amount >= 0 and t.change >= 0
        assert t.tendered == t.amount + t.change
        if t.tender != CASH:
            assert t.change == 0
    # only the tender that settled the sale can give change
    assert all(t.change == 0 for t in p.tenders[:-1])
    if p.complete:
        assert p.paid == p.total + p.rounding
    else:
        assert p.change == 0 and p.rounding == 0


@PROPS
@given(prices.filter(lambda p: p > 0), st.sampled_from(["0.25", "0.50", "1"]))
def test_exact_cash_settles_with_at_most_half_a_unit(total, unit):
    p = state(str(total), unit)
    p.apply(CASH)
    assert p.complete
    assert p.paid == cash_due(total, D(unit), THB)
    assert abs(p.rounding) <= D(unit) / 2


# -- parsing what the cashier types -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("2", D(2)), ("0.5", D("0.5")), (" 3 ", D(3)), ("1.250", D("1.25")),
                                            ("0.001", D("0.001")), ("9999", D(9999)), ("2.000", D(2))])
def test_parse_quantity_accepts(text, expected):
    q = parse_quantity(text)
    assert q == expected
    assert isinstance(q, Decimal)


def test_parse_quantity_whole_has_no_places():
    assert str(parse_quantity("2")) == "2"
    assert str(parse_quantity("2.000")) == "2"
    assert str(parse_quantity("0.5")) == "0.5"


@pytest.mark.parametrize("text", ["0", "-1", "-0.5", "1e9", "1e2", "1E2", "abc", "2x", "", "  ", "1.0001",
                                  "0.0001", "NaN", "inf", "Infinity", "10000", "1,5", "2 3", "0.000"])
def test_parse_quantity_rejects(text):
    with pytest.raises(CartError):
        parse_quantity(text)


@PROPS
@given(st.text(max_size=12))
def test_parse_quantity_never_crashes(text):
    try:
        q = parse_quantity(text)
    except CartError:
        return
    assert 0 < q <= MAX_QUANTITY
    assert q == q.quantize(D("0.001"))


@PROPS
@given(st.integers(min_value=1, max_value=9_999_000))
def test_parse_quantity_round_trips(milli):
    value = D(milli).scaleb(-3)
    assert parse_quantity(format(value, "f")) == value


@pytest.mark.parametrize("text, expected", [
    ("10%", Discount(percent=D(10))),
    (" 10 % ", Discount(percent=D(10))),
    ("12.5%", Discount(percent=D("12.5"))),
    ("100%", Discount(percent=D(100))),
    ("25", Discount(amount=D(25))),
    ("25.50", Discount(amount=D("25.50"))),
    ("1,000", Discount(amount=D(1000))),
])
def test_parse_discount_accepts(text, expected):
    assert parse_discount(text) == expected


@pytest.mark.parametrize("text", ["150%", "100.01%", "-5", "-5%", "abc", "%", "", "1e2", "5e1%", "25.555",
                                  "NaN", "inf%"])
def test_parse_discount_rejects(text):
    with pytest.raises(CartError):
        parse_discount(text)


def test_parse_discount_huge_amount_is_a_cart_error():
    with pytest.raises(CartError):
        parse_discount("1" + "0" * 30)


@PROPS
@given(st.text(alphabet="0123456789.,%- e", max_size=20))
def test_parse_discount_never_crashes(text):
    try:
        d = parse_discount(text)
    except CartError:
        return
    if d.percent is not None:
        assert 0 <= d.percent <= 100
    else:
        assert d.amount >= 0
        assert d.amount == d.amount.quantize(CENT)


def test_discount_labels():
    assert parse_discount("10%").label() == "10%"
    assert parse_discount("25.50").label() == "25.50"


# -- the cart itself ---------------------------------------------------------------------------------

def test_scanning_again_adds_to_the_line():
    cart = Cart()
    a = cart.add(product_id=1, sku="A", name="a", price=D("5.00"), vat_rate=D(7), quantity=D(1))
    b = cart.add(product_id=1, sku="A", name="a", price=D("5.00"), vat_rate=D(7), quantity=D(2))
    assert a.line_id == b.line_id
    assert len(cart.lines) == 1
    assert cart.lines[0].quantity == 3
    cart.set_line_discount(a.line_id, Discount(percent=D(10)))
    cart.add(product_id=1, sku="A", name="a", price=D("5.00"), vat_rate=D(7), quantity=D(1))
    assert len(cart.lines) == 2, "a line changed by hand keeps its own quantity"
    assert cart.item_count() == 4


def test_cart_quantity_limit():
    cart = Cart()
    cart.add(product_id=1, sku="A", name="a", price=D("5.00"), vat_rate=D(7), quantity=MAX_QUANTITY)
    with pytest.raises(CartError):
        cart.add(product_id=1, sku="A", name="a", price=D("5.00"), vat_rate=D(7), quantity=D(1))


def test_negative_price_refused():
    cart = Cart()
    line = cart.add(product_id=1, sku="A", name="a", price=D("5.00"), vat_rate=D(7), quantity=D(1))
    with pytest.raises(CartError):
        cart.set_price(line.line_id, D("-1"))
    cart.set_price(line.line_id, D("4.00"))
    assert cart.lines[0].unit_price == D("4.00")
    assert cart.lines[0].original_price == D("5.00")


def test_void_and_missing_line():
    cart = Cart()
    line = cart.add(product_id=1, sku="A", name="a", price=D("5.00"), vat_rate=D(7), quantity=D(1))
    cart.void(line.line_id)
    assert cart.is_empty
    with pytest.raises(CartError):
        cart.void(line.line_id)
    with pytest.raises(CartError):
        cart.set_quantity("nope", D(1))


@PROPS
@given(line_specs, discounts)
def test_cart_round_trips_through_json_dict(specs, basket):
    import json

    cart = make_cart(specs, basket)
    cart.member_id, cart.member_phone, cart.member_name = 3, "+66812345678", "Dao"
    restored = Cart.from_dict(json.loads(json.dumps(cart.to_dict())))
    assert restored == cart
    assert price_cart(restored, currency=THB, prices_include_vat=True) == price_cart(
        cart, currency=THB, prices_include_vat=True)


def test_money_formatting():
    assert fmt_money(D("1234.5"), THB) == "1,234.50"
    assert fmt_money(D("0.005"), THB) == "0.01"
    assert fmt_money(D("1234.5"), "JPY") == "1,235"
    assert round_money(D("2.675"), THB) == D("2.68")


@pytest.mark.parametrize("text, value", [("1,250.50", "1250.50"), ("1,000", "1000"), ("12,345,678", "12345678"),
                                         ("-1,000.5", "-1000.5"), ("100.50", "100.50")])
def test_a_comma_in_an_amount_groups_thousands(text, value):
    assert to_decimal(text) == Decimal(value)


@pytest.mark.parametrize("text", ["100,50", "35,5", "1,25,000", ",5", "1,0000"])
def test_a_decimal_comma_is_refused_not_read_as_a_hundred_times_more(text):
    with pytest.raises(MoneyError, match="commas group thousands only"):
        to_decimal(text)
