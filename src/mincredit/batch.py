"""Population-scale evaluation: streaming, optionally without explanations, in parallel, to a file.

Every quarter every subject of the region is evaluated again (art. 15), and drafters re-run whole
populations under two rulebook versions.  This module makes that cheap:

- :class:`ScorePlan` compiles a rulebook once more for one as-of date: (indicator, tier) → points,
  honour level → points, the first day a violation or an honour without a stated validity still
  counts (so no retention period is computed per record), and the grade bands as a sorted list of
  edges.  Scoring a subject is one pass over its records with dictionary look-ups.
- :func:`evaluate_stream` evaluates an iterable of subjects lazily, one outcome per subject in input
  order, with or without explanations; without them a :class:`Score` carries exactly the score,
  grade, deductions and bonus the explained :class:`~mincredit.engine.SubjectResult` would.
- :func:`run_batch` is ``mincredit evaluate --output``: a JSON Lines, Parquet or CSV input is read in
  chunks (memory holds a chunk, never the file), chunks are evaluated in order or across processes,
  and the results go to a JSON Lines or Parquet file written atomically.

Validation is never skipped.  A raw subject (a JSON line) that is plainly valid under the facts
model is scored straight from its data; anything else (a misspelt field, a number written as text,
a date in another format, an unknown indicator …) goes through the pydantic model and the engine,
which either accept it exactly as :func:`mincredit.engine.evaluate` would or report why not.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import itertools
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from json.encoder import encode_basestring as _encode_text
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, TextIO, overload

from pydantic_core import from_json

from mincredit.engine import SubjectResult, _rulebook_errors, evaluate_subject, exact
from mincredit.facts.loading import (
    FactError,
    SubjectEntry,
    facts_format,
    iter_jsonl_lines,
    parse_jsonl_line,
    read_facts_file,
    validate_subject,
)
from mincredit.facts.models import HonourRecord, Subject, ViolationRecord
from mincredit.facts.uscc import ALPHABET, WEIGHTS
from mincredit.periods import period_end
from mincredit.rules.compiling import CompiledBand, CompiledRulebook, compile_rulebook
from mincredit.rules.schema import Rulebook

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

DISSOLVED_REASON = "主体资格灭失: a dissolved subject is not evaluated (art. 15)"
_CONTEXT = Context(prec=60)   # the engine's precision; every operation of the formula goes through it
_HONOUR_LEVEL_NAMES = frozenset({"provincial_government", "city_government", "ministry", "provincial_department"})
_SUBJECT_KEYS = frozenset({"uscc", "name", "kind", "status", "public_score", "records"})
_VIOLATION_KEYS = frozenset({"id", "type", "indicator", "tier", "determined_on", "authority", "description"})
_HONOUR_KEYS = frozenset({"id", "type", "honour", "level", "awarded_on", "valid_until", "authority", "description"})
_USCC_VALUE = {char: value for value, char in enumerate(ALPHABET)}


# --- the plan: a rulebook compiled for one evaluation date -------------------------------------------

def first_day_counting(as_of: dt.date, years: int) -> dt.date:
    """The earliest start day whose period of ``years`` (Civil Code counting) still runs on ``as_of``.

    ``period_end`` never decreases as the start moves later, so the starts whose period reaches
    ``as_of`` are exactly the days from this one on: a record counts on ``as_of`` iff
    ``first_day_counting(as_of, years) <= start <= as_of``.
    """
    low, high = dt.date.min.toordinal(), as_of.toordinal()   # period_end(as_of) >= as_of always holds
    low = max(low, high - 366 * years - 2)                    # a period of n years is at most 366·n days
    while low < high:
        middle = (low + high) // 2
        if period_end(dt.date.fromordinal(middle), years=years) >= as_of:
            high = middle
        else:
            low = middle + 1
    return dt.date.fromordinal(low)


class ScorePlan:
    """A compiled rulebook prepared for one as-of date: everything the per-record loop looks up."""

    def __init__(self, rulebook: CompiledRulebook, as_of: dt.date) -> None:
        self.rulebook = rulebook
        self.as_of = as_of
        self.kind = rulebook.subject_kind
        self.integral = all(tier.points == tier.points.to_integral_value() for tier in rulebook.tiers.values()) \
            and all(level.points == level.points.to_integral_value() for level in rulebook.honour_levels.values())
        # Integral points are summed as ints (exact, and faster than Decimal); the formula is in Decimal.
        self.points: dict[tuple[str, int], int | Decimal] = {
            key: self._number(tier.points) for key, tier in rulebook.tiers.items()}
        self.level_points: dict[str, int | Decimal] = {
            name: self._number(level.points) for name, level in rulebook.honour_levels.items()
            if name in _HONOUR_LEVEL_NAMES}
        self.cap = rulebook.honour_cap
        self.violation_from = first_day_counting(as_of, rulebook.violation_years)
        self.honour_from = first_day_counting(as_of, rulebook.honour_default_years)
        self.public_weight = rulebook.public_weight
        self.industry_weight = rulebook.industry_weight
        self.base = rulebook.base
        self.public_required = rulebook.missing_public_score == "error"
        edges = sorted({bound.value for band in rulebook.bands for bound in (band.lower, band.upper)
                        if bound is not None})
        self._edges = edges
        self._at_edge = [rulebook.band_for(edge) for edge in edges]
        between = [*([edges[0] - 1] if edges else [Decimal(0)]),
                   *((low + high) / 2 for low, high in itertools.pairwise(edges)),
                   *([edges[-1] + 1] if edges else [])]
        self._between = [rulebook.band_for(probe) for probe in between]
        self.exact_cap = exact(self.cap)
        self.as_of_text = as_of.isoformat()
        self.violation_from_text = self.violation_from.isoformat()
        self.honour_from_text = self.honour_from.isoformat()
        # indicator code → points by tier number (None where the indicator has no such tier)
        self.tiers_by_code: dict[str, list[int | Decimal | None]] = {}
        for (code, tier), points in self.points.items():
            row = self.tiers_by_code.setdefault(code, [None])
            row.extend([None] * (tier + 1 - len(row)))
            row[tier] = points
        self.valid_texts: set[str] = set()
        # (deductions, capped bonus) → their exact Decimals and the industry part of the formula; few distinct
        self._industry: dict[tuple[int | Decimal, int | Decimal], tuple[Decimal, Decimal, Decimal]] = {}
        self.valid_dates: dict[str, dt.date] = {}

    def remember_text(self, value: object) -> bool:
        """True (and remembered) for a text the model keeps as it is: not empty, no surrounding spaces."""
        if type(value) is str and value != "" and value.strip() == value:
            if len(self.valid_texts) > 1_000_000:
                self.valid_texts.clear()
            self.valid_texts.add(value)
            return True
        return False

    def extras_ok(self, record: dict[str, Any], allowed: frozenset[str]) -> bool:
        """A record with more than its required fields: only known ones, the optional texts as text."""
        if not record.keys() <= allowed:
            return False
        return all(type(record.get(extra)) in (str, type(None)) for extra in ("authority", "description"))

    def remember_date(self, value: object) -> dt.date | None:
        """The date of a plain YYYY-MM-DD text (remembered), or None to let the model decide."""
        day = _plain_date(value)
        if day is not None and type(value) is str:
            if len(self.valid_dates) > 1_000_000:
                self.valid_dates.clear()
            self.valid_dates[value] = day
        return day

    def _number(self, value: Decimal) -> int | Decimal:
        return int(value) if self.integral else value

    def band(self, score: Decimal) -> CompiledBand:
        """The grade band of ``score``; the same band as ``CompiledRulebook.band_for``, by bisection."""
        position = bisect.bisect_left(self._edges, score)
        if position < len(self._edges) and self._edges[position] == score:
            return self._at_edge[position]
        return self._between[position]

    def finish(self, uscc: str, name: str, kind: str, status: str, public: Decimal | None,
               deductions: int | Decimal, bonus: int | Decimal) -> Score:
        """The subject's score from its deductions and its in-force honour points (before the cap)."""
        if status == "dissolved":
            return Score(uscc, name, kind, status, False, None, None, None, public, Decimal(0), Decimal(0),
                         DISSOLVED_REASON)
        key = (deductions, bonus if bonus < self.cap else self.cap)
        industry = self._industry.get(key)
        if industry is None:
            if len(self._industry) > 100_000:
                self._industry.clear()
            # An int made into a Decimal is already what exact() makes of it (200, not 2E+2).
            capped = (Decimal(bonus) if isinstance(bonus, int) else exact(bonus)) if bonus < self.cap \
                else self.exact_cap
            deducted = Decimal(deductions) if isinstance(deductions, int) else exact(deductions)
            part = _CONTEXT.multiply(_CONTEXT.add(_CONTEXT.subtract(self.base, deducted), capped),
                                     self.industry_weight)
            industry = self._industry[key] = (deducted, capped, part)
        deducted, capped, part = industry
        score = exact(_CONTEXT.add(_CONTEXT.multiply(public if public is not None else Decimal(0),
                                                     self.public_weight), part))
        band = self.band(score)
        return Score(uscc, name, kind, status, True, band.grade, band.meaning, score, public, deducted, capped,
                     None)


