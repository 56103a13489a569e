"""How a source failed, classified, with every secret scrubbed from the message.

All are :class:`~connectors.errors.SourceError` (exit code 1; the message names the platform,
the endpoint and, when known, the record).  They live apart from ``http.py`` so that sources that
do not speak plain HTTP (Odoo XML-RPC) raise the same classes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values, ``Bearer …`` credentials and ``token=…``-like pairs from text."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group('key')}{REDACTED}", text)


class AuthenticationError(SourceError):
    """Credentials refused or expired (HTTP 401, OAuth invalid_grant, Odoo authenticate false)."""


class PermissionDeniedError(SourceError):
    """Credentials valid but not allowed to read this (HTTP 403, a missing scope)."""


class NotFoundError(SourceError):
    """The record or endpoint does not exist (HTTP 404)."""


class RateLimitedError(SourceError):
    """Still throttled (HTTP 429) after every retry."""

    def __init__(self, message: str, *, retry_after: float | None = None, **where: str) -> None:
        super().__init__(message, **where)
        self.retry_after = retry_after


class ServerError(SourceError):
    """The platform failed (HTTP 5xx) or could not be reached, after every retry."""


class ClientRequestError(SourceError):
    """The platform refused the request as made (other 4xx, e.g. 400 or 422)."""

    def __init__(self, message: str, *, status: int, **where: str) -> None:
        super().__init__(message, **where)
        self.status = status


class MalformedResponseError(SourceError):
    """The answer cannot be used: not JSON, an HTML page from a proxy, a record missing a field."""


class UnsupportedVersionError(SourceError):
    """The server runs a version encours does not support."""
