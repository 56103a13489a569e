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
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import gspread
import requests
from google.auth.credentials import Credentials

from encours.connectors.errors import SheetError
from encours.connectors.http.pacing import parse_retry_after
from encours.sheets_addin import gsheets_format as fmt
from encours.sheets_addin.dashboard import factures_refs
from encours.sheets_addin.functions import DEFAULT_BOUNDS
from encours.sheets_addin.gsheets_auth import anonymous, credentials_from_section, spreadsheet_key
from encours.sheets_addin.gsheets_http import (
    DEFAULT_TIMEOUT,
    GOOGLE_SHEETS_BASE,
    RETRY_STATUSES,
    Clock,
    RetryPolicy,
    SheetsSession,
)
from encours.sheets_addin.gsheets_plan import (
    MAX_CELL_CHARS,
    TabGrid,
    ValueBlock,
    blocks,
    chunk_requests,
    customer_content,
    find_header,
    invoice_content,
    is_cut,
    journal_content,
    quote_title,
    salespeople_of,
    same_value,
    todo_content,
)
from encours.sheets_addin.gsheets_print import (
    PRINT_KEY,
    SheetPrint,
    column_digest,
    light_ranges,
    merged_view,
    same_view,
    view_digest,
)
from encours.sheets_addin.gsheets_tabs import (
    PARAMS_KEY,
    PARAMS_VERSION,
    Located,
    Plan,
    SheetInfo,
    TabPlanner,
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
    Kind,
    Tab,
    column_letter,
    legacy_todo,
)
from encours.sheets_addin.marks import TASK_HEADINGS, MarkProblem, SheetMarks, marks_from_rows, parse_text
from encours.sheets_addin.view import SheetView

log = logging.getLogger("encours.gsheets")

METADATA_FIELDS = (
    "spreadsheetId,properties(title),"
    "sheets(properties,protectedRanges,filterViews,conditionalFormats,developerMetadata)"
)
MAX_REQUEST_BYTES = 2_000_000
#: A write this soon after read_marks found the sheet as encours left it trusts that read.
RECENT_READ_SECONDS = 120.0
TAB_KEYS = {DASHBOARD_TAB: "dashboard", PARAMS_TAB: "params",
            **{t.name: t.key for t in (INVOICES, CUSTOMERS, AGING, JOURNAL, TODO, PAYMENT_PLANS)}}
