"""One process's evaluator: the law on the evaluation day, the plain scorer, and the engine for everything else.

A batch run can start from a cached law (:mod:`mincredit.rules._cache`) without pydantic or the rulebook's
YAML; the compiled rulebook, with its models, is loaded on first use — when a subject is not a canonical plain
one — and checked to be the law's own (same digest).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from mincredit._kernel import Day, Law, Tables
from mincredit._population.plain import PlainScorer
from mincredit._population.write import Encoder, Header, OutputFormat
from mincredit._results import Outcome, SubjectErrors, SubjectResult
from mincredit.facts._reading import DistinctSubjects, FactError, RowPlaces, SubjectEntry, repeated_subject_error

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    from mincredit.facts._models import Subject
    from mincredit.rules._compiling import CompiledRulebook


@dataclass(frozen=True)
class Source:
    """A rulebook as a run holds it: its law, and how to get the compiled rulebook when a subject needs it."""

    law: Law
    load: Callable[[], CompiledRulebook] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, rulebook: CompiledRulebook | Source) -> Source:
        if isinstance(rulebook, Source):
            return rulebook
        return cls(rulebook.law, lambda: rulebook)


_AS_JSON = msgspec.json.Encoder(decimal_format="number")   # a Decimal as the JSON number of its exact text


class RulebookChanged(RuntimeError):
    """The rulebook loaded for a subject the engine evaluates is not the one the run started with (its file changed
    during the run): the run stops rather than score subjects under two rulebooks."""


class Evaluator:
    """Evaluates subjects of one run: plain lines by the kernel directly, anything else by the engine."""

    def __init__(self, source: CompiledRulebook | Source, as_of: dt.date, explain: bool) -> None:
        self.source = Source.of(source)
        self.law = self.source.law
        self.tables = Tables(self.law)
        self.day = Day(self.tables, as_of)
        self.as_of = as_of
        self.explain = explain
        self.plain = PlainScorer(self.day, explain)
        self._rulebook: CompiledRulebook | None = None

    @property
    def rulebook(self) -> CompiledRulebook:
        """The compiled rulebook (loaded on first use when the run started from a cached law)."""
        if self._rulebook is None:
            if self.source.load is None:
                raise RuntimeError("this run has no rulebook to load")
            rulebook = self.source.load()
            if rulebook.digest != self.law.digest:
                raise RulebookChanged(
                    f"the rulebook loaded for {self.law.rulebook_id}@{self.law.version} has digest {rulebook.digest}, "
                    f"not {self.law.digest}, the digest the run started with: its file changed during the run; run "
                    "it again")
            self._rulebook = rulebook
        return self._rulebook

    def entry(self, entry: SubjectEntry) -> Outcome:
        """A subject read and validated by the facts model (or the errors that stopped it)."""
        if entry.subject is None:
            if entry.partial is None:
                return SubjectErrors(entry.index, entry.errors)
            from mincredit._engine import entry_errors

            return SubjectErrors(entry.index, tuple(entry_errors(entry, self.rulebook)))
        return self.subject(entry.subject, entry.index, entry)

    def subject(self, subject: Subject, index: int, entry: SubjectEntry | None = None) -> Outcome:
        from mincredit._engine import checked_result

        outcome = checked_result(subject, self.rulebook, self.as_of, index, entry, self.explain)
        return SubjectErrors(index, tuple(outcome)) if isinstance(outcome, list) else outcome

    def raw(self, raw: Any, index: int, *, file: str | None, line: int | None, plain: bool = False,
            rows: RowPlaces | None = None) -> Outcome:
        """A subject given as plain data: validated by the facts model, then evaluated.

        With ``plain``, data that came from elsewhere than a JSON line the plain path already refused is first
        written as JSON and offered to the plain path, which takes a canonical plain subject exactly as the model
        would; anything else (another type, a field in another form) goes to the model as it was given.  ``rows``:
        the rows of a columnar file that its errors name.
        """
        if plain and type(raw) is dict:
            try:
                scored = self.plain.score(_AS_JSON.encode(raw))
            except (TypeError, ValueError):   # a value JSON cannot hold: the model says what it makes of it
                scored = None
            if scored is not None:
                return scored[0]
        from mincredit.facts._validating import validate_subject

        return self.entry(validate_subject(raw, file=file, index=index, line=line, rows=rows))


@dataclass
class UnitOutcome:
    """What one chunk of input became: the encoded results, the errors, and counts for the summary.

    ``lines`` is set by units that number their lines and subjects from 1 and 0 (a byte range of a JSON Lines
    file, read by whichever process evaluates it): their errors are numbered again in input order by
    :meth:`placed`, in the process that writes the output.
    """

    payload: bytes | pa.Table | None
    errors: list[FactError]
    subjects: int = 0
    records: int = 0
    error_subjects: int = 0
    not_evaluated: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    progress: int = 0
    lines: int | None = None
    keys: list[tuple[str | None, int]] | None = None
    """JSON Lines units: each subject's USCC (when valid; None otherwise) and line, in input order, for the run to
    find a subject given twice in the file across units (:func:`mincredit._population.run.run_batch`)."""

    def placed(self, lines_before: int, subjects_before: int) -> list[FactError]:
        """The errors, with line numbers and subject indices counted from the start of the input."""
        if self.lines is None or (lines_before == 0 and subjects_before == 0):
            return self.errors
        return [dataclasses.replace(
            error, line=error.line + lines_before if error.line is not None else None,
            subject_index=error.subject_index + subjects_before if error.subject_index is not None else None)
            for error in self.errors]


class Worker:
    """An evaluator and the encoder of its results: one per process (built again in each worker)."""

    def __init__(self, source: CompiledRulebook | Source, as_of: dt.date, explain: bool, fmt: OutputFormat) -> None:
        self.evaluator = Evaluator(source, as_of, explain)
        law = self.evaluator.law
        self.explain = explain
        self.encoder = Encoder(Header(as_of, law.rulebook_id, law.version, law.digest), fmt, explain)

    def outcome(self, outcomes: Sequence[Outcome], records: int, progress: int) -> UnitOutcome:
        results: list[SubjectResult] = []
        done = UnitOutcome(None, [], subjects=len(outcomes), records=records, progress=progress)
        for outcome in outcomes:
            if isinstance(outcome, SubjectErrors):
                done.errors.extend(outcome.errors)
                done.error_subjects += 1
                continue
            results.append(outcome)
            count(done, outcome)
        done.payload = self.encoder.encode(results) if results else None
        return done


def drop_repeated(outcome: UnitOutcome, distinct: DistinctSubjects, subjects_before: int, lines_before: int,
                  file: str | None) -> None:
    """Refuse the subjects of a unit whose USCC an earlier subject of the file gave (the unit's errors already
    numbered in the file): their results are taken out of the payload, their errors replaced by that one.  One
    look-up per subject; the rest only when a USCC repeats."""
    assert outcome.keys is not None
    repeated: dict[int, FactError] = {}
    claim = distinct.first.setdefault       # one dictionary operation a subject (DistinctSubjects.repeats, inlined)
    for position, (uscc, line) in enumerate(outcome.keys):
        if uscc is not None:
            index, at = subjects_before + position, lines_before + line
            here = index << 32 | at
            first = claim(uscc, here)
            if first != here:
                repeated[index] = repeated_subject_error(uscc, None, distinct.place(first), file, at, index)
    if not repeated:
        return
    names: dict[int | None, str | None] = {error.subject_index: error.name for error in outcome.errors if error.name}
    with_errors = {error.subject_index for error in outcome.errors}
    taken: dict[int, int] = {}         # a repeated subject's index → its result's place in the payload
    place = 0
    for position in range(len(outcome.keys)):
        index = subjects_before + position
        if index not in with_errors:
            if index in repeated:
                taken[index] = place
            place += 1
    removed = _take_out(outcome, sorted(taken.values()))
    for index, place in taken.items():
        grade, name = removed[place]
        names[index] = name
        if grade is None:
            outcome.not_evaluated -= 1
        else:
            outcome.grades[grade] -= 1
            if not outcome.grades[grade]:
                del outcome.grades[grade]
        outcome.error_subjects += 1
    outcome.errors = sorted([error for error in outcome.errors if error.subject_index not in repeated]
                            + [dataclasses.replace(error, name=names.get(index)) for index, error in repeated.items()],
                            key=lambda error: error.subject_index if error.subject_index is not None else -1)


def _take_out(outcome: UnitOutcome, places: list[int]) -> dict[int, tuple[str | None, str | None]]:
    """Take the results at these places out of the unit's payload; each one's grade and name."""
    payload = outcome.payload
    found: dict[int, tuple[str | None, str | None]] = {}
    if not places or payload is None:
        return found
    if isinstance(payload, bytes):
        import json

        lines = payload.split(b"\n")[:-1]
        for place in places:
            result = json.loads(lines[place])
            found[place] = (result.get("grade"), result.get("name"))
        chosen = set(places)
        kept = [line for place, line in enumerate(lines) if place not in chosen]
        outcome.payload = b"".join(line + b"\n" for line in kept) or None
        return found
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    grades, names = payload.column("grade").to_pylist(), payload.column("name").to_pylist()
    for place in places:
        found[place] = (grades[place], names[place])
    keep = [place not in set(places) for place in range(payload.num_rows)]
    outcome.payload = payload.filter(pa.array(keep)) if any(keep) else None
    return found


def count(done: UnitOutcome, result: SubjectResult) -> None:
    if result.grade is not None:
        done.grades[result.grade] += 1
    else:
        done.not_evaluated += 1


def record_count(raw: Any) -> int:
    records = raw.get("records") if isinstance(raw, Mapping) else None
    return len(records) if isinstance(records, list) else 0
