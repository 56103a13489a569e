"""Shared fixtures: a fixed as-of date, the demo ledger, demo configuration files."""

from __future__ import annotations

import gc
import os
import socket
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from encours.connectors.demo import demo_ledger
from encours.connectors.model import Ledger

AS_OF = date(2026, 11, 23)
_LOOPBACK = ("127.", "::1", "localhost")


def pytest_configure(config: pytest.Config) -> None:
    """Compiled templates and checked-scenario records go to a folder of this test run, never to the
    user's cache (subprocesses inherit it)."""
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="encours-test-cache-")


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the internet: a connection to anything but loopback fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
            raise OSError(f"test tried to reach {address!r}: tests must stay on loopback")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def collector_given_back() -> Iterator[None]:
    """A test that calls a paused step of a pass itself (not through a pass or a sync, which give back
    what they hid from the collector) leaves the next test the collector as a new process has it."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def as_of() -> date:
    return AS_OF


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return demo_ledger(AS_OF)


def write_config(folder: Path, *, source: str = 'type = "demo"', sheet: str = 'type = "xlsx"\npath = "encours.xlsx"',
                 extra: str = "") -> Path:
    """A configuration file in ``folder`` (relative paths resolve there)."""
    path = folder / "encours.toml"
    path.write_text(
        "[company]\nname = \"Atelier Dupont SARL\"\ncountry = \"FR\"\ntimezone = \"Europe/Paris\"\n"
        "language = \"fr\"\nstate = \"state.sqlite\"\n\n"
        f"[source]\n{source}\n\n[sheet]\n{sheet}\n\n[sending]\nmode = \"outbox\"\noutbox = \"outbox\"\n{extra}",
        encoding="utf-8",
    )
    return path


@pytest.fixture()
def demo_config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


#: Whole modules that live through processes, servers, weeks or LibreOffice: the slow lane.
SLOW_MODULES = {
    "test_faults.py", "test_daemon.py", "test_months.py", "test_uncertain_sends.py", "test_full_disk.py",
    "test_computed_backends.py", "test_native_formulas_libreoffice.py", "test_apps_script_node.py",
    "test_xlsx_fidelity.py", "test_planner_properties.py", "test_report.py", "test_security.py",
}
#: Single tests of other modules that take seconds (measured with --durations).
SLOW_TESTS = {
    "test_every_shipped_step_renders_in_every_language", "test_demo_writes_the_workbook_and_prints_a_summary",
    "test_case_file_csvs_are_inert_and_show_no_path_of_this_machine", "test_what_people_mark_reaches_the_payer_score",
    "test_the_demo_runs_from_any_folder_not_only_the_source_tree",
    "test_the_module_imports_without_windows_only_modules",
    "test_the_store_holds_what_ledger_apply_computes", "test_help_and_usage_errors_import_nothing_heavy",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``-m "not slow"`` is the fast lane a developer runs while working; CI runs everything."""
    for item in items:
        if (item.path.name in SLOW_MODULES or item.get_closest_marker("libreoffice") is not None
                or getattr(item, "originalname", item.name) in SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
