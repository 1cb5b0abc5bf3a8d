"""`till import products FILE.csv`: a valid file creates and updates, bad rows are reported by line and
the rest import, a file in the wrong encoding is refused whole, a re-import changes nothing, and the
command line's exit codes and one-line errors. Real SQLite (the seeded demo copy)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli import main
from data import product_import
from data.barcodes import with_check_digit
from data.catalog import lookup, search
from data.models import AuditLog, Barcode, Product
from data.product_import import ImportFormatError, import_products, read_products
from tests.conftest import COFFEE, HIGHLIGHTER, MILK, WATER

D = Decimal
NEW1 = with_check_digit("885999000001")
NEW2 = with_check_digit("885999000002")
NEW3 = with_check_digit("885999000003")
BAD_CHECK = NEW1[:-1] + str((int(NEW1[-1]) + 1) % 10)

HEADER = "sku,barcode,name,name_en,price,vat_rate,active,external_id.peak\n"


def write(home, text: str, name: str = "products.csv", encoding: str = "utf-8"):
    path = home / name
    path.write_bytes(text.encode(encoding))
    return path


def run(home, path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["import", "products", str(path), "--home", str(home), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def row_of(engine, sku: str):
    with engine.connect() as conn:
        return conn.execute(select(Product.__table__).where(Product.sku == sku)).mappings().first()


def codes_of(engine, sku: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(Barcode.code).join(Product, Product.id == Barcode.product_id)
                                 .where(Product.sku == sku).order_by(Barcode.id)).scalars())


def counts(engine) -> tuple[int, int, object]:
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(Product)).scalar(),
                conn.execute(select(func.count()).select_from(Barcode)).scalar(),
                conn.execute(select(func.max(Product.updated_at))).scalar())


def test_a_valid_file_creates_and_updates(home, engine, capsys):
    before_hl = row_of(engine, "HL-001")
    before_cf = row_of(engine, "CF-001")
    path = write(home, HEADER
                 + f'new-001,{NEW1},กาแฟดำเย็นพิเศษ,Extra black coffee,"1,234.50",7%,yes,P-NEW\n'
                 + f"CF-001,{COFFEE}|{NEW2},กาแฟเย็น,Iced coffee,47,7,,\n"
                 + f"NEW-002,{NEW3} ,Plain thing,,0,0,1,\n")
    code, out, err = run(home, path, capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "products.csv: imported: 2 new, 1 changed, 0 unchanged, 0 rows with errors"

    info = lookup(engine, NEW1)
    assert info is not None and info.sku == "NEW-001", "SKUs are kept upper-case"
    assert (info.name, info.name_en, info.price, info.vat_rate) == ("กาแฟดำเย็นพิเศษ", "Extra black coffee",
                                                                    D("1234.50"), D("7"))
    assert [p.sku for p in search(engine, "ดำเย็นพิ")] == ["NEW-001"], "the search index knows the new name"
    assert [p.sku for p in search(engine, "extra black coffee")] == ["NEW-001"]
    assert lookup(engine, NEW3).price == D("0.00") and lookup(engine, NEW3).vat_rate == D("0")

    cf = row_of(engine, "CF-001")
    assert cf["price"] == D("47.00") and cf["vat_rate"] == D("7")
    assert codes_of(engine, "CF-001") == [COFFEE, NEW2], "barcodes are added, the old one kept"
    assert lookup(engine, NEW2).sku == "CF-001" and lookup(engine, COFFEE).sku == "CF-001"
    assert [p.sku for p in search(engine, NEW2)] == ["CF-001"], "search text has the new barcode"
    assert cf["updated_at"] > before_cf["updated_at"]
    assert row_of(engine, "NEW-001")["updated_at"] == cf["updated_at"], "one time for the whole write"
    assert row_of(engine, "HL-001")["updated_at"] == before_hl["updated_at"], "a product not in the file is untouched"

    with engine.connect() as conn:
        audits = conn.execute(select(AuditLog.action, AuditLog.subject, AuditLog.detail)
                              .where(AuditLog.action.in_(["price.change", "product.import"]))
                              .order_by(AuditLog.id)).all()
    assert [(a, s) for a, s, _ in audits] == [("price.change", "CF-001"), ("product.import", "products.csv")]
    assert audits[0][2]["old"] == "45.00" and audits[0][2]["new"] == "47.00"


def test_bad_rows_are_reported_by_line_and_the_rest_import(home, engine, capsys):
    text = (HEADER
            + f"GOOD-1,{NEW1},Good one,,10,7,,\n"              # 2
            + f"BAD-1,{BAD_CHECK},Bad check digit,,10,7,,\n"   # 3
            + "BAD-2,,Bad price,,12.345,7,,\n"                 # 4
            + "BAD-3,,Bad VAT,,10,107,,\n"                     # 5
            + ",,No sku,,10,7,,\n"                             # 6
            + f"BAD-5,{COFFEE},Steals the coffee barcode,,10,7,,\n"  # 7
            + "\n"                                             # 8 (blank: skipped)
            + f"GOOD-2,{NEW2},\"Good, two\",,\"1,000\",0,no,\n"  # 9
            + f"BAD-6,{NEW1},Barcode of line 2,,10,7,,\n"      # 10
            + "BAD-7,,Free text price,,abc,seven,maybe,\n")    # 11
    path = write(home, text)
    code, out, err = run(home, path, capsys)
    assert code == 1
    assert err.strip().splitlines() == ["till: error: 7 of 9 rows had errors and were not imported (the others were)"]
    lines = out.splitlines()
    assert lines[0] == "products.csv: imported: 2 new, 0 changed, 0 unchanged, 7 rows with errors"
    assert lines[1:] == [
        f"line 3: barcode: EAN-13 {BAD_CHECK} has check digit {BAD_CHECK[-1]}, expected {NEW1[-1]}",
        "line 4: price: 12.345 has more than 2 decimals",
        "line 5: vat_rate: 107 is not between 0 and 100",
        "line 6: sku: missing",
        f"line 7: barcode: {COFFEE} already belongs to sku CF-001",
        f"line 10: barcode: {NEW1} is also on line 2 (sku GOOD-1)",
        "line 11: price: 'abc' is not an amount (digits and a decimal point: 35, 35.00 or 1,234.50; "
        "commas group thousands only)",
        "line 11: vat_rate: 'seven' is not a percentage (7 or 7%)",
        "line 11: active: 'maybe' is not true/false, yes/no or 1/0",
    ]
    assert lookup(engine, NEW1).sku == "GOOD-1"
    good2 = row_of(engine, "GOOD-2")
    assert good2["name"] == "Good, two" and good2["price"] == D("1000.00") and good2["active"] is False
    assert lookup(engine, NEW2) is None, "an inactive product is not sold"
    for sku in ("BAD-1", "BAD-2", "BAD-3", "BAD-5", "BAD-6", "BAD-7"):
        assert row_of(engine, sku) is None, sku
    assert lookup(engine, COFFEE).sku == "CF-001", "the coffee barcode stays where it was"


def test_a_file_not_in_utf8_is_refused_whole(home, engine, capsys):
    before = counts(engine)
    text = HEADER + f"CF-001,{COFFEE},กาแฟเย็น,Iced coffee,99,7,,\nTH-1,{NEW1},ข้าวผัด,,60,7,,\n"
    path = write(home, text, "thai.csv", encoding="cp874")
    code, out, err = run(home, path, capsys)
    assert code == 1 and out == ""
    assert err.splitlines() == [f"till: error: {path}: not UTF-8 text (line 2); save it as UTF-8 CSV or pass "
                                "--encoding cp874"]
    assert counts(engine) == before, "nothing imported"
    assert row_of(engine, "CF-001")["price"] == D("45.00")

    code, out, err = run(home, path, capsys, "--encoding", "cp874")
    assert (code, err) == (0, "")
    assert "1 new, 1 changed" in out
    assert lookup(engine, NEW1).name == "ข้าวผัด"
    assert row_of(engine, "CF-001")["price"] == D("99.00")


def test_latin1_gets_another_hint_and_a_wrong_encoding_name_is_one_line(home, capsys):
    path = write(home, "sku,name,price,vat_rate\nX-1,Café crème,35,7\n", "latin.csv", encoding="latin-1")
    code, _, err = run(home, path, capsys)
    assert code == 1 and err.strip() == (f"till: error: {path}: not UTF-8 text (line 2); save it as UTF-8 CSV "
                                         "or pass --encoding cp1252")
    code, _, err = run(home, path, capsys, "--encoding", "klingon")
    assert code == 1 and err.strip() == f"till: error: {path}: unknown encoding 'klingon'"
    code, out, err = run(home, path, capsys, "--encoding", "latin-1")
    assert (code, err) == (0, "") and "1 new" in out


def test_reimporting_the_same_file_changes_nothing(home, engine, capsys):
    text = (HEADER + f"CF-001,{COFFEE},กาแฟเย็น,Iced coffee,46.00,7,yes,P-CF\n"
            + f"NEW-1,{NEW1}|{NEW2},สินค้าใหม่,New thing,35,7,,P-1\n")
    path = write(home, text)
    assert run(home, path, capsys)[0] == 0
    stamps = {sku: row_of(engine, sku)["updated_at"] for sku in ("CF-001", "NEW-1")}
    before = counts(engine)
    code, out, err = run(home, path, capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["products.csv: imported: 0 new, 0 changed, 2 unchanged, 0 rows with errors"]
    assert {sku: row_of(engine, sku)["updated_at"] for sku in stamps} == stamps, "updated_at untouched"
    assert counts(engine) == before
    with engine.connect() as conn:
        imports = conn.execute(select(func.count()).select_from(AuditLog)
                               .where(AuditLog.action == "product.import")).scalar()
    assert imports == 1, "an import that wrote nothing leaves no audit row"


def test_an_unchanged_demo_product_is_not_touched(home, engine):
    before = row_of(engine, "HL-001")
    data = (f"sku,barcode,name,name_en,price,vat_rate\nHL-001,{HIGHLIGHTER},ปากกาเน้นข้อความ,Highlighter pen,"
            "35.00,7\n").encode()
    result = import_products(engine, data)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert row_of(engine, "HL-001")["updated_at"] == before["updated_at"]


def test_external_ids_per_connector(home, engine):
    first = "sku,name,price,vat_rate,external_id.peak,external_id.shop\nCF-001,กาแฟเย็น,45,7,PK-1,S-1\n"
    assert import_products(engine, first.encode()).updated == 1
    assert row_of(engine, "CF-001")["external_ids"] == {"peak": "PK-1", "shop": "S-1"}
    # A blank cell keeps the stored id; another connector's column is merged, not replaced.
    again = "sku,name,price,vat_rate,external_id.peak,external_id.erp\nCF-001,กาแฟเย็น,45,7,,E-9\n"
    result = import_products(engine, again.encode())
    assert result.updated == 1
    assert row_of(engine, "CF-001")["external_ids"] == {"peak": "PK-1", "shop": "S-1", "erp": "E-9"}
    assert row_of(engine, "CF-001")["name_en"] == "Iced coffee", "a column the file lacks keeps its value"


def test_bom_semicolons_tabs_and_excel_sep_line(home, engine):
    bom = "\ufeffsku,name,price,vat_rate\nB-1,With BOM,10,7\n".encode()
    result = import_products(engine, bom)
    assert result.ok and result.created == 1 and row_of(engine, "B-1")["name"] == "With BOM"

    semi = f"sku;barcode;name;price;vat_rate\nS-1;{NEW1};Semi, colon;1,234.50;7%\n".encode()
    result = import_products(engine, semi)
    assert result.ok and result.created == 1
    assert (lookup(engine, NEW1).name, lookup(engine, NEW1).price) == ("Semi, colon", D("1234.50"))

    tabs = f"sku\tbarcode\tname\tprice\tvat_rate\r\nT-1\t{NEW2}\tTabbed\t5\t0\r\n".encode()
    assert import_products(engine, tabs).created == 1 and lookup(engine, NEW2).sku == "T-1"

    excel = b"sep=;\r\nsku;name;price;vat_rate\r\nE-1;Excel;5;7\r\nE-2;;5;7\r\n"
    result = import_products(engine, excel)
    assert result.created == 1 and result.errors == ["line 4: name: missing"], "the sep= line is line 1"


def test_whole_file_problems(home, engine, capsys):
    before = counts(engine)
    for text, message in [
        ("", "empty file (a header line and product lines expected)"),
        ("\n \n", "empty file (a header line and product lines expected)"),
        ("sku,barcode,naam,prijs\nA,,B,1\n",
         "line 1: missing columns name, price, vat_rate (the header has sku, barcode, naam, prijs; it needs "
         "sku, name, price, vat_rate)"),
        ("sku,name,price,vat_rate,price\n", "line 1: column price appears twice in the header"),
    ]:
        with pytest.raises(ImportFormatError) as caught:
            read_products(text.encode())
        assert str(caught.value) == message
    path = write(home, "sku,barcode,naam,prijs\nA,,B,1\n")
    code, out, err = run(home, path, capsys)
    assert code == 1 and out == ""
    assert err.splitlines() == [f"till: error: {path}: line 1: missing columns name, price, vat_rate (the header "
                                "has sku, barcode, naam, prijs; it needs sku, name, price, vat_rate)"]
    code, _, err = run(home, home / "nope.csv", capsys)
    assert code == 1 and len(err.splitlines()) == 1 and "nope.csv: cannot read" in err
    assert counts(engine) == before


def test_rows_the_csv_reader_cannot_read_and_odd_cells(home, engine):
    text = ("sku,name,price,vat_rate,colour\n"
            'Q-1,"Pipe 12"" long",10,7,red\n'          # 2: quotes doubled: fine
            'Q-2,"Pipe" 12 long,10,7,\n'               # 3: a quote inside a value
            "Q-3,Too,many,10,7,x\n"                     # 4: a comma in a name without quotes
            'Q-4,"Two\nlines",10,7,\n'                  # 5-6: a quoted newline
            "Q-5,Esc\x1b[2Jape\x07,10,7\n"              # 7: control characters removed
            "Q-6,Short\n")                              # 8: too few cells
    result = import_products(engine, text.encode())
    assert result.errors == [
        'line 3: a quote inside a value: put quotes around the whole value and double the quotes inside it '
        '("12"" pipe")',
        "line 4: 6 values but the header has 5 columns (a comma inside a name or a price needs quotes around "
        "the value)",
        "line 8: price: missing",
        "line 8: vat_rate: missing",
    ]
    assert result.warnings == ["line 1: unknown column 'colour' ignored"]
    assert result.rows == 6 and result.created == 3
    assert row_of(engine, "Q-1")["name"] == 'Pipe 12" long'
    assert row_of(engine, "Q-4")["name"] == "Two lines"
    assert row_of(engine, "Q-5")["name"] == "Esc[2Jape"


def test_a_sku_twice_in_the_file_the_later_line_wins(home, engine, monkeypatch):
    monkeypatch.setattr(product_import, "BATCH", 2)  # several write transactions
    text = (f"sku,barcode,name,price,vat_rate\nD-1,{NEW1},First,10,7\nD-2,,Other,1,7\nD-3,,Third,1,7\n"
            f"d-1,{NEW2},Second,12,0\n")
    result = import_products(engine, text.encode())
    assert result.warnings == ["line 5: sku D-1 is also on line 2; this line's values win (the barcodes of both "
                               "are kept)"]
    assert (result.created, result.updated, result.rows) == (3, 0, 4)
    d1 = row_of(engine, "D-1")
    assert (d1["name"], d1["price"], d1["vat_rate"]) == ("Second", D("12.00"), D("0"))
    assert codes_of(engine, "D-1") == [NEW1, NEW2]
    again = import_products(engine, text.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3), "a duplicate does not flip-flop"


def test_dry_run_writes_nothing(home, engine, capsys):
    before = counts(engine)
    path = write(home, HEADER + f"NEW-1,{NEW1},New,,10,7,,\nCF-001,{COFFEE},กาแฟเย็น,Iced coffee,50,7,,\n"
                 + "BAD,,Bad,,x,7,,\n")
    code, out, err = run(home, path, capsys, "--dry-run")
    assert code == 1
    assert out.splitlines()[0] == ("products.csv: would import: 1 new, 1 changed, 0 unchanged, 1 rows with errors "
                                   "(dry run: nothing written)")
    assert err.splitlines() == ["till: error: 1 of 3 rows had errors and were not imported (the others were checked)"]
    assert counts(engine) == before
    assert row_of(engine, "CF-001")["price"] == D("45.00")


def test_many_rows_in_batches_with_progress(home, engine, monkeypatch):
    monkeypatch.setattr(product_import, "BATCH", 400)
    lines = ["sku,barcode,name,price,vat_rate"]
    for i in range(1, 1501):
        lines.append(f"BULK-{i:05d},{with_check_digit(f'20{i:010d}')},สินค้า {i},{i}.25,7")
    lines.append(f"WT-001,{WATER} {MILK},น้ำดื่ม,7,7")  # the milk barcode belongs to MK-001
    seen = []
    result = import_products(engine, "\n".join(lines).encode(), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(400, 1501), (800, 1501), (1200, 1501), (1501, 1501)]
    assert result.created == 1500 and result.errors == [f"line 1502: barcode: {MILK} already belongs to sku MK-001"]
    assert lookup(engine, with_check_digit(f"20{1234:010d}")).price == D("1234.25")
    assert [p.sku for p in search(engine, "สินค้า 1499")] == ["BULK-01499"]


def test_a_quote_never_closed_counts_every_row_it_swallows(home, engine):
    """The csv reader reads everything after an unclosed quote as one value: the good rows before it
    import, and each product line after it is a row with errors (not silently missing from the count).
    Blank lines are no rows, here as anywhere."""
    text = ("sku,name,price,vat_rate\n"
            "U-1,Fine,10,7\n"          # 2
            'U-2,"Broken,10,7\n'       # 3: the quote is never closed
            "\n"                       # 4
            "U-3,Swallowed,5,7\n"      # 5
            "U-4,Swallowed too,5,7\n"  # 6
            "\n")                      # 7
    result = import_products(engine, text.encode())
    assert result.errors == ["line 3: a quote opened on this line is never closed (lines 3 to 6 unread)"]
    assert (result.rows, result.rejected, result.created) == (4, 3, 1)
    assert row_of(engine, "U-1") is not None
    assert all(row_of(engine, sku) is None for sku in ("U-2", "U-3", "U-4"))


def test_the_command_counts_the_rows_an_unclosed_quote_swallows(home, engine):
    import subprocess
    import sys

    path = write(home, 'sku,name,price,vat_rate\nA1,Apple,10,7\nA2,"Pear,10,7\nA3,Plum,5,7\nA4,Fig,5,7\n')
    proc = subprocess.run([sys.executable, "-m", "app", "import", "products", str(path), "--home", str(home)],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "products.csv: imported: 1 new, 0 changed, 0 unchanged, 3 rows with errors",
        "line 3: a quote opened on this line is never closed (lines 3 to 5 unread)"]
    assert proc.stderr.splitlines() == ["till: error: 3 of 4 rows had errors and were not imported (the others were)"]
    assert row_of(engine, "A1") is not None and row_of(engine, "A3") is None


def test_a_vat_rate_written_as_a_fraction_is_an_error_not_a_tiny_percentage(home, engine):
    """vat_rate is a percentage. "0.07" is what a spreadsheet gives for 7 % formatted as a number: read
    as 0.07 % it would under-charge VAT on every sale without anyone noticing, so it is refused with
    the way to write it. 7, 7%, 7.5, 0 and "0.5%" (the sign says it) are percentages as before."""
    text = ("sku,name,price,vat_rate\nF-1,Fraction,10,0.07\nF-2,Half,10,0.5%\nF-3,Seven,10,7\nF-4,Pct,10,7%\n"
            "F-5,Zero,10,0\nF-6,Zero too,10,0.00\nF-7,Point five,10,7.5\nF-8,One,10,1\n")
    result = import_products(engine, text.encode())
    assert result.errors == [
        "line 2: vat_rate: 0.07 looks like a fraction; write the percentage (7 for 7 %)"]
    assert row_of(engine, "F-1") is None
    assert [row_of(engine, f"F-{n}")["vat_rate"] for n in range(2, 9)] == [D("0.5"), D(7), D(7), D(0), D(0), D("7.5"),
                                                                          D(1)]


def test_an_unclosed_quote_in_a_large_file_counts_every_row_it_swallows(home, engine):
    """More than the csv module's field limit (128 KiB) after the quote: the same report as in a small
    file, not 'field larger than field limit' with thousands of rows missing from the count and the
    reading picked up again in the middle of what the quote swallowed."""
    lines = ["sku,name,price,vat_rate", "A-1,Apple,10,7", 'A-2,"Pear,10,7']
    lines += [f"B-{i},Item number {i} with a longer name,5,7" for i in range(6000)]
    result = import_products(engine, ("\n".join(lines) + "\n").encode())
    assert result.errors == ["line 3: a quote opened on this line is never closed (lines 3 to 6003 unread)"]
    assert (result.rows, result.rejected, result.created) == (6002, 6001, 1)
    assert row_of(engine, "B-5999") is None


def test_a_quote_that_closes_lines_later_inside_a_value_counts_the_lines_between(home, engine):
    text = ("sku,name,price,vat_rate\n"
            'C-1,"Broken,10,7\n'             # 2: the quote opens here …
            "C-2,Swallowed,5,7\n"            # 3
            'C-3,"Pipe 12"" long",5,7\n'     # 4: … and closes at the quote before Pipe
            "C-4,After,5,7\n")               # 5
    result = import_products(engine, text.encode())
    assert result.errors == ["line 2: a quote opened on this line ends inside a value on line 4 (lines 2 to 4 "
                             "unread)"]
    assert (result.rows, result.rejected, result.created) == (4, 3, 1)
    assert row_of(engine, "C-4") is not None and row_of(engine, "C-2") is None


def test_the_same_gtin_spelled_at_another_length_is_a_duplicate(home, engine):
    """A UPC-A and the EAN-13 with a leading 0 are one barcode (a scanner may send either): two
    products cannot share it, in the database or in the file."""
    first = "sku,barcode,name,price,vat_rate\nU-1,036000291452,Upc item,10,7\n"
    assert import_products(engine, first.encode()).created == 1
    text = ("sku,barcode,name,price,vat_rate\n"
            "U-2,0036000291452,Same code as EAN-13,10,7\n"
            f"U-3,{NEW1},New,10,7\n"
            f"U-4,0{NEW1},New as GTIN-14,10,7\n")
    result = import_products(engine, text.encode())
    assert result.errors == ["line 2: barcode: 0036000291452 already belongs to sku U-1",
                             f"line 4: barcode: 0{NEW1} is also on line 3 (sku U-3)"]
    assert lookup(engine, "0036000291452").sku == "U-1"
    again = "sku,barcode,name,price,vat_rate\nU-1,00036000291452 036000291452,Upc item,10,7\n"
    result = import_products(engine, again.encode())
    assert result.ok and result.unchanged == 1, "its own code in another spelling is nothing new"
    assert codes_of(engine, "U-1") == ["036000291452"]
