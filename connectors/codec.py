"""Domain records ⇄ JSON-safe dicts, for the state store and payload caches.

Decimals travel as strings (exact), dates as ISO text, enums as their value.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from encours.connectors import model

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))


@cache
def _hints(cls: Any) -> dict[str, Any]:
    # The module namespace as locals too: a field named `date` must not shadow the type.
    return typing.get_type_hints(cls, vars(model), vars(model))


def _convert(kind: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _convert(options[0], raw)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], item) for item in raw)
        return tuple(_convert(a, item) for a, item in zip(args, raw, strict=True))
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return from_jsonable(kind, raw)
    if kind is Decimal:
        return Decimal(raw)
    if kind is datetime:
        return datetime.fromisoformat(raw)
    if kind is date:
        return date.fromisoformat(raw)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(raw)
    return raw


def from_jsonable(cls: type[T], data: dict[str, Any]) -> T:
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {name: _convert(hints[name], value) for name, value in data.items() if name in hints}
    return cls(**kwargs)


def loads(cls: type[T], text: str) -> T:
    return from_jsonable(cls, json.loads(text))
