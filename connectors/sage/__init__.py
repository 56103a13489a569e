"""Sage Business Cloud Accounting API v3.1: :mod:`.tokens` (OAuth2, error bodies), :mod:`.mapping`
(records into the domain model, pure) and :mod:`.connector` (pulls, re-checks, ``check``)."""

from __future__ import annotations

from encours.connectors.sage.connector import (
    DEFAULT_AUTH_URL,
    DEFAULT_BASE_URL,
    DEFAULT_REQUESTS_PER_MINUTE,
    SageConnector,
    SageCursor,
)
from encours.connectors.sage.tokens import DEFAULT_TOKEN_URL, TOKENS_NS, SageTokens, sage_error_text

__all__ = [
    "DEFAULT_AUTH_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_TOKEN_URL",
    "TOKENS_NS",
    "SageConnector",
    "SageCursor",
    "SageTokens",
    "sage_error_text",
]
