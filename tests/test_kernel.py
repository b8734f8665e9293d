"""The kernel, by hand at every boundary: retention windows, honours, the formula, the bands, offence counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from builders import honour, miner, shipped, violation
from hypothesis import given, settings
from hypothesis import strategies as st

from mincredit._engine import evaluate_subject
from mincredit._kernel import (
    COUNT_WARNING,
    CountBand,
    count_warning,
    first_day_counting,
    offence_places,
    offence_tier,
    tally,
)
from mincredit._periods import period_end
from mincredit.facts._models import HonourRecord, ViolationRecord

RULEBOOK = shipped("miner")
D = dt.date


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)), st.integers(min_value=1, max_value=6))
def test_the_first_day_counting_is_the_civil_code_period(as_of: dt.date, years: int) -> None:
    first = first_day_counting(as_of, years)
    assert period_end(first, years=years) >= as_of
    assert period_end(first - dt.timedelta(days=1), years=years) < as_of


def test_leap_day_windows() -> None:
    # A period from 2019-02-28 ends 2024-02-28, from 2019-03-01 on 2024-03-01; 2024-02-29 needs a start of 2019-03-01.
    assert first_day_counting(D(2024, 2, 29), 5) == D(2019, 3, 1)
    assert first_day_counting(D(2024, 6, 30), 5) == D(2019, 6, 30)
    assert first_day_counting(D(2021, 2, 28), 1) == D(2020, 2, 28)


def records(*made: dict[str, Any]) -> tuple[list[ViolationRecord], list[HonourRecord]]:
    subject = miner("800", list(made))
    return ([r for r in subject.records if isinstance(r, ViolationRecord)],
            [r for r in subject.records if isinstance(r, HonourRecord)])


@pytest.mark.parametrize(("determined", "counted"), [
    (D(2019, 6, 29), False),   # five years ended on 2024-06-29, the day before
    (D(2019, 6, 30), True),    # ends on the evaluation day itself: still counts
    (D(2024, 6, 30), True),    # determined on the evaluation day
    (D(2024, 7, 1), False),    # not yet determined
])
def test_a_violation_counts_through_the_last_day_of_its_five_years(determined: dt.date, counted: bool) -> None:
    day = RULEBOOK.day(D(2024, 6, 30))
    deductions, _ = tally(day, *records(violation("v", "M01", 1, determined)))
    assert deductions == (300 if counted else 0)


def test_an_honour_without_validity_counts_one_year_and_one_with_validity_through_it() -> None:
    day = RULEBOOK.day(D(2024, 6, 30))
    assert tally(day, *records(honour("h", "t", "ministry", D(2023, 6, 30))))[1] == 100
    assert tally(day, *records(honour("h", "t", "ministry", D(2023, 6, 29))))[1] == 0
    assert tally(day, *records(honour("h", "t", "ministry", D(2020, 1, 1), D(2024, 6, 30))))[1] == 100
    assert tally(day, *records(honour("h", "t", "ministry", D(2020, 1, 1), D(2024, 6, 29))))[1] == 0


def test_the_same_honour_counts_once_at_its_highest_level_and_the_cap_in_award_order() -> None:
    day = RULEBOOK.day(D(2024, 6, 30))
    # the same title at the city (50) and the ministry (100) level: 100 once
    assert tally(day, *records(honour("a", "绿色矿山", "city_government", D(2024, 1, 1)),
                               honour("b", "绿色矿山", "ministry", D(2024, 2, 1))))[1] == 100
    # three titles, 50 + 100 + 50 points, capped at 100
    assert tally(day, *records(honour("a", "甲", "city_government", D(2024, 1, 1)),
                               honour("b", "乙", "ministry", D(2024, 2, 1)),
                               honour("c", "丙", "provincial_department", D(2024, 3, 1))))[1] == 100
    result = evaluate_subject(miner("800", [honour("a", "甲", "city_government", D(2024, 1, 1)),
                                            honour("b", "乙", "ministry", D(2024, 2, 1)),
                                            honour("c", "丙", "provincial_department", D(2024, 3, 1))]),
                              RULEBOOK, D(2024, 6, 30))
    assert [(item.record_id, item.applied) for item in result.items or ()] == [
        ("a", Decimal(50)), ("b", Decimal(50)), ("c", Decimal(0))]
    assert "capped at 100" in (result.items or [])[1].explanation


@pytest.mark.parametrize(("public", "score", "grade"), [
    ("500", Decimal("900"), "B"),             # 500 × 0.2 + 1000 × 0.8 = 900: exactly 900 is B (I01)
    ("500.005", Decimal("900.001"), "A"),     # one thousandth more is A
    ("0", Decimal("800"), "C"),               # exactly 800 is C
    ("0.005", Decimal("800.001"), "B"),
])
def test_the_bands_at_their_edges(public: str, score: Decimal, grade: str) -> None:
    result = evaluate_subject(miner(public), RULEBOOK, D(2024, 6, 30))
    assert (result.score, result.grade) == (score, grade)


def test_the_score_is_exact_and_normalised() -> None:
    result = evaluate_subject(miner("812.35"), RULEBOOK, D(2024, 6, 30))
    assert str(result.score) == "962.47"


def test_offence_places_and_the_tier_they_give() -> None:
    violations, _ = records(violation("b", "M37", 2, D(2023, 1, 1)), violation("a", "M37", 2, D(2023, 1, 1)),
                            violation("c", "M37", 2, D(2022, 1, 1)), violation("d", "M01", 1, D(2020, 1, 1)))
    assert offence_places(violations, {"M37"}) == {"c": 1, "a": 2, "b": 3}
    bands = [CountBand(2, 1, 1), CountBand(3, 2, None)]
    assert [offence_tier(bands, count) for count in (1, 2, 9)] == [2, 3, 3]
    assert offence_tier([CountBand(2, 2, 3)], 1) is None


def test_the_count_warning_is_its_template_filled() -> None:
    text = count_warning("v-2", "M37", 2, 2, 3)
    assert text == "record v-2: tier 2 is stated, but offence number 2 is tier 3 of M37; the stated tier is used — " \
                   "check it"
    assert sum(isinstance(piece, int) for piece in COUNT_WARNING) == 5


def test_two_versions_of_the_law_live_side_by_side() -> None:
    """No global state: days of two rulebooks are independent values."""
    miner_day, agency_day = RULEBOOK.day(D(2024, 6, 30)), shipped("agency").day(D(2024, 6, 30))
    assert miner_day.law.kind == "miner" and agency_day.law.kind == "agency"
    assert set(miner_day.tiers).isdisjoint(agency_day.tiers)
