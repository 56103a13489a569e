"""A demo dossier that lives (issue 12.2): days of simulated life over the demo's own ledger.

``encours demo --days N`` lives N days after the last one lived, one pass a day at 10:00 in the
company's time zone.  Before each pass the customers act on the ledger file (``[source] ledger``)
as their behaviour says, and a person acts in the workbook as people do:

- on-time payers pay around the due date; direct-debit payers are debited on it;
- "a little late" payers pay two days after their first reminder;
- the person works ``À faire`` the next morning: chronic payers promise on the phone (``Fait`` ticked,
  ``Résultat`` "promesse JJ/MM/AAAA"), one keeps the promise, the next breaks it and pays after the
  "promise broken" e-mail; one is unreachable at the first call ("injoignable") and promises at the
  new attempt; the first chronic payer asks for a payment plan (three instalments typed in
  ``Échéanciers``, the call ticked ``Fait``) and pays each on its date; letters and formal notices
  are posted and ticked, and a call whose invoices got paid meanwhile is ticked ``Fait``;
- the disputing customer contests its invoice after the first reminder (``Litige`` typed);
- the customer that stopped paying never pays: the formal notice waits for approval, the person
  ticks ``À envoyer`` two days later, and ten days after the notice the case goes to collection
  (``encours export-case``): the customer enters proceedings and is never reminded again;
- each customer is invoiced again on its usual rhythm.

Randomness is seeded by the day, so the same dossier lived the same days gives the same life.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from encours.connectors.demo import behaviour_of, load_demo_ledger, save_demo_ledger
from encours.connectors.model import Allocation, Invoice, InvoiceStatus, Ledger, Money, Payment, to_cents
from encours.scenarios.labels import todo_text
from encours.sheets_addin.layout import INVOICES, PAYMENT_PLANS, TODO, YES
from encours.sheets_addin.xlsx import XlsxWorkbook
from encours.sync.config import Config
from encours.sync.demo_labels import demo_text, demo_typed
from encours.sync.demo_summary import (
    COLLECTED_WITHIN_DAYS,
    LifeSummary,
    dso_on,
    eur_of,
    formal_notices,
    sent_keys,
)
from encours.sync.export_case import export_case
from encours.sync.journal import Journal, State
from encours.sync.run import run_pass
from encours.sync.state import StateStore
from encours.sync.task_labels import task_action, task_text
from encours.sync.task_outcomes import parse_result
from encours.sync.task_store import TaskStore


class _Life:
    """One dossier's life: its ledger file, its journal, its workbook."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.path = config.source.path("ledger")
        self.ledger, self.anchor, self.lived_until = load_demo_ledger(self.path)
        self.paid: list[tuple[date, Invoice, Money]] = []
        self.events: list[str] = []

    def sent(self) -> dict[tuple[str, str], date]:
        """(invoice id, step) → day sent; account-level steps under each invoice they covered."""
        out: dict[tuple[str, str], date] = {}
        with StateStore(self.config.state_path) as store:
            for entry in Journal(store, self.config.dossier, tz=self.config.timezone).entries([State.SENT]):
                when = (entry.sent_at or entry.updated_at).astimezone(self.config.timezone).date()
                for invoice_id in entry.invoice_ids:
                    out.setdefault((invoice_id, entry.step), when)
        return out

    def pay(self, invoice: Invoice, day: date, amount: Money | None = None) -> None:
        paid = amount or invoice.remaining
        left = invoice.remaining - paid
        status = InvoiceStatus.PAID if left.amount <= 0 else InvoiceStatus.PARTIALLY_PAID
        company = None if invoice.remaining_company is None else Money(
            to_cents(invoice.remaining_company.amount * left.amount / invoice.remaining.amount), "EUR")
        fresh = invoice.with_changes(remaining=left, status=status, source_status=status.value,
                                     remaining_company=company,
                                     updated_at=datetime.combine(day, time(8, 0), UTC))
        payment = Payment(f"PAY-LIFE-{invoice.number}-{day:%Y%m%d}", invoice.customer_id, "demo", day, paid,
                          (Allocation(invoice.id, paid),),
                          method="direct_debit" if behaviour_of(invoice.customer_id) == "direct_debit" else "transfer",
                          reference=invoice.number)
        self.ledger = Ledger(self.ledger.customers,
                             tuple(fresh if i.id == invoice.id else i for i in self.ledger.invoices),
                             (*self.ledger.payments, payment))
        self.paid.append((day, invoice, paid))

    def invoice_again(self, day: date, rng: random.Random) -> None:
        last: dict[str, Invoice] = {}
        for invoice in self.ledger.invoices:
            if not invoice.is_credit_note and (invoice.customer_id not in last
                                               or invoice.issue_date > last[invoice.customer_id].issue_date):
                last[invoice.customer_id] = invoice
        new = []
        count = sum(1 for i in self.ledger.invoices if i.number.startswith(f"F-{day.year}-"))
        for customer in self.ledger.customers:
            previous = last.get(customer.id)
            if previous is None or behaviour_of(customer.id) == "stopped" or \
                    (day - previous.issue_date).days < 30 + rng.randrange(0, 15):
                continue
            count += 1
            number = f"F-{day.year}-{count + 5000:04d}"
            total = to_cents(previous.total.amount * Decimal(rng.randrange(80, 121)) / 100)
            due = previous.due_date and day + (previous.due_date - previous.issue_date)
            rate = None if previous.remaining_company is None else Decimal("1.1650")
            new.append(previous.with_changes(
                id=f"INV-{number}", number=number, issue_date=day, due_date=due,
                total=Money(total, previous.currency), remaining=Money(total, previous.currency),
                status=InvoiceStatus.OPEN, source_status="open", payment_reference=number,
                label=f"Prestations {day:%m/%Y}", updated_at=datetime.combine(day, time(8, 0), UTC),
                remaining_company=Money(to_cents(total * rate), "EUR") if rate else None,
            ))
        if new:
            self.ledger = Ledger(self.ledger.customers, (*self.ledger.invoices, *new), self.ledger.payments)

    def customers_act(self, day: date, marks: Mapping[str, dict[str, Any]], rng: random.Random) -> None:
        sent = self.sent()
        chronic = sorted({c.id for c in self.ledger.customers if behaviour_of(c.id) == "chronic"})
        for invoice in [i for i in self.ledger.invoices if i.is_open and not i.is_credit_note]:
            behaviour = behaviour_of(invoice.customer_id)
            due = invoice.due_date or invoice.issue_date
            typed = marks.get(invoice.id, {})
            if behaviour in ("on_time", "direct_debit"):
                if day >= due + timedelta(days=rng.randrange(-1, 3) if behaviour == "on_time" else 0):
                    self.pay(invoice, day)
            elif behaviour in ("little_late", "dispute") and (invoice.id, "reminder_1") in sent:
                if behaviour == "little_late" and day >= sent[(invoice.id, "reminder_1")] + timedelta(days=2):
                    self.pay(invoice, day)
            elif behaviour == "chronic":
                plan = typed.get("plan")
                if plan:
                    for when, amount in plan:
                        owed_before = sum((a for w, a in plan if w < when), Decimal(0))
                        if when == day and invoice.total.amount - invoice.remaining.amount <= owed_before:
                            self.pay(invoice, day, Money(min(amount, invoice.remaining.amount), invoice.currency))
                    continue
                promise = typed.get("promise_date")
                keeps = chronic.index(invoice.customer_id) % 2 == 1 if invoice.customer_id in chronic else True
                if promise is not None and ((keeps and day >= promise) or
                                            (not keeps and (invoice.id, "promise_broken") in sent
                                             and day >= sent[(invoice.id, "promise_broken")] + timedelta(days=3))):
                    self.pay(invoice, day)


