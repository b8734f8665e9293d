"""Periods counted as the Civil Code counts them (docs/interpretations.md, I05).

The starting day is not counted; a period in years or
months ends on the corresponding day of the last year or month, or on that
month's last day when it has no corresponding day (29 February → 28 February).
So a retention of 5 years from 2020-05-10 runs through 2025-05-10 inclusive.

The month arithmetic is python-dateutil's ``relativedelta``: adding months keeps the day of the month and
clips it to the last day of a shorter month, which is exactly the Civil Code's rule (tests/test_periods.py checks it
against the rule written out by hand on every day of 1996–2033), so the project keeps no calendar arithmetic of
its own (docs/dependencies.md).
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta


class BeyondCalendar(ValueError):
    """A period would end after 9999-12-31, the last day Python's dates, and so mincredit, can represent."""


def add_months(start: dt.date, months: int) -> dt.date:
    """The corresponding day ``months`` later, or that month's last day if it has none."""
    try:
        shifted: dt.date = start + relativedelta(months=months)
    except (ValueError, OverflowError):
        raise BeyondCalendar(f"{months} months from {start} is beyond the calendar (years {dt.MINYEAR} to "
                             f"{dt.MAXYEAR})") from None
    return shifted


def last_start(*, years: int = 0, months: int = 0) -> dt.date:
    """The latest day a period of years/months can begin on and still end by 9999-12-31 (a period beginning
    later would end in year 10000, which no date can hold)."""
    return add_months(dt.date.max, -(12 * years + months))


def add_years(start: dt.date, years: int) -> dt.date:
    return add_months(start, 12 * years)


def period_end(start: dt.date, *, years: int = 0, months: int = 0) -> dt.date:
    """The last day of a period of years/months beginning the day after ``start`` (inclusive end)."""
    return add_months(start, 12 * years + months)


def period_text(start: dt.date, end: dt.date | None) -> str:
    """An effective period in words: "2020-12-01 to 2025-11-30", or "from 2020-12-01, with no end date"."""
    return f"{start} to {end}" if end is not None else f"from {start}, with no end date"


def in_period(day: dt.date, start: dt.date, end: dt.date | None) -> bool:
    """Whether ``day`` falls in an effective period from ``start`` to ``end`` (both included; None: no end)."""
    return start <= day and (end is None or day <= end)
