"""One HTTP layer for every platform: timeouts, retries, pacing, error classes, redaction.

* Every call has a timeout (connect, read).
* Reads (GET, or a POST the caller marks ``read=True`` such as an Odoo ``search_read``) are retried
  on 429, 5xx and connection errors with exponential backoff and full jitter; a ``Retry-After``
  header is honoured.  Writes are never retried: the platform may have done them.
* Pacing: the ``ratelimit-limit / -remaining / -reset`` headers (Pennylane, IETF draft) are read
  after each answer; when nothing remains in the window the next call waits for the reset, so a
  sync stays under the limit instead of collecting 429s.
* Failures become :mod:`encours.connectors.source_errors` classes naming platform and endpoint; secrets
  (tokens, keys, passwords) are scrubbed from every message and log line.

``sleep``, ``clock`` (wall time, seconds) and ``rng`` are injectable so tests never wait.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from encours.connectors.source_errors import (
    AuthenticationError,
    ClientRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    redact,
)

log = logging.getLogger("encours.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
DEFAULT_TIMEOUT = (10.0, 60.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a read."""

    attempts: int = 5  # total tries, the first included
    base_delay: float = 0.5  # seconds; doubled at each retry, then fully jittered
    max_delay: float = 30.0  # cap of one backoff wait
    max_retry_after: float = 300.0  # a Retry-After longer than this is not waited for