class _Workbook:
    """What the person types in the demo workbook (the user columns only, as people do)."""

    def __init__(self, path: Path, state_path: Path) -> None:
        self.path = path
        self.typed: dict[str, dict[str, Any]] = {}
        # what was typed on earlier days (a previous `--days` run): never typed twice
        marks = XlsxWorkbook(path).read_marks()
        for invoice_id, typed in marks.invoices.items():
            known = {"dispute": typed.dispute, "promise_date": typed.promise_date, "approve": typed.approve}
            self.typed[invoice_id] = {k: v for k, v in known.items() if v}
        for line in marks.payment_plans:
            self.typed.setdefault(line.invoice_id, {}).setdefault("plan", []).append((line.due_date, line.amount))
        if state_path.exists():  # promises typed in À faire live in the task store once recorded
            with StateStore(state_path) as store:
                for task in TaskStore(store).all():
                    for invoice_id in task.invoice_ids:
                        if task.outcome == "promise" and task.outcome_date is not None:
                            self.typed.setdefault(invoice_id, {})["promise_date"] = task.outcome_date
                        elif task.outcome == "unreachable":
                            self.typed.setdefault(invoice_id, {})["unreachable"] = True
        self.pending: dict[str, tuple[Any, str]] = {}  # task id → (Fait, Résultat) typed, not yet recorded

    def type(self, day: date, invoice_id: str, values: Mapping[str, Any],
             plan: Sequence[tuple[date, Decimal]] = ()) -> None:
        if not self.path.exists():
            return
        wb = load_workbook(self.path)
        try:
            ws = wb[INVOICES.name]
            header = [c.value for c in ws[1]]
            positions = {c.key: header.index(c.heading) for c in INVOICES.columns if c.heading in header}
            for row in ws.iter_rows(min_row=2):
                if row[positions["id"]].value == invoice_id:
                    for key, value in values.items():
                        row[positions[key]].value = value
                    break
            if plan:
                ps = wb[PAYMENT_PLANS.name]
                for when, amount in plan:
                    ps.append([invoice_id, when, float(amount), demo_typed("plan_line")])
            wb.save(self.path)
        finally:
            wb.close()
        self.typed.setdefault(invoice_id, {}).update(values)
        if plan:
            self.typed[invoice_id]["plan"] = list(plan)


