"""Odoo's RPC: JSON-RPC and XML-RPC (Odoo 14–18, after ``authenticate``) and JSON-2 (Odoo 19+,
bearer API key), one method per model read the sync uses, Odoo's errors as the project's errors.

The version is detected first (``common.version``, or the configured ``version``); 13 and older
are refused with a clear message.  Every call goes through the one HTTP layer (timeouts, retries
of reads, redaction).  A wrong login or key, a wrong database or missing rights are configuration
errors (exit 2) in one line naming the key of ``encours.toml`` to fix — never the server's stack
or its database host.
"""

from __future__ import annotations

import json
import re
import time
import xmlrpc.client
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import count
from typing import Any, ClassVar, Protocol

import requests

from encours.connectors.errors import SourceError
from encours.connectors.http import HttpClient, _text_excerpt
from encours.connectors.pages import OffsetPaginator, PageRequest, paginate
from encours.connectors.source_errors import (
    AuthenticationError,
    ClientRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    UnsupportedVersionError,
)

PLATFORM = "odoo"
PAGE = 500
BATCH = 500


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


def odoo_error(platform_endpoint: str, message: str, name: str = "") -> SourceError:
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


def jsonrpc_error_text(response: requests.Response) -> str:
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


# -- transports ---------------------------------------------------------------------------------
class Transport(Protocol):
    name: str

    def call(self, model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any: ...


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
            raise odoo_error(endpoint, self.http.redact(message), str(data.get("name", "")))
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
            raise odoo_error(endpoint, last, "AccessDenied" if "Access Denied" in last else "") from None
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
    _NAMES: ClassVar[dict[str, list[str]]] = {
        "search_read": ["domain"], "search_count": ["domain"], "search": ["domain"], "read": ["ids"]}

    def __init__(self, http: HttpClient, database: str) -> None:
        self.http = http
        self.database = database

    def call(self, model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        endpoint = f"{model}.{method}"
        body = dict(kwargs)
        for name, value in zip(self._NAMES.get(method, []), args, strict=False):  # positional → named
            body[name] = value
        response = self.http.request("POST", f"/json/2/{model}/{method}", json_body=body, read=True, endpoint=endpoint)
        return self.http.json_of(response, endpoint=endpoint)


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


def batches(items: Sequence[int], size: int = BATCH) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# -- the client ---------------------------------------------------------------------------------
class OdooClient:
    """One Odoo database: the connection, then one method per model read (answers as Odoo gives them)."""

    def __init__(
        self,
        url: str,
        *,
        database: str,
        login: str,
        api_key: str,
        company_ids: tuple[int, ...] = (),
        version: str | None = None,
        protocol: str = "jsonrpc",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self.company_ids = company_ids
        self.protocol = protocol
        self._api_key = api_key
        self.http = HttpClient(
            PLATFORM, self.url, session=session, secrets=[api_key], error_text=jsonrpc_error_text, sleep=sleep
        )
        self._version_text = version
        self.major: int | None = None
        self.transport: Transport | None = None

    def connect(self) -> Transport:
        if self.transport is not None:
            return self.transport
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
            transport: Transport = Json2Transport(self.http, self.database)
        else:
            rpc.authenticate(self.login)
            transport = rpc
        self.transport = transport
        return transport

    def call(self, model: str, method: str, args: Sequence[Any] = (), **kwargs: Any) -> Any:
        transport = self.connect()
        context = dict(kwargs.get("context") or {})
        if self.company_ids:
            context.setdefault("allowed_company_ids", list(self.company_ids))
        if context:
            kwargs["context"] = context
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

    def search_read(self, model: str, domain: list[Any], fields: list[str], order: str = "id asc",
                    *, archived: bool = False) -> Iterator[Any]:
        """Every record matching ``domain``, page by page (offset, with a repeat guard); ``archived``:
        also the archived ones (``active = false``), which Odoo leaves out unless asked."""
        endpoint = f"{model}.search_read"
        extra: dict[str, Any] = {"context": {"active_test": False}} if archived else {}

        def fetch(request: PageRequest) -> Any:
            params = request.params
            return self.call(model, "search_read", [domain], fields=fields, offset=params["offset"],
                             limit=params["limit"], order=order, **extra)

        for page in paginate(fetch, OffsetPaginator(limit=PAGE), model, {}, platform=PLATFORM, endpoint=endpoint):
            yield from page

    def by_ids(self, model: str, ids: Sequence[int], fields: list[str], extra: Sequence[Any] = ()) -> list[Any]:
        """Records by id, one request per batch (no paging: a batch is one page)."""
        out: list[Any] = []
        for batch in batches(sorted(set(ids))):
            raws = self.call(model, "search_read", [[("id", "in", batch), *extra]], fields=fields)
            if not isinstance(raws, list):
                raise MalformedResponseError("search_read did not answer a list", platform=PLATFORM,
                                             endpoint=f"{model}.search_read")
            out.extend(raws)
        return out

    def receivable_domain(self) -> tuple[str, str, str]:
        if (self.major or 16) >= 16:
            return ("account_id.account_type", "=", "asset_receivable")
        return ("account_id.internal_type", "=", "receivable")

    # -- one method per model read ------------------------------------------------------------
    def companies(self, fields: list[str]) -> list[Any]:
        """``res.company``: the companies of ``company_ids`` (all visible ones when none is set)."""
        domain: list[Any] = [("id", "in", list(self.company_ids))] if self.company_ids else []
        return list(self.search_read("res.company", domain, fields))

    def moves(self, domain: list[Any], fields: list[str]) -> list[Any]:
        """``account.move`` invoices and credit notes, oldest change first (the cursor's order)."""
        return list(self.search_read("account.move", domain, fields, order="write_date asc, id asc"))

    def moves_by_id(self, ids: Sequence[int], fields: list[str]) -> list[Any]:
        return self.by_ids("account.move", ids, fields)

    def move_ids(self, domain: list[Any]) -> list[int]:
        """``account.move`` ``search``: ids only (the daily comparison that finds deleted invoices)."""
        ids = self.call("account.move", "search", [domain], order="id asc")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise MalformedResponseError("search did not answer a list of ids", platform=PLATFORM,
                                         endpoint="account.move.search")
        return ids

    def count_moves(self, domain: list[Any]) -> int:
        found = self.call("account.move", "search_count", [domain])
        if not isinstance(found, int):
            raise MalformedResponseError("search_count did not answer a number", platform=PLATFORM,
                                         endpoint="account.move.search_count")
        return found

    def lines(self, domain: list[Any], fields: list[str]) -> list[Any]:
        """``account.move.line`` journal items."""
        return list(self.search_read("account.move.line", domain, fields))

    def lines_by_id(self, ids: Sequence[int], fields: list[str], extra: Sequence[Any] = ()) -> list[Any]:
        return self.by_ids("account.move.line", ids, fields, extra)

    def partials(self, domain: list[Any], fields: list[str]) -> list[Any]:
        """``account.partial.reconcile``: which line paid which, how much, when."""
        return list(self.search_read("account.partial.reconcile", domain, fields))

    def partials_by_id(self, ids: Sequence[int], fields: list[str]) -> list[Any]:
        return self.by_ids("account.partial.reconcile", ids, fields)

    def partners(self, domain: list[Any], fields: list[str]) -> list[Any]:
        """``res.partner``: customers and their contacts, archived ones too (an archived customer
        still owes what it owes; its archived contacts are left out by the caller)."""
        return list(self.search_read("res.partner", domain, fields, archived=True))

    def users(self, ids: Sequence[int]) -> list[Any]:
        """``res.users``: salespeople's e-mail (for Cc)."""
        return list(self.search_read("res.users", [("id", "in", sorted(ids))], ["email", "login"]))

    def mandates(self, partner_ids: Sequence[int]) -> list[Any]:
        """``sdd.mandate`` (module account_sepa_direct_debit): active direct-debit mandates."""
        domain = [("state", "=", "active"), ("partner_id", "in", sorted(partner_ids))]
        return list(self.search_read("sdd.mandate", domain, ["partner_id"]))

    def one_read(self, model: str) -> Callable[[], Any]:
        """A read of one record of ``model`` (``encours check``)."""
        return lambda: self.call(model, "search_read", [[]], fields=["id"], limit=1)
