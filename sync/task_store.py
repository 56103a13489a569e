"""The tasks of ``À faire``, kept in the state store: each with its ID, what it is about, and — once a
person ticked ``Fait`` — the outcome typed, the day it was typed and when encours recorded it.

The sheet's rows leave when people delete them; the store keeps every task and outcome (the
audit of "who promised what, when").  A task is ``open`` until a person ticks ``Fait`` (``done``)
or, for the work encours itself tracks (an approval, a send to confirm, a refund to check), until
its cause is gone (``resolved``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from encours.sync.task_schema import TASKS_MIGRATION

if TYPE_CHECKING:
    from encours.sync.state import StateStore

__all__ = ["DONE", "OPEN", "RESOLVED", "TASKS_MIGRATION", "Task", "TaskStore"]

OPEN, DONE, RESOLVED = "open", "done", "resolved"


@dataclass(frozen=True)
class Task:
    """One task.  ``row``: what ``À faire`` shows (layout TODO keys, amount as text)."""

    id: str
    natural_key: str  # what makes it this task and no other (a journal reference, an approval's key …)
    kind: str  # call, letter, formal_notice, call_back, call_again, dispute, paid_check, approval …
    customer_id: str
    invoice_ids: tuple[str, ...]
    due: date  # the day it shows in À faire
    row: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""  # the task whose outcome created it
    attempt: int = 1  # call attempts so far (unreachable → a new attempt)
    status: str = OPEN
    created_on: date | None = None
    closed_on: date | None = None
    result: str = ""  # as typed
    outcome: str = ""  # an OutcomeKind value
    outcome_date: date | None = None
    follow_up: str = ""  # what encours did with it, shown in Suivi
    recorded_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class TaskStore:
    """Reads and writes the ``tasks`` table of a state store (the caller holds the transaction)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def all(self) -> list[Task]:
        rows = self.store.db.execute(
            "SELECT id, natural_key, kind, customer_id, invoice_ids, due, row, origin, attempt, status, created_on, "
            "closed_on, result, outcome, outcome_date, follow_up, recorded_at FROM tasks ORDER BY id").fetchall()
        return [Task(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), date.fromisoformat(r[5]), _row(r[6]), r[7],
                     int(r[8]), r[9], _day(r[10]), _day(r[11]), r[12], r[13], _day(r[14]), r[15],
                     datetime.fromisoformat(r[16]) if r[16] else None) for r in rows]

    def save(self, tasks: Iterable[Task]) -> None:
        """Insert or replace each task (by ID)."""
        self.store.db.executemany(
            "INSERT OR REPLACE INTO tasks (id, natural_key, kind, customer_id, invoice_ids, due, row, origin, attempt, "
            "status, created_on, closed_on, result, outcome, outcome_date, follow_up, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(t.id, t.natural_key, t.kind, t.customer_id, json.dumps(list(t.invoice_ids)), t.due.isoformat(),
              json.dumps(dict(t.row), default=_json_default, ensure_ascii=False), t.origin, t.attempt, t.status,
              (t.created_on or t.due).isoformat(), t.closed_on.isoformat() if t.closed_on else None, t.result,
              t.outcome, t.outcome_date.isoformat() if t.outcome_date else None, t.follow_up,
              t.recorded_at.isoformat() if t.recorded_at else None) for t in tasks])


def _row(text: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(text)
    if isinstance(row.get("date"), str):
        row["date"] = date.fromisoformat(row["date"])
    return row
