"""The contract: every path of mincredit gives the same result for the same subjects, under any rulebook.

One suite, every path × every kind of rulebook:

- paths: the Python API explained and not, ``evaluate_stream`` on plain mappings, JSON Lines to JSON Lines
  explained and not, ``--jobs 2``, a YAML and a JSON document (read whole, in a batch and as ``--format json``
  reads them), Parquet to Parquet (the vectorised twin), Parquet explained, CSV, an Arrow table in memory,
  Parquet and CSV files (one and two files) read as any facts file is and evaluated with explanations (the
  document outputs, and every command that reads facts), and every subject forced through the analysis (what
  non-plain subjects take);
- rulebooks: the shipped miner and agency rulebooks; a structural revision made only in YAML (relabelled and
  re-counted grades with their consequences, a new honour level, a new indicator, other retention periods,
  cap, weights and public-score range: tests/fixtures/make_structural_revision.py); one with fractional points
  (and a missing public score counted as zero); one whose blacklist trigger takes plain violations.

Without explanations every field but the items must be the same; with them, the items too.  The revision and
the shipped rulebooks are also checked against an independent calculation (tests/oracle.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest
from builders import fractional_rulebook, population_for, shipped, triggered_rulebook
from oracle import Oracle

from mincredit import evaluate, evaluate_stream, evaluate_table
from mincredit._engine import entry_errors, evaluate_analysed, is_plain, rulebook_errors
from mincredit._population import jsonl as jsonl_units
from mincredit._population import run as population_run
from mincredit._population.run import BatchRequest, run_batch
from mincredit._results import SubjectErrors, SubjectResult, to_builtins
from mincredit._timeline import analyse
from mincredit.facts._models import Subject
from mincredit.facts._validating import read_facts_file, validate_subject
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import load_rulebook

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REVISION = FIXTURES / "miner-structural-revision.yaml"
SHIPPED = Path(__file__).resolve().parents[1] / "rulebooks"
HEADER = ("as_of", "rulebook_id", "rulebook_version", "rulebook_digest")


# ---------------------------------------------------------------- the rulebooks


@cache
def rulebook(name: str) -> CompiledRulebook:
    if name == "revision":
        return load_rulebook(str(REVISION))
    if name == "fractional":
        return fractional_rulebook()
    if name == "triggered":
        return triggered_rulebook()
    return shipped(name)


AS_OF = {"miner": dt.date(2024, 6, 30), "agency": dt.date(2024, 2, 29), "revision": dt.date(2028, 3, 31),
         "fractional": dt.date(2024, 6, 30), "triggered": dt.date(2024, 6, 30)}
RULEBOOKS = list(AS_OF)


@cache
def subjects(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(population_for(rulebook(name).law, 160, seed=len(name), as_of=AS_OF[name]))


# ---------------------------------------------------------------- what a path gives, comparably

Outcome = tuple[str, Any]   # ("result", fields) or ("errors", sorted fields), keyed by uscc


def of_result(data: dict[str, Any], explain: bool) -> Outcome:
    data = {key: value for key, value in data.items() if key not in HEADER}
    if not explain:
        data.pop("items", None)
    return ("result", data)


def outcomes_of_api(results: list[SubjectResult], errors: list[Any], raws: tuple[dict[str, Any], ...],
                    explain: bool) -> dict[str, Outcome]:
    found: dict[str, Outcome] = {result.uscc: of_result(to_builtins(result), explain) for result in results}
    by_index: dict[int, list[str]] = {}
    for error in errors:
        by_index.setdefault(error.subject_index, []).append(error.field or "")
    for index, fields in by_index.items():
        found[raws[index]["uscc"]] = ("errors", sorted(fields))
    return found


def jsonl_bytes(raws: tuple[dict[str, Any], ...]) -> bytes:
    encoder = msgspec.json.Encoder(decimal_format="number")
    return b"".join(encoder.encode(raw) + b"\n" for raw in raws)


def batch(path: Path, book: CompiledRulebook, as_of: dt.date, output: Path, explain: bool, raws: tuple[Any, ...],
          jobs: int = 1) -> dict[str, Outcome]:
    errors: list[Any] = []
    run_batch(BatchRequest(path, book, as_of, output, explain=explain, jobs=jobs), on_error=errors.append)
    found: dict[str, Outcome] = {}
    if output.suffix == ".parquet":
        for row in pq.read_table(output).to_pylist():
            found[row["uscc"]] = of_result(parquet_row(row), explain)
    else:
        for line in output.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            found[data["uscc"]] = of_result(data, explain)
    by_index: dict[int, list[str]] = {}
    for error in errors:
        by_index.setdefault(error.subject_index, []).append(error.field or "")
    for index, fields in by_index.items():
        found[raws[index]["uscc"]] = ("errors", sorted(fields))
    return found


def parquet_row(row: dict[str, Any]) -> dict[str, Any]:
    """A Parquet result row as the JSON output writes the same result."""
    data = {key: value for key, value in row.items() if key not in HEADER}
    for name in ("proposals", "listings", "consequences", "warnings"):
        if data[name] is None:
            del data[name]
        else:
            data[name] = json.loads(data[name])
    if data.get("items") is not None:
        data["items"] = [{key: value.isoformat() if isinstance(value, dt.date) else value
                          for key, value in item.items() if value is not None or key in BASE_ITEM_FIELDS}
                         for item in data["items"]]
    return data


BASE_ITEM_FIELDS = {"indicator", "tier", "indicator_title", "wording", "honour", "level", "level_name"}


COLUMNS = ("uscc", "name", "kind", "status", "public_score", "record_id", "type", "indicator", "tier",
           "determined_on", "honour", "level", "awarded_on", "valid_until")


def columnar_rows(raws: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    rows = []
    for raw in raws:
        head = {name: raw.get(name) for name in ("uscc", "name", "kind", "status", "public_score")}
        for record in raw["records"] or [{}]:
            rows.append({**head, **{name: record.get("id" if name == "record_id" else name)
                                    for name in COLUMNS[5:]}})
    return rows


def arrow_table(raws: tuple[dict[str, Any], ...]) -> Any:
    rows = columnar_rows(raws)
    dates = {"determined_on", "awarded_on", "valid_until"}
    return pa.table({name: pa.array([dt.date.fromisoformat(row[name]) if name in dates and row[name] else
                                     (str(row[name]) if name == "public_score" and row[name] is not None else
                                      row[name]) for row in rows],
                                    pa.date32() if name in dates else pa.int64() if name == "tier" else pa.string())
                     for name in COLUMNS})


# ---------------------------------------------------------------- the paths

Path_ = Callable[[str, Path], dict[str, Outcome]]


def api(explain: bool) -> Path_:
    def run(name: str, tmp: Path) -> dict[str, Outcome]:
        raws = subjects(name)
        entries = [validate_subject(raw, file=None, index=index, line=None) for index, raw in enumerate(raws)]
        evaluation = evaluate(entries, rulebook(name), AS_OF[name], explain=explain)
        return outcomes_of_api(evaluation.results, evaluation.errors, raws, explain)
    return run


def stream(explain: bool) -> Path_:
    def run(name: str, tmp: Path) -> dict[str, Outcome]:
        raws = subjects(name)
        results, errors = [], []
        for outcome in evaluate_stream(raws, rulebook(name), AS_OF[name], explain=explain):
            if isinstance(outcome, SubjectErrors):
                errors.extend(outcome.errors)
            else:
                results.append(outcome)
        return outcomes_of_api(results, errors, raws, explain)
    return run


def json_lines(explain: bool, jobs: int = 1) -> Path_:
    def run(name: str, tmp: Path) -> dict[str, Outcome]:
        raws = subjects(name)
        facts = tmp / "facts.jsonl"
        facts.write_bytes(jsonl_bytes(raws))
        return batch(facts, rulebook(name), AS_OF[name], tmp / "out.jsonl", explain, raws, jobs)
    return run


def yaml_text(raws: tuple[dict[str, Any], ...]) -> str:
    """The subjects as a YAML document in block style: texts quoted, numbers and dates plain (YAML reads the dates as
    dates and the numbers as numbers)."""
    def scalar(value: Any) -> str:
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            return value
        return json.dumps(value, ensure_ascii=False)

    lines = ["subjects:"]
    for raw in raws:
        lines.append("  -")
        lines.extend(f"    {key}: {scalar(value)}" for key, value in raw.items() if key != "records")
        lines.append("    records:" + ("" if raw["records"] else " []"))
        for record in raw["records"]:
            lines.append("      -")
            lines.extend(f"        {key}: {scalar(value)}" for key, value in record.items())
    return "\n".join(lines) + "\n"


def json_document_text(raws: tuple[dict[str, Any], ...]) -> bytes:
    return b'{"subjects": [' + b", ".join(msgspec.json.Encoder(decimal_format="number").encode(raw)
                                          for raw in raws) + b"]}"


def document(suffix: str, explain: bool) -> Path_:
    """A YAML or JSON document, read whole and evaluated in chunks of subjects (a batch)."""
    def run(name: str, tmp: Path) -> dict[str, Outcome]:
        raws = subjects(name)
        facts = tmp / f"facts{suffix}"
        if suffix == ".yaml":
            facts.write_text(yaml_text(raws), encoding="utf-8")
        else:
            facts.write_bytes(json_document_text(raws))
        return batch(facts, rulebook(name), AS_OF[name], tmp / "out.jsonl", explain, raws)
    return run


def read_whole(suffix: str) -> Path_:
    """``--format json``'s path: the facts file read by read_facts_file, then evaluated at once, explained."""
    def run(name: str, tmp: Path) -> dict[str, Outcome]:
        raws = subjects(name)
        facts = tmp / f"facts{suffix}"
        if suffix == ".yaml":
            facts.write_text(yaml_text(raws), encoding="utf-8")
        elif suffix == ".json":
            facts.write_bytes(json_document_text(raws))
        else:
            facts.write_bytes(jsonl_bytes(raws))
        evaluation = evaluate(list(read_facts_file(facts)), rulebook(name), AS_OF[name])
        return outcomes_of_api(evaluation.results, evaluation.errors, raws, True)
    return run