def _person_acts(life: _Life, book: _Workbook, day: date) -> None:
    sent = life.sent()
    for invoice in [i for i in life.ledger.invoices if i.is_open and not i.is_credit_note]:
        behaviour = behaviour_of(invoice.customer_id)
        typed = book.typed.get(invoice.id, {})
        if behaviour == "dispute" and (invoice.id, "reminder_1") in sent and not typed.get("dispute"):
            # the customer writes in to contest: typed on the invoice itself
            book.type(day, invoice.id, {"dispute": YES, "comment": demo_typed("dispute_comment")})
            life.events.append(demo_text("dispute_typed", day=day, number=invoice.number))
    _work_todo(life, book, day)
    _approve_waiting(life, book, day)


#: Tasks a person finishes by doing them (nothing to report but ``Fait``).
_POSTED = (task_action("letter"), task_action("formal_notice"))
#: Tasks that are calls (their outcome is typed in ``Résultat``).
_CALLS = (task_action("call"), task_action("call_back"), task_action("call_again"))


def _work_todo(life: _Life, book: _Workbook, day: date) -> None:
    """The person goes through ``À faire``: calls made (their outcome typed in ``Résultat``), letters
    posted, calls about invoices paid meanwhile ticked — each ``Fait``, recorded at the next pass."""
    if not book.path.exists():
        return
    chronic = sorted({c.id for c in life.ledger.customers if behaviour_of(c.id) == "chronic"})
    invoices = {i.number: i for i in life.ledger.invoices}
    wb = load_workbook(book.path)
    changed = False
    later: list[Callable[[], None]] = []  # typed in the workbook once this copy is saved
    try:
        ws = wb[TODO.name]
        header = [c.value for c in ws[1]]
        at = {c.key: header.index(c.heading) for c in TODO.columns if c.heading in header}
        if "id" not in at or "done" not in at or "result" not in at:
            return
        for row in ws.iter_rows(min_row=2):
            task_id = str(row[at["id"]].value or "")
            if not task_id or row[at["done"]].value or task_id in book.pending:
                continue
            when = row[at["date"]].value
            when = when.date() if isinstance(when, datetime) else when
            if not isinstance(when, date) or when > day:
                continue
            action = str(row[at["action"]].value or "")
            follow_up = str(row[at["follow_up"]].value or "")
            numbers = [n for n in str(row[at["invoices"]].value or "").split(", ") if n in invoices]
            result = _call_outcome(life, book, day, action, [invoices[n] for n in numbers], chronic, later)
            if result is None and (action in _POSTED or follow_up == task_text("invoices_settled")):
                result = ""
            if result is None:
                continue
            row[at["done"]].value = YES
            row[at["result"]].value = result or None
            book.pending[task_id] = (YES, result)
            changed = True
            if result:
                what = parse_result(result, day).kind.value  # what encours will read in it
                life.events.append(demo_text("call_typed", day=day, what=what, numbers=", ".join(numbers),
                                             task=task_id, result=result))
        if changed:
            wb.save(book.path)
    finally:
        wb.close()
    for typing in later:
        typing()


