"""Columnar facts (Parquet, CSV): one row per record, read in chunks with pyarrow, as units of whole subjects.

The layout is in docs/columnar.md: one row per record with the subject's columns (``uscc``, ``name``, ``kind``,
``status``, ``public_score``) on each of its rows, a subject without records as one row with empty record
columns; or the subjects in a second file joined on ``uscc``.  A subject's rows must be together: a subject
whose rows are split is reported (naming the rows) and not evaluated.

A unit is evaluated on whole columns by the kernel's vectorised twin (:mod:`.vector`) when explanations are
off; every subject the twin flags, and every subject of an explained run, becomes a facts-format mapping that
the facts model validates and the engine evaluates — so error messages are always the model's own (with the
row), and a subject the column checks flag needlessly is still evaluated exactly.

pyarrow is optional (``pip install 'mincredit[columnar]'``); without it a Parquet or CSV input is refused with a
message naming the extra.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from mincredit._population import arrow
from mincredit._population.arrow import (
    ALL_COLUMNS,
    BATCH_ROWS,
    CSV_BLOCK_BYTES,
    CSV_LARGEST_ROW,
    PROBLEM,
    RECORD_COLUMNS,
    RECORD_FIELD,
    REQUIRED_COLUMNS,
    SUBJECT_COLUMNS,
    SUBJECT_PROBLEM,
    SUBJECT_ROW,
    TABLE_BATCH_ROWS,
)
from mincredit._population.evaluator import UnitOutcome, Worker, count
from mincredit._population.write import Header
from mincredit._results import Outcome, SubjectErrors, SubjectResult
from mincredit.facts._reading import FactError, FactsFileError, RowPlaces, SubjectEntry

if TYPE_CHECKING:
    from mincredit.rules._compiling import CompiledRulebook


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
                self.names = _csv_header(path)
                self.total_rows = None
        except (OSError, pa.ArrowException, ValueError, csv.Error) as error:
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
                        batches = self.parquet.read_row_group(group, columns=columns).to_batches()
                    else:
                        batches = self.parquet.iter_batches(batch_size=4 * BATCH_ROWS, row_groups=[group],
                                                            columns=columns)
                    for batch in batches:
                        yield arrow.readable(batch)     # text that is not UTF-8: its subject's error
                return
            yield from self._csv_batches(columns)
        except pa.ArrowException as error:
            raise _file_error(self.file, f"cannot read the {self.kind} file: {error}") from None

    def _csv_batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        """A CSV file's batches.  Every column is read as (dictionary-encoded) bytes and made text here, so that a
        bad cell — not UTF-8, not a number, not a date — is one subject's error, with its row, never the whole
        file's; only an empty cell is no value (Arrow's own null words, NULL, NA, N/A, NaN, null, are text).
        Arrow's reader parses ahead some thirty blocks: small blocks keep that small, and the batches are put
        together again into larger ones, their dictionaries unified.  A row larger than a block (a 10 MB cell) is
        read by reading on from the rows already handed on with blocks large enough for it, then small ones again.
        """
        done = 0                             # rows handed on
        block = CSV_BLOCK_BYTES
        while True:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(block_size=block, skip_rows_after_names=done),
                # a quoted cell may hold a line break (an address, a description): blocks are cut between rows
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.dictionary(pa.int32(), pa.binary()) for name in self.names},
                    null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
                    include_columns=columns))
            pending: list[pa.RecordBatch] = []
            rows = 0
            try:
                for batch in reader:
                    pending.append(batch)
                    rows += batch.num_rows
                    if rows >= BATCH_ROWS // 2:
                        for joined in arrow.joined(pending):
                            yield arrow.readable(joined)
                        done += rows
                        pending, rows = [], 0
                        if block > CSV_BLOCK_BYTES:
                            break            # past the large row: small blocks again
                else:
                    for joined in arrow.joined(pending):
                        yield arrow.readable(joined)
                    return
                block = CSV_BLOCK_BYTES
            except pa.ArrowInvalid as error:
                if "straddling" not in str(error):
                    raise
                if block >= CSV_LARGEST_ROW:
                    raise _file_error(self.file, f"cannot read the csv file: a row after row {done} is larger than "
                                                 f"{CSV_LARGEST_ROW >> 20} MiB") from None
                block = min(block * 4, CSV_LARGEST_ROW)    # the rows before it again, with larger blocks


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV file, from its first line (read by itself: a large row after it is no matter)."""
    with open(path, "rb") as handle:
        first = handle.readline(1 << 20)
    if not first:
        raise ValueError("the file is empty")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"its header is not valid UTF-8 (byte 0x{first[error.start]:02x})") from None
    return next(csv.reader([text.rstrip("\r\n")]), [])


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
    previous: object = arrow.NO_KEY
    offset = 0
    for batch in reader.batches(columns=["uscc"]):
        if stop is not None and stop.is_set():
            break
        column = arrow.uscc_text(batch.column(0))
        starts, texts = arrow.run_heads(column, previous)
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
    twice = ~arrow.changes(ordered)
    if not twice.any():
        return {}
    repeated = pc.unique(ordered.filter(pa.array(np.append(twice, False))))
    chosen = arrow.np_bool(pc.is_in(every, value_set=repeated))
    where = np.concatenate(rows)[chosen].tolist()
    splits: dict[str, list[int]] = {}
    for key, row in zip(every.filter(pa.array(chosen)).to_pylist(), where, strict=True):
        splits.setdefault(key, []).append(row)
    return {key: Split(tuple(found)) for key, found in splits.items()}


