"""Reading facts files without the fact models: where an error is, the file formats, JSON Lines lines.

Kept apart from :mod:`mincredit.facts._validating` (which validates with the pydantic models) so that a batch
run that never needs the models does not import them; :mod:`mincredit.facts._validating` re-exports all of it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mincredit._numbers import json_constant, json_integer
from mincredit.facts._uscc import is_valid_uscc

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


def uscc_key(raw: Any) -> str | None:
    """The USCC a subject read as plain data gives, when it is a valid one (text, or an all-digit YAML number as
    the model reads it), else None: the key that tells the subjects of one facts file apart."""
    value = raw.get("uscc") if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10 ** 18:
        value = str(value)
    return value if is_valid_uscc(value) else None


class DistinctSubjects:
    """The subjects of one facts file are distinct companies: a subject giving the USCC an earlier subject gave is
    not evaluated (two grades for one company would stand side by side).  One look-up per subject; memory: the
    USCC of every subject read, with where it was first (one int), about 140 bytes a subject."""

    def __init__(self) -> None:
        self.first: dict[str, int] = {}      # USCC → index << 32 | line (0: no line)

    def repeats(self, uscc: str | None, index: int, line: int | None) -> tuple[int, int | None] | None:
        """Where the subject with this USCC first was (index, line), if an earlier subject gave it; else None,
        and the USCC is now taken by this subject."""
        if uscc is None:
            return None
        first = self.first.get(uscc)
        if first is None:
            self.first[uscc] = index << 32 | (line or 0)
            return None
        return self.place(first)

    @staticmethod
    def place(first: int) -> tuple[int, int | None]:
        """(index, line) of a subject as :attr:`first` holds it."""
        return first >> 32, (first & 0xFFFFFFFF) or None

    def refusal(self, raw: Any, file: str | None, line: int | None, index: int) -> SubjectEntry | None:
        """The entry that refuses a subject read as ``raw`` when an earlier subject gave its USCC; else None (and
        its USCC, if it has one, is now taken)."""
        uscc = uscc_key(raw)
        first = self.repeats(uscc, index, line)
        if uscc is None or first is None:
            return None
        return SubjectEntry(index, file, line, None,
                            (repeated_subject_error(uscc, raw.get("name"), first, file, line, index),))


def repeated_subject_error(uscc: str, name: Any, first: tuple[int, int | None], file: str | None,
                           line: int | None, index: int) -> FactError:
    earlier, earlier_line = first
    where = f"subject #{earlier + 1}" + (f" (line {earlier_line})" if earlier_line else "")
    return FactError(f"the USCC {uscc} was already given by {where}; a subject appears once in a facts file, so "
                     "this one was not evaluated", file, line, index,
                     uscc, name if isinstance(name, str) else None, None, "uscc")


def facts_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".json":
        return "json"
    return "yaml"


MAX_DEPTH = 64
"""Deepest nesting of lists and mappings read from JSON, as from YAML (mincredit._yaml.MAX_DEPTH): a subject needs
about 8, and deeper input would exhaust the stack (on Python 3.11 and 3.12 the standard decoder gives up at about
1,000 levels, on 3.13 far deeper; here every version answers the same)."""

_FOUND = threading.local()     # the keys given twice in an object of the text being decoded, in this thread


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, noting a key given twice (the standard decoder would keep the last silently)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        found: list[tuple[str, dict[str, Any]]] | None = getattr(_FOUND, "keys", None)
        if found is not None:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    found.append((key, result))
                    break
                seen.add(key)
    return result


# One decoder for every line and document: numbers as exact decimals (an integer too long for int() too, NaN and
# Infinity as what they say: the facts model refuses them for that subject), a key given twice noted.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=json_integer, parse_constant=json_constant,
                            object_pairs_hook=_object)
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class JsonProblem(ValueError):
    """A JSON text that cannot be read as data: not JSON (``line`` and ``column`` say where), or nested too
    deeply."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column

    def describe(self, line_known: bool) -> str:
        """In words: 'not valid JSON (… at column 5)', or why it cannot be read."""
        if self.column is None:
            return f"cannot be read: {self.message}"
        where = f"line {self.line}, column {self.column}" if line_known and self.line else f"column {self.column}"
        return f"is not valid JSON ({self.message} at {where})"


def nesting_problem(text: str) -> str | None:
    """Why ``text`` is nested too deeply to be read, or None.  Counting brackets is enough for nearly every text;
    only one with more than MAX_DEPTH of them is scanned (outside its strings) for how deep they nest."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth = 0
    for token in _NESTING.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return f"lists and mappings are nested more than {MAX_DEPTH} levels deep"
        elif bracket in "]}":
            depth -= 1
    return None


def decode_json(text: str) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    """JSON text as plain data, with the keys given twice (and the object each was in); JsonProblem if it is not
    JSON or is nested too deeply."""
    deep = nesting_problem(text)
    if deep is not None:
        raise JsonProblem(deep)
    found: list[tuple[str, dict[str, Any]]] = []
    _FOUND.keys = found
    try:
        return _DECODER.decode(text), found
    except json.JSONDecodeError as error:
        raise JsonProblem(error.msg, error.lineno, error.colno) from None
    except RecursionError:        # not expected below MAX_DEPTH; never a traceback
        raise JsonProblem(f"lists and mappings are nested more than {MAX_DEPTH} levels deep") from None
    finally:
        _FOUND.keys = None


def duplicate_key_error(raw: Any, twice: str, holder: Any, message: str, file: str | None, line: int | None,
                        index: int) -> FactError:
    """The error of a subject holding a key twice, naming the record and the field when the key is a record's."""
    uscc = raw.get("uscc") if isinstance(raw, dict) and isinstance(raw.get("uscc"), str) else None
    name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
    record_id = None
    records = raw.get("records") if isinstance(raw, dict) else None
    if isinstance(records, list) and holder is not raw:
        for position, record in enumerate(records):
            if record is holder or (isinstance(record, dict) and holds(record, holder)):
                rid = record.get("id") if isinstance(record, dict) else None
                record_id = str(rid) if isinstance(rid, str | int) and not isinstance(rid, bool) \
                    else f"#{position + 1}"
                break
    return FactError(message, file, line, index, uscc, name, record_id, twice)


def holds(value: Any, holder: Any) -> bool:
    if value is holder:
        return True
    if isinstance(value, dict):
        return any(holds(item, holder) for item in value.values())
    if isinstance(value, list):
        return any(holds(item, holder) for item in value)
    return False


def parse_jsonl_line(line: str | bytes, file: str | None, number: int, index: int
                     ) -> tuple[Any, SubjectEntry | None]:
    """One JSON Lines line as plain data, or the entry reporting why it cannot be read: not UTF-8, not JSON, nested
    too deeply, a key given twice, half of a surrogate pair."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            return None, SubjectEntry(index, file, number, None, (FactError(
                f"this line is not valid UTF-8 (byte 0x{line[error.start]:02x} at column {error.start + 1})",
                file, number, index),))
    try:
        raw, twice = decode_json(line)
    except JsonProblem as unreadable:
        return None, SubjectEntry(index, file, number, None, (FactError(
            f"this line {unreadable.describe(line_known=False)}", file, number, index),))
    if twice:
        key, holder = twice[0]
        return None, SubjectEntry(index, file, number, None, (duplicate_key_error(
            raw, key, holder, f"the key {key!r} appears twice in the same object; only one of them would be used",
            file, number, index),))
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
