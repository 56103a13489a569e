"""A part as encours wrote it is read by its rows' offsets, not cut into rows — and writes the same bytes."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from array import array
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.sheets_addin import xlsx_aging
from encours.sheets_addin import xlsx_splice as splice
from encours.sheets_addin.layout import INVOICES, column_letter
from encours.sheets_addin.view import SheetView, build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sheets_addin.xlsx_cells import cell_xml
from encours.sheets_addin.xlsx_deflate import Deflated
from encours.sheets_addin.xlsx_people import cache_file
from encours.sheets_addin.xlsx_prints import load as load_prints
from encours.sheets_addin.xlsx_prints import store as store_prints
from encours.sheets_addin.xlsx_sheetxml import Row, Sheet
from encours.sheets_addin.xlsx_trusted import TrustedSheet, open_sheet
from tests.support.workbook_parts import invoice_cell, workbook_parts

AS_OF = date(2026, 11, 23)
PART = "xl/worksheets/sheet2.xml"  # Factures
COMMENT = INVOICES.column("comment").heading
REMAINING = INVOICES.column("remaining").heading


def _ledger(count: int, *, paid: tuple[str, ...] = (), gone: tuple[str, ...] = ()) -> Ledger:
    people = tuple(Customer(f"C{i:03d}", f"Client {i}", "test", emails=(f"c{i}@example.fr",)) for i in range(5))
    invoices = []
    for i in range(count):
        inv = Invoice(f"INV{i:04d}", f"F-{i:04d}", people[i % 5].id, "test", AS_OF - timedelta(days=40 + i),
                      AS_OF - timedelta(days=10 + i), Money(Decimal("100.00") + i), Money(Decimal("100.00") + i))
        if inv.id in paid:
            inv = dataclasses.replace(inv, remaining=Money(Decimal(0)), status=InvoiceStatus.PAID)
        if inv.id not in gone:
            invoices.append(inv)
    return Ledger(people, tuple(invoices), ())


def _type(path: Path, invoice_id: str, heading: str, text: str) -> None:
    """A person types ``text`` in one cell of the invoice's row (every other byte of the file as it was)."""
    ws = load_workbook(path, read_only=True)["Factures"]
    index = next(i for i, c in enumerate(next(ws.iter_rows(max_row=1))) if c.value == heading)
    with zipfile.ZipFile(path) as z:
        parts = {info: z.read(info.filename) for info in z.infolist()}
    info = next(i for i in parts if i.filename == PART)
    xml = parts[info].decode()
    found = re.search(rf'<row r="(\d+)"><c r="A\d+" t="inlineStr"><is><t>{invoice_id}</t>.*?</row>', xml)
    assert found is not None
    row, number = found.group(0), found.group(1)
    cell = f'<c r="{column_letter(index)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
    after = [m.start() for m in re.finditer(r'<c r="([A-Z]+)\d+"', row)
             if len(m.group(1)) > len(column_letter(index)) or (len(m.group(1)) == len(column_letter(index))
                                                                 and m.group(1) > column_letter(index))]
    at = after[0] if after else row.rindex("</row>")
    parts[info] = xml.replace(row, row[:at] + cell + row[at:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for entry, data in parts.items():
            z.writestr(entry, data)


class Opened:
    """The kind of sheet each sync opened the ``Factures`` part as."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sheets: list[Sheet] = []
        real = open_sheet

        def spy(pkg: Any, part: str, kept: Any) -> Sheet:
            sheet = real(pkg, part, kept)
            if part == PART:
                self.sheets.append(sheet)
            return sheet

        monkeypatch.setattr(splice, "open_sheet", spy)

    def last(self) -> Sheet:
        return self.sheets[-1]


def _twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, views: list[SheetView], *, typed: int = -1) -> Path:
    """Writes ``views`` into a workbook with rows kept and into one with nothing kept; both the same bytes.

    ``typed``: after that write a person types a comment in INV0003's row (in both workbooks)."""
    hot, cold = tmp_path / "hot.xlsx", tmp_path / "cold.xlsx"
    for number, view in enumerate(views):
        XlsxWorkbook(hot).write(view)
        with monkeypatch.context() as m:
            m.setenv("XDG_CACHE_HOME", str(tmp_path / f"empty-{number}"))  # nothing kept: every row cut and compared
            XlsxWorkbook(cold).write(view)
        assert workbook_parts(hot) == workbook_parts(cold)
        if number == typed:
            for path in (hot, cold):
                _type(path, "INV0003", COMMENT, "rappeler lundi")
    return hot


def test_a_trusted_resync_writes_the_bytes_of_every_row_compared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    opened = Opened(monkeypatch)
    views = [
        build_view(_ledger(40), AS_OF),
        build_view(_ledger(40, paid=("INV0007",)), AS_OF),  # after a person typed: every row compared
        # changed (paid), appended (six new), unknown (two gone from the source) and a typed row, trusted
        build_view(_ledger(46, paid=("INV0007", "INV0011", "INV0030"), gone=("INV0020", "INV0021")), AS_OF),
        build_view(_ledger(47, paid=("INV0007", "INV0011", "INV0045"), gone=("INV0020", "INV0021")), AS_OF),
    ]
    hot = _twins(tmp_path, monkeypatch, views, typed=0)
    kinds = [type(sheet) for sheet in opened.sheets[::2]]  # the hot workbook's syncs (the cold ones between)
    assert kinds == [Sheet, Sheet, TrustedSheet, TrustedSheet]
    last = opened.sheets[-2]
    assert isinstance(last, TrustedSheet)
    # only the rows touched were cut out of the part: heading, changed, unknown, typed in, the last ones
    assert len(last.rows.taken) < 48 // 4
    assert invoice_cell(hot, "INV0003", COMMENT) == "rappeler lundi"  # what the person typed is kept
    assert invoice_cell(hot, "INV0011", REMAINING) in (0, None)
    assert invoice_cell(hot, "INV0046", REMAINING) == 146.0
    assert invoice_cell(hot, "INV0020", INVOICES.column("status").heading) == "Supprimée"


def test_the_offsets_kept_are_where_each_row_starts(tmp_path: Path) -> None:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(30), AS_OF))
    XlsxWorkbook(path).write(build_view(_ledger(33, paid=("INV0004",)), AS_OF))
    kept = load_prints(path)["Factures"]
    assert kept.rows is not None
    numbers, offsets = kept.rows
    with zipfile.ZipFile(path) as z:
        data = z.read(PART)
    starts = [m.start() for m in re.finditer(rb"<row ", data)]
    assert list(offsets[:-1]) == starts
    assert list(numbers) == list(range(1, 35))
    assert offsets[-1] == data.index(b"</sheetData>")


