"""The serious-blacklist: triggers (arts. 16–17), the listing procedure (arts. 18–19), retention while listed
(art. 11) and removal (arts. 26, 28), with hand-computed dates at every boundary."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import pytest

from mincredit._engine import SubjectResult, evaluate_subject
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
