"""What Pennylane says about an invoice beyond the listing: payment dates and customer contacts.

Payment dates come from the bank transactions matched to the invoice (``/matched_transactions``),
else from its payment records; contacts from ``/customers/{id}/contacts``.  Both are asked once
and kept in the state store's cache (a paid invoice's details never change; a partly paid one is
asked again when its remaining amount moves; contacts when the customer changes), written in
batches of ``FLUSH_EVERY`` entries.  A partly paid foreign invoice's payments also check which
currency ``remaining_amount_with_tax`` is in (:func:`.mapping.remaining_currency_error`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal

from encours.connectors.base import Cache
from encours.connectors.fields import Fields
from encours.connectors.model import Contact, Customer, Invoice, InvoiceStatus, Payment, to_cents
from encours.connectors.pennylane import mapping
from encours.connectors.pennylane.client import PennylaneClient
from encours.connectors.quarantine import CUSTOMER, Quarantine
from encours.connectors.source_errors import MalformedResponseError

PLATFORM = mapping.PLATFORM
PAYMENTS_NS = "pennylane.payments"
CONTACTS_NS = "pennylane.contacts"
CONTACTS = "GET /customers/{id}/contacts"
FLUSH_EVERY = 500


class InvoiceDetails:
    """Payment dates and contacts, each asked once (see the module's docstring)."""

    def __init__(
        self, client: PennylaneClient, cache: Cache, quarantine: Quarantine, *, window_start: date, fetch_contacts: bool
    ) -> None:
        self.client = client
        self.cache = cache
        self.quarantine = quarantine
        self.window_start = window_start
        self.fetch_contacts = fetch_contacts
        self._pending: dict[str, list[tuple[str, str]]] = {}
        #: customers quarantined by a contact an earlier sync could not read: asked again
        self._contacts_held = {q.record for q in quarantine.items if q.kind == CUSTOMER and q.endpoint == CONTACTS}

    # -- cache writes, batched (one commit per FLUSH_EVERY entries) ---------------------------
    def remember(self, namespace: str, key: str, value: str) -> None:
        pending = self._pending.setdefault(namespace, [])
        pending.append((key, value))
        if len(pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        put_many = getattr(self.cache, "put_many", None)
        for namespace, items in self._pending.items():
            if not items:
                continue
            if put_many is not None:
                put_many(namespace, items)
            else:
                for key, value in items:
                    self.cache.put(namespace, key, value)
        self._pending = {}

    def _check_remaining_currency(self, invoice: Invoice, paid: Decimal) -> None:
        why = mapping.remaining_currency_error(invoice, paid)
        if why:
            raise MalformedResponseError(why, platform=PLATFORM, endpoint="GET /customer_invoices", record=invoice.id)

    # -- contacts -----------------------------------------------------------------------------
    def with_contacts(self, customers: list[Customer], invoices: Iterable[Invoice]) -> list[Customer]:
        """Customers with open invoices get their contacts.  A contact that cannot be read
        quarantines its customer (who to write to is not certain: their reminders are held) and
        is asked again at the next sync, open invoices in that pull or not."""
        if not self.fetch_contacts:
            return customers
        wanted = {inv.customer_id for inv in invoices if inv.is_open} | self._contacts_held
        result = []
        for customer in customers:
            if customer.id in wanted:
                try:
                    contacts = self._contacts(customer)
                except MalformedResponseError as exc:
                    why = str(exc).split(": ", 1)[-1]
                    error = MalformedResponseError(f"contact {exc.record or '?'}: {why}", platform=PLATFORM,
                                                   endpoint=CONTACTS, record=customer.id)
                    self.quarantine.add(customer.id, error, kind=CUSTOMER)
                    contacts = ()
                if contacts:
                    customer = replace(customer, contacts=contacts)
            result.append(customer)
        return result

    def _contacts(self, customer: Customer) -> tuple[Contact, ...]:
        stamp = customer.updated_at.isoformat() if customer.updated_at else ""
        cached = self.cache.get(CONTACTS_NS, customer.id)
        if cached is not None:
            data = json.loads(cached)
            if data.get("updated_at") == stamp:
                return tuple(Contact(**c) for c in data["contacts"])
        contacts = []
        for raw in self.client.customer_contacts(customer.id):
            contacts.append(mapping.contact(raw, CONTACTS))
        payload = {"updated_at": stamp, "contacts": [mapping.contact_dict(c) for c in contacts]}
        self.remember(CONTACTS_NS, customer.id, json.dumps(payload))
        return tuple(contacts)

    # -- payments -----------------------------------------------------------------------------
    def payments_for(self, invoices: Iterable[Invoice]) -> list[Payment]:
        payments: list[Payment] = []
        for invoice in invoices:
            if invoice.is_credit_note or invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID):
                continue
            if invoice.issue_date < self.window_start:
                continue
            try:
                payments.extend(self._payments_of(invoice))
            except MalformedResponseError as exc:
                self.quarantine.add(invoice.id, exc)  # its remaining cannot be trusted: left out
        return payments

    def trusted(self, invoices: list[Invoice]) -> list[Invoice]:
        """Invoices not quarantined while their details were read."""
        return [i for i in invoices if i.id not in self.quarantine.found]

    def _payments_of(self, invoice: Invoice) -> list[Payment]:
        key_state = str(invoice.remaining.amount)
        cached = self.cache.get(PAYMENTS_NS, invoice.id)
        if cached is not None:
            data = json.loads(cached)
            if data.get("remaining") == key_state:
                return [mapping.payment_from(invoice, p) for p in data["payments"]]
        found = self._fetch_payment_dates(invoice)
        self.remember(PAYMENTS_NS, invoice.id, json.dumps({"remaining": key_state, "payments": found}))
        return [mapping.payment_from(invoice, p) for p in found]

    def _fetch_payment_dates(self, invoice: Invoice) -> list[dict[str, str]]:
        """Dated shares of what was paid on *invoice*, from its matched bank transactions."""
        paid = invoice.total.amount - invoice.remaining.amount
        endpoint = "GET /customer_invoices/{id}/matched_transactions"
        rows: list[tuple[date, str, Decimal, str]] = []
        same_currency = True
        for raw in self.client.matched_transactions(invoice.id):
            f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
            tx_currency = f.text("currency", required=False, default=invoice.currency).upper()
            if tx_currency == invoice.currency:
                value = abs(f.amount("currency_amount"))
            else:
                value = abs(f.amount("amount"))  # in EUR: converted with the invoice's own ratio
                company_total = mapping.company_total(invoice)
                if company_total:
                    value = to_cents(value * invoice.total.amount / company_total)
            rows.append((mapping.required_date(f, "date"), f"tx{f.id()}", value, f.text("label", required=False)))
            same_currency = same_currency and tx_currency == invoice.currency
        if rows and same_currency:
            self._check_remaining_currency(invoice, sum((r[2] for r in rows), Decimal(0)))
        if not rows:
            endpoint = "GET /customer_invoices/{id}/payments"
            for raw in self.client.invoice_payments(invoice.id):
                f = Fields(raw, platform=PLATFORM, endpoint=endpoint)
                created = f.datetime("created_at", required=True)
                assert created is not None
                rows.append(
                    (created.date(), f"pay{f.id()}", abs(f.amount("currency_amount")), f.text("label", required=False))
                )
        rows.sort()
        shares: list[dict[str, str]] = []
        left = paid
        for when, ident, value, label in rows:
            if left <= 0:
                break
            share = min(value, left)
            left -= share
            shares.append({"id": ident, "date": when.isoformat(), "amount": str(share), "label": label})
        return shares
