"""Working days (工作日) of China's official calendar, and the day counts of the measures' procedures.

The calendar is the one the State Council publishes each year: public holidays, and the weekend days
moved to make up for them (调休), which are working days.  It comes from maintained packages, never from
a list kept here:

- ``chinesecalendar`` (import name ``chinese_calendar``): the published schedules, the first source for
  every year it covers;
- ``holidays`` (its ``China`` calendar): the published schedules too, which it may carry for a year the
  installed chinesecalendar does not yet; and, for a year nobody has published, the statutory holidays of
  全国年节及纪念日放假办法 by rule — New Year's Day, 春节 (除夕 to 初三 since the 2024 amendment), 清明, 劳动节
  (two days since then), 端午, 中秋, 国庆 — with the 补假 a holiday on a weekend gets on the next working day.

For an unpublished year the statutory holidays are rest days; what nobody can know before the State Council
publishes it is the make-up working days (调休), so the result carries a warning that says only that.

Periods are counted as the Civil Code counts them: the starting day is not counted, so "within 15 working
days of the application" ends on the 15th working day after the day of application; and a period of calendar
days whose last day is a statutory rest day (法定休假日: a public holiday or a weekend day that is not a
make-up working day) ends on the first working day after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import chinese_calendar  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from holidays import HolidayBase

ONE_DAY = dt.timedelta(days=1)


@cache
def calendar_years() -> tuple[int, int]:
    """The first and last year the installed chinesecalendar covers (1.11.0: 2004–2026)."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def calendar_version() -> str:
    return str(getattr(chinese_calendar, "__version__", "unknown"))


def holidays_version() -> str:
    import holidays

    return str(getattr(holidays, "__version__", "unknown"))


@cache
def _china(year: int) -> HolidayBase:
    """The ``holidays`` package's China calendar for a year (statutory holidays, 补假, and what is published).

    Imported here, not with the module: it takes longer to import than the rest of an evaluation's start, and
    only a date past the installed chinesecalendar needs it."""
    import holidays

    return holidays.country_holidays("CN", years=year, language="zh_CN")


@cache
def published_by_holidays(year: int) -> bool:
    """Whether the ``holidays`` package carries the State Council's schedule of ``year``: a published schedule
    always moves some weekend day to a working day (调休); a year computed by rule has none."""
    return any(day.year == year for day in _china(year).weekend_workdays)


@dataclass
class Counting:
    """Days computed by the calendar, and the warnings about days it does not know."""

    warnings: list[str] = field(default_factory=list)
    _warned_years: set[int] = field(default_factory=set)

    def is_working_day(self, day: dt.date) -> bool:
        first, last = calendar_years()
        if first <= day.year <= last:
            return bool(chinese_calendar.is_workday(day))
        china = _china(day.year)
        if published_by_holidays(day.year):
            return bool(china.is_working_day(day))
        if day.year not in self._warned_years:
            self._warned_years.add(day.year)
            self.warnings.append(
                f"the State Council's holiday schedule for {day.year} is not published in the installed calendars "
                f"(chinesecalendar {calendar_version()} covers {first}–{last}; holidays {holidays_version()}): "
                f"{day.year}'s statutory holidays and their 补假 were counted as rest days, but its make-up "
                "working days (调休) are not known yet, so a working day counted in that year may move by a few "
                "days once the schedule is published")
        return day.weekday() < 5 and day not in china

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself is not counted)."""
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
        """The last day of a period of ``days`` calendar days after ``start``.

        The starting day is not counted; when the last day is a statutory rest day, the period ends on the
        first working day after the rest days.
        """
        return self.next_working_day(start + dt.timedelta(days=days))


def add_working_days(start: dt.date, count: int) -> tuple[dt.date, list[str]]:
    """The ``count``-th working day after ``start``, and any calendar warnings."""
    counting = Counting()
    return counting.add_working_days(start, count), counting.warnings
