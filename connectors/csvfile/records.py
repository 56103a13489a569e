"""Customers, invoices and payments from the rows of their CSV files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from encours.connectors.csvfile.bulk import bulk_invoices
from encours.connectors.csvfile.bulk_customers import bulk_customers
from encours.connectors.csvfile.bulk_payments import bulk_payments
from encours.connectors.csvfile.columns import (
    CUSTOMER_COLUMNS,
    EMAIL,
    INVOICE_COLUMNS,
    METHODS,
    PAYMENT_COLUMNS,
    SOURCE,
)
from encours.connectors.csvfile.table import Digest, Table, Values
from encours.connectors.csvfile.words import (
    direct_debit,
    document_kind,
    emails_of,
    explicit_status,
    language_of,
    siren_of,
    terms_of,
)
from encours.connectors.errors import InputError
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
from encours.connectors.textfile import normalise_name

T = TypeVar("T")


def _status(values: Values, total: Decimal, remaining: Decimal) -> InvoiceStatus:
    explicit = explicit_status(normalise_name(values.text("status")))
    if explicit is not None:
        return explicit
    if remaining == 0:
        return InvoiceStatus.PAID
    return InvoiceStatus.OPEN if remaining == total else InvoiceStatus.PARTIALLY_PAID


def _kind(values: Values, total: Decimal) -> DocumentKind:
    try:
        kind = document_kind(values.text("kind"))
    except ValueError as exc:
        raise values.error("kind", str(exc)) from None
    if kind is None:
        return DocumentKind.CREDIT_NOTE if total < 0 else DocumentKind.INVOICE
    return kind


def read_customers(path: Path, *, digest: Digest | None = None) -> dict[str, Customer]:
    """The customers file; *digest* (a hashlib object), when given, is fed the file's bytes."""
    table = Table(path, CUSTOMER_COLUMNS, what="customers", digest=digest)
    read = bulk_customers(table)
    return read if read is not None else customers_of_rows(table)


def _field(values: Values, key: str, read: Callable[[str], T]) -> T:
    try:
        return read(values.text(key))
    except ValueError as exc:
        raise values.error(key, str(exc)) from None


def customers_of_rows(table: Table) -> dict[str, Customer]:
    """:func:`read_customers` row by row: the exact reader, whose errors name the line."""
    customers: dict[str, Customer] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        values = Values(table, row)
        customer_id = values.required("id")
        if customer_id in customers:
            raise values.error("id", f"customer {customer_id!r} is already on line {lines[customer_id]}")
        lines[customer_id] = row.line
        emails = _field(values, "email", emails_of)
        language = _field(values, "language", language_of)
        siren = _field(values, "siren", siren_of)
        terms = _field(values, "payment_terms_days", terms_of)
        customers[customer_id] = Customer(
            id=customer_id,
            name=values.required("name"),
            source=SOURCE,
            emails=emails,
            phone=values.text("phone"),
            salesperson=values.text("salesperson"),
            salesperson_email=values.text("salesperson_email"),
            language=language,
            siren=siren,
            vat_number=values.text("vat_number"),
            reference=values.text("reference"),
            payment_terms_days=terms,
            country=values.text("country").upper()[:2],
            address=values.text("address"),
            direct_debit=direct_debit(values.text("payment_method")),
        )
    return customers


def read_invoices(
    path: Path, customers: dict[str, Customer], payment_terms_days: int, *, digest: Digest | None = None
) -> tuple[list[Invoice], dict[str, Customer]]:
    """The invoices and credit notes of *path*, and the customers they name that *customers* lacks."""
    table = Table(path, INVOICE_COLUMNS, what="invoices", digest=digest)
    read = bulk_invoices(table, customers, payment_terms_days)
    return read if read is not None else invoices_of_rows(table, customers, payment_terms_days)


def invoices_of_rows(
    table: Table, customers: dict[str, Customer], payment_terms_days: int
) -> tuple[list[Invoice], dict[str, Customer]]:
    """:func:`read_invoices` row by row: the exact reader, whose errors name the line."""
    rows = table.rows  # the file's own errors (a line of another width …) come first
    if "id" not in table.headers and "number" not in table.headers:
        raise InputError(
            "the invoices file has no column 'invoice_number' or 'invoice_id' "
            "(accepted names include 'N° facture', 'invoice_number', 'ID facture')",
            file=table.file,
            line=table.header_line,
        )
    has_ids = "customer_id" in table.headers
    invoices: list[Invoice] = []
    seen: dict[str, int] = {}
    added: dict[str, Customer] = {}
    for row in rows:
        values = Values(table, row)
        key = "id" if values.text("id") else "number"
        invoice_id = values.required(key)
        if invoice_id in seen:
            raise values.error(key, f"invoice {invoice_id!r} is already on line {seen[invoice_id]}")
        seen[invoice_id] = row.line
        # Without a customer id column, the name is the id (renaming the customer then starts a new one).
        customer_id = values.required("customer_id" if has_ids else "customer_name")
        known = customers.get(customer_id) or added.get(customer_id)
        name = values.text("customer_name") or (known.name if known else "")
        if not name:
            raise values.error("customer_name", "is empty")
        email = values.text("email")
        if email and not EMAIL.fullmatch(email):
            raise values.error("email", f"{email!r} is not an e-mail address")
        if known is None:
            added[customer_id] = known = Customer(
                id=customer_id,
                name=name,
                source=SOURCE,
                emails=(email,) if email else (),
                salesperson=values.text("salesperson"),
            )
        elif email and email not in known.emails and customer_id in added:
            added[customer_id] = known = Customer(
                id=known.id,
                name=known.name,
                source=SOURCE,
                emails=(*known.emails, email),
                salesperson=known.salesperson,
            )
        issue = values.date("date", required=True)
        assert issue is not None
        total = values.amount("total")
        remaining = values.amount("remaining")
        kind = _kind(values, total)
        if kind is DocumentKind.INVOICE and total < 0:
            raise values.error("total", f"{values.text('total')} is negative on an invoice (a credit note is 'avoir')")
        if total != 0 and remaining != 0 and (total < 0) != (remaining < 0):
            raise values.error("remaining", "has the opposite sign of the total")
        total, remaining = abs(total), abs(remaining)
        if remaining > total:
            raise values.error("remaining", f"{values.text('remaining')} is more than the total {values.text('total')}")
        due = values.date("due_date")
        if due is None:
            terms = known.payment_terms_days if known.payment_terms_days is not None else payment_terms_days
            due = issue if kind is DocumentKind.CREDIT_NOTE else issue + timedelta(days=terms)
        currency = values.currency("currency")
        remaining_company = _remaining_eur(values, currency, remaining)
        status = _status(values, total, remaining)
        invoices.append(
            Invoice(
                id=invoice_id,
                number=values.text("number") or invoice_id,
                customer_id=customer_id,
                source=SOURCE,
                issue_date=issue,
                due_date=due,
                total=Money(to_cents(total), currency),
                remaining=Money(to_cents(remaining), currency),
                kind=kind,
                status=status,
                remaining_company=remaining_company,
                source_status=values.text("status"),
                salesperson=values.text("salesperson") or known.salesperson,
                label=values.text("label"),
                pdf_url=values.text("pdf_url"),
            )
        )
    return invoices, added


