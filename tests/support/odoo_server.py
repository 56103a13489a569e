"""A local stand-in for an Odoo server: JSON-RPC, XML-RPC and JSON-2 over the fixtures of
tests/payloads/odoo, with Odoo's error envelopes, rights refused per model, a proxy failing, and
whatever odd records a test puts in its models (``FakeOdoo.models``)."""

from __future__ import annotations

import json
import threading
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from encours.connectors.odoo import OdooConnector

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "odoo"
DB, LOGIN, KEY = "dupont-prod", "compta@atelier-dupont.fr", "odoo-key-3c9f1e7a5b2d4c6e8f0a"
AS_OF = date(2026, 11, 23)


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


OPERATORS: dict[str, Any] = {
    "=": lambda got, value: got == value,
    "!=": lambda got, value: got != value,
    "in": lambda got, value: got in value,
    "not in": lambda got, value: got not in value,
    ">=": lambda got, value: got is not None and got >= value,
    ">": lambda got, value: got is not None and got > value,
    "<=": lambda got, value: got is not None and got <= value,
}


class RightsError(Exception):
    """What Odoo raises when the user's groups do not allow reading a model."""


class Dropped(Exception):
    """The connection drops before the answer (a proxy timeout, a network cut, a server restart)."""


#: A call as the stand-in sees it: model, method, arguments and keywords (``args`` among them).
Call = tuple[str, str, dict[str, Any]]


