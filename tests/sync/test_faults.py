"""Faults survived, nothing lost: the pass killed at every step boundary, the source failing, the
SMTP server refusing or dropping mid-batch, the sheet unwritable, the state file corrupted or locked.

After recovery: no reminder sent twice, no due reminder lost, the cursor never ahead of the sheet,
every failure in the journal and the log with its reason.  Kills are real: a forked child process
runs the pass and ``os._exit``s at the N-th step boundary (``ENCOURS_FAILPOINT``).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import random
import sqlite3
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.connectors.errors import SourceError
from encours.sync.channels.smtp import SmtpChannel
from encours.sync.config import Config, load_config
from encours.sync.journal import Journal, State
from encours.sync.run import FAILPOINT_ENV, FAILPOINT_EXIT_CODE, FAILPOINT_TRACE_ENV, run_pass
from encours.sync.run_report import RunReport
from encours.sync.state import StateError, StateStore
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile, bulk_ledger
from tests.support.reminders import customer, invoice, ledger
from tests.support.smtp_server import RecordingHandler, SmtpServer

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SENDING = 'from = "factures@dupont.example"\nwindow = "08:30-18:00"\n'


def _ledger() -> Any:
    return ledger(
        invoice("I1", 20, "1200.00", customer_id="C1"),
        invoice("I2", 18, "300.00", customer_id="C1"),
        invoice("I3", 20, "450.00", customer_id="C2"),
        invoice("I4", 20, "800.00", customer_id="C3"),
        customers=(customer("C1"), customer("C2"), customer("C3", emails=())),
    )


def _dossier(folder: Path, the_ledger: Any = None) -> tuple[Config, LedgerFile]:
    folder.mkdir(parents=True, exist_ok=True)
    config = load_config(write_config(folder, extra=SENDING))
    file = LedgerFile(folder / "ledger.json")
    file.save(the_ledger if the_ledger is not None else _ledger())
    return config, file


def _pass(config: Config, file: LedgerFile, port: int, now: datetime, **kw: Any) -> RunReport:
    return run_pass(config, as_of=now.astimezone(config.timezone).date(), now=now,
                    connector=kw.pop("connector", None) or FakeSource(file),
                    channel=SmtpChannel("127.0.0.1", port, security="none", timeout=5), **kw)


def _child(config_path: str, ledger_path: str, port: int, now: str, failpoint: int, trace: str) -> None:
    if failpoint:
        os.environ[FAILPOINT_ENV] = str(failpoint)
    if trace:
        os.environ[FAILPOINT_TRACE_ENV] = trace
    import encours.sync.run

    encours.sync.run._crossed = 0
    config = load_config(config_path)
    when = datetime.fromisoformat(now)
    _pass(config, LedgerFile(Path(ledger_path)), port, when)
    os._exit(0)


def _killed_pass(config: Config, file: LedgerFile, port: int, now: datetime, failpoint: int, trace: str = "") -> int:
    """Run one pass in a forked process that dies at boundary ``failpoint``; its exit code."""
    gc.collect()  # a sqlite3 connection left to the collector would be inherited open: the child's commits get lost
    process = multiprocessing.get_context("fork").Process(
        target=_child, args=(str(config.file), str(file.path), port, now.isoformat(), failpoint, trace))
    process.start()
    process.join(60)
    assert process.exitcode is not None
    return process.exitcode


def _settle(config: Config, handler: RecordingHandler, now: datetime) -> int:
    """What a person does with À faire: confirm each uncertain message from the server's log."""
    received = set(handler.message_ids)
    settled = 0
    with StateStore(config.state_path) as store:
        journal = Journal(store, config.dossier)
        for entry in journal.entries([State.UNCERTAIN]):
            if journal.entry(entry.key).state is State.UNCERTAIN:  # type: ignore[union-attr]
                journal.confirm(entry.reference, entry.message_id in received, now)
                settled += 1
    return settled


def _keys_per_message(config: Config) -> dict[str, set[str]]:
    """Message-ID → the step keys it carried (from the journal's history of sends)."""
    out: dict[str, set[str]] = {}
    with contextlib.closing(sqlite3.connect(config.state_path)) as db:
        for message_id, keys in db.execute("SELECT message_id, keys FROM journal_events WHERE state = 'sending'"):
            out.setdefault(message_id, set()).update(keys.split())
    return out


def _assert_exactly_once(config: Config, handler: RecordingHandler) -> None:
    ids = handler.message_ids
    assert len(ids) == len(set(ids)), f"a message was delivered twice: {ids}"
    carried = _keys_per_message(config)
    keys = [k for mid in ids for k in carried[mid]]
    assert len(keys) == len(set(keys)), "a step was sent twice in two different messages"
    with StateStore(config.state_path) as store:
        journal = Journal(store, config.dossier)
        sent_keys = {e.key.id for e in journal.entries([State.SENT]) if e.channel in ("email", "thanks")}
    assert sent_keys == set(keys), "the journal says sent exactly for what the server received"


