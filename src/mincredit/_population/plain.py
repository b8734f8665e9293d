"""A canonical JSON line, decoded by msgspec straight into typed structs, then scored and explained by the kernel.

The structs describe the *canonical plain subject*: the subject's own fields, and records that are plain
violations (``id``, ``indicator``, ``tier``, ``determined_on``) or honours (``id``, ``honour``, ``level``,
``awarded_on``, ``valid_until``), each field in its canonical JSON form (text as a string, a tier as a JSON
integer, dates as ``YYYY-MM-DD``, the public score as a JSON number), and no field the facts model does not
know.  msgspec checks shape and types while it parses; :meth:`PlainScorer.score` checks everything else the
facts model and the rulebook check, then hands the records to :func:`mincredit._kernel.tally`.

Anything else gives None, and the line goes through the facts model and the engine, which accept it with the
same result or say exactly what is wrong.  This module imports the standard library, msgspec and the kernel only.

msgspec keeps the last of a key given twice, silently; the standard decoder of the other path notes it.  So a line
is taken here only if it holds exactly the keys and texts its structs say it does: every key and every text value
is a pair of quotes, optional fields left out are told from those given (``UNSET``), and a line with one quote
too many (a key given twice) goes the other way, where it is refused.  Counting quotes is two passes of C over the
line's bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Literal, final

import msgspec
from msgspec import UNSET, UnsetType

from mincredit._explain import Explainer
from mincredit._kernel import Day, UnknownRule, conclude, offence_places, stated_tier_warnings, tally
from mincredit._results import SubjectResult
from mincredit.facts._uscc import is_valid_uscc


@final
class PlainViolation(msgspec.Struct, tag="violation", tag_field="type", forbid_unknown_fields=True, gc=False):
    """A plain violation record (行业不良信息) in its canonical form."""

    id: str
    indicator: str
    tier: int
    determined_on: dt.date
    authority: str | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET


@final
class PlainHonour(msgspec.Struct, tag="honour", tag_field="type", forbid_unknown_fields=True, gc=False):
    """A plain honour record (行业荣誉信息) in its canonical form."""

    id: str
    honour: str
    level: str
    awarded_on: dt.date
    valid_until: dt.date | UnsetType | None = UNSET
    """UNSET when the line leaves it out (its quotes are counted), then None: the scorer sets it before the kernel
    reads it."""
    authority: str | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET


@final
class PlainSubject(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A subject with plain records only.

    The public score is kept as its raw JSON text: msgspec would also make a Decimal of a JSON *string*
    (``"500"``, ``"NaN"``), which this path leaves to the model; an absent score is an empty Raw, an explicit
    one ``null``.
    """

    uscc: str
    name: str
    kind: str
    status: Literal["active", "dissolved"] | UnsetType = UNSET
    public_score: msgspec.Raw = msgspec.Raw()
    records: list[PlainViolation | PlainHonour] | UnsetType = UNSET


_DECODER = msgspec.json.Decoder(PlainSubject)
_NULL = b"null"
_DIGITS = frozenset(b"0123456789")     # the first byte of a JSON number that is not negative
_QUOTE, _BACKSLASH, _ESCAPED_QUOTE, _ESCAPED_BACKSLASH = b'"', b"\\", b'\\"', b"\\\\"
_EXPONENT = re.compile(rb"[eE]")  # a JSON number in exponent form
_LONG_SCORE = 32   # a public score's text longer than this, or with an exponent, is left to the model's bounds
# The quotes of a record's required keys and texts: a violation's id, type, indicator, determined_on (keys and
# values) and tier (key); an honour's id, type, honour, level, awarded_on (keys and values).
_VIOLATION_QUOTES, _HONOUR_QUOTES = 18, 20


def _quotes(value: object) -> int:
    """The quotes an optional field adds to its line: none when left out, its key's when null, else key and text."""
    return 0 if value is UNSET else 2 if value is None else 4


def _described(records: list[PlainViolation | PlainHonour]) -> int:
    """The quotes the records' authorities and descriptions add (counted only for a line that has more quotes than
    its other fields make: most lines give neither)."""
    return sum(_quotes(record.authority) + _quotes(record.description) for record in records)


