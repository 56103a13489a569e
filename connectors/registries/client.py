"""The registries on the one HTTP layer: published rates, timeouts, 429 handling, clear errors.

The registries are public and keyless; what matters is to stay within their published rates
(a :class:`Pacer` per API, a :class:`~encours.connectors.http.Budget`), to give up quickly when the
network is down (the sync goes on with stale signals), and to name the endpoint in every error.
Requests go through :class:`~encours.connectors.http.HttpClient` like every connector's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from encours.connectors.access import detail_of
from encours.connectors.errors import SourceError
from encours.connectors.http import Budget, Clock, HttpClient, RetryPolicy
from encours.connectors.source_errors import (
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnreachableError,
)

USER_AGENT = "encours (accounts-receivable follow-up)"
HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}


class RegistryError(SourceError):
    """A registry answered something unusable (bad JSON, unexpected shape, 4xx other than 429)."""


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached: timeout, connection refused, DNS failure, 5xx."""


class RegistryRateLimitedError(RegistryUnavailableError):
    """The registry kept answering 429 Too Many Requests after the allowed waits."""


class Pacer(Budget):
    """At most ``per_second`` requests a second (a minimum interval between starts)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("a pacer needs a positive rate")
        super().__init__(1, 1.0 / per_second, Clock(clock, sleep))


def get_json(
    session: requests.Session,
    url: str,
    params: Mapping[str, str | int],
    *,
    platform: str,
    endpoint: str,
    pacer: Budget,
    timeout: float,
    record: str = "",
    retries_on_429: int = 2,
    max_wait: float = 10.0,
) -> tuple[int, Any]:
    """GET ``url`` paced; returns (status, parsed JSON).  404 returns (404, body or None).

    429 waits ``Retry-After`` (up to ``max_wait``) and retries ``retries_on_429`` times, then
    raises :class:`RegistryRateLimitedError`.  Timeouts, connection errors and 5xx raise
    :class:`RegistryUnavailableError` at once: when a registry is down the caller stops asking.
    """
    http = HttpClient(
        platform,
        url,
        session=session,
        timeout=(timeout, timeout),
        retry=RetryPolicy(
            attempts=1, base_delay=0.2, max_retry_after=max_wait, patience=max_wait * (retries_on_429 + 1),
            throttle_ceiling=max_wait, throttle_tries=retries_on_429 + 1,
        ),
        headers=HEADERS,
        budget=pacer,
        sleep=pacer.clock.sleep,
    )
    where = {"platform": platform, "endpoint": endpoint, "record": record}
    try:
        response = http.request("GET", "", params=dict(params), endpoint=endpoint, record=record)
    except NotFoundError:
        return 404, None
    except RateLimitedError:
        raise RegistryRateLimitedError(
            f"rate limit reached (HTTP 429, {retries_on_429 + 1} attempts)", **where
        ) from None
    except UnreachableError as exc:
        why = f"no answer within {timeout:g} s" if exc.timed_out else "cannot be reached"
        raise RegistryUnavailableError(why, **where) from None
    except ServerError as exc:
        raise RegistryUnavailableError(f"server error {detail_of(exc)}", **where) from None
    except SourceError as exc:
        raise RegistryError(f"refused the request: {detail_of(exc)}", **where) from None
    try:
        return response.status_code, http.json_of(response, endpoint=endpoint, record=record)
    except MalformedResponseError:
        raise RegistryError(f"HTTP {response.status_code} with a body that is not JSON", **where) from None


def new_session() -> requests.Session:
    return requests.Session()
