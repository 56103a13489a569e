"""The HTTP session under gspread for Google Sheets: base URL, timeouts, pacing, retries, counters.

gspread sends every request through one ``requests`` session; this one

- rewrites ``https://sheets.googleapis.com`` to ``[sheet] api_base_url`` (a private endpoint or a
  local test server) so that everything else behaves the same;
- gives every request a timeout (gspread sets none);
- keeps under Google's per-user quota (60 read and 60 write requests a minute) with a sliding
  one-minute window per kind, waiting rather than being refused;
- retries 429 and 5xx with exponential backoff, full jitter and ``Retry-After`` (gspread's own
  ``BackOffHTTPClient`` ignores Retry-After and calls itself not production ready);
- counts requests, retries and bytes, for the benchmarks and the request-count tests.

The clock, the sleep and the random source are injected so tests run instantly.
"""

from __future__ import annotations

import collections
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

log = logging.getLogger("encours.gsheets")

GOOGLE_SHEETS_BASE = "https://sheets.googleapis.com"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: (connect, read) seconds: a 2 MB write to a busy sheet can take a while to be acknowledged.
DEFAULT_TIMEOUT = (10.0, 120.0)


@dataclass
class Clock:
    """Where time comes from; tests pass a fake whose ``sleep`` only advances ``now``."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


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


class Pacer:
    """At most ``limit`` requests in any ``window`` seconds (a sliding window)."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        if limit < 1:
            raise ValueError("a pacer needs a limit of at least one request")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._sent: collections.deque[float] = collections.deque()

    def wait(self) -> float:
        """Block until one more request fits in the window; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock.now()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return waited
            pause = self.window - (now - self._sent[0]) + 0.001
            self.clock.sleep(pause)
            waited += pause


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, the first included
    base: float = 1.0  # seconds; the backoff ceiling doubles each try
    cap: float = 64.0
    max_total: float = 300.0  # give up once this much time went into waiting

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Full jitter under an exponential ceiling, never less than what the server asked."""
        ceiling = min(self.cap, self.base * (2**attempt))
        jittered = rng.uniform(ceiling / 2, ceiling)
        return max(jittered, retry_after or 0.0)


def retry_after_seconds(value: str | None, now_epoch: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    reference = time.time() if now_epoch is None else now_epoch
    return max(0.0, when.timestamp() - reference)


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
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(credentials)  # type: ignore[no-untyped-call]
        self.api_base_url = api_base_url.rstrip("/")
        self.default_timeout = timeout
        self.clock = clock or Clock()
        self.retry = retry or RetryPolicy()
        self.rng = rng or random.Random()
        self.read_pacer = Pacer(per_minute, 60.0, self.clock)
        self.write_pacer = Pacer(per_minute, 60.0, self.clock)
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
            self.traffic.waited += pacer.wait()
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
                pause = self.retry.delay(
                    attempt, retry_after_seconds(response.headers.get("Retry-After")), self.rng
                )
                if waited_total + pause > self.retry.max_total:
                    return response
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
