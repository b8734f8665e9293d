"""Fuzzing the facts through every input path of ``mincredit evaluate`` (issue 12): mutated subjects written as
JSON Lines, JSON, YAML, CSV and Parquet, explained and not, batch and document, each run as a user runs it.

Whatever the input: no traceback and no internal error, an exit status in the documented set, every subject either
a result or an error (none dropped, none twice), and every path the same answer for each subject — the same result,
or errors on the same fields.  Bounded (a few dozen examples each) so the suite stays quick; the strategies lean on
what broke before: numbers in every spelling (``+2``, ``８１２``, ``8_12.35``, ``true``, NaN, 5,000 digits, -0), dates
in year 9999, Arrow's null words as text, keys and subjects given twice, nesting thousands deep, bytes that are
not UTF-8.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import uscc_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mincredit.cli import main
from mincredit.rules._registry import RulebookLibrary

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# The CLI is run from a folder without project settings: its stderr holds only what the test counts.
pytestmark = pytest.mark.usefixtures("outside_the_checkout")

AS_OF = "2024-06-30"
EXIT_STATUSES = {0, 1}          # every subject's problem is its own: a file-wide status (2) is not expected here
FUZZ = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module", autouse=True)
def _one_library() -> Any:
    """The shipped library as one value for the module, as a long-lived process holds it: each run then compiles the
    rulebook once, not once a run (reading its YAML is most of a small run's time)."""
    library = RulebookLibrary.shipped()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RulebookLibrary, "shipped", classmethod(lambda cls: library))
        yield


# ---------------------------------------------------------------- values as written


@dataclass(frozen=True)
class Text:
    """A value written as text: a JSON or YAML string, a CSV cell as it is."""

    text: str


@dataclass(frozen=True)
class Native:
    """A value written as the format's own number, boolean, null or (YAML) date; in CSV, its text."""

    value: int | Decimal | bool | dt.date | None


Cell = Text | Native

# Text without what YAML cannot hold in a document (control characters, line separators, a byte-order mark): those
# are the file's error there, legitimately, and would make the formats differ.
PLAIN_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn")),
                     min_size=1, max_size=10)
NUMBER_TEXTS = ["2", "+2", " 2", "2 ", "８１２", "8_12.35", "1e3", "2.0", "-0", "-0.0", "0", "0.00", "NaN", "nan",
                "Infinity", "-Infinity", ".nan", ".inf", "0850", "0x1F", "1_000", "812.35", "8.5E2", "8.5E+2",
                "1E+999999999", "1E-400", "0.0000000000000000000000000000000001", "١٢", "true", "1" * 50,
                "9" * 5000, "850", "1000", "1000.5", "-1", "３"]
NULL_WORDS = ["NULL", "NA", "N/A", "NaN", "null", "nan", "#N/A", "-NaN", "None"]
DATE_TEXTS = ["2023-13-10", "2023-5-1", "20230510", "2023-02-30", "9999-12-31", "9997-03-01", "2023-05-10T00:00:00"]


def native_numbers() -> st.SearchStrategy[Cell]:
    return st.one_of(
        st.integers(min_value=-3, max_value=1100).map(Native),
        st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False).map(Native),
        st.sampled_from([Native(True), Native(False), Native(None), Native(10 ** 30), Native(Decimal("1E+40")),
                         Native(Decimal("8.5E+2")), Native(Decimal("-0.0"))]))


def numbers() -> st.SearchStrategy[Cell]:
    return st.one_of(native_numbers(), st.sampled_from(NUMBER_TEXTS).map(Text))


def dates(low: int = 2016, high: int = 2027) -> st.SearchStrategy[Cell]:
    return st.one_of(
        st.dates(min_value=dt.date(low, 1, 1), max_value=dt.date(high, 12, 31)).map(Native),
        st.dates(min_value=dt.date(low, 1, 1), max_value=dt.date(high, 12, 31)).map(lambda day: Text(day.isoformat())),
        st.sampled_from([Native(dt.date(9997, 3, 1)), Native(dt.date(9994, 12, 31)), Native(dt.date(9999, 6, 1))]),
        st.sampled_from(DATE_TEXTS).map(Text))


