"""The "Synchroniser" button of a macro-enabled workbook (live Excel through xlwings).

VBA: ``RunPython "import encours.sync.excel_button as e; e.synchronise_from_button()"``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from encours.sheets_addin.excel import ExcelWorkbook
from encours.sync.config import load_config
from encours.sync.labels import pass_text
from encours.sync.pull import aging_bounds, sync


def synchronise_from_button(config_name: str = "encours.toml") -> None:
    """Read ``encours.toml`` beside the workbook, pull from the source and refresh this workbook."""
    import xlwings as xw  # only inside Excel: the button's own process

    book = xw.Book.caller()
    config = load_config(Path(book.fullname).parent / config_name)
    now = datetime.now(config.timezone)
    summary = sync(config, as_of=now.date(), now=now, sheet=ExcelWorkbook(book, bounds=aging_bounds(config)))
    message = pass_text("button_summary", open_invoices=summary.open_invoices, outstanding=summary.outstanding,
                        overdue=summary.overdue)
    try:
        book.app.alert(message, title=pass_text("button_title"))
    except Exception:  # older xlwings or macOS without alerts: the status bar will do
        book.app.status_bar = message
