"""Columnar facts (Parquet, CSV): one row per record, read in chunks with pyarrow, scored natively.

The layout is in docs/columnar.md: one row per record with the subject's columns (``uscc``, ``name``,
``kind``, ``status``, ``public_score``) on each of its rows, a subject without records as one row
with empty record columns; or the subjects in a second file joined on ``uscc``.  A subject's rows
must be together: a subject whose rows are split is reported (naming the rows) and not evaluated.

Two paths give the same results:

- the *vectorised path* (``--no-explain``): the rulebook is compiled to Arrow/NumPy look-up arrays
  ((indicator, tier) → points, level → points), every check of the facts model is done on whole
  columns, the deductions and the honour bonus are aggregated per subject natively, and the formula is
  evaluated in Arrow decimal128 arithmetic, so scores are exact decimals (``962.47``), never floats;
- the *reference path*: the rows of a subject become a facts-format mapping, validated by the pydantic
  model and evaluated by the engine.  Explained runs use it for every subject; the vectorised path
  sends it every subject that any column check flags, so error messages are always the model's own
  (with the row), and a subject the checks flag needlessly is still evaluated exactly.

pyarrow is optional (``pip install 'mincredit[columnar]'``); without it a Parquet or CSV input is
refused with a message naming the extra.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from mincredit.batch import (
    DISSOLVED_REASON,
    RESULT_FIELDS,
    Encoder,
    Header,
    Outcome,
    Score,
    ScorePlan,
    SubjectErrors,
    UnitOutcome,
    Worker,
    reference_outcome,
    require_pyarrow,
)
from mincredit.engine import SubjectResult
from mincredit.facts.loading import FactError, FactsFileError, validate_subject
from mincredit.facts.uscc import ALPHABET, WEIGHTS
from mincredit.rules.compiling import CompiledRulebook

SUBJECT_COLUMNS = ("uscc", "name", "kind", "status", "public_score")
RECORD_COLUMNS = ("record_id", "type", "indicator", "tier", "determined_on", "honour", "level", "awarded_on",
                  "valid_until", "authority", "description")
ALL_COLUMNS = SUBJECT_COLUMNS + RECORD_COLUMNS
REQUIRED_COLUMNS = ("uscc", "name", "kind")
SUBJECT_ROW = "_subject_row"   # added by the two-file join: the subject's row in the subjects file (0-based)
DATE_COLUMNS = frozenset({"determined_on", "awarded_on", "valid_until"})
TEXT_COLUMNS = frozenset(ALL_COLUMNS) - DATE_COLUMNS - {"tier", "public_score"}
RECORD_FIELD = {"record_id": "id"}   # the column's name in the facts format, where it differs
BATCH_ROWS = 131_072
# Every character Python's str.isspace() accepts (29 of them): a value that starts or ends with one is left
# to the model, which strips some fields and rejects others.
_SPACE = ("\\x{9}\\x{a}\\x{b}\\x{c}\\x{d}\\x{1c}\\x{1d}\\x{1e}\\x{1f}\\x{20}"
          "\\x{85}\\x{a0}\\x{1680}\\x{2000}\\x{2001}\\x{2002}\\x{2003}\\x{2004}\\x{2005}\\x{2006}"
          "\\x{2007}\\x{2008}\\x{2009}\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}")
_EDGE_SPACE = f"^[{_SPACE}]|[{_SPACE}]$"


# --- reading the files --------------------------------------------------------------------------------

def _file_error(file: str, message: str) -> FactsFileError:
    return FactsFileError(FactError(message, file))


def _check_columns(names: Iterable[str], file: str, *, subjects_file: bool = False,
                   records_file: bool = False) -> None:
    names = list(names)
    allowed = SUBJECT_COLUMNS if subjects_file else ("uscc", *RECORD_COLUMNS) if records_file else ALL_COLUMNS
    unknown = [name for name in names if name not in allowed]
    if unknown:
        hint = ""
        if records_file and unknown[0] in SUBJECT_COLUMNS:
            hint = "; with a separate subjects file, the subject columns belong there"
        elif subjects_file and unknown[0] in RECORD_COLUMNS:
            hint = "; a subjects file holds only the subject columns"
        raise _file_error(file, f"unknown column {unknown[0]!r} (unknown columns are not ignored; the columns are "
                                f"{', '.join(allowed)}){hint}")
    required = ("uscc",) if records_file else REQUIRED_COLUMNS
    missing = [name for name in required if name not in names]
    if missing:
        raise _file_error(file, f"the column {missing[0]!r} is missing (needed: {', '.join(required)})")
    if len(set(names)) != len(names):
        raise _file_error(file, "a column name appears twice")


class _Reader:
    """Record batches of a Parquet or CSV file, with the total row count when the file knows it.

    Text columns are read dictionary-encoded: a value repeated on many rows (a subject's uscc and name, an
    indicator code, an honour title) is then decoded, checked and looked up once, not once per row.
    """

    def __init__(self, path: Path, *, subjects_file: bool = False, records_file: bool = False) -> None:
        self.path, self.file = path, str(path)
        self.kind: Literal["parquet", "csv"] = "csv" if path.suffix.lower() == ".csv" else "parquet"
        try:
            if self.kind == "parquet":
                schema = pq.read_schema(path)
                self.names = list(schema.names)
                text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
                self.parquet = pq.ParquetFile(path, read_dictionary=text)
                self.total_rows: int | None = self.parquet.metadata.num_rows
            else:
                header = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16))
                self.names = list(header.schema.names)
                self.total_rows = None
        except (OSError, pa.ArrowException) as error:
            raise _file_error(self.file, f"cannot read the {self.kind} file: {error}") from None
        _check_columns(self.names, self.file, subjects_file=subjects_file, records_file=records_file)

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        try:
            if self.kind == "parquet":
                metadata = self.parquet.metadata
                largest = max((metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)), default=0)
                # Batches never span row groups: make them a row group each, within bounds.
                size = min(max(BATCH_ROWS, largest), 4 * BATCH_ROWS)
                yield from self.parquet.iter_batches(batch_size=size, columns=columns)
                return
            # Every CSV column is read as (dictionary-encoded) text and converted here, so that a bad cell is
            # one subject's error, with its row, not a failure of the whole file; an empty cell is no value.
            reader = pacsv.open_csv(self.path, read_options=pacsv.ReadOptions(block_size=8 << 20),
                                    convert_options=pacsv.ConvertOptions(
                                        column_types={name: pa.dictionary(pa.int32(), pa.string())
                                                      for name in self.names},
                                        strings_can_be_null=True, quoted_strings_can_be_null=True,
                                        include_columns=columns))
            yield from reader
        except pa.ArrowException as error:
            raise _file_error(self.file, f"cannot read the {self.kind} file: {error}") from None


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return column.chunk(0)
        if pa.types.is_dictionary(column.type):
            column = pa.chunked_array([pc.cast(chunk, column.type.value_type) for chunk in column.chunks])
        return column.combine_chunks()
    return column


def dictionary_of(column: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray | None:
    """A text column as a dictionary array with unique, non-null string values; None if it is not text."""
    column = _whole(column)
    kind = column.type
    if pa.types.is_null(kind):
        return pa.DictionaryArray.from_arrays(pa.nulls(len(column), pa.int32()), pa.array([], pa.string()))
    if pa.types.is_dictionary(kind):
        if not _is_text(kind.value_type):
            return None
        values = column.dictionary
        if values.null_count or len(pc.unique(values)) != len(values):
            return pc.dictionary_encode(pc.cast(column, pa.string()))
        if not pa.types.is_string(values.type):
            return pa.DictionaryArray.from_arrays(column.indices, pc.cast(values, pa.string()))
        return column
    if _is_text(kind):
        return pc.dictionary_encode(pc.cast(column, pa.string()))
    return None


def _on_values(column: pa.DictionaryArray, values: pa.Array) -> pa.Array:
    """Per-row values from one value per dictionary entry (null where the row is null)."""
    return values.take(column.indices)


def _keys(column: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], pa.Array]:
    """The uscc column as integer keys (-1: missing) and the text of each key."""
    encoded = dictionary_of(column)
    if encoded is None:   # not text: the subjects are told apart by the values' text; the model reports them
        encoded = pc.dictionary_encode(pa.array([None if value is None else repr(value)
                                                 for value in _whole(column).to_pylist()], pa.string()))
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return indices, encoded.dictionary


_NO_KEY = object()


def _run_starts(keys: npt.NDArray[np.int64], texts: pa.Array, previous: object = _NO_KEY) -> npt.NDArray[np.int64]:
    """Positions where a new subject starts: its uscc differs from the row before (across batches too)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    differs = np.empty(len(keys), dtype=bool)
    differs[1:] = keys[1:] != keys[:-1]
    differs[0] = previous is _NO_KEY or _key_text(keys, texts, 0) != previous
    return np.flatnonzero(differs).astype(np.int64)


