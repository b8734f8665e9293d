"""Evaluation records and audit replay.

An evaluation record (``mincredit evaluate … --record OUT.json``) keeps what an
auditor needs to replay an evaluation years later, bit for bit: the results
exactly as ``evaluate --format json`` prints them, the rulebook's id, version
and digest, the as-of date, the library version, and the digest of the facts
as evaluated.  :func:`replay` loads the recorded rulebook version, checks both
digests, evaluates again and compares field by field.  docs/versions.md
describes the record format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from mincredit._atomic import atomic_write
from mincredit._decimals import canonical_value
from mincredit._engine import Evaluation, evaluate
from mincredit._report import evaluation_data
from mincredit.facts._validating import SubjectEntry, read_facts_file
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._files import ID_RE, ID_VERSION_RE
from mincredit.rules._registry import RulebookLibrary, UnknownRulebook, resolve_rulebook

RECORD_KIND = "mincredit evaluation record"
RECORD_FORMAT = 1

# What identifies an error for replay: not the file it was read from nor its line (a record replays
# against a copy of the facts kept elsewhere, or reformatted), but whom it concerns and what it says.
_ERROR_KEYS = ("subject_index", "uscc", "name", "record_id", "field", "message")


# --- facts digest -----------------------------------------------------------------------------------

def canonical_facts(entries: Iterable[SubjectEntry]) -> list[Any]:
    """The facts as evaluated, one item per subject in input order (see :func:`facts_digest`)."""
    canonical: list[Any] = []
    for entry in entries:
        if entry.subject is not None:
            # Fields at their defaults are left out, so that a fact model growing an optional field
            # (with a default) keeps the digests of facts recorded before it grew.
            canonical.append(canonical_value(entry.subject.model_dump(mode="python", exclude_defaults=True)))
        else:
            canonical.append({"unreadable": [
                {key: value for key, value in error.as_dict().items() if key in _ERROR_KEYS}
                for error in entry.errors]})
    return canonical


def facts_digest(entries: Iterable[SubjectEntry]) -> str:
    """``sha256:<hex>`` of the facts as evaluated, independent of how the facts file is written.

    Hashed: a JSON list with one item per subject, in the order of the file.  A valid subject is its
    validated model (every field whose value is not the model's default), numbers as normalised decimals (850, 850.0 and
    8.5E2 are the same), dates as YYYY-MM-DD.  A subject that could not be read is
    ``{"unreadable": [its errors without file and line]}``.  Serialised with sorted keys, no
    insignificant whitespace, UTF-8.  So YAML vs JSON, comments, key order, quoting and layout do not
    change the digest; a changed value, an added, removed or reordered subject does.
    """
    text = json.dumps(canonical_facts(entries), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- writing records --------------------------------------------------------------------------------

def library_version() -> str:
    try:
        return metadata.version("mincredit")
    except metadata.PackageNotFoundError:
        return "unknown"


def evaluation_record(evaluation: Evaluation, entries: Sequence[SubjectEntry], *,
                      facts_file: str | None = None, recorded_at: dt.datetime | None = None,
                      subjects_file: str | None = None) -> dict[str, Any]:
    """The record of one evaluation of ``entries``, as JSON-ready data (``subjects_file``: the subjects file of a
    Parquet or CSV records file in two files, named for the auditor who replays it)."""
    moment = recorded_at or dt.datetime.now(dt.UTC)
    facts: dict[str, Any] = {"file": facts_file, "subjects": len(entries), "digest": facts_digest(entries)}
    if subjects_file is not None:
        facts["subjects_file"] = subjects_file
    return {
        "record": RECORD_KIND,
        "format": RECORD_FORMAT,
        "recorded_at": moment.isoformat(timespec="seconds"),
        "library": {"name": "mincredit", "version": library_version()},
        "rulebook": {"id": evaluation.rulebook.id, "version": evaluation.rulebook.version,
                     "digest": evaluation.rulebook.digest},
        "as_of": evaluation.as_of.isoformat(),
        "facts": facts,
        "evaluation": evaluation_data(evaluation),
    }


def record_json(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def write_record(path: str | Path, record: dict[str, Any]) -> None:
    atomic_write(path, record_json(record).encode("utf-8"))


# --- reading records --------------------------------------------------------------------------------

class ReplayError(Exception):
    """The record cannot be replayed: unreadable, or its rulebook cannot be found."""


class DigestMismatch(ReplayError):
    """The facts, the rulebook (or, for a population record, the subjects file or the recorded output) given are
    not the ones the record was made with."""

    def __init__(self, which: Literal["facts", "rulebook", "subjects file", "output"], recorded: str, found: str,
                 detail: str, hint: str = "") -> None:
        self.which = which
        self.recorded = recorded
        self.found = found
        super().__init__(f"the {which} digest does not match the record: the record says {recorded}, "
                         f"{detail} has {found}" + (f"; {hint}" if hint else ""))


@dataclass(frozen=True)
class EvaluationRecord:
    """A record read back: what replay needs from it, and the whole data."""

    rulebook_id: str
    rulebook_version: str
    rulebook_digest: str
    as_of: dt.date
    facts_digest: str
    library_version: str
    evaluation: dict[str, Any]
    data: dict[str, Any]


def record_field(data: Any, *path: str, kind: str = "evaluation") -> Any:
    """The value at ``path`` in a record of ``kind`` (evaluation, population), or the error a clerk reads when the
    record has no such field."""
    value = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise ReplayError(f"this is not a mincredit {kind} record: it has no {'.'.join(path)}")
        value = value[key]
    return value


def parse_record(data: Any) -> EvaluationRecord:
    if record_field(data, "record") != RECORD_KIND:
        raise ReplayError(f"this is not a mincredit evaluation record (its 'record' is not {RECORD_KIND!r})")
    if record_field(data, "format") != RECORD_FORMAT:
        raise ReplayError(f"the record has format {data['format']!r}; this mincredit reads format {RECORD_FORMAT}")
    strings = {name: record_field(data, *path) for name, path in {
        "id": ("rulebook", "id"), "version": ("rulebook", "version"), "digest": ("rulebook", "digest"),
        "as_of": ("as_of",), "facts": ("facts", "digest"), "library": ("library", "version"),
    }.items()}
    for name, value in strings.items():
        if not isinstance(value, str):
            raise ReplayError(f"the record's {name} must be text, not {value!r}")
    # A record names its rulebook by library id and version, never by a file: replay looks the version up in the
    # library, so a record cannot make it read another file (`evil/miner`, version `x.yaml`).
    if not ID_RE.match(strings["id"]):
        raise ReplayError(f"the record's rulebook id {strings['id']!r} is not a rulebook id (lower-case letters, "
                          "digits, '-' and '_', starting with a letter); a record names its rulebook by library id "
                          "and version only")
    if not ID_VERSION_RE.match(f"{strings['id']}@{strings['version']}") or strings["version"].strip() != \
            strings["version"]:
        raise ReplayError(f"the record's rulebook version {strings['version']!r} is not a version name (text "
                          "without '/', '\\' or '@'); a record names its rulebook by library id and version only")
    try:
        as_of = dt.date.fromisoformat(strings["as_of"])
    except ValueError:
        raise ReplayError(f"the record's as_of {strings['as_of']!r} is not a date") from None
    evaluation = record_field(data, "evaluation")
    if not isinstance(evaluation, dict) or not isinstance(evaluation.get("results"), list):
        raise ReplayError("the record's evaluation has no list of results")
    return EvaluationRecord(strings["id"], strings["version"], strings["digest"], as_of, strings["facts"],
                            strings["library"], evaluation, data)


def read_record(path: str | Path) -> EvaluationRecord:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ReplayError(f"cannot read the record {path}: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReplayError(f"the record {path} is not valid JSON ({error.msg}, line {error.lineno})") from None
    return parse_record(data)


# --- replay -----------------------------------------------------------------------------------------

def recorded_rulebook(rulebook_id: str, version: str, digest: str, *, library: RulebookLibrary | None = None,
                      rulebook: str | Path | None = None) -> CompiledRulebook:
    """The rulebook a record was made with: its ``id@version`` from the library (or the file or id@version given
    as ``rulebook``), which must have the recorded digest (:class:`DigestMismatch` names the version that has it,
    if the library holds one)."""
    library = library or RulebookLibrary.shipped()
    spec = str(rulebook) if rulebook is not None else f"{rulebook_id}@{version}"
    try:
        if rulebook is not None:     # what the auditor named: a file kept with the record, or another id@version
            compiled = resolve_rulebook(spec, library=library).rulebook
        else:                        # what the record names: a version in the library, never a path
            compiled = library.compiled(library.get(rulebook_id, version))
    except UnknownRulebook as error:
        raise ReplayError(f"the recorded rulebook cannot be found: {error}; give the rulebook file the "
                          "record was made with") from None
    if compiled.digest != digest:
        source = (f"the rulebook {rulebook}" if rulebook is not None
                  else f"{spec} in the rulebook library {library.directory}")
        hint = ""
        others = [entry.spec for entry in library.with_digest(digest)]
        if others:
            hint = f"the recorded digest is that of {', '.join(others)}"
        elif rulebook is None:
            hint = ("its meaning was changed without a new version; give the rulebook file the record was "
                    "made with (replay --rulebook FILE)")
        raise DigestMismatch("rulebook", digest, compiled.digest, source, hint)
    return compiled


@dataclass(frozen=True)
class Difference:
    """One field whose replayed value differs from the recorded one (``None`` where absent)."""

    subject: str
    field: str
    recorded: Any
    replayed: Any


@dataclass(frozen=True)
class ReplayOutcome:
    record: EvaluationRecord
    rulebook: CompiledRulebook
    evaluation: Evaluation
    differences: tuple[Difference, ...]
    library_version: str

    @property
    def identical(self) -> bool:
        return not self.differences


_ABSENT = object()


def _compare(recorded: Any, replayed: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Every leaf where two JSON values differ, with its path; lists of records are matched by record id."""
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key in list(recorded) + [key for key in replayed if key not in recorded]:
            yield from _compare(recorded.get(key, _ABSENT), replayed.get(key, _ABSENT),
                                f"{path}.{key}" if path else str(key))
        return
    if isinstance(recorded, list) and isinstance(replayed, list):
        keyed_recorded = _keyed(recorded)
        keyed_replayed = _keyed(replayed)
        if keyed_recorded is not None and keyed_replayed is not None:
            for key in list(keyed_recorded) + [key for key in keyed_replayed if key not in keyed_recorded]:
                yield from _compare(keyed_recorded.get(key, _ABSENT), keyed_replayed.get(key, _ABSENT),
                                    f"{path}[{key}]")
            return
        for index in range(max(len(recorded), len(replayed))):
            yield from _compare(recorded[index] if index < len(recorded) else _ABSENT,
                                replayed[index] if index < len(replayed) else _ABSENT, f"{path}[{index}]")
        return
    if recorded is _ABSENT or replayed is _ABSENT or type(recorded) is not type(replayed) or recorded != replayed:
        yield (path, None if recorded is _ABSENT else recorded, None if replayed is _ABSENT else replayed)


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    if not items or not all(isinstance(item, dict) and isinstance(item.get("record_id"), str) for item in items):
        return None
    keys = [item["record_id"] for item in items]
    return dict(zip(keys, items, strict=True)) if len(set(keys)) == len(keys) else None


