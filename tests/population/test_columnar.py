"""Columnar facts (Parquet, CSV, Arrow tables, polars): the same results as JSON Lines, errors with rows."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pacsv = pytest.importorskip("pyarrow.csv")
pq = pytest.importorskip("pyarrow.parquet")

from builders import uscc_of  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from population.mutations import AS_OF, RULEBOOK, raw_records, results_of, write_jsonl  # noqa: E402

from mincredit import evaluate_table  # noqa: E402
from mincredit._engine import evaluate  # noqa: E402
from mincredit._population import columnar  # noqa: E402
from mincredit._population import run as population_run  # noqa: E402
from mincredit._population.arrow import RECORD_COLUMNS, SUBJECT_COLUMNS  # noqa: E402
from mincredit._population.run import BatchRequest, ColumnarUnavailable, require_pyarrow, run_batch  # noqa: E402
from mincredit._results import to_builtins  # noqa: E402
from mincredit.facts._validating import FactError, FactsFileError, read_facts_file  # noqa: E402

KEYS = ("uscc", "grade", "score", "public_score", "deductions", "honour_bonus", "evaluated", "not_evaluated_reason")


def keyed(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row[k] for k in KEYS) for row in rows]


def reference_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[str]]:
    """What the model and the engine make of a facts file: its results, keyed, and its errors in words."""
    evaluation = evaluate(read_facts_file(path), RULEBOOK, AS_OF)
    return keyed([to_builtins(result) for result in evaluation.results]), [e.describe() for e in evaluation.errors]

ROOT = Path(__file__).resolve().parents[2]
RECORD_FIELDS = {"record_id": "id"}


def rows_of(subjects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The columnar layout: one row per record, the subject's columns repeated; no records: one empty row."""
    rows = []
    for subject in subjects:
        head = {name: subject.get(name) for name in SUBJECT_COLUMNS}
        records = subject.get("records") or [{}]
        for record in records:
            rows.append({**head, **{name: record.get(RECORD_FIELDS.get(name, name)) for name in RECORD_COLUMNS}})
    return rows


SCHEMA = pa.schema([("uscc", pa.string()), ("name", pa.string()), ("kind", pa.string()), ("status", pa.string()),
                    ("public_score", pa.decimal128(6, 2)), ("record_id", pa.string()), ("type", pa.string()),
                    ("indicator", pa.string()), ("tier", pa.int64()), ("determined_on", pa.date32()),
                    ("honour", pa.string()), ("level", pa.string()), ("awarded_on", pa.date32()),
                    ("valid_until", pa.date32()), ("authority", pa.string()), ("description", pa.string())])


def arrow_table(rows: list[dict[str, Any]]) -> Any:
    converted = [{k: (dt.date.fromisoformat(v) if k in {"determined_on", "awarded_on", "valid_until"} and v else v)
                  for k, v in row.items()} for row in rows]
    return pa.Table.from_pylist(converted, schema=SCHEMA)


def text_table(rows: list[dict[str, Any]]) -> Any:
    names = list(SCHEMA.names)
    return pa.table({name: pa.array([None if row.get(name) is None else str(row[name]) for row in rows], pa.string())
                     for name in names})


def population(count: int, seed: int = 11) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    return list(generate.population(count, seed=seed))


def run(path: Path, tmp_path: Path, *, explain: bool = False, subjects: Path | None = None,
        out: str = "out.parquet") -> tuple[list[tuple[Any, ...]], list[str]]:
    errors: list[str] = []
    output = tmp_path / out
    run_batch(BatchRequest(path, RULEBOOK, AS_OF, output, explain=explain, subjects_file=subjects),
              on_error=lambda e: errors.append(e.describe()))
    return keyed(results_of(output)), errors


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.decimals(min_value=0, max_value=1000, places=2), raw_records(),
                          st.sampled_from(["active", "active", "dissolved"])), min_size=1, max_size=25),
       st.integers(min_value=1, max_value=40))
