"""``encours run``: one whole pass — sync, plan, re-check, send, journal, sheet — exactly once.

The order, and why:

1. take the dossier's lock (:mod:`encours.sync.lock`); rows a dead pass left ``sending`` become
   ``uncertain`` (never resent blindly: a person confirms, see :func:`confirm`);
2. pull the changes from the source (nothing written yet);
3. read what people marked in the sheet (``À envoyer``, disputes, promises…) — an unreadable
   sheet stops the pass before anything is sent;
4. plan on the ledger with the changes applied (in a transaction rolled back: the ledger and the
   cursor are committed only with the sheet, as in :mod:`encours.sync.pull`);
5. for each action due and approved, within the sending window: re-read its invoices at the
   source (a payment since the last sync cancels it), render it, commit ``sending``, hand it to
   the channel, commit ``sent`` (or ``failed`` with the reason);
6. write the sheet (synced columns, ``Prochaine action``, ``Dernière relance``, ``Relances``,
   ``À faire``: :mod:`encours.sync.sheet_step`), then commit the ledger and the cursor together —
   the cursor is never ahead of the sheet.  A sheet that cannot be written is reported (exit code
   1); the journal already holds the truth and the next pass writes it.

``dry_run`` does 1–4 and the re-check, renders what would go out, and changes nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from encours.connectors.base import Connector
from encours.connectors.errors import ConfigError, EncoursError, SourceError
from encours.connectors.memory import collected_after
from encours.connectors.model import Invoice, Ledger
from encours.connectors.quarantine import quarantine_notes
from encours.scenarios.grouping import keep_net
from encours.scenarios.loader import Scenario
from encours.scenarios.message import Channel, ChannelError, UncertainSendError
from encours.scenarios.planner import (
    REASONS_FR,
    Plan,
    PlannedAction,
    StepKey,
    recheck,
    valid_email,
)
from encours.scenarios.render import rechecked_ledger, render
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import SheetBackend
from encours.sync.clock import pass_clock
from encours.sync.company import company_settings, scenarios_for
from encours.sync.config import Config
from encours.sync.dispatch import (
    Dispatcher,
    PdfFetch,
    attachments,
    message_bytes,
    open_channels,
    pdf_fetcher,
)
from encours.sync.journal import MAX_ATTEMPTS, Dispatch, Journal, JournalError, State, reference_for
from encours.sync.journal_entries import by_message
from encours.sync.labels import pass_text, run_line
from encours.sync.lock import DossierLock
from encours.sync.pipeline import DossierState, assemble, plan_for, refetch
from encours.sync.preflight import (
    owner_of,
    read_marks_guarded,
    refuse_sudden_empty,
    require_writable,
)
from encours.sync.pull import open_sheet, sheet_label, summarise
from encours.sync.redact import secret_values
from encours.sync.run_report import RunReport, entry_outcome, outcome
from encours.sync.sheet_rows import step_labels
from encours.sync.sheet_step import pass_view, record_finished, write_sheet
from encours.sync.sources import open_connector
from encours.sync.state import StateStore
from encours.sync.unchanged import next_registry_check, pass_inputs, remember, unchanged_report, valid_until
from encours.sync.window import window_state

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
StopFlag = Callable[[], bool]

#: Environment variable of the fault tests: the process exits (``os._exit``) at that boundary.
FAILPOINT_ENV = "ENCOURS_FAILPOINT"
FAILPOINT_TRACE_ENV = "ENCOURS_FAILPOINT_TRACE"
FAILPOINT_EXIT_CODE = 86

_crossed = 0


def failpoint(name: str) -> None:
    """A step boundary of the pass.  Fault tests set ``ENCOURS_FAILPOINT=N`` to die at the N-th."""
    global _crossed
    target = os.environ.get(FAILPOINT_ENV)
    trace = os.environ.get(FAILPOINT_TRACE_ENV)
    if not target and not trace:
        return
    _crossed += 1
    if trace:
        with open(trace, "a", encoding="utf-8") as out:
            out.write(f"{_crossed} {name}\n")
    if target and target.isdigit() and int(target) == _crossed:
        os._exit(FAILPOINT_EXIT_CODE)


@dataclass
class _Context:
    """A pass under way: the assembled dossier, the source to re-check at, what the pass reports."""

    state: DossierState
    connector: Connector
    report: RunReport
    fetch_pdf: PdfFetch | None = None
    recheck_ids: tuple[str, ...] = ()  # every invoice the pass is about to remind
    rechecked: dict[str, Invoice | None] | None = None

    @property
    def journal(self) -> Journal:
        return self.state.journal

    @property
    def now(self) -> datetime:
        return self.state.now

    @property
    def as_of(self) -> date:
        return self.state.as_of

    @property
    def ledger(self) -> Ledger:
        return self.state.ledger

    @property
    def marks(self) -> SheetMarks:
        return self.state.marks


def _refetch(ctx: _Context, action: PlannedAction) -> dict[str, Invoice | None]:
    """The action's invoices as the source has them now.  The first call reads every invoice the
    pass is about to remind, in one or a few requests (or one read of a file); the later ones use it."""
    if ctx.rechecked is None or any(i not in ctx.rechecked for i in action.invoice_ids):
        ctx.rechecked = refetch(ctx.connector, dict.fromkeys((*ctx.recheck_ids, *action.invoice_ids)),
                                known={i.id: i for i in ctx.ledger.invoices})
    return {i: ctx.rechecked[i] for i in action.invoice_ids}


def _skip_dispatch(action: PlannedAction, keys: Iterable[StepKey]) -> Dispatch:
    wanted = set(keys)
    base = Dispatch.from_action(action)
    items = [i for i in action.items if any(k.target == i.invoice_id for k in wanted) or
             any(k.level == "account" for k in wanted)]
    return replace(base, keys=tuple(sorted(wanted)), invoice_ids=tuple(i.invoice_id for i in items),
                   invoice_numbers=tuple(i.number or i.invoice_id for i in items))


def _send_one(ctx: _Context, action: PlannedAction, dispatcher: Dispatcher | None, dry_run: bool) -> bool:
    """Re-check, render, journal ``sending``, deliver, journal ``sent``/``failed`` — one action.

    Returns False when the source could not be re-read (the caller stops sending for this pass).
    """
    report = ctx.report
    journal = ctx.journal
    try:
        fresh = _refetch(ctx, action)
    except (SourceError, OSError) as exc:
        reason = pass_text("recheck_failed", error=exc)
        log.warning("%s %s: not sent, %s", action.customer_name, action.step.id, reason)
        if not dry_run:
            journal.failed(Dispatch.from_action(action), ctx.now, reason)
        report.failed.append(outcome(action, journal.dossier, reason))
        return False
    failpoint("after_recheck")
    checked = keep_net(action, recheck(action, fresh))
    dropped = set(action.step_keys) - set(checked.step_keys if checked is not None else ())
    if dropped:
        reason = pass_text("closed_at_source")
        if not dry_run:
            journal.skipped(_skip_dispatch(action, dropped), ctx.now, reason)
        closed = pass_text("closed_count", count=len(dropped), reason=reason)
        report.skipped.append(outcome(action, journal.dossier, closed))
        log.info("%s %s: %d invoice(s) no longer due at the source", action.customer_name, action.step.id,
                 len(dropped))
    if checked is None:
        return True
    action = checked
    scenario: Scenario = ctx.state.setup.scenarios[action.scenario]
    dispatch = Dispatch.from_action(action)

    try:
        message = render(action, scenario, rechecked_ledger(ctx.ledger, fresh), ctx.state.company,
                         as_of=ctx.as_of, fetch_pdf=attachments(ctx.fetch_pdf),
                         sent_at=ctx.now)
        filename, content = message_bytes(message)
    except (EncoursError, ValueError) as exc:
        reason = pass_text("unrenderable", error=exc)
        log.warning("%s %s: %s", action.customer_name, action.step.id, reason)
        if not dry_run:
            journal.failed(dispatch, ctx.now, reason)
        report.failed.append(outcome(action, journal.dossier, reason))
        return True
    if dry_run or dispatcher is None:
        report.would_send.append(outcome(action, journal.dossier, message.subject,
                                          (*message.to, *message.cc)))
        return True
    try:
        journal.begin(dispatch, ctx.now, message_id=message.message_id, content=content, filename=filename)
    except JournalError as exc:  # a key was sent meanwhile: never twice
        log.error("%s", exc)
        report.skipped.append(outcome(action, journal.dossier, str(exc)))
        return True
    failpoint("after_sending_committed")
    try:
        result = dispatcher.deliver(message)
    except UncertainSendError as exc:
        failpoint("after_send_uncertain")
        journal.uncertain(dispatch, ctx.now, str(exc))
        log.error("%s %s: outcome unknown — %s", action.customer_name, action.step.id, exc)
        report.problems.append(run_line("uncertain_send", reference=reference_for(journal.dossier, dispatch.action_key),
                                        customer=action.customer_name, error=exc))
        return True
    except ChannelError as exc:
        failpoint("after_send_failed")
        journal.failed(dispatch, ctx.now, str(exc))
        log.warning("%s %s: not sent — %s", action.customer_name, action.step.id, exc)
        report.failed.append(outcome(action, journal.dossier, str(exc)))
        return True
    failpoint("after_delivered")
    approvals = [i for i in action.invoice_ids if action.needs_approval and ctx.marks.for_invoice(i).approve]
    journal.sent(dispatch, ctx.now, artifact=result.detail if result.channel == "outbox" else
                 f"{result.channel}: {result.detail}".strip(), approvals=approvals)
    failpoint("after_sent_committed")
    result_line = outcome(action, journal.dossier, result.detail if result.channel == "outbox" else "",
                       message.to if message.is_email else ())
    (report.tasks if result.channel == "task" else report.sent).append(result_line)
    log.info("sent %s %s to %s (%s)", action.customer_name, action.step.id,
             ", ".join(message.to) or result.channel, message.message_id)
    return True



@collected_after  # a daemon runs pass after pass in one process: what a pass hid from the collector goes back
def run_pass(
    config: Config,
    *,
    as_of: date,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
    connector: Connector | None = None,
    sheet: SheetBackend | None = None,
    channel: Channel | None = None,
    stop: StopFlag | None = None,
    fetch_pdf: PdfFetch | None = None,
    new_sheet: bool = False,
    allow_empty: bool = False,
) -> RunReport:
    """One whole pass (see the module docstring).  ``now`` is aware; ``as_of`` the company's day.

    ``channel`` replaces the e-mail channel of ``[sending]`` (tests, the demo); letters always go
    to the outbox folder.  ``fetch_pdf(url)`` reads an invoice's PDF to attach it (default: the
    connector's ``fetch_pdf`` when it has one, else an HTTPS download with certificates verified).
    ``stop()`` is asked between two messages: when it answers true, the
    pass finishes the message under way, writes the sheet and returns.  ``new_sheet`` starts an
    empty sheet when the one of a dossier that synced before is missing; ``allow_empty`` accepts a
    full export with no open invoice (see :mod:`encours.sync.preflight`).
    Raises on what stops the pass before anything is sent: configuration, lock, state file,
    source unreachable, sheet unreadable.
    """
    say = progress or (lambda message: None)
    now = pass_clock(as_of, now, config.timezone)  # one clock per pass: its as-of day (the journal adds the wall clock)
    should_stop = stop or (lambda: False)
    setup = scenarios_for(config)  # invalid scenarios stop everything before anything is sent
    company = company_settings(config)
    if not valid_email(company.sender):
        raise ConfigError(run_line("bad_sender", sender=company.sender),
                          file=str(config.file), key="[sending] from")
    backend = sheet or open_sheet(config)
    if not dry_run:
        require_writable(backend)  # an unwritable workbook is found before anything is sent
    report = RunReport(config.dossier, as_of, dry_run)
    with DossierLock(config.state_path, config.dossier), \
            StateStore(config.state_path, owner=owner_of(config)) as store:
        journal = Journal(store, config.dossier, secrets=secret_values(config.raw, config.company.environ),
                          tz=config.timezone)
        if not dry_run:
            recovered = journal.recover(now)
            if recovered:
                log.warning("%d journal row(s) uncertain: a previous pass stopped between sending and recording",
                            len(recovered))
        failpoint("after_recover")
        source = connector or open_connector(config, store.cache(), as_of=as_of)
        mark = store.sync_mark(source.source)
        say(run_line("pulling", source=source.source))
        delta = source.pull(None if mark is None else mark.cursor)
        refuse_sudden_empty(delta, store, source.source, allow_empty=allow_empty)
        failpoint("after_pull")
        before = pass_inputs(config, store, backend, source=source.source, as_of=as_of, flags=(new_sheet, allow_empty))
        if not dry_run and unchanged_report(store, before, delta, report, now) is not None:
            report.window = window_state(config, now)
            with store.transaction():
                store.set_sync_mark(source.source, delta.cursor, now)
            return report  # a fixpoint of the last pass: it would plan, check and write the same nothing
        say(run_line("reading_sheet"))
        marks = read_marks_guarded(backend, store, sheet_label(config), new_sheet=new_sheet)
        failpoint("after_marks")
        state = assemble(config, store, as_of=as_of, now=now, marks=marks, delta=delta, source=source.source,
                         refresh_risk=not dry_run)
        ledger = state.ledger
        if not dry_run:
            record_finished(store, state)
        ctx = _Context(state, source, report, fetch_pdf or pdf_fetcher(source))
        used = journal.used_approvals()
        cleared = {i for i in used if not marks.for_invoice(i).approve}
        if cleared and not dry_run:
            journal.forget_approvals(cleared)
        used -= cleared
        say(run_line("planning"))
        the_plan = plan_for(state, used_approvals=used, keep=not dry_run)
        _record_plan_skips(ctx, the_plan, dry_run)
        window = window_state(config, now)
        report.window = window
        blocked = journal.blocked(now)
        due: list[PlannedAction] = []
        for action in the_plan.actions:
            if not action.sendable:
                report.waiting_approval.append(outcome(action, journal.dossier, action.reason))
            elif any(k in blocked for k in action.step_keys):
                entry = next(blocked[k] for k in action.step_keys if k in blocked)
                when = (pass_text("retry_after", at=entry.retry_at.astimezone(config.timezone))
                        if entry.attempts < MAX_ATTEMPTS and entry.retry_at else pass_text("given_up"))
                report.held.append(outcome(action, journal.dossier, pass_text("held", reason=entry.reason, when=when)))
            elif not window.open:
                report.deferred.append(outcome(action, journal.dossier, window.note))
            else:
                due.append(action)
        if not dry_run and due:
            journal.plan([Dispatch.from_action(a) for a in due], now)
        failpoint("after_planned")
        dispatcher = None if dry_run else open_channels(config, channel)
        try:
            ctx.recheck_ids = tuple(dict.fromkeys(i for a in due for i in a.invoice_ids))
            for index, action in enumerate(due):
                if should_stop():
                    report.stopped = True
                    stopped = pass_text("stop_requested")
                    report.deferred.extend(outcome(a, journal.dossier, stopped) for a in due[index:])
                    break
                say(run_line("would_send" if dry_run else "sending", index=index + 1, count=len(due),
                             customer=action.customer_name, step=action.step.label))
                if not _send_one(ctx, action, dispatcher, dry_run):
                    note = pass_text("source_unreachable")
                    report.deferred.extend(outcome(a, journal.dossier, note) for a in due[index + 1:])
                    break
        finally:
            if dispatcher is not None:
                dispatcher.close()
        final_plan = plan_for(state, keep=True) if (report.sent or report.tasks) else the_plan
        entries = journal.entries()
        for group in by_message(e for e in entries if e.state is State.UNCERTAIN).values():
            report.uncertain.append(entry_outcome(group, step_labels(setup)))
        if dry_run:
            for group in by_message(e for e in entries if e.state is State.SENDING).values():
                report.uncertain.append(entry_outcome(group, step_labels(setup)))
        view = pass_view(store, state, final_plan, journal, entries, dry_run)
        summary = summarise(view, ledger, source.source, delta.full, sheet_label(config))
        report.sync_lines = [*summary.lines(), *quarantine_notes(source), *state.tasks.lines()]
        if dry_run:
            return report
        write_sheet(store, backend, view, delta, source.source, now, report, crossed=failpoint)
        failpoint("after_sheet")
        after = pass_inputs(config, store, backend, source=source.source, as_of=as_of, flags=(new_sheet, allow_empty))
        remember(store, before, after, delta, report,
                 valid_until(report, next_registry_check(config, store, ledger.customers, now)))
    return report


def _record_plan_skips(ctx: _Context, the_plan: Plan, dry_run: bool) -> None:
    """Skips the planner tied to a step (e.g. a thank-you without address): journaled once."""
    customers = ctx.ledger.customer_index()
    invoices = {i.id: i for i in ctx.ledger.invoices}
    for skip in the_plan.skips:
        key = skip.step_key
        if key is None:
            continue
        customer = customers.get(skip.customer_id)
        invoice = invoices.get(key.target) if key.level == "invoice" else None
        dispatch = Dispatch((key,), skip.customer_id, customer.name if customer else skip.customer_id, key.scenario,
                            key.step, "", (invoice.id,) if invoice else (), (invoice.number,) if invoice else (),
                            None, (), ctx.as_of)
        detail = skip.detail or REASONS_FR.get(skip.reason, skip.reason)
        if not dry_run:
            ctx.journal.skipped(dispatch, ctx.now, detail)
