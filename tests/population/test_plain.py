"""The plain path of JSON Lines (:mod:`mincredit._population.plain`) changes no output: every line, valid or not,
gives the same bytes and the same errors with it as without it, and what it scores is what the model and the
engine make of the subject."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from builders import fractional_rulebook, generated_population, shipped, triggered_rulebook, uscc_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mincredit._engine import evaluate
from mincredit._population import jsonl
from mincredit._population import run as population_run
from mincredit._population.evaluator import Worker
from mincredit._population.plain import PlainScorer
from mincredit._population.run import BatchRequest, run_batch
from mincredit._results import SubjectResult
from mincredit.facts._validating import validate_subject
from mincredit.rules._compiling import CompiledRulebook

AS_OF = dt.date(2024, 6, 30)
ROOT = Path(__file__).resolve().parents[2]


def rulebook_named(name: str) -> CompiledRulebook:
    """A shipped rulebook, or one of the variants (each compiled once: the builders cache them)."""
    variants = {"variant": fractional_rulebook, "triggered": triggered_rulebook}
    return variants[name]() if name in variants else shipped(name)


# --- writing JSON text exactly as a test wants it ------------------------------------------------------

class Verbatim(str):
    """JSON text written as it is (1.0, true, "812.35", NaN, a broken token …)."""


class Again:
    """A key written a second time in the same object."""

    def __init__(self, key: str) -> None:
        self.key = key


def dump(value: Any, style: tuple[str, str, bool] = (",", ":", False)) -> str:
    item, key, ascii_only = style
    if isinstance(value, Verbatim):
        return str(value)
    if isinstance(value, dict):
        return "{" + item.join(json.dumps(k.key if isinstance(k, Again) else k, ensure_ascii=ascii_only) + key
                               + dump(v, style) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + item.join(dump(v, style) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=ascii_only)


# --- the paths compared -----------------------------------------------------------------------------------

@contextlib.contextmanager
def without_fast_path() -> Iterator[None]:
    """Every line through the standard parser, the facts model and the engine."""
    with mock.patch.object(PlainScorer, "score", lambda self, line: None):
        yield


def run_units(rulebook: CompiledRulebook, path: Path, fast: bool) -> list[tuple[Any, ...]]:
    """Everything the JSON Lines units of a file give: encoded results, errors, counts."""
    worker = Worker(rulebook, AS_OF, False, "jsonl")
    with contextlib.nullcontext() if fast else without_fast_path():
        outcomes = [unit.run(worker) for unit in jsonl.jsonl_units(path, 1 << 12)]
    return [(done.payload, [error.describe() for error in done.errors], done.subjects, done.records,
             done.error_subjects, done.not_evaluated, sorted(done.grades.items()), done.lines)
            for done in outcomes]


def encoded(rulebook: CompiledRulebook, result: SubjectResult) -> bytes:
    payload = Worker(rulebook, AS_OF, False, "jsonl").encoder.encode([result])
    assert isinstance(payload, bytes)
    return payload


def check_line(rulebook: CompiledRulebook, line: bytes) -> tuple[SubjectResult, int] | None:
    """Assert that the line gives the same output with the plain path as without; return what the plain path made."""
    fast = PlainScorer(rulebook.day(AS_OF), explain=False).score(line)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "facts.jsonl"
        path.write_bytes(line + b"\n")
        with_fast = run_units(rulebook, path, fast=True)
        without = run_units(rulebook, path, fast=False)
    assert with_fast == without
    if fast is None:
        return None
    result, records = fast
    ((payload, errors, subjects, counted, *_),) = without
    assert payload == encoded(rulebook, result) and not errors and subjects == 1 and counted == records
    # … and what the model and the engine make of the subject, explained, without its items.
    raw = json.loads(line, parse_float=Decimal)
    evaluation = evaluate([validate_subject(raw, file=None, index=0, line=None)], rulebook, AS_OF)
    assert not evaluation.errors
    explained = PlainScorer(rulebook.day(AS_OF), explain=True).score(line)
    assert explained is not None and explained[0] == evaluation.results[0]
    return fast


# --- generated subjects, valid and not ----------------------------------------------------------------

dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2027, 12, 31))
TITLES = ["国家级绿色矿山", "诚信企业", "示范"]


@st.composite
def records_for(draw: st.DrawFn, name: str) -> list[dict[str, Any]]:
    rulebook = rulebook_named(name)
    keys = sorted((indicator.code, tier.tier) for indicator in rulebook.law.indicators for tier in indicator.tiers)
    repeated = [key for key in keys if key[0] == "M37"]
    out: list[dict[str, Any]] = []
    for index in range(draw(st.integers(min_value=0, max_value=8))):
        if draw(st.booleans()):
            code, tier = draw(st.sampled_from(repeated if repeated and draw(st.booleans()) else keys))
            out.append({"id": f"v-{index}", "type": "violation", "indicator": code, "tier": tier,
                        "determined_on": draw(dates).isoformat()})
        else:
            awarded = draw(dates)
            record: dict[str, Any] = {"id": f"h-{index}", "type": "honour", "honour": draw(st.sampled_from(TITLES)),
                                      "level": draw(st.sampled_from(sorted(level.id for level in rulebook.law.levels))),
                                      "awarded_on": awarded.isoformat()}
            if draw(st.booleans()):
                record["valid_until"] = draw(st.dates(min_value=awarded, max_value=dt.date(2029, 1, 1))).isoformat()
            out.append(record)
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            keys_in_order = draw(st.permutations(list(out[-1])))
            out[-1] = {key: out[-1][key] for key in keys_in_order}
    return out


PUBLIC_TEXTS = ["812", "812.0", "812.350", "8.1235e2", "8.1235E+2", "0", "0.0", "0e0", "-0", "-0.0", "1000", "1000.00",
                "1000.0000000000000000001", "999.99999999999999999999999", "1E-400", "1e400", "-1", "NaN", "Infinity",
                "-Infinity", '"812.35"', '"NaN"', '" 812"', "null", "true", "[812]", "{}", "8e02", "01", "1.", ".5"]
TIER_TEXTS = ["1.0", "1e0", "2.0", "true", "false", '"1"', "null", "0", "-1", "10000000000000000000000000000001",
              "1.5", "[1]"]
DATE_TEXTS = ['"2023-01-05T00:00:00"', '"2023-01-05 "', '" 2023-01-05"', '"2023-1-5"', '"2023-02-29"', '"20230105"',
              '"2024-02-29"', '"\\u0032023-01-05"', '"2023-01-05Z"', '"２０２３-01-05"', "20230105", "null", '""']
TEXTS = ['" padded "', '""', '"\\u00a0nbsp"', '"\\u3000ideographic"', '"tab\\t"', "5", "5.0", "true", "null", "[]",
         '"\\ud800"', '"\\u0000"', '"public_score"', '"矿"', '"\\u77ff"', '"x\\"y"']


def uscc_variants(code: object) -> list[Any]:
    if not isinstance(code, str) or len(code) != 18:
        return ["91150000000000000Y", Verbatim("911500000000000012")]
    return [code[:17] + ("0" if code[17] != "0" else "1"), code.lower(), code[:17], code + " ",
            Verbatim(code) if code.isdigit() else "９" + code[1:], Verbatim("911500000000000012"), "91150000000000000Y"]


def subject_mutations(rulebook: CompiledRulebook) -> list[Any]:
    other = "agency" if rulebook.subject_kind == "miner" else "miner"
    return [
        lambda s, d: s.update(public_score=Verbatim(d(st.sampled_from(PUBLIC_TEXTS)))),
        lambda s, d: s.pop("public_score", None),
        lambda s, d: s.update(status=d(st.sampled_from(["dissolved", "active", "Active", None, 1]))),
        lambda s, d: (s.update(status="dissolved"), s.pop("public_score", None)),
        lambda s, d: s.update(kind=d(st.sampled_from([other, "mine", Verbatim("1")]))),
        lambda s, d: s.update(name=Verbatim(d(st.sampled_from(TEXTS)))),
        lambda s, d: s.update(uscc=d(st.sampled_from(uscc_variants(s.get("uscc"))))),
        lambda s, d: s.pop(d(st.sampled_from(["uscc", "name", "kind", "status", "records"])), None),
        lambda s, d: s.update({d(st.sampled_from(["roles", "extra", "Records"])): []}),
        lambda s, d: s.update(records=Verbatim(d(st.sampled_from(["null", "{}", '"x"', "[1]", "[[]]", "[null]"])))),
        lambda s, d: s.update({Again(d(st.sampled_from(["uscc", "public_score", "status", "records", "name"]))):
                               Verbatim(d(st.sampled_from(["500", '"x"', "[]", '"active"', "null", "1.5"])))}),
    ]


def keys_of(record: dict[Any, Any]) -> list[str]:
    return sorted(key for key in record if isinstance(key, str))


def record_mutations(rulebook: CompiledRulebook) -> list[Any]:
    """Changes to one record (r) of the subject's records (rs), drawing with d; some only for one type of record."""
    codes = sorted(indicator.code for indicator in rulebook.law.indicators)
    every = [
        lambda r, rs, d: rs.append(dict(r)),                                                    # the id twice
        lambda r, rs, d: r.update(id=Verbatim(d(st.sampled_from(TEXTS)))),
        lambda r, rs, d: r.update({d(st.sampled_from(["amount", "info_kind", "penalty", "quantities", "roles"])): 5}),
        lambda r, rs, d: r.update({d(st.sampled_from(["authority", "description"])): d(st.sampled_from(
            ["鄂尔多斯市自然资源局", "", " x ", None, 5, Verbatim("[]")]))}),
        lambda r, rs, d: r.update(type=d(st.sampled_from(["warning", "judgment_refusal", "honour", "violation",
                                                          Verbatim("1"), None]))),
        lambda r, rs, d: r.pop(d(st.sampled_from(keys_of(r)))),
        lambda r, rs, d: r.update({Again(d(st.sampled_from(keys_of(r)))): Verbatim(d(st.sampled_from(
            ["1", "2", '"v-0"', '"violation"', '"honour"', '"2023-01-05"', '"M01"', '"ministry"', "null"])))}),
        lambda r, rs, d: r.update({key: Verbatim(d(st.sampled_from(DATE_TEXTS))) for key in
                                   ("determined_on", "awarded_on", "valid_until") if key in r}),
    ]
    violations = [
        lambda r, rs, d: r.update(tier=Verbatim(d(st.sampled_from(TIER_TEXTS)))),
        lambda r, rs, d: r.update(tier=d(st.integers(min_value=-1, max_value=6))),
        lambda r, rs, d: r.update(indicator=d(st.sampled_from([*codes[:3], "M99", "A05", "M01 ", "m01", "",
                                                               Verbatim("1")]))),
        lambda r, rs, d: r.update(honour="x"),
    ]
    honours = [
        lambda r, rs, d: r.update(valid_until=d(st.sampled_from([None, r.get("awarded_on"), "2000-01-01",
                                                                 "9999-12-31", "2024-06-30"]))),
        lambda r, rs, d: r.update(level=d(st.sampled_from(["county", "ministry", "Ministry", Verbatim("1"), None]))),
        lambda r, rs, d: r.update(honour=Verbatim(d(st.sampled_from(TEXTS)))),
    ]

    def only(kind: str, change: Any) -> Any:
        return lambda r, rs, d: change(r, rs, d) if r.get("type") == kind else None

    return [*every, *(only("violation", change) for change in violations),
            *(only("honour", change) for change in honours)]


