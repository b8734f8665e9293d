"""A population run: units of input to outcomes, in order, in this process or in worker processes; the summary.

Every quarter every subject of the region is evaluated again, and drafters re-run whole populations under two
rulebook versions.  :func:`run_batch` is ``mincredit evaluate --output`` (and ``--format jsonl``): the input is
read in units (memory holds a few units, never the file), units are evaluated in order or across processes,
and the results go to a JSON Lines or Parquet file written atomically.  :func:`evaluate_stream` is the same for
an iterable of subjects in memory.  Validation is never skipped: a line that is not a canonical plain subject
goes through the facts model and the engine, which accept it exactly or say why not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from mincredit._population.evaluator import Evaluator, Source, UnitOutcome, Worker, drop_repeated
from mincredit._population.jsonl import document_units, jsonl_units
from mincredit._population.write import JsonlSink, OutputError, OutputFormat, ParquetSink, Sink, output_format
from mincredit._results import Outcome, SubjectErrors
from mincredit.facts._reading import DistinctSubjects, FactError, SubjectEntry, facts_format

if TYPE_CHECKING:
    from mincredit._population.columnar import ColumnarInput
    from mincredit.rules._compiling import CompiledRulebook
    from mincredit.rules._schema import Rulebook


class ColumnarUnavailable(ImportError):
    """pyarrow is not installed: Parquet and CSV facts need the ``columnar`` extra."""


def require_pyarrow() -> None:
    """Raise ColumnarUnavailable, naming the extra to install, when pyarrow (or numpy) is missing."""
    try:
        import numpy  # noqa: F401
        import pyarrow  # type: ignore[import-untyped, unused-ignore]  # noqa: F401
    except ImportError:
        raise ColumnarUnavailable(
            "reading or writing Parquet or CSV needs pyarrow, which is not installed; "
            "install it with: pip install 'mincredit[columnar]'") from None


# --- subjects in memory --------------------------------------------------------------------------------

SubjectInput = Any
"""A :class:`~mincredit.facts.Subject`, a :class:`~mincredit.facts.SubjectEntry`, or a mapping in the facts format."""


def evaluate_stream(subjects: Iterable[SubjectInput], rulebook: CompiledRulebook, as_of: dt.date, *,
                    explain: bool = True) -> Iterator[Outcome]:
    """Evaluate subjects lazily: one outcome per subject, in input order, as the input is consumed.

    Subjects may be :class:`Subject` models, entries from :func:`mincredit.read_facts_file`, or plain mappings in
    the facts format (validated here).  Each outcome is a :class:`~mincredit.SubjectResult` (its ``items`` None
    when ``explain`` is false: every other field is the same) or a :class:`~mincredit.SubjectErrors`; a subject
    with bad facts never stops the others.  Memory holds one subject at a time.
    """
    from mincredit.facts._models import Subject

    evaluator = Evaluator(rulebook, as_of, explain)
    for index, item in enumerate(subjects):
        if isinstance(item, SubjectEntry):
            yield evaluator.entry(item)
        elif isinstance(item, Subject):
            yield evaluator.subject(item, index)
        else:
            yield evaluator.raw(item, index, file=None, line=None, plain=True)


# --- units in order, here or in worker processes ---------------------------------------------------------

class Unit(Protocol):
    def run(self, worker: Worker) -> UnitOutcome: ...


_WORKER: Worker | None = None   # the worker of a worker process (set by its initializer, or inherited by fork)


def _ignore_interrupts() -> None:
    """Ctrl-C is the main process's to handle (one line, exit 130): a worker finishes its unit and is shut down,
    instead of printing a KeyboardInterrupt traceback of its own."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_worker(source: Rulebook, digest: str, as_of: dt.date, explain: bool, fmt: OutputFormat) -> None:
    global _WORKER
    from mincredit.rules._compiling import compile_rulebook

    _ignore_interrupts()

    rulebook = compile_rulebook(source)
    if rulebook.digest != digest:
        raise RuntimeError(f"the worker compiled rulebook {rulebook.digest}, expected {digest}")
    _WORKER = Worker(rulebook, as_of, explain, fmt)


def _run_in_worker(unit: Unit) -> UnitOutcome:
    assert _WORKER is not None
    return unit.run(_WORKER)


