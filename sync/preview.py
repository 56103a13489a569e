"""``encours preview -c encours.toml INVOICE_OR_CUSTOMER``: the next reminder, exactly as it would go.

The target is an invoice (ID or number) or a customer (ID or name).  The plan is made as the run
would make it — the synced ledger from the state store, the marks read from the sheet, the journal's
done steps — as of today; when nothing is due today, as of the date of the target's next action.
Each message is rendered by :func:`encours.scenarios.render.render` (the very function the run uses) and
printed; ``--out DIR`` also writes it as the outbox would (``.eml`` / ``.pdf``) plus an ``.html``.
Nothing is sent and nothing is recorded.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from encours.connectors.errors import EncoursError
from encours.connectors.model import Ledger
from encours.scenarios.company import CompanySettings, company_from_config
from encours.scenarios.planner import Plan, PlannedAction, Skip, StepKey, plan
from encours.scenarios.render import PdfFetcher, render
from encours.scenarios.setup import ScenarioSetup, scenarios_from_config
from encours.sheets_addin.marks import SheetMarks
from encours.sync.channels.message import Message
from encours.sync.channels.outbox import OutboxChannel
from encours.sync.config import Config

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


def preview_plan(
    ledger: Ledger,
    marks: SheetMarks,
    setup: ScenarioSetup,
    company: CompanySettings,
    target_text: str,
    as_of: date,
    *,
    done: Mapping[StepKey, date] | None = None,
    profiles: Mapping[str, str] | None = None,
    in_recovery: frozenset[str] = frozenset(),
    used_approvals: frozenset[str] = frozenset(),
    fetch_pdf: PdfFetcher | None = None,
) -> Preview:
    """Render the target's next reminder(s) without sending or recording anything."""
    target = find_target(ledger, target_text)
    done = dict(done or {})

    def planned(day: date) -> Plan:
        return plan(ledger, marks, setup.scenarios, day, done=done, company=company, profiles=profiles or {},
                    profile_scenarios=setup.profile_scenarios, default_scenario=setup.default,
                    in_recovery=in_recovery, used_approvals=used_approvals)

    result = planned(as_of)
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
            result = planned(day)
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
        scenario = setup.scenarios[action.scenario]
        message = render(action, scenario, ledger, company, as_of=day, fetch_pdf=fetch_pdf)
        out.messages.append((action, message))
    if not customer_ids and not out.skips and not out.next_action:
        out.notes.append("no reminder is planned for it")
    return out


def preview(config: Config, target_text: str, *, as_of: date, sheet_marks: SheetMarks | None = None,
            fetch_pdf: PdfFetcher | None = None) -> Preview:
    """Preview from a dossier's configuration: its state store, sheet and journal."""
    from encours.sync.state import StateStore

    setup = scenarios_from_config(config)
    company = company_from_config(config)
    notes: list[str] = []
    with StateStore(config.state_path) as store:
        ledger = store.ledger()
        if not ledger.invoices:
            raise PreviewError(f"{config.state_path}: nothing synced yet — run `encours sync -c {config.file.name}` "
                               "first")
        done: dict[StepKey, date] = {}
        used: frozenset[str] = frozenset()
        recovery: frozenset[str] = frozenset()
        try:
            from encours.sync.journal import Journal

            journal = Journal(store, config.dossier, tz=config.timezone)
            done = journal.done()
            used = frozenset(journal.used_approvals())
            recovery = frozenset(journal.in_recovery())
        except ImportError:  # pragma: no cover - the journal ships with the run
            notes.append("no journal: every step is shown as never sent")
    marks = sheet_marks
    if marks is None:
        try:
            from encours.sync.pull import open_sheet

            marks = open_sheet(config).read_marks()
        except EncoursError as exc:
            notes.append(f"the sheet could not be read ({exc}): its marks are ignored")
            marks = SheetMarks()
    from encours.sync.pull import customer_figures

    profiles = {cid: fig.profile for cid, fig in customer_figures(ledger, as_of).items()
                if fig.profile and fig.enough_history}
    result = preview_plan(ledger, marks, setup, company, target_text, as_of, done=done, profiles=profiles,
                          in_recovery=recovery, used_approvals=used, fetch_pdf=fetch_pdf)
    result.notes[:0] = notes
    return result


def describe(result: Preview) -> list[str]:
    """The preview as lines for the terminal."""
    lines: list[str] = []
    for note in result.notes:
        lines.append(f"Note: {note}")
    if result.next_action:
        lines.append(f"Prochaine action : {result.next_action}")
    for skip in result.skips:
        lines.append(f"Pas de relance ({skip.target}) : {skip.detail}")
    for action, message in result.messages:
        lines.append("")
        lines.append("=" * 78)
        state = "automatique" if not action.needs_approval else (
            "approuvée" if action.approved else "en attente d'approbation (À envoyer)")
        lines.append(f"{action.scenario} / {action.step.label} — {action.channel} — {state} — "
                     f"prévue le {action.planned_date:%d/%m/%Y} (aperçu au {result.as_of:%d/%m/%Y})")
        if action.reason:
            lines.append(f"Note : {action.reason}")
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


# -- the command --------------------------------------------------------------------------------
def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from encours.sync.commands.common import add_as_of_argument, add_config_argument

    parser = sub.add_parser(
        "preview",
        help="render the next reminder of an invoice or a customer exactly as it would be sent",
        description="Render the next reminder of an invoice (ID or number) or a customer (ID or name) "
        "exactly as the run would send it — recipients, subject, text, attachments, letter. "
        "Sends nothing, records nothing.",
    )
    add_config_argument(parser)
    parser.add_argument("target", metavar="INVOICE_OR_CUSTOMER")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="also write the message files (.eml, .pdf, .html) into DIR")
    add_as_of_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, *, printer: Callable[[str], None] = print) -> int:
    from encours.sync.commands.common import load, today

    config = load(args.config)
    result = preview(config, args.target, as_of=args.as_of or today(config))
    for line in describe(result):
        printer(line)
    if args.out is not None:
        for path in write_files(result, args.out):
            printer(f"written: {path}")
    if not result.messages:
        printer("Aucun message à prévisualiser.")
    return 0
