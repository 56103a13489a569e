"""The ``À faire`` tab: the work people finish — calls, letters, approvals, sends to confirm, refunds.

Every task has an ID (``T-0001``) kept in the state store (:mod:`encours.sync.task_store`), so its
row is matched by ID like an invoice's: people sort and filter, and their ``Fait`` and
``Résultat`` stay with it.  Where tasks come from:

- a call, letter or formal notice published by a pass (a call says what to say: the amount, the
  invoices and the reminders already sent) — work a person finishes: it stays open until ``Fait``
  is ticked, even once its invoices are paid (``Suivi`` then says there is nothing left to ask);
- what a ``Résultat`` calls for (:mod:`encours.sync.task_book`): a call back, a new attempt, a
  dispute to follow, a payment announced that did not come;
- work encours tracks itself: a step waiting for approval, a send to confirm or given up after
  its retries, a refund to check, a claim to declare — open while its cause lasts (or until
  ``Fait``), then closed as "réglé".

A closed task's row stays, ticked, with what was recorded in ``Suivi``: delete it whenever you
like (a closed task never comes back; an open task whose row was deleted does, at the end).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from encours.connectors.model import Ledger
from encours.scenarios.formatting import format_money
from encours.scenarios.labels import todo_text
from encours.scenarios.planner import CHANNEL_LABELS_FR, Plan
from encours.sync.journal import MAX_ATTEMPTS, Entry, State
from encours.sync.journal_entries import by_message
from encours.sync.task_book import PAID_HOLD_DAYS, TaskBook, give_ids
from encours.sync.task_labels import TASK_ACTIONS_FR, task_action, task_text
from encours.sync.task_store import OPEN, RESOLVED, Task

#: The journal's channels that are work for a person, and the ``Action`` of their task.
TASK_ACTIONS = {channel: TASK_ACTIONS_FR[channel] for channel in ("call", "letter", "formal_notice")}
#: Rows of the plan's own ``todo`` that go to ``À faire`` as they are.
PLAN_ACTIONS = (todo_text("refund"),)
#: Kinds of task a person finishes (the others close by themselves once their cause is gone).
PERSON_KINDS = frozenset({"call", "letter", "formal_notice", "call_back", "call_again", "dispute", "paid_check"})


def _step_and_channel(label: str, channel: str) -> str:
    shown = CHANNEL_LABELS_FR.get(channel, channel)
    return label if shown.casefold() == label.casefold() else f"{label} ({shown})"


def _said_so_far(group: Sequence[Entry], entries: Sequence[Entry], label: Callable[[str, str], str],
                 tz: Any) -> str:
    """The reminders already sent for the task's invoices, for the person who calls."""
    invoices = {i for e in group for i in e.invoice_ids}
    first = group[0]
    before = [e for e in by_message(x for x in entries if x.state is State.SENT and x.sent_at is not None
                                      and x.reference != first.reference and set(x.invoice_ids) & invoices).values()]
    before = [g for g in before if g[0].sent_at is not None and first.sent_at is not None
              and g[0].sent_at <= first.sent_at]
    if not before:
        return task_text("none_before")
    last = max(before, key=lambda g: g[0].updated_at if g[0].sent_at is None else g[0].sent_at)[0]
    when = (last.sent_at or last.updated_at).astimezone(tz)
    return task_text("sent_before", count=len(before), day=when, step=label(last.scenario, last.step))


def current_tasks(the_plan: Plan, entries: Sequence[Entry], ledger: Ledger, label: Callable[[str, str], str],
                  tz: Any, plan_actions: Sequence[str] = ()) -> list[Task]:
    """The tasks the plan and the journal call for now (without IDs; ``natural_key`` says which is which).
    Each shows from the plan's day (a claim's ``Date`` is its deadline, later: the task is today's)."""
    customers = ledger.customer_index()
    by_name = {c.name: c.id for c in ledger.customers}
    open_ids = {i.id for i in ledger.invoices if i.is_open}
    found: list[Task] = []

    def task(key: str, kind: str, customer_id: str, invoice_ids: Iterable[str], row: dict[str, Any]) -> None:
        found.append(Task("", key, kind, customer_id, tuple(invoice_ids), min(row["date"], the_plan.as_of), row))

    for action in the_plan.actions:
        if action.sendable:
            continue
        reason = todo_text("approve_how")
        task(f"approval:{action.key}", "approval", action.customer_id, action.invoice_ids, {
            "salesperson": action.salesperson, "date": action.planned_date,
            "action": todo_text("approve", step=_step_and_channel(action.step.label, action.channel)),
            "customer": action.customer_name, "phone": action.recipients.phone,
            "invoices": ", ".join(i.number or i.invoice_id for i in action.items), "amount": action.amount.amount,
            "reason": task_text("with_reason", what=reason, reason=action.reason) if action.reason else reason,
        })
    for group in by_message(entries).values():
        first = group[0]
        customer = customers.get(first.customer_id)
        invoice_ids = tuple(dict.fromkeys(i for e in group for i in e.invoice_ids))
        base = {
            "salesperson": customer.salesperson if customer else "",
            "customer": first.customer_name,
            "phone": customer.phone if customer else "",
            "invoices": ", ".join(dict.fromkeys(e.invoice_numbers for e in group if e.invoice_numbers)),
            "amount": None if first.amount is None else first.amount.amount,
        }
        if first.state is State.SENT and first.channel in TASK_ACTIONS and first.sent_at is not None:
            if not any(i in open_ids for i in invoice_ids):
                continue  # already paid when first seen (a dossier from before tasks were kept)
            detail = label(first.scenario, first.step)
            if first.channel == "call":
                said = "" if first.amount is None else format_money(first.amount, "fr")
                detail = task_text("call_detail", step=detail, amount=said, invoices=base["invoices"],
                                   so_far=_said_so_far(group, entries, label, tz))
            elif first.artifact:
                detail = task_text("posted_detail", step=detail, artifact=first.artifact)
            task(f"journal:{first.reference or first.key.id}", first.channel, first.customer_id, invoice_ids,
                 {**base, "date": first.sent_at.astimezone(tz).date(), "action": TASK_ACTIONS[first.channel],
                  "reason": detail})
        elif first.state is State.UNCERTAIN:
            task(f"confirm:{first.reference}", "confirm", first.customer_id, invoice_ids, {
                **base, "date": first.updated_at.astimezone(tz).date(),
                "action": task_action("confirm", reference=first.reference),
                "reason": task_text("confirm_detail", step=label(first.scenario, first.step),
                                    to=first.recipients or first.channel,
                                    message_id=first.message_id or task_text("no_message_id"),
                                    reference=first.reference)})
        elif first.state is State.FAILED and first.attempts >= MAX_ATTEMPTS:
            task(f"failed:{first.reference}", "failed", first.customer_id, invoice_ids, {
                **base, "date": first.updated_at.astimezone(tz).date(),
                "action": task_action("failed", reference=first.reference),
                "reason": task_text("failed_detail", step=label(first.scenario, first.step), reason=first.reason,
                                    reference=first.reference)})
    wanted = (*PLAN_ACTIONS, *plan_actions)
    for row in the_plan.todo:
        if row.get("action") in wanted:
            customer_id = by_name.get(str(row.get("customer")), str(row.get("customer")))
            task(f"plan:{row['action']}:{customer_id}:{row.get('invoices', '')}", "plan", customer_id, (), dict(row))
    return found


