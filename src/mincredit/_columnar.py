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

from mincredit._batch import (
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
from mincredit._decimals import exact
from mincredit.facts._reading import FactError, FactsFileError
from mincredit.facts._uscc import ALPHABET, WEIGHTS

if TYPE_CHECKING:
    from mincredit._engine import SubjectResult
    from mincredit.rules._compiling import CompiledRulebook

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


def _texts_at(column: pa.Array, rows: npt.NDArray[np.int64]) -> pa.Array:
    """A text column's values at the rows, as plain strings (a dictionary column: its indices picked with NumPy,
    then its texts, once)."""
    if not pa.types.is_dictionary(column.type):
        return _plain(column.take(pa.array(rows)))
    missing = ~_valid(column.indices)[rows] if column.null_count else None
    return _plain(column.dictionary.take(pa.array(_raw(column.indices)[rows], mask=missing)))


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
    dictionary may hold a value twice); only those rows are decoded.
    """
    count = len(column)
    if count < 2:
        return np.zeros(max(count - 1, 0), dtype=bool)
    if pa.types.is_dictionary(column.type):
        positions = _raw(column.indices)
        differs: npt.NDArray[np.bool_] = positions[1:] != positions[:-1]
        if column.null_count:
            present = _valid(column.indices)
            differs = (differs & present[1:] & present[:-1]) | (present[1:] != present[:-1])
        candidates = np.flatnonzero(differs)
        if len(candidates):
            before = _plain(column.take(pa.array(candidates)))
            after = _plain(column.take(pa.array(candidates + 1)))
            differs[candidates] = ~_np_bool(pc.fill_null(pc.equal(before, after), False))
        return differs
    before, after = column.slice(0, count - 1), column.slice(1)
    differs = _np_bool(pc.not_equal(before, after))
    if column.null_count:
        differs |= _np_bool(pc.is_null(before)) != _np_bool(pc.is_null(after))
    return differs


_NO_KEY = object()


def _run_starts(column: pa.Array, previous: object = _NO_KEY) -> npt.NDArray[np.int64]:
    """Positions where a new subject starts: its uscc differs from the row before's (across batches too)."""
    return _run_heads(column, previous, texts=False)[0]


def _run_heads(column: pa.Array, previous: object = _NO_KEY, *, texts: bool = True
               ) -> tuple[npt.NDArray[np.int64], pa.Array | None]:
    """Positions where a new subject starts (its uscc differs from the row before's, across batches too), and with
    ``texts`` the uscc at each, as plain text."""
    count = len(column)
    if count == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    if pa.types.is_dictionary(column.type):
        # Another index is, as a rule, another subject; but a dictionary may hold a text twice: two runs of indices
        # one after the other with the same text are one subject (within a run every row has its head's text).
        positions = _raw(column.indices)
        moved = np.empty(count, dtype=bool)
        moved[0] = True
        np.not_equal(positions[1:], positions[:-1], out=moved[1:])
        if column.null_count:
            present = _valid(column.indices)
            moved[1:] = (moved[1:] & present[1:] & present[:-1]) | (present[1:] != present[:-1])
        starts = np.flatnonzero(moved).astype(np.int64)
        heads = _texts_at(column, starts)
        same = np.zeros(len(starts), dtype=bool)
        if len(starts) > 1:
            same[1:] = _np_bool(pc.fill_null(pc.equal(heads.slice(1), heads.slice(0, len(heads) - 1)), False))
        same[0] = previous is not _NO_KEY and heads[0].as_py() == previous
        if same.any():
            return starts[~same], heads.filter(pa.array(~same))
        return starts, heads
    differs = np.empty(count, dtype=bool)
    differs[1:] = _changes(column)
    differs[0] = previous is _NO_KEY or column[0].as_py() != previous
    starts = np.flatnonzero(differs).astype(np.int64)
    return starts, _plain(column.take(pa.array(starts))) if texts else None


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
        starts, texts = _run_heads(column, previous)
        assert texts is not None
        heads.append(texts)
        rows.append(starts + offset + 1)
        if len(column):
            previous = column[len(column) - 1].as_py()
        offset += len(column)
    return _splits(heads, rows)


class _SplitCheck(Mapping[str, Split]):
    """The subjects whose rows are split, as a thread reading every uscc finds them: a mapping that waits for it
    to finish when first used.  A unit evaluated before then is handed on only after (see ColumnarUnit.run)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._found: dict[str, Split] = {}
        self._error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def finish(self, found: dict[str, Split] | None = None, error: BaseException | None = None) -> None:
        self._found, self._error = found or {}, error
        self._done.set()

    def result(self) -> dict[str, Split]:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._found

    def __getitem__(self, key: str) -> Split:
        return self.result()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.result())

    def __len__(self) -> int:
        return len(self.result())

    def __reduce__(self) -> tuple[Any, ...]:     # sent to a worker process: what the check found, once it has
        return (dict, (self.result(),))


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
        splits = self.splits
        if not isinstance(splits, _SplitCheck) or splits.done:
            return evaluate_unit(self, worker)
        # The check that each subject's rows are together is still reading the file: the unit is evaluated as if
        # none of its subjects were split, and handed on once the check is done (evaluated again if one is).
        outcome = evaluate_unit(dataclasses.replace(self, splits={}), worker)
        if splits and _mentions(self, splits):
            return evaluate_unit(self, worker)
        return outcome


def _mentions(unit: ColumnarUnit, subjects: Mapping[str, Any]) -> bool:
    """Whether one of the unit's subjects (by uscc, a missing one as the empty text) is among ``subjects``."""
    _, heads = _run_heads(_uscc_text(unit.table.column("uscc")))
    assert heads is not None
    chosen = pc.is_in(pc.fill_null(heads, ""), value_set=pa.array(list(subjects), pa.string()))
    return bool(_np_bool(chosen).any())


