"""Records a connector could not map: listed, left out, retried at the next sync — and what they hold back.

One odd record (a Pennylane invoice with ``date: null``, a Sage payment with an amount that is not
a number, a customer without a name) must not stop the sync of a whole ledger.  The connector
catches the record's :class:`~encours.connectors.source_errors.MalformedResponseError`, leaves the
record out and keeps it here, by kind (``invoice``, ``customer``, ``payment``, ``allocation``); the
records are kept in the state store's cache (so the next sync asks for them again even when an
incremental pull would not list them) until a pull maps them.  Nothing is skipped silently: each
one is logged and named in the sync summary.

A record left out can make a customer look as if they owed more than they do, or leave encours
without their address and language.  So a quarantined customer, payment, allocation (and credit
note) *holds* the reminders it might touch — :class:`Hold`: that customer's, in that currency; any
customer's when the record does not say whose it is — until it maps (never remind someone who may
have paid).  :func:`source_holds` reads them back for the plan.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from encours.connectors.base import Cache
from encours.connectors.source_errors import MalformedResponseError

log = logging.getLogger("encours.quarantine")

NAMESPACE = "quarantine"
T = TypeVar("T")

INVOICE = "invoice"
CUSTOMER = "customer"
PAYMENT = "payment"
ALLOCATION = "allocation"
KINDS = (INVOICE, CUSTOMER, PAYMENT, ALLOCATION)


@dataclass(frozen=True)
class Hold:
    """Reminders held back by a quarantined record: ``customer_id``'s in ``currency``.

    An empty ``customer_id`` holds every customer (the record does not say whose it is); an empty
    ``currency`` every currency (a customer record, or a payment whose currency cannot be read).
    """

    customer_id: str
    currency: str
    record: str  # "<platform> <kind> <id>", for the reason shown
    kind: str

    def covers(self, customer_id: str, currency: str) -> bool:
        return (not self.customer_id or self.customer_id == customer_id) and (
            not self.currency or self.currency == currency.upper()
        )

    def line(self) -> str:
        who = f"customer {self.customer_id}" if self.customer_id else "every customer"
        what = f"in {self.currency}" if self.currency else "in every currency"
        return f"reminders held for {who} {what} until {self.record} maps"


@dataclass(frozen=True)
class Quarantined:
    """A record left out of this sync, and why (the platform's field and value, no secret)."""

    platform: str
    endpoint: str
    record: str
    why: str
    kind: str = INVOICE
    customer: str = ""  # whose record it is, when that can be read ("" otherwise)
    currency: str = ""
    holds: bool = False  # holds the customer's reminders until it maps

    def line(self) -> str:
        return f"{self.platform} {self.endpoint} record {self.record}: {self.why} — left out, retried next sync"

    @property
    def hold(self) -> Hold | None:
        if not self.holds:
            return None
        customer = self.record if self.kind == CUSTOMER else self.customer
        return Hold(customer, self.currency.upper(), f"{self.platform} {self.kind} {self.record}", self.kind)

    def stored(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "why": self.why, "kind": self.kind, "customer": self.customer,
                "currency": self.currency, "holds": self.holds}


def _key(record: str, kind: str) -> str:
    """Invoices by their bare id (as stored before kinds existed), the others ``kind:id``."""
    return record if kind == INVOICE else f"{kind}:{record}"


def _split(key: str) -> tuple[str, str]:
    kind, sep, record = key.partition(":")
    return (kind, record) if sep and kind in KINDS else (INVOICE, key)


def _entry(platform: str, key: str, value: Any) -> Quarantined:
    kind, record = _split(key)
    data = value if isinstance(value, dict) else {}
    return Quarantined(platform, str(data.get("endpoint", "")), record, str(data.get("why", "")),
                       str(data.get("kind") or kind), str(data.get("customer", "")), str(data.get("currency", "")),
                       bool(data.get("holds", kind != INVOICE)))


def _load(cache: Cache, platform: str) -> dict[str, Any]:
    raw = cache.get(NAMESPACE, platform)
    held = json.loads(raw) if raw else {}
    return held if isinstance(held, dict) else {}


class Quarantine:
    """The quarantined records of one platform: those of this pull and those held from before."""

    def __init__(self, cache: Cache, platform: str) -> None:
        self.cache = cache
        self.platform = platform
        self.found: dict[str, Quarantined] = {}  # keyed as stored: an invoice by its id, others kind:id
        self._held: dict[str, Any] = _load(cache, platform)

    def held(self, kind: str = INVOICE) -> list[str]:
        """Ids of ``kind`` quarantined by an earlier sync, to ask for again."""
        return sorted(record for k, record in map(_split, self._held) if k == kind)

    def is_held(self, record: str, kind: str = INVOICE) -> bool:
        """Quarantined by this pull (or still held from an earlier one, not yet asked again)."""
        key = _key(record, kind)
        return key in self.found or key in self._held

    def add(
        self,
        record: str,
        error: MalformedResponseError,
        *,
        kind: str = INVOICE,
        customer: str = "",
        currency: str = "",
        holds: bool | None = None,
    ) -> Quarantined:
        """Leave ``record`` out.  ``customer``/``currency``: whose it is, as far as the raw record
        says; ``holds`` (default: every kind but an invoice) holds their reminders until it maps."""
        text = str(error)
        why = text.split(f"record {record}: ", 1)[-1] if f"record {record}: " in text else text
        key = _key(record, kind)
        earlier = self.found.get(key) or (_entry(self.platform, key, self._held[key]) if key in self._held else None)
        if earlier is not None:  # asked again by id (no hint there): whose it is, and what it holds, stay
            customer = customer or earlier.customer
            currency = currency or earlier.currency
            holds = earlier.holds if holds is None else holds
        item = Quarantined(self.platform, error.endpoint, record, why, kind, customer, currency.upper(),
                           kind != INVOICE if holds is None else holds)
        self.found[key] = item
        log.warning("quarantined: %s", item.line())
        return item

    def release(self, record: str, kind: str = INVOICE) -> None:
        """The record was mapped (or is gone): no longer quarantined."""
        key = _key(record, kind)
        self.found.pop(key, None)
        self._held.pop(key, None)

    def guarded(self, record: str, read: Callable[[str], T | None], kind: str = INVOICE) -> T | None:
        """``read(record)``, the record quarantined (None) when its answer cannot be mapped, released when it can."""
        try:
            found = read(record)
        except MalformedResponseError as exc:
            self.add(record, exc, kind=kind)
            return None
        self.release(record, kind)
        return found

    def attempt(
        self,
        raw: Any,
        read: Callable[[Any], T],
        *,
        kind: str,
        endpoint: str,
        customer: str = "",
        currency: str = "",
        holds: bool | None = None,
    ) -> tuple[bool, T | None]:
        """``(True, read(raw))``, the record released; ``(False, None)`` once it is quarantined.

        A value the model refuses (a currency that is no ISO code, an amount Decimal cannot
        compare) is a record that cannot be mapped too.  A record without an id cannot be asked
        for again: its error is raised (the sync stops and its cursor stays where it was).
        """
        ident = raw.get("id") if isinstance(raw, dict) else None
        record = str(ident) if ident not in (None, "", False) else ""
        try:
            value = read(raw)
        except (MalformedResponseError, ValueError, ArithmeticError) as exc:
            if not record:
                raise
            error = exc if isinstance(exc, MalformedResponseError) else MalformedResponseError(
                str(exc), platform=self.platform, endpoint=endpoint, record=record)
            self.add(record, error, kind=kind, customer=customer, currency=currency, holds=holds)
            return False, None
        if record:
            self.release(record, kind)
        return True, value

    def release_all(self, records: Iterable[str], kind: str = INVOICE) -> None:
        for record in records:
            self.release(record, kind)

    def save(self) -> None:
        """Keep every record still quarantined for the next sync (committed at once)."""
        held = {**self._held, **{k: q.stored() for k, q in self.found.items()}}
        self._held = held
        self.cache.put(NAMESPACE, self.platform, json.dumps(held, sort_keys=True))

    @property
    def items(self) -> tuple[Quarantined, ...]:
        """This pull's quarantined records, then those still held from an earlier one."""
        earlier = tuple(_entry(self.platform, k, v) for k, v in sorted(self._held.items()) if k not in self.found)
        return tuple(self.found.values()) + earlier

    @property
    def holds(self) -> tuple[Hold, ...]:
        return tuple(h for q in self.items if (h := q.hold) is not None)


def source_holds(cache: Cache, platform: str) -> tuple[Hold, ...]:
    """The reminders the platform's quarantined records hold back, as the last pull left them."""
    return tuple(h for k, v in sorted(_load(cache, platform).items()) if (h := _entry(platform, k, v).hold))


def quarantine_notes(connector: object) -> tuple[str, ...]:
    """Summary lines for the records a connector's last pull left out (none for file sources)."""
    quarantine = getattr(connector, "quarantine", None)
    if not isinstance(quarantine, Quarantine):
        return ()
    items = quarantine.items
    if not items:
        return ()
    holds = sorted({h.line() for h in quarantine.holds})
    return (f"Quarantined: {len(items)} record(s) left out of this sync", *(f"  {q.line()}" for q in items),
            *(f"  {line}" for line in holds))
