"""Shared fixtures: a fixed as-of date, the demo ledger, demo configuration files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connectors.demo import demo_ledger
from connectors.model import Ledger

AS_OF = date(2026, 11, 23)


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