def _remaining_eur(values: Values, currency: str, remaining: Decimal) -> Money | None:
    """The remaining amount in euros a row gives for an invoice in another currency (None: not given).

    Written with the sign of the row's amounts or without; an invoice in euros must give its own."""
    if not values.text("remaining_eur"):
        return None
    eur = abs(values.amount("remaining_eur"))
    if currency == "EUR":
        if eur != remaining:
            raise values.error("remaining_eur", f"{values.text('remaining_eur')} is not the remaining "
                                                f"{values.text('remaining')} of an invoice in EUR")
        return None
    if (eur == 0) != (remaining == 0):
        raise values.error("remaining_eur", f"{values.text('remaining_eur')} in EUR for "
                                            f"{values.text('remaining')} {currency} still due")
    return Money(to_cents(eur), "EUR")


def read_payments(path: Path, invoices: list[Invoice], *, digest: Digest | None = None) -> list[Payment]:
    """Payments; rows sharing a payment id are one payment allocated to several invoices."""
    table = Table(path, PAYMENT_COLUMNS, what="payments", digest=digest)
    payments = bulk_payments(table, invoices)
    return payments if payments is not None else payments_of_rows(table, invoices)


def payments_of_rows(table: Table, invoices: list[Invoice]) -> list[Payment]:
    """:func:`read_payments` row by row: the exact reader, whose errors name the line."""
    rows = table.rows  # the file's own errors (a line of another width …) come first
    if "customer_id" not in table.headers and "invoice" not in table.headers:
        raise InputError(
            "the payments file has no column 'customer_id' nor 'invoice_id' (one of them says whose payment it is)",
            file=table.file,
            line=table.header_line,
        )
    by_id = {i.id: i for i in invoices}
    by_number = {i.number: i for i in invoices}
    grouped: dict[str, tuple[Payment, int]] = {}
    stem = Path(table.file).stem
    for row in rows:
        values = Values(table, row)
        reference = values.text("invoice")
        invoice = by_id.get(reference) or by_number.get(reference) if reference else None
        customer_id = values.text("customer_id") or (invoice.customer_id if invoice else "")
        if not customer_id:
            raise values.error(
                "customer_id" if "customer_id" in table.headers else "invoice",
                "is empty, and no invoice of the invoices file names the customer",
            )
        if invoice is not None and invoice.customer_id != customer_id:
            raise values.error(
                "invoice", f"invoice {reference!r} is customer {invoice.customer_id!r}'s, not {customer_id!r}'s"
            )
        day = values.date("date", required=True)
        assert day is not None
        amount = values.amount("amount")
        currency = values.currency("currency", invoice.currency if invoice else "EUR")
        allocations: tuple[Allocation, ...] = ()
        if reference:
            allocations = (Allocation(invoice.id if invoice else reference, Money(to_cents(amount), currency)),)
        payment_id = values.text("id") or f"{stem}:{row.line}"
        previous = grouped.get(payment_id)
        if previous is None:
            grouped[payment_id] = (
                Payment(
                    id=payment_id,
                    customer_id=customer_id,
                    source=SOURCE,
                    date=day,
                    amount=Money(to_cents(amount), currency),
                    allocations=allocations,
                    method=METHODS.get(normalise_name(values.text("method")), values.text("method")),
                    reference=values.text("reference"),
                ),
                row.line,
            )
            continue
        payment, first = previous
        if (payment.customer_id, payment.date, payment.amount.currency) != (customer_id, day, currency):
            raise values.error(
                "id", f"payment {payment_id!r} on line {first} has another customer, date or currency than this line"
            )
        grouped[payment_id] = (
            Payment(
                id=payment.id,
                customer_id=customer_id,
                source=SOURCE,
                date=day,
                amount=Money(payment.amount.amount + to_cents(amount), currency),
                allocations=payment.allocations + allocations,
                method=payment.method,
                reference=payment.reference,
            ),
            first,
        )
    return [payment for payment, _ in grouped.values()]
