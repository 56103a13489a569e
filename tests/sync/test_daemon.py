"""The daemon: passes on schedule for several dossiers, backs off when a source or a sheet is down,
stops cleanly on SIGTERM after the message under way, and keeps a heartbeat a monitor can read."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from encours.connectors.errors import SourceError
from encours.scenarios.message import Message, SendResult
from encours.sync.channels.smtp import SmtpChannel
from encours.sync.config import Config, load_config
from encours.sync.daemon import Daemon
from encours.sync.run import run_pass
from encours.sync.run_report import RunReport
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile, bulk_ledger
from tests.support.smtp_server import SmtpServer

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _dossier(folder: Path, every: str = "15m") -> tuple[Config, LedgerFile]:
    folder.mkdir(parents=True, exist_ok=True)
    path = write_config(folder, extra=f'from = "factures@dupont.example"\n\n[schedule]\nevery = "{every}"\n')
    file = LedgerFile(folder / "ledger.json")
    file.save(bulk_ledger(12, as_of=MONDAY.date(), customers=6))
    return load_config(path), file


def test_two_dossiers_on_their_schedules_with_backoff_and_heartbeat(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first, first_file = _dossier(tmp_path / "a", "15m")
    second, second_file = _dossier(tmp_path / "b", "1h")
    second_file.set_fault("pull-500")
    clock = Clock(MONDAY)
    calls: list[tuple[Path, datetime]] = []
    with SmtpServer() as server:
        def one_pass(config: Config, **kw: Any) -> RunReport:
            calls.append((config.file, kw["now"]))
            file = first_file if config.file == first.file else second_file
            return run_pass(config, connector=FakeSource(file),
                            channel=SmtpChannel("127.0.0.1", server.port, security="none"), **kw)

        heartbeat = tmp_path / "hb.json"
        daemon = Daemon([str(first.file), str(second.file)], loader=load_config, heartbeat=heartbeat, clock=clock,
                        run=one_pass)
        with caplog.at_level(logging.INFO):
            for minutes in (0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180):
                clock.now = MONDAY + timedelta(minutes=minutes)
                for dossier in daemon.due(clock.now):
                    daemon.run_one(dossier)
                daemon.write_heartbeat()
        sent = len(server.handler.received)
    assert sent > 0 and len({m for m in server.handler.message_ids}) == sent
    a_times = [t for f, t in calls if f == first.file]
    b_times = [t - MONDAY for f, t in calls if f == second.file]
    assert len(a_times) == 13, "every 15 minutes"
    assert b_times == [timedelta(0), timedelta(hours=1), timedelta(hours=3)], "1 h, then doubled after a failure"
    assert "the source is unreachable" in caplog.text and "backing off, next try in 2 h" in caplog.text
    status = json.loads(heartbeat.read_text())
    by_config = {d["config"]: d for d in status["dossiers"]}
    assert by_config[str(second.file)]["consecutive_failures"] == 3
    assert "500" in by_config[str(second.file)]["last_error"]
    assert by_config[str(first.file)]["consecutive_failures"] == 0
    assert by_config[str(first.file)]["last_success_at"].startswith("2026-11-23T11:00")
    # the source answers again: the next pass succeeds and the failures are forgotten
    second_file.set_fault("")
    clock.now = MONDAY + timedelta(hours=8)
    for dossier in daemon.due(clock.now):
        daemon.run_one(dossier)
    assert daemon.dossiers[1].failures == 0


def test_stop_request_finishes_the_message_under_way_then_writes_the_sheet(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    daemon = Daemon([str(config.file)], loader=load_config, clock=Clock(MONDAY), heartbeat=tmp_path / "hb.json")

    class StopAfterFirst:
        """An SMTP channel; SIGTERM arrives while the first message is being sent."""

        name = "smtp"

        def __init__(self, port: int) -> None:
            self.smtp = SmtpChannel("127.0.0.1", port, security="none")

        def send(self, message: Message) -> SendResult:
            daemon.request_stop()
            return self.smtp.send(message)

        def close(self) -> None:
            self.smtp.close()

    with SmtpServer() as server:
        report = run_pass(config, as_of=MONDAY.date(), now=MONDAY, connector=FakeSource(file),
                          channel=StopAfterFirst(server.port), stop=lambda: daemon.stopping)
        assert report.stopped and len(report.sent) == 1 and report.deferred
        assert len(server.handler.received) == 1 and report.sheet_written
        rest = run_pass(config, as_of=MONDAY.date(), now=MONDAY + timedelta(minutes=15), connector=FakeSource(file),
                        channel=SmtpChannel("127.0.0.1", server.port, security="none"))
        assert len(rest.sent) == len(report.deferred) and rest.uncertain == []
        assert len(set(server.handler.message_ids)) == len(server.handler.received)


def test_sigterm_stops_the_daemon_process_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    config = write_config(folder, extra='from = "factures@dupont.example"\nwindow = "00:00-23:59"\n'
                          'every_day = true\n\n[schedule]\nevery = "1h"\n')
    heartbeat = tmp_path / "hb.json"
    proc = subprocess.Popen([sys.executable, "-m", "encours.sync.cli", "daemon", "-c", str(config), "--heartbeat",
                             str(heartbeat)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if heartbeat.exists() and json.loads(heartbeat.read_text()).get("state") == "sleeping":
                break
            time.sleep(0.2)
        else:
            pytest.fail("the daemon never finished its first pass")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    status = json.loads(heartbeat.read_text())
    assert status["state"] == "stopped" and status["passes"] == 1
    assert status["dossiers"][0]["sent"] > 0 and status["dossiers"][0]["consecutive_failures"] == 0
    assert "stopped cleanly" in err
    assert (folder / "encours.xlsx").exists()


def test_a_broken_configuration_is_refused_before_starting(tmp_path: Path) -> None:
    from encours.sync.cli import main

    config = write_config(tmp_path, extra='\n[schedule]\nevery = "soon"\n')
    assert main(["-q", "daemon", "-c", str(config), "--max-passes", "1"]) == 2


def test_source_down_raises_before_anything(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    file.set_fault("pull-timeout")
    with pytest.raises(SourceError):
        run_pass(config, as_of=MONDAY.date(), now=MONDAY, connector=FakeSource(file))


def test_the_daemon_sends_the_weekly_report_on_its_day_once(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra='from = "factures@dupont.example"\nwindow = "00:00-23:59"\nevery_day = true\n'
                          '\n[report]\nday = "monday"\nrecipients = ["patron@dupont.example"]\n')
    clock = Clock(MONDAY)
    daemon = Daemon([str(config)], loader=load_config, clock=clock, heartbeat=tmp_path / "hb.json")
    daemon.run_one(daemon.dossiers[0])
    reports = sorted(p.name for p in (tmp_path / "outbox").glob("rapport-encours-*.eml"))
    assert "rapport-encours-2026-11-23-societe.eml" in reports
    clock.now = MONDAY + timedelta(hours=1)
    daemon.run_one(daemon.dossiers[0])
    assert sorted(p.name for p in (tmp_path / "outbox").glob("rapport-encours-*.eml")) == reports
    clock.now = MONDAY + timedelta(days=1)
    daemon.run_one(daemon.dossiers[0])
    assert not list((tmp_path / "outbox").glob("rapport-encours-2026-11-24*"))
