"""Odoo 14 to 19: posted customer invoices and credit notes, instalments, payments, customers.

The version is detected first (``common.version``, or the configured ``version``): 19 and later
speak JSON-2 (``POST /json/2/<model>/<method>``, bearer API key); 14 to 18 JSON-RPC (``/jsonrpc``,
default) or XML-RPC (``/xmlrpc/2/…``), after ``authenticate`` — which answers ``false`` for a wrong
login or key.  13 and older are refused with a clear message.  Every call goes through the one
HTTP layer (timeouts, retries of reads, redaction).

* invoices: ``account.move`` ``out_invoice``/``out_refund`` with ``payment_state`` and
  ``amount_residual`` (document currency; ``amount_residual_signed`` is the company-currency
  figure for foreign documents), grouped by ``commercial_partner_id``; salesperson from
  ``invoice_user_id``; ``company_id`` restricted by ``company_ids``.
* instalments: the receivable ``account.move.line`` of each invoice (``date_maturity``).
* payments: ``account.partial.reconcile`` on those lines — one payment share per match, dated by
  the paying line (a bank payment or a credit note).
* incremental: ``write_date >=`` the last one seen minus a look-back, ordered ``write_date, id``.
  Deletions are not tracked by Odoo: once a day (by ``as_of``) the ids of posted invoices are
  compared with those of the previous comparison, which the cursor carries (compressed).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import xmlrpc.client
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any, Protocol

import requests

from encours.connectors.access import EndpointCheck, probe
from encours.connectors.errors import SourceError
from encours.connectors.fields import Fields, parse_timestamp
from encours.connectors.http import HttpClient, _text_excerpt
from encours.connectors.model import (
    Allocation,
    Contact,
    CreditKind,
    Customer,
    Delta,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    SourceInfo,
    UnallocatedCredit,
    to_cents,
)
from encours.connectors.pages import OffsetPaginator, PageRequest, paginate
from encours.connectors.source_errors import (
    AuthenticationError,
    ClientRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    UnsupportedVersionError,
)

log = logging.getLogger("encours.odoo")

PLATFORM = "odoo"
PAGE = 500
BATCH = 500
LOOK_BACK = timedelta(minutes=2)
ODOO_TIME = "%Y-%m-%d %H:%M:%S"

PAYMENT_STATES: dict[str, InvoiceStatus] = {
    "not_paid": InvoiceStatus.OPEN,
    "partial": InvoiceStatus.PARTIALLY_PAID,
    "in_payment": InvoiceStatus.PAID,  # registered, awaiting the bank statement: nothing left to claim
    "paid": InvoiceStatus.PAID,
    "reversed": InvoiceStatus.CANCELLED,  # fully credited by a credit note
}
MOVE_FIELDS = [
    "name",
    "move_type",
    "state",
    "payment_state",
    "partner_id",
    "commercial_partner_id",
    "invoice_date",
    "invoice_date_due",
    "amount_total",
    "amount_residual",
    "amount_total_signed",
    "amount_residual_signed",
    "currency_id",
    "company_id",
    "invoice_user_id",
    "reversed_entry_id",
    "payment_reference",
    "ref",
    "write_date",
]
LINE_FIELDS = [
    "move_id",
    "date",
    "date_maturity",
    "debit",
    "credit",
    "amount_currency",
    "amount_residual",
    "amount_residual_currency",
    "currency_id",
    "reconciled",
]
PARTNER_FIELDS = ["name", "email", "phone", "vat", "ref", "lang", "is_company", "commercial_partner_id", "user_id",
                  "type", "function", "street", "street2", "zip", "city", "country_code", "company_registry"]
_LANGS = {"fr": "fr", "nl": "nl", "en": "en"}


# -- transports ---------------------------------------------------------------------------------
class Transport(Protocol):
    name: str

    def call(self, model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any: ...


class OdooLoginError(AuthenticationError):
    """The login or the API key is refused: a configuration to fix, nothing was done (exit 2)."""

    exit_code = 2


class OdooDatabaseError(NotFoundError):
    """The database named in the configuration does not exist on this server (exit 2)."""

    exit_code = 2


class OdooRightsError(PermissionDeniedError):
    """The Odoo user may not read what encours needs (exit 2)."""

    exit_code = 2


_KEY_HINT = "check [source] login and the API key named by [source] api_key_env"


def _odoo_error(platform_endpoint: str, message: str, name: str = "") -> SourceError:
    """One line a user can act on: the key of encours.toml to fix, never the server's stack or host."""
    where = {"platform": PLATFORM, "endpoint": platform_endpoint}
    text = f"{message} ({name})" if name else message
    if "Access Denied" in message or "AccessDenied" in name:
        return OdooLoginError(f"{text}: wrong login or API key — {_KEY_HINT}", **where)
    if "database" in message.lower() and ("does not exist" in message or "OperationalError" in name
                                          or "KeyError" in name):
        return OdooDatabaseError("no such database on this server — check [source] database", **where)
    if "AccessError" in name:
        model = platform_endpoint.rsplit(".", 1)[0]
        return OdooRightsError(
            f"the user of [source] login may not read {model} — give it the Invoicing (Billing) read rights",
            **where,
        )
    if "MissingError" in name:
        return NotFoundError(text, **where)
    return ClientRequestError(text, status=200, **where)