class PlainScorer:
    """Scores canonical plain lines with one day's law; texts already seen valid are remembered (record ids,
    codes, titles and dates repeat across subjects), so most checks are one set look-up."""

    def __init__(self, day: Day, explain: bool) -> None:
        self.day = day
        self.explain = explain
        self.texts: set[str] = set()

    def _canonical(self, value: str) -> bool:
        """A text the model keeps as it is: not empty, no surrounding spaces (remembered when it is)."""
        if value in self.texts:
            return True
        if value and value.strip() == value:
            if len(self.texts) > 1_000_000:
                self.texts.clear()
            self.texts.add(value)
            return True
        return False

    def score(self, line: bytes) -> tuple[SubjectResult, int] | None:
        """The line's result and number of records, or None: the line is not a canonical plain subject that this
        rulebook scores plainly."""
        try:
            subject = _DECODER.decode(line)
        except (ValueError, RecursionError):  # msgspec.DecodeError and its ValidationError, UnicodeDecodeError, nesting
            return None
        escaped = _BACKSLASH in line          # as a rule not: the quotes are then counted in one pass
        if escaped and _ESCAPED_BACKSLASH in line:   # "\\" before a closing quote: quotes are not counted here
            return None
        day = self.day
        law = day.law
        uscc, name, kind, status = subject.uscc, subject.name, subject.kind, subject.status
        if kind != law.kind or not name or not is_valid_uscc(uscc):
            return None
        quotes = 12       # uscc, name, kind: keys and values
        if status is UNSET:
            status = "active"
        else:
            quotes += 4
        public: Decimal | None = None
        raw = subject.public_score
        if raw:
            quotes += 2
            text = bytes(raw)
            if text != _NULL:
                # a JSON number without a sign (so never -0), short, without an exponent: within the model's bounds
                if text[0] not in _DIGITS or len(text) > _LONG_SCORE or _EXPONENT.search(text):
                    return None
                try:
                    public = Decimal(text.decode("ascii"))
                except (InvalidOperation, UnicodeDecodeError):
                    return None
        if day.tables.public_problem(public, status) is not None:
            return None
        records = subject.records
        if records is UNSET:
            records = []
        else:
            quotes += 2
        ids = [record.id for record in records]
        texts = self.texts
        # Every id a text the model keeps as it is, and no id twice; texts seen before are one set look-up.
        if len(set(ids)) != len(ids) or (not texts.issuperset(ids)
                                         and not all(self._canonical(record_id) for record_id in ids)):
            return None
        violations: list[PlainViolation] = []
        honours: list[PlainHonour] = []
        engine_codes = law.engine_codes
        # a record whose period would end after 9999-12-31 is its subject's error, which the engine words
        violation_last, honour_last = day.violation_last, day.honour_last
        for record in records:
            if type(record) is PlainViolation:
                if record.indicator in engine_codes or record.determined_on > violation_last:
                    return None
                violations.append(record)
            else:
                assert type(record) is PlainHonour
                until = record.valid_until
                if until is UNSET:
                    record.valid_until = None        # left out: no validity stated, as the kernel reads it
                    if record.awarded_on > honour_last:
                        return None
                elif until is None:
                    quotes += 2
                    if record.awarded_on > honour_last:
                        return None
                elif until < record.awarded_on:
                    return None
                else:
                    quotes += 4
                if record.honour not in texts and not self._canonical(record.honour):
                    return None
                honours.append(record)
        quotes += _VIOLATION_QUOTES * len(violations) + _HONOUR_QUOTES * len(honours)
        found = line.count(_QUOTE) - (line.count(_ESCAPED_QUOTE) if escaped else 0)
        if found != quotes and found != quotes + _described(records):
            return None   # a key given twice (or anything else not counted here): the other path says which
        explainer = Explainer(day) if self.explain else None
        try:   # every honour's validity is a date or None now (UNSET was made None above)
            deductions, bonus = tally(day, violations, honours, explainer)  # type: ignore[arg-type]
        except UnknownRule:
            return None
        warnings: list[str] = []
        if law.count_bands and any(record.indicator in law.count_bands for record in violations):
            warnings = stated_tier_warnings(law, violations, offence_places(violations, law.count_bands))
        result = conclude(day, uscc, name, kind, status, public, deductions, bonus,
                          items=explainer.items() if explainer is not None else None, warnings=warnings)
        return result, len(records)
