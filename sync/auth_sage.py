"""``encours auth sage``: the OAuth2 authorization-code flow with a redirect to 127.0.0.1.

1. a one-request web server listens on ``127.0.0.1:<redirect_port>`` (``[source] redirect_port``,
   8765 by default — the callback URL registered with the Sage app must be
   ``http://127.0.0.1:<port>/callback``);
2. the browser opens Sage's consent page with a random ``state``;
3. Sage redirects to the local server with a single-use ``code`` (valid 60 s); the ``state`` is
   checked, the code exchanged at once, and the refresh token stored in the state store (committed
   before anything else uses it);
4. the businesses the user can reach are listed, to fill ``[source] business_id``.

Nothing secret is printed: not the code, not the tokens, not the client secret.
"""

from __future__ import annotations

import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from encours.connectors.errors import ConfigError
from encours.connectors.sage import DEFAULT_AUTH_URL, DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, SageConnector, SageTokens
from encours.connectors.source_errors import AuthenticationError
from encours.sync.config import Config
from encours.sync.state import StateStore

PAGE_OK = (
    "<!doctype html><meta charset=utf-8><title>encours</title><p>Autorisation reçue : vous pouvez fermer cet onglet."
)
PAGE_FAILED = "<!doctype html><meta charset=utf-8><title>encours</title><p>Autorisation refusée ou invalide."


def authorization_url(auth_url: str, *, client_id: str, redirect_uri: str, state: str, scope: str) -> str:
    """Sage's consent page, keeping the query already in ``auth_url`` (``filter=apiv3.1``)."""
    parts = urlsplit(auth_url)
    query = parse_qs(parts.query)
    query.update(
        {
            "client_id": [client_id],
            "response_type": ["code"],
            "redirect_uri": [redirect_uri],
            "scope": [scope],
            "state": [state],
        }
    )
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


@dataclass
class _Callback:
    params: dict[str, str] | None = None


class _Receiver(HTTPServer):
    def __init__(self, port: int) -> None:
        self.received = _Callback()
        self.got = threading.Event()
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def log_message(self, *args: Any) -> None:  # the query holds the code: never logged
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        ok = "code" in params
        body = (PAGE_OK if ok else PAGE_FAILED).encode("utf-8")
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.received.params is None:
            self.server.received.params = params
            self.server.got.set()


def run_sage_auth(
    config: Config,
    *,
    as_of: date,
    open_browser: Callable[[str], Any] = webbrowser.open,
    say: Callable[[str], None] = print,
    timeout: float = 300.0,
) -> list[str]:
    """Run the flow; return the lines to print (businesses reached).  Raises on refusal."""
    source = config.source
    if source.type != "sage":
        raise ConfigError('`encours auth sage` needs [source] type = "sage"', file=source.file, key="[source] type")
    client_id = source.secret("client_id")
    client_secret = source.secret("client_secret")
    port = source.integer("redirect_port", 8765)
    scope = source.text("scope", "full_access")
    auth_url = source.text("auth_url", DEFAULT_AUTH_URL)
    try:
        receiver = _Receiver(port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}): free it or set another redirect_port",
            file=source.file,
            key="[source] redirect_port",
        ) from None
    redirect_uri = f"http://127.0.0.1:{receiver.server_address[1]}/callback"
    state = secrets.token_urlsafe(24)
    url = authorization_url(auth_url, client_id=client_id, redirect_uri=redirect_uri, state=state, scope=scope)
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        say(f"Waiting for Sage on {redirect_uri} — if no browser opens, visit:\n{url}")
        open_browser(url)
        deadline = time.monotonic() + timeout
        while not receiver.got.wait(0.1):
            if time.monotonic() > deadline:
                raise AuthenticationError(
                    f"no answer from Sage within {int(timeout)} s", platform="sage", endpoint="authorize"
                )
    finally:
        receiver.shutdown()
        receiver.server_close()
    params = receiver.received.params or {}
    if not secrets.compare_digest(params.get("state", ""), state):
        raise AuthenticationError(
            "the answer's state does not match this request: ignored", platform="sage", endpoint="authorize"
        )
    if "code" not in params:
        reason = params.get("error_description") or params.get("error") or "no code"
        raise AuthenticationError(f"Sage did not authorise encours: {reason}", platform="sage", endpoint="authorize")
    with StateStore(config.state_path) as store:
        tokens = SageTokens(
            store.cache(),
            client_id=client_id,
            client_secret=client_secret,
            token_url=source.text("token_url", DEFAULT_TOKEN_URL),
        )
        tokens.exchange_code(params["code"], redirect_uri)
        connector = SageConnector(
            tokens,
            business_id=source.text("business_id", ""),
            as_of=as_of,
            base_url=source.text("base_url", DEFAULT_BASE_URL),
        )
        businesses = connector.businesses()
    lines = ["Sage authorised: the refresh token is stored in the state file."]
    configured = source.text("business_id", "")
    for ident, name in businesses:
        mark = " (configured)" if ident == configured else ""
        lines.append(f"business {ident}: {name}{mark}")
    if not configured and businesses:
        lines.append('Set [source] business_id = "<id>" to the business to follow.')
    return lines
