"""Never twice: a real SMTP server (aiosmtpd on 127.0.0.1) that answers 250 only after the client's
timeout — as content-scanning servers do — receives each reminder once, however many passes run.

The send is journaled *uncertain* (the Message-ID to search for is shown), no pass resends it, and
``--confirm … not-sent`` is refused while the server may still deliver it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from encours.sync.channels.smtp import SmtpChannel
from encours.sync.cli import main
from encours.sync.config import Config, load_config
from encours.sync.confirm import confirm
from encours.sync.journal import ConfirmTooEarlyError, Journal, State
from encours.sync.run import run_pass
from encours.sync.run_report import RunReport
from encours.sync.state import StateStore
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile
from tests.support.reminders import customer, invoice, ledger
from tests.support.smtp_server import Received, SmtpServer

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CLIENT_TIMEOUT = 0.4


@dataclass
class SlowHandler:
    """Takes ``delay`` seconds to scan each message, then queues it and answers 250 — and queues it
    even when the client has hung up meanwhile (the scan is shielded from the connection's end)."""

    delay: float = 1.2
    received: list[Received] = field(default_factory=list)

    async def _scan_and_queue(self, envelope: Any) -> None:
        await asyncio.sleep(self.delay)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.shield(asyncio.ensure_future(self._scan_and_queue(envelope)))
        return "250 OK queued after scanning"

    @property
    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


def _dossier(folder: Path) -> tuple[Config, LedgerFile]:
    folder.mkdir(parents=True, exist_ok=True)
    config = load_config(write_config(folder, extra='from = "factures@dupont.example"\nwindow = "08:30-18:00"\n'
                                                  'timeout = 2\n'))
    file = LedgerFile(folder / "ledger.json")
    file.save(ledger(
        invoice("I1", 20, "1200.00", customer_id="C1"),
        invoice("I3", 20, "450.00", customer_id="C2"),
        customers=(customer("C1"), customer("C2")),
    ))
    return config, file


def _pass(config: Config, file: LedgerFile, port: int, now: datetime) -> RunReport:
    return run_pass(config, as_of=now.astimezone(config.timezone).date(), now=now, connector=FakeSource(file),
                    channel=SmtpChannel("127.0.0.1", port, security="none", timeout=CLIENT_TIMEOUT),
                    fetch_pdf=lambda url: None)


def _wait_for(handler: SlowHandler, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(handler.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_server_answering_after_the_timeout_gets_each_reminder_once(tmp_path: Path) -> None:
    config, file = _dossier(tmp_path)
    handler = SlowHandler()
    with SmtpServer(handler) as server:  # type: ignore[arg-type]
        first = _pass(config, file, server.port, MONDAY)
        assert first.sent == [] and first.failed == []
        assert len(first.uncertain) == 2 and first.exit_code == 1
        problems = " ".join(first.problems)
        with StateStore(config.state_path) as store:
            entries = Journal(store, config.dossier).entries([State.UNCERTAIN])
        assert {e.message_id for e in entries} <= {w for w in problems.replace(";", " ").split() if "@" in w}
        # three more passes, a day apart: nothing is retried blindly
        for day in (1, 2, 3):
            later = _pass(config, file, server.port, MONDAY + timedelta(days=day, hours=1))
            assert later.sent == [] and later.failed == [] and len(later.uncertain) == 2
        _wait_for(handler, 2)
        time.sleep(2 * handler.delay)
    ids = handler.message_ids
    assert len(ids) == 2 and len(set(ids)) == 2, f"each reminder reached the server exactly once: {ids}"
    assert {e.message_id for e in entries} == set(ids)


def test_not_sent_is_refused_while_the_server_may_still_deliver(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    config, file = _dossier(tmp_path)
    handler = SlowHandler()
    with SmtpServer(handler) as server:  # type: ignore[arg-type]
        _pass(config, file, server.port, MONDAY)
        _wait_for(handler, 2)
    with StateStore(config.state_path) as store:
        entry = Journal(store, config.dossier).entries([State.UNCERTAIN])[0]
    with pytest.raises(ConfirmTooEarlyError) as refused:
        confirm(config, entry.reference, False, now=MONDAY + timedelta(minutes=2))
    assert entry.message_id in str(refused.value) and refused.value.exit_code == 2
    with StateStore(config.state_path) as store:
        assert Journal(store, config.dossier).entry(entry.key).state is State.UNCERTAIN  # type: ignore[union-attr]
    # the person searched the server for the Message-ID and found it: sent, never again
    assert main(["run", "-c", str(config.file), "--confirm", entry.reference, "sent"]) == 0
    out = capsys.readouterr().out
    assert entry.message_id in out and "never be sent again" in out
    with SmtpServer(handler) as server:  # type: ignore[arg-type]
        again = _pass(config, file, server.port, MONDAY + timedelta(days=1, hours=1))
    assert again.sent == [] and len(again.uncertain) == 1
    assert len(handler.received) == 2
