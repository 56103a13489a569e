"""Security as a user would check it: secrets never written anywhere, recipients only from the source
or ``Email relance`` and validated, no header injection, TLS certificates verified."""

from __future__ import annotations

import shutil
import sqlite3
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from openpyxl import load_workbook

from encours.sync.channels.smtp import SmtpChannel
from encours.sync.cli import main
from encours.sync.config import load_config
from encours.sync.run import run_pass
from tests.conftest import write_config
from tests.support.fake_source import FakeSource, LedgerFile
from tests.support.reminders import customer, invoice, ledger
from tests.support.smtp_server import RecordingHandler, free_port

USER = "relances@dupont.example"
PASSWORD = "Zq8-vault-PASSWORD-91x"
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Auth:
    def __init__(self) -> None:
        self.attempts: list[bytes] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        login = data.login if isinstance(data, LoginPassword) else b""
        password = data.password if isinstance(data, LoginPassword) else b""
        login, password = (v.encode() if isinstance(v, str) else v for v in (login, password))
        self.attempts.append(password)
        return AuthResult(success=login == USER.encode() and password == PASSWORD.encode(), handled=False)


def _every_output(tmp_path: Path, text: str) -> str:
    """Everything encours wrote: the log/console text, every sheet cell, every journal row, every file."""
    parts = [text]
    for workbook in tmp_path.rglob("*.xlsx"):
        wb = load_workbook(workbook, read_only=True)
        for ws in wb.worksheets:
            parts.extend(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    for state in tmp_path.rglob("*.sqlite"):
        with sqlite3.connect(state) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                parts.extend(repr(row) for row in db.execute(f"SELECT * FROM {table}"))
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".eml", ".pdf", ".txt", ".json", ".csv"):
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_secrets_never_reach_the_log_the_sheet_the_journal_or_the_messages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    handler, auth = RecordingHandler(), Auth()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=auth,
                            auth_require_tls=False)
    controller.start()
    try:
        config = write_config(tmp_path, extra=(
            f'from = "{USER}"\nwindow = "00:00-23:59"\nevery_day = true\nhost = "127.0.0.1"\n'
            f'port = {port}\nsecurity = "none"\nuser_env = "ENCOURS_TEST_SMTP_USER"\n'
            'password_env = "ENCOURS_TEST_SMTP_PASSWORD"\n'))
        config.write_text(config.read_text().replace('mode = "outbox"', 'mode = "smtp"'))
        monkeypatch.setenv("ENCOURS_TEST_SMTP_USER", USER)
        monkeypatch.setenv("ENCOURS_TEST_SMTP_PASSWORD", "wrong-" + PASSWORD)  # first: a refused login
        assert main(["-v", "run", "-c", str(config), "--as-of", "2026-11-23"]) == 1
        first = capsys.readouterr()
        assert "authentication failed" in first.out and handler.received == []
        monkeypatch.setenv("ENCOURS_TEST_SMTP_PASSWORD", PASSWORD)
        # the failed sends wait before their retry; a person marks them to be sent again
        with sqlite3.connect(tmp_path / "state.sqlite") as db:
            references = {r[0] for r in db.execute("SELECT reference FROM journal WHERE state = 'failed'")}
        for reference in references:
            assert main(["-q", "run", "-c", str(config), "--confirm", reference, "not-sent"]) == 0
        assert main(["-v", "run", "-c", str(config), "--as-of", "2026-11-23"]) == 0
        second = capsys.readouterr()
    finally:
        controller.stop()
    assert len(handler.received) == len(references) > 0
    assert PASSWORD.encode() in auth.attempts, "the password did reach the server"
    everything = _every_output(tmp_path, first.out + first.err + second.out + second.err + caplog.text)
    everything += "\n".join(r.data.decode("latin-1") for r in handler.received)
    assert PASSWORD not in everything and "wrong-" + PASSWORD not in everything


def test_recipients_come_from_the_source_or_email_relance_and_headers_cannot_be_injected(tmp_path: Path) -> None:
    evil = "evil@attacker.example"
    config = load_config(write_config(tmp_path, extra='from = "factures@dupont.example"\nwindow = "08:30-18:00"\n'))
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(ledger(
        invoice("I1", 20, customer_id="C1"), invoice("I2", 20, customer_id="C2"), invoice("I3", 20, customer_id="C3"),
        customers=(
            customer("C1", name=f"ACME\r\nBcc: {evil}"),  # a name at the source carrying a header
            customer("C2", emails=(f"compta@c2.example\r\nBcc: {evil}",), phone=""),  # an address carrying one
            customer("C3", emails=("compta@c3.example",)),
        )))
    with _server() as (handler, port):
        first = run_pass(config, as_of=MONDAY.date(), now=MONDAY, connector=FakeSource(file),
                         channel=SmtpChannel("127.0.0.1", port, security="none"))
        workbook = config.sheet.path("path")
        wb = load_workbook(workbook)
        ws = wb["Clients"]
        header = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            if row[header.index("ID client")].value == "C3":
                row[header.index("Email relance")].value = "relances@c3.example\nCc: bad@attacker.example,"
        wb.save(workbook)
        file.change([invoice("I4", 30, customer_id="C3")])
        later_day = MONDAY + timedelta(days=7)
        run_pass(config, as_of=later_day.date(), now=later_day, connector=FakeSource(file),
                 channel=SmtpChannel("127.0.0.1", port, security="none"))
    envelopes = [r.recipients for r in handler.received]
    assert all(evil not in rcpts for rcpts in envelopes)
    for received in handler.received:
        message = received.message
        assert message["Bcc"] is None and evil not in str(message["To"])
        assert all("\n" not in str(value) and "\r" not in str(value) for value in message.values())
    c1 = next(r for r in handler.received if r.recipients[0] == "compta@c1.example")
    assert [r for r in c1.recipients if "c1" in r] == ["compta@c1.example"]
    # the address with a header in it is refused: the customer gets a letter instead, and the sheet says why
    c2 = next(o for o in first.sent + first.tasks + first.failed if o.customer == "Client C2")
    assert c2.channel == "courrier" and not any("c2.example" in r for rcpts in envelopes for r in rcpts)
    # Email relance overrides the source's address; a "Cc:" typed in the cell never becomes a header
    later = [r for r in handler.received if "relances@c3.example" in r.recipients]
    assert later and all("compta@c3.example" not in r.recipients for r in later)
    assert all("bad@attacker.example" not in str(r.message["Cc"] or "") for r in later)


def test_tls_certificates_are_verified(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    config = load_config(write_config(tmp_path, extra='from = "factures@dupont.example"\n'))
    file = LedgerFile(tmp_path / "ledger.json")
    file.save(ledger(invoice("I1", 20), customers=(customer("C1"),)))
    try:
        report = run_pass(config, as_of=MONDAY.date(), now=MONDAY, connector=FakeSource(file),
                          channel=SmtpChannel("localhost", port, security="starttls"))
    finally:
        controller.stop()
    assert handler.received == [] and report.exit_code == 1
    assert "certificate" in report.failed[0].detail
    with sqlite3.connect(config.state_path) as db:
        reasons = [r[0] for r in db.execute("SELECT reason FROM journal_events WHERE state = 'failed'")]
    assert reasons and "certificate" in reasons[0]


class _server:
    def __enter__(self) -> tuple[RecordingHandler, int]:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self.handler, self.port

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

