"""Turn a planned action into the exact message that goes out (or is previewed).

Public API::

    render(action, scenario, ledger, company, *, as_of, fetch_pdf=None, sent_at=None,
           language=None) -> Message

``fetch_pdf(item)`` returns an invoice's PDF bytes (or ``None``) when the source offers one
(``pdf_url``); fetching is the caller's concern.  ``sent_at`` sets the ``Date`` header (the CLI
edge passes the clock; left ``None`` the message is fully deterministic).  The Message-ID is
derived from the dossier and the action's step keys, so a retried send carries the same id.

What each channel gets:
- e-mail: text + HTML from ``<template>.subject/txt/html.j2``, the statement of open invoices as
  PDF, each invoice's PDF when available, an EPC QR code (inline) and a structured payment
  reference when ``[company] iban`` is set and the currency is EUR; Cc to the salesperson, Bcc
  to the archive, Reply-To;
- letter, formal notice: a PDF letter (``<template>.letter.j2`` blocks ``opening`` and
  ``closing`` around the table of invoices; the formal notice adds late-payment interest, the
  €40 indemnity per invoice, a deadline and the QR code); a step whose e-mail falls back to a
  letter prints its e-mail text as the letter;
- call: talking points (``<template>.txt.j2``) for the ``À faire`` row;
- thanks: a short e-mail, no attachment.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import jinja2

from encours.connectors.model import Invoice, Ledger, Money
from encours.scenarios.actions import ActionItem, PlannedAction
from encours.scenarios.company import CompanySettings
from encours.scenarios.document_labels import LABELS
from encours.scenarios.documents import letter_document, statement_pdf
from encours.scenarios.interest import InterestLine, compute_interest, rates_by_half_year
from encours.scenarios.loader import Scenario
from encours.scenarios.message import Attachment, Message
from encours.scenarios.qr import PaymentReferenceError, epc_payload, qr_png
from encours.scenarios.template_context import message_context, render_blocks, render_part

#: Moved to their own modules; still importable from here.
__all__ = [
    "InterestLine", "PdfFetcher", "check_rendering", "compute_interest", "message_id", "rates_by_half_year",
    "rechecked_ledger", "render",
]

PdfFetcher = Callable[[ActionItem], bytes | None]


def rechecked_ledger(ledger: Ledger, fresh: Mapping[str, Invoice | None]) -> Ledger:
    """The ledger with the invoices just re-read at the source (``None``: gone): the statement
    attached to a message is the re-checked one, not the pull's."""
    if not fresh:
        return ledger
    invoices = tuple(fresh.get(i.id, i) if i.id in fresh else i for i in ledger.invoices)
    return Ledger(ledger.customers, tuple(i for i in invoices if i is not None), ledger.payments)


def message_id(company: CompanySettings, action: PlannedAction) -> str:
    """``<hash.step@domain>``: the same dossier and step keys always give the same id."""
    digest = hashlib.sha256(f"{company.dossier or company.name}\n{action.key}".encode()).hexdigest()[:28]
    step = re.sub(r"[^A-Za-z0-9_-]", "", action.step.id)[:24]
    domain = company.mail_domain
    if domain == "encours.invalid" and "@" in company.sender:
        domain = company.sender.rpartition("@")[2]
    domain = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "encours.invalid"
    return f"<encours.{digest}.{step}@{domain}>"


def _qr(company: CompanySettings, context: Mapping[str, Any], action: PlannedAction) -> bytes | None:
    if not context["qr"]:
        return None
    amount = context["qr_amount"].amount
    try:
        payload = epc_payload(name=company.name, iban=company.iban, bic=company.bic, amount=amount,
                              reference=str(context["reference"]).replace(" ", ""))
    except PaymentReferenceError:
        return None
    return qr_png(payload)


