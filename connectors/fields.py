"""Typed reads of one platform record, failing with the platform, endpoint, record id and field.

Every connector reads JSON objects the same way: ``Fields(raw, platform=…, endpoint=…)`` then
``.text("invoice_number")``, ``.decimal("amount")``, ``.date("deadline", required=False)``.  A
missing or malformed field raises :class:`MalformedResponseError` that says which record and
which field, so a sync never stores a half-understood record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from encours.connectors.parsing import parse_amount
from encours.connectors.source_errors import MalformedResponseError

_MISSING = object()


class Fields:
    def __init__(self, raw: Any, *, platform: str, endpoint: str, id_key: str = "id", record: str = "") -> None:
        self.platform = platform
        self.endpoint = endpoint
        if not isinstance(raw, dict):
            raise MalformedResponseError(
                f"expected a record (JSON object), got {type(raw).__name__}",
                platform=platform,
                endpoint=endpoint,
                record=record,
            )
        self.raw: dict[str, Any] = raw
        ident = raw.get(id_key, record)
        self.record = str(ident) if ident not in (None, "", False) else record

    def fail(self, message: str) -> MalformedResponseError:
        return MalformedResponseError(message, platform=self.platform, endpoint=self.endpoint, record=self.record)

    def _get(self, key: str, required: bool) -> Any:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            if required:
                raise self.fail(f"field {key!r} is missing")
            return None
        if value is None and required:
            raise self.fail(f"field {key!r} is empty")
        return value

    def id(self, key: str = "id") -> str:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
            raise self.fail(f"field {key!r} is not an identifier: {value!r}")
        return str(value)

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self._get(key, required)
        if value is None or value is False:  # Odoo writes an empty value as false
            return default
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise self.fail(f"field {key!r} is not text: {value!r}")
        return str(value)

    def decimal(self, key: str, *, required: bool = True) -> Decimal | None:
        value = self._get(key, required)
        if value is None:
            return None
        try:
            return parse_amount(value, what=key)
        except ValueError:
            raise self.fail(f"field {key!r} is not an amount: {value!r}") from None

    def amount(self, key: str) -> Decimal:
        value = self.decimal(key, required=True)
        assert value is not None
        return value

    def flag(self, key: str, *, required: bool = True, default: bool = False) -> bool:
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"field {key!r} is not true/false: {value!r}")
        return value

    def date(self, key: str, *, required: bool = True) -> date | None:
        value = self._get(key, required)
        if value is None or value is False or value == "":
            if required:
                raise self.fail(f"field {key!r} is empty")
            return None
        if not isinstance(value, str):
            raise self.fail(f"field {key!r} is not a date: {value!r}")
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise self.fail(f"field {key!r} is not a date: {value!r}") from None

    def datetime(self, key: str, *, required: bool = False) -> datetime | None:
        value = self._get(key, required)
        if value is None or value is False or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(f"field {key!r} is not a date and time: {value!r}")
        return parse_timestamp(value, self)

    def obj(self, key: str, *, required: bool = True) -> Fields | None:
        value = self._get(key, required)
        if value is None or value is False:
            return None
        if not isinstance(value, dict):
            raise self.fail(f"field {key!r} is not an object: {value!r}")
        return Fields(value, platform=self.platform, endpoint=self.endpoint, record=self.record)

    def list(self, key: str, *, required: bool = True) -> list[Any]:
        value = self._get(key, required)
        if value is None or value is False:
            return []
        if not isinstance(value, list):
            raise self.fail(f"field {key!r} is not a list: {value!r}")
        return value

    def many2one(self, key: str, *, required: bool = False) -> tuple[str, str] | None:
        """Odoo's ``[id, "name"]`` (or ``false``) as (id, name)."""
        value = self._get(key, required)
        if value is None or value is False:
            if required:
                raise self.fail(f"field {key!r} is empty")
            return None
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int):
            return str(value[0]), str(value[1])
        if isinstance(value, int) and not isinstance(value, bool):  # some versions send a bare id
            return str(value), ""
        raise self.fail(f"field {key!r} is not an [id, name] pair: {value!r}")


def parse_timestamp(value: str, fields: Fields | None = None) -> datetime:
    """ISO 8601 (``Z`` accepted) or Odoo's ``YYYY-MM-DD HH:MM:SS`` (UTC) as an aware datetime."""
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if fields is not None:
            raise fields.fail(f"{value!r} is not a date and time") from None
        raise
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