def _assert_cursor_not_ahead(config: Config, file: LedgerFile) -> None:
    with contextlib.closing(sqlite3.connect(config.state_path)) as db:
        row = db.execute("SELECT cursor FROM cursors").fetchone()
    if row is None:
        return
    workbook = config.sheet.path("path")
    assert workbook.exists(), "a cursor was saved before any sheet was written"
    ws = load_workbook(workbook, read_only=True)["Factures"]
    rows = list(ws.iter_rows(values_only=True))
    shown = {r[rows[0].index("ID")]: r[rows[0].index("Reste dû")] for r in rows[1:]}
    ledger_now, versions, _, _ = file.load()
    seen = int(row[0][1:])
    for inv in ledger_now.invoices:
        if versions[inv.id] <= seen and inv.id in shown:
            behind = f"sheet behind the cursor for {inv.id}"
            assert float(str(shown[inv.id] or 0)) == float(inv.remaining.amount), behind


def _trace(tmp_path: Path) -> list[str]:
    config, file = _dossier(tmp_path / "trace")
    trace = tmp_path / "trace.txt"
    with SmtpServer() as server:
        assert _killed_pass(config, file, server.port, MONDAY, 0, str(trace)) == 0
    return [line.split(" ", 1)[1] for line in trace.read_text().splitlines()]


def test_killed_at_every_step_boundary_nothing_twice_nothing_lost(tmp_path: Path) -> None:
    boundaries = _trace(tmp_path)
    assert {"after_pull", "after_sending_committed", "after_delivered", "after_sheet_write"} <= set(boundaries)
    for n, name in enumerate(boundaries, start=1):
        config, file = _dossier(tmp_path / f"kill-{n}")
        with SmtpServer() as server:
            assert _killed_pass(config, file, server.port, MONDAY, n) == FAILPOINT_EXIT_CODE, name
            _assert_cursor_not_ahead(config, file)
            after = _pass(config, file, server.port, MONDAY + timedelta(minutes=15))
            if name == "after_sending_committed" or name == "after_delivered":
                assert len(after.uncertain) == 1, (name, after.lines())
            final = after
            if _settle(config, server.handler, MONDAY + timedelta(minutes=20)):
                final = _pass(config, file, server.port, MONDAY + timedelta(minutes=30))
            assert final.uncertain == [] and final.failed == [], (name, final.lines())
            _assert_exactly_once(config, server.handler)
            recipients = sorted(r.recipients[0] for r in server.handler.received)
            assert recipients == ["compta@c1.example", "compta@c2.example"], (name, recipients)
            _assert_cursor_not_ahead(config, file)