def texts() -> st.SearchStrategy[Cell]:
    return st.one_of(PLAIN_TEXT.map(Text), st.sampled_from(NULL_WORDS).map(Text))


def sometimes(usual: st.SearchStrategy[Cell], odd: st.SearchStrategy[Cell]) -> st.SearchStrategy[Cell]:
    """Mostly the usual value, now and then an odd one."""
    return st.one_of(usual, usual, usual, odd)


CODES = ["M03", "M37", "M01", "M12", "M99", "A05"]
LEVELS = ["ministry", "city_government", "provincial_government", "county"]


@st.composite
def subjects(draw: st.DrawFn, number: int) -> dict[str, Any]:
    """A subject of plain records (all a columnar file can carry), as cells; its USCC is its own."""
    code = uscc_of(number)
    subject: dict[str, Any] = {
        "uscc": Text(draw(st.sampled_from([code, code, code, code[:17] + ("0" if code[17] != "0" else "1")]))),
        "name": draw(sometimes(st.just(Text(f"矿业{number}")), texts())),
        "kind": draw(sometimes(st.just(Text("miner")), st.sampled_from([Text("agency"), Text("Miner")]))),
    }
    status = draw(st.sampled_from([None, None, "active", "dissolved", "closed"]))
    if status is not None:
        subject["status"] = Text(status)
    if draw(st.integers(min_value=0, max_value=5)):
        subject["public_score"] = draw(sometimes(
            st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False).map(Native), numbers()))
    records = []
    for position in range(draw(st.integers(min_value=0, max_value=4))):
        record: dict[str, Cell] = {"id": draw(sometimes(st.just(Text(f"r-{position}")),
                                                        st.sampled_from([Text("NA"), Text("NULL"), Native(7)])))}
        if draw(st.booleans()):
            record["type"] = Text("violation")
            record["indicator"] = draw(sometimes(st.just(Text("M03")), st.sampled_from(CODES).map(Text)))
            record["tier"] = draw(sometimes(st.integers(min_value=1, max_value=4).map(Native), numbers()))
            record["determined_on"] = draw(sometimes(dates(2019, 2024), dates()))
        else:
            record["type"] = Text("honour")
            record["honour"] = draw(sometimes(st.sampled_from(["绿色矿山", "诚信企业"]).map(Text), texts()))
            record["level"] = draw(sometimes(st.just(Text("ministry")), st.sampled_from(LEVELS).map(Text)))
            record["awarded_on"] = draw(sometimes(dates(2022, 2024), dates()))
            if draw(st.booleans()):
                record["valid_until"] = draw(dates(2024, 2027))
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            record["authority"] = draw(texts())
        records.append(record)
    if records or draw(st.booleans()):
        subject["records"] = records
    return subject


@st.composite
def populations(draw: st.DrawFn) -> list[dict[str, Any]]:
    start = draw(st.integers(min_value=0, max_value=10 ** 6))
    return [draw(subjects(start + offset)) for offset in range(draw(st.integers(min_value=1, max_value=5)))]


# ---------------------------------------------------------------- writing them in every format


def json_text(value: Any) -> str:
    if isinstance(value, Text):
        return json.dumps(value.text, ensure_ascii=False)
    if isinstance(value, Native):
        inner = value.value
        if isinstance(inner, bool) or inner is None:
            return json.dumps(inner)
        if isinstance(inner, dt.date):
            return json.dumps(inner.isoformat())
        return str(inner)
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(key) + ": " + json_text(item) for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(json_text(item) for item in value) + "]"
    raise TypeError(value)


def yaml_text(value: Cell) -> str:
    if isinstance(value, Text):
        return json.dumps(value.text, ensure_ascii=False)       # a YAML double-quoted scalar: always text
    inner = value.value
    if isinstance(inner, bool):
        return "true" if inner else "false"
    if inner is None:
        return "null"
    return inner.isoformat() if isinstance(inner, dt.date) else str(inner)


def cell_text(value: Cell | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Text):
        return value.text
    inner = value.value
    if isinstance(inner, bool):
        return "true" if inner else "false"
    if inner is None:
        return ""
    return inner.isoformat() if isinstance(inner, dt.date) else str(inner)


