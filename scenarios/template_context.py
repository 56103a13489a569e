"""What the templates of one planned action see: its invoices, the statement of the customer's
open invoices, the payment reference and QR amount, interest and indemnities, credits deducted,
the deadline of a formal notice — and the two ways a template part is rendered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import jinja2

from encours.connectors.model import Invoice, Ledger, Money
from encours.scenarios.actions import PlannedAction
from encours.scenarios.company import CompanySettings
from encours.scenarios.document_labels import joined
from encours.scenarios.formatting import format_percent
from encours.scenarios.interest import compute_interest, imputed_payments, rates_by_half_year
from encours.scenarios.letter_tables import deducted, statement_credits
from encours.scenarios.loader import Scenario
from encours.scenarios.qr import PaymentReferenceError, format_rf, payment_reference, valid_iban


def _statement_invoices(ledger: Ledger, action: PlannedAction) -> list[Invoice]:
    return sorted(
        (i for i in ledger.invoices
         if i.customer_id == action.customer_id and i.is_open and i.currency == action.currency),
        key=lambda i: (i.effective_due_date(), i.number, i.id),
    )


def message_context(
    action: PlannedAction,
    scenario: Scenario,
    ledger: Ledger,
    company: CompanySettings,
    as_of: date,
    language: str,
) -> dict[str, Any]:
    customer = ledger.customer_index().get(action.customer_id)
    invoices = [
        {
            "id": i.invoice_id, "number": i.number or i.invoice_id, "issue_date": i.issue_date, "due_date": i.due_date,
            "total": i.total, "remaining": i.remaining, "amount": i.amount, "days_late": (as_of - i.due_date).days,
            "instalment": bool(i.cycle) and i.amount != i.remaining,
        }
        for i in action.items
    ]
    statement = _statement_invoices(ledger, action)
    on_account = statement_credits(ledger, action.customer_id, action.currency)
    balance = sum((i.signed_remaining for i in statement), Money.zero(action.currency)) - sum(
        (c.amount for c in on_account), Money.zero(action.currency))
    reference = ""
    if company.iban and action.currency == "EUR":
        key = (action.items[0].number if len(action.items) == 1
               else f"{action.customer_id}{action.planned_date:%y%m%d}")
        source_ref = ""
        if len(action.items) == 1:
            source_ref = next((i.payment_reference for i in ledger.invoices if i.id == action.items[0].invoice_id), "")
        try:
            reference = payment_reference(company.country, key, source_ref)
        except PaymentReferenceError:
            reference = ""
    # payments on account the message deducts settle its oldest invoices first: interest stops on what they paid
    free = [(credit.on, part) for credit, part in deducted(action) if not credit.invoice_id]
    paid = imputed_payments(action.items, free)
    interest = [compute_interest(i, as_of, company, paid.get(i.invoice_id, ())) for i in action.items]
    interest_total = sum((line.interest for line in interest), Money.zero(action.currency))
    indemnity_total = sum((line.indemnity for line in interest), Money.zero("EUR"))
    claim = action.amount + interest_total
    if action.currency == "EUR":
        claim = claim + indemnity_total
    rates = sorted({line.rate for line in interest if line.days > 0})
    # the formal notice claims principal, interest and indemnities: its QR code asks for all of it
    qr_amount = claim if action.step.channel == "formal_notice" and action.currency == "EUR" else action.amount
    first_due = min(i.due_date for i in action.items)
    return {
        "language": language,
        "company": company,
        "customer": customer,
        "customer_name": action.customer_name,
        "salesperson": action.salesperson,
        "step": action.step,
        "scenario": scenario.label,
        # gentle, standard and firm read differently (a scenario of your own reads as standard)
        "tone": scenario.name if scenario.name in ("gentle", "firm") else "standard",
        "channel": action.channel,
        "invoices": invoices,
        "count": len(invoices),
        "total": action.amount,
        "currency": action.currency,
        "as_of": as_of,
        "due_date": first_due,
        "days_to_due": (first_due - as_of).days,
        "days_late": max(0, (as_of - first_due).days),
        "statement": statement,
        "statement_credits": on_account,  # payments on account: rows of the statement, off its balance
        "balance": balance,
        "reference": format_rf(reference) if reference.startswith("RF") else reference,
        "iban": " ".join(company.iban[i:i + 4] for i in range(0, len(company.iban), 4)),
        "bic": company.bic,
        "qr": bool(reference) and valid_iban(company.iban),
        "interest_lines": interest,
        "imputed": bool(paid),  # payments on account stopped interest on what they settled
        "interest_total": interest_total,
        "indemnity_total": indemnity_total,
        "claim_total": claim,
        "qr_amount": qr_amount,
        "rate": format_percent(rates[-1], language) if rates else "",
        "rates": rates_by_half_year(interest, language),
        "rates_text": joined(rates_by_half_year(interest, language), language),
        "indemnity_in_total": action.currency == "EUR",
        "deadline": as_of + timedelta(days=company.formal_notice_days),
        "deadline_days": company.formal_notice_days,
        "country": company.country,
        "paid_total": sum((i.total for i in action.items), Money.zero(action.currency)),
        # credits deducted (issue 11 item 3): the message names each, and asks only the net
        "credits": _credits(action),
        "promise_date": _promise_date(action),
    }


def _credits(action: PlannedAction) -> list[dict[str, Any]]:
    """The credits a message names, each with the part of it that comes off the total it asks
    (``applied``), so that its arithmetic holds on its face: the invoices listed (net of the credits
    attributed to them) less the parts applied make the total.  A credit attributed to an invoice is
    already in that invoice's line (applied 0); a free credit the customer's other overdue invoices
    absorb (they are not in this message) is applied only in part, or not at all — and says so."""
    zero = Money.zero(action.currency)
    parts = [part for _, part in deducted(action)]  # the letter's own split, in the credits' order
    return [
        {"reference": c.reference, "on": c.on, "amount": c.amount, "kind": c.kind,
         "invoice_number": c.invoice_number,
         "applied": zero if c.invoice_number or n >= len(parts) else parts[n]}
        for n, c in enumerate(action.credits)
    ]


def _promise_date(action: PlannedAction) -> date | None:
    if action.step.when != "broken_promise":
        return None
    cycles = [k.cycle for k in action.step_keys if k.cycle]
    return date.fromisoformat(min(cycles)) if cycles else None


def render_part(env: jinja2.Environment, language: str, template: str, part: str, context: Mapping[str, Any]) -> str:
    return env.get_template(f"{language}/{template}.{part}.j2").render(context).strip()


def render_blocks(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> dict[str, str]:
    template = env.get_template(name)
    ctx = template.new_context(dict(context))
    return {block: "".join(render(ctx)).strip() for block, render in template.blocks.items()}
