"""Population-scale evaluation: the fast path equals the explained one, streaming, atomic output, the CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import MINER_USCC, OTHER_MINER_USCC, generated_population, shipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mincredit import _batch as batch
from mincredit._batch import (
    BatchRequest,
    Score,
    ScorePlan,
    SubjectErrors,
    evaluate_stream,
    first_day_counting,
    quarter_end,
    quick_json,
    run_batch,
)
from mincredit._decimals import exact
from mincredit._engine import SubjectResult, evaluate
from mincredit._periods import period_end
from mincredit.cli import main
from mincredit.facts._uscc import check_character
from mincredit.facts._validating import read_facts_file, validate_subject

RULEBOOK = shipped("miner")
AS_OF = dt.date(2024, 6, 30)
TIER_KEYS = sorted(RULEBOOK.tiers)
LEVELS = sorted(RULEBOOK.honour_levels)
ROOT = Path(__file__).resolve().parent.parent

dates = st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2027, 12, 31))


def uscc_of(number: int) -> str:
    first = f"91150{number:012d}"
    return first + check_character(first)


@st.composite
def raw_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index in range(draw(st.integers(min_value=0, max_value=10))):
        if draw(st.booleans()):
            code, tier = draw(st.sampled_from(TIER_KEYS))
            out.append({"id": f"v-{index}", "type": "violation", "indicator": code, "tier": tier,
                        "determined_on": draw(dates).isoformat()})
        else:
            awarded = draw(dates)
            record: dict[str, Any] = {"id": f"h-{index}", "type": "honour",
                                      "honour": draw(st.sampled_from(["绿色矿山", "先进单位", "示范"])),
                                      "level": draw(st.sampled_from(LEVELS)), "awarded_on": awarded.isoformat()}
            if draw(st.booleans()):
                record["valid_until"] = draw(st.dates(min_value=awarded, max_value=dt.date(2029, 1, 1))).isoformat()
            out.append(record)
    return out


# Ways a subject can be wrong, or unusual but right; each is applied to plain facts data.
MUTATIONS: list[tuple[str, Any]] = [
    ("bad check character", lambda s: s.update(uscc=s["uscc"][:17] + ("0" if s["uscc"][17] != "0" else "1"))),
    ("uscc as int", lambda s: s.update(uscc=123)),
    ("empty name", lambda s: s.update(name="")),
    ("agency", lambda s: s.update(kind="agency")),
    ("unknown kind", lambda s: s.update(kind="mine")),
    ("dissolved", lambda s: s.update(status="dissolved")),
    ("dissolved without score", lambda s: (s.update(status="dissolved"), s.pop("public_score"))),
    ("no public score", lambda s: s.pop("public_score")),
    ("score over 1000", lambda s: s.update(public_score=Decimal("1000.01"))),
    ("score 1000", lambda s: s.update(public_score=Decimal("1000"))),
    ("score as text", lambda s: s.update(public_score="812.35")),
    ("score as int", lambda s: s.update(public_score=700)),
    ("score as float", lambda s: s.update(public_score=812.35)),
    ("negative score", lambda s: s.update(public_score=Decimal("-1"))),
    ("exponent score", lambda s: s.update(public_score=Decimal("8.5E+2"))),
    ("unknown field", lambda s: s.update(extra=1)),
    ("records not a list", lambda s: s.update(records={})),
]
RECORD_MUTATIONS: list[tuple[str, Any]] = [
    ("duplicate id", lambda r, rs: rs.append(dict(r))),
    ("id with spaces", lambda r, rs: r.update(id=f" {r['id']} ")),
    ("numeric id", lambda r, rs: r.update(id=7)),
    ("empty id", lambda r, rs: r.update(id="")),
    ("unknown record field", lambda r, rs: r.update(amount=5)),
    ("bad type", lambda r, rs: r.update(type="warning")),
    ("authority", lambda r, rs: r.update(authority="鄂尔多斯市自然资源局")),
    ("authority not text", lambda r, rs: r.update(authority=5)),
    ("bad date", lambda r, rs: r.update({k: "2023-02-30" for k in ("determined_on", "awarded_on") if k in r})),
    ("datetime text", lambda r, rs: r.update({k: v + "T00:00:00" for k, v in r.items()
                                              if k in ("determined_on", "awarded_on")})),
    ("unknown indicator", lambda r, rs: r.update(indicator="M99") if r["type"] == "violation" else None),
    ("agency indicator", lambda r, rs: r.update(indicator="A05") if r["type"] == "violation" else None),
    ("unknown tier", lambda r, rs: r.update(tier=9) if r["type"] == "violation" else None),
    ("tier as text", lambda r, rs: r.update(tier=str(r["tier"])) if r["type"] == "violation" else None),
    ("tier zero", lambda r, rs: r.update(tier=0) if r["type"] == "violation" else None),
    ("tier bool", lambda r, rs: r.update(tier=True) if r["type"] == "violation" else None),
    ("indicator with space", lambda r, rs: r.update(indicator=r["indicator"] + " ") if r["type"] == "violation"
     else None),
    ("honour field on violation", lambda r, rs: r.update(honour="x") if r["type"] == "violation" else None),
    ("unknown level", lambda r, rs: r.update(level="county") if r["type"] == "honour" else None),
    ("validity before award", lambda r, rs: r.update(valid_until="2000-01-01") if r["type"] == "honour" else None),
    ("null validity", lambda r, rs: r.update(valid_until=None) if r["type"] == "honour" else None),
]


@st.composite
def raw_subjects(draw: st.DrawFn) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "uscc": uscc_of(draw(st.integers(min_value=0, max_value=10 ** 6))), "name": "某矿业有限公司",
        "kind": "miner", "public_score": draw(st.decimals(min_value=0, max_value=1000, places=2)),
        "records": draw(raw_records())}
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        _, mutate = draw(st.sampled_from(MUTATIONS))
        mutate(subject)
    records = subject.get("records")
    if isinstance(records, list) and records and draw(st.integers(min_value=0, max_value=3)) == 0:
        _, mutate = draw(st.sampled_from(RECORD_MUTATIONS))
        mutate(draw(st.sampled_from(records)), records)
    return subject


def summary(result: Any) -> tuple[Any, ...]:
    return (result.uscc, result.name, result.kind, result.status, result.evaluated, result.grade,
            result.grade_meaning, result.score, result.public_score, result.deductions, result.honour_bonus,
            result.not_evaluated_reason)


def reference(raw: Any) -> tuple[Any, ...]:
    """What mincredit._engine.evaluate makes of a subject: its result summary or its error messages."""
    evaluation = evaluate([validate_subject(raw, file=None, index=0, line=None)], RULEBOOK, AS_OF)
    if evaluation.errors:
        return ("errors", tuple(error.describe() for error in evaluation.errors))
    return summary(evaluation.results[0])


def fast(outcome: Any) -> tuple[Any, ...]:
    if isinstance(outcome, SubjectErrors):
        return ("errors", tuple(error.describe() for error in outcome.errors))
    return summary(outcome)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_subjects())
def test_no_explain_equals_the_explained_evaluation(raw: dict[str, Any]) -> None:
    expected = reference(raw)
    (from_data,) = evaluate_stream([raw], RULEBOOK, AS_OF, explain=False)
    assert fast(from_data) == expected
    (explained,) = evaluate_stream([raw], RULEBOOK, AS_OF, explain=True)
    assert fast(explained) == expected
    entry = validate_subject(raw, file=None, index=0, line=None)
    if entry.subject is not None:
        (from_model,) = evaluate_stream([entry.subject], RULEBOOK, AS_OF, explain=False)
        assert fast(from_model) == expected
    line = json.dumps(raw, default=str, ensure_ascii=False)
    if isinstance(raw.get("public_score"), Decimal):
        line = line.replace(f'"public_score": "{raw["public_score"]}"', f'"public_score": {raw["public_score"]}')
    quick = quick_json(line.encode())
    if quick is not None:   # the quick parser, when it answers, reads exactly what the standard one reads
        assert quick == json.loads(line, parse_float=Decimal)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)), st.integers(min_value=1, max_value=6))
def test_the_precomputed_window_is_the_civil_code_period(as_of: dt.date, years: int) -> None:
    first = first_day_counting(as_of, years)
    assert period_end(first, years=years) >= as_of
    assert period_end(first - dt.timedelta(days=1), years=years) < as_of


def test_leap_day_windows() -> None:
    # A period from 2019-02-28 ends 2024-02-28, from 2019-03-01 on 2024-03-01; 2024-02-29 needs a start of 2019-03-01.
    assert first_day_counting(dt.date(2024, 2, 29), 5) == dt.date(2019, 3, 1)
    assert first_day_counting(dt.date(2024, 6, 30), 5) == dt.date(2019, 6, 30)
    assert first_day_counting(dt.date(2021, 2, 28), 1) == dt.date(2020, 2, 28)


def test_quarters() -> None:
    assert quarter_end("2024Q3") == dt.date(2024, 9, 30)
    assert quarter_end("2024q4") == dt.date(2024, 12, 31)
    assert quarter_end("2024Q1") == dt.date(2024, 3, 31)
    assert quarter_end("2023Q2") == dt.date(2023, 6, 30)
    for bad in ("2024Q5", "2024-Q3", "Q3", "2024"):
        with pytest.raises(ValueError, match="YYYYQn"):
            quarter_end(bad)


def test_public_scores_stay_exact() -> None:
    plan = ScorePlan(RULEBOOK, AS_OF)
    raw = {"uscc": OTHER_MINER_USCC, "name": "包头某煤业有限责任公司", "kind": "miner",
           "public_score": Decimal("812.35")}
    score = batch.score_raw(plan, raw)
    assert score is not None and str(score.score) == "962.47"
    line = (b'{"uscc":"' + OTHER_MINER_USCC.encode()
            + b'","name":"x","kind":"miner","public_score":812.3500000000000000001}')
    parsed = quick_json(line)
    assert parsed is None or parsed["public_score"] == Decimal("812.3500000000000000001")
    (outcome,) = evaluate_stream([json.loads(line, parse_float=Decimal)], RULEBOOK, AS_OF, explain=False)
    assert isinstance(outcome, Score) and outcome.score == Decimal("962.47000000000000000002")


# --- files and the command line --------------------------------------------------------------------

def population(count: int) -> list[dict[str, Any]]:
    return generated_population(count, seed=7)


def write_jsonl(path: Path, subjects: list[Any], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(s, ensure_ascii=False, default=str).replace(
        f'"public_score": "{s.get("public_score")}"', f'"public_score": {s.get("public_score")}')
        for s in subjects]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


def results_of(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()  # type: ignore[no-any-return]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


KEYS = ("uscc", "grade", "score", "public_score", "deductions", "honour_bonus", "evaluated", "not_evaluated_reason")


def keyed(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row[k] for k in KEYS) for row in rows]


def reference_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[str]]:
    evaluation = evaluate(read_facts_file(path), RULEBOOK, AS_OF)
    rows = [{**r.model_dump(mode="json")} for r in evaluation.results]
    return keyed(rows), [e.describe() for e in evaluation.errors]


@pytest.mark.parametrize("explain", [True, False])
@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_jsonl_batch_equals_evaluate(tmp_path: Path, explain: bool, suffix: str) -> None:
    facts = write_jsonl(tmp_path / "facts.jsonl", population(150),
                        ('{"uscc": "91150600MA13R7T5Q7", "name": "x", "kind": "miner", "public_score": 1}', "{oops"))
    expected, expected_errors = reference_rows(facts)
    errors: list[str] = []
    out = tmp_path / f"out{suffix}"
    summary = run_batch(BatchRequest(facts, RULEBOOK, AS_OF, out, explain=explain),
                        on_error=lambda e: errors.append(e.describe()))
    assert keyed(results_of(out)) == expected
    assert errors == expected_errors and len(errors) == 2
    assert "line 151" in errors[0] and "line 152" in errors[1]
    assert summary.subjects == 152 and summary.error_subjects == 2
    rows = results_of(out)
    assert all(row["rulebook_digest"] == RULEBOOK.digest and str(row["as_of"]) == "2024-06-30" for row in rows)
    assert ("items" in rows[0]) == explain


@pytest.mark.parametrize("explain", [False, True])
def test_parallel_results_are_identical_and_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     explain: bool) -> None:
    subjects: list[Any] = population(300)
    subjects[40] = {**subjects[40], "public_score": "-1"}             # errors, to be numbered in the whole file
    subjects[250] = {**subjects[250], "kind": "agency"}
    facts = write_jsonl(tmp_path / "facts.jsonl", subjects, ("", "{oops", '{"uscc": 1}'))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first: list[str] = []
    run_batch(BatchRequest(facts, RULEBOOK, AS_OF, one, explain=explain), on_error=lambda e: first.append(e.describe()))
    _, expected_errors = reference_rows(facts)
    assert first == expected_errors and len(first) >= 4
    monkeypatch.setattr(batch, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(batch, "JSONL_UNIT_BYTES", 3000)     # many byte ranges, cut inside lines
    second: list[str] = []
    run_batch(BatchRequest(facts, RULEBOOK, AS_OF, two, explain=explain, jobs=2),
              on_error=lambda e: second.append(e.describe()))
    assert one.read_bytes() == two.read_bytes()
    assert second == first


def test_byte_ranges_hold_whole_lines(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    lines = [b"\xef\xbb\xbf{\"a\": 1}", b"", b"  ", b'{"b": "x\xe2\x80\xa8y"}\r', b'{"c": 3}']
    facts.write_bytes(b"\n".join(lines))                     # no newline at the end
    for size in range(1, 40):
        units = list(batch.jsonl_units(facts, size))
        assert units[0].start == 0 and units[-1].end == facts.stat().st_size
        assert all(a.end == b.start for a, b in itertools.pairwise(units))
        assert [line for unit in units for line in unit.lines()] == [b'{"a": 1}', *lines[1:]]


def test_an_interrupted_run_leaves_the_previous_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    facts = write_jsonl(tmp_path / "facts.jsonl", population(50))
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    real = batch.JsonlUnit.run
    calls = {"n": 0}

    def interrupted(self: batch.JsonlUnit, worker: batch.Worker) -> batch.UnitOutcome:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, worker)

    monkeypatch.setattr(batch.JsonlUnit, "run", interrupted)
    monkeypatch.setattr(batch, "JSONL_UNIT_BYTES", 2000)
    with pytest.raises(KeyboardInterrupt):
        run_batch(BatchRequest(facts, RULEBOOK, AS_OF, out, explain=False))
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facts.jsonl", "out.jsonl"]   # no temporary file left


def test_json_lines_are_read_line_by_line(tmp_path: Path) -> None:
    good = {"uscc": MINER_USCC, "name": "名称\u2028带行分隔符", "kind": "miner", "public_score": 500}
    path = tmp_path / "facts.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(good, ensure_ascii=False).encode() + b"\r\n\n"
                     + b'{"uscc": "\xff"}\n' + json.dumps(good).encode() + b"\n")
    entries = list(read_facts_file(path))
    assert [e.line for e in entries] == [1, 3, 4]
    assert entries[0].subject is not None and entries[0].subject.name == good["name"]
    assert entries[1].subject is None and "not valid UTF-8" in entries[1].errors[0].message
    assert entries[2].subject is not None


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mincredit.cli", *args], capture_output=True, text=True,
                          cwd=cwd, check=False)


def test_cli_output_summary_and_exit_status(tmp_path: Path) -> None:
    facts = write_jsonl(tmp_path / "facts.jsonl", population(40), ('{"uscc": 1}',))
    out = tmp_path / "out.jsonl"
    done = run_cli("evaluate", str(facts), "--rulebook", "miner", "--quarter", "2024Q2", "--output", str(out),
                   "--no-explain")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "line 41: subject #41" in done.stderr
    assert "41 subjects" in done.stderr and "1 with errors" in done.stderr and "grades A" in done.stderr
    assert "\r" not in done.stderr and "━" not in done.stderr      # no progress bar when stderr is not a terminal
    rows = results_of(out)
    assert len(rows) == 40 and rows[0]["as_of"] == "2024-06-30" and "items" not in rows[0]
    streamed = run_cli("evaluate", str(facts), "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "jsonl",
                       "--no-explain")
    assert [json.loads(line) for line in streamed.stdout.splitlines()] == rows


@pytest.mark.parametrize(("args", "words"), [
    (("--no-explain",), "go with --output"),
    (("--output", "out.txt"), "name it .jsonl"),
    (("--output", "missing/out.jsonl"), "does not exist"),
    (("--jobs", "2"), "go with --output"),
])
def test_cli_refuses_unusable_batch_arguments(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    facts = write_jsonl(tmp_path / "facts.jsonl", population(3))
    done = run_cli("evaluate", str(facts), "--rulebook", "miner", "--as-of", "2024-06-30", *args, cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr


def test_quarter_and_as_of_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "x.yaml", "--rulebook", "miner", "--as-of", "2024-06-30", "--quarter", "2024Q2"])
    assert stopped.value.code == 2
    with pytest.raises(SystemExit):
        main(["evaluate", "x.yaml", "--rulebook", "miner", "--quarter", "2024Q9"])
    assert "YYYYQn" in capsys.readouterr().err


def test_quarter_gives_the_same_table_as_its_last_day() -> None:
    example = str(ROOT / "examples" / "miners.yaml")
    by_quarter = run_cli("evaluate", example, "--rulebook", "miner", "--quarter", "2024Q2", "--format", "json")
    by_day = run_cli("evaluate", example, "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "json")
    assert by_quarter.returncode == 0 and by_quarter.stdout == by_day.stdout


# --- every field but the explanations, on every path -----------------------------------------------------

REPEATED_TIERS = [key for key in TIER_KEYS if key[0] == "M37"]   # tiers graded by the offence count


@st.composite
def measured_subjects(draw: st.DrawFn, number: int, plain: bool) -> dict[str, Any]:
    """Subjects whose results carry the lists: grades D and E (consequences), repeated M37 records with stated
    tiers (warnings) and, unless ``plain``, a penalty for a behaviour art. 16 names (a blacklist proposal)."""
    records = draw(raw_records())
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        code, tier = draw(st.sampled_from(REPEATED_TIERS))
        records.append({"id": f"m-{index}", "type": "violation", "indicator": code, "tier": tier,
                        "determined_on": draw(dates).isoformat()})
    if not plain and draw(st.booleans()):
        records.append({"id": "p-1", "type": "violation", "indicator": "M01", "tier": 1,
                        "determined_on": draw(dates).isoformat(), "info_kind": "penalty",
                        "penalty": {"kind": "administrative", "status": "upheld"}, "behaviours": ["弄虚作假"]})
    return {"uscc": uscc_of(number), "name": f"公司{number}", "kind": "miner",
            "status": draw(st.sampled_from(["active", "active", "active", "dissolved"])),
            "public_score": draw(st.decimals(min_value=0, max_value=1000, places=2)), "records": records}


def explained_lines(path: Path) -> list[dict[str, Any]]:
    """The explained output's lines without their items: what --no-explain must give, field for field."""
    rows = results_of(path)
    for row in rows:
        row.pop("items")
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=10 ** 6), min_size=1, max_size=12, unique=True).flatmap(
    lambda numbers: st.tuples(*(measured_subjects(number, plain=False) for number in numbers))))
