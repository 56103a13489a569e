"""One pass at a time per dossier: an advisory lock file next to the state file.

``flock`` is released by the kernel when the process dies, however it dies, so a crash never
leaves a stale lock behind.  The holder writes its pid and dossier into the file, so the second
process can say who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from encours.connectors.errors import EncoursError


class LockedError(EncoursError):
    """Another pass holds the dossier's lock; nothing was done."""

    exit_code = 2


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class DossierLock:
    """``with DossierLock(state_path, dossier):`` — raises :class:`LockedError` when already held."""

    def __init__(self, state_path: str | Path, dossier: str) -> None:
        self.path = lock_path(Path(state_path))
        self.dossier = dossier
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            pid = holder.split()[0] if holder else "unknown"
            raise LockedError(
                f"dossier {self.dossier!r} is already being processed by another encours (pid {pid}, lock file "
                f"{self.path}); this run did nothing — try again when it has finished"
            ) from None
        self._file = handle
        holder = f"{os.getpid()} {datetime.now(UTC).isoformat(timespec='seconds')} {self.dossier}\n"
        try:  # who holds it, for the message above; the flock is the lock, a full disk does not stop it
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), holder.encode(), 0)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(handle.fileno(), 0)

    def release(self) -> None:
        if self._file is None:
            return
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(self._file.fileno(), 0)
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._file.close()
            self._file = None

    def __enter__(self) -> DossierLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