def _key_text(keys: npt.NDArray[np.int64], texts: pa.Array, position: int) -> str | None:
    key = int(keys[position])
    return None if key < 0 else str(texts[key].as_py())


@dataclass(frozen=True)
class Split:
    """A subject whose rows are not together: where each of its runs of rows starts."""

    starts: tuple[int, ...]


def find_split_subjects(reader: _Reader) -> dict[str, Split]:
    """Read only the uscc column once and find the subjects whose rows are not contiguous.

    Memory: the uscc of every subject (about 20 bytes each), never anything per record.
    """
    heads: list[pa.Array] = []
    rows: list[npt.NDArray[np.int64]] = []
    previous: object = _NO_KEY
    offset = 0
    for batch in reader.batches(columns=["uscc"]):
        keys, texts = _keys(batch.column(0))
        starts = _run_starts(keys, texts, previous)
        head_keys = keys[starts]
        heads.append(texts.take(pa.array(head_keys, mask=head_keys < 0)))
        rows.append(starts + offset + 1)
        if len(keys):
            previous = _key_text(keys, texts, len(keys) - 1)
        offset += len(keys)
    if not heads:
        return {}
    every = pc.fill_null(pa.concat_arrays(heads), "")
    counts = pc.value_counts(every)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return {}
    chosen = _np_bool(pc.is_in(every, value_set=repeated))
    where = np.concatenate(rows)[chosen].tolist()
    splits: dict[str, list[int]] = {}
    for key, row in zip(every.filter(pa.array(chosen)).to_pylist(), where, strict=True):
        splits.setdefault(key, []).append(row)
    return {key: Split(tuple(found)) for key, found in splits.items()}


