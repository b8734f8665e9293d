"""A population run: units in order (here or in workers), atomic outputs, the command line's batch mode."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import MINER_USCC, OTHER_MINER_USCC, generated_population
from hypothesis import HealthCheck, given, settings
from population.mutations import AS_OF, RULEBOOK, raw_subjects, results_of, write_jsonl

from mincredit import SubjectErrors, evaluate, evaluate_stream
from mincredit._population import jsonl
from mincredit._population.evaluator import UnitOutcome, Worker
from mincredit._population.run import BatchRequest, quarter_end, run_batch
from mincredit.cli import main
from mincredit.facts._validating import read_facts_file, validate_subject

ROOT = Path(__file__).resolve().parents[2]


def population(count: int) -> list[dict[str, Any]]:
    return generated_population(count, seed=7)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mincredit", *args], capture_output=True, text=True,
                          cwd=cwd, check=False)


def described(outcome: Any) -> Any:
    """A result without its items, or the subject's errors in words: what every path must agree on."""
    if isinstance(outcome, SubjectErrors):
        return ("errors", tuple(error.describe().split(": ", 1)[-1] for error in outcome.errors))
    data = {key: value for key, value in __import__("msgspec").structs.asdict(outcome).items() if key != "items"}
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_subjects())
def test_every_path_agrees_on_any_subject(raw: dict[str, Any]) -> None:
    """A subject as other systems write it — right, unusual or wrong: the model-and-engine path, the stream with
    and without explanations, and the JSON Lines batch (its plain fast path, or the fallback) say the same."""
    entry = validate_subject(raw, file=None, index=0, line=None)
    evaluation = evaluate([entry], RULEBOOK, AS_OF)
    expected: Any = ("errors", tuple(error.describe().split(": ", 1)[-1] for error in evaluation.errors)) \
        if evaluation.errors else described(evaluation.results[0])
    for explain in (True, False):
        (streamed,) = evaluate_stream([raw], RULEBOOK, AS_OF, explain=explain)
        assert described(streamed) == expected
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        facts = write_jsonl(Path(folder) / "facts.jsonl", [raw])
        out = Path(folder) / "out.jsonl"
        errors: list[Any] = []
        run_batch(BatchRequest(facts, RULEBOOK, AS_OF, out, explain=False), on_error=errors.append)
        if errors:
            assert expected[0] == "errors"
        else:
            (row,) = results_of(out)
            assert row["score"] == (str(expected["score"]) if expected["score"] is not None else None)
            assert (row["grade"], row["deductions"]) == (expected["grade"], str(expected["deductions"]))


def test_quarters() -> None:
    assert quarter_end("2024Q3") == dt.date(2024, 9, 30)
    assert quarter_end("2024q4") == dt.date(2024, 12, 31)
    assert quarter_end("2024Q1") == dt.date(2024, 3, 31)
    assert quarter_end("2023Q2") == dt.date(2023, 6, 30)
    for bad in ("2024Q5", "2024-Q3", "Q3", "2024"):
        with pytest.raises(ValueError, match="YYYYQn"):
            quarter_end(bad)


def test_public_scores_stay_exact() -> None:
    line = (b'{"uscc":"' + OTHER_MINER_USCC.encode()
            + b'","name":"x","kind":"miner","public_score":812.3500000000000000001}')
    (outcome,) = evaluate_stream([json.loads(line, parse_float=Decimal)], RULEBOOK, AS_OF, explain=False)
    assert not isinstance(outcome, SubjectErrors) and outcome.score == Decimal("962.47000000000000000002")


