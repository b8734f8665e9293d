"""Columnar facts (Parquet, CSV): one row per record, read in chunks with pyarrow, scored natively.

The layout is in docs/columnar.md: one row per record with the subject's columns (``uscc``, ``name``,
``kind``, ``status``, ``public_score``) on each of its rows, a subject without records as one row
with empty record columns; or the subjects in a second file joined on ``uscc``.  A subject's rows
must be together: a subject whose rows are split is reported (naming the rows) and not evaluated.

Two paths give the same results:

- the *vectorised path* (``--no-explain``): the rulebook is compiled to NumPy look-up arrays
  ((indicator, tier) → points, level → points), every check of the facts model is done on whole
  columns, the deductions and the honour bonus are aggregated per subject natively, and the formula is
  evaluated in exact integer arithmetic on the decimals scaled to a common exponent, so scores are exact
  decimals (``962.47``), never floats; a grade's consequences and the warnings on stated tiers of an
  indicator graded by repetition are added as the engine gives them;
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
import os
import queue
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from mincredit.batch import (
    DISSOLVED_REASON,
    MEASURE_FIELDS,
    RESULT_FIELDS,
    Encoder,
    Header,
    Outcome,
    Score,
    ScorePlan,
    SubjectErrors,
    UnitOutcome,
    Worker,
    list_json,
    reference_outcome,
    require_pyarrow,
    result_schema,
    results_columns,
    score_raw,
)
from mincredit.decimals import exact
from mincredit.facts.reading import FactError, FactsFileError
from mincredit.facts.uscc import ALPHABET, WEIGHTS

if TYPE_CHECKING:
    from mincredit.engine import SubjectResult
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
CSV_BLOCK_BYTES = 2 << 20
TABLE_BATCH_ROWS = 1 << 19            # a table already in memory is evaluated in slices of this many rows
# Every character Python's str.isspace() accepts (29 of them): a value that starts or ends with one is left
# to the model, which strips some fields and rejects others.
_SPACE = ("\\x{9}\\x{a}\\x{b}\\x{c}\\x{d}\\x{1c}\\x{1d}\\x{1e}\\x{1f}\\x{20}"
          "\\x{85}\\x{a0}\\x{1680}\\x{2000}\\x{2001}\\x{2002}\\x{2003}\\x{2004}\\x{2005}\\x{2006}"
          "\\x{2007}\\x{2008}\\x{2009}\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}")
_EDGE_SPACE = f"^[{_SPACE}]|[{_SPACE}]$"
_EPOCH = dt.date(1970, 1, 1)
_INT64_MAX = (1 << 63) - 1
_FIRST_DAY, _LAST_DAY = (dt.date.min - _EPOCH).days, (dt.date.max - _EPOCH).days


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
                # A row group at a time (each with its own dictionaries): read whole when it is not too large,
                # which holds far less in memory than a batch iterator reading ahead; else in batches.
                metadata = self.parquet.metadata
                for group in range(metadata.num_row_groups):
                    if metadata.row_group(group).num_rows <= 4 * BATCH_ROWS:
                        yield from self.parquet.read_row_group(group, columns=columns).to_batches()
                    else:
                        yield from self.parquet.iter_batches(batch_size=4 * BATCH_ROWS, row_groups=[group],
                                                             columns=columns)
                return
            # Every CSV column is read as (dictionary-encoded) text and converted here, so that a bad cell is
            # one subject's error, with its row, not a failure of the whole file; an empty cell is no value.
            # Arrow's CSV reader parses ahead some thirty blocks: small blocks keep that small, and the batches
            # are put together again into larger ones, their dictionaries unified.
            reader = pacsv.open_csv(self.path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                                    convert_options=pacsv.ConvertOptions(
                                        column_types={name: pa.dictionary(pa.int32(), pa.string())
                                                      for name in self.names},
                                        strings_can_be_null=True, quoted_strings_can_be_null=True,
                                        include_columns=columns))
            pending: list[pa.RecordBatch] = []
            rows = 0
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                if rows >= BATCH_ROWS // 2:
                    yield from _joined(pending)
                    pending, rows = [], 0
            yield from _joined(pending)
        except pa.ArrowException as error:
            raise _file_error(self.file, f"cannot read the {self.kind} file: {error}") from None


def _joined(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """Consecutive batches as one (dictionary columns with one dictionary)."""
    if len(batches) <= 1:
        return batches
    joined: list[pa.RecordBatch] = pa.Table.from_batches(batches).unify_dictionaries().combine_chunks().to_batches()
    return joined


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


def _plain(column: pa.Array) -> pa.Array:
    """A text column as plain strings (a dictionary column decoded, row by row)."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary.take(column.indices)
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _keys(column: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], pa.Array]:
    """The uscc column as integer keys (-1: missing) and the text of each key."""
    encoded = dictionary_of(column)
    if encoded is None:   # not text: the subjects are told apart by the values' text; the model reports them
        encoded = pc.dictionary_encode(pa.array([None if value is None else repr(value)
                                                 for value in _whole(column).to_pylist()], pa.string()))
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return indices, encoded.dictionary


