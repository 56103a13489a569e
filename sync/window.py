"""When reminders may leave: the sending window, on business days, in the company's time zone.

``[sending] window = "08:30-18:00"`` is local time of ``[company] timezone``; Saturdays, Sundays
and the public holidays of ``[company] country`` (France or Belgium, from the ``holidays``
package) are closed all day — unless ``[sending] every_day = true`` (the demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from encours.sync.config import Config
from encours.sync.labels import pass_text

DEFAULT_WINDOW = "08:30-18:00"


@lru_cache(maxsize=8)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year, language="fr")


def holiday_name(day: date, country: str) -> str | None:
    """The public holiday's name on that day in FR or BE, else None."""
    name = _holidays(country, day.year).get(day)
    return None if name is None else str(name)


def is_business_day(day: date, country: str) -> bool:
    """Monday to Friday, not a public holiday; with no country every day is a business day."""
    if not country:
        return True
    return day.weekday() < 5 and holiday_name(day, country) is None


@dataclass(frozen=True)
class WindowState:
    open: bool
    local: datetime  # now, in the company's time zone
    note: str  # why closed, or when it closes
    next_open: datetime | None = None


def window_state(config: Config, now: datetime) -> WindowState:
    """Is the sending window open at ``now`` (an aware datetime)?  Says why not and when it opens."""
    start, end = config.settings.sending.window
    tz = config.timezone
    local = now.astimezone(tz)
    country = config.country
    today = local.date()
    if config.settings.sending.every_day:
        country = ""  # every day is a sending day (the demo): only the hours count
    if country and not is_business_day(today, country):
        reason = holiday_name(today, country) or pass_text("saturday" if today.weekday() == 5 else "sunday")
        nxt = next_opening(local, start, end, country)
        return WindowState(False, local, pass_text("non_business_day", reason=reason), nxt)
    if not start <= local.time().replace(tzinfo=None) < _end_exclusive(end):
        nxt = next_opening(local, start, end, country)
        return WindowState(False, local, pass_text("outside_hours", start=start, end=end), nxt)
    return WindowState(True, local, pass_text("open_until", end=end))


def _end_exclusive(end: time) -> time:
    return time(23, 59, 59, 999999) if end == time(23, 59) else end


def next_opening(local: datetime, start: time, end: time, country: str) -> datetime:
    """The first moment from ``local`` on when the window is open (``local`` itself if it is)."""
    day = local.date()
    for _ in range(40):
        if is_business_day(day, country):
            opening = datetime.combine(day, start, tzinfo=local.tzinfo)
            if local < opening:
                return opening
            if local < datetime.combine(day, _end_exclusive(end), tzinfo=local.tzinfo):
                return local
        day += timedelta(days=1)
    return datetime.combine(day, start, tzinfo=local.tzinfo)
