"""A step key's one-line form: what the journal records as done, and what Message-IDs derive from."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from encours.scenarios.actions import StepKey

_PART = st.text(alphabet=st.sampled_from("aZ09_.~-/% éÿ:+\x1f"), max_size=8)


@given(st.sampled_from(("invoice", "account")), _PART, _PART, _PART, _PART)
def test_a_key_reads_back_as_itself_whatever_its_ids_hold(level: str, target: str, scenario: str, step: str,
                                                          cycle: str) -> None:
    key = StepKey(level, target, scenario, step, cycle)  # type: ignore[arg-type]
    parts = (level, target, scenario, step, cycle)
    assert key.id == "/".join(quote(p, safe="") for p in parts)  # the form journals written before hold
    assert StepKey.parse(key.id) == key


def test_the_usual_keys_are_written_as_they_are() -> None:
    assert StepKey("invoice", "F-2026-0012", "standard", "reminder_1").id == "invoice/F-2026-0012/standard/reminder_1/"
    assert StepKey("account", "C 12", "std", "statement", "2026-11-30").id == "account/C%2012/std/statement/2026-11-30"
    assert StepKey("invoice", "a/b", "s", "t").id == "invoice/a%2Fb/s/t/"
