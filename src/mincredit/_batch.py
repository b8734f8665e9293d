"""Population-scale evaluation: streaming, optionally without explanations, in parallel, to a file.

Every quarter every subject of the region is evaluated again (art. 15), and drafters re-run whole
populations under two rulebook versions.  This module makes that cheap:

- :class:`ScorePlan` compiles a rulebook once more for one as-of date: (indicator, tier) → points,
  honour level → points, the first day a violation or an honour without a stated validity still
  counts (so no retention period is computed per record), the grade bands as a sorted list of
  edges, and what a grade entails (its consequences, arts. 21–24).  Scoring a subject is one pass
  over its records with dictionary look-ups.
- :func:`evaluate_stream` evaluates an iterable of subjects lazily, one outcome per subject in input
  order, with or without explanations; without them a :class:`Score` carries exactly the fields the
  explained :class:`~mincredit._engine.SubjectResult` would — score, grade, deductions, bonus,
  proposals, listings, consequences and warnings — except the explanations (``items``).
- :func:`run_batch` is ``mincredit evaluate --output``: a JSON Lines, Parquet or CSV input is read in
  chunks (memory holds a chunk, never the file), chunks are evaluated in order or across processes,
  and the results go to a JSON Lines or Parquet file written atomically.  A JSON Lines file is cut
  into byte ranges of whole lines, which each worker process reads itself.

Validation is never skipped.  A raw subject (a JSON line) that is plainly valid under the facts
model is scored straight from its data; anything else (a misspelt field, a number written as text,
a date in another format, an unknown indicator …) goes through the pydantic model and the engine,
which either accept it exactly as :func:`mincredit._engine.evaluate` would or report why not.  So does
a subject whose facts go beyond plain violations and honours (blacklist facts, quantities, roles …),
and a plain violation the rulebook's blacklist triggers could take as a ground for a proposal.

The engine (:mod:`mincredit._engine`) and pyarrow are imported only when a subject or an input needs them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from json.encoder import encode_basestring as _encode_text
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol, TextIO, TypeAlias, overload

from mincredit._consequence import ConsequenceItem
from mincredit._plan import (
    DISSOLVED_REASON,
    MEASURE_FIELDS,
    PlanBasis,
    Score,
    ScorePlan,
    first_day_counting,
    grade_consequences,
    trigger_codes,
)
from mincredit.facts._reading import (
    FactError,
    FactsFileError,
    SubjectEntry,
    facts_format,
    parse_jsonl_line,
)
from mincredit.facts._uscc import is_valid_uscc

__all__ = [
    "DISSOLVED_REASON",
    "MEASURE_FIELDS",
    "PlanBasis",
    "Score",
    "ScorePlan",
    "first_day_counting",
    "grade_consequences",
    "trigger_codes",
]

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    from mincredit._columnar import ColumnarInput
    from mincredit._engine import SubjectResult
    from mincredit.facts._models import Subject
    from mincredit.rules._compiling import CompiledRulebook
    from mincredit.rules._schema import Rulebook

_SUBJECT_KEYS = frozenset({"uscc", "name", "kind", "status", "public_score", "records"})
_VIOLATION_KEYS = frozenset({"id", "type", "indicator", "tier", "determined_on", "authority", "description"})
_HONOUR_KEYS = frozenset({"id", "type", "honour", "level", "awarded_on", "valid_until", "authority", "description"})


# --- outcomes ------------------------------------------------------------------------------------------



@dataclass(frozen=True)
class SubjectErrors:
    """A subject that could not be evaluated, and every reason why (it was not dropped silently)."""

    index: int
    errors: tuple[FactError, ...]


Outcome: TypeAlias = "SubjectResult | Score | SubjectErrors"
SubjectInput: TypeAlias = "Subject | SubjectEntry | Mapping[str, Any]"


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


# --- fast scoring ------------------------------------------------------------------------------------

def score_raw(plan: ScorePlan, raw: object) -> Score | None:
    """Score a subject given as plain data (a parsed JSON line) if it is plainly valid, else None.

    "Plainly valid" is a subset of what the facts model accepts: every field in its canonical form
    (text as text, whole numbers as ints, dates as YYYY-MM-DD), no field the model does not know,
    every indicator, tier and honour level known to the rulebook.  None sends the subject through
    the model and the engine, which accept it or say exactly what is wrong.  Texts and dates already
    seen valid are remembered (record ids, codes, titles and dates repeat across subjects), so most
    checks are one set or dictionary look-up.
    """
    if type(raw) is not dict or not raw.keys() <= _SUBJECT_KEYS:
        return None
    uscc: Any = raw.get("uscc")
    name: Any = raw.get("name")
    kind: Any = raw.get("kind")
    if not is_valid_uscc(uscc) or type(name) is not str or not name or kind != plan.kind:
        return None
    status = raw.get("status", "active")
    if status != "active" and status != "dissolved":
        return None
    public = raw.get("public_score")
    if public is None:
        if status == "active" and plan.public_required:
            return None
    elif type(public) is int:
        public = Decimal(public)
        if not 0 <= public <= 1000:
            return None
    elif type(public) is not Decimal or not public.is_finite() or not 0 <= public <= 1000:
        return None
    records = raw.get("records", [])
    if type(records) is not list:
        return None
    # ISO dates compare as their text does, so once a text is known to be a real date it is compared as text.
    as_of, violation_from, honour_from = plan.as_of_text, plan.violation_from_text, plan.honour_from_text
    tiers_of, level_points, count_bands = plan.tiers_by_code, plan.level_points, plan.count_bands
    dates, texts = plan.valid_dates, plan.valid_texts
    deductions: int | Decimal = 0
    best: dict[str, int | Decimal] = {}
    repeated: list[tuple[str, str, int, Any]] | None = None
    try:
        # Every id a text the model keeps as it is, and no id twice.
        ids = [record["id"] for record in records]
        if not texts.issuperset(ids) and not all(rid in texts or plan.remember_text(rid) for rid in ids):
            return None
        if len(set(ids)) != len(ids):
            return None
        for record in records:
            kind_of_record = record["type"]
            if kind_of_record == "violation":
                indicator, tier, day = record["indicator"], record["tier"], record["determined_on"]
                if len(record) != 5 and not plan.extras_ok(record, _VIOLATION_KEYS):
                    return None
                tiers = tiers_of.get(indicator)
                if tiers is None or type(tier) is not int or not 0 < tier < len(tiers):
                    return None
                points = tiers[tier]
                if points is None or (day not in dates and plan.remember_date(day) is None):
                    return None
                if violation_from <= day <= as_of:
                    deductions += points
                if indicator in count_bands:
                    repeated = repeated or []
                    repeated.append((record["id"], indicator, tier, day))
            elif kind_of_record == "honour":
                title, level, day = record["honour"], record["level"], record["awarded_on"]
                valid = record.get("valid_until")
                if len(record) != (5 if valid is None else 6) and not plan.extras_ok(record, _HONOUR_KEYS):
                    return None
                if (day not in dates and plan.remember_date(day) is None) \
                        or (title not in texts and not plan.remember_text(title)):
                    return None
                points = level_points.get(level)
                if points is None:
                    return None
                if valid is None:
                    in_force = honour_from <= day <= as_of
                else:
                    if (valid not in dates and plan.remember_date(valid) is None) or valid < day:
                        return None
                    in_force = day <= as_of <= valid
                if in_force and points > best.get(title, 0):
                    best[title] = points
            else:
                return None
    except (KeyError, TypeError):   # a required field missing, or a record that is not a mapping
        return None
    warnings: tuple[str, ...] | None = plan.count_warnings(repeated) if repeated is not None else ()
    if warnings is None:
        return None
    return plan.finish(uscc, name, kind, status, public, deductions, sum(best.values()), warnings)


def score_subject(plan: ScorePlan, subject: Subject) -> Score | None:
    """Score a validated subject without explanations; None sends it to the engine (rulebook problems, or
    facts other than plain violations and honours)."""
    from mincredit.facts._models import HonourRecord, ViolationRecord

    if subject.kind != plan.kind:
        return None
    public = subject.public_score
    if public is None and subject.status == "active" and plan.public_required:
        return None
    if "roles" in subject.model_fields_set and getattr(subject, "roles", None):
        return None
    as_of, violation_from, honour_from = plan.as_of, plan.violation_from, plan.honour_from
    tiers_of, level_points, count_bands = plan.tiers_by_code, plan.level_points, plan.count_bands
    deductions: int | Decimal = 0
    best: dict[str, int | Decimal] = {}
    repeated: list[tuple[str, str, int, Any]] | None = None
    for record in subject.records:
        # Only the plain records are scored here; any other kind of record, or a violation that carries more
        # than its indicator, tier and date (quantities, a penalty, a repair …), is left to the engine.
        if type(record) is ViolationRecord:
            tier = record.tier
            if tier is None or not record.__pydantic_fields_set__ <= _VIOLATION_KEYS:
                return None
            tiers = tiers_of.get(record.indicator)
            points = tiers[tier] if tiers is not None and tier < len(tiers) else None
            if points is None:
                return None
            if violation_from <= record.determined_on <= as_of:
                deductions += points
            if record.indicator in count_bands:
                repeated = repeated or []
                repeated.append((record.id, record.indicator, tier, record.determined_on))
        else:
            if type(record) is not HonourRecord or not record.__pydantic_fields_set__ <= _HONOUR_KEYS:
                return None
            points = level_points.get(record.level)
            if points is None:
                return None
            awarded, until = record.awarded_on, record.valid_until
            if (awarded <= as_of <= until) if until is not None else (honour_from <= awarded <= as_of):
                title = record.honour
                if points > best.get(title, 0):
                    best[title] = points
    warnings: tuple[str, ...] | None = plan.count_warnings(repeated) if repeated is not None else ()
    if warnings is None:
        return None
    return plan.finish(subject.uscc, subject.name, subject.kind, subject.status, public, deductions,
                       sum(best.values()), warnings)


def reference_outcome(plan: ScorePlan, entry: SubjectEntry, explain: bool) -> Outcome:
    """The model-and-engine path: exactly what mincredit._engine.evaluate does with this subject."""
    if entry.subject is None:
        return SubjectErrors(entry.index, entry.errors)
    from mincredit._engine import evaluate_subject, rulebook_errors

    problems = rulebook_errors(entry.subject, plan.rulebook, entry.index, entry)
    if problems:
        return SubjectErrors(entry.index, tuple(problems))
    score = None if explain else score_subject(plan, entry.subject)
    if score is not None:
        return score
    result = evaluate_subject(entry.subject, plan.rulebook, plan.as_of)
    if explain:
        return result
    return Score.of(result)


def outcome_of(plan: ScorePlan, item: SubjectInput, index: int, explain: bool, *,
               file: str | None = None, line: int | None = None) -> Outcome:
    """Evaluate one subject given as a Subject, a SubjectEntry, or plain data (a mapping)."""
    from mincredit.facts._models import Subject
    from mincredit.facts._validating import validate_subject

    if isinstance(item, Subject):
        if not explain:
            score = score_subject(plan, item)
            if score is not None:
                return score
        return reference_outcome(plan, SubjectEntry(index, file, line, item), explain)
    if isinstance(item, SubjectEntry):
        if not explain and item.subject is not None:
            score = score_subject(plan, item.subject)
            if score is not None:
                return score
        return reference_outcome(plan, item, explain)
    if not explain:
        fast = score_raw(plan, item)
        if fast is not None:
            return fast
    return reference_outcome(plan, validate_subject(item, file=file, index=index, line=line), explain)


@overload
def evaluate_stream(subjects: Iterable[SubjectInput], rulebook: CompiledRulebook, as_of: dt.date, *,
                    explain: Literal[True] = ...) -> Iterator[SubjectResult | SubjectErrors]: ...
@overload
def evaluate_stream(subjects: Iterable[SubjectInput], rulebook: CompiledRulebook, as_of: dt.date, *,
                    explain: Literal[False]) -> Iterator[Score | SubjectErrors]: ...
@overload
def evaluate_stream(subjects: Iterable[SubjectInput], rulebook: CompiledRulebook, as_of: dt.date, *,
                    explain: bool) -> Iterator[Outcome]: ...
def evaluate_stream(subjects: Iterable[SubjectInput], rulebook: CompiledRulebook, as_of: dt.date, *,
                    explain: bool = True) -> Iterator[Outcome]:
    """Evaluate subjects lazily: one outcome per subject, in input order, as the input is consumed.

    Subjects may be :class:`Subject` models, entries from :func:`mincredit.read_facts_file`, or plain
    mappings in the facts format (validated here).  With ``explain=False`` each result is a
    :class:`Score`: every field of the explained :class:`SubjectResult` (score, grade, deductions,
    bonus, proposals, listings, consequences, warnings) but the explanations, computed without building
    them.  A subject with bad facts yields a :class:`SubjectErrors` and never stops the others.  Memory
    holds one subject at a time.
    """
    plan = ScorePlan(rulebook, as_of)
    for index, item in enumerate(subjects):
        position = item.index if isinstance(item, SubjectEntry) else index
        yield outcome_of(plan, item, position, explain)


# --- output formats ----------------------------------------------------------------------------------

RESULT_FIELDS = ("uscc", "name", "kind", "status", "evaluated", "grade", "grade_meaning", "score",
                 "public_score", "deductions", "honour_bonus", "not_evaluated_reason")
DECIMAL_FIELDS = frozenset({"score", "public_score", "deductions", "honour_bonus"})
ITEM_FIELDS = ("record_id", "type", "counted", "points", "applied", "counts_from", "counts_until", "explanation",
               "indicator", "tier", "indicator_title", "wording", "honour", "level", "level_name")
OutputFormat = Literal["jsonl", "parquet"]


class BatchError(ValueError):
    """A batch request that cannot run as given (an output format, a subjects file for the wrong input)."""


def output_format(path: str | Path) -> OutputFormat:
    suffix = Path(path).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    raise BatchError(f"cannot tell the output format of {str(path)!r}: name it .jsonl (JSON Lines, one result "
                     "a line) or .parquet")


@dataclass(frozen=True)
class Header:
    """What every output row carries besides the result: the evaluation date and the rulebook's identity."""

    as_of: dt.date
    rulebook_id: str
    rulebook_version: str
    rulebook_digest: str

    @classmethod
    def of(cls, basis: PlanBasis, as_of: dt.date) -> Header:
        return cls(as_of, basis.rulebook_id, basis.version, basis.digest)

    def json_prefix(self) -> str:
        return ('{"as_of":"' + self.as_of.isoformat() + '","rulebook_id":' + _text(self.rulebook_id)
                + ',"rulebook_version":' + _text(self.rulebook_version) + ',"rulebook_digest":'
                + _text(self.rulebook_digest) + ",")


