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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import jinja2

from encours.connectors.model import Invoice, Ledger, Money, to_cents
from encours.scenarios.company import CompanySettings
from encours.scenarios.formatting import format_date, format_money, format_percent
from encours.scenarios.letter import Letter
from encours.scenarios.letter_tables import claim_table, statement_credits, statement_table
from encours.scenarios.loader import Scenario
from encours.scenarios.message import Attachment, Message
from encours.scenarios.planner import ActionItem, PlannedAction
from encours.scenarios.qr import PaymentReferenceError, epc_payload, format_rf, payment_reference, qr_png, valid_iban

PdfFetcher = Callable[[ActionItem], bytes | None]


def build_letter_pdf(letter: Letter) -> bytes:
    """The letter's PDF — fpdf2 is imported only when a letter is built, so a sync never loads it."""
    from encours.scenarios.letter_pdf import build_letter_pdf as lay_out

    return lay_out(letter)

#: Belgian law speaks of interest, not of the French "pénalités" (loi du 2 août 2002).
BELGIAN_FR = {"interest": "Intérêts", "interest_total": "Intérêts de retard"}

LABELS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "number": "N° facture", "date": "Date", "due": "Échéance", "total": "Montant TTC", "remaining": "Reste dû",
        "asked": "Montant réclamé", "interest": "Pénalités", "indemnity": "Indemnité", "statement": "Relevé de compte",
        "statement_of": "Relevé de compte au", "balance": "Solde dû", "credit_note": "Avoir",
        "principal": "Principal restant dû", "interest_total": "Pénalités de retard",
        "indemnity_total": "Indemnités forfaitaires pour frais de recouvrement", "claim": "Total réclamé",
        "qr": "Payer par virement : scannez ce code avec votre application bancaire.", "iban": "IBAN",
        "reference": "Communication", "registered": "Lettre recommandée avec accusé de réception",
        "invoice_file": "facture", "to_pay": "Total à payer", "days_late": "Jours de retard",
        "in_addition": "dues en sus, hors total",
    },
    "nl": {
        "number": "Factuurnr.", "date": "Datum", "due": "Vervaldag", "total": "Bedrag incl. btw",
        "remaining": "Openstaand", "asked": "Gevraagd bedrag", "interest": "Intresten", "indemnity": "Vergoeding",
        "statement": "Rekeninguittreksel", "statement_of": "Rekeninguittreksel op", "balance": "Openstaand saldo",
        "credit_note": "Creditnota", "principal": "Openstaande hoofdsom", "interest_total": "Verwijlintresten",
        "indemnity_total": "Forfaitaire vergoedingen voor invorderingskosten", "claim": "Totaal gevorderd",
        "qr": "Betalen via overschrijving: scan deze code met uw bankapp.", "iban": "IBAN",
        "reference": "Gestructureerde mededeling", "registered": "Aangetekende brief",
        "invoice_file": "factuur", "to_pay": "Totaal te betalen", "days_late": "Dagen te laat",
        "in_addition": "bijkomend, niet in het totaal",
    },
    "en": {
        "number": "Invoice no.", "date": "Date", "due": "Due date", "total": "Amount incl. VAT",
        "remaining": "Outstanding", "asked": "Amount requested", "interest": "Interest", "indemnity": "Indemnity",
        "statement": "Statement of account", "statement_of": "Statement of account as of", "balance": "Balance due",
        "credit_note": "Credit note", "principal": "Principal outstanding", "interest_total": "Late-payment interest",
        "indemnity_total": "Fixed recovery indemnities", "claim": "Total claimed",
        "qr": "Pay by bank transfer: scan this code with your banking app.", "iban": "IBAN",
        "reference": "Payment reference", "registered": "Registered letter with acknowledgement of receipt",
        "invoice_file": "invoice", "to_pay": "Total to pay", "days_late": "Days late",
        "in_addition": "due in addition, not in the total",
    },
}


@dataclass(frozen=True)
class InterestLine:
    number: str
    due_date: date
    amount: Money
    days: int
    rate: Decimal
    interest: Money
    indemnity: Money
    periods: tuple[tuple[date, Decimal], ...] = ()  # (first day of each half-year charged, its rate)


def compute_interest(item: ActionItem, as_of: date, company: CompanySettings) -> InterestLine:
    """Late-payment interest and the fixed indemnity on one reminded invoice, as of a date.

    The one call into the rate table (:mod:`encours.sheets_addin.rates`): interest on the amount due
    including VAT from the day after the due date to ``as_of``, the statutory rate of the
    company's country (or the contractual ``[company] interest_rate``, floored as the law says).
    """
    from encours.sheets_addin.rates import late_interest

    currency = item.amount.currency
    # a payment plan: each instalment bears interest from its own date, on its own unpaid part
    parts = [(when, part.amount) for when, part in item.instalments] or [(item.due_date, item.amount.amount)]
    results = [late_interest(amount, when, as_of, company.country, contract_rate=company.interest_rate)
               for when, amount in parts]
    interest = sum((r.interest for r in results), Decimal(0))
    days = max(r.days for r in results)
    slices = [p for r in results for p in r.parts if p.days > 0]
    rate = slices[-1].rate if slices else Decimal(0)
    indemnity = company.indemnity if days > 0 and item.amount.amount > 0 else Decimal(0)
    periods = tuple(dict.fromkeys((p.start, p.rate) for p in slices))
    return InterestLine(item.number or item.invoice_id, item.due_date, item.amount, days, rate,
                        Money(interest, currency), Money(to_cents(indemnity), "EUR"), periods)


