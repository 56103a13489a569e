"""The re-check before sending, for Sage: every invoice of a pass in a few requests, whatever their number.

Sage cannot filter sales invoices by id (``search`` matches a reference or a contact's name), so
the pass asks what *changed* instead: the pass pulled moments ago, and an invoice Sage reports no
change for since that pull (its cursor, five minutes of look-back included) is exactly what the
pass already holds.  Four listings, each normally one page:

* ``/sales_invoices?updated_or_created_since=…`` — the wanted invoices that changed, mapped again;
* ``/sales_invoices?deleted_since=…`` — the wanted invoices deleted (``None``: not reminded);
* ``/contact_payments`` and ``/contact_allocations`` changed since then — any wanted invoice they
  name is read again on its own, in case a receipt or a credit note set against it did not
  touch the invoice's own ``updated_at`` (unconfirmed either way: checked rather than assumed).

The answer is a :class:`Rechecked` mapping: the invoices read again, and ``unchanged`` — the ids
the pass's own copy is current for.  A wanted invoice quarantined (by the pull or now) is in
neither: it is not reminded.  Without a pull in this process (no moment to ask since), up to
:data:`SINGLE_READS` invoices are read one by one, more by listing the open ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from encours.connectors.model import Invoice
from encours.connectors.quarantine import Quarantine
from encours.connectors.sage.client import SageClient
from encours.connectors.sage.mapping import allocated_ids, sage_time

#: Without a pull to ask changes since, up to this many invoices are read one by one.
SINGLE_READS = 3
OPEN_STATUSES = ("UNPAID", "PART_PAID")


class Rechecked(dict[str, Invoice | None]):
    """Invoice id -> as Sage has it now (``None``: gone); ``unchanged``: ids with no change since the pull."""

    def __init__(self, found: Mapping[str, Invoice | None], unchanged: Iterable[str] = ()) -> None:
        super().__init__(found)
        self.unchanged = frozenset(unchanged)


class Source(Protocol):
    client: SageClient
    quarantine: Quarantine
    pulled_since: datetime | None

    def statuses(self) -> dict[str, str]: ...

    def document_or_hold(self, raw: Any, statuses: Mapping[str, str], endpoint: str) -> Invoice | None: ...

    def refetch_or_hold(self, invoice_id: str) -> Invoice | None: ...


def recheck(source: Source, wanted: set[str]) -> Rechecked:
    """The wanted invoices as Sage has them now (see the module docstring)."""
    if not wanted:
        return Rechecked({})
    statuses = source.statuses()
    if source.pulled_since is None:
        return _by_listing(source, wanted, statuses)
    since = sage_time(source.pulled_since)
    client = source.client
    found: dict[str, Invoice | None] = {}
    for raw in client.documents("/sales_invoices", {"updated_or_created_since": since}, check_count=False):
        ident = _id(raw)
        if ident in wanted:
            found[ident] = source.document_or_hold(raw, statuses, "GET /sales_invoices")
    for raw in client.deleted("/sales_invoices", since):
        if _id(raw) in wanted:
            found[_id(raw)] = None
    touched: set[str] = set()
    changed = {"updated_or_created_since": since}
    for raw in [*client.contact_payments(changed), *client.contact_allocations(changed)]:
        touched.update(allocated_ids(raw))
    for ident in sorted((touched & wanted) - set(found)):
        found[ident] = source.refetch_or_hold(ident)
    held = {i for i in wanted if source.quarantine.is_held(i)}
    kept = {k: v for k, v in found.items() if k not in held}
    return Rechecked(kept, unchanged=wanted - set(found) - held)


def _by_listing(source: Source, wanted: set[str], statuses: Mapping[str, str]) -> Rechecked:
    """No pull to ask changes since: a handful one by one, more by listing the open invoices (the
    wanted ones missing from that list — paid, voided or deleted since — are read one by one)."""
    found: dict[str, Invoice | None] = {}
    for status in OPEN_STATUSES if len(wanted) > SINGLE_READS else ():
        for raw in source.client.documents("/sales_invoices", {"status_id": status}, check_count=False):
            if (ident := _id(raw)) in wanted:
                found[ident] = source.document_or_hold(raw, statuses, "GET /sales_invoices")
    for ident in sorted(wanted - set(found)):
        found[ident] = source.refetch_or_hold(ident)
    return Rechecked({k: v for k, v in found.items() if v is not None or not source.quarantine.is_held(k)})


def _id(raw: Any) -> str:
    return str(raw.get("id", "")) if isinstance(raw, dict) else ""
