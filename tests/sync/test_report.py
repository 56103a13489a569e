"""The weekly report for the demo ledger: figures checked against the reference functions, the
PDF read back with pypdf, the e-mail received by a real SMTP server on loopback."""

from __future__ import annotations

import email
import io
import re
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import Message as MimeMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from encours.connectors.demo import demo_ledger
from encours.connectors.model import Allocation, Customer, Delta, Invoice, Ledger, Money, Payment
from encours.connectors.registries.signals import RiskSignal, SignalKind
from encours.sheets_addin import functions as fn
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks
from encours.sync.cli import main
from encours.sync.config import load_config
from encours.sync.report import (
    SentReminder,
    build_report,
    receivables_at,
    reminder_stats,
    report_due,
)
from encours.sync.report_render import eur
from encours.sync.report_send import plan_reports, render, send_weekly_report
from encours.sync.risk import _save_check, load_risk
from encours.sync.state import StateStore

AS_OF = date(2026, 11, 23)  # a Monday
SEED = 2026


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return demo_ledger(AS_OF, SEED)


def pdf_text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\u00a0\u202f ]+", " ", text)


def plain(text: str) -> str:
    return re.sub(r"[\u00a0\u202f ]+", " ", text)


def test_report_figures_are_the_reference_functions(ledger: Ledger) -> None:
    report = build_report(ledger, AS_OF, company="Atelier Dupont SARL")
    invoices, payments = fn.ledger_frames(ledger)
    kpis = fn.receivables_kpis(invoices, payments, AS_OF, period_days=90)
    assert report.kpis == kpis
    assert kpis.receivables > 0 and kpis.overdue > 0 and kpis.dso is not None and kpis.cei is not None
    # the rebuilt week-end figures meet the KPIs on the as-of date
    assert (report.history[-1].outstanding, report.history[-1].overdue) == (kpis.receivables, kpis.overdue)
    assert len(report.history) == 9 and report.previous.day == AS_OF - timedelta(days=7)
    # the aging chart adds up to the total outstanding
    assert sum((amount for _, amount in report.aging), Decimal(0)) == kpis.receivables
    # the forecast is the functions' eight weeks with the customers' average delays
    figures = fn.customer_figures(ledger, AS_OF)
    delays = {cid: f.avg_delay for cid, f in figures.items() if f.avg_delay is not None}
    assert report.forecast == fn.weekly_cash_forecast(invoices, AS_OF, delays, weeks=8)
    assert len(report.forecast.weeks) == 8 and report.forecast.weeks[0] == AS_OF
    # the ten largest late payers, each overdue amount recomputed from the invoices themselves
    assert len(report.late_payers) == 10
    overdue = sorted(report.late_payers, key=lambda p: -p.overdue)
    assert list(report.late_payers) == overdue
    for payer in report.late_payers:
        own = sum(
            (owed_eur(i) for i in ledger.invoices
             if i.customer_id == payer.customer_id and i.is_open and i.effective_due_date(30) < AS_OF),
            Decimal(0),
        )
        assert payer.overdue == own
        assert payer.score == figures[payer.customer_id].score


def owed_eur(invoice: Invoice) -> Decimal:
    """What an open document weighs in the receivables, in EUR (converted when the source says)."""
    if invoice.currency == "EUR":
        return invoice.signed_remaining.amount
    if invoice.remaining_company is None:
        return Decimal(0)
    return invoice.remaining_company.amount * invoice.sign


def test_pdf_shows_the_figures(ledger: Ledger) -> None:
    report = build_report(ledger, AS_OF, company="Atelier Dupont SARL")
    rendered = render(report)
    text = pdf_text(rendered.pdf)
    k = report.kpis
    assert "Encours clients au 23/11/2026" in text
    for expected in (
        plain(eur(k.receivables)),
        plain(eur(k.overdue)),
        f"{k.dso:.1f}".replace(".", ",") + " j",
        f"{k.best_dso:.1f}".replace(".", ",") + " j",
        f"{k.add:.1f}".replace(".", ",") + " j",
        f"{k.cei:.1f}".replace(".", ",") + " %",
        plain(eur(report.forecast.amounts[0])),
        plain(eur(report.previous.outstanding - k.receivables).replace("-", "")),
    ):
        assert expected in text, expected
    for payer in report.late_payers:
        assert payer.name in text
    for week in report.forecast.weeks:
        assert f"Semaine du {week:%d/%m/%Y}" in text
    # three charts, as PNG images, in the PDF and the e-mail
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(rendered.pdf)).pages) == 3
    assert all(png.startswith(b"\x89PNG") for png in rendered.images.values())