T = TypeVar("T")


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
        self.tabs = TabPlanner(self.bounds)
        self.max_request_bytes = max_request_bytes
        self.attempts = attempts
        self.session = SheetsSession(
            credentials or anonymous(), api_base_url=api_base_url, timeout=timeout,
            per_minute=per_minute, retry=retry, clock=clock, rng=rng,
        )
        self.client = gspread.Client(None, session=self.session)  # type: ignore[arg-type]
        self.http = self.client.http_client
        self.notes: list[str] = []
        self._as_left_at: tuple[float, SheetPrint] | None = None

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
        located, _, structure = self._locate(self._metadata())
        wanted = [located[t.name] for t in (INVOICES, CUSTOMERS, PAYMENT_PLANS, TODO)]
        stored = self._stored_print(located)
        plans = [located[PAYMENT_PLANS.name]] if located[PAYMENT_PLANS.name].info is not None else []
        # the ID and user columns are all marks need (Échéanciers, people's own tab, is read whole)
        light = None if stored is None else self._light_read(located, stored, (INVOICES, CUSTOMERS, JOURNAL, TODO),
                                                             with_user_columns=True, render="UNFORMATTED_VALUE",
                                                             whole=plans)
        if light is not None and stored is not None and not structure:
            self._as_left_at = (self.session.clock.now(), stored)  # the write just after need not read again
        if light is not None:
            values = light
        else:
            present = [loc for loc in wanted if loc.info is not None]
            values = dict(zip((loc.name for loc in present),
                              self._batch_get([quote_title(loc.read_title) for loc in present], "UNFORMATTED_VALUE"),
                              strict=True))
        tables: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        missing: list[MarkProblem] = []
        for tab in (INVOICES, CUSTOMERS, PAYMENT_PLANS, TODO):
            rows = values.get(tab.name, [])
            if tab is TODO and rows and legacy_todo(rows[0]):
                rows = []  # the layout before task IDs: nothing typed there yet
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
        marks = marks_from_rows(tables["invoices"], tables["customers"], tables["payment_plans"],
                                headings={**headings, **TASK_HEADINGS}, task_rows=tables["todo"])
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
                        retry_after = parse_retry_after(exc.response.headers.get("Retry-After"), time.time())
                        self.session.clock.sleep(policy.delay(attempt, retry_after, self.session.rng, throttled=True))
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
        digest = view_digest(view, self.bounds)
        recent, self._as_left_at = self._as_left_at, None
        if recent is not None and self.session.clock.now() - recent[0] <= RECENT_READ_SECONDS \
                and same_view(recent[1].view, digest):
            # read_marks has just found encours's cells as the last write left them, and the view is the
            # same: nothing to write.  (Rows people move meanwhile are seen by the next sync's read.)
            return Plan()
        meta = self._metadata()
        located, notes, structure = self._locate(meta)
        stored = self._stored_print(located)
        if not structure and stored is not None and same_view(stored.view, digest) and self._as_left(located, stored):
            return Plan(notes=notes)  # encours's cells are as the last write left them: nothing to read or write
        present = [loc for loc in located.values() if loc.info is not None]
        read = self._batch_get([quote_title(loc.read_title) for loc in present])
        values = {loc.name: rows for loc, rows in zip(present, read, strict=True)}
        plan = Plan(structure=structure, notes=notes)
        salespeople = salespeople_of(view)

        tabs = self.tabs
        grids: dict[str, TabGrid] = {}
        todo_rows = values.get(TODO.name, [])
        legacy = bool(todo_rows) and legacy_todo(todo_rows[0])
        if legacy:  # the layout before task IDs: nothing of people's in it, laid out anew
            width = max(len(r) for r in todo_rows)
            emptied = {(r, c): "" for r in range(2, len(todo_rows) + 1) for c in range(width)}
            plan.raw.extend((located[TODO.name].name, b) for b in blocks(emptied))
            values[TODO.name] = []
        for tab in (INVOICES, CUSTOMERS, JOURNAL, TODO):
            grids[tab.name] = tabs.keyed_grid(tab, located[tab.name], values.get(tab.name, []), plan)
        inv_letters = grids[INVOICES.name].letters()

        tabs.plan_keyed_tab(plan, grids[INVOICES.name], located[INVOICES.name], invoice_content(view), view,
                            salespeople)
        tabs.plan_keyed_tab(plan, grids[CUSTOMERS.name], located[CUSTOMERS.name],
                            customer_content(view, factures_refs(inv_letters)), view, salespeople)
        journal = None if view.journal is None else journal_content(view.journal)
        tabs.plan_keyed_tab(plan, grids[JOURNAL.name], located[JOURNAL.name], journal, view, [])

        todo = None if view.todo is None else todo_content(view.todo)
        tabs.plan_keyed_tab(plan, grids[TODO.name], located[TODO.name], todo, view, salespeople)
        if legacy:  # what must not have changed before writing: the old tab as read
            title = quote_title(located[TODO.name].read_title) + "!"
            plan.checks = [c for c in plan.checks if not c[0].startswith(title)]
            plan.checks.append((f"{title}1:1", [todo_rows[0]]))
        tabs.plan_aging(plan, located[AGING.name], values.get(AGING.name, []), view, inv_letters)
        tabs.plan_dashboard(plan, located[DASHBOARD_TAB], values.get(DASHBOARD_TAB, []), view, inv_letters)
        tabs.plan_params(plan, located[PARAMS_TAB], values.get(PARAMS_TAB, []))
        tabs.plan_payment_plans(plan, located[PAYMENT_PLANS.name], values.get(PAYMENT_PLANS.name, []), view)
        plan.notes.extend(_cut_notes(plan.raw))
        record = SheetPrint(merged_view(stored.view if stored else None, digest), plan.prints)
        if stored is None or record.to_text() != stored.to_text():
            inv = located[INVOICES.name]
            plan.formats.append(fmt.metadata_request(inv.sheet_id, PRINT_KEY, record.to_text(),
                                                     inv.info.metadata if inv.info else []))
        return plan

    def _stored_print(self, located: Mapping[str, Located]) -> SheetPrint | None:
        """What the last write left, if this version of encours wrote it (else: read in full)."""
        info, params = located[INVOICES.name].info, located[PARAMS_TAB].info
        if info is None or params is None or fmt.metadata_value(params.metadata, PARAMS_KEY) != PARAMS_VERSION:
            return None
        return SheetPrint.from_text(fmt.metadata_value(info.metadata, PRINT_KEY))

    def _light_read(self, located: Mapping[str, Located], stored: SheetPrint, tabs: Sequence[Tab],
                    *, with_user_columns: bool, render: str = "FORMULA",
                    whole: Sequence[Located] = ()) -> dict[str, list[list[Any]]] | None:
        """Each tab's header row and ID column (and user columns) as a sparse grid from row 1, and the
        ``whole`` tabs in full, in one request; None when a tab is not where the last write left it
        (then the caller reads in full)."""
        ranges: list[str] = []
        for tab in tabs:
            loc = located[tab.name]
            if loc.info is None or tab.name not in stored.tabs:
                return None
            ranges += light_ranges(loc.read_title, stored.tabs[tab.name], tab, with_user_columns=with_user_columns)
        ranges += [quote_title(loc.read_title) for loc in whole]
        got = iter(self._batch_get(ranges, render))
        grids: dict[str, list[list[Any]]] = {}
        for tab in tabs:
            record = stored.tabs[tab.name]
            header = next(got)
            header_row = list(header[0]) if header else []
            if find_header(tab, [header_row])[1] != record.positions:
                return None
            columns = record.columns(tab, with_user_columns=with_user_columns)
            read = [next(got) for _ in columns]
            if column_digest(read[0]) != record.ids:
                return None
            height = max((len(r) for r in read), default=0)
            width = max([len(header_row), *(p + 1 for p in record.positions.values())])
            rows = [[] for _ in range(record.header_row - 1)] + [header_row + [None] * (width - len(header_row))]
            rows += [[None] * width for _ in range(height)]
            for index, values in zip(columns, read, strict=True):
                for offset, line in enumerate(values):
                    rows[record.header_row + offset][index] = line[0] if line else None
            grids[tab.name] = rows
        for loc in whole:
            grids[loc.name] = next(got)
        return grids

    def _as_left(self, located: Mapping[str, Located], stored: SheetPrint) -> bool:
        return self._light_read(located, stored, (INVOICES, CUSTOMERS, JOURNAL, TODO),
                                with_user_columns=False) is not None

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