def parquet(explain: bool, out: str = "out.parquet") -> Path_:
    def run(name: str, tmp: Path) -> dict[str, Outcome]:
        raws = subjects(name)
        facts = tmp / "facts.parquet"
        pq.write_table(arrow_table(raws), facts, row_group_size=97)
        return batch(facts, rulebook(name), AS_OF[name], tmp / out, explain, raws)
    return run


def csv(name: str, tmp: Path) -> dict[str, Outcome]:
    raws = subjects(name)
    facts = tmp / "facts.csv"
    pacsv.write_csv(arrow_table(raws), facts)
    return batch(facts, rulebook(name), AS_OF[name], tmp / "out.jsonl", False, raws)


def columnar_document(suffix: str, two_files: bool = False) -> Path_:
    """A Parquet or CSV file read as any facts file is (``read_facts_file``), evaluated with explanations: what
    ``evaluate FILE --format table|json`` and every command reading facts do with a columnar file."""
    def run(name: str, tmp: Path) -> dict[str, Outcome]:
        raws = subjects(name)
        records = arrow_table(raws)
        facts, subjects_file = tmp / f"facts{suffix}", None
        if two_files:
            subjects_file = tmp / f"subjects{suffix}"
            heads = records.select(["uscc", "name", "kind", "status", "public_score"])
            keep = [index for index, uscc in enumerate(heads.column("uscc").to_pylist())
                    if index == 0 or heads.column("uscc")[index - 1].as_py() != uscc]
            write_columnar(heads.take(keep), subjects_file)
            records = records.drop_columns(["name", "kind", "status", "public_score"])
        write_columnar(records, facts)
        evaluation = evaluate(read_facts_file(facts, subjects=subjects_file), rulebook(name), AS_OF[name])
        return outcomes_of_api(evaluation.results, evaluation.errors, raws, True)
    return run


