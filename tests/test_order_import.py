"""`till import orders FILE.json`: a valid file, a file with bad orders (the rest import), a re-import
that changes nothing, malformed JSON; exact money (Decimal) throughout."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.cli import main
from data import orders
from data.order_import import ImportFormatError, import_orders, parse
from tests.conftest import COFFEE, MILK
from tests.order_helpers import stock

GOOD = [
    {"external_id": "WEB-1001", "customer": {"name": "Anong", "phone": "081 234 5670"},
     "lines": [{"sku": "CF-001", "quantity": 2}, {"barcode": MILK, "quantity": 1, "unit_price": "50.00"}],
     "delivery": {"method": "pickup", "store": "BKK01"}, "expected_date": "2026-12-24", "comments": "gift wrap",
     "payments": [{"reference": "PAY-778", "amount": 95.10}]},
    {"external_id": "WEB-1002", "customer": {"phone": "+66898765432"},
     "lines": [{"sku": "wt-001", "quantity": "3"}], "delivery": {"method": "ship", "address": "1 Sukhumvit Rd"},
     "source": "phone"},
]

BAD = [
    ({"external_id": "B-1", "customer": {"name": "X"}, "lines": [{"sku": "NOPE", "quantity": 1}]},
     "line 1: unknown sku 'NOPE'"),
    ({"external_id": "B-2", "customer": {"name": "X"}, "lines": [{"barcode": "1234567890128", "quantity": 1}]},
     "line 1: unknown barcode '1234567890128'"),
    ({"external_id": "B-3", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 0}]},
     "line 1: quantity 0 must be more than 0"),
    ({"external_id": "B-4", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": "two"}]},
     "line 1: quantity 'two' is not a number"),
    ({"external_id": "B-5", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1,
                                                                   "unit_price": "4,5.0.0"}]},
     "line 1: unit_price '4,5.0.0' is not an amount"),
    ({"external_id": "B-6", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1,
                                                                   "unit_price": "1.005"}]},
     "more than 2 decimals"),
    ({"external_id": "B-7", "lines": [{"sku": "CF-001", "quantity": 1}]}, "customer is missing"),
    ({"external_id": "B-8", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1}],
      "payments": [{"reference": "P", "amount": "45.01"}]}, "paid online 45.01 is more than the order total 45.00"),
    ({"external_id": "B-9", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1}],
      "expected_date": "24/12/2026"}, "not a date"),
    ({"external_id": "B-10", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1}],
      "payments": [{"reference": "P", "amount": -5}]}, "payment 1: amount -5 must be more than 0"),
    ({"external_id": "B-11", "customer": {"name": "X", "phone": "12"}, "lines": [{"sku": "CF-001", "quantity": 1}]},
     "customer phone"),
    ({"external_id": "B-12", "customer": {"name": "X"}, "lines": []}, "at least one line"),
    ({"external_id": "B-13", "customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1}],
      "delivery": {"method": "deliver"}}, "deliver: an address is needed"),
    ({"customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1}]}, "external_id is missing"),
    ("not an order", "an order must be an object"),
]


def run(home, data, capsys) -> tuple[int, str, str]:
    path = home / "orders.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    code = main(["import", "orders", str(path), "--home", str(home)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_valid_file_imports_with_exact_money(home, capsys, engine, place):
    reserved = stock(engine, place, COFFEE)[1]
    code, out, err = run(home, {"orders": GOOD}, capsys)
    assert code == 0, err
    assert err == ""
    assert "orders.json: imported 2, already imported 0, rejected 0" in out
    a = orders.find_by_external_id(engine, "WEB-1001")
    assert a.source == "ecommerce" and a.details.customer_phone == "+66812345670"
    assert a.details.member_phone == "+66812345670", "a demo member's phone links the member"
    assert a.details.expected_date == "2026-12-24" and a.details.comments == "gift wrap"
    assert [(l.sku, l.quantity, l.unit_price, l.original_price) for l in a.lines] == [
        ("CF-001", 2, Decimal("45.00"), Decimal("45.00")), ("MK-001", 1, Decimal("50.00"), Decimal("52.25"))]
    assert a.total == Decimal("140.00") and a.paid == Decimal("95.10") and a.balance == Decimal("44.90")
    assert [(p.kind, p.amount, p.receipt_number) for p in a.payments] == [("online", Decimal("95.10"), "PAY-778")]
    assert f"WEB-1001 → {a.number}" in out
    b = orders.find_by_external_id(engine, "WEB-1002")
    assert (b.source, b.details.delivery_method, b.details.customer_name) == ("phone", "ship", "")
    assert b.lines[0].sku == "WT-001" and b.lines[0].quantity == 3
    assert stock(engine, place, COFFEE)[1] == reserved + 2


def test_bad_orders_are_rejected_with_reasons_and_the_rest_import(home, capsys, engine):
    mixed = [GOOD[0]] + [bad for bad, _ in BAD] + [GOOD[1]]
    code, out, err = run(home, mixed, capsys)
    assert code == 1
    assert err.strip() == f"till: error: {len(BAD)} of {len(mixed)} orders rejected (the others were imported)"
    assert f"imported 2, already imported 0, rejected {len(BAD)}" in out
    rejected = [line for line in out.splitlines() if line.startswith("rejected ")]
    assert len(rejected) == len(BAD)
    for line, (raw, reason) in zip(rejected, BAD):
        key = raw.get("external_id") if isinstance(raw, dict) else None
        assert reason in line, (line, reason)
        assert (key or "#") in line
    assert "#15: external_id is missing" in out and "#16: an order must be an object" in out
    assert orders.list_orders(engine)[1] == 2, "nothing of a rejected order is left"
    assert all(orders.find_by_external_id(engine, f"B-{n}") is None for n in range(1, 14))


def test_re_import_changes_nothing(home, capsys, engine):
    assert run(home, GOOD, capsys)[0] == 0
    first = orders.get_order(engine, orders.find_by_external_id(engine, "WEB-1001").number)
    code, out, _ = run(home, GOOD, capsys)
    assert code == 0
    assert "imported 0, already imported 2, rejected 0" in out
    assert f"already imported  WEB-1001 ({first.number})" in out
    again = orders.get_order(engine, first.number)
    assert again == first
    assert orders.list_orders(engine)[1] == 2
    assert len(orders.journal_of(engine, first.number)) == 2


def test_the_same_external_id_twice_in_one_file(home, capsys, engine):
    code, out, _ = run(home, [GOOD[0], GOOD[0]], capsys)
    assert code == 1
    assert "imported 1, already imported 0, rejected 1" in out and "appears twice in the file" in out


@pytest.mark.parametrize("text, message", [
    ('{"orders": [', "not valid JSON: Expecting value at line 1 column 13"),
    ("", "not valid JSON"),
    ('{"items": []}', 'expected {"orders": [...]} or a list of orders'),
    ('{"orders": {"a": 1}}', '"orders" must be a list of orders'),
    ("42", '"orders" must be a list of orders'),
])
def test_a_malformed_file_is_one_line_and_exit_1(home, capsys, engine, text, message):
    code, out, err = run(home, text, capsys)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("till: error: ") and message in lines[0], err
    assert orders.list_orders(engine)[1] == 0


def test_a_missing_file_is_one_line(home, capsys):
    assert main(["import", "orders", str(home / "nope.json"), "--home", str(home)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read" in err[0]


def test_parse_reads_numbers_as_decimal_never_float():
    raw = parse(b'[{"payments": [{"amount": 0.1}], "lines": [{"quantity": 1.5}]}]')
    assert raw[0]["payments"][0]["amount"] == Decimal("0.1") and isinstance(raw[0]["payments"][0]["amount"], Decimal)
    with pytest.raises(ImportFormatError, match="not UTF-8"):
        parse(b'[\xff]')
    assert parse('\ufeff[]'.encode()) == []


def test_import_orders_reports_progress(engine, place):
    seen = []
    result = import_orders(engine, engine, parse(json.dumps(GOOD)), store_id=place.store_id, operator="import", currency="THB",
                           prices_include_vat=True, progress=lambda done, total: seen.append((done, total)))
    assert result.ok and seen == [(1, 2), (2, 2)]
    assert result.summary() == "imported 2, already imported 0, rejected 0"


def test_an_amount_too_large_for_the_database_rejects_that_order_only(home, capsys, engine):
    """A unit price of 1e30 used to overflow the money column: the whole command stopped on an
    OverflowError, the orders after it unread. It is that order's problem, like any bad amount."""
    huge = {"external_id": "HUGE-1", "customer": {"name": "X"},
            "lines": [{"sku": "CF-001", "quantity": 1, "unit_price": 1e30}]}
    code, out, err = run(home, [huge, GOOD[0]], capsys)
    assert code == 1
    assert "rejected          HUGE-1: line 1: unit_price 1E+30 is more than 100,000,000" in out.splitlines()
    assert "imported 1, already imported 0, rejected 1" in out
    assert err.strip().splitlines() == ["till: error: 1 of 2 orders rejected (the others were imported)"]
    assert orders.find_by_external_id(engine, "HUGE-1") is None
    assert orders.find_by_external_id(engine, "WEB-1001") is not None


