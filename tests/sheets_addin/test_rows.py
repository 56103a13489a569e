"""The typed rows of the run-written tabs name exactly the tab's columns: a column added to the
layout without its key in the row type (or the reverse) would leave a column empty on every sync."""

from __future__ import annotations

from typing import get_type_hints

from encours.sheets_addin.layout import JOURNAL
from encours.sheets_addin.rows import JournalRow


def test_a_relances_row_has_one_key_per_column_of_the_tab() -> None:
    assert list(get_type_hints(JournalRow)) == [c.key for c in JOURNAL.columns]