def test_no_explain_output_carries_every_field_but_the_explanations(subjects: tuple[dict[str, Any], ...]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        facts = write_jsonl(Path(folder) / "facts.jsonl", list(subjects))
        explained, fast = Path(folder) / "explained.jsonl", Path(folder) / "fast.jsonl"
        run_batch(BatchRequest(facts, RULEBOOK, AS_OF, explained, explain=True))
        run_batch(BatchRequest(facts, RULEBOOK, AS_OF, fast, explain=False))
        expected = explained_lines(explained)
        assert results_of(fast) == expected
        # byte for byte: the line the explained output would be without its items
        assert fast.read_text(encoding="utf-8").splitlines() == [
            json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in expected]
    for raw in subjects:
        (result,) = evaluate_stream([raw], RULEBOOK, AS_OF, explain=True)
        assert isinstance(result, SubjectResult)
        (score,) = evaluate_stream([raw], RULEBOOK, AS_OF, explain=False)
        assert score == Score.of(result)
        assert score.to_result() == result.model_copy(update={"items": []})
        entry = validate_subject(raw, file=None, index=0, line=None)
        assert entry.subject is not None
        (from_model,) = evaluate_stream([entry.subject], RULEBOOK, AS_OF, explain=False)
        assert from_model == score


def test_the_lists_are_there_for_plain_subjects() -> None:
    """Plain violations and honours alone give consequences (a grade's) and warnings (stated M37 tiers)."""
    records = [{"id": "a", "type": "violation", "indicator": "M37", "tier": 2, "determined_on": "2023-01-05"},
               {"id": "b", "type": "violation", "indicator": "M37", "tier": 2, "determined_on": "2023-03-05"}]
    raw = {"uscc": uscc_of(5), "name": "某矿业有限公司", "kind": "miner", "public_score": Decimal("100"),
           "records": records}
    plan = ScorePlan(RULEBOOK, AS_OF)
    score = batch.score_raw(plan, raw)
    assert score is not None and score.grade == "E"
    assert score.warnings == ("record b: tier 2 is stated, but offence number 2 is tier 3 of M37; the stated tier "
                              "is used — check it",)
    assert [item.id for item in score.consequences] and all(item.because == "grade E" for item in score.consequences)
    (result,) = evaluate([validate_subject(raw, file=None, index=0, line=None)], RULEBOOK, AS_OF).results
    assert score == Score.of(result)


def test_a_plain_record_a_blacklist_trigger_takes_goes_to_the_engine() -> None:
    plan = ScorePlan(RULEBOOK, AS_OF)
    assert plan.engine_codes == batch.trigger_codes(RULEBOOK)
    assert not plan.engine_codes      # the shipped triggers all need a penalty, a judgment or a role
    source = RULEBOOK.source
    assert source.blacklist is not None
    trigger = source.blacklist.triggers[0]
    loose = trigger.model_copy(update={"when": [trigger.when[0]]})           # record_type: violation, nothing else
    widened = source.model_copy(update={"blacklist": source.blacklist.model_copy(update={"triggers": [loose]})})
    from mincredit.rules._compiling import compile_rulebook

    rulebook = compile_rulebook(widened)
    plan = ScorePlan(rulebook, AS_OF)
    assert plan.engine_codes == frozenset(rulebook.tiers_of)
    raw = {"uscc": uscc_of(6), "name": "某矿业有限公司", "kind": "miner", "public_score": Decimal("800"),
           "records": [{"id": "a", "type": "violation", "indicator": "M01", "tier": 1, "determined_on": "2024-01-05"}]}
    assert batch.score_raw(plan, raw) is None                                 # left to the engine …
    (score,) = evaluate_stream([raw], rulebook, AS_OF, explain=False)
    (result,) = evaluate_stream([raw], rulebook, AS_OF, explain=True)
    assert isinstance(result, SubjectResult) and result.proposals            # … which proposes the listing
    assert score == Score.of(result)


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10 ** 30, max_value=10 ** 30)
       | st.integers(min_value=-10 ** 20, max_value=10 ** 20).map(lambda n: Decimal(n).scaleb(3)))
