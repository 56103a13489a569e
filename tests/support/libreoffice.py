"""Recalculate a workbook with LibreOffice headless, as Excel would on opening it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    binary = soffice()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI: .ci/run installs libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) is not installed")
    return binary


def recalculate(path: Path, out_dir: Path) -> Path:
    """Open ``path`` in LibreOffice, recompute every formula, save as xlsx in ``out_dir``.

    openpyxl never computes formulas; after this, ``openpyxl.load_workbook(result, data_only=True)``
    reads the values LibreOffice computed.  A private user profile forces recalculation on load.
    """
    binary = require_soffice()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        registry = Path(profile) / "user" / "registrymodifications.xcu"
        registry.parent.mkdir(parents=True, exist_ok=True)
        registry.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
            '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
            '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
            '<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
            "</oor:items>\n",
            encoding="utf-8",
        )
        result = subprocess.run(
            [
                binary,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "xlsx:Calc MS Excel 2007 XML",
                "--outdir",
                str(out_dir),
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )
    converted = out_dir / (path.stem + ".xlsx")
    if result.returncode != 0 or not converted.exists():
        raise RuntimeError(f"LibreOffice could not recalculate {path}: {result.stdout} {result.stderr}")
    return converted
