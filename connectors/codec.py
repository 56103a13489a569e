"""Domain records ⇄ JSON-safe dicts, for the state store and payload caches.

Decimals travel as strings (exact), dates as ISO text (a time at UTC ends in ``Z``), enums as their value.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import types
import typing
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

try:
    import msgspec
    import msgspec.json
except ImportError:  # a platform without its wheel: the generated decoder reads the same, slower
    msgspec = None  # type: ignore[assignment]

#: Read stored records with msgspec when it is installed (tests turn it off to check the other way).
USE_MSGSPEC = True

T = TypeVar("T")
Converter = typing.Callable[[Any], Any]


def to_jsonable(value: Any) -> Any:
    """Any value as JSON-safe data, converted by what it is, met one by one (the state store writes
    records with :func:`dumps`, which writes this data's JSON text without building the data)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    return value


#: One encoder for every record (``json.dumps`` with options builds a new one per call).
_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def datetime_text(value: datetime) -> str:
    """A time as ISO text, ``Z`` for an offset of zero (as msgspec writes it; Python reads both)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _generic_text(value: Any) -> str:
    return _TEXT(to_jsonable(value))


def dumps(value: Any) -> str:
    """``value`` as JSON text: a record written straight to text, by msgspec (in C) when its class and
    times allow it (:func:`_fast_writer`), else by the writer generated for its class — the same text
    both ways, the very text ``json`` gives for :func:`to_jsonable`'s data."""
    writer = _WRITERS.get(type(value))
    if writer is None:
        writer = _WRITERS[type(value)] = _writer(type(value))
    return writer(value)


#: type → how its values are written (:func:`_writer`), worked out at its first value.
_WRITERS: dict[type, typing.Callable[[Any], str]] = {}


def _writer(cls: type) -> typing.Callable[[Any], str]:
    if not dataclasses.is_dataclass(cls):
        return _generic_text
    generated = _texter(cls)
    fast = _fast_writer(cls)
    if fast is None:
        return generated
    times, encode = fast

    def written(value: Any) -> str:
        for name in times:
            t = getattr(value, name)
            if t is not None and t.tzinfo is not None and t.tzinfo is not UTC:
                return generated(value)  # an offset msgspec would write otherwise (it cuts seconds off)
        try:
            return encode(value).decode()
        except (TypeError, ValueError):  # a value of a type msgspec does not write: the generated way
            return generated(value)

    return written


#: The field types msgspec writes as the generated writer does (a time only at a record's top level,
#: and only naive or at UTC: msgspec cuts an offset to whole minutes).
_FAST_KINDS = (str, bool, int, Decimal, date)


@cache
def _fast_writer(cls: Any) -> tuple[tuple[str, ...], typing.Callable[[Any], bytes]] | None:
    """(the record's time fields, msgspec's encoder) when every field of ``cls`` is written alike by both
    writers; None without msgspec or for a class holding something else (a float, a time in a part)."""
    if msgspec is None or not USE_MSGSPEC or not _fast_kinds(cls, top=True):
        return None
    hints = _hints(cls)
    times = tuple(f.name for f in dataclasses.fields(cls) if _bare(hints.get(f.name)) is datetime)
    return times, msgspec.json.Encoder(decimal_format="string").encode


def _bare(kind: Any) -> Any:
    """``X`` for ``X | None``, else the kind itself."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return options[0] if len(options) == 1 else kind
    return kind


def _fast_kinds(cls: Any, *, top: bool) -> bool:
    hints = _hints(cls)
    return all(f.name in hints and _fast_kind(hints[f.name], top=top) for f in dataclasses.fields(cls))


def _fast_kind(kind: Any, *, top: bool) -> bool:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return len(options) == 1 and _fast_kind(options[0], top=top)
    if origin is tuple:
        args = typing.get_args(kind)
        return all(a is Ellipsis or _fast_kind(a, top=False) for a in args)
    if kind is datetime:
        return top
    if kind in _FAST_KINDS:
        return True
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return all(type(member.value) is str for member in kind)
    return dataclasses.is_dataclass(kind) and isinstance(kind, type) and _fast_kinds(kind, top=False)


class TextMemo:
    """Records' JSON texts (:func:`dumps`), each written once while its record lives: a record decoded
    from the state file keeps the text it was read from; one a source sent is written the first time
    it is asked for (a pass digests its customers' records for the plans it keeps, then compares them
    with the stored ones: the text is written once for both)."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[object, str]] = {}  # id → (the record, kept alive: its id stays its own)

    def remember(self, records: Iterable[object], texts: Iterable[str]) -> None:
        for record, text in zip(records, texts, strict=True):
            self._texts[id(record)] = (record, text)

    def text(self, record: object) -> str:
        known = self._texts.get(id(record))
        if known is not None and known[0] is record:
            return known[1]
        text = dumps(record)
        self._texts[id(record)] = (record, text)
        return text

    def clear(self) -> None:
        self._texts.clear()


def _text(kind: Any, env: dict[str, Any], expr: str, depth: int = 0) -> str:
    """Python text turning ``expr`` (a value of the field's ``kind``) into its JSON text, as ``_TEXT``
    writes :func:`to_jsonable`'s data for it; a value not of its hint's type goes the generic way."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(options) != 1:
            return f"generic({expr})"
        return f"('null' if {expr} is None else {_text(options[0], env, expr, depth)})"
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = f"v{depth}"
            inner = _text(args[0], env, item, depth + 1)
            return (f"('[' + ','.join([{inner} for {item} in {expr}]) + ']' "
                    f"if type({expr}) is tuple or type({expr}) is list else generic({expr}))")
        return f"generic({expr})"
    if kind is str:
        return f"(esc({expr}) if type({expr}) is str else generic({expr}))"
    if kind is bool:
        return f"(('true' if {expr} else 'false') if type({expr}) is bool else generic({expr}))"
    if kind is int:
        return f"(int_text({expr}) if type({expr}) is int else generic({expr}))"
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        env[f"k_{kind.__name__}"] = kind
        env[f"w_{kind.__name__}"] = _texter(kind)
        return f"(w_{kind.__name__}({expr}) if type({expr}) is k_{kind.__name__} else generic({expr}))"
    if kind is Decimal:  # a Decimal's text has no character JSON escapes
        return f"('\"' + str({expr}) + '\"' if type({expr}) is Decimal else generic({expr}))"
    if kind is datetime:  # nor has an ISO time's
        env["t_datetime"], env["datetime_text"] = datetime, datetime_text
        return f"('\"' + datetime_text({expr}) + '\"' if type({expr}) is t_datetime else generic({expr}))"
    if kind is date:
        env["t_date"] = date
        return f"('\"' + {expr}.isoformat() + '\"' if type({expr}) is t_date else generic({expr}))"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        env[f"n_{kind.__name__}"] = kind
        return (f"(esc({expr}.value) if type({expr}) is n_{kind.__name__} and type({expr}.value) is str "
                f"else generic({expr}))")
    return f"generic({expr})"


@cache
def _texter(cls: Any) -> typing.Callable[[Any], str]:
    """A JSON writer generated for ``cls`` once: the record's text in one join, a type test per field
    (the state store compares each record a source sends with the text it holds: 100,000 invoices)."""
    hints = _hints(cls)
    env: dict[str, Any] = {"generic": _generic_text, "esc": json.encoder.encode_basestring,
                           "int_text": int.__repr__, "Decimal": Decimal}
    pieces = []
    for number, f in enumerate(dataclasses.fields(cls)):
        expr = f"value.{f.name}"
        key = ("{" if number == 0 else ",") + json.dumps(f.name, ensure_ascii=False) + ":"
        pieces.append(repr(key))
        pieces.append(_text(hints[f.name], env, expr) if f.name in hints else f"generic({expr})")
    pieces.append(repr("}" if pieces else "{}"))
    source = "def text(value):\n    return ''.join((" + ", ".join(pieces) + ",))\n"
    exec(compile(source, f"<codec writer of {cls.__name__}>", "exec"), env)  # generated above from type hints
    text: typing.Callable[[Any], str] = env["text"]
    return text


@cache
def _hints(cls: Any) -> dict[str, Any]:
    # The module namespace as locals too: a field named `date` must not shadow the type.
    namespace = vars(sys.modules[cls.__module__])
    return typing.get_type_hints(cls, namespace, namespace)



def _keep(raw: Any) -> Any:
    return raw


@cache
def _converter(kind: Any) -> Converter:
    """How a JSON value becomes a ``kind`` — worked out once per type, not once per value (the state
    store decodes every stored invoice of a ledger on each pass)."""
    origin = typing.get_origin(kind)
    convert: Converter
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        convert = _converter(options[0])
    elif origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _converter(args[0])
            convert = lambda raw: tuple(item(v) for v in raw)  # noqa: E731
        else:
            items = [_converter(a) for a in args]
            convert = lambda raw: tuple(c(v) for c, v in zip(items, raw, strict=True))  # noqa: E731
    elif dataclasses.is_dataclass(kind) and isinstance(kind, type):
        convert = _decoder(kind)
    elif kind is Decimal:
        convert = Decimal
    elif kind is datetime:
        convert = datetime.fromisoformat
    elif kind is date:
        convert = date.fromisoformat
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        convert = kind
    else:
        convert = _keep
    return lambda raw: None if raw is None else convert(raw)


def _plain(kind: Any) -> bool:
    """A JSON value that is already the field's value (text, number, bool, or None of those)."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return all(_plain(a) for a in typing.get_args(kind) if a is not type(None))
    return kind in (str, int, float, bool)


class _Days(dict[str, date]):
    """ISO dates already parsed (a ledger holds a few hundred distinct days in 100,000 records)."""

    def __missing__(self, text: str) -> date:
        if len(self) > 100_000:
            self.clear()
        day = self[text] = date.fromisoformat(text)
        return day


def _decoding(kind: Any, env: dict[str, Any], expr: str, depth: int = 0) -> str:
    """Python text turning ``expr`` (a JSON value, never evaluated twice) into a ``kind``: what
    :func:`_converter` does, written inline (no call per value through a chain of closures)."""
    var = f"v{depth}"
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
        origin = typing.get_origin(kind)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoding(args[0], env, f"x{depth}", depth + 1)
            body = f"tuple([{item} for x{depth} in {var}])"
        else:
            env[f"conv{depth}_{id(kind)}"] = _converter(kind)
            return f"conv{depth}_{id(kind)}({expr})"
    elif dataclasses.is_dataclass(kind) and isinstance(kind, type):
        env[f"d_{kind.__name__}"] = _decoder(kind)
        body = f"d_{kind.__name__}({var})"
    elif kind is Decimal:
        env["Decimal"] = Decimal
        body = f"Decimal({var})"
    elif kind is datetime:
        env["datetime"] = datetime
        body = f"datetime.fromisoformat({var})"
    elif kind is date:
        env.setdefault("days", _Days())
        body = f"days[{var}]"
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        env[f"n_{kind.__name__}"] = kind
        env[f"m_{kind.__name__}"] = {member.value: member for member in kind}
        body = (f"(m{depth} if (m{depth} := m_{kind.__name__}.get({var})) is not None "
                f"else n_{kind.__name__}({var}))")
    else:
        return expr
    return f"(None if ({var} := {expr}) is None else {body})"


@cache
def _decoder(cls: Any) -> Converter:
    """A decoder written for ``cls`` once: one generated function that reads each field, converts
    only those that need it, inline, and calls the class positionally when every field is there (the
    state store decodes a whole ledger on each pass: 100,000 invoices are half a million values)."""
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init and f.name in hints]
    env: dict[str, Any] = {"cls": cls, "names": tuple(names)}
    fast: list[str] = []
    slow: list[str] = []
    for name in names:
        value = f"data[{name!r}]"
        converted = value if _plain(hints[name]) else _decoding(hints[name], env, value)
        fast.append(converted)
        slow.append(f"    if {name!r} in data: kw[{name!r}] = {converted}")
    source = (
        "def decode(data):\n"
        "    if tuple(data) == names:\n"
        f"        return cls({', '.join(fast)})\n"
        "    kw = {}\n" + "\n".join(slow) + "\n"
        "    return cls(**kw)\n"
    )
    exec(compile(source, f"<codec decoder of {cls.__name__}>", "exec"), env)  # generated above from type hints
    decode: Converter = env["decode"]
    return decode


