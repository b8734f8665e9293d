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
             "decision_number": "1号", "signed_by": "张某", "notice_served_on": "2024-01-02",
             "listed_on": "2024-01-15"}]


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


# ---------------------------------------------------------------- a listed subject gets no incentives (I64)


def test_a_listed_subject_scoring_a_or_b_gets_no_incentive() -> None:
    a = run(listed(), score=1000)
    assert a.grade == "A"
    assert not {"art21-lower", "art22-services", "art22-honours"} & set(ids(a))
    focus = next(c for c in a.consequences if c.id == "sc33-10-supervision")
    assert focus.article == "国发〔2016〕33号（十）" and "so art21-lower (第二十一条) does not apply" in focus.because
    benefits = next(c for c in a.consequences if c.id == "art23-3-benefits")
    assert "so art22-services (第二十二条) does not apply" in benefits.because
    b = run([*listed(), v("v-1", indicator="M02", tier=2)], score=850)       # 170 + 800 × 0.8 = 810
    assert b.grade == "B" and "art21-lower" not in ids(b)
    agency = run(listed(), score=1000, kind="agency")
    assert agency.grade == "A" and "art22-bidding" not in ids(agency)


def test_while_the_listing_sanctions_are_suspended_the_incentives_apply() -> None:
    result = run(listed(objections=[{"raised_on": "2024-06-01"}]), score=1000)
    assert {"art21-lower", "art22-services", "art22-honours"} <= set(ids(result))
    assert all(c.suspended for c in result.consequences if c.id.startswith(("art23-3", "sc33-10")))


def test_the_day_the_subject_leaves_the_list_the_incentives_return() -> None:
    records = listed()
    records[1] = {**records[1], "listed_on": "2019-01-15", "notice_served_on": "2019-01-02"}
    records[0] = {**records[0], "determined_on": "2019-01-01"}
    # listed 2019-01-15: on the list through 2024-01-15, off it from 2024-01-16
    assert "art22-services" not in ids(run(records, score=1000, as_of=D(2024, 1, 15)))
    assert "art22-services" in ids(run(records, score=1000, as_of=D(2024, 1, 16)))


# ---------------------------------------------------------------- honours while listed (I65)


def honours() -> list[dict[str, Any]]:
    return [{"id": "h-1", "type": "honour", "honour": "国家级绿色矿山", "level": "ministry", "awarded_on": "2023-06-01",
             "valid_until": "2026-12-31"},
            {"id": "h-2", "type": "honour", "honour": "市级文明单位", "level": "city_government",
             "awarded_on": "2023-06-01", "valid_until": "2026-12-31"},
            {"id": "h-3", "type": "honour", "honour": "省级绿色矿山", "level": "provincial_department",
             "awarded_on": "2024-03-01", "valid_until": "2026-12-31"}]


def withdrawals(records: list[dict[str, Any]], as_of: dt.date) -> dict[str, Any]:
    from mincredit._timeline import analyse

    miner = book("miner")
    data = {"uscc": MINER, "name": "某某", "kind": "miner", "public_score": 1000, "records": records}
    analysis = analyse(Subject.model_validate(data), miner.source, miner.digest, as_of)
    assert analysis.withheld_honours == {rid: w.reason for rid, w in analysis.honour_withdrawals.items()
                                         if w.action == "exclude"}
    return {rid: (w.action, w.applies_from, w.listing_id, w.measure) for rid, w in
            analysis.honour_withdrawals.items()} | {"warnings": analysis.warnings}


def test_the_departments_honours_leave_the_bonus_from_the_listing_day() -> None:
    records = [*listed(), *honours()]
    assert withdrawals(records, D(2024, 1, 14)) == {"warnings": []}
    on = withdrawals(records, D(2024, 1, 15))
    from mincredit._timeline import analyse

    miner = book("miner")
    subject = Subject.model_validate({"uscc": MINER, "name": "某某", "kind": "miner", "public_score": 1000,
                                      "records": records})
    (reason,) = analyse(subject, miner.source, miner.digest, D(2024, 1, 15)).withheld_honours.values()
    assert reason == ("honour h-1 (国家级绿色矿山, 部级自然资源主管部门) does not count in the honour bonus "
                      "from 2024-01-15: the subject was put on the 地矿严重失信名单 (listing L-1 of 2024-01-15), "
                      "and 取消自然资源主管部门给予的政策优惠和行政便利措施，撤销自然资源主管部门授予的荣誉称号 "
                      "(第二十三条第（三）项)")
    assert on["h-1"] == ("exclude", D(2024, 1, 15), "L-1", "art23-3-benefits")
    assert on["h-2"] == ("warn", D(2024, 1, 15), "L-1", "sc33-10-honours")
    assert "h-3" not in on                                        # awarded later, on 2024-03-01
    assert any(w.startswith("honour h-2 (市级文明单位, 盟市人民政府（公署）) still counts") for w in on["warnings"])
    later = withdrawals(records, D(2024, 3, 1))
    assert later["h-3"] == ("exclude", D(2024, 3, 1), "L-1", "art23-3-benefits")


