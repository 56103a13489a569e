"""FEC source: the *Fichier des Écritures Comptables* every French accounting program exports.

A FEC is the general ledger, one line per entry line, 18 columns (JournalCode … Idevise).  The
receivables live on accounts 411* (CompAuxNum names the customer); invoices and credit notes are
the sales entries that debit or credit 411, payments the other entries that credit it, and the
matching codes (EcritureLet/DateLet) tell which payments and credit notes settle which invoices.
What is still due on an invoice is its debit minus what its matching group settled; a group that
does not balance is a partial match (lower-case codes in most programs), settled oldest first.

Amounts are in the company's currency (EUR); Montantdevise/Idevise give the document currency of
foreign-currency lines, and then ``remaining_company`` keeps the exact EUR figure (a payment is in
that currency too when its lines and the invoices it pays all are).  The file is
parsed whole before anything is returned: a bad line raises :class:`InputError` naming the file and
the line, and nothing is half-read.  :func:`encours.connectors.fec_writer.write_ledger` writes a balanced FEC from a
:class:`Ledger` (used by the round-trip tests and to hand a demo FEC to people).
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from encours.connectors.errors import ConfigError, InputError
from encours.connectors.model import (
    Allocation,
    CreditKind,
    Customer,
    Delta,
    DocumentKind,
    Installment,
    Invoice,
    InvoiceStatus,
    Ledger,
    Money,
    Payment,
    SourceInfo,
    UnallocatedCredit,
    to_cents,
)
from encours.connectors.parsing import parse_amount, parse_currency, parse_date, read_bounded

SOURCE = "fec"
COMPANY_CURRENCY = "EUR"

#: The 18 columns of the standard (article A47 A-1 of the Livre des procédures fiscales), in order.
FEC_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
#: The extra column the FEC writer adds, and the names recognised without configuration.
DUE_DATE_COLUMN = "DateEcheance"
DUE_DATE_NAMES = ("DateEcheance", "EcheanceDate", "Echeance", "DateEch", "DateDEcheance", "DueDate")

#: Header names some programs write instead of the standard ones (normalised: lower case, no accents).
_HEADER_VARIANTS = {
    "journallibelle": "journallib",
    "comptelibelle": "comptelib",
    "compauxlibelle": "compauxlib",
    "ecriturelibelle": "ecriturelib",
    "ecriturelettrage": "ecriturelet",
    "datelettrage": "datelet",
    "datevalidation": "validdate",
    "montantendevise": "montantdevise",
    "devise": "idevise",
}
RECEIVABLE_PREFIX = "411"
_SALES_JOURNAL_CODES = frozenset({"V", "VT", "VE", "VEN", "VTE", "VENTE", "VENTES", "SALES"})  # not SAL: salaires
_OPENING_JOURNAL_CODES = frozenset({"AN", "RAN", "ANO", "NOUV"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "iso-8859-15": "ISO-8859-15", "cp1252": "Windows-1252"}
_ZERO = Decimal(0)
#: Kinds of counterpart accounts that tell what an entry touching 411 is: (prefixes, payment method).
#: Their order is the order in which a payment's method is chosen.
_ACCOUNT_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("511",), "cheque"),
    (("512", "514", "515", "517"), "transfer"),
    (("53",), "cash"),
    (("665",), "discount"),
    (("654", "6714"), "write_off"),
    (("5",), ""),
    (("70", "4457"), ""),
)
_CASH = 1 << 5
_REVENUE = 1 << 6


def _account_kinds(account: str) -> int:
    return sum(1 << bit for bit, (prefixes, _) in enumerate(_ACCOUNT_KINDS) if account.startswith(prefixes))


# -- text helpers shared with the CSV source ---------------------------------------------------------
def normalise_name(text: str) -> str:
    """A column name reduced for comparison: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def decode_text(
    data: bytes, *, file: str, encodings: Sequence[str], forced: str | None = None, hint: str = ""
) -> tuple[str, str]:
    """Decode a text export, trying *encodings* in order (or only *forced*); returns (text, encoding).

    A later encoding is tried only when the bytes are not valid in the earlier one.  Text holding
    control characters (NUL, C1 controls …) is not text in that encoding either.  Raises
    :class:`InputError` naming the line where the last encoding tried failed.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 text: export or save it as UTF-8", file=file, line=1)
    candidates = [forced] if forced else list(encodings)
    bad: tuple[int, int] | None = None  # (line, byte) where the last candidate tried failed
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise ConfigError(
                f"unknown encoding {encoding!r} (try utf-8, iso-8859-15 or cp1252)", key="[source] encoding"
            ) from None
        except UnicodeDecodeError as exc:
            bad = (data.count(b"\n", 0, exc.start) + 1, data[exc.start])
            continue
        control = _CONTROL.search(text)
        if control is None:
            return text, encoding
        bad = (_line_of(text, control.start()), ord(control.group()))
    assert bad is not None
    line, byte = bad
    names = [_ENCODING_NAMES.get(c.lower(), c) for c in candidates]
    what = f"neither {' nor '.join(names)}" if len(names) > 1 else f"not {names[0]}"
    raise InputError(f"is {what} text: byte 0x{byte:02x} cannot be read{hint}", file=file, line=line)


def split_lines(text: str) -> list[str]:
    """Physical lines, whatever the line ends (LF, CRLF or CR), so that line numbers match editors."""
    return list(iter_lines(text))


def iter_lines(text: str) -> Iterator[str]:
    """Like :func:`split_lines`, one line at a time (no second copy of a large file in memory)."""
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")
    start, end_of_text = 0, len(text)
    while start < end_of_text:
        end = text.find("\n", start)
        if end < 0:
            end = end_of_text
        line = text[start:end]
        yield line[:-1] if line.endswith("\r") else line
        start = end + 1


# -- reading --------------------------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class _Item:
    """One 411 line: a debit (what the customer owes) or a credit (what settles it)."""

    line: int
    journal: str
    entry: str
    customer: str
    debit: bool
    amount: Decimal  # company currency, positive
    letter: str
    day: date  # PieceDate, else EcritureDate
    entry_date: date
    piece_ref: str
    label: str
    currency: str  # "" for the company currency
    currency_amount: Decimal | None
    due_date: date | None
    open: Decimal = _ZERO
    matches: list[tuple[_Item, Decimal]] = field(default_factory=list)


@dataclass(slots=True)
class _Entry:
    journal: str
    number: str
    first_line: int
    debit: Decimal = _ZERO
    credit: Decimal = _ZERO
    kinds: int = 0  # which kinds of accounts other than 411* it touches (bits of _ACCOUNT_KINDS)
    label: str = ""

    @property
    def revenue(self) -> bool:
        """A 70* (sales) or 4457* (VAT collected) line: a sales document."""
        return bool(self.kinds & _REVENUE)

    @property
    def cash(self) -> bool:
        """A class-5 line (bank, cheques, cash): money moved."""
        return bool(self.kinds & _CASH)


@dataclass(frozen=True, slots=True)
class FecFile:
    """A FEC read whole: the ledger rebuilt from it and what was detected."""

    ledger: Ledger
    encoding: str
    separator: str
    lines: int
    digest: str
    due_date_column: str | None
    notes: tuple[str, ...] = ()


class _Columns:
    """Where each standard column sits in the header, and which variant of amounts the file uses."""

    def __init__(self, names: list[str], *, file: str, line: int, due_date_column: str | None) -> None:
        index = {
            _HEADER_VARIANTS.get(normalise_name(name), normalise_name(name)): position
            for position, name in reversed(list(enumerate(names)))
        }
        required = [name for name in FEC_COLUMNS if name not in ("Debit", "Credit")]
        # The cash-basis variant of the standard writes Montant + Sens instead of Debit + Credit.
        self.signed = "debit" not in index and "credit" not in index and "montant" in index and "sens" in index
        if not self.signed:
            required[11:11] = ["Debit", "Credit"]
        missing = [name for name in required if normalise_name(name) not in index]
        if missing:
            raise InputError(
                f"the header lacks the FEC column(s) {', '.join(missing)} "
                f"(a FEC starts with a header line naming the 18 columns {FEC_COLUMNS[0]} … {FEC_COLUMNS[-1]})",
                file=file,
                line=line,
            )
        self.at = {name: index[normalise_name(name)] for name in required}
        if self.signed:
            self.at["Montant"] = index["montant"]
            self.at["Sens"] = index["sens"]
        self.width = len(names)
        self.due: int | None = None
        self.due_name: str | None = None
        if due_date_column:
            key = normalise_name(due_date_column)
            if key not in index:
                raise InputError(
                    f"the due-date column {due_date_column!r} (source due_date_column) is not in the header",
                    file=file,
                    line=line,
                )
            self.due, self.due_name = index[key], due_date_column
        else:
            for name in DUE_DATE_NAMES:
                if normalise_name(name) in index:
                    self.due = index[normalise_name(name)]
                    self.due_name = names[self.due].strip()
                    break


def _detect_separator(header: str, *, file: str, line: int) -> str:
    tabs, pipes = header.count("\t"), header.count("|")
    if tabs == 0 and pipes == 0:
        # Not the standard, but some tools write "FEC-compatible" files with ';': read them too.
        if header.count(";") >= len(FEC_COLUMNS) - 1:
            return ";"
        found = next((sep for sep in (";", ",") if header.count(sep) >= 10), None)
        extra = f" (this header is separated by {found!r})" if found else ""
        raise InputError(f"the header is not separated by tabs or '|' as a FEC must be{extra}", file=file, line=line)
    return "\t" if tabs >= pipes else "|"


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1].strip()
    return value


def read_fec(
    path: Path,
    *,
    payment_terms_days: int = 30,
    due_date_column: str | None = None,
    encoding: str | None = None,
) -> FecFile:
    """Read a FEC whole and rebuild customers, invoices, credit notes and payments from it."""
    file = str(path)
    data = read_bounded(path)
    text, used_encoding = decode_text(
        data,
        file=file,
        encodings=("utf-8-sig", "iso-8859-15"),
        forced=encoding,
        hint="" if encoding else ' (if it is Windows-1252, set encoding = "cp1252" under [source])',
    )
    digest = hashlib.sha256(data).hexdigest()
    del data
    if used_encoding == "utf-8" and text.startswith("\ufeff"):
        text = text[1:]
    lines = enumerate(iter_lines(text), start=1)
    header_line, header = next(((n, raw) for n, raw in lines if raw.strip()), (0, ""))
    if not header_line:
        raise InputError("is empty: a FEC starts with a header line naming its 18 columns", file=file, line=1)
    separator = _detect_separator(header, file=file, line=header_line)
    names = header.split(separator)
    while names and not names[-1].strip():
        names.pop()
    columns = _Columns(
        [n.strip().strip('"') for n in names], file=file, line=header_line, due_date_column=due_date_column
    )
    parser = _Parser(file, columns, separator)
    count = header_line
    for count, raw in lines:
        if raw and not raw.isspace():
            parser.line(count, raw)
    del text
    parser.check_balance()
    rebuild = _Rebuild(parser, payment_terms_days)
    ledger = rebuild.ledger()
    return FecFile(
        notes=_notes(parser, rebuild),
        ledger=ledger,
        encoding="utf-8" if used_encoding == "utf-8-sig" else used_encoding,
        separator=separator,
        lines=count,
        digest=digest,
        due_date_column=columns.due_name,
    )


class _Parser:
    """Reads data lines: validates every field, keeps the 411 lines, sums every entry."""

    def __init__(self, file: str, columns: _Columns, separator: str) -> None:
        self.file = file
        self.columns = columns
        self.separator = separator
        self.items: list[_Item] = []
        self.entries: dict[tuple[str, str, date, str], _Entry] = {}
        #: True when EcritureNum does not identify entries (constant, or reused across dates).
        self.constant_numbering = False
        self.grouped: dict[tuple[str, str], _Entry] = {}
        self.journal_labels: dict[str, str] = {}
        self.customer_names: dict[str, str] = {}
        self._dates: dict[str, date] = {}
        self._amounts: dict[str, Decimal] = {}
        self._kinds: dict[str, int] = {}

    def _error(self, message: str, line: int) -> InputError:
        return InputError(message, file=self.file, line=line)

    def _date(self, value: str, column: str, line: int, *, required: bool = False) -> date | None:
        if not value:
            if required:
                raise self._error(f"{column} is empty: a date YYYYMMDD is required", line)
            return None
        known = self._dates.get(value)
        if known is not None:
            return known
        try:
            parsed = parse_date(value)
        except ValueError:
            raise self._error(
                f"{column} {value!r} is not a date (expected YYYYMMDD between 1900 and 2199, e.g. 20260131)", line
            ) from None
        self._dates[value] = parsed
        return parsed

    def _amount(self, value: str, column: str, line: int) -> Decimal:
        if not value:
            return _ZERO
        known = self._amounts.get(value)
        if known is not None:
            return known
        try:
            parsed = parse_amount(value)
        except ValueError as exc:
            beyond = " (beyond the largest amount accepted)" if "largest" in str(exc) else ""
            raise self._error(f"{column} {value!r} is not an amount{beyond} (expected e.g. 1234,56)", line) from None
        if len(self._amounts) < 100_000:
            self._amounts[value] = parsed
        return parsed

    def line(self, number: int, raw: str) -> None:
        columns = self.columns
        fields = raw.split(self.separator)
        while len(fields) > columns.width and not fields[-1].strip():
            fields.pop()
        fields = [_unquote(f) for f in fields] if '"' in raw else list(map(str.strip, fields))
        if len(fields) != columns.width:
            raise self._error(
                f"has {len(fields)} columns where the header has {columns.width} "
                f"(separator {'tab' if self.separator == chr(9) else repr(self.separator)})",
                number,
            )
        at = columns.at
        journal = sys.intern(fields[at["JournalCode"]])
        entry_number = fields[at["EcritureNum"]]
        entry_date = self._date(fields[at["EcritureDate"]], "EcritureDate", number, required=True)
        assert entry_date is not None
        account = fields[at["CompteNum"]]
        piece_ref = fields[at["PieceRef"]]
        piece_date = self._date(fields[at["PieceDate"]], "PieceDate", number)
        self._date(fields[at["ValidDate"]], "ValidDate", number)
        self._date(fields[at["DateLet"]], "DateLet", number)
        if columns.signed:
            amount = self._amount(fields[at["Montant"]], "Montant", number)
            sense = fields[at["Sens"]].upper()
            if sense in ("D", "+1", "1"):
                debit, credit = amount, _ZERO
            elif sense in ("C", "-1"):
                debit, credit = _ZERO, amount
            else:
                raise self._error(f"Sens {sense!r} is neither D nor C", number)
        else:
            debit = self._amount(fields[at["Debit"]], "Debit", number)
            credit = self._amount(fields[at["Credit"]], "Credit", number)
        currency_text = fields[at["Montantdevise"]]
        currency_amount = self._amount(currency_text, "Montantdevise", number) if currency_text else None
        currency = fields[at["Idevise"]]
        if currency:
            try:
                currency = parse_currency(currency)
            except ValueError:
                raise self._error(f"Idevise {currency!r} is not a currency code (e.g. USD)", number) from None
        due_date = None
        if columns.due is not None:
            due_date = self._date(fields[columns.due], columns.due_name or "due date", number)
        label = fields[at["EcritureLib"]]

        # The finest grouping; :meth:`group_entries` merges it into entries once the numbering is known.
        key = (journal, entry_number, entry_date, piece_ref)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = _Entry(journal, entry_number, number, label=label)
            if journal not in self.journal_labels:
                self.journal_labels[journal] = fields[at["JournalLib"]]
        entry.debit += debit
        entry.credit += credit
        if not account.startswith(RECEIVABLE_PREFIX):
            kinds = self._kinds.get(account)
            if kinds is None:
                kinds = self._kinds[account] = _account_kinds(account)
            entry.kinds |= kinds
            return
        net = debit - credit
        aux = fields[at["CompAuxNum"]]
        customer = sys.intern(aux or account)
        name = fields[at["CompAuxLib"]] if aux else fields[at["CompteLib"]]
        if name or customer not in self.customer_names:
            self.customer_names[customer] = name or customer
        if net == 0:
            return
        foreign = currency if currency and currency != COMPANY_CURRENCY and currency_amount else ""
        self.items.append(
            _Item(
                line=number,
                journal=journal,
                entry=entry_number,
                customer=customer,
                debit=net > 0,
                amount=abs(net),
                letter=fields[at["EcritureLet"]],
                day=piece_date or entry_date,
                entry_date=entry_date,
                piece_ref=piece_ref,
                label=label,
                currency=foreign,
                currency_amount=abs(currency_amount) if foreign and currency_amount is not None else None,
                due_date=due_date,
                open=abs(net),
            )
        )

    def group_entries(self) -> None:
        """Merge the parsed groups into entries: by journal and EcritureNum, as the standard says.

        A number used on several dates (some programs write a constant EcritureNum) does not
        identify an entry: then entries are journal, date and piece (or journal and date when a
        piece alone does not balance), and each 411 line gets its entry's new name.
        """
        dates: dict[tuple[str, str], date] = {}
        for journal, number, day, _ in self.entries:
            if not number or dates.setdefault((journal, number), day) != day:
                self.constant_numbering = True
                break

        def regroup(name: Callable[[str, str, date, str], str]) -> dict[tuple[str, str], _Entry]:
            merged: dict[tuple[str, str], _Entry] = {}
            for (journal, number, day, piece), part in self.entries.items():
                key = (journal, name(journal, number, day, piece))
                entry = merged.get(key)
                if entry is None:
                    merged[key] = _Entry(
                        journal, key[1], part.first_line, part.debit, part.credit, part.kinds, part.label
                    )
                else:
                    entry.debit += part.debit
                    entry.credit += part.credit
                    entry.kinds |= part.kinds
                    if part.first_line < entry.first_line:
                        entry.first_line, entry.label = part.first_line, part.label
            return merged

        def by_number(journal: str, number: str, day: date, piece: str) -> str:
            return number

        def by_piece(journal: str, number: str, day: date, piece: str) -> str:
            return f"{day:%Y%m%d}/{piece}"

        def by_day(journal: str, number: str, day: date, piece: str) -> str:
            return f"{day:%Y%m%d}"

        naming = by_number
        grouped = regroup(by_number)
        if self.constant_numbering:
            naming = by_piece
            grouped = regroup(by_piece)
            if any(e.debit != e.credit for e in grouped.values()):
                naming, grouped = by_day, regroup(by_day)
        self.grouped = grouped
        for item in self.items:
            item.entry = naming(item.journal, item.entry, item.entry_date, item.piece_ref)

    def check_balance(self) -> None:
        self.group_entries()
        for entry in self.grouped.values():
            if entry.debit != entry.credit:
                debit, credit = format_amount(entry.debit), format_amount(entry.credit)
                raise self._error(
                    f"entry {entry.journal} {entry.number} is unbalanced: debits {debit} ≠ credits {credit} "
                    f"(difference {format_amount(entry.debit - entry.credit)}); this is its first line",
                    entry.first_line,
                )


def _notes(parser: _Parser, rebuild: _Rebuild) -> tuple[str, ...]:
    """What the sync summary says about how the book was read."""
    notes = []
    names = parser.customer_names
    lettered = any(i.letter for i in parser.items)
    if rebuild.unlettered:
        who = ", ".join(names.get(c, c) for c in rebuild.unlettered[:10])
        more = f" and {len(rebuild.unlettered) - 10} more" if len(rebuild.unlettered) > 10 else ""
        if lettered:
            notes.append(f"FEC: {len(rebuild.unlettered)} customer(s) without lettering (their payments are shown "
                         f"as unallocated): {who}{more}")
        else:
            notes.append(f"FEC: the book has no lettering at all: payments and credit notes were set against the "
                         f"oldest invoices first, for {len(rebuild.unlettered)} customer(s): {who}{more}")
    if parser.constant_numbering:
        notes.append("FEC: EcritureNum does not identify entries (constant or reused on several dates): "
                     "entries were grouped by journal, date and piece")
    return tuple(notes)


def format_amount(value: Decimal) -> str:
    """An amount as a FEC writes it: two decimals, decimal comma."""
    return f"{value:.2f}".replace(".", ",")


def _is_sales_journal(code: str, label: str) -> bool:
    words = normalise_name(label)
    return code.upper() in _SALES_JOURNAL_CODES or "vente" in words or "sales" in words


def _payment_method(entry: _Entry) -> str:
    words = entry.label.lower()
    if "prlv" in words or "prélèvement" in words or "prelevement" in words:
        return "direct_debit"
    if words.startswith(("chq", "cheque", "chèque")) or "remise de chèque" in words or "remise cheque" in words:
        return "cheque"
    for bit, (_, method) in enumerate(_ACCOUNT_KINDS):
        if method and entry.kinds & (1 << bit):
            return method
    if entry.journal.upper() in _OPENING_JOURNAL_CODES:
        return "opening_balance"
    return "other"


def _settle(items: list[_Item]) -> None:
    """Match the lines of one lettering group, oldest debit with oldest credit, to the cent."""
    debits = sorted((i for i in items if i.debit), key=lambda i: (i.day, i.line))
    credits = sorted((i for i in items if not i.debit), key=lambda i: (i.day, i.line))
    d = c = 0
    while d < len(debits) and c < len(credits):
        debit, credit = debits[d], credits[c]
        amount = min(debit.open, credit.open)
        debit.open -= amount
        credit.open -= amount
        debit.matches.append((credit, amount))
        credit.matches.append((debit, amount))
        if debit.open == 0:
            d += 1
        if credit.open == 0:
            c += 1


def _currency_open(item: _Item) -> Decimal:
    """What is still open on a foreign-currency line, in its currency (exact; rounded by the caller)."""
    assert item.currency_amount is not None
    if item.open == 0:
        return _ZERO
    used = _ZERO
    for other, amount in item.matches:
        if other.currency == item.currency and other.currency_amount is not None:
            used += other.currency_amount * amount / other.amount
        else:
            used += item.currency_amount * amount / item.amount
    return max(item.currency_amount - used, _ZERO)


class _DocKey(NamedTuple):
    journal: str
    entry: str
    customer: str
    kind: str  # invoice | credit_note | payment
    piece: str  # PieceRef; "" for payments


class _Rebuild:
    """Turns the 411 lines into documents, payments and allocations."""

    def __init__(self, parser: _Parser, payment_terms_days: int) -> None:
        self.parser = parser
        self.terms = timedelta(days=payment_terms_days)
        #: Customers with debits and credits and no lettering (settled oldest first if the book has none).
        self.unlettered: list[str] = []
        revenue_journals = {e.journal for e in parser.grouped.values() if e.revenue}
        self.sales_journals = {
            code
            for code, label in parser.journal_labels.items()
            if code in revenue_journals or _is_sales_journal(code, label)
        }

    def _is_credit_note(self, entry: _Entry) -> bool:
        """A credit on 411 is a credit note in a sales entry, unless cash moved in it (a cash sale)."""
        if entry.cash:
            return False
        return entry.revenue or entry.journal in self.sales_journals

    def _letter(self) -> None:
        """Settle what the lettering says; then what it cannot say, as an accountant would.

        A book with no lettering at all is settled oldest first per customer (and said so).
        Opening lines (A-nouveaux) still open after their lettering — their settlement was
        lettered in a previous year, or they carry a balance as one line — settle each other,
        oldest first, per customer.  What is left stays open: invoices, and unallocated credits.
        """
        parser = self.parser
        groups: dict[tuple[str, str], list[_Item]] = {}
        lettered_customers: set[str] = set()
        for item in parser.items:
            if item.letter:
                groups.setdefault((item.customer, item.letter), []).append(item)
                lettered_customers.add(item.customer)
        by_customer: dict[str, list[_Item]] = {}
        for item in parser.items:
            by_customer.setdefault(item.customer, []).append(item)
        if not groups:
            for customer, items in by_customer.items():
                if any(i.debit for i in items) and any(not i.debit for i in items):
                    self.unlettered.append(customer)
                _settle(items)
            return
        for group in groups.values():
            _settle(group)
        for customer, items in by_customer.items():
            opening = [i for i in items if i.open and i.journal.upper() in _OPENING_JOURNAL_CODES]
            _settle(opening)
            if customer not in lettered_customers and any(i.debit for i in items) and any(
                not i.debit for i in items
            ):
                self.unlettered.append(customer)

    def ledger(self) -> Ledger:
        parser = self.parser
        self._letter()

        # One document per entry, customer, kind and PieceRef (a daily sales entry may hold several
        # invoices); one payment per entry and customer.
        documents: dict[_DocKey, list[_Item]] = {}
        for item in parser.items:
            entry = parser.grouped[(item.journal, item.entry)]
            kind = "invoice" if item.debit else "credit_note" if self._is_credit_note(entry) else "payment"
            piece = "" if kind == "payment" else item.piece_ref
            documents.setdefault(_DocKey(item.journal, item.entry, item.customer, kind, piece), []).append(item)

        ids = self._document_ids([key for key in documents if key.kind != "payment"])
        owner: dict[int, str] = {}  # id(item) -> document id
        for key, items in documents.items():
            if key in ids:
                for item in items:
                    owner[id(item)] = ids[key]

        invoices = [self._document(ids[key], key, items, owner) for key, items in documents.items() if key in ids]
        payments = []
        credits = []
        for key, items in documents.items():
            if key.kind == "payment":
                payments.append(self._payment(key, items, owner))
                credit = self._credit(payments[-1], items)
                if credit is not None:
                    credits.append(credit)
        debited = self._direct_debit_customers(payments)
        customers = [
            Customer(id=cid, name=name, source=SOURCE, direct_debit=cid in debited)
            for cid, name in sorted(parser.customer_names.items())
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
        for item in self.parser.items:
            if item.debit and item.customer in debited:
                entry = self.parser.grouped[(item.journal, item.entry)]
                if entry.cash and item.entry_date >= latest[item.customer].date:
                    debited.discard(item.customer)
        return debited

    def _credit(self, payment: Payment, items: list[_Item]) -> UnallocatedCredit | None:
        """What a payment's 411 lines left open: an unallocated credit (its debits count as invoices)."""
        open_company = sum((i.open for i in items), _ZERO)
        if open_company <= 0:
            return None
        first = items[0]
        entry = self.parser.grouped[(first.journal, first.entry)]
        if first.journal.upper() in _OPENING_JOURNAL_CODES:
            kind = CreditKind.OPENING_BALANCE
        elif entry.cash or payment.method in ("transfer", "cheque", "cash", "direct_debit"):
            kind = CreditKind.PAYMENT_ON_ACCOUNT
        else:
            kind = CreditKind.OTHER
        if payment.amount.currency != COMPANY_CURRENCY:
            amount = Money(to_cents(sum((_currency_open(i) for i in items), _ZERO)), payment.amount.currency)
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
            base = piece or f"{journal}-{entry}"
            candidates = [base, f"{base} [{journal}-{entry}]", f"{base} [{journal}-{entry} {customer} {kind}]"]
            name = next((c for c in candidates if c not in used), None)
            counter = 2
            while name is None or name in used:
                name = f"{candidates[-1]} #{counter}"
                counter += 1
            chosen[key] = name
            used.add(name)
        return chosen

    def _document(self, doc_id: str, key: _DocKey, items: list[_Item], owner: dict[int, str]) -> Invoice:
        journal, entry_number, customer, kind, _ = key
        credit_note = kind == "credit_note"
        total_company = sum((i.amount for i in items), _ZERO)
        open_company = sum((i.open for i in items), _ZERO)
        foreign = ""
        if items[0].currency:
            currencies = {i.currency for i in items}
            if len(currencies) == 1 and all(i.currency_amount for i in items):
                foreign = items[0].currency
        if foreign:
            currency = foreign
            total = to_cents(sum((i.currency_amount or _ZERO for i in items), _ZERO))
            remaining = to_cents(sum((_currency_open(i) for i in items), _ZERO))
            remaining_company: Money | None = Money(to_cents(open_company), COMPANY_CURRENCY)
        else:
            currency = COMPANY_CURRENCY
            total, remaining, remaining_company = to_cents(total_company), to_cents(open_company), None
        issue = min(i.day for i in items)

        matched_by = [other for i in items for other, _ in i.matches]
        if remaining == 0 and open_company == 0:
            only_credit_notes = all(not o.debit and owner.get(id(o)) is not None for o in matched_by)
            status = InvoiceStatus.CANCELLED if not credit_note and only_credit_notes else InvoiceStatus.PAID
        elif open_company == total_company:
            status = InvoiceStatus.OPEN
        else:
            status = InvoiceStatus.PARTIALLY_PAID
        letters = sorted({i.letter for i in items if i.letter})
        if not letters:
            source_status = "non lettrée"
        elif open_company == 0:
            source_status = "lettrée"
        else:
            source_status = "lettrage partiel"

        due_dates = [i.due_date for i in items if i.due_date is not None]
        still_due = [i.due_date for i in items if i.due_date is not None and i.open > 0]
        if still_due or due_dates:
            due: date | None = min(still_due or due_dates)
        else:
            due = issue if credit_note else issue + self.terms
        installments: tuple[Installment, ...] = ()
        if len(set(due_dates)) > 1:
            installments = self._installments(items, currency, bool(foreign))

        credited = ""
        if credit_note:
            targets = {owner.get(id(o)) for o in matched_by}
            if len(targets) == 1:
                credited = targets.pop() or ""
        extra = [("journal", journal), ("écriture", entry_number)]
        if letters:
            extra.append(("lettrage", ", ".join(letters)))
        return Invoice(
            id=doc_id,
            number=items[0].piece_ref or doc_id,
            customer_id=customer,
            source=SOURCE,
            issue_date=issue,
            due_date=due,
            total=Money(total, currency),
            remaining=Money(remaining, currency),
            kind=DocumentKind.CREDIT_NOTE if credit_note else DocumentKind.INVOICE,
            status=status,
            source_status=source_status,
            label=items[0].label,
            credited_invoice_id=credited,
            remaining_company=remaining_company,
            installments=installments,
            extra=tuple(extra),
        )

    @staticmethod
    def _installments(items: list[_Item], currency: str, foreign: bool) -> tuple[Installment, ...]:
        by_due: dict[date, tuple[Decimal, Decimal]] = {}
        for item in items:
            if item.due_date is None:
                continue
            amount = (item.currency_amount or _ZERO) if foreign else item.amount
            left = _currency_open(item) if foreign else item.open
            before = by_due.get(item.due_date, (_ZERO, _ZERO))
            by_due[item.due_date] = (before[0] + amount, before[1] + left)
        return tuple(
            Installment(due, Money(to_cents(amount), currency), Money(to_cents(left), currency))
            for due, (amount, left) in sorted(by_due.items())
        )

    def _payment(self, key: _DocKey, items: list[_Item], owner: dict[int, str]) -> Payment:
        """A payment in euros, or in the foreign currency its lines and the invoices it pays share."""
        journal, entry_number, customer, _, _ = key
        entry = self.parser.grouped[(journal, entry_number)]
        currencies = {i.currency for i in items} | {o.currency for i in items for o, _ in i.matches}
        foreign = next(iter(currencies)) if len(currencies) == 1 and all(i.currency_amount for i in items) else ""

        def in_currency(item: _Item, amount: Decimal) -> Decimal:
            # The payment line's own rate: exact when the whole line is allocated.
            return item.currency_amount * amount / item.amount if foreign and item.currency_amount else amount

        allocated: dict[str, Decimal] = {}
        for item in items:
            for other, amount in item.matches:
                invoice_id = owner.get(id(other))
                if invoice_id is not None:
                    allocated[invoice_id] = allocated.get(invoice_id, _ZERO) + in_currency(item, amount)
        currency = foreign or COMPANY_CURRENCY
        return Payment(
            id=f"{journal}-{entry_number}-{customer}",
            customer_id=customer,
            source=SOURCE,
            date=min(i.entry_date for i in items),
            amount=Money(to_cents(sum((in_currency(i, i.amount) for i in items), _ZERO)), currency),
            allocations=tuple(
                Allocation(invoice_id, Money(to_cents(amount), currency)) for invoice_id, amount in allocated.items()
            ),
            method=_payment_method(entry),
            reference=items[0].piece_ref or items[0].label,
        )