def _uscc_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The uscc column as plain text (another type as the text of its values), nulls kept."""
    column = _whole(column)
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string())
    if _is_text(column.type) or (pa.types.is_dictionary(column.type) and _is_text(column.type.value_type)):
        return column
    return pa.array([None if value is None else repr(value) for value in column.to_pylist()], pa.string())


def _changes(column: pa.Array) -> npt.NDArray[np.bool_]:
    """For each row but the first: whether its value differs from the row before's (two missing values do not).

    Exact: a dictionary column's indices are compared, and where they differ the texts themselves (a
    dictionary may hold a value twice).
    """
    count = len(column)
    if count < 2:
        return np.zeros(max(count - 1, 0), dtype=bool)
    if pa.types.is_dictionary(column.type):
        indices = _np_int(column.indices, -1)
        values = column.dictionary
        if _distinct(values):
            return np.asarray(indices[1:] != indices[:-1])   # distinct values: another index is another value
        candidates = np.flatnonzero(indices[1:] != indices[:-1])
        differs = np.zeros(count - 1, dtype=bool)
        if len(candidates):
            before = values.take(pa.array(indices[candidates], mask=indices[candidates] < 0))
            after = values.take(pa.array(indices[candidates + 1], mask=indices[candidates + 1] < 0))
            same = pc.fill_null(pc.equal(before, after), False)
            differs[candidates] = ~_np_bool(same)
        return differs
    before, after = column.slice(0, count - 1), column.slice(1)
    differs = _np_bool(pc.not_equal(before, after))
    if column.null_count:
        differs |= _np_bool(pc.is_null(before)) != _np_bool(pc.is_null(after))
    return differs


_DISTINCT: dict[tuple[int, int, int], tuple[pa.Array, bool]] = {}


def _distinct(values: pa.Array) -> bool:
    """Whether a dictionary holds each value once (no null); remembered per dictionary buffer, as the slices of
    one Parquet row group share theirs (the dictionary is kept while remembered, so its address is not reused)."""
    buffers = values.buffers()
    key = (buffers[1].address if buffers[1] is not None else 0, values.offset, len(values))
    known = _DISTINCT.get(key)
    if known is None:
        known = (values, values.null_count == 0 and pc.count_distinct(values).as_py() == len(values))
        if len(_DISTINCT) >= 8:
            _DISTINCT.clear()
        _DISTINCT[key] = known
    return known[1]


_NO_KEY = object()


def _run_starts(column: pa.Array, previous: object = _NO_KEY) -> npt.NDArray[np.int64]:
    """Positions where a new subject starts: its uscc differs from the row before's (across batches too)."""
    count = len(column)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    differs = np.empty(count, dtype=bool)
    differs[1:] = _changes(column)
    differs[0] = previous is _NO_KEY or column[0].as_py() != previous
    return np.flatnonzero(differs).astype(np.int64)


@dataclass(frozen=True)
class Split:
    """A subject whose rows are not together: where each of its runs of rows starts."""

    starts: tuple[int, ...]


def find_split_subjects(reader: _Reader, stop: threading.Event | None = None) -> dict[str, Split]:
    """Read only the uscc column once and find the subjects whose rows are not contiguous.

    Memory: the uscc of every subject (about 20 bytes each), never anything per record.  ``stop`` ends the
    reading early (the result is then incomplete, and not used).
    """
    heads: list[pa.Array] = []
    rows: list[npt.NDArray[np.int64]] = []
    previous: object = _NO_KEY
    offset = 0
    for batch in reader.batches(columns=["uscc"]):
        if stop is not None and stop.is_set():
            break
        column = _uscc_text(batch.column(0))
        starts = _run_starts(column, previous)
        heads.append(_plain(column.take(pa.array(starts))))
        rows.append(starts + offset + 1)
        if len(column):
            previous = column[len(column) - 1].as_py()
        offset += len(column)
    return _splits(heads, rows)


def _splits(heads: list[pa.Array], rows: list[npt.NDArray[np.int64]]) -> dict[str, Split]:
    """The subjects that head more than one run of rows, with the rows each run starts at."""
    if not heads:
        return {}
    every = pc.fill_null(pa.concat_arrays(heads), "")
    # Sorted, a uscc heading two runs sits next to itself (a sort is cheaper than hashing every uscc here).
    ordered = every.take(pc.sort_indices(every))
    if len(ordered) < 2:
        return {}
    twice = ~_changes(ordered)
    if not twice.any():
        return {}
    repeated = pc.unique(ordered.filter(pa.array(np.append(twice, False))))
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
    starts: npt.NDArray[np.int64] | None = None   # where each subject's rows start, when already known

    def run(self, worker: Worker) -> UnitOutcome:
        return evaluate_unit(self, worker)


def _vectorisable(plan: ScorePlan, explain: bool) -> bool:
    return not explain and plan.integral and plan.base == plan.base.to_integral_value()


class ColumnarInput:
    """A Parquet or CSV facts file read in a background thread, as units of whole subjects, in order.

    The thread opens the file (and the subjects file), finds the subjects whose rows are split, and reads
    ahead at most ``depth`` units while the caller evaluates: decoding Parquet or CSV runs in Arrow's own
    threads, without the interpreter lock, so reading overlaps evaluation.  Errors are raised by
    :meth:`units`, where reading would have raised them.  Memory: the units in flight, and the uscc of
    every subject (the split check).
    """

    def __init__(self, path: Path, *, subjects: Path | None = None, depth: int = 2) -> None:
        self.path, self.subjects = path, subjects
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._total_rows: int | None = None
        self._thread = threading.Thread(target=self._read, daemon=True, name="mincredit-read")
        self._thread.start()

    @property
    def total_rows(self) -> int | None:
        """The number of record rows, when the file tells it (Parquet), once the file is open."""
        self._opened.wait()
        return self._total_rows

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            reader = _Reader(self.path, records_file=self.subjects is not None)
            table = SubjectsTable(self.subjects) if self.subjects is not None else None
            self._total_rows = reader.total_rows
            self._opened.set()
            splits = find_split_subjects(reader, self._stop)
            for unit in _units(reader, table, splits, True):
                if not self._put(("unit", unit)):
                    return
            self._put(("done", None))
        except BaseException as error:   # handed to the consumer, which raises it
            self._opened.set()
            self._put(("error", error))

    def units(self) -> Iterator[ColumnarUnit]:
        try:
            while True:
                kind, value = self._queue.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading, and wait for the reading thread to end (at its next unit), so that no Arrow reader is
        left running in it when the interpreter exits."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


