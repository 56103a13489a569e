"""Scenario files are validated before anything is sent; every error names the file, step and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from encours.scenarios.loader import CHANNELS, LANGUAGES, SHIPPED_DIR, ScenarioError, load_scenarios
from encours.scenarios.setup import scenario_setup

GOOD_STEPS = """
[[steps]]
id = "first"
offset = 3
from = "due"
channel = "email"
template = "mine"

[[steps]]
id = "second"
offset = 7
from = "previous"
channel = "email"
template = "mine"
"""


def write_scenario(folder: Path, name: str, body: str, *, template: str = "mine",
                   parts: tuple[str, ...] = ("subject", "txt", "html"),
                   content: str = "Hello {{ customer_name }}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        tdir = folder / "templates" / language
        tdir.mkdir(parents=True, exist_ok=True)
        for part in parts:
            (tdir / f"{template}.{part}.j2").write_text(content, encoding="utf-8")
    path = folder / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_shipped_scenarios_load_each_with_the_steps_the_issue_asks_for() -> None:
    scenarios = load_scenarios()
    assert {"standard", "gentle", "firm"} <= set(scenarios)
    for scenario in scenarios.values():
        channels = [s.channel for s in scenario.steps]
        assert scenario.steps[0].is_courtesy, scenario.name
        assert channels.count("email") >= 2 and "call" in channels and "formal_notice" in channels
        assert "thanks" in channels and scenario.first("broken_promise") is not None
        notice = next(s for s in scenario.steps if s.channel == "formal_notice")
        assert notice.needs_approval


def test_a_user_folder_overrides_a_shipped_scenario_and_adds_its_own(tmp_path: Path) -> None:
    write_scenario(tmp_path, "standard", GOOD_STEPS)
    write_scenario(tmp_path, "mine", GOOD_STEPS)
    scenarios = load_scenarios([SHIPPED_DIR, tmp_path])
    assert [s.id for s in scenarios["standard"].steps] == ["first", "second"]
    assert "mine" in scenarios and "firm" in scenarios


BAD = [
    ("duplicate id", GOOD_STEPS.replace('id = "second"', 'id = "first"'), "first", "id", "twice"),
    ("unknown channel", GOOD_STEPS.replace('channel = "email"\ntemplate = "mine"\n\n[[steps]]',
                                           'channel = "fax"\ntemplate = "mine"\n\n[[steps]]'), "first", "channel",
     "fax"),
    ("missing template", GOOD_STEPS.replace('template = "mine"\n\n[[steps]]', 'template = "nowhere"\n\n[[steps]]'),
     "first", "template", "nowhere"),
    ("offset backwards", GOOD_STEPS + '\n[[steps]]\nid = "third"\noffset = 2\nfrom = "due"\nchannel = "email"\n'
     'template = "mine"\n', "third", "offset", "backwards"),
    ("previous offset not positive", GOOD_STEPS.replace("offset = 7", "offset = 0"), "second", "offset", "backwards"),
    ("first step from previous", GOOD_STEPS.replace('offset = 3\nfrom = "due"', 'offset = 3\nfrom = "previous"'),
     "first", "from", "previous"),
    ("offset not a number", GOOD_STEPS.replace("offset = 3", 'offset = "3"'), "first", "offset", "whole number"),
    ("unknown key", GOOD_STEPS.replace('id = "second"', 'id = "second"\ndelay = 3'), "second", "delay", "unknown"),
    ("thanks on a schedule", GOOD_STEPS + '\n[[steps]]\nid = "merci"\noffset = 0\nfrom = "due"\nwhen = "schedule"\n'
     'channel = "thanks"\ntemplate = "mine"\n', "merci", "when", "paid"),
    ("negative minimum", GOOD_STEPS.replace('id = "second"', 'id = "second"\nmin_amount = -5'), "second", "min_amount",
     "positive"),
    ("ceiling under minimum", GOOD_STEPS.replace('id = "second"', 'id = "second"\nmin_amount = 50\nceiling = 10'),
     "second", "ceiling", "ceiling"),
    ("missing id", GOOD_STEPS.replace('id = "second"\n', ""), "#2", "id", "needs an id"),
    ("bad scope", GOOD_STEPS.replace('id = "second"', 'id = "second"\nscope = "everyone"'), "second", "scope",
     "everyone"),
]


@pytest.mark.parametrize(("case", "body", "step", "field", "words"), BAD, ids=[b[0] for b in BAD])
def test_invalid_scenarios_are_refused_naming_file_step_and_field(tmp_path: Path, case: str, body: str, step: str,
                                                                   field: str, words: str) -> None:
    path = write_scenario(tmp_path, "broken", body)
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path])
    error = caught.value
    assert error.file == str(path)
    assert error.step == step
    assert error.field == field
    assert str(path) in str(error) and words in str(error)
    assert error.exit_code == 2


def test_a_template_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "broken", GOOD_STEPS, content="Hello\n{% if x %}\nno end")
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path])
    assert caught.value.file == str(path) and caught.value.step == "first" and caught.value.field == "template"
    assert "line" in str(caught.value) and "mine." in str(caught.value)


@pytest.mark.parametrize(("content", "words"), [
    ("Hello {{ custmer_name }}", "custmer_name"),
    ('{% include "fr/_nowhere.txt.j2" %}', "_nowhere"),
    ("{{ total|money(language) }} {{ due_date|nofilter }}", "nofilter"),
])
def test_templates_are_rendered_once_with_sample_data_when_loaded(tmp_path: Path, content: str, words: str) -> None:
    path = write_scenario(tmp_path, "broken", GOOD_STEPS, content=content)
    with pytest.raises(ScenarioError, match=words) as caught:
        scenario_setup([tmp_path], "broken", {})
    assert (caught.value.file, caught.value.step, caught.value.field) == (str(path), "first", "template")


def test_a_template_missing_in_one_language_is_refused(tmp_path: Path) -> None:
    write_scenario(tmp_path, "broken", GOOD_STEPS)
    (tmp_path / "templates" / "nl" / "mine.html.j2").unlink()
    with pytest.raises(ScenarioError, match=r"nl/mine\.html\.j2"):
        load_scenarios([tmp_path])


def test_a_letter_template_needs_its_opening_and_closing_blocks(tmp_path: Path) -> None:
    body = GOOD_STEPS.replace('channel = "email"\ntemplate = "mine"\n\n[[steps]]',
                              'channel = "letter"\ntemplate = "post"\n\n[[steps]]')
    write_scenario(tmp_path, "broken", body)
    write_scenario(tmp_path, "broken", body, template="post", parts=("subject", "letter"),
                   content="{% block opening %}Madame{% endblock %}")
    with pytest.raises(ScenarioError, match="closing"):
        load_scenarios([tmp_path])


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "broken", "[[steps]\nid=")
    with pytest.raises(ScenarioError, match="not valid TOML") as caught:
        load_scenarios([tmp_path])
    assert caught.value.file == str(path)


def test_a_copy_of_the_shipped_folder_loads_the_same(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(SHIPPED_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    assert set(load_scenarios([copy])) == set(load_scenarios())


def test_every_channel_is_known() -> None:
    assert set(CHANNELS) == {"email", "letter", "call", "formal_notice", "thanks"}
