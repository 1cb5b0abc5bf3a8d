"""Products from a CSV file: `till import products FILE.csv`, an upsert by SKU.

The first line is the header; columns are found by name (any order, any case):

    sku          required; kept upper-case ("cf-001" is CF-001), at most 64 characters
    name         required; control characters are removed (names are shown and printed literally)
    price        required; a decimal >= 0 with at most the currency's decimals: 35, 35.00, 1,234.50
    vat_rate     required; a percentage 0 to 100: 7, 7%, 7.5 (not a fraction: 0.07 is refused, not 0.07 %)
    barcode      optional; one or more GTINs (EAN-8, UPC-A, EAN-13, GTIN-14) separated by | or spaces,
                 check digits verified
    name_en      optional; the English name
    active       optional; true/false, yes/no, 1/0; blank is true
    external_id.<connector>   optional, one column per connector: the product's code there
                 (external_id.peak fills external_ids["peak"], which the PEAK connector sends)

Other columns are ignored with a warning. The delimiter is `,`, `;` or a tab (whichever the header
uses; an Excel `sep=;` first line is understood too). The file is UTF-8, with or without a byte-order
mark, unless an encoding is named; a file that is not is refused as a whole.

Each row is checked on its own: a bad row is reported as `line N: column: problem` (N is the line in
the file, the header is line 1) and not imported; every good row is. A SKU that appears again later
in the file: the later line wins for name, price, VAT, active and external ids, the barcodes of both
lines are kept, and a warning says so. A barcode that belongs to another product, in the database or
on an earlier line of the file, is an error for its row.

Upsert: a new SKU inserts a product; an existing one gets the file's values. Barcodes are only added
(a product's other barcodes stay), external ids are merged per connector (a blank cell leaves the
stored id), and a column the file does not have (name_en, active) leaves the stored value. Every
inserted or changed product gets updated_at = now (tills pull changed products by it); a row that
changes nothing is not written, so importing the same file again reports 0 changed. Each price change
of an existing product is an audit-log row (price.change, as a manager's edit), and each
import that writes anything one more (product.import, with the counts).

Writes go in batches of BATCH products, one transaction each: a 100,000-row file takes seconds and the
database is never locked for long. Headless: no terminal UI imports here.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine

from data.barcodes import BarcodeError, gtin_key, other_spellings, validate_gtin
from data.catalog import search_text_for
from data.db import writer
from data.models import AuditLog, Barcode, Product
from data.money import minor_units
from data.text import printable
from data.types import utcnow

Progress = Callable[[int, int], None]

REQUIRED = ("sku", "name", "price", "vat_rate")
OPTIONAL = ("barcode", "name_en", "active")
EXTERNAL_PREFIX = "external_id."
BATCH = 5000
IN_CHUNK = 900  # values per IN (...) list
MAX_SKU = 64
MAX_NAME = 200
MAX_EXTERNAL_ID = 64
MAX_PRICE = Decimal(100_000_000)
HUNDRED = Decimal(100)

_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_RATE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CODES = re.compile(r"[|\s]+")
# Text that printable() would leave as it is (no controls, no format characters): ASCII, Latin-1 and
# Thai. Anything else goes through printable(), which looks at every character.
_PLAIN = re.compile(r"[\x20-\x7e\u00a0-\u00ac\u00ae-\u00ff\u0e00-\u0e7f]*")
_TRUE = {"", "true", "yes", "1"}
_FALSE = {"false", "no", "0"}
_P = Product.__table__.c


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header); nothing is imported."""


