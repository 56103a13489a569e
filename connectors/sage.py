"""Sage Business Cloud Accounting API v3.1: contacts, sales invoices, credit notes, payments.

OAuth2 (authorization code, see ``sync/auth_sage.py``): access tokens last minutes, refresh tokens
rotate at every refresh.  :class:`SageTokens` stores each new refresh token in the state store's
cache — committed at once — *before* the access token that came with it is used, so a crash right
after a refresh never leaves encours holding only the invalidated one.

Listings follow ``$next`` with ``items_per_page=200``.  An incremental pull asks each resource for
``updated_or_created_since`` and, separately, ``deleted_since`` the previous pull (minus a look-back
of five minutes, timestamps from the server's ``Date`` header).  Status ids are read from
``/artefact_statuses``; Sage's error array becomes one readable sentence.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests

from encours.connectors.access import EndpointCheck, probe
from encours.connectors.base import Cache
from encours.connectors.checkpoint import Checkpoint
from encours.connectors.fields import Fields
from encours.connectors.http import Clock, HttpClient, _text_excerpt, shared_budget
from encours.connectors.model import (
    Allocation,
    Contact,
    CreditKind,
    Customer,
    Delta,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    SourceInfo,
    UnallocatedCredit,
    credit_from_payment,
    to_cents,
)
from encours.connectors.pages import NextLinkPaginator, PageRequest, SinceCursor, walk
from encours.connectors.quarantine import Quarantine
from encours.connectors.source_errors import AuthenticationError, MalformedResponseError, NotFoundError

log = logging.getLogger("encours.sage")

PLATFORM = "sage"
DEFAULT_BASE_URL = "https://api.accounting.sage.com/v3.1"
DEFAULT_AUTH_URL = "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1"
DEFAULT_TOKEN_URL = "https://oauth.accounting.sage.com/token"
TOKENS_NS = "sage.oauth"
#: Sage states no v3.1 limit and sends no rate-limit headers (v3.0 said 200 calls a minute per
#: business): half of that, client-side, unless ``[source] requests_per_minute`` says otherwise.
DEFAULT_REQUESTS_PER_MINUTE = 100
LOOK_BACK = timedelta(minutes=5)

#: Sage artefact status ids -> normalised status (ids are confirmed against /artefact_statuses).
STATUSES: dict[str, InvoiceStatus] = {
    "DRAFT": InvoiceStatus.DRAFT,
    "UNPAID": InvoiceStatus.OPEN,
    "PART_PAID": InvoiceStatus.PARTIALLY_PAID,
    "PAID": InvoiceStatus.PAID,
    "VOID": InvoiceStatus.CANCELLED,
}
_LOCALES = {"fr": "fr", "nl": "nl", "en": "en"}

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
#: How many times a listing that changed while it was read is read again.
LISTING_TRIES = 3
CURRENCIES_NS = "sage.currencies"
#: Suffix of the id of the credit an overpaid invoice leaves (invoice id + suffix).
OVERPAID = "-overpaid"

#: One small read per listing for ``encours check`` (the sync's own filters).
ENDPOINT_PROBES: tuple[tuple[str, dict[str, str]], ...] = (
    ("/artefact_statuses", {}),
    ("/contacts", {"contact_type_id": "CUSTOMER"}),
    ("/sales_invoices", {}),
    ("/sales_credit_notes", {}),
    ("/contact_payments", {}),
    ("/contact_allocations", {}),
)


def sage_error_text(response: requests.Response) -> str:
    """``[{"$severity", "$dataCode", "$message", "$source"}]`` or ``{"error": …}`` as one sentence."""
    try:
        body = response.json()
    except ValueError:
        return _text_excerpt(response)
    if isinstance(body, list):
        parts = []
        for item in body:
            if isinstance(item, dict):
                code = item.get("$dataCode") or item.get("$severity") or ""
                message = item.get("$message") or ""
                source = item.get("$source") or ""
                parts.append(f"{code}: {message}" + (f" ({source})" if source else ""))
        if parts:
            return "; ".join(parts)
    if isinstance(body, dict):
        error = body.get("error")
        if error:
            described = body.get("error_description")
            return f"{error}" + (f": {described}" if described else "")
    return json.dumps(body)


class SageTokens:
    """Access tokens on demand; every rotated refresh token is persisted before it is relied on."""

    def __init__(
        self,
        cache: Cache,
        *,
        client_id: str,
        client_secret: str,
        token_url: str = DEFAULT_TOKEN_URL,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self.http = HttpClient(
            PLATFORM, token_url, session=session, secrets=[client_secret], error_text=sage_error_text
        )
        self.http.add_secret(client_id)
        self._access: str | None = None
        self._expires_at = 0.0

    def add_secret(self, value: str) -> None:
        self.http.add_secret(value)

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.client_secret, self._access, self.cache.get(TOKENS_NS, "refresh_token")) if s]

    def access_token(self) -> str:
        if self._access is None or self.clock() >= self._expires_at - 30:
            self.refresh()
        assert self._access is not None
        return self._access

    def refresh(self) -> bool:
        stored = self.cache.get(TOKENS_NS, "refresh_token")
        if not stored:
            raise AuthenticationError(
                "no Sage authorisation is stored yet: run `encours auth sage -c <config>` once",
                platform=PLATFORM,
                endpoint="POST /token",
            )
        self.http.add_secret(stored)
        self._grant({"grant_type": "refresh_token", "refresh_token": stored})
        return True

    def exchange_code(self, code: str, redirect_uri: str) -> None:
        self.http.add_secret(code)
        self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    def _grant(self, form: Mapping[str, str]) -> None:
        data = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        try:
            response = self.http.request(
                "POST",
                "",
                data=data,
                endpoint="POST /token",
                authenticated=False,
                headers={"Accept": "application/json"},
            )
        except Exception as exc:
            if "invalid_grant" in str(exc):
                raise AuthenticationError(
                    "Sage refused the stored authorisation (invalid_grant: expired, revoked or already used): "
                    "run `encours auth sage -c <config>` again",
                    platform=PLATFORM,
                    endpoint="POST /token",
                ) from None
            raise
        body = Fields(self.http.json_of(response, endpoint="POST /token"), platform=PLATFORM, endpoint="POST /token")
        access = body.text("access_token")
        refresh = body.text("refresh_token")
        self.http.add_secret(access)
        self.http.add_secret(refresh)
        # Persist the rotated refresh token (committed at once) before the access token is used.
        self.cache.put(TOKENS_NS, "refresh_token", refresh)
        expires_in = body.decimal("expires_in", required=False) or Decimal(300)
        self._access = access
        self._expires_at = self.clock() + float(expires_in)


SageCursor = SinceCursor


def sage_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


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
        since = {"updated_or_created_since": sage_time(previous.since)} if previous else {}
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
                no_credit.append(f"{invoice.id}{OVERPAID}")
            else:
                credits.append(overpaid)
        payments += [p for raw in self._list("/contact_allocations", since) if (p := self._allocation(raw)) is not None]
        deleted_invoices: list[str] = []
        deleted_customers: list[str] = []
        deleted_payments: list[str] = []
        if previous is not None:
            gone = {"deleted_since": sage_time(previous.since)}
            for path in ("/sales_invoices", "/sales_credit_notes"):
                deleted_invoices += [self._id(raw, path) for raw in self._list(path, gone, all_attributes=False)]
            deleted_customers = [self._id(raw, "/contacts") for raw in self._list("/contacts", gone, False)]
            for path in ("/contact_payments", "/contact_allocations"):
                deleted_payments += [self._id(raw, path) for raw in self._list(path, gone, all_attributes=False)]
            self.quarantine.release_all(deleted_invoices)
            no_credit += deleted_payments + [f"{i}{OVERPAID}" for i in deleted_invoices]
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
        try:
            invoice = self.refetch_invoice(invoice_id)
        except MalformedResponseError as exc:
            self.quarantine.add(invoice_id, exc)
            return None
        self.quarantine.release(invoice_id)
        return invoice

    def refetch_invoices(self, invoice_ids: Iterable[str]) -> dict[str, Invoice | None]:
        """The invoices of a pass read again right before sending, in a few requests.

        Sage has no filter by id: the open invoices (``UNPAID``, ``PART_PAID``) are listed, 200 a
        page, and only the wanted ids missing from that list (paid, voided or deleted since) are
        read one by one.  ``None``: gone at the source; an id absent from the answer could not be
        read as an invoice (quarantined) and must not be reminded.
        """
        wanted = set(invoice_ids)
        statuses = self.statuses()
        found: dict[str, Invoice | None] = {}
        for status in ("UNPAID", "PART_PAID"):
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
            unknown = sorted(set(STATUSES) - set(found))
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
        f = Fields(raw, platform=PLATFORM, endpoint="GET /contacts")
        person = f.obj("main_contact_person", required=False)
        contacts: tuple[Contact, ...] = ()
        if person is not None:
            contacts = (
                Contact(
                    name=person.text("name", required=False),
                    email=person.text("email", required=False),
                    phone=person.text("telephone", required=False) or person.text("mobile", required=False),
                    role=person.text("job_title", required=False),
                ),
            )
        email = f.text("email", required=False)
        address, country = _address(f.obj("main_address", required=False))
        locale = f.text("locale", required=False)[:2].lower()
        credit_days = f.decimal("credit_days", required=False)
        return Customer(
            id=f.id(),
            name=f.text("name", required=False) or f.text("displayed_as"),
            source=PLATFORM,
            emails=(email,) if email else (),
            phone=contacts[0].phone if contacts else "",
            contacts=contacts,
            language=_LOCALES.get(locale, ""),
            vat_number=f.text("tax_number", required=False),
            reference=f.text("reference", required=False),
            payment_terms_days=int(credit_days) if credit_days is not None else None,
            address=address,
            country=country,
            updated_at=f.datetime("updated_at"),
        )

    def _invoice(self, raw: Any, statuses: Mapping[str, str], endpoint: str) -> Invoice | None:
        f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
        if f.datetime("deleted_at") is not None:
            return None
        is_credit = "credit_note" in endpoint
        status_obj = f.obj("status", required=False)
        status_id = status_obj.id() if status_obj else ""
        label = statuses.get(status_id, "") or (status_obj.text("displayed_as", required=False) if status_obj else "")
        status = STATUSES.get(status_id, InvoiceStatus.UNKNOWN)
        if statuses and status_id not in statuses:
            status = InvoiceStatus.UNKNOWN  # an id this business does not declare: shown, never reminded
        currency_obj = f.obj("currency", required=False)
        currency = (currency_obj.id() if currency_obj else self.company_currency).upper()
        total = Money(to_cents(abs(f.amount("total_amount"))), currency)
        outstanding = to_cents(f.amount("outstanding_amount"))
        extra: tuple[tuple[str, str], ...] = ()
        if outstanding < 0 and not is_credit:
            # Paid more than it was worth: the invoice is settled and the excess is the
            # customer's credit (see _overpayments), never a debt.
            extra = (("overpaid", str(-outstanding)),)
            outstanding = Decimal(0)
            if status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
                status = InvoiceStatus.PAID
        remaining = Money(abs(outstanding), currency)
        if status is InvoiceStatus.CANCELLED:
            remaining = Money.zero(currency)
        remaining_company = None
        if currency != self.company_currency:
            base = f.decimal("base_currency_outstanding_amount", required=False)
            if base is None:
                raise f.fail(f"field 'base_currency_outstanding_amount' is missing on a {currency} document")
            remaining_company = Money(to_cents(abs(base)) if remaining.amount else Decimal(0), self.company_currency)
        contact = f.obj("contact")
        assert contact is not None
        number_key = "credit_note_number" if is_credit else "invoice_number"
        issue = f.date("date")
        assert issue is not None
        return Invoice(
            id=f.id(),
            number=f.text(number_key, required=False) or f.text("displayed_as", required=False),
            customer_id=contact.id(),
            source=PLATFORM,
            issue_date=issue,
            due_date=f.date("due_date", required=False),
            total=total,
            remaining=remaining,
            kind=DocumentKind.CREDIT_NOTE if is_credit else DocumentKind.INVOICE,
            status=status,
            source_status=label or status_id,
            label=f.text("reference", required=False),
            remaining_company=remaining_company,
            updated_at=f.datetime("updated_at"),
            extra=extra,
        )

    def _overpayment(self, invoice: Invoice) -> UnallocatedCredit | None:
        """The excess of an overpaid invoice (negative ``outstanding_amount``): the customer's credit."""
        excess = dict(invoice.extra).get("overpaid")
        if not excess:
            return None
        return UnallocatedCredit(
            id=f"{invoice.id}{OVERPAID}",
            customer_id=invoice.customer_id,
            source=PLATFORM,
            date=invoice.updated_at.date() if invoice.updated_at else invoice.issue_date,
            amount=Money(Decimal(excess), invoice.currency),
            kind=CreditKind.PAYMENT_ON_ACCOUNT,
            reference=invoice.number,
            label=f"trop-perçu sur {invoice.number}",
            updated_at=invoice.updated_at,
        )

    def _payment_credit(self, raw: Any, payment: Payment) -> UnallocatedCredit | None:
        """What of a customer receipt is still unallocated: a payment on account's
        ``outstanding_amount`` (it shrinks as Sage allocates it later), else the receipt minus
        its allocations."""
        f = Fields(raw, platform=PLATFORM, endpoint="GET /contact_payments")
        on_account = f.obj("payment_on_account", required=False)
        if on_account is None:
            return credit_from_payment(payment)
        left = on_account.decimal("outstanding_amount", required=False)
        if left is None:
            return credit_from_payment(payment)
        if left <= 0:
            return None
        base = on_account.decimal("base_currency_outstanding_amount", required=False)
        foreign = payment.amount.currency != self.company_currency.upper()
        in_company = Money(to_cents(base), self.company_currency.upper()) if foreign and base is not None else None
        return UnallocatedCredit(
            id=payment.id,
            customer_id=payment.customer_id,
            source=PLATFORM,
            date=payment.date,
            amount=Money(to_cents(left), payment.amount.currency),
            kind=CreditKind.PAYMENT_ON_ACCOUNT,
            reference=payment.reference,
            label="acompte",
            amount_company=in_company,
        )

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

    def _payment(self, raw: Any) -> Payment | None:
        f = Fields(raw, platform=PLATFORM, endpoint="GET /contact_payments")
        kind = f.obj("transaction_type", required=False)
        kind_id = kind.id() if kind else ""
        if kind_id and not kind_id.startswith("CUSTOMER"):
            return None  # vendor payments
        currency_obj = f.obj("currency", required=False)
        currency = (currency_obj.id() if currency_obj else self.company_currency).upper()
        allocations = []
        for item in f.list("allocated_artefacts", required=False):
            line = Fields(item, platform=PLATFORM, endpoint="GET /contact_payments", record=f.record)
            artefact = line.obj("artefact")
            assert artefact is not None
            allocations.append(Allocation(artefact.id(), Money(to_cents(abs(line.amount("amount"))), currency)))
        contact = f.obj("contact")
        assert contact is not None
        when = f.date("date")
        assert when is not None
        method = f.obj("payment_method", required=False)
        return Payment(
            id=f.id(),
            customer_id=contact.id(),
            source=PLATFORM,
            date=when,
            amount=Money(to_cents(abs(f.amount("total_amount"))), currency),
            allocations=tuple(allocations),
            method=(method.text("displayed_as", required=False) if method else "") or "transfer",
            reference=f.text("reference", required=False),
        )

    def _allocation(self, raw: Any) -> Payment | None:
        """A credit note set against invoices: a payment by credit note."""
        f = Fields(raw, platform=PLATFORM, endpoint="GET /contact_allocations")
        contact = f.obj("contact")
        assert contact is not None
        when = f.date("date")
        assert when is not None
        allocations = []
        for item in f.list("allocated_artefacts", required=False):
            line = Fields(item, platform=PLATFORM, endpoint="GET /contact_allocations", record=f.record)
            artefact = line.obj("artefact")
            assert artefact is not None
            path = artefact.text("$path", required=False)
            amount = line.amount("amount")
            if "sales_invoices" in path or (not path and amount > 0):
                # An allocation states no currency: it is the documents' (a GBP credit note set
                # against a GBP invoice is GBP, not the company's currency).
                currency = self._currency_of(artefact.id())
                allocations.append(Allocation(artefact.id(), Money(to_cents(abs(amount)), currency)))
        if not allocations:
            return None
        currencies = {a.amount.currency for a in allocations}
        if len(currencies) > 1:
            raise f.fail(f"one allocation sets documents in {', '.join(sorted(currencies))} against each other")
        total = sum((a.amount.amount for a in allocations), Decimal(0))
        return Payment(
            id=f.id(),
            customer_id=contact.id(),
            source=PLATFORM,
            date=when,
            amount=Money(total, currencies.pop()),
            allocations=tuple(allocations),
            method="credit_note",
        )


def _address(main: Fields | None) -> tuple[str, str]:
    """``main_address`` as one line (street, postal code and city) and its country code."""
    if main is None:
        return "", ""
    street = ", ".join(p for p in (main.text(k, required=False) for k in ("address_line_1", "address_line_2")) if p)
    town = " ".join(p for p in (main.text("postal_code", required=False), main.text("city", required=False)) if p)
    country = main.obj("country", required=False)
    return ", ".join(p for p in (street, town) if p), country.id() if country else ""


__all__ = [
    "DEFAULT_AUTH_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_TOKEN_URL",
    "MalformedResponseError",
    "SageConnector",
    "SageCursor",
    "SageTokens",
    "sage_error_text",
]
