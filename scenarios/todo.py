"""The plan's rows of the ``À faire`` tab: calls to make, letters and formal notices to post,
approvals waiting, and customers in credit to check for a refund (layout TODO keys)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from encours.connectors.model import Customer, Money
from encours.scenarios.actions import PlannedAction
from encours.scenarios.grouping import step_label
from encours.scenarios.labels import todo_text


def refund_row(customer: Customer, credit: Money, as_of: date) -> dict[str, Any]:
    """``À faire``: a customer in credit is checked for a refund, never reminded."""
    return {
        "salesperson": customer.salesperson,
        "date": as_of,
        "action": todo_text("refund"),
        "customer": customer.name,
        "phone": customer.phone,
        "invoices": "",
        "amount": credit.amount,
        "reason": todo_text("refund_why", credit=credit),
    }


#: The channels a person acts on: the action is theirs to do.
_TASK_CHANNELS = ("call", "letter", "formal_notice")


def todo_rows(actions: Iterable[PlannedAction]) -> list[dict[str, Any]]:
    """``À faire`` rows: calls, letters and formal notices to post, approvals waiting."""
    rows: list[dict[str, Any]] = []
    for action in actions:
        if not action.sendable:
            what = todo_text("approve", step=step_label(action.step, action.channel))
            detail = todo_text("approve_how")
        elif action.channel in _TASK_CHANNELS:
            what = todo_text(action.channel)
            detail = action.step.label
        else:
            continue
        if action.reason:
            detail = f"{detail} — {action.reason}"
        rows.append({
            "salesperson": action.salesperson,
            "date": action.planned_date,
            "action": what,
            "customer": action.customer_name,
            "phone": action.recipients.phone,
            "invoices": ", ".join(i.number or i.invoice_id for i in action.items),
            "amount": action.amount.amount,
            "reason": detail,
        })
    rows.sort(key=lambda r: (r["salesperson"].casefold(), r["date"], r["customer"].casefold()))
    return rows
