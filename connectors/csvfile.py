"""CSV source: invoices (and optionally payments and customers) exported from any program.

Each file has a header line; columns are found by name, French or English (``N° facture`` or
``invoice_number``), in any order, extra columns ignored.  Separator ``,`` ``;`` or tab, decimal
comma or dot, dates ISO (2026-01-31) or French (31/01/2026), UTF-8 (with or without BOM) or
Windows-1252.  The column tables below are the reference; ``docs/formats.md`` shows them to users.
A missing required column or a bad value raises :class:`InputError` naming the file, the line and
the column; nothing is returned until every file has been read whole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from encours.connectors.errors import InputError
from encours.connectors.model import (
    Allocation,
    Customer,
    Delta,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Ledger,
    Money,
    Payment,
    SourceInfo,
    credit_from_payment,
    to_cents,
)
from encours.connectors.parsing import parse_amount, parse_currency, parse_date, read_bounded
from encours.connectors.textfile import decode_text, normalise_name, split_lines

SOURCE = "csv"


@dataclass(frozen=True, slots=True)
class Column:
    """A column encours understands: its key, and the header names accepted for it (any case/accents)."""

    key: str
    names: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        return self.names[0]


INVOICE_COLUMNS = (
    Column("id", ("invoice_id", "ID", "ID facture", "identifiant", "id_facture")),
    Column(
        "number",
        (
            "invoice_number",
            "N° facture",
            "numéro de facture",
            "numéro facture",
            "no facture",
            "num facture",
            "number",
            "numéro",
            "facture",
            "invoice",
            "invoice no",
            "référence",
            "pièce",
        ),
    ),
    Column(
        "customer_id",
        (
            "customer_id",
            "ID client",
            "code client",
            "numéro client",
            "n° client",
            "compte client",
            "client_id",
            "customer code",
            "customer number",
        ),
    ),
    Column(
        "customer_name",
        ("customer_name", "Client", "nom client", "nom du client", "raison sociale", "customer", "client name"),
        required=True,
    ),
    Column(
        "date",
        ("date", "Date facture", "date de facture", "date d'émission", "issue_date", "invoice_date", "date pièce"),
        required=True,
    ),
    Column("due_date", ("due_date", "Échéance", "date d'échéance", "date échéance", "date limite de paiement")),
    Column(
        "total",
        ("total", "Montant TTC", "total TTC", "montant", "amount", "total_amount", "amount incl. tax"),
        required=True,
    ),
    Column(
        "remaining",
        (
            "remaining",
            "Reste dû",
            "reste à payer",
            "restant dû",
            "solde",
            "solde dû",
            "montant restant",
            "amount_due",
            "balance",
            "balance due",
            "outstanding",
        ),
        required=True,
    ),
    Column("currency", ("currency", "Devise", "currency_code")),
    Column("kind", ("type", "type de document", "document_type", "kind", "nature")),
    Column("status", ("status", "Statut", "état")),
    Column("salesperson", ("salesperson", "Commercial", "vendeur", "représentant", "sales_rep")),
    Column("email", ("email", "e-mail", "courriel", "mail", "email client", "adresse email", "customer_email")),
    Column("pdf_url", ("pdf_url", "lien PDF", "PDF", "url PDF", "pdf link")),
    Column("label", ("label", "libellé", "objet", "description")),
)

PAYMENT_COLUMNS = (
    Column("id", ("payment_id", "ID", "ID règlement", "ID paiement", "N° règlement", "identifiant")),
    Column(
        "customer_id",
        ("customer_id", "ID client", "code client", "numéro client", "n° client", "compte client", "client_id"),
    ),
    Column(
        "date",
        ("date", "Date règlement", "date de règlement", "date paiement", "date de paiement", "payment_date"),
        required=True,
    ),
    Column("amount", ("amount", "Montant", "montant réglé", "montant payé", "paid_amount"), required=True),
    Column(
        "invoice",
        ("invoice_id", "Facture", "N° facture", "ID facture", "numéro de facture", "invoice", "invoice_number"),
    ),
    Column("currency", ("currency", "Devise")),
    Column(
        "method", ("method", "Mode de règlement", "mode de paiement", "moyen de paiement", "payment_method", "mode")
    ),
    Column("reference", ("reference", "Référence", "libellé", "ref")),
)

CUSTOMER_COLUMNS = (
    Column(
        "id",
        ("customer_id", "ID client", "code client", "numéro client", "n° client", "ID", "compte client"),
        required=True,
    ),
    Column("name", ("name", "Client", "nom", "raison sociale", "customer_name", "nom client"), required=True),
    Column("email", ("email", "emails", "e-mail", "courriel", "mail", "adresse email")),
    Column("phone", ("phone", "Téléphone", "tél", "tel", "telephone number")),
    Column("language", ("language", "Langue", "lang")),
    Column("siren", ("siren", "SIREN", "siret", "n° siren")),
    Column("vat_number", ("vat_number", "N° TVA", "TVA intracommunautaire", "numéro de TVA", "vat", "TVA")),
    Column("salesperson", ("salesperson", "Commercial", "vendeur", "représentant", "sales_rep")),
    Column("salesperson_email", ("salesperson_email", "Email commercial", "e-mail commercial")),
    Column(
        "payment_terms_days",
        (
            "payment_terms_days",
            "Délai de paiement",
            "délai de paiement (jours)",
            "conditions de paiement",
            "payment terms",
            "terms",
        ),
    ),
    Column("country", ("country", "Pays")),
    Column("reference", ("reference", "Référence", "ref client")),
    Column("address", ("address", "Adresse postale", "adresse", "postal_address", "adresse de facturation")),
    Column(
        "payment_method",
        ("payment_method", "Mode de règlement", "mode de paiement", "moyen de paiement", "prélèvement"),
    ),
)

_CREDIT_WORDS = {"avoir", "av", "creditnote", "credit", "cn", "notedecredit", "creditnota", "refund"}
_INVOICE_WORDS = {"facture", "fa", "f", "invoice", "inv", "factuur"}
_STATUS_WORDS: dict[InvoiceStatus | None, set[str]] = {
    # None: an ordinary issued invoice, open, partly paid or paid as its amounts say.
    None: {
        "open",
        "unpaid",
        "due",
        "overdue",
        "late",
        "sent",
        "issued",
        "pending",
        "posted",
        "finalized",
        "finalised",
        "paid",
        "partiallypaid",
        "partial",
        "apayer",
        "impayee",
        "impaye",
        "enretard",
        "emise",
        "envoyee",
        "validee",
        "ouverte",
        "enattente",
        "nonpayee",
        "nonreglee",
        "echue",
        "payee",
        "paye",
        "reglee",
        "regle",
        "soldee",
        "partiellementpayee",
        "partiellementreglee",
        "paiementpartiel",
        "acquittee",
    },
    InvoiceStatus.CANCELLED: {"cancelled", "canceled", "void", "voided", "annulee", "annule", "avoiree"},
    InvoiceStatus.DRAFT: {"draft", "brouillon"},
}
_LANGUAGES = {
    "fr": "fr", "french": "fr", "francais": "fr",
    "nl": "nl", "dutch": "nl", "neerlandais": "nl", "nederlands": "nl", "vlaams": "nl",
    "en": "en", "english": "en", "anglais": "en",
}  # fmt: skip
_METHODS = {
    "virement": "transfer", "transfer": "transfer", "banktransfer": "transfer", "vir": "transfer", "sepa": "transfer",
    "cheque": "cheque", "check": "cheque", "chq": "cheque",
    "prelevement": "direct_debit", "directdebit": "direct_debit", "prlv": "direct_debit",
    "carte": "card", "cartebancaire": "card", "cb": "card", "card": "card",
    "especes": "cash", "cash": "cash", "lcr": "bill_of_exchange", "effet": "bill_of_exchange",
}  # fmt: skip
_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "CHF": "CHF"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class _Digest(Protocol):
    """A hashlib object: fed each file's bytes so that the cursor changes when any file does."""

    def update(self, data: bytes, /) -> None: ...


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    cells: dict[str, str]  # key -> stripped text
    headers: dict[str, str]  # key -> header as written in the file


