"""A pass pauses the cyclic collector while it builds its records and always puts it back."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

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
    assert gc.isenabled() and gc.get_freeze_count() == 0  # nothing of the pass left out of the collector's sight
    (tmp_path / "bad").mkdir()
    bad = load_config(write_config(tmp_path / "bad"))  # no sender: the pass stops before anything
    with pytest.raises(ConfigError):
        run_pass(bad, as_of=DAY, now=NOW)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_collector_runs_while_messages_are_rendered_and_sent(tmp_path: Path) -> None:
    """Each rendered message leaves cyclic garbage (about a megabyte with its PDF): a pass sending
    thousands must let the collector free it as it goes, not hold it all until the pass ends."""
    from encours.sync.channels.smtp import SmtpChannel
    from tests.support.fake_source import FakeSource
    from tests.support.smtp_server import SmtpServer
    from tests.sync.test_run import dossier

    config, file = dossier(tmp_path)
    seen: list[bool] = []

    class Watching:
        name = "smtp"

        def __init__(self, port: int) -> None:
            self.smtp = SmtpChannel("127.0.0.1", port, security="none")

        def send(self, message: Any) -> Any:
            seen.append(gc.isenabled())
            return self.smtp.send(message)

        def close(self) -> None:
            self.smtp.close()

    with SmtpServer() as server:
        report = run_pass(config, as_of=DAY, now=NOW, connector=FakeSource(file), channel=Watching(server.port))
    assert report.sent and len(seen) == len(report.sent)
    assert all(seen), "messages sent with the collector paused"
    assert gc.isenabled()
