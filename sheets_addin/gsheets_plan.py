"""What a Google Sheets sync writes, computed from one read of the sheet: pure, no network.

The sheet is read once (values with ``valueRenderOption=FORMULA``: formulas as text, every other
cell as its unformatted value, dates as serial numbers).  From that read and the
:class:`~sheets_addin.view.SheetView`, this module decides which cells change:

- rows are matched by ID; synced and run cells are written only where they differ;
- user cells and people's own rows (no ID) and columns (unknown headings) are never written;
- new rows go after the last used row; a row whose ID the ledger does not know gets "Supprimée";
- formula cells are written only where missing or wrong, as runs of rows for ``repeatCell``
  (Google shifts the relative references row by row, so 100,000 formulas cost one small request);
- value writes are merged into rectangles and split into requests of at most ``max_bytes``
  (:mod:`.gsheets_writes`); values are compared as Google hands them back (:mod:`.gsheets_values`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from encours.sheets_addin.gsheets_values import (
    CUT_MARK,
    EPOCH,
    MAX_CELL_CHARS,
    cut_text,
    formula_form,
    is_cut,
    same_formula,
    same_value,
    to_wire,
)
from encours.sheets_addin.gsheets_writes import (
    CellWrites,
    ValueBlock,
    blocks,
    chunk_requests,
    formula_runs,
    quote_title,
)
from encours.sheets_addin.layout import (
    CUSTOMERS,
    INVOICES,
    JOURNAL,
    TODO,
    CellType,
    HeadingError,
    Kind,
    Tab,
    column_letter,
    match_headings,
    normalise_heading,
    render_formula,
)
from encours.sheets_addin.marks import parse_text
from encours.sheets_addin.merge import DELETED, FoundRow, plan_table, restore_columns, restore_key, wanted_keys
from encours.sheets_addin.rows import JournalRow
from encours.sheets_addin.view import Row, SheetView, aging_customers

#: Values and writes live in their own modules; still importable from here.
__all__ = [
    "CUT_MARK", "EPOCH", "HEADER_SEARCH_ROWS", "MAX_CELL_CHARS", "CellWrites", "KeyedContent", "KeyedResult",
    "TabGrid", "ValueBlock", "aging_customers", "blocks", "cells_grid", "chunk_requests", "customer_content",
    "cut_text", "find_header", "formula_form", "formula_runs", "invoice_content", "is_cut", "journal_content",
    "plan_block", "plan_keyed", "quote_title", "salespeople_of", "same_formula", "same_value", "to_wire",
]

#: How many rows at the top of a tab are searched for its header row.
HEADER_SEARCH_ROWS = 10


# -- a tab as read -----------------------------------------------------------------------------
@dataclass
class TabGrid:
    """One tab as read: where its header is, where each column is, and its rows below the header."""

    tab: Tab
    title: str
    sheet_id: int
    header_row: int  # 1-based sheet row of the headings
    positions: dict[str, int]  # layout key → 0-based column
    header: list[Any]
    rows: list[list[Any]]  # rows[i] is sheet row header_row + 1 + i
    row_count: int
    column_count: int

    def row_number(self, index: int) -> int:
        return self.header_row + 1 + index

    def cell(self, index: int, column: int) -> Any:
        if index < len(self.rows):
            row = self.rows[index]
            if column < len(row):
                return row[column]
        return None

    def letters(self) -> dict[str, str]:
        return {key: column_letter(index) for key, index in self.positions.items()}

    def last_used(self) -> int:
        """Sheet row number of the last row holding anything (the header row if none)."""
        for index in range(len(self.rows) - 1, -1, -1):
            if any(v not in (None, "") for v in self.rows[index]):
                return self.row_number(index)
        return self.header_row

    def ids(self) -> list[str]:
        """The ID of every row below the header ("" for people's rows)."""
        column = self.positions.get(self.tab.id_key)
        if column is None:
            return []
        return [parse_text(self.cell(i, column)) for i in range(len(self.rows))]


def find_header(tab: Tab, values: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int]]:
    """The header row (1-based) and the column of each heading found (first occurrence wins).

    The header is the row among the first few that holds the most of the tab's headings (the ID
    heading counting double): people sometimes insert a title row above it.
    """
    wanted = tab.by_heading()
    best_row, best_score, best_positions = 1, 0, {}
    for index, row in enumerate(values[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        for column, value in enumerate(row):
            found = wanted.get(normalise_heading(value))
            if found is not None and found.key not in positions:
                positions[found.key] = column
        score = len(positions) + (1 if tab.id_key and tab.id_key in positions else 0)
        if score > best_score:
            best_row, best_score, best_positions = index + 1, score, positions
    if best_score:  # people's columns under a changed heading: recognised; the others read_marks reports
        with contextlib.suppress(HeadingError):
            best_positions = match_headings(tab, values[best_row - 1])
    return best_row, best_positions


# -- keyed tabs (Factures, Clients, Relances) -------------------------------------------------
@dataclass(frozen=True)
class KeyedContent:
    """What a keyed tab should show: ``rows`` by ID (layout keys → values), ``append`` the IDs that
    must have a row (in order), ``keys`` the columns encours writes, ``unknown`` the values for rows
    whose ID is not in ``rows`` (None: leave them alone)."""

    rows: Mapping[str, Mapping[str, Any]]
    append: Sequence[str]
    keys: Sequence[str]
    unknown: Mapping[str, Any] | None = None
    extra_refs: Mapping[str, str] = field(default_factory=dict)


@dataclass
class KeyedResult:
    writes: CellWrites
    layout: list[str]  # the ID of every row below the header once written ("" for other rows)
    last_row: int  # the last sheet row used once written
    notes: list[str]


def plan_keyed(grid: TabGrid, content: KeyedContent) -> KeyedResult:
    tab = grid.tab
    id_col = grid.positions[tab.id_key]
    writes = CellWrites()
    notes: list[str] = []
    ids = grid.ids()
    columns = restore_columns(tab, grid.positions)
    found = []
    for index, key in enumerate(ids):
        restore = () if key else restore_key([grid.cell(index, c) for c in columns])
        if key or restore:
            found.append(FoundRow(grid.row_number(index), key, restore))
    merge = plan_table(tab, grid.title, found, wanted_keys(content.rows, tab, grid.positions), content.append,
                       grid.last_used())
    notes.extend(merge.notes)
    for number, key in merge.restored.items():
        writes.raw[(number, id_col)] = key
        ids[number - grid.header_row - 1] = key

    letters = grid.letters()
    formulas = [(grid.positions[c.key], c.formula) for c in tab.columns
                if c.kind is Kind.FORMULA and c.formula and c.key in grid.positions]
    write_cols = [(key, grid.positions[key]) for key in content.keys if key in grid.positions and key != tab.id_key]

    def fill(index: int, values: Mapping[str, Any], only_known: bool, fresh: bool) -> None:
        number = grid.row_number(index)
        for key, column in write_cols:
            if only_known and key not in values:
                continue
            wanted = to_wire(values.get(key))
            if fresh and wanted == "":
                continue
            if fresh or not same_value(wanted, grid.cell(index, column)):
                writes.raw[(number, column)] = wanted
        for column, template in formulas:
            wanted_formula = render_formula(template, letters, number, content.extra_refs)
            if fresh or not same_formula(wanted_formula, grid.cell(index, column)):
                writes.formula_rows.setdefault(column, {})[number] = wanted_formula

    for key, number in merge.matched.items():
        fill(number - grid.header_row - 1, content.rows[key], False, False)
    if content.unknown is not None:
        for _key, number in merge.unknown:
            fill(number - grid.header_row - 1, content.unknown, True, False)

    layout = list(ids)
    for key, number in merge.appended:
        index = number - grid.header_row - 1
        writes.raw[(number, id_col)] = key
        fill(index, content.rows[key], False, True)
        while len(layout) < index:
            layout.append("")
        layout.append(key)
    return KeyedResult(writes, layout, merge.last_row, notes)


# -- tabs encours owns whole (À faire, Balance âgée, Tableau de bord, Paramètres) -------------
def plan_block(
    existing: Sequence[Sequence[Any]],
    wanted: Sequence[Sequence[Any]],
    *,
    columns: int,
    formula_cells: set[tuple[int, int]] | None = None,
    repeated_cells: set[tuple[int, int]] | None = None,
) -> CellWrites:
    """Rewrite a block that encours owns: sheet rows from 1, columns 0 … columns-1.

    ``existing`` is the tab as read, ``wanted`` its new content, both from row 1.  Text at a
    ``formula_cells`` (row index, column) position is entered as a formula, anything else is a
    value.  Rows beyond ``wanted`` that still hold something in these columns are emptied;
    people's cells to the right of the block are left alone.
    """
    writes = CellWrites()
    formula_cells = formula_cells or set()
    repeated_cells = repeated_cells or set()
    for r in range(max(len(wanted), len(existing))):
        line = wanted[r] if r < len(wanted) else []
        old = existing[r] if r < len(existing) else []
        for c in range(columns):
            found = old[c] if c < len(old) else None
            value = line[c] if c < len(line) else None
            if isinstance(value, str) and value.startswith("="):
                if (r, c) in repeated_cells:
                    if not same_formula(value, found):
                        writes.formula_rows.setdefault(c, {})[r + 1] = value
                    continue
                if (r, c) in formula_cells:
                    if not same_formula(value, found):
                        writes.entered[(r + 1, c)] = value
                    continue
            wire = to_wire(value)
            if not same_value(wire, found):
                writes.raw[(r + 1, c)] = wire
    return writes


# -- from a SheetView to what each tab should show -------------------------------------------------


def salespeople_of(view: SheetView) -> list[str]:
    names = {str(r.get("salesperson") or "") for r in view.invoices if r["id"] in view.shown_invoice_ids}
    names |= {str(r.get("salesperson") or "") for r in view.customers}
    names |= {str(r.get("salesperson") or "") for r in (view.todo or ())}
    return sorted(n for n in names if n.strip())


def invoice_content(view: SheetView) -> KeyedContent:
    keys = INVOICES.keys(Kind.SYNCED)
    rows: dict[str, Row] = {str(r["id"]): r for r in view.invoices}
    if view.run is not None:
        run_keys = INVOICES.keys(Kind.RUN)
        keys = keys + run_keys
        rows = {key: {**row, **{k: view.run.get(key, {}).get(k) for k in run_keys}} for key, row in rows.items()}
    append = [str(r["id"]) for r in view.invoices if r["id"] in view.shown_invoice_ids]
    return KeyedContent(rows, append, keys, DELETED)


def customer_content(view: SheetView, refs: Mapping[str, str]) -> KeyedContent:
    rows = {str(r["id"]): r for r in view.customers}
    return KeyedContent(rows, list(rows), CUSTOMERS.keys(Kind.SYNCED), None, refs)


def journal_content(journal: Sequence[JournalRow]) -> KeyedContent:
    rows = {str(r["id"]): r for r in journal}
    return KeyedContent(rows, list(rows), JOURNAL.keys(Kind.RUN))


def todo_content(todo: Sequence[Row]) -> KeyedContent:
    """``À faire`` by task ID: only an open task's missing row is appended again."""
    rows = {str(r["id"]): r for r in todo}
    return KeyedContent(rows, [k for k, r in rows.items() if r.get("is_open", True)], TODO.keys(Kind.RUN))


def cells_grid(cells: Sequence[Any], formulas_in: int | None
                ) -> tuple[list[list[Any]], dict[tuple[int, int], CellType], set[tuple[int, int]]]:
    """dashboard.Cell list → rows from row 1, number formats by (row index, column), formula cells.

    ``formulas_in``: only that column holds formulas (help text elsewhere may start with "=").
    """
    placed: dict[tuple[int, int], Any] = {}
    types: dict[tuple[int, int], CellType] = {}
    formula_cells: set[tuple[int, int]] = set()
    for cell in cells:
        match = re.fullmatch(r"([A-Z]+)(\d+)", cell.ref)
        assert match, cell.ref
        column = 0
        for ch in match.group(1):
            column = column * 26 + ord(ch) - 64
        key = (int(match.group(2)) - 1, column - 1)
        placed[key] = cell.value
        if cell.type is not CellType.TEXT:
            types[key] = cell.type
        if isinstance(cell.value, str) and cell.value.startswith("=") and formulas_in in (None, key[1]):
            formula_cells.add(key)
    height = max(r for r, _ in placed) + 1
    width = max(c for _, c in placed) + 1
    grid = [[placed.get((r, c)) for c in range(width)] for r in range(height)]
    return grid, types, formula_cells
