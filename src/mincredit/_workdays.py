"""Working days (工作日) of China's official calendar, and the day counts of the measures' procedures.

The calendar is the one the State Council publishes each year: public holidays, and the weekend days
moved to make up for them (调休), which are working days.  It comes from the maintained
``chinesecalendar`` package (import name ``chinese_calendar``), never from a list kept here.  The package
knows the years the State Council has published; for a year it does not know, a day counts as a working
day from Monday to Friday and the result carries a warning that says so, instead of failing.

Periods are counted as the Civil Code counts them (arts. 201, 203): the starting day is not counted, so
"within 15 working days of the application" ends on the 15th working day after the day of application;
and a period of calendar days whose last day is a statutory rest day (法定休假日: a public holiday or a
weekend day that is not a make-up working day) ends on the first working day after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

import chinese_calendar  # type: ignore[import-untyped]

ONE_DAY = dt.timedelta(days=1)


@cache
def calendar_years() -> tuple[int, int]:
    """The first and last year the installed calendar covers (1.11.0: 2004–2026)."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def calendar_version() -> str:
    return str(getattr(chinese_calendar, "__version__", "unknown"))


@dataclass
class Counting:
    """Days computed by the calendar, and the warnings about days it does not know."""

    warnings: list[str] = field(default_factory=list)
    _warned_years: set[int] = field(default_factory=set)

    def is_working_day(self, day: dt.date) -> bool:
        first, last = calendar_years()
        if first <= day.year <= last:
            return bool(chinese_calendar.is_workday(day))
        if day.year not in self._warned_years:
            self._warned_years.add(day.year)
            self.warnings.append(
                f"the official calendar (chinesecalendar {calendar_version()}) covers {first}–{last}; "
                f"{day.year} is not published in it, so its days were counted Monday to Friday without public "
                "holidays or make-up working days (调休): dates in that year may be off by the holidays")
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself is not counted, Civil Code art. 201)."""
        if count < 1:
            raise ValueError("count working days from 1")
        day = start
        remaining = count
        while remaining:
            day += ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def days_period_end(self, start: dt.date, days: int) -> dt.date:
        """The last day of a period of ``days`` calendar days after ``start`` (Civil Code arts. 201, 203).

        The starting day is not counted; when the last day is a statutory rest day, the period ends on the
        first working day after the rest days.
        """
        return self.next_working_day(start + dt.timedelta(days=days))


def add_working_days(start: dt.date, count: int) -> tuple[dt.date, list[str]]:
    """The ``count``-th working day after ``start``, and any calendar warnings."""
    counting = Counting()
    return counting.add_working_days(start, count), counting.warnings
