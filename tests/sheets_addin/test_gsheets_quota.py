"""Google's per-user quota is the identity's: two dossiers signed in as one account in one
process share one window, and a 429 holds both."""

from __future__ import annotations

from typing import Any

import pytest
from fake_sheets_server import FakeSheetsServer
from google.auth.credentials import AnonymousCredentials

from encours.sheets_addin.gsheets_http import Clock, SheetsSession


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture()
def server() -> Any:
    with FakeSheetsServer() as s:
        yield s


def session(server: FakeSheetsServer, clock: Clock, identity: str) -> SheetsSession:
    return SheetsSession(AnonymousCredentials(), api_base_url=server.base_url, per_minute=30,  # type: ignore[no-untyped-call]
                         identity=identity, clock=clock)


def test_two_dossiers_of_one_identity_share_the_quota(server: FakeSheetsServer) -> None:
    fake = FakeClock()
    clock = Clock(fake.now, fake.sleep)
    first = session(server, clock, "compta@cabinet.test")
    second = session(server, clock, "compta@cabinet.test")
    url = f"{server.base_url}/v4/spreadsheets/sheet-1"
    for _ in range(30):
        first.request("GET", url)
        second.request("GET", url)
    assert fake.t >= 60.0  # 60 reads at 30 a minute for the identity: a second minute was needed
    assert server.count(method="GET", ok_only=False) == 60


def test_two_identities_each_have_their_own_quota(server: FakeSheetsServer) -> None:
    fake = FakeClock()
    clock = Clock(fake.now, fake.sleep)
    first = session(server, clock, "compta@cabinet.test")
    second = session(server, clock, "paie@cabinet.test")
    url = f"{server.base_url}/v4/spreadsheets/sheet-1"
    for _ in range(30):
        first.request("GET", url)
        second.request("GET", url)
    assert fake.t < 1.0