def render(
    action: PlannedAction,
    scenario: Scenario,
    ledger: Ledger,
    company: CompanySettings,
    *,
    as_of: date,
    fetch_pdf: PdfFetcher | None = None,
    sent_at: datetime | None = None,
    language: str | None = None,
) -> Message:
    """The message for one planned action, exactly as it will be sent (see module docstring)."""
    env = scenario.templates
    if env is None:
        raise ValueError(f"scenario {scenario.name!r} was not loaded with its templates")
    lang = language or action.language
    if lang not in LABELS:
        lang = company.language if company.language in LABELS else "fr"
    context = message_context(action, scenario, ledger, company, as_of, lang)
    template = action.step.template
    channel = action.channel
    attachments: list[Attachment] = []
    qr = _qr(company, context, action) if action.step.when != "paid" else None
    html = ""
    letter_pdf: bytes | None = None
    if channel in ("email", "thanks"):
        subject = render_part(env, lang, template, "subject", context)
        text = render_part(env, lang, template, "txt", context)
        html = render_part(env, lang, template, "html", context)
        if channel == "email":
            attachments.append(Attachment(
                f"{LABELS[lang]['statement']} {action.customer_name} {as_of.isoformat()}.pdf".replace("/", "-"),
                statement_pdf(ledger, action, company, as_of, lang, context), "application/pdf"))
            if fetch_pdf is not None:
                for item in action.items:
                    if item.pdf_url:
                        content = fetch_pdf(item)
                        if content:
                            name = f"{LABELS[lang]['invoice_file']} {item.number or item.invoice_id}.pdf"
                            attachments.append(Attachment(name.replace("/", "-"), content, "application/pdf"))
            if qr is not None:
                attachments.append(Attachment("qr-virement.png", qr, "image/png", inline_id="qr@encours"))
    elif channel == "call":
        subject = f"{action.step.label} — {action.customer_name}"
        part = "txt"
        text = render_part(env, lang, template, part, context)
    else:
        subject, text, letter_pdf = letter_document(action, scenario, ledger, company, as_of, lang, context, qr)
    headers = (
        ("X-Encours-Dossier", company.dossier or company.name),
        ("X-Encours-Step", f"{action.scenario}/{action.step.id}"),
    )
    return Message(
        message_id=message_id(company, action),
        channel=channel,
        language=lang,
        subject=" ".join(subject.split()),
        text=text,
        html=html,
        sender=company.sender,
        sender_name=company.name,
        to=action.recipients.to,
        cc=action.recipients.cc,
        bcc=action.recipients.bcc,
        reply_to=action.recipients.reply_to,
        attachments=tuple(attachments),
        letter=letter_pdf,
        customer_id=action.customer_id,
        step_keys=tuple(k.id for k in action.step_keys),
        date=sent_at,
        headers=headers,
    )


def check_rendering(scenario: Scenario) -> None:
    """Render every template part of every step in every language with sample data.

    Loading parses templates; this finds what only rendering finds (a missing included file or
    parent layout, a misspelt variable, a filter used wrongly) before any customer is reminded.
    Raises :class:`~scenarios.loader.ScenarioError` naming the file, the step and the template.
    """
    from encours.connectors.model import Customer, Invoice
    from encours.scenarios.actions import Recipients, StepKey
    from encours.scenarios.loader import CHANNEL_PARTS, LANGUAGES, ScenarioError

    env = scenario.templates
    if env is None:
        return
    as_of = date(2026, 1, 15)
    sample_company = CompanySettings(name="Exemple SARL", dossier="check", iban="FR7630006000011234567890189",
                                     sender="factures@exemple.fr", address="1 rue de la Paix\n75002 Paris")
    client = Customer("C", "Client Exemple", "check", emails=("compta@client.example",), phone="+33 1 00 00 00 00",
                      address="2 avenue Foch\n69006 Lyon")
    invoices = tuple(
        Invoice(f"I{n}", f"F-{n}", "C", "check", as_of - timedelta(days=40 + n), as_of - timedelta(days=10 + n),
                Money(Decimal("120.00")), Money(Decimal("120.00")))
        for n in (1, 2)
    )
    ledger = Ledger((client,), invoices)
    for step in scenario.steps:
        items = tuple(ActionItem(i.id, i.number, i.issue_date, i.due_date or as_of, i.total, i.remaining, i.remaining)
                      for i in invoices)
        cycle = (as_of - timedelta(days=2)).isoformat() if step.when == "broken_promise" else ""
        action = PlannedAction(
            customer_id="C", customer_name=client.name, scenario=scenario.name, step=step, channel=step.channel,
            planned_date=as_of, currency="EUR", amount=Money(Decimal("240.00")), items=items,
            step_keys=tuple(StepKey("invoice", i.invoice_id, scenario.name, step.id, cycle) for i in items),
            recipients=Recipients(("compta@client.example",)), language="fr", salesperson="Julie",
        )
        for language in LANGUAGES:
            context = message_context(action, scenario, ledger, sample_company, as_of, language)
            for part in CHANNEL_PARTS[step.channel]:
                name = f"{language}/{step.template}.{part}.j2"
                try:
                    if part == "letter":
                        render_blocks(env, name, context)
                    else:
                        render_part(env, language, step.template, part, context)
                except jinja2.TemplateNotFound as exc:
                    raise ScenarioError(f"template {name} uses {exc.name}, which is missing", file=scenario.file,
                                        step=step.id, field="template") from None
                except jinja2.TemplateSyntaxError as exc:
                    raise ScenarioError(f"template {exc.filename or exc.name or name}, line {exc.lineno}: "
                                        f"{exc.message}", file=scenario.file, step=step.id, field="template") from None
                except (jinja2.TemplateError, TypeError, ValueError, AttributeError) as exc:
                    raise ScenarioError(f"template {name} cannot be rendered: {exc}", file=scenario.file,
                                        step=step.id, field="template") from None
