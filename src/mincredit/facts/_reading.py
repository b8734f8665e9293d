"""Reading facts files without the fact models: where an error is, the file formats, JSON Lines lines.

Kept apart from :mod:`mincredit.facts._validating` (which validates with the pydantic models) so that a batch
run that never needs the models does not import them; :mod:`mincredit.facts._validating` re-exports all of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mincredit.facts._models import PartialSubject, Subject


@dataclass(frozen=True)
class FactError:
    """Why one subject (or the whole file) could not be evaluated, and where."""

    message: str
    file: str | None = None
    line: int | None = None
    subject_index: int | None = None
    uscc: str | None = None
    name: str | None = None
    record_id: str | None = None
    field: str | None = None
    row: int | None = None
    """Columnar files (Parquet, CSV) have rows, not lines: the 1-based record row, header not counted."""

    def describe(self) -> str:
        where = []
        if self.file:
            where.append(self.file + (f", line {self.line}" if self.line else "")
                         + (f", row {self.row}" if self.row else ""))
        if self.subject_index is not None:
            who = " ".join(part for part in (self.uscc, self.name) if part)
            where.append(f"subject #{self.subject_index + 1}" + (f" ({who})" if who else ""))
        if self.record_id:
            where.append(f"record {self.record_id}")
        if self.field:
            where.append(f"field '{self.field}'")
        return (": ".join(where) + ": " if where else "") + self.message

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file, "line": self.line,
            "subject_index": self.subject_index, "uscc": self.uscc, "name": self.name,
            "record_id": self.record_id, "field": self.field, "message": self.message,
        }
        if self.row is not None:   # only columnar inputs have rows; other outputs keep their exact keys
            data["row"] = self.row
        return data


@dataclass(frozen=True)
class RowPlaces:
    """Where the facts of a subject read from a columnar file (Parquet, CSV) are, so that every error about it,
    the facts model's or the rulebook's, names a row: a record's own row, or the subject's row."""

    file: str
    """The records file."""
    first_row: int
    """The subject's first row in the records file (1-based, the header not counted)."""
    subject_file: str
    """The file of the subject's own fields: the records file, or the subjects file of the two-file layout."""
    subject_row: int
    """The subject's row in ``subject_file``."""
    record_rows: dict[str, int] = field(default_factory=dict)
    """Record id → the row it is on in the records file."""
    subjects_only: bool = False
    """A subject of the subjects file that no record row mentions."""

    def place(self, error: FactError) -> FactError:
        """The error, naming the row it is about (and no line)."""
        if error.record_id is not None and not self.subjects_only:
            return replace(error, file=self.file, line=None,
                           row=self.record_rows.get(error.record_id, self.first_row))
        return replace(error, file=self.subject_file, line=None, row=self.subject_row)


@dataclass(frozen=True)
class SubjectEntry:
    """A subject read from a file, valid or not, with its place in the file."""

    index: int
    file: str | None
    line: int | None
    subject: Subject | None
    errors: tuple[FactError, ...] = ()
    rows: RowPlaces | None = None
    """For a subject read from a Parquet or CSV file: the rows its errors name."""
    partial: PartialSubject | None = None
    """For a subject that did not validate: what of it did (its kind, status, public score and the records that
    are valid on their own), which the rulebook's checks still read, so that every problem is reported at once."""

    def place(self, error: FactError) -> FactError:
        return self.rows.place(error) if self.rows is not None else error


class FactsFileError(Exception):
    """The facts file as a whole cannot be read (not the fault of one subject)."""

    def __init__(self, error: FactError) -> None:
        self.error = error
        super().__init__(error.describe())


def facts_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".json":
        return "json"
    return "yaml"


_DECODER = json.JSONDecoder(parse_float=Decimal)   # one decoder for every line: numbers as exact decimals


def parse_jsonl_line(line: str | bytes, file: str | None, number: int, index: int
                     ) -> tuple[Any, SubjectEntry | None]:
    """One JSON Lines line as plain data, or the entry reporting why it is not JSON (or not UTF-8)."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            return None, SubjectEntry(index, file, number, None, (FactError(
                f"this line is not valid UTF-8 (byte 0x{line[error.start]:02x} at column {error.start + 1})",
                file, number, index),))
    try:
        raw = _DECODER.decode(line)
    except json.JSONDecodeError as error:
        return None, SubjectEntry(index, file, number, None, (FactError(
            f"this line is not valid JSON ({error.msg} at column {error.colno})", file, number, index),))
    if SURROGATE_ESCAPE.search(line):
        problem = lone_surrogate_error(raw, file, number, index)
        if problem is not None:
            return None, SubjectEntry(index, file, number, None, (problem,))
    return raw, None


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""A JSON escape of a UTF-16 surrogate: the only way a text read from JSON can hold one (UTF-8 cannot)."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate_error(raw: Any, file: str | None, line: int | None, index: int) -> FactError | None:
    """The error for the first text of a subject that holds half of a UTF-16 surrogate pair (``"\\ud800"``
    without its other half), or None.  Such a text is not Unicode: no result holding it could be written."""
    found = _find_lone_surrogate(raw, ())
    if found is None:
        return None
    path, text = found
    uscc = raw.get("uscc") if isinstance(raw, dict) and isinstance(raw.get("uscc"), str) else None
    name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
    record_id = None
    if len(path) >= 2 and path[0] == "records" and isinstance(path[1], int):
        record = raw["records"][path[1]]
        rid = record.get("id") if isinstance(record, dict) else None
        record_id = rid if isinstance(rid, str) and not _LONE_SURROGATE.search(rid) else f"#{path[1] + 1}"
        path = path[2:]
    half = next(char for char in text if "\ud800" <= char <= "\udfff")
    return FactError(
        f"the text holds the escape \\u{ord(half):04x}, half of a UTF-16 surrogate pair without its other half, "
        "which is not a character; write the character itself", file, line, index,
        uscc if uscc is None or not _LONE_SURROGATE.search(uscc) else None,
        name if name is None or not _LONE_SURROGATE.search(name) else None,
        record_id, ".".join(str(part) for part in path) or None)


def _find_lone_surrogate(value: Any, path: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str] | None:
    if isinstance(value, str):
        return (path, value) if _LONE_SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _LONE_SURROGATE.search(key):
                return (*path, key), key
            found = _find_lone_surrogate(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found = _find_lone_surrogate(item, (*path, position))
            if found is not None:
                return found
    return None


def iter_jsonl_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a JSON Lines file, read one at a time (never the whole file), numbered from 1.

    Lines are split at ``\\n`` only (a ``\\r`` before it is dropped), so a JSON string holding U+2028 or
    another Unicode line separator stays one line.  Raises FactsFileError if the file cannot be opened.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below, after the check
    except OSError as error:
        raise FactsFileError(FactError(f"cannot read the facts file: {error.strerror}", str(path))) from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if line.strip():
                yield number, line.rstrip(b"\r\n")
