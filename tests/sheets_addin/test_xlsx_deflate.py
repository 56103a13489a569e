"""A big part deflated in segments: written again from the segments kept, it is still its bytes and CRC."""

from __future__ import annotations

import random
import zlib
from array import array

import pytest

from encours.sheets_addin import xlsx_deflate
from encours.sheets_addin.xlsx_deflate import Deflated, DeflateStream, KeptRowsError, Segments, Span, deflate


def _rows(rng: random.Random, count: int) -> bytes:
    return b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>F-%07d %s</t></is></c><c r="B%d"><v>%d.%02d</v></c>'
                    b"</row>" % (n, n, rng.randrange(10**7), bytes(rng.choice(b"abcdef<>&") for _ in range(20)), n,
                                 rng.randrange(10**6), rng.randrange(100)) for n in range(1, count + 1))


def _written(pieces: list[bytes | Span]) -> tuple[bytes, DeflateStream, Segments]:
    stream, segments = deflate(pieces)
    return b"".join(stream.chunks), stream, segments


def test_a_part_rewritten_from_its_segments_over_generations_is_its_bytes_and_crc() -> None:
    rng = random.Random(5)
    part = b"<worksheet><sheetData>" + _rows(rng, 8000) + b"</sheetData></worksheet>"
    deflated, stream, segments = _written([part])
    assert zlib.decompress(deflated, -15) == part and stream.crc == zlib.crc32(part)
    for _generation in range(6):
        source = Deflated(deflated, segments)
        assert segments.fits(deflated, len(part))
        # a few rows changed, added or removed here and there: the rest written as the stretches they were
        cuts = sorted(rng.sample(range(len(part)), 12))
        pieces: list[bytes | Span] = []
        expected = []
        at = 0
        for cut in cuts:
            pieces.append(Span(source, at, cut))
            expected.append(part[at:cut])
            new = bytes(rng.choice(b"xyz<row/>") for _ in range(rng.randrange(0, 300)))
            pieces.append(new)
            expected.append(new)
            at = min(len(part), cut + rng.randrange(0, 200))  # some bytes dropped
        pieces.append(Span(source, at, len(part)))
        expected.append(part[at:])
        part = b"".join(expected)
        deflated, stream, segments = _written(pieces)
        assert zlib.decompress(deflated, -15) == part
        assert (stream.crc, stream.size, stream.packed) == (zlib.crc32(part), len(part), len(deflated))
        assert list(segments.crcs) == [zlib.crc32(part[:end]) for end in segments.plain]
        copied = sum(len(c) for c in stream.chunks if isinstance(c, memoryview) and c.obj is source.deflated)
        assert copied > 0.6 * len(deflated)  # most of the part copied deflated, not compressed again
        assert len(source._inflated) < 0.4 * (len(source.segments.plain) - 1)  # and few segments inflated


def test_a_stretch_smaller_than_a_segment_is_compressed_again() -> None:
    part = _rows(random.Random(1), 3000)
    deflated, _, segments = _written([part])
    source = Deflated(deflated, segments)
    new, stream, _ = _written([Span(source, 10, 20), b"<x/>", Span(source, 5000, 5100)])
    assert zlib.decompress(new, -15) == part[10:20] + b"<x/>" + part[5000:5100]
    assert not any(isinstance(c, memoryview) and c.obj is deflated for c in stream.chunks)


def _tampered(segments: Segments, **changes: array[int]) -> Segments:
    return Segments(changes.get("plain", segments.plain), changes.get("packed", segments.packed),
                    changes.get("crcs", segments.crcs))


def test_segments_that_do_not_fit_the_part_are_not_used() -> None:
    part = _rows(random.Random(2), 3000)
    deflated, _, segments = _written([part])
    assert len(segments.plain) > 5 and segments.fits(deflated, len(part))
    shifted = array("q", segments.packed)
    shifted[3] += 1  # not where a flush ended
    assert not _tampered(segments, packed=shifted).fits(deflated, len(part))
    assert not segments.fits(deflated, len(part) + 1)  # another size
    assert not segments.fits(deflated[: segments.packed[-1] - 1], len(part))  # cut short
    backwards = array("q", segments.plain)
    backwards[2], backwards[3] = backwards[3], backwards[2]
    assert not _tampered(segments, plain=backwards).fits(deflated, len(part))


def test_a_segment_that_does_not_inflate_as_kept_makes_the_sync_start_again() -> None:
    part = _rows(random.Random(3), 3000)
    deflated, _, segments = _written([part])
    damaged = bytearray(deflated)
    damaged[segments.packed[2] + 3] ^= 0xFF
    source = Deflated(bytes(damaged), segments)
    with pytest.raises(KeptRowsError):
        source.read(segments.plain[2], segments.plain[3])
    longer = array("q", segments.plain)
    longer[-1] += 5
    with pytest.raises(KeptRowsError):
        Deflated(deflated, _tampered(segments, plain=longer)).read(segments.plain[-2], segments.plain[-2] + 10)


def test_a_part_is_flushed_every_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_deflate, "SEGMENT", 1000)
    part = _rows(random.Random(4), 500)
    deflated, _, segments = _written([part[:10], part[10:70000], part[70000:]])  # pieces of any size
    assert zlib.decompress(deflated, -15) == part
    sizes = [b - a for a, b in zip(segments.plain, segments.plain[1:], strict=False)]
    assert all(size == 1000 for size in sizes[:-1]) and 0 < sizes[-1] <= 1000
