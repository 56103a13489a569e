"""What a pass checks before it sends or replaces anything, and how the sheet swap is undone.

- the state file belongs to this dossier (:func:`owner_of`, recorded by :class:`StateStore`);
- the sheet people marked is there: a dossier that has synced before never treats a missing or
  unreadable sheet as "no disputes, no promises" (:func:`read_marks_guarded`) unless told
  ``--new-sheet``;
- the workbook can be written before anything is sent (:func:`require_writable`);
- a full export that suddenly holds no open invoice while many were open is refused unless
  ``--allow-empty`` (a header-only or truncated export would close them all);
- the workbook replaced inside the state transaction is put back when the commit fails
  (:func:`restorable_sheet`): sheet and cursor stay together, full disk included.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from encours.connectors.errors import EncoursError, SheetError
from encours.connectors.model import Delta
from encours.sheets_addin.marks import SheetMarks
from encours.sheets_addin.view import SheetBackend
from encours.sync.config import Config
from encours.sync.state import StateStore

#: How a backend reports a people's column whose heading it cannot find (``MarkProblem.message``).
UNREAD_COLUMN = "heading not found"
#: A full export with no open invoice is refused when the state holds at least this many open ones.
EMPTY_EXPORT_GUARD = 3


class SheetMissingError(SheetError):
    """The sheet of a dossier that has synced before is missing or unreadable; nothing was sent."""

    exit_code = 2


class SuddenlyEmptyError(EncoursError):
    """A full export holds no open invoice while the state has many; nothing was changed."""

    exit_code = 2


def owner_of(config: Config) -> tuple[str, str]:
    """The identity a state file records: the dossier (company) and the kind of source."""
    return config.dossier, config.source.text("type", "")


def _workbook_path(backend: SheetBackend) -> Path | None:
    path = getattr(backend, "path", None)
    return path if isinstance(path, Path) else None


def read_marks_guarded(backend: SheetBackend, store: StateStore, where: str, *, new_sheet: bool) -> SheetMarks:
    """People's marks; a missing or unreadable sheet stops a dossier that has synced before."""
    path = _workbook_path(backend)
    synced = store.has_synced()
    if path is not None and not path.exists() and synced:
        if new_sheet:
            return SheetMarks()
        raise SheetMissingError(
            f"the sheet is missing: looked for {path} ({where}). This dossier has synced before, so its disputes, "
            "promises and pauses were in that sheet — nothing was sent. Put the workbook back (or set [sheet] path "
            "to where it is now); to start a new, empty sheet instead, run again with --new-sheet"
        )
    try:
        marks = backend.read_marks()
    except SheetError as exc:
        if not synced:
            raise
        raise SheetMissingError(
            f"the sheet cannot be read ({where}): {exc} — nothing was sent, people's marks are in it. Repair it, or "
            "move it aside and run again with --new-sheet"
        ) from None
    unread = [p for p in marks.problems if p.message.startswith(UNREAD_COLUMN)]
    if unread and synced:
        names = ", ".join(f"« {p.column} » ({p.tab}, row {p.row})" for p in unread)
        raise SheetMissingError(
            f"people's column(s) {names} not found under their heading ({where}): what was typed in them would be "
            "read as empty — nothing was sent. Put the heading back as it was"
        )
    return marks


def require_writable(backend: SheetBackend) -> None:
    """The sheet can be replaced: checked before anything is pulled or sent."""
    check = getattr(backend, "check_writable", None)
    if check is not None:
        check()


def refuse_sudden_empty(delta: Delta, store: StateStore, source: str, *, allow_empty: bool) -> None:
    if allow_empty or not delta.full or any(i.is_open for i in delta.invoices):
        return
    open_now = store.open_invoice_count()
    if open_now >= EMPTY_EXPORT_GUARD:
        raise SuddenlyEmptyError(
            f"the export from {source} holds no open invoice ({len(delta.invoices)} invoice(s) in all) while "
            f"{open_now} were open at the last sync: a header-only or cut export would close them all. Nothing was "
            "changed — check the export; if every invoice really is paid, run again with --allow-empty"
        )


@contextlib.contextmanager
def restorable_sheet(backend: SheetBackend) -> Iterator[None]:
    """Keep the workbook as it was (a hard link, no copy) until the block — the state commit — succeeds.

    Use as ``with restorable_sheet(backend), store.transaction(): … backend.write(view) …``: when
    the commit fails (disk full …), the previous workbook is put back, so the sheet never shows
    what the state did not record.
    """
    path = _workbook_path(backend)
    if path is None or not path.exists():
        yield
        return
    keep = path.with_name(f".~{path.name}.{os.getpid()}.before")
    keep.unlink(missing_ok=True)
    try:
        os.link(path, keep)
    except OSError:  # a file system without hard links: nothing to restore from, write as before
        yield
        return
    try:
        yield
    except BaseException:
        os.replace(keep, path)
        raise
    else:
        keep.unlink(missing_ok=True)