class _Table:
    """One CSV file read whole, its columns mapped to keys."""

    def __init__(self, path: Path, columns: tuple[Column, ...], *, what: str, digest: _Digest | None = None) -> None:
        self.file = str(path)
        self.data = _read_bytes(path)
        if digest is not None:
            digest.update(hashlib.sha256(self.data).digest())
        text, _ = decode_text(self.data, file=self.file, encodings=("utf-8-sig", "cp1252"))
        if text.startswith("\ufeff"):
            text = text[1:]
        lines = split_lines(text)
        start = next((n for n, raw in enumerate(lines) if raw.strip()), None)
        if start is None:
            raise InputError(f"is empty: a {what} CSV starts with a header line", file=self.file, line=1)
        excel_hint = re.fullmatch(r'"?sep=(.)"?', lines[start].strip())  # Excel's "sep=;" first line
        if excel_hint:
            delimiter = excel_hint[1]
            start = next((n for n in range(start + 1, len(lines)) if lines[n].strip()), len(lines))
            if start == len(lines):
                raise InputError(f"has no header line after 'sep=': a {what} CSV starts with one", file=self.file)
        else:
            delimiter = _delimiter(lines[start])
        reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=delimiter)
        offset = start
        try:
            header = next(reader)
            self.header_line = offset + 1
            self.headers = self._map(header, columns, line=self.header_line, what=what)
            self.names = {key: name for key, (_, name) in self.headers.items()}
            width = len(header)
            while width and not header[width - 1].strip():
                width -= 1
            self.rows: list[_Row] = []
            previous = reader.line_num
            for fields in reader:
                line = offset + previous + 1
                previous = reader.line_num
                if not any(f.strip() for f in fields):
                    continue
                while len(fields) > width and not fields[-1].strip():
                    fields.pop()
                if len(fields) != width:
                    hint = ""
                    if delimiter == "," and len(fields) > width:
                        hint = " (an amount with a decimal comma must be quoted in a comma-separated file)"
                    raise InputError(
                        f"has {len(fields)} fields where the header has {width}{hint}", file=self.file, line=line
                    )
                self.rows.append(
                    _Row(line, {key: fields[index].strip() for key, (index, _) in self.headers.items()}, self.names)
                )
        except csv.Error as exc:
            raise InputError(f"is not readable CSV ({exc})", file=self.file, line=offset + reader.line_num) from None

    def _map(
        self, header: list[str], columns: tuple[Column, ...], *, line: int, what: str
    ) -> dict[str, tuple[int, str]]:
        by_name: dict[str, Column] = {}
        for column in columns:
            for name in column.names:
                by_name.setdefault(normalise_name(name), column)
        found: dict[str, tuple[int, str]] = {}
        for index, name in enumerate(header):
            match = by_name.get(normalise_name(name))
            if match is not None and match.key not in found:
                found[match.key] = (index, name.strip())
        for column in columns:
            if column.required and column.key not in found:
                accepted = ", ".join(repr(n) for n in column.names[:4])
                raise InputError(
                    f"the {what} file has no column {column.label!r} (accepted names include {accepted})",
                    file=self.file,
                    line=line,
                )
        return found


