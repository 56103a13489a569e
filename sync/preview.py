"""``encours preview -c encours.toml INVOICE_OR_CUSTOMER``: the next reminder, exactly as it would go.

The target is an invoice (ID or number) or a customer (ID or name).  The plan is made as the run
would make it — the synced ledger from the state store, the marks read from the sheet, the journal's
done steps — as of today; when nothing is due today, as of the date of the target's next action.
Each message is rendered by :func:`encours.scenarios.render.render` (the very function the run uses) and
printed; ``--out DIR`` also writes it as the outbox would (``.eml`` / ``.pdf``) plus an ``.html``.
Nothing is sent and nothing is recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from encours.connectors.errors import EncoursError
from encours.connectors.memory import collected_after
from encours.connectors.model import Ledger
from encours.scenarios.message import Message
from encours.scenarios.planner import PlannedAction, Skip
from encours.scenarios.render import PdfFetcher, render
from encours.sheets_addin.marks import SheetMarks
from encours.sync.channels.outbox import OutboxChannel
from encours.sync.config import Config
from encours.sync.dispatch import attachments, pdf_fetcher
from encours.sync.labels import pass_text
from encours.sync.pipeline import DossierState, assemble, plan_for
from encours.sync.pull import open_sheet
from encours.sync.sources import open_connector
from encours.sync.state import StateStore

log = logging.getLogger(__name__)


class PreviewError(EncoursError):
    """Nothing to preview: an unknown target, or no synced data yet."""

    exit_code = 2


@dataclass
class Preview:
    target: str
    as_of: date
    messages: list[tuple[PlannedAction, Message]] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    next_action: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    customer_id: str
    invoice_id: str = ""  # empty: the whole customer


def find_target(ledger: Ledger, text: str) -> Target:
    """An invoice by ID or number, else a customer by ID or name (case-insensitive)."""
    wanted = text.strip()
    folded = wanted.casefold()
    for invoice in ledger.invoices:
        if invoice.id == wanted or invoice.number == wanted:
            return Target(invoice.customer_id, invoice.id)
    for invoice in ledger.invoices:
        if invoice.number.casefold() == folded:
            return Target(invoice.customer_id, invoice.id)
    for customer in ledger.customers:
        if customer.id == wanted or customer.name.casefold() == folded:
            return Target(customer.id)
    matches = [c for c in ledger.customers if folded and folded in c.name.casefold()]
    if len(matches) == 1:
        return Target(matches[0].id)
    if len(matches) > 1:
        names = ", ".join(sorted(c.name for c in matches)[:8])
        raise PreviewError(f"{text!r} matches several customers ({names}): give the customer's ID")
    raise PreviewError(f"{text!r} is neither an invoice (ID or number) nor a customer (ID or name) of the ledger")


def _concerns(action: PlannedAction, target: Target) -> bool:
    if target.invoice_id:
        return target.invoice_id in action.invoice_ids
    return action.customer_id == target.customer_id


def preview_plan(state: DossierState, target_text: str, *, fetch_pdf: PdfFetcher | None = None) -> Preview:
    """Render the target's next reminder(s) from the dossier's state, as the run would, without
    sending or recording anything.  When nothing is due on the state's date, the preview moves to
    the date of the target's next action."""
    ledger = state.ledger
    as_of = state.as_of
    target = find_target(ledger, target_text)
    result = plan_for(state)
    day = as_of
    actions = [a for a in result.actions if _concerns(a, target)]
    invoice_ids = [target.invoice_id] if target.invoice_id else [
        i.id for i in ledger.invoices if i.customer_id == target.customer_id]
    upcoming = sorted((result.next_actions[i] for i in invoice_ids if i in result.next_actions
                       and result.next_actions[i].date is not None),
                      key=lambda n: n.date or as_of)
    if not actions and upcoming:
        nxt = upcoming[0]
        if nxt.date is not None and nxt.date > as_of:
            day = nxt.date
            result = plan_for(state, day=day)
            actions = [a for a in result.actions if _concerns(a, target)]
    out = Preview(target_text, day)
    if upcoming:
        first = upcoming[0]
        out.next_action = f"{first.label} — {first.date:%d/%m/%Y}" if first.date else first.label
    elif target.invoice_id and target.invoice_id in result.next_actions:
        out.next_action = result.next_actions[target.invoice_id].label
    out.skips = [s for s in result.skips if s.target in (*invoice_ids, target.customer_id)]
    customer_ids = {a.customer_id for a in actions}
    for action in actions:
        scenario = state.setup.scenarios[action.scenario]
        message = render(action, scenario, ledger, state.company, as_of=day, fetch_pdf=fetch_pdf)
        out.messages.append((action, message))
    if not customer_ids and not out.skips and not out.next_action:
        out.notes.append("no reminder is planned for it")
    return out


