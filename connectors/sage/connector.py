"""Sage Business Cloud Accounting API v3.1: contacts, sales invoices, credit notes, payments.

OAuth2 (authorization code, see ``sync/auth_sage.py``): tokens in :mod:`.tokens`, records mapped by
:mod:`.mapping` (pure); this module pulls, checks and re-checks.

Listings follow ``$next`` with ``items_per_page=200``.  An incremental pull asks each resource for
``updated_or_created_since`` and, separately, ``deleted_since`` the previous pull (minus a look-back
of five minutes, timestamps from the server's ``Date`` header).  Status ids are read from
``/artefact_statuses``; Sage's error array becomes one readable sentence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests

from encours.connectors.access import EndpointCheck, probe
from encours.connectors.checkpoint import Checkpoint
from encours.connectors.fields import Fields
from encours.connectors.http import Clock, HttpClient, shared_budget
from encours.connectors.model import (
    Customer,
    Delta,
    Invoice,
    Payment,
    SourceInfo,
    UnallocatedCredit,
)
from encours.connectors.pages import NextLinkPaginator, PageRequest, SinceCursor, walk
from encours.connectors.quarantine import Quarantine
from encours.connectors.sage import mapping
from encours.connectors.sage.tokens import SageTokens, sage_error_text
from encours.connectors.source_errors import MalformedResponseError, NotFoundError

log = logging.getLogger("encours.sage")

PLATFORM = "sage"
DEFAULT_BASE_URL = "https://api.accounting.sage.com/v3.1"
DEFAULT_AUTH_URL = "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1"
#: Sage states no v3.1 limit and sends no rate-limit headers (v3.0 said 200 calls a minute per
#: business): half of that, client-side, unless ``[source] requests_per_minute`` says otherwise.
DEFAULT_REQUESTS_PER_MINUTE = 100
LOOK_BACK = timedelta(minutes=5)

#: What a Sage user needs for each listing the sync reads, in Sage's role names.
ROLES_NEEDED = {
    "/artefact_statuses": "any role in this business",
    "/contacts": "a Contacts role (Read Only or more)",
    "/sales_invoices": "a Sales role (Read Only or more)",
    "/sales_credit_notes": "a Sales role (Read Only or more)",
    "/contact_payments": "a Bank role (Read Only or more)",
    "/contact_allocations": "Full Access in Sales, Purchases and Contacts",
}
#: Listings Sage can sort (``sort=created_at``): a full pull reads them oldest first.
SORTABLE = frozenset({"/sales_invoices", "/sales_credit_notes", "/contact_payments", "/contact_allocations"})
#: Up to this many invoices, a re-check reads them one by one instead of listing the open ones.
SINGLE_READS = 3
#: How many times a listing that changed while it was read is read again.
LISTING_TRIES = 3
CURRENCIES_NS = "sage.currencies"

#: One small read per listing for ``encours check`` (the sync's own filters).
ENDPOINT_PROBES: tuple[tuple[str, dict[str, str]], ...] = (
    ("/artefact_statuses", {}),
    ("/contacts", {"contact_type_id": "CUSTOMER"}),
    ("/sales_invoices", {}),
    ("/sales_credit_notes", {}),
    ("/contact_payments", {}),
    ("/contact_allocations", {}),
)


SageCursor = SinceCursor


class SageConnector:
    """:class:`encours.connectors.base.Connector` for one Sage business."""

    source = PLATFORM

    def __init__(
        self,
        tokens: SageTokens,
        *,
        business_id: str,
        as_of: date,
        base_url: str = DEFAULT_BASE_URL,
        auth_url: str = DEFAULT_AUTH_URL,
        company_currency: str = "EUR",
        session: requests.Session | None = None,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tokens = tokens
        self.business_id = business_id
        self.as_of = as_of
        self.auth_url = auth_url
        self.company_currency = company_currency
        self.http = HttpClient(
            PLATFORM,
            base_url,
            session=session,
            headers={"Accept": "application/json"},
            auth=self._auth_headers,
            reauth=self.tokens.refresh,
            error_text=sage_error_text,
            credentials_key="the Sage user's roles for this business, or run `encours auth sage -c <config>`",
            budget=shared_budget(f"sage:{base_url}:{business_id}", requests_per_minute, 60.0, Clock(clock, sleep)),
            sleep=sleep,
            clock=clock,
        )
        self._base_path = urlsplit(base_url).path.rstrip("/")
        self._statuses: dict[str, str] | None = None
        self.quarantine = Quarantine(tokens.cache, PLATFORM)
        self.checkpoint = Checkpoint(tokens.cache, PLATFORM)
        self._full = False  # a full pull is under way: its listings are kept page by page
        self._currencies: dict[str, str] = {}

    def _auth_headers(self) -> dict[str, str]:
        token = self.tokens.access_token()
        for secret in self.tokens.secrets:
            self.http.add_secret(secret)
        headers = {"Authorization": f"Bearer {token}"}
        if self.business_id:
            headers["X-Business"] = self.business_id
        return headers

    def businesses(self) -> list[tuple[str, str]]:
        """(id, name) of every business the authorised user can reach (``GET /businesses``)."""
        endpoint = "GET /businesses"
        body = self.http.get_json("/businesses", endpoint=endpoint)
        items = body if isinstance(body, list) else Fields(body, platform=PLATFORM, endpoint=endpoint).list("$items")
        found = []
        for raw in items:
            f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
            found.append((f.id(), f.text("name", required=False) or f.text("displayed_as", required=False)))
        return found

    # -- Connector ----------------------------------------------------------------------------
    def check_endpoints(self) -> list[EndpointCheck]:
        """Every endpoint the sync and the re-check use, each read once (``encours check``);
        a 403 names the Sage user role that is missing."""
        results = []
        first: dict[str, str] = {}

        def listing(path: str, params: Mapping[str, Any]) -> Callable[[], None]:
            def call() -> None:
                body = self.http.get_json(path, params={**params, "items_per_page": 1}, endpoint=f"GET {path}")
                items = body.get("$items") if isinstance(body, dict) else body
                if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("id"):
                    first[path] = str(items[0]["id"])

            return call

        business = f"/businesses/{self.business_id}"
        results.append(probe(
            "GET /businesses/{id}", lambda: self.http.get_json(business, endpoint="GET /businesses/{id}"),
            needs="access to this business (check [source] business_id)",
        ))
        for path, params in ENDPOINT_PROBES:
            results.append(probe(f"GET {path}", listing(path, params), needs=ROLES_NEEDED[path]))
        invoice_id = first.get("/sales_invoices", "")
        endpoint = "GET /sales_invoices/{id}"
        if invoice_id:
            results.append(probe(endpoint, lambda: self.http.get_json(
                f"/sales_invoices/{invoice_id}", params={"mark_as_sent": "false"}, endpoint=endpoint
            ), needs=ROLES_NEEDED["/sales_invoices"], missing_ok=True))
        else:
            results.append(EndpointCheck(endpoint, True, "not tried: no invoice to read yet"))
        return results

    def check(self) -> SourceInfo:
        endpoint = "GET /businesses/{id}"
        business = Fields(
            self.http.get_json(f"/businesses/{self.business_id}", endpoint=endpoint, record=self.business_id),
            platform=PLATFORM,
            endpoint=endpoint,
        )
        name = business.text("name", required=False) or business.text("displayed_as", required=False)
        count = 0
        for status in ("UNPAID", "PART_PAID"):
            body = self.http.get_json(
                "/sales_invoices", params={"status_id": status, "items_per_page": 1}, endpoint="GET /sales_invoices"
            )
            total = Fields(body, platform=PLATFORM, endpoint="GET /sales_invoices").decimal("$total", required=False)
            count += int(total or 0)
        return SourceInfo(PLATFORM, name or self.business_id, count, f"business {self.business_id}")

    def pull(self, cursor: str | None) -> Delta:
        try:
            return self._pull(cursor)
        finally:
            self._full = False
            self.quarantine.save()

    def _pull(self, cursor: str | None) -> Delta:
        previous = SageCursor.loads(cursor) if cursor else None
        since = {"updated_or_created_since": mapping.sage_time(previous.since)} if previous else {}
        statuses = self.statuses()
        started = self._server_now()
        self._full = previous is None
        if self._full:
            began = self.checkpoint.start(self.http.clock())
            if self.checkpoint.resumed_pages:
                started = min(started, datetime.fromtimestamp(began, UTC))  # changes since the first try
        customers = [self._customer(raw) for raw in self._list("/contacts", {"contact_type_id": "CUSTOMER", **since})]
        listed: set[str] = set()
        invoices: list[Invoice] = []
        for path in ("/sales_invoices", "/sales_credit_notes"):
            for raw in self._list(path, since):
                listed.add(str(raw.get("id", "")) if isinstance(raw, dict) else "")
                invoices.extend(i for i in [self._invoice_or_hold(raw, statuses, f"GET {path}")] if i is not None)
        for held in self.quarantine.held():
            if previous is None and held not in listed:
                self.quarantine.release(held)  # a full listing no longer has it: gone
            elif held not in listed and (again := self._refetch_or_hold(held)) is not None:
                invoices.append(again)  # quarantined last time, asked again until it maps
        self._remember_currencies(invoices)
        credits: list[UnallocatedCredit] = []
        no_credit: list[str] = []  # payments and invoices read again that leave no credit (any more)
        payments: list[Payment] = []
        for raw in self._list("/contact_payments", since):
            payment = self._payment(raw)
            if payment is None:
                continue
            payments.append(payment)
            credit = self._payment_credit(raw, payment)
            if credit is None:
                no_credit.append(payment.id)
            else:
                credits.append(credit)
        for invoice in invoices:
            overpaid = self._overpayment(invoice)
            if overpaid is None:
                no_credit.append(f"{invoice.id}{mapping.OVERPAID}")
            else:
                credits.append(overpaid)
        payments += [p for raw in self._list("/contact_allocations", since) if (p := self._allocation(raw)) is not None]
        deleted_invoices: list[str] = []
        deleted_customers: list[str] = []
        deleted_payments: list[str] = []
        if previous is not None:
            gone = {"deleted_since": mapping.sage_time(previous.since)}
            for path in ("/sales_invoices", "/sales_credit_notes"):
                deleted_invoices += [self._id(raw, path) for raw in self._list(path, gone, all_attributes=False)]
            deleted_customers = [self._id(raw, "/contacts") for raw in self._list("/contacts", gone, False)]
            for path in ("/contact_payments", "/contact_allocations"):
                deleted_payments += [self._id(raw, path) for raw in self._list(path, gone, all_attributes=False)]
            self.quarantine.release_all(deleted_invoices)
            no_credit += deleted_payments + [f"{i}{mapping.OVERPAID}" for i in deleted_invoices]
        if self._full:
            self.checkpoint.finish()
            self._full = False
        return Delta(
            customers=tuple(customers),
            invoices=tuple(invoices),
            payments=tuple(payments),
            deleted_invoice_ids=tuple(deleted_invoices),
            deleted_customer_ids=tuple(deleted_customers),
            deleted_payment_ids=tuple(deleted_payments),
            full=previous is None,
            cursor=SageCursor(started - LOOK_BACK).dumps(),
            credits=tuple(credits),
            deleted_credit_ids=tuple(no_credit) if previous is not None else (),
        )

    def _invoice_or_hold(self, raw: Any, statuses: Mapping[str, str], endpoint: str) -> Invoice | None:
        """The record mapped, or ``None`` after quarantining it (one odd record never stops a sync)."""
        ident = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else ""
        try:
            invoice = self._invoice(raw, statuses, endpoint)
        except MalformedResponseError as exc:
            if not ident:
                raise
            self.quarantine.add(ident, exc)
            return None
        self.quarantine.release(ident)
        return invoice

    def _refetch_or_hold(self, invoice_id: str) -> Invoice | None:
        return self.quarantine.guarded(invoice_id, self.refetch_invoice)

    def refetch_invoices(self, invoice_ids: Iterable[str]) -> dict[str, Invoice | None]:
        """The invoices of a pass read again right before sending, in a few requests.

        Sage has no filter by id: the open invoices (``UNPAID``, ``PART_PAID``) are listed, 200 a
        page, and only the wanted ids missing from that list (paid, voided or deleted since) are
        read one by one.  ``None``: gone at the source; an id absent from the answer could not be
        read as an invoice (quarantined) and must not be reminded.  A handful of ids (up to
        ``SINGLE_READS``) are read one by one: fewer requests than listing a large ledger.
        """
        wanted = set(invoice_ids)
        statuses = self.statuses()
        found: dict[str, Invoice | None] = {}
        for status in (("UNPAID", "PART_PAID") if len(wanted) > SINGLE_READS else ()):
            for raw in self._list("/sales_invoices", {"status_id": status}, check_count=False):
                ident = str(raw.get("id", "")) if isinstance(raw, dict) else ""
                if ident in wanted:
                    found[ident] = self._invoice_or_hold(raw, statuses, "GET /sales_invoices")
        for ident in sorted(wanted - set(found)):
            found[ident] = self._refetch_or_hold(ident)
        return {k: v for k, v in found.items() if v is not None or k not in self.quarantine.found}

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        statuses = self.statuses()
        for path in ("/sales_invoices", "/sales_credit_notes"):
            endpoint = f"GET {path}/{{id}}"
            try:
                # mark_as_sent defaults to true on a single GET: reading must not change the invoice.
                raw = self.http.get_json(
                    f"{path}/{invoice_id}", params={"mark_as_sent": "false"}, endpoint=endpoint, record=invoice_id
                )
            except NotFoundError:
                continue
            return self._invoice(raw, statuses, endpoint)
        return None

    def statuses(self) -> dict[str, str]:
        """Artefact status id -> label, read once from ``/artefact_statuses``."""
        if self._statuses is None:
            found: dict[str, str] = {}
            for raw in self._list("/artefact_statuses", {}, all_attributes=False):
                f = Fields(raw, platform=PLATFORM, endpoint="GET /artefact_statuses")
                found[f.id()] = f.text("displayed_as", required=False)
            unknown = sorted(set(mapping.STATUSES) - set(found))
            if unknown:
                log.warning("sage: /artefact_statuses does not list %s", ", ".join(unknown))
            self._statuses = found
        return self._statuses

    # -- listing ------------------------------------------------------------------------------
    def _list(
        self, path: str, params: Mapping[str, Any], all_attributes: bool = True, check_count: bool = True
    ) -> list[Any]:
        """Every item of a listing, sorted by creation where Sage allows it (new records land on
        the last page instead of shifting the others), and counted: when ``$total`` moved during
        the listing or the ids received do not add up to it (a record deleted meanwhile shifts
        the pages and hides another), the listing is read again.  During a full pull each page is
        kept (see :mod:`~encours.connectors.checkpoint`): an interrupted pull resumes."""
        endpoint = f"GET {path}"
        query = {**params, **({"attributes": "all"} if all_attributes else {})}
        if path in SORTABLE and "deleted_since" not in params:
            query["sort"] = "created_at"
        resumable = self._full and "deleted_since" not in params and check_count
        listing = path.strip("/")
        pager = NextLinkPaginator(page_size=200)
        items: list[Any] = []
        for attempt in range(1, LISTING_TRIES + 1):
            totals: list[Any] = []
            items = [item for page in self.checkpoint.kept(listing) for item in page] if resumable else []
            start = self.checkpoint.next_request(listing, pager.first(path, query)) if resumable else None
            for page, following in walk(
                partial(self._fetch_page, endpoint=endpoint, totals=totals),
                pager, start if resumable else pager.first(path, query), platform=PLATFORM, endpoint=endpoint,
            ):
                if resumable:
                    self.checkpoint.page_read(listing, page, following)
                items.extend(page)
            if not check_count or "deleted_since" in params:
                return items
            ids = {str(i.get("id")) for i in items if isinstance(i, dict)}
            stated = {t for t in totals if isinstance(t, int) and not isinstance(t, bool)}
            if not stated or (len(stated) == 1 and len(ids) == stated.pop()):
                return items
            if resumable:
                self.checkpoint.forget(listing)
            log.warning(
                "sage %s: the listing changed while it was read (totals %s, %d ids received): reading it again (%d/%d)",
                endpoint, sorted({t for t in totals if isinstance(t, int)}), len(ids), attempt, LISTING_TRIES,
            )
        log.warning("sage %s: the listing kept changing; the next sync reads what was missed", endpoint)
        return items

    def _fetch_page(self, request: PageRequest, endpoint: str, totals: list[Any]) -> Any:
        target = request.path
        if target.startswith(("http://", "https://")):
            target = urlsplit(target).path
        if self._base_path and target.startswith(self._base_path + "/"):
            target = target[len(self._base_path) :]
        body = self.http.get_json(target, params=request.params, endpoint=endpoint)
        if isinstance(body, dict):
            totals.append(body.get("$total"))
        return body

    def _server_now(self) -> datetime:
        stamp = self.http.last_date if self.http.last_date is not None else self.http.clock()
        return datetime.fromtimestamp(stamp, UTC)

    def _id(self, raw: Any, path: str) -> str:
        return Fields(raw, platform=PLATFORM, endpoint=f"GET {path}").id()

    # -- records ------------------------------------------------------------------------------
    def _customer(self, raw: Any) -> Customer:
        return mapping.customer(raw)

    def _invoice(self, raw: Any, statuses: Mapping[str, str], endpoint: str) -> Invoice | None:
        return mapping.invoice(raw, statuses, endpoint, self.company_currency)

    def _overpayment(self, invoice: Invoice) -> UnallocatedCredit | None:
        return mapping.overpayment(invoice)

    def _payment_credit(self, raw: Any, payment: Payment) -> UnallocatedCredit | None:
        return mapping.payment_credit(raw, payment, self.company_currency)

    def _payment(self, raw: Any) -> Payment | None:
        return mapping.payment(raw, self.company_currency)

    def _allocation(self, raw: Any) -> Payment | None:
        return mapping.allocation(raw, self._currency_of)

    def _remember_currencies(self, invoices: Iterable[Invoice]) -> None:
        """Which currency each document is in, for the credit-note allocations that do not say it
        (foreign ones kept in the state store's cache: an allocation may come in a later sync)."""
        for invoice in invoices:
            self._currencies[invoice.id] = invoice.currency
            if invoice.currency != self.company_currency.upper():
                self.tokens.cache.put(CURRENCIES_NS, invoice.id, invoice.currency)

    def _currency_of(self, document_id: str) -> str:
        known = self._currencies.get(document_id) or self.tokens.cache.get(CURRENCIES_NS, document_id)
        return known or self.company_currency.upper()

__all__ = [
    "DEFAULT_AUTH_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "SageConnector",
    "SageCursor",
]
