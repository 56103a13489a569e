"""The tables printed in letters and statements, net of the customer's credits (issue 11 item 3).

When payments on account or credit notes are deducted, the message asks only the net and names
each credit; the PDF says the same in figures: each invoice with what it owes, each credit
deducted on its own line (a minus sign), and the net claimed — so that the rows add up to the
total printed under them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from encours.connectors.model import Invoice, Ledger, Money
from encours.scenarios.actions import PlannedAction
from encours.scenarios.credits import Credit
from encours.scenarios.formatting import format_date, format_money
from encours.scenarios.letter import LetterTable

#: The words of credit lines, per language.
CREDIT_WORDS: Mapping[str, Mapping[str, str]] = {
    "fr": {"payment": "Paiement reçu", "credit_note": "Avoir", "invoices_total": "Total des factures",
           "credits_total": "Paiements et avoirs déduits", "on_invoice": "imputé sur"},
    "nl": {"payment": "Ontvangen betaling", "credit_note": "Creditnota", "invoices_total": "Totaal facturen",
           "credits_total": "Afgetrokken betalingen en creditnota's", "on_invoice": "toegerekend op"},
    "en": {"payment": "Payment received", "credit_note": "Credit note", "invoices_total": "Invoices total",
           "credits_total": "Payments and credit notes deducted", "on_invoice": "applied to"},
}


def _words(language: str) -> Mapping[str, str]:
    return CREDIT_WORDS.get(language, CREDIT_WORDS["fr"])


def _minus(amount: Money, language: str) -> str:
    return f"− {format_money(amount, language)}"


def credit_label(credit: Credit, language: str) -> str:
    """"Paiement reçu VIR 2026-11 (imputé sur F-12)", "Avoir AV-3"."""
    words = _words(language)
    text = f"{words[credit.kind] if credit.kind in words else words['payment']} {credit.reference}".strip()
    if credit.invoice_number:
        text += f" ({words['on_invoice']} {credit.invoice_number})"
    return text


def deducted(action: PlannedAction) -> list[tuple[Credit, Money]]:
    """Each credit with the part of it the action deducts (credits attributed to its invoices first,
    then the others, until the gross comes down to the net asked)."""
    if not action.credits:
        return []
    gross = invoice_gross(action)
    left = gross.amount - action.amount.amount
    out = []
    for credit in action.credits:
        if left <= 0:
            break
        part = min(credit.amount.amount, left)
        out.append((credit, Money(part, action.currency)))
        left -= part
    return out


def invoice_gross(action: PlannedAction) -> Money:
    """What the action's invoices owe before any credit (an attributed credit is added back to its invoice)."""
    return sum((_owed(action, item.invoice_id, item.amount) for item in action.items), Money.zero(action.currency))


def _owed(action: PlannedAction, invoice_id: str, amount: Money) -> Money:
    back = sum((c.amount for c in action.credits if c.invoice_id == invoice_id), Money.zero(action.currency))
    return amount + back


def claim_table(action: PlannedAction, context: Mapping[str, Any], labels: Mapping[str, str], language: str,
                *, formal: bool) -> LetterTable:
    """The invoices a letter or formal notice claims, the credits deducted, the totals."""
    rows: list[tuple[str, ...]] = []
    for item, line in zip(action.items, context["interest_lines"], strict=True):
        row = [item.number or item.invoice_id, format_date(item.issue_date, language),
               format_date(item.due_date, language), format_money(_owed(action, item.invoice_id, item.amount),
                                                                   language)]
        if formal:
            row += [format_money(line.interest, language), format_money(line.indemnity, language)]
        rows.append(tuple(row))
    credits = deducted(action)
    for credit, part in credits:
        row = [credit_label(credit, language), format_date(credit.on, language), "", _minus(part, language)]
        if formal:
            row += ["", ""]
        rows.append(tuple(row))
    headings = [labels["number"], labels["date"], labels["due"], labels["remaining"]]
    gross_line: tuple[tuple[str, str], ...] = ()
    if credits:
        gross_line = ((_words(language)["invoices_total"], format_money(invoice_gross(action), language)),
                      (_words(language)["credits_total"],
                       _minus(sum((p for _, p in credits), Money.zero(action.currency)), language)))
    if formal:
        headings += [labels["interest"], labels["indemnity"]]
        totals: tuple[tuple[str, str], ...] = (
            *gross_line,
            (labels["principal"], format_money(action.amount, language)),
            (f"{labels['interest_total']} ({', '.join(context['rates'])})",
             format_money(context["interest_total"], language)),
            (labels["indemnity_total"] if context["indemnity_in_total"]
             else f"{labels['indemnity_total']} ({labels['in_addition']})",
             format_money(context["indemnity_total"], language)),
            (labels["claim"], format_money(context["claim_total"], language)),
        )
        return LetterTable(tuple(headings), tuple(rows), totals, (28, 20, 20, 26, 22, 22))
    totals = (*gross_line, (labels["to_pay"], format_money(action.amount, language)))
    return LetterTable(tuple(headings), tuple(rows), totals, (34, 24, 24, 30))


def statement_credits(ledger: Ledger, customer_id: str, currency: str) -> list[Credit]:
    """The customer's payments on account in ``currency`` (its open credit notes are statement rows already)."""
    return [Credit(c.reference or c.label or c.id, c.date, c.amount, "payment")
            for c in ledger.unallocated_credits(customer_id) if c.amount.currency == currency]


def statement_table(statement: Sequence[Invoice], credits: Sequence[Credit], balance: Money,
                    labels: Mapping[str, str], language: str, terms: int) -> LetterTable:
    """Every open invoice and credit note, then the payments on account, and the balance they leave."""
    rows = []
    for invoice in statement:
        number = invoice.number or invoice.id
        if invoice.is_credit_note:
            number = f"{labels['credit_note']} {number}"
        rows.append((number, format_date(invoice.issue_date, language),
                     format_date(invoice.effective_due_date(terms), language),
                     format_money(invoice.signed_total, language), format_money(invoice.signed_remaining, language)))
    for credit in credits:
        rows.append((credit_label(credit, language), format_date(credit.on, language), "", "",
                     _minus(credit.amount, language)))
    return LetterTable(
        (labels["number"], labels["date"], labels["due"], labels["total"], labels["remaining"]),
        tuple(rows), ((labels["balance"], format_money(balance, language)),), (34, 22, 22, 30, 30))
