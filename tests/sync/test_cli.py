"""The command line as a user meets it: exit codes, messages that name the culprit, nothing half-written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from encours.sync.cli import COMMANDS, build_parser, main
from tests.conftest import write_config


def test_demo_writes_the_workbook_and_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--out", str(out), "--as-of", "2026-11-23"]) == 0
    printed = capsys.readouterr().out
    assert "Total outstanding" in printed and "Overdue" in printed and "Customers: 40" in printed
    wb = load_workbook(out / "encours-demo.xlsx")
    assert {"Factures", "Clients", "Balance âgée", "Relances", "Tableau de bord"} <= set(wb.sheetnames)
    assert (out / "encours.toml").exists()


def test_sync_twice_keeps_the_workbook_and_counts(demo_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "sync", "-c", str(demo_config), "--as-of", "2026-11-23"]) == 0
    first = capsys.readouterr().out
    assert main(["-q", "sync", "-c", str(demo_config), "--as-of", "2026-11-23"]) == 0
    second = capsys.readouterr().out
    assert first.splitlines()[1:] == second.splitlines()[1:]


def _expect_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("encours: error: "), err
    assert err.count("\n") == 1, "one clear line"
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def test_unknown_source_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, source='type = "quickbooks"')
    _expect_usage_error(["-q", "sync", "-c", str(config)], capsys, "encours.toml", "[source] type", "quickbooks")
    assert not (tmp_path / "encours.xlsx").exists() and not (tmp_path / "state.sqlite").exists()


def test_missing_environment_variable(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENCOURS_TEST_TOKEN", raising=False)
    config = write_config(tmp_path, source='type = "pennylane"\ntoken_env = "ENCOURS_TEST_TOKEN"')
    _expect_usage_error(["-q", "sync", "-c", str(config)], capsys, "[source] token_env", "ENCOURS_TEST_TOKEN")
    assert not (tmp_path / "encours.xlsx").exists()


def test_unwritable_workbook_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, sheet='type = "xlsx"\npath = "no/such/folder/encours.xlsx"')
    _expect_usage_error(["-q", "sync", "-c", str(config)], capsys, "no/such/folder/encours.xlsx", "does not exist")


def test_fec_with_a_bad_line_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fec = tmp_path / "FEC.txt"
    header = ("JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\t"
              "PieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise")
    fec.write_text(header + "\nVT\tVentes\t1\t20261301\t411000\tClients\n", encoding="utf-8")
    config = write_config(tmp_path, source='type = "fec"\npath = "FEC.txt"')
    err = _expect_usage_error(["-q", "sync", "-c", str(config)], capsys, "FEC.txt", "line 2")
    assert "Traceback" not in err
    assert not (tmp_path / "encours.xlsx").exists()


def test_csv_with_a_missing_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "factures.csv").write_text("invoice_number;customer_id\nF-1;C1\n", encoding="utf-8")
    config = write_config(tmp_path, source='type = "csv"\npath = "factures.csv"')
    _expect_usage_error(["-q", "sync", "-c", str(config)], capsys, "factures.csv")
    assert not (tmp_path / "encours.xlsx").exists()


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--full", "--nope"]) == 2
    assert main([]) == 2


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = list(sub.choices)  # type: ignore[union-attr]
    assert len(names) >= len(COMMANDS)
    for name in names:
        assert f"encours {name}" in readme, f"`encours {name}` is not documented in README.md"


def test_console_script_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "encours.sync.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "demo" in result.stdout and "sync" in result.stdout


HEAVY = ("pandas", "numpy", "openpyxl", "requests", "fpdf", "matplotlib", "jinja2", "gspread")


@pytest.mark.parametrize("argv", [["--help"], ["sync", "--bogus"], ["run", "--help"], ["--version"]])
def test_help_and_usage_errors_import_nothing_heavy(argv: list[str]) -> None:
    """``encours --help`` and a mistyped option answer at once: no data library is imported."""
    code = (f"import sys; from encours.sync.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


@pytest.mark.parametrize("argv", [["-q", "sync"], ["sync", "-q"], ["sync", "--verbose"], ["-v", "run", "--dry-run"]])
def test_quiet_and_verbose_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser(argv).parse_args(argv)
    assert args.command in ("sync", "run")
    assert args.quiet == ("-q" in argv) and args.verbose == any(a in ("-v", "--verbose") for a in argv)
