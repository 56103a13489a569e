"""Customers built a column at a time from a regular CSV file (:mod:`.columnar`).

The same customers as :func:`~.records.read_customers` reads row by row, or ``None`` as soon as a
value is one the row reader would refuse (it then reads the file again and names the line).
"""

from __future__ import annotations

from itertools import repeat

from encours.connectors.csvfile.columnar import built, columns_of, parsed
from encours.connectors.csvfile.columns import SOURCE
from encours.connectors.csvfile.table import Table
from encours.connectors.csvfile.words import direct_debit, emails_of, language_of, siren_of, terms_of
from encours.connectors.model import Customer


def bulk_customers(table: Table) -> dict[str, Customer] | None:
    """:func:`~.records.read_customers` of a regular file, or ``None`` (then read it row by row)."""
    columns = columns_of(table, anchor="id")
    if columns is None:
        return None
    get = columns.get
    ids, names = get("id"), get("name")
    if "" in ids or "" in names or len(set(ids)) != len(ids):
        return None
    emails = parsed(get("email"), emails_of)
    languages = parsed(get("language"), language_of)
    sirens = parsed(get("siren"), siren_of)
    terms = parsed(get("payment_terms_days"), terms_of)
    if emails is None or languages is None or sirens is None or terms is None:
        return None
    countries = {text: text.upper()[:2] for text in set(get("country"))}
    debits = {text: direct_debit(text) for text in set(get("payment_method"))}
    customers = built(
        Customer,
        columns.count,
        {
            "id": ids,
            "name": names,
            "source": repeat(SOURCE),
            "emails": map(emails.__getitem__, get("email")),
            "phone": get("phone"),
            "salesperson": get("salesperson"),
            "salesperson_email": get("salesperson_email"),
            "language": map(languages.__getitem__, get("language")),
            "siren": map(sirens.__getitem__, get("siren")),
            "vat_number": get("vat_number"),
            "reference": get("reference"),
            "payment_terms_days": map(terms.__getitem__, get("payment_terms_days")),
            "country": map(countries.__getitem__, get("country")),
            "address": get("address"),
            "direct_debit": map(debits.__getitem__, get("payment_method")),
        },
    )
    return dict(zip(ids, customers, strict=True))