def _by_subject(results: list[Any]) -> dict[str, Any]:
    """Results keyed by USCC (and name), numbered when a USCC occurs twice."""
    keyed: dict[str, Any] = {}
    for result in results:
        label = f"{result.get('uscc')} {result.get('name')}" if isinstance(result, dict) else repr(result)
        key, count = label, 1
        while key in keyed:
            count += 1
            key = f"{label} (#{count})"
        keyed[key] = result
    return keyed


def compare_rows(recorded: dict[str, Any], replayed: dict[str, Any]) -> list[Difference]:
    """Every field where two results of one subject differ (records matched by record id); the subject left blank."""
    return [Difference("", path, old, new) for path, old, new in _compare(recorded, replayed, "")]


def compare_evaluations(recorded: dict[str, Any], replayed: dict[str, Any]) -> list[Difference]:
    """Every difference between two evaluations in their JSON form, subject by subject, field by field.

    Results are matched by subject (USCC), records within a subject by record id; errors are compared
    without the facts file's name and line, which a copy or a reformatting of the facts may change.
    """
    differences: list[Difference] = []
    for key in ("rulebook", "as_of"):
        for path, old, new in _compare(recorded.get(key), replayed.get(key), key):
            differences.append(Difference("(evaluation)", path, old, new))
    old_results = _by_subject(list(recorded.get("results") or []))
    new_results = _by_subject(list(replayed.get("results") or []))
    for subject in list(old_results) + [key for key in new_results if key not in old_results]:
        old, new = old_results.get(subject, _ABSENT), new_results.get(subject, _ABSENT)
        if old is _ABSENT or new is _ABSENT:
            differences.append(Difference(subject, "(result)", None if old is _ABSENT else "evaluated",
                                          None if new is _ABSENT else "evaluated"))
            continue
        for path, old_value, new_value in _compare(old, new, ""):
            differences.append(Difference(subject, path, old_value, new_value))

    def error_view(errors: Any) -> list[Any]:
        return [{key: error.get(key) for key in _ERROR_KEYS} if isinstance(error, dict) else error
                for error in (errors or [])]

    for path, old_value, new_value in _compare(error_view(recorded.get("errors")),
                                                error_view(replayed.get("errors")), "errors"):
        differences.append(Difference("(errors)", path, old_value, new_value))
    return differences