# --- outcomes ------------------------------------------------------------------------------------------

class Score(NamedTuple):
    """A subject's result without explanations: the fields of SubjectResult except ``items``."""

    uscc: str
    name: str
    kind: str
    status: str
    evaluated: bool
    grade: str | None
    grade_meaning: str | None
    score: Decimal | None
    public_score: Decimal | None
    deductions: Decimal
    honour_bonus: Decimal
    not_evaluated_reason: str | None

    def to_result(self) -> SubjectResult:
        """The same result as a SubjectResult with no items (explanations were not built)."""
        return SubjectResult(**self._asdict(), items=[])


@dataclass(frozen=True)
class SubjectErrors:
    """A subject that could not be evaluated, and every reason why (it was not dropped silently)."""

    index: int
    errors: tuple[FactError, ...]


Outcome = SubjectResult | Score | SubjectErrors
SubjectInput = Subject | SubjectEntry | Mapping[str, Any]


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

def _uscc_ok(code: object) -> bool:
    """True only for a valid USCC (the facts model checks the same; anything else takes the model's path)."""
    if type(code) is not str or len(code) != 18:
        return False
    try:
        total = sum(_USCC_VALUE[char] * weight for char, weight in zip(code, WEIGHTS, strict=False))
        return _USCC_VALUE[code[17]] == (31 - total % 31) % 31
    except KeyError:
        return False