@dataclass(frozen=True)
class ProductRow:
    """One good line of the file, checked and normalised."""

    line: int
    sku: str
    name: str
    price: Decimal
    vat_rate: Decimal
    name_en: str | None = None  # None: the file has no name_en column
    active: bool | None = None  # None: the file has no active column
    barcodes: tuple[str, ...] = ()
    external_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    """Counts are per product (a SKU on two lines counts once); errors and warnings are line messages."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    problems: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)

    def error(self, line: int, message: str) -> None:
        self.problems.append((line, f"line {line}: {message}"))
        self.bad_lines.add(line)

    def warn(self, line: int, message: str) -> None:
        self.notes.append((line, f"line {line}: {message}"))

    @property
    def errors(self) -> list[str]:
        return [text for _, text in sorted(self.problems, key=lambda p: p[0])]

    @property
    def warnings(self) -> list[str]:
        return [text for _, text in sorted(self.notes, key=lambda p: p[0])]

    @property
    def rejected(self) -> int:
        """Rows not imported because of an error."""
        return len(self.bad_lines)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return (f"{verb}: {self.created} new, {self.updated} changed, {self.unchanged} unchanged, "
                f"{self.rejected} rows with errors")


# --- reading the file -------------------------------------------------------------------------------

def decode(data: bytes, encoding: str | None = None) -> str:
    """The file's text. Without `encoding`: UTF-8 (a byte-order mark is fine; so is UTF-16 with one)."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ImportFormatError(f"unknown encoding {encoding!r}") from None
        if codec == "utf-8":
            codec = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    else:
        codec = "utf-8-sig"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if encoding:
            raise ImportFormatError(f"not {encoding} text (line {line})") from None
        raise ImportFormatError(f"not UTF-8 text (line {line}); save it as UTF-8 CSV or pass "
                                f"--encoding {guess_encoding(data)}") from None


def guess_encoding(data: bytes) -> str:
    """A hint for a file that is not UTF-8: Thai (cp874, TIS-620) when its non-ASCII bytes come in runs
    that read as Thai, else Windows Latin (cp1252)."""
    sample = data[:200_000]
    runs = re.findall(rb"[\x80-\xff]+", sample)
    high = sum(len(r) for r in runs)
    if high:
        in_runs = sum(len(r) for r in runs if len(r) > 1)
        try:
            thai = sum(1 for ch in b"".join(runs).decode("cp874") if "\u0e00" <= ch <= "\u0e7f")
        except UnicodeDecodeError:
            thai = 0
        if thai >= high * 0.9 and in_runs >= high * 0.5:
            return "cp874"
    return "cp1252"


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str) -> Iterator[tuple[int, list[str] | None, str]]:
    """(first physical line, cells, "") of each non-blank record; (line, None, problem) for a record
    the csv module cannot read, after which reading goes on with the next line. A broken quote that
    took several lines: (line, None, "") follows for each further non-blank line it took."""
    stream = io.StringIO(text, newline="")
    skipped = 0
    header_line = ""
    while True:
        header_line = stream.readline()
        if not header_line:
            raise ImportFormatError("empty file (a header line and product lines expected)")
        if header_line.strip():
            break
        skipped += 1
    hint = re.fullmatch(r'\s*"?sep=(.)"?\s*', header_line, flags=re.IGNORECASE)
    if hint:  # Excel's "sep=;" line; the header is the next line
        delimiter = hint.group(1)
        skipped += 1
    else:
        delimiter = _delimiter(header_line)
        stream.seek(0)
        skipped = 0
    if csv.field_size_limit() <= len(text):
        # A quote never closed takes the rest of the file into one value: let the reader get to the
        # end and say so, as in a small file (at the 128 KiB default it stopped half way through).
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    done = skipped
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = done + 1
            message = str(exc)
            done = skipped + reader.line_num
            never_closed = "unexpected end of data" in message
            if never_closed or done > line:
                # A quote took the lines after it into one value (to the end of the file, or to a
                # quote inside a value further on): each product line in it is a row that did not
                # import, and counts as one (blank lines count nowhere).
                physical = re.split(r"\r\n|\r|\n", text)[line - 1:done]
                swallowed = [n for n, cells in enumerate(physical, start=line) if cells.strip()]
                done = swallowed[-1] if swallowed else line
                if never_closed:
                    message = f"a quote opened on this line is never closed (lines {line} to {done} unread)"
                else:
                    message = (f"a quote opened on this line ends inside a value on line {done} "
                               f"(lines {line} to {done} unread)")
                yield line, None, message
                for n in swallowed[1:]:
                    yield n, None, ""
                continue
            if "expected after" in message:
                message = ('a quote inside a value: put quotes around the whole value and double the quotes '
                           'inside it ("12"" pipe")')
            yield line, None, message
            continue
        line, done = done + 1, skipped + reader.line_num
        if any(c.strip() for c in cells):
            yield line, cells, ""