def write_columnar(table_: Any, path: Path) -> None:
    if path.suffix == ".csv":
        pacsv.write_csv(table_, path)
    else:
        pq.write_table(table_, path, row_group_size=97)


def table(name: str, tmp: Path) -> dict[str, Outcome]:
    raws = subjects(name)
    evaluation = evaluate_table(arrow_table(raws), rulebook(name), AS_OF[name])
    found = {row["uscc"]: of_result(parquet_row(row), False) for row in evaluation.results.to_pylist()}
    by_index: dict[int, list[str]] = {}
    for error in evaluation.errors:
        by_index.setdefault(error.subject_index, []).append(error.field or "")
    for index, fields in by_index.items():
        found[raws[index]["uscc"]] = ("errors", sorted(fields))
    return found


def analysed(name: str, tmp: Path) -> dict[str, Outcome]:
    """Every subject through the analysis, as a subject with facts beyond plain records would go."""
    book, as_of = rulebook(name), AS_OF[name]
    results, errors = [], []
    for index, raw in enumerate(subjects(name)):
        entry = validate_subject(raw, file=None, index=index, line=None)
        if entry.subject is None:
            errors.extend(entry_errors(entry, book))
            continue
        problems = rulebook_errors(entry.subject, book, index, entry)
        if problems:
            errors.extend(problems)
            continue
        analysis = analyse(entry.subject, book.source, book.digest, as_of)
        results.append(evaluate_analysed(entry.subject, book, book.day(as_of), analysis, True))
    return outcomes_of_api(results, errors, subjects(name), True)