def _plain_date(value: object) -> dt.date | None:
    """A date written plainly as YYYY-MM-DD (or already a date); None means 'let the model decide'."""
    if type(value) is str:
        if len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii():
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return None
        return None
    if type(value) is dt.date:
        return value
    return None


def _plain_text(value: object) -> bool:
    return type(value) is str and value != "" and value.strip() == value


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
    if not _uscc_ok(uscc) or type(name) is not str or not name or kind != plan.kind:
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
    tiers_of, level_points = plan.tiers_by_code, plan.level_points
    dates, texts = plan.valid_dates, plan.valid_texts
    deductions: int | Decimal = 0
    best: dict[str, int | Decimal] = {}
    seen: set[str] = set()
    try:
        for record in records:
            record_id = record["id"]
            if (record_id not in texts and not plan.remember_text(record_id)) or record_id in seen:
                return None
            seen.add(record_id)
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
    return plan.finish(uscc, name, kind, status, public, deductions, sum(best.values()))


def score_subject(plan: ScorePlan, subject: Subject) -> Score | None:
    """Score a validated subject without explanations; None sends it to the engine (rulebook problems, or
    facts other than plain violations and honours)."""
    if subject.kind != plan.kind:
        return None
    public = subject.public_score
    if public is None and subject.status == "active" and plan.public_required:
        return None
    if "roles" in subject.model_fields_set and getattr(subject, "roles", None):
        return None
    as_of, violation_from, honour_from = plan.as_of, plan.violation_from, plan.honour_from
    points_of, level_points = plan.points, plan.level_points
    deductions: int | Decimal = 0
    best: dict[str, int | Decimal] = {}
    for record in subject.records:
        # Only the plain records are scored here; any other kind of record, or a violation that carries more
        # than its indicator, tier and date (quantities, a penalty, a repair …), is left to the engine.
        if type(record) is ViolationRecord:
            if record.tier is None or not record.__pydantic_fields_set__ <= _VIOLATION_KEYS:
                return None
            points = points_of.get((record.indicator, record.tier))
            if points is None:
                return None
            if violation_from <= record.determined_on <= as_of:
                deductions += points
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
    return plan.finish(subject.uscc, subject.name, subject.kind, subject.status, public, deductions,
                       sum(best.values()))


def reference_outcome(plan: ScorePlan, entry: SubjectEntry, explain: bool) -> Outcome:
    """The model-and-engine path: exactly what mincredit.engine.evaluate does with this subject."""
    if entry.subject is None:
        return SubjectErrors(entry.index, entry.errors)
    problems = _rulebook_errors(entry.subject, plan.rulebook, entry.index, entry)
    if problems:
        return SubjectErrors(entry.index, tuple(problems))
    score = None if explain else score_subject(plan, entry.subject)
    if score is not None:
        return score
    result = evaluate_subject(entry.subject, plan.rulebook, plan.as_of)
    if explain:
        return result
    return Score(**{name: getattr(result, name) for name in Score._fields})


