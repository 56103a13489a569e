"""Live Excel (``sheet.type = "excel"``): the encours tabs written into an open workbook through xlwings.

The same tabs, columns and merge rules as the workbook file backend (:mod:`encours.sheets_addin.xlsx`,
whose pure helpers this module reuses): rows matched by ID, synced/formula/run cells refreshed,
user cells never written, people's own rows, columns and tabs left alone.

Excel is driven through COM (Windows) or AppleScript (macOS), where every call is slow, so a
write is planned completely first (reading each tab once) and then applied as a few block
assignments: one per run of adjacent encours columns of a tab, never cell by cell.

All or nothing, as far as a live application allows: everything that could refuse the write (a
missing ID column, a duplicated ID) is found while planning, before the first cell changes.  If
Excel itself fails half-way (closed, busy), the next sync writes the same blocks again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from encours.connectors.errors import SheetError
from encours.sheets_addin.dashboard import Cell, aging_rows, dashboard_cells, factures_refs, params_cells
from encours.sheets_addin.excel_values import (
    TEXT_FORMAT,
    excel_value,
    existing_cell,
    formula_or_value,
    found_rows,
    rows_of,
)
from encours.sheets_addin.functions import DEFAULT_BOUNDS
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
    Kind,
    Tab,
    column_letter,
    legacy_todo,
)
from encours.sheets_addin.marks import TASK_HEADINGS, SheetMarks, marks_from_rows
from encours.sheets_addin.merge import plan_table, wanted_keys
from encours.sheets_addin.view import Row, SheetView, aging_customers
from encours.sheets_addin.xlsx import (
    _TAB_ORDER,
    EUR_FORMAT,
    RowPlan,
    _customer_updates,
    _invoice_updates,
    _journal_updates,
    _split_ref,
    cell_format,
    column_format,
    find_columns,
)
from encours.sheets_addin.xlsx_rows import _todo_updates

#: Cell values live in :mod:`.excel_values`; still importable from here.
__all__ = ["TEXT_FORMAT", "ExcelWorkbook", "excel_value", "heading_width"]

log = logging.getLogger(__name__)


@dataclass
class _Block:
    """One assignment: a 2-D grid placed with its top-left cell at (row, column), 1-based."""

    sheet: str
    row: int
    column: int
    grid: list[list[Any]]


@dataclass
class _Plan:
    create: list[str] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)
    text_formats: list[tuple[str, int, int, int, int]] = field(default_factory=list)  # set before any value
    formats: list[tuple[str, int, int, int, int, str]] = field(default_factory=list)  # sheet, r1, c1, r2, c2, fmt
    widths: list[tuple[str, int, float]] = field(default_factory=list)  # sheet, 1-based column, width (characters)
    charts: list[tuple[str, str]] = field(default_factory=list)  # sheet, source range


class ExcelWorkbook:
    """An open Excel workbook (an ``xlwings.Book``) as a :class:`~sheets_addin.view.SheetBackend`."""

    def __init__(self, book: Any, *, bounds: Sequence[int] = DEFAULT_BOUNDS) -> None:
        self.book = book
        self.bounds = tuple(bounds)
        self.notes: list[str] = []

    @classmethod
    def open(cls, path: str | Path, *, bounds: Sequence[int] = DEFAULT_BOUNDS) -> ExcelWorkbook:
        """The workbook at ``path`` in Excel: the open one if it is open, else opened (Windows/macOS)."""
        try:
            import xlwings as xw

            book = xw.Book(str(path))
        except Exception as exc:  # xlwings raises platform-specific errors when Excel is absent
            raise SheetError(f"{path}: cannot open the workbook in Excel ({exc})") from None
        return cls(book, bounds=bounds)

    @classmethod
    def from_config(cls, section: Any, *, bounds: Sequence[int] = DEFAULT_BOUNDS) -> ExcelWorkbook:
        """From ``[sheet]`` (a :class:`encours.sync.config.Section`): ``path``, the workbook to open in Excel."""
        return cls.open(section.path("path", "encours.xlsm"), bounds=bounds)

    # reading -----------------------------------------------------------------------------------
    def _names(self) -> list[str]:
        return [sheet.name for sheet in self.book.sheets]

    def _grid(self, name: str) -> tuple[list[list[Any]], list[list[Any]]]:
        """A tab's used cells from A1, as values and as formulas (empty lists for a missing tab)."""
        if name not in self._names():
            return [], []
        sheet = self.book.sheets[name]
        last = sheet.used_range.last_cell
        if last.row == 1 and last.column == 1 and sheet.range((1, 1)).value is None:
            return [], []
        area = sheet.range((1, 1), (last.row, last.column))
        values = area.options(ndim=2).value
        formulas = area.formula
        if not isinstance(formulas, (list, tuple)):
            formulas = [[formulas]]
        elif formulas and not isinstance(formulas[0], (list, tuple)):
            formulas = [formulas] if last.row == 1 else [[f] for f in formulas]
        return [list(r) for r in values], [list(r) for r in formulas]

    def read_marks(self) -> SheetMarks:
        tables = {}
        for tab in (INVOICES, CUSTOMERS, PAYMENT_PLANS, TODO):
            values, _ = self._grid(tab.name)
            tables[tab.key] = list(rows_of(tab, values))
        headings = {c.key: c.heading for c in INVOICES.columns + CUSTOMERS.columns + PAYMENT_PLANS.columns}
        return marks_from_rows(tables["invoices"], tables["customers"], tables["payment_plans"],
                               headings={**headings, **TASK_HEADINGS}, task_rows=tables["todo"])

    def check_writable(self) -> None:
        """Excel refuses writes while a cell is being edited; xlwings reports it when writing."""

    # writing -----------------------------------------------------------------------------------
    def write(self, view: SheetView) -> None:
        self.notes = []
        plan = self.plan(view)
        with self._quiet():
            self._apply(plan)
        for note in self.notes:
            log.warning("Excel: %s", note)

    def plan(self, view: SheetView) -> _Plan:
        """Every block the write will assign, computed from one read of each tab."""
        plan = _Plan()
        names = self._names()
        plan.create = [name for name in _TAB_ORDER if name not in names]
        for name in plan.create:
            if name in (INVOICES.name, CUSTOMERS.name) and any(n in names for n in _TAB_ORDER):
                self.notes.append(f"tab {name!r} was missing: recreated")
        inv_positions = self._plan_table(plan, INVOICES, view, _invoice_updates(view), {})
        inv_letters = {k: column_letter(i) for k, i in inv_positions.items()}
        self._plan_table(plan, CUSTOMERS, view, _customer_updates(view), factures_refs(inv_letters))
        if view.journal is not None:
            self._plan_table(plan, JOURNAL, view, _journal_updates(view.journal), {})
        plans_values, _ = self._grid(PAYMENT_PLANS.name)
        if not plans_values:
            plan.blocks.append(_Block(PAYMENT_PLANS.name, 1, 1, [PAYMENT_PLANS.headings]))
        todo_values, _ = self._grid(TODO.name)
        legacy = bool(todo_values) and legacy_todo(todo_values[0])
        if legacy:
            plan.clear.append(TODO.name)  # the layout before task IDs: nothing of people's in it
        if view.todo is not None or legacy:
            self._plan_table(plan, TODO, view, _todo_updates(view.todo or ()), {}, fresh=legacy)
        params_values, _ = self._grid(PARAMS_TAB)
        if len(params_values) < 2 or len(params_values[1]) < 2 or params_values[1][1] in (None, ""):
            plan.clear.append(PARAMS_TAB)
            self._plan_cells(plan, PARAMS_TAB, params_cells(None, self.bounds))
        plan.clear.append(AGING.name)
        rows = aging_rows(aging_customers(view), inv_letters)
        grid = [[excel_value(v) if number > 0 and index < 2 else formula_or_value(v) for index, v in enumerate(row)]
                for number, row in enumerate(rows)]  # customer names and ids are ledger text
        plan.blocks.append(_Block(AGING.name, 1, 1, grid))
        if len(rows) > 1:
            plan.text_formats.append((AGING.name, 2, 1, len(rows), 2))
            plan.formats.append((AGING.name, 2, 3, len(rows), len(rows[0]), EUR_FORMAT))
        if AGING.name in plan.create:
            self._widths(plan, AGING.name, AGING, {c.key: i for i, c in enumerate(AGING.columns)})
        plan.clear.append(DASHBOARD_TAB)
        cells, charts = dashboard_cells(inv_letters, view.company, opening=view.opening_receivables)
        self._plan_cells(plan, DASHBOARD_TAB, cells)
        plan.charts = [(DASHBOARD_TAB, f"{c.categories}:{c.values.split(':')[-1]}") for c in charts]
        return plan

    def _plan_table(
        self,
        plan: _Plan,
        tab: Tab,
        view: SheetView,
        updates: tuple[Mapping[str, Row], frozenset[str], Mapping[str, Row] | None, Row | None],
        extra: Mapping[str, str],
        *,
        fresh: bool = False,
    ) -> dict[str, int]:
        """The blocks refreshing one keyed tab (the merge rules of XlsxWorkbook._update_table);
        ``fresh``: the tab is cleared first, laid out as new."""
        known, shown, run, unknown_row = updates
        values, formulas = ([], []) if fresh else self._grid(tab.name)
        header = list(values[0]) if values else []
        if not values:
            header = list(tab.headings)
            plan.blocks.append(_Block(tab.name, 1, 1, [header]))
        positions, missing = find_columns(tab, header)
        if tab.id_key not in positions and len(values) > 1:
            raise SheetError(
                f"the ID column is missing: restore the heading {tab.column(tab.id_key).heading!r} in row 1",
                tab=tab.name, row=1, column=tab.column(tab.id_key).heading,
            )
        next_col = len(header)
        if missing:
            plan.blocks.append(_Block(tab.name, 1, next_col + 1, [[c.heading for c in missing]]))
            for column in missing:
                positions[column.key] = next_col
                next_col += 1
                if len(values) > 1:
                    self.notes.append(f"tab {tab.name!r}: column {column.heading!r} was missing: added at the end")
        laid_out = set(missing) if values else set(tab.columns)  # columns whose heading is written now
        self._widths(plan, tab.name, Tab(tab.key, tab.name, tuple(c for c in tab.columns if c in laid_out)),
                     positions)
        id_index = positions[tab.id_key]
        last_used = len(values) if values else 1
        while last_used > 1 and all(v in (None, "") for v in values[last_used - 1]):
            last_used -= 1
        merge = plan_table(tab, tab.name, found_rows(tab, positions, values), wanted_keys(known, tab, positions),
                           [key for key in known if key in shown], last_used)
        self.notes.extend(merge.notes)
        row_plan = RowPlan(tab, positions, extra)
        written: dict[int, dict[int, Any]] = {}
        for key, number in [*merge.matched.items(), *merge.unknown]:
            synced = known.get(key, unknown_row)
            written[number] = row_plan.values(number, synced, None if run is None else run.get(key, {}))
            if number in merge.restored:
                written[number][id_index] = key
        for key, number in merge.appended:
            row_values = row_plan.values(number, known[key], None if run is None else run.get(key, {}))
            row_values[id_index] = key
            written[number] = row_values
        last_used = merge.last_row
        if last_used < 2:
            return positions
        owned = sorted(positions[c.key] for c in tab.columns if c.kind is not Kind.USER)
        formula_columns = {positions[c.key] for c in tab.columns if c.kind is Kind.FORMULA}
        for first, last in _runs(owned):
            grid = []
            for number in range(2, last_used + 1):
                mine = written.get(number, {})
                line = []
                for index in range(first, last + 1):
                    if index in mine:
                        value = mine[index]
                        line.append(value if index in formula_columns and value else excel_value(value))
                    else:
                        line.append(existing_cell(values, formulas, number, index))
                grid.append(line)
            plan.blocks.append(_Block(tab.name, 2, first + 1, grid))
        self._column_formats(plan, tab.name, tab, positions, last_used)
        return positions

    def _column_formats(self, plan: _Plan, sheet: str, tab: Tab, positions: Mapping[str, int], last_row: int) -> None:
        if last_row < 2:
            return
        for column in tab.columns:
            if column.kind is Kind.USER or column.key not in positions:
                continue
            index = positions[column.key] + 1
            if column.type in (CellType.TEXT, CellType.CHOICE) and column.kind in (Kind.SYNCED, Kind.RUN):
                plan.text_formats.append((sheet, 2, index, last_row, index))  # ledger text stays text
                continue
            fmt = column_format(column)
            if fmt:
                plan.formats.append((sheet, 2, index, last_row, index, fmt))

    def _widths(self, plan: _Plan, sheet: str, tab: Tab, positions: Mapping[str, int]) -> None:
        """Columns wide enough for their headings (bold, with the filter arrow), for a tab laid out now."""
        for column in tab.columns:
            if column.key in positions:
                plan.widths.append((sheet, positions[column.key] + 1, heading_width(column.heading, column.width)))

    def _plan_cells(self, plan: _Plan, sheet: str, cells: Sequence[Cell]) -> None:
        """A formula tab given as cells: one block over the rectangle they cover."""
        placed: dict[tuple[int, int], Cell] = {}
        for cell in cells:
            col, row = _split_ref(cell.ref)
            placed[(row, col)] = cell
        height = max(r for r, _ in placed)
        width = max(c for _, c in placed) + 1
        grid = [[None] * width for _ in range(height)]
        for (row, col), cell in placed.items():
            grid[row - 1][col] = formula_or_value(cell.value)
            fmt = cell_format(cell)
            if cell.type is CellType.NUMBER and sheet == DASHBOARD_TAB:
                fmt = "0.0%"
            if fmt:
                plan.formats.append((sheet, row, col + 1, row, col + 1, fmt))
        plan.blocks.append(_Block(sheet, 1, 1, grid))

    # applying -------------------------------------------------------------------------------------
    def _apply(self, plan: _Plan) -> None:
        sheets = self.book.sheets
        for name in plan.create:
            sheets.add(name, after=sheets[len(sheets) - 1])
        try:
            for name in plan.clear:
                sheets[name].clear_contents()
            for name, r1, c1, r2, c2 in plan.text_formats:
                sheets[name].range((r1, c1), (r2, c2)).number_format = TEXT_FORMAT
            for block in plan.blocks:
                sheets[block.sheet].range((block.row, block.column)).value = block.grid
            for name, r1, c1, r2, c2, fmt in plan.formats:
                sheets[name].range((r1, c1), (r2, c2)).number_format = fmt
            for name, column, width in plan.widths:
                sheets[name].range((1, column)).column_width = width
            for name, source in plan.charts:
                sheet = sheets[name]
                if len(sheet.charts) == 0:
                    chart = sheet.charts.add(left=260, top=30, width=380, height=220)
                    chart.set_source_data(sheet.range(source))
                    chart.chart_type = "column_clustered"
        except SheetError:
            raise
        except Exception as exc:  # COM / AppleScript errors
            raise SheetError(f"Excel refused the write ({exc}); the next sync writes the same blocks again") from None

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """No screen refresh and no recalculation while the blocks land (restored afterwards)."""
        app = getattr(self.book, "app", None)
        saved: dict[str, Any] = {}
        for attribute, value in (("screen_updating", False), ("calculation", "manual")):
            try:
                saved[attribute] = getattr(app, attribute)
                setattr(app, attribute, value)
            except Exception:  # not every platform exposes both
                continue
        try:
            yield
        finally:
            for attribute, value in saved.items():
                try:
                    setattr(app, attribute, value)
                except Exception:
                    log.debug("could not restore Excel's %s", attribute)


def heading_width(heading: str, width: float) -> float:
    """A column's width in characters: its layout width, or enough for its bold heading and filter arrow."""
    return max(width, round(len(heading) * 1.15 + 3, 1))


def _runs(indices: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Adjacent column indices grouped: [0,1,2,5,6] → (0, 2), (5, 6)."""
    start = previous = None
    for index in indices:
        if start is None:
            start = previous = index
        elif previous is not None and index == previous + 1:
            previous = index
        else:
            assert previous is not None
            yield start, previous
            start = previous = index
    if start is not None and previous is not None:
        yield start, previous


