"""The optional durable_rules backend gives exactly the native backend's proposals, derived records and
explanations — on the shipped rulebooks, the shipped scenarios, and hypothesis-generated facts."""

from __future__ import annotations

import datetime as dt
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mincredit._backends import NATIVE, Backend, backend_named
from mincredit._backends.durable import DurableUnavailable, available
from mincredit._engine import evaluate_analysed, rulebook_errors
from mincredit._timeline import Analysis, analyse
from mincredit._yaml import decode_utf8, read_yaml
from mincredit.facts._models import Subject
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import load_rulebook

needs_durable = pytest.mark.skipif(not available(), reason="durable_rules cannot be imported here (not installed, "
                                                           "or Python 3.13+, where 2.0.28 fails to import)")
D = dt.date
USCC = {"miner": "91150600MA13R7T5Q6", "agency": "12150000MB1A2C3D4A"}
SCENARIOS = Path(__file__).resolve().parents[2] / "rulebooks" / "scenarios"


@cache
def book(name: str) -> CompiledRulebook:
    return load_rulebook(name)


@cache
def durable() -> Backend:
    return backend_named("durable")


def view(analysis: Analysis, rulebook: CompiledRulebook, subject: Subject) -> dict[str, Any]:
    """What the two backends must agree on: proposals, derived records and tiers, and every explanation."""
    return {
        "proposals": [p.model_dump() for p in analysis.proposals],
        "violations": [(v.record.id, v.record.tier, v.tier_source, v.tier_reason, v.derived_from, v.correction)
                       for v in analysis.violations],
        "problems": analysis.problems,
        "warnings": analysis.warnings,
        "items": [(i.record_id, i.counted, i.explanation) for i in evaluate_analysed(
            subject, rulebook, rulebook.day(analysis.as_of), analysis, True).items or () if i.type == "violation"]
        if not analysis.problems else [],
    }


def both(subject: Subject, rulebook: CompiledRulebook, as_of: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    native = analyse(subject, rulebook.source, rulebook.digest, as_of, NATIVE)
    other = analyse(subject, rulebook.source, rulebook.digest, as_of, durable())
    return view(native, rulebook, subject), view(other, rulebook, subject)


def test_without_the_extra_the_backend_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable", None)
    with pytest.raises(DurableUnavailable, match=r"mincredit\[durable\]"):
        backend_named("durable")


@needs_durable
def test_the_shipped_scenarios_agree() -> None:
    checked = 0
    for path in sorted(SCENARIOS.glob("*.yaml")):
        document = read_yaml(decode_utf8(path.read_bytes())).data
        rulebook = book(document["rulebook"])
        for scenario in document["scenarios"]:
            for raw in scenario["facts"]["subjects"]:
                try:
                    subject = Subject.model_validate(raw)
                except ValueError:
                    continue
                if rulebook_errors(subject, rulebook, 0, None):
                    continue   # the scenarios' deliberate errors: nothing to compare
                native, other = both(subject, rulebook, scenario["as_of"])
                assert native == other, (path.name, scenario["name"])
                checked += 1
    assert checked > 50


BEHAVIOURS = ["弄虚作假", "商业贿赂", "虚假广告", "串通报价", "骗取竞买资格", "拒绝签订成交确认书", "其他"]
DAYS = st.dates(min_value=D(2018, 1, 1), max_value=D(2026, 6, 30))


@st.composite
def violation(draw: st.DrawFn, index: int, kind: str) -> dict[str, Any]:
    record: dict[str, Any] = {"id": f"v-{index}", "type": "violation", "determined_on": str(draw(DAYS))}
    if kind == "miner":
        choice = draw(st.sampled_from(["M08", "M37", "M35", "M05", "M01"]))
    else:
        choice = draw(st.sampled_from(["A06", "A02", "A01"]))
    record["indicator"] = choice
    quantity = {"M08": "illegal_gain", "M05": "illegal_gain", "A02": "project_funds"}.get(choice)
    if quantity is not None:
        amount = draw(st.decimals(min_value=0, max_value=80, places=draw(st.integers(0, 3))))
        record["quantities"] = {quantity: {"value": str(amount), "unit": draw(st.sampled_from(["万元", "元"]))}}
        if record["quantities"][quantity]["unit"] == "元":
            record["quantities"][quantity]["value"] = str(amount * 10000)
    elif choice in {"M35", "A06"}:
        start = draw(DAYS)
        span = {"from": str(start), "to": str(start + dt.timedelta(days=draw(st.integers(0, 1000))))}
        record["quantities"] = {"abnormal_list_time" if choice == "M35" else "project_delay": span}
        record["determined_on"] = span["to"]
    elif choice in {"M01", "A01"}:
        record["tier"] = draw(st.integers(1, 2))
    if draw(st.booleans()):
        penalty_kind = draw(st.sampled_from(["administrative", "criminal"]))
        penalty: dict[str, Any] = {"kind": penalty_kind}
        if penalty_kind == "administrative":
            penalty["procedure"] = draw(st.sampled_from(["general", "summary"]))
            penalty["status"] = draw(st.sampled_from(["unchallenged", "upheld", "under_review"]))
            record["info_kind"] = "penalty"
        else:
            penalty["status"] = draw(st.sampled_from(["final", "under_review"]))
            record["info_kind"] = draw(st.sampled_from(["criminal_judgment", "other"]))
        record["penalty"] = penalty
        record["behaviours"] = draw(st.lists(st.sampled_from(BEHAVIOURS), max_size=2))
    if draw(st.integers(0, 4)) == 0:
        raised = draw(DAYS)
        record["objections"] = [{"raised_on": str(raised)}]
    return record


@st.composite
def subject(draw: st.DrawFn) -> tuple[Subject, str, dt.date]:
    kind = draw(st.sampled_from(["miner", "agency"]))
    records: list[dict[str, Any]] = [draw(violation(n, kind)) for n in range(draw(st.integers(0, 5)))]
    if draw(st.booleans()):
        records.append({"id": "j-1", "type": "judgment_refusal", "determined_on": str(draw(DAYS)),
                        "able_to_perform": draw(st.booleans())})
    if kind == "agency" and draw(st.booleans()):
        due = draw(DAYS)
        contract: dict[str, Any] = {"id": "c-1", "type": "contract", "due_on": str(due),
                                    "contract_kind": draw(st.sampled_from(["fiscal_project", "mining_rights"]))}
        if draw(st.booleans()):
            contract["completed_on"] = str(due + dt.timedelta(days=draw(st.integers(1, 900))))
        records.append(contract)
    if records and draw(st.booleans()):
        listed = draw(DAYS)
        records.append({"id": "L-1", "type": "listing", "article": 16, "item": 1, "based_on": [records[0]["id"]],
                        "decided_by": "某局", "decision_number": "1号", "listed_on": str(listed),
                        "notice_served_on": str(listed - dt.timedelta(days=draw(st.integers(0, 12))))})
    data = {"uscc": USCC[kind], "name": "某某", "kind": kind, "public_score": 800, "records": records,
            "roles": draw(st.lists(st.sampled_from(["bidder", "winner"]), max_size=2, unique=True))}
    return Subject.model_validate(data), kind, draw(DAYS)


@needs_durable
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject())
def test_hypothesis_generated_facts_agree(case: tuple[Subject, str, dt.date]) -> None:
    subject_, kind, as_of = case
    native, other = both(subject_, book(kind), as_of)
    assert native == other


