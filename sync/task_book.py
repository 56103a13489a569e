"""What people finished in ``À faire`` flows back into the plan.

At each pass, a task whose ``Fait`` is ticked is closed with its ``Résultat`` understood
(:mod:`encours.sync.task_outcomes`), and what it says holds for the task's invoices:

- a **promise** with its date: no reminder until that date; still unpaid the day after, the
  scenario's broken-promise step, then the scenario resumes;
- a **dispute**: no reminder at all; a "Suivre le litige" task opens, and ticking its ``Fait``
  lifts the dispute (the ``Litige`` column of ``Factures`` still works on its own);
- **call back on** a date: a new call task on that day;
- **unreachable**: the scenario goes on as planned (a call is not a hold) and a new call attempt
  opens two days later (weekends skipped), up to :data:`CALL_ATTEMPTS` attempts;
- **paid** ("payé", "payé le 02/12/2026"): reminders held :data:`PAID_HOLD_DAYS` days for the
  payment to reach the ledger; still unpaid then, they resume and a task asks to check it.

A ``Résultat`` that cannot be understood is never guessed: the task stays open, its ``Suivi``
and the run report say why.  Pure: the caller stores what :func:`read_book` closed and opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from encours.scenarios.actions import NextAction, Plan
from encours.scenarios.labels import plan_text
from encours.sheets_addin.marks import InvoiceMarks, SheetMarks, TaskMarks
from encours.sync.task_labels import FOLLOW_MARK, task_action, task_report_line, task_text
from encours.sync.task_outcomes import OUTCOME_LABELS, Outcome, OutcomeKind, ResultError, parse_result
from encours.sync.task_store import DONE, OPEN, Task

#: Days reminders wait for a payment a customer announced ("payé") to reach the ledger.
PAID_HOLD_DAYS = 7
#: Call attempts of one task chain before "injoignable" stops opening new ones.
CALL_ATTEMPTS = 3
#: Kinds of task whose Résultat must name an outcome (a call has one); the others take free text.
CALL_KINDS = frozenset({"call", "call_back", "call_again", "paid_check"})


@dataclass(frozen=True)
class Hold:
    """What recorded outcomes say of one invoice (None: nothing)."""

    promise: date | None = None
    promise_task: str = ""
    dispute_task: str = ""  # an open "Suivre le litige" task
    dispute_since: date | None = None
    paid_until: date | None = None  # reminders held until this day (included)
    paid_task: str = ""


@dataclass
class TaskBook:
    """The dossier's tasks at this pass, with what people finished read and understood."""

    tasks: list[Task]  # every task, as it stands once this pass's outcomes are applied
    changed: list[Task] = field(default_factory=list)  # closed or opened by this pass's outcomes: to store
    recorded: list[Task] = field(default_factory=list)  # closed now by a person's Fait
    problems: dict[str, str] = field(default_factory=dict)  # task id → why its Résultat was not understood
    holds: dict[str, Hold] = field(default_factory=dict)  # invoice id → what the outcomes hold
    marks: Mapping[str, TaskMarks] = field(default_factory=dict)  # as read in À faire
    sheet: SheetMarks = field(default_factory=SheetMarks)  # every mark as read, before the holds

    def lines(self) -> list[str]:
        """The run report's lines: outcomes recorded, results not understood."""
        out = [task_report_line("recorded", task=t.id, customer=t.row.get("customer", ""), follow_up=t.follow_up)
               for t in self.recorded]
        rows = {t.id: t for t in self.tasks}
        for task_id, why in self.problems.items():
            row = self.marks[task_id].row if task_id in self.marks else 0
            task = rows.get(task_id)
            who = f" {task.row.get('customer', '')}" if task else ""
            out.append(task_report_line("not_recorded", row=row, task=task_id, who=who, why=why))
        return out