def test_generated_populations_agree_across_paths(tmp_path: Path, drawn: list[Any], group: int) -> None:
    subjects = [{"uscc": uscc_of(n), "name": f"公司{n}", "kind": "miner", "status": status, "public_score": score,
                 "records": records} for n, (score, records, status) in enumerate(drawn)]
    expected, _ = reference_rows(write_jsonl(tmp_path / "facts.jsonl", subjects))
    rows = rows_of(subjects)
    pq.write_table(arrow_table(rows), tmp_path / "facts.parquet", row_group_size=group)
    pacsv.write_csv(text_table(rows), tmp_path / "facts.csv")
    for name in ("facts.parquet", "facts.csv"):
        got, errors = run(tmp_path / name, tmp_path)
        assert errors == [] and got == expected, name
    table = evaluate_table(arrow_table(rows), RULEBOOK, AS_OF)
    assert keyed(table.results.to_pylist()) == expected


def test_bad_rows_are_reported_with_their_row_and_the_rest_evaluated(tmp_path: Path) -> None:
    good = population(5)
    rows = rows_of(good)
    bad_rows = [
        {"uscc": uscc_of(700), "name": "日期错误公司", "kind": "miner", "public_score": "850", "record_id": "v-1",
         "type": "violation", "indicator": "M03", "tier": "2", "determined_on": "2023-13-10"},
        {"uscc": uscc_of(701), "name": "档次错误公司", "kind": "miner", "public_score": "850", "record_id": "v-1",
         "type": "violation", "indicator": "M03", "tier": "9", "determined_on": "2023-01-10"},
        {"uscc": uscc_of(702), "name": "分值错误公司", "kind": "miner", "public_score": "1000.5"},
        {"uscc": uscc_of(703)[:17] + "Z", "name": "校验码错误公司", "kind": "miner", "public_score": "850"},
        {"uscc": uscc_of(704), "name": "重复编号公司", "kind": "miner", "public_score": "850", "record_id": "h-1",
         "type": "honour", "honour": "绿色矿山", "level": "ministry", "awarded_on": "2023-01-01"},
        {"uscc": uscc_of(704), "name": "重复编号公司", "kind": "miner", "public_score": "850", "record_id": "h-1",
         "type": "honour", "honour": "绿色矿山", "level": "city_government", "awarded_on": "2023-01-01"},
        {"uscc": uscc_of(705), "name": "名称不一公司", "kind": "miner", "public_score": "850"},
        {"uscc": uscc_of(705), "name": "另一个名称", "kind": "miner", "public_score": "850", "record_id": "v-1",
         "type": "violation", "indicator": "M01", "tier": "1", "determined_on": "2023-01-10"},
        {"uscc": uscc_of(706), "name": "写法特别公司", "kind": "miner", "public_score": "8.5E2", "record_id": " v-1",
         "type": "violation", "indicator": "M01", "tier": "1", "determined_on": "2023-01-10"},
    ]
    table = text_table(rows + bad_rows)
    pacsv.write_csv(table, tmp_path / "facts.csv")
    got, errors = run(tmp_path / "facts.csv", tmp_path)
    first_bad = len(rows) + 1
    assert len(got) == 6                                  # the five good subjects and the unusual but valid one
    assert got[-1][0] == uscc_of(706) and got[-1][3] == "8.5E+2"
    joined = "\n".join(errors)
    assert f"row {first_bad}: subject #6 ({uscc_of(700)} 日期错误公司): record v-1: field 'determined_on'" in joined
    assert f"row {first_bad + 1}" in joined and "indicator M03 has no tier 9" in joined
    assert "field 'public_score': the public score 1000.5 is outside the range the formula takes, 0 to 1000" in joined
    assert "check character" in joined or "cannot appear" in joined
    assert "the record id 'h-1' is used twice" in joined
    assert f"row {first_bad + 7}" in joined and "differs from the subject's first row" in joined
    assert len(errors) == 6
    assert document_errors(tmp_path / "facts.csv") == errors


