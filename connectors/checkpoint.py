"""Where an interrupted full pull stopped, so that the next sync goes on from there.

A large ledger's full pull can outlast the platform's patience (throttling), a network or a
machine.  Each page read is kept in the state store's cache (committed at once) with the request
for the page after it; the next full pull replays the kept pages without asking for them again
and resumes from the saved request.  A page is kept as the platform sent it — so that the resumed
pull maps, quarantines and counts exactly what an uninterrupted one would — but compressed
(zlib, about 17 times smaller: 100 Pennylane invoices take ~10 KB instead of ~180 KB).  The
pull's start time is kept too: the cursor the resumed pull returns is that first start, so the
changes made meanwhile are read by the next incremental sync.  A checkpoint older than
``max_age`` is dropped (its pages would be too stale).
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from collections.abc import Iterator
from typing import Any

from encours.connectors.base import Cache
from encours.connectors.pages import PageRequest

log = logging.getLogger("encours.checkpoint")

NAMESPACE = "checkpoint"
MAX_AGE = 7 * 24 * 3600.0  # seconds
COMPRESSED = "zlib:"


def pack(items: list[Any]) -> str:
    """A page as kept: compact JSON, zlib-compressed, base64 text (the cache holds text)."""
    data = json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode()
    return COMPRESSED + base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def unpack(text: str) -> list[Any]:
    """A kept page back (pages kept as plain JSON by an earlier version read too)."""
    if text.startswith(COMPRESSED):
        return list(json.loads(zlib.decompress(base64.b64decode(text[len(COMPRESSED):]))))
    return list(json.loads(text))


class Checkpoint:
    """The progress of one platform's full pull, listing by listing."""

    def __init__(self, cache: Cache, platform: str, *, max_age: float = MAX_AGE) -> None:
        self.cache = cache
        self.platform = platform
        self.max_age = max_age
        self.state: dict[str, Any] = {}

    def start(self, now: float) -> float:
        """Begin a full pull, or resume the one interrupted; returns when that pull began (Unix)."""
        raw = self.cache.get(NAMESPACE, self.platform)
        state = json.loads(raw) if raw else {}
        began = state.get("started") if isinstance(state, dict) else None
        if isinstance(began, (int, float)) and 0 <= now - began <= self.max_age:
            self.state = state
            pages = sum(int(v.get("pages", 0)) for v in state.get("listings", {}).values())
            log.info("%s: resuming the full pull begun %.0f s ago (%d pages kept)", self.platform, now - began, pages)
            return float(began)
        if began is not None:
            self.clear(state)
        self.state = {"started": now, "listings": {}}
        self._save()
        return now

    @property
    def resumed_pages(self) -> int:
        return sum(int(v.get("pages", 0)) for v in self.state.get("listings", {}).values())

    def kept(self, listing: str) -> Iterator[list[Any]]:
        """The pages of ``listing`` read before the interruption, in order."""
        for index in range(int(self._listing(listing).get("pages", 0))):
            raw = self.cache.get(NAMESPACE, self._page_key(listing, index))
            if raw is None:
                return
            yield unpack(raw)

    def next_request(self, listing: str, first: PageRequest) -> PageRequest | None:
        """Where ``listing`` goes on: ``first`` if it never began, ``None`` once it ended."""
        entry = self._listing(listing)
        if not entry:
            return first
        if entry.get("done"):
            return None
        saved = entry.get("next")
        if not isinstance(saved, dict):
            return first
        return PageRequest(str(saved["path"]), dict(saved.get("params") or {}), str(saved.get("token", "")))

    def page_read(self, listing: str, items: list[Any], following: PageRequest | None) -> None:
        """Keep one page and the request after it (both committed before the pull goes on)."""
        entry = self.state.setdefault("listings", {}).setdefault(listing, {"pages": 0})
        index = int(entry["pages"])
        self.cache.put(NAMESPACE, self._page_key(listing, index), pack(items))
        entry["pages"] = index + 1
        entry["done"] = following is None
        entry["next"] = (
            None if following is None
            else {"path": following.path, "params": dict(following.params), "token": following.token}
        )
        self._save()

    def forget(self, listing: str) -> None:
        """Drop one listing's kept pages (it changed meanwhile: it is read again from the start)."""
        entry = self._listing(listing)
        for index in range(int(entry.get("pages", 0))):
            self.cache.delete(NAMESPACE, self._page_key(listing, index))
        self.state.get("listings", {}).pop(listing, None)
        if self.state:
            self._save()

    def finish(self) -> None:
        """The full pull returned: nothing to resume any more."""
        self.clear(self.state)
        self.state = {}

    def clear(self, state: dict[str, Any]) -> None:
        for listing, entry in state.get("listings", {}).items():
            for index in range(int(entry.get("pages", 0))):
                self.cache.delete(NAMESPACE, self._page_key(listing, index))
        self.cache.delete(NAMESPACE, self.platform)

    def _listing(self, listing: str) -> dict[str, Any]:
        found = self.state.get("listings", {}).get(listing)
        return found if isinstance(found, dict) else {}

    def _page_key(self, listing: str, index: int) -> str:
        return f"{self.platform}:{listing}:{index}"

    def _save(self) -> None:
        self.cache.put(NAMESPACE, self.platform, json.dumps(self.state, default=str))
