"""Barcodes, phone numbers, PINs, operator login and lockout, and the product catalogue on SQLite."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlmodel import Session, select

from data import audit, catalog
from data.barcodes import BarcodeError, check_digit, is_valid_gtin, validate_gtin, with_check_digit
from data.db import write_session
from data.models import AuditLog, Barcode, Operator, Product
from data.operators import LoginError, MAX_FAILED, authenticate, authorise_manager, by_code, create_operator
from data.phones import PhoneError, normalise_phone, region_of
from data.pins import hash_pin, verify_pin
from data.types import utcnow
from tests.conftest import COFFEE, HIGHLIGHTER

D = Decimal
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.function_scoped_fixture])


# -- barcodes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [
    "4006381333931",  # EAN-13
    "5901234123457",  # EAN-13
    "8850000000010",  # EAN-13 (demo coffee)
    "96385074",  # EAN-8
    "73513537",  # EAN-8
    "036000291452",  # UPC-A
    "012345678905",  # UPC-A
    "00012345600012",  # GTIN-14
])
def test_valid_gtins(code):
    assert validate_gtin(code) == code
    assert is_valid_gtin(code)
    assert validate_gtin(f"  {code} ") == code


@pytest.mark.parametrize("code, problem", [
    ("4006381333932", "check digit"),
    ("5901234123458", "check digit"),
    ("96385075", "check digit"),
    ("036000291453", "check digit"),
    ("12345", "digits"),
    ("123456789012345", "digits"),
    ("40063813339a1", "other than digits"),
    ("", "other than digits"),
    ("๔๐๐๖๓๘๑๓๓๓๙๓๑", "other than digits"),  # Thai digits are digits, but not barcode digits
    ("4006381-333931", "other than digits"),
])
def test_invalid_gtins(code, problem):
    with pytest.raises(BarcodeError, match=problem):
        validate_gtin(code)
    assert not is_valid_gtin(code)


def test_check_digit_examples():
    assert check_digit("400638133393") == 1
    assert check_digit("9638507") == 4
    assert check_digit("03600029145") == 2
    assert with_check_digit("590123412345") == "5901234123457"


@PROPS
@given(st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)),
       st.data())
def test_check_digit_catches_any_single_digit_error(body, data):
    code = with_check_digit(body)
    assert is_valid_gtin(code)
    pos = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != code[pos]]))
    assert not is_valid_gtin(code[:pos] + new + code[pos + 1:])


# -- phones ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["081-234-5678", "+66812345678", "0812345678", " 081 234 5678 ", "+66 81 234 5678",
                                 "(081) 234-5678"])
def test_thai_mobile_numbers_normalise(raw):
    assert normalise_phone(raw) == "+66812345678"


def test_region_decides_numbers_without_country():
    assert normalise_phone("+1 650 253 0000", "TH") == "+16502530000"
    assert normalise_phone("650 253 0000", "US") == "+16502530000"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "12", "not a phone", "081-234", "+66 1"])
def test_garbage_phone_numbers_rejected(raw):
    with pytest.raises(PhoneError):
        normalise_phone(raw)


@pytest.mark.parametrize("locale, region", [("th_TH", "TH"), ("en-US", "US"), ("en_GB", "GB"), ("C", "TH"),
                                            ("", "TH")])
def test_region_of(locale, region):
    assert region_of(locale) == region


# -- PINs --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pin", ["1111", "9999", "4821", "000000", "123456789012"])
def test_pin_hash_verifies_and_hides_the_pin(pin):
    stored = hash_pin(pin)
    assert verify_pin(pin, stored)
    assert not verify_pin(pin[:-1] + ("0" if pin[-1] != "0" else "1"), stored)
    assert not verify_pin("", stored)
    assert pin not in stored.split("$", 4)[-1], "the PIN is not in the salt or digest"
    assert pin not in stored
    assert stored.startswith("scrypt$")


def test_same_pin_hashes_differently():
    assert hash_pin("1111") != hash_pin("1111")


@pytest.mark.parametrize("stored", ["", "1111", "plain$text", "bcrypt$1$2$3$4$5", "scrypt$only$four$parts"])
def test_verify_against_garbage_is_false(stored):
    assert verify_pin("1111", stored) is False


# -- operators ---------------------------------------------------------------------------------------

def _audit_actions(engine, code: str) -> list[str]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog.action).where(AuditLog.operator_code == code).order_by(AuditLog.id)))


def test_login_right_and_wrong(engine):
    op = authenticate(engine, "1", "1111", terminal="T1", store="BKK01")
    assert (op.code, op.role) == ("1", "cashier")
    assert not op.is_manager
    assert not hasattr(op, "pin_hash")
    with pytest.raises(LoginError, match="4 attempts left"):
        authenticate(engine, "1", "0000")
    with pytest.raises(LoginError, match="unknown operator"):
        authenticate(engine, "nobody", "1111")
    assert _audit_actions(engine, "1") == ["login", "login.failed"]
    assert _audit_actions(engine, "nobody") == ["login.failed"]


def test_lockout_after_five_wrong_pins(engine):
    assert MAX_FAILED == 5
    messages = []
    for _ in range(MAX_FAILED):
        with pytest.raises(LoginError) as info:
            authenticate(engine, "1", "2222", terminal="T1", store="BKK01")
        messages.append(str(info.value))
    assert messages[0] == "wrong PIN (4 attempts left)"
    assert messages[3] == "wrong PIN (1 attempt left)"
    assert "locked" in messages[4]
    # the sixth attempt, with the right PIN, is refused while locked
    with pytest.raises(LoginError, match="locked"):
        authenticate(engine, "1", "1111", terminal="T1", store="BKK01")
    assert _audit_actions(engine, "1") == ["login.failed"] * 4 + ["operator.locked", "login.refused"]
    with Session(engine) as s:
        row = s.exec(select(Operator).where(Operator.code == "1")).one()
        assert row.locked_until is not None and row.locked_until > utcnow()
        locked = s.exec(select(AuditLog).where(AuditLog.action == "operator.locked")).one()
        assert locked.terminal == "T1" and locked.store_id == "BKK01"
    # another operator is not affected
    assert authenticate(engine, "9", "9999").code == "9"
    # when the lock has run out, the right PIN works again and resets the count
    with write_session(engine) as s:
        s.exec(update(Operator).where(Operator.code == "1").values(locked_until=utcnow() - timedelta(seconds=1)))
    assert authenticate(engine, "1", "1111").code == "1"
    with Session(engine) as s:
        row = s.exec(select(Operator).where(Operator.code == "1")).one()
        assert row.failed_attempts == 0 and row.locked_until is None


def test_a_good_login_resets_the_count(engine):
    for _ in range(3):
        with pytest.raises(LoginError):
            authenticate(engine, "1", "0000")
    authenticate(engine, "1", "1111")
    for left in (4, 3, 2, 1):
        with pytest.raises(LoginError, match=f"{left} attempt"):
            authenticate(engine, "1", "0000")
    assert authenticate(engine, "1", "1111").code == "1"


def test_manager_authorisation(engine):
    assert authorise_manager(engine, "9999", action="void").code == "9"
    with pytest.raises(LoginError):
        authorise_manager(engine, "1111", action="void", terminal="T1")  # a cashier's PIN is no manager PIN
    with Session(engine) as s:
        refused = s.exec(select(AuditLog).where(AuditLog.action == "override.refused")).all()
        assert len(refused) == 1 and refused[0].terminal == "T1"
        assert "void" in refused[0].detail.values()


def test_create_operator_rules(engine):
    op = create_operator(engine, "5", "Nok", "4321", "supervisor")
    assert op.discount_limit_pct == D("25")
    assert by_code(engine, "5").name == "Nok"
    assert authenticate(engine, "5", "4321").role == "supervisor"
    with pytest.raises(ValueError):
        create_operator(engine, "6", "x", "12", "cashier")
    with pytest.raises(ValueError):
        create_operator(engine, "6", "x", "12ab", "cashier")
    with pytest.raises(ValueError):
        create_operator(engine, "6", "x", "1234", "owner")
    assert by_code(engine, "6") is None


def test_audit_recent_returns_readable_rows(engine):
    audit.record_now(engine, "test.action", operator="1", subject="x")
    rows = audit.recent(engine, action="test.action")
    assert rows[0].subject == "x"


# -- catalogue lookup --------------------------------------------------------------------------------

def test_lookup_by_barcode(engine):
    p = catalog.lookup(engine, COFFEE)
    assert (p.sku, p.name, p.name_en, p.price, p.vat_rate, p.barcode) == (
        "CF-001", "กาแฟเย็น", "Iced coffee", D("45.00"), D(7), COFFEE)
    assert p.display_name == "กาแฟเย็น / Iced coffee"
    assert catalog.lookup(engine, f" {HIGHLIGHTER}\n").sku == "HL-001"


@pytest.mark.parametrize("code", ["HL-001", "hl-001", "Hl-001", " HL-001 "])
def test_lookup_by_sku_any_case(engine, code):
    p = catalog.lookup(engine, code)
    assert p is not None and p.sku == "HL-001"
    assert p.barcode == HIGHLIGHTER


@pytest.mark.parametrize("code", ["", "   ", "NOPE-1", "4006381333932", "8850000000"])
def test_lookup_misses(engine, code):
    assert catalog.lookup(engine, code) is None


def test_inactive_products_are_not_found(engine):
    with write_session(engine) as s:
        s.exec(update(Product).where(Product.sku == "CF-001").values(active=False))
    assert catalog.lookup(engine, COFFEE) is None
    assert catalog.lookup(engine, "CF-001") is None
    assert "CF-001" not in [p.sku for p in catalog.search(engine, "coffee")]


# -- search ------------------------------------------------------------------------------------------

def skus(engine, query: str) -> list[str]:
    return [p.sku for p in catalog.search(engine, query)]


@pytest.mark.parametrize("query, sku", [
    ("กาแฟ", "CF-001"),  # Thai substring (start of the name)
    ("แฟเย็น", "CF-001"),  # Thai substring in the middle
    ("coff", "CF-001"),
    ("Iced coffee", "CF-001"),
    ("ICED COFFEE", "CF-001"),
    ("highlight", "HL-001"),
    ("ghlig", "HL-001"),
    ("HL-0", "HL-001"),  # SKU prefix
    ("HL", "HL-001"),  # short SKU prefix
    ("hl", "HL-001"),
    ("P00000", "P000001"),
    ("0000000010", "CF-001"),  # barcode substring
    ("4006381", "HL-001"),  # barcode prefix
    (HIGHLIGHTER, "HL-001"),
    ("ชา", "CF-002"),  # two Thai characters: start of a name
    ("น้ำดื่ม", "WT-001"),  # Thai with a combining mark
])
def test_search_finds(engine, query, sku):
    assert sku in skus(engine, query)


def test_search_results_match_the_query(engine):
    for query in ("กาแฟ", "coffee", "P00012"):
        found = catalog.search(engine, query)
        assert found
        for p in found:
            text = " ".join([p.name, p.name_en, p.sku, p.barcode or ""]).lower()
            assert query.lower() in text


def test_search_limit_and_empty(engine):
    assert len(catalog.search(engine, "P0", limit=7)) == 7
    assert len(catalog.search(engine, "885")) <= catalog.SEARCH_LIMIT
    assert catalog.search(engine, "") == []
    assert catalog.search(engine, "   ") == []
    assert catalog.search(engine, "zzzzqqq") == []


@pytest.mark.parametrize("query", ['a"b', '"', "NEAR(", "*", "AND", "OR x", "-", "%", "_", "\\", "'", "a'; --",
                                   "^x", "x:y", "(", "{", "[bold]"])
def test_search_survives_query_syntax(engine, query):
    assert isinstance(catalog.search(engine, query), list)


@PROPS
@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12))
def test_search_never_crashes(engine, query):
    assert isinstance(catalog.search(engine, query), list)


def test_search_with_a_nul_character(engine):
    """Control characters are dropped from the query, never passed to FTS5."""
    assert catalog.search(engine, "\x00cof") == catalog.search(engine, "cof") != []


def test_short_query_matches_a_barcode(engine):
    assert "HL-001" in skus(engine, "40")


# -- upserts -----------------------------------------------------------------------------------------

def test_upsert_new_product_is_found(engine):
    with write_session(engine) as s:
        p = catalog.upsert_product(s, sku="NB-900", name="สมุดวาดเขียน", name_en="Sketch book", price=D("89.00"),
                                   vat_rate=D(7), barcodes=["96385074"], external_ids={"shop": "123"})
        assert p.search_text == "สมุดวาดเขียน Sketch book NB-900 96385074"
    assert catalog.lookup(engine, "96385074").sku == "NB-900"
    assert catalog.lookup(engine, "nb-900").price == D("89.00")
    assert "NB-900" in skus(engine, "วาดเขียน")
    assert "NB-900" in skus(engine, "sketch")


def test_upsert_updates_name_and_search(engine):
    with write_session(engine) as s:
        catalog.upsert_product(s, sku="CF-001", name="กาแฟร้อน", name_en="Hot coffee", price=D("40.00"),
                               vat_rate=D(7), barcodes=[COFFEE, "73513537"], external_ids={"peak": "X1"})
    p = catalog.lookup(engine, "73513537")
    assert (p.sku, p.name, p.price) == ("CF-001", "กาแฟร้อน", D("40.00"))
    assert catalog.lookup(engine, COFFEE).sku == "CF-001"
    assert "CF-001" in skus(engine, "Hot coff")
    assert "CF-001" not in skus(engine, "Iced coffee")
    with Session(engine) as s:
        assert len(s.exec(select(Barcode).where(Barcode.code.in_([COFFEE, "73513537"]))).all()) == 2
        assert s.exec(select(Product).where(Product.sku == "CF-001")).one().external_ids == {"peak": "X1"}


def test_upsert_rejects_a_bad_check_digit(engine):
    with pytest.raises(BarcodeError, match="check digit"):
        with write_session(engine) as s:
            catalog.upsert_product(s, sku="BAD-1", name="bad", price=D("1.00"), vat_rate=D(7),
                                   barcodes=["5901234123458"])
    assert catalog.lookup(engine, "BAD-1") is None
    assert catalog.lookup(engine, "5901234123458") is None


def test_upsert_does_not_steal_a_barcode(engine):
    with pytest.raises(ValueError, match="another product"):
        with write_session(engine) as s:
            catalog.upsert_product(s, sku="THIEF-1", name="thief", price=D("1.00"), vat_rate=D(7),
                                   barcodes=[COFFEE])
    assert catalog.lookup(engine, COFFEE).sku == "CF-001"
    assert catalog.lookup(engine, "THIEF-1") is None


@pytest.mark.parametrize("name", ["[bold red]SALE[/] <b>x</b>", "Evil\x1bp\x00\x19 drawer", "Cut\x1dV\x00 paper",
                                  "tab\there\nnewline", "\u202eevil-bidi", "emoji 🍜 and 漢字"])
def test_names_are_stored_as_is(engine, name):
    with write_session(engine) as s:
        catalog.upsert_product(s, sku="ODD-1", name=name, name_en=name, price=D("1.00"), vat_rate=D(7))
    p = catalog.lookup(engine, "ODD-1")
    assert p.name == name and p.name_en == name
    with Session(engine) as s:
        assert s.exec(select(Product.name).where(Product.sku == "ODD-1")).one() == name


def test_a_price_typed_with_a_decimal_comma_is_refused_not_read_as_a_hundred_times_it(engine):
    """The manager's product editor (and scripts): "45,50" is not 4550. Commas group thousands only, as
    in the product import."""
    from data import product_admin as admin
    from data.product_admin import ProductError

    lookup = catalog.lookup
    pid = lookup(engine, COFFEE).id
    for text in ("45,50", "4,5", "1,2345.00", "45,"):
        with pytest.raises(ProductError, match="not an amount"):
            admin.change_price(engine, pid, text, by="9")
    assert lookup(engine, COFFEE).price == Decimal("45.00")
    assert admin.parse_price("1,250.00") == Decimal("1250.00") and admin.parse_price("45.5") == Decimal("45.5")
    with pytest.raises(ProductError, match="not a number"):
        admin.parse_vat_rate("7,5")


def test_a_upc_a_scanned_as_ean_13_or_gtin_14_finds_its_product(engine):
    """GS1 compares GTINs right-aligned in 14 digits: a scanner set to EAN-13 sends the UPC-A
    036000291452 as 0036000291452. Either spelling finds the item, whichever one is stored; an exact
    barcode or a SKU still comes first."""
    from data.product_admin import add_barcode

    pid = catalog.lookup(engine, COFFEE).id
    add_barcode(engine, pid, "036000291452", by="9")
    for scanned in ("036000291452", "0036000291452", "00036000291452"):
        found = catalog.lookup(engine, scanned)
        assert found is not None and found.sku == "CF-001", scanned
        assert found.barcode == "036000291452", "the stored code is the one reported"
    assert catalog.lookup(engine, "0" + COFFEE).sku == "CF-001", "an EAN-13 as GTIN-14"
    assert catalog.lookup(engine, "036000291459") is None
    assert catalog.lookup(engine, "0036000291453") is None


def test_a_barcode_is_taken_whatever_its_spelling(engine):
    from data.product_admin import ProductError, add_barcode

    add_barcode(engine, catalog.lookup(engine, COFFEE).id, "036000291452", by="9")
    with pytest.raises(ProductError, match="belongs to CF-001"):
        add_barcode(engine, catalog.lookup(engine, HIGHLIGHTER).id, "0036000291452", by="9")