def test_trend_rebuilds_last_week_from_payments() -> None:
    customer = Customer("C1", "Client Un", "test")
    paid_yesterday = Invoice("I1", "F-1", "C1", "test", date(2026, 10, 1), date(2026, 10, 31),
                             Money(Decimal("1200.00")), Money(Decimal("0")), status=fn_paid())
    still_open = Invoice("I2", "F-2", "C1", "test", date(2026, 11, 18), date(2026, 12, 18),
                         Money(Decimal("500.00")), Money(Decimal("500.00")))
    payment = Payment("P1", "C1", "test", date(2026, 11, 22), Money(Decimal("1200.00")),
                      (Allocation("I1", Money(Decimal("1200.00"))),))
    ledger = Ledger((customer,), (paid_yesterday, still_open), (payment,))
    invoices, payments = fn.ledger_frames(ledger)
    week_ago = receivables_at(invoices, payments, AS_OF - timedelta(days=7))
    assert week_ago.outstanding == Decimal("1200.00")  # F-2 did not exist yet; F-1 was unpaid and overdue
    assert week_ago.overdue == Decimal("1200.00")
    now = receivables_at(invoices, payments, AS_OF)
    assert (now.outstanding, now.overdue) == (Decimal("500.00"), Decimal("0.00"))


def fn_paid():  # type: ignore[no-untyped-def]
    from encours.connectors.model import InvoiceStatus

    return InvoiceStatus.PAID


def test_salesperson_versions_show_only_their_customers(ledger: Ledger) -> None:
    company = build_report(ledger, AS_OF)
    names = sorted({c.salesperson for c in ledger.customers})
    total = Decimal(0)
    for name in names:
        own = {c.id for c in ledger.customers if c.salesperson == name}
        report = build_report(ledger, AS_OF, salesperson=name)
        assert report.customers == len(own)
        assert {p.customer_id for p in report.late_payers} <= own
        total += report.outstanding
        others = [p.name for p in company.late_payers if p.customer_id not in own]
        text = pdf_text(render(report).pdf)
        assert f"— {name}" in text
        assert not [other for other in others if other in text]
    assert total == company.outstanding


def test_promises_disputes_and_reminders_come_from_the_sheet_and_the_journal(ledger: Ledger) -> None:
    open_invoices = [i for i in ledger.invoices if i.is_open and not i.is_credit_note and i.currency == "EUR"]
    promised, late_promise, disputed = open_invoices[0], open_invoices[1], open_invoices[2]
    marks = SheetMarks(invoices={
        promised.id: InvoiceMarks(promise_date=AS_OF + timedelta(days=3)),
        late_promise.id: InvoiceMarks(promise_date=AS_OF - timedelta(days=2)),
        disputed.id: InvoiceMarks(dispute=True, comment="livraison incomplète"),
        open_invoices[3].id: InvoiceMarks(promise_date=AS_OF + timedelta(days=20)),  # not this week
    })
    paid = [(p, a) for p in ledger.payments for a in p.allocations
            if AS_OF - timedelta(days=20) < p.date <= AS_OF and p.method != "credit_note"
            and a.amount.currency == "EUR"]
    (payment, allocation), (other_payment, other_allocation) = paid[0], paid[1]
    reminders = [
        SentReminder(payment.date - timedelta(days=5), payment.customer_id, (allocation.invoice_id,)),
        # paid 20 days after its reminder: not counted
        SentReminder(other_payment.date - timedelta(days=20), other_payment.customer_id,
                     (other_allocation.invoice_id,), "letter"),
    ]
    report = build_report(ledger, AS_OF, marks=marks, reminders=reminders)
    assert [p.invoice_id for p in report.promises] == [promised.id]
    assert [p.invoice_id for p in report.broken_promises] == [late_promise.id]
    assert [d.invoice_id for d in report.disputes] == [disputed.id]
    expected = sum((a.amount.amount for p, a in paid if a.invoice_id == allocation.invoice_id
                    and reminders[0].sent_on < p.date <= reminders[0].sent_on + timedelta(days=14)), Decimal(0))
    stats = report.reminders
    assert stats.brought_in == expected and stats.invoices_paid == 1
    assert stats.sent_in_window == sum(1 for r in reminders if r.sent_on >= AS_OF - timedelta(days=28))
    assert reminder_stats(ledger, None, AS_OF).known is False
    rendered = render(report)
    for needle in (promised.number, late_promise.number, disputed.number, "livraison incomplète",
                   plain(eur(expected))):
        assert needle in pdf_text(rendered.pdf)
        assert needle in plain(rendered.text)
    assert "livraison incomplète" in rendered.html


