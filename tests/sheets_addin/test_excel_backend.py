"""Live Excel backend against a fake of the xlwings surface it uses (Book, Sheet, Range).

What was verified only here on Linux: the plan of blocks and the merge rules.  Real Excel
(Windows COM, macOS AppleScript) was not available to these tests.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_xlwings import FakeBook

from encours.connectors.demo import demo_ledger
from encours.connectors.errors import SheetError
from encours.sheets_addin.excel import ExcelWorkbook, excel_value
from encours.sheets_addin.functions import customer_figures
from encours.sheets_addin.layout import AGING, CUSTOMERS, DASHBOARD_TAB, INVOICES, JOURNAL, PARAMS_TAB
from encours.sheets_addin.rows import JournalRow
from encours.sheets_addin.view import SheetView, build_view
from encours.sheets_addin.xlsx import XlsxWorkbook

AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="module")
def view() -> SheetView:
    ledger = demo_ledger(AS_OF)
    return build_view(ledger, AS_OF, figures=customer_figures(ledger, AS_OF), company="Atelier Dupont SARL")


def _column(sheet: Any, heading: str) -> int:
    header = sheet.row_values(1)
    return header.index(heading) + 1


def _row_of(sheet: Any, invoice_id: str) -> int:
    id_col = _column(sheet, "ID")
    for (row, col), cell in sheet.cells.items():
        if col == id_col and cell.value == invoice_id and row > 1:
            return row
    raise AssertionError(f"{invoice_id} not on {sheet.name}")


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 6)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def test_a_new_workbook_gets_every_tab_written_by_blocks(view: SheetView) -> None:
    book = FakeBook()
    ExcelWorkbook(book).write(view)
    assert {"Factures", "Clients", "Balance âgée", "Tableau de bord", "Relances", "À faire", "Échéanciers",
            "Paramètres"} <= set(book.sheets.names)
    invoices = book.sheets["Factures"]
    assert invoices.row_values(1)[: len(INVOICES.columns)] == list(INVOICES.headings)
    shown = [r for r in view.invoices if r["id"] in view.shown_invoice_ids]
    assert invoices.used_range.r2 == len(shown) + 1
    # one assignment per block, whatever the number of rows: header + synced/formula block + run block
    writes = [entry for entry in book.log if entry[0] == "Factures"]
    assert len(writes) <= 3 and len(shown) > 50
    assert max(entry[3] for entry in writes) == len(shown)
    assert book.app.screen_updating is True and book.app.calculation == "automatic"  # restored


def test_same_cells_as_the_workbook_file_backend(view: SheetView, tmp_path: Path) -> None:
    book = FakeBook()
    ExcelWorkbook(book).write(view)
    path = tmp_path / "encours.xlsx"
    XlsxWorkbook(path).write(view)
    wb = load_workbook(path)
    compared = 0
    for name in (INVOICES.name, CUSTOMERS.name, AGING.name, DASHBOARD_TAB, PARAMS_TAB):
        ws, sheet = wb[name], book.sheets[name]
        for row in ws.iter_rows():
            for cell in row:
                if name == PARAMS_TAB and cell.column_letter == "E":
                    continue  # the xlsx file lists the scenarios there for its drop-downs (live Excel: not yet)
                fake = sheet.get(cell.row, cell.column)
                expected = _normal(cell.value)
                actual = fake.formula if fake.formula is not None else _normal(fake.value)
                assert actual == expected, (name, cell.coordinate, actual, expected)
                compared += cell.value is not None
    assert compared > 3000


def test_resync_keeps_what_people_typed_and_matches_rows_by_id(view: SheetView) -> None:
    book = FakeBook()
    backend = ExcelWorkbook(book)
    backend.write(view)
    invoices = book.sheets["Factures"]
    open_row = next(r for r in view.invoices if r["id"] in view.shown_invoice_ids and r["remaining"])
    row = _row_of(invoices, open_row["id"])
    invoices.set(f"{_letter(invoices, 'Litige')}{row}", "Oui")
    invoices.set(f"{_letter(invoices, 'Commentaire')}{row}", "appelé le 20/11, rappeler")
    invoices.set(f"{_letter(invoices, 'Promesse (date)')}{row}", date(2026, 12, 5))
    # people add their own column and their own row without an ID
    own_col = invoices.used_range.c2 + 1
    invoices.cell(1, own_col).value = "Notes perso"
    invoices.cell(row, own_col).value = "VIP"
    own_row = invoices.used_range.r2 + 1
    invoices.cell(own_row, 3).value = "Total à la main"
    invoices.cell(own_row, own_col).value = "ma ligne"

    marks = backend.read_marks()
    assert marks.for_invoice(open_row["id"]).dispute is True
    assert marks.for_invoice(open_row["id"]).promise_date == date(2026, 12, 5)

    paid = [dict(r) for r in view.invoices]
    for r in paid:
        if r["id"] == open_row["id"]:
            r.update(status="Payée", remaining=Decimal("0.00"), remaining_eur=Decimal("0.00"))
    backend.write(replace(view, invoices=paid))
    assert invoices.get(row, _column(invoices, "Statut")).value == "Payée"
    assert invoices.get(row, _column(invoices, "Litige")).value == "Oui"
    assert invoices.get(row, _column(invoices, "Commentaire")).value == "appelé le 20/11, rappeler"
    assert invoices.get(row, own_col).value == "VIP"
    assert invoices.get(own_row, 3).value == "Total à la main" and invoices.get(own_row, own_col).value == "ma ligne"
    days_formula = invoices.get(row, _column(invoices, "Jours de retard")).formula
    assert days_formula is not None and f"{row}" in days_formula
    # the person's own row got no formulas
    assert invoices.get(own_row, _column(invoices, "Jours de retard")).formula is None


def test_rows_sorted_by_people_are_found_by_id(view: SheetView) -> None:
    book = FakeBook()
    backend = ExcelWorkbook(book)
    backend.write(view)
    invoices = book.sheets["Factures"]
    last = invoices.used_range.r2
    # reverse the rows, as a sort would
    rows = {r: {c: (cell.value, cell.formula) for (rr, c), cell in invoices.cells.items() if rr == r}
            for r in range(2, last + 1)}
    for r, cells in rows.items():
        target = last + 2 - r
        for c, (value, formula) in cells.items():
            invoices.cell(target, c).value, invoices.cell(target, c).formula = value, formula
    first = next(r for r in view.invoices if r["id"] in view.shown_invoice_ids)
    row = _row_of(invoices, first["id"])
    assert row == last  # the first invoice is now the last row
    invoices.set(f"{_letter(invoices, 'Commentaire')}{row}", "trié")
    backend.write(view)
    assert _row_of(invoices, first["id"]) == row
    assert invoices.get(row, _column(invoices, "Commentaire")).value == "trié"
    assert invoices.get(row, _column(invoices, "N° facture")).value == first["number"]
    assert f"{row}" in (invoices.get(row, _column(invoices, "Tranche")).formula or "")


def test_ledger_text_stays_text(view: SheetView) -> None:
    customers = [dict(r) for r in view.customers]
    customers[0].update(name="=HYPERLINK(\"http://evil\")", siren="012345678", phone="+33 6 12 34 56 78")
    book = FakeBook()
    ExcelWorkbook(book).write(replace(view, customers=customers))
    sheet = book.sheets["Clients"]
    row = next(r for (r, c), cell in sheet.cells.items() if c == 1 and cell.value == customers[0]["id"])
    assert sheet.get(row, _column(sheet, "Client")).value == "=HYPERLINK(\"http://evil\")"
    assert sheet.get(row, _column(sheet, "Client")).formula is None
    assert sheet.get(row, _column(sheet, "SIREN")).value == "012345678"
    assert sheet.get(row, _column(sheet, "Téléphone")).value == "+33 6 12 34 56 78"
    assert excel_value(Decimal("12.30")) == 12.3 and excel_value("F-2025-0001") == "F-2025-0001"


def test_a_duplicated_id_refuses_the_write_before_any_change(view: SheetView) -> None:
    book = FakeBook()
    backend = ExcelWorkbook(book)
    backend.write(view)
    invoices = book.sheets["Factures"]
    first_id = invoices.get(2, 1).value
    invoices.cell(3, 1).value = first_id
    before = len(book.log)
    with pytest.raises(SheetError, match="appears twice"):
        backend.write(view)
    assert len(book.log) == before


def test_a_missing_id_heading_is_reported(view: SheetView) -> None:
    book = FakeBook()
    backend = ExcelWorkbook(book)
    backend.write(view)
    book.sheets["Clients"].cell(1, 1).value = "Identifiant"
    with pytest.raises(SheetError, match="ID column is missing"):
        backend.write(view)


def test_run_columns_and_journal(view: SheetView) -> None:
    book = FakeBook()
    backend = ExcelWorkbook(book)
    backend.write(view)
    invoice = next(r for r in view.invoices if r["id"] in view.shown_invoice_ids)
    run = {invoice["id"]: {"next_action": "Relance 1 (e-mail)", "next_action_date": date(2026, 11, 24),
                           "last_reminder": ""}}
    journal: list[JournalRow] = [{
        "id": "J1", "at": datetime(2026, 11, 23, 9, 30), "customer": "Boulangerie", "invoices": "F-1",
        "scenario": "standard", "step": "Relance 1", "channel": "email", "recipient": "a@b.fr",
        "status": "sent", "reason": "", "message": "outbox/1.eml"}]
    backend.write(replace(view, run=run, journal=journal))
    invoices = book.sheets["Factures"]
    row = _row_of(invoices, invoice["id"])
    assert invoices.get(row, _column(invoices, "Prochaine action")).value == "Relance 1 (e-mail)"
    backend.write(view)  # a plain sync leaves the run columns as they are
    assert invoices.get(row, _column(invoices, "Prochaine action")).value == "Relance 1 (e-mail)"
    relances = book.sheets[JOURNAL.name]
    assert relances.row_values(2)[:3] == ["J1", datetime(2026, 11, 23, 9, 30), "Boulangerie"]


def _letter(sheet: Any, heading: str) -> str:
    from encours.sheets_addin.layout import column_letter

    return column_letter(_column(sheet, heading) - 1)


def test_dashboard_gets_the_kpi_formulas_and_the_opening_receivables(view: SheetView) -> None:
    book = FakeBook()
    ExcelWorkbook(book).write(replace(view, opening_receivables=Decimal("193868.40")))
    board = book.sheets[DASHBOARD_TAB]
    labels = {board.get(r, 1).value: r for r in range(1, 40) if board.get(r, 1).value}
    assert board.get(labels["Encours en début de période"], 2).value == 193868.4
    assert (board.get(labels["CEI (%)"], 2).formula or "").startswith("=IF(AND(ISNUMBER(B28)")
    assert "SUMIFS(" in (board.get(labels["Ventes à crédit de la période (EUR)"], 2).formula or "")
    assert len(board.charts) == 1


def test_opening_excel_where_there_is_none_says_so(tmp_path: Path) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("Excel may be installed here")
    with pytest.raises(SheetError, match="cannot open the workbook in Excel"):
        ExcelWorkbook.open(tmp_path / "encours.xlsm")


def test_a_row_the_ledger_no_longer_knows_is_marked_deleted_and_keeps_its_cells(view: SheetView) -> None:
    book = FakeBook()
    backend = ExcelWorkbook(book)
    backend.write(view)
    invoices = book.sheets["Factures"]
    gone = next(r for r in view.invoices if r["id"] in view.shown_invoice_ids and r["remaining"])
    row = _row_of(invoices, gone["id"])
    backend.write(replace(view, invoices=[r for r in view.invoices if r["id"] != gone["id"]]))
    assert invoices.get(row, _column(invoices, "Statut")).value == "Supprimée"
    assert invoices.get(row, _column(invoices, "Reste dû")).value == 0
    assert invoices.get(row, _column(invoices, "N° facture")).value == gone["number"]


def test_ledger_text_stays_text_money_is_in_euros_and_old_dates_are_not_negative_serials(view: SheetView) -> None:
    ledger = demo_ledger(AS_OF)
    invoice, other = [i for i in ledger.invoices if i.is_open and not i.is_credit_note][:2]
    customer = next(c for c in ledger.customers if c.id == invoice.customer_id)
    changed: dict[str, dict[str, Any]] = {
        invoice.id: {"number": "2026-01", "issue_date": date(1899, 6, 15)},
        other.id: {"number": "1E5"},
    }
    ledger = replace(
        ledger,
        customers=tuple(replace(c, name="(123)") if c.id == customer.id else c for c in ledger.customers),
        invoices=tuple(replace(i, **changed[i.id]) if i.id in changed else i for i in ledger.invoices),
    )
    view = build_view(ledger, AS_OF, figures=customer_figures(ledger, AS_OF), company="Atelier Dupont SARL")
    book = FakeBook()
    ExcelWorkbook(book).write(view)
    invoices = book.sheets["Factures"]
    row = _row_of(invoices, invoice.id)
    assert invoices.get(row, _column(invoices, "N° facture")).value == "2026-01"  # not 1 January 2026
    assert invoices.get(row, _column(invoices, "Client")).value == "(123)"  # not -123
    assert invoices.get(row, _column(invoices, "Date")).value == "15/06/1899"  # not a negative serial
    assert invoices.get(_row_of(invoices, other.id), _column(invoices, "N° facture")).value == "1E5"  # not 100000
    clients = book.sheets["Clients"]
    names = [clients.get(r, _column(clients, "Client")).value for r in range(2, clients.used_range.r2 + 1)]
    assert "(123)" in names
    assert "€" in invoices.get(row, _column(invoices, "Reste dû (EUR)")).number_format
    assert "€" in clients.get(2, _column(clients, "Encours")).number_format
    assert "€" in book.sheets["Balance âgée"].get(2, 3).number_format


def test_headings_are_not_cut(view: SheetView) -> None:
    book = FakeBook()
    ExcelWorkbook(book).write(view)
    for name, tab in (("Factures", INVOICES), ("Clients", CUSTOMERS)):
        sheet = book.sheets[name]
        for column in tab.columns:
            width = sheet.range((1, _column(sheet, column.heading))).column_width
            assert width >= len(column.heading) + 2, (name, column.heading, width)
    widths = dict(book.sheets["Factures"].widths)
    book.sheets["Factures"].range((1, 3)).column_width = 60  # a person widens a column
    ExcelWorkbook(book).write(view)
    assert book.sheets["Factures"].widths == {**widths, 3: 60}  # a re-sync leaves people's widths
