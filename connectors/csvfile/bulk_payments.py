"""Payments built a column at a time from a regular CSV file (:mod:`.columnar`).

The same payments as :func:`~.records.read_payments` builds row by row, or ``None`` as soon as a
value is one the row reader would refuse (it then reads the file again and names the line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from itertools import repeat
from operator import attrgetter
from pathlib import Path

from encours.connectors.csvfile.columnar import built, columns_of, parsed
from encours.connectors.csvfile.columns import CURRENCY_SIGNS, METHODS, SOURCE
from encours.connectors.csvfile.table import Table
from encours.connectors.model import Allocation, Invoice, Money, Payment, to_cents
from encours.connectors.parsing import parse_amount, parse_currency, parse_date
from encours.connectors.textfile import normalise_name


def _currency(text: str) -> str:
    return parse_currency(CURRENCY_SIGNS.get(text, text)) if text else ""


def bulk_payments(table: Table, invoices: list[Invoice]) -> list[Payment] | None:
    """:func:`~.records.read_payments` of a regular file, or ``None`` (then read it row by row)."""
    headers = table.headers
    if "customer_id" not in headers and "invoice" not in headers:
        return None
    columns = columns_of(table, anchor="date")
    if columns is None:
        return None
    get = columns.get
    days = parsed(get("date"), parse_date)
    amounts = parsed(get("amount"), parse_amount)
    codes = parsed(get("currency"), _currency)
    if days is None or amounts is None or codes is None:
        return None
    # A reference names an invoice by its id, else by its number (the row reader's order).
    named = dict(zip(map(attrgetter("number"), invoices), invoices, strict=True))
    named.update(zip(map(attrgetter("id"), invoices), invoices, strict=True))
    named.pop("", None)
    references = get("invoice")
    invoice_of = list(map(named.get, references))
    if "customer_id" in headers:
        customer_ids = [
            text or (invoice.customer_id if invoice else "")
            for text, invoice in zip(get("customer_id"), invoice_of, strict=True)
        ]
        if any(
            invoice is not None and invoice.customer_id != customer_id
            for invoice, customer_id in zip(invoice_of, customer_ids, strict=True)
        ):
            return None
    else:
        customer_ids = [invoice.customer_id if invoice else "" for invoice in invoice_of]
    if "" in customer_ids:
        return None
    currencies = [
        code or (invoice.currency if invoice else "EUR")
        for code, invoice in zip(map(codes.__getitem__, get("currency")), invoice_of, strict=True)
    ]
    pairs = list(zip(get("amount"), currencies, strict=True))
    money_of = {pair: Money(to_cents(amounts[pair[0]]), pair[1]) for pair in set(pairs)}
    moneys = list(map(money_of.__getitem__, pairs))
    allocations = [
        (Allocation(invoice.id if invoice else reference, money),) if reference else ()
        for reference, invoice, money in zip(references, invoice_of, moneys, strict=True)
    ]
    stem = Path(table.file).stem
    ids = [text or f"{stem}:{line}" for text, line in zip(get("id"), columns.lines, strict=True)]
    methods = {text: METHODS.get(normalise_name(text), text) for text in set(get("method"))}
    dates = list(map(days.__getitem__, get("date")))
    method_of = list(map(methods.__getitem__, get("method")))
    if len(set(ids)) != len(ids):  # rows sharing a payment id
        rows = zip(ids, customer_ids, dates, moneys, allocations, method_of, get("reference"), strict=True)
        return _grouped(rows, columns.lines)
    # One row a payment: built a field at a time (Payment has no checks of its own).
    return built(
        Payment,
        columns.count,
        {
            "id": ids,
            "customer_id": customer_ids,
            "source": repeat(SOURCE),
            "date": dates,
            "amount": moneys,
            "allocations": allocations,
            "method": method_of,
            "reference": get("reference"),
        },
    )


Row = tuple[str, str, date, Money, tuple[Allocation, ...], str, str]


def _grouped(rows: Iterable[Row], lines: Sequence[int]) -> list[Payment] | None:
    """Rows sharing a payment id as one payment allocated to several invoices (``None``: two rows of
    one payment differ in customer, date or currency)."""
    grouped: dict[str, tuple[Payment, int]] = {}
    for (payment_id, customer_id, day, money, allocated, method, reference), line in zip(rows, lines, strict=True):
        previous = grouped.get(payment_id)
        if previous is None:
            grouped[payment_id] = (
                Payment(payment_id, customer_id, SOURCE, day, money, allocated, method, reference),
                line,
            )
            continue
        payment, first = previous
        if (payment.customer_id, payment.date, payment.amount.currency) != (customer_id, day, money.currency):
            return None
        grouped[payment_id] = (
            Payment(
                payment.id,
                customer_id,
                SOURCE,
                day,
                Money(payment.amount.amount + money.amount, money.currency),
                payment.allocations + allocated,
                payment.method,
                payment.reference,
            ),
            first,
        )
    return [payment for payment, _ in grouped.values()]
