"""The cyclic collector paused while a pass builds its records, and always put back."""

from __future__ import annotations

import gc

import pytest

from encours.connectors.memory import no_cycle_collection, without_cycle_collection


def test_paused_then_put_back_as_it_was_even_on_errors() -> None:
    assert gc.isenabled()
    with no_cycle_collection():
        assert not gc.isenabled()
        with no_cycle_collection():  # nested: the inner block leaves it paused
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

    @without_cycle_collection
    def fails() -> None:
        assert not gc.isenabled()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()
    assert gc.isenabled()
    gc.disable()
    try:
        with no_cycle_collection():
            pass
        assert not gc.isenabled()  # paused by someone else before: left paused
    finally:
        gc.enable()



class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_what_a_paused_block_keeps_is_out_of_the_collectors_sight_until_the_pass_ends() -> None:
    """The records a pass keeps are not walked by each collection after the block that made them; what
    became cyclic garbage meanwhile is collected once the pass is over (a daemon runs pass after pass)."""
    import weakref

    from encours.connectors.memory import collected_after

    seen: dict[str, int] = {}

    @collected_after
    def a_pass() -> weakref.ref[_Node]:
        with no_cycle_collection():
            kept = [[i] for i in range(1000)]
            garbage = _Node()
        seen["frozen"] = gc.get_freeze_count()
        assert not {id(o) for o in gc.get_objects()} & {id(x) for x in kept}  # frozen: not in any generation
        gone = weakref.ref(garbage)
        del garbage
        gc.collect()
        seen["alive_after_collect"] = gone() is not None  # frozen: the collector does not see it
        return gone

    gone = a_pass()
    assert seen["frozen"] >= 1000 and seen["alive_after_collect"]
    assert gc.get_freeze_count() == 0
    assert gone() is None, "a cycle made during a pass outlived it"  # collected as the pass ended
    assert gc.isenabled()


def test_work_of_a_pass_inside_another_leaves_the_giving_back_to_the_outer_one() -> None:
    """A weekly report made during a pass does not walk the pass's whole ledger when it ends."""
    from encours.connectors.memory import collected_after

    @collected_after
    def report() -> int:
        with no_cycle_collection():
            _Node()
        return gc.get_freeze_count()

    @collected_after
    def a_pass() -> tuple[int, int, list[list[int]]]:
        with no_cycle_collection():
            kept = [[i] for i in range(500)]  # what the pass holds on to while its report is made
        inner = report()
        return inner, gc.get_freeze_count(), kept

    inner, after_report, _ = a_pass()
    assert inner >= 500 and after_report >= 500  # still hidden after the report: the pass gives it back
    assert gc.get_freeze_count() == 0


def test_a_pass_that_fails_still_gives_back_what_it_hid() -> None:
    from encours.connectors.memory import collected_after

    @collected_after
    def fails() -> None:
        with no_cycle_collection():
            _Node()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()
    assert gc.get_freeze_count() == 0 and gc.isenabled()
