"""Reading facts files without the fact models: where an error is, the file formats, JSON Lines lines.

Kept apart from :mod:`mincredit.facts.loading` (which validates with the pydantic models) so that a batch
run that never needs the models does not import them; :mod:`mincredit.facts.loading` re-exports all of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mincredit.facts.models import Subject


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
class SubjectEntry:
    """A subject read from a file, valid or not, with its place in the file."""

    index: int
    file: str | None
    line: int | None
    subject: Subject | None
    errors: tuple[FactError, ...] = ()


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
        return _DECODER.decode(line), None
    except json.JSONDecodeError as error:
        return None, SubjectEntry(index, file, number, None, (FactError(
            f"this line is not valid JSON ({error.msg} at column {error.colno})", file, number, index),))


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