def outcome_of(plan: ScorePlan, item: SubjectInput, index: int, explain: bool, *,
               file: str | None = None, line: int | None = None) -> Outcome:
    """Evaluate one subject given as a Subject, a SubjectEntry, or plain data (a mapping)."""
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
    :class:`Score` (no items), computed without building explanations; scores, grades, deductions and
    bonuses are identical to the explained :class:`SubjectResult`.  A subject with bad facts yields a
    :class:`SubjectErrors` and never stops the others.  Memory holds one subject at a time.
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
    def of(cls, rulebook: CompiledRulebook, as_of: dt.date) -> Header:
        return cls(as_of, rulebook.identity.id, rulebook.identity.version, rulebook.digest)

    def json_prefix(self) -> str:
        return ('{"as_of":"' + self.as_of.isoformat() + '","rulebook_id":' + _text(self.rulebook_id)
                + ',"rulebook_version":' + _text(self.rulebook_version) + ',"rulebook_digest":'
                + _text(self.rulebook_digest) + ",")


def _text(value: str | None) -> str:
    return "null" if value is None else _encode_text(value)


def _number_text(value: Decimal | None) -> str:
    return "null" if value is None else '"' + str(value) + '"'


_NOT_EVALUATED = ',"not_evaluated_reason":' + _encode_text(DISSOLVED_REASON) + "}\n"


def score_json_line(prefix: str, score: Score) -> str:
    """One result as a JSON line: the same fields and values as ``SubjectResult`` in ``--format json``."""
    reason = score.not_evaluated_reason
    return (prefix + '"uscc":' + _encode_text(score.uscc) + ',"name":' + _encode_text(score.name)
            + ',"kind":"' + score.kind + '","status":"' + score.status
            + ('","evaluated":true,"grade":' if score.evaluated else '","evaluated":false,"grade":')
            + _text(score.grade) + ',"grade_meaning":' + _text(score.grade_meaning)
            + ',"score":' + _number_text(score.score) + ',"public_score":' + _number_text(score.public_score)
            + ',"deductions":"' + str(score.deductions) + '","honour_bonus":"' + str(score.honour_bonus)
            + ('","not_evaluated_reason":null}\n' if reason is None
               else '"' + (_NOT_EVALUATED if reason == DISSOLVED_REASON
                           else ',"not_evaluated_reason":' + _encode_text(reason) + "}\n")))


def result_json_line(prefix: str, result: SubjectResult) -> str:
    data = result.model_dump(mode="json")
    return prefix + json.dumps(data, ensure_ascii=False, separators=(",", ":"))[1:] + "\n"


def _row_json_line(prefix: str, row: Mapping[str, Any]) -> str:
    """A result row from an Arrow table (decimals already as text) as a JSON line."""
    items = row.get("items")
    data = {name: row[name] for name in RESULT_FIELDS}
    if items is not None:
        data["items"] = [{**item, "counts_from": item["counts_from"].isoformat(),
                          "counts_until": item["counts_until"].isoformat()} for item in items]
    return prefix + json.dumps(data, ensure_ascii=False, separators=(",", ":"))[1:] + "\n"


def result_schema(explain: bool) -> pa.Schema:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    fields = [pa.field("as_of", pa.date32()), pa.field("rulebook_id", pa.string()),
              pa.field("rulebook_version", pa.string()), pa.field("rulebook_digest", pa.string())]
    fields += [pa.field(name, pa.bool_() if name == "evaluated" else pa.string()) for name in RESULT_FIELDS]
    if explain:
        item = pa.struct([pa.field(name, pa.bool_() if name == "counted" else pa.int64() if name == "tier"
                                   else pa.date32() if name in {"counts_from", "counts_until"} else pa.string())
                          for name in ITEM_FIELDS])
        fields.append(pa.field("items", pa.list_(item)))
    return pa.schema(fields)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def results_columns(results: list[SubjectResult | Score], explain: bool) -> dict[str, list[Any]]:
    """Results as columns of Python values (decimals as exact text), ready for an Arrow table."""
    columns: dict[str, list[Any]] = {name: [] for name in RESULT_FIELDS}
    for result in results:
        for name in RESULT_FIELDS:
            value = getattr(result, name)
            columns[name].append(_decimal_text(value) if name in DECIMAL_FIELDS else value)
    if explain:
        columns["items"] = [
            [{name: (_decimal_text(value) if name in {"points", "applied"} else value)
              for name in ITEM_FIELDS for value in (getattr(item, name),)} for item in result.items]
            if isinstance(result, SubjectResult) else None
            for result in results]
    return columns