def test_killed_at_random_points_over_many_days(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    config, file = _dossier(tmp_path / "loop", bulk_ledger(40, as_of=MONDAY.date(), customers=12))
    now = MONDAY
    with SmtpServer() as server:
        for day in range(6):
            if day:
                ledger_now, _, _, _ = file.load()
                open_ids = [i.id for i in ledger_now.invoices if i.is_open]
                file.pay(rng.sample(open_ids, k=min(3, len(open_ids))))
            failpoint = rng.randint(1, 30)
            _killed_pass(config, file, server.port, now, failpoint)
            _assert_cursor_not_ahead(config, file)
            _pass(config, file, server.port, now + timedelta(minutes=15))
            if _settle(config, server.handler, now + timedelta(minutes=20)):
                _pass(config, file, server.port, now + timedelta(minutes=30))
            _assert_exactly_once(config, server.handler)
            now += timedelta(days=1 if now.weekday() < 4 else 3)
        last = _pass(config, file, server.port, now)
        assert last.uncertain == [] and last.failed == []
        _assert_exactly_once(config, server.handler)
        assert len(server.handler.received) > 10


def test_smtp_refusing_then_dropping_mid_batch(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config, file = _dossier(tmp_path, bulk_ledger(12, as_of=MONDAY.date(), customers=6))
    handler = RecordingHandler(refuse_after=2)
    with SmtpServer(handler) as server, caplog.at_level(logging.WARNING):
        first = _pass(config, file, server.port, MONDAY)
        assert len(first.sent) == 2 and first.failed and first.exit_code == 1
        assert all("451" in o.detail for o in first.failed)
        assert "451" in caplog.text
        handler.refuse_after, handler.drop_after = None, 3
        second = _pass(config, file, server.port, MONDAY + timedelta(minutes=20))
        # dropped after DATA began: the server may have it — uncertain, never resent blindly
        assert len(second.sent) == 1 and len(second.uncertain) == 1 and second.exit_code == 1
        assert "Message-ID" in " ".join(second.problems)
        handler.drop_after = None
        assert _settle(config, handler, MONDAY + timedelta(hours=1)) == 1  # not on the server: not-sent
        now = MONDAY + timedelta(hours=2)
        third = _pass(config, file, server.port, now)
        assert third.failed == [] and third.held == [] and third.uncertain == []
        with contextlib.closing(sqlite3.connect(config.state_path)) as db:
            reasons = [r[0] for r in db.execute("SELECT reason FROM journal_events WHERE state IN "
                                                "('failed', 'uncertain')")]
        assert any("451" in r for r in reasons) and any("may have it" in r for r in reasons)
    _assert_exactly_once(config, handler)
    assert len(handler.received) == len(first.sent) + len(second.sent) + len(third.sent)
    assert len(handler.received) == len(first.sent) + len(first.failed), "every message due went out in the end"


@pytest.mark.parametrize("fault", ["pull-500", "pull-timeout", "refetch-500", "refetch-timeout"])
def test_source_failing(tmp_path: Path, fault: str, caplog: pytest.LogCaptureFixture) -> None:
    config, file = _dossier(tmp_path)
    file.set_fault(fault)
    with SmtpServer() as server, caplog.at_level(logging.WARNING):
        if fault.startswith("pull"):
            with pytest.raises(SourceError, match=r"500|timeout"):
                _pass(config, file, server.port, MONDAY)
            assert not config.sheet.path("path").exists()
        else:
            report = _pass(config, file, server.port, MONDAY)
            assert report.exit_code == 1 and len(report.failed) == 1 and report.deferred
            assert "re-vérification" in report.failed[0].detail and "fake" in caplog.text
        assert server.handler.received == []
        file.set_fault("")
        again = _pass(config, file, server.port, MONDAY + timedelta(hours=1))
        assert len(again.sent) == 2 and len(server.handler.received) == 2
    _assert_exactly_once(config, server.handler)


def test_corrupted_state_file_stops_before_anything_is_sent(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    config.state_path.write_bytes(b"this is not a database" * 100)
    with SmtpServer() as server:
        with pytest.raises(StateError, match="state file cannot be used") as caught:
            _pass(config, file, server.port, MONDAY)
        assert str(config.state_path) in str(caught.value) and caught.value.exit_code == 2
        assert server.handler.received == []


def test_locked_state_file_waits_then_fails_cleanly(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    with SmtpServer() as server:
        _pass(config, file, server.port, datetime(2026, 11, 22, 9, 0, tzinfo=UTC))  # Sunday: sheet and state only
        other = sqlite3.connect(config.state_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StateError, match="locked"):
                _pass(config, file, server.port, MONDAY)
        finally:
            other.execute("ROLLBACK")
        assert server.handler.received == []
        # a lock held briefly only delays the pass
        other.execute("BEGIN EXCLUSIVE")
        threading.Timer(0.5, lambda: other.execute("ROLLBACK")).start()
        started = time.monotonic()
        report = _pass(config, file, server.port, MONDAY + timedelta(minutes=5))
        assert len(report.sent) == 2 and time.monotonic() - started < 30
        other.close()
    _assert_exactly_once(config, server.handler)


def _fake_sheets_server() -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "sheets_addin" / "fake_sheets_server.py"
    spec = importlib.util.spec_from_file_location("fake_sheets_server_for_faults", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.FakeSheetsServer


def test_google_sheet_answering_429_then_recovering(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from encours.sheets_addin.gsheets import GoogleSheet
    from encours.sheets_addin.gsheets_http import Clock

    class NoWait:
        t = 0.0

        def now(self) -> float:
            return self.t

        def sleep(self, seconds: float) -> None:
            self.t += seconds

    config, file = _dossier(tmp_path)
    with _fake_sheets_server()() as sheets, SmtpServer() as server:
        def sheet() -> Any:
            wait = NoWait()
            return GoogleSheet("sheet-1", api_base_url=sheets.base_url, clock=Clock(wait.now, wait.sleep),
                               rng=random.Random(3))

        _pass(config, file, server.port, datetime(2026, 11, 22, 9, 0, tzinfo=UTC), sheet=sheet())  # Sunday
        sheets.fail_next(429, count=50, methods="WRITE")
        with caplog.at_level(logging.WARNING):
            report = _pass(config, file, server.port, MONDAY, sheet=sheet())
        assert len(report.sent) == 2 and report.sheet_failed and report.exit_code == 1
        assert "sheet not updated" in caplog.text and "429" in " ".join(report.problems)
        with contextlib.closing(sqlite3.connect(config.state_path)) as db:
            assert db.execute("SELECT cursor FROM cursors").fetchone() == ("v1",)
        sheets.faults.clear()
        file.pay(["I4"])  # a change at the source while the sheet was down
        again = _pass(config, file, server.port, MONDAY + timedelta(minutes=15), sheet=sheet())
        assert again.sent == [] and again.sheet_written and again.exit_code == 0
        relances = sheets.sheet("Relances")
        statuses = [relances.cell(r, 8) for r in range(1, 10)]
        assert statuses.count("envoyée") == 3
        with contextlib.closing(sqlite3.connect(config.state_path)) as db:
            assert db.execute("SELECT cursor FROM cursors").fetchone() == ("v2",)
    _assert_exactly_once(config, server.handler)
