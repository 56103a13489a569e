"""A real SMTP server (aiosmtpd on 127.0.0.1) receives the reminders; the test reads them as a
customer's mail client would: headers, parts, attachments, language, amounts."""

from __future__ import annotations

import email
import email.policy
import io
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pypdf import PdfReader

from encours.connectors.errors import ConfigError
from encours.scenarios.message import AddressError, ChannelError, Message
from encours.scenarios.planner import plan
from encours.scenarios.render import render
from encours.sheets_addin.marks import SheetMarks
from encours.sync.channels.smtp import SmtpChannel
from tests.support.reminders import AS_OF, company, customer, invoice, ledger, shipped

USER, PASSWORD = "relances@dupont.example", "s3cret-Pa55-for-tests"


@dataclass
class Inbox:
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), content))
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def parsed(self, index: int = -1) -> EmailMessage:
        message = email.message_from_bytes(self.received[index][2], policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and \
        auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


@pytest.fixture()
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture()
def plain_server(inbox: Inbox) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test trusts it explicitly)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certificate[0]))
    return context


def reminder(language: str = "fr", **customer_changes: Any) -> Message:
    led = ledger(invoice("I1", 20, "1200.00"), invoice("I2", 8, "300.50"),
                 customers=(customer("C1", language=language, **customer_changes),))
    (action,) = plan(led, SheetMarks(), shipped(), AS_OF, done={}, company=company()).actions
    return render(action, shipped()[action.scenario], led, company(), as_of=AS_OF,
                  sent_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def test_a_reminder_arrives_whole_at_a_real_smtp_server(inbox: Inbox, plain_server: Controller) -> None:
    message = reminder()
    with SmtpChannel("127.0.0.1", plain_server.port, security="none", timeout=5) as smtp:
        result = smtp.send(message)
    assert result.detail.startswith("250") and "queued as Q1" in result.detail
    sender, recipients, _ = inbox.received[0]
    assert sender == "factures@dupont.example"
    assert sorted(recipients) == ["archive@dupont.example", "compta@c1.example", "julie@dupont.example"]
    received = inbox.parsed()
    assert received["Message-ID"] == message.message_id
    assert received["To"] == "compta@c1.example" and received["Cc"] == "julie@dupont.example"
    assert received["Bcc"] is None  # the archive copy is delivered, never shown
    assert received["Reply-To"] == "compta@dupont.example"
    (sender_address,) = received["From"].addresses
    assert sender_address.display_name == "Atelier Dupont SARL"
    assert sender_address.addr_spec == "factures@dupont.example"
    assert received["Subject"] == "Relance : 2 factures impayées — Atelier Dupont SARL"
    assert received["Content-Language"] == "fr"
    assert received["Date"] == "Mon, 23 Nov 2026 09:00:00 +0000"
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert "F-I1" in plain and "1\u202f200,00\u00a0€" in plain and "Total : 1\u202f500,50\u00a0€" in plain
    assert "cid:qr@encours" in html.get_content()
    parts = {part.get_filename(): part for part in received.walk() if part.get_filename()}
    statement_name = next(n for n in parts if n.startswith("Relevé de compte"))
    statement = PdfReader(io.BytesIO(parts[statement_name].get_content())).pages[0].extract_text()
    assert "F-I1" in statement and "F-I2" in statement
    qr = parts["qr-virement.png"]
    assert qr.get_content_type() == "image/png" and qr["Content-ID"] == "<qr@encours>"
    assert qr.get_content().startswith(b"\x89PNG")


def test_the_message_goes_in_the_customers_language(inbox: Inbox, plain_server: Controller) -> None:
    with SmtpChannel("127.0.0.1", plain_server.port, security="none", timeout=5) as smtp:
        smtp.send(reminder("nl"))
        smtp.send(reminder("en"))
    assert inbox.parsed(0)["Subject"].startswith("Herinnering: 2 onbetaalde facturen")
    assert inbox.parsed(0)["Content-Language"] == "nl"
    assert "€ 1.500,50" in inbox.parsed(0).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert inbox.parsed(1)["Subject"].startswith("Reminder: 2 unpaid invoices")
    assert len(inbox.received) == 2  # one connection served both


def test_starttls_with_a_verified_certificate_and_login(inbox: Inbox, certificate: tuple[Path, Path]) -> None:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context(certificate),
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        with SmtpChannel("127.0.0.1", controller.port, security="starttls", user=USER, password=PASSWORD,
                         ssl_context=trusting(certificate), timeout=5) as smtp:
            smtp.send(reminder())
        assert len(inbox.received) == 1
        with pytest.raises(ChannelError) as caught, SmtpChannel(
            "127.0.0.1", controller.port, security="starttls", user=USER, password="wrong-password",
            ssl_context=trusting(certificate), timeout=5,
        ) as smtp:
            smtp.send(reminder())
        assert "authentication failed" in str(caught.value) and "wrong-password" not in str(caught.value)
        assert not caught.value.retriable
    finally:
        controller.stop()


def test_an_untrusted_certificate_is_refused(inbox: Inbox, certificate: tuple[Path, Path]) -> None:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context(certificate))
    controller.start()
    try:
        with pytest.raises(ChannelError, match="certificate"), SmtpChannel(
            "127.0.0.1", controller.port, security="starttls", timeout=5
        ) as smtp:
            smtp.send(reminder())
        assert inbox.received == []
    finally:
        controller.stop()


