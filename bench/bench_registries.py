"""Registry lookups: request counts, pacing within the published rates, and the weekly cache.

Simulates 1,000 customers with a SIREN against `responses` (no network) with a simulated clock, so
the pacing is measured without waiting.  Baseline in the same run: asking the registries at every
sync (every 15 minutes for a week) without the state-store cache.

    python bench/bench_registries.py
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import responses

from encours.connectors.model import Customer
from encours.connectors.registries.bodacc import RECORDS_PATH, BodaccClient
from encours.connectors.registries.client import Pacer
from encours.connectors.registries.sirene import RATE_PER_SECOND as SIRENE_RATE
from encours.connectors.registries.sirene import SireneClient
from encours.sync.risk import refresh_risk
from encours.sync.settings import RiskSettings
from encours.sync.state import StateStore

CUSTOMERS = 1000
SYNCS_PER_WEEK = 7 * 24 * 4  # every 15 minutes
SIRENE = "https://sirene.bench"
BODACC = "https://bodacc.bench"


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def siren(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(8)]
        total = 0
        for index, digit in enumerate(reversed(digits)):
            value = digit * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return "".join(map(str, digits))


def max_in_one_second(times: list[float]) -> int:
    window: deque[float] = deque()
    best = 0
    for t in times:
        window.append(t)
        while window[0] <= t - 1.0 + 1e-9:  # a half-open window of one second
            window.popleft()
        best = max(best, len(window))
    return best


def main() -> None:
    rng = random.Random(8)
    customers = [Customer(f"C{i:04d}", f"Client {i}", "bench", siren=siren(rng)) for i in range(CUSTOMERS)]
    payloads = Path(__file__).resolve().parents[1] / "tests" / "payloads"
    active = json.loads((payloads / "sirene" / "active.json").read_text(encoding="utf-8"))
    none = (payloads / "bodacc" / "none.json").read_text(encoding="utf-8")
    clock = SimulatedClock()
    stamps: dict[str, list[float]] = {"sirene": [], "bodacc": []}

    def sirene_answer(request):  # type: ignore[no-untyped-def]
        stamps["sirene"].append(clock.now)
        body = json.loads(json.dumps(active))
        body["results"][0]["siren"] = request.params["q"]
        return 200, {}, json.dumps(body)

    def bodacc_answer(request):  # type: ignore[no-untyped-def]
        stamps["bodacc"].append(clock.now)
        return 200, {}, none

    settings = RiskSettings(sirene_base_url=SIRENE, bodacc_base_url=BODACC, max_lookups=CUSTOMERS)
    now = datetime(2026, 11, 23, 7, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp, StateStore(Path(tmp) / "state.sqlite") as store, \
            responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, f"{SIRENE}/search", callback=sirene_answer)
        rsps.add_callback(responses.GET, BODACC + RECORDS_PATH, callback=bodacc_answer)

        def clients() -> tuple[SireneClient, BodaccClient]:
            shared = Pacer(SIRENE_RATE, clock=clock.clock, sleep=clock.sleep)
            return (SireneClient(SIRENE, pacer=shared),
                    BodaccClient(BODACC, pacer=Pacer(5.0, clock=clock.clock, sleep=clock.sleep)))

        started = time.perf_counter()
        sirene, bodacc = clients()
        first = refresh_risk(store, customers, settings, now=now, sirene=sirene, bodacc=bodacc)
        wall_first = time.perf_counter() - started
        simulated = clock.now
        started = time.perf_counter()
        later_requests = 0
        for k in range(1, 50):  # the next 49 syncs of the week (15 minutes apart)
            sirene, bodacc = clients()
            again = refresh_risk(store, customers, settings, now=now + timedelta(minutes=15 * k),
                                 sirene=sirene, bodacc=bodacc)
            later_requests += again.requests
        wall_later = (time.perf_counter() - started) / 49

    cached_week = first.requests + later_requests * (SYNCS_PER_WEEK - 1) / 49
    baseline_week = 2 * CUSTOMERS * SYNCS_PER_WEEK
    print(f"customers with a SIREN: {CUSTOMERS}")
    print(f"first refresh: {first.requests} requests, {simulated:.0f} s simulated at the published rates "
          f"({wall_first:.2f} s of CPU/wall without waiting)")
    print(f"max requests in any 1 s: recherche-entreprises {max_in_one_second(stamps['sirene'])} (limit 7), "
          f"BODACC {max_in_one_second(stamps['bodacc'])} (paced at 5)")
    print(f"later syncs in the same week: {later_requests} requests over 49 syncs, {wall_later * 1000:.1f} ms each")
    print(f"requests per week: cached {cached_week:.0f} vs uncached baseline {baseline_week} "
          f"→ {baseline_week / max(cached_week, 1):.0f}× fewer")


if __name__ == "__main__":
    main()
