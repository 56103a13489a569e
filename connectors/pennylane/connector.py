"""Pennylane Company API v2: customers, invoices, credit notes and their payments.

Requests (all GET; base ``https://app.pennylane.com/api/external/v2``, bearer token):

* full pull: ``/customers`` and ``/customer_invoices`` pages (100 a page, ``filter``/``sort``
  resent on every page), then for each paid or partly paid invoice issued inside the scoring
  window *one* ``/customer_invoices/{id}/matched_transactions`` call — the bank transactions carry
  the payment dates.  Those details are kept in the state store's cache (namespace
  ``pennylane.payments``): a fully paid invoice is asked about once, ever; a partly paid one again
  only when its remaining amount moves.  Only when an invoice has no matched transaction (marked
  paid by hand) is ``/payments`` asked instead, dated by its creation.  Contacts
  (``/customers/{id}/contacts``) are fetched for customers with open invoices and cached by the
  customer's ``updated_at``.
* incremental pull: ``/changelogs/customer_invoices``, ``/changelogs/customers`` and
  ``/changelogs/transactions`` since the previous pull (minus a 5-minute look-back), then the
  changed invoices and customers re-read in batches of 100 ids.  A 422 (older than the 4-week
  retention) turns the pull into a full one.

Non-EUR invoices: ``currency_amount`` is the total in the invoice currency, ``amount`` the same
total in EUR.  ``remaining_amount_with_tax`` is *reported* (unconfirmed) to be converted to EUR;
encours assumes so, converts it back with the invoice's own EUR/currency ratio, and refuses a
record that contradicts the assumption (see :func:`_remaining`).
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
from encours.connectors.model import (
    Customer,
    Delta,
    Invoice,
    Payment,
    SourceInfo,
    UnallocatedCredit,
)
from encours.connectors.pages import CursorPaginator, PageRequest, SinceCursor, paginate, walk
from encours.connectors.pennylane import mapping
from encours.connectors.pennylane.checks import check_endpoints
from encours.connectors.pennylane.details import InvoiceDetails
from encours.connectors.quarantine import Quarantine
from encours.connectors.source_errors import ClientRequestError, MalformedResponseError, NotFoundError

log = logging.getLogger("encours.pennylane")

PLATFORM = mapping.PLATFORM
DEFAULT_BASE_URL = "https://app.pennylane.com/api/external/v2"
LOOK_BACK = timedelta(minutes=5)
ID_BATCH = 100
TX_SAMPLE = 5  # changed bank transactions always followed to their invoices (see _invoices_of_transactions)

PennylaneCursor = SinceCursor


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
        self.details = InvoiceDetails(
            self._list, cache, self.quarantine, window_start=self.window_start, fetch_contacts=fetch_contacts
        )
        self._checkpointed: dict[str, str] = {}  # path -> checkpoint listing, during a full pull

    # -- Connector ----------------------------------------------------------------------------
    def check_endpoints(self) -> list[EndpointCheck]:
        """Every endpoint the sync and the re-check use, each read once (see :mod:`.checks`)."""
        return check_endpoints(self.http, self._server_now())

    def check(self) -> SourceInfo:
        me = self.http.get_json("/me", endpoint="GET /me")
        fields = Fields(me, platform=PLATFORM, endpoint="GET /me")
        company = fields.obj("company", required=False)
        name = company.text("name", required=False) if company else ""
        open_count = sum(1 for inv in self._iter_invoices() if inv is not None and inv.is_open)
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
        endpoint = "GET /customer_invoices/{id}"
        try:
            raw = self.http.get_json(f"/customer_invoices/{invoice_id}", endpoint=endpoint, record=invoice_id)
        except NotFoundError:
            return None
        return self._invoice(raw, endpoint)

    def refetch_invoices(self, invoice_ids: Iterable[str]) -> dict[str, Invoice | None]:
        """The invoices of a pass read again right before sending, 100 per request (``id in``).

        ``None``: the invoice no longer exists (or became a draft).  An id absent from the answer
        could not be read as an invoice (a record quarantined): it must not be reminded.
        """
        wanted = sorted(set(invoice_ids), key=mapping.id_order)
        found: dict[str, Invoice | None] = {}
        for invoice in self._changed_invoices(wanted):
            found[invoice.id] = invoice
        for ident in wanted:
            if ident not in found and ident not in self.quarantine.found:
                found[ident] = None
        return found

    # -- full ---------------------------------------------------------------------------------
    def _pull_full(self) -> Delta:
        self._listed = set()
        began = self.checkpoint.start(self.http.clock())
        customers = [self._customer(raw) for raw in self._list_full("/customers", {"sort": "id"}, "GET /customers")]
        started = self._server_now()
        if self.checkpoint.resumed_pages:
            started = min(started, datetime.fromtimestamp(began, UTC))  # changes since the first try
        invoices: list[Invoice] = []
        payments: list[Payment] = []
        self._checkpointed["/customer_invoices"] = "customer_invoices"
        try:
            for page in self._invoice_pages():
                # Details right after their page: the page's parsing then fits in the rate-limit waits.
                payments.extend(self.details.payments_for(page))
                invoices.extend(self.details.trusted(page))
        finally:
            self._checkpointed.pop("/customer_invoices", None)
        customers = self.details.with_contacts(customers, invoices)
        self.quarantine.release_all(i for i in self.quarantine.held() if i not in self._listed)  # gone
        since = [{"field": "date", "operator": "gteq", "value": self.window_start.isoformat()}]
        self._checkpointed["/transactions"] = "transactions"
        try:
            credits = self._transaction_credits({"filter": json.dumps(since, separators=(",", ":"))})
        finally:
            self._checkpointed.pop("/transactions", None)
        self.checkpoint.finish()
        return Delta(
            customers=tuple(customers),
            invoices=tuple(invoices),
            payments=tuple(payments),
            full=True,
            cursor=PennylaneCursor(started - LOOK_BACK).dumps(),
            credits=tuple(c for c in credits.values() if c is not None),
        )

    def _transaction_credits(self, params: Mapping[str, Any]) -> dict[str, UnallocatedCredit | None]:
        """Credit id -> the customer's unmatched incoming transaction, or None (nothing left)."""
        found: dict[str, UnallocatedCredit | None] = {}
        for raw in self._list("/transactions", {**params, "sort": "id"}, "GET /transactions"):
            ident = str(raw.get("id", "")) if isinstance(raw, dict) else ""
            found[mapping.credit_id(ident)] = mapping.credit_of_transaction(raw, self.company_currency)
        return found

    def _iter_invoices(self, extra_filter: list[dict[str, Any]] | None = None) -> Iterator[Invoice]:
        for page in self._invoice_pages(extra_filter):
            yield from page

    def _invoice_pages(self, extra_filter: list[dict[str, Any]] | None = None) -> Iterator[list[Invoice]]:
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
            for raws in self._pages("/customer_invoices", params, endpoint):
                started = True
                yield [inv for raw in raws if (inv := self._invoice_or_hold(raw, endpoint)) is not None]
        except ClientRequestError as exc:
            # How a boolean is written in a filter is not spelled out: if "false" is refused,
            # list drafts too (they are skipped here anyway) rather than fail.
            if exc.status != 400 or started or not draft:
                raise
            log.warning("pennylane: the draft filter was refused (%s): listing drafts too", exc)
            self._draft_filter_refused = True
            yield from self._invoice_pages(extra_filter)

    def _invoice_or_hold(self, raw: Any, endpoint: str) -> Invoice | None:
        """The record mapped, or ``None`` after quarantining it (an odd record never stops a sync)."""
        ident = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") is not None else ""
        if ident:
            self._listed.add(ident)
        try:
            invoice = self._invoice(raw, endpoint)
        except MalformedResponseError as exc:
            if not ident:
                raise  # without an id there is nothing to retry: the answer itself is broken
            self.quarantine.add(ident, exc)
            return None
        self.quarantine.release(ident)
        return invoice

    # -- incremental --------------------------------------------------------------------------
    def _pull_changes(self, previous: PennylaneCursor) -> Delta:
        since = mapping.rfc3339(previous.since)
        started = self._server_now()
        invoice_ops = self._changes("customer_invoices", since)
        customer_ops = self._changes("customers", since)
        transaction_ops = self._changes("transactions", since)
        started = min(started, self._server_now())

        changed_invoices = {i for i, op in invoice_ops.items() if op != "delete"}
        deleted_invoices = sorted((i for i, op in invoice_ops.items() if op == "delete"), key=mapping.id_order)
        self.quarantine.release_all(deleted_invoices)
        changed_invoices |= set(self.quarantine.held()) - set(deleted_invoices)  # retried until mapped
        changed_invoices |= self._invoices_of_transactions(
            [tx for tx, op in transaction_ops.items() if op != "delete"], changed_invoices
        )
        changed_customers = {i for i, op in customer_ops.items() if op != "delete"}
        deleted_customers = sorted((i for i, op in customer_ops.items() if op == "delete"), key=mapping.id_order)
        credits: dict[str, UnallocatedCredit | None] = {}
        changed_tx = sorted((t for t, op in transaction_ops.items() if op != "delete"), key=mapping.id_order)
        for batch in mapping.batches(changed_tx, ID_BATCH):
            credits.update(self._transaction_credits({"filter": json.dumps([{"field": "id", "operator": "in",
                                                                             "value": batch}])}))
        gone_tx = [mapping.credit_id(t) for t, op in transaction_ops.items() if op == "delete"]

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
            deleted_credit_ids=tuple(gone_tx) + tuple(k for k, c in credits.items() if c is None),
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
                invoices.extend(self._iter_invoices([{"field": "id", "operator": "in", "value": batch}]))
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
            params = {"filter": json.dumps([{"field": "id", "operator": "in", "value": batch}]), "sort": "id"}
            try:
                customers.extend(self._customer(raw) for raw in self._list("/customers", params, "GET /customers"))
            except ClientRequestError as exc:
                if exc.status != 400:
                    raise
                log.warning("pennylane: the id filter was refused (%s): re-reading customers one by one", exc)
                for ident in batch:
                    try:
                        raw = self.http.get_json(f"/customers/{ident}", endpoint="GET /customers/{id}", record=ident)
                    except NotFoundError:
                        continue
                    customers.append(self._customer(raw))
        return customers

    def _changes(self, resource: str, since: str) -> dict[str, str]:
        """The last operation seen for each record id since *since* (events come oldest first)."""
        endpoint = f"GET /changelogs/{resource}"
        ops: dict[str, str] = {}
        pager = CursorPaginator(limit=1000)
        for page in paginate(
            lambda req: self._fetch_changes(req, endpoint),
            pager,
            f"/changelogs/{resource}",
            {"start_date": since},
            platform=PLATFORM,
            endpoint=endpoint,
        ):
            for raw in page:
                fields = Fields(raw, platform=PLATFORM, endpoint=endpoint)
                operation = fields.text("operation")
                if operation not in ("insert", "update", "delete"):
                    raise fields.fail(f"unknown changelog operation {operation!r}")
                ops[fields.id()] = operation
        return ops

    def _fetch_changes(self, request: PageRequest, endpoint: str) -> Any:
        params = dict(request.params)
        if "cursor" in params:
            params.pop("start_date", None)  # start_date and cursor together answer 400
        return self.http.get_json(request.path, params=params, endpoint=endpoint)

    def _invoices_of_transactions(self, transaction_ids: list[str], already: set[str]) -> set[str]:
        """Invoices matched to changed bank transactions that the invoice changelog did not list.

        Whether matching a payment emits an invoice changelog event is unconfirmed.  The first
        :data:`TX_SAMPLE` transactions are always followed (one request each); when every invoice
        they paid is already in the invoice changelog, the changelog is trusted for the rest;
        otherwise (or when a transaction pays a supplier invoice) every transaction is followed.
        """
        found: set[str] = set()
        for index, tx_id in enumerate(transaction_ids):
            matched = set(self._matched_invoice_ids(tx_id))
            found |= matched
            if index + 1 == TX_SAMPLE and found <= already:
                log.info(
                    "pennylane: the invoice changelog lists the invoices of the %d sampled transactions: "
                    "the other %d are not followed one by one",
                    TX_SAMPLE,
                    len(transaction_ids) - TX_SAMPLE,
                )
                break
        return found - already

    def _matched_invoice_ids(self, transaction_id: str) -> list[str]:
        endpoint = "GET /transactions/{id}/matched_invoices"
        try:
            items = list(
                self._list(f"/transactions/{transaction_id}/matched_invoices", {}, endpoint, record=transaction_id)
            )
        except NotFoundError:
            return []
        customer_matches = [raw for raw in items if not mapping.is_supplier_match(raw)]
        return [Fields(raw, platform=PLATFORM, endpoint=endpoint).id() for raw in customer_matches]

    # -- listing ------------------------------------------------------------------------------
    def _list(self, path: str, params: Mapping[str, Any], endpoint: str, record: str = "") -> Iterator[Any]:
        for page in self._pages(path, params, endpoint, record):
            yield from page

    def _pages(self, path: str, params: Mapping[str, Any], endpoint: str, record: str = "") -> Iterator[list[Any]]:
        def fetch(request: PageRequest) -> Any:
            return self.http.get_json(request.path, params=request.params, endpoint=endpoint, record=record)

        pager = CursorPaginator(limit=100)
        listing = self._checkpointed.get(path)
        if listing is None:
            yield from paginate(fetch, pager, path, params, platform=PLATFORM, endpoint=endpoint)
            return
        # A full pull: pages kept by an interrupted pull first, then on from where it stopped.
        yield from self.checkpoint.kept(listing)
        start = self.checkpoint.next_request(listing, pager.first(path, params))
        for items, following in walk(fetch, pager, start, platform=PLATFORM, endpoint=endpoint):
            self.checkpoint.page_read(listing, items, following)
            yield items

    def _list_full(self, path: str, params: Mapping[str, Any], endpoint: str) -> Iterator[Any]:
        """A listing of the full pull, kept page by page so that an interrupted pull resumes."""
        self._checkpointed[path] = path.strip("/").replace("/", "_")
        try:
            yield from self._list(path, params, endpoint)
        finally:
            self._checkpointed.pop(path, None)

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