def test_implicit_tls(inbox: Inbox, certificate: tuple[Path, Path]) -> None:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=server_context(certificate))
    controller.start()
    try:
        with SmtpChannel("127.0.0.1", controller.port, security="ssl", ssl_context=trusting(certificate),
                         timeout=5) as smtp:
            smtp.send(reminder())
        assert inbox.parsed()["Message-ID"] == reminder().message_id
    finally:
        controller.stop()


@pytest.mark.parametrize("host", ["smtp.example.com", "192.0.2.10", "10.0.0.1"])
def test_plain_smtp_is_refused_off_this_machine(host: str) -> None:
    with pytest.raises(ConfigError, match="security"):
        SmtpChannel(host, 25, security="none")


def test_a_refused_recipient_is_a_clear_failure(inbox: Inbox, plain_server: Controller) -> None:
    inbox.refuse.add("compta@c1.example")
    with pytest.raises(ChannelError) as caught, SmtpChannel("127.0.0.1", plain_server.port, security="none",
                                                            timeout=5) as smtp:
        smtp.send(reminder())
    assert "compta@c1.example" in str(caught.value) and "550" in str(caught.value)
    assert not caught.value.retriable
    assert inbox.received == []


def test_a_server_gone_mid_batch_is_a_retriable_failure(inbox: Inbox) -> None:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    smtp = SmtpChannel("127.0.0.1", controller.port, security="none", timeout=5)
    smtp.send(reminder())
    controller.stop()
    with pytest.raises(ChannelError) as caught:
        smtp.send(reminder("en"))
    assert caught.value.retriable
    assert len(inbox.received) == 1
    smtp.close()


def test_header_injection_is_impossible(inbox: Inbox, plain_server: Controller) -> None:
    message = reminder()
    hostile = replace(message, subject="Relance\r\nBcc: victim@evil.example", sender_name='Dupont"\r\nX-Evil: 1',
                      headers=(("X-Encours-Step\r\nBcc", "a\r\nBcc: victim@evil.example"),))
    with SmtpChannel("127.0.0.1", plain_server.port, security="none", timeout=5) as smtp:
        smtp.send(hostile)
    received = inbox.parsed()
    assert received["Bcc"] is None and received["X-Evil"] is None
    assert "victim@evil.example" not in inbox.received[0][1]
    assert "\n" not in received["Subject"]
    assert received["X-Encours-StepBcc"] == "a Bcc: victim@evil.example"  # one harmless header
    for bad in ("victim@evil.example\r\nBcc: other@evil.example", "a@b.example, c@d.example", "Name <a@b.example>"):
        with pytest.raises(AddressError):
            replace(message, to=(bad,)).to_email()


