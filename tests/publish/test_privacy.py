"""Personal information and the publication block: identity numbers checked per GB 11643 (against
python-stdnum as an independent oracle), never echoed, never published for any input; the block's wording
verbatim at its line; a block that would publish something unknown refused when the rulebook loads."""

from __future__ import annotations

import datetime as dt
import re
import string
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mincredit._publish._api import publish
from mincredit._publish._rules import Publication
from mincredit.facts._basic import identity_check_character, identity_number_problem
from mincredit.facts._models import Subject
from mincredit.facts._validating import read_facts_text
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import load_rulebook

ric = pytest.importorskip("stdnum.cn.ric")

ROOT = Path(__file__).resolve().parents[2]
REGULATION = ROOT / "docs" / "regulation" / "000_c25b4c134fa0cdc3.txt"
MINER = "91150600MA13R7T5Q6"


@cache
def book() -> CompiledRulebook:
    return load_rulebook("miner")


def with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


# ---------------------------------------------------------------- GB 11643


@given(st.text(alphabet=string.digits, min_size=17, max_size=17))
def test_the_check_character_is_the_one_stdnum_computes(first17: str) -> None:
    assert identity_check_character(first17) == ric.calc_check_digit(first17 + "0")


@given(st.text(alphabet=string.digits, min_size=6, max_size=6), st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
       st.text(alphabet=string.digits, min_size=3, max_size=3), st.sampled_from("0123456789X"))
def test_a_number_is_valid_exactly_when_its_date_is_real_and_its_check_character_right(
        region: str, birth: dt.date, sequence: str, last: str) -> None:
    number = f"{region}{birth:%Y%m%d}{sequence}{last}"
    expected_valid = ric.calc_check_digit(number) == last
    problem = identity_number_problem(number)
    assert (problem is None) == expected_valid
    if problem is not None:
        assert number not in problem and number[:17] not in problem


@pytest.mark.parametrize(("number", "words"), [
    ("15060219800230001X", "birth date"),            # 30 February
    ("150602198001010012", "check character"),
    ("150602800101001", "15-digit first-generation"),
    ("1506021980010100", "has 18 characters, this one has 16"),
    ("15060219800101001A", "a digit or X"),
    ("1506021980O101001X", "first 17 characters"),
])
def test_a_bad_identity_number_is_explained_without_repeating_it(number: str, words: str) -> None:
    problem = identity_number_problem(number)
    assert problem is not None and words in problem and number not in problem


def test_a_lowercase_x_is_read_as_x_and_an_unquoted_number_as_text() -> None:
    number = with_check("15010219750315002")
    text = f"""subjects:
  - uscc: {MINER}
    name: 甲
    kind: miner
    public_score: 850
    basic:
      legal_representative: {{name: 王建国, id_number: {number.lower() if number.endswith("X") else number}}}
"""
    [entry] = read_facts_text(text, "facts.yaml", "yaml")
    assert entry.subject is not None and entry.subject.basic is not None
    assert entry.subject.basic.legal_representative is not None
    assert entry.subject.basic.legal_representative.id_number == number
    assert number not in repr(entry.subject)        # a logged model does not show it


def test_a_person_needs_a_full_name() -> None:
    with pytest.raises(ValidationError, match="full name"):
        Subject.model_validate({"uscc": MINER, "name": "甲", "kind": "miner",
                                "basic": {"contact": {"name": "王"}}})


# ---------------------------------------------------------------- nothing personal is ever published

SURNAMES = ["王", "李", "张", "刘", "陈", "欧阳"]
GIVEN = ["建国", "秀英", "小明", "志强", "丽", "娜娜"]
FRAGMENTS = ["虚报储量", "未按期缴纳出让收益", "，", "。", "于2021年5月10日", "（", "）", "超层越界开采", "经查",
             "罚款10万元", "身份证号", "电话", "护照"]
SEPARATORS = ["", " ", "-"]


@st.composite
def people(draw: st.DrawFn) -> list[dict[str, str]]:
    count = draw(st.integers(1, 3))
    found = []
    names: set[str] = set()
    for _ in range(count):
        name = draw(st.sampled_from(SURNAMES)) + draw(st.sampled_from(GIVEN))
        if name in names:
            continue
        names.add(name)
        region = draw(st.text(alphabet=string.digits, min_size=6, max_size=6))
        birth = draw(st.dates(dt.date(1940, 1, 1), dt.date(2005, 12, 31)))
        sequence = draw(st.text(alphabet=string.digits, min_size=3, max_size=3))
        phone = "1" + draw(st.sampled_from("3456789")) + draw(st.text(alphabet=string.digits, min_size=9, max_size=9))
        found.append({"name": name, "id_number": with_check(f"{region}{birth:%Y%m%d}{sequence}"), "phone": phone})
    return found


