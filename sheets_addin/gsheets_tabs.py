"""What a Google Sheets sync writes on each tab, planned from one read: no network.

:class:`TabPlanner` turns the tabs as read (:class:`~encours.sheets_addin.gsheets_plan.TabGrid`, rows
of values) and the :class:`~encours.sheets_addin.view.SheetView` into a :class:`Plan`: value writes,
formulas as ``repeatCell`` runs, formats, validations, protections and filter views.
:class:`~encours.sheets_addin.gsheets.GoogleSheet` reads, asks the planner, and sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from encours.connectors.errors import SheetError
from encours.sheets_addin import gsheets_format as fmt
from encours.sheets_addin.dashboard import aging_rows, dashboard_cells, params_cells
from encours.sheets_addin.gsheets_plan import (
    CellWrites,
    KeyedContent,
    TabGrid,
    ValueBlock,
    aging_customers,
    blocks,
    cells_grid,
    find_header,
    formula_runs,
    plan_block,
    plan_keyed,
    quote_title,
    same_formula,
)
from encours.sheets_addin.gsheets_print import (
    TabPrint,
    tab_print,
)
from encours.sheets_addin.layout import (
    AGING,
    CUSTOMERS,
    INVOICES,
    PAYMENT_PLANS,
    TODO,
    CellType,
    Tab,
    column_letter,
    normalise_heading,
)
from encours.sheets_addin.view import SheetView

#: Developer metadata on ``Paramètres``: the version of its formulas (2: the buckets' first days are formulas).
PARAMS_KEY = "encours.params"
PARAMS_VERSION = "2"
FILTERED_TABS = (INVOICES.name, CUSTOMERS.name, TODO.name)


@dataclass
class SheetInfo:
    """One tab as ``spreadsheets.get`` describes it."""

    title: str
    sheet_id: int
    index: int
    row_count: int
    column_count: int
    protected: list[dict[str, Any]] = field(default_factory=list)
    filter_views: list[dict[str, Any]] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def parse(cls, sheet: Mapping[str, Any]) -> SheetInfo:
        props = sheet["properties"]
        grid = props.get("gridProperties", {})
        return cls(props["title"], props["sheetId"], props.get("index", 0), grid.get("rowCount", 1000),
                   grid.get("columnCount", 26), list(sheet.get("protectedRanges", [])),
                   list(sheet.get("filterViews", [])), list(sheet.get("conditionalFormats", [])),
                   list(sheet.get("developerMetadata", [])))


@dataclass
class Located:
    """Where one of encours' tabs is: ``info`` None when it must be created."""

    name: str
    info: SheetInfo | None
    sheet_id: int
    renamed_from: str = ""

    @property
    def read_title(self) -> str:
        return self.info.title if self.info else self.name


@dataclass
class Plan:
    structure: list[dict[str, Any]] = field(default_factory=list)  # before everything else
    formats: list[dict[str, Any]] = field(default_factory=list)
    raw: list[tuple[str, ValueBlock]] = field(default_factory=list)
    entered: list[tuple[str, ValueBlock]] = field(default_factory=list)
    checks: list[tuple[str, list[list[Any]]]] = field(default_factory=list)  # range, rows expected now
    verify: list[tuple[str, list[str]]] = field(default_factory=list)  # ID column range, IDs expected after
    prints: dict[str, TabPrint] = field(default_factory=dict)  # keyed tabs as they will be once written
    notes: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.structure or self.formats or self.raw or self.entered)