@pytest.mark.parametrize("kind", ["date32", "date64", "dictionary of date32"])
def test_a_date_python_cannot_hold_is_its_rows_problem_on_every_path(tmp_path: Path, kind: str) -> None:
    """Parquet holds days before 0001-01-01 and after 9999-12-31; such a cell was a crash (exit 70) on every path."""
    rows = rows_of(population(3))
    first_bad = len(rows) + 1
    rows += [{"uscc": uscc_of(800), "name": "年份过大公司", "kind": "miner", "public_score": Decimal("850"),
              "record_id": "v-1", "type": "violation", "indicator": "M03", "tier": 2,
              "determined_on": "9999-12-31"},
             {"uscc": uscc_of(801), "name": "年份过小公司", "kind": "miner", "public_score": Decimal("850"),
              "record_id": "v-1", "type": "violation", "indicator": "M03", "tier": 2,
              "determined_on": "0001-01-01"}]
    table = arrow_table(rows)
    days = table.column("determined_on").cast(pa.int32()).to_pylist()
    days[first_bad - 1] += 1          # the day after 9999-12-31
    days[first_bad] -= 1              # the day before 0001-01-01
    dates = pa.array(days, pa.int32()).cast(pa.date32())
    if kind == "date64":
        dates = pa.array([None if day is None else day * 86_400_000 for day in days], pa.int64()).cast(pa.date64())
    elif kind.startswith("dictionary"):
        dates = dates.dictionary_encode()
    table = table.set_column(table.schema.get_field_index("determined_on"), "determined_on", dates)
    pq.write_table(table, tmp_path / "facts.parquet")
    for explain in (False, True):
        got, errors = run(tmp_path / "facts.parquet", tmp_path, explain=explain)
        assert len(got) == 3, errors                      # the others evaluated
        assert errors == [
            f"{tmp_path / 'facts.parquet'}, row {first_bad + offset}: subject #{4 + offset} ({uscc_of(800 + offset)} "
            f"{name}): the date in column 'determined_on' lies outside the years 1 to 9999; it was not evaluated"
            for offset, name in enumerate(["年份过大公司", "年份过小公司"])]
        assert document_errors(tmp_path / "facts.parquet") == errors


def document_errors(path: Path, subjects: Path | None = None) -> list[str]:
    """The errors of a columnar file read as any facts file is (the document outputs): the batch run's, row for
    row."""
    evaluation = evaluate(read_facts_file(path, subjects=subjects), RULEBOOK, AS_OF)
    return [error.describe() for error in evaluation.errors]


def test_split_subjects_are_errors_naming_the_rows(tmp_path: Path) -> None:
    subjects = population(4)
    rows = rows_of(subjects)
    first = [r for r in rows if r["uscc"] == subjects[0]["uscc"]]
    rest = [r for r in rows if r["uscc"] != subjects[0]["uscc"]]
    if len(first) < 2:
        first = first * 2
        first[1] = {**first[1], "record_id": "extra", "type": "honour", "honour": "x", "level": "ministry",
                    "awarded_on": "2020-01-01", "indicator": None, "tier": None, "determined_on": None,
                    "valid_until": None}
    shuffled = first[:1] + rest + first[1:]
    pq.write_table(arrow_table(shuffled), tmp_path / "facts.parquet")
    got, errors = run(tmp_path / "facts.parquet", tmp_path)
    assert [g[0] for g in got] == [s["uscc"] for s in subjects[1:]]
    assert len(errors) == 2 and all("rows are not together" in e for e in errors)
    assert f"row {len(rest) + 2}" in errors[0] and "row 1" in errors[1]
    assert document_errors(tmp_path / "facts.parquet") == errors


def test_two_file_layout(tmp_path: Path) -> None:
    subjects = population(60)
    expected, _ = reference_rows(write_jsonl(tmp_path / "facts.jsonl", subjects))
    head = pa.Table.from_pylist([{k: s[k] for k in SUBJECT_COLUMNS} for s in subjects],
                                schema=pa.schema([SCHEMA.field(n) for n in SUBJECT_COLUMNS]))
    pq.write_table(head, tmp_path / "subjects.parquet")
    records = [row for row in rows_of(subjects) if row["record_id"] is not None]
    records.append({**records[0], "uscc": uscc_of(888_888)})            # a subject the subjects file lacks
    record_table = arrow_table(records).drop_columns(["name", "kind", "status", "public_score"])
    pq.write_table(record_table, tmp_path / "records.parquet")
    for explain in (False, True):
        got, errors = run(tmp_path / "records.parquet", tmp_path, explain=explain,
                          subjects=tmp_path / "subjects.parquet")
        with_records = {s["uscc"] for s in subjects if s["records"]}
        order = ([s for s in subjects if s["uscc"] in with_records]
                 + [s for s in subjects if s["uscc"] not in with_records])
        assert [g[0] for g in got] == [s["uscc"] for s in order]
        assert sorted(got) == sorted(expected)
        assert len(errors) == 1 and "is not in the subjects file" in errors[0]
        assert document_errors(tmp_path / "records.parquet", tmp_path / "subjects.parquet") == errors
    with pytest.raises(FactsFileError, match="subject columns belong there"):
        run(_with_subject_column(tmp_path, record_table), tmp_path, subjects=tmp_path / "subjects.parquet")


