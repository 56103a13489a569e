"""``encours preview``: the command lives with its logic in :mod:`sync.preview`."""

from __future__ import annotations

from sync.preview import register, run

__all__ = ["register", "run"]
