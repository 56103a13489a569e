"""An Odoo full pull that resumes where it stopped (timeout, dropped connection, process killed).

Each listing is read page by page **by id** (``id > last``, ordered by id): unlike offset paging,
a record created or deleted meanwhile never shifts another one out of a page.  Every page is kept
in the state store's :class:`~encours.connectors.checkpoint.Checkpoint` as Odoo sent it, with what
maps it (an invoice page with its receivable lines, reconciliations and paying lines), before the
pull goes on; the next full pull replays the kept pages and asks only for the rest.

Kept pages are as old as the interrupted pull.  So a resumed pull first asks Odoo (ids only) which
kept records are gone and which changed since the first try began, drops the former and reads the
latter again: the result is the one an uninterrupted pull would give now.  The cursor it returns
starts no later than the first try, so the next incremental sync reads what changes meanwhile.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from encours.connectors.checkpoint import Checkpoint
from encours.connectors.model import Customer, Invoice, Payment, UnallocatedCredit
from encours.connectors.odoo import mapping
from encours.connectors.odoo.client import PLATFORM, OdooClient, batches
from encours.connectors.odoo.cursor import ODOO_TIME, stamp
from encours.connectors.odoo.records import DEBIT_OTHER, OPEN_OTHER, Records
from encours.connectors.pages import PageRequest, record_list, walk
from encours.connectors.source_errors import MalformedResponseError

#: How much earlier than the first try the "changed since" question starts (clocks differ).
LOOK_BACK = timedelta(minutes=2)


@dataclass(frozen=True)
class IdPaginator:
    """``id > after`` ordered by id; the last page is the first one shorter than ``limit``."""

    limit: int

    def first(self, path: str, params: Mapping[str, Any]) -> PageRequest:
        return PageRequest(path, {**params, "after": 0}, "0")

    def items(self, body: Any) -> list[Any]:
        return record_list(body)

    def next(self, current: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        if len(items) < self.limit:
            return None
        ids = _ids(items)
        if len(ids) != len(items):
            raise ValueError("a record has no numeric id")
        last = max(ids)
        if last <= int(current.params.get("after", 0)):
            raise ValueError(f"ids do not grow past {last}")
        return PageRequest(current.path, {**current.params, "after": last}, str(last))


@dataclass
class Pulled:
    """What a full pull read and mapped."""

    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    misc: list[Invoice] = field(default_factory=list)
    credits: list[UnallocatedCredit] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    newest: str = ""  # the latest write_date of the invoices read
    began: str = ""  # when the pull (its first try) began, Odoo time


class FullPull:
    """One full pull of one Odoo database through ``checkpoint`` (see the module)."""

    def __init__(self, client: OdooClient, records: Records, checkpoint: Checkpoint, *, page_size: int) -> None:
        self.client = client
        self.records = records
        self.checkpoint = checkpoint
        self.pager = IdPaginator(page_size)
        self.since = ""  # the first try's start minus the look-back, Odoo time

    def run(self, move_domain: list[Any], now: float) -> Pulled:
        began = datetime.fromtimestamp(self.checkpoint.start(now), UTC)
        self.since = (began - LOOK_BACK).strftime(ODOO_TIME)
        out = Pulled(began=began.strftime(ODOO_TIME))
        pages = self._listing("moves", "account.move", move_domain, mapping.MOVE_FIELDS, self.records.read_page,
                              reread=self._moves_again)
        for page in pages:
            invoices, payments = self.records.map_page(page)
            out.invoices += invoices
            out.payments += payments
            out.newest = max([out.newest, *(stamp(r) for r in page["moves"])])
        other = self.records.other_domain()
        raws: list[Any] = []
        for name, extra in (("other-open", OPEN_OTHER), ("other-debit", DEBIT_OTHER)):
            domain = [*other, *extra]
            for lines in self._listing(name, "account.move.line", domain, mapping.OTHER_LINE_FIELDS, list,
                                       reread=partial(self._lines_again, domain)):
                raws += lines
        out.misc, out.credits = self.records.map_other(raws)
        owners = {i.customer_id for i in out.invoices} | {m.customer_id for m in out.misc}
        out.customers = self.records.map_customers(self._partners(owners | {c.customer_id for c in out.credits}))
        return out

    def finish(self) -> None:
        self.checkpoint.finish()

    def _moves_again(self, ids: list[int]) -> list[Any]:
        return [self.records.read_page(self.client.moves_by_id(ids, mapping.MOVE_FIELDS))]

    def _lines_again(self, domain: list[Any], ids: list[int]) -> list[Any]:
        return [self.client.lines_by_id(ids, mapping.OTHER_LINE_FIELDS, extra=domain)]

    # -- listings -----------------------------------------------------------------------------
    def _listing(self, name: str, model: str, domain: list[Any], fields: list[str],
                 keep: Callable[[list[Any]], Any], *, reread: Callable[[list[int]], list[Any]]) -> Iterator[Any]:
        """Each page of ``model`` matching ``domain`` as ``keep`` makes it: the kept ones first
        (without what is gone or changed since, read again), then on from where the pull stopped."""
        listing = f"{name}-{_digest(domain, fields)}"  # another configuration: another listing
        kept = [page[0] for page in self.checkpoint.kept(listing) if page]
        last = max((i for page in kept for i in _ids(page)), default=0)
        if kept:
            yield from self._refreshed(model, domain, kept, last, reread)
        start = self.checkpoint.next_request(listing, self.pager.first(model, {}))
        if start is None and kept:  # read to its end before: what was created since
            start = PageRequest(model, {"after": last}, str(last))

        def fetch(request: PageRequest) -> Any:
            after = int(request.params.get("after", 0))
            return self.client.call(model, "search_read", [[*domain, ("id", ">", after)]], fields=fields,
                                    limit=self.pager.limit, order="id asc")

        for items, following in walk(fetch, self.pager, start, platform=PLATFORM, endpoint=f"{model}.search_read"):
            page = keep(items)
            self.checkpoint.page_read(listing, [page], following)
            yield page

    def _refreshed(self, model: str, domain: list[Any], pages: list[Any], last: int,
                   reread: Callable[[list[int]], list[Any]]) -> Iterator[Any]:
        upto = [*domain, ("id", "<=", last)]
        present = set(self._search(model, upto))
        changed = set(self._search(model, [*upto, ("write_date", ">=", self.since)])) & present
        stale = changed | {i for page in pages for i in _ids(page) if i not in present}
        for page in pages:
            yield _without(page, stale)
        if changed:
            yield from reread(sorted(changed))

    def _search(self, model: str, domain: list[Any]) -> list[int]:
        ids = self.client.call(model, "search", [domain], order="id asc")
        if not isinstance(ids, list) or not all(_is_id(i) for i in ids):
            raise MalformedResponseError("search did not answer a list of ids", platform=PLATFORM,
                                         endpoint=f"{model}.search")
        return ids

    def _partners(self, owners: set[str]) -> list[Any]:
        """The customers' records and contacts, batch by batch, each batch kept; a resumed pull
        reads only the customers no kept batch holds, and those changed since the first try."""
        listing = "customers"
        wanted = {int(i) for i in owners if i.isdigit()}
        kept = [page[0] for page in self.checkpoint.kept(listing) if page]
        changed: set[int] = set()
        if kept:
            for raw in self.client.partners([("write_date", ">=", self.since)], ["commercial_partner_id"]):
                owner = _owner(raw)
                if owner is not None:
                    changed.add(owner)
        covered = {i for page in kept for i in page["ids"]} - changed
        raws = [raw for page in kept for raw in page["partners"] if _owner(raw) in covered & wanted]
        for index, batch in enumerate(batches(sorted(wanted - covered)), start=len(kept)):
            found = self.records.read_partners(batch)
            self.checkpoint.page_read(listing, [{"ids": batch, "partners": found}],
                                      PageRequest("res.partner", {}, str(index + 1)))
            raws += found
        return raws


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ids(page: Any) -> list[int]:
    records = page["moves"] if isinstance(page, dict) else page
    return [r["id"] for r in records if isinstance(r, dict) and _is_id(r.get("id"))]


def _without(page: Any, stale: set[int]) -> Any:
    """A kept page without the records gone or changed since (their lines are then never used)."""
    if isinstance(page, dict):
        return {**page, "moves": [r for r in page["moves"] if not (isinstance(r, dict) and r.get("id") in stale)]}
    return [r for r in page if not (isinstance(r, dict) and r.get("id") in stale)]


def _owner(raw: Any) -> int | None:
    """Whose record a partner is: its commercial partner's id, or its own."""
    if not isinstance(raw, dict):
        return None
    parent = raw.get("commercial_partner_id")
    if isinstance(parent, list) and parent and _is_id(parent[0]):
        return int(parent[0])
    return int(raw["id"]) if _is_id(raw.get("id")) else None


def _digest(domain: list[Any], fields: list[str]) -> str:
    text = json.dumps([domain, fields], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