def spaced(number: str, draw: st.DrawFn) -> str:
    separator = draw(st.sampled_from(SEPARATORS))
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=3)))
    parts = [number[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    text = separator.join(parts)
    return text.lower() if draw(st.booleans()) else text


@st.composite
def descriptions(draw: st.DrawFn, persons: list[dict[str, str]]) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 12))):
        choice = draw(st.integers(0, 3))
        person = draw(st.sampled_from(persons))
        if choice == 0:
            pieces.append(draw(st.sampled_from(FRAGMENTS)))
        elif choice == 1:
            pieces.append(person["name"])
        elif choice == 2:
            pieces.append(spaced(person["id_number"], draw))
        else:
            pieces.append(spaced(person["phone"], draw))
    return "".join(pieces)


IDENTITY = re.compile(r"\d{17}[\dX]")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_identity_number_name_or_phone_of_a_person_ever_reaches_a_published_file(data: st.DataObject) -> None:
    persons = data.draw(people())
    description = data.draw(descriptions(persons))
    roles: dict[str, Any] = {"legal_representative": persons[0], "actual_controllers": persons[1:2],
                             "contact": persons[2] if len(persons) > 2 else None}
    authority = data.draw(st.sampled_from(["鄂尔多斯市自然资源局", f"{persons[0]['name']}所在旗自然资源局"]))
    records = [{"id": "v-1", "type": "violation", "indicator": "M05", "tier": 1, "determined_on": "2021-03-01",
                "description": description},
               {"id": "L-1", "type": "listing", "article": 16, "item": 1, "based_on": ["v-1"],
                "decided_by": authority, "decision_number": "鄂自然资信〔2021〕1号",
                "notice_served_on": "2021-03-01", "listed_on": "2021-03-15"}]
    subject = Subject.model_validate({"uscc": MINER, "name": "某某矿业有限公司", "kind": "miner", "public_score": 850,
                                      "records": records, "basic": roles})
    publication = publish([subject], book(), dt.date(2021, 12, 31))
    assert len(publication.blacklist) == 1
    outputs = {**publication.files, "manifest.json": publication.manifest_bytes()}
    for name, data_bytes in outputs.items():
        text = data_bytes.decode("utf-8")
        squeezed = re.sub(r"[ \-]", "", text).upper()
        for person in persons:
            assert person["id_number"] not in squeezed, name
            assert person["phone"] not in squeezed, name
            assert person["name"] not in text, name
        for candidate in IDENTITY.findall(squeezed):
            assert identity_number_problem(candidate) is not None, f"an identity number in {name}"


# ---------------------------------------------------------------- the publication block


def test_every_rule_of_the_publication_block_quotes_the_regulation_verbatim_at_its_line() -> None:
    raw = REGULATION.read_text(encoding="utf-8")
    lines = raw.split("\n")
    problems = []
    for name in ("miner", "agency"):
        rules = load_rulebook(name).source.publication
        assert rules is not None
        quoted = [rules.publisher, rules.blacklist, rules.blacklist.schedule, rules.results, rules.results.schedule,
                  *rules.privacy.rules, rules.privacy.basic_information, rules.record_texts.judgment_refusal,
                  rules.record_texts.statutory_ground]
        for rule in quoted:
            if rule.line is None or rule.wording not in lines[rule.line - 1].replace("\t", ""):
                problems.append(f"{name}: {rule.article} {rule.wording!r} is not on line {rule.line}")
    assert problems == []


def block() -> dict[str, Any]:
    rules = book().source.publication
    assert rules is not None
    data: dict[str, Any] = rules.model_dump(by_alias=True, exclude_defaults=True)
    return data


def test_a_field_the_code_does_not_know_or_a_missing_subject_field_is_refused() -> None:
    data = block()
    data["blacklist"]["fields"].append({"key": "decision_number", "label": "决定文号"})
    with pytest.raises(ValidationError, match="'decision_number' is not a field of the serious-blacklist"):
        Publication.model_validate(data)
    data = block()
    data["results"]["fields"] = [f for f in data["results"]["fields"] if f["key"] != "uscc"]
    with pytest.raises(ValidationError, match="needs the field 'uscc'"):
        Publication.model_validate(data)


def test_a_text_with_an_unknown_placeholder_is_refused_when_the_rulebook_loads() -> None:
    data = block()
    data["texts"]["caption"] = "{title}（{score}）"
    with pytest.raises(ValidationError, match=r"texts.caption uses \{score\}"):
        Publication.model_validate(data)


def test_a_schedule_whose_updates_do_not_divide_the_publication_is_refused() -> None:
    data = block()
    data["blacklist"]["schedule"]["update_months"] = 5
    with pytest.raises(ValidationError, match="update_months must divide publish_months"):
        Publication.model_validate(data)
