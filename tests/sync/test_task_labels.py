"""The label tables of ``À faire`` and of the demo: what the sheet suggests typing is understood,
what the demo types is read as meant, and no sentence of a table is left unused."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from encours.sheets_addin.layout import TODO
from encours.sync.demo_labels import DEMO_TEXT, DEMO_TYPED_FR, demo_typed
from encours.sync.task_labels import ACCEPTED_FR, TASK_ACTIONS_FR, TASK_REPORT_LINES, TASK_TEXT_FR, task_text
from encours.sync.task_outcomes import OutcomeKind, ResultError, parse_result

SYNC = Path(__file__).resolve().parents[2] / "sync"
DAY = date(2026, 11, 23)


#: A day the examples' dates fit: the promise and the call back ahead, the payment behind.
EXAMPLES_DAY = date(2026, 12, 3)
MEANT = [OutcomeKind.PROMISE, OutcomeKind.DISPUTE, OutcomeKind.CALL_BACK, OutcomeKind.UNREACHABLE, OutcomeKind.PAID,
         OutcomeKind.PAID]


def test_every_example_the_not_understood_message_gives_is_understood_as_meant() -> None:
    examples = re.findall(r"« ([^»]+) »", ACCEPTED_FR)
    assert [parse_result(e, EXAMPLES_DAY).kind for e in examples] == MEANT


def test_every_example_of_the_resultat_column_help_is_understood_as_meant() -> None:
    (column,) = [c for c in TODO.columns if c.key == "result"]
    examples = [e.strip().replace("(", "").replace(")", "") for e in column.help.split("·")]
    assert [parse_result(e, EXAMPLES_DAY).kind for e in examples] == [*MEANT[:4], OutcomeKind.PAID]


def test_the_not_understood_message_names_what_was_typed_and_what_is_accepted() -> None:
    with pytest.raises(ResultError) as caught:
        parse_result("il verra", DAY)
    assert str(caught.value) == task_text("not_understood", raw="il verra", accepted=ACCEPTED_FR)
    assert str(caught.value).startswith("« il verra » n'est pas compris : écrire « promesse 15/12/2026 »")


def test_what_the_demo_person_types_is_read_as_the_outcome_meant() -> None:
    assert parse_result(demo_typed("promise", day=date(2026, 11, 29)), DAY).kind is OutcomeKind.PROMISE
    assert parse_result(demo_typed("promise", day=date(2026, 11, 29)), DAY).when == date(2026, 11, 29)
    assert parse_result(demo_typed("unreachable"), DAY).kind is OutcomeKind.UNREACHABLE


@pytest.mark.parametrize(("table", "call"), [
    (TASK_TEXT_FR, r"task_text\(\s*\"{key}\""),
    (TASK_ACTIONS_FR, r"(task_action\(\s*\"{key}\"|TASK_ACTIONS_FR\[\"{key}\"\]|\"{key}\")"),
    (TASK_REPORT_LINES, r"task_report_line\(\s*\"{key}\""),
    (DEMO_TEXT, r"demo_text\(\s*\"{key}\""),
    (DEMO_TYPED_FR, r"demo_typed\(\s*\"{key}\""),
])
def test_no_sentence_of_a_label_table_is_left_unused(table: dict[str, str], call: str) -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for p in SYNC.glob("*.py") if not p.name.endswith("labels.py"))
    unused = [key for key in table if not re.search(call.format(key=re.escape(key)), code)]
    assert not unused