LINE_SHAPES = ["", " ", "\t", "  \t "]


@st.composite
def lines_for(draw: st.DrawFn, name: str) -> bytes:
    rulebook = rulebook_named(name)
    subject: dict[str, Any] = {
        "uscc": uscc_of(draw(st.integers(min_value=0, max_value=10 ** 6))), "name": "某矿业有限公司",
        "kind": rulebook.subject_kind, "status": "active",
        "public_score": draw(st.decimals(min_value=0, max_value=1000, places=draw(st.integers(0, 3)))),
        "records": draw(records_for(name))}
    if draw(st.booleans()):
        subject.pop("status")
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        draw(st.sampled_from(subject_mutations(rulebook)))(subject, draw)
    records = subject.get("records")
    if isinstance(records, list) and records:
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            draw(st.sampled_from(record_mutations(rulebook)))(draw(st.sampled_from(records)), records, draw)
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        subject = {key: subject[key] for key in draw(st.permutations(list(subject)))}
    style = (draw(st.sampled_from([",", ", ", " , "])), draw(st.sampled_from([":", ": ", " :"])), draw(st.booleans()))
    text = draw(st.sampled_from(LINE_SHAPES)) + dump(subject, style) + draw(st.sampled_from(LINE_SHAPES))
    return text.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("name", ["miner", "agency", "variant", "triggered"])
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_line_gives_the_same_output_with_the_fast_path(name: str, data: st.DataObject) -> None:
    rulebook = rulebook_named(name)
    check_line(rulebook, data.draw(lines_for(name)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_canonical_lines_are_always_taken(data: st.DataObject) -> None:
    """The plain path is not a no-op: every line in the canonical form of a valid plain subject takes it."""
    rulebook = shipped("miner")
    subject = {"uscc": uscc_of(data.draw(st.integers(min_value=0, max_value=10 ** 6))), "name": "某矿业有限公司",
               "kind": "miner", "public_score": data.draw(st.decimals(min_value=0, max_value=1000, places=2)),
               "records": data.draw(records_for("miner"))}
    assert check_line(rulebook, dump(subject).encode()) is not None


# --- by hand: every leniency of msgspec, the model or score_raw ---------------------------------------

MINER = shipped("miner")
USCC = uscc_of(42)
VIOLATION = '{"id":"v-1","type":"violation","indicator":"M37","tier":2,"determined_on":"2023-01-05"}'
HONOUR = '{"id":"h-1","type":"honour","honour":"诚信企业","level":"ministry","awarded_on":"2022-03-04"}'
BASE = ('{"uscc":"' + USCC + '","name":"某矿业有限公司","kind":"miner","status":"active","public_score":812.35,'
        '"records":[' + VIOLATION + "," + HONOUR + "]}")


def edited(old: str, new: str, base: str = BASE) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


# (what is changed, the line, whether the fast path takes it)
HAND_CASES: list[tuple[str, str, bool]] = [
    ("canonical", BASE, True),
    ("no status", edited('"status":"active",', ""), True),
    ("no records", edited(',"records":[' + VIOLATION + "," + HONOUR + "]", ""), True),
    ("no records at all", edited("[" + VIOLATION + "," + HONOUR + "]", "[]"), True),
    ("dissolved", edited('"active"', '"dissolved"'), True),
    ("dissolved without a public score", edited('"active","public_score":812.35', '"dissolved"'), True),
    ("dissolved, public score null", edited('"active","public_score":812.35', '"dissolved","public_score":null'),
     True),
    ("spaces around the line and the tokens", "  " + BASE.replace(",", " , ").replace(":", " : ") + " \t", True),
    ("keys in another order", '{"records":[' + HONOUR + "," + VIOLATION + '],"public_score":812.35,"kind":"miner",'
     '"name":"某矿业有限公司","uscc":"' + USCC + '"}', True),
    ("type last", edited('"type":"violation",', "", edited('"2023-01-05"}', '"2023-01-05","type":"violation"}')),
     True),
    ("unicode escapes", edited('"某矿业有限公司"', '"\\u67d0\\u77ff\\u4e1a"'), True),
    ("an escaped date", edited('"2023-01-05"', '"\\u0032023-01-05"'), True),
    ("authority and description", edited('"2022-03-04"}', '"2022-03-04","authority":"局","description":null}'), True),
    ("valid_until null", edited('"2022-03-04"}', '"2022-03-04","valid_until":null}'), True),
    ("valid_until the award day", edited('"2022-03-04"}', '"2022-03-04","valid_until":"2022-03-04"}'), True),
    ("name with surrounding spaces", edited('"某矿业有限公司"', '" 某矿业 "'), True),
    ("name mentions public_score", edited('"某矿业有限公司"', '"public_score"'), True),
    ("two M37 of tier 2", edited(HONOUR, VIOLATION.replace("v-1", "v-2").replace("2023-01-05", "2023-03-05")), True),
    # the public score: a JSON number without a sign, read exactly; anything else is left to the other path
    ("public score int", edited("812.35", "812"), True),
    ("public score 812.0", edited("812.35", "812.0"), True),
    ("public score exponent", edited("812.35", "8.1235E+2"), False),
    ("public score 0", edited("812.35", "0"), True),
    ("public score 1000", edited("812.35", "1000"), True),
    ("public score 1000.000", edited("812.35", "1000.000"), True),
    ("public score tiny", edited("812.35", "1E-400"), False),
    ("public score many digits", edited("812.35", "812.3500000000000000001"), True),
    ("public score twice", edited("812.35", '500,"public_score":812.35'), False),
    ("public score twice, int last", edited("812.35", '812.35,"public_score":500'), False),
    ("public score as text", edited("812.35", '"812.35"'), False),
    ("public score NaN text", edited("812.35", '"NaN"'), False),
    ("public score NaN", edited("812.35", "NaN"), False),
    ("public score Infinity", edited("812.35", "Infinity"), False),
    ("public score -Infinity", edited("812.35", "-Infinity"), False),
    ("public score -0", edited("812.35", "-0"), False),
    ("public score -0.0", edited("812.35", "-0.0"), False),
    ("public score negative", edited("812.35", "-1"), False),
    ("public score over 1000", edited("812.35", "1000.0000000000000000001"), False),
    ("public score huge", edited("812.35", "1e400"), False),
    ("public score null", edited("812.35", "null"), False),
    ("public score missing", edited(',"public_score":812.35', ""), False),
    ("public score true", edited("812.35", "true"), False),
    ("public score list", edited("812.35", "[812.35]"), False),
    # the tier: a JSON integer only
    ("tier 2.0", edited('"tier":2', '"tier":2.0'), False),
    ("tier 2e0", edited('"tier":2', '"tier":2e0'), False),
    ("tier true", edited('"tier":2', '"tier":true'), False),
    ("tier as text", edited('"tier":2', '"tier":"2"'), False),
    ("tier null", edited('"tier":2', '"tier":null'), False),
    ("tier 0", edited('"tier":2', '"tier":0'), False),
    ("tier -1", edited('"tier":2', '"tier":-1'), False),
    ("tier huge", edited('"tier":2', '"tier":' + "9" * 40), False),
    ("tier unknown", edited('"tier":2', '"tier":9'), False),
    ("tier twice", edited('"tier":2', '"tier":1,"tier":2'), False),
    # dates: YYYY-MM-DD only
    ("date with a time", edited('"2023-01-05"', '"2023-01-05T00:00:00"'), False),
    ("date with a zone", edited('"2023-01-05"', '"2023-01-05Z"'), False),
    ("date with a space", edited('"2023-01-05"', '"2023-01-05 "'), False),
    ("date without zeros", edited('"2023-01-05"', '"2023-1-5"'), False),
    ("date compact", edited('"2023-01-05"', '"20230105"'), False),
    ("date as a number", edited('"2023-01-05"', "20230105"), False),
    ("not a day", edited('"2023-01-05"', '"2023-02-29"'), False),
    ("full-width digits", edited('"2023-01-05"', '"２０２３-01-05"'), False),
    ("validity before the award", edited('"2022-03-04"}', '"2022-03-04","valid_until":"2022-03-03"}'), False),
    # texts given as numbers, or not as the model keeps them
    ("name as a number", edited('"某矿业有限公司"', "5"), False),
    ("empty name", edited('"某矿业有限公司"', '""'), False),
    ("id as a number", edited('"v-1"', "7"), False),
    ("id with a space", edited('"v-1"', '"v-1 "'), False),
    ("id with an ideographic space", edited('"v-1"', '"\\u3000v-1"'), False),
    ("empty id", edited('"v-1"', '""'), False),
    ("the id twice", edited('"h-1"', '"v-1"'), False),
    ("honour as a number", edited('"诚信企业"', "3"), False),
    ("honour with a space", edited('"诚信企业"', '" 诚信企业"'), False),
    ("indicator as a number", edited('"M37"', "37"), False),
    ("indicator with a space", edited('"M37"', '"M37 "'), False),
    ("unknown indicator", edited('"M37"', '"M99"'), False),
    ("another kind's indicator", edited('"M37"', '"A05"'), False),
    ("level as a number", edited('"ministry"', "1"), False),
    ("unknown level", edited('"ministry"', '"county"'), False),
    ("authority as a number", edited('"2022-03-04"}', '"2022-03-04","authority":5}'), False),
    ("kind as a number", edited('"miner"', "1"), False),
    ("another kind", edited('"miner"', '"agency"'), False),
    ("status Active", edited('"active"', '"Active"'), False),
    ("status null", edited('"active"', "null"), False),
    ("uscc as a number", edited('"' + USCC + '"', USCC if USCC.isdigit() else "915000000000000001"), False),
    ("uscc lower case", edited(USCC, USCC.lower()), USCC.lower() == USCC),
    ("uscc check character", edited(USCC, USCC[:17] + ("0" if USCC[17] != "0" else "1")), False),
    ("uscc too short", edited(USCC, USCC[:17]), False),
    # shape: fields and records the fast path does not know
    ("unknown field", edited('"kind":"miner"', '"kind":"miner","extra":1'), False),
    ("roles", edited('"kind":"miner"', '"kind":"miner","roles":[]'), False),
    ("record field", edited('"tier":2', '"tier":2,"amount":5'), False),
    ("info kind", edited('"tier":2', '"tier":2,"info_kind":"administrative_penalty"'), False),
    ("no type", edited('"type":"violation",', ""), False),
    ("type twice", edited('"type":"violation"', '"type":"violation","type":"honour"'), False),
    ("type twice, the same", edited('"type":"violation"', '"type":"violation","type":"violation"'), False),
    ("another record type", edited('"violation"', '"judgment_refusal"'), False),
    ("no id", edited('"id":"v-1",', ""), False),
    ("no date", edited(',"determined_on":"2023-01-05"', ""), False),
    ("records null", edited("[" + VIOLATION + "," + HONOUR + "]", "null"), False),
    ("records an object", edited("[" + VIOLATION + "," + HONOUR + "]", "{}"), False),
    ("a record not an object", edited("[" + VIOLATION, "[1," + VIOLATION), False),
    ("uscc twice", edited('"uscc"', '"uscc":"x","uscc"'), False),
    # not JSON the standard parser reads
    ("trailing comma", edited("]}", "],}"), False),
    ("trailing text", BASE + " x", False),
    ("two objects", BASE + BASE, False),
    ("a byte-order mark", "\ufeff" + BASE, False),
    ("a lone surrogate", edited('"某矿业有限公司"', '"\\ud800"'), False),
    ("a raw tab in a text", edited('"某矿业有限公司"', '"某\t矿"'), False),
    ("single quotes", BASE.replace('"', "'"), False),
    ("a list", "[" + BASE + "]", False),
    ("null", "null", False),
]


@pytest.mark.parametrize(("line", "taken"), [pytest.param(line, taken, id=what) for what, line, taken in HAND_CASES])
def test_by_hand(line: str, taken: bool) -> None:
    fast = check_line(MINER, line.encode("utf-8"))
    assert (fast is not None) == taken


def test_bytes_that_are_not_utf8_are_left_to_the_other_path() -> None:
    for bad in (b"\xff", b"\xed\xa0\x80", b"\xc0\xaf"):
        assert check_line(MINER, BASE.encode().replace("某".encode(), bad)) is None


def test_a_public_score_keeps_the_digits_it_was_written_with() -> None:
    for text in ("812.35", "812.350", "812"):
        fast = check_line(MINER, edited("812.35", text).encode())
        assert fast is not None and str(fast[0].public_score) == str(Decimal(text))
    # an exponent, or a long text, is left to the model (its bounds on digits: mincredit._numbers), which keeps it
    assert check_line(MINER, edited("812.35", "8.1235E+2").encode()) is None


def test_a_key_given_twice_is_never_taken_here() -> None:
    """msgspec keeps the last of a key given twice; the line goes to the standard parser, which refuses it."""
    for key, twice in (('"uscc"', '"uscc":"x","uscc"'), ('"tier":2', '"tier":2,"tier":2'),
                       ('"valid_until"', '"valid_until":null,"valid_until"'), ('"records"', '"records":[],"records"'),
                       ('"kind"', '"kind":"miner","kind"'), ('"public_score"', '"public_score":1,"public_score"')):
        line = edited(key, twice) if key in BASE else None
        if line is not None:
            assert check_line(MINER, line.encode()) is None, twice


def test_a_public_score_of_more_than_28_digits_scores_as_the_engine() -> None:
    check_line(MINER, edited("812.35", "812.3500000000000000000000000000000000001").encode())


def test_the_stated_tier_warning_is_given() -> None:
    line = edited(HONOUR, VIOLATION.replace("v-1", "v-2").replace("2023-01-05", "2023-03-05"))
    fast = check_line(MINER, line.encode())
    assert fast is not None and fast[0].warnings == (
        "record v-2: tier 2 is stated, but offence number 2 is tier 3 of M37; the stated tier is used — check it",)


def test_a_violation_a_trigger_takes_is_left_to_the_engine() -> None:
    assert check_line(rulebook_named("triggered"), BASE.encode()) is None
    assert check_line(rulebook_named("triggered"), edited(VIOLATION + ",", "").encode()) is not None


def test_a_missing_public_score_counted_as_zero() -> None:
    fast = check_line(rulebook_named("variant"), edited(',"public_score":812.35', "").encode())
    assert fast is not None and fast[0].public_score is None


# --- whole files ----------------------------------------------------------------------------------------

def population(count: int) -> list[dict[str, Any]]:
    return generated_population(count, seed=11)


# Every hand case, the lone surrogate too (an error of its subject on both paths).
ODD_LINES = [line for _, line, _ in HAND_CASES]


def write_population(path: Path, count: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    lines = [generate.subject_line(subject) for subject in population(count)]
    middle = count // 2
    # the odd lines among the plain ones, a blank line and a CRLF too
    path.write_bytes("\n".join([*lines[:middle], *ODD_LINES, "", lines[middle] + "\r", *lines[middle + 1:]]).encode()
                     + b"\n")
    return path


def batch_run(facts: Path, out: Path, fast: bool, jobs: int) -> tuple[bytes, list[str], tuple[Any, ...]]:
    errors: list[str] = []
    with contextlib.nullcontext() if fast else without_fast_path():
        summary = run_batch(BatchRequest(facts, MINER, AS_OF, out, explain=False, jobs=jobs),
                            on_error=lambda error: errors.append(error.describe()))
    return out.read_bytes(), errors, (summary.subjects, summary.records, summary.error_subjects,
                                      summary.not_evaluated, sorted(summary.grades.items()))


def test_a_population_file_is_byte_identical_with_and_without_the_fast_path(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    facts = write_population(tmp_path / "facts.jsonl", 1500)
    before = batch_run(facts, tmp_path / "before.jsonl", fast=False, jobs=1)
    assert before[1] and before[2][0] == 1500 + len(ODD_LINES)
    assert batch_run(facts, tmp_path / "after.jsonl", fast=True, jobs=1) == before
    monkeypatch.setattr(population_run, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(jsonl, "JSONL_UNIT_BYTES", 50_000)     # byte ranges read by two worker processes
    assert batch_run(facts, tmp_path / "parallel.jsonl", fast=True, jobs=2) == before