def from_jsonable(cls: type[T], data: dict[str, Any]) -> T:
    """The record of ``cls`` a dict of :func:`to_jsonable` holds (keys it no longer has are left out,
    fields it lacks take their default)."""
    decoded: T = _decoder(cls)(data)  # type: ignore[arg-type]  # classes are hashable
    return decoded


def loads(cls: type[T], text: str) -> T:
    return from_jsonable(cls, json.loads(text))


def loads_many(cls: type[T], texts: Iterable[str]) -> list[T]:
    """Many records of one class (a table of the state store), as one JSON array: decoded straight into
    the records by msgspec (in C: 100,000 invoices in about a quarter of the generated decoder's time)
    when every row has the shape the record's class says; a row of an earlier version or an odd one
    (a key it lacks without default, a null where the class says text) sends the whole array to the
    generated decoder, which reads what it can and refuses what it must (an unknown enum value)."""
    blob = "[" + ",".join(texts) + "]"
    fast = _fast_decoder(cls)  # type: ignore[arg-type]  # classes are hashable
    if fast is not None:
        try:
            decoded: list[T] = fast.decode(blob)
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass
        else:
            return decoded
    decode = _decoder(cls)  # type: ignore[arg-type]
    return [decode(data) for data in json.loads(blob)]


@cache
def _fast_decoder(cls: Any) -> msgspec.json.Decoder[Any] | None:
    """msgspec's decoder of a list of ``cls``; None without msgspec or for a class it cannot type."""
    if msgspec is None or not USE_MSGSPEC:
        return None
    try:
        return msgspec.json.Decoder(list[cls])  # type: ignore[valid-type]
    except (TypeError, ValueError):
        return None