@dataclass(frozen=True)
class _Columns:
    index: dict[str, int]
    external: dict[str, int]
    width: int


def _header(line: int, cells: list[str], result: ImportResult) -> _Columns:
    index: dict[str, int] = {}
    external: dict[str, int] = {}
    for i, raw in enumerate(cells):
        name = raw.strip().lstrip("\ufeff").strip()
        key = name.lower()
        if key in REQUIRED or key in OPTIONAL:
            if key in index:
                raise ImportFormatError(f"line {line}: column {key} appears twice in the header")
            index[key] = i
        elif key.startswith(EXTERNAL_PREFIX) and name[len(EXTERNAL_PREFIX):].strip():
            connector = name[len(EXTERNAL_PREFIX):].strip()
            if connector in external:
                raise ImportFormatError(f"line {line}: column {name} appears twice in the header")
            external[connector] = i
        elif key:
            result.warn(line, f"unknown column {name!r} ignored")
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        found = ", ".join(c.strip() for c in cells if c.strip()) or "nothing"
        raise ImportFormatError(f"line {line}: missing column{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(missing)} (the header has {found}; it needs "
                                f"{', '.join(REQUIRED)})")
    return _Columns(index, external, len(cells))


def _price(value: str, places: int) -> Decimal:
    text = value.strip()
    if not text:
        raise ValueError("missing")
    if text.startswith("-") and _AMOUNT.fullmatch(text[1:].strip()):
        raise ValueError(f"{text} is negative")
    if not _AMOUNT.fullmatch(text):
        raise ValueError(f"{text!r} is not an amount (digits and a decimal point: 35, 35.00 or 1,234.50; "
                         "commas group thousands only)")
    amount = Decimal(text.replace(",", ""))
    step = Decimal(1).scaleb(-places)
    if amount.quantize(step) != amount:
        raise ValueError(f"{text} has more than {places} decimals")
    if amount > MAX_PRICE:
        raise ValueError(f"{text} is more than {MAX_PRICE:,}")
    return amount.quantize(step)


def _vat(value: str) -> Decimal:
    text = value.strip()
    if not text:
        raise ValueError("missing")
    number = text[:-1].strip() if text.endswith("%") else text
    if number.startswith("-") and _RATE.fullmatch(number[1:]):
        raise ValueError(f"{text} is not between 0 and 100")
    if not _RATE.fullmatch(number):
        raise ValueError(f"{text!r} is not a percentage (7 or 7%)")
    rate = Decimal(number)
    if rate > HUNDRED:
        raise ValueError(f"{text} is not between 0 and 100")
    if 0 < rate < 1 and not text.endswith("%"):
        # 0.07 is 7 % as a spreadsheet's fraction; read as 0.07 % it would quietly under-charge VAT
        # ("0.5%" says what it means and stands).
        raise ValueError(f"{text} looks like a fraction; write the percentage (7 for 7 %)")
    if rate.quantize(Decimal("0.01")) != rate:
        raise ValueError(f"{text} has more than 2 decimals")
    return rate


def _barcodes(value: str) -> tuple[list[str], list[str]]:
    """(valid codes, problems) of a barcode cell."""
    codes: list[str] = []
    problems: list[str] = []
    for code in _CODES.split(value.strip()):
        if not code or any(gtin_key(code) == gtin_key(c) for c in codes):
            continue
        try:
            codes.append(validate_gtin(code))
        except BarcodeError as exc:
            message = str(exc).removeprefix("barcode ")
            if "E+" in code.upper():
                message += " (a spreadsheet turned it into a number: format the column as text)"
            problems.append(message)
    return codes, problems


