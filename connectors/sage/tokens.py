"""Sage OAuth2 tokens and Sage's error bodies.

Access tokens last minutes, refresh tokens rotate at every refresh.  :class:`SageTokens` stores each
new refresh token in the state store's cache — committed at once — *before* the access token that
came with it is used, so a crash right after a refresh never leaves encours holding only the
invalidated one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal

import requests

from encours.connectors.base import Cache
from encours.connectors.fields import Fields
from encours.connectors.http import HttpClient, _text_excerpt
from encours.connectors.source_errors import AuthenticationError

PLATFORM = "sage"
DEFAULT_TOKEN_URL = "https://oauth.accounting.sage.com/token"
TOKENS_NS = "sage.oauth"


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
