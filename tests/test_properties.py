"""Invariants of evaluation, checked on generated subjects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from builders import honour, miner, shipped, violation
from hypothesis import given, settings
from hypothesis import strategies as st

from mincredit._engine import evaluate_subject
from mincredit._periods import period_end

RULEBOOK = shipped("miner")
TIER_KEYS = sorted((indicator.code, tier.tier) for indicator in RULEBOOK.law.indicators for tier in indicator.tiers)
LEVELS = sorted(level.id for level in RULEBOOK.law.levels)
GRADE_ORDER = RULEBOOK.law.grade_labels   # the rulebook's order, best first
AS_OF = dt.date(2024, 6, 30)

dates = st.dates(min_value=dt.date(2017, 1, 1), max_value=dt.date(2026, 12, 31))
public_scores = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=12))
    out = []
    for index in range(count):
        if draw(st.booleans()):
            code, tier = draw(st.sampled_from(TIER_KEYS))
            out.append(violation(f"r{index}", code, tier, draw(dates)))
        else:
            awarded = draw(dates)
            valid = draw(st.one_of(st.none(), st.dates(min_value=awarded, max_value=dt.date(2028, 12, 31))))
            title = draw(st.sampled_from(["绿色矿山", "先进单位", "综合利用示范"]))
            out.append(honour(f"r{index}", title, draw(st.sampled_from(LEVELS)), awarded, valid))
    return out


def outcome(result):
    return (result.score, result.grade, result.deductions, result.honour_bonus,
            [(i.record_id, i.counted, i.applied, i.explanation) for i in result.items])


@settings(max_examples=150, deadline=None)
@given(public_scores, records(), st.randoms(use_true_random=False))
def test_the_order_of_records_never_matters(public, recs, random):
    shuffled = list(recs)
    random.shuffle(shuffled)
    assert outcome(evaluate_subject(miner(public, recs), RULEBOOK, AS_OF)) == \
        outcome(evaluate_subject(miner(public, shuffled), RULEBOOK, AS_OF))


@settings(max_examples=150, deadline=None)
@given(public_scores, records(), st.sampled_from(TIER_KEYS), st.booleans(),
       st.integers(min_value=1, max_value=2000))
def test_an_expired_or_future_violation_never_changes_a_result(public, recs, key, future, days):
    before = evaluate_subject(miner(public, recs), RULEBOOK, AS_OF)
    if future:
        determined = AS_OF + dt.timedelta(days=days)
    else:
        # the last day before the as-of date whose five years have run out, and earlier
        determined = period_end(AS_OF, years=-5) - dt.timedelta(days=days)
        assert period_end(determined, years=5) < AS_OF
    after = evaluate_subject(miner(public, [*recs, violation("extra", *key, determined)]), RULEBOOK, AS_OF)
    assert (after.score, after.grade, after.deductions, after.honour_bonus) == \
        (before.score, before.grade, before.deductions, before.honour_bonus)


@settings(max_examples=150, deadline=None)
@given(public_scores, records(), st.sampled_from(TIER_KEYS), st.integers(min_value=0, max_value=1800))
def test_more_deductions_never_raise_a_grade(public, recs, key, days_ago):
    before = evaluate_subject(miner(public, recs), RULEBOOK, AS_OF)
    determined = AS_OF - dt.timedelta(days=days_ago)
    after = evaluate_subject(miner(public, [*recs, violation("extra", *key, determined)]), RULEBOOK, AS_OF)
    assert after.score is not None and before.score is not None
    assert after.score == before.score - RULEBOOK.tables.tiers[key[0]][key[1]].points * Decimal("0.8")
    assert GRADE_ORDER.index(after.grade or "E") >= GRADE_ORDER.index(before.grade or "E")


@settings(max_examples=150, deadline=None)
@given(public_scores, records(), dates)
def test_the_honour_bonus_is_never_above_100(public, recs, as_of):
    result = evaluate_subject(miner(public, recs), RULEBOOK, as_of)
    assert 0 <= result.honour_bonus <= 100
    assert result.honour_bonus == sum(i.applied for i in result.items if i.type == "honour")
    assert result.deductions == sum(i.applied for i in result.items if i.type == "violation")


@settings(max_examples=100, deadline=None)
@given(public_scores, records(), dates)
def test_the_score_is_the_formula_exactly(public, recs, as_of):
    result = evaluate_subject(miner(public, recs), RULEBOOK, as_of)
    expected = public * Decimal("0.2") + (1000 - result.deductions + result.honour_bonus) * Decimal("0.8")
    assert result.score == expected
    band = {"A": (900, None), "B": (800, 900), "C": (700, 800), "D": (600, 700), "E": (None, 600)}[result.grade]
    low, high = band
    assert (low is None or expected > low) and (high is None or expected <= high)
