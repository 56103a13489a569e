"""One whole pass as a user meets it: sends once, re-checks at the source, waits for approval and
for the sending window, mirrors the journal in the sheet, and a dry run changes nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from encours.connectors.errors import SheetError
from encours.connectors.model import Invoice, Money
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sync.channels.smtp import SmtpChannel
from encours.sync.cli import main
from encours.sync.config import Config, load_config
from encours.sync.run import run_pass
from encours.sync.run_report import RunReport
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile, with_paid
from tests.support.reminders import customer, invoice, ledger
from tests.support.smtp_server import SmtpServer

MONDAY_9H = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Paris
SENDING = 'from = "factures@dupont.example"\nwindow = "08:30-18:00"\n'


def small_ledger() -> Any:
    return ledger(
        invoice("I1", 20, "1200.00", customer_id="C1"),
        invoice("I2", 18, "300.00", customer_id="C1"),
        invoice("I3", 20, "450.00", customer_id="C2"),
        invoice("I4", 20, "800.00", customer_id="C3"),
        invoice("I5", 20, "500.00", customer_id="C4", remaining="0.00"),
        customers=(customer("C1"), customer("C2"), customer("C3", emails=()), customer("C4")),
    )


def dossier(tmp_path: Path, extra: str = "") -> tuple[Config, LedgerFile]:
    path = write_config(tmp_path, extra=SENDING + extra)
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(small_ledger())
    return load_config(path), file


def one_pass(config: Config, file: LedgerFile, port: int, now: datetime = MONDAY_9H, **kw: Any) -> RunReport:
    source = kw.pop("connector", None) or FakeSource(file)
    return run_pass(config, as_of=now.astimezone(config.timezone).date(), now=now, connector=source,
                    channel=SmtpChannel("127.0.0.1", port, security="none"), **kw)


def sheet_rows(path: Path, tab: str) -> list[dict[str, Any]]:
    ws = load_workbook(path, read_only=True)[tab]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def test_a_pass_sends_once_and_the_second_sends_nothing(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    with SmtpServer() as server:
        first = one_pass(config, file, server.port)
        assert first.exit_code == 0, first.lines()
        assert len(first.sent) == 2 and len(first.tasks) == 1  # C1 (two invoices, one e-mail), C2; C3 has no e-mail
        received = server.handler.received
        assert sorted(r.recipients[0] for r in received) == ["compta@c1.example", "compta@c2.example"]
        grouped = next(r for r in received if r.recipients[0] == "compta@c1.example").message
        assert "F-I1" in grouped.get_body(("plain",)).get_content() and "F-I2" in grouped.get_body(
            ("plain",)).get_content()
        ids = server.handler.message_ids
        second = one_pass(config, file, server.port, now=MONDAY_9H.replace(hour=9))
        assert second.sent == [] and second.tasks == [] and second.exit_code == 0
        assert server.handler.message_ids == ids, "nothing sent the second time"
    relances = sheet_rows(config.sheet.path("path"), "Relances")
    assert sorted(r["Client"] for r in relances) == ["Client C1", "Client C2", "Client C3"]
    assert {r["Statut"] for r in relances} == {"envoyée"}
    factures = {r["ID"]: r for r in sheet_rows(config.sheet.path("path"), "Factures")}
    assert all(factures[i]["Dernière relance"].startswith("23/11/2026") for i in ("I1", "I2", "I3", "I4"))
    todo = sheet_rows(config.sheet.path("path"), "À faire")
    assert [(t["Action"], t["Client"]) for t in todo] == [("Appeler", "Client C3")]


def test_dry_run_shows_what_would_go_and_changes_nothing(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    with SmtpServer() as server:
        dry = one_pass(config, file, server.port, dry_run=True)
        assert server.handler.received == []
        assert not config.sheet.path("path").exists() and not (tmp_path / "outbox").exists()
        with sqlite3.connect(config.state_path) as db:
            assert db.execute("SELECT COUNT(*) FROM journal").fetchone() == (0,)
            assert db.execute("SELECT COUNT(*) FROM cursors").fetchone() == (0,)
        assert "Would send: 3" in dry.lines()
        real = one_pass(config, file, server.port)
    assert sorted(o.reference for o in dry.would_send) == sorted(o.reference for o in real.sent + real.tasks)


class PaidMeanwhile(FakeSource):
    """The pull is stale; the source, re-read right before sending, says I3 is paid."""

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        fresh = super().refetch_invoice(invoice_id)
        if fresh is not None and invoice_id == "I3":
            return with_paid(ledger(fresh), ["I3"]).invoices[0]
        return fresh


def test_a_payment_seen_at_the_source_right_before_sending_cancels_the_reminder(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    with SmtpServer() as server:
        report = one_pass(config, file, server.port, connector=PaidMeanwhile(file))
        assert [r.recipients[0] for r in server.handler.received] == ["compta@c1.example"]
    assert [o.customer for o in report.skipped] == ["Client C2"]
    assert "vérifié à la source" in report.skipped[0].detail
    relances = {r["Client"]: r for r in sheet_rows(config.sheet.path("path"), "Relances")}
    assert relances["Client C2"]["Statut"] == "non envoyée" and "payée" in relances["Client C2"]["Motif"]


def test_every_invoice_is_reread_at_the_source_before_its_reminder(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    source = FakeSource(file)
    with SmtpServer() as server:
        one_pass(config, file, server.port, connector=source)
    assert sorted(source.refetched) == ["I1", "I2", "I3", "I4"]


class BatchSource(FakeSource):
    """A source that re-reads many invoices in one request, as the platform connectors do."""

    def __init__(self, file: LedgerFile) -> None:
        super().__init__(file)
        self.batches: list[list[str]] = []

    def refetch_invoices(self, invoice_ids: list[str]) -> dict[str, Invoice | None]:
        self.batches.append(list(invoice_ids))
        return {i: self.file._index.get(i) for i in invoice_ids}


def test_the_pass_rechecks_all_its_invoices_in_one_read(tmp_path: Path) -> None:
    """Reminders for four invoices: one read at the source before the first goes, not one each."""
    config, file = dossier(tmp_path)
    source = BatchSource(file)
    with SmtpServer() as server:
        report = one_pass(config, file, server.port, connector=source)
    assert {o.customer for o in report.sent} == {"Client C1", "Client C2"}  # C1's two invoices in one message
    assert len(source.batches) == 1 and sorted(source.batches[0]) == ["I1", "I2", "I3", "I4"]
    assert source.refetched == []


APPROVE = """
[scenarios]
default = "approve"
dir = "my-scenarios"
[scenarios.profiles]
A = "approve"
B = "approve"
C = "approve"
D = "approve"
"""
APPROVE_SCENARIO = """
label = "Sur approbation"
[[steps]]
id = "reminder"
label = "Relance validée"
offset = 5
from = "due"
channel = "email"
template = "reminder_1"
needs_approval = true
"""


def _tick(workbook: Path, invoice_id: str) -> None:
    wb = load_workbook(workbook)
    ws = wb["Factures"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("ID")].value == invoice_id:
            row[header.index("À envoyer")].value = "Oui"
    wb.save(workbook)


def test_steps_needing_approval_wait_for_a_tick_and_a_tick_approves_once(tmp_path: Path) -> None:
    (tmp_path / "my-scenarios").mkdir()
    (tmp_path / "my-scenarios" / "approve.toml").write_text(APPROVE_SCENARIO, encoding="utf-8")
    config, file = dossier(tmp_path, APPROVE)
    workbook = config.sheet.path("path")
    with SmtpServer() as server:
        first = one_pass(config, file, server.port)
        assert first.sent == [] and len(first.waiting_approval) == 3 and server.handler.received == []
        todo = sheet_rows(workbook, "À faire")
        assert {t["Client"] for t in todo} == {"Client C1", "Client C2", "Client C3"}
        assert all(t["Action"].startswith("Approuver") for t in todo)
        _tick(workbook, "I2")
        second = one_pass(config, file, server.port, now=MONDAY_9H.replace(hour=10))
        assert [o.customer for o in second.sent] == ["Client C1"]
        assert [r.recipients[0] for r in server.handler.received] == ["compta@c1.example"]
        third = one_pass(config, file, server.port, now=MONDAY_9H.replace(hour=11))
        assert third.sent == [] and len(server.handler.received) == 1
    todo = sheet_rows(workbook, "À faire")
    assert {t["Client"] for t in todo if not t["Suivi"]} == {"Client C2", "Client C3"}
    assert [t["Suivi"] for t in todo if t["Client"] == "Client C1"] == ["Plus rien à faire (réglé le 23/11/2026)"]


def test_nothing_leaves_outside_the_window_or_on_a_public_holiday(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    evening = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 19:30 in Paris
    with SmtpServer() as server:
        for now in (christmas, evening):
            report = one_pass(config, file, server.port, now=now)
            assert report.sent == [] and len(report.deferred) == 3 and report.exit_code == 0
        assert any("Noël" in line for line in one_pass(config, file, server.port, now=christmas).lines())
        assert server.handler.received == []
        assert config.sheet.path("path").exists(), "the sheet is refreshed even when nothing may leave"
        after = one_pass(config, file, server.port, now=datetime(2026, 12, 28, 8, 0, tzinfo=UTC))
        assert len(after.sent) == 2 and len(server.handler.received) == 2, "caught up on the next business day"


def test_cli_dry_run_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, extra=SENDING.replace("08:30-18:00", "00:00-23:59"))
    assert main(["-q", "run", "-c", str(config), "--dry-run", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "Would send:" in out
    assert not (tmp_path / "outbox").exists() and not (tmp_path / "encours.xlsx").exists()
    assert main(["-q", "run", "-c", str(config), "--confirm", "R-0000000000", "sent"]) == 2
    assert "R-0000000000" in capsys.readouterr().err
    assert main(["-q", "run", "-c", str(config), "--confirm", "R-0000000000", "maybe"]) == 2
    capsys.readouterr()
    assert main(["run", "-c", str(config), "--dry-run", "--as-of", "2026-11-23"]) == 0
    progress = capsys.readouterr().err
    assert "Would send 1/" in progress and "Sending" not in progress


class LockedWorkbook(XlsxWorkbook):
    """The workbook as when Excel holds it open: readable, not replaceable."""

    def write(self, view: Any) -> None:
        raise SheetError(f"{self.path}: cannot replace the workbook — is it open in Excel?")


def test_a_sheet_that_cannot_be_written_is_reported_and_the_next_pass_catches_up(tmp_path: Path) -> None:
    config, file = dossier(tmp_path)
    workbook = config.sheet.path("path")
    with SmtpServer() as server:
        one_pass(config, file, server.port, now=datetime(2026, 11, 22, 9, 0, tzinfo=UTC))  # Sunday: sheet only
        report = one_pass(config, file, server.port, sheet=LockedWorkbook(workbook))
        assert report.exit_code == 1 and report.sheet_failed and len(report.sent) == 2
        assert any("sheet not updated" in p for p in report.problems)
        with sqlite3.connect(config.state_path) as db:
            assert db.execute("SELECT cursor FROM cursors").fetchone() == ("v1",)
        again = one_pass(config, file, server.port, now=MONDAY_9H.replace(hour=9))
        assert again.sent == [] and again.sheet_written and again.exit_code == 0
        assert len(server.handler.received) == 2
    assert len(sheet_rows(workbook, "Relances")) == 3


def test_an_interrupted_send_waits_in_a_faire_until_a_person_confirms(tmp_path: Path) -> None:
    from encours.scenarios.planner import StepKey
    from encours.sync.journal import Dispatch, Journal
    from encours.sync.state import StateStore

    config, file = dossier(tmp_path)
    key = StepKey("invoice", "I3", "standard", "reminder_1")
    with StateStore(config.state_path) as store:  # a pass died right after recording "sending"
        Journal(store, config.dossier).begin(
            Dispatch((key,), "C2", "Client C2", "standard", "reminder_1", "email", ("I3",), ("F-I3",),
                     Money(Decimal("450.00"), "EUR"), ("compta@c2.example",), MONDAY_9H.date()),
            MONDAY_9H, message_id="<lost@x>")
    with SmtpServer() as server:
        report = one_pass(config, file, server.port)
        assert [o.customer for o in report.uncertain] == ["Client C2"]
        assert all(r.recipients[0] != "compta@c2.example" for r in server.handler.received)
        reference = report.uncertain[0].reference
        todo = sheet_rows(config.sheet.path("path"), "À faire")
        row = next(t for t in todo if t["Client"] == "Client C2")
        assert row["Action"] == f"Confirmer l'envoi {reference}" and "--confirm" in row["Détail"]
        factures = {r["ID"]: r for r in sheet_rows(config.sheet.path("path"), "Factures")}
        assert "incertaine" in factures["I3"]["Dernière relance"]
        assert main(["-q", "run", "-c", str(config.file), "--confirm", reference, "sent"]) == 0
        after = one_pass(config, file, server.port, now=MONDAY_9H.replace(hour=9))
        assert after.uncertain == [] and after.sent == []
        done = [t for t in sheet_rows(config.sheet.path("path"), "À faire") if t["Client"] == "Client C2"]
        assert [t["Suivi"] for t in done] == ["Plus rien à faire (réglé le 23/11/2026)"], "confirmed: closed"
        assert all(r.recipients[0] != "compta@c2.example" for r in server.handler.received)
