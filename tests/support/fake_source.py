"""A source for the sync-job tests: a ledger in a JSON file, pulled incrementally, failing on demand.

The file holds the ledger and a version per invoice, so a test (or the crash benchmark) can
change it between passes — from the same process or another one — and a pull with a cursor
returns only what changed since.  ``FAULT`` in the file makes pulls or re-reads fail like a
source answering 500 or timing out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from encours.connectors import codec
from encours.connectors.errors import SourceError
from encours.connectors.model import Customer, Delta, Invoice, InvoiceStatus, Ledger, Money, SourceInfo


class LedgerFile:
    """The ledger a fake source serves, with a version counter per invoice."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, ledger: Ledger, versions: dict[str, int] | None = None, version: int = 1,
             fault: str = "") -> None:
        data = {
            "version": version,
            "versions": versions or {i.id: version for i in ledger.invoices},
            "fault": fault,
            "ledger": codec.to_jsonable(ledger),
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)

    def load(self) -> tuple[Ledger, dict[str, int], int, str]:
        """The file's content (parsed once per change of the file: re-reads are cheap)."""
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if getattr(self, "_stamp", None) != stamp:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._loaded = (codec.from_jsonable(Ledger, data["ledger"]),
                            {k: int(v) for k, v in data["versions"].items()},
                            int(data["version"]), str(data.get("fault", "")))
            self._index = {i.id: i for i in self._loaded[0].invoices}
            self._stamp = stamp
        return self._loaded

    def change(self, invoices: Iterable[Invoice]) -> int:
        """Replace (or add) invoices; returns the new version."""
        ledger, versions, version, fault = self.load()
        version += 1
        by_id = {i.id: i for i in ledger.invoices}
        for invoice in invoices:
            by_id[invoice.id] = invoice
            versions[invoice.id] = version
        self.save(Ledger(ledger.customers, tuple(by_id.values()), ledger.payments), versions, version, fault)
        return version

    def pay(self, invoice_ids: Iterable[str]) -> int:
        ledger, _, _, _ = self.load()
        wanted = set(invoice_ids)
        paid = [i.with_changes(status=InvoiceStatus.PAID, remaining=Money(Decimal(0), i.currency))
                for i in ledger.invoices if i.id in wanted]
        return self.change(paid)

    def set_fault(self, fault: str) -> None:
        ledger, versions, version, _ = self.load()
        self.save(ledger, versions, version, fault)


class FakeSource:
    """The :class:`encours.connectors.base.Connector` over a :class:`LedgerFile`.

    ``fault``: ``pull-500``, ``pull-timeout``, ``refetch-500`` or ``refetch-timeout``.
    """

    source = "fake"

    def __init__(self, file: LedgerFile) -> None:
        self.file = file
        self.pulls: list[str | None] = []
        self.refetched: list[str] = []

    def _fail(self, fault: str, endpoint: str) -> None:
        if fault.endswith("500"):
            raise SourceError("the server answered 500 Internal Server Error", platform="fake", endpoint=endpoint)
        if fault.endswith("timeout"):
            raise SourceError("no answer within 30 s (timeout)", platform="fake", endpoint=endpoint)

    def check(self) -> SourceInfo:
        ledger, _, _, _ = self.file.load()
        return SourceInfo("fake", "Fake", len(ledger.open_invoices()))

    def pull(self, cursor: str | None) -> Delta:
        self.pulls.append(cursor)
        ledger, versions, version, fault = self.file.load()
        if fault.startswith("pull"):
            self._fail(fault, "/invoices")
        if cursor is None:
            return Delta(ledger.customers, ledger.invoices, ledger.payments, full=True, cursor=f"v{version}")
        since = int(cursor[1:])
        changed = tuple(i for i in ledger.invoices if versions.get(i.id, 0) > since)
        return Delta(ledger.customers, changed, (), full=False, cursor=f"v{version}")

    def refetch_invoice(self, invoice_id: str) -> Invoice | None:
        _, _, _, fault = self.file.load()
        if fault.startswith("refetch"):
            self._fail(fault, f"/invoices/{invoice_id}")
        self.refetched.append(invoice_id)
        return self.file._index.get(invoice_id)


def bulk_ledger(count: int, *, as_of: Any, customers: int | None = None, seed: int = 7) -> Ledger:
    """``count`` open invoices spread over customers, due from 60 days ago to 20 days ahead."""
    import random
    from datetime import timedelta

    rng = random.Random(seed)
    n_customers = customers or max(1, count // 5)
    people = tuple(
        Customer(f"C{c:05d}", f"Client {c:05d}", "fake", emails=(f"compta{c}@client{c}.example",),
                 phone="+33 1 23 45 67 89", salesperson="Julie Martin")
        for c in range(n_customers)
    )
    invoices = []
    for n in range(count):
        due = as_of - timedelta(days=rng.randint(-20, 60))
        amount = Decimal(rng.randint(100, 5000)).quantize(Decimal("0.01"))
        invoices.append(Invoice(f"I{n:06d}", f"F-{n:06d}", people[n % n_customers].id, "fake",
                                due - timedelta(days=30), due, Money(amount), Money(amount)))
    return Ledger(people, tuple(invoices))


def with_paid(ledger: Ledger, invoice_ids: Iterable[str]) -> Ledger:
    wanted = set(invoice_ids)
    return replace(ledger, invoices=tuple(
        i.with_changes(status=InvoiceStatus.PAID, remaining=Money(Decimal(0), i.currency)) if i.id in wanted else i
        for i in ledger.invoices))
