"""Reading a FEC whole: bytes → lines → a checked :class:`Book` → the ledger, and what the sync says of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from encours.connectors.errors import InputError
from encours.connectors.fec.book import Book
from encours.connectors.fec.columnar import ColumnReader
from encours.connectors.fec.columns import read_header
from encours.connectors.fec.documents import Rebuild
from encours.connectors.memory import no_cycle_collection
from encours.connectors.model import Ledger
from encours.connectors.parsing import read_bounded
from encours.connectors.textfile import decode_text, split_lines


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


def read_fec(
    path: Path,
    *,
    payment_terms_days: int = 30,
    due_date_column: str | None = None,
    encoding: str | None = None,
) -> FecFile:
    """Read a FEC whole and rebuild customers, invoices, credit notes and payments from it.

    A bad line raises :class:`InputError` naming the file and the line, and nothing is half-read.
    """
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
    lines = split_lines(text)
    del text
    header_index = next((n for n, raw in enumerate(lines) if raw.strip()), None)
    if header_index is None:
        raise InputError("is empty: a FEC starts with a header line naming its 18 columns", file=file, line=1)
    separator, columns = read_header(
        lines[header_index], file=file, line=header_index + 1, due_date_column=due_date_column
    )
    book = Book(file)
    with no_cycle_collection():
        ColumnReader(book, columns, separator).read(lines[header_index + 1 :], header_index + 2)
        count = len(lines)
        del lines
        book.check_balance()
        rebuild = Rebuild(book, payment_terms_days)
        ledger = rebuild.ledger()
        notes = _notes(book, rebuild.unlettered)
        book.release()
        del book, rebuild
    return FecFile(
        notes=notes,
        ledger=ledger,
        encoding="utf-8" if used_encoding == "utf-8-sig" else used_encoding,
        separator=separator,
        lines=count,
        digest=digest,
        due_date_column=columns.due_name,
    )


def _notes(book: Book, unlettered: list[str]) -> tuple[str, ...]:
    """What the sync summary says about how the book was read."""
    notes = []
    names = book.customer_names
    lettered = any(i.letter for i in book.items)
    if unlettered:
        who = ", ".join(names.get(c, c) for c in unlettered[:10])
        more = f" and {len(unlettered) - 10} more" if len(unlettered) > 10 else ""
        if lettered:
            notes.append(
                f"FEC: {len(unlettered)} customer(s) without lettering (their payments are shown "
                f"as unallocated): {who}{more}"
            )
        else:
            notes.append(
                f"FEC: the book has no lettering at all: payments and credit notes were set against the "
                f"oldest invoices first, for {len(unlettered)} customer(s): {who}{more}"
            )
    if book.constant_numbering:
        notes.append(
            "FEC: EcritureNum does not identify entries (constant or reused on several dates): "
            "entries were grouped by journal, date and piece"
        )
    return tuple(notes)
