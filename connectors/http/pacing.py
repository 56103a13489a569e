"""When to send and how long to wait: the one Retry-After parser, the pacers and the backoff.

Two kinds of pacing, both used by :class:`~encours.connectors.http.client.HttpClient`:

* :class:`Pacer` follows the platform's ``ratelimit-*`` answer headers (Pennylane);
* :class:`Budget` is client-side: at most ``limit`` requests in any ``window`` seconds (a sliding
  window).  It is for platforms that send no rate-limit headers (Sage), the registries' published
  rates and Google's per-user quota.  :func:`shared_budget` hands every caller that names the same
  key the same budget, so that all the dossiers of one Google identity in one process share one
  quota instead of each believing it has the whole of it.

Times are seconds; clocks and sleeps are injectable so that tests never wait.
"""

from __future__ import annotations

import collections
import email.utils
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    """Where time comes from; tests pass a fake whose ``sleep`` only advances ``now``."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds or an HTTP date (``now`` is Unix time)."""
    if not value:
        return None
    seconds = number(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a read is retried.

    5xx answers and connection failures are retried ``attempts`` times in all.  A 429 is retried
    while the time spent waiting on that one request stays under ``patience``: with a
    ``Retry-After`` the wait is what the server asked; without one it backs off exponentially up
    to ``throttle_ceiling`` (a minute: a platform that throttles without saying for how long is
    usually counting per minute).  ``throttle_tries`` (0: no limit) caps the 429 retries too.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0  # a Retry-After longer than this is not waited for
    throttle_ceiling: float = 60.0
    patience: float = 600.0
    throttle_tries: int = 0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random, *, throttled: bool = False) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0).

        Full jitter under an exponential ceiling; with a ``Retry-After`` its value plus up to a
        second, so that clients told the same instant do not all come back together.
        """
        if retry_after is not None:
            return retry_after + rng.uniform(0, min(1.0, self.base_delay))
        cap = self.throttle_ceiling if throttled else self.max_delay
        ceiling = min(cap, self.base_delay * 2**attempt)
        return rng.uniform(ceiling / 2, ceiling)


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
        remaining = number(headers.get("ratelimit-remaining"))
        reset = number(headers.get("ratelimit-reset"))
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


class Budget:
    """At most ``limit`` requests in any ``window`` seconds, waiting rather than being refused.

    Thread-safe: one budget may be shared by several clients (see :func:`shared_budget`).
    ``hold`` pushes every sender back after a 429, since the quota is the server's, not one client's.
    """

    def __init__(self, limit: int, window: float, clock: Clock | None = None) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a budget needs at least one request in a positive window")
        self.limit = limit
        self.window = window
        self.clock = clock or Clock()
        self._sent: collections.deque[float] = collections.deque()
        self._held_until = float("-inf")
        self._lock = threading.Lock()
        self.requests = 0
        self.waited = 0.0

    @classmethod
    def per_second(cls, rate: float, clock: Clock | None = None) -> Budget:
        """One request every ``1 / rate`` seconds (the registries publish rates this way)."""
        if rate <= 0:
            raise ValueError("a budget needs a positive rate")
        return cls(1, 1.0 / rate, clock)

    @classmethod
    def per_minute(cls, limit: int, clock: Clock | None = None) -> Budget:
        return cls(limit, 60.0, clock)

    def acquire(self) -> float:
        """Block until one more request fits; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock.now()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                pause = self._held_until - now
                if pause <= 0 and len(self._sent) < self.limit:
                    self._sent.append(now)
                    self.requests += 1
                    self.waited += waited
                    return waited
                if pause <= 0:
                    pause = self.window - (now - self._sent[0]) + 0.001
            self.clock.sleep(pause)
            waited += pause

    def wait(self) -> float:
        return self.acquire()

    def hold(self, seconds: float) -> None:
        """No request from anyone sharing this budget before ``seconds`` from now."""
        with self._lock:
            self._held_until = max(self._held_until, self.clock.now() + seconds)


_SHARED: dict[tuple[str, int, float, Callable[[], float]], Budget] = {}
_SHARED_LOCK = threading.Lock()


def shared_budget(key: str, limit: int, window: float, clock: Clock | None = None) -> Budget:
    """The process's one budget for ``key`` (e.g. a Google identity), created on first use.

    Budgets on different clocks are different budgets (a test's fake clock never shares a window
    with real time).
    """
    clock = clock or Clock()
    ident = (key, limit, window, clock.now)
    with _SHARED_LOCK:
        budget = _SHARED.get(ident)
        if budget is None:
            budget = _SHARED[ident] = Budget(limit, window, clock)
        return budget