def _mangle(path: Path, change: Any) -> None:
    kept = load_prints(path)
    tab = kept["Factures"]
    assert tab.rows is not None and tab.found is not None
    with zipfile.ZipFile(path) as z:
        data = z.read(PART)
    kept["Factures"] = dataclasses.replace(tab, rows=change(*tab.rows, tab.found["INV0007"], data))
    store_prints(path, kept)


def _cut_short(numbers: array[int], offsets: array[int], number: int, data: bytes) -> tuple[array[int], array[int]]:
    """The row ``number`` said to end after its first cell (the next row said to start there)."""
    at = list(numbers).index(number)
    moved = array("q", offsets)
    moved[at + 1] = data.index(b"</c>", offsets[at]) + 4
    return numbers, moved


@pytest.mark.parametrize("change", [
    _cut_short,  # INV0007's row, changed by the second sync
    lambda numbers, offsets, *_: (numbers, offsets[:-1]),  # one offset short
    lambda numbers, offsets, *_: (array("q", [n + 1 for n in numbers]), offsets),  # the rows numbered one down
], ids=["a-row-cut-short", "offsets-short", "numbers-shifted"])
def test_offsets_that_do_not_fit_the_part_are_never_guessed_around(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any
) -> None:
    hot, cold = tmp_path / "hot.xlsx", tmp_path / "cold.xlsx"
    first, second = build_view(_ledger(40), AS_OF), build_view(_ledger(42, paid=("INV0007",)), AS_OF)
    XlsxWorkbook(hot).write(first)
    _mangle(hot, change)
    XlsxWorkbook(hot).write(second)
    XlsxWorkbook(cold).write(first)
    with monkeypatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
        XlsxWorkbook(cold).write(second)
    assert workbook_parts(hot) == workbook_parts(cold)
    assert invoice_cell(hot, "INV0007", REMAINING) in (0, None)


