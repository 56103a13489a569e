"""``encours init``: the questions a new user answers, and a file every other command accepts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from encours.sync.cli import main
from encours.sync.config import load_config

SOURCES = ("pennylane", "sage", "odoo", "fec", "csv", "demo")


def _init(tmp_path: Path, answers: list[str], monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{a}\n" for a in answers)))
    return main(["init", "-c", str(tmp_path / "encours.toml"), *extra])


def test_the_defaults_give_a_dossier_that_syncs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "-c", str(tmp_path / "encours.toml"), "--defaults"]) == 0
    assert "encours check" in capsys.readouterr().out
    assert main(["sync", "-c", str(tmp_path / "encours.toml"), "--as-of", "2026-11-23"]) == 0
    assert (tmp_path / "encours.xlsx").exists()


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_writes_the_keys_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    # company, country, language, source, sheet, sending mode
    assert _init(tmp_path, ["Brasserie Lambert", "BE", "nl", source, "gsheets", "smtp"], monkeypatch) == 0
    config = load_config(tmp_path / "encours.toml", environ={})
    assert config.company_name == "Brasserie Lambert" and config.country == "BE" and config.language == "nl"
    assert str(config.timezone) == "Europe/Brussels"
    assert config.source.type == source and config.settings.sheet.type == "gsheets"
    assert config.settings.sending.mode == "smtp" and config.sending.get("password_env") == "SMTP_PASSWORD"
    secrets = [k for k in config.raw["source"] if k.endswith("_env")]
    assert all(config.raw["source"][k].isupper() for k in secrets)  # names of variables, never values


def test_a_name_with_quotes_stays_one_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = 'Dupont "& fils" \\ Cie'
    assert _init(tmp_path, [name], monkeypatch) == 0  # the other answers: end of input, the defaults
    assert load_config(tmp_path / "encours.toml").company_name == name


def test_a_wrong_answer_is_asked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(tmp_path, ["Dupont", "DE", "FR"], monkeypatch) == 0
    assert "please answer one of: FR, BE" in capsys.readouterr().out
    assert load_config(tmp_path / "encours.toml").country == "FR"


def test_an_existing_file_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "encours.toml"
    target.write_text("# mine\n", encoding="utf-8")
    assert main(["init", "-c", str(target), "--defaults"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# mine\n"
    assert main(["init", "-c", str(target), "--defaults", "--force"]) == 0
    assert load_config(target).source.type == "demo"
    assert [p.name for p in tmp_path.iterdir()] == ["encours.toml"]  # no draft left behind
