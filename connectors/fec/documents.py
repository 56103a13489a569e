"""From lettered 411 lines to the domain model: invoices and credit notes, payments and their
allocations, unallocated credits, customers (and who pays by direct debit)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from encours.connectors.fec.book import (
    ACCOUNT_KINDS,
    COMPANY_CURRENCY,
    OPENING_JOURNAL_CODES,
    REVENUE,
    SALES_JOURNAL_CODES,
    ZERO,
    Book,
    Entry,
    Item,
)
from encours.connectors.fec.lettering import currency_open, letter
from encours.connectors.model import (
    Allocation,
    CreditKind,
    Customer,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Ledger,
    Money,
    Payment,
    UnallocatedCredit,
    to_cents,
)
from encours.connectors.textfile import normalise_name

SOURCE = "fec"


def _is_sales_journal(code: str, label: str) -> bool:
    words = normalise_name(label)
    return code.upper() in SALES_JOURNAL_CODES or "vente" in words or "sales" in words


def _payment_method(entry: Entry) -> str:
    words = entry.label.lower()
    if "prlv" in words or "prélèvement" in words or "prelevement" in words:
        return "direct_debit"
    if words.startswith(("chq", "cheque", "chèque")) or "remise de chèque" in words or "remise cheque" in words:
        return "cheque"
    for bit, (_, method) in enumerate(ACCOUNT_KINDS):
        if method and entry.kinds & (1 << bit):
            return method
    if entry.journal.upper() in OPENING_JOURNAL_CODES:
        return "opening_balance"
    return "other"


#: What makes a document: journal, entry, customer, kind (invoice | credit_note | payment) and
#: PieceRef ("" for payments).
_DocKey = tuple[str, str, str, str, str]


class Rebuild:
    """Turns the 411 lines into documents, payments and allocations."""

    def __init__(self, book: Book, payment_terms_days: int) -> None:
        self.book = book
        self.terms = timedelta(days=payment_terms_days)
        #: Customers with debits and credits and no lettering (settled oldest first if the book has none).
        self.unlettered: list[str] = []
        revenue_journals = {e.journal for e in book.grouped.values() if e.kinds & REVENUE}
        self.sales_journals = {
            code
            for code, label in book.journal_labels.items()
            if code in revenue_journals or _is_sales_journal(code, label)
        }

    def _is_credit_note(self, entry: Entry) -> bool:
        """A credit on 411 is a credit note in a sales entry, unless cash moved in it (a cash sale)."""
        if entry.cash:
            return False
        return entry.revenue or entry.journal in self.sales_journals

    def ledger(self) -> Ledger:
        book = self.book
        opening_journals = {code for code in book.journal_labels if code.upper() in OPENING_JOURNAL_CODES}
        self.unlettered = letter(book.items, opening_journals)

        # One document per entry, customer, kind and PieceRef (a daily sales entry may hold several
        # invoices); one payment per entry and customer.
        documents: dict[_DocKey, list[Item]] = {}
        for item in book.items:
            entry = book.grouped[(item.journal, item.entry)]
            kind = "invoice" if item.debit else "credit_note" if self._is_credit_note(entry) else "payment"
            piece = "" if kind == "payment" else item.piece_ref
            key = (item.journal, item.entry, item.customer, kind, piece)
            same = documents.get(key)
            if same is None:
                documents[key] = [item]
            else:
                same.append(item)

        ids = self._document_ids([key for key in documents if key[3] != "payment"])
        owner: dict[int, str] = {}  # id(item) -> document id
        for key, doc_id in ids.items():
            for item in documents[key]:
                owner[id(item)] = doc_id

        invoices = [self._document(doc_id, key, documents[key], owner) for key, doc_id in ids.items()]
        payments = []
        credits = []
        for key, items in documents.items():
            if key[3] == "payment":
                payment = self._payment(key, items, owner)
                payments.append(payment)
                credit = self._credit(payment, items)
                if credit is not None:
                    credits.append(credit)
        debited = self._direct_debit_customers(payments)
        customers = [
            Customer(id=cid, name=name, source=SOURCE, direct_debit=cid in debited)
            for cid, name in sorted(book.customer_names.items())
        ]
        return Ledger(tuple(customers), tuple(invoices), tuple(payments), tuple(credits))

    def _direct_debit_customers(self, payments: list[Payment]) -> set[str]:
        """Customers whose latest payment is a direct debit (``PRLV`` …) not rejected since.

        A rejected debit comes back as a bank entry debiting 411: after one, the customer is not
        treated as paid by direct debit, so that the failed debit is reminded.
        """
        latest: dict[str, Payment] = {}
        for payment in payments:
            known = latest.get(payment.customer_id)
            if known is None or payment.date >= known.date:
                latest[payment.customer_id] = payment
        debited = {cid for cid, p in latest.items() if p.method == "direct_debit"}
        for item in self.book.items:
            if item.debit and item.customer in debited:
                entry = self.book.grouped[(item.journal, item.entry)]
                if entry.cash and item.entry_date >= latest[item.customer].date:
                    debited.discard(item.customer)
        return debited

    def _credit(self, payment: Payment, items: list[Item]) -> UnallocatedCredit | None:
        """What a payment's 411 lines left open: an unallocated credit (its debits count as invoices)."""
        open_company = items[0].open if len(items) == 1 else sum((i.open for i in items), ZERO)
        if open_company <= 0:
            return None
        first = items[0]
        entry = self.book.grouped[(first.journal, first.entry)]
        if first.journal.upper() in OPENING_JOURNAL_CODES:
            kind = CreditKind.OPENING_BALANCE
        elif entry.cash or payment.method in ("transfer", "cheque", "cash", "direct_debit"):
            kind = CreditKind.PAYMENT_ON_ACCOUNT
        else:
            kind = CreditKind.OTHER
        if payment.amount.currency != COMPANY_CURRENCY:
            amount = Money(to_cents(sum((currency_open(i) for i in items), ZERO)), payment.amount.currency)
            company: Money | None = Money(to_cents(open_company), COMPANY_CURRENCY)
        else:
            amount, company = Money(to_cents(open_company), COMPANY_CURRENCY), None
        letters = sorted({i.letter for i in items if i.letter})
        return UnallocatedCredit(
            id=payment.id,
            customer_id=payment.customer_id,
            source=SOURCE,
            date=payment.date,
            amount=amount,
            kind=kind,
            reference=payment.reference,
            label=first.label + (f" (lettrage {', '.join(letters)} incomplet)" if letters else ""),
            amount_company=company,
        )

    @staticmethod
    def _document_ids(keys: list[_DocKey]) -> dict[_DocKey, str]:
        """The invoice number (PieceRef) as id; a later document repeating it gets its journal and entry.

        The first in file order keeps the plain number, so that a duplicate appearing in a later
        export does not rename a document people already follow in the sheet.
        """
        chosen: dict[_DocKey, str] = {}
        used: set[str] = set()
        for key in keys:
            journal, entry, customer, kind, piece = key
            name = piece or f"{journal}-{entry}"
            if name in used:
                base = name
                candidates = [f"{base} [{journal}-{entry}]", f"{base} [{journal}-{entry} {customer} {kind}]"]
                free = next((c for c in candidates if c not in used), None)
                counter = 2
                while free is None or free in used:
                    free = f"{candidates[-1]} #{counter}"
                    counter += 1
                name = free
            chosen[key] = name
            used.add(name)
        return chosen

    def _document(self, doc_id: str, key: _DocKey, items: list[Item], owner: dict[int, str]) -> Invoice:
        journal, entry_number, customer, kind, _ = key
        credit_note = kind == "credit_note"
        first = items[0]
        single = len(items) == 1
        total_company = first.amount if single else sum((i.amount for i in items), ZERO)
        open_company = first.open if single else sum((i.open for i in items), ZERO)
        foreign = ""
        if items[0].currency:
            currencies = {i.currency for i in items}
            if len(currencies) == 1 and all(i.currency_amount for i in items):
                foreign = items[0].currency
        if foreign:
            currency = foreign
            total = to_cents(sum((i.currency_amount or ZERO for i in items), ZERO))
            remaining = to_cents(sum((currency_open(i) for i in items), ZERO))
            remaining_company: Money | None = Money(to_cents(open_company), COMPANY_CURRENCY)
        else:
            currency = COMPANY_CURRENCY
            total, remaining, remaining_company = to_cents(total_company), to_cents(open_company), None
        issue = first.day if single else min(i.day for i in items)

        matched_by = [other for other, _ in first.matches] if single else [o for i in items for o, _ in i.matches]
        if remaining == 0 and open_company == 0:
            only_credit_notes = all(not o.debit and owner.get(id(o)) is not None for o in matched_by)
            status = InvoiceStatus.CANCELLED if not credit_note and only_credit_notes else InvoiceStatus.PAID
        elif open_company == total_company:
            status = InvoiceStatus.OPEN
        else:
            status = InvoiceStatus.PARTIALLY_PAID
        letters = ([first.letter] if first.letter else []) if single else sorted({i.letter for i in items if i.letter})
        if not letters:
            source_status = "non lettrée"
        elif open_company == 0:
            source_status = "lettrée"
        else:
            source_status = "lettrage partiel"

        installments: tuple[Installment, ...] = ()
        if single:
            due: date | None = first.due_date
        else:
            due_dates = [i.due_date for i in items if i.due_date is not None]
            still_due = [i.due_date for i in items if i.due_date is not None and i.open > 0]
            due = min(still_due or due_dates) if due_dates else None
            if len(set(due_dates)) > 1:
                installments = self._installments(items, currency, bool(foreign))
        if due is None:
            # A debit in an entry that moves money (a rejected direct debit or cheque, a cash sale) is due at
            # once: the customer's payment terms ran for the invoice it paid.
            cash = self.book.grouped[(journal, entry_number)].cash
            due = issue if credit_note or cash else issue + self.terms

        credited = ""
        if credit_note:
            targets = {owner.get(id(o)) for o in matched_by}
            if len(targets) == 1:
                credited = targets.pop() or ""
        extra = [("journal", journal), ("écriture", entry_number)]
        if letters:
            extra.append(("lettrage", ", ".join(letters)))
        total_money = Money(total, currency)
        return Invoice(
            id=doc_id,
            number=first.piece_ref or doc_id,
            customer_id=customer,
            source=SOURCE,
            issue_date=issue,
            due_date=due,
            total=total_money,
            remaining=total_money if remaining == total else Money(remaining, currency),
            kind=DocumentKind.CREDIT_NOTE if credit_note else DocumentKind.INVOICE,
            status=status,
            source_status=source_status,
            label=first.label,
            credited_invoice_id=credited,
            remaining_company=remaining_company,
            installments=installments,
            extra=tuple(extra),
        )

    @staticmethod
    def _installments(items: list[Item], currency: str, foreign: bool) -> tuple[Installment, ...]:
        by_due: dict[date, tuple[Decimal, Decimal]] = {}
        for item in items:
            if item.due_date is None:
                continue
            amount = (item.currency_amount or ZERO) if foreign else item.amount
            left = currency_open(item) if foreign else item.open
            before = by_due.get(item.due_date, (ZERO, ZERO))
            by_due[item.due_date] = (before[0] + amount, before[1] + left)
        return tuple(
            Installment(due, Money(to_cents(amount), currency), Money(to_cents(left), currency))
            for due, (amount, left) in sorted(by_due.items())
        )

    def _payment(self, key: _DocKey, items: list[Item], owner: dict[int, str]) -> Payment:
        """A payment in euros, or in the foreign currency its lines and the invoices it pays share."""
        journal, entry_number, customer, _, _ = key
        entry = self.book.grouped[(journal, entry_number)]
        first = items[0]
        if len(items) == 1 and not first.currency and not any(other.currency for other, _ in first.matches):
            return self._euro_payment(key, first, entry, owner)
        currencies = {i.currency for i in items} | {o.currency for i in items for o, _ in i.matches}
        foreign = next(iter(currencies)) if len(currencies) == 1 and all(i.currency_amount for i in items) else ""

        def in_currency(item: Item, amount: Decimal) -> Decimal:
            # The payment line's own rate: exact when the whole line is allocated.
            return item.currency_amount * amount / item.amount if foreign and item.currency_amount else amount

        allocated: dict[str, Decimal] = {}
        for item in items:
            for other, amount in item.matches:
                invoice_id = owner.get(id(other))
                if invoice_id is not None:
                    allocated[invoice_id] = allocated.get(invoice_id, ZERO) + in_currency(item, amount)
        currency = foreign or COMPANY_CURRENCY
        return Payment(
            id=f"{journal}-{entry_number}-{customer}",
            customer_id=customer,
            source=SOURCE,
            date=min(i.entry_date for i in items),
            amount=Money(to_cents(sum((in_currency(i, i.amount) for i in items), ZERO)), currency),
            allocations=tuple(
                Allocation(invoice_id, Money(to_cents(amount), currency)) for invoice_id, amount in allocated.items()
            ),
            method=_payment_method(entry),
            reference=items[0].piece_ref or items[0].label,
        )

    @staticmethod
    def _euro_payment(key: _DocKey, item: Item, entry: Entry, owner: dict[int, str]) -> Payment:
        """:meth:`_payment` of the usual payment: one line, in euros, paying euro documents."""
        journal, entry_number, customer, _, _ = key
        allocated: dict[str, Decimal] = {}
        for other, amount in item.matches:
            invoice_id = owner.get(id(other))
            if invoice_id is not None:
                allocated[invoice_id] = allocated[invoice_id] + amount if invoice_id in allocated else amount
        paid = Money(to_cents(item.amount), COMPANY_CURRENCY)
        return Payment(
            id=f"{journal}-{entry_number}-{customer}",
            customer_id=customer,
            source=SOURCE,
            date=item.entry_date,
            amount=paid,
            allocations=tuple(
                Allocation(invoice_id, paid if amount == item.amount else Money(to_cents(amount), COMPANY_CURRENCY))
                for invoice_id, amount in allocated.items()
            ),
            method=_payment_method(entry),
            reference=item.piece_ref or item.label,
        )
