"""The one domain model every layer shares: customers, invoices, credit notes, payments.

Raw platform data never leaves ``connectors/``: each connector turns its payloads into these
frozen dataclasses.  Money is ``Decimal`` with its currency; rounding is explicit (half-up to the
cent, :func:`to_cents`).

One import for the whole model; each part lives in its own module:
:mod:`~encours.connectors.money` (Money, rounding), :mod:`~encours.connectors.records` (customers,
invoices, payments, credits, statuses), :mod:`~encours.connectors.open_items` (what ages in the
sheet), :mod:`~encours.connectors.ledger` (Ledger, Delta, ``Ledger.apply``),
:mod:`~encours.connectors.labels` (how the sheet names statuses and credits).
"""

from __future__ import annotations

from encours.connectors.labels import CREDIT_LABELS_FR, STATUS_LABELS_FR
from encours.connectors.ledger import Delta, Ledger, stale_payments
from encours.connectors.money import CENT, CurrencyMismatchError, Money, parse_decimal, to_cents
from encours.connectors.open_items import (
    ITEM_SEPARATOR,
    OpenItem,
    credit_item,
    earliest_unpaid_due,
    invoice_items,
    is_split,
    item_invoice_id,
)
from encours.connectors.records import (
    Allocation,
    Contact,
    CreditKind,
    Customer,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Payment,
    SourceInfo,
    UnallocatedCredit,
    credit_from_payment,
)

__all__ = [
    "CENT", "CREDIT_LABELS_FR", "ITEM_SEPARATOR", "STATUS_LABELS_FR", "Allocation", "Contact", "CreditKind",
    "CurrencyMismatchError", "Customer", "Delta", "DocumentKind", "Installment", "Invoice", "InvoiceStatus", "Ledger",
    "Money", "OpenItem", "Payment", "SourceInfo", "UnallocatedCredit", "credit_from_payment", "credit_item",
    "earliest_unpaid_due", "invoice_items", "is_split", "item_invoice_id", "parse_decimal", "stale_payments",
    "to_cents",
]
