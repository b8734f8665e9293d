"""Read facts files (YAML, JSON, JSON Lines) subject by subject.

One bad subject never stops the others: each subject is validated on its own,
and a subject that fails is returned as a :class:`FactError` naming the file,
the subject, the record and the field, in words a clerk can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from mincredit._yaml import SourceMap, YamlReadError, decode_utf8, read_yaml
from mincredit.facts._models import (
    PartialSubject,
    Record,
    Subject,
    duplicate_id_message,
    repeated_ids,
)
from mincredit.facts._reading import (
    SURROGATE_ESCAPE,
    DistinctSubjects,
    FactError,
    FactsFileError,
    JsonProblem,
    RowPlaces,
    SubjectEntry,
    decode_json,
    duplicate_key_error,
    facts_format,
    holds,
    iter_jsonl_lines,
    lone_surrogate_error,
    parse_jsonl_line,
)
from mincredit.facts._types import digits_as_text

__all__ = [
    "RECORD_TYPES",
    "FactError",
    "FactsFileError",
    "SubjectEntry",
    "facts_format",
    "iter_jsonl_lines",
    "parse_jsonl_line",
    "read_facts_file",
    "read_facts_text",
    "read_jsonl_file",
    "subject_errors",
    "validate_subject",
]


RECORD_TYPES = ", ".join(
    repr(get_args(member.model_fields["type"].annotation)[0]) for member in get_args(get_args(Record)[0]))

_PLAIN_WORDS = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a known field (check its spelling; unknown fields are not ignored)",
    "date_from_datetime_parsing": "is not a valid date; write it as YYYY-MM-DD",
    "date_parsing": "is not a valid date; write it as YYYY-MM-DD",
    "date_type": "is not a valid date; write it as YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date without a time of day",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "decimal_parsing": "must be a number",
    "decimal_type": "must be a number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "model_type": "must be a mapping of fields",
    "union_tag_invalid": f"has an unknown record type; a record's type is one of {RECORD_TYPES}",
    "union_tag_not_found": f"needs a 'type', one of {RECORD_TYPES}",
}


def _clerk_message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    value = detail.get("input")
    context = detail.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error", detail["msg"]))
    if kind == "literal_error":
        return f"must be one of {context.get('expected')}, not {value!r}"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}, not {value!r}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}, not {value!r}"
    if kind == "greater_than":
        return f"must be greater than {context.get('gt')}, not {value!r}"
    if kind == "string_too_short":
        return "must not be empty"
    words = _PLAIN_WORDS.get(kind)
    if words is None:
        words = detail["msg"]
    if kind in {"missing", "extra_forbidden"} or value is None or isinstance(value, dict | list):
        return words
    return f"{words} (got {value!r})"


def subject_errors(
    error: ValidationError, raw: Any, *, file: str | None, index: int, line: int | None,
    source_map: SourceMap | None = None, base_path: tuple[str | int, ...] = (),
) -> list[FactError]:
    """Translate a subject's validation error into FactErrors naming subject, record and field."""
    uscc = raw.get("uscc") if isinstance(raw, dict) and isinstance(raw.get("uscc"), str) else None
    name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
    records = raw.get("records") if isinstance(raw, dict) else None
    found: list[FactError] = []
    for detail in error.errors(include_url=False):
        loc = [part for part in detail["loc"] if isinstance(part, str | int)]
        record_id = None
        field = None
        if len(loc) >= 2 and loc[0] == "records" and isinstance(loc[1], int):
            record_index = loc[1]
            record = records[record_index] if isinstance(records, list) and record_index < len(records) else None
            rid = record.get("id") if isinstance(record, dict) else None
            record_id = str(rid) if rid is not None else f"#{record_index + 1} (no id)"
            rest = [str(p) for p in loc[2:] if p not in {"violation", "honour"}]
            field = ".".join(rest) or None
        else:
            field = ".".join(str(p) for p in loc) or None
        at_line = line
        if source_map is not None:
            at_line = source_map.locate((*base_path, *loc), key=detail["type"] == "extra_forbidden").line
        found.append(FactError(
            message=_clerk_message(detail), file=file, line=at_line, subject_index=index,
            uscc=uscc, name=name, record_id=record_id, field=field,
        ))
    return found


def validate_subject(raw: Any, *, file: str | None, index: int, line: int | None,
                     source_map: SourceMap | None = None,
                     base_path: tuple[str | int, ...] = (), rows: RowPlaces | None = None) -> SubjectEntry:
    """A subject as the facts model validates it, or every error found, each naming where it is (``rows``: the
    rows of a subject read from a Parquet or CSV file)."""
    if not isinstance(raw, dict):
        return SubjectEntry(index, file, line, None, (_placed(FactError(
            "a subject must be a mapping of fields (uscc, name, kind, …)", file, line, index), rows),), rows)
    try:
        subject = Subject.model_validate(raw)
    except ValidationError as error:
        errors = subject_errors(error, raw, file=file, index=index, line=line, source_map=source_map,
                                base_path=base_path)
        errors.extend(_duplicates_behind(errors, raw, file=file, index=index, line=line))
        return SubjectEntry(index, file, line, None, tuple(_placed(e, rows) for e in errors), rows, _partial(raw))
    return SubjectEntry(index, file, line, subject, rows=rows)


