"""What a FEC's lines give once read: the entries (their sums, the kinds of accounts they touch) and
the customer-account (411) lines, before any lettering.  Both readers (:mod:`.lines`, exact, line by
line; :mod:`.columnar`, fast, column by column) fill a :class:`Book` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from encours.connectors.errors import InputError
from encours.connectors.fec.columns import format_amount
from encours.connectors.parsing import parse_amount, parse_currency, parse_date

COMPANY_CURRENCY = "EUR"
RECEIVABLE_PREFIX = "411"
SALES_JOURNAL_CODES = frozenset({"V", "VT", "VE", "VEN", "VTE", "VENTE", "VENTES", "SALES"})  # not SAL: salaires
OPENING_JOURNAL_CODES = frozenset({"AN", "RAN", "ANO", "NOUV"})
ZERO = Decimal(0)
#: Kinds of counterpart accounts that tell what an entry touching 411 is: (prefixes, payment method).
#: Their order is the order in which a payment's method is chosen.
ACCOUNT_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("511",), "cheque"),
    (("512", "514", "515", "517"), "transfer"),
    (("53",), "cash"),
    (("665",), "discount"),
    (("654", "6714"), "write_off"),
    (("5",), ""),
    (("70", "4457"), ""),
)
CASH = 1 << 5
REVENUE = 1 << 6


def account_kinds(account: str) -> int:
    """The kinds of *account*, as bits of :data:`ACCOUNT_KINDS`."""
    return sum(1 << bit for bit, (prefixes, _) in enumerate(ACCOUNT_KINDS) if account.startswith(prefixes))


@dataclass(slots=True, eq=False)
class Item:
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
    open: Decimal = ZERO
    matches: list[tuple[Item, Decimal]] = field(default_factory=list)


@dataclass(slots=True)
class Entry:
    journal: str
    number: str
    first_line: int
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    kinds: int = 0  # which kinds of accounts other than 411* it touches (bits of ACCOUNT_KINDS)
    label: str = ""

    @property
    def revenue(self) -> bool:
        """A 70* (sales) or 4457* (VAT collected) line: a sales document."""
        return bool(self.kinds & REVENUE)

    @property
    def cash(self) -> bool:
        """A class-5 line (bank, cheques, cash): money moved."""
        return bool(self.kinds & CASH)


#: The finest grouping of lines: journal, EcritureNum, EcritureDate, PieceRef.
EntryKey = tuple[str, str, date, str]


class Values:
    """Dates, amounts, currencies and account kinds, each worked out once per distinct text.

    The tables hold valid texts only (the empty text too: no date, a zero amount, no currency).
    ``date``/``amount``/``currency`` give ``None`` for a text that is not one (the caller names
    the line); ``learn_*`` add a column's distinct texts at once and say whether all were valid.
    """

    #: Past this many texts a table starts again (a file of millions of distinct amounts stays bounded).
    LIMIT = 500_000

    def __init__(self) -> None:
        self.dates: dict[str, date | None] = {"": None}
        self.amounts: dict[str, Decimal] = {"": ZERO}
        self.currencies: dict[str, str] = {"": ""}
        self.kinds: dict[str, int] = {}

    def date(self, text: str) -> date | None:
        known = self.dates.get(text)
        if known is None and self.learn_dates({text}):
            known = self.dates[text]
        return known

    def amount(self, text: str) -> Decimal | None:
        known = self.amounts.get(text)
        if known is None and self.learn_amounts({text}):
            known = self.amounts[text]
        return known

    def currency(self, text: str) -> str | None:
        known = self.currencies.get(text)
        if known is None and self.learn_currencies({text}):
            known = self.currencies[text]
        return known

    def learn_dates(self, texts: set[str]) -> bool:
        table = self.dates
        if len(table) > self.LIMIT:
            table.clear()
            table[""] = None
        for text in texts - table.keys():
            try:
                table[text] = parse_date(text)
            except ValueError:
                return False
        return True

    def learn_amounts(self, texts: set[str]) -> bool:
        table = self.amounts
        if len(table) > self.LIMIT:
            table.clear()
            table[""] = ZERO
        for text in texts - table.keys():
            amount = amount_of(text)
            if amount is None:
                return False
            table[text] = amount
        return True

    def learn_currencies(self, texts: set[str]) -> bool:
        table = self.currencies
        for text in texts - table.keys():
            try:
                table[text] = parse_currency(text)
            except ValueError:
                return False
        return True

    def account(self, account: str) -> int:
        kinds = self.kinds.get(account)
        if kinds is None:
            kinds = self.kinds[account] = account_kinds(account)
        return kinds


_DIGITS = frozenset("0123456789")


def amount_of(text: str) -> Decimal | None:
    """An amount as :func:`parse_amount` reads it, or ``None``; plain ``1234,56`` / ``-0.5`` go straight.

    The fast path takes digits with at most one decimal comma or dot (and a leading minus) — what
    FEC exports write — where ``parse_amount`` would only swap the comma; anything else is given
    to ``parse_amount``, which also bounds the value.
    """
    body = text[1:] if text[:1] == "-" else text
    whole, mark, cents = body.replace(",", ".", 1).partition(".")
    if whole and len(whole) < 14 and _DIGITS.issuperset(whole) and _DIGITS.issuperset(cents) and (cents or not mark):
        return Decimal(text.replace(",", ".", 1))
    try:
        return parse_amount(text)
    except ValueError:
        return None


class Book:
    """The entries and the 411 lines of one FEC, as its readers fill them."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values = Values()
        self.items: list[Item] = []
        self.entries: dict[EntryKey, Entry] = {}
        self.journal_labels: dict[str, str] = {}
        self.customer_names: dict[str, str] = {}
        #: True when EcritureNum does not identify entries (constant, or reused across dates).
        self.constant_numbering = False
        self.grouped: dict[tuple[str, str], Entry] = {}

    def release(self) -> None:
        """Unlink the matched lines from each other (a cycle each), so that the book is freed as soon
        as it is dropped rather than by a later garbage-collection pass over the whole ledger."""
        for item in self.items:
            item.matches.clear()
        self.items.clear()

    def error(self, message: str, line: int) -> InputError:
        return InputError(message, file=self.file, line=line)

    def group_entries(self) -> None:
        """Merge the parsed groups into entries: by journal and EcritureNum, as the standard says.

        A number used on several dates (some programs write a constant EcritureNum) does not
        identify an entry: then entries are journal, date and piece (or journal and date when a
        piece alone does not balance), and each 411 line gets its entry's new name.
        """
        dated = {(journal, number, day) for journal, number, day, _ in self.entries}
        numbers = {(journal, number) for journal, number, _ in dated}
        self.constant_numbering = len(numbers) < len(dated) or any(not number for _, number in numbers)

        def regroup(name: Callable[[str, str, date, str], str]) -> dict[tuple[str, str], Entry]:
            merged: dict[tuple[str, str], Entry] = {}
            for (journal, number, day, piece), part in self.entries.items():
                key = (journal, name(journal, number, day, piece))
                entry = merged.get(key)
                if entry is None:
                    merged[key] = Entry(
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

        if not self.constant_numbering:
            # Each entry is one of the parsed groups (a number names one date): kept as they are.
            merged = {(journal, number): part for (journal, number, _, _), part in self.entries.items()}
            if len(merged) == len(self.entries):
                self.grouped = merged
                return
            self.grouped = regroup(by_number)
            return
        naming = by_piece
        grouped = regroup(by_piece)
        if any(e.debit != e.credit for e in grouped.values()):
            naming, grouped = by_day, regroup(by_day)
        self.grouped = grouped
        for item in self.items:
            item.entry = naming(item.journal, item.entry, item.entry_date, item.piece_ref)

    def check_balance(self) -> None:
        """Group the entries; raise :class:`InputError` on the first line of one that does not balance."""
        self.group_entries()
        for entry in self.grouped.values():
            if entry.debit != entry.credit:
                debit, credit = format_amount(entry.debit), format_amount(entry.credit)
                raise self.error(
                    f"entry {entry.journal} {entry.number} is unbalanced: debits {debit} ≠ credits {credit} "
                    f"(difference {format_amount(entry.debit - entry.credit)}); this is its first line",
                    entry.first_line,
                )
