"""The rows a pass writes to the sheet from the journal: ``Relances``, and the run columns of
``Factures`` (``Prochaine action``, ``Date prochaine action``, ``Dernière relance``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from encours.scenarios.planner import CHANNEL_LABELS_FR, Plan
from encours.scenarios.setup import ScenarioSetup
from encours.sheets_addin.rows import JournalRow
from encours.sync.config import Config
from encours.sync.journal import Entry, Journal, State
from encours.sync.labels import pass_text


def journal_rows(journal: Journal, setup: ScenarioSetup, config: Config) -> list[JournalRow]:
    """``Relances``: the visible history, with the steps' and channels' names people read."""
    label = step_labels(setup)
    rows = []
    for event in journal.events(visible_only=True):
        row = event.sheet_row(config.timezone)
        if event.step:
            row["step"] = label(event.scenario, event.step)
        row["channel"] = CHANNEL_LABELS_FR.get(event.channel, event.channel)
        rows.append(row)
    return rows


def step_labels(setup: ScenarioSetup) -> Callable[[str, str], str]:
    def label(scenario: str, step: str) -> str:
        try:
            return setup.scenarios[scenario].step(step).label
        except KeyError:
            return step

    return label


def run_columns(the_plan: Plan, entries: Sequence[Entry], setup: ScenarioSetup, config: Config) -> dict[str, Any]:
    label = step_labels(setup)
    columns: dict[str, dict[str, Any]] = {k: dict(v) for k, v in the_plan.run_columns.items()}
    last: dict[str, tuple[datetime, str]] = {}
    for entry in entries:
        if entry.state not in (State.SENT, State.UNCERTAIN) or (entry.sent_at is None and entry.state is State.SENT):
            continue
        when = entry.sent_at or entry.updated_at
        local = when.astimezone(config.timezone)
        channel = CHANNEL_LABELS_FR.get(entry.channel, entry.channel)
        text = pass_text("last_reminder", day=local, step=label(entry.scenario, entry.step), channel=channel)
        if entry.state is State.UNCERTAIN:
            text += pass_text("last_reminder_uncertain")
        for invoice_id in entry.invoice_ids:
            if invoice_id not in last or last[invoice_id][0] < when:
                last[invoice_id] = (when, text)
    for invoice_id, (_, text) in last.items():
        columns.setdefault(invoice_id, {"next_action": None, "next_action_date": None})["last_reminder"] = text
    for row in columns.values():
        row.setdefault("last_reminder", None)
    return columns