def test_an_external_id_with_control_characters_is_rejected_and_reported_without_them(home, capsys, engine):
    """The site's order id is printed on the command's report: an ESC in it must not reach the terminal
    (it could clear the screen or hide lines), and such an id is no id to keep."""
    evil = {"external_id": "\x1b[2J\x1b[31mWEB-9\x07", "customer": {"name": "X"},
            "lines": [{"sku": "CF-001", "quantity": 1}]}
    unknown = {"external_id": "\x1b]0;owned\x07WEB-10", "customer": {"name": "X"},
               "lines": [{"sku": "NOPE", "quantity": 1}]}
    code, out, err = run(home, [evil, unknown, GOOD[1]], capsys)
    assert code == 1
    assert not any(ch in out + err for ch in "\x1b\x07"), repr(out)
    assert "rejected          [2J[31mWEB-9: external_id has control characters" in out.splitlines()
    assert "rejected          ]0;ownedWEB-10: external_id has control characters" in out.splitlines()
    assert orders.list_orders(engine)[1] == 1


def test_deeply_nested_json_is_one_line_naming_the_problem(home, capsys, engine):
    code, out, err = run(home, "[" * 100_000, capsys)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [f"till: error: {home / 'orders.json'}: not valid JSON: nested too deeply"]


def test_an_expected_date_is_kept_as_yyyy_mm_dd(home, capsys, engine):
    """Python reads other ISO forms too (20261224, 2026-W52-4); the order keeps the date as YYYY-MM-DD."""
    base = {"customer": {"name": "X"}, "lines": [{"sku": "CF-001", "quantity": 1}]}
    code, out, _ = run(home, [{**base, "external_id": "D-1", "expected_date": "20261224"},
                              {**base, "external_id": "D-2", "expected_date": "2026-W52-4"},
                              {**base, "external_id": "D-3", "expected_date": " 2026-12-24 "}], capsys)
    assert code == 0, out
    assert [orders.find_by_external_id(engine, f"D-{n}").details.expected_date for n in (1, 2, 3)] == [
        "2026-12-24"] * 3


