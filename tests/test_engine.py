"""Hand-computed evaluations at every band and date boundary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from builders import AGENCY_USCC, honour, miner, shipped, subject_data, violation

from mincredit._engine import evaluate, evaluate_subject
from mincredit._report import evaluation_json
from mincredit.facts._models import Subject

AS_OF = dt.date(2024, 6, 30)


def score_of(subject: Subject, as_of: dt.date = AS_OF):
    return evaluate_subject(subject, shipped("miner"), as_of)


def test_public_score_alone_is_exact():
    result = score_of(miner("812.35"))
    assert result.score == Decimal("962.47")
    assert str(result.score) == "962.47"
    assert '"score": "962.47"' in evaluation_json(evaluate([miner("812.35")], shipped("miner"), AS_OF))


def test_the_issue_example_scores_890():
    # 850 × 20% + (1000 − 200 + 100) × 80% = 170 + 720 = 890
    result = score_of(miner("850", [
        violation("v-1", "M03", 2, "2023-05-10"),
        honour("h-1", "国家级绿色矿山", "ministry", "2023-01-01", "2025-12-31"),
    ]))
    assert (result.score, result.grade, result.grade_meaning) == (Decimal(890), "B", "信用良好")
    assert (result.deductions, result.honour_bonus) == (Decimal(200), Decimal(100))


@pytest.mark.parametrize(("public", "records", "score", "grade"), [
    ("1000", [], "1000", "A"),
    ("500.005", [], "900.001", "A"),
    ("500", [], "900", "B"),             # exactly 900 is B: the annex's N＞900 governs over art. 14 (I01)
    ("0.005", [], "800.001", "B"),
    ("0", [], "800", "C"),
    ("300.005", [violation("v", "M03", 2, "2024-01-01")], "700.001", "C"),
    ("300", [violation("v", "M03", 2, "2024-01-01")], "700", "D"),   # 60 + (1000 − 200) × 0.8
    ("200.005", [violation("v", "M01", 1, "2024-01-01")], "600.001", "D"),
    ("200", [violation("v", "M01", 1, "2024-01-01")], "600", "E"),   # 40 + 700 × 0.8
    ("0", [violation(f"v{i}", "M01", 2, "2024-01-01") for i in range(3)], "-160", "E"),  # no floor (I02)
])
def test_band_boundaries(public, records, score, grade):
    result = score_of(miner(public, records))
    assert result.score == Decimal(score)
    assert result.grade == grade


def test_points_are_per_occurrence():
    records = [violation(f"v{i}", "M12", 1, "2024-01-0" + str(i + 1)) for i in range(3)]
    result = score_of(miner("1000", records))
    assert result.deductions == 300
    assert result.score == Decimal(200) + Decimal(700) * Decimal("0.8")


@pytest.mark.parametrize(("determined", "as_of", "counted"), [
    ("2020-05-10", "2020-05-09", False),    # not yet determined on the evaluation date
    ("2020-05-10", "2020-05-10", True),     # counts from the day of determination
    ("2020-05-10", "2025-05-10", True),     # five years end on the corresponding day, inclusive
    ("2020-05-10", "2025-05-11", False),
    ("2020-02-29", "2025-02-28", True),     # no 29 February in 2025: the month's last day
    ("2020-02-29", "2025-03-01", False),
    ("2019-08-31", "2024-08-31", True),
    ("2019-08-31", "2024-09-01", False),
])
def test_violation_retention_boundaries(determined, as_of, counted):
    result = score_of(miner("1000", [violation("v", "M12", 1, determined)]), dt.date.fromisoformat(as_of))
    (item,) = result.items
    assert item.counted is counted
    assert result.deductions == (100 if counted else 0)
    if not counted and as_of > determined:
        assert "expired" in item.explanation and str(item.counts_until) in item.explanation
    if not counted and as_of < determined:
        assert "after the evaluation date" in item.explanation


@pytest.mark.parametrize(("awarded", "valid_until", "as_of", "counted"), [
    ("2023-01-01", None, "2022-12-31", False),
    ("2023-01-01", None, "2023-01-01", True),
    ("2023-01-01", None, "2024-01-01", True),    # one year from the award, Civil Code counting
    ("2023-01-01", None, "2024-01-02", False),
    ("2024-02-29", None, "2025-02-28", True),
    ("2024-02-29", None, "2025-03-01", False),
    ("2023-01-01", "2025-12-31", "2025-12-31", True),
    ("2023-01-01", "2025-12-31", "2026-01-01", False),
])
def test_honour_validity_boundaries(awarded, valid_until, as_of, counted):
    result = score_of(miner("0", [honour("h", "绿色矿山", "city_government", awarded, valid_until)]),
                      dt.date.fromisoformat(as_of))
    (item,) = result.items
    assert item.counted is counted
    assert result.honour_bonus == (50 if counted else 0)


def test_same_honour_counts_once_at_its_highest_level():
    result = score_of(miner("0", [
        honour("h-city", "绿色矿山", "city_government", "2024-01-05"),
        honour("h-min", "绿色矿山", "ministry", "2024-02-01"),
        honour("h-prov", "绿色矿山", "provincial_department", "2024-03-01"),
    ]))
    assert result.honour_bonus == 100
    by_id = {item.record_id: item for item in result.items}
    assert by_id["h-min"].counted and by_id["h-min"].applied == 100
    for other in ("h-city", "h-prov"):
        assert not by_id[other].counted
        assert "highest level" in by_id[other].explanation and "h-min" in by_id[other].explanation


def test_honour_bonus_is_capped_at_100_in_award_order():
    result = score_of(miner("0", [
        honour("h-b", "先进单位", "city_government", "2024-03-01"),
        honour("h-a", "绿色矿山", "ministry", "2024-02-01"),
        honour("h-c", "综合利用示范", "provincial_department", "2024-04-01"),
    ]))
    assert result.honour_bonus == 100
    applied = {item.record_id: item.applied for item in result.items}
    assert applied == {"h-a": 100, "h-b": 0, "h-c": 0}
    explanation = {item.record_id: item.explanation for item in result.items}
    assert "cap of 100" in explanation["h-b"]


def test_cap_can_cut_a_bonus_in_part():
    result = score_of(miner("0", [
        honour("h-1", "先进单位", "city_government", "2024-01-01"),
        honour("h-2", "绿色矿山", "ministry", "2024-02-01"),
    ]))
    applied = {item.record_id: item.applied for item in result.items}
    assert applied == {"h-1": 50, "h-2": 50}
    assert "in part" in next(i.explanation for i in result.items if i.record_id == "h-2")


def test_every_counted_item_carries_the_annex_wording():
    result = score_of(miner("900", [violation("v", "M15", 2, "2024-01-01")]))
    (item,) = result.items
    assert item.wording == "经责令限期内改正，并完成投入占最低勘查投入的50%的。"
    assert item.indicator_title == "未完成最低勘查投入"
    assert item.points == 200


def test_dissolved_subject_gets_no_score_and_says_why():
    result = score_of(miner("900", [violation("v", "M01", 1, "2024-01-01")], status="dissolved"))
    assert result.evaluated is False
    assert result.score is None and result.grade is None
    dissolved = shipped("miner").source.dissolved
    assert dissolved is not None and result.not_evaluated_reason is not None
    assert dissolved.article in result.not_evaluated_reason and dissolved.wording in result.not_evaluated_reason


def test_missing_public_score_is_an_error_not_a_zero():
    evaluation = evaluate([miner(None), miner("100", uscc="91150200MA0N8K2L4Q")], shipped("miner"), AS_OF)
    assert [r.uscc for r in evaluation.results] == ["91150200MA0N8K2L4Q"]
    (error,) = evaluation.errors
    assert error.field == "public_score" and "missing" in error.message


def test_dissolved_subject_needs_no_public_score():
    evaluation = evaluate([miner(None, status="dissolved")], shipped("miner"), AS_OF)
    assert evaluation.errors == [] and evaluation.results[0].evaluated is False


@pytest.mark.parametrize(("record", "field", "words"), [
    (violation("v-9", "M99", 1, "2024-01-01"), "indicator", "no indicator M99"),
    (violation("v-9", "M03", 7, "2024-01-01"), "tier", "has no tier 7; it has tiers 1–4"),
    (violation("v-9", "M09", 2, "2024-01-01"), "tier", "it has only tier 1"),
    (violation("v-9", "A05", 1, "2024-01-01"), "indicator", "no indicator A05 in rulebook miner 2020-draft; its "
                                                           "indicators are M01–M57"),
])
def test_records_the_rulebook_does_not_know_are_errors(record, field, words):
    evaluation = evaluate([miner("800", [record])], shipped("miner"), AS_OF)
    (error,) = evaluation.errors
    assert (error.record_id, error.field) == ("v-9", field)
    assert words in error.message
    assert evaluation.results == []


def test_a_subject_of_the_other_kind_is_refused_by_name():
    agency = Subject.model_validate(subject_data("800", uscc=AGENCY_USCC, kind="agency"))
    evaluation = evaluate([agency], shipped("miner"), AS_OF)
    (error,) = evaluation.errors
    assert error.field == "kind" and "scores 矿业权人 (kind 'miner')" in error.message
    assert "a rulebook for 'agency'" in error.message


def test_agency_rulebook_scores_agencies():
    agency = Subject.model_validate(subject_data("600", [violation("a", "A06", 3, "2024-01-01")],
                                                 uscc=AGENCY_USCC, kind="agency"))
    result = evaluate_subject(agency, shipped("agency"), AS_OF)
    # 600 × 0.2 + (1000 − 300) × 0.8 = 120 + 560
    assert result.score == 680 and result.grade == "D" and result.grade_meaning == "信用较差"


def test_a_bad_subject_never_changes_the_others():
    good = miner("700", [violation("v", "M05", 1, "2023-01-01")])
    alone = evaluate([good], shipped("miner"), AS_OF)
    bad = miner("700", [violation("v", "M05", 9, "2023-01-01")], uscc="91150200MA0N8K2L4Q")
    mixed = evaluate([bad, good, bad], shipped("miner"), AS_OF)
    assert mixed.results == alone.results
    assert len(mixed.errors) == 2
