"""Building a ledger's worth of records without the cyclic garbage collector walking them.

A pass makes hundreds of thousands of objects that all stay alive until it ends (records decoded,
the plan, the sheet's rows).  CPython's cyclic collector runs whenever enough objects were made and,
every so often, walks every live object again: on a 100,000-invoice pass that was a third of the
time spent decoding the stored ledger and a fifth of the pass, for no garbage.  Reference counting
still frees what is dropped; the collector is only paused, and put back as it was when the work is
done (or fails).

What a paused block made and keeps (the ledger, the plan, the sheet's rows live on to the end of the
pass) would still be walked once the collector is back: every object made while it was paused is
in its youngest generation, so the first collection after the block walks them all, and older
generations' collections walk them again later (0.4–0.5 s of collections in a pass after a change at
100,000 invoices, 0.1 s without).
So the block ends by moving every object the collector follows out of its sight (``gc.freeze``), and a
whole pass gives them back when it ends (:func:`collected_after`): a daemon, the demo's days and a
workbook's sync button all run pass after pass in one process, and what became cyclic garbage during a
pass is collected after it.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cyclic collector paused while the block runs (nested blocks: the outermost restores it, with
    what exists then out of its sight until the pass ends: see the module)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def without_cycle_collection(work: Callable[P, R]) -> Callable[P, R]:
    """``work`` run with the cyclic collector paused (see :func:`no_cycle_collection`)."""

    @functools.wraps(work)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with no_cycle_collection():
            return work(*args, **kwargs)

    return paused


def collected_after(work: Callable[P, R]) -> Callable[P, R]:
    """``work`` — a whole pass or sync — with what its paused blocks put out of the collector's sight
    given back when it ends, or fails, and collected at once (``gc.unfreeze``, then a full collection:
    what is left then is the process's own, a few tens of milliseconds to walk; without it, what became
    cyclic garbage during the pass would wait in the oldest generation, and a daemon's memory grow pass
    after pass). A pass that hid nothing (one that found nothing changed) is not followed by a
    collection. Work of this kind inside another (a weekly report made during a pass) leaves it to
    the outer one."""

    @functools.wraps(work)
    def given_back(*args: P.args, **kwargs: P.kwargs) -> R:
        global _RUNNING
        _RUNNING += 1
        try:
            return work(*args, **kwargs)
        finally:
            _RUNNING -= 1
            if not _RUNNING and gc.get_freeze_count():  # a pass that stopped at its record hid nothing
                gc.unfreeze()
                if gc.isenabled():
                    gc.collect()

    return given_back


#: How many passes (:func:`collected_after`) are running, one inside another.
_RUNNING = 0
