"""One CSV file read whole: decoded, split into rows, its columns mapped to keys; typed reads of a row
whose errors name the file, the line and the column."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from encours.connectors.csvfile.columns import CURRENCY_SIGNS, Column
from encours.connectors.errors import InputError
from encours.connectors.parsing import parse_amount, parse_currency, parse_date, read_bounded
from encours.connectors.textfile import decode_text, normalise_name, split_lines


class Digest(Protocol):
    """A hashlib object: fed each file's bytes so that the cursor changes when any file does."""

    def update(self, data: bytes, /) -> None: ...


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: dict[str, str]  # key -> stripped text
    headers: dict[str, str]  # key -> header as written in the file


class Table:
    """One CSV file read whole, its columns mapped to keys; its physical :attr:`lines` kept for the
    column reader, its :attr:`rows` read one by one only when asked for (the exact reader)."""

    def __init__(self, path: Path, columns: tuple[Column, ...], *, what: str, digest: Digest | None = None) -> None:
        self.file = str(path)
        data = read_file_bytes(path)  # not kept: the lines are
        if digest is not None:
            digest.update(hashlib.sha256(data).digest())
        text, _ = decode_text(data, file=self.file, encodings=("utf-8-sig", "cp1252"))
        del data
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
        self.delimiter = delimiter
        self.lines = lines
        reader = csv.reader(with_ends(lines, start), delimiter=delimiter)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise InputError(f"is not readable CSV ({exc})", file=self.file, line=start + reader.line_num) from None
        self.header_line = start + 1
        self.headers = self._map(header, columns, line=self.header_line, what=what)
        self.names = {key: name for key, (_, name) in self.headers.items()}
        width = len(header)
        while width and not header[width - 1].strip():
            width -= 1
        self.width = width
        #: The index in :attr:`lines` of the first line after the header (a header may span lines).
        self.body = start + reader.line_num
        self._reader = reader
        self._rows: list[Row] | None = None

    @property
    def rows(self) -> list[Row]:
        """The data rows, read one by one (the exact reader): the first bad one raises, naming its line."""
        if self._rows is None:
            self._rows = self._read_rows()
        return self._rows

    def _read_rows(self) -> list[Row]:
        reader, offset, width, delimiter = self._reader, self.body - self._reader.line_num, self.width, self.delimiter
        rows: list[Row] = []
        try:
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
                rows.append(
                    Row(line, {key: fields[index].strip() for key, (index, _) in self.headers.items()}, self.names)
                )
        except csv.Error as exc:
            raise InputError(f"is not readable CSV ({exc})", file=self.file, line=offset + reader.line_num) from None
        return rows

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


def read_file_bytes(path: Path) -> bytes:
    return read_bounded(path)


def with_ends(lines: list[str], start: int) -> Iterator[str]:
    """``lines[start:]`` as ``io.StringIO("\\n".join(lines[start:]))`` yields them, without that copy of the text."""
    last = len(lines) - 1
    for n in range(start, last):
        yield lines[n] + "\n"
    if start <= last:
        yield lines[last]


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


class Values:
    """Typed reads of one row's cells, raising errors that name the file, line and column."""

    def __init__(self, table: Table, row: Row) -> None:
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
            return parse_currency(CURRENCY_SIGNS.get(value, value))
        except ValueError:
            raise self.error(key, f"{value!r} is not a currency code (e.g. EUR)") from None