def _clean(value: str) -> str:
    return value if _PLAIN.fullmatch(value) else printable(value)


def _text(value: str) -> str:
    return " ".join(_clean(value).split())


def _row(line: int, cells: list[str], cols: _Columns, places: int, result: ImportResult) -> ProductRow | None:
    """The checked row, or None after reporting each of its problems."""
    if len(cells) > cols.width and any(c.strip() for c in cells[cols.width:]):
        result.error(line, f"{len(cells)} values but the header has {cols.width} columns "
                           "(a comma inside a name or a price needs quotes around the value)")
        return None

    def cell(name: str) -> str | None:
        i = cols.index.get(name)
        if i is None:
            return None
        return cells[i] if i < len(cells) else ""

    before = len(result.problems)
    sku = _clean(cell("sku") or "").strip().upper()
    if not sku:
        result.error(line, "sku: missing")
    elif len(sku) > MAX_SKU:
        result.error(line, f"sku: longer than {MAX_SKU} characters")
    name = _text(cell("name") or "")
    if not name:
        result.error(line, "name: missing")
    elif len(name) > MAX_NAME:
        result.error(line, f"name: longer than {MAX_NAME} characters")
    raw_en = cell("name_en")
    name_en = None if raw_en is None else _text(raw_en)
    if name_en and len(name_en) > MAX_NAME:
        result.error(line, f"name_en: longer than {MAX_NAME} characters")
    values: dict[str, Any] = {}
    for column, parse in (("price", lambda v: _price(v, places)), ("vat_rate", _vat)):
        try:
            values[column] = parse(cell(column) or "")
        except ValueError as exc:
            result.error(line, f"{column}: {exc}")
    active: bool | None = None
    raw_active = cell("active")
    if raw_active is not None:
        flag = raw_active.strip().lower()
        if flag in _TRUE:
            active = True
        elif flag in _FALSE:
            active = False
        else:
            result.error(line, f"active: {raw_active.strip()!r} is not true/false, yes/no or 1/0")
    codes, problems = _barcodes(cell("barcode") or "")
    for problem in problems:
        result.error(line, f"barcode: {problem}")
    external: dict[str, str] = {}
    for connector, i in cols.external.items():
        code = _clean(cells[i] if i < len(cells) else "").strip()
        if len(code) > MAX_EXTERNAL_ID:
            result.error(line, f"{EXTERNAL_PREFIX}{connector}: longer than {MAX_EXTERNAL_ID} characters")
        elif code:
            external[connector] = code
    if len(result.problems) > before:
        return None
    return ProductRow(line, sku, name, values["price"], values["vat_rate"], name_en, active, tuple(codes), external)


def read_products(data: bytes, *, encoding: str | None = None, currency: str = "THB",
                  result: ImportResult | None = None) -> tuple[dict[str, list[ProductRow]], ImportResult]:
    """Decode and check the file: the good rows per SKU (in file order) and the result with every
    problem found so far. ImportFormatError when the file as a whole is unusable."""
    result = result or ImportResult()
    text = decode(data, encoding)
    places = minor_units(currency)
    records = _records(text)
    header = next(records, None)
    if header is None:
        raise ImportFormatError("empty file (a header line and product lines expected)")
    if header[1] is None:
        raise ImportFormatError(f"line {header[0]}: the header cannot be read: {header[2]}")
    cols = _header(header[0], header[1], result)
    by_sku: dict[str, list[ProductRow]] = {}
    claimed: dict[str, tuple[str, int]] = {}  # gtin_key -> (sku, line) of the first good line with it
    for line, cells, problem in records:
        result.rows += 1
        if cells is None:
            if problem:
                result.error(line, problem)
            else:  # a line read into the unclosed quote of an earlier line: reported there
                result.bad_lines.add(line)
            continue
        row = _row(line, cells, cols, places, result)
        if row is None:
            continue
        clash = False
        for code in row.barcodes:
            owner = claimed.get(gtin_key(code))
            if owner and owner[0] != row.sku:
                result.error(line, f"barcode: {code} is also on line {owner[1]} (sku {owner[0]})")
                clash = True
        if clash:
            continue
        for code in row.barcodes:
            claimed.setdefault(gtin_key(code), (row.sku, line))
        earlier = by_sku.setdefault(row.sku, [])
        if earlier:
            result.warn(line, f"sku {row.sku} is also on line {earlier[-1].line}; this line's values win "
                              "(the barcodes of both are kept)")
        earlier.append(row)
    if result.rows == 0:
        result.warn(header[0], "no product lines after the header")
    return by_sku, result