class FakeOdoo:
    """Just enough of an Odoo database: search_read / search / search_count / read over fixtures."""

    def __init__(self, version: int = 16) -> None:
        self.version = payload(f"version_{version}.json")
        self.major = version
        self.models: dict[str, list[dict[str, Any]]] = {
            "account.move": payload("account_move.json"),
            "account.move.line": payload("receivable_lines.json") + payload("paying_lines.json"),
            "account.partial.reconcile": payload("partial_reconcile.json"),
            "res.partner": payload("res_partner.json"),
            "res.company": payload("res_company.json"),
            "res.users": [{"id": 6, "name": "Marc Lefort", "login": "marc", "email": "marc.lefort@atelier-dupont.fr"}],
        }
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_next: int = 0
        self.denied: set[str] = set()  # models the user may not read (an Odoo AccessError)
        self.cut_at: Callable[[Call], bool] | None = None  # from the first call it matches, no answer at all
        self.cut = False

    def cut_from(self, matches: Callable[[Call], bool]) -> None:
        """Drop the connection at the first call that ``matches``, and every request after it."""
        self.cut_at, self.cut = matches, False

    def restore(self) -> None:
        self.cut_at, self.cut = None, False

    # -- the ORM ----------------------------------------------------------------------------
    #: many2one fields a domain may follow ("move_id.move_type"), and the model they point to
    RELATIONS: ClassVar[dict[str, str]] = {"move_id": "account.move", "partner_id": "res.partner"}

    def _value(self, model: str, record: dict[str, Any], field: str) -> Any:
        """A field as Odoo's ORM sees it: stored related fields and dotted paths resolved."""
        if field in record:
            got = record[field]
        elif model == "account.move.line" and field == "parent_state":  # related to move_id.state
            got = self._value(model, record, "move_id.state")
        elif "." in field:
            head, _, rest = field.partition(".")
            target = record.get(head)
            related = self.RELATIONS.get(head)
            if not (isinstance(target, list) and target and related):
                return None
            found = next((r for r in self.models.get(related, []) if r.get("id") == target[0]), None)
            return None if found is None else self._value(related, found, rest)
        else:
            return None
        if isinstance(got, list) and len(got) == 2 and isinstance(got[0], int):
            got = got[0]  # many2one compares by id
        return got

    def _match(self, model: str, record: dict[str, Any], domain: list[Any]) -> bool:
        return all(OPERATORS[op](self._value(model, record, field), value) for field, op, value in domain)

    def execute(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        call = (model, method, {"args": args, **kwargs})
        if self.cut or (self.cut_at is not None and self.cut_at(call)):
            self.cut = True
            raise Dropped(model)
        self.calls.append(call)
        if model in self.denied:
            raise RightsError(f"You are not allowed to access records of {model}.")
        if model not in self.models:  # Odoo answers an error for a model whose module is not installed
            raise ValueError(f"KeyError: {model!r}")
        records = self.models[model]
        if method in ("search_read", "search", "search_count"):
            domain = args[0] if args else kwargs.get("domain", [])
            found = [r for r in records if self._match(model, r, domain)]
            if (kwargs.get("context") or {}).get("active_test", True):  # archived records left out by default
                found = [r for r in found if r.get("active", True) is not False]
            if method == "search_count":
                return len(found)
            for key in reversed((kwargs.get("order") or "id asc").split(",")):
                name, _, direction = key.strip().partition(" ")
                found.sort(key=lambda r, n=name: r.get(n) or "", reverse=direction == "desc")  # type: ignore[misc]
            offset, limit = kwargs.get("offset", 0), kwargs.get("limit")
            found = found[offset : offset + limit if limit else None]
            if method == "search":
                return [r["id"] for r in found]
            fields = kwargs.get("fields")
            out = [{k: v for k, v in r.items() if k == "id" or not fields or k in fields} for r in found]
            if model == "account.move.line" and fields and "parent_state" in fields:
                for record, raw in zip(out, found, strict=True):
                    record.setdefault("parent_state", self._value(model, raw, "parent_state") or False)
            return out
        if method == "read":
            ids = args[0] if args else kwargs["ids"]
            return [r for r in records if r["id"] in ids]
        raise ValueError(f"method {method} not faked")


def serve(odoo: FakeOdoo) -> Any:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            odoo.headers.append(dict(self.headers))
            if odoo.fail_next:
                odoo.fail_next -= 1
                self._send(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                return
            try:
                if self.path == "/jsonrpc":
                    self._jsonrpc(json.loads(raw))
                elif self.path.startswith("/xmlrpc/2/"):
                    self._xmlrpc(self.path.rsplit("/", 1)[1], raw)
                elif self.path.startswith("/json/2/") and odoo.major >= 19:
                    self._json2(raw)
                else:
                    self._send(404, b'{"error": "not found"}')
            except Dropped:
                self.close_connection = True  # not a byte of answer: the client sees the connection drop

        def _dispatch(self, service: str, method: str, args: list[Any]) -> Any:
            if service == "common" and method == "version":
                return odoo.version
            if service == "common" and method == "authenticate":
                db, login, key, _ = args
                return 2 if (db, login, key) == (DB, LOGIN, KEY) else False
            _db, _uid, key, model, meth, margs, mkwargs = args
            if key != KEY:
                raise PermissionError("Access Denied")
            return odoo.execute(model, meth, margs, mkwargs)

        def _jsonrpc(self, body: dict[str, Any]) -> None:
            params = body["params"]
            try:
                result = self._dispatch(params["service"], params["method"], params["args"])
                answer = {"jsonrpc": "2.0", "id": body["id"], "result": result}
            except PermissionError:
                answer = dict(payload("errors.json")["jsonrpc_access_denied"], id=body["id"])
            except RightsError as exc:
                answer = {"jsonrpc": "2.0", "id": body["id"], "error": {
                    "code": 200, "message": "Odoo Server Error",
                    "data": {"name": "odoo.exceptions.AccessError", "message": str(exc), "arguments": [str(exc)],
                             "debug": "Traceback (most recent call last):\n  ...", "context": {}}}}
            except (ValueError, KeyError):
                answer = dict(payload("errors.json")["jsonrpc_error_bad_field"], id=body["id"])
            self._send(200, json.dumps(answer).encode())

        def _xmlrpc(self, service: str, raw: bytes) -> None:
            args, method = xmlrpc.client.loads(raw)
            assert method is not None
            try:
                result = self._dispatch(service, method, list(args))
                out = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
            except PermissionError:
                out = xmlrpc.client.dumps(xmlrpc.client.Fault(3, "Access Denied"))
            except (ValueError, KeyError) as exc:
                out = xmlrpc.client.dumps(xmlrpc.client.Fault(1, str(exc)))
            self._send(200, out.encode(), "text/xml")

        def _json2(self, raw: bytes) -> None:
            if self.headers.get("Authorization") != f"bearer {KEY}":
                self._send(401, json.dumps(payload("errors.json")["json2_unauthorized"]).encode())
                return
            _, _, model, method = self.path.split("/", 4)[1:]
            body = json.loads(raw)
            self._send(200, json.dumps(odoo.execute(model, method, [], body)).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


@contextmanager
def running(odoo: FakeOdoo) -> Iterator[str]:
    """The stand-in serving ``odoo`` on a free loopback port: its URL."""
    server = serve(odoo)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def connector(url: str, **kw: Any) -> OdooConnector:
    options: dict[str, Any] = {"database": DB, "login": LOGIN, "api_key": KEY, "as_of": AS_OF, "sleep": lambda s: None}
    options.update(kw)
    return OdooConnector(url, **options)


