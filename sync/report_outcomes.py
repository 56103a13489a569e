"""The week's call outcomes for the weekly report: what people recorded in ``À faire`` — a promise
with its date, a dispute opened or lifted, unreachable, call back, payment announced — read from the
state store's tasks (:mod:`encours.sync.task_store`), never from the sheet (its rows leave when
people delete them; the store keeps every outcome).

The week is the reminders' one: recorded from seven days before the as-of date up to the day
before, so a report made each week lists every outcome once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from encours.connectors.model import Ledger
from encours.sync.report_labels import outcome_text
from encours.sync.report_model import CallOutcome
from encours.sync.task_book import CALL_KINDS
from encours.sync.task_store import DONE, Task

#: Outcomes that say what a customer said; a call ticked ``Fait`` with nothing typed is listed too.
_SPOKEN = ("promise", "dispute", "call_back", "unreachable", "paid")


def _what(task: Task) -> str:
    """"Promesse de paiement au 10/12/2026", "Litige ouvert", "Litige levé", "Injoignable (essai 2)" …"""
    if task.kind == "dispute":
        return outcome_text("dispute_lifted")
    if task.outcome == "unreachable":
        return outcome_text("unreachable", attempt=task.attempt)
    if task.outcome in _SPOKEN:
        key = f"{task.outcome}_on" if task.outcome_date is not None else task.outcome
        return outcome_text(key, day=task.outcome_date)
    return outcome_text("done")


def week_outcomes(tasks: Iterable[Task], ledger: Ledger, as_of: date) -> tuple[CallOutcome, ...]:
    """The outcomes recorded in the week before ``as_of`` for ``ledger``'s customers (one
    salesperson's, or the company's), oldest first; what is still owed is in EUR."""
    customers = ledger.customer_index()
    invoices = {i.id: i for i in ledger.invoices}
    start = as_of - timedelta(days=7)
    out: list[CallOutcome] = []
    for task in tasks:
        if task.status != DONE or task.closed_on is None or not start <= task.closed_on < as_of:
            continue
        if task.customer_id not in customers:
            continue
        if task.kind not in CALL_KINDS and task.kind != "dispute" and task.outcome not in _SPOKEN:
            continue  # a letter posted, a send confirmed: work done, nothing a customer said
        customer = customers[task.customer_id]
        owed: Sequence[Decimal] = [invoices[i].remaining.amount for i in task.invoice_ids
                                   if i in invoices and invoices[i].is_open and invoices[i].currency == "EUR"
                                   and not invoices[i].is_credit_note]
        out.append(CallOutcome(
            task_id=task.id,
            day=task.closed_on,
            customer=customer.name,
            salesperson=customer.salesperson,
            invoices=", ".join(invoices[i].number or i if i in invoices else i for i in task.invoice_ids),
            kind=task.outcome if task.kind != "dispute" else "dispute_lifted",
            what=_what(task),
            result=task.result.strip(),
            still_owed=sum(owed, Decimal("0.00")),
            settled=all(i in invoices and not invoices[i].is_open for i in task.invoice_ids),
        ))
    out.sort(key=lambda o: (o.day, o.customer.casefold(), o.task_id))
    return tuple(out)