@collected_after  # a command of its own, or the demo's days
def preview(config: Config, target_text: str, *, as_of: date, now: datetime | None = None,
            sheet_marks: SheetMarks | None = None, fetch_pdf: PdfFetcher | None = None) -> Preview:
    """Preview from a dossier's configuration: the same assembled state and plan as the run — the
    ledger as last synced, the sheet's marks, the journal, the registry risk — and the invoice PDFs
    attached the way the run attaches them."""
    notes: list[str] = []
    marks = sheet_marks
    if marks is None:
        try:
            marks = open_sheet(config).read_marks()
        except EncoursError as exc:
            notes.append(f"the sheet could not be read ({exc}): its marks are ignored — the run would stop")
            marks = SheetMarks()
    moment = now or datetime.combine(as_of, time(12), tzinfo=config.timezone)
    with StateStore(config.state_path) as store:
        if not store.ledger().invoices:
            raise PreviewError(f"{config.state_path}: nothing synced yet — run `encours sync -c {config.file.name}` "
                               "first")
        state = assemble(config, store, as_of=as_of, now=moment, marks=marks)
        if fetch_pdf is None:
            fetch_pdf = _source_pdf_fetcher(config, store, as_of)
        result = preview_plan(state, target_text, fetch_pdf=fetch_pdf)
    result.notes[:0] = notes
    return result


def _source_pdf_fetcher(config: Config, store: StateStore, as_of: date) -> PdfFetcher:
    """The run's way of reading invoice PDFs (the connector's, else an HTTPS download)."""
    try:
        connector = open_connector(config, store.cache(), as_of=as_of)
    except EncoursError as exc:
        log.info("invoice PDFs read by plain download: %s", exc)
        connector = None
    return attachments(pdf_fetcher(connector))


def describe(result: Preview) -> list[str]:
    """The preview as lines for the terminal."""
    lines: list[str] = []
    for note in result.notes:
        lines.append(f"Note: {note}")
    if result.next_action:
        lines.append(pass_text("preview_next", action=result.next_action))
    for skip in result.skips:
        lines.append(pass_text("preview_skip", target=skip.target, detail=skip.detail))
    for action, message in result.messages:
        lines.append("")
        lines.append("=" * 78)
        state = pass_text("preview_automatic") if not action.needs_approval else (
            pass_text("preview_approved") if action.approved else pass_text("preview_waiting"))
        planned = pass_text("preview_planned", planned=action.planned_date, as_of=result.as_of)
        lines.append(f"{action.scenario} / {action.step.label} — {action.channel} — {state} — {planned}")
        if action.reason:
            lines.append(pass_text("preview_note", note=action.reason))
        lines.append("=" * 78)
        if message.is_email:
            lines.append(f"From: {message.sender_name} <{message.sender}>")
            lines.append(f"To: {', '.join(message.to)}")
            if message.cc:
                lines.append(f"Cc: {', '.join(message.cc)}")
            if message.bcc:
                lines.append(f"Bcc: {', '.join(message.bcc)}")
            if message.reply_to:
                lines.append(f"Reply-To: {message.reply_to}")
        lines.append(f"Subject: {message.subject}")
        lines.append(f"Message-ID: {message.message_id}")
        lines.append(f"Language: {message.language}")
        lines.append("")
        lines.append(message.text)
        for attachment in message.attachments:
            size = len(attachment.content)
            lines.append(f"[attachment] {attachment.filename} ({attachment.mime_type}, {size} bytes)")
        if message.letter is not None:
            lines.append(f"[letter PDF] {len(message.letter)} bytes")
    return lines


def write_files(result: Preview, folder: Path) -> list[Path]:
    """Write each previewed message as the outbox would, plus the HTML part for a browser."""
    outbox = OutboxChannel(folder)
    written: list[Path] = []
    for _, message in result.messages:
        if message.channel == "call":
            path = folder / f"{message.file_stem}.txt"
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(message.subject + "\n\n" + message.text + "\n", encoding="utf-8")
            written.append(path)
            continue
        if message.is_email and not message.to:
            continue
        written.append(Path(outbox.send(message).detail))
        if message.html:
            html = folder / f"{message.file_stem}.html"
            html.write_text(message.html, encoding="utf-8")
            written.append(html)
    return written