class Encoder:
    """Turns a chunk of results into what the sink writes: JSON Lines text or an Arrow table."""

    def __init__(self, header: Header, fmt: OutputFormat, explain: bool) -> None:
        self.header, self.fmt, self.explain = header, fmt, explain
        self.prefix = header.json_prefix()

    def encode(self, results: list[SubjectResult | Score]) -> str | pa.Table:
        if self.fmt == "jsonl":
            return "".join(result_json_line(self.prefix, result) if isinstance(result, SubjectResult)
                           else score_json_line(self.prefix, result) for result in results)
        return self.arrow(results_columns(results, self.explain))

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
    def write(self, payload: str | pa.Table) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class JsonlSink:
    """JSON Lines to an atomic file, or to a text stream (stdout) when no path is given."""

    def __init__(self, path: Path | None, stream: TextIO | None = None) -> None:
        self.output = AtomicOutput(path) if path is not None else None
        self.stream = stream

    def write(self, payload: str | pa.Table) -> None:
        assert isinstance(payload, str)
        if self.output is not None:
            self.output.file.write(payload.encode("utf-8"))
        else:
            assert self.stream is not None
            self.stream.write(payload)

    def close(self) -> None:
        if self.output is not None:
            self.output.commit()
        elif self.stream is not None:
            self.stream.flush()

    def abort(self) -> None:
        if self.output is not None:
            self.output.abort()


class ParquetSink:
    """Parquet to an atomic file; each written chunk becomes one or more row groups."""

    def __init__(self, path: Path, explain: bool, header: Header) -> None:
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        self.output = AtomicOutput(path)
        metadata = {b"mincredit": json.dumps({
            "as_of": header.as_of.isoformat(), "rulebook_id": header.rulebook_id,
            "rulebook_version": header.rulebook_version, "rulebook_digest": header.rulebook_digest,
            "decimals": "exact decimal text (score, public_score, deductions, honour_bonus)"}).encode()}
        self.writer = pq.ParquetWriter(self.output.file, result_schema(explain).with_metadata(metadata),
                                       compression="zstd")
        self.pending: list[pa.Table] = []
        self.rows = 0

    def write(self, payload: str | pa.Table) -> None:
        assert not isinstance(payload, str)
        self.pending.append(payload)
        self.rows += payload.num_rows
        if self.rows >= 131_072:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

        if self.pending:
            table = pa.concat_tables(self.pending)
            self.writer.write_table(table.replace_schema_metadata(self.writer.schema.metadata),
                                    row_group_size=262_144)
        self.pending, self.rows = [], 0

    def close(self) -> None:
        self._flush()
        self.writer.close()
        self.output.commit()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        self.output.abort()


# --- work units, evaluated in order in this process or in worker processes ------------------------

@dataclass
class UnitOutcome:
    """What one chunk of input became: the encoded results, the errors, and counts for the summary."""

    payload: str | pa.Table | None
    errors: list[FactError]
    subjects: int = 0
    records: int = 0
    error_subjects: int = 0
    not_evaluated: int = 0
    grades: Counter[str] = field(default_factory=Counter)
    progress: int = 0


class Worker:
    """Evaluates work units; one per process (built again in each worker from the rulebook's source)."""

    def __init__(self, rulebook: CompiledRulebook, as_of: dt.date, explain: bool, fmt: OutputFormat) -> None:
        self.plan = ScorePlan(rulebook, as_of)
        self.explain = explain
        self.encoder = Encoder(Header.of(rulebook, as_of), fmt, explain)

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


def quick_json(line: bytes) -> Any:
    """A JSON line parsed by pydantic-core's parser (about twice as fast as the standard one), or None.

    That parser reads JSON numbers with a fraction as binary floats, so the one number a subject has,
    its public score, is read again from its own text as an exact Decimal.  Anything unusual (a float
    elsewhere, a second ``"public_score"`` in the line, any parse error) gives None, and the line goes
    through the standard parser, which keeps every number exact.
    """
    try:
        raw = from_json(line)
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