def _read_bytes(path: Path) -> bytes:
    return read_bounded(path)


def _delimiter(header: str) -> str:
    counts = {sep: 0 for sep in (";", ",", "\t")}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


class _Values:
    """Typed reads of one row's cells, raising errors that name the file, line and column."""

    def __init__(self, table: _Table, row: _Row) -> None:
        self.file = table.file
        self.row = row

    def error(self, key: str, message: str) -> InputError:
        return InputError(f"column {self.row.headers.get(key, key)!r}: {message}", file=self.file, line=self.row.line)

    def text(self, key: str) -> str:
        return self.row.cells.get(key, "")

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise self.error(key, "is empty")
        return value

    def date(self, key: str, *, required: bool = False) -> date | None:
        value = self.required(key) if required else self.text(key)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError:
            raise self.error(
                key, f"{value!r} is not a date (expected 2026-01-31 or 31/01/2026, years 1900 to 2199)"
            ) from None

    def amount(self, key: str) -> Decimal:
        value = self.required(key)
        try:
            return parse_amount(value)
        except ValueError as exc:
            beyond = " (beyond the largest amount accepted)" if "largest" in str(exc) else ""
            raise self.error(key, f"{value!r} is not an amount{beyond} (expected e.g. 1234.56 or 1 234,56)") from None

    def currency(self, key: str, default: str = "EUR") -> str:
        value = self.text(key)
        if not value:
            return default
        try:
            return parse_currency(_CURRENCY_SIGNS.get(value, value))
        except ValueError:
            raise self.error(key, f"{value!r} is not a currency code (e.g. EUR)") from None