def _vectorisable(plan: ScorePlan, explain: bool) -> bool:
    return not explain and plan.integral and plan.base == plan.base.to_integral_value()


class ColumnarInput:
    """A Parquet or CSV facts file read in a background thread, as units of whole subjects, in order.

    The thread opens the file (and the subjects file) and reads ahead at most ``depth`` units while the caller
    evaluates; a second thread reads a Parquet file's uscc column alone and finds the subjects whose rows are
    split (a unit is handed on only once it has: see :meth:`ColumnarUnit.run`; a CSV file is checked first).
    Decoding Parquet or CSV runs in Arrow's own threads, without the interpreter lock, so reading overlaps
    evaluation.  Errors are raised by :meth:`units` (or, for the split check, by the unit waiting for it), where
    reading would have raised them.  Memory: the units in flight, and the uscc of every subject (the split check).
    """

    def __init__(self, path: Path, *, subjects: Path | None = None, depth: int = 2) -> None:
        self.path, self.subjects = path, subjects
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._total_rows: int | None = None
        self._check: threading.Thread | None = None
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
            splits = _SplitCheck()
            if reader.kind == "csv":
                # CSV is parsed whole for the check: a second parser alongside would hold its read-ahead too and,
                # both busy parsing, gain little; the check comes first.
                splits.finish(find_split_subjects(reader, self._stop))
            else:
                self._check = threading.Thread(target=self._find_splits, args=(splits,), daemon=True,
                                               name="mincredit-split-check")
                self._check.start()
            for unit in _units(reader, table, splits, True):
                if not self._put(("unit", unit)):
                    return
            self._put(("done", None))
        except BaseException as error:   # handed to the consumer, which raises it
            self._opened.set()
            self._put(("error", error))

    def _find_splits(self, splits: _SplitCheck) -> None:
        try:    # a reader of its own: the units' reader is in use in the other thread
            splits.finish(find_split_subjects(_Reader(self.path, records_file=self.subjects is not None), self._stop))
        except BaseException as error:   # raised by the units waiting for the check
            splits.finish(error=error)

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
            if self._check is not None:
                self._check.join()