def _text(value: str | None) -> str:
    return "null" if value is None else _encode_text(value)


def list_json(values: Sequence[Any]) -> str:
    """A list of a result (proposals, listings, consequences, warnings) as the JSON output writes it."""
    if all(type(value) is str for value in values):   # warnings: what json.dumps writes, without its overhead
        return "[" + ",".join(_encode_text(value) for value in values) + "]"
    return json.dumps([_json_value(value) for value in values], ensure_ascii=False, separators=(",", ":"))


def _json_value(value: Any) -> Any:
    """A list element as JSON data: a text, a consequence (a dataclass), or a proposal or listing (models)."""
    if isinstance(value, str):
        return value
    if isinstance(value, ConsequenceItem):
        return value.as_json()
    return value.model_dump(mode="json")


class _ListTexts:
    """The JSON text of result lists, remembered for the lists shared by many results (a grade's consequences)."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[object, str]] = {}
        self._tails: dict[int, tuple[object, tuple[str, bytes]]] = {}

    def text(self, values: Sequence[Any]) -> str:
        known = self._known.get(id(values))
        if known is not None and known[0] is values:
            return known[1]
        text = list_json(values)
        if len(self._known) < 64:
            self._known[id(values)] = (values, text)   # the list is kept, so its id is not reused
        return text

    def tail(self, consequences: Sequence[Any]) -> str:
        """The end of a JSON line whose only list is ``consequences``."""
        return self._tail(consequences)[0]

    def tail_bytes(self, consequences: Sequence[Any]) -> bytes:
        """The same, encoded (a grade's consequences are long, and the same on many lines)."""
        return self._tail(consequences)[1]

    def _tail(self, consequences: Sequence[Any]) -> tuple[str, bytes]:
        known = self._tails.get(id(consequences))
        if known is not None and known[0] is consequences:
            return known[1]
        tail = ',"consequences":' + self.text(consequences) + "}\n"
        made = (tail, tail.encode("utf-8"))
        if len(self._tails) < 64:
            self._tails[id(consequences)] = (consequences, made)
        return made


def score_json_line(prefix: str, score: Score, texts: _ListTexts | None = None) -> str:
    """One result as a JSON line: the same fields and values as ``SubjectResult`` in ``--format json``.

    The lists (proposals, listings, consequences, warnings) are left out when empty, as the result model
    leaves them out.
    """
    return _score_json_head(prefix, score) + _score_json_tail(score, texts or _ListTexts())


def _score_json_tail(score: Score, texts: _ListTexts) -> str:
    if score.proposals or score.listings or score.warnings:
        return "".join(',"' + name + '":' + texts.text(values)
                       for name, values in (("proposals", score.proposals), ("listings", score.listings),
                                            ("consequences", score.consequences), ("warnings", score.warnings))
                       if values) + "}\n"
    if score.consequences:
        return texts.tail(score.consequences)
    return "}\n"


def _score_json_head(prefix: str, score: Score) -> str:
    """A result's JSON line up to its lists: every field but them, without the closing brace."""
    reason = score.not_evaluated_reason
    grade, meaning, number, public = score.grade, score.grade_meaning, score.score, score.public_score
    return (f'{prefix}"uscc":{_encode_text(score.uscc)},"name":{_encode_text(score.name)},"kind":"{score.kind}",'
            f'"status":"{score.status}","evaluated":{"true" if score.evaluated else "false"},'
            f'"grade":{"null" if grade is None else _encode_text(grade)},'
            f'"grade_meaning":{"null" if meaning is None else _encode_text(meaning)},'
            f'"score":{"null" if number is None else f"{chr(34)}{number}{chr(34)}"},'
            f'"public_score":{"null" if public is None else f"{chr(34)}{public}{chr(34)}"},'
            f'"deductions":"{score.deductions}","honour_bonus":"{score.honour_bonus}","not_evaluated_reason":'
            f'{"null" if reason is None else _DISSOLVED_TEXT if reason == DISSOLVED_REASON else _encode_text(reason)}')


_DISSOLVED_TEXT = _encode_text(DISSOLVED_REASON)


def result_json_line(prefix: str, result: SubjectResult) -> str:
    data = result.model_dump(mode="json")
    return prefix + json.dumps(data, ensure_ascii=False, separators=(",", ":"))[1:] + "\n"


def _row_json_line(prefix: str, row: Mapping[str, Any]) -> str:
    """A result row from an Arrow table (decimals and lists already as text) as a JSON line."""
    items = row.get("items")
    data = {name: row[name] for name in RESULT_FIELDS}
    if items is not None:
        data["items"] = [{**item, "counts_from": item["counts_from"].isoformat(),
                          "counts_until": item["counts_until"].isoformat()} for item in items]
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))[1:-1]
    lists = "".join(',"' + name + '":' + row[name] for name in MEASURE_FIELDS if row.get(name) is not None)
    return prefix + text + lists + "}\n"


