"""The ledger — everything a source holds for encours at one moment — its balances and open items,
and the one pure definition of merging a pull into it (:meth:`Ledger.apply` with a :class:`Delta`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property

from encours.connectors.money import Money
from encours.connectors.open_items import OpenItem, credit_item, invoice_items
from encours.connectors.records import Customer, Invoice, Payment, UnallocatedCredit, credit_from_payment


@dataclass(frozen=True)  # not slotted: what is derived from it is worked out once (cached_property)
class Ledger:
    """Everything a source holds for encours at one moment.

    ``credits`` are the unallocated credits (payments on account, credit notes not imputed,
    opening credit balances …): a customer's balance is its open invoices minus its open credit
    notes minus these (:meth:`balances`).
    """

    customers: tuple[Customer, ...]
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...] = ()
    credits: tuple[UnallocatedCredit, ...] = ()

    def customer_index(self) -> dict[str, Customer]:
        return {c.id: c for c in self.customers}

    def open_invoices(self) -> list[Invoice]:
        return [i for i in self.invoices if i.is_open]

    def outstanding_invoices(self) -> list[Invoice]:
        """What the customers' balances add up: the open invoices and those in a status this version
        does not know that still have something remaining (never reminded, still owed)."""
        return [i for i in self.invoices if i.is_outstanding]

    def unallocated_credits(self, customer_id: str | None = None) -> list[UnallocatedCredit]:
        """The credits with something left, for one customer or all — the one list the sheet, the
        balances and the reminders net against.

        Sources state them (``credits``); a ledger that states none (the demo, a ledger made of
        invoices and payments alone) has them derived from its payments' unmatched parts.
        """
        if customer_id is None:
            return list(self._open_credits)
        return list(self._credits_by_customer.get(customer_id, ()))

    @cached_property
    def _open_credits(self) -> tuple[UnallocatedCredit, ...]:
        """The credits with something left, derived once per ledger (the sheet, the balances, the plan
        and each statement ask for them; a ledger of 60,000 payments derives them in a quarter second)."""
        credits = self.credits or tuple(c for c in map(credit_from_payment, self.payments) if c is not None)
        return tuple(c for c in credits if c.amount.amount != 0)

    @cached_property
    def _credits_by_customer(self) -> dict[str, tuple[UnallocatedCredit, ...]]:
        grouped: dict[str, list[UnallocatedCredit]] = {}
        for credit in self._open_credits:
            grouped.setdefault(credit.customer_id, []).append(credit)
        return {cid: tuple(items) for cid, items in grouped.items()}

    def open_items(self, default_terms_days: int = 30) -> list[OpenItem]:
        """Everything that ages: outstanding invoices (per open instalment), open credit notes, credits."""
        items: list[OpenItem] = []
        for invoice in self.outstanding_invoices():
            items.extend(i for i in invoice_items(invoice, default_terms_days) if i.remaining.amount != 0)
        items.extend(credit_item(c) for c in self.unallocated_credits())
        return items

    def balances(self) -> dict[tuple[str, str], Money]:
        """(customer id, currency) → the customer's balance: what it owes, negative when in credit."""
        return balances_of(self.invoices, self.unallocated_credits())

    def apply(self, delta: Delta, *, invoiced: Collection[str] | None = None) -> Ledger:
        """This ledger with a pull merged, as the state store merges it.

        A full delta replaces the ledger, except that invoices it no longer lists stay, marked
        deleted with nothing remaining (their sheet rows are closed, not removed), and customers
        it no longer lists stay while an invoice names them.  ``invoiced``: the customers the stored
        invoices name, when this ledger holds only the stored invoices a full delta does not list
        (default: those of its invoices).
        """
        customers = {} if delta.full else {c.id: c for c in self.customers}
        invoices = {i.id: i for i in self.invoices}
        payments = {} if delta.full else {p.id: p for p in self.payments}
        credits = {} if delta.full or delta.credits_complete else {c.id: c for c in self.credits}
        gone = set(delta.deleted_invoice_ids)
        if delta.full:
            listed = {i.id for i in delta.invoices}
            gone |= {iid for iid in invoices if iid not in listed}
            kept_customers = set(invoiced) if invoiced is not None else {i.customer_id for i in self.invoices}
            customers = {c.id: c for c in self.customers if c.id in kept_customers}
        customers.update((c.id, c) for c in delta.customers)
        for stand_in in delta.stand_in_customers:  # a customer synced before stays as it was
            customers.setdefault(stand_in.id, stand_in)
        invoices.update((i.id, i) for i in delta.invoices)
        payments.update((p.id, p) for p in delta.payments)
        credits.update((c.id, c) for c in delta.credits)
        for invoice_id in gone:
            if invoice_id in invoices:
                invoices[invoice_id] = invoices[invoice_id].closed()
        for pid in delta.deleted_payment_ids:
            payments.pop(pid, None)
        for pid in stale_payments(payments.values(), delta):
            payments.pop(pid, None)
        for cid in delta.deleted_credit_ids:
            credits.pop(cid, None)
        for cid in delta.deleted_customer_ids:
            customers.pop(cid, None)
        return Ledger(
            tuple(sorted(customers.values(), key=lambda c: c.id)),
            tuple(sorted(invoices.values(), key=lambda i: i.id)),
            tuple(sorted(payments.values(), key=lambda p: p.id)),
            tuple(sorted(credits.values(), key=lambda c: c.id)),
        )


