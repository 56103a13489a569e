"""Knowing, without reading a row, that a sync has nothing to do.

The last sync leaves a hidden workbook name holding the digest of what it wrote and the CRC-32 of
encours's parts as written.  The same view again, with those parts untouched since (their CRCs are
in the zip's directory, read for free): nothing to read, nothing to write.

The digest is :func:`~encours.sheets_addin.view_digest.view_digest` of the view and the aging bounds.
"""

from __future__ import annotations

import re

from encours.sheets_addin.xlsx_package import Package
from encours.sheets_addin.xlsx_rows import _TAB_ORDER

#: A hidden workbook name holding what the last sync wrote: the view's digest and its parts' CRCs.
SYNC_MARK = "_encours_sync"


def sync_mark(pkg: Package, digest: str) -> str:
    """The view's digest and the CRC-32 of encours's worksheet parts and styles, as the package holds them."""
    sheets = pkg.sheets()
    parts = [sheets.get(name, "") for name in _TAB_ORDER] + [pkg.styles_part() or ""]
    return digest + "-" + "".join(f"{pkg.crc(part):08x}" for part in parts)


def stored_mark(pkg: Package) -> str | None:
    found = re.search(rf'<definedName\b[^>]*name="{SYNC_MARK}"[^>]*>"([0-9a-f-]+)"</definedName>',
                      pkg.text(pkg.workbook_part()))
    return found.group(1) if found else None


def store_mark(pkg: Package, mark: str) -> None:
    book = pkg.workbook_part()
    text = pkg.text(book)
    entry = f'<definedName name="{SYNC_MARK}" hidden="1">"{mark}"</definedName>'
    pattern = re.compile(rf'<definedName\b[^>]*name="{SYNC_MARK}"[^>]*>.*?</definedName>', re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: entry, text, count=1)
    elif "</definedNames>" in text:
        text = text.replace("</definedNames>", entry + "</definedNames>", 1)
    else:
        at = min(m.start() for m in [re.search(r"<calcPr\b", text), re.search(r"</workbook>", text)] if m)
        text = text[:at] + f"<definedNames>{entry}</definedNames>" + text[at:]
    pkg.set(book, text)


