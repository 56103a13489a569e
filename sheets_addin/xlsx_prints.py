"""What encours last wrote in each row of a keyed tab, kept so that a re-sync renders only changed rows.

A row's *print* is a digest of everything its text is rendered from: its row number, its ID and
its synced and run values, with their types.  It is blake2b (12 bytes) of the row's values as text
(each column converted by :func:`column_texts`, a row's values joined by ``SEPARATOR`` and ended by
``ROW_END``, neither of which a value's text can hold: see :mod:`~encours.sheets_addin.view_texts`),
then its run values the same way, then its number in 8 bytes; the tags of the columns' kinds
personalise the digest, so that the text "1.00" and the amount 1.00 never share a print.

After a sync, the print of every row whose text is exactly what encours rendered is kept in the
user's cache folder (beside people's marks, JSON and raw digests, never code), together with the
tab's layout (columns, styles, formulas) and the CRC-32 and size of the worksheet part as written.
The next sync trusts a print only while that part is byte for byte as encours left it (a person's
save changes its CRC and size) and the layout is the same: a row whose print is unchanged then
already holds the text encours would write, and is neither rendered nor compared. Anything else — no
cache, another layout, a part someone saved — takes the exact path (every row rendered and compared
with the file).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import struct
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice
from operator import itemgetter, lt
from pathlib import Path
from typing import Any

from encours.sheets_addin.marks import parse_text
from encours.sheets_addin.merge import FoundRow, TablePlan
from encours.sheets_addin.xlsx_deflate import Segments
from encours.sheets_addin.xlsx_people import cache_file, write_cache

#: Bumped whenever what is kept or how a print is taken changes: an older file is then ignored.
# 5: prints of (text, number) personalised by the tags; found rows in binary; deflate segments
_VERSION = b"encours-rows-5\n"
PRINT_SIZE = 12  # bytes of each row's digest
SEPARATOR = "\x1f"  # between a row's values
ROW_END = "\x1e"  # after a row's last value
_NUMBER = struct.Struct("<q")  # a row number after its row's text
_PRINTS = re.compile(b".{%d}" % PRINT_SIZE, re.S)  # kept prints, one after the other


@dataclass
class TabPrints:
    """The rows of one tab as the last sync wrote them: part, its CRC-32 and size, layout, ID → print.

    ``found``: the row of every ID in the part (None: not kept, e.g. a row had lost its ID), so that a
    part still as it was is not searched for its IDs again; ``rows``: the number of every row in the part
    and the byte offset where it starts (one more: where the rows end), so that it is not cut into rows;
    ``packed`` and ``segments``: the part's deflated size and where it was flushed (``xlsx_deflate``), so that
    the segments no row of which changed are copied deflated."""

    part: str
    crc: int
    size: int
    layout: str
    prints: dict[str, bytes]
    found: dict[str, int] | None = None
    rows: tuple[array[int], array[int]] | None = None
    packed: int | None = None
    segments: Segments | None = None


def layout_key(columns: Sequence[Any]) -> str:
    """A digest of how a tab's rows are rendered (column positions, kinds, styles, formulas)."""
    return hashlib.sha256(repr(list(columns)).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def column_texts(values: Sequence[Any], *, checked: bool = True) -> tuple[str, Sequence[str]]:
    """One column of a print: a tag of its values' types and each value as unambiguous text.

    No text holds ``SEPARATOR`` or ``ROW_END``: a row's values joined by the one and ended by the other
    cut back into the same values.  ``checked=False``: text kept as it is without looking for them (the
    caller counts them in the rows' text, and converts again with ``checked`` when a text holds one)."""
    kinds = set(map(type, values))
    if kinds == {str}:
        if not checked:
            return "s", values
        joined = SEPARATOR.join(values)
        if joined.count(SEPARATOR) == len(values) - 1 and ROW_END not in joined:
            return "s", values
    elif kinds == {Decimal}:
        return "Decimal", list(map(str, values))
    elif kinds == {date}:
        days = {day: str(day.toordinal()) for day in set(values)}  # a few hundred days among 100,000 rows
        return "date", list(map(days.__getitem__, values))
    elif kinds == {type(None)}:
        return "None", [""] * len(values)
    texts = list(map(repr, values))  # a value without a stable repr only misses
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) == len(values) - 1 and ROW_END not in joined:
        return "r", texts
    return "rr", list(map(repr, texts))  # a repr holding a mark, escaped by the repr of its text