def test_byte_ranges_hold_whole_lines(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    lines = [b"\xef\xbb\xbf{\"a\": 1}", b"", b"  ", b'{"b": "x\xe2\x80\xa8y"}\r', b'{"c": 3}']
    facts.write_bytes(b"\n".join(lines))                     # no newline at the end
    for size in range(1, 40):
        units = list(jsonl.jsonl_units(facts, size))
        assert units[0].start == 0 and units[-1].end == facts.stat().st_size
        assert all(a.end == b.start for a, b in itertools.pairwise(units))
        assert [line for unit in units for line in unit.lines()] == [b'{"a": 1}', *lines[1:]]



def test_an_interrupted_run_leaves_the_previous_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    facts = write_jsonl(tmp_path / "facts.jsonl", population(50))
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    real = jsonl.JsonlUnit.run
    calls = {"n": 0}

    def interrupted(self: jsonl.JsonlUnit, worker: Worker) -> UnitOutcome:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, worker)

    monkeypatch.setattr(jsonl.JsonlUnit, "run", interrupted)
    monkeypatch.setattr(jsonl, "JSONL_UNIT_BYTES", 2000)
    with pytest.raises(KeyboardInterrupt):
        run_batch(BatchRequest(facts, RULEBOOK, AS_OF, out, explain=False))
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facts.jsonl", "out.jsonl"]   # no temporary file left



def test_json_lines_are_read_line_by_line(tmp_path: Path) -> None:
    good = {"uscc": MINER_USCC, "name": "名称\u2028带行分隔符", "kind": "miner", "public_score": 500}
    path = tmp_path / "facts.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(good, ensure_ascii=False).encode() + b"\r\n\n"
                     + b'{"uscc": "\xff"}\n' + json.dumps({**good, "uscc": OTHER_MINER_USCC}).encode() + b"\n")
    entries = list(read_facts_file(path))
    assert [e.line for e in entries] == [1, 3, 4]
    assert entries[0].subject is not None and entries[0].subject.name == good["name"]
    assert entries[1].subject is None and "not valid UTF-8" in entries[1].errors[0].message
    assert entries[2].subject is not None



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
                  "mincredit._backends.durable", "mincredit._population.columnar",
                  "mincredit._population.vector", "matplotlib", "pint", "numpy", "pyarrow", "rich.table", "durable"):
        assert heavy not in loaded, heavy
    # With the rulebook's law in the cache (the first run put it there), not even the models load.
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


def test_the_summary_counts_in_words() -> None:
    from mincredit._population.run import BatchSummary

    summary = BatchSummary(subjects=1, error_subjects=1, errors=1)
    assert "1 with errors (1 error line);" in summary.describe()
    summary.errors = 2
    assert "(2 error lines)" in summary.describe()
# --- a subject given twice across units and workers --------------------------------------------------------

@pytest.mark.parametrize(("jobs", "suffix"), [(1, ".jsonl"), (2, ".jsonl"), (1, ".parquet")])
def test_a_subject_given_twice_is_refused_across_units_and_workers(jobs: int, suffix: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The later occurrence is the error, with its line in the file and the first's, whichever unit or worker
    process evaluated either; its result is taken out of the output and the counts."""
    from mincredit._population import run as population_run

    monkeypatch.setattr(population_run, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(jsonl, "JSONL_UNIT_BYTES", 4096)
    subjects = population(60)
    twice = {**subjects[3], "name": "又一次"}
    subjects.insert(50, twice)                                    # line 51, several units after line 4
    subjects.insert(55, {**subjects[7], "name": ""})              # a subject with an error, given twice too
    facts = write_jsonl(tmp_path / "facts.jsonl", subjects)
    out = tmp_path / f"out{suffix}"
    errors: list[Any] = []
    summary = run_batch(BatchRequest(facts, RULEBOOK, AS_OF, out, explain=False, jobs=jobs), on_error=errors.append)
    repeated = [error for error in errors if error.field == "uscc" and "already given" in error.message]
    assert [(error.line, error.subject_index) for error in repeated] == [(51, 50), (56, 55)]
    assert "subject #4 (line 4)" in repeated[0].message and "subject #8 (line 8)" in repeated[1].message
    assert repeated[0].name == "又一次"
    assert all(error.subject_index != 55 or error in repeated for error in errors)   # its own errors are replaced
    rows = results_of(out)
    assert [row["uscc"] for row in rows].count(subjects[3]["uscc"]) == 1
    assert summary.subjects == 62 and summary.error_subjects == len({e.subject_index for e in errors})
    assert summary.evaluated + summary.not_evaluated + summary.error_subjects == 62 == len(rows) + \
        summary.error_subjects
    assert sum(summary.grades.values()) == summary.evaluated
