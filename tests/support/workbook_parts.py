"""What a test reads back from a workbook file: its parts' bytes, one invoice's cell."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook


def workbook_parts(path: Path) -> dict[str, bytes]:
    """Every part of the package (the creation time openpyxl stamps on a new workbook left out)."""
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist() if name != "docProps/core.xml"}


def invoice_cell(path: Path, invoice_id: str, heading: str) -> Any:
    """The value under ``heading`` on the `Factures` row of ``invoice_id``, as openpyxl reads it."""
    ws = load_workbook(path)["Factures"]
    columns = {c.value: int(c.column or 0) for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, columns["ID"]).value == invoice_id)
    return ws.cell(row, columns[heading]).value
