"""Files handed to people and third parties stay inert: no cell a spreadsheet would run, no path
of this machine.

A CSV cell starting with ``= + - @``, a tab or a carriage return is read as a formula by Excel and
LibreOffice (``=HYPERLINK(…)`` in an invoice number becomes a live link); it is written with a
leading apostrophe, which spreadsheets show as plain text.  Plain numbers (``-120.50``) are left
as they are: they are data, not formulas.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_ABSOLUTE_PATH = re.compile(r"(?:(?<=\s)|^)(?:/|[A-Za-z]:\\)[^\s;,]+")


def inert_cell(value: object) -> object:
    """The value, made inert when it is text a spreadsheet would evaluate."""
    if not isinstance(value, str) or not value.startswith(_TRIGGERS) or _NUMBER.match(value):
        return value
    return "'" + value


def inert_row(row: list[object]) -> list[object]:
    return [inert_cell(v) for v in row]


def without_machine_paths(text: str) -> str:
    """Absolute paths (``/home/…/outbox/x.eml``, ``C:\\…``) reduced to the file name."""
    return _ABSOLUTE_PATH.sub(lambda m: PurePath(m.group(0).replace("\\", "/")).name, text)
