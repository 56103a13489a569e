"""Every bad key of ``encours.toml`` is refused at load, by every command, naming file, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from encours.connectors.errors import ConfigError
from encours.sync.cli import main
from encours.sync.config import load_config
from tests.conftest import write_config

BASE = (
    '[company]\nname = "Atelier Dupont SARL"\nstate = "state.sqlite"\n\n'
    '[source]\ntype = "demo"\n\n[sheet]\ntype = "xlsx"\npath = "encours.xlsx"\n\n'
    '[sending]\nmode = "outbox"\noutbox = "outbox"\n'
)

# (what a person wrote after the base file, the key the error must name, words it must hold)
BAD: list[tuple[str, str, str]] = [
    ('[report]\nday = "mondya"\n', "[report] day", "not a day of the week"),
    ('[report]\ndya = "monday"\n', "[report] dya", "did you mean day?"),
    ('[risk]\nenabled = "yes"\n', "[risk] enabled", "must be true or false"),
    ('[risk]\nmax_lookups = 0\n', "[risk] max_lookups", "at least 1"),
    ('[reprot]\nday = "monday"\n', "[reprot]", "did you mean report?"),
    ('[schedule]\nevery = "soon"\n', "[schedule] every", "not a duration"),
    ('[schedule]\nheartbeat = 3\n', "[schedule] heartbeat", "must be text"),
    ('[scenarios]\nprofiles = "A"\n', "[scenarios.profiles]", "must be a table"),
    ('[scenarios]\ndefualt = "firm"\n', "[scenarios] defualt", "did you mean default?"),
    ('[report]\nrecipients = [1, 2]\n', "[report] recipients", "list of text"),
]


@pytest.mark.parametrize(("extra", "key", "words"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_key_is_refused_at_load(tmp_path: Path, extra: str, key: str, words: str) -> None:
    path = tmp_path / "encours.toml"
    path.write_text(BASE + "\n" + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message and key in message and words in message


@pytest.mark.parametrize(
    ("section", "text", "key", "words"),
    [
        ("sending", 'mode = "outbox"\nwindow = "8h-18h"\n', "[sending] window", "not a window"),
        ("sending", 'mode = "smtp"\n', "[sending] host", "required"),
        ("sending", 'mode = "outbox"\npasword_env = "X"\n', "[sending] pasword_env", "did you mean password_env?"),
        ("sending", 'mode = "smtp"\nhost = "h"\npassword_env = "hunter2 secret"\n', "[sending] password_env",
         "never the secret itself"),
    ],
)
def test_sending_keys(tmp_path: Path, section: str, text: str, key: str, words: str) -> None:
    path = tmp_path / "encours.toml"
    path.write_text(BASE.replace('[sending]\nmode = "outbox"\noutbox = "outbox"\n', f"[{section}]\n{text}"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert key in str(error.value) and words in str(error.value)


def test_a_key_of_another_platform_says_which(tmp_path: Path) -> None:
    path = write_config(tmp_path, source='type = "fec"\npath = "book.txt"\ntoken_env = "PENNYLANE_TOKEN"')
    with pytest.raises(ConfigError, match=r"\[source\] token_env: is not a key of a fec source \(it belongs to "
                                          r"pennylane\)"):
        load_config(path)


def test_a_file_source_needs_its_path(tmp_path: Path) -> None:
    path = write_config(tmp_path, source='type = "csv"')
    with pytest.raises(ConfigError, match=r"\[source\] path: is required for a csv source"):
        load_config(path)


def test_typed_sections_are_built_once_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "encours.toml"
    path.write_text(BASE + '\n[report]\nday = " Friday "\nrecipients = "dg@example.fr"\n\n[schedule]\nevery = "2h"\n'
                    '\n[risk]\nenabled = false\n', encoding="utf-8")
    settings = load_config(path).settings
    assert settings.report.day == "friday" and settings.report.recipients == ("dg@example.fr",)
    assert settings.schedule.every_seconds == 7200
    assert settings.risk.enabled is False
    assert settings.sheet.path == tmp_path / "encours.xlsx" and settings.sheet.aging_bounds == (30, 60, 90)
    assert settings.sending.window[0].hour == 8


@pytest.mark.parametrize("command", ["check", "sync", "run", "preview", "report", "export-case"])
def test_every_command_refuses_a_bad_key_before_doing_anything(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "encours.toml"
    path.write_text(BASE + '\n[report]\nday = "mondya"\n', encoding="utf-8")
    argv = [command, "-c", str(path)] + (["X"] if command in ("preview", "export-case") else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "[report] day" in err and "mondya" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "state.sqlite").exists() and not (tmp_path / "encours.xlsx").exists()
