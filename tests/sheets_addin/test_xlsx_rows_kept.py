"""Rows kept between syncs: a re-sync renders only the rows whose values changed, and writes the same bytes."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.sheets_addin import xlsx_splice as splice
from encours.sheets_addin.layout import CUSTOMERS, INVOICES, Tab
from encours.sheets_addin.view import build_view
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sheets_addin.xlsx_append import Appender
from encours.sheets_addin.xlsx_people import cache_file
from encours.sheets_addin.xlsx_prints import load as load_prints
from tests.support.workbook_parts import invoice_cell, workbook_parts

AS_OF = date(2026, 11, 23)
REMAINING = INVOICES.column("remaining").heading


def _ledger(count: int) -> Ledger:
    people = tuple(Customer(f"C{i:03d}", f"Client {i}", "test", emails=(f"c{i}@example.fr",)) for i in range(5))
    invoices = tuple(
        Invoice(
            f"INV{i:04d}",
            f"F-{i:04d}",
            people[i % 5].id,
            "test",
            AS_OF - timedelta(days=40 + i),
            AS_OF - timedelta(days=10 + i),
            Money(Decimal("100.00") + i),
            Money(Decimal("100.00") + i),
        )
        for i in range(count)
    )
    return Ledger(people, invoices, ())


def _changed(
    ledger: Ledger, *, paid: str = "", remaining: tuple[str, str] | None = None, postponed: str = ""
) -> Ledger:
    out = []
    for inv in ledger.invoices:
        if inv.id == postponed:  # one cell of its row changes, nothing else
            assert inv.due_date is not None
            inv = dataclasses.replace(inv, due_date=inv.due_date + timedelta(days=1))
        if inv.id == paid:
            inv = dataclasses.replace(inv, remaining=Money(Decimal(0)), status=InvoiceStatus.PAID)
        elif remaining is not None and inv.id == remaining[0]:
            inv = dataclasses.replace(inv, remaining=Money(Decimal(remaining[1])), status=InvoiceStatus.PARTIALLY_PAID)
        out.append(inv)
    return dataclasses.replace(ledger, invoices=tuple(out))


class Rendered:
    """Counts the rows rendered whole (a row whose kept print matches is not)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = Appender.rows

        def counted(appender: Appender, new: Any, *more: Any) -> Any:
            self.count += len(new)
            return real(appender, new, *more)

        monkeypatch.setattr(Appender, "rows", counted)


def test_a_resync_from_kept_rows_writes_the_very_bytes_of_a_full_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_view(_ledger(40), AS_OF)
    second = build_view(
        _changed(_ledger(40), paid="INV0007", remaining=("INV0011", "42.50"), postponed="INV0020"), AS_OF
    )
    hot, cold = tmp_path / "hot.xlsx", tmp_path / "cold.xlsx"
    XlsxWorkbook(hot).write(first)
    XlsxWorkbook(hot).write(second)  # rows kept by the first write
    XlsxWorkbook(cold).write(first)
    with monkeypatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))  # nothing kept: every row compared with the file
        XlsxWorkbook(cold).write(second)
    assert workbook_parts(hot) == workbook_parts(cold)
    assert invoice_cell(hot, "INV0011", REMAINING) == 42.5
    assert invoice_cell(hot, "INV0012", REMAINING) == 112.0
    due = INVOICES.column("due_date").heading
    assert invoice_cell(hot, "INV0020", due).date() == AS_OF - timedelta(days=29)


def test_only_the_rows_whose_values_changed_are_rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(40), AS_OF))
    rendered = Rendered(monkeypatch)
    XlsxWorkbook(path).write(build_view(_changed(_ledger(40), remaining=("INV0011", "42.50")), AS_OF))
    assert rendered.count == 1  # INV0011's row only (its customer's Clients row: totals are formulas)
    assert invoice_cell(path, "INV0011", REMAINING) == 42.5
    rendered.count = 0
    XlsxWorkbook(path).write(build_view(_changed(_ledger(40), remaining=("INV0011", "40.00")), AS_OF))
    assert rendered.count == 1  # the row rewritten last time is kept too
    assert invoice_cell(path, "INV0011", REMAINING) == 40


