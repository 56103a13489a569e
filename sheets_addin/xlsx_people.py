"""What people typed, kept between syncs while the cells it was read from are byte for byte the same.

Reading the ID and people's columns of a 100,000-row tab costs about a third of writing it.  A
re-sync with nothing new must cost far less, so the marks read are kept in the user's cache folder
(``$XDG_CACHE_HOME/encours/workbooks``), filed under the workbook's path and stamped with what
they were read from: the part names of ``Factures``, ``Clients``, ``Échéanciers``, ``À faire`` and the shared
strings, with each part's CRC-32 and size from the zip directory (read for free).  Any save by a
person — Excel, LibreOffice, another tool — rewrites those parts and changes the stamp: the marks
are then read again from the cells.

A sync that only appended rows with nothing typed in them (and restored no ID, added no column)
carries the marks over to the parts it wrote; anything else leaves the next read to the cells.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from encours.connectors.model import ITEM_SEPARATOR
from encours.sheets_addin.layout import CUSTOMERS, INVOICES, PAYMENT_PLANS, TODO
from encours.sheets_addin.marks import CustomerMarks, InvoiceMarks, SheetMarks
from encours.sheets_addin.xlsx_package import Package

#: Bumped whenever what is kept changes shape: an older file is then ignored.
_VERSION = b"encours-marks-2\n"  # 2: the tasks of À faire (Fait, Résultat) with the marks
_NO_INVOICE_MARKS = InvoiceMarks()
_NO_CUSTOMER_MARKS = CustomerMarks()


@dataclass
class PeopleChanges:
    """What a sync did to the rows people's marks are read from (keyed tabs ``Factures``, ``Clients``)."""

    appended: dict[str, list[str]] = field(default_factory=dict)  # tab key → IDs of new rows, nothing typed
    other: bool = False  # an ID restored, a row reused, a column or tab added: the marks must be read again

    def append(self, tab_key: str, ids: Sequence[str]) -> None:
        self.appended.setdefault(tab_key, []).extend(ids)


def stamp(pkg: Package) -> str:
    """What the marks are read from, as the package's zip directory (or a save just made) tells it."""
    sheets = pkg.sheets()
    shared = next((r["Target"] for r in pkg.relationships(pkg.workbook_part())
                   if r.get("Type", "").endswith("/sharedStrings")), "")
    parts = [sheets.get(tab.name, "") for tab in (INVOICES, CUSTOMERS, PAYMENT_PLANS, TODO)] + [shared]
    return "|".join(f"{part}:{pkg.crc(part):08x}:{pkg.size(part)}" if part in pkg else f"{part}:-"
                    for part in parts)


def _file(path: Path) -> Path | None:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "encours" / "workbooks"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    name = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return base / f"{name}.marks"


def load(path: Path, key: str) -> SheetMarks | None:
    """The marks kept for this workbook, if read from parts stamped ``key``."""
    where = _file(path)
    if where is None:
        return None
    try:
        data = where.read_bytes()
    except OSError:
        return None
    head = _VERSION + key.encode() + b"\n"
    if not data.startswith(head):
        return None
    try:
        marks = pickle.loads(data[len(head):])  # the user's own cache, written by store()
    except Exception:  # a damaged cache file is only a cache miss
        return None
    return marks if isinstance(marks, SheetMarks) else None


def store(path: Path, key: str, marks: SheetMarks) -> None:
    """Keep ``marks`` as read from parts stamped ``key`` (never fails a sync: a cache is optional)."""
    where = _file(path)
    if where is None:
        return
    tmp = where.with_name(f"{where.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(_VERSION + key.encode() + b"\n" + pickle.dumps(marks, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, where)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()

def carried(marks: SheetMarks, changes: PeopleChanges) -> SheetMarks | None:
    """The marks once ``changes`` are applied, when they are known without reading (None: read again)."""
    if changes.other:
        return None
    new_invoices = changes.appended.get(INVOICES.key, [])
    new_customers = changes.appended.get(CUSTOMERS.key, [])
    if not new_invoices and not new_customers:
        return marks
    # an instalment row's marks fold into its invoice's, an ID reads back trimmed: left to a real read
    if ITEM_SEPARATOR in "\n".join(new_invoices) or ITEM_SEPARATOR in "\n".join(marks.invoices) \
            or list(map(str.strip, new_invoices)) != new_invoices \
            or list(map(str.strip, new_customers)) != new_customers:
        return None
    if any(i in marks.invoices for i in new_invoices) or any(c in marks.customers for c in new_customers):
        return None
    return replace(marks, invoices={**marks.invoices, **dict.fromkeys(new_invoices, _NO_INVOICE_MARKS)},
                   customers={**marks.customers, **dict.fromkeys(new_customers, _NO_CUSTOMER_MARKS)})