def _text_keys(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as plain text for joining on uscc (a missing uscc is the empty text)."""
    keys, texts = arrow.keys(column)
    return pc.fill_null(texts.take(pa.array(keys, mask=keys < 0)), "")


# --- the subjects file of the two-file layout ------------------------------------------------------

class SubjectsTable:
    """The subjects file, read whole (one row per subject: its size grows with subjects, not records)."""

    def __init__(self, path: Path) -> None:

        reader = _Reader(path, subjects_file=True)
        self.file = reader.file
        batches = list(reader.batches())
        self.table = pa.concat_tables([pa.Table.from_batches([batch]) for batch in batches],
                                      promote_options="permissive") if batches else pa.table(
            {name: pa.array([], pa.string()) for name in reader.names})
        if PROBLEM in self.table.column_names:    # a subject's unreadable cell, told apart from its records'
            self.table = self.table.rename_columns([SUBJECT_PROBLEM if name == PROBLEM else name
                                                    for name in self.table.column_names])
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
    _, heads = arrow.run_heads(arrow.uscc_text(unit.table.column("uscc")))
    assert heads is not None
    chosen = pc.is_in(pc.fill_null(heads, ""), value_set=pa.array(list(subjects), pa.string()))
    return bool(arrow.np_bool(chosen).any())


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
    previous: object = arrow.NO_KEY
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
        column = arrow.uscc_text(table.column("uscc"))
        starts = arrow.run_starts(column, previous)
        previous = column[len(column) - 1].as_py()
        if len(starts) == 0:                   # the whole batch continues the carried subject
            carry = arrow.decoded(table) if carry is None else arrow.concat([carry, arrow.decoded(table)])
            continue
        first, last = int(starts[0]), int(starts[-1])
        if carry is not None:
            straddling = arrow.concat([carry, arrow.decoded(table.slice(0, first))]) if first else carry
            yield unit(straddling, carry_row, 1)
            carry_row += straddling.num_rows
        if last > first:
            yield unit(table.slice(first, last - first), carry_row, len(starts) - 1, starts[:-1] - first)
            carry_row += last - first
        carry = arrow.decoded(table.slice(last))
    if carry is not None and carry.num_rows:
        yield unit(carry, carry_row, 1)
    if subjects is not None:
        rest = subjects.unseen()
        for start in range(0, rest.num_rows, BATCH_ROWS):
            # The subjects no record mentioned: evaluated with no records, after the others, in file order.
            part = rest.slice(start, BATCH_ROWS)
            yield ColumnarUnit(part, subjects.file, 0, index, {}, vectorised, subjects_file=subjects.file,
                               repeated_subjects=repeated, subjects_only=True)
            index += len(arrow.run_starts(arrow.uscc_text(part.column("uscc"))))



# --- evaluating a unit -----------------------------------------------------------------------------

def evaluate_unit(unit: ColumnarUnit, worker: Worker) -> UnitOutcome:
    from mincredit._population.vector import vectorisable, vectorised

    table = unit.table
    starts = unit.starts if unit.starts is not None else arrow.run_starts(arrow.uscc_text(table.column("uscc")))
    ends = np.append(starts[1:], table.num_rows)
    has_record = _has_record(table)
    records = int(np.count_nonzero(has_record))
    evaluator, explain = worker.evaluator, worker.explain
    flagged = np.ones(len(starts), dtype=bool)
    vector: pa.Table | None = None
    vector_grades: dict[str, int] = {}
    vector_dissolved = 0
    if unit.vectorised and not explain and vectorisable(evaluator.day):
        vector, flagged, vector_grades, vector_dissolved = vectorised(
            unit.table, evaluator.day, starts, has_record, splits=unit.splits,
            repeated_subjects=unit.repeated_subjects, subjects_file=unit.subjects_file)
    slow_runs = np.flatnonzero(flagged)
    outcomes: list[tuple[int, Outcome]] = []
    if len(slow_runs):
        take = np.concatenate([np.arange(starts[run], ends[run]) for run in slow_runs])
        columns = _column_values(table.take(pa.array(take)))
        cursor = 0
        for run in slow_runs.tolist():
            length = int(ends[run] - starts[run])
            rows = _Rows(columns, cursor, cursor + length, unit.first_row + int(starts[run]))
            cursor += length
            outcomes.append((run, _reference_run(unit, worker, rows, unit.first_index + run)))
    done = UnitOutcome(None, [], subjects=len(starts), records=records, progress=unit.rows)
    python_results: list[tuple[int, SubjectResult]] = []
    for run, outcome in outcomes:
        if isinstance(outcome, SubjectErrors):
            done.errors.extend(outcome.errors)
            done.error_subjects += 1
        else:
            python_results.append((run, outcome))
            count(done, outcome)
    encoder = worker.encoder
    if vector is None:
        results = [result for _, result in python_results]
        done.payload = encoder.encode(results) if results else None
        return done
    done.grades.update(vector_grades)
    done.not_evaluated += vector_dissolved
    if python_results:
        extra = encoder.arrow(encoder.columns([result for _, result in python_results]))
        extra = extra.append_column("run", pa.array([run for run, _ in python_results], pa.int64()))
        vector = pa.concat_tables([encoder.arrow({name: vector.column(name) for name in vector.column_names
                                                  if name != "run"}).append_column("run", vector.column("run")),
                                   extra]).unify_dictionaries()
        vector = vector.take(pc.sort_indices(vector.column("run")))
        vector = vector.drop_columns(["run"])
    else:
        vector = encoder.arrow({name: vector.column(name) for name in vector.column_names if name != "run"})
    if vector.num_rows:
        done.payload = encoder.encode_table(vector)
    return done


def _has_record(table: pa.Table) -> npt.NDArray[np.bool_]:
    """Whether each row has a value in some record column."""
    count = table.num_rows
    columns = [arrow.whole(table.column(name)) for name in RECORD_COLUMNS if name in table.column_names]
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
        present |= arrow.valid(column)
    return present


_RECORD_KEYS = tuple((column, RECORD_FIELD.get(column, column)) for column in RECORD_COLUMNS)
"""Each record column and the facts field it holds."""


def _column_values(table: pa.Table) -> dict[str, list[Any]]:
    """A table's cells as one Python list per column: Arrow makes a list of a column many times faster than a
    mapping of each row, and NumPy makes dates and decimals (the same objects, None where null) ten and two
    times faster than Arrow does."""
    decoded = arrow.decoded(table)
    return {name: column.to_numpy(zero_copy_only=False).tolist()
            if pa.types.is_date32(column.type) or pa.types.is_decimal(column.type) else column.to_pylist()
            for name, column in zip(decoded.column_names, decoded.columns, strict=True)}


@dataclass(frozen=True)
class _Rows:
    """One subject's rows: ``start``–``end`` of the unit's column lists, the first of them row ``first_row``."""

    columns: Mapping[str, list[Any]]
    start: int
    end: int
    first_row: int

    def first(self, column: str) -> Any:
        """The column's value in the subject's first row (None where the file has no such column)."""
        values = self.columns.get(column)
        return None if values is None else values[self.start]

    def cells(self, column: str) -> list[Any] | None:
        """The column's values in the subject's rows, or None where the file has no such column."""
        values = self.columns.get(column)
        return None if values is None else values[self.start:self.end]


def _clean(value: Any) -> Any:
    return None if value == "" else value


def _reference_run(unit: ColumnarUnit, worker: Worker, rows: _Rows, index: int) -> Outcome:
    """One subject's rows evaluated (or its layout error).  A canonical plain subject is scored as its JSON line
    would be (no model, and no rulebook to load for it); anything else goes to the facts model, which accepts it
    exactly or says why not, naming rows."""
    data = _subject_data(unit, rows, index)
    if isinstance(data, SubjectEntry):
        return worker.evaluator.entry(data)
    raw, places = data
    return worker.evaluator.raw(raw, index, file=places.subject_file, line=None, plain=True, rows=places)


def reference_entry(unit: ColumnarUnit, rows: _Rows, index: int) -> SubjectEntry:
    """One subject's rows as a facts-format mapping validated by the facts model (or the layout error that stops
    it), with the rows its errors name."""
    from mincredit.facts._validating import validate_subject

    data = _subject_data(unit, rows, index)
    if isinstance(data, SubjectEntry):
        return data
    raw, places = data
    return validate_subject(raw, file=places.subject_file, index=index, line=None, rows=places)


def _subject_data(unit: ColumnarUnit, rows: _Rows, index: int) -> tuple[dict[str, Any], RowPlaces] | SubjectEntry:
    """One subject's rows as a facts-format mapping with the rows its errors would name, or the layout error that
    stops it (rows not together, a subject twice in the subjects file or missing from it, subject columns that
    differ between its rows)."""
    first_row, count = rows.first_row, rows.end - rows.start
    subject_row = rows.first(SUBJECT_ROW)
    # Where a problem with the subject's own fields is: its row in the subjects file, or its first row here.
    subject_file, row = ((unit.subjects_file, subject_row + 1) if subject_row is not None and unit.subjects_file
                         else (unit.file, first_row))
    uscc_value = rows.first("uscc")
    uscc = "" if uscc_value is None else uscc_value if isinstance(uscc_value, str) else repr(uscc_value)
    name_value = rows.first("name")
    name = name_value if isinstance(name_value, str) else None

    def layout(message: str, at: int | None = first_row, file: str | None = unit.file) -> SubjectEntry:
        return SubjectEntry(index, file, None, None,
                            (FactError(message, file, None, index, uscc or None, name, row=at),))

    for offset, problem in enumerate(rows.cells(PROBLEM) or ()):
        if problem:
            return layout(f"{problem}; it was not evaluated", first_row + offset)
    subject_problem = rows.first(SUBJECT_PROBLEM)
    if subject_problem:
        return layout(f"{subject_problem}; it was not evaluated", row, subject_file)
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
    differing: tuple[int, str, Any, Any] | None = None   # the first row (then column) that differs from the first
    for column in SUBJECT_COLUMNS:
        values = rows.cells(column)
        if values is None:
            continue
        first_value = _clean(values[0])
        if first_value is not None:
            raw[column] = first_value
        for offset in range(1, count if differing is None else differing[0]):
            value = _clean(values[offset])
            if value is not None and value != first_value:
                differing = (offset, column, value, first_value)
                break
    if differing is not None:
        offset, column, value, first_value = differing
        return layout(f"the column {column!r} of this row ({value!r}) differs from the subject's first "
                      f"row ({first_value!r}); repeat the same subject values on each of its "
                      "rows, or leave them empty", first_row + offset)
    present = [(values, field_name) for column, field_name in _RECORD_KEYS
               if (values := rows.cells(column)) is not None]
    records: list[dict[str, Any]] = []
    record_rows: dict[str, int] = {}
    for offset in range(count):
        record = {}
        for values, field_name in present:
            value = values[offset]
            if value is not None and value != "":
                record[field_name] = value
        if record:
            records.append(record)
            record_rows.setdefault(str(record.get("id")), first_row + offset)
    raw["records"] = records
    return raw, RowPlaces(unit.file, first_row, subject_file, row, record_rows, unit.subjects_only)


def unit_entries(unit: ColumnarUnit) -> Iterator[SubjectEntry]:
    """Every subject of a unit as :func:`reference_entry` gives it, in order."""
    table = unit.table
    starts = unit.starts if unit.starts is not None else arrow.run_starts(arrow.uscc_text(table.column("uscc")))
    ends = np.append(starts[1:], table.num_rows)
    columns = _column_values(table)
    for run, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        yield reference_entry(unit, _Rows(columns, start, end, unit.first_row + start), unit.first_index + run)


def read_columnar_facts(path: Path, subjects: Path | None = None) -> Iterator[SubjectEntry]:
    """Every subject of a Parquet or CSV facts file (``subjects``: the subjects file of the two-file layout), each
    validated by the facts model or with its errors naming rows, in order: what :func:`mincredit.read_facts_file`
    gives for any other format, so that a columnar file goes wherever a facts file goes.  Memory: one batch of rows
    at a time, and the uscc of every subject (the check that each subject's rows are together)."""
    reader = _Reader(path, records_file=subjects is not None)
    table = SubjectsTable(subjects) if subjects is not None else None
    splits = find_split_subjects(reader)
    for unit in _units(reader, table, splits, False):
        yield from unit_entries(unit)




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
    table = _as_arrow(records)
    _check_columns(table.column_names, name, records_file=subjects is not None)
    worker = Worker(rulebook, as_of, explain, "parquet")
    subjects_table: SubjectsTable | None = None
    if subjects is not None:
        subjects_table = SubjectsTable.__new__(SubjectsTable)
        _init_subjects_from_table(subjects_table, _as_arrow(subjects), f"{name} (subjects)")
    reader = _TableReader(table, name)
    splits = find_split_subjects(reader)
    units = _units(reader, subjects_table, splits, not explain)
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
        results = worker.encoder.arrow(worker.encoder.columns([]))
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

