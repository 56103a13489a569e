"""Ledgers of any size for the Google Sheets tests and benchmark (the demo has ~1,000 invoices)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money

SALESPEOPLE = ("Claire Martin", "Hugo Lefèvre", "Sofia Janssens", "Malik Benali")


def sized_ledger(invoices: int, as_of: date, *, customers: int = 40, seed: int = 7) -> Ledger:
    """``invoices`` open invoices spread over ``customers`` customers, deterministic."""
    rng = random.Random(seed)
    people = tuple(
        Customer(id=f"C{i:04d}", name=f"Client {i:04d} SARL", source="test", emails=(f"compta{i}@client{i}.fr",),
                 phone=f"+33 1 23 45 {i % 100:02d} 00", salesperson=SALESPEOPLE[i % len(SALESPEOPLE)],
                 siren=f"{100000000 + i}")
        for i in range(customers)
    )
    docs = []
    for n in range(invoices):
        issued = as_of - timedelta(days=rng.randint(0, 400))
        total = Decimal(rng.randint(5_000, 900_000)) / 100
        remaining = total if rng.random() < 0.8 else (total / 2).quantize(Decimal("0.01"))
        status = InvoiceStatus.OPEN if remaining == total else InvoiceStatus.PARTIALLY_PAID
        docs.append(Invoice(
            id=f"INV-{n:06d}", number=f"F-{n:06d}", customer_id=people[n % customers].id, source="test",
            issue_date=issued, due_date=issued + timedelta(days=30), total=Money(total), remaining=Money(remaining),
            status=status,
        ))
    return Ledger(people, tuple(docs))


def change_some(ledger: Ledger, share: float, *, seed: int = 11) -> Ledger:
    """The same ledger with ``share`` of the open invoices partly paid (their remaining amount changes)."""
    rng = random.Random(seed)
    open_ones = [i for i, invoice in enumerate(ledger.invoices) if invoice.is_open]
    count = max(1, int(len(open_ones) * share))
    chosen = set(rng.sample(open_ones, count))
    invoices = []
    for index, invoice in enumerate(ledger.invoices):
        if index in chosen:
            left = (invoice.remaining.amount - Decimal("10.00")).max(Decimal("1.00"))
            invoice = replace(invoice, remaining=Money(left, invoice.currency), status=InvoiceStatus.PARTIALLY_PAID)
        invoices.append(invoice)
    return replace(ledger, invoices=tuple(invoices))