def replay(record: EvaluationRecord | str | Path, facts: str | Path | Iterable[SubjectEntry], *,
           library: RulebookLibrary | None = None, rulebook: str | Path | None = None,
           subjects: str | Path | None = None) -> ReplayOutcome:
    """Re-evaluate a record's facts under the record's rulebook version and compare with the record.

    ``rulebook`` overrides where the rulebook comes from (a file kept with the record, or another
    id@version); its digest must still match the record's.  ``subjects`` is the subjects file of a Parquet or
    CSV records file in two files.  Raises :class:`DigestMismatch` when the facts or the rulebook are not those
    recorded, :class:`ReplayError` when the record is unusable.
    """
    if not isinstance(record, EvaluationRecord):
        record = read_record(record)
    entries = list(read_facts_file(facts, subjects=subjects)) if isinstance(facts, str | Path) else list(facts)
    found_facts = facts_digest(entries)
    if found_facts != record.facts_digest:
        where = f"the facts file {facts}" if isinstance(facts, str | Path) else "the facts given"
        raise DigestMismatch("facts", record.facts_digest, found_facts,
                             f"{where} ({len(entries)} subjects)")
    compiled = recorded_rulebook(record.rulebook_id, record.rulebook_version, record.rulebook_digest,
                                 library=library, rulebook=rulebook)
    evaluation = evaluate(entries, compiled, record.as_of)
    # the replayed data goes through JSON exactly as a record's data did, so that types compare alike
    replayed = json.loads(json.dumps(evaluation_data(evaluation), ensure_ascii=False))
    differences = compare_evaluations(record.evaluation, replayed)
    return ReplayOutcome(record, compiled, evaluation, tuple(differences), library_version())