# -- the whole path: state store → report → SMTP ------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture()
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def dossier(tmp_path: Path, ledger: Ledger, port: int, *, per_salesperson: bool = True) -> Path:
    config = tmp_path / "encours.toml"
    config.write_text(
        f"""
[company]
name = "Atelier Dupont SARL"
state = "state.sqlite"

[source]
type = "demo"

[sheet]
type = "xlsx"
path = "absent.xlsx"

[sending]
mode = "smtp"
host = "127.0.0.1"
port = {port}
security = "none"
from = "compta@atelier-dupont.fr"

[report]
day = "monday"
recipients = ["direction@atelier-dupont.fr", "daf@atelier-dupont.fr"]
per_salesperson = {"true" if per_salesperson else "false"}
""",
        encoding="utf-8",
    )
    with StateStore(tmp_path / "state.sqlite") as store, store.transaction():
        store.apply_delta(Delta(ledger.customers, ledger.invoices, ledger.payments, full=True))
    return config


def test_weekly_report_is_received_by_smtp_once_per_week(tmp_path: Path, ledger: Ledger,
                                                          smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    config = load_config(dossier(tmp_path, ledger, port))
    assert report_due(config, AS_OF) and not report_due(config, AS_OF + timedelta(days=1))
    outcome = send_weekly_report(config, AS_OF, now=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    salespeople = sorted({c.salesperson for c in ledger.customers})
    assert len(outcome.sent) == 1 + len(salespeople)
    assert len(inbox.messages) == 1 + len(salespeople)
    recipients = sorted(tuple(r) for r, _ in inbox.messages)
    assert ("direction@atelier-dupont.fr", "daf@atelier-dupont.fr") in recipients or \
        ("daf@atelier-dupont.fr", "direction@atelier-dupont.fr") in recipients
    company_raw = next(raw for r, raw in inbox.messages if "direction@atelier-dupont.fr" in r)
    mail = email.message_from_bytes(company_raw)
    report = build_report(ledger, AS_OF)
    assert plain(str(email.header.make_header(email.header.decode_header(mail["Subject"])))) == plain(
        f"Encours au 23/11/2026 : {eur(report.outstanding)} dont {eur(report.overdue)} échus")
    parts = list(mail.walk())
    html = next(p for p in parts if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    images = {p["Content-ID"].strip("<>"): p for p in parts if p.get_content_type() == "image/png"}
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert len(cids) == 3 and cids == set(images)  # every chart is inline and referenced
    assert all(isinstance(p, MimeMessage) and p.get_payload(decode=True).startswith(b"\x89PNG")
               for p in images.values())
    assert "<script" not in html and 'src="http' not in html  # nothing fetched from the web
    pdf = next(p for p in parts if p.get_content_type() == "application/pdf").get_payload(decode=True)
    assert isinstance(pdf, bytes)
    assert plain(eur(report.outstanding)) in pdf_text(pdf)
    text = next(p for p in parts if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "LES DIX PLUS GROS RETARDS" in text
    # a salesperson's version goes to that salesperson only
    claire = next(raw for r, raw in inbox.messages if r == ["claire.martin@atelier-dupont.fr"])
    assert "(Claire Martin)" in str(email.header.make_header(email.header.decode_header(
        email.message_from_bytes(claire)["Subject"])))
    # the daemon calling again the same day sends nothing
    again = send_weekly_report(config, AS_OF, now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert again.sent == () and len(again.already_sent) == 1 + len(salespeople)
    assert len(inbox.messages) == 1 + len(salespeople)


def test_report_lists_registry_alerts_with_the_claim_to_declare(tmp_path: Path, ledger: Ledger) -> None:
    target = next(c for c in ledger.customers if c.siren)
    fetched = datetime(2026, 11, 20, tzinfo=UTC)
    signal = RiskSignal(target.siren, SignalKind.LIQUIDATION, date(2026, 11, 2),
                        "Jugement d'ouverture de liquidation judiciaire", "https://www.bodacc.fr/annonce/A1",
                        fetched, "bodacc", "TRIBUNAL DE COMMERCE DE LYON", date(2026, 11, 10), opening=True)
    with StateStore(tmp_path / "state.sqlite") as store:
        _save_check(store, target.siren, fetched, None, [signal])
        risk = load_risk(store, ledger.customers)
    report = build_report(ledger, AS_OF, risk=risk)
    assert [r.customer_id for r in report.risks] == [target.id]
    line = report.risks[0]
    assert line.action == "Déclarer la créance au mandataire judiciaire avant le 10/01/2027"
    text = pdf_text(render(report).pdf)
    assert target.name in text and "10/01/2027" in text and "https://www.bodacc.fr/annonce/A1" in text
    figures = {p.customer_id: p for p in report.late_payers}
    if target.id in figures:
        assert figures[target.id].score == 0


def test_cli_writes_the_reports(tmp_path: Path, ledger: Ledger) -> None:
    config = dossier(tmp_path, ledger, 2525, per_salesperson=False)
    out = tmp_path / "reports"
    code = main(["report", "-c", str(config), "--as-of", AS_OF.isoformat(), "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        f"rapport-encours-2026-11-23-societe.{ext}" for ext in ("html", "pdf", "txt")
    ]
    assert "Encours clients au 23/11/2026" in pdf_text((out / "rapport-encours-2026-11-23-societe.pdf").read_bytes())
    html = (out / "rapport-encours-2026-11-23-societe.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
    reports = plan_reports(load_config(config), AS_OF, per_salesperson=False)
    assert len(reports) == 1
    assert any("feuille" in note for note in reports[0].report.notes)  # the workbook is absent: said so


def test_reminders_and_what_they_brought_in_come_from_the_journal(tmp_path: Path, ledger: Ledger) -> None:
    from encours.scenarios.planner import StepKey
    from encours.sync.journal import Dispatch, Journal

    config = load_config(dossier(tmp_path, ledger, 2525))
    paid = next((p, a) for p in ledger.payments for a in p.allocations
                if AS_OF - timedelta(days=10) < p.date < AS_OF and p.method != "credit_note"
                and a.amount.currency == "EUR")
    payment, allocation = paid
    invoice = next(i for i in ledger.invoices if i.id == allocation.invoice_id)

    def dispatch(step: str, channel: str) -> Dispatch:
        return Dispatch((StepKey("invoice", invoice.id, "standard", step, ""),), invoice.customer_id, "Client",
                        "standard", step, channel, (invoice.id,), (invoice.number,), Money(Decimal("10.00"), "EUR"),
                        ("compta@client.example",), AS_OF)

    with StateStore(config.state_path) as store:
        journal = Journal(store, config.dossier, tz=config.timezone)
        for step, channel, days_before in (("reminder_1", "email", 4), ("thanks", "thanks", 1)):
            when = datetime.combine(payment.date - timedelta(days=days_before), datetime.min.time(), UTC)
            one = dispatch(step, channel)
            journal.plan([one], when)
            journal.begin(one, when, message_id=f"<{step}@test>")
            journal.sent(one, when)
    report = plan_reports(config, AS_OF, per_salesperson=False)[0].report
    stats = report.reminders
    assert stats.known and stats.sent_in_window == 1  # the thank-you is no reminder
    assert stats.invoices_paid == 1 and stats.brought_in >= allocation.amount.amount
    assert "Relances : aucun journal" not in " ".join(report.notes)