def _call_outcome(life: _Life, book: _Workbook, day: date, action: str, invoices: Sequence[Invoice],
                  chronic: Sequence[str], later: list[Callable[[], None]]) -> str | None:
    """What a chronic payer says on the phone (None: not a call this person makes now)."""
    if action not in _CALLS or not invoices:
        return None
    first = invoices[0]
    if behaviour_of(first.customer_id) != "chronic" or not any(i.is_open for i in invoices):
        return None
    if any("promise_date" in book.typed.get(i.id, {}) or "plan" in book.typed.get(i.id, {}) for i in invoices):
        return None
    if first.customer_id == chronic[0] and not any("plan" in t for t in book.typed.values()):
        third = to_cents(first.remaining.amount / 3)
        plan = [(day + timedelta(days=7), third), (day + timedelta(days=37), third),
                (day + timedelta(days=67), first.remaining.amount - 2 * third)]
        book.typed.setdefault(first.id, {})["plan"] = plan
        later.append(lambda: book.type(day, first.id, {"comment": demo_typed("plan_comment")}, plan))
        life.events.append(demo_text("plan_typed", day=day, number=first.number))
        return ""
    if len(chronic) > 2 and first.customer_id == chronic[2] and not book.typed.get(first.id, {}).get("unreachable"):
        for invoice in invoices:
            book.typed.setdefault(invoice.id, {})["unreachable"] = True
        return demo_typed("unreachable")
    promised = day + timedelta(days=6)
    for invoice in invoices:
        book.typed.setdefault(invoice.id, {})["promise_date"] = promised
    return demo_typed("promise", day=promised)


def _approve_waiting(life: _Life, book: _Workbook, day: date) -> None:
    """The person ticks « À envoyer » two days after a step starts waiting for approval."""
    workbook = book.path
    if not workbook.exists():
        return
    wb = load_workbook(workbook, read_only=True)
    try:
        ws = wb[TODO.name]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        return
    keys = {c.heading: c.key for c in TODO.columns}
    header = [keys.get(str(h), str(h)) for h in rows[0]]
    numbers = {i.number: i.id for i in life.ledger.invoices}
    approve = todo_text("approve", step="")
    for values in rows[1:]:
        row = dict(zip(header, values, strict=False))
        when = row.get("date")
        when = when.date() if isinstance(when, datetime) else when
        if str(row.get("action", "")).startswith(approve) and isinstance(when, date) \
                and when + timedelta(days=2) <= day and not row.get("done") and not row.get("follow_up"):
            for number in str(row.get("invoices") or "").split(", "):
                invoice_id = numbers.get(number)
                if invoice_id and not book.typed.get(invoice_id, {}).get("approve"):
                    book.type(day, invoice_id, {"approve": YES})
                    life.events.append(demo_text("approved", day=day, number=number, action=row.get("action")))


def live(config: Config, days: int, *, say: Callable[[str], None] = lambda m: None) -> LifeSummary:
    """Live ``days`` days after the last one lived, one pass a day; returns the summary."""
    life = _Life(config)
    book = _Workbook(config.sheet.path("path"), config.state_path)
    first = life.lived_until + timedelta(days=1)
    summary = LifeSummary(first, first + timedelta(days=days - 1), dso_before=dso_on(life.ledger, life.lived_until))
    journal_before = set(sent_keys(config))
    in_collection: set[str] = set()
    for n in range(days):
        day = first + timedelta(days=n)
        rng = random.Random(f"{life.anchor}:{day}")
        life.invoice_again(day, rng)
        life.customers_act(day, book.typed, rng)
        save_demo_ledger(life.path, life.ledger, anchor=life.anchor, lived_until=day)
        now = datetime.combine(day, time(10, 0), tzinfo=config.timezone).astimezone(UTC)
        say(demo_text("day", n=n + 1, days=days, day=day))
        report = run_pass(config, as_of=day, now=now)
        book.pending.clear()  # what was typed in À faire is recorded now
        _person_acts(life, book, day)
        for customer_id, notice_day in formal_notices(config).items():
            if customer_id not in in_collection and day >= notice_day + timedelta(days=10):
                case = export_case(config, customer_id, as_of=day, now=now)
                in_collection.add(customer_id)
                life.events.append(demo_text("collection", day=day, customer=customer_id, file=case.path.name))
        if report.exit_code:
            summary.events.append(demo_text("exit_code", day=day, code=report.exit_code))
    sent = {k: v for k, v in sent_keys(config).items() if k not in journal_before}
    for _, step_label in sent:
        summary.messages[step_label] += 1
    reminders = life.sent()
    for day, invoice, amount in life.paid:
        eur = eur_of(invoice, amount)
        summary.collected += eur
        if any(step not in ("courtesy", "thanks") and when <= day <= when + timedelta(days=COLLECTED_WITHIN_DAYS)
               for (invoice_id, step), when in reminders.items() if invoice_id == invoice.id):
            summary.collected_after_reminder += eur
    summary.dso_after = dso_on(life.ledger, summary.last)
    summary.events = life.events + summary.events
    return summary