def test_exact_keeps_the_value_and_drops_positive_exponent_and_trailing_zeros(value: Decimal) -> None:
    # batch scoring and the engine share mincredit._decimals.exact; this pins what it does
    result = exact(value)
    exponent = result.as_tuple().exponent
    text = format(result, "f")
    assert result == value                                        # never rounded, whatever the digits
    assert isinstance(exponent, int) and exponent <= 0          # 1E+3 is 1000, never an exponent upward
    assert "." not in text or not text.endswith("0")


@pytest.mark.parametrize(("value", "text"), [
    ("962.470", "962.47"), ("1E+3", "1000"), ("0.00", "0"), ("-160.00", "-160"), ("900.001", "900.001"),
    ("812.35000000000000000000000000000000000010", "812.3500000000000000000000000000000000001"),
    ("1234567890123456789012345678901234567890E+2", "123456789012345678901234567890123456789000")])
def test_exact_by_hand(value: str, text: str) -> None:
    from mincredit._engine import exact

    assert str(exact(Decimal(value))) == str(exact(Decimal(value))) == text


# --- what a command loads ------------------------------------------------------------------------------

def test_evaluate_loads_only_what_it_needs(tmp_path: Path) -> None:
    facts = write_jsonl(tmp_path / "facts.jsonl", population(5))
    program = ("import sys; from mincredit.cli import main; "
               f"code = main(['evaluate', {str(facts)!r}, '--rulebook', 'miner', '--as-of', '2024-06-30', "
               f"'--no-explain', '--output', {str(tmp_path / 'out.jsonl')!r}]); "
               "print(' '.join(sorted(sys.modules))); raise SystemExit(code)")
    cold = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert cold.returncode == 0, cold.stderr
    loaded = set(cold.stdout.split())
    for heavy in ("mincredit.lint._command", "mincredit._diff", "mincredit._replay", "mincredit._scenarios",
                  "mincredit.cli._repair_blacklist", "mincredit._engine", "mincredit._timeline",
                  "mincredit._backends.durable",
                  "mincredit._columnar", "matplotlib", "pint", "numpy", "pyarrow", "rich.table", "durable"):
        assert heavy not in loaded, heavy
    # With the rulebook's plan basis in the cache (the first run put it there), not even the models load.
    warm = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert warm.returncode == 0, warm.stderr
    loaded = set(warm.stdout.split())
    for heavy in ("pydantic", "pydantic_core", "ruamel.yaml", "mincredit.rules._schema", "mincredit.rules._registry",
                  "mincredit.facts._models", "mincredit._consequences", "mincredit._conditions", "chinese_calendar"):
        assert heavy not in loaded, heavy


