"""Shared fixtures: a fixed as-of date, the demo ledger, demo configuration files."""

from __future__ import annotations

import socket
from datetime import date
from pathlib import Path

import pytest

from encours.connectors.demo import demo_ledger
from encours.connectors.model import Ledger

AS_OF = date(2026, 11, 23)
_LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the internet: a connection to anything but loopback fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
            raise OSError(f"test tried to reach {address!r}: tests must stay on loopback")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def as_of() -> date:
    return AS_OF


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return demo_ledger(AS_OF)


def write_config(folder: Path, *, source: str = 'type = "demo"', sheet: str = 'type = "xlsx"\npath = "encours.xlsx"',
                 extra: str = "") -> Path:
    """A configuration file in ``folder`` (relative paths resolve there)."""
    path = folder / "encours.toml"
    path.write_text(
        "[company]\nname = \"Atelier Dupont SARL\"\ncountry = \"FR\"\ntimezone = \"Europe/Paris\"\n"
        "language = \"fr\"\nstate = \"state.sqlite\"\n\n"
        f"[source]\n{source}\n\n[sheet]\n{sheet}\n\n[sending]\nmode = \"outbox\"\noutbox = \"outbox\"\n{extra}",
        encoding="utf-8",
    )
    return path


@pytest.fixture()
def demo_config(tmp_path: Path) -> Path:
    return write_config(tmp_path)
