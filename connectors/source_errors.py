"""How a source failed, classified, with every secret scrubbed from the message.

All are :class:`~connectors.errors.SourceError` (exit code 1; the message names the platform,
the endpoint and, when known, the record).  They live apart from ``http.py`` so that sources that
do not speak plain HTTP (Odoo XML-RPC) raise the same classes.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from encours.connectors.errors import SourceError

REDACTED = "***"

#: Query parameters and JSON keys whose values are secrets wherever they appear.
_SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "client_secret",
    "api_key",
    "apikey",
    "password",
    "token",
    "code",
    "authorization",
)
_KEY_VALUE = re.compile(
    r"(?i)(?P<key>\b(?:" + "|".join(_SECRET_NAMES) + r")\b[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"'&,;}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def secret_forms(secret: str) -> set[str]:
    """The ways a secret can come back in an answer: as is, URL-encoded, JSON-escaped, base64.

    Base64 is tried at the three alignments a secret can have inside a longer encoded text
    (``user:token`` in a Basic header), keeping only the characters that depend on the secret alone.
    """
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    raw = secret.encode()
    for offset in range(3):
        chunk = raw[offset:]
        chunk = chunk[: len(chunk) // 3 * 3]
        if len(chunk) >= 6:
            forms.add(base64.b64encode(chunk).decode())
            forms.add(base64.urlsafe_b64encode(chunk).decode())
    return {form for form in forms if len(form) >= 4}


def redact_values(text: str, secrets: Iterable[str]) -> str:
    """Replace known secret values, in every form of :func:`secret_forms`, by ``***``."""
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= 4:
            forms |= secret_forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values (in every form of :func:`secret_forms`), ``Bearer …``
    credentials and ``token=…``-like pairs from text.  Redact before any truncation: a cut
    secret no longer matches."""
    text = redact_values(text, secrets)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group('key')}{REDACTED}", text)


class AuthenticationError(SourceError):
    """Credentials refused or expired (HTTP 401, OAuth invalid_grant, Odoo authenticate false).

    Exit code 2: nothing can be done until the configuration (the token) is fixed.
    """

    exit_code = 2


class PermissionDeniedError(SourceError):
    """Credentials valid but not allowed to read this (HTTP 403, a missing scope or role).

    Exit code 2: a configuration error (the token's scopes, the user's role), not a failed item.
    """

    exit_code = 2


class NotFoundError(SourceError):
    """The record or endpoint does not exist (HTTP 404)."""


class RateLimitedError(SourceError):
    """Still throttled (HTTP 429) after every retry."""

    def __init__(self, message: str, *, retry_after: float | None = None, **where: str) -> None:
        super().__init__(message, **where)
        self.retry_after = retry_after


class ServerError(SourceError):
    """The platform failed (HTTP 5xx) or could not be reached, after every retry."""


class UnreachableError(ServerError):
    """The platform could not be reached or did not answer in time, after every retry."""

    def __init__(self, message: str, *, timed_out: bool = False, **where: str) -> None:
        super().__init__(message, **where)
        self.timed_out = timed_out


class ClientRequestError(SourceError):
    """The platform refused the request as made (other 4xx, e.g. 400 or 422)."""

    def __init__(self, message: str, *, status: int, **where: str) -> None:
        super().__init__(message, **where)
        self.status = status


class MalformedResponseError(SourceError):
    """The answer cannot be used: not JSON, an HTML page from a proxy, a record missing a field."""


class UnsupportedVersionError(SourceError):
    """The server runs a version encours does not support."""
