"""The small HTTP layer the registry clients share: pacing, timeouts, 429 handling, clear errors.

The registries are public and keyless; what matters is to stay within their published rates
(a :class:`Pacer` per API), to give up quickly when the network is down (the sync goes on with
stale signals), and to name the endpoint in every error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from encours.connectors.errors import SourceError

USER_AGENT = "encours (accounts-receivable follow-up)"
HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}


class RegistryError(SourceError):
    """A registry answered something unusable (bad JSON, unexpected shape, 4xx other than 429)."""


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached: timeout, connection refused, DNS failure, 5xx."""


class RegistryRateLimitedError(RegistryUnavailableError):
    """The registry kept answering 429 Too Many Requests after the allowed waits."""


class Pacer:
    """Keeps requests at most ``per_second`` apart on average (a minimum interval between starts).

    ``clock`` and ``sleep`` are injectable so that benchmarks can count without waiting; by
    default they are the real monotonic clock and ``time.sleep``.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("a pacer needs a positive rate")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self.waited = 0.0
        self.requests = 0

    def wait(self) -> None:
        now = self._clock()
        if now < self._next:
            pause = self._next - now
            self._sleep(pause)
            self.waited += pause
            now = self._next
        self._next = now + self.interval
        self.requests += 1

    def hold(self, seconds: float) -> None:
        """Push the next request at least ``seconds`` away (after a 429 with Retry-After)."""
        self._next = max(self._next, self._clock() + seconds)


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def get_json(
    session: requests.Session,
    url: str,
    params: Mapping[str, str | int],
    *,
    platform: str,
    endpoint: str,
    pacer: Pacer,
    timeout: float,
    record: str = "",
    retries_on_429: int = 2,
    max_wait: float = 10.0,
) -> tuple[int, Any]:
    """GET ``url`` paced; returns (status, parsed JSON).  404 returns (404, body or None).

    429 waits ``Retry-After`` (capped at ``max_wait``) and retries ``retries_on_429`` times, then
    raises :class:`RegistryRateLimitedError`.  Timeouts, connection errors and 5xx raise
    :class:`RegistryUnavailableError` at once: when a registry is down the caller stops asking.
    """
    attempt = 0
    while True:
        pacer.wait()
        try:
            response = session.get(url, params=dict(params), timeout=timeout, headers=HEADERS)
        except requests.Timeout:
            raise RegistryUnavailableError(
                f"no answer within {timeout:g} s", platform=platform, endpoint=endpoint, record=record
            ) from None
        except requests.RequestException as exc:
            raise RegistryUnavailableError(
                f"cannot be reached ({type(exc).__name__})", platform=platform, endpoint=endpoint, record=record
            ) from None
        status = response.status_code
        if status == 429:
            attempt += 1
            wait = min(_retry_after(response, 1.0), max_wait)
            if attempt > retries_on_429:
                raise RegistryRateLimitedError(
                    f"rate limit reached (HTTP 429, {retries_on_429 + 1} attempts)",
                    platform=platform,
                    endpoint=endpoint,
                    record=record,
                )
            pacer.hold(wait)
            continue
        if status >= 500:
            raise RegistryUnavailableError(
                f"server error HTTP {status}", platform=platform, endpoint=endpoint, record=record
            )
        try:
            body = response.json()
        except ValueError:
            if status == 404:
                return status, None
            raise RegistryError(
                f"HTTP {status} with a body that is not JSON", platform=platform, endpoint=endpoint, record=record
            ) from None
        if status == 404:
            return status, body
        if status >= 400:
            raise RegistryError(
                f"refused the request (HTTP {status}): {_message(body)}",
                platform=platform,
                endpoint=endpoint,
                record=record,
            )
        return status, body


def _message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("erreur", "message", "error", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
    return "no detail"


def new_session() -> requests.Session:
    return requests.Session()