def result_schema(explain: bool) -> pa.Schema:
    """The columns of a result file: the header, the result's fields (decimals as exact text, the lists as
    their JSON text, null when empty), and the items when explanations are on."""
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    fields = [pa.field("as_of", pa.date32()), pa.field("rulebook_id", pa.string()),
              pa.field("rulebook_version", pa.string()), pa.field("rulebook_digest", pa.string())]
    fields += [pa.field(name, pa.bool_() if name == "evaluated" else pa.string()) for name in RESULT_FIELDS]
    # A grade's consequences are the same long text for every subject with that grade: a dictionary column.
    fields += [pa.field(name, pa.dictionary(pa.int32(), pa.string()) if name == "consequences" else pa.string())
               for name in MEASURE_FIELDS]
    if explain:
        item = pa.struct([pa.field(name, pa.bool_() if name == "counted" else pa.int64() if name == "tier"
                                   else pa.date32() if name in {"counts_from", "counts_until"} else pa.string())
                          for name in ITEM_FIELDS])
        fields.append(pa.field("items", pa.list_(item)))
    return pa.schema(fields)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def results_columns(results: Sequence[SubjectResult | Score], explain: bool,
                    texts: _ListTexts | None = None) -> dict[str, list[Any]]:
    """Results as columns of Python values (decimals as exact text, lists as JSON text), ready for Arrow."""
    texts = texts or _ListTexts()
    columns: dict[str, list[Any]] = {name: [] for name in (*RESULT_FIELDS, *MEASURE_FIELDS)}
    for result in results:
        for name in RESULT_FIELDS:
            value = getattr(result, name)
            columns[name].append(_decimal_text(value) if name in DECIMAL_FIELDS else value)
        for name in MEASURE_FIELDS:
            values = getattr(result, name)
            columns[name].append(texts.text(values) if values else None)
    if explain:
        columns["items"] = [
            [{name: (_decimal_text(value) if name in {"points", "applied"} else value)
              for name in ITEM_FIELDS for value in (getattr(item, name),)} for item in result.items]
            if not isinstance(result, Score) else None
            for result in results]
    return columns


