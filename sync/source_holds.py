"""Reminders held back while a record of the source cannot be read (see :mod:`encours.connectors.quarantine`).

A payment, an allocation or a credit note left out of the sync may mean a customer owes less than
the ledger says; a customer record left out leaves encours with a stale address and language.
Until the record maps, nothing is sent to that customer in that currency: the plan keeps their
actions out (messages, calls, letters and the ``À faire`` rows they make), the invoices show why
in ``Prochaine action``, and the sync summary names the record to fix at the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from encours.connectors.model import Ledger
from encours.connectors.quarantine import Hold
from encours.scenarios.planner import NextAction, Plan, Skip

REASON = "held_by_source"
#: How the sheet shows a held reminder (French: the sheet speaks French).
LABEL_FR = "Relance retenue : {what} illisible à la source ({record}), à corriger"
WHAT_FR = {
    "customer": "fiche client",
    "payment": "paiement",
    "allocation": "affectation",
    "invoice": "avoir",
}


def hold_label(hold: Hold) -> str:
    return LABEL_FR.format(what=WHAT_FR.get(hold.kind, "enregistrement"), record=hold.record)


def with_source_holds(plan: Plan, ledger: Ledger, holds: Sequence[Hold]) -> Plan:
    """The plan without the actions a quarantined record holds back; each open invoice they cover
    says why in its next action (unless the plan already excludes it for a reason of its own:
    paid, disputed, paused …)."""
    if not holds:
        return plan
    kept = []
    held_rows: set[tuple[str, str]] = set()
    skips = list(plan.skips)
    next_actions = dict(plan.next_actions)
    for action in plan.actions:
        hold = next((h for h in holds if h.covers(action.customer_id, action.currency)), None)
        if hold is None:
            kept.append(action)
            continue
        held_rows.add((action.customer_name, ", ".join(i.number or i.invoice_id for i in action.items)))
        for key in action.step_keys:
            target = key.target if key.level == "invoice" else action.customer_id
            skips.append(Skip(target, action.customer_id, REASON, hold_label(hold), key, key.level))
    # Reasons of its own win (paid, disputed, paused …), but not "unknown customer": the customer
    # is known, its record just cannot be read.
    excluded = {s.target for s in plan.skips if s.level == "invoice" and s.reason != "unknown_customer"}
    for invoice in ledger.invoices:
        if not invoice.is_open or invoice.is_credit_note or invoice.id in excluded:
            continue
        hold = next((h for h in holds if h.covers(invoice.customer_id, invoice.currency)), None)
        if hold is not None:
            next_actions[invoice.id] = NextAction(hold_label(hold), None)
    todo = [row for row in plan.todo
            if (str(row.get("customer", "")), str(row.get("invoices", ""))) not in held_rows]
    return replace(plan, actions=kept, skips=skips, next_actions=next_actions, todo=todo)
