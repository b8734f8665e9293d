"""Records of population runs, and their replay.

An evaluation record (:mod:`mincredit._replay`) keeps every result, which suits a facts document but not a
quarter's population of a hundred thousand subjects written to a JSON Lines or Parquet file.  A population record
keeps, instead of the results, the SHA-256 of the files: the facts file (and the subjects file of a two-file
columnar layout) as read, and the output as written; with the rulebook's id, version and digest, the as-of date,
whether explanations were on, the library's version, the run's summary and the digest of its errors.

:func:`replay_population` checks the facts (and subjects) file against its digest, finds the recorded rulebook
version and checks its digest, evaluates the population again into a temporary file and compares the output's
digest with the record's.  When they differ and the recorded output is at hand (its digest checked first), both
outputs are read and every subject whose result differs is named, field by field.  A Parquet file written by
another pyarrow may differ in bytes with the same results; the replay then says so and counts as identical.
docs/versions.md describes the record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mincredit._population.run import BatchRequest, BatchSummary, run_batch
from mincredit._population.write import MEASURE_FIELDS, output_format
from mincredit._replay import (
    Difference,
    DigestMismatch,
    ReplayError,
    compare_rows,
    library_version,
    record_field,
    recorded_rulebook,
)
from mincredit.facts._reading import FactError
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import RulebookLibrary

POPULATION_RECORD_KIND = "mincredit population record"
POPULATION_RECORD_FORMAT = 1
_BLOCK = 1 << 20


# --- digests of files and errors ----------------------------------------------------------------------

@dataclass(frozen=True)
class FileDigest:
    """A file's size and SHA-256, as read once, with what tells a later change (its size and modification time)."""

    path: Path
    bytes: int
    digest: str
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileDigest:
        hasher = hashlib.sha256()
        size = 0
        with path.open("rb") as handle:
            stat = path.stat()
            while block := handle.read(_BLOCK):
                hasher.update(block)
                size += len(block)
        return cls(path, size, "sha256:" + hasher.hexdigest(), stat.st_mtime_ns)

    def unchanged(self) -> bool:
        """Whether the file still has the size and modification time it had when it was digested."""
        try:
            stat = self.path.stat()
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (self.bytes, self.mtime_ns)

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "bytes": self.bytes, "digest": self.digest}