def _text_keys(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as plain text for joining on uscc (a missing uscc is the empty text)."""
    keys, texts = _keys(column)
    return pc.fill_null(texts.take(pa.array(keys, mask=keys < 0)), "")


# --- the subjects file of the two-file layout ------------------------------------------------------

class SubjectsTable:
    """The subjects file, read whole (one row per subject: its size grows with subjects, not records)."""

    def __init__(self, path: Path) -> None:

        reader = _Reader(path, subjects_file=True)
        self.file = reader.file
        batches = list(reader.batches())
        self.table = pa.Table.from_batches(batches) if batches else pa.table(
            {name: pa.array([], pa.string()) for name in reader.names})
        self.keys = _text_keys(self.table.column("uscc"))
        self.seen = np.zeros(self.table.num_rows, dtype=bool)
        counts = pc.value_counts(self.keys)
        repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
        self.repeated: dict[str, list[int]] = {key: [] for key in repeated.to_pylist()}
        if self.repeated:
            for row, key in enumerate(self.keys.to_pylist(), start=1):
                if key in self.repeated:
                    self.repeated[key].append(row)

    def join(self, records: pa.Table) -> pa.Table:
        """The records with their subject's columns, and ``_subject_row``: the subjects-file row (0-based)."""

        positions = pc.index_in(_text_keys(records.column("uscc")), value_set=self.keys)
        self.seen[positions.drop_null().to_numpy(zero_copy_only=False)] = True
        subject_columns = self.table.drop_columns(["uscc"]).take(positions)
        joined = records
        for name in subject_columns.column_names:
            joined = joined.append_column(name, subject_columns.column(name))
        return joined.append_column(SUBJECT_ROW, pc.cast(positions, pa.int64()))

    def unseen(self) -> pa.Table:
        """The subjects no record row mentioned, as subject rows without records, in file order."""

        rows = np.flatnonzero(~self.seen)
        return self.table.take(pa.array(rows)).append_column(SUBJECT_ROW, pa.array(rows, pa.int64()))


# --- work units ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnarUnit:
    """Rows holding whole subjects, with where they came from (file and row numbers) and layout problems."""

    table: pa.Table
    file: str
    first_row: int                          # row number (1-based) of the table's first row
    first_index: int                        # subject index of the table's first subject
    splits: Mapping[str, Split]
    vectorised: bool
    subjects_file: str | None = None        # the two-file layout: the table carries SUBJECT_ROW
    repeated_subjects: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    subjects_only: bool = False             # the subjects no record mentioned (rows of the subjects file)
    rows: int = 0                           # record rows read, for the progress bar

    def run(self, worker: Worker) -> UnitOutcome:
        return evaluate_unit(self, worker)


@dataclass
class ColumnarSource:
    units_iter: Iterator[ColumnarUnit]
    total_rows: int | None

    def units(self) -> Iterator[ColumnarUnit]:
        return self.units_iter


def columnar_units(path: Path, *, subjects: Path | None, explain: bool, plan: ScorePlan) -> ColumnarSource:
    """Split a Parquet or CSV facts file into units of whole subjects (rows of one subject never straddle)."""
    require_pyarrow()
    reader = _Reader(path, records_file=subjects is not None)
    table = SubjectsTable(subjects) if subjects is not None else None
    splits = find_split_subjects(reader)
    vectorised = not explain and plan.integral and plan.base == plan.base.to_integral_value()
    return ColumnarSource(_units(reader, table, splits, vectorised), reader.total_rows)


def _units(reader: _Reader, subjects: SubjectsTable | None, splits: dict[str, Split],
           vectorised: bool) -> Iterator[ColumnarUnit]:
    carry: pa.Table | None = None
    carry_row = 1
    index = 0
    previous: object = _NO_KEY
    repeated = {key: tuple(rows) for key, rows in subjects.repeated.items()} if subjects is not None else {}

    def unit(rows: pa.Table, first_row: int, subjects_count: int, small: bool = False) -> ColumnarUnit:
        nonlocal index
        count = rows.num_rows
        if subjects is not None:
            rows = subjects.join(rows)
        made = ColumnarUnit(rows, reader.file, first_row, index, splits, vectorised and not small,
                            subjects_file=subjects.file if subjects is not None else None,
                            repeated_subjects=repeated, rows=count)
        index += subjects_count
        return made

    # Each batch's whole subjects are a unit that is a slice of the batch (no copy); a subject whose rows
    # straddle two batches is carried over and becomes a small unit of its own.
    for batch in reader.batches():
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        keys, texts = _keys(table.column("uscc"))
        starts = _run_starts(keys, texts, previous)
        previous = _key_text(keys, texts, len(keys) - 1)
        if len(starts) == 0:                   # the whole batch continues the carried subject
            carry = table if carry is None else _concat([carry, table])
            continue
        first, last = int(starts[0]), int(starts[-1])
        if carry is not None:
            straddling = _concat([carry, table.slice(0, first)]) if first else carry
            yield unit(straddling, carry_row, 1, small=True)
            carry_row += straddling.num_rows
        if last > first:
            yield unit(table.slice(first, last - first), carry_row, len(starts) - 1)
            carry_row += last - first
        carry = table.slice(last)
    if carry is not None and carry.num_rows:
        yield unit(carry, carry_row, 1, small=True)
    if subjects is not None:
        rest = subjects.unseen()
        for start in range(0, rest.num_rows, BATCH_ROWS):
            # The subjects no record mentioned: evaluated with no records, after the others, in file order.
            part = rest.slice(start, BATCH_ROWS)
            part_keys, part_texts = _keys(part.column("uscc"))
            yield ColumnarUnit(part, subjects.file, 0, index, {}, vectorised, subjects_file=subjects.file,
                               repeated_subjects=repeated, subjects_only=True)
            index += len(_run_starts(part_keys, part_texts))


def _concat(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables, promote_options="permissive")


# --- evaluating a unit -----------------------------------------------------------------------------

def evaluate_unit(unit: ColumnarUnit, worker: Worker) -> UnitOutcome:

    table = unit.table
    keys, texts = _keys(table.column("uscc"))
    starts = _run_starts(keys, texts)
    ends = np.append(starts[1:], table.num_rows)
    has_record = _has_record(table)
    records = int(np.count_nonzero(has_record))
    plan, explain = worker.plan, worker.explain
    flagged = np.ones(len(starts), dtype=bool)
    vector: pa.Table | None = None
    if unit.vectorised:
        vector, flagged = _vectorised(unit, plan, starts, has_record)
    slow_runs = np.flatnonzero(flagged)
    outcomes: list[tuple[int, Outcome]] = []
    if len(slow_runs):
        take = np.concatenate([np.arange(starts[run], ends[run]) for run in slow_runs])
        values = table.take(pa.array(take)).to_pylist()
        cursor = 0
        for run in slow_runs.tolist():
            length = int(ends[run] - starts[run])
            rows = values[cursor:cursor + length]
            cursor += length
            numbers = list(range(unit.first_row + int(starts[run]), unit.first_row + int(starts[run]) + length))
            outcomes.append((run, _reference_run(unit, plan, explain, rows, numbers, unit.first_index + run)))
    grades: dict[str, int] = {}
    done = UnitOutcome(None, [], subjects=len(starts), records=records, progress=unit.rows)
    python_results: list[tuple[int, SubjectResult | Score]] = []
    for run, outcome in outcomes:
        if isinstance(outcome, SubjectErrors):
            done.errors.extend(outcome.errors)
            done.error_subjects += 1
        else:
            python_results.append((run, outcome))
            if outcome.grade is not None:
                grades[outcome.grade] = grades.get(outcome.grade, 0) + 1
            else:
                done.not_evaluated += 1
    done.grades.update(grades)
    encoder = worker.encoder
    if vector is None:
        results = [result for _, result in python_results]
        done.payload = encoder.encode(results) if results else None
        return done
    done.grades.update(_value_counts(vector.column("grade")))
    done.not_evaluated += vector.num_rows - int(pc.sum(vector.column("evaluated")).as_py() or 0)
    if python_results:
        extra = _results_table(encoder, [result for _, result in python_results])
        extra = extra.append_column("run", pa.array([run for run, _ in python_results], pa.int64()))
        vector = pa.concat_tables([vector, extra.select(vector.column_names)])
        vector = vector.take(pa.compute.sort_indices(vector.column("run")))
    if vector.num_rows:
        done.payload = encoder.encode_table(encoder.arrow({name: vector.column(name) for name in RESULT_FIELDS}))
    return done


def _value_counts(column: pa.ChunkedArray) -> dict[str, int]:

    counts = pc.value_counts(column.drop_null())
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


def _results_table(encoder: Encoder, results: list[SubjectResult | Score]) -> pa.Table:

    from mincredit.batch import results_columns

    columns = results_columns(results, False)
    return pa.table({name: pa.array(columns[name], pa.bool_() if name == "evaluated" else pa.string())
                     for name in RESULT_FIELDS})


def _has_record(table: pa.Table) -> npt.NDArray[np.bool_]:

    present = np.zeros(table.num_rows, dtype=bool)
    for name in RECORD_COLUMNS:
        if name in table.column_names:
            present |= pc.is_valid(table.column(name)).to_numpy(zero_copy_only=False)
    return present


def _clean(value: Any) -> Any:
    return None if value == "" else value


def _reference_run(unit: ColumnarUnit, plan: ScorePlan, explain: bool, rows: list[dict[str, Any]],
                   numbers: list[int], index: int) -> Outcome:
    """One subject's rows through the facts model and the engine (or its layout error)."""
    first = rows[0]
    subject_row = first.get(SUBJECT_ROW)
    # Where a problem with the subject's own fields is: its row in the subjects file, or its first row here.
    subject_file, row = ((unit.subjects_file, subject_row + 1) if subject_row is not None and unit.subjects_file
                         else (unit.file, numbers[0]))
    uscc_value = first.get("uscc")
    uscc = "" if uscc_value is None else uscc_value if isinstance(uscc_value, str) else repr(uscc_value)
    name = first.get("name") if isinstance(first.get("name"), str) else None

    def layout(message: str, at: int | None = numbers[0], file: str | None = unit.file) -> SubjectErrors:
        return SubjectErrors(index, (FactError(message, file, None, index, uscc or None, name, row=at),))

    split = unit.splits.get(uscc)
    if split is not None:
        others = ", ".join(f"row {start}" for start in split.starts if start != row)
        return layout(f"this subject's rows are not together: it also starts again at {others}; the rows of one "
                      "subject must follow each other (sort the file by uscc); it was not evaluated")
    if unit.repeated_subjects.get(uscc):
        rows_text = ", ".join(str(r) for r in unit.repeated_subjects[uscc])
        return layout(f"this subject appears more than once in the subjects file (rows {rows_text}); "
                      "it was not evaluated", row, subject_file)
    if unit.subjects_file is not None and subject_row is None:
        return layout(f"the subject {uscc or '(no uscc)'} has records but is not in the subjects file "
                      f"{unit.subjects_file}; it was not evaluated")
    raw: dict[str, Any] = {}
    for column in SUBJECT_COLUMNS:
        value = _clean(first.get(column))
        if value is not None:
            raw[column] = value
    for offset, values in enumerate(rows[1:], start=1):
        for column in SUBJECT_COLUMNS:
            value = _clean(values.get(column))
            if value is not None and value != _clean(first.get(column)):
                return layout(f"the column {column!r} of this row ({value!r}) differs from the subject's first "
                              f"row ({_clean(first.get(column))!r}); repeat the same subject values on each of its "
                              "rows, or leave them empty", numbers[offset])
    records: list[dict[str, Any]] = []
    record_rows: dict[str, int] = {}
    for values, number in zip(rows, numbers, strict=True):
        record = {RECORD_FIELD.get(column, column): _clean(values.get(column)) for column in RECORD_COLUMNS}
        record = {key: value for key, value in record.items() if value is not None}
        if record:
            records.append(record)
            record_rows.setdefault(str(record.get("id")), number)
    raw["records"] = records
    entry = validate_subject(raw, file=subject_file, index=index, line=None)
    outcome = reference_outcome(plan, entry, explain)
    if isinstance(outcome, SubjectErrors):
        return SubjectErrors(index, tuple(
            dataclasses.replace(error, file=unit.file, line=None, row=record_rows.get(error.record_id, numbers[0]))
            if error.record_id is not None and not unit.subjects_only
            else dataclasses.replace(error, file=subject_file, line=None, row=row)
            for error in outcome.errors))
    return outcome


# --- the vectorised path ------------------------------------------------------------------------------

def _np_bool(array: Any) -> npt.NDArray[np.bool_]:
    if array.null_count:
        array = pc.fill_null(array, False)
    return array.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _np_int(array: Any, missing: int) -> npt.NDArray[np.int64]:
    if array.null_count:
        array = pc.fill_null(array, missing)
    return array.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)  # type: ignore[no-any-return]