def _jsonrpc_error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _text_excerpt(response)
    if isinstance(body, dict):  # JSON-2: {name, message, arguments, context, debug}
        message = body.get("message")
        name = body.get("name")
        if isinstance(message, str) and message:
            return message + (f" ({name})" if name else "")
    return json.dumps(body)


class JsonRpcTransport:
    """Odoo 14–18 ``POST /jsonrpc`` (service ``object``, method ``execute_kw``)."""

    name = "JSON-RPC"

    def __init__(self, http: HttpClient, database: str, api_key: str) -> None:
        self.http = http
        self.database = database
        self.api_key = api_key
        self.uid: int | None = None
        self._ids = count(1)

    def service(self, service: str, method: str, args: Sequence[Any], endpoint: str) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": next(self._ids),
        }
        response = self.http.request("POST", "/jsonrpc", json_body=body, read=True, endpoint=endpoint)
        envelope = self.http.json_of(response, endpoint=endpoint)
        if not isinstance(envelope, dict):
            raise MalformedResponseError("the answer is not a JSON-RPC envelope", platform=PLATFORM, endpoint=endpoint)
        if envelope.get("error"):
            error = envelope["error"]
            data = error.get("data") or {} if isinstance(error, dict) else {}
            message = str(data.get("message") or (error.get("message") if isinstance(error, dict) else error))
            raise _odoo_error(endpoint, self.http.redact(message), str(data.get("name", "")))
        if "result" not in envelope:
            raise MalformedResponseError("the JSON-RPC answer has no result", platform=PLATFORM, endpoint=endpoint)
        return envelope["result"]

    def version(self) -> Any:
        return self.service("common", "version", [], "common.version")

    def authenticate(self, login: str) -> int:
        uid = self.service("common", "authenticate", [self.database, login, self.api_key, {}], "common.authenticate")
        if not uid or not isinstance(uid, int):
            raise OdooLoginError(
                f"wrong login or API key for database {self.database!r} (authenticate answered false) — {_KEY_HINT}",
                platform=PLATFORM,
                endpoint="common.authenticate",
            )
        self.uid = uid
        return uid

    def call(self, model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        return self.service(
            "object",
            "execute_kw",
            [self.database, self.uid, self.api_key, model, method, list(args), dict(kwargs)],
            f"{model}.{method}",
        )


class XmlRpcTransport(JsonRpcTransport):
    """Odoo 14–18 XML-RPC (``/xmlrpc/2/common``, ``/xmlrpc/2/object``), sent through the HTTP layer."""

    name = "XML-RPC"

    def service(self, service: str, method: str, args: Sequence[Any], endpoint: str) -> Any:
        body = xmlrpc.client.dumps(tuple(args), method, allow_none=True)
        response = self.http.request(
            "POST",
            f"/xmlrpc/2/{service}",
            data=body.encode("utf-8"),  # type: ignore[arg-type]
            headers={"Content-Type": "text/xml"},
            read=True,
            endpoint=endpoint,
        )
        try:
            result, _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            text = self.http.redact(str(fault.faultString)).strip().splitlines()
            last = text[-1] if text else "fault"
            raise _odoo_error(endpoint, last, "AccessDenied" if "Access Denied" in last else "") from None
        except Exception:
            raise MalformedResponseError(
                f"answered HTTP {response.status_code} with something that is not XML-RPC: "
                f"{self.http.redact(_text_excerpt(response))[:120]!r}",
                platform=PLATFORM,
                endpoint=endpoint,
            ) from None
        return result[0] if result else None


class Json2Transport:
    """Odoo 19+ ``POST /json/2/<model>/<method>`` with named arguments and a bearer API key."""

    name = "JSON-2"

    def __init__(self, http: HttpClient, database: str) -> None:
        self.http = http
        self.database = database

    def call(self, model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        endpoint = f"{model}.{method}"
        body = dict(kwargs)
        if args:  # positional arguments of the methods encours uses, named as JSON-2 wants them
            names = {"search_read": ["domain"], "search_count": ["domain"], "search": ["domain"], "read": ["ids"]}
            for name, value in zip(names.get(method, []), args, strict=False):
                body[name] = value
        response = self.http.request("POST", f"/json/2/{model}/{method}", json_body=body, read=True, endpoint=endpoint)
        return self.http.json_of(response, endpoint=endpoint)


# -- cursor -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OdooCursor:
    since: str  # Odoo UTC "YYYY-MM-DD HH:MM:SS": the latest write_date seen
    ids_checked_on: str = ""  # ISO date of the last id comparison
    known_ids: tuple[int, ...] = field(default=())

    def dumps(self) -> str:
        return json.dumps(
            {"v": 1, "since": self.since, "ids_checked_on": self.ids_checked_on, "ids": _pack(self.known_ids)}
        )

    @classmethod
    def loads(cls, text: str) -> OdooCursor | None:
        try:
            data = json.loads(text)
            return cls(str(data["since"]), str(data.get("ids_checked_on", "")), _unpack(str(data.get("ids", ""))))
        except (ValueError, KeyError, TypeError, zlib.error):
            return None


def _pack(ids: Iterable[int]) -> str:
    ordered = sorted(set(ids))
    gaps = [b - a for a, b in zip([0, *ordered], ordered, strict=False)]
    return base64.b64encode(zlib.compress(",".join(map(str, gaps)).encode())).decode()


def _unpack(text: str) -> tuple[int, ...]:
    if not text:
        return ()
    gaps = zlib.decompress(base64.b64decode(text)).decode()
    ids, total = [], 0
    for gap in filter(None, gaps.split(",")):
        total += int(gap)
        ids.append(total)
    return tuple(ids)


def major_version(info: Any) -> int:
    """The major version from ``common.version()`` (``server_version_info`` or ``server_version``)."""
    if isinstance(info, dict):
        parts = info.get("server_version_info")
        if isinstance(parts, list) and parts:
            head = parts[0]
            if isinstance(head, int):
                return head
            match = re.search(r"(\d+)", str(head))
            if match:
                return int(match.group(1))
        info = info.get("server_version") or info.get("version") or ""
    match = re.search(r"(\d+)", str(info))
    if not match:
        raise MalformedResponseError(f"cannot read a version from {info!r}", platform=PLATFORM, endpoint="version")
    return int(match.group(1))


class OdooConnector:
    """:class:`encours.connectors.base.Connector` for one Odoo database (one or several companies)."""

    source = PLATFORM

    def __init__(
        self,
        url: str,
        *,
        database: str,
        login: str,
        api_key: str,
        as_of: date,
        company_ids: tuple[int, ...] = (),
        version: str | None = None,
        protocol: str = "jsonrpc",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self.as_of = as_of
        self.company_ids = company_ids
        self.protocol = protocol
        self._api_key = api_key
        self.http = HttpClient(
            PLATFORM,
            self.url,
            session=session,
            secrets=[api_key],
            error_text=_jsonrpc_error_text,
            sleep=sleep,
        )
        self._version_text = version
        self.major: int | None = None
        self._transport: Transport | None = None
        self._company_currency: dict[str, str] = {}
        self._company_names: dict[str, str] = {}
        self._lines: dict[str, list[Fields]] = {}

    # -- connection ---------------------------------------------------------------------------
    def connect(self) -> Transport:
        if self._transport is not None:
            return self._transport
        rpc: JsonRpcTransport = (
            XmlRpcTransport(self.http, self.database, self._api_key)
            if self.protocol == "xmlrpc"
            else JsonRpcTransport(self.http, self.database, self._api_key)
        )
        if self._version_text:
            major = major_version(self._version_text)
        else:
            try:
                major = major_version(rpc.version())
            except NotFoundError:  # external RPC removed (Odoo 22+): ask the web client
                body = self.http.get_json("/web/version", endpoint="GET /web/version")
                major = major_version(
                    body.get("version_info") or body.get("version") if isinstance(body, dict) else body
                )
        self.major = major
        if major < 14:
            raise UnsupportedVersionError(
                f"this server runs Odoo {major}: encours supports Odoo 14 to 19 "
                "(12 and older keep invoices in account.invoice, 13 names the payment state differently)",
                platform=PLATFORM,
                endpoint="common.version",
            )
        if major >= 19:
            self.http.auth = lambda: {"Authorization": f"bearer {self._api_key}", "X-Odoo-Database": self.database}
            self.http.error_text = _jsonrpc_error_text
            transport: Transport = Json2Transport(self.http, self.database)
        else:
            rpc.authenticate(self.login)
            transport = rpc
        self._transport = transport
        self._load_companies()
        return transport

    def _context(self) -> dict[str, Any]:
        return {"allowed_company_ids": list(self.company_ids)} if self.company_ids else {}

    def _call(self, model: str, method: str, args: Sequence[Any] = (), **kwargs: Any) -> Any:
        transport = self.connect()
        if self._context():
            kwargs.setdefault("context", self._context())
        try:
            return transport.call(model, method, args, kwargs)
        except AuthenticationError as exc:
            if isinstance(transport, Json2Transport):
                raise OdooLoginError(
                    f"wrong API key or database (HTTP 401) — check [source] database and the API key named by "
                    f"[source] api_key_env ({exc})",
                    platform=PLATFORM,
                    endpoint=f"{model}.{method}",
                ) from None
            raise

    def _search_read(self, model: str, domain: list[Any], fields: list[str], order: str = "id asc") -> Iterator[Any]:
        endpoint = f"{model}.search_read"

        def fetch(request: PageRequest) -> Any:
            params = request.params
            return self._call(
                model,
                "search_read",
                [domain],
                fields=fields,
                offset=params["offset"],
                limit=params["limit"],
                order=order,
            )

        for page in paginate(fetch, OffsetPaginator(limit=PAGE), model, {}, platform=PLATFORM, endpoint=endpoint):
            yield from page

    def _load_companies(self) -> None:
        domain: list[Any] = [("id", "in", list(self.company_ids))] if self.company_ids else []
        for raw in self._search_read("res.company", domain, ["name", "currency_id"]):
            f = Fields(raw, platform=PLATFORM, endpoint="res.company.search_read")
            currency = f.many2one("currency_id")
            self._company_currency[f.id()] = currency[1] if currency else "EUR"
            self._company_names[f.id()] = f.text("name", required=False)

    # -- Connector ----------------------------------------------------------------------------
    def check(self) -> SourceInfo:
        transport = self.connect()
        domain = [*self._invoice_domain(posted_only=True), ("payment_state", "in", ["not_paid", "partial"])]
        open_count = self._call("account.move", "search_count", [domain])
        if not isinstance(open_count, int):
            raise MalformedResponseError(
                "search_count did not answer a number", platform=PLATFORM, endpoint="account.move.search_count"
            )
        companies = ", ".join(n for n in self._company_names.values() if n) or "no company visible"
        return SourceInfo(
            PLATFORM, f"{self.database} ({companies})", open_count, f"Odoo {self.major}, {transport.name}"
        )

    #: Every model the sync and the re-check read, with the rights a user needs for it (Odoo's words).
    CHECKED_MODELS: tuple[tuple[str, str], ...] = (
        ("account.move", "Invoicing / Billing (read) on invoices and credit notes"),
        ("account.move.line", "Invoicing / Billing (read) on journal items (instalments, payments on account)"),
        ("account.partial.reconcile", "Invoicing / Billing (read) on reconciliations (payment dates)"),
        ("res.partner", "Contact (read) on customers and their invoicing contacts"),
        ("res.users", "read on users (salespeople and their e-mail)"),
    )

    def check_endpoints(self) -> list[EndpointCheck]:
        """``encours check``: one small read of every model the sync uses, each OK or the right missing.
        Direct-debit mandates (``sdd.mandate``, an optional module) are reported, never required."""
        self.connect()

        def one_read(model: str) -> Callable[[], Any]:
            return lambda: self._call(model, "search_read", [[]], fields=["id"], limit=1)

        results = [probe(f"{model}.search_read", one_read(model), needs=needs) for model, needs in self.CHECKED_MODELS]
        mandates = probe("sdd.mandate.search_read", one_read("sdd.mandate"), needs="the SEPA Direct Debit module, read")
        if not mandates.ok:
            mandates = EndpointCheck(mandates.endpoint, True,
                                     "not available: direct debit comes from the Clients tab's Prélèvement column")
        return [*results, mandates]

    def pull(self, cursor: str | None) -> Delta:
        self.connect()
        previous = OdooCursor.loads(cursor) if cursor else None
        if previous is None or not previous.since:
            return self._pull_full()
        since = datetime.strptime(previous.since, ODOO_TIME).replace(tzinfo=UTC) - LOOK_BACK
        domain = [*self._invoice_domain(posted_only=False), ("write_date", ">=", since.strftime(ODOO_TIME))]
        raws = list(self._search_read("account.move", domain, MOVE_FIELDS, order="write_date asc, id asc"))
        invoices = self._build_invoices(raws)
        partner_ids = {inv.customer_id for inv in invoices}
        # Contacts changed since (an invoicing contact's new e-mail, an address): their customer is
        # refreshed, whether or not the contact is itself a customer.
        owners: set[int] = set()
        for raw in self._search_read("res.partner", [("write_date", ">=", since.strftime(ODOO_TIME))],
                                     ["commercial_partner_id"]):
            f = Fields(raw, platform=PLATFORM, endpoint="res.partner.search_read")
            owner = f.many2one("commercial_partner_id")
            owners.add(int(owner[0]) if owner else int(f.id()))
        if owners:
            for raw in self._search_read("res.partner", [("id", "in", sorted(owners)), ("customer_rank", ">", 0)],
                                         ["name"]):
                partner_ids.add(Fields(raw, platform=PLATFORM, endpoint="res.partner.search_read").id())
        misc, credits = self._other_receivables(since.strftime(ODOO_TIME))
        partner_ids |= {m.customer_id for m in misc} | {c.customer_id for c in credits}
        customers = self._customers(partner_ids)
        newest = max([previous.since, *(str(r.get("write_date") or "") for r in raws)])
        known = previous.known_ids
        checked = previous.ids_checked_on
        deleted: list[str] = []
        if checked < self.as_of.isoformat():
            current = self._posted_ids()
            gone = set(known) - set(current)
            changed = {int(i.id) for i in invoices}
            deleted = [str(i) for i in sorted(gone - changed)]
            known, checked = tuple(current), self.as_of.isoformat()
        else:
            posted = {int(r["id"]) for r in raws if isinstance(r, dict) and r.get("state") == "posted"}
            left = {int(r["id"]) for r in raws if isinstance(r, dict) and r.get("state") != "posted"}
            known = tuple(sorted((set(known) | posted) - left))
        return Delta(
            customers=tuple(customers),
            invoices=(*invoices, *misc),
            payments=tuple(self._payments(invoices)),
            deleted_invoice_ids=tuple(i for i in deleted if i not in {m.id for m in misc}),
            full=False,
            cursor=OdooCursor(newest, checked, known).dumps(),
            credits=tuple(credits),
            credits_complete=True,
            payments_of=tuple(i.id for i in invoices),  # their payments are re-read: a cancelled one leaves
        )

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        return self.refetch_invoices([invoice_id]).get(invoice_id)

    def refetch_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
        """Re-read invoices just before sending: one request per batch of ids, not one per invoice.

        Every id asked is in the answer; None for one that no longer exists at the source.
        """
        found: dict[str, Invoice | None] = {i: None for i in invoice_ids}
        numeric = sorted({int(i) for i in invoice_ids if i.isdigit()})
        if not numeric:
            return found
        self.connect()
        for batch in _batches(numeric, BATCH):
            raws = self._call("account.move", "search_read", [[("id", "in", batch)]], fields=MOVE_FIELDS)
            if not isinstance(raws, list):
                raise MalformedResponseError(
                    "search_read did not answer a list", platform=PLATFORM, endpoint="account.move.search_read"
                )
            for invoice in self._build_invoices(raws):
                if invoice.id in found:
                    found[invoice.id] = invoice
        return found

    # -- full ---------------------------------------------------------------------------------
    def _pull_full(self) -> Delta:
        # Cancelled invoices too: a full pull must show them "Annulée", not "Supprimée".
        domain = [*self._invoice_domain(posted_only=False), ("state", "in", ["posted", "cancel"])]
        raws = list(self._search_read("account.move", domain, MOVE_FIELDS, order="write_date asc, id asc"))
        invoices = self._build_invoices(raws)
        misc, credits = self._other_receivables(None)
        customers = self._customers(
            {inv.customer_id for inv in invoices} | {m.customer_id for m in misc} | {c.customer_id for c in credits}
        )
        newest = max((str(r.get("write_date") or "") for r in raws), default="")
        if not newest:
            newest = datetime.fromtimestamp(self.http.last_date or self.http.clock(), UTC).strftime(ODOO_TIME)
        posted = tuple(int(i.id) for i in invoices if i.status is not InvoiceStatus.CANCELLED)
        cursor = OdooCursor(newest, self.as_of.isoformat(), posted)
        return Delta(
            customers=tuple(customers),
            invoices=(*invoices, *misc),
            payments=tuple(self._payments(invoices)),
            full=True,
            cursor=cursor.dumps(),
            credits=tuple(credits),
            credits_complete=True,
        )

    def _other_receivables(self, since: str | None) -> tuple[list[Invoice], list[UnallocatedCredit]]:
        """Receivable lines of entries that are not invoices: payments on account, opening and
        miscellaneous entries.  Open credits become unallocated credits; open debits are invoices
        of their own (``aml-<line id>``).  ``since``: also the debit lines changed since then, now
        reconciled or cancelled, so that their sheet rows close.
        """
        not_invoices = ("move_id.move_type", "not in", ["out_invoice", "out_refund"])
        base: list[Any] = [self._receivable_domain(), not_invoices]
        if self.company_ids:
            base.append(("company_id", "in", list(self.company_ids)))
        fields = ["move_id", "partner_id", "date", "date_maturity", "name", "balance", "amount_currency",
                  "amount_residual", "amount_residual_currency", "currency_id", "company_id", "payment_id",
                  "reconciled", "parent_state", "write_date"]
        endpoint = "account.move.line.search_read"
        found: dict[str, Fields] = {}
        for raw in self._search_read("account.move.line", [*base, ("reconciled", "=", False),
                                                           ("parent_state", "=", "posted")], fields):
            line = Fields(raw, platform=PLATFORM, endpoint=endpoint)
            found[line.id()] = line
        if since is not None:
            for raw in self._search_read("account.move.line", [*base, ("write_date", ">=", since)], fields):
                line = Fields(raw, platform=PLATFORM, endpoint=endpoint)
                found.setdefault(line.id(), line)
        misc: list[Invoice] = []
        credits: list[UnallocatedCredit] = []
        for line in found.values():
            partner = line.many2one("partner_id")
            if partner is None:
                continue  # a receivable line without partner: no customer to show it under
            company = line.many2one("company_id")
            company_currency = self._company_currency.get(company[0], "EUR") if company else "EUR"
            currency = line.many2one("currency_id")
            code = currency[1] if currency else company_currency
            residual = _line_amount(line, "amount_residual_currency", "amount_residual")
            residual_company = line.decimal("amount_residual", required=False) or Decimal(0)
            is_open = line.raw.get("parent_state") == "posted" and not line.raw.get("reconciled")
            move = line.many2one("move_id", required=True)
            assert move is not None
            day = line.date("date", required=False) or self.as_of
            balance = _line_amount(line, "amount_currency", "balance")
            if balance < 0:
                if is_open and residual < 0:
                    credits.append(UnallocatedCredit(
                        id=f"aml-{line.id()}",
                        customer_id=partner[0],
                        source=PLATFORM,
                        date=day,
                        amount=Money(to_cents(-residual), code),
                        kind=CreditKind.PAYMENT_ON_ACCOUNT if line.many2one("payment_id") else CreditKind.OTHER,
                        reference=move[1],
                        label=line.text("name", required=False),
                        amount_company=(Money(to_cents(-residual_company), company_currency)
                                        if code != company_currency else None),
                    ))
                continue
            if line.raw.get("parent_state") == "cancel":
                status, left = InvoiceStatus.CANCELLED, Decimal(0)
            elif not is_open or residual == 0:
                status, left = InvoiceStatus.PAID, Decimal(0)
            else:
                status = InvoiceStatus.OPEN if residual == balance else InvoiceStatus.PARTIALLY_PAID
                left = residual
            misc.append(Invoice(
                id=f"aml-{line.id()}",
                number=move[1],
                customer_id=partner[0],
                source=PLATFORM,
                issue_date=day,
                due_date=line.date("date_maturity", required=False) or day,
                total=Money(to_cents(abs(balance)), code),
                remaining=Money(to_cents(abs(left)), code),
                status=status,
                source_status="écriture (hors facture)",
                label=line.text("name", required=False),
                remaining_company=(Money(to_cents(abs(residual_company)), company_currency)
                                   if code != company_currency and left else None),
            ))
        return misc, credits

    def _invoice_domain(self, *, posted_only: bool) -> list[Any]:
        domain: list[Any] = [("move_type", "in", ["out_invoice", "out_refund"])]
        if posted_only:
            domain.append(("state", "=", "posted"))
        if self.company_ids:
            domain.append(("company_id", "in", list(self.company_ids)))
        return domain

    def _posted_ids(self) -> list[int]:
        ids = self._call("account.move", "search", [self._invoice_domain(posted_only=True)], order="id asc")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise MalformedResponseError(
                "search did not answer a list of ids", platform=PLATFORM, endpoint="account.move.search"
            )
        return ids

    # -- records ------------------------------------------------------------------------------
    def _build_invoices(self, raws: list[Any]) -> list[Invoice]:
        endpoint = "account.move.search_read"
        parsed = [Fields(raw, platform=PLATFORM, endpoint=endpoint) for raw in raws]
        lines = self._receivable_lines([int(f.id()) for f in parsed])
        return [self._invoice(f, lines.get(f.id(), [])) for f in parsed]

    def _invoice(self, f: Fields, lines: list[Fields]) -> Invoice:
        move_type = f.text("move_type")
        state = f.text("state")
        payment_state = f.text("payment_state", required=False)
        currency = f.many2one("currency_id", required=True)
        assert currency is not None
        code = currency[1]
        company = f.many2one("company_id", required=False)
        company_currency = self._company_currency.get(company[0], code) if company else code
        total = Money(to_cents(abs(f.amount("amount_total"))), code)
        remaining = Money(to_cents(abs(f.amount("amount_residual"))), code)
        if state == "cancel":
            status = InvoiceStatus.CANCELLED
        elif state == "draft":
            status = InvoiceStatus.DRAFT
        else:
            status = PAYMENT_STATES.get(payment_state, InvoiceStatus.UNKNOWN)
        if status in (InvoiceStatus.CANCELLED, InvoiceStatus.DRAFT):
            remaining = Money.zero(code)
        remaining_company = None
        if code != company_currency:
            remaining_company = Money(to_cents(abs(f.amount("amount_residual_signed"))), company_currency)
        partner = f.many2one("commercial_partner_id") or f.many2one("partner_id", required=True)
        assert partner is not None
        salesperson = f.many2one("invoice_user_id")
        reversed_of = f.many2one("reversed_entry_id")
        installments = tuple(
            Installment(
                due_date=_line_date(line),
                amount=Money(to_cents(abs(_line_amount(line, "amount_currency", "balance"))), code),
                remaining=Money(to_cents(abs(_line_amount(line, "amount_residual_currency", "amount_residual"))), code),
            )
            for line in sorted(lines, key=_line_date)
        )
        issue = f.date("invoice_date", required=False) or f.date("date", required=False)
        if issue is None:
            raise f.fail("field 'invoice_date' is empty on a posted invoice")
        extra: tuple[tuple[str, str], ...] = ()
        if company and len(self._company_names) > 1:
            extra = (("company", company[1]),)
        return Invoice(
            id=f.id(),
            number=f.text("name"),
            customer_id=partner[0],
            source=PLATFORM,
            issue_date=issue,
            due_date=f.date("invoice_date_due", required=False),
            total=total,
            remaining=remaining,
            kind=DocumentKind.CREDIT_NOTE if move_type == "out_refund" else DocumentKind.INVOICE,
            status=status,
            source_status=payment_state if state == "posted" else state,
            salesperson=salesperson[1] if salesperson else "",
            credited_invoice_id=reversed_of[0] if reversed_of else "",
            remaining_company=remaining_company,
            installments=installments if len(installments) > 1 else (),
            payment_reference=f.text("payment_reference", required=False),
            updated_at=f.datetime("write_date"),
            extra=extra,
        )

    def _receivable_domain(self) -> tuple[str, str, str]:
        if (self.major or 16) >= 16:
            return ("account_id.account_type", "=", "asset_receivable")
        return ("account_id.internal_type", "=", "receivable")

    def _receivable_lines(self, move_ids: list[int]) -> dict[str, list[Fields]]:
        found: dict[str, list[Fields]] = defaultdict(list)
        endpoint = "account.move.line.search_read"
        for batch in _batches(move_ids, BATCH):
            domain = [("move_id", "in", batch), self._receivable_domain()]
            for raw in self._search_read("account.move.line", domain, LINE_FIELDS):
                line = Fields(raw, platform=PLATFORM, endpoint=endpoint)
                move = line.many2one("move_id", required=True)
                assert move is not None
                found[move[0]].append(line)
        self._lines = found
        return found

    def _customers(self, commercial_ids: set[str]) -> list[Customer]:
        ids = sorted(int(i) for i in commercial_ids if i.isdigit())
        partners: dict[str, Fields] = {}
        children: dict[str, list[Fields]] = defaultdict(list)
        endpoint = "res.partner.search_read"
        for batch in _batches(ids, BATCH):
            for raw in self._search_read("res.partner", [("commercial_partner_id", "in", batch)], PARTNER_FIELDS):
                f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
                parent = f.many2one("commercial_partner_id")
                owner = parent[0] if parent else f.id()
                if owner == f.id():
                    partners[f.id()] = f
                else:
                    children[owner].append(f)
        user_emails = self._user_emails({u[0] for f in partners.values() if (u := f.many2one("user_id"))})
        debited = self._mandated(set(partners))
        customers = []
        for pid, f in sorted(partners.items(), key=lambda kv: int(kv[0])):
            email = f.text("email", required=False)
            kids = sorted(children.get(pid, []), key=_contact_rank)
            contacts = tuple(
                Contact(
                    name=c.text("name", required=False),
                    email=c.text("email", required=False),
                    phone=c.text("phone", required=False),
                    role=_contact_role(c),
                )
                for c in kids
                if c.text("email", required=False)
            )
            # Reminders go to the invoicing contact, then an accounting contact, then the company.
            preferred = [c.email for c in contacts if c.role in ("invoice", "accounting")]
            emails = tuple(dict.fromkeys([*preferred, *([email] if email else [])]))
            invoicing = next((c for c in kids if _contact_rank(c) == 0 and _has_address(c)), None)
            user = f.many2one("user_id")
            lang = f.text("lang", required=False)[:2].lower()
            vat = f.text("vat", required=False)
            customers.append(
                Customer(
                    id=pid,
                    name=f.text("name"),
                    source=PLATFORM,
                    emails=emails,
                    phone=f.text("phone", required=False),
                    contacts=contacts,
                    salesperson=user[1] if user else "",
                    salesperson_email=user_emails.get(user[0], "") if user else "",
                    language=_LANGS.get(lang, ""),
                    siren=_siren(f.text("company_registry", required=False), vat),
                    vat_number=vat,
                    reference=f.text("ref", required=False),
                    direct_debit=pid in debited,
                    address=_address(invoicing or f),
                    country=(invoicing or f).text("country_code", required=False).upper(),
                    updated_at=f.datetime("write_date"),
                )
            )
        return customers

    def _user_emails(self, user_ids: set[str]) -> dict[str, str]:
        """Salespeople's e-mail addresses (for Cc); none when the key may not read users."""
        ids = sorted(int(i) for i in user_ids if i.isdigit())
        if not ids:
            return {}
        try:
            raws = list(self._search_read("res.users", [("id", "in", ids)], ["email", "login"]))
        except SourceError as exc:  # optional: a key without the right, a server that refuses
            log.info("odoo: salespeople's e-mail not read (%s)", exc)
            return {}
        out = {}
        for raw in raws:
            f = Fields(raw, platform=PLATFORM, endpoint="res.users.search_read")
            address = f.text("email", required=False) or f.text("login", required=False)
            if "@" in address:
                out[f.id()] = address
        return out

    def _mandated(self, partner_ids: set[str]) -> set[str]:
        """Customers with an active SEPA direct-debit mandate (module account_sepa_direct_debit).

        Databases without the module answer an error for the model: then nobody is marked, and
        the sheet's ``Prélèvement`` column says who pays by direct debit.
        """
        ids = sorted(int(i) for i in partner_ids if i.isdigit())
        if not ids:
            return set()
        try:
            raws = list(self._search_read("sdd.mandate", [("state", "=", "active"), ("partner_id", "in", ids)],
                                          ["partner_id"]))
        except SourceError as exc:  # no such model without the module, or no right to read it
            log.info("odoo: no direct-debit mandates read (%s)", exc)
            return set()
        out = set()
        for raw in raws:
            partner = Fields(raw, platform=PLATFORM, endpoint="sdd.mandate.search_read").many2one("partner_id")
            if partner:
                out.add(partner[0])
        return out

    def _payments(self, invoices: list[Invoice]) -> list[Payment]:
        """One payment share per reconciliation of an invoice's receivable line."""
        lines = self._lines
        invoice_of_line: dict[int, Invoice] = {}
        refund_lines: set[int] = set()
        by_id = {inv.id: inv for inv in invoices}
        for move_id, move_lines in lines.items():
            invoice = by_id.get(move_id)
            if invoice is None:
                continue
            for line in move_lines:
                invoice_of_line[int(line.id())] = invoice
                if invoice.is_credit_note:
                    refund_lines.add(int(line.id()))
        debit_lines = [i for i, inv in invoice_of_line.items() if not inv.is_credit_note]
        partials: list[Fields] = []
        endpoint = "account.partial.reconcile.search_read"
        for batch in _batches(debit_lines, BATCH):
            domain = [("debit_move_id", "in", batch)]
            fields = ["debit_move_id", "credit_move_id", "amount", "debit_amount_currency", "max_date"]
            partials += [
                Fields(r, platform=PLATFORM, endpoint=endpoint)
                for r in self._search_read("account.partial.reconcile", domain, fields)
            ]
        paying_ids = sorted({int(m[0]) for p in partials if (m := p.many2one("credit_move_id", required=True))})
        paying: dict[int, Fields] = {}
        for batch in _batches(paying_ids, BATCH):
            for raw in self._search_read("account.move.line", [("id", "in", batch)], ["move_id", "date", "payment_id"]):
                line = Fields(raw, platform=PLATFORM, endpoint="account.move.line.search_read")
                paying[int(line.id())] = line
        payments = []
        for partial in partials:
            debit = partial.many2one("debit_move_id", required=True)
            credit = partial.many2one("credit_move_id", required=True)
            assert debit is not None and credit is not None
            invoice = invoice_of_line.get(int(debit[0]))
            if invoice is None:
                continue
            source_line = paying.get(int(credit[0]))
            when = (source_line.date("date", required=False) if source_line else None) or partial.date("max_date")
            assert when is not None
            value = partial.decimal("debit_amount_currency", required=False) or partial.amount("amount")
            amount = Money(to_cents(abs(value)), invoice.currency)
            move = source_line.many2one("move_id") if source_line else None
            payments.append(
                Payment(
                    id=f"partial-{partial.id()}",
                    customer_id=invoice.customer_id,
                    source=PLATFORM,
                    date=when,
                    amount=amount,
                    allocations=(Allocation(invoice.id, amount),),
                    method=_method(source_line, int(credit[0]) in refund_lines),
                    reference=move[1] if move else "",
                )
            )
        return payments


_ACCOUNTING_WORDS = ("compta", "account", "factur", "billing", "invoice", "finance", "boekhoud")


def _contact_role(contact: Fields) -> str:
    """"invoice" for an invoicing address, "accounting" for an accounting role, else ""."""
    if contact.text("type", required=False) == "invoice":
        return "invoice"
    function = contact.text("function", required=False).casefold()
    return "accounting" if any(word in function for word in _ACCOUNTING_WORDS) else ""


def _contact_rank(contact: Fields) -> int:
    return {"invoice": 0, "accounting": 1}.get(_contact_role(contact), 2)


def _has_address(partner: Fields) -> bool:
    return bool(partner.text("street", required=False) or partner.text("city", required=False))


def _address(partner: Fields) -> str:
    """One line: street, street 2, postcode and city (the country is :attr:`Customer.country`)."""
    town = " ".join(p for p in (partner.text("zip", required=False), partner.text("city", required=False)) if p)
    parts = (partner.text("street", required=False), partner.text("street2", required=False), town)
    return ", ".join(p.strip() for p in parts if p and p.strip())


def _siren(registry: str, vat: str) -> str:
    """The SIREN: the company registry when it is one (9 digits, or a 14-digit SIRET), else from a
    French VAT number (FR + 2-digit key + SIREN)."""
    digits = re.sub(r"\D", "", registry or "")
    if len(digits) in (9, 14):
        return digits[:9]
    compact = re.sub(r"\s", "", vat or "").upper()
    if re.fullmatch(r"FR[0-9A-Z]{2}\d{9}", compact):
        return compact[4:]
    return ""


def _method(line: Fields | None, from_credit_note: bool) -> str:
    if from_credit_note:
        return "credit_note"
    if line is not None and line.many2one("payment_id"):
        return "transfer"
    return "other"  # a write-off or a miscellaneous entry


def _line_date(line: Fields) -> date:
    value = line.date("date_maturity", required=False) or line.date("date", required=False)
    if value is None:
        raise line.fail("a receivable line has no date_maturity")
    return value


def _line_amount(line: Fields, currency_key: str, company_key: str) -> Decimal:
    value = line.decimal(currency_key, required=False)
    if value is not None and (value != 0 or line.raw.get(company_key) in (0, 0.0, None)):
        return value
    if company_key == "balance" and "balance" not in line.raw:
        return line.amount("debit") - line.amount("credit")
    return line.decimal(company_key, required=False) or Decimal(0)


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = [
    "OdooConnector",
    "OdooCursor",
    "OdooDatabaseError",
    "OdooLoginError",
    "OdooRightsError",
    "major_version",
    "parse_timestamp",
]