class Encoder:
    """Turns a chunk of results into what the sink writes: JSON Lines text or an Arrow table."""

    def __init__(self, header: Header, fmt: OutputFormat, explain: bool) -> None:
        self.header, self.fmt, self.explain = header, fmt, explain
        self.prefix = header.json_prefix()
        self.texts = _ListTexts()

    def encode(self, results: Sequence[SubjectResult | Score]) -> bytes | pa.Table:
        if self.fmt == "jsonl":
            prefix, texts = self.prefix, self.texts
            parts: list[bytes] = []
            for result in results:
                if not isinstance(result, Score):
                    parts.append(result_json_line(prefix, result).encode("utf-8"))
                elif result.consequences and not (result.proposals or result.listings or result.warnings):
                    # the grade's consequences, the longest part of most lines, are encoded once per grade
                    parts.append(_score_json_head(prefix, result).encode("utf-8"))
                    parts.append(texts.tail_bytes(result.consequences))
                else:
                    parts.append((_score_json_head(prefix, result) + _score_json_tail(result, texts)).encode("utf-8"))
            return b"".join(parts)
        return self.arrow(results_columns(results, self.explain, self.texts))

    def arrow(self, columns: Mapping[str, Any]) -> pa.Table:
        """A result table from columns (lists or Arrow arrays), with the header columns added."""
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

        schema = result_schema(self.explain)
        count = len(columns["uscc"])
        data = {"as_of": pa.repeat(pa.scalar(self.header.as_of, pa.date32()), count),
                "rulebook_id": pa.repeat(pa.scalar(self.header.rulebook_id), count),
                "rulebook_version": pa.repeat(pa.scalar(self.header.rulebook_version), count),
                "rulebook_digest": pa.repeat(pa.scalar(self.header.rulebook_digest), count)}
        arrays = [data[f.name] if f.name in data else pa.array(columns[f.name], f.type)
                  if not isinstance(columns[f.name], pa.Array | pa.ChunkedArray) else columns[f.name].cast(f.type)
                  for f in schema]
        return pa.Table.from_arrays(arrays, schema=schema)

    def encode_table(self, table: pa.Table) -> str | pa.Table:
        """Encode a result table (the columnar path's output) for this format."""
        if self.fmt == "parquet":
            return table
        return "".join(_row_json_line(self.prefix, row) for row in table.to_pylist())