# --- writing ----------------------------------------------------------------------------------------

def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _in(conn: Connection, stmt_for: Callable[[Sequence[Any]], Any], values: Iterable[Any]) -> list[Any]:
    values = list(values)
    out: list[Any] = []
    for part in _chunks(values, IN_CHUNK):
        out.extend(conn.execute(stmt_for(part)).all())
    return out


_UPDATE = (update(Product.__table__).where(_P.id == bindparam("b_id"))
           .values(name=bindparam("b_name"), name_en=bindparam("b_name_en"), price=bindparam("b_price"),
                   vat_rate=bindparam("b_vat_rate"), active=bindparam("b_active"),
                   external_ids=bindparam("b_external_ids"), search_text=bindparam("b_search_text"),
                   updated_at=bindparam("b_updated_at")))


def _write_batch(conn: Connection, batch: Sequence[tuple[str, list[ProductRow]]], result: ImportResult, *,
                 write: bool, operator: str | None, store: str | None, terminal: str | None) -> None:
    skus = [sku for sku, _ in batch]
    current = {r.sku: r for r in _in(conn, lambda part: select(
        _P.id, _P.sku, _P.name, _P.name_en, _P.price, _P.vat_rate, _P.active, _P.external_ids, _P.search_text)
        .where(_P.sku.in_(part)), skus)}
    codes = {code for _, rows in batch for row in rows for code in row.barcodes}
    codes |= {other for code in codes for other in other_spellings(code)}  # one GTIN, any length
    owners = {gtin_key(code): pid for code, pid in _in(
        conn, lambda part: select(Barcode.code, Barcode.product_id).where(Barcode.code.in_(part)), codes)}
    ids = [r.id for r in current.values()]
    own: dict[int, list[str]] = {}
    for pid, code in _in(conn, lambda part: select(Barcode.product_id, Barcode.code)
                         .where(Barcode.product_id.in_(part)).order_by(Barcode.id), ids):
        own.setdefault(pid, []).append(code)
    known = {r.id: r.sku for r in current.values()}
    strangers = {pid for pid in owners.values() if pid not in known}
    known.update(_in(conn, lambda part: select(_P.id, _P.sku).where(_P.id.in_(part)), strangers))

    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    new_codes: dict[str, list[str]] = {}
    changes: list[dict[str, Any]] = []
    added_codes: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for sku, rows in batch:
        existing = current.get(sku)
        pid = existing.id if existing is not None else None
        good = []
        for row in rows:
            taken = [c for c in row.barcodes if gtin_key(c) in owners and owners[gtin_key(c)] != pid]
            for code in taken:
                result.error(row.line, f"barcode: {code} already belongs to sku "
                                       f"{known.get(owners[gtin_key(code)], '?')}")
            if not taken:
                good.append(row)
        if not good:
            continue
        last = good[-1]
        codes_in_file: list[str] = []  # in file order, one spelling of each GTIN (its first)
        for c in (c for row in good for c in row.barcodes):
            if all(gtin_key(c) != gtin_key(k) for k in codes_in_file):
                codes_in_file.append(c)
        external: dict[str, str] = {}
        for row in good:
            external.update(row.external_ids)
        name_en = next((row.name_en for row in reversed(good) if row.name_en is not None), None)
        active = next((row.active for row in reversed(good) if row.active is not None), None)
        if existing is None:
            name_en = name_en or ""
            new_rows.append({"sku": sku, "name": last.name, "name_en": name_en, "price": last.price,
                             "vat_rate": last.vat_rate, "active": True if active is None else active,
                             "external_ids": external,
                             "search_text": search_text_for(sku, last.name, name_en, sorted(codes_in_file)),
                             "updated_at": now})
            new_codes[sku] = codes_in_file
            result.created += 1
            continue
        name_en = existing.name_en if name_en is None else name_en
        active = existing.active if active is None else active
        merged = {**(existing.external_ids or {}), **external}
        have = own.get(existing.id, [])
        mine = {gtin_key(c) for c in have}
        adding = [c for c in codes_in_file if gtin_key(c) not in mine]
        search = search_text_for(sku, last.name, name_en, sorted({*have, *adding}))
        same = (existing.name == last.name and existing.name_en == name_en and existing.price == last.price
                and existing.vat_rate == last.vat_rate and bool(existing.active) == active
                and merged == (existing.external_ids or {}) and not adding and existing.search_text == search)
        if same:
            result.unchanged += 1
            continue
        result.updated += 1
        changes.append({"b_id": existing.id, "b_name": last.name, "b_name_en": name_en, "b_price": last.price,
                        "b_vat_rate": last.vat_rate, "b_active": active, "b_external_ids": merged,
                        "b_search_text": search, "b_updated_at": now})
        added_codes += [{"code": c, "product_id": existing.id} for c in adding]
        if existing.price != last.price:
            audits.append({"at": now, "action": "price.change", "subject": sku, "operator_code": operator,
                           "store_id": store, "terminal": terminal,
                           "detail": {"old": str(existing.price), "new": str(last.price), "via": "import",
                                      "line": last.line}})
    if not write:
        return
    if new_rows:
        conn.execute(insert(Product.__table__), new_rows)
        made = dict(_in(conn, lambda part: select(_P.sku, _P.id).where(_P.sku.in_(part)), list(new_codes)))
        added_codes += [{"code": c, "product_id": made[sku]} for sku, codes in new_codes.items() for c in codes]
    if changes:
        conn.execute(_UPDATE, changes)
    if added_codes:
        conn.execute(insert(Barcode.__table__), added_codes)
    if audits:
        conn.execute(insert(AuditLog.__table__), audits)