def _with_subject_column(tmp_path: Path, table: Any) -> Path:
    path = tmp_path / "records-with-name.parquet"
    pq.write_table(table.append_column("name", pa.array(["x"] * table.num_rows)), path)
    return path


@pytest.mark.parametrize(("columns", "words"), [
    ({"uscc": ["x"], "name": ["y"], "kind": ["miner"], "colour": ["red"]}, "unknown column 'colour'"),
    ({"uscc": ["x"], "kind": ["miner"]}, "the column 'name' is missing"),
])
def test_unusable_columns_stop_the_file(tmp_path: Path, columns: dict[str, list[str]], words: str) -> None:
    pq.write_table(pa.table(columns), tmp_path / "facts.parquet")
    with pytest.raises(FactsFileError, match=words):
        run(tmp_path / "facts.parquet", tmp_path)


def test_polars_dataframe(tmp_path: Path) -> None:
    pl = pytest.importorskip("polars")
    subjects = population(30)
    expected, _ = reference_rows(write_jsonl(tmp_path / "facts.jsonl", subjects))
    frame = pl.from_arrow(arrow_table(rows_of(subjects)))
    result = evaluate_table(frame, RULEBOOK, AS_OF)
    assert result.complete and keyed(result.results.to_pylist()) == expected
    assert pl.from_arrow(result.results).height == len(expected)


def test_public_scores_are_exact_decimal_text(tmp_path: Path) -> None:
    rows = [{"uscc": uscc_of(1), "name": "包头某煤业有限责任公司", "kind": "miner", "public_score": "812.35"}]
    result = evaluate_table(text_table(rows), RULEBOOK, AS_OF)
    (row,) = result.results.to_pylist()
    assert row["score"] == "962.47" and row["public_score"] == "812.35"
    assert result.results.schema.field("score").type == pa.string()


def test_without_pyarrow_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ColumnarUnavailable, match=r"pip install 'mincredit\[columnar\]'"):
        require_pyarrow()
    (tmp_path / "facts.parquet").write_bytes(b"PAR1")
    with pytest.raises(ColumnarUnavailable):
        run_batch(BatchRequest(tmp_path / "facts.parquet", RULEBOOK, AS_OF, tmp_path / "out.jsonl", explain=False))
    assert population_run.input_kind(tmp_path / "facts.parquet") == "parquet"


def test_a_table_in_memory_is_evaluated_in_slices_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subjects = population(120, seed=5)
    expected, _ = reference_rows(write_jsonl(tmp_path / "facts.jsonl", subjects))
    monkeypatch.setattr(columnar, "TABLE_BATCH_ROWS", 64)        # many slices, evaluated two at a time
    table = evaluate_table(text_table(rows_of(subjects)), RULEBOOK, AS_OF)
    assert table.complete and keyed(table.results.to_pylist()) == expected


# --- the columns as the vectorised path reads them: dictionaries, plain text, nulls, row groups -------------

