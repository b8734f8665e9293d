"""Facts files: typed validation, errors a clerk can act on, nothing dropped silently."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from builders import MINER_USCC, OTHER_MINER_USCC, shipped
from hypothesis import given, settings
from hypothesis import strategies as st

from mincredit._engine import evaluate
from mincredit.facts._uscc import check_character, uscc_problem
from mincredit.facts._validating import FactsFileError, read_facts_file

BROKEN = """\
subjects:
  - uscc: 91150600MA13R7T5Q6
    name: 好的矿业公司
    kind: miner
    public_score: 812.35
  - uscc: 91150600MA13R7T5Q7
    name: 校验码错误公司
    kind: miner
    public_score: 800
  - uscc: 91150200MA0N8K2L4Q
    name: 日期错误公司
    kind: miner
    public_score: 800
    records:
      - {id: v-1, type: violation, indicator: M03, tier: 2, determined_on: 2023-13-10}
  - uscc: 91150100MA0Q3F9X1W
    name: 重复编号公司
    kind: miner
    public_score: 800
    records:
      - {id: v-1, type: violation, indicator: M03, tier: 2, determined_on: 2023-05-10}
      - {id: v-1, type: violation, indicator: M04, tier: 1, determined_on: 2023-05-10}
  - uscc: 91150700MA0R5P6J2E
    name: 分数越界公司
    kind: miner
    public_score: 1000.5
  - uscc: 91152500MA7W4E8H0B
    name: 拼写错误公司
    kind: miner
    public_scor: 800
  - uscc: 12150000MB1A2C3D4A
    name: 中介指标错用公司
    kind: miner
    public_score: 800
    records:
      - {id: x-1, type: violation, indicator: A05, tier: 1, determined_on: 2023-05-10}
