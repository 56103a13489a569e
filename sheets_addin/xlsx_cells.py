"""One cell of a worksheet part as text: written (one cell, or a column of them at once) and read back.

The column renderer and the one-cell writer give the very same text for the same value: a re-sync
keeps a row unparsed when its text is what encours would write, so the two must agree to the byte.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from encours.sheets_addin.xlsx_package import attributes, unescape

_STYLE_RE = re.compile(r'\bs="(\d+)"')
_TEXT_RE = re.compile(r"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_VALUE_RE = re.compile(r"<v>(.*?)</v>", re.S)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = date(1899, 12, 30)
_EPOCH_ORDINAL = _EPOCH.toordinal()
#: Text that needs more than the plain form: markup characters, control characters, whitespace Excel would trim.
_SPECIAL = re.compile(r"[&<>\x00-\x1f\ufffe\uffff]|^\s|\s$|\s\s")
#: The same over a column's values joined by "\n": any whitespace but the space and the joints sends the
#: column the careful way; spaces at a value's edges and doubled ones are looked for as substrings.
_SPECIAL_JOINED = re.compile("[&<>\x00-\x09\x0b-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f"
                             "\u3000\ufffe\uffff]")
_PRESERVE = re.compile(r"^\s|\s$|\s\s|[\t\n\r]")
class _Missing:
    def __repr__(self) -> str:  # the same in every process: a row's print (xlsx_prints) holds it
        return "<missing>"


#: A synced value the row does not give: its cell is left out (not emptied).
MISSING: Any = _Missing()


def serial(value: date | datetime) -> str:
    """A date as Excel's day number (1900 system), a time of day as its fraction."""
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - datetime.combine(_EPOCH, time())
        return repr(round(delta.days + delta.seconds / 86400, 10))
    return str((value - _EPOCH).days)


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return escape(text)
    return text


def cell_xml(ref: str, value: Any, style: int, *, formula: bool = False) -> str:
    """One cell: ``formula`` text starting with "=" is a formula, any other text is text."""
    s = f' s="{style}"' if style else ""
    kind = type(value)
    if kind is str:
        if not value:
            return f'<c r="{ref}"{s}/>'
        if not value.isprintable():
            value = _ILLEGAL.sub("", value)
        if formula and value[0] == "=":
            return f'<c r="{ref}"{s}><f>{_escape(value[1:])}</f></c>'
        space = ' xml:space="preserve"' if _PRESERVE.search(value) else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if kind is Decimal:
        return f'<c r="{ref}"{s}><v>{value:f}</v></c>' if value.is_finite() else f'<c r="{ref}"{s}/>'
    if kind is date:
        return f'<c r="{ref}"{s}><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (date, datetime)):
        return f'<c r="{ref}"{s}><v>{serial(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>' if math.isfinite(value) else f'<c r="{ref}"{s}/>'
    if isinstance(value, str):
        return cell_xml(ref, str(value), style, formula=formula)
    return cell_xml(ref, str(value), style)


def column_cells(letter: str, numbers: Sequence[str], values: Sequence[Any], style: int) -> list[str]:
    """The cells of one column for many rows: ``cell_xml`` of each (None: an empty cell, ``MISSING``: none)."""
    s = f' s="{style}"' if style else ""
    head = '<c r="' + letter
    kinds = set(map(type, values))
    if kinds == {str} and all(values):
        joined = "\n".join(values)  # one scan for the whole column: no value special, none holding "\n"
        if joined.count("\n") == len(values) - 1 and _SPECIAL_JOINED.search(joined) is None \
                and joined[0] != " " and joined[-1] != " " and "  " not in joined and " \n" not in joined \
                and "\n " not in joined:
            return [f'{head}{n}"{s} t="inlineStr"><is><t>{value}</t></is></c>' for n, value in zip(numbers, values,
                                                                                                   strict=True)]
    elif kinds == {Decimal} and all(map(Decimal.is_finite, values)):
        return [f'{head}{n}"{s}><v>{value:f}</v></c>' for n, value in zip(numbers, values, strict=True)]
    elif kinds == {date}:
        return [f'{head}{n}"{s}><v>{day - _EPOCH_ORDINAL}</v></c>'
                for n, day in zip(numbers, map(date.toordinal, values), strict=True)]
    special = _SPECIAL.search
    out: list[str] = []
    append = out.append
    for n, value in zip(numbers, values, strict=True):
        kind = type(value)
        if kind is str and value and special(value) is None:
            append(f'{head}{n}"{s} t="inlineStr"><is><t>{value}</t></is></c>')
        elif kind is Decimal and value.is_finite():
            append(f'{head}{n}"{s}><v>{value:f}</v></c>')
        elif kind is date:
            append(f'{head}{n}"{s}><v>{value.toordinal() - _EPOCH_ORDINAL}</v></c>')
        elif value is None:
            append(f'{head}{n}"/>')
        elif value is MISSING:
            append("")
        else:
            append(cell_xml(letter + n, value, style))
    return out


def cell_style(raw: str) -> int:
    match = _STYLE_RE.search(raw[: raw.find(">") + 1])
    return int(match.group(1)) if match else 0


def cell_text(raw: str, shared: list[str]) -> Any:
    """The value a cell shows as stored (text, number as float, bool), None when empty."""
    tag = raw[: raw.find(">") + 1]
    kind = attributes(tag).get("t", "n") if " t=" in tag else "n"
    if kind == "inlineStr":
        start = raw.find("<is><t>")
        skip = 7
        if start < 0:
            start, skip = raw.find('<t xml:space="preserve">'), 24
        if start > 0 and raw.count("<t") == 1:  # as encours writes it: one run of text
            text = raw[start + skip: raw.rfind("</t>")]
            return (unescape(text) if "&" in text else text) or None
        return "".join(unescape(t or "") for t in _TEXT_RE.findall(raw)) or None
    match = _VALUE_RE.search(raw)
    if match is None:
        return None
    text = unescape(match.group(1))
    if kind == "s":
        index = int(text)
        return shared[index] if index < len(shared) else None
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text == "1"
    try:
        return float(text)
    except ValueError:
        return text


def shared_strings(xml: str | None) -> list[str]:
    if not xml:
        return []
    out = []
    for item in re.finditer(r"<si\b[^>]*>(.*?)</si>|<si\s*/>", xml, re.S):
        body = item.group(1) or ""
        body = re.sub(r"<rPh\b.*?</rPh>", "", body, flags=re.S)
        out.append("".join(unescape(t or "") for t in _TEXT_RE.findall(body)))
    return out