def test_a_person_s_save_is_never_hidden_by_rows_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(40), AS_OF))
    # a person's tool overwrites one of encours's cells (styles and all else as they were), in a row whose
    # values do not change at the source
    ws = load_workbook(path, read_only=True)["Factures"]
    letter = next(c.column_letter for c in next(ws.iter_rows(max_row=1)) if c.value == REMAINING)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    part = "xl/worksheets/sheet2.xml"  # Factures
    text = parts[part].decode()
    found = re.search(r'<row r="(\d+)"><c r="A\d+" t="inlineStr"><is><t>INV0003</t>', text)
    assert found is not None
    number = found.group(1)
    text, count = re.subn(rf'(<c r="{letter}{number}"[^>]*><v>)[^<]*(</v>)', r"\g<1>999\g<2>", text)
    assert count == 1
    parts[part] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert invoice_cell(path, "INV0003", REMAINING) == 999
    rendered = Rendered(monkeypatch)
    XlsxWorkbook(path).write(build_view(_changed(_ledger(40), remaining=("INV0011", "42.50")), AS_OF))
    assert rendered.count > 30  # the part changed since encours wrote it: its rows compared with the file
    assert invoice_cell(path, "INV0003", REMAINING) == 103.0
    assert invoice_cell(path, "INV0011", REMAINING) == 42.5


def test_a_damaged_kept_file_is_only_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, cold = tmp_path / "encours.xlsx", tmp_path / "cold.xlsx"
    first = build_view(_ledger(40), AS_OF)
    second = build_view(_changed(_ledger(40), remaining=("INV0011", "42.50")), AS_OF)
    XlsxWorkbook(path).write(first)
    kept = cache_file(path)
    assert kept is not None
    rows = kept.with_suffix(".rows")
    data = rows.read_bytes()
    rows.write_bytes(data[: len(data) - 7])  # cut short
    XlsxWorkbook(path).write(second)
    XlsxWorkbook(cold).write(first)
    with monkeypatch.context() as m:
        m.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
        XlsxWorkbook(cold).write(second)
    assert workbook_parts(path) == workbook_parts(cold)


def _ids_in_file(path: Path, tab: Tab) -> dict[str, int]:
    ws = load_workbook(path, read_only=True)[tab.name]
    rows = ws.iter_rows(values_only=True)
    at = list(next(rows)).index(tab.column(tab.id_key).heading)
    return {str(values[at]): number for number, values in enumerate(rows, start=2) if values and values[at]}


def test_the_rows_of_the_ids_kept_are_those_in_the_file_and_spare_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hot, cold = tmp_path / "hot.xlsx", tmp_path / "cold.xlsx"
    views = [
        build_view(_ledger(40), AS_OF),
        build_view(_changed(_ledger(40), paid="INV0007", remaining=("INV0011", "42.50")), AS_OF),
        build_view(_changed(_ledger(46), paid="INV0007", postponed="INV0020"), AS_OF),  # six invoices appended
        build_view(_changed(_ledger(50), paid="INV0043"), AS_OF),
    ]
    searched: list[str] = []
    real = splice._found_rows

    def counted(sheet: Any, tab: Any, *more: Any) -> Any:
        searched.append(tab.name)
        return real(sheet, tab, *more)

    monkeypatch.setattr(splice, "_found_rows", counted)
    for number, view in enumerate(views):
        searched.clear()
        XlsxWorkbook(hot).write(view)
        if number:  # the last sync left every ID's row: the part is not searched for them
            assert "Factures" not in searched and "Clients" not in searched
        kept = load_prints(hot)
        for tab in (INVOICES, CUSTOMERS):
            assert kept[tab.name].found == _ids_in_file(hot, tab)
        with monkeypatch.context() as m:
            m.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))  # nothing kept: every row searched and compared
            XlsxWorkbook(cold).write(view)
        assert workbook_parts(hot) == workbook_parts(cold)
    assert invoice_cell(hot, "INV0045", REMAINING) == 145.0
    assert invoice_cell(hot, "INV0043", REMAINING) in (0, None)


def test_a_changed_row_keeps_a_person_s_look_of_encours_s_cells(tmp_path: Path) -> None:
    """A row whose values change is merged cell by cell: a cell a person made bold stays bold (same number
    format), a cell given another number format gets encours's back, and both show the new values."""
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(build_view(_ledger(40), AS_OF))
    wb = load_workbook(path)
    ws = wb["Factures"]
    headings = {c.value: int(c.column or 0) for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, headings["ID"]).value == "INV0011")
    remaining, total = ws.cell(row, headings[REMAINING]), ws.cell(row, headings[INVOICES.column("total").heading])
    encours_format = remaining.number_format
    remaining.font = Font(bold=True)
    total.number_format = "0.000%"
    wb.save(path)
    changed = _changed(_ledger(40), remaining=("INV0011", "42.50"))
    XlsxWorkbook(path).write(build_view(changed, AS_OF))
    ws = load_workbook(path)["Factures"]
    remaining, total = ws.cell(row, headings[REMAINING]), ws.cell(row, headings[INVOICES.column("total").heading])
    assert remaining.value == 42.5 and remaining.font.bold and remaining.number_format == encours_format
    assert total.value == 111 and total.number_format == encours_format
