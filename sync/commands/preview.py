"""``encours preview``: the command lives with its logic in :mod:`encours.sync.preview`."""

from __future__ import annotations

from encours.sync.preview import register, run

__all__ = ["register", "run"]
