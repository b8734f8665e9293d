"""Credit repair on application (arts. 25–27): eligibility at its boundaries, the 15 working days, and a
repaired record stopping to count on its repair date."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mincredit._engine import evaluate_subject
from mincredit._timeline import RecordNotFound, repair_question
from mincredit.cli import main
from mincredit.facts._models import Subject
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import load_rulebook

D = dt.date
MINER = "91150600MA13R7T5Q6"


@cache
def miner_book() -> CompiledRulebook:
    return load_rulebook("miner")


def subject(records: list[dict[str, Any]]) -> Subject:
    return Subject.model_validate({"uscc": MINER, "name": "某某矿业有限公司", "kind": "miner", "public_score": 850,
                                   "records": records})


def violation(rid: str = "v-1", on: str = "2023-05-10", indicator: str = "M01", **extra: Any) -> dict[str, Any]:
    return {"id": rid, "type": "violation", "indicator": indicator, "tier": 1, "determined_on": on, **extra}


def ask(records: list[dict[str, Any]], as_of: dt.date, record_id: str = "v-1") -> Any:
    book = miner_book()
    return repair_question(subject(records), book.source, book.digest, as_of, record_id)


def test_eligible_the_day_after_one_full_year() -> None:
    records = [violation(obligations_fulfilled_on="2023-06-01")]
    before = ask(records, D(2024, 5, 10))
    assert not before.eligible and before.eligible_on == D(2024, 5, 11)
    assert before.answer.startswith("not eligible on 2024-05-10, because") and "eligible on 2024-05-11" in before.answer
    on = ask(records, D(2024, 5, 11))
    assert on.eligible and on.answer == "eligible on 2024-05-11"


def test_one_year_from_29_february() -> None:
    records = [violation(on="2020-02-29", obligations_fulfilled_on="2020-03-01")]
    assert ask(records, D(2021, 2, 28)).eligible_on == D(2021, 3, 1)
    assert ask(records, D(2021, 3, 1)).eligible


def test_fulfilment_later_than_the_year_sets_the_day() -> None:
    records = [violation(obligations_fulfilled_on="2024-09-01")]
    assert ask(records, D(2024, 8, 31)).answer.startswith("not eligible")   # fulfilment not yet known
    assert ask(records, D(2024, 9, 1)).eligible_on == D(2024, 9, 1)


def test_not_eligible_without_fulfilment() -> None:
    answer = ask([violation()], D(2025, 1, 1))
    assert not answer.eligible and answer.eligible_on is None
    # the check cites the condition's own item from the rulebook (repair.application.conditions.obligations)
    assert answer.answer == ("not eligible, because the fulfilment of its obligations is not recorded "
                             "(第二十六条第一款第（二）项)")


def test_new_bad_information_of_the_same_kind_blocks_repair() -> None:
    records = [violation(obligations_fulfilled_on="2023-06-01"), violation("v-2", on="2024-03-01")]
    answer = ask(records, D(2024, 6, 1))
    assert not answer.eligible and "record v-2" in answer.answer and "第二十六条第一款第（三）项" in answer.answer
    other_kind = [violation(obligations_fulfilled_on="2023-06-01"), violation("v-2", on="2024-03-01", indicator="M02")]
    assert ask(other_kind, D(2024, 6, 1)).eligible
    # an application made before the new record was determined is judged on its own day
    applied = [violation(obligations_fulfilled_on="2023-06-01", repair_applied_on="2024-05-20"),
               violation("v-2", on="2024-06-01")]
    assert ask(applied, D(2024, 6, 10)).eligible


def test_the_authority_decides_within_15_working_days() -> None:
    records = [violation(obligations_fulfilled_on="2023-06-01", repair_applied_on="2024-09-27")]
    answer = ask(records, D(2024, 10, 1))
    assert answer.decision_due == D(2024, 10, 23)
    assert "decides by 2024-10-23" in answer.answer


def test_a_repaired_record_stops_counting_on_its_repair_date() -> None:
    records = [violation(obligations_fulfilled_on="2023-06-01", repair_applied_on="2024-06-03",
                         repaired_on="2024-07-01")]
    book = miner_book()
    before = evaluate_subject(subject(records), book, D(2024, 6, 30))
    # the repair is not known before its day: the record counts, through its five years
    assert before.items[0].counted and before.items[0].counts_until == D(2028, 5, 10)
    after = evaluate_subject(subject(records), book, D(2024, 7, 1))
    assert not after.items[0].counted and after.items[0].repaired_on == D(2024, 7, 1)
    assert after.items[0].counts_until == D(2024, 6, 30)
    assert "repaired on application on 2024-07-01" in after.items[0].explanation
    assert after.score is not None and before.score is not None and after.score - before.score == 300 * 0.8
    answer = ask(records, D(2024, 7, 1))
    assert not answer.eligible and "already repaired on 2024-07-01" in answer.answer


def test_a_listed_subjects_information_is_not_repaired() -> None:
    records = [violation(obligations_fulfilled_on="2023-06-01", repaired_on="2024-07-01"),
               {"id": "L-1", "type": "listing", "article": 16, "item": 2, "based_on": ["j-1"],
                "decided_by": "某市自然资源局", "decision_number": "第1号", "notice_served_on": "2024-01-02",
                "listed_on": "2024-01-15"},
               {"id": "j-1", "type": "judgment_refusal", "determined_on": "2024-01-01", "able_to_perform": True}]
    result = evaluate_subject(subject(records), miner_book(), D(2024, 8, 1))
    item = next(i for i in result.items if i.record_id == "v-1")
    assert item.counted and item.repaired_on is None
    assert any("not applied" in warning and "(第二十五条第四款)" in warning for warning in result.warnings)
    answer = ask(records, D(2024, 8, 1))
    assert not answer.eligible and answer.eligible_on == D(2029, 1, 16)   # the day it leaves the list


def test_questions_that_cannot_be_answered() -> None:
    with pytest.raises(RecordNotFound, match="no record"):
        ask([violation()], D(2024, 1, 1), "v-9")
    with pytest.raises(RecordNotFound, match="other_sector_blacklist"):
        ask([{"id": "o-1", "type": "other_sector_blacklist", "sector": "税务", "listed_on": "2024-01-01"}],
            D(2024, 6, 1), "o-1")


def write(tmp_path: Path, records: list[dict[str, Any]]) -> str:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps({"subjects": [{"uscc": MINER, "name": "某某矿业有限公司", "kind": "miner",
                                              "public_score": 850, "records": records}]}, ensure_ascii=False))
    return str(path)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = write(tmp_path, [violation(obligations_fulfilled_on="2023-06-01")])
    base = ["repair", facts, "--rulebook", "miner", "--record", "v-1", "--as-of"]
    assert main([*base, "2024-05-11"]) == 0
    assert "eligible on 2024-05-11" in capsys.readouterr().out
    assert main([*base, "2024-05-10"]) == 1
    assert "not eligible" in capsys.readouterr().out
    assert main([*base, "2024-05-10", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["eligible_on"] == "2024-05-11" and data["uscc"] == MINER
    assert main(["repair", facts, "--rulebook", "miner", "--record", "nope", "--as-of", "2024-05-10"]) == 2
    assert "no record 'nope'" in capsys.readouterr().err


def test_a_blocked_record_also_names_the_earliest_date() -> None:
    # obligations not fulfilled, and the year since 2023-09-29 ends only on 2024-09-29
    answer = ask([violation(on="2023-09-29")], D(2024, 9, 20))
    assert not answer.eligible and answer.eligible_on is None
    assert answer.answer.startswith("not eligible, because the fulfilment of its obligations is not recorded")
    assert "even then not before 2024-09-30" in answer.answer
    late = ask([violation(on="2023-09-29")], D(2024, 10, 20))
    assert "not before" not in late.answer


def refusal(**extra: Any) -> dict[str, Any]:
    return {"id": "j-1", "type": "judgment_refusal", "determined_on": "2023-05-10", "able_to_perform": False,
            **extra}


def test_a_refusal_to_perform_a_judgment_is_repaired_as_a_violation_is() -> None:
    records = [refusal(obligations_fulfilled_on="2023-06-01")]
    before = ask(records, D(2024, 5, 10), "j-1")
    assert not before.eligible and before.eligible_on == D(2024, 5, 11)
    assert ask(records, D(2024, 5, 11), "j-1").eligible
    blocked = ask([refusal()], D(2024, 6, 1), "j-1")
    assert blocked.eligible_on is None and "第二十六条第一款第（二）项" in blocked.answer
    # 同类 outside the annex: another refusal, not a violation
    later = [refusal(obligations_fulfilled_on="2023-06-01"),
             {"id": "j-2", "type": "judgment_refusal", "determined_on": "2024-01-05", "able_to_perform": False}]
    assert "the same type (judgment_refusal)" in ask(later, D(2024, 6, 1), "j-1").answer
    assert ask([*records, violation("v-9", on="2024-01-05")], D(2024, 6, 1), "j-1").eligible


def test_a_repaired_refusal_stops_counting_so_it_grounds_no_proposal() -> None:
    records = [refusal(able_to_perform=True, obligations_fulfilled_on="2023-06-01", repaired_on="2024-07-01")]
    book = miner_book()
    assert [p.trigger for p in evaluate_subject(subject(records), book, D(2024, 6, 30)).proposals] == ["art16-2"]
    assert evaluate_subject(subject(records), book, D(2024, 7, 1)).proposals == ()


def test_a_rulebook_that_does_not_repair_refusals_says_so_and_refuses_a_recorded_repair() -> None:
    from mincredit.rules._compiling import compile_rulebook

    source = miner_book().source
    assert source.repair is not None
    narrow = compile_rulebook(source.model_copy(update={"repair": source.repair.model_copy(update={
        "application": source.repair.application.model_copy(update={"record_types": ["violation"]})})}))
    records = [refusal(able_to_perform=True, obligations_fulfilled_on="2023-06-01", repaired_on="2024-07-01")]
    answer = repair_question(subject(records), narrow.source, narrow.digest, D(2024, 8, 1), "j-1")
    assert not answer.eligible and answer.eligible_on is None
    assert "it is a judgment_refusal record, and the rulebook repairs only violation records" in answer.answer
    result = evaluate_subject(subject(records), narrow, D(2024, 8, 1))
    assert [p.trigger for p in result.proposals] == ["art16-2"]          # the repair is not applied
    assert any("does not repair judgment_refusal records" in w for w in result.warnings)


def test_cli_answers_for_a_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = write(tmp_path, [refusal(obligations_fulfilled_on="2023-06-01")])
    assert main(["repair", facts, "--rulebook", "miner", "--record", "j-1", "--as-of", "2024-05-11"]) == 0
    assert "eligible on 2024-05-11" in capsys.readouterr().out