@needs_durable
def test_more_subjects_than_durable_rules_has_states() -> None:
    # one ruleset holds at most 1,024 states; the backend resets its one state between subjects
    rulebook = book("miner")
    record = {"id": "v-1", "type": "violation", "indicator": "M05", "determined_on": "2024-01-10",
              "quantities": {"illegal_gain": "12 万元"}, "info_kind": "penalty", "behaviours": ["弄虚作假"],
              "penalty": {"kind": "administrative", "procedure": "general", "status": "upheld"}}
    subject_ = Subject.model_validate({"uscc": USCC["miner"], "name": "某某", "kind": "miner", "public_score": 800,
                                       "records": [record]})
    for _ in range(1100):
        result = analyse(subject_, rulebook.source, rulebook.digest, D(2024, 6, 30), durable())
        assert [p.trigger for p in result.proposals] == ["art16-1-penalty"]
        assert result.violations[0].record.tier == 2


@needs_durable
def test_two_rulebooks_and_two_backends_in_one_process() -> None:
    from mincredit._backends.durable import DurableBackend

    first, second = DurableBackend(), DurableBackend()
    for name in ("miner", "agency"):
        rulebook = book(name)
        data = {"uscc": USCC[name], "name": "某某", "kind": name, "public_score": 800,
                "records": [{"id": "j-1", "type": "judgment_refusal", "determined_on": "2024-01-01",
                             "able_to_perform": True}]}
        subject_ = Subject.model_validate(data)
        for backend in (first, second):
            result = analyse(subject_, rulebook.source, rulebook.digest, D(2024, 6, 30), backend)
            assert [p.trigger for p in result.proposals] == ["art16-2"]


# ---------------------------------------------------------------- the test run's warnings


def _warn_as(module: str) -> None:
    """Raise the DeprecationWarning Python 3.12 raises in durable_rules, as if from ``module``'s own code."""
    code = compile("warnings.warn(MESSAGE, DeprecationWarning, stacklevel=1)", module.replace(".", "/") + ".py", "exec")
    exec(code, {"__name__": module, "warnings": __import__("warnings"),
                "MESSAGE": "datetime.datetime.utcfromtimestamp() is deprecated and scheduled for removal"})


def test_durable_rules_deprecation_warnings_are_filtered_by_module() -> None:
    """pyproject.toml silences durable_rules' DeprecationWarnings (~10,500 a run on Python 3.12), and only
    those: the same warning raised from mincredit's code, or from a module whose name merely starts alike, shows."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:   # keeps the filters pytest installed from pyproject.toml
        _warn_as("durable.engine")
        _warn_as("durable")
    assert caught == []
    with warnings.catch_warnings(record=True) as caught:
        _warn_as("mincredit._backends.durable")
        _warn_as("durable_rules_engine")
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]