class AtomicOutput:
    """A file written under a temporary name in the same directory and renamed over the target at the end.

    A crash, an exception or Ctrl-C leaves the previous file (or none), never a torn one: on
    :meth:`abort` the temporary file is removed; :meth:`commit` flushes, fsyncs, renames
    (``os.replace`` is atomic within a file system) and fsyncs the directory.  A process killed
    outright (SIGKILL, power loss) can leave a ``.NAME.*.part`` file beside the target, never a torn
    target.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.directory = self.path.parent if str(self.path.parent) else Path(".")
        descriptor, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.directory)
        self.temporary = Path(temporary)
        self.file: IO[bytes] = os.fdopen(descriptor, "wb")

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temporary, 0o666 & ~umask)   # mkstemp makes it 0600; give it the mode a new file gets
        os.replace(self.temporary, self.path)
        with contextlib.suppress(OSError):       # not every platform can open a directory
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            self.temporary.unlink()


class Sink(Protocol):
    def write(self, payload: str | bytes | pa.Table) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class JsonlSink:
    """JSON Lines to an atomic file, or to a text stream (stdout) when no path is given."""

    def __init__(self, path: Path | None, stream: TextIO | None = None) -> None:
        self.output = AtomicOutput(path) if path is not None else None
        self.stream = stream

    def write(self, payload: str | bytes | pa.Table) -> None:
        assert isinstance(payload, str | bytes)
        if self.output is not None:
            self.output.file.write(payload.encode("utf-8") if isinstance(payload, str) else payload)
        else:
            assert self.stream is not None
            self.stream.write(payload.decode("utf-8") if isinstance(payload, bytes) else payload)

    def close(self) -> None:
        if self.output is not None:
            self.output.commit()
        elif self.stream is not None:
            self.stream.flush()

    def abort(self) -> None:
        if self.output is not None:
            self.output.abort()


class ParquetSink:
    """Parquet to an atomic file; every ``ROWS`` results become a row group, written in a background thread.

    Arrow writes (encodes and compresses) without the interpreter lock, so a row group is written while
    the next chunks are evaluated; at most one write is in flight, and the row groups keep input order.
    """

    ROWS = 65_536

    def __init__(self, path: Path, explain: bool, header: Header) -> None:
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        self.output = AtomicOutput(path)
        metadata = {b"mincredit": json.dumps({
            "as_of": header.as_of.isoformat(), "rulebook_id": header.rulebook_id,
            "rulebook_version": header.rulebook_version, "rulebook_digest": header.rulebook_digest,
            "decimals": "exact decimal text (score, public_score, deductions, honour_bonus)",
            "lists": "JSON text, as in the JSON output; null when empty (proposals, listings, consequences, "
                     "warnings)"}).encode()}
        schema = result_schema(explain)
        # Dictionary pages only for the columns that repeat (a uscc, a name or a score rarely does).
        repeating = [name for name in schema.names if name not in {"uscc", "name", "score", "public_score", "items"}]
        self.writer = pq.ParquetWriter(self.output.file, schema.with_metadata(metadata), compression="zstd",
                                       use_dictionary=repeating)
        self.pending: list[pa.Table] = []
        self.rows = 0
        self._writing: Future[None] | None = None
        self._thread: ThreadPoolExecutor | None = None

    def write(self, payload: str | bytes | pa.Table) -> None:
        assert not isinstance(payload, str | bytes)
        self.pending.append(payload)
        self.rows += payload.num_rows
        if self.rows >= self.ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

        if self.pending:
            table = pa.concat_tables(self.pending).unify_dictionaries()
            table = table.replace_schema_metadata(self.writer.schema.metadata)
            self._wait()
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mincredit-write")
            self._writing = self._thread.submit(self.writer.write_table, table, row_group_size=1 << 20)
        self.pending, self.rows = [], 0

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()                       # a write's error is raised here

    def close(self) -> None:
        self._flush()
        self._wait()
        self._shutdown()
        self.writer.close()
        self.output.commit()

    def _shutdown(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._wait()
        self._shutdown()
        with contextlib.suppress(Exception):
            self.writer.close()
        self.output.abort()


# --- work units, evaluated in order in this process or in worker processes ------------------------

@dataclass
class UnitOutcome:
    """What one chunk of input became: the encoded results, the errors, and counts for the summary.

    ``lines`` is set by units that number their lines and subjects from 1 and 0 (a byte range of a JSON Lines
    file, read by whichever process evaluates it): their errors are numbered again in input order by
    :meth:`placed`, in the process that writes the output.
    """

    payload: str | bytes | pa.Table | None
    errors: list[FactError]
    subjects: int = 0
    records: int = 0
    error_subjects: int = 0
    not_evaluated: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    progress: int = 0
    lines: int | None = None

    def placed(self, lines_before: int, subjects_before: int) -> list[FactError]:
        """The errors, with line numbers and subject indices counted from the start of the input."""
        if self.lines is None or (lines_before == 0 and subjects_before == 0):
            return self.errors
        return [dataclasses.replace(
            error, line=error.line + lines_before if error.line is not None else None,
            subject_index=error.subject_index + subjects_before if error.subject_index is not None else None)
            for error in self.errors]


class Worker:
    """Evaluates work units; one per process (built again in each worker from the rulebook's source)."""

    def __init__(self, rulebook: CompiledRulebook | PlanBasis, as_of: dt.date, explain: bool,
                 fmt: OutputFormat) -> None:
        self.plan = ScorePlan(rulebook, as_of)
        self.explain = explain
        self.encoder = Encoder(Header.of(self.plan.basis, as_of), fmt, explain)

    def outcome(self, outcomes: list[Outcome], records: int, progress: int) -> UnitOutcome:
        results: list[SubjectResult | Score] = []
        errors: list[FactError] = []
        done = UnitOutcome(None, errors, subjects=len(outcomes), records=records, progress=progress)
        for outcome in outcomes:
            if isinstance(outcome, SubjectErrors):
                errors.extend(outcome.errors)
                done.error_subjects += 1
                continue
            results.append(outcome)
            if outcome.grade is not None:
                done.grades[outcome.grade] += 1
            else:
                done.not_evaluated += 1
        done.payload = self.encoder.encode(results) if results else None
        return done


class Unit(Protocol):
    def run(self, worker: Worker) -> UnitOutcome: ...


def _record_count(raw: Any) -> int:
    records = raw.get("records") if isinstance(raw, dict) else None
    return len(records) if isinstance(records, list) else 0


_PUBLIC_SCORE = re.compile(rb'"public_score"\s*:\s*(-?[0-9][0-9.eE+-]*)')


def _from_json(line: bytes) -> Any:
    # Imported on first use: most lines never get here (mincredit._jsonl_fast takes them), and pydantic-core's
    # import is a tenth of a second of a batch run's start.
    from pydantic_core import from_json

    return from_json(line)


def quick_json(line: bytes) -> Any:
    """A JSON line parsed by pydantic-core's parser (about twice as fast as the standard one), or None.

    That parser reads JSON numbers with a fraction as binary floats, so the one number a subject has,
    its public score, is read again from its own text as an exact Decimal.  Anything unusual (a float
    elsewhere, a second ``"public_score"`` in the line, any parse error) gives None, and the line goes
    through the standard parser, which keeps every number exact.
    """
    try:
        raw = _from_json(line)
    except ValueError:
        return None
    if type(raw) is dict and type(raw.get("public_score")) is float:
        if line.count(b'"public_score"') != 1:
            return None
        found = _PUBLIC_SCORE.search(line)
        if found is None:
            return None
        try:
            score = Decimal(found.group(1).decode("ascii"))
        except ArithmeticError:
            return None
        if float(score) != raw["public_score"]:
            return None
        raw["public_score"] = score
    return raw


_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class JsonlUnit:
    """Whole lines of a JSON Lines file: the bytes from ``start`` up to ``end``, read by the process evaluating it.

    Its lines are numbered from 1 and its subjects from 0; :meth:`UnitOutcome.placed` numbers its errors in
    the file.  Lines are split at ``\\n`` only (a ``\\r`` before it is dropped) and blank lines are skipped, as
    :func:`mincredit.facts._validating.iter_jsonl_lines` reads them.
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
        # msgspec decodes a canonical plain subject straight into typed structs (mincredit._jsonl_fast); a line
        # it does not take goes on to quick_json and score_raw, then to the model and the engine.
        from mincredit._jsonl_fast import line_scorer

        plan, explain, file = worker.plan, worker.explain, self.file
        score_line = line_scorer(plan)
        outcomes: list[Outcome] = []
        records = 0
        index = 0
        lines = self.lines()
        for number, line in enumerate(lines, start=1):
            if not line or line.isspace():     # blank (what strip() would empty), without copying the line
                continue
            if line.endswith(b"\r"):
                line = line.rstrip(b"\r")
            if not explain:
                scored = score_line(line)
                if scored is not None:
                    outcomes.append(scored[0])
                    records += scored[1]
                    index += 1
                    continue
                quick = quick_json(line)
                if quick is not None:
                    fast = score_raw(plan, quick)
                    if fast is not None:
                        records += _record_count(quick)
                        outcomes.append(fast)
                        index += 1
                        continue
            raw, problem = parse_jsonl_line(line, file, number, index)
            if problem is not None:
                outcomes.append(SubjectErrors(index, problem.errors))
            else:
                records += _record_count(raw)
                outcomes.append(outcome_of(plan, raw, index, explain, file=file, line=number))
            index += 1
        done = worker.outcome(outcomes, records, self.end - self.start)
        done.lines = len(lines)
        return done


@dataclass(frozen=True)
class EntriesUnit:
    """Subjects already read (a YAML or JSON document)."""

    entries: list[SubjectEntry]

    def run(self, worker: Worker) -> UnitOutcome:
        outcomes = [outcome_of(worker.plan, entry, entry.index, worker.explain) for entry in self.entries]
        records = sum(len(entry.subject.records) for entry in self.entries if entry.subject is not None)
        return worker.outcome(outcomes, records, len(self.entries))


JSONL_UNIT_BYTES = 1 << 21   # 2 MiB of lines a unit: a few thousand subjects


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


def document_units(path: Path, per_unit: int = 2000) -> Iterator[EntriesUnit]:
    chunk: list[SubjectEntry] = []
    from mincredit.facts._validating import read_facts_file

    for entry in read_facts_file(path):
        chunk.append(entry)
        if len(chunk) >= per_unit:
            yield EntriesUnit(chunk)
            chunk = []
    if chunk:
        yield EntriesUnit(chunk)


_WORKER: Worker | None = None


def _start_worker(source: Rulebook, digest: str, as_of: dt.date, explain: bool, fmt: OutputFormat) -> None:
    global _WORKER
    from mincredit.rules._compiling import compile_rulebook

    rulebook = compile_rulebook(source)
    if rulebook.digest != digest:
        raise RuntimeError(f"the worker compiled rulebook {rulebook.digest}, expected {digest}")
    _WORKER = Worker(rulebook, as_of, explain, fmt)


def _run_in_worker(unit: Unit) -> UnitOutcome:
    assert _WORKER is not None
    outcome = unit.run(_WORKER)
    if isinstance(outcome.payload, str):   # encoded here: the process writing the output only copies bytes
        outcome.payload = outcome.payload.encode("utf-8")
    return outcome


def run_units(units: Iterable[Unit], worker: Worker, jobs: int, fmt: OutputFormat) -> Iterator[UnitOutcome]:
    """Each unit's outcome, in input order; with ``jobs`` > 1 units run in that many worker processes.

    At most ``2 × jobs`` units are in flight, so memory stays bounded whatever the input's size.  A unit
    sent to a worker is small (a JSON Lines unit is a byte range the worker reads itself); what comes back
    is the encoded results.
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
        # workers start at once with this process's compiled rulebook and plan.
        _WORKER = worker
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
    else:
        # "spawn": no worker inherits this process's threads or locks (pyarrow's pools); each compiles the
        # rulebook again from its source and checks the digest.
        rulebook = worker.plan.rulebook
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker,
                                   initargs=(rulebook.source, rulebook.digest, worker.plan.as_of, worker.explain,
                                             fmt))
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