def write_yaml(population: list[dict[str, Any]]) -> str:
    lines = ["subjects:"]
    for subject in population:
        lines.append("  -")
        for key, value in subject.items():
            if key != "records":
                lines.append(f"    {key}: {yaml_text(value)}")
        if "records" in subject:
            lines.append("    records:" + ("" if subject["records"] else " []"))
            for record in subject["records"]:
                lines.append("      -")
                lines.extend(f"        {key}: {yaml_text(value)}" for key, value in record.items())
    return "\n".join(lines) + "\n"


COLUMNS = ("uscc", "name", "kind", "status", "public_score", "record_id", "type", "indicator", "tier",
           "determined_on", "honour", "level", "awarded_on", "valid_until", "authority")


def rows(population: list[dict[str, Any]]) -> list[list[str | None]]:
    found = []
    for subject in population:
        head = [cell_text(subject.get(name)) for name in COLUMNS[:5]]
        for record in subject.get("records") or [{}]:
            found.append(head + [cell_text(record.get("id" if name == "record_id" else name)) for name in COLUMNS[5:]])
    return found


def write_csv(population: list[dict[str, Any]], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows(population))


def write_parquet(population: list[dict[str, Any]], path: Path) -> None:
    table = rows(population)
    pq.write_table(pa.table({name: pa.array([row[at] or None for row in table], pa.string())
                             for at, name in enumerate(COLUMNS)}), path, row_group_size=3)


# ---------------------------------------------------------------- running a path as a user does

Outcome = tuple[Any, ...]     # ("result", fields …) or ("errors", fields)
SUBJECT_ERROR = re.compile(r"subject #(\d+)")
ERROR_FIELD = re.compile(r"field '([^']*)'")
SUMMARY = re.compile(r"([\d,]+) subjects: ([\d,]+) graded, ([\d,]+) not evaluated \(dissolved\), ([\d,]+) with errors")
CORE = ("uscc", "evaluated", "grade", "score", "public_score", "deductions", "honour_bonus")


def run_main(arguments: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(arguments)
    return code, out.getvalue(), err.getvalue()


def checked(code: int, err: str, allowed: set[int] = EXIT_STATUSES) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in allowed, (code, err)


def outcomes(count: int, results: list[dict[str, Any]], errors: dict[int, set[str]], explained: bool
             ) -> list[Outcome]:
    """Each subject's outcome, in input order: every subject is a result or has errors, never both, never neither."""
    assert len(results) + len(errors) == count, (len(results), sorted(errors), count)
    assert all(0 <= index < count for index in errors)
    found: list[Outcome] = []
    pending = iter(results)
    for index in range(count):
        if index in errors:
            found.append(("errors", tuple(sorted(errors[index]))))
            continue
        result = next(pending)
        fields = tuple(result.get(name) for name in CORE)
        items = tuple((item["record_id"], item["counted"], item["applied"], item["counts_until"])
                      for item in result.get("items") or ()) if explained else ()
        found.append(("result", fields, items))
    return found


def document(facts: Path, count: int) -> list[Outcome]:
    """``--format json``: the whole evaluation at once, explained."""
    code, out, err = run_main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--format", "json"])
    checked(code, err)
    data = json.loads(out)
    errors: dict[int, set[str]] = {}
    for error in data["errors"]:
        errors.setdefault(error["subject_index"], set()).add(error["field"] or "")
    assert code == (1 if errors else 0)
    return outcomes(count, data["results"], errors, True)


def batch(facts: Path, count: int, *, explain: bool, output: str = "out.jsonl") -> list[Outcome]:
    """``--output FILE``: streamed, errors on stderr one a line, a summary at the end."""
    target = facts.parent / output
    code, _, err = run_main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--output",
                             str(target), *([] if explain else ["--no-explain"])])
    checked(code, err)
    errors: dict[int, set[str]] = {}
    lines = err.strip().splitlines()
    summary = SUMMARY.search(lines[-1])
    assert summary is not None, err
    for line in lines[:-1]:
        where = SUBJECT_ERROR.search(line)
        assert where is not None, line
        field = ERROR_FIELD.search(line)
        errors.setdefault(int(where.group(1)) - 1, set()).add(field.group(1) if field else "")
    subjects, graded, dissolved, with_errors = (int(value.replace(",", "")) for value in summary.groups())
    assert subjects == count and with_errors == len(errors) and graded + dissolved + with_errors == count
    assert code == (1 if errors else 0)
    if target.suffix == ".parquet":
        results = pq.read_table(target).to_pylist() if target.exists() else []
    else:
        results = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()] \
            if target.exists() else []
    target.unlink(missing_ok=True)
    return outcomes(count, results, errors, explain)