def test_a_decimal_comma_is_an_error_not_a_hundred_times_the_amount(home, capsys, engine):
    """Commas group thousands only ("1,234.50"), as in the product import: "35,50" is not 3550 and a
    quantity of "1,5" is not 15 (it used to be read so, reserving fifteen)."""
    base = {"customer": {"name": "X"}}
    code, out, _ = run(home, [
        {**base, "external_id": "C-1", "lines": [{"sku": "CF-001", "quantity": 1, "unit_price": "35,50"}]},
        {**base, "external_id": "C-2", "lines": [{"sku": "CF-001", "quantity": "1,5"}]},
        {**base, "external_id": "C-3", "lines": [{"sku": "CF-001", "quantity": 1}],
         "payments": [{"reference": "P", "amount": "10,5"}]},
        {**base, "external_id": "C-4", "lines": [{"sku": "CF-001", "quantity": "1,000", "unit_price": "1,234.50"}]},
    ], capsys)
    assert code == 1
    rejected = [line for line in out.splitlines() if line.startswith("rejected")]
    assert rejected == [
        "rejected          C-1: line 1: unit_price '35,50' is not an amount (commas group thousands only: 1,234.50)",
        "rejected          C-2: line 1: quantity '1,5' is not a number (commas group thousands only: 1,234.50)",
        "rejected          C-3: payment 1: amount '10,5' is not an amount (commas group thousands only: 1,234.50)"]
    c4 = orders.find_by_external_id(engine, "C-4")
    assert (c4.lines[0].quantity, c4.lines[0].unit_price) == (Decimal(1000), Decimal("1234.50"))


def test_re_import_after_the_catalogue_changed_is_still_already_imported(home, capsys, engine):
    """A nightly import of the site's last days of orders meets orders it took before: they are
    "already imported" even when an item has since left the catalogue or its price fell below what
    was paid online (they were rejected, and the command failed, for orders that are in)."""
    from sqlalchemy import update

    from data.models import Product

    assert run(home, GOOD, capsys)[0] == 0
    with engine.begin() as conn:
        conn.execute(update(Product).where(Product.sku == "WT-001").values(active=False))
        conn.execute(update(Product).where(Product.sku == "CF-001").values(price=Decimal("10.00")))
    code, out, err = run(home, GOOD, capsys)
    assert (code, err) == (0, ""), out
    assert "imported 0, already imported 2, rejected 0" in out
