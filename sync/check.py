"""``encours check``: does each part of the dossier answer, and what did it find?

Each check is a function ``(config, store, as_of) -> list[str]`` that returns the lines to print
and raises :class:`~connectors.errors.EncoursError` when the part does not work.  The source check
is registered here; the sheet and mail checks register theirs with :func:`register_check` at
import time of their module, and add that module's name to :data:`CHECK_MODULES`::

    from encours.sync.check import register_check
    register_check("sheet", check_sheet)

:func:`run_checks` runs them all, in order, and never stops at the first failure.  A
:class:`~connectors.errors.ConfigError` is not a failed check but a broken configuration: it
propagates (exit code 2).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date

from encours.connectors.errors import ConfigError, EncoursError
from encours.sync.config import Config
from encours.sync.sources import open_connector
from encours.sync.state import StateStore

Check = Callable[[Config, StateStore, date], list[str]]

#: (name, check) in the order they run.
CHECKS: list[tuple[str, Check]] = []

#: Modules imported by :func:`run_checks` so that their ``register_check`` calls have run.
CHECK_MODULES: list[str] = ["encours.sync.channels.mail_check"]


def register_check(name: str, check: Check) -> None:
    """Add a check (once per name; registering a name again replaces it in place)."""
    for index, (existing, _) in enumerate(CHECKS):
        if existing == name:
            CHECKS[index] = (name, check)
            return
    CHECKS.append((name, check))


class CheckFailedError(EncoursError):
    """Some parts of one check answered and some did not: every line is printed, the check fails."""

    def __init__(self, passed: list[str], failed: list[str]) -> None:
        super().__init__("; ".join(failed))
        self.passed = passed
        self.failed = failed


def check_source(config: Config, store: StateStore, as_of: date) -> list[str]:
    """Credentials, what was reached (company, business, database) and the open invoices seen;
    then, for platforms, every endpoint the sync and the re-check use, each OK or what is missing."""
    connector = open_connector(config, store.cache(), as_of=as_of)
    endpoints = getattr(connector, "check_endpoints", None)
    passed: list[str] = []
    failed: list[str] = []
    if callable(endpoints):
        for result in endpoints():
            (passed if result.ok else failed).append(f"{connector.source} {result.line()}")
    if failed:
        raise CheckFailedError(passed, failed)  # the summary below would read refused endpoints
    info = connector.check()
    line = f"{info.source}: reached {info.organisation} — {info.open_invoices} open invoices"
    lines = [line + (f" ({info.details})" if info.details else ""), *passed]
    mark = store.sync_mark(connector.source)
    if mark is not None:
        lines.append(f"{info.source}: last successful sync {mark.synced_at:%Y-%m-%d %H:%M} UTC")
    return lines


register_check("source", check_source)


def check_sheet(config: Config, store: StateStore, as_of: date) -> list[str]:
    """Which sheet, as whom, and whether encours may write it (a Google Sheet is tried for real)."""
    from encours.sync.pull import open_sheet, sheet_label

    backend = open_sheet(config)
    probe = getattr(backend, "check", None)
    if callable(probe):
        return list(probe())
    writable = getattr(backend, "check_writable", None)
    if callable(writable):
        writable()
    return [f"{sheet_label(config)}: can be written"]


register_check("sheet", check_sheet)


def run_checks(config: Config, *, as_of: date) -> tuple[list[str], bool]:
    """Run every registered check; return the lines to print and whether all passed."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    lines: list[str] = []
    all_ok = True
    with StateStore(config.state_path) as store:
        for name, check in list(CHECKS):
            try:
                found = check(config, store, as_of)
            except ConfigError:
                raise
            except CheckFailedError as exc:
                all_ok = False
                lines.extend(f"✓ {name}: {line}" for line in exc.passed)
                lines.extend(f"✗ {name}: {line}" for line in exc.failed)
                continue
            except EncoursError as exc:
                all_ok = False
                lines.append(f"✗ {name}: {exc}")
                continue
            lines.extend(f"✓ {name}: {line}" for line in found or ["OK"])
    return lines, all_ok
