"""The HTTP session under gspread for Google Sheets, on the one HTTP layer's pacing and backoff.

gspread sends every request through one ``requests`` session; this one

- rewrites ``https://sheets.googleapis.com`` to ``[sheet] api_base_url`` (a private endpoint or a
  local test server) so that everything else behaves the same;
- gives every request a timeout (gspread sets none);
- keeps under Google's per-user quota (60 read and 60 write requests a minute) with a sliding
  one-minute window per kind, waiting rather than being refused.  The windows are
  :func:`encours.connectors.http.shared_budget` windows keyed by the Google identity: every dossier
  signed in as the same account in one process shares one quota;
- retries 429 and 5xx with :class:`encours.connectors.http.RetryPolicy` (exponential backoff, full
  jitter, ``Retry-After`` honoured; gspread's own ``BackOffHTTPClient`` ignores Retry-After);
- counts requests, retries and bytes, for the benchmarks and the request-count tests.

The clock, the sleep and the random source are injected so tests run instantly.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

from encours.connectors.http import Budget, Clock, RetryPolicy, parse_retry_after, shared_budget

log = logging.getLogger("encours.gsheets")

GOOGLE_SHEETS_BASE = "https://sheets.googleapis.com"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: (connect, read) seconds: a 2 MB write to a busy sheet can take a while to be acknowledged.
DEFAULT_TIMEOUT = (10.0, 120.0)
#: Google's backoff advice: start around a second, cap a wait at 64 s, six tries in all.
SHEETS_RETRY = RetryPolicy(attempts=6, base_delay=1.0, max_delay=64.0, throttle_ceiling=64.0, patience=300.0)


@dataclass
class Traffic:
    """What went over the wire (request bodies and URLs sent, response bodies received)."""

    requests: int = 0
    reads: int = 0
    writes: int = 0
    retries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    waited: float = 0.0  # seconds spent pacing or backing off
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)

    def snapshot(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "reads": self.reads,
            "writes": self.writes,
            "retries": self.retries,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "waited": round(self.waited, 3),
        }


def google_identity(credentials: Credentials) -> str:
    """Who the quota is counted for: the service account, the OAuth client and account, or the token."""
    for attribute in ("service_account_email", "account", "client_id"):
        value = getattr(credentials, attribute, None)
        if isinstance(value, str) and value:
            return f"{attribute}:{value}"
    return f"{type(credentials).__name__}:{id(credentials)}"


def _is_write(method: str, url: str) -> bool:
    return method.upper() != "GET"


def _idempotent(method: str, url: str) -> bool:
    """Safe to send twice: reads and value writes (same cells, same values)."""
    if method.upper() in ("GET", "PUT"):
        return True
    return url.split("?", 1)[0].endswith(("values:batchUpdate", ":clear", "values:batchClear"))


class SheetsSession(AuthorizedSession):  # type: ignore[misc]
    """An authorised session for the Sheets API with pacing, retries, timeouts and counters."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_base_url: str = GOOGLE_SHEETS_BASE,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        per_minute: int = 55,
        identity: str = "",
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(credentials)  # type: ignore[no-untyped-call]
        self.api_base_url = api_base_url.rstrip("/")
        self.default_timeout = timeout
        self.clock = clock or Clock()
        self.retry = retry or SHEETS_RETRY
        self.rng = rng or random.Random()
        who = f"google:{self.api_base_url}:{identity or google_identity(credentials)}"
        self.read_pacer: Budget = shared_budget(who + ":read", per_minute, 60.0, self.clock)
        self.write_pacer: Budget = shared_budget(who + ":write", per_minute, 60.0, self.clock)
        self.traffic = Traffic()

    def _rewrite(self, url: str) -> str:
        if self.api_base_url != GOOGLE_SHEETS_BASE and url.startswith(GOOGLE_SHEETS_BASE):
            return self.api_base_url + url[len(GOOGLE_SHEETS_BASE):]
        return url

    def request(  # type: ignore[override]
        self, method: str, url: str, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("_credential_refresh_attempt"):
            # google-auth re-sends after refreshing an expired token: no pacing or retry around that.
            refreshed: requests.Response = super().request(  # type: ignore[no-untyped-call]
                method, url, data=data, headers=headers, **kwargs
            )
            return refreshed
        url = self._rewrite(url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        write = _is_write(method, url)
        pacer = self.write_pacer if write else self.read_pacer
        waited_total = 0.0
        attempt = 0
        while True:
            self.traffic.waited += pacer.acquire()
            try:
                response: requests.Response = super().request(  # type: ignore[no-untyped-call]
                    method, url, data=data, headers=headers, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                retriable = isinstance(exc, requests.ConnectTimeout) or (
                    not isinstance(exc, requests.ReadTimeout) or _idempotent(method, url)
                )
                self._count(method, url, None)
                if not retriable or attempt + 1 >= self.retry.attempts:
                    raise
                pause = self.retry.delay(attempt, None, self.rng)
            else:
                self._count(method, url, response)
                if response.status_code not in RETRY_STATUSES or attempt + 1 >= self.retry.attempts:
                    return response
                asked = parse_retry_after(response.headers.get("Retry-After"), time.time())
                pause = self.retry.delay(attempt, asked, self.rng, throttled=response.status_code == 429)
                if waited_total + pause > self.retry.patience:
                    return response
                if response.status_code == 429:
                    pacer.hold(pause)  # the quota is the identity's: its other dossiers wait too
                log.info(
                    "Google Sheets answered %s to %s %s; retrying in %.1f s",
                    response.status_code, method.upper(), _path(url), pause,
                )
            attempt += 1
            waited_total += pause
            self.traffic.retries += 1
            self.traffic.waited += pause
            self.clock.sleep(pause)

    def _count(self, method: str, url: str, response: requests.Response | None) -> None:
        traffic = self.traffic
        traffic.requests += 1
        if _is_write(method, url):
            traffic.writes += 1
        else:
            traffic.reads += 1
        sent = len(url)
        if response is not None:
            body = response.request.body
            sent += len(body) if body else 0
            traffic.bytes_received += len(response.content)
        traffic.bytes_sent += sent
        traffic.log.append((method.upper(), _path(url), response.status_code if response is not None else 0))


def _path(url: str) -> str:
    """The URL without host or query string (never a token: tokens travel in headers)."""
    without_query = url.split("?", 1)[0]
    parts = without_query.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else without_query


__all__ = ["DEFAULT_TIMEOUT", "GOOGLE_SHEETS_BASE", "SHEETS_RETRY", "Clock", "RetryPolicy", "SheetsSession", "Traffic"]
