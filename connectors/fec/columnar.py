"""The fast FEC reader: a block of lines split at once and read column by column.

A FEC is regular: every line has the same fields, no quotes, the same few dates and amounts over
and over.  So a block of lines is split in one call, each column sliced out of it, and each
*distinct* date, amount and currency checked once.  A block that is not regular (quotes, a line
with another number of fields, a blank line) or holds a value that is not valid is read again by
the exact :class:`~encours.connectors.fec.lines.LineReader`, which names the bad line; nothing of
such a block is kept from the fast pass, so both give the same :class:`Book`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import repeat
from typing import cast

from encours.connectors.fec.book import COMPANY_CURRENCY, RECEIVABLE_PREFIX, ZERO, Book, Entry, Item, Values
from encours.connectors.fec.columns import Columns
from encours.connectors.fec.lines import LineReader

#: Lines read per block: large enough for the per-block work to vanish, small enough to bound memory.
BLOCK = 4_096
_RECEIVABLE = -1  # the "kinds" of a 411 account in the per-block account table


class ColumnReader:
    """Reads data lines into a :class:`Book`, a block at a time; irregular blocks go to the exact reader."""

    def __init__(self, book: Book, columns: Columns, separator: str) -> None:
        self.book = book
        self.columns = columns
        self.separator = separator
        self.exact = LineReader(book, columns, separator)
        self._accounts: dict[str, int] = {}
        #: How many lines the fast pass read (the rest went to the exact reader).
        self.fast_lines = 0

    def read(self, lines: list[str], first: int) -> None:
        """Read *lines*, the first of which is line number *first* of the file."""
        for start in range(0, len(lines), BLOCK):
            block = lines[start : start + BLOCK]
            if self._block(block, first + start):
                self.fast_lines += len(block)
            else:
                self.exact.read(block, first + start)

    def _block(self, lines: list[str], first: int) -> bool:
        """Read one block the fast way; False (nothing added to the book) when it must be read line by line."""
        separator, columns, values = self.separator, self.columns, self.book.values
        counts = set(map(str.count, lines, repeat(separator)))
        if len(counts) != 1:
            return False
        stride = counts.pop() + 1
        joined = separator.join(lines)
        if stride < columns.width or '"' in joined:
            return False
        padded = _padded(joined, separator)
        fields = joined.split(separator)
        del joined
        for extra in range(columns.width, stride):
            if any(value.strip() for value in set(fields[extra::stride])):
                return False

        def column(index: int) -> list[str]:
            cells = fields[index::stride]
            return list(map(str.strip, cells)) if padded else cells

        at = columns.at
        entry_day, piece_day = column(at["EcritureDate"]), column(at["PieceDate"])
        date_texts = {*entry_day, *piece_day, *column(at["ValidDate"]), *column(at["DateLet"])}
        if columns.due is not None:
            date_texts.update(column(columns.due))
        if "" in set(entry_day) or not values.learn_dates(date_texts):
            return False
        if columns.signed:
            signed = _signed(column(at["Montant"]), column(at["Sens"]), values)
            if signed is None:
                return False
            debits, credits = signed
        else:
            debit_texts, credit_texts = column(at["Debit"]), column(at["Credit"])
            if not values.learn_amounts({*debit_texts, *credit_texts}):
                return False
            debits = list(map(values.amounts.__getitem__, debit_texts))
            credits = list(map(values.amounts.__getitem__, credit_texts))
        foreign_amount, currency = column(at["Montantdevise"]), column(at["Idevise"])
        if not values.learn_amounts(set(foreign_amount)) or not values.learn_currencies(set(currency)):
            return False
        dates, amounts, currencies = values.dates, values.amounts, values.currencies

        # Every value is valid: from here on the block is read into the book.
        journals, numbers, pieces = column(at["JournalCode"]), column(at["EcritureNum"]), column(at["PieceRef"])
        accounts, labels = column(at["CompteNum"]), column(at["EcritureLib"])
        days = cast("list[date]", list(map(dates.__getitem__, entry_day)))  # no empty EcritureDate: all dates
        journal_labels = column(at["JournalLib"])
        book, kinds_of = self.book, self._accounts
        for account in set(accounts) - kinds_of.keys():
            kinds_of[account] = _RECEIVABLE if account.startswith(RECEIVABLE_PREFIX) else values.account(account)
        kinds = list(map(kinds_of.__getitem__, accounts))
        entries, journal_names = book.entries, book.journal_labels
        for i, key in enumerate(zip(journals, numbers, days, pieces, strict=True)):
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = Entry(key[0], key[1], first + i, label=labels[i])
                if key[0] not in journal_names:
                    journal_names[key[0]] = journal_labels[i]
            amount = debits[i]
            if amount:
                entry.debit += amount
            amount = credits[i]
            if amount:
                entry.credit += amount
            if kinds[i] > 0:
                entry.kinds |= kinds[i]
        receivable = [i for i, kind in enumerate(kinds) if kind == _RECEIVABLE]
        if not receivable:
            return True

        def subset(index: int) -> list[str]:
            cells = fields[index::stride]
            return [cells[i].strip() for i in receivable] if padded else [cells[i] for i in receivable]

        auxiliaries, auxiliary_names = subset(at["CompAuxNum"]), subset(at["CompAuxLib"])
        account_names, letters, piece_days = subset(at["CompteLib"]), subset(at["EcritureLet"]), subset(at["PieceDate"])
        due = subset(columns.due) if columns.due is not None else None
        names, items = book.customer_names, book.items
        for n, i in enumerate(receivable):
            net = debits[i] - credits[i]
            aux = auxiliaries[n]
            customer = aux or accounts[i]
            name = auxiliary_names[n] if aux else account_names[n]
            if name or customer not in names:
                names[customer] = name or customer
            if net == 0:
                continue
            amount_text = foreign_amount[i]
            currency_amount = amounts[amount_text] if amount_text else None
            code = currencies[currency[i]]
            foreign = code if code and code != COMPANY_CURRENCY and currency_amount else ""
            day = days[i]
            items.append(
                Item(
                    first + i,
                    journals[i],
                    numbers[i],
                    customer,
                    net > 0,
                    abs(net),
                    letters[n],
                    dates[piece_days[n]] or day,
                    day,
                    pieces[i],
                    labels[i],
                    foreign,
                    abs(currency_amount) if foreign and currency_amount is not None else None,
                    dates[due[n]] if due is not None else None,
                    abs(net),
                )
            )
        return True


#: What ``str.strip()`` strips (``str.isspace``), but the space: rare in a FEC, searched for one by one.
OTHER_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _padded(joined: str, separator: str) -> bool:
    """Whether a field of *joined* (lines joined by the separator) may start or end with white space.

    True also when the text holds any white space but the separator and the plain space (a
    no-break space …): then every field is stripped, as the exact reader does.
    """
    if f"{separator} " in joined or f" {separator}" in joined or joined[:1] == " " or joined[-1:] == " ":
        return True
    return any(space in joined for space in OTHER_SPACES if space != separator)


def _signed(amounts: list[str], senses: list[str], values: Values) -> tuple[list[Decimal], list[Decimal]] | None:
    """Debits and credits of the cash-basis variant (Montant + Sens D/C), or ``None`` if a value is bad."""
    if not values.learn_amounts(set(amounts)):
        return None
    debit_of: dict[str, bool] = {}
    for text in set(senses):
        sense = text.upper()
        if sense in ("D", "+1", "1"):
            debit_of[text] = True
        elif sense in ("C", "-1"):
            debit_of[text] = False
        else:
            return None
    debits: list[Decimal] = []
    credits: list[Decimal] = []
    for text, sense in zip(amounts, senses, strict=True):
        amount = values.amounts[text]
        debits.append(amount if debit_of[sense] else ZERO)
        credits.append(ZERO if debit_of[sense] else amount)
    return debits, credits