PATHS: dict[str, tuple[Path_, bool]] = {
    "api explained": (api(True), True),
    "api scores": (api(False), False),
    "stream of mappings, explained": (stream(True), True),
    "stream of mappings, scores": (stream(False), False),
    "JSON Lines explained": (json_lines(True), True),
    "JSON Lines scores": (json_lines(False), False),
    "JSON Lines --jobs 2 explained": (json_lines(True, jobs=2), True),
    "JSON Lines --jobs 2 scores": (json_lines(False, jobs=2), False),
    "JSON Lines read whole (--format json)": (read_whole(".jsonl"), True),
    "YAML document, batch explained": (document(".yaml", True), True),
    "YAML document read whole (--format json)": (read_whole(".yaml"), True),
    "JSON document, batch scores": (document(".json", False), False),
    "JSON document read whole (--format json)": (read_whole(".json"), True),
    "Parquet scores (vectorised)": (parquet(False), False),
    "Parquet explained": (parquet(True, "out.jsonl"), True),
    "CSV scores": (csv, False),
    "Arrow table in memory": (table, False),
    "Parquet read as facts, explained": (columnar_document(".parquet"), True),
    "CSV read as facts, explained": (columnar_document(".csv"), True),
    "Parquet in two files read as facts, explained": (columnar_document(".parquet", two_files=True), True),
    "every subject analysed": (analysed, True),
}


@cache
def reference(name: str) -> dict[str, Outcome]:
    return api(True)(name, Path())