def test_a_damaged_offsets_cache_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = Opened(monkeypatch)
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(40), AS_OF))
    marks = cache_file(path)
    assert marks is not None
    kept_file = marks.with_suffix(".rows")
    data = bytearray(kept_file.read_bytes())
    data[-20] ^= 0x40  # one bit of an offset flipped
    kept_file.write_bytes(bytes(data))
    assert load_prints(path) == {}
    XlsxWorkbook(path).write(build_view(_ledger(40, paid=("INV0007",)), AS_OF))
    assert type(opened.last()) is Sheet
    assert invoice_cell(path, "INV0007", REMAINING) in (0, None)


def test_after_a_person_s_save_the_part_is_cut_into_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = Opened(monkeypatch)
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(40), AS_OF))
    _type(path, "INV0005", COMMENT, "vu")
    XlsxWorkbook(path).write(build_view(_ledger(40, paid=("INV0007",)), AS_OF))
    assert type(opened.last()) is Sheet
    assert invoice_cell(path, "INV0005", COMMENT) == "vu"
    XlsxWorkbook(path).write(build_view(_ledger(40, paid=("INV0007", "INV0008")), AS_OF))
    assert type(opened.last()) is TrustedSheet  # the part as that sync wrote it
    assert invoice_cell(path, "INV0005", COMMENT) == "vu"


def _part(numbers: list[int]) -> tuple[str, array[int], array[int]]:
    head = '<worksheet><dimension ref="A1:C9"/><sheetData>'
    rows = [f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>' + (f'<c r="C{n}"><v>1</v></c>' if n % 3 == 0 else "")
            + "</row>" for n in numbers]
    rows[1] = f'<row r="{numbers[1]}"/>'  # an empty row, self-closing
    lengths = [len(head), *map(len, rows)]
    offsets = array("q", [sum(lengths[: i + 1]) for i in range(len(lengths))])
    return head + "".join(rows) + "</sheetData><pageMargins/></worksheet>", array("q", numbers), offsets


@pytest.mark.parametrize("edit", ["none", "cut-first-and-last", "delete-and-add", "clear-from-5"])
def test_a_trusted_sheet_edited_gives_the_text_of_a_cut_one(edit: str) -> None:
    xml, numbers, offsets = _part([1, 2, 3, 5, 8, 9, 10, 12])
    exact = Sheet(xml)
    trusted = TrustedSheet.of(xml.encode(), numbers, offsets)
    assert trusted is not None
    for sheet in (exact, trusted):
        if edit == "cut-first-and-last":
            sheet.set_cells(1, {1: '<c r="B1"><v>7</v></c>'})
            sheet.set_cells(12, {0: '<c r="A12"><v>0</v></c>'})
        elif edit == "delete-and-add":
            del sheet.rows[3]
            sheet.dirty = True
            sheet.add_row(4, '<row r="4"><c r="D4"><v>4</v></c></row>', last=3)
            sheet.set_cells(11, {0: '<c r="A11"><v>11</v></c>'})
            sheet.rows[9] = Row(9, "", '<row r="9"><c r="A9"><v>90</v></c></row>')
            sheet.set_last([2, 5, 8], 2)
        elif edit == "clear-from-5":
            sheet.clear_rows(5)
            sheet.set_cells(6, {0: '<c r="A6"><v>6</v></c>'})
    assert trusted.changed() == exact.changed()
    text = trusted.to_xml()
    assert text == exact.to_xml()
    assert trusted.last_row_with_values([]) == exact.last_row_with_values([])
    assert trusted.written_rows is not None and exact.written_rows is not None
    assert list(trusted.written_rows[0]) == list(exact.written_rows[0]) == sorted(exact.rows)
    assert list(trusted.written_rows[1]) == list(exact.written_rows[1])
    data = text.encode()
    assert all(data.startswith(b'<row r="%d"' % n, at)
               for n, at in zip(trusted.written_rows[0], trusted.written_rows[1], strict=False))


