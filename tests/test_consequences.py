"""What each grade or listing entails (arts. 21–24), objections (art. 15; regional art. 38; 33号 (二十二)),
and the unchanged output of documents that use none of this."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Any

from mincredit._engine import SubjectResult, evaluate, evaluate_subject
from mincredit._report import evaluation_data
from mincredit.facts._models import Subject
from mincredit.rules._compiling import CompiledRulebook, compile_rulebook
from mincredit.rules._registry import load_rulebook

D = dt.date
MINER, AGENCY = "91150600MA13R7T5Q6", "12150000MB1A2C3D4A"
OLD_RESULT_KEYS = {"uscc", "name", "kind", "status", "evaluated", "grade", "grade_meaning", "score", "public_score",
                   "deductions", "honour_bonus", "not_evaluated_reason", "items"}
OLD_ITEM_KEYS = {"record_id", "type", "counted", "points", "applied", "counts_from", "counts_until", "explanation",
                 "indicator", "tier", "indicator_title", "wording", "honour", "level", "level_name"}


@cache
def book(name: str) -> CompiledRulebook:
    return load_rulebook(name)


AS_OF = D(2024, 6, 30)


def run(records: list[dict[str, Any]], *, score: int = 850, kind: str = "miner", as_of: dt.date = AS_OF,
        rulebook: CompiledRulebook | None = None) -> SubjectResult:
    data = {"uscc": MINER if kind == "miner" else AGENCY, "name": "某某", "kind": kind, "public_score": score,
            "records": records}
    return evaluate_subject(Subject.model_validate(data), rulebook or book(kind), as_of)


def ids(result: SubjectResult) -> list[str]:
    return [c.id for c in result.consequences]


def v(rid: str, indicator: str = "M01", tier: int = 2, on: str = "2024-01-10", **extra: Any) -> dict[str, Any]:
    return {"id": rid, "type": "violation", "indicator": indicator, "tier": tier, "determined_on": on, **extra}


def test_grade_a_incentives_differ_by_kind() -> None:
    assert run([], score=1000).grade == "A"
    assert ids(run([], score=1000)) == ["art21-lower", "art22-services", "art22-honours"]
    agency = run([], score=1000, kind="agency")
    assert ids(agency) == ["art21-lower", "art22-services", "art22-bidding", "art22-honours"]
    assert all(c.article.startswith("第二十") for c in agency.consequences)


def test_grade_c_entails_nothing_and_b_only_lighter_supervision() -> None:
    c = run([v("v-1", indicator="M02", tier=3)], score=850)   # 170 + (1000 − 300) × 0.8 = 730 → C
    assert c.grade == "C" and c.consequences == ()
    result = run([v("v-1", indicator="M02", tier=2)], score=850)   # 170 + 800 × 0.8 = 810 → B
    assert result.grade == "B" and ids(result) == ["art21-lower"]


def test_grade_d_and_e_sanctions_name_their_kind() -> None:
    d = run([v("v-1", indicator="M01", tier=2)], score=850)   # 170 + 600 × 0.8 = 650 → D
    assert d.grade == "D"
    assert ids(d) == ["art21-higher", "art23-1-review", "art23-1-awards", "art23-1-benefits", "art23-4-other"]
    assert d.consequences[1].wording.startswith("对矿业权人")
    e = run([v("v-1", indicator="A01", tier=2), v("v-2", indicator="A01", tier=2)], score=0, kind="agency")
    assert e.grade == "E" and "art23-2-projects" in ids(e) and "art23-2-agreements" not in ids(e)


def listed(**extra: Any) -> list[dict[str, Any]]:
    return [{"id": "j-1", "type": "judgment_refusal", "determined_on": "2024-01-01", "able_to_perform": True, **extra},
            {"id": "L-1", "type": "listing", "article": 16, "item": 2, "based_on": ["j-1"], "decided_by": "某市局",
             "decision_number": "1号", "notice_served_on": "2024-01-02", "listed_on": "2024-01-15"}]


def test_a_listed_subject_gets_the_blacklist_sanctions_and_the_push_for_joint_sanctions() -> None:
    result = run(listed(), score=1000)
    assert result.grade == "A"
    for measure in ("art23-3-capacity", "art23-3-procurement", "art23-3-permits", "art23-3-benefits", "art24-push"):
        assert measure in ids(result)
    assert not any(c.suspended for c in result.consequences)


def test_joint_sanctions_are_suspended_while_the_information_is_verified() -> None:
    result = run(listed(objections=[{"raised_on": "2024-06-01"}]), score=1000)
    push = next(c for c in result.consequences if c.id == "art24-push")
    assert push.suspended and "33号" in (push.suspended_because or "")
    assert not next(c for c in result.consequences if c.id == "art21-lower").suspended
    assert result.proposals[0].under_objection == ["j-1"]
    decided = run(listed(objections=[{"raised_on": "2024-06-01", "decided_on": "2024-06-20",
                                      "outcome": "confirmed"}]), score=1000)
    assert not any(c.suspended for c in decided.consequences)


def test_another_sectors_blacklist_brings_the_art_24_joint_sanctions() -> None:
    record = {"id": "o-1", "type": "other_sector_blacklist", "sector": "税务", "listed_on": "2024-01-01",
              "removed_on": "2024-07-01"}
    assert "art24-other-sector" in ids(run([record], kind="agency"))
    assert "art24-other-sector" not in ids(run([record], kind="agency", as_of=D(2024, 7, 1)))


# ---------------------------------------------------------------- objections


def test_a_record_under_objection_is_marked_and_still_counts() -> None:
    record = v("v-1", objections=[{"raised_on": "2024-06-03"}])
    item = run([record]).items[0]
    assert item.counted and item.under_objection and item.objection_raised_on == D(2024, 6, 3)
    # 20 working days from Mon 2024-06-03: the 端午 holiday on 06-10 moves the end to 2024-07-02
    assert "to be verified by 2024-07-02" in item.explanation
    assert not run([record], as_of=D(2024, 6, 2)).items[0].under_objection


def test_a_rulebook_may_stop_counting_a_record_under_objection() -> None:
    source = book("miner").source
    assert source.objections is not None
    strict = compile_rulebook(source.model_copy(update={
        "objections": source.objections.model_copy(update={"counts_in_score": False})}))
    item = run([v("v-1", objections=[{"raised_on": "2024-06-03"}])], rulebook=strict).items[0]
    assert not item.counted and item.explanation.startswith("not counted while under objection")


def test_a_revoked_record_stops_counting_from_the_finding_and_history_keeps_both() -> None:
    record = v("v-1", objections=[{"raised_on": "2024-03-01", "decided_on": "2024-03-20", "outcome": "revoked"}])
    before = run([record], as_of=D(2024, 3, 19)).items[0]
    assert before.counted and before.under_objection
    after = run([record], as_of=D(2024, 3, 20)).items[0]
    assert not after.counted and after.revoked_on == D(2024, 3, 20) and after.counts_until == D(2024, 3, 19)


def test_a_corrected_record_is_read_as_corrected_from_the_finding() -> None:
    record = v("v-1", tier=2, objections=[{"raised_on": "2024-03-01", "decided_on": "2024-03-20",
                                           "outcome": "corrected", "corrected": {"tier": 1}}])
    assert run([record], as_of=D(2024, 3, 19)).items[0].tier == 2
    after = run([record], as_of=D(2024, 3, 20)).items[0]
    assert after.tier == 1 and "corrected on 2024-03-20" in (after.correction or "")


# ---------------------------------------------------------------- older documents keep their output


def test_a_document_without_the_new_fields_keeps_its_exact_keys() -> None:
    data = {"uscc": MINER, "name": "某某", "kind": "miner", "public_score": 850,
            "records": [v("v-1", indicator="M02", tier=3)]}
    evaluation = evaluate([Subject.model_validate(data)], book("miner"), D(2024, 6, 30))
    result = evaluation_data(evaluation)["results"][0]
    assert result["grade"] == "C" and set(result) == OLD_RESULT_KEYS
    assert set(result["items"][0]) == OLD_ITEM_KEYS
    assert result["items"][0]["explanation"] == "counted: M02 tier 3, −300 points, counts through 2029-01-10"
    json.dumps(evaluation_data(evaluation), ensure_ascii=False)


def test_every_rule_of_the_new_blocks_quotes_the_regulation_verbatim_at_its_line() -> None:
    from pathlib import Path

    from mincredit.rules._schema_articles import ArticleRule, BlacklistTrigger

    path = Path(__file__).resolve().parent.parent / "docs" / "regulation" / "000_c25b4c134fa0cdc3.txt"
    raw = path.read_text(encoding="utf-8")
    text, lines = raw.replace("\t", "").replace("\n", ""), raw.split("\n")
    problems = []
    for name in ("miner", "agency"):
        source = book(name).source
        assert source.blacklist and source.repair and source.removal and source.objections and source.derived
        rules: list[ArticleRule | BlacklistTrigger] = [
            *source.blacklist.triggers, source.blacklist.decision, source.blacklist.statement,
            *([source.blacklist.retention_extension] if source.blacklist.retention_extension else []),
            source.repair.natural, source.repair.application, source.repair.listed, source.repair.decision,
            source.removal.natural, source.removal.application, source.removal.notice,
            source.objections.score, source.objections.verification, source.objections.suspension,
            source.objections.correction, *source.consequences, *source.derived.contract_overdue,
            *source.derived.offence_count]
        for rule in rules:
            passages = rule.wording.split(" | ")
            problems += [f"{name}: {p!r}" for p in passages if p not in text]
            if rule.line is not None and passages[0] not in lines[rule.line - 1].replace("\t", ""):
                problems.append(f"{name}: {passages[0]!r} is not on line {rule.line}")
    assert problems == []
