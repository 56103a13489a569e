"""``[scenarios]`` in encours.toml: the default, the user's folder, the profile mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from encours.scenarios.loader import ScenarioError
from encours.scenarios.setup import DEFAULT_PROFILE_SCENARIOS
from encours.sync.company import scenarios_for as scenarios_from_config
from encours.sync.config import load_config

BASE = '[company]\nname = "Dupont"\n[source]\ntype = "demo"\n'


def config(tmp_path: Path, scenarios: str):
    path = tmp_path / "encours.toml"
    path.write_text(BASE + scenarios, encoding="utf-8")
    return load_config(path, {})


def test_defaults_use_the_shipped_scenarios_and_profiles(tmp_path: Path) -> None:
    setup = scenarios_from_config(config(tmp_path, ""))
    assert setup.default == "standard"
    assert setup.profile_scenarios == DEFAULT_PROFILE_SCENARIOS
    assert {"standard", "gentle", "firm"} <= set(setup.scenarios)


def test_profiles_and_default_are_configurable(tmp_path: Path) -> None:
    text = '[scenarios]\ndefault = "gentle"\n[scenarios.profiles]\nC = "firm"\n'
    setup = scenarios_from_config(config(tmp_path, text))
    assert setup.default == "gentle" and setup.profile_scenarios["C"] == "firm"
    assert setup.profile_scenarios["A"] == "gentle"


@pytest.mark.parametrize(("text", "field"), [
    ('[scenarios]\ndefault = "harsh"\n', "[scenarios] default"),
    ('[scenarios.profiles]\nD = "harsh"\n', "[scenarios.profiles] D"),
    ('[scenarios]\ndir = "missing-folder"\n', ""),
])
def test_errors_name_the_configuration_file_and_key(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenarios_from_config(config(tmp_path, text))
    assert caught.value.field == field
    assert ("encours.toml" in str(caught.value)) or ("missing-folder" in str(caught.value))


def test_a_user_folder_adds_scenarios(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "quick.toml").write_text((Path(__file__).parents[2] / "scenarios" / "firm.toml").read_text("utf-8"),
                                       encoding="utf-8")
    setup = scenarios_from_config(config(tmp_path, '[scenarios]\ndir = "mine"\ndefault = "quick"\n'))
    assert setup.default == "quick" and "quick" in setup.scenarios and "standard" in setup.scenarios


def test_a_checked_set_of_templates_is_not_rendered_again_but_an_edited_one_is(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-shot `encours run` reuses the verdict on unchanged files; an edit is checked again, so a
    broken template is still refused before any customer is reminded."""
    from encours.sync import company
    from tests.scenarios.test_loader import GOOD_STEPS, write_scenario

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "mine"
    write_scenario(folder, "quick", GOOD_STEPS, content="Bonjour {{ customer_name }}")
    text = '[scenarios]\ndir = "mine"\ndefault = "quick"\n'
    company._SETUPS.clear()
    assert "quick" in scenarios_from_config(config(tmp_path, text)).scenarios
    verdicts = list((tmp_path / "cache" / "encours" / "checked").iterdir())
    assert len(verdicts) == 1 and list((tmp_path / "cache" / "encours" / "templates").iterdir())

    company._SETUPS.clear()  # a new process: the verdict on these very files is reused
    assert "quick" in scenarios_from_config(config(tmp_path, text)).scenarios
    assert list((tmp_path / "cache" / "encours" / "checked").iterdir()) == verdicts

    write_scenario(folder, "quick", GOOD_STEPS, content="Bonjour {{ custmer_name }}")  # a typo
    company._SETUPS.clear()
    with pytest.raises(ScenarioError, match="custmer_name"):
        scenarios_from_config(config(tmp_path, text))
