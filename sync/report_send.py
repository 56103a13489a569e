"""Make, write and send the weekly reports: one for the configured recipients, and one per
salesperson (only their customers) to the salesperson's e-mail address.

A report goes once per week and audience: the state store records each one sent
(``report_sends``), so a daemon that calls :func:`send_weekly_report` twice on the same day
sends nothing the second time.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from encours.connectors.errors import ConfigError
from encours.connectors.memory import collected_after
from encours.connectors.registries.signals import fr_date
from encours.scenarios.message import Attachment, Message, SendResult, check_address
from encours.sync.config import Config
from encours.sync.labels import pass_text
from encours.sync.report import ReportError, WeeklyReport, build_report, load_inputs, report_settings, salespeople
from encours.sync.report_render import CHART_IDS, charts, eur, render_html, render_pdf, render_text
from encours.sync.state import StateStore, utcnow

#: The audience of the whole-company report in ``report_sends``.
COMPANY = "*"


@dataclass(frozen=True)
class RenderedReport:
    report: WeeklyReport
    audience: str  # COMPANY or the salesperson's name
    recipients: tuple[str, ...]
    html: str
    text: str
    pdf: bytes
    images: dict[str, bytes] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return "societe" if self.audience == COMPANY else _slug(self.audience)

    @property
    def stem(self) -> str:
        return f"rapport-encours-{self.report.as_of.isoformat()}-{self.slug}"

    @property
    def subject(self) -> str:
        r = self.report
        who = f" ({r.salesperson})" if r.salesperson else ""
        return pass_text("report_subject", day=fr_date(r.as_of), who=who, outstanding=eur(r.outstanding),
                         overdue=eur(r.overdue_net))

    def cids(self, domain: str) -> dict[str, str]:
        return {name: f"{name}.{self.stem}@{domain}" for name in CHART_IDS}

    def message(self, *, sender: str, sender_name: str = "", when: datetime | None = None) -> Message:
        domain = sender.rpartition("@")[2] or "encours.local"
        cids = self.cids(domain)
        html = render_html(self.report, cids)
        attachments = [
            Attachment(f"{name}.png", self.images[name], "image/png", inline_id=cids[name])
            for name in CHART_IDS
            if name in self.images
        ]
        attachments.append(Attachment(f"{self.stem}.pdf", self.pdf, "application/pdf"))
        return Message(
            message_id=f"<{self.stem}@{domain}>",
            channel="email",
            language="fr",
            subject=self.subject,
            text=self.text,
            html=html,
            sender=sender,
            sender_name=sender_name,
            to=self.recipients,
            attachments=tuple(attachments),
            date=when,
            headers=(("Auto-Submitted", "auto-generated"),),
        )

    def browser_html(self) -> str:
        """The e-mail's HTML with the charts as data URIs (to open the file in a browser)."""
        html = render_html(self.report, {name: name for name in CHART_IDS})
        for name, png in self.images.items():
            html = html.replace(f'src="cid:{name}"', f'src="data:image/png;base64,{base64.b64encode(png).decode()}"')
        return html


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "commercial"


def render(report: WeeklyReport, audience: str = COMPANY, recipients: tuple[str, ...] = ()) -> RenderedReport:
    images = charts(report)
    return RenderedReport(
        report=report,
        audience=audience,
        recipients=recipients,
        html=render_html(report, {name: name for name in CHART_IDS}),
        text=render_text(report),
        pdf=render_pdf(report, images),
        images=images,
    )


@dataclass(frozen=True)
class PlannedReport:
    audience: str  # COMPANY or the salesperson's name
    recipients: tuple[str, ...]
    report: WeeklyReport


@collected_after  # inside a daemon's pass, or `encours report`
def plan_reports(config: Config, as_of: date, *, per_salesperson: bool | None = None) -> list[PlannedReport]:
    """The company report, then one per salesperson (when configured): figures, not yet rendered."""
    settings = report_settings(config)
    ledger, marks, reminders, risk, notes, tasks = load_inputs(config, as_of)
    from encours.sync.pull import aging_bounds

    bounds = aging_bounds(config)

    def build(salesperson: str = "") -> WeeklyReport:
        return build_report(ledger, as_of, company=config.company_name, salesperson=salesperson, marks=marks,
                            reminders=reminders, risk=risk, default_terms=config.payment_terms_days,
                            bounds=bounds, notes=notes, tasks=tasks)

    planned = [PlannedReport(COMPANY, settings.recipients, build())]
    if settings.per_salesperson if per_salesperson is None else per_salesperson:
        for name, address in salespeople(ledger).items():
            planned.append(PlannedReport(name, (address,) if address else (), build(name)))
    return planned


