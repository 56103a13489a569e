"""Values as the Sheets API holds them: a view value put on the wire (text, a number — dates as
serials — or a boolean; text cut at Google's limit per cell), and whether what the sheet holds
already is what encours would write (values, formulas as Google re-renders them, whole rows)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

EPOCH = date(1899, 12, 30)


#: Google refuses a whole write when one cell holds more than this many characters.
MAX_CELL_CHARS = 50_000


#: The end of a text cut to ``MAX_CELL_CHARS`` (the cut text itself is at most that long).
CUT_MARK = " […]"


# -- values on the wire ----------------------------------------------------------------------
def to_wire(value: Any) -> Any:
    """A view value as the Sheets API stores it: text, a number (dates as serials) or a boolean.

    Sheets keeps numbers as IEEE doubles; a Decimal of at most 15 significant digits (every amount
    to the cent below a thousand billion) converts to the nearest double and back without change.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - datetime(1899, 12, 30)
        return round(delta.days + delta.seconds / 86400, 6)
    if isinstance(value, date):
        return (value - EPOCH).days
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (int, float)):
        return value
    return cut_text(str(value))


def cut_text(text: str) -> str:
    """Text as Google can hold it: over ``MAX_CELL_CHARS`` characters, cut and ended with ``CUT_MARK``."""
    if len(text) <= MAX_CELL_CHARS:
        return text
    return text[:MAX_CELL_CHARS - len(CUT_MARK)] + CUT_MARK


def is_cut(value: Any) -> bool:
    return isinstance(value, str) and len(value) == MAX_CELL_CHARS and value.endswith(CUT_MARK)


def same_value(wanted: Any, found: Any) -> bool:
    """Does the sheet already hold what encours would write?"""
    if found is None:
        found = ""
    if isinstance(wanted, bool) or isinstance(found, bool):
        return type(wanted) is type(found) and wanted == found
    if isinstance(wanted, (int, float)):
        return isinstance(found, (int, float)) and abs(float(found) - float(wanted)) < 1e-9
    return isinstance(found, str) and found == wanted


def same_formula(wanted: str, found: Any) -> bool:
    """Is ``found`` (as Google hands it back) the formula encours would write?  Compared in one form,
    so a formula Google re-rendered is not rewritten on every sync."""
    if found == wanted:
        return True
    return isinstance(found, str) and formula_form(found) == formula_form(wanted)


#: Text in double quotes, or a sheet name in single quotes: kept as they are when comparing.
_QUOTED = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'(?=!)')


def formula_form(formula: str) -> str:
    """A formula in the form used to compare: sheet names unquoted, spacing and case folded outside
    text in quotes (Google quotes sheet names, capitalises functions and respaces as it likes)."""
    parts, last = [], 0
    for match in _QUOTED.finditer(formula):
        parts.append("".join(formula[last:match.start()].split()).casefold())
        token = match.group(0)
        parts.append(token if token.startswith('"') else token[1:-1].replace("''", "'").casefold())
        last = match.end()
    parts.append("".join(formula[last:].split()).casefold())
    return "".join(parts)


def trimmed(values: Sequence[Any]) -> list[Any]:
    out = list(values)
    while out and (out[-1] is None or out[-1] == "" or out[-1] == []):  # an empty row reads as []
        out.pop()
    return out


def same_rows(expected: Sequence[Sequence[Any]], found: Sequence[Sequence[Any]]) -> bool:
    exp = trimmed([trimmed(r) for r in expected])
    got = trimmed([trimmed(r) for r in found])
    if len(exp) != len(got):
        return False
    for a, b in zip(exp, got, strict=True):
        if len(a) != len(b):
            return False
        if not all(same_value(x if x is not None else "", y) for x, y in zip(a, b, strict=True)):
            return False
    return True