class ErrorDigest:
    """The SHA-256 of a run's errors as they are reported, one canonical JSON line each, without the file's name
    (a replay may read the same bytes from another place); fed one error at a time, so memory holds none."""

    _KEYS = ("line", "row", "subject_index", "uscc", "name", "record_id", "field", "message")

    def __init__(self) -> None:
        self.count = 0
        self._hasher = hashlib.sha256()

    def add(self, error: FactError) -> None:
        data = error.as_dict()
        line = json.dumps({key: data.get(key) for key in self._KEYS}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
        self._hasher.update(line.encode("utf-8") + b"\n")
        self.count += 1

    @property
    def digest(self) -> str:
        return "sha256:" + self._hasher.hexdigest()


# --- the record -----------------------------------------------------------------------------------------

def population_record(*, rulebook: tuple[str, str, str], as_of: dt.date, explain: bool, facts: FileDigest,
                      subjects: FileDigest | None, output: FileDigest, summary: BatchSummary, errors: ErrorDigest,
                      recorded_at: dt.datetime | None = None) -> dict[str, Any]:
    """The record of one population run, as JSON-ready data; ``rulebook`` is (id, version, digest)."""
    moment = recorded_at or dt.datetime.now(dt.UTC)
    rulebook_id, version, digest = rulebook
    return {
        "record": POPULATION_RECORD_KIND,
        "format": POPULATION_RECORD_FORMAT,
        "recorded_at": moment.isoformat(timespec="seconds"),
        "library": {"name": "mincredit", "version": library_version()},
        "rulebook": {"id": rulebook_id, "version": version, "digest": digest},
        "as_of": as_of.isoformat(),
        "facts": facts.as_dict(),
        "subjects_file": subjects.as_dict() if subjects is not None else None,
        "output": {**output.as_dict(), "format": output_format(output.path), "explain": explain},
        "summary": {"subjects": summary.subjects, "records": summary.records, "graded": summary.evaluated,
                    "not_evaluated": summary.not_evaluated, "with_errors": summary.error_subjects,
                    "grades": dict(sorted(summary.grades.items()))},
        "errors": {"count": errors.count, "digest": errors.digest},
    }


def is_population_record(data: Any) -> bool:
    return isinstance(data, dict) and data.get("record") == POPULATION_RECORD_KIND


@dataclass(frozen=True)
class PopulationRecord:
    """A population record read back: what replay needs, and the whole data."""

    rulebook_id: str
    rulebook_version: str
    rulebook_digest: str
    as_of: dt.date
    explain: bool
    facts_digest: str
    subjects_digest: str | None
    subjects_file: str | None
    output_file: str
    output_digest: str
    errors_count: int
    errors_digest: str
    library_version: str
    data: dict[str, Any]


def _text(data: Any, *path: str) -> str:
    value = record_field(data, *path, kind="population")
    if not isinstance(value, str):
        raise ReplayError(f"the record's {'.'.join(path)} must be text, not {value!r}")
    return value


def parse_population_record(data: Any) -> PopulationRecord:
    if not is_population_record(data):
        raise ReplayError(f"this is not a mincredit population record (its 'record' is not "
                          f"{POPULATION_RECORD_KIND!r})")
    if data.get("format") != POPULATION_RECORD_FORMAT:
        raise ReplayError(f"the record has format {data.get('format')!r}; this mincredit reads population records of "
                          f"format {POPULATION_RECORD_FORMAT}")
    try:
        as_of = dt.date.fromisoformat(_text(data, "as_of"))
    except ValueError:
        raise ReplayError(f"the record's as_of {data['as_of']!r} is not a date") from None
    output, errors = data.get("output"), data.get("errors")
    if not isinstance(output, dict) or not isinstance(output.get("explain"), bool):
        raise ReplayError("the record's output does not say whether explanations were on")
    if not isinstance(errors, dict) or not isinstance(errors.get("count"), int):
        raise ReplayError("the record's errors have no count")
    subjects = data.get("subjects_file")
    return PopulationRecord(
        _text(data, "rulebook", "id"), _text(data, "rulebook", "version"), _text(data, "rulebook", "digest"), as_of,
        output["explain"], _text(data, "facts", "digest"),
        _text(data, "subjects_file", "digest") if subjects is not None else None,
        _text(data, "subjects_file", "file") if subjects is not None else None,
        _text(data, "output", "file"), _text(data, "output", "digest"), errors["count"],
        _text(data, "errors", "digest"), _text(data, "library", "version"), data)


def read_population_record(path: str | Path) -> PopulationRecord:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ReplayError(f"cannot read the record {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise ReplayError(f"the record {path} is not valid JSON ({error.msg}, line {error.lineno})") from None
    return parse_population_record(data)


# --- replay ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PopulationReplay:
    """What replaying a population record found.

    ``same_bytes``: the replayed output is byte for byte the recorded one.  ``compared``: the recorded output was
    at hand and, the bytes differing, both were read and compared result by result; ``differences`` are then the
    fields that differ, subject by subject (empty: the same results in other bytes).  ``same_errors``: the errors
    reported are those recorded (count and digest).
    """

    record: PopulationRecord
    rulebook: CompiledRulebook
    summary: BatchSummary
    same_bytes: bool
    compared: bool
    differences: tuple[Difference, ...]
    same_errors: bool
    errors: int
    library_version: str

    @property
    def identical(self) -> bool:
        """The same results and the same errors (in the same bytes, or, when only the bytes differ, in others)."""
        return self.same_errors and (self.same_bytes or (self.compared and not self.differences))

    @property
    def differing_subjects(self) -> list[str]:
        return list(dict.fromkeys(difference.subject for difference in self.differences))


def _check(found: FileDigest, recorded: str, which: Literal["facts", "subjects file", "output"],
           hint: str = "") -> None:
    if found.digest != recorded:
        raise DigestMismatch(which, recorded, found.digest, f"{found.path} ({found.bytes:,} bytes)", hint)


def replay_population(record: PopulationRecord | str | Path, facts: str | Path, *,
                      subjects: str | Path | None = None, results: str | Path | None = None,
                      library: RulebookLibrary | None = None, rulebook: str | Path | None = None) -> PopulationReplay:
    """Run a recorded population run again and compare its output with the record's.

    ``results`` is the recorded output (default: the file the record names, when it exists); without it only the
    digests are compared.  Raises :class:`DigestMismatch` when the facts, the subjects file, the rulebook or the
    recorded output given are not those of the record, :class:`ReplayError` when the record cannot be used.
    """
    if not isinstance(record, PopulationRecord):
        record = read_population_record(record)
    facts_path = Path(facts)
    try:
        _check(FileDigest.of(facts_path), record.facts_digest, "facts",
               "a population record holds the digest of the file's bytes: give the very file the run read")
        subjects_path = Path(subjects) if subjects is not None else None
        if record.subjects_digest is not None:
            if subjects_path is None:
                raise ReplayError(f"the run read its subjects from a second file ({record.subjects_file}); give it "
                                  "with --subjects FILE")
            _check(FileDigest.of(subjects_path), record.subjects_digest, "subjects file")
        elif subjects_path is not None:
            raise ReplayError("the run read no subjects file; replay it without --subjects")
        original = Path(results) if results is not None else Path(record.output_file)
        if results is not None or original.is_file():
            _check(FileDigest.of(original), record.output_digest, "output",
                   "give the output the run wrote with --results FILE")
            recorded_output: Path | None = original
        else:
            recorded_output = None
    except OSError as error:
        raise ReplayError(f"cannot read {error.filename}: {error.strerror}") from None
    compiled = recorded_rulebook(record.rulebook_id, record.rulebook_version, record.rulebook_digest,
                                 library=library, rulebook=rulebook)
    suffix = Path(record.output_file).suffix or ".jsonl"
    errors = ErrorDigest()
    with tempfile.TemporaryDirectory(prefix="mincredit-replay-") as folder:
        replayed = Path(folder) / f"replayed{suffix}"
        summary = run_batch(BatchRequest(facts_path, compiled, record.as_of, replayed, explain=record.explain,
                                         subjects_file=subjects_path), on_error=errors.add)
        found = FileDigest.of(replayed)
        same_bytes = found.digest == record.output_digest
        differences: list[Difference] = []
        if not same_bytes and recorded_output is not None:
            differences = compare_outputs(recorded_output, replayed)
    return PopulationReplay(record, compiled, summary, same_bytes, recorded_output is not None and not same_bytes,
                            tuple(differences), (errors.count, errors.digest) == (record.errors_count,
                                                                                  record.errors_digest),
                            errors.count, library_version())


# --- reading two outputs and comparing them -------------------------------------------------------------

def output_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The results of a JSON Lines or Parquet output, one at a time, each as the JSON output writes it (a Parquet
    row's lists parsed from their JSON text, its dates as YYYY-MM-DD)."""
    if output_format(path) == "jsonl":
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
        return
    import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            yield _as_json(row)


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in row.items():
        if key in MEASURE_FIELDS:
            if value is not None:
                data[key] = json.loads(value)
        elif key == "items" and value is not None:
            data[key] = [{name: item_value.isoformat() if isinstance(item_value, dt.date) else item_value
                          for name, item_value in item.items()} for item in value]
        else:
            data[key] = value.isoformat() if isinstance(value, dt.date) else value
    return data


def _keyed(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each result with its key: USCC and name, numbered when a subject occurs again."""
    seen: dict[str, int] = {}
    for row in output_rows(path):
        label = f"{row.get('uscc')} {row.get('name')}"
        seen[label] = seen.get(label, 0) + 1
        yield (label if seen[label] == 1 else f"{label} (#{seen[label]})"), row


def _fingerprint(row: dict[str, Any]) -> bytes:
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")).digest()


def compare_outputs(recorded: Path, replayed: Path) -> list[Difference]:
    """Every field that differs between two outputs of a population run, subject by subject.

    Memory holds a fingerprint per subject of the recorded output, then the differing subjects' results only: the
    outputs are read twice, once to find which subjects differ and once for their fields.
    """
    fingerprints = {key: _fingerprint(row) for key, row in _keyed(recorded)}
    differing: list[str] = []
    seen: set[str] = set()
    for key, row in _keyed(replayed):
        seen.add(key)
        if fingerprints.get(key) != _fingerprint(row):
            differing.append(key)
    differing.extend(key for key in fingerprints if key not in seen)
    if not differing:
        return []
    wanted = set(differing)
    old = {key: row for key, row in _keyed(recorded) if key in wanted}
    new = {key: row for key, row in _keyed(replayed) if key in wanted}
    differences: list[Difference] = []
    for key in differing:
        if key not in old or key not in new:
            differences.append(Difference(key, "(result)", "evaluated" if key in old else None,
                                          "evaluated" if key in new else None))
            continue
        differences.extend(dataclasses.replace(difference, subject=key)
                           for difference in compare_rows(old[key], new[key]))
    return differences
