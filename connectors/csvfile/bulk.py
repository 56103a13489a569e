"""Invoices built a column at a time from a regular CSV file (:mod:`.columnar`).

The same records as :mod:`.records` builds row by row, or ``None`` as soon as a value is one the
row reader would refuse (it then reads the file again and names the line).  Each distinct date,
amount, currency and word is read once; identical :class:`Money` and dates are shared (they are
frozen values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from itertools import chain, repeat
from operator import gt

from encours.connectors.csvfile.columnar import built, columns_of, parsed
from encours.connectors.csvfile.columns import CURRENCY_SIGNS, EMAIL, SOURCE
from encours.connectors.csvfile.table import Table
from encours.connectors.csvfile.words import document_kind, explicit_status
from encours.connectors.model import (
    Customer,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Money,
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
    if ("id" not in headers and "number" not in headers) or "remaining_eur" in headers:
        return None  # (amounts in euros of invoices in other currencies: checked row by row)
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
    amounts = parsed(chain(columns.get("total"), columns.get("remaining")), parse_amount)
    currencies = parsed(columns.get("currency"), lambda text: _currency(text) if text else "EUR")
    kinds = parsed(columns.get("kind"), document_kind)
    statuses = {text: explicit_status(normalise_name(text)) for text in set(columns.get("status"))}
    if dates is None or due_dates is None or amounts is None or currencies is None or kinds is None:
        return None
    get = columns.get
    if any(amount < 0 for amount in amounts.values()):  # signs to read: credit notes, accounting negatives
        kind_of = _kinds_and_signs(amounts, get("total"), get("remaining"), [kinds[text] for text in get("kind")])
        if kind_of is None:
            return None
    else:
        kind_of = [kinds[text] or INVOICE for text in get("kind")] if "kind" in headers else [INVOICE] * columns.count
    size = {text: abs(amount) for text, amount in amounts.items()}  # the amounts without their sign
    totals, remainings = list(map(size.__getitem__, get("total"))), list(map(size.__getitem__, get("remaining")))
    if any(map(gt, remainings, totals)):
        return None
    status_of = [
        PAID if not remaining else OPEN if remaining == total else PARTIALLY_PAID
        for total, remaining in zip(totals, remainings, strict=True)
    ]
    if "status" in headers:  # a status word sets the status, unless it is an ordinary one
        status_of = [
            status if status is not None else computed
            for status, computed in zip(map(statuses.__getitem__, get("status")), status_of, strict=True)
        ]
    currency_of = list(map(currencies.__getitem__, get("currency")))
    issues = list(map(dates.__getitem__, get("date")))
    due_of = list(map(due_dates.__getitem__, get("due_date")))
    if None in due_of:
        # No due date: the customer's terms (or the default) after the issue date; a credit note's is its date.
        days = list(zip(issues, map(terms_of.__getitem__, customer_ids), strict=True))
        later = {(issue, terms): issue + timedelta(days=terms) for issue, terms in set(days)}
        due_of = [
            due if due is not None else issue if kind is CREDIT_NOTE else later[day]
            for due, issue, kind, day in zip(due_of, issues, kind_of, days, strict=True)
        ]
    salespersons = (
        [name or salesperson_of[customer] for name, customer in zip(salespersons, customer_ids, strict=True)]
        if "salesperson" in headers
        else list(map(salesperson_of.__getitem__, customer_ids))
    )
    moneys = _moneys(size, currency_of)
    fields: dict[str, Iterable[object]] = {
        "id": ids,
        "number": numbers,
        "customer_id": customer_ids,
        "source": repeat(SOURCE),
        "issue_date": issues,
        "due_date": due_of,
        "total": moneys(get("total")),
        "remaining": moneys(get("remaining")),
        "kind": kind_of,
        "status": status_of,
        "source_status": get("status"),
        "salesperson": salespersons,
        "label": get("label"),
        "pdf_url": get("pdf_url"),
    }
    count = columns.count
    del columns, get  # the texts read into values: freed before the invoices are made
    # Every value is one the row reader takes, and each total and remaining have one currency (the
    # check Invoice.__post_init__ makes): the invoices are built a field at a time.
    invoices = built(Invoice, count, fields, checked=True)
    return invoices, added


def _kinds_and_signs(
    amounts: dict[str, Decimal], totals: list[str], remainings: list[str], kinds: list[DocumentKind | None]
) -> list[DocumentKind] | None:
    """Each row's kind (its type column's, else a credit note when the total is negative); ``None``
    when a row is refused: a negative invoice, a remaining of the other sign than its total."""
    kind_of: list[DocumentKind] = []
    append = kind_of.append
    for total_text, remaining_text, kind in zip(totals, remainings, kinds, strict=True):
        total, remaining = amounts[total_text], amounts[remaining_text]
        if kind is None:
            kind = CREDIT_NOTE if total < 0 else INVOICE
        elif kind is INVOICE and total < 0:
            return None
        if total and remaining and (total < 0) != (remaining < 0):
            return None
        append(kind)
    return kind_of


def _moneys(size: dict[str, Decimal], currencies: list[str]) -> Callable[[list[str]], list[Money]]:
    """For a column of amounts, ``Money(to_cents(size[text]), currency)`` of each row, the currency
    that of the row in *currencies*; one object for each distinct amount and currency."""
    if len(set(currencies)) == 1:
        currency = currencies[0]
        by_text = {text: Money(to_cents(amount), currency) for text, amount in size.items()}
        return lambda texts: list(map(by_text.__getitem__, texts))
    by_pair: dict[tuple[str, str], Money] = {}

    def moneys(texts: list[str]) -> list[Money]:
        pairs = list(zip(texts, currencies, strict=True))
        for text, currency in set(pairs) - by_pair.keys():
            by_pair[(text, currency)] = Money(to_cents(size[text]), currency)
        return list(map(by_pair.__getitem__, pairs))

    return moneys


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
    new = [customer_id for customer_id in sorted(first_row, key=first_row.__getitem__) if customer_id not in customers]
    rows = list(map(first_row.__getitem__, new))  # each one's first row: the one the row reader makes it from
    if any(not names[row] for row in rows):
        return None
    added = built(
        Customer,
        len(new),
        {
            "id": new,
            "name": [names[row] for row in rows],
            "source": repeat(SOURCE),
            "emails": [tuple(more_emails.get(customer_id, ())) for customer_id in new],
            "salesperson": [salespersons[row] for row in rows],
        },
    )
    return dict(zip(new, added, strict=True))