def row_prints(tags: str, numbers: Sequence[int], texts: Sequence[bytes]) -> list[bytes]:
    """The print of each row: its number and its text (``tags``: the kinds of what the texts are made of).

    The tags personalise the digest (blake2b's ``person``, a digest of them); the number follows the
    text in 8 bytes.  Each row's digest starts from a copy of one set up for the tags (a copy costs half
    a new digest with its parameters)."""
    if len(numbers) != len(texts):
        raise ValueError(f"{len(numbers)} row numbers for {len(texts)} rows")
    person = hashlib.blake2b(tags.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    copy = hashlib.blake2b(digest_size=PRINT_SIZE, person=person).copy
    out: list[bytes] = []
    append = out.append
    for text, end in zip(texts, map(_NUMBER.pack, numbers), strict=True):
        digest = copy()
        digest.update(text)
        digest.update(end)
        append(digest.digest())
    return out


def plan_known(
    rows: Mapping[str, int], known: Mapping[str, object], append: Sequence[str], last_used: int
) -> TablePlan:
    """:func:`plan_table` for a part whose every ID's row is known (``rows``, by row): none lost, none twice."""
    plan = TablePlan(last_row=max(last_used, 1))
    if known.keys() >= rows.keys():  # as usual, every ID of the part still known: matched as they are
        plan.matched = dict(rows)
    else:
        for key, number in rows.items():
            if key in known:
                plan.matched[key] = number
            else:
                plan.unknown.append((key, number))
    for key in append:
        if key not in rows:
            plan.last_row += 1
            plan.appended.append((key, plan.last_row))
    return plan


def ids_after(found: Sequence[FoundRow], merge: TablePlan) -> dict[str, int] | None:
    """The row of every ID once ``merge`` is written (None: a row without ID, the next sync looks again)."""
    if merge.restored or any(not line.id for line in found):
        return None
    for key, _number in merge.appended:
        if parse_text(key) != key:  # read back as another text: looked for next time
            return None
    numbers = [*merge.matched.values(), *map(itemgetter(1), merge.appended)]
    if not merge.unknown and all(map(lt, numbers, islice(numbers, 1, None))):  # as usual: in order already
        return {**merge.matched, **dict(merge.appended)}
    rows = [*merge.unknown, *merge.matched.items(), *merge.appended]
    rows.sort(key=itemgetter(1))
    return dict(rows)


def _file(path: Path) -> Path | None:
    marks = cache_file(path)
    return None if marks is None else marks.with_suffix(".rows")


def load(path: Path) -> dict[str, TabPrints]:
    """The prints kept for this workbook, by tab name (empty: none kept, or a damaged cache file)."""
    where = _file(path)
    if where is None:
        return {}
    try:
        data = where.read_bytes()
    except OSError:
        return {}
    if not data.startswith(_VERSION):
        return {}
    try:
        end = data.index(b"\n", len(_VERSION))
        head = json.loads(data[len(_VERSION) : end])
        blob = memoryview(data)[end + 1 :]
        if head["digest"] != hashlib.blake2b(blob, digest_size=16).hexdigest() or head["order"] != sys.byteorder:
            return {}  # damaged, or written on another kind of machine
        tabs: dict[str, TabPrints] = {}
        at = 0
        for entry in head["tabs"]:
            ids = entry["ids"]
            if not set(map(type, ids)) <= {str}:
                return {}
            stop = at + len(ids) * PRINT_SIZE
            prints = dict(zip(ids, _PRINTS.findall(blob[at:stop]), strict=True))
            at = stop
            found = None
            if entry.get("found") is not None:  # the rows of the IDs kept (the same IDs unless listed)
                found_ids = ids if entry["found"] == "ids" else entry["found"]
                if not set(map(type, found_ids)) <= {str}:
                    return {}
                numbers = array("q")
                numbers.frombytes(blob[at : at + len(found_ids) * 8])
                at += len(found_ids) * 8
                found = dict(zip(found_ids, numbers.tolist(), strict=True))
            rows = None
            if entry.get("rows") is not None:
                count = int(entry["rows"])
                numbers, offsets = array("q"), array("q")
                numbers.frombytes(blob[at : at + count * 8])
                offsets.frombytes(blob[at + count * 8 : at + (2 * count + 1) * 8])
                at += (2 * count + 1) * 8
                rows = (numbers, offsets)
            segments = None
            if entry.get("segments") is not None:
                count = int(entry["segments"])
                plain, packed, crcs = array("q"), array("q"), array("q")
                for index, column in enumerate((plain, packed, crcs)):
                    column.frombytes(blob[at + index * count * 8: at + (index + 1) * count * 8])
                at += 3 * count * 8
                segments = Segments(plain, packed, crcs)
            tabs[str(entry["name"])] = TabPrints(
                str(entry["part"]), int(entry["crc"]), int(entry["size"]), str(entry["layout"]), prints, found, rows,
                None if entry.get("packed") is None else int(entry["packed"]), segments
            )
        if at != len(blob):
            return {}
        return tabs
    except (ValueError, TypeError, KeyError):  # a damaged cache file is only a cache miss
        return {}


def store(path: Path, tabs: Mapping[str, TabPrints]) -> None:
    """Keep ``tabs`` for this workbook (never fails a sync: a cache is optional)."""
    where = _file(path)
    if where is None:
        return
    head: dict[str, Any] = {
        "tabs": [
            {
                "name": name,
                "part": t.part,
                "crc": t.crc,
                "size": t.size,
                "layout": t.layout,
                "ids": list(t.prints),
                "found": None if t.found is None else "ids" if list(t.found) == list(t.prints) else list(t.found),
                "rows": None if t.rows is None else len(t.rows[0]),
                "packed": t.packed,
                "segments": None if t.segments is None else len(t.segments.plain),
            }
            for name, t in tabs.items()
        ]
    }
    pieces = []
    for t in tabs.values():
        pieces.append(b"".join(t.prints.values()))
        if t.found is not None:
            pieces.append(array("q", t.found.values()).tobytes())
        if t.rows is not None:
            pieces.extend((t.rows[0].tobytes(), t.rows[1].tobytes()))
        if t.segments is not None:
            pieces.extend((t.segments.plain.tobytes(), t.segments.packed.tobytes(), t.segments.crcs.tobytes()))
    blob = b"".join(pieces)
    head["digest"] = hashlib.blake2b(blob, digest_size=16).hexdigest()
    head["order"] = sys.byteorder
    write_cache(where, _VERSION + json.dumps(head, separators=(",", ":")).encode() + b"\n" + blob)


def forget(path: Path) -> None:
    """Drop what is kept for this workbook (its rows will be compared with the file again)."""
    where = _file(path)
    if where is not None:
        with contextlib.suppress(OSError):
            where.unlink()
