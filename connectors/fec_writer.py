"""Write a :class:`Ledger` as a FEC that :class:`~encours.connectors.fec.FecConnector` reads back
to the same open amounts.

Used by the round-trip tests and to hand people a FEC of the demo ledger.  The entries are those an
accountant would book: sales journal VT (411 debit / 706 and 44571 credit for an invoice, the
reverse for a credit note), bank journal BQ (512 debit / 411 credit for a payment), and every
settlement of an invoice lettered with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from encours.connectors.fec.columns import DUE_DATE_COLUMN, FEC_COLUMNS, format_amount
from encours.connectors.model import Invoice, InvoiceStatus, Ledger, Money, Payment, to_cents

_ZERO = Decimal(0)


@dataclass(slots=True)
class _Out:
    """One line to write."""

    account: str
    account_label: str
    debit: Decimal = _ZERO
    credit: Decimal = _ZERO
    aux: str = ""
    aux_label: str = ""
    letter: str = ""
    currency_amount: Decimal | None = None
    currency: str = ""
    due: date | None = None


@dataclass(slots=True)
class _OutEntry:
    journal: str
    day: date
    piece: str
    label: str
    lines: list[_Out]
    order: str


def _letter_code(index: int) -> str:
    """A, B, … Z, AA, AB, … — the usual lettering sequence."""
    code = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        code = chr(65 + rest) + code
    return code


def _infer_rates(documents: Iterable[Invoice], company_currency: str) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for document in documents:
        company = document.remaining_company
        if (
            document.currency != company_currency
            and document.currency not in rates
            and company is not None
            and company.currency == company_currency
            and document.remaining.amount
        ):
            rates[document.currency] = (company.amount / document.remaining.amount).quantize(Decimal("0.0001"))
    return rates


def write_ledger(
    ledger: Ledger,
    path: Path,
    *,
    separator: str = "\t",
    encoding: str = "utf-8",
    company_currency: str = "EUR",
    rates: Mapping[str, Decimal] | None = None,
    vat_rate: Decimal = Decimal("0.20"),
) -> None:
    """Write *ledger* as a balanced FEC that :class:`FecConnector` reads back to the same open amounts.

    Sales journal VT (411 / 706 / 44571), bank journal BQ (512 / 411); every settlement of an
    invoice (payment allocation, credit note) shares the invoice's lettering code: upper case when
    the invoice is settled, lower case when partly.  A settlement the ledger does not detail (an
    invoice whose remaining is below its total with no allocation for the gap) is written as a
    bank entry labelled so; the used part of a credit note that settles no listed invoice as a
    refund.  Foreign-currency documents carry Montantdevise/Idevise; their company-currency amounts
    use ``remaining_company`` and *rates* (units of company currency per unit, inferred from
    ``remaining_company`` when not given).  Adds the due-date column ``DateEcheance``.
    """
    if separator not in ("\t", "|"):
        raise ValueError("a FEC is separated by a tab or '|'")
    writer = _Writer(ledger, company_currency, dict(rates or {}), vat_rate)
    entries = writer.entries()
    header = [*FEC_COLUMNS, DUE_DATE_COLUMN]
    counters: dict[str, int] = {}
    out = [separator.join(header)]
    numbered = []
    for entry in sorted(entries, key=lambda e: (e.journal, e.day, e.order)):
        counters[entry.journal] = counters.get(entry.journal, 0) + 1
        numbered.append((entry, f"{entry.journal}{counters[entry.journal]:06d}"))
    journal_labels = {"VT": "Journal des ventes", "BQ": "Banque"}

    def clean(text: str) -> str:
        return " ".join(text.replace(separator, " ").split())

    def amount(value: Decimal) -> str:
        return format_amount(value)

    for entry, number in sorted(numbered, key=lambda pair: (pair[0].day, pair[0].journal, pair[1])):
        day = entry.day.strftime("%Y%m%d")
        for line in entry.lines:
            letter_date = writer.letter_dates.get(line.letter)
            out.append(
                separator.join(
                    [
                        entry.journal,
                        journal_labels.get(entry.journal, entry.journal),
                        number,
                        day,
                        line.account,
                        clean(line.account_label),
                        clean(line.aux),
                        clean(line.aux_label),
                        clean(entry.piece),
                        day,
                        clean(entry.label),
                        amount(line.debit),
                        amount(line.credit),
                        line.letter,
                        letter_date.strftime("%Y%m%d") if letter_date and line.letter else "",
                        day,
                        amount(line.currency_amount) if line.currency_amount is not None else "",
                        line.currency,
                        line.due.strftime("%Y%m%d") if line.due else "",
                    ]
                )
            )
    Path(path).write_bytes(("\r\n".join(out) + "\r\n").encode(encoding, errors="replace"))


class _Writer:
    def __init__(self, ledger: Ledger, company_currency: str, rates: dict[str, Decimal], vat_rate: Decimal) -> None:
        self.ledger = ledger
        self.company = company_currency
        self.documents = [d for d in ledger.invoices if d.status not in (InvoiceStatus.DRAFT, InvoiceStatus.DELETED)]
        self.rates = {**_infer_rates(self.documents, company_currency), **rates}
        self.vat_rate = vat_rate
        self.customers = ledger.customer_index()
        self.letter_dates: dict[str, date] = {}
        self._letters = 0
        self._days = {("payment", p.id): p.date for p in ledger.payments}
        self._days.update({("credit", d.id): d.issue_date for d in self.documents})

    def _company(self, value: Money) -> Decimal:
        if value.currency == self.company:
            return value.amount
        rate = self.rates.get(value.currency)
        if rate is None:
            raise ValueError(f"no exchange rate for {value.currency}: pass rates={{{value.currency!r}: ...}}")
        return to_cents(value.amount * rate)

    def _letter(self, settled: bool, day: date) -> str:
        code = _letter_code(self._letters)
        self._letters += 1
        code = code if settled else code.lower()
        self.letter_dates[code] = day
        return code

    def _receivable(
        self,
        customer_id: str,
        value: Money,
        *,
        debit: bool,
        letter: str = "",
        due: date | None = None,
        company: Decimal | None = None,
    ) -> _Out:
        customer = self.customers.get(customer_id)
        amount = self._company(value) if company is None else company
        foreign = value.currency != self.company
        return _Out(
            account="411000",
            account_label="Clients",
            debit=amount if debit else _ZERO,
            credit=_ZERO if debit else amount,
            aux=customer_id,
            aux_label=customer.name if customer else customer_id,
            letter=letter,
            currency_amount=value.amount if foreign else None,
            currency=value.currency if foreign else "",
            due=due,
        )

    def _split(self, total: Decimal) -> tuple[Decimal, Decimal]:
        net = to_cents(total / (1 + self.vat_rate))
        return net, total - net

    def entries(self) -> list[_OutEntry]:
        invoices = sorted((d for d in self.documents if not d.is_credit_note), key=lambda d: (d.issue_date, d.id))
        credit_notes = [d for d in self.documents if d.is_credit_note]
        payments = sorted(self.ledger.payments, key=lambda p: (p.date, p.id))
        # What each payment and each credit note can still settle, in its currency.
        left: dict[tuple[str, str], Decimal] = {("payment", p.id): p.amount.amount for p in payments}
        left.update({("credit", c.id): c.total.amount - c.remaining.amount for c in credit_notes})
        offers: dict[str, list[tuple[date, str, str, Decimal, str]]] = {}
        for payment in payments:
            for allocation in payment.allocations:
                offers.setdefault(allocation.invoice_id, []).append(
                    (payment.date, "payment", payment.id, allocation.amount.amount, allocation.amount.currency)
                )
        for note in credit_notes:
            if note.credited_invoice_id:
                offers.setdefault(note.credited_invoice_id, []).append(
                    (note.issue_date, "credit", note.id, left[("credit", note.id)], note.currency)
                )
        # parts[(kind, source id)] -> [(invoice settled, amount in the invoice's currency, letter)]
        parts: dict[tuple[str, str], list[tuple[Invoice, Decimal, str]]] = {}
        entries: list[_OutEntry] = []
        for invoice in invoices:
            settled = invoice.total.amount - invoice.remaining.amount
            if settled < 0 or invoice.remaining.amount < 0:
                raise ValueError(f"invoice {invoice.number or invoice.id}: remaining is not between 0 and the total")
            taken: list[tuple[str, str, Decimal]] = []
            need = settled
            for _, kind, source_id, offered, currency in sorted(offers.get(invoice.id, [])):
                if need == 0 or currency != invoice.currency:
                    continue
                take = min(need, offered, left[(kind, source_id)])
                if take <= 0:
                    continue
                left[(kind, source_id)] -= take
                need -= take
                taken.append((kind, source_id, take))
            if need:
                taken.append(("gap", invoice.id, need))
            letter = ""
            if taken:
                last = max([invoice.issue_date, *(self._days.get((k, s), invoice.issue_date) for k, s, _ in taken)])
                letter = self._letter(invoice.remaining.amount == 0, last)
            for kind, source_id, take in taken:
                parts.setdefault((kind, source_id), []).append((invoice, take, letter))
            entries.append(self._invoice_entry(invoice, [take for _, _, take in taken], letter))
        for payment in payments:
            entry = self._payment_entry(payment, parts.get(("payment", payment.id), []))
            if entry is not None:
                entries.append(entry)
        for note in credit_notes:
            used_elsewhere = left[("credit", note.id)]
            entries.extend(self._credit_note_entries(note, parts.get(("credit", note.id), []), used_elsewhere))
        for (kind, _), items in parts.items():
            if kind == "gap":
                invoice, take, letter = items[0]
                money = Money(take, invoice.currency)
                piece = invoice.number or invoice.id
                entries.append(
                    _OutEntry(
                        "BQ",
                        invoice.issue_date,
                        piece,
                        f"Règlement non détaillé {piece}",
                        [
                            _Out("512000", "Banque", debit=self._company(money)),
                            self._receivable(invoice.customer_id, money, debit=False, letter=letter),
                        ],
                        order=f"gap {invoice.id}",
                    )
                )
        return entries

    def _invoice_entry(self, invoice: Invoice, settlements: list[Decimal], letter: str) -> _OutEntry:
        company_total: Decimal | None = None
        if invoice.currency != self.company:
            # The company-currency debit is what is still due plus each settlement converted the way
            # its own line is, so that the lettering group leaves exactly remaining_company open.
            still = invoice.remaining_company.amount if invoice.remaining_company else self._company(invoice.remaining)
            company_total = still + sum((self._company(Money(s, invoice.currency)) for s in settlements), _ZERO)
        receivable = self._receivable(
            invoice.customer_id, invoice.total, debit=True, letter=letter, due=invoice.due_date, company=company_total
        )
        net, vat = self._split(receivable.debit)
        lines = [receivable, _Out("706000", "Prestations de services", credit=net)]
        if vat:
            lines.append(_Out("445710", "TVA collectée", credit=vat))
        piece = invoice.number or invoice.id
        return _OutEntry("VT", invoice.issue_date, piece, invoice.label or "Facture", lines, order=invoice.id)

    def _payment_entry(self, payment: Payment, parts: list[tuple[Invoice, Decimal, str]]) -> _OutEntry | None:
        lines: list[_Out] = []
        used = _ZERO
        for invoice, take, letter in parts:
            lines.append(
                self._receivable(payment.customer_id, Money(take, invoice.currency), debit=False, letter=letter)
            )
            used += take
        left = payment.amount.amount - used
        if left > 0:
            lines.append(self._receivable(payment.customer_id, Money(left, payment.amount.currency), debit=False))
        if not lines:
            return None
        bank = sum((line.credit for line in lines), _ZERO)
        lines.insert(0, _Out("512000", "Banque", debit=bank))
        piece = payment.reference or payment.id
        return _OutEntry("BQ", payment.date, piece, f"Règlement {piece}", lines, order=payment.id)

    def _credit_note_entries(
        self, note: Invoice, parts: list[tuple[Invoice, Decimal, str]], used_elsewhere: Decimal
    ) -> list[_OutEntry]:
        lines = [
            self._receivable(note.customer_id, Money(take, note.currency), debit=False, letter=letter)
            for _, take, letter in parts
        ]
        extra: list[_OutEntry] = []
        piece = note.number or note.id
        if used_elsewhere > 0:
            # Used, but against no invoice listed here: written as refunded.
            letter = self._letter(True, note.issue_date)
            money = Money(used_elsewhere, note.currency)
            lines.append(self._receivable(note.customer_id, money, debit=False, letter=letter))
            refund = [
                self._receivable(note.customer_id, money, debit=True, letter=letter),
                _Out("512000", "Banque", credit=self._company(money)),
            ]
            extra.append(
                _OutEntry(
                    "BQ",
                    note.issue_date,
                    f"RBT-{piece}",
                    f"Remboursement avoir {piece}",
                    refund,
                    order=f"refund {note.id}",
                )
            )
        if note.remaining.amount > 0:
            company = None
            if note.currency != self.company and note.remaining_company is not None:
                company = note.remaining_company.amount
            lines.append(self._receivable(note.customer_id, note.remaining, debit=False, company=company))
        if not lines:
            return extra
        for line in lines:
            line.due = note.due_date
        total = sum((line.credit for line in lines), _ZERO)
        net, vat = self._split(total)
        lines.append(_Out("706000", "Prestations de services", debit=net))
        if vat:
            lines.append(_Out("445710", "TVA collectée", debit=vat))
        return [_OutEntry("VT", note.issue_date, piece, note.label or "Avoir", lines, order=note.id), *extra]