class TabPlanner:
    """The per-tab planning of a Google Sheets write, for one set of aging bounds."""

    def __init__(self, bounds: Sequence[int]) -> None:
        self.bounds = tuple(bounds)

    def keyed_grid(self, tab: Tab, loc: Located, rows: list[list[Any]], plan: Plan) -> TabGrid:
        """The tab's header found (or laid), missing headings restored or added, as a grid."""
        info = loc.info
        row_count = info.row_count if info else 1000
        column_count = info.column_count if info else max(26, len(tab.columns))
        if not any(any(v not in (None, "") for v in r) for r in rows):
            positions = {c.key: i for i, c in enumerate(tab.columns)}
            header_writes = {(1, i): c.heading for i, c in enumerate(tab.columns)}
            plan.raw.extend((loc.name, b) for b in blocks(header_writes))
            return TabGrid(tab, loc.name, loc.sheet_id, 1, positions, [], [], row_count, column_count)
        header_row, positions = find_header(tab, rows)
        header = list(rows[header_row - 1]) if header_row <= len(rows) else []
        data = [list(r) for r in rows[header_row:]]
        has_data = any(any(v not in (None, "") for v in r) for r in data)
        if header_row != 1:
            plan.notes.append(f"{loc.name}: headings found on row {header_row}")
        known = {normalise_heading(c.heading) for c in tab.columns}
        writes: dict[tuple[int, int], Any] = {}
        for index, column in enumerate(tab.columns):
            if column.key in positions:
                continue
            if column.key == tab.id_key and has_data:
                raise SheetError(
                    f"the {column.heading!r} heading is missing, so rows cannot be matched: put it back above "
                    f"the column of IDs (encours wrote nothing)",
                    tab=loc.name, row=header_row, column=column.heading,
                )
            before = [positions[c.key] for c in tab.columns[:index] if c.key in positions]
            after = [positions[c.key] for c in tab.columns[index + 1:] if c.key in positions]
            guess = before[-1] + 1 if before else (after[0] - 1 if after else -1)
            fits = (
                guess >= 0 and guess not in positions.values()
                and (not after or after[0] == guess + 1) and (not before or before[-1] == guess - 1)
            )
            heading_there = header[guess] if 0 <= guess < len(header) else None
            if fits and heading_there not in (None, "") and normalise_heading(heading_there) not in known:
                positions[column.key] = guess
                writes[(header_row, guess)] = column.heading
                plan.notes.append(f"{loc.name}: heading {heading_there!r} in column {column_letter(guess)} "
                                  f"restored to {column.heading!r}")
                continue
            free = max([len(header), *(p + 1 for p in positions.values())])
            positions[column.key] = free
            writes[(header_row, free)] = column.heading
            if has_data:
                plan.notes.append(f"{loc.name}: column {column.heading!r} was missing: added as column "
                                  f"{column_letter(free)}")
        plan.raw.extend((loc.name, b) for b in blocks(writes))
        return TabGrid(tab, loc.name, loc.sheet_id, header_row, positions, header, data, row_count, column_count)

    def plan_keyed_tab(self, plan: Plan, grid: TabGrid, loc: Located, content: KeyedContent | None,
                    view: SheetView, salespeople: Sequence[str]) -> None:
        tab = grid.tab
        if content is None:
            result_layout, last_row = grid.ids(), grid.last_used()
            writes = CellWrites()
        else:
            result = plan_keyed(grid, content)
            plan.notes.extend(result.notes)
            writes, result_layout, last_row = result.writes, result.layout, result.last_row
        plan.prints[tab.name] = tab_print(grid.header_row, grid.positions, result_layout)
        plan.raw.extend((loc.name, b) for b in blocks(writes.raw))
        self._repeat_formulas(plan, loc, writes)
        width = max(grid.positions.values()) + 1
        row_count = self._grow(plan, loc, grid, last_row, width)
        self._format_table(plan, loc, grid, row_count, view, salespeople)
        if loc.info is not None:  # read again just before writing anything (see write)
            id_col = column_letter(grid.positions[tab.id_key])
            title = quote_title(loc.read_title)
            plan.checks.append((f"{title}!{grid.header_row}:{grid.header_row}", [grid.header]))
            plan.checks.append((f"{title}!{id_col}{grid.header_row + 1}:{id_col}",
                                [[v] for v in _id_cells(grid)]))
            first_new = grid.last_used() + 1
            if last_row >= first_new:
                plan.checks.append((f"{title}!A{first_new}:{column_letter(width - 1)}{last_row}", []))
        if writes:
            id_col = column_letter(grid.positions[tab.id_key])
            plan.verify.append((f"{quote_title(loc.name)}!{id_col}{grid.header_row + 1}:{id_col}", result_layout))

    def _repeat_formulas(self, plan: Plan, loc: Located, writes: CellWrites) -> None:
        """Formulas of consecutive rows as one ``repeatCell`` each: Google shifts the relative references."""
        for column, rows in writes.formula_rows.items():
            for first, last, formula in formula_runs(rows):
                plan.formats.append({"repeatCell": {
                    "range": fmt.grid_range(loc.sheet_id, first - 1, last, column, column + 1),
                    "cell": {"userEnteredValue": {"formulaValue": formula}},
                    "fields": "userEnteredValue",
                }})

    def _grow(self, plan: Plan, loc: Located, grid: TabGrid, last_row: int, width: int) -> int:
        """Make room for the rows and columns about to be written; returns the new row count."""
        rows, columns = grid.row_count, grid.column_count
        props: dict[str, int] = {}
        if last_row > rows:
            rows = last_row + max(100, last_row // 10)
            props["rowCount"] = rows
        if width > columns:
            columns = width
            props["columnCount"] = columns
        if props:
            plan.structure.append({"updateSheetProperties": {
                "properties": {"sheetId": loc.sheet_id, "gridProperties": props},
                "fields": ",".join(f"gridProperties.{k}" for k in props),
            }})
        return rows

    def _format_table(self, plan: Plan, loc: Located, grid: TabGrid, row_count: int, view: SheetView,
                      salespeople: Sequence[str]) -> None:
        tab = grid.tab
        filtered = loc.name in FILTERED_TABS
        sig = fmt.signature(positions=grid.positions, header=grid.header_row, rows=row_count,
                            scenarios=view.scenario_names if tab in (INVOICES, CUSTOMERS) else (),
                            salespeople=list(salespeople) if filtered else [], tab=tab.key)
        info = loc.info
        if info is not None and fmt.metadata_value(info.metadata, fmt.FORMAT_KEY) == sig:
            return
        requests_ = fmt.table_format(tab, loc.sheet_id, grid.header_row, grid.positions,
                                     scenario_names=view.scenario_names, new_tab=info is None)
        existing = info if info is not None else SheetInfo(loc.name, loc.sheet_id, 0, row_count, 0)
        if tab is INVOICES:
            requests_ += fmt.bucket_colours(loc.sheet_id, grid.header_row, grid.positions["bucket"],
                                            existing.conditional)
        if tab in (INVOICES, CUSTOMERS):
            requests_ += fmt.protections(tab, loc.sheet_id, grid.header_row, grid.positions, existing.protected)
        if filtered:
            width = max(grid.positions.values()) + 1
            requests_ += fmt.filter_views(loc.name, loc.sheet_id, grid.header_row, grid.positions.get("salesperson"),
                                          width, salespeople, existing.filter_views)
        requests_.append(fmt.metadata_request(loc.sheet_id, fmt.FORMAT_KEY, sig, existing.metadata))
        plan.formats.extend(requests_)

    def _plan_owned(self, plan: Plan, loc: Located, existing: list[list[Any]], wanted: list[list[Any]],
                    columns: int, formula_cells: set[tuple[int, int]],
                    repeated_cells: set[tuple[int, int]] | None = None) -> CellWrites:
        writes = plan_block(existing, wanted, columns=columns, formula_cells=formula_cells,
                            repeated_cells=repeated_cells)
        plan.raw.extend((loc.name, b) for b in blocks(writes.raw))
        plan.entered.extend((loc.name, b) for b in blocks(writes.entered))
        self._repeat_formulas(plan, loc, writes)
        last = max([len(wanted), *(r for r, _ in writes.raw), *(r for r, _ in writes.entered)])
        if last > (loc.info.row_count if loc.info else 1000):
            plan.structure.append({"updateSheetProperties": {
                "properties": {"sheetId": loc.sheet_id, "gridProperties": {"rowCount": last + 100}},
                "fields": "gridProperties.rowCount"}})
        return writes

    def plan_aging(self, plan: Plan, loc: Located, existing: list[list[Any]], view: SheetView,
                    inv_letters: Mapping[str, str]) -> None:
        rows = aging_rows(aging_customers(view), inv_letters)
        columns = len(AGING.columns)
        # the header and the total row are entered as formulas; the customer rows come from one
        # template per column (only the row changes), so they go as repeatCell runs
        formula_cells = {(r, c) for r in (0, len(rows) - 1) for c in range(2, columns)}
        repeated = {(r, c) for r in range(1, len(rows) - 1) for c in range(2, columns)}
        self._plan_owned(plan, loc, existing, rows, columns, formula_cells, repeated)
        if loc.info is None or fmt.metadata_value(loc.info.metadata, fmt.FORMAT_KEY) is None:
            positions = {c.key: i for i, c in enumerate(AGING.columns)}
            plan.formats.extend(fmt.table_format(AGING, loc.sheet_id, 1, positions, scenario_names=(),
                                                 new_tab=loc.info is None))
            plan.formats.append(fmt.metadata_request(loc.sheet_id, fmt.FORMAT_KEY, "1",
                                                     loc.info.metadata if loc.info else []))

    def plan_dashboard(self, plan: Plan, loc: Located, existing: list[list[Any]], view: SheetView,
                        inv_letters: Mapping[str, str]) -> None:
        cells, charts = dashboard_cells(inv_letters, view.company, opening=view.opening_receivables)
        grid, types, formula_cells = cells_grid(cells, formulas_in=None)
        self._plan_owned(plan, loc, existing[:len(grid)], grid, max(len(r) for r in grid), formula_cells)
        if loc.info is None or fmt.metadata_value(loc.info.metadata, fmt.FORMAT_KEY) is None:
            plan.formats.extend(fmt.column_chart(loc.sheet_id, c.title, c.categories, c.values, c.anchor)
                                for c in charts)
        self._format_once(plan, loc, types, percent=True)

    def plan_params(self, plan: Plan, loc: Located, existing: list[list[Any]]) -> None:
        grid, types, formula_cells = cells_grid(params_cells(None, self.bounds), formulas_in=None)
        as_of_set = len(existing) > 1 and len(existing[1]) > 1 and existing[1][1] not in (None, "")
        if as_of_set:
            # people may have typed a date or their own bounds: the tab is theirs now, except the
            # buckets' first days that syncs before PARAMS_VERSION wrote as text: entered once more
            if loc.info is not None and fmt.metadata_value(loc.info.metadata, PARAMS_KEY) != PARAMS_VERSION:
                repair = {(r + 1, c): grid[r][c] for r, c in formula_cells
                          if r < len(existing) and c < len(existing[r]) and same_formula(grid[r][c], existing[r][c])}
                plan.entered.extend((loc.name, b) for b in blocks(repair))
                plan.formats.append(fmt.metadata_request(loc.sheet_id, PARAMS_KEY, PARAMS_VERSION, loc.info.metadata))
            return
        self._plan_owned(plan, loc, existing[:len(grid)], grid, max(len(r) for r in grid), formula_cells)
        self._format_once(plan, loc, types, percent=False)
        plan.formats.append(fmt.metadata_request(loc.sheet_id, PARAMS_KEY, PARAMS_VERSION,
                                                 loc.info.metadata if loc.info else []))

    def plan_payment_plans(self, plan: Plan, loc: Located, existing: list[list[Any]], view: SheetView) -> None:
        if existing and any(v not in (None, "") for v in existing[0]):
            return
        header = {(1, i): c.heading for i, c in enumerate(PAYMENT_PLANS.columns)}
        plan.raw.extend((loc.name, b) for b in blocks(header))
        positions = {c.key: i for i, c in enumerate(PAYMENT_PLANS.columns)}
        plan.formats.extend(fmt.table_format(PAYMENT_PLANS, loc.sheet_id, 1, positions,
                                             scenario_names=view.scenario_names, new_tab=loc.info is None))

    def _format_once(self, plan: Plan, loc: Located, types: Mapping[tuple[int, int], CellType], *,
                     percent: bool) -> None:
        if loc.info is not None and fmt.metadata_value(loc.info.metadata, fmt.FORMAT_KEY) is not None:
            return
        plan.formats.extend(fmt.plain_formats(loc.sheet_id, {k: v for k, v in types.items()
                                                             if not (percent and v is CellType.NUMBER)}))
        if percent:
            for (row, column), kind in types.items():
                if kind is CellType.NUMBER:
                    plan.formats.append({"repeatCell": {
                        "range": fmt.grid_range(loc.sheet_id, row, row + 1, column, column + 1),
                        "cell": {"userEnteredFormat": {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}}},
                        "fields": "userEnteredFormat.numberFormat"}})
        plan.formats.append(fmt.metadata_request(loc.sheet_id, fmt.FORMAT_KEY, "1",
                                                 loc.info.metadata if loc.info else []))

    # -- encours check ------------------------------------------------------------------------


def _id_cells(grid: TabGrid) -> list[Any]:
    column = grid.positions[grid.tab.id_key]
    return [grid.cell(i, column) for i in range(len(grid.rows))]