def test_balance_agee_is_rebuilt_only_when_its_rows_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = [0]
    real = cell_xml

    def counted(*args: Any, **kwargs: Any) -> str:
        rendered[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(xlsx_aging, "cell_xml", counted)
    last_of_c004 = tuple(f"INV{i:04d}" for i in range(40) if i % 5 == 4)
    views = [build_view(_ledger(40), AS_OF), build_view(_ledger(40, paid=("INV0007",)), AS_OF),
             build_view(_ledger(40, paid=("INV0007", *last_of_c004)), AS_OF)]  # C004: nothing left open
    hot, cold = tmp_path / "hot.xlsx", tmp_path / "cold.xlsx"
    counts = []
    for number, view in enumerate(views):
        rendered[0] = 0
        XlsxWorkbook(hot).write(view)
        counts.append(rendered[0])
        with monkeypatch.context() as m:
            m.setenv("XDG_CACHE_HOME", str(tmp_path / f"empty-{number}"))
            XlsxWorkbook(cold).write(view)
        assert workbook_parts(hot) == workbook_parts(cold)
    assert counts[0] > 0 and counts[1] == 0 and counts[2] > 0  # the same customers open: left as it was
    ws = load_workbook(hot)["Balance âgée"]
    ids = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1)]
    assert "C004" not in ids and "C003" in ids


def test_a_big_part_is_written_again_from_the_deflated_segments_it_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows nobody changed are copied as the deflated bytes they were: the workbook is the one every row gives."""
    opened = Opened(monkeypatch)
    views = [
        build_view(_ledger(1500), AS_OF),
        build_view(_ledger(1500, paid=("INV0007", "INV0700")), AS_OF),
        build_view(_ledger(1503, paid=("INV0007", "INV0700", "INV1200"), gone=("INV0400",)), AS_OF),
        build_view(_ledger(1503, paid=("INV0007", "INV0700", "INV1200", "INV0033"), gone=("INV0400",)), AS_OF),
    ]
    hot = _twins(tmp_path, monkeypatch, views, typed=0)  # a person's save: the next sync reads every row
    for path in (hot, tmp_path / "cold.xlsx"):
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None
    last = opened.sheets[-2]  # the hot workbook's last sync
    assert isinstance(last, TrustedSheet)
    source = last.rows.data
    assert isinstance(source, Deflated)
    count = len(source.segments.plain) - 1
    assert count > 20 and len(source._inflated) < count / 3  # most segments neither inflated nor compressed again
    kept = load_prints(hot)["Factures"]
    with zipfile.ZipFile(hot) as z:
        info = z.getinfo(PART)
    assert kept.segments is not None and kept.packed == info.compress_size
    assert kept.segments.plain[-1] == info.file_size
    assert invoice_cell(hot, "INV0003", COMMENT) == "rappeler lundi"
    assert invoice_cell(hot, "INV1200", REMAINING) in (0, None)
    assert invoice_cell(hot, "INV1502", REMAINING) == 1602.0
