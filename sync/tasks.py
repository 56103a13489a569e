"""The ``À faire`` tab: the work people finish — approvals, calls, letters, sends to confirm, refunds.

Rows are rebuilt at every pass from the plan and the journal:

- a step waiting for approval ("Approuver : …", tick ``À envoyer``);
- a call, letter or formal notice published by a pass stays while one of its invoices is still
  open (it is work to finish, not news of the day); a call says what to say: the amount, the
  invoices and the reminders already sent;
- a message left uncertain or given up after its retries (with the command that settles it);
- a customer in credit (refund to check) and claim declarations the plan lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from encours.connectors.model import Ledger
from encours.scenarios.planner import CHANNEL_LABELS_FR, Plan
from encours.sync.journal import MAX_ATTEMPTS, Entry, State

TASK_ACTIONS = {
    "call": "Appeler",
    "letter": "Poster le courrier",
    "formal_notice": "Envoyer la mise en demeure (recommandé)",
}
#: Rows of the plan's own ``todo`` that go to ``À faire`` as they are.
PLAN_ACTIONS = ("Vérifier le remboursement",)


def _step_and_channel(label: str, channel: str) -> str:
    shown = CHANNEL_LABELS_FR.get(channel, channel)
    return label if shown.casefold() == label.casefold() else f"{label} ({shown})"


def by_reference(entries: Iterable[Entry]) -> list[list[Entry]]:
    """Journal rows grouped by the message that carries them."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.reference or entry.key.id, []).append(entry)
    return list(groups.values())


def amount_of(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def _said_so_far(group: Sequence[Entry], entries: Sequence[Entry], label: Callable[[str, str], str],
                 tz: Any) -> str:
    """The reminders already sent for the task's invoices, for the person who calls."""
    invoices = {i for e in group for i in e.invoice_ids}
    first = group[0]
    before = [e for e in by_reference(x for x in entries if x.state is State.SENT and x.sent_at is not None
                                      and x.reference != first.reference and set(x.invoice_ids) & invoices)]
    before = [g for g in before if g[0].sent_at is not None and first.sent_at is not None
              and g[0].sent_at <= first.sent_at]
    if not before:
        return "aucune relance envoyée avant"
    last = max(before, key=lambda g: g[0].updated_at if g[0].sent_at is None else g[0].sent_at)[0]
    when = (last.sent_at or last.updated_at).astimezone(tz)
    return (f"{len(before)} relance(s) déjà envoyée(s), la dernière le {when:%d/%m/%Y} "
            f"({label(last.scenario, last.step)})")


def todo_rows(the_plan: Plan, entries: Sequence[Entry], ledger: Ledger, label: Callable[[str, str], str],
              as_of: date, tz: Any, plan_actions: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows of ``À faire`` (layout TODO keys), sorted by salesperson, date, customer."""
    customers = ledger.customer_index()
    open_ids = {i.id for i in ledger.invoices if i.is_open}
    rows: list[dict[str, Any]] = []
    for action in the_plan.actions:
        if action.sendable:
            continue
        reason = "Cocher « À envoyer » sur la facture pour l'envoyer"
        rows.append({
            "salesperson": action.salesperson, "date": action.planned_date,
            "action": f"Approuver : {_step_and_channel(action.step.label, action.channel)}",
            "customer": action.customer_name, "phone": action.recipients.phone,
            "invoices": ", ".join(i.number or i.invoice_id for i in action.items), "amount": action.amount.amount,
            "reason": f"{reason} — {action.reason}" if action.reason else reason,
        })
    for group in by_reference(entries):
        first = group[0]
        customer = customers.get(first.customer_id)
        base = {
            "salesperson": customer.salesperson if customer else "",
            "customer": first.customer_name,
            "phone": customer.phone if customer else "",
            "invoices": ", ".join(dict.fromkeys(e.invoice_numbers for e in group if e.invoice_numbers)),
            "amount": None if first.amount is None else first.amount.amount,
        }
        if first.state is State.SENT and first.channel in TASK_ACTIONS and first.sent_at is not None:
            if not any(i in open_ids for e in group for i in e.invoice_ids):
                continue  # everything it was about is paid or closed: nothing left to do
            detail = label(first.scenario, first.step)
            if first.channel == "call":
                detail += (f" — à dire : {'' if first.amount is None else first.amount} dus sur {base['invoices']} ; "
                           f"{_said_so_far(group, entries, label, tz)}")
            elif first.artifact:
                detail += f" — {first.artifact}"
            rows.append({**base, "date": first.sent_at.astimezone(tz).date(), "action": TASK_ACTIONS[first.channel],
                         "reason": detail})
        elif first.state is State.UNCERTAIN:
            rows.append({**base, "date": first.updated_at.astimezone(tz).date(),
                         "action": f"Confirmer l'envoi {first.reference}",
                         "reason": f"{label(first.scenario, first.step)} : interrompu pendant l'envoi à "
                                   f"{first.recipients or first.channel}. Chercher le Message-ID "
                                   f"{first.message_id or '(aucun)'} dans la boîte d'envoi ou le journal du "
                                   "serveur, puis "
                                   f"`encours run --confirm {first.reference} sent` (parti) "
                                   "ou `not-sent` (à renvoyer)"})
        elif first.state is State.FAILED and first.attempts >= MAX_ATTEMPTS:
            rows.append({**base, "date": first.updated_at.astimezone(tz).date(),
                         "action": f"Vérifier l'échec d'envoi {first.reference}",
                         "reason": f"{label(first.scenario, first.step)} : {first.reason} — après correction, "
                                   f"`encours run --confirm {first.reference} not-sent` pour renvoyer"})
    wanted = (*PLAN_ACTIONS, *plan_actions)
    rows.extend(row for row in the_plan.todo if row.get("action") in wanted)
    rows.sort(key=lambda r: (str(r["salesperson"]).casefold(), r["date"], str(r["customer"]).casefold()))
    return rows