# --- the batch run -------------------------------------------------------------------------------

def quarter_end(text: str) -> dt.date:
    """``2024Q3`` → 2024-09-30, the quarter's last day (results are refreshed quarterly, art. 15)."""
    cleaned = text.strip().upper()
    if len(cleaned) == 6 and cleaned[:4].isdigit() and cleaned[4] == "Q" and cleaned[5] in "1234":
        year, quarter = int(cleaned[:4]), int(cleaned[5])
        if year >= 1:
            next_start = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
            return next_start - dt.timedelta(days=1)
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
        return (f"{self.subjects:,} subjects: {self.evaluated:,} graded, {self.not_evaluated:,} not evaluated "
                f"(dissolved), {self.error_subjects:,} with errors ({self.errors:,} error lines); "
                f"{self.records:,} records; grades {grades}; {self.seconds:.2f} s{rate}")


@dataclass(frozen=True)
class BatchRequest:
    facts: Path
    rulebook: CompiledRulebook | PlanBasis
    as_of: dt.date
    output: Path | None = None        # None: JSON Lines to ``stream``
    explain: bool = True
    jobs: int = 1
    subjects_file: Path | None = None  # columnar inputs: the subjects in a second file
    progress: bool = False


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
    from mincredit._columnar import ColumnarInput

    return ColumnarInput(facts, subjects=subjects_file)