def test_the_password_never_shows(inbox: Inbox) -> None:
    channel = SmtpChannel("127.0.0.1", free_port(), security="none", user=USER, password=PASSWORD, timeout=2)
    assert PASSWORD not in repr(channel)
    with pytest.raises(ChannelError) as caught:
        channel.send(reminder())  # nobody listens on that port
    assert caught.value.retriable and PASSWORD not in str(caught.value)


def test_the_date_is_set_by_the_sender_not_the_renderer() -> None:
    led = ledger(invoice("I1", 20))
    (action,) = plan(led, SheetMarks(), shipped(), AS_OF, done={}, company=company()).actions
    message = render(action, shipped()["standard"], led, company(), as_of=AS_OF)
    assert message.date is None and "Date" not in message.to_email()
    later = render(action, shipped()["standard"], led, company(), as_of=AS_OF,
                   sent_at=datetime(2026, 11, 23, tzinfo=UTC) + timedelta(hours=8))
    assert later.to_email()["Date"] == "Mon, 23 Nov 2026 08:00:00 +0000"


def test_smtp_settings_come_from_the_config_and_secrets_from_the_environment(tmp_path: Path) -> None:
    from encours.sync.channels.smtp import smtp_from_config
    from encours.sync.config import load_config

    path = tmp_path / "encours.toml"
    base = ('[company]\nname = "Dupont"\n[source]\ntype = "demo"\n[sending]\nmode = "smtp"\n'
            'host = "{host}"\nsecurity = "{security}"\nuser_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n')
    path.write_text(base.format(host="smtp.example.com", security="ssl"), encoding="utf-8")
    channel = smtp_from_config(load_config(path, {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}))
    assert (channel.host, channel.port, channel.security, channel.user) == ("smtp.example.com", 465, "ssl", USER)
    with pytest.raises(ConfigError) as missing:
        smtp_from_config(load_config(path, {"SMTP_USER": USER}))
    assert "SMTP_PASSWORD" in str(missing.value) and "[sending] password_env" in str(missing.value)
    path.write_text(base.format(host="smtp.example.com", security="none"), encoding="utf-8")
    with pytest.raises(ConfigError) as plain:
        smtp_from_config(load_config(path, {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}))
    assert str(path) in str(plain.value) and "[sending] security" in str(plain.value)
    assert PASSWORD not in str(plain.value)


def test_check_connects_logs_in_and_sends_nothing(inbox: Inbox, certificate: tuple[Path, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from encours.sync.cli import main

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context(certificate),
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        path = tmp_path / "encours.toml"
        path.write_text(
            '[company]\nname = "Dupont"\nstate = "state.sqlite"\n[source]\ntype = "demo"\n'
            '[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n'
            f'[sending]\nmode = "smtp"\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "starttls"\n'
            'from = "relances@dupont.example"\nuser_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\ntimeout = 5\n',
            encoding="utf-8")
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the test's own authority, as a company's CA
        monkeypatch.setenv("SMTP_USER", USER)
        monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
        assert main(["check", "-c", str(path)]) == 0
        out = capsys.readouterr().out
        mail = [line for line in out.splitlines() if "mail" in line]
        assert mail and mail[0].startswith("✓ mail: SMTP 127.0.0.1") and "starttls, authenticated" in mail[0]
        assert "nothing was sent" in mail[0] and PASSWORD not in out
        assert inbox.received == []
        monkeypatch.setenv("SMTP_PASSWORD", "wrong-password")
        assert main(["check", "-c", str(path)]) == 1
        out = capsys.readouterr().out
        assert "✗ mail:" in out and "authentication failed" in out and "wrong-password" not in out
    finally:
        controller.stop()