def import_products(engine: Engine, data: bytes, *, encoding: str | None = None, currency: str = "THB",
                    dry_run: bool = False, operator: str | None = "import", store: str | None = None,
                    terminal: str | None = None, source: str = "",
                    progress: Progress | None = None) -> ImportResult:
    """Read, check and upsert the products of a CSV file (see the module docstring). ImportFormatError
    (nothing imported) when the file as a whole is unusable; otherwise the good rows are written and
    the result lists the others. `dry_run` checks everything against the database and writes nothing."""
    by_sku, result = read_products(data, encoding=encoding, currency=currency)
    result.dry_run = dry_run
    items = list(by_sku.items())
    total = len(items)
    done = 0
    for batch in _chunks(items, BATCH):
        if dry_run:
            with engine.connect() as conn:
                _write_batch(conn, batch, result, write=False, operator=operator, store=store, terminal=terminal)
        else:
            with writer(engine).begin() as conn:
                _write_batch(conn, batch, result, write=True, operator=operator, store=store, terminal=terminal)
        done += len(batch)
        if progress:
            progress(done, total)
    if not dry_run and (result.created or result.updated):
        with writer(engine).begin() as conn:
            conn.execute(insert(AuditLog.__table__), [{
                "at": utcnow(), "action": "product.import", "subject": source[:200], "operator_code": operator,
                "store_id": store, "terminal": terminal,
                "detail": {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                           "rejected": result.rejected}}])
    return result