PARALLEL_MIN_BYTES = 4 * 1024 * 1024   # below this, starting worker processes costs more than it saves


def run_batch(request: BatchRequest, *, stream: TextIO | None = None,
              on_error: Callable[[FactError], None] | None = None,
              reading: ColumnarInput | None = None) -> BatchSummary:
    """Evaluate a facts file to a JSON Lines or Parquet output, chunk by chunk, and summarise.

    Raises FactsFileError when the input cannot be read at all, ValueError for an unusable request;
    per-subject problems go to ``on_error`` (one call per error, in input order) and the summary.
    ``reading`` is the Parquet or CSV input already being read (:func:`start_reading`), if it was started
    before the rulebook was loaded.
    """
    started = time.perf_counter()
    kind = input_kind(request.facts)
    fmt = output_format(request.output) if request.output is not None else "jsonl"
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
        from mincredit._columnar import ColumnarInput

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
    progress = _progress(request.progress, total, unit_name)
    lines_before = 0
    try:
        with progress as bar:
            task = bar.add_task("evaluating", total=total) if bar is not None else None
            for outcome in run_units(units, worker, jobs, fmt):
                outcome.errors = outcome.placed(lines_before, summary.subjects)
                if outcome.lines is not None:
                    lines_before += outcome.lines
                if outcome.payload is not None:
                    sink.write(outcome.payload)
                summary.add(outcome)
                if on_error is not None:
                    for error in outcome.errors:
                        on_error(error)
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


class _NoProgress(contextlib.AbstractContextManager[None]):
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _progress(show: bool, total: int | None, unit_name: str) -> contextlib.AbstractContextManager[Any]:
    """A rich progress bar on stderr, or a context that shows nothing (stderr is not a terminal)."""
    if not show:
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                    console=Console(file=sys.stderr), transient=True)


__all__ = [
    "AtomicOutput",
    "BatchError",
    "BatchRequest",
    "BatchSummary",
    "Score",
    "ScorePlan",
    "SubjectErrors",
    "evaluate_stream",
    "first_day_counting",
    "quarter_end",
    "run_batch",
    "score_raw",
    "score_subject",
]