def _duplicates_behind(errors: list[FactError], raw: dict[str, Any], *, file: str | None, index: int,
                       line: int | None) -> list[FactError]:
    """The model checks that record ids are unique only once every field is valid; so that a bad date elsewhere
    does not hide a duplicate id until it is fixed, the ids written are checked here too."""
    records = raw.get("records")
    if not isinstance(records, list):
        return []
    ids = [digits_as_text(record.get("id")) for record in records if isinstance(record, dict)]
    twice = repeated_ids(record_id.strip() for record_id in ids if isinstance(record_id, str))
    known = {error.message for error in errors}
    uscc = raw.get("uscc") if isinstance(raw.get("uscc"), str) else None
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    return [FactError(duplicate_id_message(record_id), file, line, index, uscc, name)
            for record_id in twice if duplicate_id_message(record_id) not in known]


def _placed(error: FactError, rows: RowPlaces | None) -> FactError:
    return rows.place(error) if rows is not None else error


_RECORD: TypeAdapter[Any] | None = None
_PLACEHOLDER_USCC = "91150600MA13R7T5Q6"   # a valid code: only the status and public score are checked with it


def _partial(raw: dict[str, Any]) -> PartialSubject | None:
    """What of a subject that failed validation validates on its own (None when its kind does not: no rulebook
    check can be made without it)."""
    global _RECORD
    kind = raw.get("kind")
    if not isinstance(kind, str):
        return None
    try:   # the model's own checks of kind, status and public score, with the fields that might have failed aside
        scalars = Subject.model_validate({"uscc": _PLACEHOLDER_USCC, "name": "-", "kind": kind,
                                          **{key: raw[key] for key in ("status", "public_score") if key in raw}})
        status, public, valid = scalars.status, scalars.public_score, True
    except ValidationError:
        try:
            Subject.model_validate({"uscc": _PLACEHOLDER_USCC, "name": "-", "kind": kind})
        except ValidationError:
            return None
        status, public, valid = "active", None, False
    if _RECORD is None:
        _RECORD = TypeAdapter(Record)
    records = []
    raw_records = raw.get("records")
    for item in raw_records if isinstance(raw_records, list) else ():
        try:
            records.append(_RECORD.validate_python(item))
        except ValidationError:
            continue
    uscc, name = raw.get("uscc"), raw.get("name")
    return PartialSubject(uscc if isinstance(uscc, str) else None, name if isinstance(name, str) else None, kind,
                          status, public, valid, tuple(records))


def _document_subjects(data: Any, file: str, source_map: SourceMap | None, surrogates: bool = False,
                       twice: Iterable[tuple[str, Any, str, int | None]] = ()) -> Iterator[SubjectEntry]:
    """The subjects of a YAML or JSON document.  ``twice``: keys given twice in a mapping — the key, the mapping
    (JSON) or its path from the document's root (YAML), the message, the line — each the error of the subject
    holding it, or of the whole file outside every subject."""
    if not isinstance(data, dict) or "subjects" not in data:
        raise FactsFileError(FactError("a facts file must be a mapping with a 'subjects:' list", file, 1))
    extra = sorted(set(data) - {"subjects"})
    if extra:
        raise FactsFileError(FactError(f"unknown top-level field {extra[0]!r}; a facts file holds only 'subjects'",
                                       file, source_map.locate((extra[0],), key=True).line if source_map else None))
    subjects = data["subjects"]
    if not isinstance(subjects, list):
        raise FactsFileError(FactError("'subjects' must be a list of subjects", file,
                                       source_map.locate(("subjects",)).line if source_map else None))
    doubled: dict[int, tuple[str, Any, str, int | None]] = {}
    for key, holder, message, line in twice:
        index = _subject_holding(subjects, holder)
        if index is None:
            raise FactsFileError(FactError(message, file, line))
        doubled.setdefault(index, (key, holder, message, line))
    distinct = DistinctSubjects()
    for index, raw in enumerate(subjects):
        line = source_map.locate(("subjects", index)).line if source_map else None
        if index in doubled:
            key, holder, message, at = doubled[index]
            yield SubjectEntry(index, file, line, None, (duplicate_key_error(
                raw, key, _mapping_at(raw, holder), message, file, at or line, index),))
            continue
        problem = lone_surrogate_error(raw, file, line, index) if surrogates else None
        if problem is not None:
            yield SubjectEntry(index, file, line, None, (problem,))
            continue
        refusal = distinct.refusal(raw, file, line, index)
        if refusal is not None:
            yield refusal
            continue
        yield validate_subject(raw, file=file, index=index, line=line, source_map=source_map,
                               base_path=("subjects", index))


