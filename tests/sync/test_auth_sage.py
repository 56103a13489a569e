"""`encours auth sage`: a real local redirect server, a simulated browser, Sage's token endpoint mocked."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses

from encours.connectors.sage import TOKENS_NS
from encours.connectors.source_errors import AuthenticationError
from encours.sync.auth_sage import authorization_url, run_sage_auth
from encours.sync.config import Config, load_config
from encours.sync.state import StateStore

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "sage"
ENV = {"SAGE_CLIENT_ID": "client-4c1d", "SAGE_CLIENT_SECRET": "secret-9a8b7c6d5e4f3a2b"}


def sage_config(folder: Path) -> Config:
    path = folder / "encours.toml"
    path.write_text(
        '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\n\n'
        '[source]\ntype = "sage"\nclient_id_env = "SAGE_CLIENT_ID"\nclient_secret_env = "SAGE_CLIENT_SECRET"\n'
        'redirect_port = 0\nauth_url = "https://www.sage.test/oauth2/auth/central?filter=apiv3.1"\n'
        'token_url = "https://oauth.sage.test/token"\nbase_url = "https://api.sage.test/v3.1"\n',
        encoding="utf-8",
    )
    return load_config(path, environ=ENV)


def browser(answer: Any) -> Any:
    """A browser that follows the consent page straight to the redirect with *answer*'s query."""

    def open_url(url: str) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        redirect = query["redirect_uri"]

        def visit() -> None:
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"{redirect}?{urlencode(answer(query))}", timeout=5).read()

        threading.Thread(target=visit, daemon=True).start()

    return open_url


def test_authorization_url_keeps_the_filter_and_asks_for_a_code() -> None:
    url = authorization_url(
        "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1",
        client_id="abc",
        redirect_uri="http://127.0.0.1:8765/callback",
        state="xyz",
        scope="readonly",
    )
    query = parse_qs(urlsplit(url).query)
    assert query["filter"] == ["apiv3.1"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8765/callback"] and query["state"] == ["xyz"]


@responses.activate
def test_the_code_is_exchanged_and_the_refresh_token_stored(tmp_path: Path) -> None:
    config = sage_config(tmp_path)
    responses.post("https://oauth.sage.test/token", json=json.loads((PAYLOADS / "token_refreshed.json").read_text()))
    responses.get(
        "https://api.sage.test/v3.1/businesses",
        json=[json.loads((PAYLOADS / "business.json").read_text())],
    )
    printed: list[str] = []
    lines = run_sage_auth(
        config,
        as_of=date(2026, 11, 23),
        open_browser=browser(lambda q: {"code": "one-time-code-777", "state": q["state"]}),
        say=printed.append,
        timeout=10,
    )
    with StateStore(config.state_path) as store:
        assert store.cache().get(TOKENS_NS, "refresh_token") == "rt-ROTATED-2b1f3c4d5e6f7a8b9c0d"
    body = responses.calls[0].request.body
    assert isinstance(body, str)
    form = parse_qs(body)
    assert form["grant_type"] == ["authorization_code"] and form["code"] == ["one-time-code-777"]
    assert form["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert "business 9f1e2d3c4b5a69788796a5b4c3d2e1f0: Atelier Dupont SARL" in lines
    assert not any("one-time-code-777" in line or ENV["SAGE_CLIENT_SECRET"] in line for line in printed + lines)


@responses.activate
def test_a_forged_state_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    config = sage_config(tmp_path)
    with pytest.raises(AuthenticationError, match="state does not match"):
        run_sage_auth(
            config,
            as_of=date(2026, 11, 23),
            open_browser=browser(lambda q: {"code": "stolen", "state": "forged"}),
            say=lambda s: None,
            timeout=10,
        )
    assert len(responses.calls) == 0


@responses.activate
def test_refusal_at_sage_is_reported(tmp_path: Path) -> None:
    config = sage_config(tmp_path)
    with pytest.raises(AuthenticationError, match="access_denied"):
        run_sage_auth(
            config,
            as_of=date(2026, 11, 23),
            open_browser=browser(lambda q: {"error": "access_denied", "state": q["state"]}),
            say=lambda s: None,
            timeout=10,
        )
