"""The end of a pass (step 6 of :mod:`encours.sync.run`): ``À faire``'s tasks reconciled and stored,
the sheet's view assembled, then the sheet written and the ledger and cursor committed together —
the cursor is never ahead of the sheet."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from encours.connectors.errors import SheetError
from encours.connectors.memory import without_cycle_collection
from encours.connectors.model import Delta
from encours.scenarios.planner import Plan
from encours.sheets_addin.view import SheetBackend, SheetView, build_view
from encours.sheets_addin.view_digest import view_digest
from encours.sheets_addin.view_texts import shared_texts
from encours.sync.journal import Entry, Journal
from encours.sync.labels import run_line
from encours.sync.pipeline import DossierState
from encours.sync.preflight import restorable_sheet
from encours.sync.risk import CLAIM_ACTION
from encours.sync.run_report import RunReport
from encours.sync.sheet_rows import journal_rows, run_columns, step_labels
from encours.sync.state import DiskFullError, StateStore
from encours.sync.task_store import TaskStore
from encours.sync.tasks import current_tasks, merged, paid_checks, reconcile, todo_rows

log = logging.getLogger(__name__)


def record_finished(store: StateStore, state: DossierState) -> None:
    """What people finished in ``À faire`` (``Fait`` ticked, ``Résultat`` understood), stored before
    anything is sent: a promise or a dispute holds from this pass on."""
    if state.tasks.changed:
        with store.transaction():
            TaskStore(store).save(state.tasks.changed)


def todo_for(store: StateStore, state: DossierState, the_plan: Plan, entries: list[Entry],
             dry_run: bool) -> list[dict[str, Any]]:
    """``À faire``'s rows: the tasks the plan and the journal call for stored (new ones get their ID,
    those encours tracks close once their cause is gone), then every task shown with its ``Suivi``."""
    tz = state.config.timezone
    open_ids = {i.id for i in state.ledger.invoices if i.is_open}
    wanted = current_tasks(the_plan, entries, state.ledger, step_labels(state.setup), tz, (CLAIM_ACTION,))
    wanted += paid_checks(state.tasks.tasks, open_ids, state.as_of)
    changes = reconcile(state.tasks.tasks, wanted, state.as_of, taken=state.tasks.marks.keys())
    if changes and not dry_run:
        with store.transaction():
            TaskStore(store).save(changes)
    tasks = merged(state.tasks.tasks, changes)
    return todo_rows(tasks, state.tasks, open_ids, state.as_of)


@without_cycle_collection  # one row per invoice, all kept for the write
def pass_view(store: StateStore, state: DossierState, the_plan: Plan, journal: Journal, entries: list[Entry],
              dry_run: bool) -> SheetView:
    """What the sheet shows after the pass: synced columns, ``Prochaine action``, ``Dernière relance``,
    ``Relances``, ``À faire`` and the registries' notes."""
    config, setup = state.config, state.setup
    return build_view(
        state.ledger, state.as_of, figures=state.figures, default_terms=config.payment_terms_days,
        company=config.company_name,
        run=run_columns(the_plan, entries, setup, config),
        journal=journal_rows(journal, setup, config),
        todo=todo_for(store, state, the_plan, entries, dry_run),
        scenario_names=tuple(sorted(setup.scenarios)),
        opening_receivables=state.kpis.opening,
        notes=tuple(state.risk.notes()),
    )


#: What sets a pass's digest of the view apart from a workbook's (which covers the aging bounds).
PASS_DIGEST = "pass"


def _sheet_stamp(backend: SheetBackend) -> str:
    path = getattr(backend, "path", None)
    if isinstance(path, Path):
        try:
            stat = path.stat()
        except OSError:
            return "missing"
        return f"{stat.st_mtime_ns}:{stat.st_size}"
    return ""


def write_sheet(store: StateStore, backend: SheetBackend, view: SheetView, delta: Delta, source: str,
                now: datetime, report: RunReport, crossed: Callable[[str], None] = lambda name: None) -> None:
    """Sheet, then ledger + cursor in one transaction; skipped when the sheet already shows this view.
    ``crossed(name)`` marks the step boundary once the sheet is written (the fault tests' failpoint).
    A sheet that cannot be written is reported (exit code 1): the journal holds the truth."""
    cache = store.cache()
    with shared_texts(view) as texts:  # the view's tables as text once: this digest, the workbook's and its prints
        fingerprint = view_digest(view, (PASS_DIGEST, view.as_of), texts)
        unchanged = (cache.get("run", "sheet_fingerprint") == fingerprint
                     and cache.get("run", "sheet_stamp") == _sheet_stamp(backend))
        try:
            with restorable_sheet(backend), store.transaction():  # a failed commit puts the old workbook back
                store.apply_delta(delta)
                if not unchanged:
                    backend.write(view)
                    report.sheet_written = True
                    crossed("after_sheet_write")
                store.set_sync_mark(source, delta.cursor, now)
                cache.put("run", "sheet_fingerprint", fingerprint)
                cache.put("run", "sheet_stamp", _sheet_stamp(backend))
        except (SheetError, OSError, DiskFullError) as exc:
            message = run_line("sheet_not_updated", error=exc)
            log.error("%s", message)
            report.problems.append(message)