def _status(values: _Values, kind: DocumentKind, total: Decimal, remaining: Decimal) -> InvoiceStatus:
    word = normalise_name(values.text("status"))
    explicit: InvoiceStatus | None = None
    if word:
        for status, words in _STATUS_WORDS.items():
            if word in words:
                explicit = status
                break
        else:
            return InvoiceStatus.UNKNOWN
    if explicit is not None:
        return explicit
    if remaining == 0:
        return InvoiceStatus.PAID
    return InvoiceStatus.OPEN if remaining == total else InvoiceStatus.PARTIALLY_PAID


def _kind(values: _Values, total: Decimal) -> DocumentKind:
    raw = values.text("kind")
    word = normalise_name(raw)
    if not word:
        return DocumentKind.CREDIT_NOTE if total < 0 else DocumentKind.INVOICE
    if word in _CREDIT_WORDS:
        return DocumentKind.CREDIT_NOTE
    if word in _INVOICE_WORDS:
        return DocumentKind.INVOICE
    raise values.error(
        "kind", f"{raw!r} is neither an invoice (facture, invoice) nor a credit note (avoir, credit note)"
    )


def read_customers(path: Path, *, digest: _Digest | None = None) -> dict[str, Customer]:
    """The customers file; *digest* (a hashlib object), when given, is fed the file's bytes."""
    table = _Table(path, CUSTOMER_COLUMNS, what="customers", digest=digest)
    customers: dict[str, Customer] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        values = _Values(table, row)
        customer_id = values.required("id")
        if customer_id in customers:
            raise values.error("id", f"customer {customer_id!r} is already on line {lines[customer_id]}")
        lines[customer_id] = row.line
        emails = tuple(e for e in re.split(r"[;,\s]+", values.text("email")) if e)
        for email in emails:
            if not _EMAIL.fullmatch(email):
                raise values.error("email", f"{email!r} is not an e-mail address")
        language = ""
        if values.text("language"):
            word = normalise_name(re.split(r"[-_]", values.text("language"))[0])
            if word not in _LANGUAGES:
                raise values.error("language", f"{values.text('language')!r} is not fr, nl or en")
            language = _LANGUAGES[word]
        siren = re.sub(r"[\s.]", "", values.text("siren"))
        if siren:
            if not siren.isdigit() or len(siren) not in (9, 14):
                raise values.error("siren", f"{values.text('siren')!r} is not a SIREN (9 digits) or SIRET (14)")
            siren = siren[:9]
        terms: int | None = None
        if values.text("payment_terms_days"):
            match = re.match(r"\s*(\d+)", values.text("payment_terms_days"))
            if match is None:
                raise values.error(
                    "payment_terms_days", f"{values.text('payment_terms_days')!r} is not a number of days"
                )
            terms = int(match[1])
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
            direct_debit=_METHODS.get(normalise_name(values.text("payment_method"))) == "direct_debit"
            or normalise_name(values.text("payment_method")) in ("oui", "yes", "ja", "true", "vrai", "1", "x"),
        )
    return customers


def read_invoices(
    path: Path, customers: dict[str, Customer], payment_terms_days: int, *, digest: _Digest | None = None
) -> tuple[list[Invoice], dict[str, Customer]]:
    """The invoices and credit notes of *path*, and the customers they name that *customers* lacks."""
    table = _Table(path, INVOICE_COLUMNS, what="invoices", digest=digest)
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
    for row in table.rows:
        values = _Values(table, row)
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
        if email and not _EMAIL.fullmatch(email):
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
        status = _status(values, kind, total, remaining)
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
                source_status=values.text("status"),
                salesperson=values.text("salesperson") or known.salesperson,
                label=values.text("label"),
                pdf_url=values.text("pdf_url"),
            )
        )
    return invoices, added


