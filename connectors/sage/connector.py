"""Sage Business Cloud Accounting API v3.1: contacts, sales invoices, credit notes, payments — the pull logic.

OAuth2 (authorization code, see ``sync/auth_sage.py``): tokens in :mod:`.tokens`; every request
through :mod:`.client` (one method per endpoint); records mapped by :mod:`.mapping` (pure).

An incremental pull asks each resource for ``updated_or_created_since`` and, separately,
``deleted_since`` the previous pull (minus a look-back of five minutes, timestamps from the
server's ``Date`` header).  Status ids are read from ``/artefact_statuses``.  A record that cannot
be mapped — contact, invoice, credit note, payment, allocation — is quarantined
(:mod:`encours.connectors.quarantine`): left out, named in the summary, read again at the next sync
until it maps; a contact, a credit note, a payment or an allocation holds its customer's reminders
meanwhile.  The re-check before sending is :mod:`.recheck`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import requests

from encours.connectors.access import EndpointCheck, probe
from encours.connectors.checkpoint import Checkpoint
from encours.connectors.fields import Fields
from encours.connectors.http import Clock, HttpClient, shared_budget
from encours.connectors.model import Customer, Delta, Invoice, Payment, SourceInfo, UnallocatedCredit
from encours.connectors.pages import SinceCursor
from encours.connectors.quarantine import ALLOCATION, CUSTOMER, INVOICE, PAYMENT, Quarantine
from encours.connectors.sage import mapping
from encours.connectors.sage.client import DOCUMENTS, SORTABLE, SageClient
from encours.connectors.sage.recheck import Rechecked, recheck
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
CURRENCIES_NS = "sage.currencies"

#: What a Sage user needs for each listing the sync reads, in Sage's role names.
ROLES_NEEDED = {
    "/artefact_statuses": "any role in this business",
    "/contacts": "a Contacts role (Read Only or more)",
    "/sales_invoices": "a Sales role (Read Only or more)",
    "/sales_credit_notes": "a Sales role (Read Only or more)",
    "/contact_payments": "a Bank role (Read Only or more)",
    "/contact_allocations": "Full Access in Sales, Purchases and Contacts",
}
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
        self._statuses: dict[str, str] | None = None
        self.quarantine = Quarantine(tokens.cache, PLATFORM)
        self.checkpoint = Checkpoint(tokens.cache, PLATFORM)
        self.client = SageClient(self.http, self.checkpoint, base_url)
        self._currencies: dict[str, str] = {}
        #: Since when this process's pull read the changes (its cursor): the re-check asks Sage
        #: only what changed after it (None: no pull yet in this process).
        self.pulled_since: datetime | None = None

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
        body = self.client.businesses()
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
                body = self.client.first_page(path, params)
                items = body.get("$items") if isinstance(body, dict) else body
                if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("id"):
                    first[path] = str(items[0]["id"])

            return call

        results.append(probe("GET /businesses/{id}", lambda: self.client.business(self.business_id),
                             needs="access to this business (check [source] business_id)"))
        for path, params in ENDPOINT_PROBES:
            results.append(probe(f"GET {path}", listing(path, params), needs=ROLES_NEEDED[path]))
        # Reads by id: the re-check (an invoice) and the next sync's retries of quarantined records.
        by_id: tuple[tuple[str, Callable[[str], Any]], ...] = (
            ("/sales_invoices", lambda i: self.client.document("/sales_invoices", i)),
            ("/contacts", self.client.contact),
            ("/contact_payments", self.client.contact_payment),
            ("/contact_allocations", self.client.contact_allocation),
        )
        for path, read in by_id:
            ident = first.get(path, "")
            endpoint = f"GET {path}/{{id}}"
            if ident:
                results.append(probe(endpoint, partial(read, ident), needs=ROLES_NEEDED[path], missing_ok=True))
            else:
                results.append(EndpointCheck(endpoint, True, "not tried: no record to read yet"))
        return results

    def check(self) -> SourceInfo:
        endpoint = "GET /businesses/{id}"
        business = Fields(self.client.business(self.business_id), platform=PLATFORM, endpoint=endpoint)
        name = business.text("name", required=False) or business.text("displayed_as", required=False)
        count = 0
        for status in ("UNPAID", "PART_PAID"):
            body = self.client.first_page("/sales_invoices", {"status_id": status})
            total = Fields(body, platform=PLATFORM, endpoint="GET /sales_invoices").decimal("$total", required=False)
            count += int(total or 0)
        return SourceInfo(PLATFORM, name or self.business_id, count, f"business {self.business_id}")

    def pull(self, cursor: str | None) -> Delta:
        try:
            return self._pull(cursor)
        finally:
            self.client.resumable = False
            self.quarantine.save()

    def _pull(self, cursor: str | None) -> Delta:
        previous = SageCursor.loads(cursor) if cursor else None
        since = {"updated_or_created_since": mapping.sage_time(previous.since)} if previous else {}
        statuses = self.statuses()
        started = self._server_now()
        full = previous is None
        self.client.resumable = full
        if full:
            began = self.checkpoint.start(self.http.clock())
            if self.checkpoint.resumed_pages:
                started = min(started, datetime.fromtimestamp(began, UTC))  # changes since the first try
        listed: dict[str, set[str]] = {kind: set() for kind in (INVOICE, CUSTOMER, PAYMENT, ALLOCATION)}
        customers = self._customers(self.client.contacts({"contact_type_id": "CUSTOMER", **since}), listed[CUSTOMER])
        invoices: list[Invoice] = []
        for path in DOCUMENTS:
            for raw in self.client.documents(path, since):
                listed[INVOICE].add(self._raw_id(raw))
                invoices.extend(i for i in [self.document_or_hold(raw, statuses, f"GET {path}")] if i is not None)
        payments: list[Payment] = []
        credits: list[UnallocatedCredit] = []
        no_credit: list[str] = []  # payments and invoices read again that leave no credit (any more)
        raw_payments = self.client.contact_payments(since)
        raw_allocations = self.client.contact_allocations(since)
        if full:
            self._release_unlisted(listed, raw_payments, raw_allocations)
        else:  # quarantined last time: asked again until they map (or are gone)
            customers += self._retried_customers(listed[CUSTOMER])
            invoices += [i for held in self.quarantine.held() if held not in listed[INVOICE]
                         if (i := self.refetch_or_hold(held)) is not None]
            raw_payments += self._retried(PAYMENT, raw_payments, self.client.contact_payment)
            raw_allocations += self._retried(ALLOCATION, raw_allocations, self.client.contact_allocation)
        self._remember_currencies(invoices)
        for raw in raw_payments:
            ok, mapped = self._hold_or_map(raw, self._payment_and_credit, PAYMENT, "GET /contact_payments")
            if not ok or mapped is None:
                continue
            payment, credit = mapped
            payments.append(payment)
            if credit is None:
                no_credit.append(payment.id)
            else:
                credits.append(credit)
        for invoice in invoices:
            overpaid = mapping.overpayment(invoice)
            if overpaid is None:
                no_credit.append(f"{invoice.id}{mapping.OVERPAID}")
            else:
                credits.append(overpaid)
        for raw in raw_allocations:
            ok, allocation = self._hold_or_map(raw, self._allocation, ALLOCATION, "GET /contact_allocations")
            if ok and allocation is not None:
                payments.append(allocation)
        deleted_invoices: list[str] = []
        deleted_customers: list[str] = []
        deleted_payments: list[str] = []
        if previous is not None:
            gone = mapping.sage_time(previous.since)
            for path in DOCUMENTS:
                deleted_invoices += [self._id(raw, path) for raw in self.client.deleted(path, gone)]
            deleted_customers = [self._id(raw, "/contacts") for raw in self.client.deleted("/contacts", gone)]
            for path, kind in (("/contact_payments", PAYMENT), ("/contact_allocations", ALLOCATION)):
                ids = [self._id(raw, path) for raw in self.client.deleted(path, gone)]
                self.quarantine.release_all(ids, kind)
                deleted_payments += ids
            self.quarantine.release_all(deleted_invoices)
            self.quarantine.release_all(deleted_customers, CUSTOMER)
            no_credit += deleted_payments + [f"{i}{mapping.OVERPAID}" for i in deleted_invoices]
        if full:
            self.checkpoint.finish()
        self.pulled_since = started - LOOK_BACK
        return Delta(
            customers=tuple(customers),
            invoices=tuple(invoices),
            payments=tuple(payments),
            deleted_invoice_ids=tuple(deleted_invoices),
            deleted_customer_ids=tuple(deleted_customers),
            deleted_payment_ids=tuple(deleted_payments),
            full=full,
            cursor=SageCursor(self.pulled_since).dumps(),
            credits=tuple(credits),
            deleted_credit_ids=tuple(no_credit) if previous is not None else (),
        )

    # -- quarantine ---------------------------------------------------------------------------
    def _hold_or_map(self, raw: Any, read: Callable[[Any], Any], kind: str, endpoint: str) -> tuple[bool, Any]:
        """``read(raw)``, or the record quarantined holding its contact's reminders in its currency
        (an allocation states none: in every currency)."""
        currency = "" if kind == ALLOCATION else mapping.currency_hint(raw, self.company_currency)
        return self.quarantine.attempt(raw, read, kind=kind, endpoint=endpoint, customer=mapping.owner_hint(raw),
                                       currency=currency)

    def _customers(self, raws: Iterable[Any], listed: set[str]) -> list[Customer]:
        customers = []
        for raw in raws:
            listed.add(self._raw_id(raw))
            ok, customer = self.quarantine.attempt(raw, mapping.customer, kind=CUSTOMER, endpoint="GET /contacts")
            if ok and customer is not None:
                customers.append(customer)
        return customers

    def _retried_customers(self, listed: set[str]) -> list[Customer]:
        return self._customers(self._retried(CUSTOMER, [{"id": i} for i in listed], self.client.contact), listed)

    def _retried(self, kind: str, listed: Iterable[Any], read: Callable[[str], Any]) -> list[Any]:
        """The raw records of ``kind`` quarantined before and not listed by this pull, read one by
        one; one gone since (404) is released."""
        seen = {self._raw_id(raw) for raw in listed}
        found = []
        for ident in self.quarantine.held(kind):
            if ident in seen:
                continue
            try:
                found.append(read(ident))
            except NotFoundError:
                self.quarantine.release(ident, kind)
        return found

    def _release_unlisted(self, listed: dict[str, set[str]], payments: list[Any], allocations: list[Any]) -> None:
        """After a full listing: a quarantined record it no longer has is gone."""
        listed[PAYMENT] = {self._raw_id(raw) for raw in payments}
        listed[ALLOCATION] = {self._raw_id(raw) for raw in allocations}
        for kind, ids in listed.items():
            self.quarantine.release_all((i for i in self.quarantine.held(kind) if i not in ids), kind)

    def document_or_hold(self, raw: Any, statuses: Mapping[str, str], endpoint: str) -> Invoice | None:
        """The document mapped, or ``None`` after quarantining it (one odd record never stops a
        sync); a credit note left out holds its customer's reminders (they may owe less)."""
        ok, invoice = self.quarantine.attempt(
            raw, lambda r: self._invoice(r, statuses, endpoint), kind=INVOICE, endpoint=endpoint,
            customer=mapping.owner_hint(raw), currency=mapping.currency_hint(raw, self.company_currency),
            holds="credit_note" in endpoint,
        )
        return invoice if ok else None

    def refetch_or_hold(self, invoice_id: str) -> Invoice | None:
        return self.quarantine.guarded(invoice_id, self.refetch_invoice)

    # -- re-check -----------------------------------------------------------------------------
    def refetch_invoices(self, invoice_ids: Iterable[str]) -> Rechecked:
        """The invoices of a pass as Sage has them right before sending, in a few requests
        whatever their number (see :mod:`.recheck`)."""
        return recheck(self, set(invoice_ids))

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        statuses = self.statuses()
        for path in DOCUMENTS:
            try:
                raw = self.client.document(path, invoice_id)
            except NotFoundError:
                continue
            return self._invoice(raw, statuses, f"GET {path}/{{id}}")
        return None

    def statuses(self) -> dict[str, str]:
        """Artefact status id -> label, read once from ``/artefact_statuses``."""
        if self._statuses is None:
            found: dict[str, str] = {}
            for raw in self.client.artefact_statuses():
                f = Fields(raw, platform=PLATFORM, endpoint="GET /artefact_statuses")
                found[f.id()] = f.text("displayed_as", required=False)
            unknown = sorted(set(mapping.STATUSES) - set(found))
            if unknown:
                log.warning("sage: /artefact_statuses does not list %s", ", ".join(unknown))
            self._statuses = found
        return self._statuses

    def _server_now(self) -> datetime:
        stamp = self.http.last_date if self.http.last_date is not None else self.http.clock()
        return datetime.fromtimestamp(stamp, UTC)

    def _id(self, raw: Any, path: str) -> str:
        return Fields(raw, platform=PLATFORM, endpoint=f"GET {path}").id()

    @staticmethod
    def _raw_id(raw: Any) -> str:
        return str(raw.get("id", "")) if isinstance(raw, dict) else ""

    # -- records ------------------------------------------------------------------------------
    def _invoice(self, raw: Any, statuses: Mapping[str, str], endpoint: str) -> Invoice | None:
        return mapping.invoice(raw, statuses, endpoint, self.company_currency)

    def _payment_and_credit(self, raw: Any) -> tuple[Payment, UnallocatedCredit | None] | None:
        """A customer receipt and what of it is still unallocated (None: a vendor payment)."""
        payment = mapping.payment(raw, self.company_currency)
        return None if payment is None else (payment, mapping.payment_credit(raw, payment, self.company_currency))

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
    "SORTABLE",
    "MalformedResponseError",
    "SageConnector",
    "SageCursor",
]