def _subject_holding(subjects: list[Any], holder: Any) -> int | None:
    """Which subject holds a mapping, given as its path from the document's root (YAML) or as itself (JSON)."""
    if isinstance(holder, tuple):
        if len(holder) >= 2 and holder[0] == "subjects" and isinstance(holder[1], int):
            return holder[1]
        return None
    return next((index for index, raw in enumerate(subjects) if holds(raw, holder)), None)


def _mapping_at(raw: Any, holder: Any) -> Any:
    """The mapping a path from the document's root leads to within its subject (or the mapping itself)."""
    if not isinstance(holder, tuple):
        return holder
    value = raw
    for step in holder[2:]:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _key_of(message: str) -> str:
    """The key a YAML duplicate-key message names (between its first quotes)."""
    start = message.find("'")
    end = message.find("'", start + 1)
    return message[start + 1:end] if 0 <= start < end else ""


def _jsonl_subjects(numbered: Iterable[tuple[int, str | bytes]], file: str) -> Iterator[SubjectEntry]:
    distinct = DistinctSubjects()
    for index, (number, line) in enumerate(numbered):
        raw, problem = parse_jsonl_line(line, file, number, index)
        if problem is not None:
            yield problem
            continue
        refusal = distinct.refusal(raw, file, number, index)
        if refusal is not None:
            yield refusal
            continue
        yield validate_subject(raw, file=file, index=index, line=number)


def read_facts_text(text: str, file: str, fmt: str) -> Iterator[SubjectEntry]:
    """Yield each subject of a facts text; ``fmt`` is 'yaml', 'json' or 'jsonl'."""
    if fmt == "jsonl":
        yield from _jsonl_subjects(((number, line) for number, line in enumerate(text.split("\n"), start=1)
                                    if line.strip()), file)
        return
    if fmt == "json":
        try:
            data, doubled = decode_json(text)
        except JsonProblem as unreadable:
            raise FactsFileError(FactError(f"the file {unreadable.describe(line_known=False)}", file,
                                           unreadable.line)) from None
        yield from _document_subjects(
            data, file, None, surrogates=SURROGATE_ESCAPE.search(text) is not None,
            twice=[(key, holder, f"the key {key!r} appears twice in the same object; only one of them would be "
                                 "used", None) for key, holder in doubled])
        return
    try:
        document = read_yaml(text, facts=True)
    except YamlReadError as error:
        problem = error.problems[0]
        raise FactsFileError(FactError(problem.message, file, problem.position.line)) from None
    yield from _document_subjects(document.data, file, document.source_map, twice=[
        (_key_of(problem.message), path, problem.message, problem.position.line) for path, problem in document.located])


def read_jsonl_file(path: str | Path) -> Iterator[SubjectEntry]:
    """Yield each subject of a JSON Lines file as it is read: memory holds one line, not the file."""
    yield from _jsonl_subjects(iter_jsonl_lines(path), str(path))


COLUMNAR_SUFFIXES = frozenset({".parquet", ".pq", ".csv"})


def read_facts_file(path: str | Path, *, subjects: str | Path | None = None) -> Iterator[SubjectEntry]:
    """Yield each subject of a facts file, valid or with its errors; raise FactsFileError if unreadable.

    JSON Lines files are streamed line by line; YAML and JSON documents are read whole.  Parquet and CSV files
    (one record a row, docs/columnar.md; ``subjects``: the subjects file of the two-file layout) are read a batch
    of rows at a time and need pyarrow (``mincredit[columnar]``; ColumnarUnavailable without it); their errors
    name rows.
    """
    file = str(path)
    if Path(path).suffix.lower() in COLUMNAR_SUFFIXES:
        from mincredit._population.run import require_pyarrow

        require_pyarrow()
        from mincredit._population.columnar import read_columnar_facts

        yield from read_columnar_facts(Path(path), Path(subjects) if subjects is not None else None)
        return
    if subjects is not None:
        raise FactsFileError(FactError("a separate subjects file goes with a Parquet or CSV records file, not with "
                                       f"{Path(path).suffix or 'this'} facts", str(subjects)))
    if facts_format(path) == "jsonl":
        yield from read_jsonl_file(path)
        return
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise FactsFileError(FactError(f"cannot read the facts file: {error.strerror}", file)) from None
    try:
        text = decode_utf8(raw)
    except YamlReadError as error:
        problem = error.problems[0]
        raise FactsFileError(FactError(problem.message, file, problem.position.line)) from None
    yield from read_facts_text(text, file, facts_format(path))
