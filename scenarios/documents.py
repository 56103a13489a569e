"""The PDF documents a message carries: the statement of account attached to each e-mail, and the
letter or formal notice (opening and closing from the template around the table of invoices, with
interest, indemnities, the QR code and its caption) — laid out by :mod:`encours.scenarios.letter_pdf`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from encours.connectors.model import Ledger
from encours.scenarios.actions import PlannedAction
from encours.scenarios.company import CompanySettings
from encours.scenarios.document_labels import BELGIAN_FR, LABELS
from encours.scenarios.formatting import format_date, format_money
from encours.scenarios.letter import Letter
from encours.scenarios.letter_tables import claim_table, statement_table
from encours.scenarios.loader import Scenario
from encours.scenarios.template_context import render_blocks, render_part


def build_letter_pdf(letter: Letter) -> bytes:
    """The letter's PDF — fpdf2 is imported only when a letter is built, so a sync never loads it."""
    from encours.scenarios.letter_pdf import build_letter_pdf as lay_out

    return lay_out(letter)


def statement_pdf(ledger: Ledger, action: PlannedAction, company: CompanySettings, as_of: date,
                   language: str, context: Mapping[str, Any]) -> bytes:
    labels = LABELS[language]
    table = statement_table(context["statement"], context["statement_credits"], context["balance"], labels, language,
                            company.payment_terms_days)
    letter = Letter(
        sender=_sender_lines(company),
        recipient=_recipient_lines(action, ledger),
        place_date=format_date(as_of, language, long=True),
        title=f"{labels['statement_of']} {format_date(as_of, language)}",
        table=table,
        letter_date=as_of,
        footer=company.name,
    )
    return build_letter_pdf(letter)


def _sender_lines(company: CompanySettings) -> tuple[str, ...]:
    lines = [company.name, *[x.strip() for x in company.address.split("\n") if x.strip()]]
    if company.siren:
        lines.append(f"SIREN {company.siren}" if company.country == "FR" else f"BCE {company.siren}")
    if company.vat_number:
        lines.append(company.vat_number)
    if company.phone:
        lines.append(company.phone)
    if company.sender:
        lines.append(company.sender)
    return tuple(lines)


def _recipient_lines(action: PlannedAction, ledger: Ledger) -> tuple[str, ...]:
    customer = ledger.customer_index().get(action.customer_id)
    address = action.recipients.address or (customer.address if customer else "")
    lines = [action.customer_name, *[x.strip() for x in re.split(r"\n|, ", address) if x.strip()]]
    if customer is not None and customer.siren:
        lines.append(f"SIREN {customer.siren}" if len(customer.siren) == 9 else customer.siren)
    elif customer is not None and customer.vat_number:
        lines.append(customer.vat_number)
    return tuple(lines)


def letter_document(
    action: PlannedAction,
    scenario: Scenario,
    ledger: Ledger,
    company: CompanySettings,
    as_of: date,
    language: str,
    context: Mapping[str, Any],
    qr: bytes | None,
) -> tuple[str, str, bytes]:
    """(subject, plain text, PDF) of a letter or formal notice."""
    env = scenario.templates
    assert env is not None
    labels = LABELS[language]
    if company.country == "BE" and language == "fr":
        labels = {**labels, **BELGIAN_FR}
    template = action.step.template
    subject = render_part(env, language, template, "subject", context)
    if action.step.channel in ("letter", "formal_notice"):
        blocks = render_blocks(env, f"{language}/{template}.letter.j2", context)
        opening, closing, title = blocks.get("opening", ""), blocks.get("closing", ""), blocks.get("title", "")
    else:  # an e-mail step printed because the customer has no e-mail address
        opening, closing, title = render_part(env, language, template, "txt", context), "", subject
    formal = action.step.channel == "formal_notice"
    table = claim_table(action, context, labels, language, formal=formal) if action.step.channel != "email" else None
    caption: tuple[str, ...] = ()
    if qr is not None:
        caption = (labels["qr"], f"{labels['iban']} : {context['iban']}" + (f"  BIC : {company.bic}" if company.bic
                                                                                else ""),
                   f"{labels['reference']} : {context['reference']}",
                   f"{labels['to_pay']} : {format_money(context['qr_amount'], language)}")
    letter = Letter(
        sender=_sender_lines(company),
        recipient=_recipient_lines(action, ledger),
        place_date=format_date(as_of, language, long=True),
        title=title or subject,
        subject=subject if title and title != subject else "",
        mention=labels["registered"] if formal else "",
        opening=opening,
        table=table,
        closing=closing,
        signature=tuple(x for x in (company.signature or company.name).split("\n") if x),
        qr_png=qr,
        qr_caption=caption,
        footer=company.name,
        letter_date=as_of,
    )
    text_parts = [title or subject, opening]
    if table is not None:
        text_parts.append("\n".join(" | ".join(r) for r in (table.headings, *table.rows)))
        text_parts.append("\n".join(f"{label}: {value}" for label, value in table.totals))
    text_parts.append(closing)
    return subject, "\n\n".join(p for p in text_parts if p), build_letter_pdf(letter)