@dataclass(frozen=True, slots=True)
class Delta:
    """What a pull brought: records new or changed since the cursor, and ids deleted at source.

    ``full`` is true when the delta is the whole ledger (first sync, ``--full``, a cursor older
    than the source keeps changes for): records absent from a full delta are closed.
    ``cursor`` is opaque to everyone but the connector that made it.
    """

    customers: tuple[Customer, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    deleted_invoice_ids: tuple[str, ...] = ()
    deleted_customer_ids: tuple[str, ...] = ()
    deleted_payment_ids: tuple[str, ...] = ()
    full: bool = True
    cursor: str = ""
    credits: tuple[UnallocatedCredit, ...] = ()
    deleted_credit_ids: tuple[str, ...] = ()
    #: What the source wants said in the sync summary and log (e.g. a book without lettering).
    notes: tuple[str, ...] = ()
    #: ``credits`` is every open unallocated credit (even in an incremental delta): replace them all.
    credits_complete: bool = False
    #: Invoices whose payments the delta lists completely: a stored payment allocated only to these
    #: and absent from ``payments`` was cancelled at the source and is dropped.
    payments_of: tuple[str, ...] = ()
    #: Customers whose record the source cannot read now (quarantined), as far as their invoices
    #: name them (id, name): kept only where no customer of that id is stored, so that a first sync
    #: shows whose invoices they are and a customer synced before stays as last synced.
    stand_in_customers: tuple[Customer, ...] = ()

    @classmethod
    def of_ledger(cls, ledger: Ledger, cursor: str) -> Delta:
        """A full delta: the whole ledger (sources that cannot answer incrementally)."""
        return cls(
            ledger.customers, ledger.invoices, ledger.payments, full=True, cursor=cursor, credits=ledger.credits
        )


def balances_of(invoices: Iterable[Invoice], credits: Iterable[UnallocatedCredit]) -> dict[tuple[str, str], Money]:
    """(customer id, currency) → balance: what the outstanding invoices and credit notes leave owed, less
    the credits held; negative when in credit (a ledger's, or one customer's in the planner)."""
    out: dict[tuple[str, str], Money] = {}
    for invoice in invoices:
        if invoice.is_outstanding:
            key = (invoice.customer_id, invoice.currency)
            out[key] = out.get(key, Money.zero(invoice.currency)) + invoice.signed_remaining
    for credit in credits:
        key = (credit.customer_id, credit.currency)
        out[key] = out.get(key, Money.zero(credit.currency)) + credit.signed_amount
    return out


def stale_payments(stored: Iterable[Payment], delta: Delta) -> list[str]:
    """Ids of stored payments that ``delta.payments_of`` says no longer exist at the source."""
    if not delta.payments_of:
        return []
    complete = set(delta.payments_of)
    listed = {p.id for p in delta.payments}
    return [
        p.id for p in stored
        if p.id not in listed and p.allocations and all(a.invoice_id in complete for a in p.allocations)
    ]
