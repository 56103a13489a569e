from pathlib import Path

import pytest

from encours.connectors.errors import ConfigError
from encours.sync.config import load_config, parse_duration, parse_window
from tests.conftest import write_config


def test_demo_config_loads_with_defaults(demo_config: Path) -> None:
    config = load_config(demo_config)
    assert config.country == "FR" and config.language == "fr"
    assert config.state_path == demo_config.parent / "state.sqlite"
    assert config.payment_terms_days == 30


def test_unknown_source_type_names_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, source='type = "quickbooks"')
    with pytest.raises(ConfigError, match=r"encours\.toml: \[source\] type: 'quickbooks' is not one of"):
        load_config(path)


def test_missing_environment_variable_names_key_and_variable(tmp_path: Path) -> None:
    path = write_config(tmp_path, source='type = "pennylane"\ntoken_env = "ENCOURS_TEST_UNSET_TOKEN"')
    config = load_config(path, environ={})
    with pytest.raises(ConfigError) as error:
        config.source.secret("token")
    message = str(error.value)
    assert "encours.toml" in message and "[source] token_env" in message and "ENCOURS_TEST_UNSET_TOKEN" in message


def test_secret_value_is_read_but_never_shown(tmp_path: Path) -> None:
    path = write_config(tmp_path, source='type = "pennylane"\ntoken_env = "PL_TOKEN"')
    config = load_config(path, environ={"PL_TOKEN": "s3cr3t-value"})
    assert config.source.secret("token") == "s3cr3t-value"
    assert "s3cr3t" not in repr(config)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[company\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml: is not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="encours init"):
        load_config(tmp_path / "absent.toml")


def test_bad_timezone_and_window(tmp_path: Path) -> None:
    path = write_config(tmp_path, extra='window = "18:00-08:00"\n')
    with pytest.raises(ConfigError, match=r"\[sending\] window"):
        load_config(path)
    assert parse_duration("15m") == 900
    assert parse_window("08:30-18:00")[0].hour == 8
    with pytest.raises(ConfigError):
        parse_duration("soon")
