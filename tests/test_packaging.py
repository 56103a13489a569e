"""The design card's folders install under the one ``encours`` namespace, and nothing else does."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("connectors", "sheets_addin", "scenarios", "sync")


def _setuptools() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    table: dict[str, object] = config["tool"]["setuptools"]
    return table


def test_every_package_folder_is_installed_under_encours() -> None:
    packages = _setuptools()["packages"]
    assert isinstance(packages, list)
    listed = {str(name) for name in packages}
    found = {"encours"}
    for folder in FOLDERS:
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(ROOT)
            found.add("encours." + ".".join(relative.parts))
    assert found == listed, f"pyproject.toml [tool.setuptools] packages differs: {sorted(found ^ listed)}"


def test_no_top_level_package_but_encours() -> None:
    package_dir = _setuptools()["package-dir"]
    assert isinstance(package_dir, dict)
    mapping = {str(name): str(folder) for name, folder in package_dir.items()}
    assert all(name == "encours" or name.startswith("encours.") for name in mapping)
    assert {mapping[f"encours.{folder}"] for folder in FOLDERS} == set(FOLDERS)


def test_another_distributions_sync_package_does_not_shadow_encours(tmp_path: Path) -> None:
    """A second distribution shipping top-level ``sync`` and ``connectors`` packages first on the path."""
    for name in ("sync", "connectors", "scenarios"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('the other distribution')\n")
    code = "import encours.sync.cli as c; import sys; sys.exit(c.main(['--version']))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("encours ")


def test_shipped_data_is_found_from_any_folder(tmp_path: Path) -> None:
    """Outside the repository, only ``encours.*`` is importable: shipped data files are read through it."""
    code = ("from datetime import date; from encours.sheets_addin.rates import default_rates; "
            "from encours.scenarios.loader import SHIPPED_DIR; "
            "assert default_rates(); assert any(SHIPPED_DIR.glob('*.toml'))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
