"""Invoices and payments built a column at a time from a regular CSV file (:mod:`.columnar`).

The same records as :mod:`.records` builds row by row, or ``None`` as soon as a value is one the
row reader would refuse (it then reads the file again and names the line).  Each distinct date,
amount, currency and word is read once; identical :class:`Money` and dates are shared (they are
frozen values).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from encours.connectors.csvfile.columnar import columns_of, parsed
from encours.connectors.csvfile.columns import CURRENCY_SIGNS, EMAIL, METHODS, SOURCE
from encours.connectors.csvfile.table import Table
from encours.connectors.csvfile.words import document_kind, explicit_status
from encours.connectors.model import (
    Allocation,
    Customer,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    to_cents,
)
from encours.connectors.parsing import parse_amount, parse_currency, parse_date
from encours.connectors.textfile import normalise_name

INVOICE, CREDIT_NOTE = DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE
PAID, OPEN, PARTIALLY_PAID = InvoiceStatus.PAID, InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID


def _currency(text: str) -> str:
    return parse_currency(CURRENCY_SIGNS.get(text, text))


def bulk_invoices(
    table: Table, customers: dict[str, Customer], payment_terms_days: int
) -> tuple[list[Invoice], dict[str, Customer]] | None:
    """:func:`~.records.read_invoices` of a regular file, or ``None`` (then read it row by row)."""
    headers = table.headers
    if "id" not in headers and "number" not in headers:
        return None
    columns = columns_of(table, anchor="date")
    if columns is None:
        return None
    numbers = columns.get("number")
    if "id" in headers:
        ids = [invoice_id or number for invoice_id, number in zip(columns.get("id"), numbers, strict=True)]
        numbers = [number or invoice_id for number, invoice_id in zip(numbers, ids, strict=True)]
    else:
        ids = numbers
    if "" in ids or len(set(ids)) != len(ids):
        return None
    # Without a customer id column, the name is the id (renaming the customer then starts a new one).
    names = columns.get("customer_name")
    customer_ids = columns.get("customer_id") if "customer_id" in headers else names
    if "" in customer_ids:
        return None
    emails, salespersons = columns.get("email"), columns.get("salesperson")
    if any(not EMAIL.fullmatch(email) for email in set(emails) if email):
        return None
    added = _added_customers(customers, customer_ids, names, emails, salespersons)
    if added is None:
        return None
    everyone = {**added, **customers}
    terms_of = {
        customer_id: payment_terms_days if customer.payment_terms_days is None else customer.payment_terms_days
        for customer_id, customer in everyone.items()
    }
    salesperson_of = {customer_id: customer.salesperson for customer_id, customer in everyone.items()}

    dates = parsed(columns.get("date"), parse_date)
    due_dates = parsed(columns.get("due_date"), lambda text: parse_date(text) if text else None)
    amounts = parsed([*columns.get("total"), *columns.get("remaining")], parse_amount)
    currencies = parsed(columns.get("currency"), lambda text: _currency(text) if text else "EUR")
    kinds = parsed(columns.get("kind"), document_kind)
    statuses = {text: explicit_status(normalise_name(text)) for text in set(columns.get("status"))}
    if dates is None or due_dates is None or amounts is None or currencies is None or kinds is None:
        return None
    moneys: dict[tuple[Decimal, str], Money] = {}
    terms_due: dict[tuple[date, int], date] = {}
    invoices: list[Invoice] = []
    append = invoices.append
    for (
        invoice_id,
        number,
        customer_id,
        issue_text,
        due_text,
        total_text,
        remaining_text,
        currency_text,
        kind_text,
        status_text,
        salesperson,
        label,
        pdf_url,
    ) in zip(
        ids,
        numbers,
        customer_ids,
        columns.get("date"),
        columns.get("due_date"),
        columns.get("total"),
        columns.get("remaining"),
        columns.get("currency"),
        columns.get("kind"),
        columns.get("status"),
        salespersons,
        columns.get("label"),
        columns.get("pdf_url"),
        strict=True,
    ):
        total, remaining = amounts[total_text], amounts[remaining_text]
        kind = kinds[kind_text] or (CREDIT_NOTE if total < 0 else INVOICE)
        if kind is INVOICE and total < 0:
            return None
        if total != 0 and remaining != 0 and (total < 0) != (remaining < 0):
            return None
        total, remaining = abs(total), abs(remaining)
        if remaining > total:
            return None
        issue = dates[issue_text]
        due = due_dates[due_text]
        if due is None:
            if kind is CREDIT_NOTE:
                due = issue
            else:
                terms = terms_of[customer_id]
                due = terms_due.get((issue, terms))
                if due is None:
                    due = terms_due[(issue, terms)] = issue + timedelta(days=terms)
        currency = currencies[currency_text]
        status = statuses[status_text]
        if status is None:
            status = PAID if remaining == 0 else OPEN if remaining == total else PARTIALLY_PAID
        total_money = moneys.get((total, currency))
        if total_money is None:
            total_money = moneys[(total, currency)] = Money(to_cents(total), currency)
        remaining_money = moneys.get((remaining, currency))
        if remaining_money is None:
            remaining_money = moneys[(remaining, currency)] = Money(to_cents(remaining), currency)
        append(
            Invoice(
                invoice_id,
                number,
                customer_id,
                SOURCE,
                issue,
                due,
                total_money,
                remaining_money,
                kind,
                status,
                status_text,
                salesperson or salesperson_of[customer_id],
                label,
                pdf_url,
            )
        )
    return invoices, added


def _added_customers(
    customers: dict[str, Customer],
    customer_ids: list[str],
    names: list[str],
    emails: list[str],
    salespersons: list[str],
) -> dict[str, Customer] | None:
    """The customers the invoices name and *customers* lacks, as the row reader adds them (``None``:
    one has no name on its first row)."""
    first_row = dict(zip(reversed(customer_ids), range(len(customer_ids) - 1, -1, -1), strict=True))
    more_emails: dict[str, dict[str, None]] = {}
    if any(emails):
        for customer_id, email in zip(customer_ids, emails, strict=True):
            if email and customer_id not in customers:
                more_emails.setdefault(customer_id, {})[email] = None
    added: dict[str, Customer] = {}
    for customer_id in dict.fromkeys(customer_ids):
        if customer_id in customers:
            continue
        row = first_row[customer_id]
        if not names[row]:
            return None
        added[customer_id] = Customer(
            id=customer_id,
            name=names[row],
            source=SOURCE,
            emails=tuple(more_emails.get(customer_id, ())),
            salesperson=salespersons[row],
        )
    return added


def bulk_payments(table: Table, invoices: list[Invoice]) -> list[Payment] | None:
    """:func:`~.records.read_payments` of a regular file, or ``None`` (then read it row by row)."""
    if "customer_id" not in table.headers and "invoice" not in table.headers:
        return None
    columns = columns_of(table, anchor="date")
    if columns is None:
        return None
    by_id = {i.id: i for i in invoices}
    by_number = {i.number: i for i in invoices}
    references = columns.get("invoice")
    invoice_of: dict[str, Invoice | None] = {
        reference: (by_id.get(reference) or by_number.get(reference)) if reference else None
        for reference in set(references)
    }
    days = parsed(columns.get("date"), parse_date)
    amounts = parsed(columns.get("amount"), parse_amount)
    codes = parsed(columns.get("currency"), lambda text: _currency(text) if text else "")
    if days is None or amounts is None or codes is None:
        return None
    methods = {text: METHODS.get(normalise_name(text), text) for text in set(columns.get("method"))}
    stem = Path(table.file).stem
    moneys: dict[tuple[str, str], Money] = {}
    grouped: dict[str, tuple[Payment, int]] = {}
    for line, reference, customer_text, day_text, amount_text, currency_text, payment_text, method, note in zip(
        columns.lines,
        references,
        columns.get("customer_id"),
        columns.get("date"),
        columns.get("amount"),
        columns.get("currency"),
        columns.get("id"),
        columns.get("method"),
        columns.get("reference"),
        strict=True,
    ):
        invoice = invoice_of[reference]
        customer_id = customer_text or (invoice.customer_id if invoice else "")
        if not customer_id or (invoice is not None and invoice.customer_id != customer_id):
            return None
        day = days[day_text]
        currency = codes[currency_text] or (invoice.currency if invoice else "EUR")
        money = moneys.get((amount_text, currency))
        if money is None:
            money = moneys[(amount_text, currency)] = Money(to_cents(amounts[amount_text]), currency)
        allocations = (Allocation(invoice.id if invoice else reference, money),) if reference else ()
        payment_id = payment_text or f"{stem}:{line}"
        previous = grouped.get(payment_id)
        if previous is None:
            grouped[payment_id] = (
                Payment(payment_id, customer_id, SOURCE, day, money, allocations, methods[method], note),
                line,
            )
            continue
        payment, first = previous
        if (payment.customer_id, payment.date, payment.amount.currency) != (customer_id, day, currency):
            return None
        grouped[payment_id] = (
            Payment(
                payment.id,
                customer_id,
                SOURCE,
                day,
                Money(payment.amount.amount + money.amount, currency),
                payment.allocations + allocations,
                payment.method,
                payment.reference,
            ),
            first,
        )
    return [payment for payment, _ in grouped.values()]
