"""The one HTTP layer under every connector, the Google Sheets session and the registries.

:mod:`.pacing` says when to send and how long to wait (Retry-After, backoff, pacers, shared
budgets); :mod:`.client` sends (timeouts, retries, error classes, redaction).
"""

from __future__ import annotations

from encours.connectors.http.client import (
    DEFAULT_TIMEOUT,
    RETRY_STATUSES,
    HttpClient,
    HttpStats,
    _text_excerpt,
    looks_like_html,
    shorten,
)
from encours.connectors.http.pacing import Budget, Clock, Pacer, RetryPolicy, parse_retry_after, shared_budget

__all__ = [
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "Budget",
    "Clock",
    "HttpClient",
    "HttpStats",
    "Pacer",
    "RetryPolicy",
    "_text_excerpt",
    "looks_like_html",
    "parse_retry_after",
    "shared_budget",
    "shorten",
]