def _units(reader: _Reader, subjects: SubjectsTable | None, splits: Mapping[str, Split],
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
    vector_grades: dict[str, int] = {}
    vector_dissolved = 0
    if unit.vectorised and _vectorisable(plan, explain):
        vector, flagged, vector_grades, vector_dissolved = _vectorised(unit, plan, starts, has_record)
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
    done.grades.update(vector_grades)
    done.not_evaluated += vector_dissolved
    if python_results:
        extra = _results_table(encoder, [result for _, result in python_results])
        extra = extra.append_column("run", pa.array([run for run, _ in python_results], pa.int64()))
        vector = pa.concat_tables([vector, extra.select(vector.column_names)]).unify_dictionaries()
        vector = vector.take(pc.sort_indices(vector.column("run")))
    if vector.num_rows:
        done.payload = encoder.encode_table(encoder.arrow({name: vector.column(name)
                                                           for name in (*RESULT_FIELDS, *MEASURE_FIELDS)}))
    return done


def _results_table(encoder: Encoder, results: list[SubjectResult | Score]) -> pa.Table:
    columns = results_columns(results, False, encoder.texts)
    types = {field.name: field.type for field in result_schema(False)}
    return pa.table({name: pa.array(columns[name], types[name]) for name in (*RESULT_FIELDS, *MEASURE_FIELDS)})


def _has_record(table: pa.Table) -> npt.NDArray[np.bool_]:
    """Whether each row has a value in some record column."""
    count = table.num_rows
    columns = [_whole(table.column(name)) for name in RECORD_COLUMNS if name in table.column_names]
    if any(column.null_count == 0 for column in columns):
        return np.ones(count, dtype=bool)
    # Where the columns' validity bitmaps line up (as a rule), they are OR-ed as they are, then unpacked once.
    bitmaps = [column.buffers()[0] for column in columns if column.null_count < count]
    offsets = {column.offset for column in columns if column.null_count < count}
    if len(offsets) == 1 and all(bitmap is not None for bitmap in bitmaps) and not any(
            pa.types.is_dictionary(column.type) and column.dictionary.null_count for column in columns):
        offset = offsets.pop()
        size = (offset + count + 7) // 8
        union = np.zeros(size, dtype=np.uint8)
        for bitmap in bitmaps:
            union |= np.frombuffer(bitmap, dtype=np.uint8, count=size)
        return np.unpackbits(union, count=offset + count, bitorder="little")[offset:].view(np.bool_)
    present = np.zeros(count, dtype=bool)
    for column in columns:
        present |= _valid(column)
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
    from mincredit.facts._validating import validate_subject

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


def _raw(array: pa.Array) -> npt.NDArray[Any]:
    """An integer (or date32) array's values as its buffer holds them, as signed 32- or 64-bit integers, without
    a copy where it can: what stands in a row without a value means nothing (every use is masked by where the
    rows have one)."""
    kind = array.type
    count, offset = len(array), array.offset
    data = array.buffers()[1] if count else None
    if data is None:
        return np.zeros(count, dtype=np.int64)
    signed = pa.types.is_date32(kind) or pa.types.is_date64(kind) or pa.types.is_signed_integer(kind)
    dtype = np.dtype(f"{'int' if signed else 'uint'}{kind.bit_width}")
    values = np.frombuffer(data, dtype=dtype, count=offset + count)[offset:]
    return values if dtype in (np.dtype(np.int32), np.dtype(np.int64)) else values.astype(np.int64)


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


def _valid(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    """Where a column has a value: its validity bitmap, unpacked (a dictionary column with nulls among its values
    and some missing: as Arrow's ``is_valid`` says, an index to a null is no value)."""
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks != 1:
            return (np.concatenate([_valid(chunk) for chunk in column.chunks]) if column.num_chunks
                    else np.zeros(0, dtype=bool))
        column = column.chunk(0)
    count, nulls = len(column), column.null_count
    if nulls == 0:
        return np.ones(count, dtype=bool)
    if nulls == count:
        return np.zeros(count, dtype=bool)
    bitmap = column.buffers()[0]
    if bitmap is None or (pa.types.is_dictionary(column.type) and column.dictionary.null_count):
        return _np_bool(pc.is_valid(column))
    offset = column.offset
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8, count=(offset + count + 7) // 8), count=offset + count,
                         bitorder="little")
    return bits[offset:].view(np.bool_)


def _bytes_set(*ranges: tuple[int, int]) -> npt.NDArray[np.bool_]:
    chosen = np.zeros(256, dtype=bool)
    for low, high in ranges:
        chosen[low:high + 1] = True
    return chosen


# Bytes that may begin or end one of the spaces of _SPACE in UTF-8: a text whose first byte, and whose last byte
# (with the one before it), are none of them neither starts nor ends with a space, and the regular expression need
# not look at it.  The last byte of a two- or three-byte space (U+0085 … U+3000) follows one of _SPACE_BEFORE_LAST.
_ASCII_SPACE = _bytes_set((0x09, 0x0D), (0x1C, 0x20))
_SPACE_LEAD = _ASCII_SPACE | _bytes_set((0xC2, 0xC2), (0xE1, 0xE3))
_SPACE_LAST = _bytes_set((0x80, 0x8A), (0x85, 0x85), (0x9F, 0xA0), (0xA8, 0xA9), (0xAF, 0xAF))
_SPACE_BEFORE_LAST = _bytes_set((0x80, 0x81), (0x9A, 0x9A), (0xC2, 0xC2))


def _empty_or_edge_space(texts: pa.Array) -> npt.NDArray[np.bool_]:
    """Which texts are empty or start or end with a space (a character str.isspace() accepts); a missing text is
    neither.  The first and last bytes pick the few texts that may; the regular expression decides for those."""
    if not pa.types.is_string(texts.type):
        texts = pc.cast(texts, pa.string())
    count = len(texts)
    if count <= 256:           # a dictionary's few values, as a rule: the expression on each is cheaper
        return _np_bool(pc.or_(pc.equal(pc.binary_length(texts), 0), pc.match_substring_regex(texts, _EDGE_SPACE)))
    valid = _valid(texts)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=texts.offset + count + 1)[texts.offset:]
    ends = offsets[1:]
    empty = ends <= offsets[:-1]
    data_buffer = texts.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    if len(data) == 0:
        return valid & empty
    last = data.take(ends - 1, mode="clip")
    maybe = valid & ~empty & (_SPACE_LEAD[data.take(offsets[:-1], mode="clip")] | _ASCII_SPACE[last]
                              | (_SPACE_LAST[last] & _SPACE_BEFORE_LAST[data.take(ends - 2, mode="clip")]))
    found = valid & empty
    rows = np.flatnonzero(maybe)
    if len(rows):
        found[rows] = _np_bool(pc.match_substring_regex(texts.take(pa.array(rows)), _EDGE_SPACE))
    return found


def _is_text_column(column: pa.Array) -> bool:
    kind = column.type
    return _is_text(kind) or (pa.types.is_dictionary(kind) and _is_text(kind.value_type))


def _fixed_changes(column: pa.Array) -> npt.NDArray[np.bool_]:
    """For each row but the first: whether its value differs from the row before's (meaning nothing where either
    has none).  An integer, date or decimal column's values are compared as the bytes its buffer holds."""
    kind = column.type
    count, offset = len(column), column.offset
    data = column.buffers()[1] if count > 1 and len(column.buffers()) == 2 else None
    if data is None or not (pa.types.is_integer(kind) or pa.types.is_date(kind) or pa.types.is_decimal(kind)) \
            or (kind.bit_width % 64 and kind.bit_width not in (8, 16, 32)):
        return _changes(column)
    if kind.bit_width <= 64:
        values = np.frombuffer(data, dtype=f"u{kind.bit_width // 8}", count=offset + count)[offset:]
        changed: npt.NDArray[np.bool_] = values[1:] != values[:-1]
        return changed
    words = kind.bit_width // 64          # a decimal128 or decimal256: its 64-bit words, each compared
    values = np.frombuffer(data, dtype=np.uint64, count=(offset + count) * words)[offset * words:].reshape(count, words)
    differs: npt.NDArray[np.bool_] = values[1:, 0] != values[:-1, 0]
    for word in range(1, words):
        differs |= values[1:, word] != values[:-1, word]
    return differs


