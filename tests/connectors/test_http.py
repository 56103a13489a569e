"""The shared HTTP layer: retries for reads only, Retry-After, pacing, error classes, redaction."""

from __future__ import annotations

import logging
import random
import re
from typing import Any

import pytest
import requests
import responses

from encours.connectors.http import Budget, Clock, HttpClient, Pacer, RetryPolicy, parse_retry_after, shared_budget
from encours.connectors.source_errors import (
    AuthenticationError,
    ClientRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    redact,
)

BASE = "https://api.example.test/v1"
SECRET = "sk_live_7Hq2xP9mN4vB8cR1"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sleeps: Sleeps, **kw: Any) -> HttpClient:
    return HttpClient(
        "acme",
        BASE,
        secrets=[SECRET],
        auth=lambda: {"Authorization": f"Bearer {SECRET}"},
        sleep=sleeps,
        clock=lambda: 1_800_000_000.0,
        rng=random.Random(7),
        **kw,
    )


@responses.activate
def test_500_then_success_is_retried_with_backoff() -> None:
    sleeps = Sleeps()
    responses.get(f"{BASE}/items", status=500, json={"error": "boom"})
    responses.get(f"{BASE}/items", status=503, body="busy")
    responses.get(f"{BASE}/items", json={"ok": True})
    http = client(sleeps)
    assert http.get_json("/items") == {"ok": True}
    assert len(sleeps) == 2 and 0 < sleeps[0] <= 0.5 and sleeps[1] <= 1.0
    assert http.stats.retries == 2 and http.stats.statuses[500] == 1


@responses.activate
def test_every_call_has_a_timeout() -> None:
    responses.get(f"{BASE}/items", json={})
    client(Sleeps(), timeout=(3.0, 20.0)).get_json("/items")
    assert responses.calls[0].request.req_kwargs["timeout"] == (3.0, 20.0)


@responses.activate
def test_post_is_never_retried() -> None:
    sleeps = Sleeps()
    responses.post(f"{BASE}/token", status=503, body="busy")
    with pytest.raises(ServerError, match="HTTP 503"):
        client(sleeps).request("POST", "/token", data={"grant_type": "refresh_token"})
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_a_read_marked_post_is_retried() -> None:
    responses.post(f"{BASE}/jsonrpc", status=502, body="bad gateway")
    responses.post(f"{BASE}/jsonrpc", json={"result": []})
    response = client(Sleeps()).request("POST", "/jsonrpc", json_body={}, read=True)
    assert response.json() == {"result": []} and len(responses.calls) == 2


@responses.activate
def test_429_honours_retry_after_seconds() -> None:
    sleeps = Sleeps()
    responses.get(f"{BASE}/items", status=429, body="Too Many Requests", headers={"Retry-After": "7"})
    responses.get(f"{BASE}/items", json=[])
    client(sleeps).get_json("/items")
    assert 7 <= sleeps[0] < 8


def test_retry_after_as_http_date() -> None:
    assert parse_retry_after("Fri, 15 Jan 2027 08:00:30 GMT", 1_800_000_000.0 - 0) is not None
    assert parse_retry_after("12", 0) == 12
    assert parse_retry_after("soon", 0) is None


@responses.activate
def test_429_is_retried_while_the_wait_stays_within_patience() -> None:
    responses.get(f"{BASE}/items", status=429, body="slow down", headers={"Retry-After": "1"})
    sleeps = Sleeps()
    http = client(sleeps, retry=RetryPolicy(attempts=3, patience=10.0))
    with pytest.raises(RateLimitedError) as err:
        http.get_json("/items")
    assert err.value.retry_after == 1
    assert 8.5 <= sum(sleeps) <= 10.0  # kept asking for about ten seconds, not three tries
    assert len(responses.calls) == len(sleeps) + 1 >= 7


@responses.activate
def test_429_without_retry_after_backs_off_to_a_minute_before_giving_up() -> None:
    """Sage throttles without saying for how long: ride it out for minutes, not six seconds."""
    responses.get(f"{BASE}/items", status=429, body="Too Many Requests")
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError, match="HTTP 429"):
        client(sleeps).get_json("/items")
    assert max(sleeps) <= 60.0 and max(sleeps) >= 30.0  # the ceiling is a minute
    assert sleeps == sorted(sleeps)[: len(sleeps)] or sleeps[0] < sleeps[-1]
    assert 540.0 <= sum(sleeps) <= 600.0  # ten minutes of patience by default


