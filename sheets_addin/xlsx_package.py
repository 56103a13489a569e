"""A workbook file as the OPC zip package it is: parts read, a few replaced, the rest copied as is.

encours rewrites only its own worksheet parts (and the parts they need: styles, a table's range,
workbook entries for a tab it adds).  Every other part — macros (``vbaProject.bin``), drawings,
charts, tables, people's own tabs, custom XML — is copied unchanged, byte for byte.
"""

from __future__ import annotations

import hashlib
import html
import os
import posixpath
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import quoteattr

from encours.connectors.errors import SheetError
from encours.sheets_addin.xlsx_deflate import Deflated, Segments, Span, deflate
from encours.sheets_addin.xlsx_zip import Entry, ZipWriter, raw_bytes

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = _REL + "/worksheet"
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WORKSHEET_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

#: A piece of a streamed part: text, its UTF-8 bytes, or a stretch of a part read, kept as it was.
Piece = str | bytes | memoryview | Span

_SHEET_RE = re.compile(r"<(?:\w+:)?sheet\b[^>]*?/?>", re.S)
_ATTR_RE = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_RELATIONSHIP_RE = re.compile(r"<(?:\w+:)?Relationship\b[^>]*?/?>", re.S)


class WorkbookChangedError(SheetError):
    """Someone saved the workbook while encours was writing it: their save is kept."""

    exit_code = 1


def attributes(tag: str) -> dict[str, str]:
    """The attributes of one XML start tag (entities left as written)."""
    return dict(_ATTR_RE.findall(tag))


def unescape(text: str) -> str:
    """XML text as it reads (named and numeric character references resolved)."""
    return html.unescape(text) if "&" in text else text


@dataclass(frozen=True)
class Snapshot:
    """What the workbook file was when it was read: a save since then changes one of these."""

    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> Snapshot:
        stat = path.stat()
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return cls(stat.st_mtime_ns, stat.st_size, digest.hexdigest())