@pytest.fixture(autouse=True)
def _small_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several units per file and worker processes for a small population, so the paths are really exercised."""
    monkeypatch.setattr(population_run, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(jsonl_units, "JSONL_UNIT_BYTES", 8192)


def without_items(outcomes: dict[str, Outcome]) -> dict[str, Outcome]:
    return {key: (kind, {k: v for k, v in value.items() if k != "items"} if kind == "result" else value)
            for key, (kind, value) in outcomes.items()}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("name", RULEBOOKS)
def test_every_path_gives_the_same_results(name: str, path: str, tmp_path: Path) -> None:
    run, explained = PATHS[path]
    got = run(name, tmp_path)
    expected = reference(name)
    assert list(got) == list(expected) or set(got) == set(expected)
    if explained:
        mismatched = [key for key in expected if got.get(key) != expected[key]]
    else:
        plain_expected, plain_got = without_items(expected), without_items(got)
        mismatched = [key for key in expected if plain_got.get(key) != plain_expected[key]]
    assert not mismatched, (mismatched[:3], got.get(mismatched[0]), expected[mismatched[0]])


def test_the_populations_exercise_what_they_should() -> None:
    """The populations hold evaluated, dissolved and refused subjects, counted and uncounted records, capped
    honours and, for the triggered rulebook, subjects the analysis evaluates."""
    for name in RULEBOOKS:
        outcomes = reference(name).values()
        results = [value for kind, value in outcomes if kind == "result"]
        assert sum(kind == "errors" for kind, _ in outcomes) >= 3, name
        assert any(kind == "errors" and "" in fields and "tier" in fields for kind, fields in outcomes), name
        assert any(not result["evaluated"] for result in results), name
        assert len({result["grade"] for result in results if result["evaluated"]}) >= 3, name
        items = [item for result in results for item in result["items"]]
        assert any(item["counted"] for item in items) and any(not item["counted"] for item in items), name
    book = rulebook("triggered")
    analysed_subjects = [raw for raw in subjects("triggered")
                         if (entry := validate_subject(raw, file=None, index=0, line=None)).subject is not None
                         and not is_plain(entry.subject, book.law)]
    assert analysed_subjects
    assert any(result["proposals"] for kind, result in reference("triggered").values()
               if kind == "result" and "proposals" in result)


@pytest.mark.parametrize("name", ["miner", "agency", "revision"])
def test_the_results_are_the_independent_calculation(name: str) -> None:
    path = REVISION if name == "revision" else SHIPPED / f"{name}.yaml"
    oracle = Oracle.read(path)
    expected = reference(name)
    book = rulebook(name)
    for raw in subjects(name):
        want = oracle.evaluate(raw, AS_OF[name])
        kind, got = expected[raw["uscc"]]
        if isinstance(want, str):
            assert kind == "errors" and want in got, (raw["uscc"], want, got)
            continue
        assert kind == "result", (raw["uscc"], got)
        grade, score, deductions, bonus = want
        assert got["grade"] == grade, raw["uscc"]
        assert (Decimal(got["score"]) if got["score"] is not None else None) == score, raw["uscc"]
        assert (Decimal(got["deductions"]), Decimal(got["honour_bonus"])) == (deductions, bonus), raw["uscc"]
        if got["evaluated"]:
            band = next(band for band in book.law.bands if band.label == grade)
            assert [item["id"] for item in got.get("consequences", [])] == [c.id for c in band.consequences]


def test_the_revision_is_a_yaml_edit_that_lints_clean() -> None:
    from mincredit.lint._runner import lint_bytes

    assert lint_bytes(REVISION.read_bytes(), str(REVISION)).findings == []
    law = rulebook("revision").law
    assert law.grade_labels == ("A", "B", "M", "D")
    assert "county_government" in {level.id for level in law.levels}
    assert law.indicator("M58") is not None
    assert (law.violation_years, law.honour_years, law.cap) == (3, 2, 150)


def test_the_revision_cites_its_own_articles() -> None:
    """Explanations cite the rulebook's articles and periods, so a renumbered article shows in them."""
    explained = [item["explanation"] for kind, result in reference("revision").values() if kind == "result"
                 for item in result["items"]]
    expired = [text for text in explained if text.startswith("not counted: expired")]
    assert expired and all("3 years" in text and "第十二条第一款（假设）" in text for text in expired)
    lapsed = [text for text in explained if "no validity was given" in text]
    assert lapsed and all("2 years" in text and "第十二条第二款（假设）" in text for text in lapsed)
    dissolved = [result["not_evaluated_reason"] for kind, result in reference("revision").values()
                 if kind == "result" and not result["evaluated"]]
    assert dissolved and all("第十七条（假设）" in text for text in dissolved)


def test_a_subject_model_and_its_mapping_give_the_same_result() -> None:
    raw = next(raw for raw in subjects("revision") if raw["records"] and "public_score" in raw)
    book = rulebook("revision")
    from_model = evaluate([Subject.model_validate(raw)], book, AS_OF["revision"]).results
    from_mapping = list(evaluate_stream([raw], book, AS_OF["revision"]))
    assert from_model == from_mapping and dataclasses.is_dataclass(from_model) is False