@dataclass(frozen=True)
class _Coded:
    """A text column as each row's position among its distinct values (each checked once), and where it has one.

    ``positions`` means nothing in a row without a value: every use is masked by ``present``.
    """

    positions: npt.NDArray[Any]
    present: npt.NDArray[np.bool_]
    values: pa.Array

    def per_row(self, table: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A number per distinct value, spread to the rows (meaning nothing where a row has no value)."""
        if len(table) == 0:
            return np.zeros(len(self.positions), dtype=table.dtype)
        return table.take(self.positions, mode="clip")

    def rows_of(self, chosen: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """The rows whose value is one of the chosen distinct values."""
        picked = np.flatnonzero(chosen)
        if len(picked) == 0:
            return np.zeros(len(self.positions), dtype=bool)
        rows: npt.NDArray[np.bool_]
        if len(picked) <= 2:       # one or two values: compared, cheaper than looked up
            rows = self.positions == picked[0]
            if len(picked) == 2:
                rows |= self.positions == picked[1]
        else:
            rows = chosen.take(self.positions, mode="clip")
        return rows & self.present

    def value_positions(self, wanted: list[str]) -> npt.NDArray[np.int64]:
        """Each distinct value's position in ``wanted`` (-1: not there)."""
        return _np_int(pc.index_in(self.values, value_set=pa.array(wanted, pa.string())), -1)


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
        self._columns: dict[str, pa.Array | None] = {}
        self._names = frozenset(table.column_names)
        self._nothing: _Coded | None = None
        # Text columns not dictionary-encoded yet (a table in memory) are encoded side by side: Arrow's kernels
        # run without the interpreter lock, so on several cores they overlap.
        self._encoded: dict[str, Future[pa.DictionaryArray | None]] = {}
        plain = [name for name in texts if (column := self.column(name)) is not None and _is_text(column.type)]
        if len(plain) > 1:
            pool = _pool()
            self._encoded = {name: pool.submit(dictionary_of, self.table.column(name)) for name in plain}

    def column(self, name: str) -> pa.Array | None:
        if name not in self._columns:
            column = _whole(self.table.column(name)) if name in self._names else None
            self._columns[name] = None if column is None or pa.types.is_null(column.type) else column
        return self._columns[name]

    def _none(self) -> _Coded:
        """No text in any row (shared: never changed in place)."""
        if self._nothing is None:
            self._nothing = _Coded(np.zeros(self.count, dtype=np.int32), np.zeros(self.count, dtype=bool),
                                   pa.array([], pa.string()))
        return self._nothing

    def _coded(self, encoded: pa.DictionaryArray) -> _Coded:
        return _Coded(_raw(encoded.indices), _valid(encoded.indices), encoded.dictionary)

    def _flag_codes(self, coded: _Coded, bad_values: npt.NDArray[np.bool_]) -> None:
        if bad_values.any():
            self.flag |= coded.rows_of(bad_values)

    def text(self, name: str) -> _Coded:
        """A text column, coded; an empty text, one with surrounding spaces or a non-text column flags its rows."""
        column = self.column(name)
        if column is None:
            return self._none()
        encoded = self._encoded[name].result() if name in self._encoded else dictionary_of(column)
        if encoded is None:
            self.flag |= _valid(column)
            return self._none()
        coded = self._coded(encoded)
        self._flag_codes(coded, _empty_or_edge_space(coded.values))
        return coded

    def date(self, name: str) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        """A date column as days since 1970-01-01 (meaning nothing where there is none), and where there is one."""
        column = self.column(name)
        if column is None:
            return np.zeros(self.count, dtype=np.int32), np.zeros(self.count, dtype=bool)
        kind = column.type
        if pa.types.is_date32(kind) or pa.types.is_date64(kind):
            days = column if pa.types.is_date32(kind) else pc.cast(column, pa.date32())
            values, present = _raw(days), _valid(days)
            if len(values) and (values.min() < _FIRST_DAY or values.max() > _LAST_DAY):   # beyond Python's dates
                self.flag |= present & ((values < _FIRST_DAY) | (values > _LAST_DAY))
            return values, present
        encoded = dictionary_of(column)
        if encoded is None:    # a timestamp or a number: left to the model, which says what it makes of it
            self.flag |= _valid(column)
            return np.zeros(self.count, dtype=np.int32), np.zeros(self.count, dtype=bool)
        coded = self._coded(encoded)
        parsed = [_iso_date(text) for text in coded.values.to_pylist()]
        bad = np.array([day is None for day in parsed], dtype=bool)
        self._flag_codes(coded, bad)
        days = np.array([(day - _EPOCH).days if day is not None else 0 for day in parsed], dtype=np.int64)
        return coded.per_row(days), coded.rows_of(~bad)

    def tier(self) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        """The tier column as numbers (meaning nothing where there is none; -1 where it is not a plain whole
        number), and where a tier is given."""
        column = self.column("tier")
        if column is None:
            return np.zeros(self.count, dtype=np.int64), np.zeros(self.count, dtype=bool)
        if pa.types.is_integer(column.type):
            return _raw(column), _valid(column)
        encoded = dictionary_of(column)
        if encoded is None:
            present = _valid(column)
            self.flag |= present
            return np.full(self.count, -1, dtype=np.int64), present
        coded = self._coded(encoded)
        plain = _np_bool(pc.match_substring_regex(coded.values, r"^[1-9][0-9]{0,8}$"))
        self._flag_codes(coded, ~plain)
        numbers = _np_int(pc.cast(pc.if_else(pa.array(plain), coded.values, pa.nulls(len(plain), pa.string())),
                                  pa.int64()), -1)
        return coded.per_row(numbers), coded.present

    def same_on_later_rows(self, column: pa.Array, continuation: npt.NDArray[np.bool_]) -> None:
        """Flag a subject whose later rows give a subject column another value than its first row.

        A value equal to the row before's is the first row's value (by induction along the subject's rows);
        a value after an empty cell is left to the reference path, which compares it with the first row's.
        """
        if self.count < 2:
            return
        later = continuation[1:]
        present = _valid(column)
        if not pa.types.is_dictionary(column.type):
            self.flag[1:] |= later & present[1:] & (_fixed_changes(column) | ~present[:-1])
            return
        # Dictionary-encoded: only the later rows whose index differs from the row before's are looked at, and
        # their texts compared (a dictionary may hold a value twice).
        positions = _raw(column.indices)
        moved = positions[1:] != positions[:-1]
        if column.null_count:
            physical = _valid(column.indices)
            moved = (moved & physical[1:] & physical[:-1]) | (physical[1:] != physical[:-1])
        rows = np.flatnonzero(later & present[1:] & (moved | ~present[:-1]))
        if len(rows) == 0:
            return
        compared = rows[present[rows]]
        if len(compared):
            values = column.dictionary
            same = _np_bool(pc.fill_null(pc.equal(values.take(pa.array(positions[compared])),
                                                  values.take(pa.array(positions[compared + 1]))), False))
            rows = np.concatenate([rows[~present[rows]], compared[~same]])
        self.flag[rows + 1] = True


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
        if not 0 <= scale <= 15:
            return zeros, 0, missing, pc.cast(column, pa.string()), ~missing
        unscaled, fits = _unscaled(column)
        bad |= ~missing & (~fits | (unscaled < 0) | (unscaled > 1000 * 10 ** scale))
        return np.where(bad | missing, 0, unscaled), scale, missing, pc.cast(column, pa.string()), bad
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


_USCC_VALUE = np.full(256, -1, dtype=np.int8)
_USCC_VALUE[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET))
_USCC_WEIGHTS = np.array(WEIGHTS, dtype=np.float32)   # sums of at most 17 × 30 × 30: exact in a float32


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
    lengths = np.diff(offsets)
    rows: slice | npt.NDArray[np.int64]
    if (lengths == 18).all():      # as a rule: the texts one after the other, 18 bytes each
        rows = slice(None)
        codes = data[offsets[0]:offsets[0] + 18 * count].reshape(count, 18)
    else:
        rows = np.flatnonzero(lengths == 18)
        if len(rows) == 0:
            return ok
        codes = data[offsets[rows][:, None] + np.arange(18)]
    values = _USCC_VALUE.take(codes)
    total = (values[:, :17].astype(np.float32) @ _USCC_WEIGHTS).astype(np.int64)
    known = (values >= 0).all(axis=1) if values.min() < 0 else True
    ok[rows] = known & (values[:, 17] == (31 - total % 31) % 31)
    return ok


