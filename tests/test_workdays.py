"""Working days of the official calendar (chinesecalendar), counted per Civil Code arts. 201 and 203."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from hypothesis import given
from hypothesis import strategies as st

from mincredit._workdays import Counting, add_working_days, calendar_years

D = dt.date


def test_fifteen_working_days_across_national_day_and_a_make_up_saturday() -> None:
    # 2024: 10-01..10-07 off; Sunday 09-29 and Saturday 10-12 are make-up working days (调休).
    # After Friday 09-27: 09-29, 09-30, 10-08 … 10-11, 10-12 (Sat), 10-14 … 10-18, 10-21, 10-22, 10-23.
    day, warnings = add_working_days(D(2024, 9, 27), 15)
    assert day == D(2024, 10, 23)
    assert warnings == []


def test_the_starting_day_is_not_counted_and_a_make_up_sunday_is_a_working_day() -> None:
    counting = Counting()
    assert counting.add_working_days(D(2024, 9, 27), 1) == D(2024, 9, 29)   # Sunday, 调休
    assert counting.add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)   # across the holiday
    assert counting.add_working_days(D(2024, 10, 11), 1) == D(2024, 10, 12)  # Saturday, 调休


def test_seven_working_days_of_public_notice() -> None:
    assert Counting().add_working_days(D(2024, 9, 27), 7) == D(2024, 10, 12)


def test_a_period_of_days_ending_on_a_rest_day_ends_on_the_next_working_day() -> None:
    counting = Counting()
    assert counting.days_period_end(D(2024, 9, 2), 5) == D(2024, 9, 9)     # 09-07 is a Saturday
    assert counting.days_period_end(D(2024, 9, 26), 5) == D(2024, 10, 8)   # 10-01 National Day
    assert counting.days_period_end(D(2024, 6, 3), 5) == D(2024, 6, 11)    # Sat 06-08 … Mon 06-10 端午
    assert counting.days_period_end(D(2024, 9, 3), 5) == D(2024, 9, 8) + dt.timedelta(days=1)  # Sun → Mon
    assert counting.days_period_end(D(2024, 9, 4), 5) == D(2024, 9, 9)
    assert counting.days_period_end(D(2024, 9, 9), 5) == D(2024, 9, 14)    # Saturday 09-14 is a 调休 working day


def test_a_year_the_calendar_does_not_publish_warns_and_counts_monday_to_friday() -> None:
    first, last = calendar_years()
    assert first <= 2004 and last >= 2026
    year = last + 1
    counting = Counting()
    start = D(year, 1, 1)
    while start.weekday() != 4:   # a Friday
        start += dt.timedelta(days=1)
    assert counting.add_working_days(start, 1) == start + dt.timedelta(days=3)
    assert len(counting.warnings) == 1
    assert f"{year} is not published" in counting.warnings[0] and "chinesecalendar" in counting.warnings[0]
    counting.add_working_days(start, 3)
    assert len(counting.warnings) == 1   # once per year


@given(st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 10, 1)), st.integers(min_value=1, max_value=40))
def test_the_nth_working_day_is_a_working_day_with_n_working_days_after_the_start(start: dt.date, n: int) -> None:
    counting = Counting()
    end = counting.add_working_days(start, n)
    assert end > start and chinese_calendar.is_workday(end)
    days = [start + dt.timedelta(days=k) for k in range(1, (end - start).days + 1)]
    assert sum(1 for day in days if chinese_calendar.is_workday(day)) == n
