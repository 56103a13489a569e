"""The workbook backend (``sheet.type = "xlsx"``): an .xlsx or .xlsm file people may have shaped.

The file is treated as the zip package it is: a sync rewrites only encours's own worksheet parts
(and the styles, table ranges and workbook entries they need) and copies every other part as it
was — macros, drawings, charts, tables, people's own tabs.  A new workbook starts from a small
skeleton (headings with their help notes, the dashboard's chart) and is then filled the same way,
so that a fresh and a re-synced workbook look the same.  The file is written beside the old one,
fsynced, re-checked against a person's save, then swapped in.  What people typed is read from the
cells only when those cells changed since it was last read (:mod:`encours.sheets_addin.xlsx_people`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from encours.connectors.errors import SheetError
from encours.connectors.memory import without_cycle_collection
from encours.sheets_addin.dashboard import ChartSpec, dashboard_cells
from encours.sheets_addin.functions import DEFAULT_BOUNDS
from encours.sheets_addin.layout import (
    CUSTOMERS,
    DASHBOARD_TAB,
    INVOICES,
    JOURNAL,
    PAYMENT_PLANS,
    TODO,
    Tab,
)
from encours.sheets_addin.marks import TASK_HEADINGS, SheetMarks, marks_from_rows
from encours.sheets_addin.view import SheetView
from encours.sheets_addin.view_digest import view_digest
from encours.sheets_addin.view_texts import ViewTexts
from encours.sheets_addin.xlsx_deflate import KeptRowsError
from encours.sheets_addin.xlsx_layout import KIND_COLORS
from encours.sheets_addin.xlsx_mark import store_mark, stored_mark, sync_mark
from encours.sheets_addin.xlsx_package import (
    MACRO_WORKBOOK_TYPE,
    Package,
    Snapshot,
    WorkbookChangedError,
    replace_if_unchanged,
)
from encours.sheets_addin.xlsx_people import MARKED_TABS
from encours.sheets_addin.xlsx_people import carried as carried_marks
from encours.sheets_addin.xlsx_people import load as load_marks
from encours.sheets_addin.xlsx_people import restamp as restamp_marks
from encours.sheets_addin.xlsx_people import stamp as people_stamp
from encours.sheets_addin.xlsx_people import store as store_marks
from encours.sheets_addin.xlsx_prints import TabPrints
from encours.sheets_addin.xlsx_prints import forget as forget_prints
from encours.sheets_addin.xlsx_prints import load as load_prints
from encours.sheets_addin.xlsx_prints import store as store_prints
from encours.sheets_addin.xlsx_read import people_columns, read_tables
from encours.sheets_addin.xlsx_rows import (
    _TAB_ORDER,
    EUR_FORMAT,
    NUMBER_FORMATS,
    RowPlan,
    _aging_customers,
    _customer_updates,
    _invoice_updates,
    _journal_updates,
    _split_ref,
    as_cell_value,
    cell_format,
    column_format,
    find_columns,
    is_formula_text,
    row_values,
)
from encours.sheets_addin.xlsx_sheetxml import Sheet
from encours.sheets_addin.xlsx_splice import sync_package

__all__ = [  # the live-Excel backend shares the row helpers
    "EUR_FORMAT",
    "NUMBER_FORMATS",
    "_TAB_ORDER",
    "RowPlan",
    "WorkbookPathError",
    "XlsxWorkbook",
    "_aging_customers",
    "_customer_updates",
    "_invoice_updates",
    "_journal_updates",
    "_split_ref",
    "as_cell_value",
    "cell_format",
    "column_format",
    "find_columns",
    "is_formula_text",
    "row_values",
]

log = logging.getLogger(__name__)

BOLD = Font(bold=True)
_KEYED = {tab.name: tab for tab in (INVOICES, CUSTOMERS, JOURNAL, TODO, PAYMENT_PLANS)}


class WorkbookPathError(SheetError):
    """The workbook cannot be written where the configuration says (nothing was done)."""

    exit_code = 2


class XlsxWorkbook:
    """A workbook file as a :class:`~sheets_addin.view.SheetBackend`."""

    def __init__(self, path: str | Path, *, bounds: Sequence[int] = DEFAULT_BOUNDS) -> None:
        self.path = Path(path)
        self.bounds = tuple(bounds)
        self.notes: list[str] = []
        #: The marks this object last read, and the stamp of the parts they were read from.
        self._marks_read: tuple[str, SheetMarks] | None = None

    # reading ---------------------------------------------------------------------------------
    def read_marks(self) -> SheetMarks:
        if not self.path.exists():
            return SheetMarks()
        tabs = MARKED_TABS
        pkg = Package(self.path)
        try:
            key = people_stamp(pkg)
            kept = load_marks(self.path, key)
            if kept is not None:  # the cells they were read from are as they were: nothing to read
                self._marks_read = (key, kept)
                return kept
            found = read_tables(pkg, tabs, {INVOICES.key: people_columns(INVOICES),
                                            CUSTOMERS.key: people_columns(CUSTOMERS),
                                            TODO.key: people_columns(TODO)})
        finally:
            pkg.close()
        tables: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for tab in tabs:
            table = found[tab.key]
            tables[tab.key] = table if table is not None else self._read_with_openpyxl(tab)
        headings = {c.key: c.heading for c in INVOICES.columns + CUSTOMERS.columns + PAYMENT_PLANS.columns}
        marks = marks_from_rows(
            tables["invoices"], tables["customers"], tables["payment_plans"], headings={**headings, **TASK_HEADINGS},
            task_rows=tables["todo"],
        )
        if all(found[tab.key] is not None for tab in tabs):
            store_marks(self.path, key, marks)
            self._marks_read = (key, marks)
        return marks

    def _read_with_openpyxl(self, tab: Tab) -> list[tuple[int, dict[str, Any]]]:
        """A tab whose cells carry no references, read row by row."""
        try:
            wb = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise SheetError(f"{self.path}: the workbook cannot be read ({exc})") from None
        try:
            return list(_read_tab(wb, tab))
        finally:
            wb.close()

    # writing ---------------------------------------------------------------------------------
    def check_writable(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise WorkbookPathError(f"{self.path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise WorkbookPathError(f"{self.path}: not writable (check the permissions)")
        if self.path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise WorkbookPathError(f"{self.path}: a workbook path must end in .xlsx or .xlsm")

    @without_cycle_collection  # 100,000 rows' texts and cells all live until the part is written
    def write(self, view: SheetView) -> None:
        """Write ``view``; a person's save during the write is kept and merged into once, then it stops."""
        self.check_writable()
        for attempt in (1, 2):
            self.notes = []
            try:
                try:
                    self._write_once(view)
                except KeptRowsError as exc:  # what was kept does not fit the file: nothing kept, every row read
                    log.warning("%s — reading every row", exc)
                    forget_prints(self.path)
                    self.notes = []
                    self._write_once(view)
                break
            except WorkbookChangedError as exc:
                if attempt == 2:
                    raise
                log.warning("%s — reading it again", exc)
        for note in self.notes:
            log.warning("%s: %s", self.path.name, note)

    def _write_once(self, view: SheetView) -> None:
        tmp = self.path.with_name(f".~{self.path.stem}.{os.getpid()}{self.path.suffix}")
        skeleton = self.path.with_name(f".~{self.path.stem}.{os.getpid()}.new{self.path.suffix}")
        try:
            snapshot = Snapshot.of(self.path) if self.path.exists() else None
            if snapshot is None:
                _skeleton(view, skeleton)
            pkg = Package(skeleton if snapshot is None else self.path)
            try:
                texts = ViewTexts.of(view)  # the view's tables as text, once for its digest and the rows' prints
                digest = view_digest(view, self.bounds, texts)
                if snapshot is not None and stored_mark(pkg) == sync_mark(pkg, digest):
                    return  # what the last sync wrote, untouched since, and nothing new: not even read
                if snapshot is None and self.path.suffix.lower() == ".xlsm":
                    # a macro-enabled name needs a macro-enabled workbook, or Excel refuses to open it
                    pkg.set_content_type(pkg.workbook_part(), MACRO_WORKBOOK_TYPE)
                texts.join()  # the columns hashed: only each row's text is kept for the prints
                base = SheetMarks() if snapshot is None else self._marks_read_from(pkg)
                written: dict[str, tuple[str, dict[str, bytes], dict[str, int] | None, Sheet]] = {}
                changes = sync_package(pkg, view, self.bounds, self.notes, created=snapshot is None,
                                       kept=load_prints(self.path) if snapshot is not None else None,
                                       texts=texts, written=written)
                texts.release()
                if snapshot is not None and not pkg.changed:
                    return  # nothing changed: the file is left as it is, not even touched
                pkg.save(tmp, finish=lambda done: store_mark(done, sync_mark(done, digest)))
                after = carried_marks(base, changes) if base is not None else None
                stamp_after = people_stamp(pkg) if after is not None else ""
                sheets = pkg.sheets()
                prints = {name: TabPrints(sheets[name], pkg.crc(sheets[name]), pkg.size(sheets[name]), layout, marks,
                                          found, part.written_rows, *(pkg.segments(sheets[name]) or (None, None)))
                          for name, (layout, marks, found, part) in written.items()}
            finally:
                pkg.close()
            forget_prints(self.path)  # until the new file is in place, nothing kept describes it
            replace_if_unchanged(tmp, self.path, snapshot)
            store_prints(self.path, prints)  # the next sync renders only the rows whose values changed
            if after is not None:  # the next read knows what people typed without reading it
                kept_as = self._marks_read
                if not (kept_as is not None and after is base and kept_as[1] is base
                        and restamp_marks(self.path, kept_as[0], stamp_after)):
                    store_marks(self.path, stamp_after, after)
                self._marks_read = (stamp_after, after)
        except PermissionError:
            raise SheetError(
                f"{self.path}: cannot replace the workbook — is it open in Excel? Close it and sync again"
            ) from None
        finally:
            for leftover in (tmp, skeleton):
                if leftover.exists():
                    leftover.unlink()

    def _marks_read_from(self, pkg: Package) -> SheetMarks | None:
        """The marks read by this object, if read from the very parts ``pkg`` holds (else None)."""
        if self._marks_read is None or self._marks_read[0] != people_stamp(pkg):
            return None
        return self._marks_read[1]


def _skeleton(view: SheetView, out: Path) -> None:
    """A new workbook's frame: every tab in order, headings with their help notes, the chart."""
    wb = Workbook(write_only=True)
    for name in _TAB_ORDER:
        ws = wb.create_sheet(name)
        tab = _KEYED.get(name)
        if tab is not None:
            ws.append(_header(ws, tab))
        if name == DASHBOARD_TAB:
            _, charts = dashboard_cells({c.key: "A" for c in INVOICES.columns}, view.company)
            for chart in charts:
                ws.add_chart(_bar_chart(ws, chart), chart.anchor)
    wb.save(out)


def _header(ws: Any, tab: Tab) -> list[Any]:
    cells = []
    for column in tab.columns:
        cell = WriteOnlyCell(ws, value=column.heading)
        cell.font = BOLD
        cell.fill = PatternFill("solid", fgColor=KIND_COLORS[column.kind])
        if column.help:
            cell.comment = Comment(column.help, "encours")
        cells.append(cell)
    return cells


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