def test_a_removal_does_not_restore_the_honours_but_ends_the_warning() -> None:
    records = [*listed(obligations_fulfilled_on="2024-02-01"), *honours()]
    records[1] = {**records[1], "removal_applied_on": "2025-01-20", "removal_notice_from": "2025-02-10",
                  "removed_on": "2025-03-03"}
    after = withdrawals(records, D(2025, 3, 3))
    assert after["h-1"][0] == "exclude" and after["h-3"][0] == "exclude" and "h-2" not in after
    fresh = [*records, {"id": "h-4", "type": "honour", "honour": "部级奖励", "level": "ministry",
                        "awarded_on": "2025-03-03"}]
    assert "h-4" not in withdrawals(fresh, D(2025, 3, 3))           # awarded the day it left the list


def test_under_objection_the_honours_still_count_with_a_warning_and_a_revoked_listing_takes_nothing() -> None:
    objected = withdrawals([*listed(objections=[{"raised_on": "2024-06-01"}]), *honours()], D(2024, 6, 1))
    assert objected["h-1"][0] == "warn" and any("under objection" in w for w in objected["warnings"])
    revoked = listed()
    revoked[1] = {**revoked[1], "objections": [{"raised_on": "2024-02-01", "decided_on": "2024-02-20",
                                                "outcome": "revoked"}]}
    assert withdrawals([*revoked, *honours()], D(2024, 6, 1)) == {"warnings": []}


# ---------------------------------------------------------------- the review (复核) of an objection (I69)


def reviewed(**review: Any) -> dict[str, Any]:
    return v("v-1", objections=[{"raised_on": "2024-03-01", "decided_on": "2024-03-20", "outcome": "confirmed",
                                 "review": {"requested_on": "2024-03-25", **review}}])


def test_a_review_revokes_from_its_decision_and_suspends_nothing_while_pending() -> None:
    record = reviewed(decided_on="2024-04-15", outcome="revoked")
    pending = run([record], as_of=D(2024, 4, 14)).items[0]
    assert pending.counted and not pending.under_objection
    after = run([record], as_of=D(2024, 4, 15)).items[0]
    assert not after.counted and after.revoked_on == D(2024, 4, 15) and after.counts_until == D(2024, 4, 14)


def test_a_review_may_correct_the_record() -> None:
    record = reviewed(decided_on="2024-04-15", outcome="corrected", corrected={"tier": 1})
    after = run([record], as_of=D(2024, 4, 15)).items[0]
    assert after.tier == 1 and (after.correction or "").startswith(
        "corrected on 2024-04-15 on the review (复核) requested on 2024-03-25")


def test_a_review_not_decided_in_twenty_working_days_is_a_warning() -> None:
    # requested Mon 2024-03-25: 清明 2024-04-04…06 off, Sunday 04-07 a make-up working day → due 2024-04-23
    record = reviewed()
    assert run([record], as_of=D(2024, 4, 23)).warnings == ()
    (warning,) = run([record], as_of=D(2024, 4, 24)).warnings
    assert "was due by 2024-04-23 (20 working days, 内蒙古自治区公共信用信息管理办法第三十九条第二款)" in warning


def test_a_review_needs_a_decided_objection() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="the objection needs 'decided_on' and 'outcome' first"):
        Subject.model_validate({"uscc": MINER, "name": "某某", "kind": "miner", "public_score": 850, "records": [
            v("v-1", objections=[{"raised_on": "2024-03-01", "review": {"requested_on": "2024-03-25"}}])]})
    with pytest.raises(ValidationError, match="before the objection was decided"):
        Subject.model_validate({"uscc": MINER, "name": "某某", "kind": "miner", "public_score": 850, "records": [
            v("v-1", objections=[{"raised_on": "2024-03-01", "decided_on": "2024-03-20", "outcome": "confirmed",
                                  "review": {"requested_on": "2024-03-19"}}])]})


def test_the_linter_finds_a_withdrawal_or_an_honour_level_that_names_nothing() -> None:
    from mincredit.lint._checks import Parts, check_rulebook

    source = book("miner").source
    measures = [m.model_copy(update={"withdraws": ["art22-nope"]}) if m.id == "art23-3-awards"
                else m.model_copy(update={"honours": m.honours.model_copy(update={"levels": ["ministry", "county"]})})
                if m.id == "art23-3-benefits" and m.honours is not None else m for m in source.consequences]
    issues = check_rulebook(Parts.of(source.model_copy(update={"consequences": measures})), {"R005"})
    assert sorted(issue.message for issue in issues) == [
        "consequence art23-3-awards withdraws 'art22-nope', but there is no consequence with that id",
        "consequence art23-3-benefits acts on honours of level 'county', but the honours block has no such level "
        "(city_government, ministry, provincial_department, provincial_government)"]
    assert check_rulebook(Parts.of(source), {"R005"}) == []


def test_the_kernel_leaves_a_withheld_honour_out_of_the_bonus_and_says_why() -> None:
    """The analysis names the honours a listing takes out (I65); the kernel leaves them out, the explanation says so."""
    records = [*listed(), *honours()]
    before = run(records, score=1000, as_of=D(2024, 1, 14))
    on = run(records, score=1000, as_of=D(2024, 1, 15))
    items = {item.record_id: item for item in on.items or ()}
    assert before.honour_bonus == 100 and on.honour_bonus == 50          # h-1 (100) out, h-2 (50) still counts
    assert not items["h-1"].counted and items["h-1"].withheld_because is not None
    assert items["h-1"].explanation == f"not counted: {items['h-1'].withheld_because}"
    assert items["h-2"].counted