def paid_checks(tasks: Iterable[Task], open_ids: Collection[str], as_of: date) -> list[Task]:
    """A payment announced ("payé") that has not reached the ledger once its hold is over: a task to check it."""
    found = []
    for task in tasks:
        if task.outcome != "paid" or task.closed_on is None:
            continue
        until = task.closed_on + timedelta(days=PAID_HOLD_DAYS)
        still = [i for i in task.invoice_ids if i in open_ids]
        said = task_text("paid_said", day=task.outcome_date) if task.outcome_date else ""
        if as_of > until and still:
            found.append(Task("", f"paid_check:{task.id}", "paid_check", task.customer_id, tuple(still), as_of, {
                **task.row, "date": as_of, "action": task_action("paid_check"),
                "reason": task_text("paid_check_detail", said=said, task=task.id, noted=task.closed_on,
                                    as_of=as_of)}))
    return found


def reconcile(known: Sequence[Task], wanted: Sequence[Task], as_of: date, taken: Collection[str] = ()) -> list[Task]:
    """The tasks to store: those ``wanted`` for the first time (with new IDs), and the open ones encours
    tracks whose cause is gone (closed "réglé") or whose row changed."""
    by_key = {t.natural_key: t for t in known}
    new: list[Task] = []
    changed: list[Task] = []
    seen: set[str] = set()
    for spec in wanted:
        if spec.natural_key in seen:
            continue
        seen.add(spec.natural_key)
        stored = by_key.get(spec.natural_key)
        if stored is None:
            new.append(replace(spec, created_on=as_of))
        elif stored.is_open and stored.kind not in PERSON_KINDS:
            row = {**spec.row, "date": stored.row.get("date", stored.due)}
            if _plain(row) != _plain(stored.row):
                changed.append(replace(stored, row=row))
    for stored in known:
        if stored.is_open and stored.kind not in PERSON_KINDS and stored.natural_key not in seen:
            changed.append(replace(stored, status=RESOLVED, closed_on=as_of,
                                   follow_up=task_text("resolved", day=as_of)))
    new.sort(key=lambda t: (str(t.row.get("salesperson", "")).casefold(), t.due,
                            str(t.row.get("customer", "")).casefold()))
    return [*changed, *give_ids(known, new, taken)]


def _plain(row: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in row.items()}


def merged(known: Sequence[Task], changes: Sequence[Task]) -> list[Task]:
    """``known`` with ``changes`` applied (by ID), new ones at the end."""
    by_id = {t.id: t for t in changes}
    return [by_id.pop(t.id, t) for t in known] + list(by_id.values())


def todo_rows(tasks: Sequence[Task], book: TaskBook, open_ids: Collection[str], as_of: date) -> list[dict[str, Any]]:
    """The rows of ``À faire`` (layout TODO keys): every task due by ``as_of``, open or closed, in the
    order they were created (new rows are appended; people sort as they like)."""
    rows: list[dict[str, Any]] = []
    for task in tasks:
        if task.due > as_of and task.is_open:
            continue  # a call back on a later day shows on that day
        row = {**task.row, "id": task.id, "date": task.row.get("date") or task.due,
               "amount": _amount(task.row.get("amount")), "follow_up": _follow_up(task, book, open_ids),
               "is_open": task.status == OPEN}  # not a column: an open task's deleted row comes back
        rows.append(row)
    return rows


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value)) if value != "" else None
    except InvalidOperation:
        return None


def _follow_up(task: Task, book: TaskBook, open_ids: Collection[str]) -> str:
    if not task.is_open:
        return task.follow_up
    if task.id in book.problems:
        return task_text("not_recorded", why=book.problems[task.id])
    mark = book.marks.get(task.id)
    if mark is not None and mark.result and not mark.done:
        return task_text("recorded_when_done", result=mark.result)
    if task.kind == "dispute":
        return task_text("dispute_open")
    if task.kind in PERSON_KINDS and task.invoice_ids and not any(i in open_ids for i in task.invoice_ids):
        return task_text("invoices_settled")
    return ""