def _units(reader: _Reader, subjects: SubjectsTable | None, splits: dict[str, Split],
           vectorised: bool) -> Iterator[ColumnarUnit]:
    carry: pa.Table | None = None
    carry_row = 1
    index = 0
    previous: object = _NO_KEY
    repeated = {key: tuple(rows) for key, rows in subjects.repeated.items()} if subjects is not None else {}

    def unit(rows: pa.Table, first_row: int, subjects_count: int,
             starts: npt.NDArray[np.int64] | None = None) -> ColumnarUnit:
        nonlocal index
        count = rows.num_rows
        if subjects is not None:
            rows = subjects.join(rows)
        # A subject straddling two batches is a unit of its own: evaluated one subject at a time, as the
        # columns' fixed costs would outweigh it.
        made = ColumnarUnit(rows, reader.file, first_row, index, splits, vectorised and starts is not None,
                            subjects_file=subjects.file if subjects is not None else None,
                            repeated_subjects=repeated, rows=count, starts=starts)
        index += subjects_count
        return made

    # Each batch's whole subjects are a unit that is a slice of the batch (no copy); a subject whose rows
    # straddle two batches is carried over and becomes a small unit of its own, its text decoded (a small
    # slice of a dictionary column would otherwise carry the whole dictionary along).
    for batch in reader.batches():
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        column = _uscc_text(table.column("uscc"))
        starts = _run_starts(column, previous)
        previous = column[len(column) - 1].as_py()
        if len(starts) == 0:                   # the whole batch continues the carried subject
            carry = _decoded(table) if carry is None else _concat([carry, _decoded(table)])
            continue
        first, last = int(starts[0]), int(starts[-1])
        if carry is not None:
            straddling = _concat([carry, _decoded(table.slice(0, first))]) if first else carry
            yield unit(straddling, carry_row, 1)
            carry_row += straddling.num_rows
        if last > first:
            yield unit(table.slice(first, last - first), carry_row, len(starts) - 1, starts[:-1] - first)
            carry_row += last - first
        carry = _decoded(table.slice(last))
    if carry is not None and carry.num_rows:
        yield unit(carry, carry_row, 1)
    if subjects is not None:
        rest = subjects.unseen()
        for start in range(0, rest.num_rows, BATCH_ROWS):
            # The subjects no record mentioned: evaluated with no records, after the others, in file order.
            part = rest.slice(start, BATCH_ROWS)
            yield ColumnarUnit(part, subjects.file, 0, index, {}, vectorised, subjects_file=subjects.file,
                               repeated_subjects=repeated, subjects_only=True)
            index += len(_run_starts(_uscc_text(part.column("uscc"))))


def _decoded(table: pa.Table) -> pa.Table:
    """A (small) table with its dictionary columns as plain values."""
    if not any(pa.types.is_dictionary(kind) for kind in table.schema.types):
        return table
    return pa.table({name: _plain_values(_whole(table.column(name))) for name in table.column_names})


def _plain_values(column: pa.Array) -> pa.Array:
    return column.dictionary.take(column.indices) if pa.types.is_dictionary(column.type) else column


def _concat(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables, promote_options="permissive")


# --- evaluating a unit -----------------------------------------------------------------------------

def evaluate_unit(unit: ColumnarUnit, worker: Worker) -> UnitOutcome:
    table = unit.table
    starts = unit.starts if unit.starts is not None else _run_starts(_uscc_text(table.column("uscc")))
    ends = np.append(starts[1:], table.num_rows)
    has_record = _has_record(table)
    records = int(np.count_nonzero(has_record))
    plan, explain = worker.plan, worker.explain
    flagged = np.ones(len(starts), dtype=bool)
    vector: pa.Table | None = None
    if unit.vectorised and _vectorisable(plan, explain):
        vector, flagged = _vectorised(unit, plan, starts, has_record)
    slow_runs = np.flatnonzero(flagged)
    outcomes: list[tuple[int, Outcome]] = []
    if len(slow_runs):
        take = np.concatenate([np.arange(starts[run], ends[run]) for run in slow_runs])
        values = _decoded(table.take(pa.array(take))).to_pylist()
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
        vector = pa.concat_tables([vector, extra.select(vector.column_names)]).unify_dictionaries()
        vector = vector.take(pc.sort_indices(vector.column("run")))
    if vector.num_rows:
        done.payload = encoder.encode_table(encoder.arrow({name: vector.column(name)
                                                           for name in (*RESULT_FIELDS, *MEASURE_FIELDS)}))
    return done


def _value_counts(column: pa.ChunkedArray) -> dict[str, int]:
    counts = pc.value_counts(column.drop_null())
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))


def _results_table(encoder: Encoder, results: list[SubjectResult | Score]) -> pa.Table:
    columns = results_columns(results, False, encoder.texts)
    types = {field.name: field.type for field in result_schema(False)}
    return pa.table({name: pa.array(columns[name], types[name]) for name in (*RESULT_FIELDS, *MEASURE_FIELDS)})


def _has_record(table: pa.Table) -> npt.NDArray[np.bool_]:
    present = np.zeros(table.num_rows, dtype=bool)
    for name in RECORD_COLUMNS:
        if name in table.column_names:
            column = table.column(name)
            if column.null_count == 0:
                present[:] = True
                break
            present |= _np_bool(pc.is_valid(column))
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
    if not explain:   # plainly valid: scored straight from the data, as a JSON line would be (dates as text)
        fast = score_raw(plan, {**raw, "records": [{key: value.isoformat() if type(value) is dt.date else value
                                                    for key, value in record.items()} for record in records]})
        if fast is not None:
            return fast
    from mincredit.facts.loading import validate_subject

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
    """An integer (or date32) array as int64, ``missing`` where it has no value."""
    kind = array.type
    if array.null_count and isinstance(array, pa.Array) and (pa.types.is_integer(kind) or pa.types.is_date32(kind)):
        # The values buffer as it is, and the validity bitmap unpacked: no filled copy of the array first.
        bits = kind.bit_width
        dtype = np.dtype(f"{'int' if pa.types.is_date32(kind) or pa.types.is_signed_integer(kind) else 'uint'}{bits}")
        count, offset = len(array), array.offset
        validity, data = array.buffers()[0], array.buffers()[1]
        if validity is not None and data is not None:
            values = np.frombuffer(data, dtype=dtype, count=offset + count)[offset:].astype(np.int64)
            present = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + count,
                                    bitorder="little")[offset:].astype(bool)
            return np.where(present, values, missing)
    if array.null_count:
        array = pc.fill_null(array, missing)
    return array.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)  # type: ignore[no-any-return]