def make_reports(config: Config, as_of: date, *, per_salesperson: bool | None = None) -> list[RenderedReport]:
    """The company report, then one per salesperson (when configured), rendered."""
    return [render(p.report, p.audience, p.recipients)
            for p in plan_reports(config, as_of, per_salesperson=per_salesperson)]


def write_reports(reports: list[RenderedReport], out_dir: Path) -> list[Path]:
    """PDF, browser-viewable HTML and the plain text of each report into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for rendered in reports:
        pdf = out_dir / f"{rendered.stem}.pdf"
        pdf.write_bytes(rendered.pdf)
        html = out_dir / f"{rendered.stem}.html"
        html.write_text(rendered.browser_html(), encoding="utf-8")
        text = out_dir / f"{rendered.stem}.txt"
        text.write_text(rendered.text, encoding="utf-8")
        written.extend((pdf, html, text))
    return written


# -- sending ------------------------------------------------------------------------------------
class ReportChannel(Protocol):
    def send(self, message: Message) -> SendResult: ...


def open_channel(config: Config) -> ReportChannel:
    """The configured channel: ``[sending] mode = "smtp"`` sends, ``"outbox"`` writes .eml files."""
    if (config.sending.get("mode") or "outbox") == "smtp":
        from encours.sync.channels.smtp import smtp_from_config

        return smtp_from_config(config)
    from encours.sync.channels.outbox import OutboxChannel

    return OutboxChannel(config.sending.path("outbox", "outbox"))


@dataclass(frozen=True)
class ReportOutcome:
    sent: tuple[tuple[str, str], ...] = ()  # (audience, message id — or the file, in outbox mode)
    already_sent: tuple[str, ...] = ()
    without_address: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        lines = [f"Report sent: {audience} ({message_id})" for audience, message_id in self.sent]
        lines += [f"Already sent this week: {a}" for a in self.already_sent]
        lines += [f"No e-mail address, not sent: {a}" for a in self.without_address]
        return lines + list(self.notes)


def send_weekly_report(
    config: Config,
    as_of: date,
    *,
    now: datetime | None = None,
    channel: ReportChannel | None = None,
    force: bool = False,
) -> ReportOutcome:
    """Send this week's reports (the daemon calls this on ``[report] day``).

    Each audience gets its report once per as-of date; ``force`` sends again.  Raises
    :class:`ConfigError` when ``[sending] from`` is missing and :class:`ReportError` when there
    is no one to send to.
    """
    settings = report_settings(config)
    sender = config.sending.text("from", "")
    if not sender:
        raise ConfigError("is required to send the report", file=str(config.file), key="[sending] from")
    check_address(sender, what="sender ([sending] from)")
    for address in settings.recipients:
        check_address(address, what="[report] recipients")
    reports = plan_reports(config, as_of)
    if not settings.recipients and not any(r.recipients for r in reports[1:]):
        raise ReportError(f"{config.file}: [report] recipients is empty and no salesperson has an e-mail address")
    when = now or utcnow()
    week = as_of.isoformat()
    sent: list[tuple[str, str]] = []
    already: list[str] = []
    missing: list[str] = []
    delivery = channel
    opened: ReportChannel | None = None
    with StateStore(config.state_path) as store:
        done = {row[0] for row in store.db.execute("SELECT audience FROM report_sends WHERE week = ?", (week,))}
        try:
            for planned in reports:
                label = pass_text("report_company") if planned.audience == COMPANY else planned.audience
                if not planned.recipients:
                    if planned.audience != COMPANY:
                        missing.append(label)
                    continue
                if planned.audience in done and not force:
                    already.append(label)
                    continue
                rendered = render(planned.report, planned.audience, planned.recipients)
                message = rendered.message(sender=sender, sender_name=config.company_name, when=when)
                if delivery is None:
                    delivery = opened = open_channel(config)
                result = delivery.send(message)
                with store.transaction() as db:
                    db.execute(
                        "INSERT INTO report_sends (week, audience, recipients, message_id, sent_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (week, audience) DO UPDATE SET "
                        "recipients = excluded.recipients, message_id = excluded.message_id, "
                        "sent_at = excluded.sent_at",
                        (week, planned.audience, ", ".join(planned.recipients), message.message_id, when.isoformat()),
                    )
                sent.append((label, message.message_id if result.channel != "outbox" else result.detail))
        finally:
            close = getattr(opened, "close", None)
            if close is not None:
                close()
    return ReportOutcome(tuple(sent), tuple(already), tuple(missing), reports[0].report.notes)


__all__ = [
    "COMPANY",
    "PlannedReport",
    "RenderedReport",
    "ReportError",
    "ReportOutcome",
    "make_reports",
    "plan_reports",
    "render",
    "send_weekly_report",
    "write_reports",
]
