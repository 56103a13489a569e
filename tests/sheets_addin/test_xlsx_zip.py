"""The zip encours writes: parts it keeps copied as the bytes they were, readable by any zip reader."""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

import pytest

from encours.sheets_addin import xlsx_zip
from encours.sheets_addin.xlsx_package import Package


def _someone_s_package(path: Path) -> dict[str, bytes]:
    """A package as another tool may write it: stored and deflated parts, a data descriptor, a UTF-8 name."""
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "xl/vbaProject.bin": bytes(range(256)) * 40,
        "xl/worksheets/sheet1.xml": b"<worksheet>" + b"<row/>" * 5000 + b"</worksheet>",
        "xl/media/r\u00e9sum\u00e9 \u00e9t\u00e9.png": b"\x89PNG" + bytes(3000),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for number, (name, data) in enumerate(parts.items()):
            info = zipfile.ZipInfo(name, date_time=(2024, 3, 1 + number, 10, 20, 30))
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".bin") else zipfile.ZIP_DEFLATED
            info.comment = b"kept" if number == 1 else b""
            info.create_system = 0  # written on Windows: MS-DOS attributes
            info.external_attr = 0x20 if number == 2 else 0  # "archive"
            z.writestr(info, data)
    raw = buffer.getvalue()
    # the sheet part written as a stream to something that cannot seek: a data descriptor follows its bytes
    unseekable = io.BytesIO()

    class Forward(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: bytes) -> int:  # type: ignore[override]
            return unseekable.write(data)

    with zipfile.ZipFile(Forward(), "w", zipfile.ZIP_DEFLATED) as z, zipfile.ZipFile(io.BytesIO(raw)) as source:  # type: ignore[arg-type]
        for info in source.infolist():
            data = source.read(info)
            with z.open(copy.copy(info), "w") as handle:  # the same dates, attributes and comments
                handle.write(data)
    path.write_bytes(unseekable.getvalue())
    with zipfile.ZipFile(path) as check:
        assert check.getinfo("xl/worksheets/sheet1.xml").flag_bits & 0x08
    return parts


def test_parts_not_rewritten_are_copied_as_they_were(tmp_path: Path) -> None:
    source, out = tmp_path / "theirs.xlsm", tmp_path / "out.xlsm"
    parts = _someone_s_package(source)
    pkg = Package(source)
    pkg.set("xl/worksheets/sheet1.xml", b"<worksheet>new</worksheet>")
    pkg.save(out)
    pkg.close()
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(out) as after:
        assert after.testzip() is None
        assert after.namelist() == before.namelist()
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                assert after.read(name) == data
                old, new = before.getinfo(name), after.getinfo(name)
                assert (new.compress_type, new.date_time, new.CRC, new.compress_size, new.comment) == \
                    (old.compress_type, old.date_time, old.CRC, old.compress_size, old.comment)
                assert (new.create_system, new.external_attr) == (old.create_system, old.external_attr)
        assert after.read("xl/worksheets/sheet1.xml") == b"<worksheet>new</worksheet>"
        assert not after.getinfo("xl/worksheets/sheet1.xml").flag_bits & 0x08


def test_a_streamed_part_and_zip64_records_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_zip, "ZIP64_LIMIT", 200)  # every size and offset from 200 bytes up: zip64 records
    monkeypatch.setattr(xlsx_zip, "ZIP64_COUNT", 3)
    source, out = tmp_path / "theirs.xlsx", tmp_path / "out.xlsx"
    parts = _someone_s_package(source)
    pkg = Package(source)
    rows = ["<worksheet><sheetData>", *(f'<row r="{n}"><c><v>{n}</v></c></row>' for n in range(1, 20000)),
            "</sheetData></worksheet>"]
    pkg.set("xl/worksheets/sheet1.xml", lambda: iter(rows))
    pkg.save(out)
    saved = pkg.segments("xl/worksheets/sheet1.xml")
    pkg.close()
    with zipfile.ZipFile(out) as after:
        assert after.testzip() is None
        assert after.read("xl/worksheets/sheet1.xml") == "".join(rows).encode()
        assert after.read("xl/vbaProject.bin") == parts["xl/vbaProject.bin"]
        assert len(after.infolist()) == len(parts)
        info = after.getinfo("xl/worksheets/sheet1.xml")
    assert saved is not None and saved[0] == info.compress_size
    assert saved[1].plain[-1] == info.file_size