"""


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    path = tmp_path / "facts.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def test_each_bad_subject_is_reported_and_the_good_one_evaluated(broken_file: Path):
    evaluation = evaluate(read_facts_file(broken_file), shipped("miner"), dt.date(2024, 6, 30))
    assert [r.name for r in evaluation.results] == ["好的矿业公司"]
    assert evaluation.results[0].score == Decimal("962.47")
    described = [e.describe() for e in evaluation.errors]
    assert len(described) == 7, described     # the misspelt field's subject also lacks its public score
    by_name = {e.name: e for e in evaluation.errors if e.field != "public_score" or e.name != "拼写错误公司"}
    check = by_name["校验码错误公司"]
    assert (check.field, check.line, check.subject_index) == ("uscc", 6, 1)
    assert "check character" in check.message and "'6'" in check.message
    date = by_name["日期错误公司"]
    assert (date.record_id, date.field, date.line) == ("v-1", "determined_on", 15)
    assert "YYYY-MM-DD" in date.message
    duplicate = by_name["重复编号公司"]
    assert "'v-1' is used twice" in duplicate.message
    score = by_name["分数越界公司"]
    assert score.field == "public_score" and "outside the range the formula takes, 0 to 1000" in score.message
    unknown = by_name["拼写错误公司"]
    assert unknown.field == "public_scor" and "not a known field" in unknown.message and unknown.line == 30
    assert [e.field for e in evaluation.errors if e.name == "拼写错误公司"] == ["public_scor", "public_score"]
    wrong_kind = by_name["中介指标错用公司"]
    assert (wrong_kind.record_id, wrong_kind.field) == ("x-1", "indicator")
    assert "no indicator A05 in rulebook miner" in wrong_kind.message
    text = date.describe()
    assert text.startswith(f"{broken_file}, line 15: subject #3 (91150200MA0N8K2L4Q 日期错误公司): record v-1: "
                           "field 'determined_on'")


def test_json_keeps_decimals_exact(tmp_path: Path):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps({"subjects": [{"uscc": MINER_USCC, "name": "某", "kind": "miner",
                                              "public_score": 0.1}]}), encoding="utf-8")
    (entry,) = list(read_facts_file(path))
    assert entry.subject is not None and entry.subject.public_score == Decimal("0.1")


def test_json_lines_report_the_line_of_a_bad_subject(tmp_path: Path):
    good = {"uscc": MINER_USCC, "name": "某", "kind": "miner", "public_score": 500}
    path = tmp_path / "facts.jsonl"
    path.write_text(json.dumps(good) + "\n{not json\n" + json.dumps({**good, "kind": "mine", "uscc": OTHER_MINER_USCC})
                    + "\n",
                    encoding="utf-8")
    entries = list(read_facts_file(path))
    assert [e.subject is not None for e in entries] == [True, False, True]
    assert entries[1].errors[0].line == 2 and "not valid JSON" in entries[1].errors[0].message
    # a kind is whatever id a rulebook defines: "mine" reads, and the rulebook refuses it, naming the line
    (kind,) = evaluate(entries[2:], shipped("miner"), dt.date(2024, 6, 30)).errors
    assert (kind.line, kind.field) == (3, "kind") and "'mine'" in kind.message and "'miner'" in kind.message


@pytest.mark.parametrize(("text", "words"), [
    ("subjects: [\n", "does not parse"),
    ("- a\n- b\n", "'subjects:' list"),
    ("subjects: []\nextra: 1\n", "unknown top-level field 'extra'"),
    ("subjects: !!python/object/apply:os.system [echo hi]\n", "not allowed"),
])
def test_unusable_files_say_why(tmp_path: Path, text: str, words: str):
    path = tmp_path / "facts.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsFileError) as caught:
        list(read_facts_file(path))
    assert words in str(caught.value)
    assert str(path) in str(caught.value)


def test_invalid_utf8_is_reported(tmp_path: Path):
    path = tmp_path / "facts.yaml"
    path.write_bytes(b"subjects:\n  - name: \xff\n")
    with pytest.raises(FactsFileError, match="not valid UTF-8"):
        list(read_facts_file(path))


@pytest.mark.parametrize(("code", "problem"), [
    ("91150600MA13R7T5Q6", None),
    ("91150600MA13R7T5Q", "18 characters"),
    ("91150600MA13R7T5QO", "cannot appear"),
    ("91150600MA13R7T5Q5", "check character"),
])
def test_uscc_check(code: str, problem: str | None):
    found = uscc_problem(code)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_uscc_check_character_known_value():
    # GB 32100-2015 worked through by hand for this code: weighted sum 676, 676 mod 31 = 25, 31 − 25 = 6
    assert check_character("91150600MA13R7T5Q") == "6"


def test_an_unknown_record_type_lists_the_known_ones(tmp_path: Path):
    path = tmp_path / "facts.yaml"
    path.write_text("subjects:\n  - uscc: 91150600MA13R7T5Q6\n    name: 某\n    kind: miner\n    public_score: 1\n"
                    "    records:\n      - {id: x, type: penalty}\n", encoding="utf-8")
    (entry,) = list(read_facts_file(path))
    (error,) = entry.errors
    assert error.record_id == "x" and error.line == 7
    assert "'violation', 'honour', 'judgment_refusal'" in error.message


# --- texts that are not Unicode ---------------------------------------------------------------------

SURROGATE_LINE = ('{"uscc": "%s", "name": "某某矿业%s有限公司", "kind": "miner", "public_score": 850, "records": '
                  '[{"id": "%s", "type": "violation", "indicator": "M12", "tier": 1, "determined_on": "2023-05-01"}]}')


@pytest.mark.parametrize(("name", "record_id", "field", "where"), [
    ("\\ud800", "v-1", "name", "subject #1 (91150600MA13R7T5Q6): field 'name'"),
    ("", "v-\\udc00", "id", "record #1: field 'id'"),
    ("\\ude00\\ud83d", "v-1", "name", "field 'name'"),            # both halves, in the wrong order
])
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_lone_surrogate_is_an_error_of_its_subject(tmp_path: Path, fmt: str, name: str, record_id: str,
                                                     field: str, where: str):
    bad = SURROGATE_LINE % (MINER_USCC, name, record_id)
    good = SURROGATE_LINE % (MINER_USCC, "", "v-1")
    path = tmp_path / f"facts.{fmt}"
    path.write_text(f"{bad}\n{good}\n" if fmt == "jsonl" else f'{{"subjects": [{bad}, {good}]}}', encoding="utf-8")
    first, second = read_facts_file(path)
    assert first.subject is None and len(first.errors) == 1
    error = first.errors[0]
    assert error.field == field and where in error.describe()
    assert "half of a UTF-16 surrogate pair" in error.describe()
    error.describe().encode("utf-8")                  # the report itself can be written
    assert second.subject is not None


def test_a_surrogate_pair_is_one_character_and_accepted(tmp_path: Path):
    path = tmp_path / "facts.jsonl"
    path.write_text(SURROGATE_LINE % (MINER_USCC, "\\ud83d\\ude00", "v-1") + "\n", encoding="utf-8")
    (entry,) = read_facts_file(path)
    assert entry.subject is not None and entry.subject.name == "某某矿业😀有限公司"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZa é", min_size=16, max_size=19)
       | st.builds(lambda first: first + check_character(first),
                   st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17)))
def test_the_fast_uscc_check_agrees_with_the_worded_one(code: str):
    from mincredit.facts._uscc import is_valid_uscc

    assert is_valid_uscc(code) == (uscc_problem(code) is None)


DUPLICATE_AND_TIERS = """\
subjects:
  - uscc: 91150100MA0Q3F9X1W
    name: 多处错误公司
    kind: miner
    public_score: 1200
    records:
      - {id: v-1, type: violation, indicator: M03, tier: 9, determined_on: 2023-05-10}
      - {id: v-1, type: violation, indicator: M99, tier: 1, determined_on: 2023-05-10}
      - {id: v-2, type: violation, indicator: M03, tier: 1, determined_on: 2023-13-10}
      - {id: h-1, type: honour, honour: 绿色矿山, level: county, awarded_on: 2023-01-01}
