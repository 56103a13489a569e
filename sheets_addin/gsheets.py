"""The Google Sheets backend (``sheet.type = "gsheets"``): the team's shared sheet, through gspread.

Finance and sales edit the sheet while encours syncs it, so a write never overwrites people's
work:

- one batched read of every tab (``values:batchGet``), then the plan (:mod:`.gsheets_plan`):
  rows matched by ID, synced/formula/run cells written only where they changed, user cells and
  people's own rows and columns never written;
- just before writing, the header rows, the ID columns and the rows about to be appended are read
  again: if people sorted, inserted or deleted rows meanwhile, the plan is recomputed rather than
  written to the wrong rows; after writing, the ID columns are checked once more;
- ledger text is written ``RAW`` (a customer named ``=HYPERLINK(...)`` stays text), formulas as
  formulas (``repeatCell`` runs, or ``USER_ENTERED`` for the small formula tabs);
- a constant number of requests whatever the number of invoices: one metadata read, one values
  read, one check read, one ``batchUpdate`` for structure/formats/formulas, value writes in
  chunks under 2 MB, one verification read.  Pacing, retries and timeouts are in
  :mod:`.gsheets_http`.

Authentication: a service-account key file (path in the env variable named by
``credentials_env``), OAuth for a person at a desk (``auth = "oauth"``, gspread's local browser
flow), an access token (``auth = "token"``, ``token_env``), or none for a local test server.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import gspread
import requests
from google.auth.credentials import Credentials

from encours.connectors.errors import SheetError
from encours.sheets_addin import gsheets_format as fmt
from encours.sheets_addin.dashboard import aging_rows, dashboard_cells, factures_refs, params_cells
from encours.sheets_addin.functions import DEFAULT_BOUNDS
from encours.sheets_addin.gsheets_auth import anonymous, credentials_from_section, spreadsheet_key
from encours.sheets_addin.gsheets_http import (
    DEFAULT_TIMEOUT,
    GOOGLE_SHEETS_BASE,
    RETRY_STATUSES,
    Clock,
    RetryPolicy,
    SheetsSession,
    retry_after_seconds,
)
from encours.sheets_addin.gsheets_plan import (
    MAX_CELL_CHARS,
    CellWrites,
    KeyedContent,
    TabGrid,
    ValueBlock,
    aging_customers,
    blocks,
    cells_grid,
    chunk_requests,
    customer_content,
    find_header,
    formula_runs,
    invoice_content,
    is_cut,
    journal_content,
    plan_block,
    plan_keyed,
    quote_title,
    salespeople_of,
    same_formula,
    same_value,
)
from encours.sheets_addin.layout import (
    AGING,
    CUSTOMERS,
    DASHBOARD_TAB,
    INVOICES,
    JOURNAL,
    PARAMS_TAB,
    PAYMENT_PLANS,
    TAB_ORDER,
    TODO,
    CellType,
    Kind,
    Tab,
    column_letter,
    normalise_heading,
)
from encours.sheets_addin.marks import MarkProblem, SheetMarks, marks_from_rows, parse_text
from encours.sheets_addin.view import SheetView

log = logging.getLogger("encours.gsheets")

METADATA_FIELDS = (
    "spreadsheetId,properties(title),"
    "sheets(properties,protectedRanges,filterViews,conditionalFormats,developerMetadata)"
)
MAX_REQUEST_BYTES = 2_000_000
#: Developer metadata on ``Paramètres``: the version of its formulas (2: the buckets' first days are formulas).
PARAMS_KEY = "encours.params"
PARAMS_VERSION = "2"
TAB_KEYS = {DASHBOARD_TAB: "dashboard", PARAMS_TAB: "params",
            **{t.name: t.key for t in (INVOICES, CUSTOMERS, AGING, JOURNAL, TODO, PAYMENT_PLANS)}}
FILTERED_TABS = (INVOICES.name, CUSTOMERS.name, TODO.name)
T = TypeVar("T")


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
    notes: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.structure or self.formats or self.raw or self.entered)


class GoogleSheet:
    """A Google Sheet as a :class:`~sheets_addin.view.SheetBackend`."""

    def __init__(
        self,
        spreadsheet_id: str,
        credentials: Credentials | None = None,
        *,
        api_base_url: str = GOOGLE_SHEETS_BASE,
        identity: str = "",
        bounds: Sequence[int] = DEFAULT_BOUNDS,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        per_minute: int = 55,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        attempts: int = 3,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rng: Any = None,
    ) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.identity = identity or ("anonymous" if credentials is None else type(credentials).__name__)
        self.bounds = tuple(bounds)
        self.max_request_bytes = max_request_bytes
        self.attempts = attempts
        self.session = SheetsSession(
            credentials or anonymous(), api_base_url=api_base_url, timeout=timeout,
            per_minute=per_minute, retry=retry, clock=clock, rng=rng,
        )
        self.client = gspread.Client(None, session=self.session)  # type: ignore[arg-type]
        self.http = self.client.http_client
        self.notes: list[str] = []

    @classmethod
    def from_config(cls, section: Any, *, bounds: Sequence[int] = DEFAULT_BOUNDS, **options: Any) -> GoogleSheet:
        """From ``[sheet]`` (a :class:`encours.sync.config.Section`): spreadsheet_id, auth, api_base_url …"""
        spreadsheet_id = spreadsheet_key(section.text("spreadsheet_id"))
        base = section.text("api_base_url", GOOGLE_SHEETS_BASE)
        credentials, identity = credentials_from_section(section, local=base != GOOGLE_SHEETS_BASE)
        return cls(spreadsheet_id, credentials, api_base_url=base, identity=identity, bounds=bounds,
                   per_minute=section.integer("requests_per_minute", 55), **options)

    @property
    def traffic(self) -> Any:
        return self.session.traffic

    # -- talking to Google ------------------------------------------------------------------
    def _call(self, what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except gspread.exceptions.APIError as exc:
            status = exc.response.status_code
            message = str(exc.error.get("message", "")) if isinstance(exc.error, dict) else str(exc)
            raise SheetError(f"Google Sheets {what}: {status} {message}{_hint(status, self.identity)}") from None
        except requests.RequestException as exc:
            raise SheetError(f"Google Sheets {what}: {type(exc).__name__}: the server could not be reached "
                             f"or did not answer in time") from None

    def _metadata(self) -> dict[str, Any]:
        result = self._call(
            "read the spreadsheet", self.http.fetch_sheet_metadata, self.spreadsheet_id,
            params={"includeGridData": "false", "fields": METADATA_FIELDS},
        )
        return dict(result)

    def _batch_get(self, ranges: Sequence[str], render: str = "FORMULA") -> list[list[list[Any]]]:
        if not ranges:
            return []
        result = self._call(
            "read values", self.http.values_batch_get, self.spreadsheet_id, list(ranges),
            params={"valueRenderOption": render, "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"},
        )
        return [list(vr.get("values", [])) for vr in result.get("valueRanges", [])]

    # -- locating the tabs ------------------------------------------------------------------
    def _locate(self, meta: Mapping[str, Any]) -> tuple[dict[str, Located], list[str], list[dict[str, Any]]]:
        """Find each tab by title, else by encours' tag (a tab people renamed); plan the missing ones."""
        infos = [SheetInfo.parse(s) for s in meta.get("sheets", [])]
        by_title = {i.title: i for i in infos}
        for one in infos:  # Google compares titles without case: "clients" is the tab "Clients"
            by_title.setdefault(one.title.casefold(), one)
        by_tag = {fmt.metadata_value(i.metadata, fmt.TAB_KEY): i for i in infos}
        used_ids = {i.sheet_id for i in infos}
        had_ours = any(name in by_title for name in TAB_ORDER) or any(k for k in by_tag if k)
        located: dict[str, Located] = {}
        notes: list[str] = []
        structure: list[dict[str, Any]] = []
        for name in TAB_ORDER:
            key = TAB_KEYS[name]
            info = by_title.get(name) or by_title.get(name.casefold())
            if info is not None and info.title != name:
                structure.append({"updateSheetProperties": {"properties": {"sheetId": info.sheet_id, "title": name},
                                                            "fields": "title"}})
                notes.append(f"tab {info.title!r} is encours's {name!r} (Google ignores case): renamed {name!r}")
                located[name] = Located(name, info, info.sheet_id, renamed_from=info.title)
            elif info is None and key in by_tag and by_tag[key].title not in TAB_ORDER:
                info = by_tag[key]
                structure.append({"updateSheetProperties": {"properties": {"sheetId": info.sheet_id, "title": name},
                                                            "fields": "title"}})
                notes.append(f"tab {name!r} had been renamed {info.title!r}: renamed back")
                located[name] = Located(name, info, info.sheet_id, renamed_from=info.title)
            elif info is None:
                sheet_id = _new_sheet_id(name, used_ids)
                used_ids.add(sheet_id)
                tab = _TABS.get(name)
                structure.append({"addSheet": {"properties": {
                    "sheetId": sheet_id, "title": name,
                    "gridProperties": {"rowCount": 1000, "columnCount": max(26, len(tab.columns) if tab else 0)},
                }}})
                if had_ours:
                    notes.append(f"tab {name!r} was missing: recreated")
                located[name] = Located(name, None, sheet_id)
            else:
                located[name] = Located(name, info, info.sheet_id)
            current = located[name]
            if current.info is None or fmt.metadata_value(current.info.metadata, fmt.TAB_KEY) is None:
                structure.append(fmt.metadata_request(current.sheet_id, fmt.TAB_KEY, key, []))
        return located, notes, structure

    # -- reading people's marks -------------------------------------------------------------
    def read_marks(self) -> SheetMarks:
        located, _, _ = self._locate(self._metadata())
        wanted = [located[t.name] for t in (INVOICES, CUSTOMERS, PAYMENT_PLANS)]
        present = [loc for loc in wanted if loc.info is not None]
        values = dict(zip((loc.name for loc in present),
                          self._batch_get([quote_title(loc.read_title) for loc in present], "UNFORMATTED_VALUE"),
                          strict=True))
        tables: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        missing: list[MarkProblem] = []
        for tab in (INVOICES, CUSTOMERS, PAYMENT_PLANS):
            rows = values.get(tab.name, [])
            header_row, positions = find_header(tab, rows)
            has_data = any(any(v not in (None, "") for v in r) for r in rows[header_row:])
            if has_data and tab.id_key and tab.id_key not in positions:
                heading = tab.column(tab.id_key).heading
                raise SheetError(f"the {heading!r} heading is missing, so what people typed cannot be matched to "
                                 f"invoices: put it back above the column of IDs", tab=tab.name, row=header_row,
                                 column=heading)
            for column in tab.columns:
                if has_data and column.kind is Kind.USER and column.key not in positions:
                    # e.g. "Litige" renamed: say so rather than silently reading "no dispute anywhere"
                    missing.append(MarkProblem(tab.name, header_row, column.heading, "",
                                               "heading not found: this column was not read (sync restores it)"))
            records: list[tuple[int, dict[str, Any]]] = []
            seen: dict[str, int] = {}
            for offset, line in enumerate(rows[header_row:]):
                number = header_row + 1 + offset
                if not any(v not in (None, "") for v in line):
                    continue
                record = {k: line[i] if i < len(line) else None for k, i in positions.items()}
                if tab.id_key:
                    key = parse_text(record.get(tab.id_key))
                    if key and key in seen:
                        raise SheetError(
                            f"ID {key!r} appears on rows {seen[key]} and {number}: delete or fix one of them",
                            tab=tab.name, row=number, column=tab.column(tab.id_key).heading)
                    if key:
                        seen[key] = number
                records.append((number, record))
            tables[tab.key] = records
        headings = {c.key: c.heading for c in INVOICES.columns + CUSTOMERS.columns + PAYMENT_PLANS.columns}
        marks = marks_from_rows(tables["invoices"], tables["customers"], tables["payment_plans"], headings=headings)
        if missing:
            marks = replace(marks, problems=(*missing, *marks.problems))
        return marks

    # -- writing ----------------------------------------------------------------------------
    def write(self, view: SheetView) -> None:
        unanswered = 0
        for attempt in range(self.attempts):
            plan = self._plan(view)
            if plan.empty():
                self._finish(plan)
                return
            if plan.checks and not self._unchanged(plan.checks):
                log.info("the sheet changed while encours was reading it: computing again (attempt %d)", attempt + 1)
                continue
            if not self._send(plan):
                log.info("the layout update got no clear answer: reading the sheet again before retrying "
                         "(attempt %d)", attempt + 1)
                unanswered += 1
                continue
            if self._verified(plan.verify):
                self._finish(plan)
                return
            log.info("rows moved while encours was writing: checking again (attempt %d)", attempt + 1)
        if unanswered == self.attempts:
            raise SheetError(f"Google Sheets did not answer the layout update ({self.attempts} tries, each after "
                             f"reading the sheet again); people's cells were not written over — run the sync again")
        raise SheetError(
            "the sheet kept changing while encours was writing it (rows sorted, inserted or deleted); nothing "
            "people typed was lost — run the sync again"
        )

    def _finish(self, plan: Plan) -> None:
        self.notes = list(plan.notes)
        for note in self.notes:
            log.warning("Google Sheet %s: %s", self.spreadsheet_id, note)

    def _unchanged(self, checks: Sequence[tuple[str, list[list[Any]]]]) -> bool:
        got = self._batch_get([rng for rng, _ in checks])
        return all(_same_rows(expected, found) for (_, expected), found in zip(checks, got, strict=True))

    def _verified(self, verify: Sequence[tuple[str, list[str]]]) -> bool:
        got = self._batch_get([rng for rng, _ in verify])
        for (_, expected), found in zip(verify, got, strict=True):
            ids = [parse_text(r[0]) if r else "" for r in found]
            if _trim(ids) != _trim(expected):
                return False
        return True

    def _send(self, plan: Plan) -> bool:
        """Send the plan; False when a layout update's outcome is unknown (the caller reads again).

        New tabs and renames go first, then the values (headers and IDs), then formats and formulas:
        so a tab never holds encours's formulas without its headings, whatever stops half-way.
        """
        if plan.structure and not self._send_layout(plan.structure):
            return False
        for option, titled in (("RAW", plan.raw), ("USER_ENTERED", plan.entered)):
            for chunk in chunk_requests(titled, self.max_request_bytes):
                self._call("write values", self.http.values_batch_update, self.spreadsheet_id,
                           {"valueInputOption": option, "data": chunk})
        return not plan.formats or self._send_layout(plan.formats)

    def _send_layout(self, requests_: list[dict[str, Any]]) -> bool:
        """One layout ``batchUpdate``, never blindly sent twice: it adds filter views, rules and metadata, so a
        copy sent after a lost answer (a 5xx or a timeout, when Google may have applied it) would add them twice.

        A 429 is a refusal (nothing applied): waited and sent again here.  Any other unclear outcome returns
        False and the caller reads the sheet again and plans anew from what is really there.
        """
        policy = self.session.retry
        self.session.retry = replace(policy, attempts=1)  # this call's retries are decided here
        try:
            for attempt in range(policy.attempts):
                try:
                    self.http.batch_update(self.spreadsheet_id, {"requests": requests_})
                    return True
                except gspread.exceptions.APIError as exc:
                    status = exc.response.status_code
                    if status == 429 and attempt + 1 < policy.attempts:
                        retry_after = retry_after_seconds(exc.response.headers.get("Retry-After"))
                        self.session.clock.sleep(policy.delay(attempt, retry_after, self.session.rng))
                        continue
                    if status in RETRY_STATUSES and status != 429:
                        return False
                    return self._call("update the layout", _raise, exc)
                except (requests.ConnectionError, requests.Timeout):
                    return False
            return False
        finally:
            self.session.retry = policy

    # -- planning ---------------------------------------------------------------------------
    def _plan(self, view: SheetView) -> Plan:
        meta = self._metadata()
        located, notes, structure = self._locate(meta)
        present = [loc for loc in located.values() if loc.info is not None]
        read = self._batch_get([quote_title(loc.read_title) for loc in present])
        values = {loc.name: rows for loc, rows in zip(present, read, strict=True)}
        plan = Plan(structure=structure, notes=notes)
        salespeople = salespeople_of(view)

        grids: dict[str, TabGrid] = {}
        for tab in (INVOICES, CUSTOMERS, JOURNAL):
            grids[tab.name] = self._keyed_grid(tab, located[tab.name], values.get(tab.name, []), plan)
        inv_letters = grids[INVOICES.name].letters()

        self._plan_keyed(plan, grids[INVOICES.name], located[INVOICES.name], invoice_content(view), view, salespeople)
        self._plan_keyed(plan, grids[CUSTOMERS.name], located[CUSTOMERS.name],
                         customer_content(view, factures_refs(inv_letters)), view, salespeople)
        journal = None if view.journal is None else journal_content(view.journal)
        self._plan_keyed(plan, grids[JOURNAL.name], located[JOURNAL.name], journal, view, [])

        self._plan_todo(plan, located[TODO.name], values.get(TODO.name, []), view, salespeople)
        self._plan_aging(plan, located[AGING.name], values.get(AGING.name, []), view, inv_letters)
        self._plan_dashboard(plan, located[DASHBOARD_TAB], values.get(DASHBOARD_TAB, []), view, inv_letters)
        self._plan_params(plan, located[PARAMS_TAB], values.get(PARAMS_TAB, []))
        self._plan_payment_plans(plan, located[PAYMENT_PLANS.name], values.get(PAYMENT_PLANS.name, []), view)
        plan.notes.extend(_cut_notes(plan.raw))
        return plan

    def _keyed_grid(self, tab: Tab, loc: Located, rows: list[list[Any]], plan: Plan) -> TabGrid:
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

    def _plan_keyed(self, plan: Plan, grid: TabGrid, loc: Located, content: KeyedContent | None,
                    view: SheetView, salespeople: Sequence[str]) -> None:
        tab = grid.tab
        if content is None:
            result_layout, last_row = grid.ids(), grid.last_used()
            writes = CellWrites()
        else:
            result = plan_keyed(grid, content)
            plan.notes.extend(result.notes)
            writes, result_layout, last_row = result.writes, result.layout, result.last_row
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

    def _plan_todo(self, plan: Plan, loc: Located, existing: list[list[Any]], view: SheetView,
                   salespeople: Sequence[str]) -> None:
        keys = [c.key for c in TODO.columns]
        wanted: list[list[Any]] = [list(TODO.headings)]
        if view.todo is None:
            if not existing:  # a plain sync leaves today's actions as the last run wrote them
                self._plan_owned(plan, loc, [], wanted, len(keys), set())
        else:
            wanted += [[row.get(k) for k in keys] for row in view.todo]
            self._plan_owned(plan, loc, existing, wanted, len(keys), set())
        positions = {k: i for i, k in enumerate(keys)}
        grid = TabGrid(TODO, loc.name, loc.sheet_id, 1, positions, list(TODO.headings), [],
                       loc.info.row_count if loc.info else 1000, len(keys))
        self._format_table(plan, loc, grid, grid.row_count, view, salespeople)

    def _plan_aging(self, plan: Plan, loc: Located, existing: list[list[Any]], view: SheetView,
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

    def _plan_dashboard(self, plan: Plan, loc: Located, existing: list[list[Any]], view: SheetView,
                        inv_letters: Mapping[str, str]) -> None:
        cells, charts = dashboard_cells(inv_letters, view.company, opening=view.opening_receivables)
        grid, types, formula_cells = cells_grid(cells, formulas_in=None)
        self._plan_owned(plan, loc, existing[:len(grid)], grid, max(len(r) for r in grid), formula_cells)
        if loc.info is None or fmt.metadata_value(loc.info.metadata, fmt.FORMAT_KEY) is None:
            plan.formats.extend(fmt.column_chart(loc.sheet_id, c.title, c.categories, c.values, c.anchor)
                                for c in charts)
        self._format_once(plan, loc, types, percent=True)

    def _plan_params(self, plan: Plan, loc: Located, existing: list[list[Any]]) -> None:
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

    def _plan_payment_plans(self, plan: Plan, loc: Located, existing: list[list[Any]], view: SheetView) -> None:
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
    def check(self) -> list[str]:
        """Which identity is used, which spreadsheet it reaches, and whether it may edit it.

        Editing is tried for real with a write that changes nothing (the title set to itself).
        """
        meta = self._metadata()
        title = meta.get("properties", {}).get("title", "")
        lines = [f"Google Sheets: signed in as {self.identity}",
                 f"spreadsheet {self.spreadsheet_id}: {title!r}, {len(meta.get('sheets', []))} tabs"]
        try:
            self.http.batch_update(self.spreadsheet_id, {"requests": [{"updateSpreadsheetProperties": {
                "properties": {"title": title}, "fields": "title"}}]})
        except gspread.exceptions.APIError as exc:
            if exc.response.status_code == 403:
                raise SheetError(f"Google Sheets: {self.identity} can read spreadsheet {self.spreadsheet_id} but "
                                 f"cannot edit it — share it with that account as Editor") from None
            raise SheetError(f"Google Sheets: editing check failed: {exc.response.status_code}") from None
        lines.append(f"{self.identity} can edit it")
        return lines


# -- helpers ------------------------------------------------------------------------------------
_TABS: dict[str, Tab] = {t.name: t for t in (INVOICES, CUSTOMERS, AGING, JOURNAL, TODO, PAYMENT_PLANS)}


def _raise(exc: Exception) -> bool:
    raise exc


def _cut_notes(titled: Sequence[tuple[str, ValueBlock]]) -> list[str]:
    """Say where a text too long for one Google cell was cut (people may want the rest elsewhere)."""
    notes = []
    for title, block in titled:
        for i, line in enumerate(block.values):
            for j, value in enumerate(line):
                if is_cut(value):
                    notes.append(f"tab {title!r}, cell {column_letter(block.column + j)}{block.row + i}: text longer "
                                 f"than {MAX_CELL_CHARS:,} characters (Google's limit per cell): cut")
    return notes


def _hint(status: int, identity: str) -> str:
    if status == 403:
        return f" — share the spreadsheet with {identity} as Editor"
    if status == 404:
        return " — check [sheet] spreadsheet_id"
    if status == 429:
        return " — Google's quota was still exhausted after retrying; run again in a minute"
    if status in (401,):
        return " — the credentials were refused (expired or revoked?)"
    return ""


def _new_sheet_id(name: str, used: set[int]) -> int:
    candidate = zlib.crc32(name.encode("utf-8")) % 2_000_000_000 + 1
    while candidate in used:
        candidate += 1
    return candidate


def _trim(values: Sequence[Any]) -> list[Any]:
    out = list(values)
    while out and (out[-1] is None or out[-1] == "" or out[-1] == []):  # an empty row reads as []
        out.pop()
    return out


def _same_rows(expected: Sequence[Sequence[Any]], found: Sequence[Sequence[Any]]) -> bool:
    exp = _trim([_trim(r) for r in expected])
    got = _trim([_trim(r) for r in found])
    if len(exp) != len(got):
        return False
    for a, b in zip(exp, got, strict=True):
        if len(a) != len(b):
            return False
        if not all(same_value(x if x is not None else "", y) for x, y in zip(a, b, strict=True)):
            return False
    return True


def _id_cells(grid: TabGrid) -> list[Any]:
    column = grid.positions[grid.tab.id_key]
    return [grid.cell(i, column) for i in range(len(grid.rows))]