def outcomes(path: Path, tmp_path: Path, out: str = "out.parquet"
             ) -> tuple[list[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The results (keyed) and the errors (subject, record, field and message: not where they are) of a run."""
    errors: list[Any] = []
    output = tmp_path / out
    run_batch(BatchRequest(path, RULEBOOK, AS_OF, output, explain=False), on_error=errors.append)
    return keyed(results_of(output)), {(e.uscc, e.record_id, e.field, e.message) for e in errors}


def table_outcomes(table: Any) -> tuple[list[tuple[Any, ...]], set[tuple[Any, ...]]]:
    result = evaluate_table(table, RULEBOOK, AS_OF)
    return keyed(result.results.to_pylist()), {(e.uscc, e.record_id, e.field, e.message) for e in result.errors}


def json_lines_outcomes(tmp_path: Path, subjects: list[dict[str, Any]]) -> tuple[list[tuple[Any, ...]], set[Any]]:
    return outcomes(write_jsonl(tmp_path / "facts.jsonl", subjects), tmp_path, "reference.parquet")


def dictionary_table(table: Any) -> Any:
    """The table with every text column dictionary-encoded."""
    return pa.table({name: column.dictionary_encode() if pa.types.is_string(column.type) else column
                     for name, column in zip(table.column_names, table.columns, strict=True)})


@pytest.mark.parametrize("group", [1, 3, 7, 64])
def test_subjects_across_row_groups_with_dictionary_and_plain_columns(tmp_path: Path, group: int) -> None:
    subjects = population(80, seed=3)
    expected = json_lines_outcomes(tmp_path, subjects)
    table = arrow_table(rows_of(subjects))
    for dictionary in (True, False):                    # Parquet's dictionary pages, or plain ones
        pq.write_table(table, tmp_path / "facts.parquet", row_group_size=group, use_dictionary=dictionary)
        assert outcomes(tmp_path / "facts.parquet", tmp_path) == expected, dictionary
    assert table_outcomes(dictionary_table(table)) == expected
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=group))      # a column in many chunks
    assert table_outcomes(chunked) == expected


def test_a_dictionary_holding_a_text_twice_or_a_null(tmp_path: Path) -> None:
    import pyarrow.compute as pc

    subjects = population(12, seed=4)
    expected = json_lines_outcomes(tmp_path, subjects)
    table = arrow_table(rows_of(subjects))
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_string(column.type):
            columns[name] = column
            continue
        # every text twice in the dictionary (and a null after them); rows alternate between the two indices
        values = pa.chunked_array([pa.array(column.to_pylist(), pa.string())]).combine_chunks()
        distinct = pc.unique(values).drop_null()
        doubled = pa.concat_arrays([distinct, distinct, pa.nulls(1, pa.string())])
        positions = pc.index_in(values, value_set=distinct).to_numpy(zero_copy_only=False)
        indices = [None if position != position else int(position) + len(distinct) * (row % 2)
                   for row, position in enumerate(positions)]
        columns[name] = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), doubled)
    assert table_outcomes(pa.table(columns)) == expected


def test_an_honour_with_a_tier_is_an_error_as_in_json_lines(tmp_path: Path) -> None:
    honour = {"id": "h-1", "type": "honour", "honour": "绿色矿山", "level": "ministry", "awarded_on": "2023-01-01",
              "tier": -3}
    subjects = [{"uscc": uscc_of(11), "name": "荣誉公司", "kind": "miner", "status": "active",
                 "public_score": Decimal("812.35"), "records": [honour]}, *population(3, seed=5)]
    expected = json_lines_outcomes(tmp_path, subjects)
    assert [error for error in expected[1] if error[0] == uscc_of(11)] == [
        (uscc_of(11), "h-1", "tier", "is not a known field (check its spelling; unknown fields are not ignored)")]
    pq.write_table(arrow_table(rows_of(subjects)), tmp_path / "facts.parquet")
    assert outcomes(tmp_path / "facts.parquet", tmp_path) == expected
    assert table_outcomes(arrow_table(rows_of(subjects))) == expected


def test_a_violation_valid_until_the_first_day_of_1970_is_an_error_as_in_json_lines(tmp_path: Path) -> None:
    violation = {"id": "v-1", "type": "violation", "indicator": "M01", "tier": 1, "determined_on": "2023-01-01",
                 "valid_until": "1970-01-01"}
    subjects = [{"uscc": uscc_of(12), "name": "日期公司", "kind": "miner", "status": "active",
                 "public_score": Decimal("812.35"), "records": [violation]}, *population(3, seed=6)]
    expected = json_lines_outcomes(tmp_path, subjects)
    assert any(error[0] == uscc_of(12) for error in expected[1])
    pacsv.write_csv(text_table(rows_of(subjects)), tmp_path / "facts.csv")
    assert outcomes(tmp_path / "facts.csv", tmp_path) == expected


@pytest.mark.parametrize("count", [20, 40, 70])
def test_many_record_ids_and_honour_titles(tmp_path: Path, count: int) -> None:
    """Record ids and (title, level) pairs beyond 32 and 64 in a chunk: the checks take their wider ways."""
    levels = sorted(level.id for level in RULEBOOK.law.levels)
    subjects = []
    for number in range(6):
        records: list[dict[str, Any]] = [
            {"id": f"h-{number}-{index}", "type": "honour", "honour": f"称号{(index + number) % count}",
             "level": levels[index % len(levels)], "awarded_on": f"202{index % 4}-0{1 + index % 9}-01"}
            for index in range(count)]
        if number == 2:
            records[-1]["id"] = records[0]["id"]            # an id twice
        subjects.append({"uscc": uscc_of(100 + number), "name": f"多记录公司{number}", "kind": "miner",
                         "status": "active", "public_score": Decimal("500.05"), "records": records})
    expected = json_lines_outcomes(tmp_path, subjects)
    pq.write_table(arrow_table(rows_of(subjects)), tmp_path / "facts.parquet")
    assert outcomes(tmp_path / "facts.parquet", tmp_path) == expected
    assert any("used twice" in error[3] for error in expected[1])


def test_names_with_surrounding_spaces_among_many_subjects(tmp_path: Path) -> None:
    """Every kind of space before or after a name, among more names than a dictionary's few (each byte that may
    end a space, after a character that does not)."""
    spaces = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", " ", "\x85", "\xa0", "\u1680", "\u2000", "\u200a",
              "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
    names = [f"公司{number}" for number in range(300)]
    for number, space in enumerate(spaces):
        names[number] = space + names[number]
        names[100 + number] = names[100 + number] + space
    names[200:210] = ["公司〇", "公司\u3007", "公司\u2080", "公司\u0100", "公司\u00c2", "\u00c2公司", "\u1680x",
                      "x\u200b", "\u200b", "\u3001公司"]      # U+200B is no space for str.isspace()
    subjects = [{"uscc": uscc_of(1000 + number), "name": name, "kind": "miner", "status": "active",
                 "public_score": Decimal("600.00"), "records": []} for number, name in enumerate(names)]
    expected = json_lines_outcomes(tmp_path, subjects)
    pq.write_table(arrow_table(rows_of(subjects)), tmp_path / "facts.parquet")
    assert outcomes(tmp_path / "facts.parquet", tmp_path) == expected
    named = [(row["uscc"], row["name"]) for row in results_of(tmp_path / "out.parquet")]
    assert named == [(row["uscc"], row["name"]) for row in results_of(tmp_path / "reference.parquet")]
    assert len(named) == 300 and named[0][1] == "\t公司0" and named[205][1] == "\u00c2公司"    # kept as they are


def test_texts_with_surrounding_spaces_are_told_from_their_bytes() -> None:
    """The byte test that picks texts which may start or end with a space misses none of them (and the regular
    expression then decides), whatever the number of texts, their nulls or their slice."""
    from mincredit._population.arrow import empty_or_edge_space as _empty_or_edge_space

    spaces = [chr(code) for code in range(0x3001) if chr(code).isspace()]
    assert len(spaces) == 29
    others = ["公司", "〇", "\u3007", "\u2080", "\u200b", "\u0100", "\u00c2", "x", "\u3001", "\u1681", "\u205e", "é"]
    texts: list[str | None] = ["", None]
    for space in spaces:
        texts += [space, space + "公司", "公司" + space, "a" + space, space + "a", space + space]
    for first in others:
        for last in others:
            texts += [first + last, first + "中间" + last, first]
    array = pa.array(texts, pa.string())
    expected = [text is not None and (text == "" or text[0].isspace() or text[-1].isspace()) for text in texts]
    assert len(texts) > 256 and _empty_or_edge_space(array).tolist() == expected
    assert _empty_or_edge_space(array.slice(3)).tolist() == expected[3:]
    assert _empty_or_edge_space(array.slice(0, 100)).tolist() == expected[:100]       # few: the expression alone


def test_units_evaluated_before_the_split_check_ends_wait_for_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The check that each subject's rows are together reads the file in its own thread; a unit evaluated before it
    ends is handed on only after, and evaluated again when one of its subjects turns out split."""
    import time

    subjects = population(30, seed=8)
    rows = rows_of(subjects)
    first = [row for row in rows if row["uscc"] == subjects[0]["uscc"]]
    shuffled = first[:1] + [row for row in rows if row["uscc"] != subjects[0]["uscc"]] + first[1:] + first[:1]
    pq.write_table(arrow_table(shuffled), tmp_path / "facts.parquet", row_group_size=16)
    expected = run(tmp_path / "facts.parquet", tmp_path)
    assert len(expected[1]) == 2 and all("rows are not together" in e for e in expected[1])
    found = columnar.find_split_subjects

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return found(*args, **kwargs)

    monkeypatch.setattr(columnar, "find_split_subjects", slow)
    assert run(tmp_path / "facts.parquet", tmp_path) == expected

    def failing(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.2)
        raise FactsFileError(FactError("cannot read the parquet file: broken", str(tmp_path)))

    monkeypatch.setattr(columnar, "find_split_subjects", failing)
    with pytest.raises(FactsFileError, match="broken"):
        run(tmp_path / "facts.parquet", tmp_path)


# --- cells the reader once failed the whole file on (issue 12) -------------------------------------------------

HEADER = "uscc,name,kind,public_score,record_id,type,indicator,tier,determined_on\n"


def csv_row(number: int, name: str = "某公司", public: str = "850", record_id: str = "v-1") -> str:
    return f"{uscc_of(number)},{name},miner,{public},{record_id},violation,M03,2,2023-05-10\n"


@pytest.mark.parametrize("explain", [False, True])
def test_arrows_null_words_are_text_and_only_an_empty_cell_is_absent(explain: bool, tmp_path: Path) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_text(HEADER + csv_row(1, name="NULL", record_id="NA") + csv_row(2, public="NaN")
                     + csv_row(3, name="N/A") + csv_row(4, public="") + csv_row(5, name='""'), encoding="utf-8")
    _, errors = run(facts, tmp_path, explain=explain, out="out.jsonl")
    names = {row["uscc"]: row["name"] for row in results_of(tmp_path / "out.jsonl")}
    assert names == {uscc_of(1): "NULL", uscc_of(3): "N/A"}
    joined = "\n".join(errors)
    assert "row 2: subject #2" in joined and "field 'public_score': must be a finite number" in joined
    assert "row 4: subject #4" in joined and "public credit score" in joined           # empty: absent, required
    assert "row 5: subject #5" in joined and "field 'name'" in joined                  # quoted empty: absent too


@pytest.mark.parametrize("explain", [False, True])
def test_a_cell_that_is_not_utf8_is_its_subjects_error(explain: bool, tmp_path: Path) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_bytes((HEADER + csv_row(1) + csv_row(2, name="坏") + csv_row(3)).encode("utf-8")
                      .replace("坏".encode(), b"\xe5\x9d"))
    got, errors = run(facts, tmp_path, explain=explain, out="out.jsonl")
    assert [row[0] for row in got] == [uscc_of(1), uscc_of(3)]
    (error,) = errors
    assert error.startswith(f"{facts}, row 2: subject #2") and "column 'name' is not valid UTF-8" in error


def test_a_subjects_file_cell_that_is_not_utf8_names_its_row_there(tmp_path: Path) -> None:
    records, subjects = tmp_path / "records.csv", tmp_path / "subjects.csv"
    records.write_text("uscc,record_id,type,indicator,tier,determined_on\n"
                       + "".join(f"{uscc_of(n)},v-1,violation,M03,2,2023-05-10\n" for n in (1, 2)), encoding="utf-8")
    subjects.write_bytes(("uscc,name,kind,public_score\n" + f"{uscc_of(1)},甲,miner,850\n"
                          + f"{uscc_of(2)},乙,miner,850\n").encode("utf-8").replace("乙".encode(), b"\xff"))
    got, errors = run(records, tmp_path, subjects=subjects)
    assert [row[0] for row in got] == [uscc_of(1)]
    (error,) = errors
    assert error.startswith(f"{subjects}, row 2: subject #2") and "not valid UTF-8" in error


def test_a_cell_larger_than_a_block_and_a_line_break_in_quotes_are_read(tmp_path: Path) -> None:
    """A 3 MB cell (the reader's blocks are 2 MiB) failed the whole file; so could a quoted line break."""
    facts = tmp_path / "facts.csv"
    big = "长" * (1 << 20)
    facts.write_text(HEADER + csv_row(1) + csv_row(2, name=big) + csv_row(3, name='"第一行\n第二行"')
                     + "".join(csv_row(n) for n in range(4, 40)), encoding="utf-8")
    for explain in (False, True):
        got, errors = run(facts, tmp_path, explain=explain, out="out.jsonl")
        assert not errors and len(got) == 39
        names = [row["name"] for row in results_of(tmp_path / "out.jsonl")]
        assert names[1] == big and names[2] == "第一行\n第二行"