def _null_dictionary(count: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.nulls(count, pa.int32()), pa.array([], pa.string()))


def _iso_date(text: str) -> dt.date | None:
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii() and text[:4].isdigit():
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


class _Checks:
    """Normalised columns of one unit and the rows any check flags (they take the reference path)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.count = table.num_rows
        self.flag = np.zeros(self.count, dtype=bool)

    def column(self, name: str) -> pa.Array:
        if name not in self.table.column_names:
            return pa.nulls(self.count, pa.string())
        return _whole(self.table.column(name))

    def _flag_values(self, encoded: pa.DictionaryArray, bad_values: pa.Array) -> None:
        if pc.any(bad_values).as_py():
            self.flag |= _np_bool(_on_values(encoded, bad_values))

    def text(self, name: str) -> pa.DictionaryArray:
        """A text column, dictionary-encoded; an empty text, one with surrounding spaces or a non-text column
        flags its rows (each distinct value is checked once)."""
        column = self.column(name)
        encoded = dictionary_of(column)
        if encoded is None:
            self.flag |= _np_bool(pc.is_valid(column))
            return _null_dictionary(self.count)
        values = encoded.dictionary
        self._flag_values(encoded, pc.or_(pc.equal(pc.binary_length(values), 0),
                                          pc.match_substring_regex(values, _EDGE_SPACE)))
        return encoded

    def date(self, name: str) -> pa.Array:
        column = self.column(name)
        kind = column.type
        if pa.types.is_null(kind):
            return pa.nulls(self.count, pa.date32())
        if pa.types.is_date32(kind) or pa.types.is_date64(kind):
            column = pc.cast(column, pa.date32())
            self.flag |= _np_bool(pc.less(column, pa.scalar(dt.date(1, 1, 1), pa.date32())))
            return column
        encoded = dictionary_of(column)
        if encoded is None:    # a timestamp or a number: left to the model, which says what it makes of it
            self.flag |= _np_bool(pc.is_valid(column))
            return pa.nulls(self.count, pa.date32())
        days = pa.array([_iso_date(text) for text in encoded.dictionary.to_pylist()], pa.date32())
        self._flag_values(encoded, pc.is_null(days))
        return _on_values(encoded, days)

    def tier(self) -> pa.Array:
        column = self.column("tier")
        kind = column.type
        if pa.types.is_null(kind):
            return pa.nulls(self.count, pa.int64())
        if pa.types.is_integer(kind):
            return pc.cast(column, pa.int64())
        encoded = dictionary_of(column)
        if encoded is None:
            self.flag |= _np_bool(pc.is_valid(column))
            return pa.nulls(self.count, pa.int64())
        values = encoded.dictionary
        plain = pc.match_substring_regex(values, r"^[1-9][0-9]{0,8}$")
        self._flag_values(encoded, pc.invert(plain))
        numbers = pc.cast(pc.if_else(plain, values, pa.nulls(len(values), pa.string())), pa.int64())
        return _on_values(encoded, numbers)


def _public_scores(checks: _Checks, run_starts: npt.NDArray[np.int64]
                   ) -> tuple[pa.Array, pa.Array, npt.NDArray[np.bool_]]:
    """Each subject's public score as exact decimal and as the text the result reports, and which are bad."""

    column = checks.column("public_score").take(pa.array(run_starts))
    runs = len(run_starts)
    kind = column.type
    bad = np.zeros(runs, dtype=bool)
    if pa.types.is_null(kind):
        return pa.nulls(runs, pa.decimal128(4, 0)), pa.nulls(runs, pa.string()), bad
    if pa.types.is_floating(kind):   # a float has lost what was written; its shortest repr is taken, as the model does
        column = pa.array([None if value is None else repr(value) for value in column.to_pylist()], pa.string())
        kind = column.type
    if pa.types.is_integer(kind):
        text = pc.cast(column, pa.string())
        kind = pa.string()
        column = text
    if pa.types.is_decimal(kind):
        scale = kind.scale
        text = pc.cast(column, pa.string())
        if scale > 30 or scale < 0:
            return pa.nulls(runs, pa.decimal128(4, 0)), text, _np_bool(pc.is_valid(column))
        bad |= _np_bool(pc.or_(pc.less(column, pa.scalar(Decimal(0))), pc.greater(column, pa.scalar(Decimal(1000)))))
        safe = pc.if_else(pa.array(bad), pa.scalar(Decimal(0), kind), column)
        return pc.cast(safe, pa.decimal128(4 + scale, scale)), text, bad
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        text = pc.cast(column, pa.string())
        plain = pc.match_substring_regex(text, r"^(0|[1-9][0-9]{0,3})(\.[0-9]{1,30})?$")
        bad |= _np_bool(pc.and_(pc.is_valid(text), pc.invert(plain)))
        text_ok = pc.if_else(plain, text, pa.nulls(runs, pa.string()))
        dot = pc.find_substring(text_ok, ".")
        length = pc.binary_length(text_ok)
        fraction = pc.if_else(pc.greater_equal(dot, 0), pc.subtract(pc.subtract(length, dot), 1), 0)
        scale = int(pc.max(fraction).as_py() or 0)
        decimals = pc.cast(text_ok, pa.decimal128(38, scale))
        bad |= _np_bool(pc.greater(decimals, pa.scalar(Decimal(1000))))
        decimals = pc.if_else(pa.array(bad), pa.scalar(Decimal(0), pa.decimal128(38, scale)), decimals)
        return pc.cast(decimals, pa.decimal128(4 + scale, scale)), text, bad
    return pa.nulls(runs, pa.decimal128(4, 0)), pa.nulls(runs, pa.string()), _np_bool(pc.is_valid(column))


