"""One clock per pass: every plan, journal entry, sheet date and message of a pass uses its day.

A pass runs for one ``as_of`` day (today in the company's time zone, or ``--as-of``).  Its clock
is that day at the wall clock's local time of day, so a pass run with ``--as-of`` D behaves as a
pass run on D at the same hour: steps are journaled as done on D, retries and the sending window
are counted from D.  The wall-clock time is journaled beside it, for audit.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo


def pass_clock(as_of: date, wall: datetime, tz: tzinfo) -> datetime:
    """The pass's clock (aware): ``wall`` itself when it falls on ``as_of`` in ``tz``, else ``as_of``
    at the same local time of day."""
    local = wall.astimezone(tz)
    if local.date() == as_of:
        return wall
    return datetime.combine(as_of, local.time().replace(tzinfo=None), tzinfo=tz)