@responses.activate
def test_a_throttled_platform_that_recovers_within_a_minute_costs_no_failure() -> None:
    for _ in range(6):
        responses.get(f"{BASE}/items", status=429, body="Too Many Requests")
    responses.get(f"{BASE}/items", json={"ok": True})
    sleeps = Sleeps()
    assert client(sleeps).get_json("/items") == {"ok": True}
    assert len(sleeps) == 6 and 10.0 < sum(sleeps) < 60.0


@responses.activate
def test_connection_errors_are_retried_then_reported() -> None:
    responses.get(f"{BASE}/items", body=requests.ConnectionError("refused"))
    http = client(Sleeps(), retry=RetryPolicy(attempts=2))
    with pytest.raises(
        ServerError, match=re.escape("could not connect to https://api.example.test/v1/items after 2 tries")
    ):
        http.get_json("/items")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (400, ClientRequestError),
        (422, ClientRequestError),
    ],
)
@responses.activate
def test_errors_are_classified(status: int, error: type[Exception]) -> None:
    responses.get(f"{BASE}/items/9", status=status, json={"error": "nope", "status": status})
    with pytest.raises(error) as err:
        client(Sleeps()).get_json("/items/9", endpoint="GET /items/{id}", record="9")
    assert str(err.value).startswith("acme GET /items/{id} record 9: HTTP")
    assert len(responses.calls) == 1  # client errors are not retried


@responses.activate
def test_401_refreshes_once_and_resends() -> None:
    tokens = iter(["fresh-token-111111"])
    current = {"token": "stale-token-000000"}

    def reauth() -> bool:
        current["token"] = next(tokens)
        return True

    responses.get(f"{BASE}/me", status=401, json={"error": "expired"})
    responses.get(f"{BASE}/me", json={"id": 1})
    http = HttpClient("acme", BASE, auth=lambda: {"Authorization": f"Bearer {current['token']}"}, reauth=reauth)
    assert http.get_json("/me") == {"id": 1}
    assert responses.calls[1].request.headers["Authorization"] == "Bearer fresh-token-111111"


@responses.activate
def test_pacing_sleeps_until_reset_when_the_window_is_spent() -> None:
    sleeps = Sleeps()
    now = 1_800_000_000.0
    responses.get(
        f"{BASE}/items",
        json=[],
        headers={"ratelimit-limit": "25", "ratelimit-remaining": "1", "ratelimit-reset": str(now + 4)},
    )
    http = client(sleeps)
    http.get_json("/items")  # 1 left: go on
    assert sleeps == []
    http.get_json("/items")  # the server still says one request is left: no wait
    responses.replace(
        responses.GET,
        f"{BASE}/items",
        json=[],
        headers={"ratelimit-limit": "25", "ratelimit-remaining": "0", "ratelimit-reset": "2.5"},
    )
    http.get_json("/items")
    http.get_json("/items")
    assert sleeps == [pytest.approx(2.5, abs=0.01)]


def test_pacer_reads_unix_or_relative_reset() -> None:
    pacer = Pacer()
    pacer.observe({"ratelimit-remaining": "0", "ratelimit-reset": "1800000005"}, 1_800_000_000.0)
    assert pacer.wait_needed(1_800_000_000.0) == pytest.approx(5.0, abs=0.01)
    pacer.observe({"ratelimit-remaining": "0", "ratelimit-reset": "0.05"}, 10.0)
    assert pacer.wait_needed(10.0) == pytest.approx(0.05, abs=0.002)
    pacer.observe({"ratelimit-remaining": "3", "ratelimit-reset": "1"}, 10.0)
    assert pacer.wait_needed(10.0) == 0


@responses.activate
def test_secrets_are_redacted_from_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="encours.http")
    responses.get(
        f"{BASE}/items",
        status=400,
        json={"error": f"bad request for access_token={SECRET} with Authorization: Bearer {SECRET}"},
    )
    with pytest.raises(ClientRequestError) as err:
        client(Sleeps()).get_json("/items", params={"api_key": SECRET})
    assert SECRET not in str(err.value)
    assert SECRET not in caplog.text


def test_redact_patterns() -> None:
    text = 'refresh_token=abc123def456&x=1 "client_secret": "s3cr3t-value" Bearer eyJhbGciOi.x.y'
    out = redact(text)
    assert "abc123def456" not in out and "s3cr3t-value" not in out and "eyJhbGciOi" not in out
    assert "x=1" in out


