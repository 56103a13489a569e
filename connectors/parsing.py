"""The one amount parser, the one date parser and the one currency check, for every input.

FEC and CSV files, amounts people type on the sheet (``Échéanciers``), platform fields: they all
go through here, so that "1,234.56" means the same everywhere (1234.56: the last separator is
the decimal mark).  Values outside sane bounds are refused rather than carried into sums, dates
and sheets: amounts of :data:`MAX_AMOUNT` or more, years before :data:`MIN_YEAR` or after
:data:`MAX_YEAR`, currency codes that are not three ASCII letters.  Input files are read with a
size bound (:func:`read_bounded`): ``/dev/zero`` or a mistaken multi-gigabyte file is refused
instead of filling memory.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from encours.connectors.errors import InputError

#: Amounts at or beyond this (in absolute value) are refused: ten thousand billion.
MAX_AMOUNT = Decimal(10) ** 13
#: The years a receivable's dates may fall in.
MIN_YEAR = 1900
MAX_YEAR = 2199
#: The largest input file read (FEC, CSV): 512 MiB, several million lines.
MAX_INPUT_BYTES = 512 * 1024 * 1024

_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]*)?")
_DMY_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?: [0-9:.]*)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009€")


def _bounded(value: Decimal, text: object, what: str) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"{what}: {text!r} is not an amount")
    if abs(value) >= MAX_AMOUNT:
        raise ValueError(f"{what}: {text!r} is beyond the largest amount accepted ({MAX_AMOUNT:,.0f})")
    return value


def parse_amount(text: str | int | float | Decimal, *, what: str = "amount") -> Decimal:
    """An amount as exports and people write it: ``1234,56``, ``1 234,56``, ``1.234,56``, ``1,234.56``.

    When both a comma and a dot occur, the last one is the decimal mark; a lone comma is the
    decimal mark; ``(150,00)`` and ``150,00-`` are negative; spaces and "€" are ignored.  Numbers
    (not bool) are taken as they are, floats through their shortest text.  Raises ``ValueError``
    naming *what*.
    """
    if isinstance(text, bool):
        raise ValueError(f"{what}: {text!r} is not an amount")
    if isinstance(text, Decimal):
        return _bounded(text, text, what)
    if isinstance(text, int):
        return _bounded(Decimal(text), text, what)
    if isinstance(text, float):
        try:
            return _bounded(Decimal(repr(text)), text, what)
        except InvalidOperation:
            raise ValueError(f"{what}: {text!r} is not an amount") from None
    if not isinstance(text, str):  # a JSON answer may hold a list, an object or null where a number was due
        raise ValueError(f"{what}: {text!r} is not an amount")
    cleaned = text.strip().translate(_SPACES)
    if (cleaned.startswith("(") and cleaned.endswith(")")) or (cleaned.endswith("-") and cleaned[:1] not in "+-"):
        cleaned = "-" + cleaned.strip("()-")  # accounting negatives: (150,00) or 150,00-
    if "," in cleaned:
        if "." in cleaned:
            if cleaned.rfind(",") > cleaned.rfind("."):
                cleaned = cleaned.replace(".", "").replace(",", ".")
            else:
                cleaned = cleaned.replace(",", "")
        elif cleaned.count(",") == 1:
            cleaned = cleaned.replace(",", ".")
    if not _AMOUNT.fullmatch(cleaned):
        raise ValueError(f"{what}: {text.strip()!r} is not an amount")
    return _bounded(Decimal(cleaned), text.strip(), what)


def checked_date(year: int, month: int, day: int) -> date:
    """A calendar date within :data:`MIN_YEAR` … :data:`MAX_YEAR`; raises ``ValueError``."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    return date(year, month, day)


def parse_date(text: str) -> date:
    """A date written YYYYMMDD (the FEC standard), YYYY-MM-DD, DD/MM/YYYY or DD/MM/YY (also with - or .).

    A time after the date is ignored.  Raises ``ValueError``, also for a year outside
    :data:`MIN_YEAR` … :data:`MAX_YEAR` (0001 and 9999 are placeholders, not dates).
    """
    value = text.strip()
    try:
        if len(value) == 8 and value.isdigit():
            return checked_date(int(value[:4]), int(value[4:6]), int(value[6:]))
        match = _ISO_DATE.fullmatch(value)
        if match:
            return checked_date(int(match[1]), int(match[2]), int(match[3]))
        match = _DMY_DATE.fullmatch(value)
        if match:
            year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
            return checked_date(year, int(match[2]), int(match[1]))
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date")


def parse_currency(text: str) -> str:
    """An ISO 4217 code: three ASCII letters (any case); full-width or other letters are refused."""
    code = text.strip().upper()
    if not (code.isascii() and _CURRENCY.fullmatch(code)):
        raise ValueError(f"{text.strip()!r} is not a currency code (e.g. EUR)")
    return code


def read_bounded(path: Path, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of an input file, refused (:class:`InputError`) when larger than *limit*.

    A regular file is measured before it is read; anything else (a device, a pipe) is read in
    chunks and refused as soon as it passes the limit.
    """
    file = str(path)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                raise InputError("is a device, not a file", file=file)
            size = info.st_size
            if size > limit:
                raise InputError(f"is {size:,} bytes, more than the {limit:,} an input file may have", file=file)
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = handle.read(min(16 * 1024 * 1024, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    raise InputError(f"holds more than the {limit:,} bytes an input file may have", file=file)
            return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=file) from None