def test_commands_listed_by_name_are_the_registered_ones() -> None:
    from mincredit.cli import EXTERNAL_COMMANDS, build_parser

    def commands(parser: Any) -> dict[str, str]:
        action = next(a for a in parser._actions if a.dest == "command")
        return {choice.dest: choice.help for choice in action._choices_actions}

    full, light = commands(build_parser(None)), commands(build_parser("evaluate"))
    assert full == light
    assert {name: full[name] for name in EXTERNAL_COMMANDS} == EXTERNAL_COMMANDS


def test_resolving_one_version_reads_only_the_others_identity(tmp_path: Path) -> None:
    from mincredit.rules._loading import RulebookError
    from mincredit.rules._registry import RulebookLibrary

    shipped_file = ROOT / "rulebooks" / "miner.yaml"
    history = tmp_path / "history"
    history.mkdir()
    text = shipped_file.read_text(encoding="utf-8")
    revised = (text.replace("  version: 2020-draft", "  version: 2025-revision")
               .replace("    from: 2020-12-01", "    from: 2025-12-01")
               .replace("    until: 2025-11-30   #", "    until: 2030-11-30   #"))
    (tmp_path / "miner.yaml").write_text(revised, encoding="utf-8")
    # the old version's body is broken; its rulebook block is not
    (history / "miner@2020-draft.yaml").write_text(text.replace("formula:", "formula: [", 1), encoding="utf-8")
    library = RulebookLibrary(tmp_path)
    resolved = library.resolve("miner", as_of=dt.date(2026, 1, 1))
    assert resolved.rulebook.identity.version == "2025-revision"
    old = library.in_force("miner", dt.date(2024, 6, 30))
    assert old.version == "2020-draft" and old.end == dt.date(2025, 11, 30)
    with pytest.raises(RulebookError):
        library.resolve("miner", as_of=dt.date(2024, 6, 30))                 # loaded when it is asked for
