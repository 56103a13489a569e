"""Records a connector could not map: listed, left out, retried at the next sync.

One odd record (a Pennylane invoice with ``date: null``, an exchange rate that contradicts the
totals) must not stop the sync of a whole ledger.  The connector catches the record's
:class:`~encours.connectors.source_errors.MalformedResponseError`, leaves the record out and keeps
its id here; the ids are kept in the state store's cache (so the next sync asks for them again
even when an incremental pull would not list them) until a pull maps them.  Nothing is skipped
silently: each one is logged and named in the sync summary.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from encours.connectors.base import Cache
from encours.connectors.source_errors import MalformedResponseError

log = logging.getLogger("encours.quarantine")

NAMESPACE = "quarantine"
T = TypeVar("T")


@dataclass(frozen=True)
class Quarantined:
    """A record left out of this sync, and why (the platform's field and value, no secret)."""

    platform: str
    endpoint: str
    record: str
    why: str

    def line(self) -> str:
        return f"{self.platform} {self.endpoint} record {self.record}: {self.why} — left out, retried next sync"


class Quarantine:
    """The quarantined records of one platform: those of this pull and those held from before."""

    def __init__(self, cache: Cache, platform: str) -> None:
        self.cache = cache
        self.platform = platform
        self.found: dict[str, Quarantined] = {}
        raw = cache.get(NAMESPACE, platform)
        held = json.loads(raw) if raw else {}
        self._held: dict[str, dict[str, str]] = held if isinstance(held, dict) else {}

    def held(self) -> list[str]:
        """Ids quarantined by an earlier sync, to ask for again."""
        return sorted(self._held)

    def add(self, record: str, error: MalformedResponseError) -> Quarantined:
        text = str(error)
        why = text.split(f"record {record}: ", 1)[-1] if f"record {record}: " in text else text
        item = Quarantined(self.platform, error.endpoint, record, why)
        self.found[record] = item
        log.warning("quarantined: %s", item.line())
        return item

    def release(self, record: str) -> None:
        """The record was mapped (or is gone): no longer quarantined."""
        self.found.pop(record, None)
        self._held.pop(record, None)

    def guarded(self, record: str, read: Callable[[str], T | None]) -> T | None:
        """``read(record)``, the record quarantined (None) when its answer cannot be mapped, released when it can."""
        try:
            found = read(record)
        except MalformedResponseError as exc:
            self.add(record, exc)
            return None
        self.release(record)
        return found

    def release_all(self, records: Iterable[str]) -> None:
        for record in records:
            self.release(record)

    def save(self) -> None:
        """Keep every record still quarantined for the next sync (committed at once)."""
        held = {**self._held, **{k: {"endpoint": q.endpoint, "why": q.why} for k, q in self.found.items()}}
        self._held = held
        self.cache.put(NAMESPACE, self.platform, json.dumps(held, sort_keys=True))

    @property
    def items(self) -> tuple[Quarantined, ...]:
        """This pull's quarantined records, then those still held from an earlier one."""
        earlier = tuple(
            Quarantined(self.platform, str(v.get("endpoint", "")), k, str(v.get("why", "")))
            for k, v in sorted(self._held.items())
            if k not in self.found
        )
        return tuple(self.found.values()) + earlier


def quarantine_notes(connector: object) -> tuple[str, ...]:
    """Summary lines for the records a connector's last pull left out (none for file sources)."""
    quarantine = getattr(connector, "quarantine", None)
    if not isinstance(quarantine, Quarantine):
        return ()
    items = quarantine.items
    if not items:
        return ()
    return (f"Quarantined: {len(items)} record(s) left out of this sync", *(f"  {q.line()}" for q in items))