_USCC_VALUE = np.full(256, -1, dtype=np.int64)
_USCC_VALUE[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET))
_USCC_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)


def _uscc_valid(keys: pa.Array) -> npt.NDArray[np.bool_]:
    """The GB 32100-2015 check on a whole column of distinct texts: length, alphabet, check character.

    The texts' bytes are read as an (n, 18) array: each byte maps to its value in the alphabet (or -1),
    the first 17 are weighted and summed, and the 18th must be the check character that sum requires.
    """
    keys = pc.cast(keys, pa.string())
    count = len(keys)
    ok = np.zeros(count, dtype=bool)
    if count == 0:
        return ok
    if keys.null_count:
        keys = pc.fill_null(keys, "")
    offsets = np.frombuffer(keys.buffers()[1], dtype=np.int32)[keys.offset:keys.offset + count + 1].astype(np.int64)
    data = np.frombuffer(keys.buffers()[2], dtype=np.uint8) if keys.buffers()[2] is not None else np.zeros(0, np.uint8)
    rows = np.flatnonzero(np.diff(offsets) == 18)
    if len(rows) == 0:
        return ok
    values = _USCC_VALUE[data[offsets[rows][:, None] + np.arange(18)]]
    total = values[:, :17] @ _USCC_WEIGHTS
    ok[rows] = (values >= 0).all(axis=1) & (values[:, 17] == (31 - total % 31) % 31)
    return ok