@dataclass(frozen=True)
class JsonlUnit:
    """A run of JSON lines: (line number, subject index, bytes)."""

    file: str
    lines: list[tuple[int, int, bytes]]
    size: int

    def run(self, worker: Worker) -> UnitOutcome:
        plan, explain, file = worker.plan, worker.explain, self.file
        outcomes: list[Outcome] = []
        records = 0
        for number, index, line in self.lines:
            if not explain:
                quick = quick_json(line)
                if quick is not None:
                    fast = score_raw(plan, quick)
                    if fast is not None:
                        records += _record_count(quick)
                        outcomes.append(fast)
                        continue
            raw, problem = parse_jsonl_line(line, file, number, index)
            if problem is not None:
                outcomes.append(SubjectErrors(index, problem.errors))
                continue
            records += _record_count(raw)
            outcomes.append(outcome_of(plan, raw, index, explain, file=file, line=number))
        return worker.outcome(outcomes, records, self.size)


@dataclass(frozen=True)
class EntriesUnit:
    """Subjects already read (a YAML or JSON document)."""

    entries: list[SubjectEntry]

    def run(self, worker: Worker) -> UnitOutcome:
        outcomes = [outcome_of(worker.plan, entry, entry.index, worker.explain) for entry in self.entries]
        records = sum(len(entry.subject.records) for entry in self.entries if entry.subject is not None)
        return worker.outcome(outcomes, records, len(self.entries))


JSONL_LINES_PER_UNIT = 2000


def jsonl_units(path: Path, lines_per_unit: int | None = None) -> Iterator[JsonlUnit]:
    lines_per_unit = lines_per_unit or JSONL_LINES_PER_UNIT
    file = str(path)
    chunk: list[tuple[int, int, bytes]] = []
    size = 0
    for index, (number, line) in enumerate(iter_jsonl_lines(path)):
        chunk.append((number, index, line))
        size += len(line) + 1
        if len(chunk) >= lines_per_unit:
            yield JsonlUnit(file, chunk, size)
            chunk, size = [], 0
    if chunk:
        yield JsonlUnit(file, chunk, size)


def document_units(path: Path, per_unit: int = 2000) -> Iterator[EntriesUnit]:
    chunk: list[SubjectEntry] = []
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
    rulebook = compile_rulebook(source)
    if rulebook.digest != digest:
        raise RuntimeError(f"the worker compiled rulebook {rulebook.digest}, expected {digest}")
    _WORKER = Worker(rulebook, as_of, explain, fmt)


def _run_in_worker(unit: Unit) -> UnitOutcome:
    assert _WORKER is not None
    return unit.run(_WORKER)


def run_units(units: Iterable[Unit], worker: Worker, rulebook: CompiledRulebook, jobs: int,
              fmt: OutputFormat) -> Iterator[UnitOutcome]:
    """Each unit's outcome, in input order; with ``jobs`` > 1 units run in that many worker processes.

    At most ``2 × jobs`` units are in flight, so memory stays bounded whatever the input's size.
    """
    if jobs <= 1:
        for unit in units:
            yield unit.run(worker)
        return
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    # "spawn": no worker inherits this process's threads or locks (pyarrow's pools), on every platform.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker,
                               initargs=(rulebook.source, rulebook.digest, worker.plan.as_of, worker.explain, fmt))
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
    rulebook: CompiledRulebook
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


PARALLEL_MIN_BYTES = 4 * 1024 * 1024   # below this, starting worker processes costs more than it saves


def run_batch(request: BatchRequest, *, stream: TextIO | None = None,
              on_error: Callable[[FactError], None] | None = None) -> BatchSummary:
    """Evaluate a facts file to a JSON Lines or Parquet output, chunk by chunk, and summarise.

    Raises FactsFileError when the input cannot be read at all, ValueError for an unusable request;
    per-subject problems go to ``on_error`` (one call per error, in input order) and the summary.
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
    if kind in {"parquet", "csv"}:
        from mincredit.columnar import columnar_units

        source = columnar_units(request.facts, subjects=request.subjects_file, explain=request.explain,
                                plan=worker.plan)
        units, total = source.units(), source.total_rows
        unit_name = "rows"
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
    try:
        with progress as bar:
            task = bar.add_task("evaluating", total=total) if bar is not None else None
            for outcome in run_units(units, worker, request.rulebook, jobs, fmt):
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
    summary.seconds = time.perf_counter() - started
    return summary


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
