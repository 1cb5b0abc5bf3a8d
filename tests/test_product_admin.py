"""Products (data.product_admin) on a real SQLite file: search with inactive ones, price changes audited
and seen by catalogue lookups, barcodes with check digits, external ids per connector, search text,
updated_at."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from data import catalog
from data import product_admin as admin
from data.barcodes import with_check_digit
from data.models import AuditLog, Product
from data.product_admin import ProductEdit, ProductError
from tests.conftest import COFFEE, WATER

WHERE = {"terminal": "T1", "store": "BKK01"}


def audit_rows(engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def product_id(engine, sku: str) -> int:
    with Session(engine) as s:
        return s.exec(select(Product.id).where(Product.sku == sku)).one()


def test_search_and_detail(engine):
    rows = admin.search_products(engine, "CF-001")
    assert rows and rows[0].sku == "CF-001" and rows[0].active and rows[0].barcode == COFFEE
    detail = admin.get_product(engine, rows[0].id)
    assert detail.barcodes == (COFFEE,) and detail.price == Decimal("45.00") and detail.external_ids == {}


def test_price_change_is_audited_and_rung_at_the_new_price(engine):
    pid = product_id(engine, "CF-001")
    before = admin.get_product(engine, pid).updated_at
    detail = admin.change_price(engine, pid, "49.50", by="9", **WHERE)
    assert detail.price == Decimal("49.50") and detail.updated_at > before
    assert catalog.lookup(engine, COFFEE).price == Decimal("49.50")
    assert catalog.lookup(engine, "cf-001").price == Decimal("49.50")
    [row] = audit_rows(engine, "price.change")
    assert row.subject == "CF-001" and row.operator_code == "9" and row.terminal == "T1"
    assert row.detail == {"old": "45.00", "new": "49.50"}
    # The same price again is no change: no audit row, updated_at stays.
    assert admin.change_price(engine, pid, "49.5", by="9").updated_at == detail.updated_at
    assert len(audit_rows(engine, "price.change")) == 1


@pytest.mark.parametrize("text,message", [("abc", "not an amount"), ("-1", "negative"), ("1.234", "2 decimal"),
                                          ("99999999", "too high")])
def test_bad_prices_are_refused(engine, text, message):
    with pytest.raises(ProductError, match=message):
        admin.change_price(engine, product_id(engine, "CF-001"), text, by="9")
    assert catalog.lookup(engine, COFFEE).price == Decimal("45.00")


def test_only_a_manager_changes_products(engine):
    with pytest.raises(ProductError, match="only an active manager"):
        admin.change_price(engine, product_id(engine, "CF-001"), "1", by="1")


def test_name_vat_and_active(engine):
    pid = product_id(engine, "WT-001")
    detail = admin.save_product(engine, pid, ProductEdit(name="น้ำดื่ม 1.5L", name_en="Water 1.5 l", vat_rate=Decimal("0")),
                                by="9", **WHERE)[0]
    assert detail.name == "น้ำดื่ม 1.5L" and detail.vat_rate == Decimal("0")
    assert [p.sku for p in catalog.search(engine, "Water 1.5")] == ["WT-001"]
    assert catalog.lookup(engine, WATER).vat_rate == Decimal("0")
    [change] = audit_rows(engine, "product.change")
    assert set(change.detail["changes"]) == {"name", "name_en", "vat_rate"}
    admin.set_active(engine, pid, False, by="9")
    assert catalog.lookup(engine, WATER) is None  # an inactive product does not ring
    assert not catalog.search(engine, "Water 1.5")
    [found] = admin.search_products(engine, "Water 1.5")  # but the manager still finds it
    assert found.sku == "WT-001" and not found.active
    admin.set_active(engine, pid, True, by="9")
    assert catalog.lookup(engine, WATER) is not None
    with pytest.raises(ProductError, match="needs a name"):
        admin.rename(engine, pid, "  ", by="9")
    with pytest.raises(ProductError, match="0 to 100"):
        admin.set_vat_rate(engine, pid, "107", by="9")


def test_barcodes_add_and_remove_with_check_digits(engine):
    pid = product_id(engine, "CF-001")
    new = with_check_digit("885000000999")
    before = admin.get_product(engine, pid).updated_at
    detail = admin.add_barcode(engine, pid, new, by="9", **WHERE)
    assert detail.barcodes == (COFFEE, new) and detail.updated_at > before
    assert catalog.lookup(engine, new).sku == "CF-001"
    assert [p.sku for p in catalog.search(engine, new)] == ["CF-001"]  # search text has the new code
    bad = new[:-1] + str((int(new[-1]) + 1) % 10)
    with pytest.raises(ProductError, match="check digit"):
        admin.add_barcode(engine, pid, bad, by="9")
    with pytest.raises(ProductError, match="digits"):
        admin.add_barcode(engine, pid, "12345", by="9")
    with pytest.raises(ProductError, match="belongs to WT-001"):
        admin.add_barcode(engine, pid, WATER, by="9")
    assert catalog.lookup(engine, WATER).sku == "WT-001"  # not stolen
    assert admin.add_barcode(engine, pid, new, by="9").barcodes == (COFFEE, new)  # already there: no-op
    after_add = admin.get_product(engine, pid).updated_at
    detail = admin.remove_barcode(engine, pid, COFFEE, by="9", **WHERE)
    assert detail.barcodes == (new,) and detail.updated_at > after_add
    assert catalog.lookup(engine, COFFEE) is None
    assert not catalog.search(engine, COFFEE)
    with pytest.raises(ProductError, match="not on CF-001"):
        admin.remove_barcode(engine, pid, COFFEE, by="9")
    assert [r.detail["barcode"] for r in audit_rows(engine, "barcode.add")] == [new]
    assert [r.detail["barcode"] for r in audit_rows(engine, "barcode.remove")] == [COFFEE]
    # A barcode freed from one product can go to another.
    wt = product_id(engine, "WT-001")
    assert COFFEE in admin.add_barcode(engine, wt, COFFEE, by="9").barcodes


def test_external_ids_per_connector(engine):
    pid = product_id(engine, "CF-001")
    before = admin.get_product(engine, pid).updated_at
    detail = admin.set_external_id(engine, pid, "peak", "P-0042", by="9", connectors=["peak", "hq"], **WHERE)
    assert detail.external_ids == {"peak": "P-0042"} and detail.updated_at > before
    detail = admin.set_external_id(engine, pid, "hq", "HQ-9", by="9", connectors=["peak", "hq"])
    assert detail.external_ids == {"peak": "P-0042", "hq": "HQ-9"}
    with pytest.raises(ProductError, match="not a configured connector"):
        admin.set_external_id(engine, pid, "other", "X", by="9", connectors=["peak", "hq"])
    detail = admin.set_external_id(engine, pid, "peak", None, by="9", connectors=["peak", "hq"])
    assert detail.external_ids == {"hq": "HQ-9"}
    with Session(engine) as s:
        assert s.get(Product, pid).external_ids == {"hq": "HQ-9"}
    assert [r.detail["connector"] for r in audit_rows(engine, "external_id.set")] == ["peak", "hq"]
    [cleared] = audit_rows(engine, "external_id.clear")
    assert cleared.detail == {"connector": "peak", "old": "P-0042"}


def test_one_save_changes_everything_in_one_go(engine):
    pid = product_id(engine, "MK-001")
    new = with_check_digit("885000000888")
    detail, said = admin.save_product(engine, pid, ProductEdit(
        price=Decimal("55"), active=True, add_barcodes=(new,), external_ids={"peak": "MK"}), by="9",
        connectors=["peak"], **WHERE)
    assert detail.price == Decimal("55.00") and new in detail.barcodes and detail.external_ids == {"peak": "MK"}
    assert said == ["price 52.25 → 55", f"barcode {new} added", "peak id MK"]
    # A refused part leaves all of it undone.
    with pytest.raises(ProductError, match="belongs to"):
        admin.save_product(engine, pid, ProductEdit(price=Decimal("60"), add_barcodes=(WATER,)), by="9")
    assert admin.get_product(engine, pid).price == Decimal("55.00")