def _iso_date(text: str) -> dt.date | None:
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii() and text[:4].isdigit():
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _valid(column: pa.Array) -> npt.NDArray[np.bool_]:
    if column.null_count == 0:
        return np.ones(len(column), dtype=bool)
    return _np_bool(pc.is_valid(column))


def _is_text_column(column: pa.Array) -> bool:
    kind = column.type
    return _is_text(kind) or (pa.types.is_dictionary(kind) and _is_text(kind.value_type))


@dataclass(frozen=True)
class _Coded:
    """A text column as a code per row (-1: no value) into its distinct values (each checked once)."""

    codes: npt.NDArray[np.int64]
    values: pa.Array

    def per_row(self, table: npt.NDArray[np.int64], missing: int) -> npt.NDArray[np.int64]:
        """A number per distinct value, spread to the rows (``missing`` where the row has no value)."""
        return np.append(table, missing)[self.codes]   # code -1 picks the appended ``missing``

    def index_in(self, wanted: list[str]) -> npt.NDArray[np.int64]:
        """Each row's position in ``wanted`` (-1: not there, or no value)."""
        return self.per_row(_np_int(pc.index_in(self.values, value_set=pa.array(wanted, pa.string())), -1), -1)


_POOL: ThreadPoolExecutor | None = None


_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="mincredit-columns")
        return _POOL


class _Checks:
    """The columns of one unit, checked as the facts model checks them; rows any check flags take the
    reference path (the model and the engine), which accepts them exactly or says why not."""

    def __init__(self, table: pa.Table, texts: Iterable[str] = ()) -> None:
        self.table = table
        self.count = table.num_rows
        self.flag = np.zeros(self.count, dtype=bool)
        # Text columns not dictionary-encoded yet (a table in memory) are encoded side by side: Arrow's kernels
        # run without the interpreter lock, so on several cores they overlap.
        self._encoded: dict[str, Future[pa.DictionaryArray | None]] = {}
        plain = [name for name in texts if (column := self.column(name)) is not None and _is_text(column.type)]
        if len(plain) > 1:
            pool = _pool()
            self._encoded = {name: pool.submit(dictionary_of, self.table.column(name)) for name in plain}

    def column(self, name: str) -> pa.Array | None:
        if name not in self.table.column_names:
            return None
        column = _whole(self.table.column(name))
        return None if pa.types.is_null(column.type) else column

    def _flag_codes(self, coded: _Coded, bad_values: npt.NDArray[np.bool_]) -> None:
        if bad_values.any():
            self.flag |= coded.per_row(bad_values.astype(np.int64), 0).astype(bool)

    def text(self, name: str) -> _Coded:
        """A text column, coded; an empty text, one with surrounding spaces or a non-text column flags its rows."""
        column = self.column(name)
        if column is None:
            return _Coded(np.full(self.count, -1, dtype=np.int64), pa.array([], pa.string()))
        encoded = self._encoded[name].result() if name in self._encoded else dictionary_of(column)
        if encoded is None:
            self.flag |= _valid(column)
            return _Coded(np.full(self.count, -1, dtype=np.int64), pa.array([], pa.string()))
        coded = _Coded(_np_int(encoded.indices, -1), encoded.dictionary)
        values = coded.values
        self._flag_codes(coded, _np_bool(pc.or_(pc.equal(pc.binary_length(values), 0),
                                                pc.match_substring_regex(values, _EDGE_SPACE))))
        return coded

    def date(self, name: str, missing: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """A date column as days since 1970-01-01 (``missing`` where there is none), and where there is one."""
        column = self.column(name)
        if column is None:
            return np.full(self.count, missing, dtype=np.int64), np.zeros(self.count, dtype=bool)
        kind = column.type
        if pa.types.is_date32(kind) or pa.types.is_date64(kind):
            days = pc.cast(column, pa.int32()) if pa.types.is_date32(kind) else pc.cast(pc.cast(column, pa.date32()),
                                                                                       pa.int32())
            values = _np_int(days, missing)
            present = _valid(column)
            self.flag |= present & ((values < _FIRST_DAY) | (values > _LAST_DAY))   # beyond Python's dates
            return values, present
        encoded = dictionary_of(column)
        if encoded is None:    # a timestamp or a number: left to the model, which says what it makes of it
            self.flag |= _valid(column)
            return np.full(self.count, missing, dtype=np.int64), np.zeros(self.count, dtype=bool)
        coded = _Coded(_np_int(encoded.indices, -1), encoded.dictionary)
        parsed = [_iso_date(text) for text in coded.values.to_pylist()]
        self._flag_codes(coded, np.array([day is None for day in parsed], dtype=bool))
        days = np.array([(day - _EPOCH).days if day is not None else missing for day in parsed], dtype=np.int64)
        values = coded.per_row(days, missing)
        return values, (coded.codes >= 0) & (values != missing)

    def tier(self) -> npt.NDArray[np.int64]:
        """The tier column as numbers (-1 where there is none, or it is not a plain whole number)."""
        column = self.column("tier")
        if column is None:
            return np.full(self.count, -1, dtype=np.int64)
        if pa.types.is_integer(column.type):
            return _np_int(column, -1)
        encoded = dictionary_of(column)
        if encoded is None:
            self.flag |= _valid(column)
            return np.full(self.count, -1, dtype=np.int64)
        coded = _Coded(_np_int(encoded.indices, -1), encoded.dictionary)
        plain = _np_bool(pc.match_substring_regex(coded.values, r"^[1-9][0-9]{0,8}$"))
        self._flag_codes(coded, ~plain)
        numbers = _np_int(pc.cast(pc.if_else(pa.array(plain), coded.values, pa.nulls(len(plain), pa.string())),
                                  pa.int64()), -1)
        return coded.per_row(numbers, -1)

    def same_on_later_rows(self, column: pa.Array, continuation: npt.NDArray[np.bool_]) -> None:
        """Flag a subject whose later rows give a subject column another value than its first row.

        A value equal to the row before's is the first row's value (by induction along the subject's rows);
        a value after an empty cell is left to the reference path, which compares it with the first row's.
        """
        if self.count < 2:
            return
        later = continuation[1:]
        differs = _changes(column)
        present = _valid(column)
        self.flag[1:] |= later & present[1:] & (differs | ~present[:-1])


def _public_scores(column: pa.Array | None, runs: int
                   ) -> tuple[npt.NDArray[np.int64], int, npt.NDArray[np.bool_], pa.Array, npt.NDArray[np.bool_]]:
    """Each subject's public score as an integer scaled by 10^scale, the scale, which are missing, the text
    the result reports, and which are bad (or unusual: the reference path decides)."""
    zeros = np.zeros(runs, dtype=np.int64)
    bad = np.zeros(runs, dtype=bool)
    if column is None:
        return zeros, 0, np.ones(runs, dtype=bool), pa.nulls(runs, pa.string()), bad
    if pa.types.is_dictionary(column.type):
        column = _plain_values(column)
    kind = column.type
    if pa.types.is_floating(kind):   # a float has lost what was written; its shortest repr is taken, as the model does
        column = pa.array([None if value is None else repr(value) for value in column.to_pylist()], pa.string())
        kind = column.type
    if pa.types.is_integer(kind):
        column = pc.cast(column, pa.string())
        kind = column.type
    missing = ~_valid(column)
    if pa.types.is_decimal128(kind):
        scale = kind.scale
        text = pc.cast(column, pa.string())
        if not 0 <= scale <= 15:
            return zeros, 0, missing, text, ~missing
        unscaled, fits = _unscaled(column)
        bad |= ~missing & (~fits | (unscaled < 0) | (unscaled > 1000 * 10 ** scale))
        return np.where(bad | missing, 0, unscaled), scale, missing, text, bad
    if pa.types.is_decimal(kind):
        column = pc.cast(column, pa.string())
        kind = column.type
    if _is_text(kind):
        text = pc.cast(column, pa.string())
        plain = _np_bool(pc.match_substring_regex(text, r"^(0|[1-9][0-9]{0,3})(\.[0-9]{1,15})?$"))
        bad |= ~missing & ~plain
        text_ok = pc.if_else(pa.array(plain), text, pa.nulls(runs, pa.string()))
        dot = pc.find_substring(text_ok, ".")
        fraction = pc.if_else(pc.greater_equal(dot, 0), pc.subtract(pc.subtract(pc.binary_length(text_ok), dot), 1), 0)
        scale = int(pc.max(fraction).as_py() or 0)
        unscaled, fits = _unscaled(pc.cast(text_ok, pa.decimal128(38, scale)))
        bad |= ~missing & (~fits | (unscaled > 1000 * 10 ** scale))
        return np.where(bad | missing, 0, unscaled), scale, missing, text, bad
    return zeros, 0, missing, pa.nulls(runs, pa.string()), ~missing


def _unscaled(column: pa.Array) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """A decimal128 column's unscaled integers (0 where missing), and whether each fits in 64 bits."""
    count = len(column)
    if sys.byteorder != "little":   # the buffer's words are little-endian only there
        values = [None if value is None else int(value.scaleb(column.type.scale)) for value in column.to_pylist()]
        fits = np.array([value is None or abs(value) <= _INT64_MAX for value in values], dtype=bool)
        return np.array([value if value is not None and ok else 0 for value, ok in zip(values, fits, strict=True)],
                        dtype=np.int64), fits
    words = np.frombuffer(column.buffers()[1], dtype=np.int64)[2 * column.offset:2 * (column.offset + count)]
    low, high = words[0::2], words[1::2]
    present = _valid(column)
    fits = ~present | (high == (low >> 63))
    return np.where(present & fits, low, 0), fits


_USCC_VALUE = np.full(256, -1, dtype=np.int64)
_USCC_VALUE[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET))
_USCC_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)


