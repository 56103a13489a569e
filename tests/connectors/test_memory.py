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

