"""The serious-blacklist: triggers (arts. 16–17), the listing procedure (arts. 18–19), retention while listed
(art. 11) and removal (arts. 26, 28), with hand-computed dates at every boundary."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import pytest

from mincredit._engine import SubjectResult, evaluate, evaluate_subject
from mincredit.facts._models import Subject
from mincredit.rules._compiling import CompiledRulebook, compile_rulebook
from mincredit.rules._registry import load_rulebook

MINER = "91150600MA13R7T5Q6"
D = dt.date


@cache
def book(name: str) -> CompiledRulebook:
    return load_rulebook(name)


def subject(records: list[dict[str, Any]], *, roles: list[str] | None = None, kind: str = "miner") -> Subject:
    data: dict[str, Any] = {"uscc": MINER, "name": "某某矿业有限公司", "kind": kind, "public_score": 850,
                            "records": records}
    if roles:
        data["roles"] = roles
    return Subject.model_validate(data)


def penalised(rid: str = "v-1", *, on: str = "2023-05-10", status: str = "upheld", procedure: str = "general",
              behaviours: list[str] | None = None, info_kind: str = "penalty", kind: str = "administrative",
              indicator: str = "M05", tier: int = 1, **extra: Any) -> dict[str, Any]:
    penalty: dict[str, Any] = {"kind": kind, "status": status}
    if kind == "administrative":
        penalty["procedure"] = procedure
    return {"id": rid, "type": "violation", "indicator": indicator, "tier": tier, "determined_on": on,
            "info_kind": info_kind, "penalty": penalty,
            "behaviours": ["弄虚作假"] if behaviours is None else behaviours, **extra}


def listing(based_on: list[str], *, notice: str | None = "2023-06-01", listed: str = "2023-06-09",
            **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": "L-1", "type": "listing", "article": 16, "item": 1, "based_on": based_on,
                            "decided_by": "鄂尔多斯市自然资源局", "decision_number": "鄂自然资信〔2023〕1号",
                            "listed_on": listed, **extra}
    if notice is not None:
        data["notice_served_on"] = notice
    return data


def run(records: list[dict[str, Any]], as_of: dt.date, name: str = "miner", **kwargs: Any) -> SubjectResult:
    return evaluate_subject(subject(records, **kwargs), book(name), as_of)


def triggers(result: SubjectResult) -> list[str]:
    return [proposal.trigger for proposal in result.proposals]


# ---------------------------------------------------------------- art. 16 and art. 17 triggers


@pytest.mark.parametrize(("record", "expected"), [
    (penalised(), ["art16-1-penalty"]),
    (penalised(status="unchallenged", behaviours=["虚假广告", "其他"]), ["art16-1-penalty"]),
    (penalised(procedure="summary"), []),                          # art. 16 ¶2
    (penalised(status="under_review"), []),                        # not yet art. 8 item (二) information
    (penalised(behaviours=["其他行为"]), []),                        # not a behaviour art. 16 names (I49)
    (penalised(behaviours=[]), []),
    (penalised(info_kind="rectification"), []),                    # art. 8 item (六) is not a ground
    (penalised(info_kind="criminal_judgment", kind="criminal", status="final"), ["art16-1-criminal"]),
    (penalised(info_kind="criminal_judgment", kind="criminal", status="under_review"), []),
])
def test_article_16_item_1(record: dict[str, Any], expected: list[str]) -> None:
    assert triggers(run([record], D(2024, 6, 30))) == expected


def test_article_16_items_2_and_3_and_the_proposal_names_records_and_deciding_level() -> None:
    records = [
        {"id": "j-1", "type": "judgment_refusal", "determined_on": "2024-01-05", "able_to_perform": True},
        {"id": "j-2", "type": "judgment_refusal", "determined_on": "2024-01-06", "able_to_perform": False},
        {"id": "s-1", "type": "statutory_ground", "determined_on": "2024-02-01", "law": "某法第十条"},
    ]
    result = run(records, D(2024, 6, 30))
    assert triggers(result) == ["art16-2", "art16-3"]
    assert result.proposals[0].records == ["j-1"]
    assert result.proposals[0].article == "第十六条第一款第（二）项" and result.proposals[0].item == 2
    assert "盟市级、旗县级" in result.proposals[0].deciding and result.proposals[0].listing is None


def test_article_17_needs_the_role_the_behaviour_and_a_penalty() -> None:
    collusion = penalised(behaviours=["串通报价"], procedure="summary")
    assert triggers(run([collusion], D(2024, 6, 30), roles=["bidder"])) == ["art17-1"]   # no summary exclusion
    assert triggers(run([collusion], D(2024, 6, 30), roles=["winner"])) == []
    assert triggers(run([collusion], D(2024, 6, 30))) == []
    refused = penalised(behaviours=["拒绝签订成交确认书"], status="under_review")
    assert triggers(run([refused], D(2024, 6, 30), roles=["winner"])) == []
    refused = penalised(behaviours=["拒绝签订成交确认书"], kind="criminal", info_kind="criminal_judgment",
                        status="final")
    assert triggers(run([refused], D(2024, 6, 30), roles=["winner"])) == ["art17-3"]


def test_agencies_have_article_16_but_not_article_17() -> None:
    agency = "12150000MB1A2C3D4A"
    record = penalised(indicator="A01", behaviours=["弄虚作假", "串通报价"])
    data = {"uscc": agency, "name": "某某勘查院", "kind": "agency", "public_score": 900, "records": [record],
            "roles": ["bidder"]}
    result = evaluate_subject(Subject.model_validate(data), book("agency"), D(2024, 6, 30))
    assert triggers(result) == ["art16-1-penalty"]


def test_a_record_that_no_longer_counts_is_no_ground() -> None:
    record = penalised(on="2019-05-10")   # counts through 2024-05-10
    assert triggers(run([record], D(2024, 5, 10))) == ["art16-1-penalty"]
    assert triggers(run([record], D(2024, 5, 11))) == []
    assert triggers(run([record], D(2019, 5, 9))) == []     # not yet determined


def test_a_rulebook_without_a_blacklist_block_proposes_nothing_and_scores_the_same() -> None:
    source = book("miner").source
    bare = compile_rulebook(source.model_copy(update={"blacklist": None, "consequences": []}))
    records = [penalised()]
    plain = evaluate_subject(subject(records), bare, D(2024, 6, 30))
    full = run(records, D(2024, 6, 30))
    assert plain.proposals == () and full.proposals
    assert (plain.score, plain.grade) == (full.score, full.grade)


# ---------------------------------------------------------------- the procedure (arts. 18–19)


@pytest.mark.parametrize(("notice", "listed", "ok"), [
    # notice received Mon 2024-09-02: days 09-03 … 09-07 (a Saturday) → the window ends Mon 09-09 (art. 203)
    ("2024-09-02", "2024-09-09", False),
    ("2024-09-02", "2024-09-10", True),
    # received Wed 2024-09-04: 09-05 … 09-09 (Monday, a working day)
    ("2024-09-04", "2024-09-09", False),
    ("2024-09-04", "2024-09-10", True),
    # received 2024-09-26: the 5th day is 10-01 (National Day) → ends 10-08, the first working day after
    ("2024-09-26", "2024-10-08", False),
    ("2024-09-26", "2024-10-09", True),
])
def test_the_five_days_for_statement_and_defence(notice: str, listed: str, ok: bool) -> None:
    records = [penalised(on="2024-08-01"), listing(["v-1"], notice=notice, listed=listed)]
    status = run(records, D(2024, 12, 31)).listings[0]
    window = [check for check in status.checks if "statement and defence" in check.text]
    assert [check.ok for check in window] == [ok]
    assert status.procedure_ok is ok


def test_statement_window_end_is_reported() -> None:
    records = [penalised(on="2024-08-01"), listing(["v-1"], notice="2024-09-02", listed="2024-09-10")]
    assert run(records, D(2024, 12, 31)).listings[0].statement_ends_on == D(2024, 9, 9)


def test_the_notice_must_precede_the_decision_and_be_recorded() -> None:
    late = run([penalised(), listing(["v-1"], notice="2023-06-09", listed="2023-06-09")], D(2024, 1, 1))
    assert not late.listings[0].procedure_ok
    missing = run([penalised(), listing(["v-1"], notice=None)], D(2024, 1, 1))
    assert [c.text for c in missing.listings[0].checks if not c.ok] == [
        "no written notice (告知书) is recorded before the decision"]
    assert any("no written notice" in warning for warning in missing.warnings)


def test_the_deciding_level_and_the_records_it_rests_on_are_checked() -> None:
    wrong = run([penalised(), listing(["v-1", "v-9"], authority_level="region")], D(2024, 1, 1))
    failed = [c.text for c in wrong.listings[0].checks if not c.ok]
    assert any("自治区级" in text for text in failed)
    assert any("v-9" in text for text in failed)


# ---------------------------------------------------------------- on the list, and leaving it


def test_natural_removal_five_years_after_listing() -> None:
    records = [penalised(on="2021-03-01"), listing(["v-1"], notice="2021-03-02", listed="2021-03-15")]
    on_last_day = run(records, D(2026, 3, 15)).listings[0]
    assert on_last_day.on_list and on_last_day.natural_removal_on == D(2026, 3, 16)
    assert not run(records, D(2026, 3, 16)).listings[0].on_list


def test_natural_removal_from_29_february() -> None:
    records = [penalised(on="2020-02-01"), listing(["v-1"], notice="2020-02-10", listed="2020-02-29")]
    status = run(records, D(2025, 2, 28)).listings[0]
    assert status.on_list and status.natural_removal_on == D(2025, 3, 1)


def test_bad_information_keeps_counting_while_listed_and_stops_on_removal() -> None:
    # v-2 determined 2019-05-10 would count through 2024-05-10; the subject is listed 2021-03-15 … 2026-03-15
    records = [penalised(on="2021-03-01"),
               {"id": "v-2", "type": "violation", "indicator": "M01", "tier": 1, "determined_on": "2019-05-10"},
               {"id": "v-3", "type": "violation", "indicator": "M01", "tier": 1, "determined_on": "2016-01-01"},
               listing(["v-1"], notice="2021-03-02", listed="2021-03-15")]
    result = run(records, D(2026, 3, 15))
    item = next(i for i in result.items if i.record_id == "v-2")
    assert item.counted and item.counts_until == D(2026, 3, 15) and item.extended_by == "L-1"
    assert "2024-05-10" in item.explanation and "listing L-1" in item.explanation
    after = next(i for i in run(records, D(2026, 3, 16)).items if i.record_id == "v-2")
    assert not after.counted and after.counts_until == D(2026, 3, 15)
    old = next(i for i in result.items if i.record_id == "v-3")   # expired 2021-01-01, before the listing
    assert not old.counted and old.counts_until == D(2021, 1, 1) and old.extended_by is None


def test_a_removal_decision_ends_the_extension() -> None:
    records = [penalised(on="2021-03-01"),
               {"id": "v-2", "type": "violation", "indicator": "M01", "tier": 1, "determined_on": "2019-05-10"},
               listing(["v-1"], notice="2021-03-02", listed="2021-03-15", removed_on="2024-09-01",
                       removal_applied_on="2024-06-01", removal_notice_from="2024-08-01")]
    before = next(i for i in run(records, D(2024, 8, 31)).items if i.record_id == "v-2")
    assert before.counted and before.counts_until == D(2026, 3, 15)    # the removal is not known yet
    after = run(records, D(2024, 9, 1))
    assert not after.listings[0].on_list and after.listings[0].removal == "decision"
    assert not next(i for i in after.items if i.record_id == "v-2").counted


def test_removal_on_application_one_year_after_listing_with_every_record_repairable() -> None:
    records = [penalised(on="2023-05-10", obligations_fulfilled_on="2023-08-01"),
               listing(["v-1"], notice="2023-05-20", listed="2023-06-05")]
    early = run(records, D(2024, 6, 5)).listings[0].removal_application
    assert early is not None and not early.eligible and early.eligible_on == D(2024, 6, 6)
    ready = run(records, D(2024, 6, 6)).listings[0].removal_application
    assert ready is not None and ready.eligible
    blocked = [{**records[0], "obligations_fulfilled_on": None}, records[1]]
    answer = run(blocked, D(2024, 7, 1)).listings[0].removal_application
    assert answer is not None and not answer.eligible and "v-1" in answer.answer


@pytest.mark.parametrize(("removed", "ok"), [("2024-10-12", False), ("2024-10-14", True)])
def test_the_seven_working_days_of_public_notice(removed: str, ok: bool) -> None:
    # notice from Fri 2024-09-27: 09-29 (调休), 09-30, 10-08 … 10-11, 10-12 (调休 Saturday) → ends 2024-10-12
    records = [penalised(on="2023-05-10", obligations_fulfilled_on="2023-08-01"),
               listing(["v-1"], notice="2023-05-20", listed="2023-06-05", removal_applied_on="2024-07-01",
                       removal_notice_from="2024-09-27", removed_on=removed)]
    status = run(records, D(2024, 12, 31)).listings[0]
    assert status.removal_notice_ends_on == D(2024, 10, 12)
    assert [c.ok for c in status.checks if "public notice" in c.text] == [ok]


# ---------------------------------------------------------------- who decides, and what a listing may name


def test_the_deciding_levels_and_their_names_come_from_the_rulebook() -> None:
    decision = book("miner").source.blacklist.decision   # type: ignore[union-attr]
    assert decision.levels == ["league_city", "county"]
    assert decision.name("region") == "自治区级" and decision.known() == ["region", "league_city", "county"]
    ok = run([penalised(), listing(["v-1"], authority_level="county")], D(2024, 1, 1)).listings[0]
    level = next(c for c in ok.checks if c.rule == "第十八条")
    assert level.ok and "旗县级" in level.text and "盟市级、旗县级" in level.text


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({"article": 18}, "article", "no grounds in article 18"),
    ({"article": 16, "item": 4}, "item", "article 16 has no item 4"),
    ({"authority_level": "province"}, "authority_level", "region (自治区级), league_city (盟市级), county (旗县级)"),
])
def test_a_listing_naming_what_the_rulebook_does_not_have_is_that_subjects_error(
        extra: dict[str, Any], field: str, words: str) -> None:
    good = subject([penalised()])
    bad = subject([penalised(), {**listing(["v-1"]), **extra}])
    evaluation = evaluate([bad, good], book("miner"), D(2024, 1, 1))
    assert [result.uscc for result in evaluation.results] == [MINER]       # the other subject is evaluated
    (error,) = evaluation.errors
    assert (error.record_id, error.field) == ("L-1", field) and words in error.message
    assert "article 16 with item 1, 2, 3; article 17 with item 1, 2, 3, 4, 5" in error.message or field == \
        "authority_level"


def test_an_agency_listing_under_article_17_is_refused() -> None:
    agency = Subject.model_validate({"uscc": "12150000MB1A2C3D4A", "name": "某某勘查院", "kind": "agency",
                                     "public_score": 900, "records": [
                                         penalised(indicator="A01"), {**listing(["v-1"]), "article": 17}]})
    (error,) = evaluate([agency], book("agency"), D(2024, 1, 1)).errors
    assert error.field == "article" and "a listing rests on article 16 with item 1, 2, 3" in error.message


# ---------------------------------------------------------------- the signature and the statement (arts. 18–19)


def test_a_signature_not_recorded_is_a_warning_not_a_failed_check() -> None:
    unsigned = run([penalised(), listing(["v-1"])], D(2024, 1, 1))
    status = unsigned.listings[0]
    assert status.procedure_ok and len(status.missing) == 1 and "负责人" in status.missing[0]
    assert any(w.startswith("listing L-1: the signature of the decision") and "(signed_by; 第十八条)" in w
               for w in unsigned.warnings)
    signed = run([penalised(), listing(["v-1"], signed_by="张某（局长）")], D(2024, 1, 1)).listings[0]
    assert signed.missing == [] and any(c.ok and "signed by 张某（局长）" in c.text for c in signed.checks)


@pytest.mark.parametrize(("statement", "ok", "missing"), [
    ({"submitted_on": "2023-06-03", "stands": True, "adopted": False}, False, False),
    ({"submitted_on": "2023-06-03", "stands": True, "adopted": True}, True, False),
    ({"submitted_on": "2023-06-03", "stands": False}, True, False),
    ({"submitted_on": "2023-06-03"}, None, True),
])
def test_a_statement_that_stands_must_be_adopted(statement: dict[str, Any], ok: bool | None, missing: bool) -> None:
    status = run([penalised(), listing(["v-1"], signed_by="张某", statement=statement)], D(2024, 1, 1)).listings[0]
    adoption = [c.ok for c in status.checks if c.rule == "第十九条" and "statement and defence made" in c.text]
    assert adoption == ([] if ok is None else [ok])
    assert bool(status.missing) is missing
    assert status.procedure_ok is (ok is not False)


# ---------------------------------------------------------------- the removal decision completes the repair (I61)


def removed(**extra: Any) -> list[dict[str, Any]]:
    """Listed 2023-06-05 for v-1; applied 2024-07-01; notice from 2024-09-27 (ends 2024-10-12); removed 2024-10-14."""
    steps = {"removal_applied_on": "2024-07-01", "removal_review_on": "2024-07-20",
             "removal_site_check_on": "2024-08-05", "removal_notice_from": "2024-09-27",
             "removal_notice_objection": "none", "removed_on": "2024-10-14", **extra}
    return [penalised(on="2023-05-10", obligations_fulfilled_on="2023-08-01"),
            listing(["v-1"], notice="2023-05-20", listed="2023-06-05", signed_by="张某", **steps)]


def item(result: SubjectResult, record_id: str) -> Any:
    return next(i for i in result.items if i.record_id == record_id)


def test_the_removal_decision_repairs_the_bad_information_on_its_day() -> None:
    records = removed()
    before = run(records, D(2024, 10, 13))
    # the removal is not known yet: the five years end 2028-05-10, while listed (until 2028-06-05), so extended
    assert item(before, "v-1").counted and item(before, "v-1").counts_until == D(2028, 6, 5)
    for day in (D(2024, 10, 14), D(2024, 10, 15)):
        after = run(records, day)
        v1 = item(after, "v-1")
        assert not v1.counted and v1.repaired_on == D(2024, 10, 14) and v1.counts_until == D(2024, 10, 13)
        assert v1.explanation == ("not counted: repaired with the removal decision of listing L-1 on 2024-10-14 "
                                  "(第二十八条第二款), it counted through 2024-10-13")
        assert after.listings[0].procedure_ok and after.warnings == ()
        assert "completed the repair of its bad information (第二十八条第二款)" in after.listings[0].explanation


def test_information_after_the_application_is_not_repaired_by_the_removal() -> None:
    records = [*removed(), {"id": "v-2", "type": "violation", "indicator": "M01", "tier": 1,
                            "determined_on": "2024-07-01"},
               {"id": "v-3", "type": "violation", "indicator": "M02", "tier": 1, "determined_on": "2024-07-02"}]
    after = run(records, D(2024, 10, 14))
    assert item(after, "v-2").repaired_on == D(2024, 10, 14)             # determined on the day of the application
    assert item(after, "v-3").counted and item(after, "v-3").repaired_on is None


def test_a_removal_decision_repairs_a_judgment_refusal_so_it_grounds_no_new_proposal() -> None:
    records = [{"id": "j-1", "type": "judgment_refusal", "determined_on": "2023-05-10", "able_to_perform": True,
                "obligations_fulfilled_on": "2023-08-01"},
               {**removed()[1], "article": 16, "item": 2, "based_on": ["j-1"]}]
    assert [p.listing for p in run(records, D(2024, 10, 13)).proposals] == ["L-1"]
    assert run(records, D(2024, 10, 14)).proposals == ()


def test_a_rulebook_whose_removal_repairs_nothing_keeps_counting() -> None:
    source = book("miner").source
    assert source.removal is not None and source.removal.decision is not None
    plain = compile_rulebook(source.model_copy(update={"removal": source.removal.model_copy(update={
        "decision": source.removal.decision.model_copy(update={"repairs": None})})}))
    result = evaluate_subject(subject(removed()), plain, D(2024, 10, 14))
    assert item(result, "v-1").counted


def test_an_extended_record_ends_with_the_list_and_is_not_called_repaired() -> None:
    records = [*removed(), {"id": "v-0", "type": "violation", "indicator": "M01", "tier": 1,
                            "determined_on": "2019-05-10"}]   # five years end 2024-05-10, extended while listed
    v0 = item(run(records, D(2024, 10, 14)), "v-0")
    assert not v0.counted and v0.repaired_on is None and v0.counts_until == D(2024, 10, 13)


# ---------------------------------------------------------------- applying for removal (I62, I63)


def refused(**extra: Any) -> list[dict[str, Any]]:
    """Listed 2024-01-15 for not performing a judgment (j-1, determined 2024-01-01)."""
    return [{"id": "j-1", "type": "judgment_refusal", "determined_on": "2024-01-01", "able_to_perform": True,
             **extra},
            {"id": "L-1", "type": "listing", "article": 16, "item": 2, "based_on": ["j-1"], "decided_by": "某市局",
             "decision_number": "1号", "notice_served_on": "2024-01-02", "listed_on": "2024-01-15"}]


def test_removal_needs_the_judgment_refusal_repairable_too() -> None:
    blocked = run(refused(), D(2025, 6, 1)).listings[0].removal_application
    assert blocked is not None and not blocked.eligible
    assert "record j-1 cannot be repaired" in blocked.answer and "第二十六条第一款第（二）项" in blocked.answer
    performed = refused(obligations_fulfilled_on="2024-03-01")
    # one year on the list: from 2025-01-16 (j-1's own year: from 2025-01-02)
    early = run(performed, D(2025, 1, 15)).listings[0].removal_application
    assert early is not None and not early.eligible and early.eligible_on == D(2025, 1, 16)
    ready = run(performed, D(2025, 1, 16)).listings[0].removal_application
    assert ready is not None and ready.eligible


def test_a_later_refusal_of_the_same_type_blocks_the_earlier_ones_repair() -> None:
    records = [*refused(obligations_fulfilled_on="2024-03-01"),
               {"id": "j-2", "type": "judgment_refusal", "determined_on": "2024-06-01", "able_to_perform": False,
                "obligations_fulfilled_on": "2024-06-15"}]
    answer = run(records, D(2025, 7, 1)).listings[0].removal_application
    assert answer is not None and not answer.eligible
    assert "record j-1 cannot be repaired" in answer.answer and "the same type (judgment_refusal)" in answer.answer


def test_a_rulebook_that_repairs_only_violations_keeps_a_refusal_from_applying() -> None:
    source = book("miner").source
    assert source.repair is not None
    narrow = compile_rulebook(source.model_copy(update={"repair": source.repair.model_copy(update={
        "application": source.repair.application.model_copy(update={"record_types": ["violation"]})})}))
    result = evaluate_subject(subject(refused(obligations_fulfilled_on="2024-03-01")), narrow, D(2025, 6, 1))
    answer = result.listings[0].removal_application
    assert answer is not None and not answer.eligible
    assert "it is a judgment_refusal record, and the rulebook repairs only violation records" in answer.answer


@pytest.mark.parametrize(("applied", "fulfilled", "ok", "words"), [
    ("2024-06-05", "2023-08-01", False, "1 full year(s) on the list, which allow an application from 2024-06-06"),
    ("2024-06-06", "2023-08-01", True, "after 1 full year(s) on the list (2024-06-06)"),
    ("2024-06-06", "2024-06-10", False, "record v-1 could be repaired only from 2024-06-10"),
    ("2024-06-10", "2024-06-10", True, "with every record of bad information that counted then repairable"),
])
def test_the_application_for_removal_is_checked_on_its_day(applied: str, fulfilled: str, ok: bool,
                                                          words: str) -> None:
    records = [penalised(on="2023-05-10", obligations_fulfilled_on=fulfilled),
               listing(["v-1"], notice="2023-05-20", listed="2023-06-05", signed_by="张某",
                       removal_applied_on=applied)]
    result = run(records, D(2024, 6, 30))
    (check,) = [c for c in result.listings[0].checks if c.text.startswith("the application for removal")]
    assert check.ok is ok and words in check.text and check.rule == "第二十六条第二款"
    assert any(words in w for w in result.warnings) is (not ok)


# ---------------------------------------------------------------- the review, site check and notice (I63)


@pytest.mark.parametrize(("extra", "failed", "missing"), [
    ({}, [], []),
    ({"removal_site_check_on": "2024-09-28"}, ["site check (现场核查) was done on 2024-09-28, after the public "
                                               "notice of 2024-09-27"], []),
    ({"removal_review_on": "2024-06-30"}, ["material review (材料审查) was done on 2024-06-30, before the "
                                           "application of 2024-07-01"], []),
    ({"removal_review_on": None, "removal_site_check_on": None}, [], ["material review", "site check"]),
    ({"removal_notice_objection": "unfounded"}, [], []),
    ({"removal_notice_objection": "founded"}, ["found to stand, yet the removal was decided"], []),
    ({"removal_notice_objection": None}, [], ["whether the public notice drew an objection"]),
    ({"removal_applied_on": None}, [], ["no application for removal"]),
])
def test_the_steps_before_a_removal(extra: dict[str, Any], failed: list[str], missing: list[str]) -> None:
    steps = {k: v for k, v in extra.items() if v is not None}
    records = removed(**steps)
    for name in (k for k, v in extra.items() if v is None):
        del records[1][name]
    status = run(records, D(2024, 12, 31)).listings[0]
    problems = [c.text for c in status.checks if not c.ok]
    assert len(problems) == len(failed) and all(any(f in p for p in problems) for f in failed)
    assert len(status.missing) == len(missing) and all(any(m in t for t in status.missing) for m in missing)