def _per_run(values: npt.NDArray[Any], starts: npt.NDArray[np.int64], reduce: Any,
             dtype: Any = None) -> npt.NDArray[Any]:
    if len(starts) == 0:
        return np.zeros(0, dtype=dtype or values.dtype)
    return reduce.reduceat(values, starts, dtype=dtype)  # type: ignore[no-any-return]


_POPCOUNT = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.int64)

_BITWISE_COUNT = getattr(np, "bitwise_count", None)   # NumPy 2


def _bit_count(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    if _BITWISE_COUNT is not None:
        return _BITWISE_COUNT(words).astype(np.int64)  # type: ignore[no-any-return]
    return _POPCOUNT[words.view(np.uint8)].reshape(len(words), 8).sum(axis=1)  # type: ignore[no-any-return]


def _bits(positions: npt.NDArray[Any], chosen: npt.NDArray[np.bool_], wide: bool) -> npt.NDArray[Any]:
    """One bit per chosen row, at its position (below 32, or 64 when ``wide``), and none in the other rows.

    Made in place in as few and as small arrays as can be (allocating large temporaries costs more than the
    arithmetic)."""
    shift = positions & (63 if wide else 31)
    bits = chosen.astype(np.uint64 if wide else np.uint32)
    np.left_shift(bits, shift.view(np.dtype(f"uint{shift.dtype.itemsize * 8}")), out=bits)
    return bits


def _run_of(rows: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The subject (run) of each of the rows."""
    return np.searchsorted(starts, rows, side="right").astype(np.int64) - 1


def _repeated_ids(keys: npt.NDArray[Any], present: npt.NDArray[np.bool_], width: int,
                  starts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which subjects give some record id twice (``keys``: the id's code per row, ``width`` distinct codes)."""
    runs = len(starts)
    if width <= 64:   # each subject's ids as bits: a repeat sets a bit already set
        union = _per_run(_bits(keys, present, width > 32), starts, np.bitwise_or)
        given = np.diff(np.append(starts, len(present)))            # the rows of each subject with an id
        without = np.flatnonzero(~present)
        if len(without):
            given -= np.bincount(_run_of(without, starts), minlength=runs)
        return _bit_count(union) < given
    rows = np.flatnonzero(present)
    repeated = np.zeros(runs, dtype=bool)
    ordered = np.sort(_run_of(rows, starts) * width + keys[rows])
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    repeated[np.unique(twice // width)] = True
    return repeated


def _honour_bonus(starts: npt.NDArray[np.int64], in_force: npt.NDArray[np.bool_], title: npt.NDArray[Any],
                  width: int, level: _Coded, points: npt.NDArray[np.int64], rank: npt.NDArray[np.int32],
                  values: list[int]) -> npt.NDArray[np.int64]:
    """Each subject's honour points before the cap: each title once, at its highest level in force.

    ``points`` are each distinct level's points; ``values`` the points a level can give, highest first, and
    ``rank`` each distinct level's place among them.
    """
    runs = len(starts)
    bonus = np.zeros(runs, dtype=np.int64)
    if not in_force.any():
        return bonus
    if len(values) * width <= 64:
        # One bit per (points, title): a subject's bits are OR-ed in one pass over its rows; then, from the
        # highest points down, the titles not already counted at higher points.
        position = level.per_row(rank)
        position *= width
        position += title
        union = _per_run(_bits(position, in_force, len(values) * width > 32), starts, np.bitwise_or)
        union = union.astype(np.uint64, copy=False)
        every_title = np.uint64((1 << width) - 1)
        taken = np.zeros(runs, dtype=np.uint64)
        for number, value in enumerate(values):
            titles = (union >> np.uint64(number * width)) & every_title & ~taken
            bonus += value * _bit_count(titles)
            taken |= titles
        return bonus
    rows = np.flatnonzero(in_force)
    run_of_row = _run_of(rows, starts)
    key = run_of_row * (width + 1) + title[rows]
    given = points.take(level.positions[rows])
    order = np.lexsort((-given, key))
    first_of_key = np.ones(len(order), dtype=bool)
    first_of_key[1:] = key[order][1:] != key[order][:-1]
    best = order[first_of_key]
    np.add.at(bonus, run_of_row[best], given[best])
    return bonus


def _count_warnings(plan: ScorePlan, codes: list[str], rows: npt.NDArray[np.int64], run: npt.NDArray[np.int64],
                    code: npt.NDArray[np.int64], stated: npt.NDArray[np.int64], day: npt.NDArray[np.int64],
                    record_id: _Coded) -> tuple[npt.NDArray[np.int64], pa.Array, npt.NDArray[np.int64]]:
    """The warnings on stated tiers of indicators graded by repetition, as ScorePlan.count_warnings gives them.

    ``rows`` are the rows (in record order) of violations of those indicators, with their subject, code, stated
    tier and day.  A record's offence number is its place among its subject's records of its indicator by
    (day, id).  Returns the subjects with warnings (in order), their warnings as JSON text, and the subjects left
    to the engine.
    """
    count = len(rows)
    ids = record_id.positions[rows]
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
    warned = np.flatnonzero(stated_in_bands & (wrong == 1))     # in record order, so by subject
    if len(warned) == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string()), ambiguous
    subject, names, code, stated, place, wrong_tier = (
        run[warned], record_id.values.take(pa.array(ids[warned])), code[warned], stated[warned], place[warned],
        wrong_tier[warned])
    template = _tables(plan).warning
    used = [codes[number] for number in np.unique(code).tolist()]
    if template is not None and not _np_bool(pc.match_substring_regex(names, _JSON_ESCAPED)).any() \
            and not any(_needs_escape(text) for text in used):
        # Each warning written by Arrow from the engine's words and its values, each subject's joined as a JSON list.
        values = (names, pa.array(codes, pa.string()).take(pa.array(code)), _integer_text(stated.astype(np.int64)),
                  _integer_text(place), _integer_text(wrong_tier))
        quoted = pc.binary_join_element_wise(*(pa.scalar(piece) if isinstance(piece, str) else values[piece]
                                               for piece in ['"', *template, '"']), "")
        first = np.flatnonzero(np.diff(subject)) + 1
        offsets = np.concatenate([[0], first, [len(subject)]]).astype(np.int32)
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), quoted), ",")
        return subject[offsets[:-1]], pc.binary_join_element_wise("[", joined, "]", ""), ambiguous
    texts: dict[int, list[str]] = {}
    warning = plan.count_warning
    for number, record, code_number, tier, count, count_tier in zip(
            subject.tolist(), names.to_pylist(), code.tolist(), stated.tolist(), place.tolist(), wrong_tier.tolist(),
            strict=True):
        texts.setdefault(number, []).append(warning(record, codes[code_number], tier, count, count_tier))
    return (np.array(list(texts), dtype=np.int64),
            pa.array([list_json(found) for found in texts.values()], pa.string()), ambiguous)


