"""Working days of the official calendar (chinesecalendar, then holidays), counted per Civil Code arts. 201 and 203;
the statutory holidays of a year not yet published (I66)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mincredit import _workdays as workdays
from mincredit._workdays import Counting, add_working_days, calendar_years
from mincredit.cli import main

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


def test_the_issues_example_in_a_year_no_calendar_publishes() -> None:
    # Fri 2027-09-24 + 15: 09-27…09-30 (4); 国庆 Fri 10-01, Sat 10-02 and Sun 10-03, whose 补假 are Mon 10-04 and
    # Tue 10-05; then 10-06…10-08 (7), 10-11…10-15 (12), 10-18…10-20 (15). Monday to Friday gave 2027-10-15.
    day, warnings = add_working_days(D(2027, 9, 24), 15)
    assert day == D(2027, 10, 20) and day >= D(2027, 10, 18)
    (warning,) = warnings
    assert "holiday schedule for 2027 is not published" in warning and "调休" in warning
    assert "chinesecalendar" in warning and "holidays" in warning


@pytest.mark.parametrize(("day", "working"), [
    (D(2026, 12, 31), True),
    (D(2027, 1, 1), False),                     # 元旦 (a Friday)
    (D(2027, 1, 4), True),
    (D(2027, 2, 4), True),
    (D(2027, 2, 5), False),                     # 除夕, a holiday since the 2024 amendment
    (D(2027, 2, 8), False),                     # 初三 (a Monday)
    (D(2027, 2, 9), False), (D(2027, 2, 10), False),   # 补假 for 初一 and 初二 on Saturday and Sunday
    (D(2027, 2, 11), True),
    (D(2027, 4, 5), False),                     # 清明
    (D(2027, 5, 3), False), (D(2027, 5, 4), False),    # 补假 for 劳动节 on Saturday 05-01 and Sunday 05-02
    (D(2027, 5, 5), True),
    (D(2027, 9, 15), False),                    # 中秋
    (D(2027, 10, 1), False), (D(2027, 10, 4), False), (D(2027, 10, 5), False),
    (D(2027, 10, 6), True),                     # the 调休 that may make it a rest day is not known
    (D(2027, 10, 9), False),                    # a Saturday, not known to be a make-up working day
])
def test_an_unpublished_year_has_its_statutory_holidays_by_rule(day: dt.date, working: bool) -> None:
    counting = Counting()
    assert counting.is_working_day(day) is working
    assert len(counting.warnings) == (1 if day.year == 2027 else 0)


def test_the_warning_is_given_once_per_year() -> None:
    counting = Counting()
    counting.add_working_days(D(2027, 12, 20), 15)       # runs into 2028
    assert [w.split(" is not published")[0][-4:] for w in counting.warnings] == ["2027", "2028"]
    counting.add_working_days(D(2027, 3, 1), 40)
    assert len(counting.warnings) == 2


def test_a_year_the_holidays_package_publishes_beyond_chinesecalendar_uses_its_schedule(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # as if the installed chinesecalendar stopped at 2025: the holidays package has the published 2026
    monkeypatch.setattr(workdays, "calendar_years", lambda: (2004, 2025))
    counting = Counting()
    assert counting.is_working_day(D(2026, 9, 20))        # a Sunday made a working day (调休)
    assert not counting.is_working_day(D(2026, 10, 6))    # a Tuesday moved into the holiday
    assert counting.warnings == []
    assert calendar_years()[1] >= 2026                    # the real one


def test_the_published_years_agree_between_the_two_calendars() -> None:
    # chinesecalendar is the first source; the holidays package must not contradict it where both publish. They
    # differ on one day only, Saturday 2005-12-31 (a make-up working day for holidays, not for chinesecalendar).
    _, last = calendar_years()
    day, differing = D(2005, 1, 1), []
    while day.year <= last:
        if workdays.published_by_holidays(day.year) and chinese_calendar.is_workday(day) != \
                workdays._china(day.year).is_working_day(day):
            differing.append(day)
        day += dt.timedelta(days=1)
    assert differing == [D(2005, 12, 31)]


def test_the_table_view_shows_the_calendar_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts.json"
    record = {"id": "v-1", "type": "violation", "indicator": "M01", "tier": 1, "determined_on": "2027-06-01",
              "objections": [{"raised_on": "2027-09-24"}]}
    facts.write_text(json.dumps({"subjects": [{"uscc": "91150600MA13R7T5Q6", "name": "某某矿业有限公司",
                                               "kind": "miner", "public_score": 850, "records": [record]}]}))
    for extra in ([], ["--no-details"]):
        assert main(["evaluate", str(facts), "--rulebook", "miner@2020-draft", "--as-of", "2027-09-30", *extra]) == 0
        out = capsys.readouterr().out
        assert "warning: the State Council's holiday schedule for 2027 is not published" in " ".join(out.split())


@given(st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 10, 1)), st.integers(min_value=1, max_value=40))
def test_the_nth_working_day_is_a_working_day_with_n_working_days_after_the_start(start: dt.date, n: int) -> None:
    counting = Counting()
    end = counting.add_working_days(start, n)
    assert end > start and chinese_calendar.is_workday(end)
    days = [start + dt.timedelta(days=k) for k in range(1, (end - start).days + 1)]
    assert sum(1 for day in days if chinese_calendar.is_workday(day)) == n
