"""A pass pauses the cyclic collector while it builds its records and always puts it back."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from encours.connectors.errors import ConfigError
from encours.sync.config import load_config
from encours.sync.run import run_pass
from tests.conftest import write_config

DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_a_pass_leaves_the_collector_on_whether_it_ends_or_stops(tmp_path: Path) -> None:
    """A daemon runs pass after pass in one process: none may leave the collector paused."""
    (tmp_path / "ok").mkdir()
    good = load_config(write_config(tmp_path / "ok", extra='from = "relances@atelier.example"\n'))
    report = run_pass(good, as_of=DAY, now=NOW, dry_run=True)
    assert report.as_of == DAY and not report.problems
    assert gc.isenabled()
    (tmp_path / "bad").mkdir()
    bad = load_config(write_config(tmp_path / "bad"))  # no sender: the pass stops before anything
    with pytest.raises(ConfigError):
        run_pass(bad, as_of=DAY, now=NOW)
    assert gc.isenabled()