_JSON_ESCAPED = '[\\x00-\\x1f"\\\\]'      # what JSON writes escaped in a string


def _needs_escape(text: str) -> bool:
    return any(character in '"\\' or character < " " for character in text)


def _warning_template(plan: ScorePlan) -> list[str | int] | None:
    """The engine's warning on a stated tier as the JSON-escaped text between its values and, in their order, which
    value goes where (0: the record id, 1: the indicator, 2: the stated tier, 3: the offence number, 4: its tier);
    None if the values cannot be told apart in it."""
    from json.encoder import encode_basestring

    marks = ("\x00", "\x01", "-111111111", "-222222222", "-333333333")
    text = plan.count_warning(marks[0], marks[1], -111111111, -222222222, -333333333)
    if any(text.count(mark) != 1 for mark in marks):
        return None
    pieces: list[str | int] = []
    cursor = 0
    for at, number in sorted((text.index(mark), number) for number, mark in enumerate(marks)):
        pieces += [encode_basestring(text[cursor:at])[1:-1], number]
        cursor = at + len(marks[number])
    return [*pieces, encode_basestring(text[cursor:])[1:-1]]


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


_INTEGER_TEXTS: list[pa.Array] = []


def _integer_text(values: npt.NDArray[np.int64]) -> pa.Array:
    """Integers as text ("1100"); small ones (a subject's deductions or honour bonus, as a rule) looked up."""
    if len(values) and values.min() >= 0 and values.max() < 1 << 16:
        texts = _INTEGER_TEXTS[0] if _INTEGER_TEXTS else None
        if texts is None or len(texts) <= values.max():
            size = 1 << max(10, int(values.max()).bit_length())
            texts = pa.array([str(number) for number in range(size)], pa.string())
            _INTEGER_TEXTS[:] = [texts]
        return texts.take(pa.array(values))
    return pc.cast(pa.array(values), pa.string())