def _half_year(start: date, language: str) -> str:
    half = 1 if start.month <= 6 else 2
    if language == "fr":
        return f"{half}{'er' if half == 1 else 'e'} semestre {start.year}"
    if language == "nl":
        return f"{half}e semester {start.year}"
    return f"H{half} {start.year}"


def rates_by_half_year(lines: list[InterestLine], language: str) -> list[str]:
    """Each half-year's rate the interest charges, oldest first: "12,15 % (2e semestre 2026)"."""
    seen: dict[tuple[int, int], Decimal] = {}
    for line in lines:
        for start, rate in line.periods:
            seen.setdefault((start.year, 1 if start.month <= 6 else 2), rate)
    return [f"{format_percent(rate, language)} ({_half_year(date(year, 1 if half == 1 else 7, 1), language)})"
            for (year, half), rate in sorted(seen.items())]


def _joined(parts: list[str], language: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    word = {"fr": "et", "nl": "en"}.get(language, "and")
    return f"{', '.join(parts[:-1])} {word} {parts[-1]}"


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


def _statement_invoices(ledger: Ledger, action: PlannedAction) -> list[Invoice]:
    return sorted(
        (i for i in ledger.invoices
         if i.customer_id == action.customer_id and i.is_open and i.currency == action.currency),
        key=lambda i: (i.effective_due_date(), i.number, i.id),
    )


def _context(
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
    interest = [compute_interest(i, as_of, company) for i in action.items]
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
        "interest_total": interest_total,
        "indemnity_total": indemnity_total,
        "claim_total": claim,
        "qr_amount": qr_amount,
        "rate": format_percent(rates[-1], language) if rates else "",
        "rates": rates_by_half_year(interest, language),
        "rates_text": _joined(rates_by_half_year(interest, language), language),
        "indemnity_in_total": action.currency == "EUR",
        "deadline": as_of + timedelta(days=company.formal_notice_days),
        "deadline_days": company.formal_notice_days,
        "country": company.country,
        "paid_total": sum((i.total for i in action.items), Money.zero(action.currency)),
        # credits deducted (issue 11 item 3): the message names each, and asks only the net
        "credits": [
            {"reference": c.reference, "on": c.on, "amount": c.amount, "kind": c.kind,
             "invoice_number": c.invoice_number}
            for c in action.credits
        ],
        "promise_date": _promise_date(action),
    }


def _promise_date(action: PlannedAction) -> date | None:
    if action.step.when != "broken_promise":
        return None
    cycles = [k.cycle for k in action.step_keys if k.cycle]
    return date.fromisoformat(min(cycles)) if cycles else None


def _render_part(env: jinja2.Environment, language: str, template: str, part: str, context: Mapping[str, Any]) -> str:
    return env.get_template(f"{language}/{template}.{part}.j2").render(context).strip()


def _blocks(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> dict[str, str]:
    template = env.get_template(name)
    ctx = template.new_context(dict(context))
    return {block: "".join(render(ctx)).strip() for block, render in template.blocks.items()}


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


def _statement_pdf(ledger: Ledger, action: PlannedAction, company: CompanySettings, as_of: date,
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


def _letter(
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
    subject = _render_part(env, language, template, "subject", context)
    if action.step.channel in ("letter", "formal_notice"):
        blocks = _blocks(env, f"{language}/{template}.letter.j2", context)
        opening, closing, title = blocks.get("opening", ""), blocks.get("closing", ""), blocks.get("title", "")
    else:  # an e-mail step printed because the customer has no e-mail address
        opening, closing, title = _render_part(env, language, template, "txt", context), "", subject
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
    context = _context(action, scenario, ledger, company, as_of, lang)
    template = action.step.template
    channel = action.channel
    attachments: list[Attachment] = []
    qr = _qr(company, context, action) if action.step.when != "paid" else None
    html = ""
    letter_pdf: bytes | None = None
    if channel in ("email", "thanks"):
        subject = _render_part(env, lang, template, "subject", context)
        text = _render_part(env, lang, template, "txt", context)
        html = _render_part(env, lang, template, "html", context)
        if channel == "email":
            attachments.append(Attachment(
                f"{LABELS[lang]['statement']} {action.customer_name} {as_of.isoformat()}.pdf".replace("/", "-"),
                _statement_pdf(ledger, action, company, as_of, lang, context), "application/pdf"))
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
        text = _render_part(env, lang, template, part, context)
    else:
        subject, text, letter_pdf = _letter(action, scenario, ledger, company, as_of, lang, context, qr)
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
    from encours.scenarios.loader import CHANNEL_PARTS, LANGUAGES, ScenarioError
    from encours.scenarios.planner import Recipients, StepKey

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
            context = _context(action, scenario, ledger, sample_company, as_of, language)
            for part in CHANNEL_PARTS[step.channel]:
                name = f"{language}/{step.template}.{part}.j2"
                try:
                    if part == "letter":
                        _blocks(env, name, context)
                    else:
                        _render_part(env, language, step.template, part, context)
                except jinja2.TemplateNotFound as exc:
                    raise ScenarioError(f"template {name} uses {exc.name}, which is missing", file=scenario.file,
                                        step=step.id, field="template") from None
                except jinja2.TemplateSyntaxError as exc:
                    raise ScenarioError(f"template {exc.filename or exc.name or name}, line {exc.lineno}: "
                                        f"{exc.message}", file=scenario.file, step=step.id, field="template") from None
                except (jinja2.TemplateError, TypeError, ValueError, AttributeError) as exc:
                    raise ScenarioError(f"template {name} cannot be rendered: {exc}", file=scenario.file,
                                        step=step.id, field="template") from None