def _uscc_valid(keys: pa.Array) -> npt.NDArray[np.bool_]:
    """The GB 32100-2015 check on a whole column of texts: length, alphabet, check character.

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


_POPCOUNT = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.int64)


def _bit_count(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return _POPCOUNT[words.view(np.uint8)].reshape(len(words), 8).sum(axis=1)  # type: ignore[no-any-return]


def _repeated_ids(keys: npt.NDArray[np.int64], present: npt.NDArray[np.bool_], width: int,
                  run_of_row: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which subjects give some record id twice (``keys``: the id's code per row, ``width`` distinct codes)."""
    runs = len(starts)
    if width <= 64:   # each subject's ids as bits: a repeat sets a bit already set
        bits = np.where(present, np.left_shift(np.uint64(1), np.where(present, keys, 0).astype(np.uint64)),
                        np.uint64(0)).astype(np.uint64)
        union = _per_run(bits, starts, np.bitwise_or)
        given = _per_run(present.astype(np.int64), starts, np.add)
        return _bit_count(union) < given
    rows = np.flatnonzero(present)
    repeated = np.zeros(runs, dtype=bool)
    ordered = np.sort(run_of_row[rows].astype(np.int64) * width + keys[rows])
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    repeated[np.unique(twice // width)] = True
    return repeated


def _honour_bonus(runs: int, run_of_row: npt.NDArray[np.int64], starts: npt.NDArray[np.int64],
                  in_force: npt.NDArray[np.bool_], title: npt.NDArray[np.int64], width: int,
                  points: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each subject's honour points before the cap: each title once, at its highest level in force."""
    bonus = np.zeros(runs, dtype=np.int64)
    if not in_force.any():
        return bonus
    values = sorted({int(p) for p in np.unique(points[in_force])}, reverse=True)
    if len(values) * width <= 64:
        # One bit per (points, title): a subject's bits are OR-ed in one pass over its rows; then, from the
        # highest points down, the titles not already counted at higher points.
        rank = np.zeros(int(points.max(initial=0)) + 1, dtype=np.int64)
        rank[values] = np.arange(len(values))
        position = np.where(in_force, rank[np.where(in_force, points, 0)] * width + title, 0).astype(np.uint64)
        bits = np.where(in_force, np.left_shift(np.uint64(1), position), np.uint64(0)).astype(np.uint64)
        union = _per_run(bits, starts, np.bitwise_or)
        every_title = np.uint64((1 << width) - 1)
        taken = np.zeros(runs, dtype=np.uint64)
        for number, value in enumerate(values):
            titles = (union >> np.uint64(number * width)) & every_title & ~taken
            bonus += value * _bit_count(titles)
            taken |= titles
        return bonus
    rows = np.flatnonzero(in_force)
    key = run_of_row[rows].astype(np.int64) * (width + 1) + title[rows]
    order = np.lexsort((-points[rows], key))
    first_of_key = np.ones(len(order), dtype=bool)
    first_of_key[1:] = key[order][1:] != key[order][:-1]
    best = order[first_of_key]
    np.add.at(bonus, run_of_row[rows][best], points[rows][best])
    return bonus


def _count_warnings(plan: ScorePlan, codes: list[str], rows: npt.NDArray[np.int64], run: npt.NDArray[np.int64],
                    code: npt.NDArray[np.int64], stated: npt.NDArray[np.int64], day: npt.NDArray[np.int64],
                    record_id: _Coded) -> tuple[dict[int, str], npt.NDArray[np.int64]]:
    """The warnings on stated tiers of indicators graded by repetition, as ScorePlan.count_warnings gives them.

    ``rows`` are the rows (in record order) of violations of those indicators, with their subject, code, stated
    tier and day.  A record's offence number is its place among its subject's records of its indicator by
    (day, id).  Returns each subject's warnings as their JSON text, and the subjects left to the engine.
    """
    count = len(rows)
    ids = record_id.codes[rows]
    id_rank = np.empty(len(record_id.values), dtype=np.int64)
    id_rank[np.argsort(np.array(record_id.values.to_pylist(), dtype=object), kind="stable")] = \
        np.arange(len(record_id.values))                      # the ids in Python's order of texts
    order = np.lexsort((id_rank[ids], day, code, run))
    first = np.ones(count, dtype=bool)
    first[1:] = (run[order][1:] != run[order][:-1]) | (code[order][1:] != code[order][:-1])
    start = np.maximum.accumulate(np.where(first, np.arange(count), 0))
    place = np.empty(count, dtype=np.int64)
    place[order] = np.arange(count) - start + 1
    stated_in_bands = np.zeros(count, dtype=bool)
    wrong = np.zeros(count, dtype=np.int64)
    wrong_tier = np.zeros(count, dtype=np.int64)
    for name, bands in plan.count_bands.items():
        if name not in codes:
            continue
        mine = code == codes.index(name)
        for band_tier, lower, upper in bands:
            stated_in_bands |= mine & (stated == band_tier)
            hit = mine & (place >= lower) & (place <= upper if upper is not None else True) & (stated != band_tier)
            wrong_tier = np.where(hit & (wrong == 0), band_tier, wrong_tier)
            wrong += hit
    ambiguous = run[stated_in_bands & (wrong > 1)]
    texts: dict[int, list[str]] = {}
    warned = np.flatnonzero(stated_in_bands & (wrong == 1))
    if len(warned):
        names = record_id.values.take(pa.array(ids[warned])).to_pylist()
        for at, record in zip(warned.tolist(), names, strict=True):
            texts.setdefault(int(run[at]), []).append(plan.count_warning(
                record, codes[int(code[at])], int(stated[at]), int(place[at]), int(wrong_tier[at])))
    return {subject: list_json(found) for subject, found in texts.items()}, ambiguous


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number_text(values: npt.NDArray[np.int64], scale: int) -> pa.Array:
    """Integers scaled by 10^scale as exact decimal text without trailing zeros (96247, 2 → "962.47").

    The integers become a decimal128 column of that scale (its 16-byte values are the integers sign-extended),
    which Arrow writes as text with ``scale`` decimals; the zeros after the point are then trimmed.
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    if scale == 0:
        return pc.cast(pa.array(values), pa.string())
    if sys.byteorder != "little":   # the decimal's words are little-endian only there
        return pa.array([str(exact(Decimal(value).scaleb(-scale))) for value in values.tolist()], pa.string())
    words = np.empty(2 * len(values), dtype=np.int64)
    words[0::2] = values
    words[1::2] = values >> 63
    decimals = pa.Array.from_buffers(pa.decimal128(38, scale), len(values), [None, pa.py_buffer(words)])
    return pc.utf8_rtrim(pc.utf8_rtrim(pc.cast(decimals, pa.string()), "0"), ".")


def _vectorised(unit: ColumnarUnit, plan: ScorePlan, starts: npt.NDArray[np.int64],
                has_record: npt.NDArray[np.bool_]) -> tuple[pa.Table, npt.NDArray[np.bool_]]:
    """Score the unit's subjects on whole columns; also return which subjects need the reference path."""
    checks = _Checks(unit.table, ("record_id", "type", "indicator", "honour", "level", "authority", "description"))
    count, runs = checks.count, len(starts)
    run_of_row = np.repeat(np.arange(runs), np.diff(np.append(starts, count)))
    continuation = np.ones(count, dtype=bool)
    continuation[starts] = False
    heads = pa.array(starts)
    run_bad = np.zeros(runs, dtype=bool)

    # Subject columns: read from each subject's first row; later rows must repeat them or be empty.
    head: dict[str, pa.Array] = {}
    for name in ("uscc", "name", "kind", "status"):
        column = checks.column(name)
        if column is None or not _is_text_column(column):
            if column is not None:
                checks.flag |= _valid(column)     # not text: the model says what it makes of it
            head[name] = pa.nulls(runs, pa.string())
            continue
        if name != "uscc":
            checks.same_on_later_rows(column, continuation)
        head[name] = _plain(column.take(heads))
    public_column = checks.column("public_score")
    if public_column is not None:
        checks.same_on_later_rows(public_column, continuation)
    uscc, name_text, kind, status = head["uscc"], head["name"], head["kind"], head["status"]
    run_bad |= ~_uscc_valid(uscc)
    run_bad |= ~_valid(name_text) | _np_bool(pc.or_(pc.equal(pc.binary_length(name_text), 0),
                                                    pc.match_substring_regex(name_text, _EDGE_SPACE)))
    run_bad |= ~_np_bool(pc.equal(kind, plan.kind))
    status = pc.fill_null(status, "active")
    run_bad |= ~_np_bool(pc.is_in(status, value_set=pa.array(["active", "dissolved"])))
    active = _np_bool(pc.equal(status, "active"))
    public, public_scale, public_missing, public_text, public_bad = _public_scores(
        public_column.take(heads) if public_column is not None else None, runs)
    run_bad |= public_bad
    if plan.public_required:
        run_bad |= active & public_missing
    for listed in (unit.splits, unit.repeated_subjects):
        if listed:
            run_bad |= _np_bool(pc.is_in(uscc, value_set=pa.array(list(listed), pa.string())))
    if unit.subjects_file is not None:   # a subject with records the subjects file does not have
        subject_row = checks.column(SUBJECT_ROW)
        run_bad |= ~_valid(subject_row.take(heads)) if subject_row is not None else True

    # Record columns: each distinct text is checked and looked up once, then spread to its rows.
    record_id = checks.text("record_id")
    record_type = checks.text("type")
    indicator = checks.text("indicator")
    title = checks.text("honour")
    level = checks.text("level")
    checks.text("authority")
    checks.text("description")
    tier = checks.tier()
    determined, has_determined = checks.date("determined_on", -(10 ** 9))
    awarded, has_awarded = checks.date("awarded_on", 10 ** 9)
    until, has_until = checks.date("valid_until", 0)
    type_code = record_type.index_in(["violation", "honour"])
    is_violation, is_honour = type_code == 0, type_code == 1
    flag = checks.flag
    flag |= has_record & ((type_code < 0) | (record_id.codes < 0))
    violation_fields = (indicator.codes >= 0) | (tier >= 0) | has_determined
    honour_fields = (title.codes >= 0) | (level.codes >= 0) | has_awarded | has_until
    flag |= is_violation & honour_fields
    flag |= is_honour & violation_fields

    # Violations: (indicator, tier) → points through a dense look-up array; counted within the window.
    # Indicators a blacklist trigger takes are not in it (plan.tiers_by_code): their subjects take the engine.
    codes = sorted(plan.tiers_by_code)
    stride = max((len(row) for row in plan.tiers_by_code.values()), default=1)
    points_table = np.full(max(len(codes), 1) * stride, -1, dtype=np.int64)
    for position, code in enumerate(codes):
        for tier_number, tier_points in enumerate(plan.tiers_by_code[code]):
            if tier_points is not None:
                points_table[position * stride + tier_number] = int(tier_points)
    code_index = indicator.index_in(codes)
    known = (code_index >= 0) & (tier > 0) & (tier < stride)
    points = np.where(known, points_table[np.where(known, code_index * stride + tier, 0)], -1)
    known &= points >= 0
    as_of = (plan.as_of - _EPOCH).days
    violation_from = (plan.violation_from - _EPOCH).days
    honour_from = (plan.honour_from - _EPOCH).days
    flag |= is_violation & (~known | ~has_determined)
    counted = is_violation & known & (determined >= violation_from) & (determined <= as_of)
    deductions = _per_run(np.where(counted, points, 0).astype(np.int64), starts, np.add)

    # Honours: in force on the date; the same title once at its highest level; the cap.
    level_names = sorted(plan.level_points)
    level_values = np.array([int(plan.level_points[name]) for name in level_names], dtype=np.int64)
    honour_points = np.append(level_values, -1)[level.index_in(level_names)]
    flag |= is_honour & ((honour_points < 0) | (title.codes < 0) | ~has_awarded)
    flag |= is_honour & has_until & (until < awarded)
    in_force = is_honour & (honour_points >= 0) & (title.codes >= 0) & (awarded <= as_of) & np.where(
        has_until, as_of <= until, awarded >= honour_from)
    bonus = _honour_bonus(runs, run_of_row, starts, in_force, title.codes, len(title.values), honour_points)

    # Record ids given twice in a subject.
    with_id = has_record & (record_id.codes >= 0)
    if with_id.any():
        run_bad |= _repeated_ids(record_id.codes, with_id, len(record_id.values), run_of_row, starts)

    # Warnings on stated tiers of indicators graded by repetition (the engine's words, record order).
    warnings_text: dict[int, str] = {}
    if plan.count_bands:
        repeated_code = np.isin(code_index, [codes.index(code) for code in plan.count_bands if code in codes])
        rows = np.flatnonzero(is_violation & known & repeated_code & (record_id.codes >= 0))
        if len(rows):
            warnings_text, ambiguous = _count_warnings(plan, codes, rows, run_of_row[rows], code_index[rows],
                                                       tier[rows], determined[rows], record_id)
            run_bad[ambiguous] = True

    run_bad |= _per_run(flag, starts, np.logical_or) if count else np.zeros(runs, dtype=bool)
    cap = plan.cap
    if cap != cap.to_integral_value():
        run_bad[:] = True          # a fractional cap: every subject takes the reference path
    capped = np.minimum(bonus, int(cap))

    # The formula in exact integers, every decimal scaled by 10^scale:
    # N = public × w₁ + (base − deductions + bonus) × w₂.
    edges = plan._edges
    scale = max(public_scale + _decimal_places(plan.public_weight), _decimal_places(plan.industry_weight),
                *(_decimal_places(edge) for edge in edges))
    industry = int(plan.base) - deductions + capped
    w1 = int(plan.public_weight.scaleb(scale - public_scale))
    w2 = int(plan.industry_weight.scaleb(scale))
    largest = int(np.abs(public).max(initial=0)) * abs(w1) + int(np.abs(industry).max(initial=0)) * abs(w2)
    scaled_edges = [int(edge.scaleb(scale)) for edge in edges]
    if scale > 17 or max([largest, *map(abs, scaled_edges)]) > _INT64_MAX // 2:
        run_bad[:] = True          # beyond 64-bit integers: every subject takes the reference path
        scale, w1, w2, scaled_edges = 0, 0, 0, [0] * len(edges)
    score = public * w1 + industry * w2
    # Python writes a Decimal under 10⁻⁶ in scientific notation (2E-7) where the text here would be 0.0000002:
    # the rare subject with such a score or public score takes the reference path, so the text is the engine's.
    for value, places in ((score, scale), (public, public_scale)):
        if places > 6:
            run_bad |= (value != 0) & (np.abs(value) < 10 ** (places - 6))
    # The grade band: at one of the plan's edges or between two, as ScorePlan.band finds it.
    bands = plan.bands
    band_number = {id(band): number for number, band in enumerate(bands)}
    edge_values = np.array(scaled_edges, dtype=np.int64)
    at_edge_band = np.array([band_number[id(band)] for band in plan._at_edge] + [-1], dtype=np.int64)
    between_band = np.array([band_number[id(band)] for band in plan._between], dtype=np.int64)
    position = np.searchsorted(edge_values, score, side="left")
    at_edge = edge_values[np.minimum(position, len(edges) - 1)] == score if len(edges) \
        else np.zeros(runs, dtype=bool)
    at_edge &= position < len(edges)
    grade_index = np.where(at_edge, at_edge_band[position], between_band[position])

    good = np.flatnonzero(~run_bad)
    dissolved = ~active[good]
    evaluated_grade = np.where(dissolved, -1, grade_index[good])
    no_grade = evaluated_grade < 0
    band_of = pa.array(np.maximum(evaluated_grade, 0), mask=no_grade)
    good_arrow = pa.array(good, pa.int64())
    every_run = len(good) == runs             # as a rule: the per-subject columns are used as they are

    def kept(column: pa.Array) -> pa.Array:
        return column if every_run else column.take(good_arrow)

    dissolved_arrow = pa.array(dissolved)
    null_text = pa.nulls(len(good), pa.string())
    zero = pa.repeat(pa.scalar("0"), len(good))
    # A grade's consequences: one text per grade that has some, each row pointing at its grade's.
    entailing = [band for band in bands if plan.consequences[band.grade]]
    consequence_of_band = np.array([entailing.index(band) if band in entailing else -1 for band in bands] + [-1],
                                   dtype=np.int32)[evaluated_grade]
    consequences = pa.DictionaryArray.from_arrays(
        pa.array(consequence_of_band, pa.int32(), mask=consequence_of_band < 0),
        pa.array([list_json(plan.consequences[band.grade]) for band in entailing], pa.string()))
    warnings = null_text
    if warnings_text:
        with_warnings = np.full(runs, -1, dtype=np.int64)
        with_warnings[list(warnings_text)] = np.arange(len(warnings_text))
        slot = with_warnings[good]
        warnings = pa.array(list(warnings_text.values()), pa.string()).take(pa.array(slot, mask=slot < 0))
    result = pa.table({
        "uscc": kept(uscc), "name": kept(name_text), "kind": kept(kind),
        "status": kept(status), "evaluated": pa.array(~dissolved),
        "grade": pa.array([band.grade for band in bands], pa.string()).take(band_of),
        "grade_meaning": pa.array([band.meaning for band in bands], pa.string()).take(band_of),
        "score": pc.if_else(dissolved_arrow, null_text, _number_text(score[good], scale)),
        "public_score": kept(public_text),
        "deductions": pc.if_else(dissolved_arrow, zero, pc.cast(pa.array(deductions[good]), pa.string())),
        "honour_bonus": pc.if_else(dissolved_arrow, zero, pc.cast(pa.array(capped[good]), pa.string())),
        "not_evaluated_reason": pa.array([DISSOLVED_REASON]).take(pa.array(np.zeros(len(good), dtype=np.int64),
                                                                           mask=~dissolved)),
        "proposals": null_text, "listings": null_text,
        "consequences": consequences,
        "warnings": warnings,
        "run": good_arrow,
    })
    return result, run_bad


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
    """Evaluate a table of records already in memory (pyarrow Table or polars DataFrame, the columnar layout).

    ``subjects`` is an optional second table of subjects joined on ``uscc`` (the two-table layout).
    Rows of one subject must be together.  The results are in input order, one row per subject
    evaluated, with the columns of ``SubjectResult`` (decimals as exact text; proposals, listings,
    consequences and warnings as their JSON text, null when empty; and ``items`` when ``explain`` is
    true), the same as the engine gives.  Without explanations the table is evaluated on whole columns.
    """
    require_pyarrow()
    table = _as_arrow(records)
    _check_columns(table.column_names, name, records_file=subjects is not None)
    worker = Worker(rulebook, as_of, explain, "parquet")
    subjects_table: SubjectsTable | None = None
    if subjects is not None:
        subjects_table = SubjectsTable.__new__(SubjectsTable)
        _init_subjects_from_table(subjects_table, _as_arrow(subjects), f"{name} (subjects)")
    reader = _TableReader(table, name)
    splits = find_split_subjects(reader)
    units = _units(reader, subjects_table, splits, _vectorisable(worker.plan, explain))
    threads = min(2, os.cpu_count() or 1)
    if threads > 1 and table.num_rows > TABLE_BATCH_ROWS // 4:
        # The table is in memory already: its slices are evaluated two at a time (Arrow's and NumPy's work runs
        # without the interpreter lock), the outcomes kept in order.
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mincredit-table") as pool:
            outcomes = list(pool.map(lambda unit: unit.run(worker), units))
    else:
        outcomes = [unit.run(worker) for unit in units]
    tables = [outcome.payload for outcome in outcomes if outcome.payload is not None]
    errors = [error for outcome in outcomes for error in outcome.errors]
    header = worker.encoder.header
    if tables:
        assert all(isinstance(t, pa.Table) for t in tables)
        results = pa.concat_tables([t for t in tables if isinstance(t, pa.Table)])
    else:
        results = worker.encoder.arrow({name: [] for name in (*RESULT_FIELDS, *MEASURE_FIELDS)}
                                       | ({"items": []} if explain else {}))
    return TableEvaluation(header, results, errors)


class _TableReader(_Reader):
    """An in-memory table served as the batches a file reader would give (large: no file to stream)."""

    def __init__(self, table: pa.Table, name: str) -> None:
        self.table = table
        self.file = name
        self.names = table.column_names
        self.total_rows = table.num_rows
        self.kind = "parquet"

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        table = self.table.select(columns) if columns is not None else self.table
        yield from table.to_batches(max_chunksize=TABLE_BATCH_ROWS)


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
