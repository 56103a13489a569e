"""One check for every backend: what the spreadsheet computes equals the Python reference, to the cent.

Each backend's written cells become an .xlsx (the xlsx file as it is; the live-Excel fake's cells
and the local Sheets server's stored cells rebuilt cell by cell, formulas as formulas and text as
text), LibreOffice recalculates it, and :func:`check_computed` compares ``Jours de retard``,
``Tranche``, ``Balance âgée``, ``Clients`` Encours/Échu and the dashboard totals and KPIs with
:mod:`encours.sheets_addin.functions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import to_excel

from encours.connectors.model import Ledger
from encours.sheets_addin.functions import aging_bucket, aging_by_customer, bucket_labels, days_past_due, ledger_kpis
from encours.sheets_addin.view import SheetView
from tests.support.libreoffice import recalculate

CENT = Decimal("0.01")


# -- written cells → a workbook LibreOffice can recalculate ------------------------------------------
def workbook_of(tabs: Iterable[tuple[str, Iterable[tuple[int, int, Any, bool]]]], path: Path) -> Path:
    """An .xlsx from (tab, cells) where a cell is (1-based row, 1-based column, value, is_formula)."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for title, cells in tabs:
        ws = wb.create_sheet(title)
        for row, column, value, is_formula in cells:
            cell = ws.cell(row=row, column=column)
            if is_formula:
                cell.value = value if str(value).startswith("=") else "=" + str(value)
            else:
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # text that looks like a formula stays text
    wb.save(path)
    return path


def sheets_server_workbook(server: Any, path: Path) -> Path:
    """The local Sheets server's stored cells (a ``Formula``, with its ``text``, for a formula) as an .xlsx."""

    def cells(title: str) -> Iterable[tuple[int, int, Any, bool]]:
        for r, line in enumerate(server.sheet(title).rows, start=1):
            for c, value in enumerate(line, start=1):
                if value is None:
                    continue
                if hasattr(value, "text"):
                    yield r, c, value.text, True
                else:
                    yield r, c, value, False

    return workbook_of(((title, list(cells(title))) for title in server.titles()), path)


def fake_excel_workbook(book: Any, path: Path) -> Path:
    """The fake xlwings book's cells (formula text where a formula was assigned) as an .xlsx."""

    def cells(sheet: Any) -> Iterable[tuple[int, int, Any, bool]]:
        for (r, c), cell in sorted(sheet.cells.items()):
            if cell.formula is not None:
                yield r, c, cell.formula, True
            elif cell.value is not None:
                yield r, c, cell.value, False

    return workbook_of(((sheet.name, list(cells(sheet))) for sheet in book.sheets), path)


def recalculated(path: Path, as_of: date, opening: Decimal | None, folder: Path) -> Any:
    """Freeze the as-of date (``Paramètres`` B2), put the opening receivables, recalculate, read values."""
    wb = load_workbook(path)
    wb["Paramètres"]["B2"] = as_of
    if opening is not None:
        wb["Tableau de bord"]["B28"] = float(opening)
    frozen = folder / "frozen.xlsx"
    wb.save(frozen)
    return load_workbook(recalculate(frozen, folder / "recalc"), data_only=True)


# -- the comparison ---------------------------------------------------------------------------------
def rows_of(ws: Any) -> list[dict[str, Any]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=False)) for row in ws.iter_rows(min_row=2, values_only=True) if any(row)]


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def number(value: Any) -> Any:
    """A value as its number: a rebuilt tab carries no number formats, so LibreOffice may show a
    count of days as a date (1900-04-05 for 96); the value is what is compared."""
    return to_excel(value) if isinstance(value, datetime) else value  # Excel's serials (1900 leap day)


def _days(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.1"))


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def check_computed(wb: Any, view: SheetView, ledger: Ledger, as_of: date, *, kpis: bool = True) -> int:
    """Assert every computed figure a person reads; returns the number of invoice rows checked."""
    sheet_rows = {str(r["ID"]): r for r in rows_of(wb["Factures"]) if r.get("ID")}
    wanted = {str(r["id"]): r for r in view.invoices if r["id"] in sheet_rows}
    assert len(wanted) == len(sheet_rows)
    for key, row in wanted.items():
        computed = sheet_rows[key]
        due = _as_date(row.get("due_date"))
        if due is None or not row.get("remaining"):
            assert computed["Jours de retard"] in (None, ""), key
            continue
        days = days_past_due(due, as_of)
        assert number(computed["Jours de retard"]) == days, (key, computed["Jours de retard"], days)
        assert computed["Tranche"] == aging_bucket(days), (key, computed["Tranche"])

    frame = pd.DataFrame([
        {"customer_id": r["customer_id"], "due_date": _as_date(r.get("due_date")),
         "remaining_eur": Decimal(str(r.get("remaining_eur") or 0))}
        for r in wanted.values() if r.get("remaining_eur") and _as_date(r.get("due_date"))
    ])
    reference = aging_by_customer(frame, as_of) if len(frame) else pd.DataFrame()
    labels = [*bucket_labels(), "Total"]
    clients = {str(r["ID client"]): r for r in rows_of(wb["Clients"]) if r.get("ID client")}
    aging = {str(r["ID client"]): r for r in rows_of(wb["Balance âgée"]) if r.get("ID client")}
    for customer, figures in clients.items():
        expected = reference.loc[customer] if customer in reference.index else None
        total = Decimal(0) if expected is None else expected["Total"]
        overdue = Decimal(0) if expected is None else total - expected[labels[0]]
        assert money(figures["Encours"]) == total, (customer, figures["Encours"], total)
        assert money(figures["Échu"]) == overdue, (customer, figures["Échu"], overdue)
        if expected is not None and total:
            for label in labels:
                assert money(aging[customer][label]) == expected[label], (customer, label)
    checked_aging = [c for c in aging if c in reference.index]
    assert len(checked_aging) == len(aging)
    if kpis:
        check_kpis(wb, ledger, as_of)
    return len(wanted)


def dashboard(wb: Any) -> dict[str, Any]:
    return {row[0]: row[1] for row in wb["Tableau de bord"].iter_rows(values_only=True) if row and row[0]}


def check_kpis(wb: Any, ledger: Ledger, as_of: date) -> None:
    k = ledger_kpis(ledger, as_of)
    board = dashboard(wb)
    assert money(board["Encours total"]) == k.receivables
    assert money(board["Non échu"]) == k.current
    assert money(board["Ventes à crédit de la période (EUR)"]) == k.credit_sales
    assert [money(board[f"Ventes j-{30 * (i + 1)} à j" + ("" if i == 0 else f"-{30 * i}")]) for i in range(3)] == [
        max(m, Decimal(0)) for m in k.monthly_sales
    ]
    for label, expected in (("DSO simple (jours)", k.dso), ("DSO par épuisement (jours)", k.dso_countback),
                            ("Meilleur DSO possible (jours)", k.best_dso), ("ADD, retard moyen (jours)", k.add),
                            ("CEI (%)", k.cei)):
        actual = _days(board[label])
        if expected is None:
            assert actual is None, label
        else:
            # ROUND in a spreadsheet and Python's exact half-up agree but on a binary tie
            assert actual is not None and abs(actual - expected) <= Decimal("0.1"), (label, actual, expected)
