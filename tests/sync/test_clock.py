"""One clock per pass (issue 12.1): passes run with ``--as-of`` D, D+1, … behave as passes run on
those days, whatever the wall clock says; the wall-clock time is journaled beside, for audit."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from encours.sync.channels.smtp import SmtpChannel
from encours.sync.clock import pass_clock
from encours.sync.run import run_pass
from tests.support.fake_source import FakeSource
from tests.support.smtp_server import SmtpServer
from tests.sync.test_run import dossier

WALL = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # months after the simulated days: 10:00 in Paris


def test_passes_with_as_of_dates_escalate_as_on_those_days(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    days = [date(2026, 11, 23) + timedelta(days=n) for n in range(12)]
    with SmtpServer() as server:
        for day in days:
            report = run_pass(config, as_of=day, now=WALL, connector=FakeSource(file),
                              channel=SmtpChannel("127.0.0.1", server.port, security="none"))
            assert report.exit_code == 0, report.lines()
    with sqlite3.connect(config.state_path) as db:
        sent = dict(db.execute("SELECT key, substr(sent_at, 1, 10) FROM journal WHERE state = 'sent' "
                               "AND key LIKE 'invoice/I3/%'"))
        audit = db.execute("SELECT at, recorded_at FROM journal_events WHERE state = 'sent' LIMIT 1").fetchone()
    # I3 is 20 days late on 23/11: reminder 1 that day, reminder 2 ten days later (not ten days after the wall clock)
    assert sent == {"invoice/I3/standard/reminder_1/": "2026-11-23", "invoice/I3/standard/reminder_2/": "2026-12-03"}
    assert audit[0].startswith("2026-11-23T"), "the pass's day"
    assert datetime.fromisoformat(audit[1]) > datetime(2026, 11, 24, tzinfo=UTC), "the real time, for audit"


def test_the_pass_clock_is_the_as_of_day_at_the_wall_clock_time_of_day() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    clock = pass_clock(date(2026, 11, 23), WALL, paris)
    assert clock.astimezone(paris).date() == date(2026, 11, 23) and clock.astimezone(paris).hour == 10
    assert pass_clock(date(2027, 3, 1), WALL, paris) == WALL
