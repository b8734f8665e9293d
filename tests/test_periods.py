"""Civil Code periods (arts. 201–202) through python-dateutil's month arithmetic."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mincredit._periods import add_months, add_years, in_period, period_end, period_text


def by_hand(start: dt.date, months: int) -> dt.date:
    """Art. 202 written out: the corresponding day of the month reached, or that month's last day."""
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return dt.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


SHIFTS = (-61, -60, -13, -12, -1, 1, 2, 11, 12, 13, 24, 48, 59, 60, 61)


def test_dateutil_gives_art_202_on_every_day_of_1996_to_2033() -> None:
    day, last = dt.date(1996, 1, 1), dt.date(2033, 12, 31)
    while day <= last:
        for months in SHIFTS:
            assert add_months(day, months) == by_hand(day, months), (day, months)
        day += dt.timedelta(days=1)


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9000, 12, 31)), st.integers(-1200, 1200))
def test_dateutil_gives_art_202_anywhere(start: dt.date, months: int) -> None:
    if not 12 <= start.year * 12 + start.month - 1 + months < 12 * 10000:
        return                       # outside the years a date can hold
    assert add_months(start, months) == by_hand(start, months)


@pytest.mark.parametrize(("start", "years", "end"), [
    (dt.date(2020, 2, 29), 1, dt.date(2021, 2, 28)),    # no 29 February: that month's last day
    (dt.date(2020, 2, 29), 4, dt.date(2024, 2, 29)),
    (dt.date(2020, 5, 10), 5, dt.date(2025, 5, 10)),    # the corresponding day, counted inclusive
    (dt.date(2019, 12, 31), 5, dt.date(2024, 12, 31)),
])
def test_years(start: dt.date, years: int, end: dt.date) -> None:
    assert add_years(start, years) == period_end(start, years=years) == end


def test_month_ends() -> None:
    assert period_end(dt.date(2024, 1, 31), months=1) == dt.date(2024, 2, 29)
    assert period_end(dt.date(2023, 1, 31), months=1) == dt.date(2023, 2, 28)
    assert period_end(dt.date(2024, 4, 30), months=1) == dt.date(2024, 5, 30)   # a corresponding day exists
    assert period_end(dt.date(2024, 1, 31), years=1, months=1) == dt.date(2025, 2, 28)


def test_a_date_past_the_calendar_is_an_error_as_before() -> None:
    with pytest.raises(ValueError):
        add_months(dt.date(9999, 12, 31), 1)


def test_period_words_and_membership() -> None:
    assert period_text(dt.date(2020, 12, 1), dt.date(2025, 11, 30)) == "2020-12-01 to 2025-11-30"
    assert period_text(dt.date(2020, 12, 1), None) == "from 2020-12-01, with no end date"
    assert in_period(dt.date(2025, 11, 30), dt.date(2020, 12, 1), dt.date(2025, 11, 30))
    assert not in_period(dt.date(2025, 12, 1), dt.date(2020, 12, 1), dt.date(2025, 11, 30))
    assert in_period(dt.date(3000, 1, 1), dt.date(2020, 12, 1), None)
