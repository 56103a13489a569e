"""Run the Apps Script tests (``node --test``) from pytest, so the one test command covers them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
TESTS = ROOT / "sheets_addin" / "apps_script" / "test"


def test_apps_script_functions_pass_the_shared_vectors_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is required in CI: .ci/run installs nodejs")
        pytest.skip("Node.js is not installed")
    files = sorted(str(p) for p in TESTS.glob("*.test.js"))
    assert files, "no Apps Script tests found"
    result = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=300, cwd=ROOT)
    summary = [line for line in result.stdout.splitlines() if line.startswith(("# pass", "# fail", "not ok"))]
    assert result.returncode == 0, "\n".join(summary) + "\n" + result.stderr[-2000:]
    passed = next(int(line.split()[-1]) for line in summary if line.startswith("# pass"))
    assert passed >= 300, summary