def _per_run(values: npt.NDArray[Any], starts: npt.NDArray[np.int64], reduce: Any) -> npt.NDArray[Any]:

    if len(starts) == 0:
        return np.zeros(0, dtype=values.dtype)
    return reduce.reduceat(values, starts)  # type: ignore[no-any-return]


def _vectorised(unit: ColumnarUnit, plan: ScorePlan, starts: npt.NDArray[np.int64],
                has_record: npt.NDArray[np.bool_]) -> tuple[pa.Table, npt.NDArray[np.bool_]]:
    """Score the unit's subjects on whole columns; also return which subjects need the reference path."""
    checks = _Checks(unit.table)
    count, runs = checks.count, len(starts)
    run_of_row = np.repeat(np.arange(runs), np.diff(np.append(starts, count)))
    first_row = starts[run_of_row]
    starts_arrow = pa.array(starts)

    def per_row(encoded: pa.DictionaryArray, values: pa.Array, missing: int) -> npt.NDArray[np.int64]:
        """A number per dictionary value, spread to the rows (``missing`` where the row has no value)."""
        table = np.append(_np_int(values, missing), missing)
        return table[_np_int(encoded.indices, -1)]   # index -1 picks the appended ``missing``

    # Subject columns: read from each subject's first row; later rows must repeat them or be empty.
    subject = {name: checks.text(name) for name in ("uscc", "name", "kind", "status")}
    for encoded in subject.values():
        indices = _np_int(encoded.indices, -1)
        checks.flag |= (indices >= 0) & (indices != indices[first_row])
    public_column = checks.column("public_score")
    if not pa.types.is_null(public_column.type):
        first = public_column.take(pa.array(first_row))
        checks.flag |= _np_bool(pc.and_(pc.is_valid(public_column),
                                        pc.or_(pc.is_null(first), pc.not_equal(public_column, first))))
    uscc_key = _np_int(subject["uscc"].indices, -1)[starts]
    uscc_ok = np.append(_uscc_valid(subject["uscc"].dictionary), False)
    run_bad = ~uscc_ok[uscc_key]
    uscc = subject["uscc"].dictionary.take(pa.array(uscc_key, mask=uscc_key < 0))
    name = pc.cast(subject["name"].take(starts_arrow), pa.string())
    kind = pc.cast(subject["kind"].take(starts_arrow), pa.string())
    status = pc.fill_null(pc.cast(subject["status"].take(starts_arrow), pa.string()), "active")
    run_bad |= _np_bool(pc.is_null(name))
    run_bad |= ~_np_bool(pc.equal(kind, plan.kind))
    run_bad |= ~_np_bool(pc.is_in(status, value_set=pa.array(["active", "dissolved"])))
    public, public_text, public_bad = _public_scores(checks, starts)
    run_bad |= public_bad
    active = _np_bool(pc.equal(status, "active"))
    if plan.public_required:
        run_bad |= active & _np_bool(pc.is_null(public))
    if unit.splits:
        run_bad |= _np_bool(pc.is_in(uscc, value_set=pa.array(list(unit.splits), pa.string())))
    if unit.repeated_subjects:
        run_bad |= _np_bool(pc.is_in(uscc, value_set=pa.array(list(unit.repeated_subjects), pa.string())))
    if unit.subjects_file is not None:   # a subject with records the subjects file does not have
        run_bad |= _np_bool(pc.is_null(checks.column(SUBJECT_ROW).take(starts_arrow)))

    # Record columns: each distinct text is checked and looked up once, then spread to its rows.
    record_id = checks.text("record_id")
    record_type = checks.text("type")
    indicator = checks.text("indicator")
    title = checks.text("honour")
    level = checks.text("level")
    checks.text("authority")
    checks.text("description")
    tier = checks.tier()
    determined = checks.date("determined_on")
    awarded = checks.date("awarded_on")
    valid_until = checks.date("valid_until")
    type_code = per_row(record_type, pc.index_in(record_type.dictionary,
                                                 value_set=pa.array(["violation", "honour"])), -1)
    is_violation, is_honour = type_code == 0, type_code == 1
    flag = checks.flag
    flag |= has_record & (type_code < 0)
    flag |= has_record & ~_np_bool(pc.is_valid(record_id))
    violation_fields = np.zeros(count, dtype=bool)
    for column in (indicator, tier, determined):
        violation_fields |= _np_bool(pc.is_valid(column))
    honour_fields = np.zeros(count, dtype=bool)
    for column in (title, level, awarded, valid_until):
        honour_fields |= _np_bool(pc.is_valid(column))
    flag |= is_violation & honour_fields
    flag |= is_honour & violation_fields

    # Violations: (indicator, tier) → points through a dense look-up array; counted within the window.
    codes = sorted({code for code, _ in plan.points})
    stride = max(tier_number for _, tier_number in plan.points) + 1
    points_table = np.full(len(codes) * stride, -1, dtype=np.int64)
    for (code, tier_number), tier_points in plan.points.items():
        points_table[codes.index(code) * stride + tier_number] = int(tier_points)
    code_index = per_row(indicator, pc.index_in(indicator.dictionary, value_set=pa.array(codes)), -1)
    tier_values = _np_int(tier, -1)
    known = (code_index >= 0) & (tier_values > 0) & (tier_values < stride)
    points = np.where(known, points_table[np.where(known, code_index * stride + tier_values, 0)], -1)
    epoch = dt.date(1970, 1, 1)
    as_of = (plan.as_of - epoch).days
    violation_from = (plan.violation_from - epoch).days
    honour_from = (plan.honour_from - epoch).days
    determined_days = _np_int(pc.cast(determined, pa.int32()), -(10 ** 9))
    flag |= is_violation & ((points < 0) | ~_np_bool(pc.is_valid(determined)))
    counted = is_violation & (points > 0) & (determined_days >= violation_from) & (determined_days <= as_of)
    deductions = _per_run(np.where(counted, points, 0).astype(np.int64), starts, np.add)

    # Honours: in force on the date; the same title once at its highest level; the cap.
    level_names = sorted(plan.level_points)
    level_table = pa.array([int(plan.level_points[level_name]) for level_name in level_names], pa.int64())
    honour_points = per_row(level, level_table.take(pc.index_in(level.dictionary,
                                                                value_set=pa.array(level_names, pa.string()))), -1)
    awarded_days = _np_int(pc.cast(awarded, pa.int32()), 10 ** 9)
    until_valid = _np_bool(pc.is_valid(valid_until))
    until_days = _np_int(pc.cast(valid_until, pa.int32()), 0)
    title_id = _np_int(title.indices, -1)
    flag |= is_honour & ((honour_points < 0) | (title_id < 0) | ~_np_bool(pc.is_valid(awarded)))
    flag |= is_honour & until_valid & (until_days < awarded_days)
    in_force = is_honour & (honour_points > 0) & (title_id >= 0) & (awarded_days <= as_of) & np.where(
        until_valid, as_of <= until_days, awarded_days >= honour_from)
    bonus = np.zeros(runs, dtype=np.int64)
    if in_force.any():
        rows = np.flatnonzero(in_force)
        key = run_of_row[rows].astype(np.int64) * (len(title.dictionary) + 1) + title_id[rows]
        order = np.lexsort((-honour_points[rows], key))
        first_of_key = np.ones(len(order), dtype=bool)
        first_of_key[1:] = key[order][1:] != key[order][:-1]
        best = order[first_of_key]
        np.add.at(bonus, run_of_row[rows][best], honour_points[rows][best])

    # Duplicate record ids within a subject.
    record_key = _np_int(record_id.indices, -1)
    with_id = np.flatnonzero(has_record & (record_key >= 0))
    if len(with_id):
        width = len(record_id.dictionary) + 1
        ordered = np.sort(run_of_row[with_id].astype(np.int64) * width + record_key[with_id])
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if len(repeated):
            run_bad[np.unique(repeated // width)] = True

    run_bad |= _per_run(flag, starts, np.logical_or) if count else np.zeros(runs, dtype=bool)
    cap = plan.cap
    if cap != cap.to_integral_value():
        run_bad[:] = True          # a fractional cap: every subject takes the reference path
    good = np.flatnonzero(~run_bad)
    capped = np.minimum(bonus, int(cap))

    # The formula in exact decimals: N = public × w₁ + (base − deductions + bonus) × w₂.
    good_arrow = pa.array(good, pa.int64())
    industry = pa.array((int(plan.base) - deductions + capped)[good], pa.int64())
    industry_part = pc.multiply(pc.cast(industry, pa.decimal128(19, 0)), pa.scalar(plan.industry_weight))
    public_good = public.take(good_arrow)
    public_part = pc.multiply(pc.fill_null(public_good, pa.scalar(Decimal(0), public.type)),
                              pa.scalar(plan.public_weight))
    score = pc.add(public_part, industry_part)
    dissolved = ~active[good]
    grade_index = np.full(len(good), -1, dtype=np.int64)
    bands = plan.rulebook.bands
    for position, band in enumerate(bands):
        inside = np.ones(len(good), dtype=bool)
        if band.lower is not None:
            bound = pa.scalar(band.lower.value)
            inside &= _np_bool(pc.greater_equal(score, bound) if band.lower.inclusive else pc.greater(score, bound))
        if band.upper is not None:
            bound = pa.scalar(band.upper.value)
            inside &= _np_bool(pc.less_equal(score, bound) if band.upper.inclusive else pc.less(score, bound))
        grade_index[inside & (grade_index < 0)] = position
    grade_index[dissolved] = -1
    no_grade = grade_index < 0
    band_of = pa.array(np.maximum(grade_index, 0), mask=no_grade)
    grades = pa.array([band.grade for band in bands], pa.string()).take(band_of)
    meanings = pa.array([band.meaning for band in bands], pa.string()).take(band_of)
    dissolved_arrow = pa.array(dissolved)
    null_text = pa.nulls(len(good), pa.string())
    zero = pa.array(np.full(len(good), "0", dtype=object), pa.string())
    result = pa.table({
        "uscc": uscc.take(good_arrow), "name": name.take(good_arrow), "kind": kind.take(good_arrow),
        "status": status.take(good_arrow), "evaluated": pa.array(~dissolved),
        "grade": grades, "grade_meaning": meanings,
        "score": pc.if_else(dissolved_arrow, null_text, _exact_text(pc.cast(score, pa.string()))),
        "public_score": public_text.take(good_arrow),
        "deductions": pc.if_else(dissolved_arrow, zero, pc.cast(pa.array(deductions[good]), pa.string())),
        "honour_bonus": pc.if_else(dissolved_arrow, zero, pc.cast(pa.array(capped[good]), pa.string())),
        "not_evaluated_reason": pc.if_else(dissolved_arrow, pa.scalar(DISSOLVED_REASON), null_text),
        "run": good_arrow,
    })
    # Python writes a Decimal under 10⁻⁶ in scientific notation (2E-7) where Arrow writes 0.0000002: the rare
    # subject with such a score or public score is left to the reference path, so the text is the engine's.
    tiny = np.zeros(len(good), dtype=bool)
    limit = pa.scalar(Decimal("0.000001"))
    for column in (score, public_good):
        magnitude = pc.abs(column)
        tiny |= _np_bool(pc.and_(pc.not_equal(magnitude, pa.scalar(Decimal(0))), pc.less(magnitude, limit)))
    if tiny.any():
        run_bad[good[tiny]] = True
        result = result.filter(pa.array(~tiny))
    return result, run_bad


def _exact_text(text: pa.Array) -> pa.Array:
    """Decimal text without trailing zeros, as ``mincredit.engine.exact`` writes it (962.470 → 962.47, 890.0 → 890)."""

    trimmed = pc.replace_substring_regex(text, r"(\.[0-9]*?)0+$", r"\1")
    return pc.replace_substring_regex(trimmed, r"\.$", "")


# --- the Python API -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableEvaluation:
    """Results as an Arrow table (decimals as exact text, as in the JSON output), and the errors."""

    header: Header
    results: pa.Table
    errors: list[FactError]

    @property
    def complete(self) -> bool:
        return not self.errors


def _as_arrow(data: Any) -> pa.Table:

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.split(".")[0] == "polars" and hasattr(data, "to_arrow"):
        converted = data.to_arrow()
        assert isinstance(converted, pa.Table)
        return converted
    raise TypeError(f"expected a pyarrow Table or a polars DataFrame, not {type(data).__name__}")


def evaluate_table(records: Any, rulebook: CompiledRulebook, as_of: dt.date, *, subjects: Any = None,
                   explain: bool = False, name: str = "<table>") -> TableEvaluation:
    """Evaluate a table of records (pyarrow Table or polars DataFrame, the columnar layout) in one call.

    ``subjects`` is an optional second table of subjects joined on ``uscc`` (the two-table layout).
    Rows of one subject must be together.  The results are in input order, one row per subject
    evaluated, with the columns of ``SubjectResult`` (and ``items`` when ``explain`` is true).
    """
    require_pyarrow()

    from mincredit.batch import Worker

    table = _as_arrow(records)
    _check_columns(table.column_names, name, records_file=subjects is not None)
    worker = Worker(rulebook, as_of, explain, "parquet")
    plan = worker.plan
    subjects_table: SubjectsTable | None = None
    if subjects is not None:
        subjects_table = SubjectsTable.__new__(SubjectsTable)
        _init_subjects_from_table(subjects_table, _as_arrow(subjects), f"{name} (subjects)")
    splits = _splits_of(table)
    vectorised = not explain and plan.integral and plan.base == plan.base.to_integral_value()
    reader_units = _units(_TableReader(table, name), subjects_table, splits, vectorised)
    outcomes = [unit.run(worker) for unit in reader_units]
    tables = [outcome.payload for outcome in outcomes if outcome.payload is not None]
    errors = [error for outcome in outcomes for error in outcome.errors]
    header = worker.encoder.header
    if tables:
        assert all(isinstance(t, pa.Table) for t in tables)
        results = pa.concat_tables([t for t in tables if isinstance(t, pa.Table)])
    else:
        results = worker.encoder.arrow({name: [] for name in RESULT_FIELDS} | ({"items": []} if explain else {}))
    return TableEvaluation(header, results, errors)


class _TableReader(_Reader):
    """An in-memory table served as the batches a file reader would give."""

    def __init__(self, table: pa.Table, name: str) -> None:
        self.table = table
        self.file = name
        self.names = table.column_names
        self.total_rows = table.num_rows
        self.kind = "parquet"

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        table = self.table.select(columns) if columns is not None else self.table
        yield from table.to_batches(max_chunksize=BATCH_ROWS)


def _splits_of(table: pa.Table) -> dict[str, Split]:
    return find_split_subjects(_TableReader(table, ""))


def _init_subjects_from_table(target: SubjectsTable, table: pa.Table, name: str) -> None:

    _check_columns(table.column_names, name, subjects_file=True)
    target.file = name
    target.table = table
    target.keys = _text_keys(table.column("uscc"))
    target.seen = np.zeros(table.num_rows, dtype=bool)
    counts = pc.value_counts(target.keys)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    target.repeated = {key: [] for key in repeated.to_pylist()}
    for row, key in enumerate(target.keys.to_pylist() if target.repeated else [], start=1):
        if key in target.repeated:
            target.repeated[key].append(row)
