"""Derived facts: tiers from quantities (I60), M37 from the offence count (I59), A06 from a contract (I58)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mincredit._engine import SubjectResult, evaluate, evaluate_subject
from mincredit.facts._models import Subject
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import load_rulebook

D = dt.date
MINER, AGENCY = "91150600MA13R7T5Q6", "12150000MB1A2C3D4A"


@cache
def book(name: str) -> CompiledRulebook:
    return load_rulebook(name)


def subject(records: list[dict[str, Any]], kind: str = "miner") -> Subject:
    return Subject.model_validate({"uscc": MINER if kind == "miner" else AGENCY, "name": "某某", "kind": kind,
                                   "public_score": 850, "records": records})


AS_OF = D(2024, 6, 30)


def run(records: list[dict[str, Any]], as_of: dt.date = AS_OF, kind: str = "miner") -> SubjectResult:
    evaluation = evaluate([subject(records, kind)], book(kind), as_of)
    assert evaluation.errors == [], [e.describe() for e in evaluation.errors]
    return evaluation.results[0]


def tier_of(records: list[dict[str, Any]], record_id: str = "v-1", **kwargs: Any) -> int | None:
    item = next(i for i in run(records, **kwargs).items if i.record_id == record_id)
    return item.tier


def gain(amount: Any, indicator: str = "M08", **extra: Any) -> dict[str, Any]:
    return {"id": "v-1", "type": "violation", "indicator": indicator, "determined_on": "2024-01-10",
            "quantities": {"illegal_gain": amount}, **extra}


# ---------------------------------------------------------------- quantities


@pytest.mark.parametrize(("amount", "tier"), [
    ("0 元", 2), ("5 万元", 2), ("50000 元", 2), ("50000.01 元", 3), ("5.0001万元", 3),
    ("20 万元", 3), ("200000.00 元", 3), ("200001 元", 4), ({"value": "20.5", "unit": "万元"}, 4),
])
def test_m08_illegal_gain_picks_the_tier_at_each_boundary(amount: Any, tier: int) -> None:
    assert tier_of([gain(amount)]) == tier


def test_the_explanation_names_the_condition() -> None:
    item = run([gain("12 万元")]).items[0]
    assert item.tier_source == "quantity"
    assert "illegal_gain 12 万元 is in (5 万元, 20 万元] (the condition of M08.3)" in item.explanation


def test_a_stated_tier_contradicting_its_own_condition_warns_and_is_kept() -> None:
    result = run([gain("12 万元", tier=2)])
    assert result.items[0].tier == 2
    assert any("tier 2 is stated" in w and "tier 3" in w for w in result.warnings)
    assert run([gain("3 万元", tier=2)]).warnings == ()
    assert run([gain("3 万元", tier=1)]).warnings == ()   # tier 1 has no condition: selected by its facts


@pytest.mark.parametrize(("span", "tier"), [
    ({"from": "2020-03-01", "to": "2021-03-01"}, 1),    # exactly one year (I39)
    ({"from": "2020-03-01", "to": "2021-03-02"}, 2),
    ({"from": "2020-03-01", "to": "2023-03-01"}, 2),    # exactly three years
    ({"from": "2023-03-01"}, 1),                         # to the day of determination, 2024-01-10
])
def test_m35_time_on_the_abnormal_list(span: dict[str, str], tier: int) -> None:
    record = {"id": "v-1", "type": "violation", "indicator": "M35", "determined_on": "2024-01-10",
              "quantities": {"abnormal_list_time": span}}
    assert tier_of([record]) == tier


def test_m35_beyond_three_years_has_no_tier() -> None:
    record = {"id": "v-1", "type": "violation", "indicator": "M35", "determined_on": "2024-01-10",
              "quantities": {"abnormal_list_time": {"from": "2020-01-01", "to": "2023-01-02"}}}
    evaluation = evaluate([subject([record])], book("miner"), D(2024, 6, 30))
    assert [e.field for e in evaluation.errors] == ["tier"]
    assert "state the tier" in evaluation.errors[0].message


def test_facts_the_rulebook_cannot_read_are_errors() -> None:
    def errors(record: dict[str, Any]) -> list[tuple[str | None, str]]:
        evaluation = evaluate([subject([record])], book("miner"), D(2024, 6, 30))
        return [(e.field, e.message) for e in evaluation.errors]

    assert errors({"id": "v-1", "type": "violation", "indicator": "M08", "determined_on": "2024-01-10"})[0][0] == "tier"
    assert errors(gain("30 day"))[0][0] == "quantities"                     # days cannot measure money
    assert errors(gain("3 万元") | {"quantities": {"gain": "3 万元"}})[0][0] == "quantities.gain"


# ---------------------------------------------------------------- M37: first or repeated


def m37(rid: str, on: str, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "type": "violation", "indicator": "M37", "determined_on": on, **extra}


def test_m37_first_and_repeated_offences_from_the_subjects_own_records() -> None:
    result = run([m37("v-2", "2023-06-01"), m37("v-1", "2022-01-01")])
    tiers = {i.record_id: (i.tier, i.tier_source) for i in result.items}
    assert tiers == {"v-1": (2, "count"), "v-2": (3, "count")}
    assert "offence number 2 (repeated" in next(i for i in result.items if i.record_id == "v-2").explanation


def test_m37_a_stated_count_prevails() -> None:
    assert tier_of([m37("v-1", "2023-06-01", offence_count=2)]) == 3
    result = run([m37("v-1", "2023-06-01", tier=3)])
    assert result.items[0].tier == 3 and any("offence number 1" in w for w in result.warnings)


# ---------------------------------------------------------------- A06 from a contract (art. 10)


def contract(**extra: Any) -> dict[str, Any]:
    return {"id": "c-1", "type": "contract", "contract_kind": "fiscal_project", "due_on": "2023-01-31", **extra}


@pytest.mark.parametrize(("as_of", "tier"), [
    (D(2023, 4, 29), None),          # 2 months 29 days
    (D(2023, 4, 30), 1),             # exactly 3 months (31 January → 30 April, Civil Code art. 202)
    (D(2023, 7, 31), 1),             # exactly 6 months
    (D(2023, 8, 1), 2),
    (D(2024, 1, 31), 2),             # exactly one year
    (D(2024, 2, 1), 3),
])
def test_a06_escalates_as_time_passes(as_of: dt.date, tier: int | None) -> None:
    items = run([contract()], as_of, "agency").items
    assert [i.tier for i in items] == ([] if tier is None else [tier])
    if tier is not None:
        assert items[0].record_id == "c-1:A06" and items[0].derived_from == "c-1"
        assert items[0].counts_from == D(2023, 4, 30) and items[0].counted


def test_a06_stops_escalating_when_completed() -> None:
    done = contract(completed_on="2023-09-15")
    assert [i.tier for i in run([done], D(2026, 1, 1), "agency").items] == [2]
    assert run([contract(completed_on="2023-04-29")], D(2026, 1, 1), "agency").items == []


def test_a06_justified_delays_and_mining_rights_contracts_give_no_record() -> None:
    assert run([contract(delay_justified=True)], D(2024, 6, 30), "agency").items == []
    assert run([contract(contract_kind="mining_rights")], D(2024, 6, 30), "agency").items == []


def test_a06_stated_as_a_span_in_a_record() -> None:
    record = {"id": "v-1", "type": "violation", "indicator": "A06", "determined_on": "2023-08-01",
              "quantities": {"project_delay": {"from": "2023-01-31", "to": "2023-07-31"}}}
    assert tier_of([record], kind="agency") == 1


# ---------------------------------------------------------------- properties


THRESHOLDS = (Decimal(50000), Decimal(200000))   # M08: ≤ 5万元 → 2, ≤ 20万元 → 3, above → 4


@given(st.decimals(min_value=0, max_value=1000000, places=2, allow_nan=False, allow_infinity=False))
def test_m08_derived_tier_matches_a_plain_comparison(amount: Decimal) -> None:
    expected = 2 if amount <= THRESHOLDS[0] else 3 if amount <= THRESHOLDS[1] else 4
    result = evaluate_subject(subject([gain({"value": str(amount), "unit": "元"})]), book("miner"), D(2024, 6, 30))
    assert result.items[0].tier == expected


@given(st.integers(min_value=0, max_value=800))
def test_a06_tier_never_decreases_as_time_passes(days: int) -> None:
    start = D(2023, 1, 31)
    earlier = run([contract()], start + dt.timedelta(days=days), "agency").items
    later = run([contract()], start + dt.timedelta(days=days + 1), "agency").items
    assert (earlier[0].tier if earlier else 0) <= (later[0].tier if later else 0)
