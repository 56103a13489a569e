"""What encours writes in a workbook's cells, whatever writes them: formats, row values, column finding.

Shared by the workbook file backend (:mod:`encours.sheets_addin.xlsx`) and live Excel.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from encours.sheets_addin.dashboard import Cell
from encours.sheets_addin.layout import (
    AGING,
    CUSTOMERS,
    DASHBOARD_TAB,
    INVOICES,
    JOURNAL,
    PARAMS_TAB,
    PAYMENT_PLANS,
    TODO,
    CellType,
    Column,
    Kind,
    Tab,
    column_letter,
    match_headings,
    render_formula,
)
from encours.sheets_addin.merge import DELETED
from encours.sheets_addin.view import Row, SheetView, aging_customers

NUMBER_FORMATS = {
    CellType.DATE: "DD/MM/YYYY",
    CellType.DATETIME: "DD/MM/YYYY HH:MM",
    CellType.MONEY: "#,##0.00",  # in the document's currency (its Devise column says which)
    CellType.INTEGER: "0",
    CellType.NUMBER: "0.0",
}
#: Amounts known to be in euros (aging, dashboard, customer totals, "Reste dû (EUR)").
EUR_FORMAT = '#,##0.00\\ "€"'


def column_format(column: Column) -> str | None:
    """The number format of a column: euros where the amount is in euros by construction."""
    if column.type is CellType.MONEY and (column.kind is Kind.FORMULA or column.key.endswith("_eur")):
        return EUR_FORMAT
    return NUMBER_FORMATS.get(column.type)


def cell_format(spec: Cell) -> str | None:
    """The number format of a formula tab's cell (those amounts are all in euros)."""
    return EUR_FORMAT if spec.type is CellType.MONEY else NUMBER_FORMATS.get(spec.type)



# -- pure helpers shared with the live-Excel backend ---------------------------------------------
def as_cell_value(value: Any) -> Any:
    """A value as a spreadsheet stores it: dates stay dates, Decimals stay exact, None is empty."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def is_formula_text(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


class RowPlan:
    """What encours writes on the rows of one tab, prepared once for its column positions.

    ``values(row, synced, run)`` → {0-based column index: value or formula}: ``synced`` holds
    synced values (None: leave synced cells alone), ``run`` the run columns (None: leave them
    alone).  Formula cells are always written; user cells never.
    """

    ROW = "\x00row\x00"

    def __init__(self, tab: Tab, positions: Mapping[str, int], extra_refs: Mapping[str, str] | None = None) -> None:
        letters = _letters(positions)
        self.synced: list[tuple[int, str]] = []
        self.run: list[tuple[int, str]] = []
        self.formulas: list[tuple[int, str]] = []
        for column in tab.columns:
            index = positions.get(column.key)
            if index is None:
                continue
            if column.kind is Kind.SYNCED:
                self.synced.append((index, column.key))
            elif column.kind is Kind.RUN:
                self.run.append((index, column.key))
            elif column.kind is Kind.FORMULA and column.formula:
                self.formulas.append((index, render_formula(column.formula, letters, 0, {**(extra_refs or {}),
                                                                                         "row": self.ROW})))

    def values(self, row: int, synced: Row | None, run: Row | None) -> dict[int, Any]:
        out: dict[int, Any] = {}
        if synced is not None:
            # only the keys given: a partial row (an ID the ledger no longer knows) keeps the rest
            for index, key in self.synced:
                if key in synced:
                    out[index] = as_cell_value(synced[key])
        number = str(row)
        for index, template in self.formulas:
            out[index] = template.replace(self.ROW, number)
        if run is not None:
            for index, key in self.run:
                out[index] = as_cell_value(run.get(key))
        return out


def row_values(
    tab: Tab,
    positions: Mapping[str, int],
    row: int,
    synced: Row | None,
    run: Row | None,
    extra_refs: Mapping[str, str],
) -> dict[int, Any]:
    """One row's values (see :class:`RowPlan`; prefer a plan when writing many rows)."""
    return RowPlan(tab, positions, extra_refs).values(row, synced, run)


_LETTER_CACHE: dict[tuple[tuple[str, int], ...], dict[str, str]] = {}


def _letters(positions: Mapping[str, int]) -> dict[str, str]:
    """Column letters of a tab's positions (cached: the same layout is asked for on every row)."""
    key = tuple(sorted(positions.items()))
    letters = _LETTER_CACHE.get(key)
    if letters is None:
        letters = _LETTER_CACHE[key] = {k: column_letter(i) for k, i in positions.items()}
    return letters


def find_columns(tab: Tab, header: Sequence[Any]) -> tuple[dict[str, int], list[Column]]:
    """Positions (0-based) of the tab's columns in a header row, and the columns not found."""
    positions = match_headings(tab, header)
    missing = [c for c in tab.columns if c.key not in positions]
    return positions, missing



# -- what each tab gets ------------------------------------------------------------------------
_TAB_ORDER = (DASHBOARD_TAB, INVOICES.name, CUSTOMERS.name, AGING.name, TODO.name, JOURNAL.name,
              PAYMENT_PLANS.name, PARAMS_TAB)


def _invoice_rows_to_create(view: SheetView) -> Iterator[tuple[Row | None, Row | None]]:
    for row in view.invoices:
        if row["id"] in view.shown_invoice_ids:
            yield row, (view.run or {}).get(row["id"], {}) if view.run is not None else None


def _invoice_updates(view: SheetView, ids: Sequence[str] | None = None
                     ) -> tuple[dict[str, Row], frozenset[str], Mapping[str, Row] | None, Row]:
    """``ids``: each invoice row's ID, when already pulled out of the rows."""
    known = dict(zip(ids, view.invoices, strict=True)) if ids is not None else {row["id"]: row for row in view.invoices}
    return known, view.shown_invoice_ids, view.run, dict(DELETED)


def _customer_updates(view: SheetView) -> tuple[dict[str, Row], frozenset[str], None, None]:
    known = {row["id"]: row for row in view.customers}
    return known, frozenset(known), None, None


def _journal_updates(
    journal: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, Row], frozenset[str], dict[str, Row], None]:
    rows = {str(row["id"]): dict(row) for row in journal}
    return {key: {} for key in rows}, frozenset(rows), rows, None  # known: new journal rows are appended


def _todo_updates(todo: Sequence[Row]) -> tuple[dict[str, Row], frozenset[str], dict[str, Row], None]:
    """``À faire`` by task ID: every task shown is refreshed where its row is; only an open task's
    missing row is appended (a closed task's row a person deleted stays deleted)."""
    rows = {str(row["id"]): row for row in todo}
    return {key: {} for key in rows}, frozenset(k for k, r in rows.items() if r.get("is_open", True)), rows, None


_aging_customers = aging_customers  # one definition for every backend: sheets_addin.view



def _split_ref(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return col - 1, int(digits)