class Package:
    """The parts of one workbook; ``set`` replaces or adds a part, ``save`` writes the whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        handle: BinaryIO | None = None
        try:
            # one open file for the zip's directory and the parts' stored bytes: the very same file for both
            handle = path.open("rb")
            self._zip = zipfile.ZipFile(handle)
            self._infos = {info.filename: info for info in self._zip.infolist()}
        except (zipfile.BadZipFile, OSError) as exc:
            if handle is not None:
                handle.close()
            raise SheetError(f"{path}: the workbook cannot be opened ({exc})") from None
        self._raw = handle
        self._new: dict[str, bytes | Callable[[], Iterable[Piece]]] = {}
        self._written: dict[str, int] = {}  # part → CRC-32, for parts streamed by save()
        self._sizes: dict[str, int] = {}  # part → size, for parts streamed by save()
        self._segments: dict[str, tuple[int, Segments]] = {}  # part → deflated size and segments, streamed by save()
        self._order = list(self._infos)

    def close(self) -> None:
        self._zip.close()
        self._raw.close()

    def _raw_bytes(self, info: zipfile.ZipInfo) -> bytes:
        return raw_bytes(self._raw, info)

    def deflated(self, name: str, segments: Segments | None) -> Deflated | None:
        """The part as read, kept deflated and inflated a segment at a time (None: ``segments`` are not
        those of its deflated bytes — then it is read whole)."""
        info = self._infos.get(name)
        if segments is None or info is None or name in self._new or info.compress_type != zipfile.ZIP_DEFLATED \
                or info.flag_bits & 1:
            return None
        data = self._raw_bytes(info)
        return Deflated(data, segments) if segments.fits(data, info.file_size) else None

    def segments(self, name: str) -> tuple[int, Segments] | None:
        """The deflated size and the segments of a part streamed by :meth:`save` (see ``xlsx_deflate``)."""
        return self._segments.get(name)

    def packed_size(self, name: str) -> int:
        """The deflated size of a part as read (0: not in the file read)."""
        info = self._infos.get(name)
        return info.compress_size if info is not None else 0

    def __contains__(self, name: str) -> bool:
        return name in self._new or name in self._infos

    def read(self, name: str) -> bytes:
        if name in self._new:
            data = self._new[name]
            return data if isinstance(data, bytes) else b"".join(
                piece.encode("utf-8") if isinstance(piece, str) else piece.data() if isinstance(piece, Span)
                else piece for piece in data())
        try:
            return self._zip.read(name)
        except KeyError:
            raise SheetError(f"{self.path}: the workbook has no part {name} (damaged file?)") from None

    def text(self, name: str) -> str:
        return self.read(name).decode("utf-8")

    def set(self, name: str, data: bytes | str | Callable[[], Iterable[Piece]]) -> None:
        """Replace or add a part: its bytes, its text, or a function giving it in pieces (text or UTF-8; streamed)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        if name not in self._infos and name not in self._new:
            self._order.append(name)
        self._new[name] = data

    def crc(self, name: str) -> int:
        """The CRC-32 of a part (the zip's own, for a part not rewritten: nothing to read)."""
        if name in self._written:
            return self._written[name]
        data = self._new.get(name)
        if isinstance(data, bytes):
            return zlib.crc32(data)
        if data is not None:
            raise ValueError(f"{name}: a streamed part's CRC is known once saved")
        info = self._infos.get(name)
        return info.CRC if info is not None else 0

    def size(self, name: str) -> int:
        """The uncompressed size of a part (as saved, for a part streamed by save())."""
        if name in self._sizes:
            return self._sizes[name]
        data = self._new.get(name)
        if isinstance(data, bytes):
            return len(data)
        if data is not None:
            raise ValueError(f"{name}: a streamed part's size is known once saved")
        info = self._infos.get(name)
        return info.file_size if info is not None else 0

    @property
    def changed(self) -> bool:
        return bool(self._new)

    # relationships ---------------------------------------------------------------------------
    @staticmethod
    def rels_name(part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def relationships(self, part: str) -> list[dict[str, str]]:
        """The relationships of a part, targets resolved to part names."""
        name = self.rels_name(part)
        if name not in self:
            return []
        out = []
        folder = posixpath.dirname(part)
        for tag in _RELATIONSHIP_RE.findall(self.text(name)):
            attrs = attributes(tag)
            target = unescape(attrs.get("Target", ""))
            if attrs.get("TargetMode") != "External":
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
            out.append({**attrs, "Target": target})
        return out

    def add_relationship(self, part: str, rel_type: str, target: str) -> str:
        """Add a relationship from ``part`` to the part ``target``; returns its id."""
        name = self.rels_name(part)
        text = self.text(name) if name in self else (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
        taken = {attributes(t).get("Id") for t in _RELATIONSHIP_RE.findall(text)}
        number = 1
        while f"rId{number}" in taken:
            number += 1
        rid = f"rId{number}"
        relative = posixpath.relpath(target, posixpath.dirname(part) or ".")
        entry = f'<Relationship Id="{rid}" Type="{rel_type}" Target={quoteattr(relative)}/>'
        self.set(name, text.replace("</Relationships>", entry + "</Relationships>"))
        return rid

    def add_override(self, part: str, content_type: str) -> None:
        text = self.text("[Content_Types].xml")
        if f'PartName="/{part}"' in text:
            return
        entry = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        self.set("[Content_Types].xml", text.replace("</Types>", entry + "</Types>"))

    def set_content_type(self, part: str, content_type: str) -> None:
        """Declare a part's content type (replacing its override, if any)."""
        text = self.text("[Content_Types].xml")
        pattern = re.compile(r'<Override\b[^>]*PartName="/' + re.escape(part) + r'"[^>]*/>')
        entry = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        if pattern.search(text):
            text = pattern.sub(lambda _: entry, text, count=1)
        else:
            text = text.replace("</Types>", entry + "</Types>")
        self.set("[Content_Types].xml", text)

    def content_type(self, part: str) -> str | None:
        text = self.text("[Content_Types].xml")
        match = re.search(r'<Override\b[^>]*PartName="/' + re.escape(part) + r'"[^>]*>', text)
        if match:
            return attributes(match.group(0)).get("ContentType")
        ext = posixpath.splitext(part)[1].lstrip(".")
        match = re.search(r'<Default\b[^>]*Extension="' + re.escape(ext) + r'"[^>]*>', text, re.I)
        return attributes(match.group(0)).get("ContentType") if match else None

    def free_name(self, pattern: str) -> str:
        """The first part name ``pattern % n`` (n = 1, 2, …) not yet in the package."""
        number = 1
        while pattern % number in self:
            number += 1
        return pattern % number

    # the workbook part -----------------------------------------------------------------------
    def workbook_part(self) -> str:
        for rel in self.relationships(""):
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel["Target"]
        return "xl/workbook.xml"

    def sheets(self) -> dict[str, str]:
        """Tab name → worksheet part name, in the workbook's order."""
        book = self.workbook_part()
        targets = {rel["Id"]: rel["Target"] for rel in self.relationships(book)}
        out: dict[str, str] = {}
        for tag in _SHEET_RE.findall(self.text(book)):
            attrs = attributes(tag)
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
            if rid in targets:
                out[unescape(attrs.get("name", ""))] = targets[rid]
        return out

    def styles_part(self) -> str | None:
        book = self.workbook_part()
        for rel in self.relationships(book):
            if rel.get("Type", "").endswith("/styles"):
                return rel["Target"]
        return None

    def add_sheet(self, name: str, xml: str, position: int | None = None) -> str:
        """A new worksheet part named ``name`` (after the sheets, or before the ``position``-th)."""
        book = self.workbook_part()
        part = self.free_name(posixpath.join(posixpath.dirname(book), "worksheets/sheet%d.xml"))
        self.set(part, xml)
        self.add_override(part, WORKSHEET_CONTENT_TYPE)
        rid = self.add_relationship(book, WORKSHEET_TYPE, part)
        text = self.text(book)
        tags = _SHEET_RE.findall(text)
        ids = [int(attributes(t).get("sheetId", "0")) for t in tags]
        entry = (f'<sheet xmlns:r="{_REL}" name={quoteattr(name)} sheetId="{max(ids, default=0) + 1}" '
                 f'r:id="{rid}"/>')
        if position is not None and position < len(tags):
            anchor = tags[position]
            text = text.replace(anchor, entry + anchor, 1)
        else:
            text = re.sub(r"(</(?:\w+:)?sheets>)", lambda m: entry + m.group(1), text, count=1)
        self.set(book, text)
        return part

    # saving ----------------------------------------------------------------------------------
    def save(self, out: Path, finish: Callable[[Package], None] | None = None) -> None:
        """Write every part to ``out`` (unchanged parts as they were) and fsync it.

        ``finish`` runs once every other part is written (their CRCs known), before the workbook part.
        """
        last = self.workbook_part() if finish is not None else None
        with out.open("wb") as handle:
            zout = ZipWriter(handle)
            for name in [n for n in self._order if n != last]:
                self._write(zout, name)
            if finish is not None and last is not None:
                finish(self)
                self._write(zout, last)
            zout.close()
            handle.flush()
            os.fsync(handle.fileno())

    def _write(self, zout: ZipWriter, name: str) -> None:
        info = self._infos.get(name)
        data = self._new.get(name)
        if data is None:
            if info is not None:  # copied as the bytes it is stored as, not inflated and deflated again
                zout.add(Entry(name, info.compress_type, info.flag_bits, info.date_time, info.CRC, info.compress_size,
                               info.file_size, external_attr=info.external_attr, extra=info.extra,
                               comment=info.comment, system=info.create_system), [self._raw_bytes(info)])
            return
        if isinstance(data, bytes):
            zout.add_bytes(name, data, info.date_time if info else (1980, 1, 1, 0, 0, 0))
            return
        stream, segments = deflate(_encoded(data()))
        now = time.localtime()
        when = (now.tm_year, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min, now.tm_sec)
        zout.add(Entry(name, zipfile.ZIP_DEFLATED, 0, when, stream.crc, stream.packed, stream.size,
                       external_attr=0o600 << 16), stream.chunks)
        self._written[name] = stream.crc
        self._sizes[name] = stream.size
        self._segments[name] = (stream.packed, segments)


def _encoded(pieces: Iterable[Piece]) -> Iterable[bytes | memoryview | Span]:
    """The pieces of a streamed part with its texts encoded, a batch of them at a time."""
    batch: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            batch.append(piece)
            if len(batch) >= 512:
                yield "".join(batch).encode("utf-8")
                batch = []
            continue
        if batch:  # already encoded: written as it comes, after the text before it
            yield "".join(batch).encode("utf-8")
            batch = []
        yield piece
    if batch:
        yield "".join(batch).encode("utf-8")


def replace_if_unchanged(tmp: Path, target: Path, snapshot: Snapshot | None) -> None:
    """Swap ``tmp`` in for ``target`` — unless ``target`` was saved by someone since ``snapshot``.

    ``snapshot`` None: the target did not exist when read (it must still not exist).
    """
    if snapshot is None:
        if target.exists():
            raise WorkbookChangedError(
                f"{target}: a workbook appeared there while encours was creating it: it is kept; sync again")
    else:
        try:
            now = Snapshot.of(target)
        except FileNotFoundError:
            raise WorkbookChangedError(f"{target}: the workbook was moved or deleted during the sync") from None
        if now != snapshot:
            raise WorkbookChangedError(
                f"{target}: the workbook was saved by someone while encours was writing it: their save is kept "
                "and nothing was changed; sync again")
    os.replace(tmp, target)
    try:
        folder = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)