def next_id(tasks: Iterable[Task], taken: Iterable[str] = ()) -> int:
    """The number after the highest ``T-NNNN`` among ``tasks`` and the IDs already ``taken`` in the sheet."""
    ids = [*(t.id for t in tasks), *taken]
    numbers = [int(i[2:]) for i in ids if i.startswith("T-") and i[2:].isdigit()]
    return max(numbers, default=0) + 1


def give_ids(known: Iterable[Task], new: Sequence[Task], taken: Iterable[str] = ()) -> list[Task]:
    """``new`` numbered after every ID encours stored and every ID the sheet's ``À faire`` shows: a
    sheet kept while its state file was lost (or copied from another dossier) holds rows whose
    ``Fait``/``Résultat`` must never be read as the answer to a new task that reuses their ID."""
    start = next_id(known, taken)
    return [replace(t, id=f"T-{start + n:04d}") for n, t in enumerate(new)]


def business_day(day: date) -> date:
    """``day``, or the Monday after when it falls on a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def read_book(stored: Sequence[Task], marks: SheetMarks, as_of: date, now: datetime) -> TaskBook:
    """Close the open tasks people ticked ``Fait`` (their ``Résultat`` understood), open the tasks
    their outcomes call for, and work out what the outcomes hold for each invoice."""
    book = TaskBook(list(stored), marks=marks.tasks, sheet=marks)
    opened: list[Task] = []
    closed: dict[str, Task] = {}
    for task in stored:
        mark = marks.tasks.get(task.id)
        if not task.is_open or mark is None or not mark.done:
            continue
        try:
            outcome = parse_result(mark.result, as_of, free_text=task.kind not in CALL_KINDS)
        except ResultError as exc:
            book.problems[task.id] = str(exc)
            continue
        if task.kind == "dispute" and outcome.kind is OutcomeKind.DISPUTE:
            outcome = Outcome(OutcomeKind.NOTE, text=outcome.text)  # "litige levé" on the dispute's own task
        follow_up, new = _consequences(task, outcome, as_of)
        closed[task.id] = replace(task, status=DONE, closed_on=as_of, result=mark.result, outcome=outcome.kind.value,
                                  outcome_date=outcome.when, follow_up=task_text("recorded", day=as_of, what=follow_up),
                                  recorded_at=now)
        opened.extend(new)
    opened = give_ids(stored, opened, marks.tasks)
    for task in opened:  # the outcome's Suivi names the task it opened
        origin = closed[task.origin]
        closed[task.origin] = replace(origin, follow_up=origin.follow_up.replace(FOLLOW_MARK, task.id))
    book.recorded = list(closed.values())
    book.changed = [*book.recorded, *opened]
    book.tasks = [closed.get(t.id, t) for t in stored] + opened
    book.holds = holds(book.tasks, as_of)
    return book


def _consequences(task: Task, outcome: Outcome, as_of: date) -> tuple[str, list[Task]]:
    """What the outcome does (for Suivi), and the tasks it opens (without IDs yet)."""
    described = outcome.describe()
    row = dict(task.row)

    def follow(kind: str, due: date, reason: str, attempt: int = 1) -> Task:
        return Task("", f"{kind}:{task.id}", kind, task.customer_id, task.invoice_ids, due,
                    {**row, "date": due, "action": task_action(kind), "reason": reason}, origin=task.id,
                    attempt=attempt, created_on=as_of)

    before = str(row.get("reason", ""))
    if outcome.kind is OutcomeKind.PROMISE:
        assert outcome.when is not None
        return task_text("promise_holds", outcome=described, day=outcome.when + timedelta(days=1)), []
    if outcome.kind is OutcomeKind.DISPUTE:
        return task_text("dispute_holds", follow=FOLLOW_MARK), [
            follow("dispute", as_of, task_text("dispute_detail", day=as_of, task=task.id))]
    if outcome.kind is OutcomeKind.CALL_BACK:
        assert outcome.when is not None
        return task_text("call_back_planned", outcome=described), [
            follow("call_back", outcome.when,
                   task_text("call_back_detail", day=as_of, task=task.id, reason=before).rstrip(" —"))]
    if outcome.kind is OutcomeKind.UNREACHABLE:
        if task.attempt >= CALL_ATTEMPTS:
            return task_text("unreachable_last", attempt=task.attempt), []
        again = business_day(as_of + timedelta(days=2))
        return task_text("unreachable_again", day=again), [
            follow("call_again", again,
                   task_text("call_again_detail", attempt=task.attempt + 1, attempts=CALL_ATTEMPTS, day=as_of,
                             task=task.id, reason=before).rstrip(" —"), attempt=task.attempt + 1)]
    if outcome.kind is OutcomeKind.PAID:
        until = as_of + timedelta(days=PAID_HOLD_DAYS)
        said = described if outcome.when else OUTCOME_LABELS[OutcomeKind.PAID]
        return task_text("paid_holds", outcome=said, until=until), []
    if task.kind == "dispute":
        return task_text("dispute_lifted", outcome=described), []
    return described, []


def holds(tasks: Iterable[Task], as_of: date) -> dict[str, Hold]:
    """invoice id → what the tasks' outcomes hold: the latest promise, an open dispute, a payment announced."""
    found: dict[str, Hold] = {}
    for task in sorted(tasks, key=lambda t: (t.closed_on or date.min, t.id)):
        for invoice_id in task.invoice_ids:
            hold = found.get(invoice_id, Hold())
            if task.kind == "dispute" and task.status == OPEN:
                hold = replace(hold, dispute_task=task.id, dispute_since=task.created_on or task.due)
            elif task.outcome == OutcomeKind.PROMISE.value and task.outcome_date is not None:
                hold = replace(hold, promise=task.outcome_date, promise_task=task.id)
            elif task.outcome == OutcomeKind.PAID.value and task.closed_on is not None:
                hold = replace(hold, paid_until=task.closed_on + timedelta(days=PAID_HOLD_DAYS), paid_task=task.id)
            else:
                continue
            found[invoice_id] = hold
    return found


