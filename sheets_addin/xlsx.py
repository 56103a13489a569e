"""The workbook backend (``sheet.type = "xlsx"``): an .xlsx file written with openpyxl.

A new workbook is streamed in write-only mode (fast, little memory).  An existing one is opened,
changed in place and saved: rows are matched by ID, synced, formula and run cells are rewritten,
user cells are never touched, and people's own rows, columns, formats and tabs survive.  Either
way the file is written to a temporary file beside it and swapped in at the end, so a failure
leaves the workbook as it was.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from encours.connectors.errors import SheetError
from encours.sheets_addin.dashboard import Cell, ChartSpec, aging_rows, dashboard_cells, factures_refs, params_cells
from encours.sheets_addin.functions import DEFAULT_BOUNDS
from encours.sheets_addin.layout import (
    AGING,
    CUSTOMERS,
    DASHBOARD_TAB,
    INVOICES,
    JOURNAL,
    LABEL_CELLS,
    PARAMS_TAB,
    PAYMENT_PLANS,
    TODO,
    CellType,
    Column,
    Kind,
    Tab,
    column_letter,
    match_headings,
    param_ref,
    render_formula,
)
from encours.sheets_addin.marks import SheetMarks, marks_from_rows, parse_text
from encours.sheets_addin.merge import DELETED, FoundRow, plan_table, restore_columns, restore_key, wanted_keys
from encours.sheets_addin.view import Row, SheetView

log = logging.getLogger(__name__)

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


KIND_FILLS = {
    Kind.SYNCED: PatternFill("solid", fgColor="DCE6F1"),
    Kind.FORMULA: PatternFill("solid", fgColor="E2EFDA"),
    Kind.USER: PatternFill("solid", fgColor="FFF2CC"),
    Kind.RUN: PatternFill("solid", fgColor="EDE1F5"),
}
BUCKET_FILLS = ("FFF2CC", "FCE4D6", "F8CBAD", "F4B084")  # 1-30 … > 90
BOLD = Font(bold=True)
YES_NO = '"Oui,Non"'
MAX_ROW = 1048576


class WorkbookPathError(SheetError):
    """The workbook cannot be written where the configuration says (nothing was done)."""

    exit_code = 2


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


# -- the backend ---------------------------------------------------------------------------------
class XlsxWorkbook:
    """A workbook file as a :class:`~sheets_addin.view.SheetBackend`."""

    def __init__(self, path: str | Path, *, bounds: Sequence[int] = DEFAULT_BOUNDS) -> None:
        self.path = Path(path)
        self.bounds = tuple(bounds)
        self.notes: list[str] = []

    # reading ---------------------------------------------------------------------------------
    def read_marks(self) -> SheetMarks:
        if not self.path.exists():
            return SheetMarks()
        try:
            wb = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise SheetError(f"{self.path}: the workbook cannot be read ({exc})") from None
        try:
            tables = {tab.key: list(_read_tab(wb, tab)) for tab in (INVOICES, CUSTOMERS, PAYMENT_PLANS)}
        finally:
            wb.close()
        headings = {c.key: c.heading for c in INVOICES.columns + CUSTOMERS.columns + PAYMENT_PLANS.columns}
        return marks_from_rows(
            tables["invoices"], tables["customers"], tables["payment_plans"], headings=headings
        )

    # writing ---------------------------------------------------------------------------------
    def check_writable(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise WorkbookPathError(f"{self.path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise WorkbookPathError(f"{self.path}: not writable (check the permissions)")
        if self.path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise WorkbookPathError(f"{self.path}: a workbook path must end in .xlsx or .xlsm")

    def write(self, view: SheetView) -> None:
        self.check_writable()
        self.notes = []
        tmp = self.path.with_name(f".~{self.path.stem}.{os.getpid()}{self.path.suffix}")
        try:
            if self.path.exists():
                self._update(view, tmp)
            else:
                self._create(view, tmp)
            os.replace(tmp, self.path)
        except PermissionError:
            raise SheetError(
                f"{self.path}: cannot replace the workbook — is it open in Excel? Close it and sync again"
            ) from None
        finally:
            if tmp.exists():
                tmp.unlink()
        for note in self.notes:
            log.warning("%s: %s", self.path.name, note)

    # a new workbook, streamed ------------------------------------------------------------------
    def _create(self, view: SheetView, tmp: Path) -> None:
        wb = Workbook(write_only=True)
        inv_positions = {c.key: i for i, c in enumerate(INVOICES.columns)}
        inv_letters = {k: column_letter(i) for k, i in inv_positions.items()}
        customers_shown = _aging_customers(view)
        sheets = {name: wb.create_sheet(name) for name in _TAB_ORDER}
        self._stream_cells(
            sheets[DASHBOARD_TAB], *dashboard_cells(inv_letters, view.company, opening=view.opening_receivables)
        )
        self._stream_table(sheets[INVOICES.name], INVOICES, _invoice_rows_to_create(view), view)
        self._stream_table(sheets[CUSTOMERS.name], CUSTOMERS, ((r, None) for r in view.customers), view,
                           extra=factures_refs(inv_letters))
        self._stream_aging(sheets[AGING.name], customers_shown, inv_letters)
        self._stream_table(sheets[TODO.name], TODO, ((None, r) for r in (view.todo or ())), view)
        self._stream_table(sheets[JOURNAL.name], JOURNAL, ((None, r) for r in (view.journal or ())), view)
        self._stream_table(sheets[PAYMENT_PLANS.name], PAYMENT_PLANS, iter(()), view)
        self._stream_cells(sheets[PARAMS_TAB], params_cells(None, self.bounds), [])
        wb.save(tmp)

    def _stream_table(
        self,
        ws: Any,
        tab: Tab,
        rows: Iterable[tuple[Row | None, Row | None]],
        view: SheetView,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        positions = {c.key: i for i, c in enumerate(tab.columns)}
        _prepare_sheet(ws, tab, view, positions)
        header = []
        for column in tab.columns:
            cell = WriteOnlyCell(ws, value=column.heading)
            cell.font = BOLD
            cell.fill = KIND_FILLS[column.kind]
            if column.help:
                cell.comment = Comment(column.help, "encours")
            header.append(cell)
        ws.append(header)
        styles = [column_format(c) for c in tab.columns]
        formulas = [c.kind is Kind.FORMULA for c in tab.columns]
        make = _CellMaker(ws)
        plan = RowPlan(tab, positions, extra)
        width = len(tab.columns)
        count = 0
        for offset, (synced, run) in enumerate(rows):
            row = offset + 2
            line: list[Any] = [None] * width
            for index, value in plan.values(row, synced, run).items():
                if value is not None:
                    line[index] = make(value, styles[index], formula=formulas[index])
            ws.append(line)
            count += 1
        ws.auto_filter.ref = f"A1:{column_letter(len(tab.columns) - 1)}{count + 1}"

    def _stream_aging(self, ws: Any, customers: Sequence[tuple[str, str]], letters: Mapping[str, str]) -> None:
        rows = aging_rows(customers, letters)
        _aging_layout(ws)
        last = len(rows)
        make = _CellMaker(ws)
        for number, values in enumerate(rows, start=1):
            bold = number == 1 or number == last
            cells = []
            for index, value in enumerate(values):
                fmt = EUR_FORMAT if number > 1 and index >= 2 else None
                cells.append(make(value, fmt, formula=index >= 2 or number == 1, bold=bold))
            ws.append(cells)
        ws.auto_filter.ref = f"A1:{column_letter(len(rows[0]) - 1)}{max(1, last - 1)}"

    def _stream_cells(self, ws: Any, cells: Sequence[Cell], charts: Sequence[ChartSpec]) -> None:
        grid: dict[int, dict[int, Cell]] = {}
        for cell in cells:
            col, row = _split_ref(cell.ref)
            grid.setdefault(row, {})[col] = cell
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["B"].width = 16
        ws.column_dimensions["C"].width = 60 if ws.title == PARAMS_TAB else 14
        make = _CellMaker(ws)
        for row in range(1, max(grid) + 1):
            line = grid.get(row, {})
            values: list[Any] = []
            for col in range(max(line) + 1 if line else 0):
                spec = line.get(col)
                if spec is None:
                    values.append(None)
                    continue
                fmt = cell_format(spec)
                if spec.type is CellType.NUMBER and ws.title == DASHBOARD_TAB:
                    fmt = "0.0%"
                values.append(make(spec.value, fmt, bold=spec.bold))
            ws.append(values)
        for chart in charts:
            ws.add_chart(_bar_chart(ws, chart), chart.anchor)

    # an existing workbook, changed in place ----------------------------------------------------
    def _update(self, view: SheetView, tmp: Path) -> None:
        try:
            wb = load_workbook(self.path)
        except Exception as exc:
            raise SheetError(f"{self.path}: the workbook cannot be opened ({exc})") from None
        for name in _TAB_ORDER:
            if name not in wb.sheetnames:
                if name in (INVOICES.name, CUSTOMERS.name):
                    self.notes.append(f"tab {name!r} was missing: recreated")
                wb.create_sheet(name)
        inv_positions = self._update_table(wb[INVOICES.name], INVOICES, view, _invoice_updates(view), {})
        inv_letters = {k: column_letter(i) for k, i in inv_positions.items()}
        self._update_table(wb[CUSTOMERS.name], CUSTOMERS, view, _customer_updates(view),
                           factures_refs(inv_letters))
        if view.journal is not None:
            self._update_table(wb[JOURNAL.name], JOURNAL, view, _journal_updates(view.journal), {})
        if wb[PAYMENT_PLANS.name].max_row <= 1 and wb[PAYMENT_PLANS.name]["A1"].value is None:
            _write_header(wb[PAYMENT_PLANS.name], PAYMENT_PLANS, view)
        if view.todo is not None:
            ws = _rebuild(wb, TODO.name)
            _write_header(ws, TODO, view)
            positions = {c.key: i for i, c in enumerate(TODO.columns)}
            plan = RowPlan(TODO, positions)
            for offset, todo in enumerate(view.todo):
                _assign(ws, offset + 2, plan.values(offset + 2, None, todo), TODO, positions)
        if wb[PARAMS_TAB]["B2"].value is None:
            _write_cells(wb[PARAMS_TAB], params_cells(None, self.bounds))
        ws = _rebuild(wb, AGING.name)
        rows = aging_rows(_aging_customers(view), inv_letters)
        for number, values in enumerate(rows, start=1):
            for index, value in enumerate(values):
                cell = ws.cell(row=number, column=index + 1)
                cell.value = value  # type: ignore[assignment]
                if isinstance(value, str) and index < 2 and number > 1:
                    cell.data_type = "s"
                if number > 1 and index >= 2:
                    cell.number_format = EUR_FORMAT
                if number in (1, len(rows)):
                    cell.font = BOLD
        _aging_layout(ws)
        ws = _rebuild(wb, DASHBOARD_TAB)
        cells, charts = dashboard_cells(inv_letters, view.company, opening=view.opening_receivables)
        _write_cells(ws, cells)
        for chart in charts:
            ws.add_chart(_bar_chart(ws, chart), chart.anchor)
        _order_tabs(wb)
        wb.save(tmp)

    def _update_table(
        self,
        ws: Worksheet,
        tab: Tab,
        view: SheetView,
        updates: tuple[Mapping[str, Row], frozenset[str], Mapping[str, Row] | None, Row | None],
        extra: Mapping[str, str],
    ) -> dict[str, int]:
        """Refresh one keyed tab in place; returns the 0-based positions of its columns."""
        known, shown, run, unknown_row = updates
        if ws.max_row == 1 and ws.max_column == 1 and ws["A1"].value is None:
            _write_header(ws, tab, view)
        header = [c.value for c in ws[1]]
        positions, missing = find_columns(tab, header)
        if tab.id_key not in positions and ws.max_row > 1:
            raise SheetError(
                f"the ID column is missing: restore the heading {tab.column(tab.id_key).heading!r} in row 1",
                tab=tab.name, row=1, column=tab.column(tab.id_key).heading,
            )
        next_col = len(header)
        for column in missing:
            cell = ws.cell(row=1, column=next_col + 1, value=column.heading)
            cell.font = BOLD
            cell.fill = KIND_FILLS[column.kind]
            positions[column.key] = next_col
            next_col += 1
            if ws.max_row > 1:
                self.notes.append(f"tab {tab.name!r}: column {column.heading!r} was missing: added at the end")
        last_used = max(ws.max_row, 1)
        while last_used > 1 and all(c.value in (None, "") for c in ws[last_used]):
            last_used -= 1
        merge = plan_table(tab, tab.name, _found_rows(ws, tab, positions), wanted_keys(known, tab, positions),
                           [key for key in known if key in shown], last_used)
        self.notes.extend(merge.notes)
        plan = RowPlan(tab, positions, extra)
        for key, number in [*merge.matched.items(), *merge.unknown]:
            synced = known.get(key, unknown_row)
            values = plan.values(number, synced, None if run is None else run.get(key, {}))
            if number in merge.restored:
                values[positions[tab.id_key]] = key
            _assign(ws, number, values, tab, positions)
        for key, number in merge.appended:
            values = plan.values(number, known[key], None if run is None else run.get(key, {}))
            values[positions[tab.id_key]] = key
            _assign(ws, number, values, tab, positions)
        last_used = merge.last_row
        ws.auto_filter.ref = f"A1:{column_letter(max(positions.values()))}{last_used}"
        return positions


# -- what each tab gets ------------------------------------------------------------------------
_TAB_ORDER = (DASHBOARD_TAB, INVOICES.name, CUSTOMERS.name, AGING.name, TODO.name, JOURNAL.name,
              PAYMENT_PLANS.name, PARAMS_TAB)


def _invoice_rows_to_create(view: SheetView) -> Iterator[tuple[Row | None, Row | None]]:
    for row in view.invoices:
        if row["id"] in view.shown_invoice_ids:
            yield row, (view.run or {}).get(row["id"], {}) if view.run is not None else None


def _invoice_updates(view: SheetView) -> tuple[dict[str, Row], frozenset[str], Mapping[str, Row] | None, Row]:
    known = {row["id"]: row for row in view.invoices}
    return known, view.shown_invoice_ids, view.run, dict(DELETED)


def _customer_updates(view: SheetView) -> tuple[dict[str, Row], frozenset[str], None, None]:
    known = {row["id"]: row for row in view.customers}
    return known, frozenset(known), None, None


def _journal_updates(journal: Sequence[Row]) -> tuple[dict[str, Row], frozenset[str], dict[str, Row], None]:
    rows = {str(row["id"]): row for row in journal}
    return {key: {} for key in rows}, frozenset(rows), rows, None  # known: new journal rows are appended


def _aging_customers(view: SheetView) -> list[tuple[str, str]]:
    """Customers with something open on the sheet, by name: the rows of ``Balance âgée``."""
    with_open = {
        row["customer_id"]
        for row in view.invoices
        if row["id"] in view.shown_invoice_ids and row.get("remaining")
    }
    names = {row["id"]: row["name"] for row in view.customers}
    return sorted(((cid, names.get(cid, cid)) for cid in with_open), key=lambda c: (c[1].casefold(), c[0]))


# -- openpyxl plumbing -------------------------------------------------------------------------
def _found_rows(ws: Worksheet, tab: Tab, positions: Mapping[str, int]) -> list[FoundRow]:
    """The ID cell and restore key of every row below the header (one pass over those columns)."""
    id_col = positions[tab.id_key]
    wanted = [id_col, *restore_columns(tab, positions)]
    first, last = min(wanted), max(wanted)
    found = []
    for number, values in enumerate(ws.iter_rows(min_row=2, min_col=first + 1, max_col=last + 1, values_only=True),
                                    start=2):
        key = parse_text(values[id_col - first])
        restore = () if key else restore_key([values[c - first] for c in wanted[1:]])
        if key or restore:
            found.append(FoundRow(number, key, restore))
    return found


def _read_tab(wb: Any, tab: Tab) -> Iterator[tuple[int, dict[str, Any]]]:
    if tab.name not in wb.sheetnames:
        return
    ws = wb[tab.name]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    positions, _ = find_columns(tab, header)
    for number, values in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in values):
            continue
        yield number, {key: values[index] if index < len(values) else None for key, index in positions.items()}


class _CellMaker:
    """Values for one streamed sheet: plain values as they are (the fast path), a cell object only
    for a number format, bold text, or to force text.  Styles are built once per format and copied.
    """

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._styles: dict[tuple[str | None, bool], Any] = {}

    def __call__(self, value: Any, number_format: str | None = None, *, formula: bool = True,
                 bold: bool = False) -> Any:
        value = as_cell_value(value)
        needs_text = not formula and isinstance(value, str) and value.startswith("=")
        styled = bold or (number_format is not None and not isinstance(value, str))
        if value is None or not (needs_text or styled):
            return value
        cell = WriteOnlyCell(self.ws, value=value)
        if needs_text:
            cell.data_type = "s"  # ledger text is text, never a formula
        if styled:
            key = (number_format if not isinstance(value, str) else None, bold)
            template = self._styles.get(key)
            if template is None:
                if key[0]:
                    cell.number_format = key[0]
                if bold:
                    cell.font = BOLD
                self._styles[key] = copy(cell._style)  # type: ignore[attr-defined]
            else:
                cell._style = copy(template)  # type: ignore[attr-defined]
        return cell


def _assign(ws: Worksheet, row: int, values: Mapping[int, Any], tab: Tab, positions: Mapping[str, int]) -> None:
    by_index = {index: tab.column(key) for key, index in positions.items()}
    for index, value in values.items():
        column = by_index[index]
        cell = ws.cell(row=row, column=index + 1)
        cell.value = value
        if isinstance(value, str) and column.kind is not Kind.FORMULA:
            cell.data_type = "s"  # ledger text is text, never a formula
        fmt = column_format(column)
        if fmt and value is not None and cell.number_format != fmt:
            cell.number_format = fmt


def _write_header(ws: Worksheet, tab: Tab, view: SheetView) -> None:
    for index, column in enumerate(tab.columns):
        cell = ws.cell(row=1, column=index + 1, value=column.heading)
        cell.font = BOLD
        cell.fill = KIND_FILLS[column.kind]
    _prepare_sheet(ws, tab, view, {c.key: i for i, c in enumerate(tab.columns)})


def _prepare_sheet(ws: Any, tab: Tab, view: SheetView, positions: Mapping[str, int]) -> None:
    """Frozen header, widths, drop-downs on user columns, aging colours (before any row)."""
    ws.freeze_panes = "A2"
    for column in tab.columns:
        ws.column_dimensions[column_letter(positions[column.key])].width = column.width
    for column in tab.columns:
        if column.kind is not Kind.USER:
            continue
        letter = column_letter(positions[column.key])
        area = f"{letter}2:{letter}{MAX_ROW}"
        validation: DataValidation | None = None
        if column.type is CellType.BOOL:
            validation = DataValidation(type="list", formula1=YES_NO, allow_blank=True)
            validation.error = "Choisissez Oui ou Non."
        elif column.type is CellType.CHOICE and column.key == "scenario":
            names = ",".join(view.scenario_names)
            validation = DataValidation(type="list", formula1=f'"{names}"', allow_blank=True)
            validation.error = "Choisissez un scénario de la liste."
        elif column.type is CellType.DATE:
            validation = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
            validation.error = "Tapez une date, par exemple 23/11/2026."
        if validation is not None:
            validation.showErrorMessage = True
            validation.errorTitle = column.heading
            validation.add(area)
            ws.data_validations.append(validation)
    if tab is INVOICES:
        letter = column_letter(positions["bucket"])
        for index, color in enumerate(BUCKET_FILLS):
            rule = FormulaRule(  # type: ignore[no-untyped-call]
                formula=[f"${letter}2={param_ref(LABEL_CELLS[index + 1])}"], fill=PatternFill("solid", fgColor=color)
            )
            ws.conditional_formatting.add(f"{letter}2:{letter}{MAX_ROW}", rule)


def _write_cells(ws: Worksheet, cells: Sequence[Cell]) -> None:
    for spec in cells:
        cell = ws[spec.ref]
        cell.value = as_cell_value(spec.value)
        fmt = cell_format(spec)
        if spec.type is CellType.NUMBER and ws.title == DASHBOARD_TAB:
            fmt = "0.0%"
        if fmt:
            cell.number_format = fmt
        if spec.bold:
            cell.font = BOLD
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 16


def _aging_layout(ws: Any) -> None:
    """Frozen names, readable widths for ``Balance âgée`` (set before rows when streaming)."""
    ws.freeze_panes = "C2"
    for column in AGING.columns:
        ws.column_dimensions[column_letter(AGING.columns.index(column))].width = column.width


def _rebuild(wb: Any, name: str) -> Worksheet:
    """Replace a tab that encours owns entirely (formulas only) by an empty one at the same place."""
    index = wb.sheetnames.index(name)
    wb.remove(wb[name])
    ws: Worksheet = wb.create_sheet(name, index)
    return ws


def _order_tabs(wb: Any) -> None:
    """encours' tabs first in their order, people's own tabs after them."""
    ours = [wb[name] for name in _TAB_ORDER if name in wb.sheetnames]
    theirs = [ws for ws in wb._sheets if ws.title not in _TAB_ORDER]
    wb._sheets = ours + theirs


def _split_ref(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return col - 1, int(digits)


def _bar_chart(ws: Any, spec: ChartSpec) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.title = spec.title
    chart.legend = None
    chart.y_axis.title = "EUR"
    chart.y_axis.numFmt = "#,##0"
    chart.height, chart.width = 7.5, 15
    cat_col, cat_first = _split_ref(spec.categories.split(":")[0])
    _, cat_last = _split_ref(spec.categories.split(":")[1])
    val_col, val_first = _split_ref(spec.values.split(":")[0])
    _, val_last = _split_ref(spec.values.split(":")[1])
    chart.add_data(Reference(ws, min_col=val_col + 1, min_row=val_first, max_row=val_last), titles_from_data=False)
    chart.set_categories(Reference(ws, min_col=cat_col + 1, min_row=cat_first, max_row=cat_last))
    return chart