def _number_text(values: npt.NDArray[np.int64], scale: int) -> pa.Array:
    """Integers scaled by 10^scale as exact decimal text without trailing zeros (96247, 2 → "962.47").

    The integers become a decimal128 column of that scale (its 16-byte values are the integers sign-extended),
    which Arrow writes as text with ``scale`` decimals; the zeros after the point are then trimmed.
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    if scale == 0:
        return _integer_text(values)
    if sys.byteorder != "little":   # the decimal's words are little-endian only there
        return pa.array([str(exact(Decimal(value).scaleb(-scale))) for value in values.tolist()], pa.string())
    words = np.empty(2 * len(values), dtype=np.int64)
    words[0::2] = values
    words[1::2] = values >> 63
    decimals = pa.Array.from_buffers(pa.decimal128(38, scale), len(values), [None, pa.py_buffer(words)])
    return pc.utf8_rtrim(pc.utf8_rtrim(pc.cast(decimals, pa.string()), "0"), ".")


@dataclass(frozen=True)
class _PlanTables:
    """What the vectorised path looks up, made once per plan (not per chunk)."""

    codes: list[str]                    # the indicators scored here, sorted
    stride: int                         # tiers per indicator in ``points`` (the highest tier + 1)
    points: npt.NDArray[Any]            # (indicator, tier) → points, -1 where none; a last row of -1: no indicator
    level_names: list[str]              # the honour levels, sorted
    level_points: npt.NDArray[np.int64]  # each level's points, and -1 after them (no such level)
    ranked: list[int]                   # the points a level can give, highest first
    level_rank: npt.NDArray[np.int32]   # each level's place in ``ranked``, and 0 after them
    at_edge_band: npt.NDArray[np.int64]  # the band at each of the plan's edges (-1 after them)
    between_band: npt.NDArray[np.int64]  # the band below, between and above them
    warning: list[str | int] | None     # the engine's warning on a stated tier, as a template


_PLAN_TABLES: dict[int, tuple[ScorePlan, _PlanTables]] = {}


def _tables(plan: ScorePlan) -> _PlanTables:
    known = _PLAN_TABLES.get(id(plan))
    if known is None or known[0] is not plan:
        codes = sorted(plan.tiers_by_code)
        stride = max((len(row) for row in plan.tiers_by_code.values()), default=1)
        small = all(points is None or abs(int(points)) < 1 << 31 for row in plan.tiers_by_code.values()
                    for points in row)
        table = np.full((len(codes) + 1, stride), -1, dtype=np.int32 if small else np.int64)
        for position, code in enumerate(codes):
            for tier, points in enumerate(plan.tiers_by_code[code]):
                if points is not None:
                    table[position, tier] = int(points)
        level_names = sorted(plan.level_points)
        level_values = [int(plan.level_points[name]) for name in level_names]
        ranked = sorted({value for value in level_values if value >= 0}, reverse=True)
        band_number = {id(band): number for number, band in enumerate(plan.bands)}
        tables = _PlanTables(
            codes, stride, table, level_names, np.array([*level_values, -1], dtype=np.int64), ranked,
            np.array([*(ranked.index(value) if value >= 0 else 0 for value in level_values), 0], dtype=np.int32),
            np.array([band_number[id(band)] for band in plan._at_edge] + [-1], dtype=np.int64),
            np.array([band_number[id(band)] for band in plan._between], dtype=np.int64),
            _warning_template(plan))
        if len(_PLAN_TABLES) >= 8:
            _PLAN_TABLES.clear()
        known = _PLAN_TABLES[id(plan)] = (plan, tables)        # the plan is kept: its id is not reused
    return known[1]


_CONSEQUENCE_TEXTS: dict[int, tuple[ScorePlan, npt.NDArray[np.int32], pa.Array]] = {}


def _consequence_texts(plan: ScorePlan, bands: Any) -> tuple[npt.NDArray[np.int32], pa.Array]:
    """For each band (and -1 after them: no grade), the position of its consequences' JSON text among those of the
    grades that have some (-1: none); and those texts.  Made once per plan."""
    known = _CONSEQUENCE_TEXTS.get(id(plan))
    if known is None or known[0] is not plan:
        entailing = [band for band in bands if plan.consequences[band.grade]]
        of_band = np.array([entailing.index(band) if band in entailing else -1 for band in bands] + [-1],
                           dtype=np.int32)
        texts = pa.array([list_json(plan.consequences[band.grade]) for band in entailing], pa.string())
        if len(_CONSEQUENCE_TEXTS) >= 8:
            _CONSEQUENCE_TEXTS.clear()
        known = _CONSEQUENCE_TEXTS[id(plan)] = (plan, of_band, texts)   # the plan is kept: its id is not reused
    return known[1], known[2]


def _vectorised(unit: ColumnarUnit, plan: ScorePlan, starts: npt.NDArray[np.int64], has_record: npt.NDArray[np.bool_]
                ) -> tuple[pa.Table, npt.NDArray[np.bool_], dict[str, int], int]:
    """Score the unit's subjects on whole columns; also return which subjects need the reference path, and how many
    of those scored have each grade and were not evaluated (dissolved).

    Row-wise, everything is NumPy on the columns' own buffers: a text column's dictionary positions, a date's
    days, a column's validity bitmap; each distinct text is checked and looked up once.  What a row without a
    value holds is never used unmasked.
    """
    checks = _Checks(unit.table, ("record_id", "type", "indicator", "honour", "level", "authority", "description"))
    count, runs = checks.count, len(starts)
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
        head[name] = _texts_at(column, starts)
    public_column = checks.column("public_score")
    if public_column is not None:
        checks.same_on_later_rows(public_column, continuation)
    uscc, name_text, kind, status = head["uscc"], head["name"], head["kind"], head["status"]
    run_bad |= ~_uscc_valid(uscc)
    run_bad |= ~_valid(name_text) | _empty_or_edge_space(name_text)
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
    tier, has_tier = checks.tier()
    determined, has_determined = checks.date("determined_on")
    awarded, has_awarded = checks.date("awarded_on")
    until, has_until = checks.date("valid_until")
    type_code = record_type.value_positions(["violation", "honour"])
    is_violation, is_honour = record_type.rows_of(type_code == 0), record_type.rows_of(type_code == 1)
    flag = checks.flag
    flag |= has_record & ~((is_violation | is_honour) & record_id.present)
    flag |= is_violation & (title.present | level.present | has_awarded | has_until)
    flag |= is_honour & (indicator.present | has_tier | has_determined)

    # Violations: (indicator, tier) → points through a dense look-up array, one row of it per distinct indicator
    # text; counted within the window.  Indicators a blacklist trigger takes are not in it (plan.tiers_by_code):
    # their subjects take the engine.
    tables = _tables(plan)
    codes, stride = tables.codes, tables.stride
    code_of_value = indicator.value_positions(codes)                           # -1 picks the last row
    points = tables.points[np.append(code_of_value, -1)].ravel().take(indicator.positions * stride + tier,
                                                                       mode="clip")
    known = is_violation & indicator.present & has_tier & (tier > 0) & (tier < stride) & (points >= 0)
    as_of = (plan.as_of - _EPOCH).days
    violation_from = (plan.violation_from - _EPOCH).days
    honour_from = (plan.honour_from - _EPOCH).days
    flag |= is_violation & ~(known & has_determined)
    counted = known & (determined >= violation_from) & (determined <= as_of)
    points *= counted
    deductions = _per_run(points, starts, np.add, np.int64)

    # Honours: in force on the date; the same title once at its highest level; the cap.
    level_of_value = level.value_positions(tables.level_names)                # -1 picks the last: no such level
    honour_points, rank_of_value = tables.level_points[level_of_value], tables.level_rank[level_of_value]
    ranked = tables.ranked
    level_known = level.rows_of(honour_points >= 0)
    flag |= is_honour & ~(level_known & title.present & has_awarded)
    flag |= is_honour & has_until & (until < awarded)
    in_force = is_honour & level_known & title.present & has_awarded & (awarded <= as_of) & (
        (has_until & (until >= as_of)) | (~has_until & (awarded >= honour_from)))
    bonus = _honour_bonus(starts, in_force, title.positions, len(title.values), level, honour_points, rank_of_value,
                          ranked)

    # Record ids given twice in a subject.
    with_id = has_record & record_id.present
    if with_id.any():
        run_bad |= _repeated_ids(record_id.positions, with_id, len(record_id.values), starts)

    # Warnings on stated tiers of indicators graded by repetition (the engine's words, record order).
    warned_subjects, warnings_text = np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    if plan.count_bands:
        graded = np.isin(code_of_value, [codes.index(code) for code in plan.count_bands if code in codes])
        rows = np.flatnonzero(known & indicator.rows_of(graded) & record_id.present)
        if len(rows):
            warned_subjects, warnings_text, ambiguous = _count_warnings(
                plan, codes, rows, _run_of(rows, starts), code_of_value[indicator.positions[rows]], tier[rows],
                determined[rows], record_id)
            run_bad[ambiguous] = True

    flagged = np.flatnonzero(flag)
    if len(flagged):
        run_bad[_run_of(flagged, starts)] = True
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
    edge_values = np.array(scaled_edges, dtype=np.int64)
    at_edge_band, between_band = tables.at_edge_band, tables.between_band
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

    null_text = pa.nulls(len(good), pa.string())
    # A grade's consequences: one text per grade that has some, each row pointing at its grade's.
    consequence_of_band, consequence_texts = _consequence_texts(plan, bands)
    consequence_of_row = consequence_of_band[evaluated_grade]
    consequences = pa.DictionaryArray.from_arrays(
        pa.array(consequence_of_row, pa.int32(), mask=consequence_of_row < 0), consequence_texts)
    warnings = null_text
    if len(warned_subjects):
        with_warnings = np.full(runs, -1, dtype=np.int64)
        with_warnings[warned_subjects] = np.arange(len(warned_subjects))
        slot = with_warnings[good]
        warnings = warnings_text.take(pa.array(slot, mask=slot < 0))
    result = pa.table({
        "uscc": kept(uscc), "name": kept(name_text), "kind": kept(kind),
        "status": kept(status), "evaluated": pa.array(~dissolved),
        "grade": pa.array([band.grade for band in bands], pa.string()).take(band_of),
        "grade_meaning": pa.array([band.meaning for band in bands], pa.string()).take(band_of),
        "score": pc.if_else(pa.array(dissolved), null_text, _number_text(score[good], scale)),
        "public_score": kept(public_text),
        "deductions": _number_text(np.where(dissolved, 0, deductions[good]), 0),   # a dissolved subject's: 0
        "honour_bonus": _number_text(np.where(dissolved, 0, capped[good]), 0),
        "not_evaluated_reason": pa.array([DISSOLVED_REASON]).take(pa.array(np.zeros(len(good), dtype=np.int64),
                                                                           mask=~dissolved)),
        "proposals": null_text, "listings": null_text,
        "consequences": consequences,
        "warnings": warnings,
        "run": good_arrow,
    })
    counted_grades = np.bincount(evaluated_grade[~no_grade], minlength=len(bands))
    grades = {band.grade: int(number) for band, number in zip(bands, counted_grades.tolist(), strict=True) if number}
    return result, run_bad, grades, int(np.count_nonzero(dissolved))


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