"""


def test_every_problem_of_a_subject_is_reported_at_once(tmp_path: Path):
    """A duplicate record id no longer hides the rulebook's errors: the records that are valid on their own are
    checked against the rulebook too, and the public score against the formula's range."""
    path = tmp_path / "facts.yaml"
    path.write_text(DUPLICATE_AND_TIERS, encoding="utf-8")
    evaluation = evaluate(read_facts_file(path), shipped("miner"), dt.date(2024, 6, 30))
    assert evaluation.results == []
    found = [(e.record_id, e.field) for e in evaluation.errors]
    assert found == [("v-2", "determined_on"), (None, None), ("v-1", "tier"), ("v-1", "indicator"),
                     ("h-1", "level"), (None, "public_score")], found
    assert "'v-1' is used twice" in evaluation.errors[1].message
    assert "no tier 9" in evaluation.errors[2].message and "no indicator M99" in evaluation.errors[3].message
    assert all(e.subject_index == 0 and e.name == "多处错误公司" for e in evaluation.errors)
    assert evaluation.errors[0].line == 9 and {e.line for e in evaluation.errors[1:]} == {2}   # as for any subject


def test_a_subject_without_a_valid_kind_gets_no_rulebook_check(tmp_path: Path):
    path = tmp_path / "facts.yaml"
    path.write_text(DUPLICATE_AND_TIERS.replace("kind: miner", "kind: Miner"), encoding="utf-8")
    evaluation = evaluate(read_facts_file(path), shipped("miner"), dt.date(2024, 6, 30))
    assert {e.field for e in evaluation.errors} == {"kind", "determined_on", None}    # None: the id used twice