def without_items(found: list[Outcome]) -> list[Outcome]:
    return [outcome[:2] if outcome[0] == "result" else outcome for outcome in found]


def agree(paths: dict[str, list[Outcome]]) -> None:
    """Every path gives every subject the same outcome (explanations compared among the explained paths)."""
    (first_name, first), *others = paths.items()
    for name, found in others:
        if any(outcome[0] == "result" and outcome[2] for outcome in found):
            assert found == first, (name, first_name, [pair for pair in zip(found, first, strict=True)
                                                        if pair[0] != pair[1]][:2])
        else:
            assert without_items(found) == without_items(first), (
                name, first_name, [pair for pair in zip(without_items(found), without_items(first), strict=True)
                                   if pair[0] != pair[1]][:2])


# ---------------------------------------------------------------- the fuzzers


@FUZZ
@given(populations())
def test_every_format_and_path_gives_every_subject_the_same_answer(population: list[dict[str, Any]]) -> None:
    count = len(population)
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        jsonl = here / "facts.jsonl"
        jsonl.write_text("".join(json_text(subject) + "\n" for subject in population), encoding="utf-8")
        document_json = here / "facts.json"
        document_json.write_text('{"subjects": [' + ", ".join(json_text(s) for s in population) + "]}",
                                 encoding="utf-8")
        yaml = here / "facts.yaml"
        yaml.write_text(write_yaml(population), encoding="utf-8")
        table = here / "facts.csv"
        write_csv(population, table)
        parquet = here / "facts.parquet"
        write_parquet(population, parquet)
        paths = {
            "JSON Lines explained": batch(jsonl, count, explain=True),
            "JSON Lines --no-explain": batch(jsonl, count, explain=False),
            "JSON Lines --format json": document(jsonl, count),
            "JSON --format json": document(document_json, count),
            "JSON --output": batch(document_json, count, explain=False),
            "YAML --format json": document(yaml, count),
            "YAML --output": batch(yaml, count, explain=True),
            "CSV --no-explain (columns)": batch(table, count, explain=False, output="out.parquet"),
            "CSV explained": batch(table, count, explain=True),
            "Parquet --no-explain (columns)": batch(parquet, count, explain=False),
        }
    agree(paths)


# JSON Lines, JSON and YAML carry what CSV and Parquet cannot: subjects given twice, keys given twice, nesting, bytes.

TWICE = st.sampled_from(["uscc", "name", "public_score", "records", "tier", "id", "status"])


@st.composite
def text_facts(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[str]]:
    """A population and, for each subject, how its JSON is spoilt ('' for not at all)."""
    population = draw(populations())
    for position in range(1, len(population)):
        if draw(st.integers(min_value=0, max_value=3)) == 0:       # the USCC of an earlier subject
            population[position]["uscc"] = population[draw(st.integers(min_value=0, max_value=position - 1))]["uscc"]
    spoilt = [draw(st.sampled_from(["", "", "", "twice", "deep", "not utf-8", "not json"])) for _ in population]
    return population, spoilt