def read_payments(path: Path, invoices: list[Invoice], *, digest: _Digest | None = None) -> list[Payment]:
    """Payments; rows sharing a payment id are one payment allocated to several invoices."""
    table = _Table(path, PAYMENT_COLUMNS, what="payments", digest=digest)
    if "customer_id" not in table.headers and "invoice" not in table.headers:
        raise InputError(
            "the payments file has no column 'customer_id' nor 'invoice_id' (one of them says whose payment it is)",
            file=table.file,
            line=table.header_line,
        )
    by_id = {i.id: i for i in invoices}
    by_number = {i.number: i for i in invoices}
    grouped: dict[str, tuple[Payment, int]] = {}
    for row in table.rows:
        values = _Values(table, row)
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
        payment_id = values.text("id") or f"{Path(table.file).stem}:{row.line}"
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
                    method=_METHODS.get(normalise_name(values.text("method")), values.text("method")),
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


class CsvConnector:
    """CSV exports as a source; every pull re-reads the files whole (cursor: a hash of their bytes)."""

    source = SOURCE

    def __init__(
        self,
        path: Path,
        *,
        payments_path: Path | None = None,
        customers_path: Path | None = None,
        payment_terms_days: int = 30,
    ) -> None:
        self.path = Path(path)
        self.payments_path = Path(payments_path) if payments_path else None
        self.customers_path = Path(customers_path) if customers_path else None
        self.payment_terms_days = payment_terms_days

    def read(self) -> tuple[Ledger, str]:
        """The ledger the files describe and a digest of their bytes."""
        digest = hashlib.sha256()  # over each file's own SHA-256, in a fixed order
        customers: dict[str, Customer] = {}
        if self.customers_path is not None:
            customers = read_customers(self.customers_path, digest=digest)
        digest.update(b"customers|invoices")
        invoices, added = read_invoices(self.path, customers, self.payment_terms_days, digest=digest)
        payments: list[Payment] = []
        if self.payments_path is not None:
            payments = read_payments(self.payments_path, invoices, digest=digest)
        everyone = {**customers, **added}
        for payment in payments:
            if payment.customer_id not in everyone:
                everyone[payment.customer_id] = Customer(
                    id=payment.customer_id, name=payment.customer_id, source=SOURCE
                )
        # A payments row naming no invoice is money on account: an unallocated credit.
        credits = tuple(c for c in (credit_from_payment(p) for p in payments) if c is not None)
        ledger = Ledger(tuple(everyone.values()), tuple(invoices), tuple(payments), credits)
        return ledger, digest.hexdigest()

    def check(self) -> SourceInfo:
        ledger, _ = self.read()
        files = ", ".join(p.name for p in (self.path, self.payments_path, self.customers_path) if p is not None)
        return SourceInfo(
            source=SOURCE,
            organisation=self.path.name,
            open_invoices=len(ledger.open_invoices()),
            details=f"{len(ledger.customers)} customers, {len(ledger.invoices)} documents, "
            f"{len(ledger.payments)} payments from {files}",
        )

    def _cursor(self, digest: str) -> str:
        return f"sha256:{digest};terms={self.payment_terms_days}"

    def files_digest(self) -> str:
        """The digest :meth:`read` computes, from the files' bytes alone (nothing parsed)."""
        digest = hashlib.sha256()
        if self.customers_path is not None:
            digest.update(hashlib.sha256(_read_bytes(self.customers_path)).digest())
        digest.update(b"customers|invoices")
        digest.update(hashlib.sha256(_read_bytes(self.path)).digest())
        if self.payments_path is not None:
            digest.update(hashlib.sha256(_read_bytes(self.payments_path)).digest())
        return digest.hexdigest()

    def pull(self, cursor: str | None) -> Delta:
        """The whole ledger — or nothing to apply when the files and settings are those of ``cursor``."""
        if cursor is not None and cursor == self._cursor(self.files_digest()):
            return Delta(full=False, cursor=cursor)
        ledger, digest = self.read()
        return Delta.of_ledger(ledger, self._cursor(digest))

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        return self.refetch_invoices([invoice_id])[invoice_id]

    def refetch_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
        """The pass's invoices as the files have them now: read once for all of them."""
        ledger, _ = self.read()
        index = {invoice.id: invoice for invoice in ledger.invoices}
        return {invoice_id: index.get(invoice_id) for invoice_id in invoice_ids}
