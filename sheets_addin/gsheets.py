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
from collections.abc import Callable, Sequence
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
from encours.sheets_addin.gsheets_light import as_left, light_read, stored_print
from encours.sheets_addin.gsheets_locate import locate_tabs
from encours.sheets_addin.gsheets_marks import marks_from_values
from encours.sheets_addin.gsheets_plan import (
    TabGrid,
    chunk_requests,
    customer_content,
    invoice_content,
    journal_content,
    quote_title,
    salespeople_of,
    todo_content,
)
from encours.sheets_addin.gsheets_print import (
    PRINT_KEY,
    SheetPrint,
    merged_view,
    same_view,
    view_digest,
)
from encours.sheets_addin.gsheets_tabs import (
    Plan,
    TabPlanner,
)
from encours.sheets_addin.gsheets_values import same_rows, trimmed
from encours.sheets_addin.gsheets_writes import blocks, cut_notes
from encours.sheets_addin.layout import (
    AGING,
    CUSTOMERS,
    DASHBOARD_TAB,
    INVOICES,
    JOURNAL,
    PARAMS_TAB,
    PAYMENT_PLANS,
    TODO,
    legacy_todo,
)
from encours.sheets_addin.marks import SheetMarks, parse_text
from encours.sheets_addin.view import SheetView

log = logging.getLogger("encours.gsheets")

METADATA_FIELDS = (
    "spreadsheetId,properties(title),"
    "sheets(properties,protectedRanges,filterViews,conditionalFormats,developerMetadata)"
)
MAX_REQUEST_BYTES = 2_000_000
#: A write this soon after read_marks found the sheet as encours left it trusts that read.
RECENT_READ_SECONDS = 120.0
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

    # -- reading people's marks -------------------------------------------------------------
    def read_marks(self) -> SheetMarks:
        located, _, structure = locate_tabs(self._metadata())
        wanted = [located[t.name] for t in (INVOICES, CUSTOMERS, PAYMENT_PLANS, TODO)]
        stored = stored_print(located)
        plans = [located[PAYMENT_PLANS.name]] if located[PAYMENT_PLANS.name].info is not None else []
        # the ID and user columns are all marks need (Échéanciers, people's own tab, is read whole)
        light = None if stored is None else light_read(self._batch_get, located, stored,
                                                       (INVOICES, CUSTOMERS, JOURNAL, TODO), with_user_columns=True,
                                                       render="UNFORMATTED_VALUE", whole=plans)
        if light is not None and stored is not None and not structure:
            self._as_left_at = (self.session.clock.now(), stored)  # the write just after need not read again
        if light is not None:
            values = light
        else:
            present = [loc for loc in wanted if loc.info is not None]
            values = dict(zip((loc.name for loc in present),
                              self._batch_get([quote_title(loc.read_title) for loc in present], "UNFORMATTED_VALUE"),
                              strict=True))
        return marks_from_values(values)

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
        return all(same_rows(expected, found) for (_, expected), found in zip(checks, got, strict=True))

    def _verified(self, verify: Sequence[tuple[str, list[str]]]) -> bool:
        got = self._batch_get([rng for rng, _ in verify])
        for (_, expected), found in zip(verify, got, strict=True):
            ids = [parse_text(r[0]) if r else "" for r in found]
            if trimmed(ids) != trimmed(expected):
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
        located, notes, structure = locate_tabs(meta)
        stored = stored_print(located)
        unchanged = stored is not None and same_view(stored.view, digest)
        if not structure and stored is not None and unchanged and as_left(self._batch_get, located, stored):
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
        plan.notes.extend(cut_notes(plan.raw))
        record = SheetPrint(merged_view(stored.view if stored else None, digest), plan.prints)
        if stored is None or record.to_text() != stored.to_text():
            inv = located[INVOICES.name]
            plan.formats.append(fmt.metadata_request(inv.sheet_id, PRINT_KEY, record.to_text(),
                                                     inv.info.metadata if inv.info else []))
        return plan

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


def _raise(exc: Exception) -> bool:
    raise exc


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


