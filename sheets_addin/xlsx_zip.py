"""Writing a workbook's zip: parts kept as they were copied deflated, new parts deflated here.

:mod:`zipfile` can only write what it compresses itself.  A sync rewrites a few parts of a package
whose other parts (macros, charts, people's tabs) it must leave as they are, and writes a big part
mostly from deflated segments it already had (:mod:`~encours.sheets_addin.xlsx_deflate`): both are
written here as the deflated bytes they are, with the CRC-32 and sizes known for them.  Zip64
records are written when a size, an offset or the number of parts needs them.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from encours.connectors.errors import SheetError

#: A size or offset from this one up is written in a zip64 extra field (and a count of parts in a zip64 end).
ZIP64_LIMIT = (1 << 31) - 1  # as zipfile: some readers take these fields as signed
ZIP64_COUNT = 0xFFFF
_MAX32, _MAX16 = 0xFFFFFFFF, 0xFFFF  # what a field given in zip64 records holds
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")
_UTF8_NAME = 0x800
_DESCRIPTOR = 0x08


@dataclass
class Entry:
    """One part as written: where its local header is, and what the central directory says of it."""

    name: str
    method: int
    flags: int
    date_time: tuple[int, int, int, int, int, int]
    crc: int
    packed: int
    size: int
    offset: int = 0
    external_attr: int = 0
    extra: bytes = b""
    comment: bytes = b""
    system: int = 3  # what ``external_attr`` means: 3 Unix, 0 MS-DOS (a copied part keeps its own)


def raw_bytes(handle: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """The stored (deflated) bytes of ``info`` in the zip open as ``handle``."""
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL.size)
    if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
        raise SheetError(f"{info.filename}: bad local header in the workbook (damaged file?)")
    fields = _LOCAL.unpack(header)
    handle.seek(info.header_offset + _LOCAL.size + fields[10] + fields[11])
    data = handle.read(info.compress_size)
    if len(data) != info.compress_size:
        raise SheetError(f"{info.filename}: the workbook ends inside this part (damaged file?)")
    return data


def _dos(date_time: Sequence[int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    if year < 1980:
        year, month, day, hour, minute, second = 1980, 1, 1, 0, 0, 0
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _without_zip64(extra: bytes) -> bytes:
    """An extra field without its zip64 records (written again here when needed)."""
    out, at = [], 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, at)
        if kind != 1:
            out.append(extra[at: at + 4 + length])
        at += 4 + length
    return b"".join(out)


class ZipWriter:
    """Parts written one after the other into ``handle``; :meth:`close` writes the central directory."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.entries: list[Entry] = []
        self.position = 0

    def _name(self, entry: Entry) -> bytes:
        try:
            return entry.name.encode("ascii") if not entry.flags & _UTF8_NAME else entry.name.encode("utf-8")
        except UnicodeEncodeError:
            entry.flags |= _UTF8_NAME
            return entry.name.encode("utf-8")

    def add(self, entry: Entry, chunks: Sequence[bytes | memoryview]) -> None:
        """Write a part whose stored bytes are ``chunks`` (deflated, or as they are), CRC and sizes known."""
        entry.flags &= ~_DESCRIPTOR  # sizes are in the header: no data descriptor follows
        entry.offset = self.position
        name = self._name(entry)
        sizes = entry.size >= ZIP64_LIMIT or entry.packed >= ZIP64_LIMIT
        extra = _without_zip64(entry.extra)
        local_extra = (struct.pack("<HHQQ", 1, 16, entry.size, entry.packed) if sizes else b"") + extra
        time, day = _dos(entry.date_time)
        header = _LOCAL.pack(b"PK\x03\x04", 45 if sizes else 20, 0, entry.flags, entry.method, time, day, entry.crc,
                             _MAX32 if sizes else entry.packed, _MAX32 if sizes else entry.size,
                             len(name), len(local_extra))
        self.handle.write(header)
        self.handle.write(name)
        self.handle.write(local_extra)
        written = 0
        for chunk in chunks:
            self.handle.write(chunk)
            written += len(chunk)
        if written != entry.packed:
            raise ValueError(f"{entry.name}: {written} bytes written, {entry.packed} announced")
        self.position += len(header) + len(name) + len(local_extra) + written
        entry.extra = extra
        self.entries.append(entry)

    def add_bytes(self, name: str, data: bytes, date_time: tuple[int, int, int, int, int, int]) -> Entry:
        """Deflate and write a small part whole."""
        compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        entry = Entry(name, zipfile.ZIP_DEFLATED, 0, date_time, zlib.crc32(data), len(packed), len(data),
                      external_attr=0o600 << 16)
        self.add(entry, [packed])
        return entry

    def close(self) -> None:
        """The central directory and its end records (zip64 ones when needed)."""
        start = self.position
        directory = []
        for entry in self.entries:
            name = self._name(entry)
            values = [entry.size, entry.packed, entry.offset]
            big = [v if v >= ZIP64_LIMIT else None for v in values]
            fields = [v for v in big if v is not None]
            extra = (struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b"") + entry.extra
            time, day = _dos(entry.date_time)
            version = 45 if fields else 20
            directory.append(_CENTRAL.pack(
                b"PK\x01\x02", version, entry.system, version, 0, entry.flags, entry.method, time, day, entry.crc,
                _MAX32 if big[1] is not None else entry.packed, _MAX32 if big[0] is not None else entry.size,
                len(name), len(extra), len(entry.comment), 0, 0, entry.external_attr,
                _MAX32 if big[2] is not None else entry.offset))
            directory.append(name + extra + entry.comment)
        data = b"".join(directory)
        self.handle.write(data)
        count, size = len(self.entries), len(data)
        wide = count >= ZIP64_COUNT or size >= ZIP64_LIMIT or start >= ZIP64_LIMIT
        if wide:
            end64 = start + size
            self.handle.write(_END64.pack(b"PK\x06\x06", _END64.size - 12, 45, 45, 0, 0, count, count, size, start))
            self.handle.write(_LOCATOR.pack(b"PK\x06\x07", 0, end64, 1))
        self.handle.write(_END.pack(b"PK\x05\x06", 0, 0, _MAX16 if wide else count, _MAX16 if wide else count,
                                    _MAX32 if wide else size, _MAX32 if wide else start, 0))
