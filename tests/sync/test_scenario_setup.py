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