def run_units(units: Iterable[Unit], worker: Worker, jobs: int, fmt: OutputFormat) -> Iterator[UnitOutcome]:
    """Each unit's outcome, in input order; with ``jobs`` > 1 units run in that many worker processes.

    At most ``2 × jobs`` units are in flight, so memory stays bounded whatever the input's size.  A unit sent to
    a worker is small (a JSON Lines unit is a byte range the worker reads itself); what comes back is the
    encoded results.
    """
    if jobs <= 1:
        for unit in units:
            yield unit.run(worker)
        return
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    global _WORKER
    if "fork" in multiprocessing.get_all_start_methods() and "pyarrow" not in sys.modules \
            and threading.active_count() == 1:
        # A process with no other thread and no pyarrow (a JSON Lines input to a JSON Lines output) forks: the
        # workers start at once with this process's law and day.
        _WORKER = worker
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_ignore_interrupts)
    else:
        # "spawn": no worker inherits this process's threads or locks (pyarrow's pools); each compiles the
        # rulebook again from its source and checks the digest.
        rulebook = worker.evaluator.rulebook
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker,
                                   initargs=(rulebook.source, rulebook.digest, worker.evaluator.as_of,
                                             worker.explain, fmt))
    pending: deque[Future[UnitOutcome]] = deque()
    try:
        for unit in units:
            pending.append(pool.submit(_run_in_worker, unit))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _WORKER = None


# --- the batch run ---------------------------------------------------------------------------------------

def quarter_end(text: str) -> dt.date:
    """``2024Q3`` → 2024-09-30, the quarter's last day."""
    cleaned = text.strip().upper()
    if len(cleaned) == 6 and cleaned[:4].isdigit() and cleaned[4] == "Q" and cleaned[5] in "1234":
        year, quarter = int(cleaned[:4]), int(cleaned[5])
        if year >= 1:
            if quarter == 4:
                return dt.date(year, 12, 31)
            return dt.date(year, 3 * quarter + 1, 1) - dt.timedelta(days=1)
    raise ValueError(f"{text!r} is not a quarter; write it as YYYYQn, e.g. 2024Q3 (n from 1 to 4)")


@dataclass
class BatchSummary:
    subjects: int = 0
    records: int = 0
    evaluated: int = 0
    not_evaluated: int = 0
    error_subjects: int = 0
    errors: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, outcome: UnitOutcome) -> None:
        self.subjects += outcome.subjects
        self.records += outcome.records
        self.evaluated += sum(outcome.grades.values())
        self.not_evaluated += outcome.not_evaluated
        self.error_subjects += outcome.error_subjects
        self.errors += len(outcome.errors)
        self.grades.update(outcome.grades)

    def describe(self, grade_order: Iterable[str] = ()) -> str:
        order = list(grade_order) or sorted(self.grades)
        grades = " · ".join(f"{grade} {self.grades.get(grade, 0):,}" for grade in order)
        rate = f", {self.records / self.seconds:,.0f} records/s" if self.seconds > 0 else ""
        lines = "error line" if self.errors == 1 else "error lines"
        return (f"{self.subjects:,} subjects: {self.evaluated:,} graded, {self.not_evaluated:,} not evaluated "
                f"(dissolved), {self.error_subjects:,} with errors ({self.errors:,} {lines}); "
                f"{self.records:,} records; grades {grades}; {self.seconds:.2f} s{rate}")


@dataclass(frozen=True)
class BatchRequest:
    facts: Path
    rulebook: CompiledRulebook | Source
    as_of: dt.date
    output: Path | None = None        # None: JSON Lines to ``stream``
    explain: bool = True
    jobs: int = 1
    subjects_file: Path | None = None  # columnar inputs: the subjects in a second file
    progress: bool = False


class BatchError(ValueError):
    """A batch request that cannot run as given (an output format, a subjects file for the wrong input)."""


def input_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix == ".csv":
        return "csv"
    return facts_format(path)


def start_reading(facts: Path, subjects_file: Path | None = None) -> ColumnarInput | None:
    """Start reading a Parquet or CSV input in the background (None for other inputs, or without pyarrow).

    The command line starts it before it loads the rulebook, so that opening the file and checking that each
    subject's rows are together overlap the rulebook's loading; :func:`run_batch` then evaluates from it.
    """
    if input_kind(facts) not in {"parquet", "csv"}:
        return None
    try:
        require_pyarrow()
    except ColumnarUnavailable:
        return None
    from mincredit._population.columnar import ColumnarInput

    return ColumnarInput(facts, subjects=subjects_file)


