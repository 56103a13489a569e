"""Small builders for the reminder tests: customers, invoices, a company, shipped scenarios."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from encours.connectors.model import Customer, Invoice, InvoiceStatus, Ledger, Money
from encours.scenarios.company import CompanySettings
from encours.scenarios.loader import Scenario, load_scenarios

AS_OF = date(2026, 11, 23)
IBAN_FR = "FR7630006000011234567890189"


@lru_cache(maxsize=1)
def shipped() -> dict[str, Scenario]:
    return load_scenarios()


def company(**changes: Any) -> CompanySettings:
    values: dict[str, Any] = {
        "name": "Atelier Dupont SARL",
        "dossier": "dupont",
        "country": "FR",
        "language": "fr",
        "address": "12 avenue de la République\n69003 Lyon",
        "siren": "123456789",
        "iban": IBAN_FR,
        "sender": "factures@dupont.example",
        "reply_to": "compta@dupont.example",
        "bcc": "archive@dupont.example",
    }
    values.update(changes)
    return CompanySettings(**values)


def customer(cid: str = "C1", **changes: Any) -> Customer:
    values: dict[str, Any] = {
        "id": cid,
        "name": f"Client {cid}",
        "source": "test",
        "emails": (f"compta@{cid.lower()}.example",),
        "phone": "+33 1 23 45 67 89",
        "salesperson": "Julie Martin",
        "salesperson_email": "julie@dupont.example",
        "address": "3 rue des Lilas\n75011 Paris",
    }
    values.update(changes)
    return Customer(**values)


def invoice(
    iid: str,
    days_late: int,
    amount: str = "1000.00",
    *,
    customer_id: str = "C1",
    remaining: str | None = None,
    currency: str = "EUR",
    as_of: date = AS_OF,
    **changes: Any,
) -> Invoice:
    """An invoice ``days_late`` days past due on ``as_of`` (negative: not yet due)."""
    due = as_of - timedelta(days=days_late)
    left = Decimal(remaining if remaining is not None else amount)
    status = changes.pop("status", None) or (
        InvoiceStatus.PAID if left == 0 else InvoiceStatus.PARTIALLY_PAID if left < Decimal(amount)
        else InvoiceStatus.OPEN)
    return Invoice(
        id=iid,
        number=changes.pop("number", f"F-{iid}"),
        customer_id=customer_id,
        source="test",
        issue_date=due - timedelta(days=30),
        due_date=due,
        total=Money(Decimal(amount), currency),
        remaining=Money(left, currency),
        status=status,
        **changes,
    )


def ledger(*invoices: Invoice, customers: tuple[Customer, ...] | None = None, payments: tuple[Any, ...] = ()) -> Ledger:
    if customers is None:
        ids = sorted({i.customer_id for i in invoices}) or ["C1"]
        customers = tuple(customer(cid) for cid in ids)
    return Ledger(customers, tuple(invoices), payments)