def held_marks(marks: SheetMarks, found: Mapping[str, Hold]) -> SheetMarks:
    """The sheet's marks with the outcomes' holds added (a person's own mark is never lifted)."""
    if not found:
        return marks
    invoices = dict(marks.invoices)
    for invoice_id, hold in found.items():
        mark = invoices.get(invoice_id, InvoiceMarks())
        promise = mark.promise_date
        if hold.promise is not None and (promise is None or hold.promise > promise):
            promise = hold.promise
        pause = mark.pause_until
        if hold.paid_until is not None and (pause is None or hold.paid_until > pause):
            pause = hold.paid_until
        invoices[invoice_id] = replace(mark, dispute=mark.dispute or bool(hold.dispute_task), promise_date=promise,
                                       pause_until=pause)
    return replace(marks, invoices=invoices)


def relabel(the_plan: Plan, book: TaskBook) -> Plan:
    """``Prochaine action`` says which task holds an invoice, and how it ends."""
    sheet = book.sheet
    for invoice_id, hold in book.holds.items():
        current = the_plan.next_actions.get(invoice_id)
        if current is None:
            continue
        mark = sheet.for_invoice(invoice_id)
        label = current.label
        if hold.dispute_task and not mark.dispute and label == plan_text("disputed"):
            since = task_text("dispute_since", day=hold.dispute_since) if hold.dispute_since else ""
            label = task_text("held_by_dispute", task=hold.dispute_task, since=since)
        elif hold.paid_until is not None and hold.paid_until >= the_plan.as_of \
                and (mark.pause_until is None or mark.pause_until < hold.paid_until) \
                and label == plan_text("paused", until=hold.paid_until):
            label = task_text("held_by_payment", task=hold.paid_task, until=hold.paid_until)
        elif hold.promise is not None and label == plan_text("promised", until=hold.promise):
            label = task_text("held_by_promise", label=label, task=hold.promise_task)
        if label != current.label:
            the_plan.next_actions[invoice_id] = NextAction(label, current.date)
    return the_plan