PARALLEL_MIN_BYTES = 4 * 1024 * 1024   # below this, starting worker processes costs more than it saves


def run_batch(request: BatchRequest, *, stream: TextIO | None = None,
              on_error: Callable[[FactError], None] | None = None,
              reading: ColumnarInput | None = None) -> BatchSummary:
    """Evaluate a facts file to a JSON Lines or Parquet output, chunk by chunk, and summarise.

    Raises FactsFileError when the input cannot be read at all, BatchError for an unusable request; per-subject
    problems go to ``on_error`` (one call per error, in input order) and the summary.  ``reading`` is the
    Parquet or CSV input already being read (:func:`start_reading`), if it was started before the rulebook was
    loaded.
    """
    started = time.perf_counter()
    kind = input_kind(request.facts)
    try:
        fmt: OutputFormat = output_format(request.output) if request.output is not None else "jsonl"
    except OutputError as error:
        raise BatchError(str(error)) from None
    if request.subjects_file is not None and kind not in {"parquet", "csv"}:
        raise BatchError("--subjects (a separate subjects file) goes with a Parquet or CSV records file")
    if kind in {"parquet", "csv"} or fmt == "parquet":
        require_pyarrow()
    worker = Worker(request.rulebook, request.as_of, request.explain, fmt)
    size = request.facts.stat().st_size if request.facts.exists() else 0
    units: Iterable[Unit]
    total: int | None
    stop_reading: Callable[[], None] = _nothing
    if kind in {"parquet", "csv"}:
        from mincredit._population.columnar import ColumnarInput

        source = reading if reading is not None else ColumnarInput(request.facts, subjects=request.subjects_file)
        units, total, unit_name, stop_reading = source.units(), source.total_rows, "rows", source.close
    elif kind == "jsonl":
        units, total, unit_name = jsonl_units(request.facts), size, "bytes"
    else:
        units, total, unit_name = document_units(request.facts), None, "subjects"
    jobs = request.jobs if size >= PARALLEL_MIN_BYTES else 1
    sink: Sink
    if fmt == "parquet":
        assert request.output is not None
        sink = ParquetSink(request.output, request.explain, worker.encoder.header)
    else:
        sink = JsonlSink(request.output, stream if stream is not None else sys.stdout)
    summary = BatchSummary()
    lines_before = 0
    distinct = DistinctSubjects()     # a subject whose USCC an earlier one gave is refused (JSON Lines units)
    try:
        with _progress(request.progress, total, unit_name) as bar:
            task = bar.add_task("evaluating", total=total) if bar is not None else None
            for outcome in run_units(units, worker, jobs, fmt):
                outcome.errors = outcome.placed(lines_before, summary.subjects)
                if outcome.keys is not None:
                    drop_repeated(outcome, distinct, summary.subjects, lines_before, str(request.facts))
                if outcome.lines is not None:
                    lines_before += outcome.lines
                if outcome.payload is not None:
                    sink.write(outcome.payload)
                summary.add(outcome)
                if on_error is not None:
                    for problem in outcome.errors:
                        on_error(problem)
                if bar is not None and task is not None:
                    bar.update(task, advance=outcome.progress,
                               description=f"evaluating: {summary.subjects:,} subjects, {summary.records:,} records")
        sink.close()
    except BaseException:
        sink.abort()
        raise
    finally:
        stop_reading()
    summary.seconds = time.perf_counter() - started
    return summary


def _nothing() -> None:
    return None


def _progress(show: bool, total: int | None, unit_name: str) -> contextlib.AbstractContextManager[Any]:
    """A rich progress bar on stderr, or a context that shows nothing (stderr is not a terminal)."""
    if not show:
        return contextlib.nullcontext()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                    console=Console(file=sys.stderr), transient=True)


__all__ = ["BatchError", "BatchRequest", "BatchSummary", "ColumnarUnavailable", "SubjectErrors",
           "evaluate_stream", "quarter_end", "require_pyarrow", "run_batch", "start_reading"]
