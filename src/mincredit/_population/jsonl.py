"""JSON Lines and document inputs, as units of whole subjects.

A JSON Lines file is cut into byte ranges of whole lines; each unit is read by the process that evaluates it,
so what goes to a worker process is three numbers.  Lines are split at ``\\n`` only (a ``\\r`` before it is
dropped) and blank lines are skipped, as :func:`mincredit.facts._reading.iter_jsonl_lines` reads them.  A YAML
or JSON document is read whole by the facts reader and handed on in chunks of subjects.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mincredit._population.evaluator import UnitOutcome, Worker, record_count
from mincredit._results import Outcome, SubjectErrors
from mincredit.facts._reading import FactError, FactsFileError, SubjectEntry, parse_jsonl_line, uscc_key

_BOM = b"\xef\xbb\xbf"
JSONL_UNIT_BYTES = 1 << 21   # 2 MiB of lines a unit: a few thousand subjects


@dataclass(frozen=True)
class JsonlUnit:
    """Whole lines of a JSON Lines file: the bytes from ``start`` up to ``end``, read by the process evaluating it.

    Its lines are numbered from 1 and its subjects from 0; :meth:`UnitOutcome.placed` numbers its errors in the
    file.
    """

    file: str
    start: int
    end: int

    def lines(self) -> list[bytes]:
        try:
            with open(self.file, "rb") as handle:
                handle.seek(self.start)
                data = handle.read(self.end - self.start)
        except OSError as error:
            raise FactsFileError(FactError(f"cannot read the facts file: {error.strerror}", self.file)) from None
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        if self.start == 0 and lines and lines[0].startswith(_BOM):
            lines[0] = lines[0][len(_BOM):]
        return lines

    def run(self, worker: Worker) -> UnitOutcome:
        evaluator = worker.evaluator
        score = evaluator.plain.score
        outcomes: list[Outcome] = []
        keys: list[tuple[str | None, int]] = []     # each subject's USCC and line: the run finds one given twice
        records = 0
        index = 0
        lines = self.lines()
        for number, line in enumerate(lines, start=1):
            if not line or line.isspace():     # blank (what strip() would empty), without copying the line
                continue
            if line.endswith(b"\r"):
                line = line.rstrip(b"\r")
            scored = score(line)
            if scored is not None:
                outcomes.append(scored[0])
                keys.append((scored[0].uscc, number))
                records += scored[1]
            else:
                raw, problem = parse_jsonl_line(line, self.file, number, index)
                if problem is not None:
                    outcomes.append(SubjectErrors(index, problem.errors))
                    keys.append((None, number))
                else:
                    records += record_count(raw)
                    outcomes.append(evaluator.raw(raw, index, file=self.file, line=number))
                    keys.append((uscc_key(raw), number))
            index += 1
        done = worker.outcome(outcomes, records, self.end - self.start)
        done.lines = len(lines)
        done.keys = keys
        return done


def jsonl_units(path: Path, unit_bytes: int | None = None) -> Iterator[JsonlUnit]:
    """Cut a JSON Lines file into byte ranges of whole lines (only the bytes around each cut are read here)."""
    unit_bytes = unit_bytes or JSONL_UNIT_BYTES
    file = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below, after the check
    except OSError as error:
        raise FactsFileError(FactError(f"cannot read the facts file: {error.strerror}", file)) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        start = 0
        while start < size:
            end = start + unit_bytes
            if end >= size:
                end = size
            else:
                handle.seek(end - 1)
                while True:                      # on to the end of the line the cut falls in
                    block = handle.read(1 << 16)
                    if not block:
                        end = size
                        break
                    cut = block.find(b"\n")
                    if cut >= 0:
                        end += cut
                        break
                    end += len(block)
            yield JsonlUnit(file, start, end)
            start = end


@dataclass(frozen=True)
class EntriesUnit:
    """Subjects already read (a YAML or JSON document)."""

    entries: list[SubjectEntry]

    def run(self, worker: Worker) -> UnitOutcome:
        outcomes = [worker.evaluator.entry(entry) for entry in self.entries]
        records = sum(len(entry.subject.records) for entry in self.entries if entry.subject is not None)
        return worker.outcome(outcomes, records, len(self.entries))


def document_units(path: Path, per_unit: int = 2000) -> Iterator[EntriesUnit]:
    from mincredit.facts._validating import read_facts_file

    chunk: list[SubjectEntry] = []
    for entry in read_facts_file(path):
        chunk.append(entry)
        if len(chunk) >= per_unit:
            yield EntriesUnit(chunk)
            chunk = []
    if chunk:
        yield EntriesUnit(chunk)
