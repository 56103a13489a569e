"""A big part deflated in segments, so that the next sync recompresses only the segments that changed.

encours deflates every part it streams (a worksheet of 100,000 rows is 80 MB of XML) with a *full
flush* every :data:`SEGMENT` bytes: the compressor then forgets what came before, so each segment is
a run of complete deflate blocks that refers to nothing outside itself.  Where each segment starts —
in the part, in its deflated bytes — and the CRC-32 of the part up to there (its :class:`Segments`)
are kept with the rows' prints.

The next sync writes a part that is mostly the part as it was, stretch after stretch
(:class:`Span`).  A segment wholly inside such a stretch is written as the very deflated bytes it
was, without being inflated or compressed again; only the segments around a changed row are.  The
CRC-32 of the new part is chained through the copied segments without their bytes, from the CRCs
kept (CRC-32 is affine: shifting a CRC over ``n`` bytes is the CRC of ``n`` zero bytes).  The
segments are trusted only while the part is byte for byte what encours wrote (CRC-32, size and
deflated size, checked by the caller) and every segment ends where a full flush ends (checked
here); anything else is read whole, as before.
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from encours.connectors.errors import SheetError

#: Uncompressed bytes between two full flushes.  16 KiB: a 1 % re-sync of 100,000 invoices (a changed
#: row every 80 KB) recompresses about a fifth of the part (32 KiB: two fifths, 0.05 s more at 100,000 rows); the
#: part is 14 % bigger than deflated in one go (32 KiB: 8 %), and a first write 0.05 s slower.
SEGMENT = 16 * 1024
#: How every full flush of raw deflate ends: an empty stored block.
_FLUSHED = b"\x00\x00\xff\xff"
_MASK = 0xFFFFFFFF


class KeptRowsError(SheetError):
    """What was kept of the workbook (rows' places, segments) does not fit it: the sync starts again without."""


@dataclass(frozen=True)
class Segments:
    """Where a part deflated in segments was flushed: ``plain[i]`` bytes of the part, ``packed[i]``
    deflated bytes, ``crcs[i]`` the CRC-32 of the part's first ``plain[i]`` bytes (index 0: 0, 0, 0;
    the last: the whole part, before the final block)."""

    plain: array[int]
    packed: array[int]
    crcs: array[int]

    def fits(self, deflated: bytes | memoryview, size: int) -> bool:
        """Whether these segments can be those of ``deflated``, a part of ``size`` bytes."""
        plain, packed, crcs = self.plain, self.packed, self.crcs
        count = len(plain)
        if count < 2 or len(packed) != count or len(crcs) != count or plain[0] or packed[0] or crcs[0]:
            return False
        if plain[-1] != size or packed[-1] > len(deflated):
            return False
        view = memoryview(deflated)
        for index in range(1, count):
            if plain[index] <= plain[index - 1] or packed[index] <= packed[index - 1] + 4 \
                    or view[packed[index] - 4: packed[index]] != _FLUSHED:
                return False
        return True


class Deflated:
    """A part as read, kept deflated: a segment is inflated only when some of its bytes are asked for."""

    def __init__(self, deflated: bytes, segments: Segments) -> None:
        self.deflated = deflated
        self.segments = segments
        self._inflated: dict[int, bytes] = {}

    def __len__(self) -> int:
        return self.segments.plain[-1]

    def segment(self, index: int) -> bytes:
        data = self._inflated.get(index)
        if data is None:
            packed, plain = self.segments.packed, self.segments.plain
            try:
                data = zlib.decompressobj(-15).decompress(self.deflated[packed[index]: packed[index + 1]])
            except zlib.error as exc:
                raise KeptRowsError(f"segment {index} of the part does not inflate ({exc}): read again") from None
            if len(data) != plain[index + 1] - plain[index]:
                raise KeptRowsError(f"segment {index} of the part is not as kept: read again")
            self._inflated[index] = data
        return data

    def read(self, start: int, end: int) -> bytes:
        """The part's bytes ``start:end`` (only the segments holding them inflated)."""
        plain = self.segments.plain
        if start >= end:
            return b""
        first = bisect_right(plain, start) - 1
        last = bisect_left(plain, end)
        pieces = [self.segment(index) for index in range(first, last)]
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        offset = plain[first]
        return data[start - offset: end - offset]


@dataclass(frozen=True)
class Span:
    """The bytes ``start:end`` of a part as it was read (``source``), to be written again as they were."""

    source: Deflated | bytes
    start: int
    end: int

    def data(self) -> bytes | memoryview:
        if isinstance(self.source, Deflated):
            return self.source.read(self.start, self.end)
        return memoryview(self.source)[self.start: self.end]


class _Zeros:
    """CRC-32 shifted over ``n`` bytes (the CRC of ``n`` zero bytes), from one buffer of zeros."""

    def __init__(self) -> None:
        self.buffer = memoryview(bytes(SEGMENT * 4))

    def shift(self, crc: int, count: int) -> int:
        while count > len(self.buffer):
            self.buffer = memoryview(bytes(2 * len(self.buffer)))
        return zlib.crc32(self.buffer[:count], crc)


class DeflateStream:
    """Raw deflate (level 1) in segments of :data:`SEGMENT` bytes; the segments of a :class:`Deflated`
    source that a :class:`Span` covers whole are copied as they are."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
        self.chunks: list[bytes | memoryview] = []
        self.crc = 0
        self.size = 0  # uncompressed bytes written
        self.packed = 0  # deflated bytes written
        self._pending: list[bytes | memoryview] = []
        self._pending_size = 0
        self._plain, self._packed, self._crcs = array("q", [0]), array("q", [0]), array("q", [0])
        self._zeros: _Zeros | None = None

    def write(self, data: bytes | memoryview) -> None:
        """Bytes of the part, deflated and flushed every :data:`SEGMENT` bytes (a big piece cut)."""
        while data:
            room = SEGMENT - self._pending_size
            if len(data) < room:
                self._pending.append(data)
                self._pending_size += len(data)
                return
            if not isinstance(data, memoryview):
                data = memoryview(data)
            self._pending.append(data[:room])
            self._pending_size += room
            self._flush()
            data = data[room:]

    def _flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        for out in (self._compressor.compress(data), self._compressor.flush(zlib.Z_FULL_FLUSH)):
            self.chunks.append(out)
            self.packed += len(out)
        self._mark()

    def _mark(self) -> None:
        self._plain.append(self.size)
        self._packed.append(self.packed)
        self._crcs.append(self.crc)

    def copy(self, span: Span) -> None:
        """Write ``span``: the source's segments it covers whole as they are, its edges compressed."""
        source, start, end = span.source, span.start, span.end
        if not isinstance(source, Deflated):
            self.write(span.data())
            return
        plain = source.segments.plain
        first, last = bisect_left(plain, start), bisect_right(plain, end) - 1
        if first >= last:  # no whole segment inside
            self.write(source.read(start, end))
            return
        self.write(source.read(start, plain[first]))
        self._flush()
        packed, crcs = source.segments.packed, source.segments.crcs
        self.chunks.append(memoryview(source.deflated)[packed[first]: packed[last]])
        for index in range(first + 1, last + 1):
            # the CRC of this part so far, from the source's CRC over the same segment (affine in the CRC before)
            crc, before = self.crc, crcs[index - 1]
            if crc != before:
                if self._zeros is None:
                    self._zeros = _Zeros()
                crc = crcs[index] ^ (~self._zeros.shift(~(crc ^ before) & _MASK, plain[index] - plain[index - 1])
                                     & _MASK)
            else:
                crc = crcs[index]
            self.crc = crc
            self.size += plain[index] - plain[index - 1]
            self.packed += packed[index] - packed[index - 1]
            self._mark()
        self.write(source.read(plain[last], end))

    def finish(self) -> Segments:
        """End the stream (its chunks, ``crc``, ``size``, ``packed`` then final); its segments."""
        self._flush()
        tail = self._compressor.flush(zlib.Z_FINISH)
        self.chunks.append(tail)
        segments = Segments(self._plain, self._packed, self._crcs)
        self.packed += len(tail)
        return segments


def deflate(pieces: Iterable[bytes | memoryview | Span]) -> tuple[DeflateStream, Segments]:
    stream = DeflateStream()
    for piece in pieces:
        if isinstance(piece, Span):
            stream.copy(piece)
        else:
            stream.write(piece)
    return stream, stream.finish()