@dataclass
class HttpStats:
    """What a client did: requests sent, answers by status, retries and seconds waited."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    paced_waits: int = 0
    waited: float = 0.0
    by_endpoint: Counter[str] = field(default_factory=Counter)


class Pacer:
    """Keeps a client inside the platform's window using the ``ratelimit-*`` answer headers.

    ``ratelimit-reset`` is read as a Unix time when it looks like one (Pennylane), else as a
    number of seconds from now (IETF draft).  Fractions are accepted.
    """

    def __init__(self, *, reserve: int = 0, max_wait: float = 60.0, margin: float = 0.001) -> None:
        self.reserve = reserve
        self.max_wait = max_wait
        self.margin = margin  # a reset stated to the millisecond may be rounded down: wake just after
        self.remaining: int | None = None
        self.reset_at: float | None = None

    def observe(self, headers: Mapping[str, str], now: float) -> None:
        remaining = _number(headers.get("ratelimit-remaining"))
        reset = _number(headers.get("ratelimit-reset"))
        if remaining is None:
            return
        self.remaining = int(remaining)
        if reset is not None:
            self.reset_at = reset if reset > 1_000_000_000 else now + reset

    def wait_needed(self, now: float) -> float:
        """Seconds to wait before the next request (0 when the window still has room)."""
        if self.remaining is None or self.remaining > self.reserve:
            return 0.0
        if self.reset_at is None:
            return 1.0
        return min(max(self.reset_at - now + self.margin, 0.0), self.max_wait)

    def sent(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1

    def window_over(self) -> None:
        self.remaining = None
        self.reset_at = None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds or an HTTP date."""
    if not value:
        return None
    number = _number(value)
    if number is not None:
        return max(number, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def _default_error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _text_excerpt(response)
    if isinstance(body, dict):
        for key in ("error_description", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    return json.dumps(body)[:300]


def _text_excerpt(response: requests.Response) -> str:
    text = response.text or ""
    if looks_like_html(response):
        return "an HTML page instead of JSON (a proxy, a login or a maintenance page?)"
    return " ".join(text.split())[:300] or "(empty body)"


def looks_like_html(response: requests.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    head = (response.text or "")[:200].lstrip().lower()
    return "html" in ctype or head.startswith("<!doctype html") or head.startswith("<html")


class HttpClient:
    """A ``requests.Session`` bound to one platform and base URL.

    ``auth`` returns the headers that authenticate a request (called before every try, so a
    refreshed token is picked up); ``reauth`` is called once on a 401 and returns whether fresh
    credentials were obtained, in which case the request is sent again.  ``error_text`` turns a
    failed answer into a sentence (each platform shapes its errors differently).
    """

    def __init__(
        self,
        platform: str,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        secrets: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Mapping[str, str]] | None = None,
        reauth: Callable[[], bool] | None = None,
        error_text: Callable[[requests.Response], str] | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._secrets: set[str] = {s for s in secrets if s}
        self.headers = dict(headers or {})
        self.auth = auth
        self.reauth = reauth
        self.error_text = error_text or _default_error_text
        self.pacer = pacer or Pacer()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.stats = HttpStats()
        self.last_date: float | None = None  # the server's Date header of the last answer

    # -- secrets ------------------------------------------------------------------------------
    def add_secret(self, value: str) -> None:
        """Scrub this value too from every later message (a token obtained at run time)."""
        if value:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    # -- requests -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        read: bool | None = None,
        endpoint: str = "",
        record: str = "",
        authenticated: bool = True,
    ) -> requests.Response:
        """Send one request (retried when it is a read); return a 2xx answer or raise."""
        method = method.upper()
        retriable = read if read is not None else method in ("GET", "HEAD", "OPTIONS")
        endpoint = endpoint or f"{method} {urlsplit(path).path or path}"
        url = self.url(path)
        attempt = 0
        reauthed = False
        while True:
            attempt += 1
            self._pace()
            sent_headers = dict(self.headers)
            if authenticated and self.auth is not None:
                sent_headers.update(self.auth())
            sent_headers.update(headers or {})
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    data=data,
                    headers=sent_headers,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.stats.requests += 1
                self.stats.by_endpoint[endpoint] += 1
                self.pacer.sent()
                kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
                log.warning("%s %s: %s (try %d)", self.platform, endpoint, kind, attempt)
                if retriable and attempt < self.retry.attempts:
                    self._backoff(attempt, None)
                    continue
                raise ServerError(
                    f"{kind} to {self._safe_url(url)} after {attempt} tries ({self.redact(type(exc).__name__)})",
                    platform=self.platform,
                    endpoint=endpoint,
                    record=record,
                ) from None
            self._observe(response, endpoint, started)
            status = response.status_code
            if status < 400:
                return response
            if status == 401 and self.reauth is not None and not reauthed:
                reauthed = True
                if self.reauth():
                    continue
            if status in RETRY_STATUSES and retriable and attempt < self.retry.attempts:
                wait = parse_retry_after(response.headers.get("retry-after"), self.clock())
                if status == 429 and wait is not None and wait > self.retry.max_retry_after:
                    raise self._error(response, endpoint, record)
                self._backoff(attempt, wait)
                continue
            raise self._error(response, endpoint, record)

    def get_json(
        self, path: str, *, params: Mapping[str, Any] | None = None, endpoint: str = "", record: str = ""
    ) -> Any:
        response = self.request("GET", path, params=params, endpoint=endpoint, record=record)
        return self.json_of(response, endpoint=endpoint or f"GET {path}", record=record)

    def json_of(self, response: requests.Response, *, endpoint: str, record: str = "") -> Any:
        """The JSON body of an answer, or MalformedResponseError naming what came instead."""
        try:
            return response.json()
        except ValueError:
            if looks_like_html(response):
                what = "an HTML page instead of JSON (a proxy, a login or a maintenance page?)"
            else:
                what = f"a body that is not JSON: {self.redact(_text_excerpt(response))[:120]!r}"
            raise MalformedResponseError(
                f"answered HTTP {response.status_code} with {what}",
                platform=self.platform,
                endpoint=endpoint,
                record=record,
            ) from None

    # -- internals ----------------------------------------------------------------------------
    def _pace(self) -> None:
        wait = self.pacer.wait_needed(self.clock())
        if wait > 0:
            self.stats.paced_waits += 1
            self.stats.waited += wait
            self.sleep(wait)
            self.pacer.window_over()

    def _observe(self, response: requests.Response, endpoint: str, started: float) -> None:
        self.stats.requests += 1
        self.stats.by_endpoint[endpoint] += 1
        self.stats.statuses[response.status_code] += 1
        now = self.clock()
        self.pacer.sent()
        self.pacer.observe(response.headers, now)
        date = response.headers.get("date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self.last_date = email.utils.parsedate_to_datetime(date).timestamp()
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s in %.0f ms",
                self.platform,
                self.redact(self._safe_url(response.url or "")),
                response.status_code,
                (time.monotonic() - started) * 1000,
            )

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        self.stats.retries += 1
        if retry_after is not None:
            wait = retry_after + self.rng.uniform(0, min(1.0, self.retry.base_delay))
        else:
            ceiling = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
            wait = self.rng.uniform(ceiling / 2, ceiling)
        self.stats.waited += wait
        self.pacer.window_over()
        log.info("%s: retrying in %.1f s (try %d)", self.platform, wait, attempt + 1)
        self.sleep(wait)

    def _safe_url(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))

    def _error(self, response: requests.Response, endpoint: str, record: str) -> Exception:
        status = response.status_code
        try:
            detail = self.redact(self.error_text(response))
        except Exception:  # a broken error body must not hide the status
            detail = "(unreadable error body)"
        where = {"platform": self.platform, "endpoint": endpoint, "record": record}
        message = f"HTTP {status}: {detail}"
        if status == 401:
            return AuthenticationError(f"{message} — the credentials were refused or have expired", **where)
        if status == 403:
            return PermissionDeniedError(
                f"{message} — the credentials lack the permission (scope) to read this", **where
            )
        if status == 404:
            return NotFoundError(message, **where)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
            return RateLimitedError(f"{message} — still rate limited after retrying", retry_after=retry_after, **where)
        if status >= 500:
            return ServerError(message, **where)
        return ClientRequestError(message, status=status, **where)
