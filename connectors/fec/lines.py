"""The exact FEC reader, one line at a time: every field checked, an error names its line.

It reads what the fast :mod:`.columnar` reader leaves to it (quoted fields, ragged lines, blank
lines, bad values) and is the reference the fast reader is tested against.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal

from encours.connectors.fec.book import COMPANY_CURRENCY, RECEIVABLE_PREFIX, ZERO, Book, Entry, Item
from encours.connectors.fec.columns import Columns, unquote
from encours.connectors.parsing import parse_amount


class LineReader:
    """Reads data lines into a :class:`Book`: validates every field, keeps the 411 lines, sums every entry."""

    def __init__(self, book: Book, columns: Columns, separator: str) -> None:
        self.book = book
        self.columns = columns
        self.separator = separator

    def _date(self, value: str, column: str, line: int, *, required: bool = False) -> date | None:
        if not value:
            if required:
                raise self.book.error(f"{column} is empty: a date YYYYMMDD is required", line)
            return None
        parsed = self.book.values.date(value)
        if parsed is None:
            raise self.book.error(
                f"{column} {value!r} is not a date (expected YYYYMMDD between 1900 and 2199, e.g. 20260131)", line
            )
        return parsed

    def _amount(self, value: str, column: str, line: int) -> Decimal:
        if not value:
            return ZERO
        parsed = self.book.values.amount(value)
        if parsed is None:
            raise self.book.error(amount_error(column, value), line)
        return parsed

    def read(self, lines: list[str], first: int) -> None:
        """Read *lines*, the first of which is line number *first* of the file; blank lines are skipped."""
        for number, raw in enumerate(lines, first):
            if raw and not raw.isspace():
                self.line(number, raw)

    def line(self, number: int, raw: str) -> None:
        columns = self.columns
        book = self.book
        fields = raw.split(self.separator)
        while len(fields) > columns.width and not fields[-1].strip():
            fields.pop()
        fields = [unquote(f) for f in fields] if '"' in raw else list(map(str.strip, fields))
        if len(fields) != columns.width:
            raise book.error(
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
                debit, credit = amount, ZERO
            elif sense in ("C", "-1"):
                debit, credit = ZERO, amount
            else:
                raise book.error(f"Sens {sense!r} is neither D nor C", number)
        else:
            debit = self._amount(fields[at["Debit"]], "Debit", number)
            credit = self._amount(fields[at["Credit"]], "Credit", number)
        currency_text = fields[at["Montantdevise"]]
        currency_amount = self._amount(currency_text, "Montantdevise", number) if currency_text else None
        currency = fields[at["Idevise"]]
        if currency:
            code = book.values.currency(currency)
            if code is None:
                raise book.error(f"Idevise {currency!r} is not a currency code (e.g. USD)", number)
            currency = code
        due_date = None
        if columns.due is not None:
            due_date = self._date(fields[columns.due], columns.due_name or "due date", number)
        label = fields[at["EcritureLib"]]

        # The finest grouping; :meth:`Book.group_entries` merges it into entries once the numbering is known.
        key = (journal, entry_number, entry_date, piece_ref)
        entry = book.entries.get(key)
        if entry is None:
            entry = book.entries[key] = Entry(journal, entry_number, number, label=label)
            if journal not in book.journal_labels:
                book.journal_labels[journal] = fields[at["JournalLib"]]
        entry.debit += debit
        entry.credit += credit
        if not account.startswith(RECEIVABLE_PREFIX):
            entry.kinds |= book.values.account(account)
            return
        net = debit - credit
        aux = fields[at["CompAuxNum"]]
        customer = sys.intern(aux or account)
        name = fields[at["CompAuxLib"]] if aux else fields[at["CompteLib"]]
        if name or customer not in book.customer_names:
            book.customer_names[customer] = name or customer
        if net == 0:
            return
        foreign = currency if currency and currency != COMPANY_CURRENCY and currency_amount else ""
        book.items.append(
            Item(
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


def amount_error(column: str, value: str) -> str:
    """Why *value* is not an amount (beyond the bound, or not a number)."""
    try:
        parse_amount(value)
    except ValueError as exc:
        beyond = " (beyond the largest amount accepted)" if "largest" in str(exc) else ""
        return f"{column} {value!r} is not an amount{beyond} (expected e.g. 1234,56)"
    return f"{column} {value!r} is not an amount (expected e.g. 1234,56)"