class FecConnector:
    """A FEC file as a source.  Every pull re-reads the whole file (a FEC has no change feed).

    The cursor is the SHA-256 of the file's bytes: an unchanged file gives the same cursor.
    """

    source = SOURCE

    def __init__(
        self,
        path: Path,
        *,
        payment_terms_days: int = 30,
        due_date_column: str | None = None,
        encoding: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.payment_terms_days = payment_terms_days
        self.due_date_column = due_date_column
        self.encoding = encoding

    def read(self) -> FecFile:
        return read_fec(
            self.path,
            payment_terms_days=self.payment_terms_days,
            due_date_column=self.due_date_column,
            encoding=self.encoding,
        )

    def check(self) -> SourceInfo:
        fec = self.read()
        ledger = fec.ledger
        due = f", due dates from column {fec.due_date_column}" if fec.due_date_column else ""
        separator = "tab" if fec.separator == "\t" else "'|'"
        # The legal file name is SIRENFECYYYYMMDD (SIREN of the company, closing date of the year).
        named = re.match(r"(\d{9})FEC(\d{8})", self.path.name, re.IGNORECASE)
        company = ""
        if named:
            try:
                company = f"SIREN {named[1]}, year closing {parse_date(named[2]):%d/%m/%Y}; "
            except ValueError:
                company = f"SIREN {named[1]}; "
        return SourceInfo(
            source=SOURCE,
            organisation=self.path.name,
            open_invoices=len(ledger.open_invoices()),
            details=f"{company}{len(ledger.customers)} customers, {len(ledger.invoices)} documents, "
            f"{len(ledger.payments)} payments; {fec.encoding}, {separator}-separated{due}",
        )

    def _cursor(self, digest: str) -> str:
        """The file's bytes and the settings that shape what is read from them."""
        return f"sha256:{digest};terms={self.payment_terms_days};due={self.due_date_column or ''}"

    def pull(self, cursor: str | None) -> Delta:
        """The whole ledger — or, when the file and the settings are those of ``cursor``, nothing to
        apply (the file is hashed, not parsed: an unchanged export costs a read, not a rebuild)."""
        if cursor is not None and cursor == self._cursor(hashlib.sha256(read_bounded(self.path)).hexdigest()):
            return Delta(full=False, cursor=cursor)
        fec = self.read()
        return replace(Delta.of_ledger(fec.ledger, self._cursor(fec.digest)), notes=fec.notes)

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        return self.refetch_invoices([invoice_id])[invoice_id]

    def refetch_invoices(self, invoice_ids: Sequence[str]) -> dict[str, Invoice | None]:
        """The pass's invoices as the file has them now: the file is read once for all of them."""
        index = {invoice.id: invoice for invoice in self.read().ledger.invoices}
        return {invoice_id: index.get(invoice_id) for invoice_id in invoice_ids}