def test_pacing_against_a_rate_limited_server_gets_no_429() -> None:
    """A real server enforcing 5 requests per 50 ms window: 40 reads, zero refusals."""
    import math
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    window, limit = 0.05, 5
    state = {"start": 0.0, "count": 0, "refused": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            now = time.time()
            with lock:
                start = math.floor(now / window) * window
                if start != state["start"]:
                    state["start"], state["count"] = start, 0
                refused = state["count"] >= limit
                state["count"] += 0 if refused else 1
                state["refused"] += 1 if refused else 0
                remaining = limit - state["count"]
            body = b"slow down" if refused else b"{}"
            self.send_response(429 if refused else 200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ratelimit-remaining", str(remaining))
            self.send_header("ratelimit-reset", f"{start + window:.3f}")
            if refused:
                self.send_header("retry-after", f"{start + window - now:.3f}")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        http = HttpClient("acme", f"http://127.0.0.1:{server.server_address[1]}")
        started = time.monotonic()
        for _ in range(40):
            http.get_json("/items")
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
    assert state["refused"] == 0 and http.stats.statuses[429] == 0
    assert elapsed >= (40 / limit - 2) * window  # it did wait: 8 windows, the first one partly gone


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@responses.activate
def test_a_client_side_budget_keeps_a_headerless_platform_under_its_rate() -> None:
    fake = FakeTime()
    responses.get(f"{BASE}/items", json={})
    http = client(Sleeps(), budget=Budget(100, 60.0, Clock(fake.now, fake.sleep)))
    stamps = []
    for _ in range(250):
        http.get_json("/items")
        stamps.append(fake.t)
    assert max(sum(1 for t in stamps if s <= t < s + 60) for s in stamps) <= 100
    assert fake.t >= 120.0  # 250 requests at 100 a minute take two minutes


def test_one_shared_budget_per_key_and_clock() -> None:
    fake = FakeTime()
    clock = Clock(fake.now, fake.sleep)
    first = shared_budget("google:compta@example.test", 55, 60.0, clock)
    assert shared_budget("google:compta@example.test", 55, 60.0, clock) is first
    assert shared_budget("google:other@example.test", 55, 60.0, clock) is not first
    for _ in range(110):
        (first if fake.t % 2 else shared_budget("google:compta@example.test", 55, 60.0, clock)).acquire()
    assert fake.t >= 60.0  # two dossiers of one identity share 55 a minute: 110 requests need a second minute


@responses.activate
def test_a_429_holds_every_client_sharing_the_budget() -> None:
    fake = FakeTime()
    budget = Budget(1000, 60.0, Clock(fake.now, fake.sleep))
    responses.get(f"{BASE}/items", status=429, headers={"Retry-After": "30"})
    responses.get(f"{BASE}/items", json={})
    others: list[float] = []

    def while_this_client_backs_off(seconds: float) -> None:
        others.append(budget.acquire())  # another dossier of the same identity sends meanwhile

    client(while_this_client_backs_off, budget=budget).get_json("/items")  # type: ignore[arg-type]
    assert others and others[0] >= 30.0


@pytest.mark.parametrize("form", ["plain", "url", "base64", "basic", "truncated"])
@responses.activate
def test_a_token_echoed_back_never_leaks_in_any_form(form: str, caplog: pytest.LogCaptureFixture) -> None:
    import base64
    from urllib.parse import quote

    token = "pl/tok+en=ABCdef0123456789xyz"
    echoed = {
        "plain": token,
        "url": quote(token, safe=""),
        "base64": base64.b64encode(token.encode()).decode(),
        "basic": base64.b64encode(f"user:{token}".encode()).decode(),
        "truncated": "x" * 260 + token,  # the cut at 300 characters falls inside the token
    }[form]
    caplog.set_level(logging.DEBUG)
    responses.get(f"{BASE}/items", status=400, json={"message": f"bad request, you sent {echoed}"})
    http = HttpClient("acme", BASE, secrets=[token], sleep=Sleeps())
    with pytest.raises(ClientRequestError) as err:
        http.get_json("/items")
    shown = str(err.value) + caplog.text
    raw = token.encode()
    pieces = [token[:12], token[-12:], quote(token, safe="")[:12], base64.b64encode(raw[3:15]).decode()]
    assert not any(piece in shown for piece in pieces), shown
    assert "***" in shown


@responses.activate
def test_a_503_asking_to_come_back_in_an_hour_is_not_waited_for() -> None:
    sleeps = Sleeps()
    responses.get(f"{BASE}/items", status=503, body="maintenance", headers={"Retry-After": "3600"})
    with pytest.raises(ServerError, match="HTTP 503"):
        client(sleeps).get_json("/items")
    assert sleeps == [] and len(responses.calls) == 1
