"""The Odoo cursor: the latest ``write_date`` seen, the ids of the last daily comparison (which
finds deleted invoices: Odoo does not track deletions), and the records to read again.

The cursor is committed with the ledger it brought, so what it says must be retried (records
quarantined by that pull) is retried even when the sync that pulled them failed afterwards.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ODOO_TIME = "%Y-%m-%d %H:%M:%S"
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


@dataclass(frozen=True)
class OdooCursor:
    since: str  # Odoo UTC "YYYY-MM-DD HH:MM:SS": the latest write_date seen
    ids_checked_on: str = ""  # ISO date of the last id comparison
    known_ids: tuple[int, ...] = field(default=())
    retry: tuple[str, ...] = ()  # records quarantined by the pull that made this cursor

    def dumps(self) -> str:
        data: dict[str, Any] = {"v": 1, "since": self.since, "ids_checked_on": self.ids_checked_on,
                                "ids": _pack(self.known_ids)}
        if self.retry:
            data["retry"] = sorted(self.retry)
        return json.dumps(data)

    @classmethod
    def loads(cls, text: str) -> OdooCursor | None:
        try:
            data = json.loads(text)
            retry = data.get("retry", [])
            return cls(str(data["since"]), str(data.get("ids_checked_on", "")), _unpack(str(data.get("ids", ""))),
                       tuple(str(r) for r in retry) if isinstance(retry, list) else ())
        except (ValueError, KeyError, TypeError, AttributeError, zlib.error):
            return None


def stamp(raw: Any) -> str:
    """A record's ``write_date`` when it is one ("" otherwise): a malformed one never moves the cursor."""
    value = raw.get("write_date") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and _STAMP.fullmatch(value) else ""


def _pack(ids: Iterable[int]) -> str:
    ordered = sorted(set(ids))
    gaps = [b - a for a, b in zip([0, *ordered], ordered, strict=False)]
    return base64.b64encode(zlib.compress(",".join(map(str, gaps)).encode())).decode()


def _unpack(text: str) -> tuple[int, ...]:
    if not text:
        return ()
    gaps = zlib.decompress(base64.b64decode(text)).decode()
    ids, total = [], 0
    for gap in filter(None, gaps.split(",")):
        total += int(gap)
        ids.append(total)
    return tuple(ids)
