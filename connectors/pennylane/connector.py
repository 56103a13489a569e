"""Pennylane Company API v2: customers, invoices, credit notes and their payments — the pull logic.

Requests go through :mod:`.client` (one method per endpoint); records are mapped by :mod:`.mapping`.

* full pull: ``/customers``, ``/customer_invoices`` and ``/transactions`` pages, each kept by the
  checkpoint (an interrupted pull resumes), then for each paid or partly paid invoice issued
  inside the scoring window its payment dates and its customer's contacts (:mod:`.details`,
  asked once and cached).
* incremental pull: ``/changelogs/customer_invoices``, ``/changelogs/customers`` and
  ``/changelogs/transactions`` since the previous pull (minus a 5-minute look-back), then the
  changed records re-read in batches of 100 ids.  A 422 (older than the 4-week retention) turns
  the pull into a full one.

A record that cannot be mapped — invoice, customer, bank transaction, a transaction's matched
invoices — is quarantined (:mod:`encours.connectors.quarantine`): left out, named in the summary,
asked for again at the next sync; a customer, a transaction or a credit note holds its customer's
reminders until it maps.

Non-EUR invoices: ``remaining_amount_with_tax`` is *reported* (unconfirmed) to be in EUR; encours
assumes so, converts it back with the invoice's own ratio, and quarantines a record that
contradicts the assumption (see :func:`.mapping.remaining_of`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from encours.connectors.access import EndpointCheck
from encours.connectors.base import Cache
from encours.connectors.checkpoint import Checkpoint
from encours.connectors.fields import Fields
from encours.connectors.http import HttpClient, Pacer
from encours.connectors.model import Customer, Delta, Invoice, Payment, SourceInfo, UnallocatedCredit
from encours.connectors.pages import SinceCursor
from encours.connectors.pennylane import mapping
from encours.connectors.pennylane.changes import ChangeFeed
from encours.connectors.pennylane.checks import check_endpoints
from encours.connectors.pennylane.client import PennylaneClient
from encours.connectors.pennylane.details import InvoiceDetails
from encours.connectors.quarantine import ALLOCATION, CUSTOMER, INVOICE, PAYMENT, Quarantine
from encours.connectors.source_errors import ClientRequestError, MalformedResponseError, NotFoundError

log = logging.getLogger("encours.pennylane")

PLATFORM = mapping.PLATFORM
DEFAULT_BASE_URL = "https://app.pennylane.com/api/external/v2"
LOOK_BACK = timedelta(minutes=5)
ID_BATCH = 100

PennylaneCursor = SinceCursor


def _id_filter(ids: list[str]) -> str:
    return json.dumps([{"field": "id", "operator": "in", "value": ids}])


class PennylaneConnector:
    """:class:`encours.connectors.base.Connector` for one Pennylane company."""

    source = PLATFORM

    def __init__(
        self,
        token: str,
        *,
        cache: Cache,
        as_of: date,
        base_url: str = DEFAULT_BASE_URL,
        company_currency: str = "EUR",
        scoring_window_days: int = 730,
        fetch_contacts: bool = True,
        http: HttpClient | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Pennylane token is required")
        extra: dict[str, Any] = {}
        if sleep is not None:
            extra["sleep"] = sleep
        if clock is not None:
            extra["clock"] = clock
        self.http = http or HttpClient(
            PLATFORM,
            base_url,
            secrets=[token],
            headers={"Accept": "application/json"},
            auth=lambda: {"Authorization": f"Bearer {token}"},
            pacer=Pacer(reserve=0),
            credentials_key="the token named by [source] token_env",
            **extra,
        )
        self.http.add_secret(token)
        self.cache = cache
        self.as_of = as_of
        self.company_currency = company_currency.upper()
        self.window_start = as_of - timedelta(days=scoring_window_days)
        self.fetch_contacts = fetch_contacts
        self._draft_filter_refused = False
        self.quarantine = Quarantine(cache, PLATFORM)
        self._conditions: dict[str, str] = {}  # customer id -> payment_conditions, as listed
        self._listed: set[str] = set()  # ids of the invoice records the listings returned
        self.checkpoint = Checkpoint(cache, PLATFORM)
        self.client = PennylaneClient(self.http, self.checkpoint)
        self._changes = ChangeFeed(self.client, self.quarantine)
        self.details = InvoiceDetails(
            self.client, cache, self.quarantine, window_start=self.window_start, fetch_contacts=fetch_contacts
        )

    # -- Connector ----------------------------------------------------------------------------
    def check_endpoints(self) -> list[EndpointCheck]:
        """Every endpoint the sync and the re-check use, each read once (see :mod:`.checks`)."""
        return check_endpoints(self.client, self._server_now())

    def check(self) -> SourceInfo:
        fields = Fields(self.client.me(), platform=PLATFORM, endpoint="GET /me")
        company = fields.obj("company", required=False)
        name = company.text("name", required=False) if company else ""
        open_count = sum(1 for page in self._invoice_pages() for inv in page if inv.is_open)
        user = fields.obj("user", required=False)
        who = user.text("email", required=False) if user else ""
        return SourceInfo(PLATFORM, name or "(company name not given)", open_count, f"token of {who}" if who else "")

    def pull(self, cursor: str | None) -> Delta:
        previous = PennylaneCursor.loads(cursor) if cursor else None
        try:
            if previous is not None:
                try:
                    return self._pull_changes(previous)
                except ClientRequestError as exc:
                    if exc.status != 422:
                        raise
                    log.warning("pennylane: changes older than the 4-week retention (422): full resync")
            return self._pull_full()
        finally:
            self.details.flush()  # details fetched before a failure are kept: not asked again next time
            self.quarantine.save()

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        try:
            raw = self.client.invoice(invoice_id)
        except NotFoundError:
            return None
        return self._invoice(raw, "GET /customer_invoices/{id}")

    def refetch_invoices(self, invoice_ids: Iterable[str]) -> dict[str, Invoice | None]:
        """The invoices of a pass read again right before sending, 100 per request (``id in``).

        ``None``: the invoice no longer exists (or became a draft).  An id absent from the answer
        could not be read as an invoice (a record quarantined): it must not be reminded.
        """
        wanted = sorted(set(invoice_ids), key=mapping.id_order)
        found: dict[str, Invoice | None] = {invoice.id: invoice for invoice in self._changed_invoices(wanted)}
        for ident in wanted:
            if ident not in found and ident not in self.quarantine.found:
                found[ident] = None
        return found

    # -- full ---------------------------------------------------------------------------------
    def _pull_full(self) -> Delta:
        self._listed = set()
        began = self.checkpoint.start(self.http.clock())
        listed_customers: set[str] = set()
        customers = self._customers(self.client.customer_pages({"sort": "id"}, listing="customers"), listed_customers)
        started = self._server_now()
        if self.checkpoint.resumed_pages:
            started = min(started, datetime.fromtimestamp(began, UTC))  # changes since the first try
        invoices: list[Invoice] = []
        payments: list[Payment] = []
        for page in self._invoice_pages(listing="customer_invoices"):
            # Details right after their page: the page's parsing then fits in the rate-limit waits.
            payments.extend(self.details.payments_for(page))
            invoices.extend(self.details.trusted(page))
        customers = self.details.with_contacts(customers, invoices)
        since = [{"field": "date", "operator": "gteq", "value": self.window_start.isoformat()}]
        params = {"filter": json.dumps(since, separators=(",", ":"))}
        listed_tx: set[str] = set()
        credits = self._transaction_credits(params, listing="transactions", listed=listed_tx)
        # What a full listing no longer has is gone: no longer quarantined.
        self.quarantine.release_all(i for i in self.quarantine.held() if i not in self._listed)
        self.quarantine.release_all((i for i in self.quarantine.held(CUSTOMER) if i not in listed_customers), CUSTOMER)
        self.quarantine.release_all((i for i in self.quarantine.held(PAYMENT) if i not in listed_tx), PAYMENT)
        self.quarantine.release_all(self.quarantine.held(ALLOCATION), ALLOCATION)  # every invoice was read
        self.checkpoint.finish()
        return Delta(
            customers=tuple(customers),
            invoices=tuple(invoices),
            payments=tuple(payments),
            full=True,
            cursor=PennylaneCursor(started - LOOK_BACK).dumps(),
            credits=tuple(c for c in credits.values() if c is not None),
        )

    def _customers(self, pages: Iterable[list[Any]], listed: set[str] | None = None) -> list[Customer]:
        """The customers that map; the others quarantined (their reminders held until they do)."""
        customers: list[Customer] = []
        for page in pages:
            for raw in page:
                if listed is not None and isinstance(raw, dict) and raw.get("id") is not None:
                    listed.add(str(raw["id"]))
                ok, customer = self.quarantine.attempt(raw, self._customer, kind=CUSTOMER, endpoint="GET /customers")
                if ok and customer is not None:
                    customers.append(customer)
        return customers

    def _transaction_credits(
        self, params: Mapping[str, Any], *, listing: str = "", listed: set[str] | None = None
    ) -> dict[str, UnallocatedCredit | None]:
        """Credit id -> the customer's unmatched incoming transaction, or None (nothing left).
        A transaction that cannot be mapped is quarantined and absent (its stored credit kept)."""
        return self._credits_of(self.client.transactions({**params, "sort": "id"}, listing=listing), listed)

    def _credits_of(self, raws: Iterable[Any], listed: set[str] | None = None) -> dict[str, UnallocatedCredit | None]:
        found: dict[str, UnallocatedCredit | None] = {}
        for raw in raws:
            ident = str(raw.get("id", "")) if isinstance(raw, dict) else ""
            if listed is not None:
                listed.add(ident)
            self._changes.owners[ident] = (mapping.owner_hint(raw), mapping.currency_hint(raw, self.company_currency))
            ok, credit = self.quarantine.attempt(
                raw, lambda r: mapping.credit_of_transaction(r, self.company_currency), kind=PAYMENT,
                endpoint="GET /transactions", customer=mapping.owner_hint(raw),
                currency=mapping.currency_hint(raw, self.company_currency),
            )
            if ok:
                found[mapping.credit_id(ident)] = credit
        return found

    def _changed_transactions(self, ids: list[str]) -> dict[str, UnallocatedCredit | None]:
        """Changed (or quarantined) transactions re-read 100 at a time; an id the filter's answer
        leaves out is read on its own (gone: its credit goes, and it is no longer quarantined)."""
        credits: dict[str, UnallocatedCredit | None] = {}
        for batch in mapping.batches(ids, ID_BATCH):
            listed: set[str] = set()
            credits.update(self._transaction_credits({"filter": _id_filter(batch)}, listed=listed))
            for ident in batch:
                if ident in listed:
                    continue
                try:
                    raw = self.client.transaction(ident)
                except NotFoundError:
                    self.quarantine.release(ident, PAYMENT)
                    credits[mapping.credit_id(ident)] = None
                    continue
                credits.update(self._credits_of([raw]))
        return credits

    def _invoice_pages(
        self, extra_filter: list[dict[str, Any]] | None = None, *, listing: str = ""
    ) -> Iterator[list[Invoice]]:
        endpoint = "GET /customer_invoices"
        draft: list[dict[str, Any]] = [{"field": "draft", "operator": "eq", "value": "false"}]
        if self._draft_filter_refused:
            draft = []
        filters = [*draft, *(extra_filter or [])]
        params: dict[str, Any] = {"sort": "id"}
        if filters:
            params["filter"] = json.dumps(filters, separators=(",", ":"))
        started = False
        try:
            for raws in self.client.invoice_pages(params, listing=listing):
                started = True
                yield [inv for raw in raws if (inv := self._invoice_or_hold(raw, endpoint)) is not None]
        except ClientRequestError as exc:
            # How a boolean is written in a filter is not spelled out: if "false" is refused,
            # list drafts too (they are skipped here anyway) rather than fail.
            if exc.status != 400 or started or not draft:
                raise
            log.warning("pennylane: the draft filter was refused (%s): listing drafts too", exc)
            self._draft_filter_refused = True
            yield from self._invoice_pages(extra_filter, listing=listing)

    def _invoice_or_hold(self, raw: Any, endpoint: str) -> Invoice | None:
        """The record mapped, or ``None`` after quarantining it (an odd record never stops a sync).
        A credit note left out holds its customer's reminders: what they owe may be less."""
        if isinstance(raw, dict) and raw.get("id") is not None:
            self._listed.add(str(raw["id"]))
        ok, invoice = self.quarantine.attempt(
            raw, lambda r: self._invoice(r, endpoint), kind=INVOICE, endpoint=endpoint,
            customer=mapping.owner_hint(raw), currency=mapping.currency_hint(raw, self.company_currency),
            holds=mapping.may_be_credit(raw),
        )
        return invoice if ok else None

    # -- incremental --------------------------------------------------------------------------
    def _pull_changes(self, previous: PennylaneCursor) -> Delta:
        since = mapping.rfc3339(previous.since)
        started = self._server_now()
        invoice_ops = self._changes.operations("customer_invoices", since)
        customer_ops = self._changes.operations("customers", since)
        transaction_ops = self._changes.operations("transactions", since)
        started = min(started, self._server_now())

        deleted_invoices = sorted((i for i, op in invoice_ops.items() if op == "delete"), key=mapping.id_order)
        deleted_customers = sorted((i for i, op in customer_ops.items() if op == "delete"), key=mapping.id_order)
        gone_tx = {t for t, op in transaction_ops.items() if op == "delete"}
        self.quarantine.release_all(deleted_invoices)
        self.quarantine.release_all(deleted_customers, CUSTOMER)
        self.quarantine.release_all(gone_tx, PAYMENT)
        self.quarantine.release_all(gone_tx, ALLOCATION)
        # Records quarantined before are asked again until they map.
        changed_tx = sorted({t for t, op in transaction_ops.items() if op != "delete"}
                            | set(self.quarantine.held(PAYMENT)), key=mapping.id_order)
        credits = self._changed_transactions(changed_tx)
        changed_invoices = {i for i, op in invoice_ops.items() if op != "delete"}
        changed_invoices |= set(self.quarantine.held()) - set(deleted_invoices)
        followed = sorted({t for t, op in transaction_ops.items() if op != "delete"}
                          | set(self.quarantine.held(ALLOCATION)), key=mapping.id_order)
        changed_invoices |= self._changes.invoices_of_transactions(followed, changed_invoices)
        changed_customers = ({i for i, op in customer_ops.items() if op != "delete"}
                             | set(self.quarantine.held(CUSTOMER))) - set(deleted_customers)

        invoices = self._changed_invoices(sorted(changed_invoices, key=mapping.id_order))
        payments = self.details.payments_for(invoices)
        invoices = self.details.trusted(invoices)
        customers = self._changed_customers(sorted(changed_customers, key=mapping.id_order))
        customers = self.details.with_contacts(customers, invoices)
        return Delta(
            customers=tuple(customers),
            invoices=tuple(invoices),
            payments=tuple(payments),
            deleted_invoice_ids=tuple(deleted_invoices),
            deleted_customer_ids=tuple(deleted_customers),
            full=False,
            cursor=PennylaneCursor(started - LOOK_BACK).dumps(),
            credits=tuple(c for c in credits.values() if c is not None),
            deleted_credit_ids=tuple(mapping.credit_id(t) for t in sorted(gone_tx))
            + tuple(k for k, c in credits.items() if c is None),
        )

    def _changed_invoices(self, ids: list[str]) -> list[Invoice]:
        """Re-read changed invoices 100 at a time (``id in`` filter), one by one if that is refused.

        The shape of an ``in`` value (a JSON array here) is not spelled out by the reference: a 400
        falls back to ``GET /customer_invoices/{id}`` for each, slower but certain.
        """
        invoices: list[Invoice] = []
        for batch in mapping.batches(ids, ID_BATCH):
            self._listed = set()
            try:
                for page in self._invoice_pages([{"field": "id", "operator": "in", "value": batch}]):
                    invoices.extend(page)
            except ClientRequestError as exc:
                if exc.status != 400:
                    raise
                log.warning("pennylane: the id filter was refused (%s): re-reading invoices one by one", exc)
                invoices.extend(inv for i in batch if (inv := self._refetch_or_hold(i)) is not None)
                continue
            # The answer to an ``id in`` filter is checked: an id it left out (a draft, a record
            # the filter does not see) is read on its own rather than silently kept as it was.
            missing = [i for i in batch if i not in self._listed]
            if missing:
                log.info("pennylane: %d id(s) missing from the id filter's answer: read one by one", len(missing))
                invoices.extend(inv for i in missing if (inv := self._refetch_or_hold(i)) is not None)
        return invoices

    def _refetch_or_hold(self, invoice_id: str) -> Invoice | None:
        return self.quarantine.guarded(invoice_id, self.refetch_invoice)

    def _changed_customers(self, ids: list[str]) -> list[Customer]:
        customers: list[Customer] = []
        for batch in mapping.batches(ids, ID_BATCH):
            listed: set[str] = set()
            try:
                pages = self.client.customer_pages({"filter": _id_filter(batch), "sort": "id"})
                customers.extend(self._customers(pages, listed))
            except ClientRequestError as exc:
                if exc.status != 400:
                    raise
                log.warning("pennylane: the id filter was refused (%s): re-reading customers one by one", exc)
            # One by one: all of them when the filter is refused, else those its answer left out
            # (gone: released, so that it holds nothing any more).
            for ident in batch:
                if ident in listed:
                    continue
                try:
                    raw = self.client.customer(ident)
                except NotFoundError:
                    self.quarantine.release(ident, CUSTOMER)
                    continue
                customers.extend(self._customers([[raw]]))
        return customers

    def _server_now(self) -> datetime:
        stamp = self.http.last_date if self.http.last_date is not None else self.http.clock()
        return datetime.fromtimestamp(stamp, UTC)

    # -- records ------------------------------------------------------------------------------
    def _customer(self, raw: Any) -> Customer:
        customer, conditions = mapping.customer(raw)
        self._conditions[customer.id] = conditions
        return customer

    def _invoice(self, raw: Any, endpoint: str) -> Invoice | None:
        return mapping.invoice(raw, endpoint, company_currency=self.company_currency, conditions=self._conditions)


__all__ = ["DEFAULT_BASE_URL", "MalformedResponseError", "PennylaneConnector", "PennylaneCursor"]
