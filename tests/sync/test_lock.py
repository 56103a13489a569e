"""Two passes at once on one dossier are impossible; a dead holder never leaves the lock stuck."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from encours.sync.lock import DossierLock, LockedError, lock_path

HOLD = """
import sys, time
from encours.sync.lock import DossierLock
lock = DossierLock(sys.argv[1], "Atelier Dupont")
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(state: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_pass_is_refused_with_the_dossier_and_the_holders_pid(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    proc = _holder(state, 30)
    try:
        with pytest.raises(LockedError) as caught, DossierLock(state, "Atelier Dupont"):
            pass
        message = str(caught.value)
        assert "Atelier Dupont" in message and f"pid {proc.pid}" in message and caught.value.exit_code == 2
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    proc = _holder(state, 30)
    proc.kill()
    proc.wait()
    with DossierLock(state, "d") as lock:
        assert f"{os.getpid()} " in lock.path.read_text()
    assert lock_path(state).read_text() == "", "released: the pid is cleared"


def test_lock_is_reentrant_after_release_in_the_same_process(tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite"
    for _ in range(2):
        with DossierLock(state, "d"):
            time.sleep(0.01)