def spoil(line: str, how: str, key: str) -> bytes:
    """A subject's JSON, spoilt: a key given twice (its first time null), a value nested 3,000 deep, a byte that is
    not UTF-8, cut in half."""
    if how == "":
        return line.encode("utf-8")
    if how == "twice":
        found = line.find(f'"{key}": ')
        return (line[:found] + f'"{key}": null, ' + line[found:] if found >= 0 else line).encode("utf-8")
    if how == "deep":
        return line.replace('"name": ', '"name": ' + "[" * 3000 + "]" * 3000 + ', "x": ', 1).encode("utf-8")
    if how == "not utf-8":
        return line.encode("utf-8").replace(b'"kind"', b'"k\xffind"', 1)
    return line[: max(1, len(line) // 2)].encode("utf-8")


@FUZZ
@given(text_facts(), TWICE)
def test_json_lines_json_and_yaml_agree_whatever_is_given_twice_or_spoilt(
        facts: tuple[list[dict[str, Any]], list[str]], key: str) -> None:
    population, spoilt = facts
    count = len(population)
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        jsonl = here / "facts.jsonl"
        jsonl.write_bytes(b"".join(spoil(json_text(subject), how, key) + b"\n"
                                   for subject, how in zip(population, spoilt, strict=True)))
        paths = {"JSON Lines explained": batch(jsonl, count, explain=True),
                 "JSON Lines --no-explain": batch(jsonl, count, explain=False),
                 "JSON Lines --format json": document(jsonl, count)}
        if not {"deep", "not utf-8", "not json"} & set(spoilt):
            # a document nested too deeply, not UTF-8 or not JSON is the whole file's error: only keys given twice
            document_json = here / "facts.json"
            document_json.write_bytes(b'{"subjects": [' + b", ".join(
                spoil(json_text(subject), how, key) for subject, how in zip(population, spoilt, strict=True)) + b"]}")
            paths["JSON --format json"] = document(document_json, count)
            paths["JSON --output"] = batch(document_json, count, explain=False)
            yaml = here / "facts.yaml"
            yaml.write_text(write_yaml(population), encoding="utf-8")
            if "twice" not in spoilt:
                paths["YAML --format json"] = document(yaml, count)
    agree(paths)


# ---------------------------------------------------------------- fixed cases of the issue, through every path


@pytest.mark.parametrize(("what", "make"), [
    ("public score of 5,000 digits", lambda subject: subject.update(public_score=Native(Decimal("9" * 5000)))),
    ("tier of 5,000 digits", lambda subject: subject["records"][0].update(tier=Text("9" * 5000))),
    ("tier true", lambda subject: subject["records"][0].update(tier=Native(True))),
    ("tier +2", lambda subject: subject["records"][0].update(tier=Text("+2"))),
    ("public score ８１２", lambda subject: subject.update(public_score=Text("８１２"))),
    ("public score 8_12.35", lambda subject: subject.update(public_score=Text("8_12.35"))),
    ("public score ' 2'", lambda subject: subject.update(public_score=Text(" 2"))),
    ("public score NaN", lambda subject: subject.update(public_score=Text("NaN"))),
    ("determined in 9997", lambda subject: subject["records"][0].update(determined_on=Native(dt.date(9997, 3, 1)))),
    ("record id NA", lambda subject: subject["records"][0].update(id=Text("NA"))),
    ("name NULL", lambda subject: subject.update(name=Text("NULL"))),
])
def test_the_cases_of_the_issue_are_one_subjects_matter_on_every_path(what: str, make: Callable[[dict[str, Any]], None],
                                                                      tmp_path: Path) -> None:
    subjects_ = [{"uscc": Text(uscc_of(number)), "name": Text(f"矿业{number}"), "kind": Text("miner"),
                  "public_score": Native(Decimal("850")),
                  "records": [{"id": Text("v-1"), "type": Text("violation"), "indicator": Text("M03"),
                               "tier": Native(2), "determined_on": Native(dt.date(2023, 5, 10))}]}
                 for number in range(3)]
    make(subjects_[1])
    (tmp_path / "facts.jsonl").write_text("".join(json_text(s) + "\n" for s in subjects_), encoding="utf-8")
    (tmp_path / "facts.yaml").write_text(write_yaml(subjects_), encoding="utf-8")
    write_csv(subjects_, tmp_path / "facts.csv")
    paths = {"JSON Lines explained": batch(tmp_path / "facts.jsonl", 3, explain=True),
             "JSON Lines --no-explain": batch(tmp_path / "facts.jsonl", 3, explain=False),
             "JSON Lines --format json": document(tmp_path / "facts.jsonl", 3),
             "YAML --format json": document(tmp_path / "facts.yaml", 3),
             "CSV --no-explain": batch(tmp_path / "facts.csv", 3, explain=False)}
    agree(paths)
    expected_result = what.startswith(("record id", "name"))
    assert (paths["JSON Lines explained"][1][0] == "result") == expected_result
    assert paths["JSON Lines explained"][0][0] == paths["JSON Lines explained"][2][0] == "result"
