"""One HTTP layer for every platform: timeouts, retries, pacing, error classes, redaction.

* Every call has a timeout (connect, read).
* Reads (GET, or a POST the caller marks ``read=True`` such as an Odoo ``search_read``) are retried
  on 5xx and connection errors (``RetryPolicy.attempts`` tries) with exponential backoff and full
  jitter, and on 429 while the waiting stays within ``RetryPolicy.patience``: a ``Retry-After`` is
  honoured (one longer than ``max_retry_after`` is not waited for), and without one the backoff
  climbs to a one-minute ceiling.  Writes are never retried: the platform may have done them.
* Client-side pacing: a :class:`~encours.connectors.http.pacing.Budget` (requests per window),
  possibly shared with other clients; a 429 holds everyone sharing it.
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

from encours.connectors.http.pacing import Budget, Pacer, RetryPolicy, parse_retry_after
from encours.connectors.source_errors import (
    AuthenticationError,
    ClientRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnreachableError,
    redact,
)

log = logging.getLogger("encours.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
DEFAULT_TIMEOUT = (10.0, 60.0)


@dataclass
class HttpStats:
    """What a client did: requests sent, answers by status, retries and seconds waited."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    paced_waits: int = 0
    waited: float = 0.0
    by_endpoint: Counter[str] = field(default_factory=Counter)


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
    return json.dumps(body)


#: An error text is shortened to this many characters, always after secrets were removed.
EXCERPT = 300


def _text_excerpt(response: requests.Response) -> str:
    """The body as one line, whole: callers redact it, then shorten it with :func:`shorten`."""
    text = (response.text or "")[:100_000]
    if looks_like_html(response):
        return "an HTML page instead of JSON (a proxy, a login or a maintenance page?)"
    return " ".join(text.split()) or "(empty body)"


def shorten(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        budget: Budget | None = None,
        credentials_key: str = "",
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
        self.budget = budget
        self.credentials_key = credentials_key  # the setting to fix on a 401/403, e.g. "[source] token_env"
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
        failures = 0  # 5xx answers and connection failures so far
        throttles = 0  # 429 answers so far
        throttled_for = 0.0  # seconds waited on 429s for this request
        reauthed = False
        while True:
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
                failures += 1
                self.stats.requests += 1
                self.stats.by_endpoint[endpoint] += 1
                self.pacer.sent()
                timed_out = isinstance(exc, requests.Timeout)
                kind = "timed out" if timed_out else "could not connect"
                log.warning("%s %s: %s (try %d)", self.platform, endpoint, kind, failures + throttles)
                if retriable and failures < self.retry.attempts:
                    self._backoff(self.retry.delay(failures - 1, None, self.rng))
                    continue
                raise UnreachableError(
                    f"{kind} to {self._safe_url(url)} after {failures} tries ({self.redact(type(exc).__name__)})",
                    timed_out=timed_out,
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
            if status == 429 and retriable:
                asked = parse_retry_after(response.headers.get("retry-after"), self.clock())
                throttles += 1
                wait = self.retry.delay(throttles - 1, asked, self.rng, throttled=True)
                too_long = asked is not None and asked > self.retry.max_retry_after
                out_of_tries = 0 < self.retry.throttle_tries <= throttles
                if too_long or out_of_tries or throttled_for + wait > self.retry.patience:
                    raise self._error(response, endpoint, record)
                throttled_for += wait
                if self.budget is not None:
                    self.budget.hold(wait)  # everyone sharing the quota waits, not only this request
                self._backoff(wait)
                continue
            if status in RETRY_STATUSES and status != 429 and retriable:
                failures += 1
                asked = parse_retry_after(response.headers.get("retry-after"), self.clock())
                if failures < self.retry.attempts and (asked is None or asked <= self.retry.max_retry_after):
                    self._backoff(self.retry.delay(failures - 1, asked, self.rng))
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
                what = f"a body that is not JSON: {shorten(self.redact(_text_excerpt(response)), 120)!r}"
            raise MalformedResponseError(
                f"answered HTTP {response.status_code} with {what}",
                platform=self.platform,
                endpoint=endpoint,
                record=record,
            ) from None

    # -- internals ----------------------------------------------------------------------------
    def _pace(self) -> None:
        if self.budget is not None:
            waited = self.budget.acquire()
            if waited > 0:
                self.stats.paced_waits += 1
                self.stats.waited += waited
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

    def _backoff(self, wait: float) -> None:
        self.stats.retries += 1
        self.stats.waited += wait
        self.pacer.window_over()
        log.info("%s: retrying in %.1f s", self.platform, wait)
        self.sleep(wait)

    def _safe_url(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))

    def _error(self, response: requests.Response, endpoint: str, record: str) -> Exception:
        status = response.status_code
        try:
            detail = shorten(self.redact(self.error_text(response)))
        except Exception:  # a broken error body must not hide the status
            detail = "(unreadable error body)"
        where = {"platform": self.platform, "endpoint": endpoint, "record": record}
        message = f"HTTP {status}: {detail}"
        fix = f": check {self.credentials_key}" if self.credentials_key else ""
        if status == 401:
            return AuthenticationError(f"{message} — the credentials were refused or have expired{fix}", **where)
        if status == 403:
            return PermissionDeniedError(
                f"{message} — the credentials lack the permission (scope) to read this{fix}", **where
            )
        if status == 404:
            return NotFoundError(message, **where)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
            return RateLimitedError(f"{message} — still rate limited after retrying", retry_after=retry_after, **where)
        if status >= 500:
            return ServerError(message, **where)
        return ClientRequestError(message, status=status, **where)
