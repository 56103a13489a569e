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
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from encours.connectors.model import ITEM_SEPARATOR
from encours.sheets_addin.layout import CUSTOMERS, INVOICES, PAYMENT_PLANS, TODO
from encours.sheets_addin.marks import (
    NO_CUSTOMER_MARKS,
    NO_INVOICE_MARKS,
    CustomerMarks,
    InvoiceMarks,
    MarkProblem,
    PaymentPlanLine,
    SheetMarks,
    TaskMarks,
)
from encours.sheets_addin.xlsx_package import Package

#: The tabs people's marks are read from (:meth:`XlsxWorkbook.read_marks`): the stamp covers each.
MARKED_TABS = (INVOICES, CUSTOMERS, PAYMENT_PLANS, TODO)
#: Bumped whenever what is kept changes shape: an older file is then ignored.
_VERSION = b"encours-marks-3\n"  # 2: the tasks of À faire; 3: JSON (never code) instead of pickle
M = TypeVar("M")


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
    parts = [sheets.get(tab.name, "") for tab in MARKED_TABS] + [shared]
    return "|".join(f"{part}:{pkg.crc(part):08x}:{pkg.size(part)}" if part in pkg else f"{part}:-"
                    for part in parts)


def cache_file(path: Path) -> Path | None:
    """Where what is kept for the workbook at ``path`` lives (None: no cache folder can be made)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "encours" / "workbooks"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    name = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return base / f"{name}.marks"


def _day(value: object) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def encode(marks: SheetMarks) -> bytes:
    """The marks as JSON: data only (a cache file someone else wrote can never run code here)."""

    def plain(value: object) -> object:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"{type(value).__name__} is not kept")

    body = {
        "invoices": {k: asdict(v) for k, v in marks.invoices.items() if v != NO_INVOICE_MARKS},
        "invoice_ids": list(marks.invoices),
        "customers": {k: asdict(v) for k, v in marks.customers.items() if v != NO_CUSTOMER_MARKS},
        "customer_ids": list(marks.customers),
        "payment_plans": [asdict(line) for line in marks.payment_plans],
        "problems": [asdict(p) for p in marks.problems],
        "tasks": {k: asdict(v) for k, v in marks.tasks.items()},
    }
    return json.dumps(body, default=plain, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(data: bytes) -> SheetMarks:
    """:func:`encode`'s marks back (ValueError, TypeError or KeyError when the file is not such JSON)."""
    body = json.loads(data.decode("utf-8"))
    typed_invoices = {
        k: InvoiceMarks(scenario=str(v["scenario"]), dispute=bool(v["dispute"]),
                        promise_date=_day(v["promise_date"]), pause_until=_day(v["pause_until"]),
                        comment=str(v["comment"]), approve=bool(v["approve"]))
        for k, v in body["invoices"].items()
    }
    typed_customers = {
        k: CustomerMarks(scenario=str(v["scenario"]), reminder_email=str(v["reminder_email"]),
                         block_deliveries=bool(v["block_deliveries"]), comment=str(v["comment"]),
                         direct_debit=bool(v["direct_debit"]), postal_address=str(v["postal_address"]))
        for k, v in body["customers"].items()
    }
    plans = []
    for line in body["payment_plans"]:
        due = _day(line["due_date"])
        if due is None:
            raise ValueError("a payment plan line without its date")
        plans.append(PaymentPlanLine(invoice_id=str(line["invoice_id"]), due_date=due,
                                     amount=Decimal(str(line["amount"])), comment=str(line["comment"]),
                                     row=int(line["row"])))
    return SheetMarks(
        invoices=_by_id(body["invoice_ids"], typed_invoices, NO_INVOICE_MARKS),
        customers=_by_id(body["customer_ids"], typed_customers, NO_CUSTOMER_MARKS),
        payment_plans=tuple(plans),
        problems=tuple(MarkProblem(tab=str(p["tab"]), row=int(p["row"]), column=str(p["column"]),
                                   value=str(p["value"]), message=str(p["message"])) for p in body["problems"]),
        tasks={str(k): TaskMarks(done=bool(v["done"]), result=str(v["result"]), row=int(v["row"]))
               for k, v in body["tasks"].items()},
    )


def _by_id(ids: list[Any], marks: dict[str, M], default: M) -> dict[str, M]:
    """Each ID's marks in the order of ``ids`` (``default``: none typed; marks of an ID not listed: dropped)."""
    if not set(map(type, ids)) <= {str}:
        return {str(k): marks.get(k, default) for k in ids}
    out = dict.fromkeys(ids, default)  # 100,000 IDs, a few marked: no call per ID
    out.update((k, v) for k, v in marks.items() if k in out)
    return out


def _kept(path: Path, key: str) -> tuple[Path, bytes] | None:
    """The cache file of this workbook and its marks' bytes, when kept from parts stamped ``key``."""
    where = cache_file(path)
    if where is None:
        return None
    try:
        data = where.read_bytes()
    except OSError:
        return None
    head = _VERSION + key.encode() + b"\n"
    return (where, data[len(head):]) if data.startswith(head) else None


def write_cache(where: Path, data: bytes) -> bool:
    """``data`` in place of the cache file, whole or not at all (False: it could not be written)."""
    tmp = where.with_name(f"{where.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, where)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


def load(path: Path, key: str) -> SheetMarks | None:
    """The marks kept for this workbook, if read from parts stamped ``key``."""
    kept = _kept(path, key)
    if kept is None:
        return None
    try:
        return decode(kept[1])
    except (ValueError, TypeError, KeyError, ArithmeticError):  # a damaged cache file is only a cache miss
        return None


def store(path: Path, key: str, marks: SheetMarks) -> None:
    """Keep ``marks`` as read from parts stamped ``key`` (never fails a sync: a cache is optional)."""
    where = cache_file(path)
    if where is not None:
        write_cache(where, _VERSION + key.encode() + b"\n" + encode(marks))


def restamp(path: Path, key: str, new_key: str) -> bool:
    """The marks kept under ``key``, unchanged, now stamped ``new_key`` (not encoded again); False: none kept."""
    kept = _kept(path, key)
    return kept is not None and write_cache(kept[0], _VERSION + new_key.encode() + b"\n" + kept[1])


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
    return replace(marks, invoices={**marks.invoices, **dict.fromkeys(new_invoices, NO_INVOICE_MARKS)},
                   customers={**marks.customers, **dict.fromkeys(new_customers, NO_CUSTOMER_MARKS)})

