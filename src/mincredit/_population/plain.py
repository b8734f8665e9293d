"""A canonical JSON line, decoded by msgspec straight into typed structs, then scored and explained by the kernel.

The structs describe the *canonical plain subject*: the subject's own fields, and records that are plain
violations (``id``, ``indicator``, ``tier``, ``determined_on``) or honours (``id``, ``honour``, ``level``,
``awarded_on``, ``valid_until``), each field in its canonical JSON form (text as a string, a tier as a JSON
integer, dates as ``YYYY-MM-DD``, the public score as a JSON number), and no field the facts model does not
know.  msgspec checks shape and types while it parses; :meth:`PlainScorer.score` checks everything else the
facts model and the rulebook check, then hands the records to :func:`mincredit._kernel.tally`.

Anything else gives None, and the line goes through the facts model and the engine, which accept it with the
same result or say exactly what is wrong.  This module imports the standard library, msgspec and the kernel only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Literal, final

import msgspec

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
    authority: str | None = None
    description: str | None = None


@final
class PlainHonour(msgspec.Struct, tag="honour", tag_field="type", forbid_unknown_fields=True, gc=False):
    """A plain honour record (行业荣誉信息) in its canonical form."""

    id: str
    honour: str
    level: str
    awarded_on: dt.date
    valid_until: dt.date | None = None
    authority: str | None = None
    description: str | None = None


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
    status: Literal["active", "dissolved"] = "active"
    public_score: msgspec.Raw = msgspec.Raw()
    records: list[PlainViolation | PlainHonour] = []


_DECODER = msgspec.json.Decoder(PlainSubject)
_NULL = b"null"
_DIGITS = frozenset(b"0123456789")     # the first byte of a JSON number that is not negative


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
        except ValueError:      # msgspec.DecodeError and its ValidationError, and UnicodeDecodeError
            return None
        day = self.day
        law = day.law
        uscc, name, kind, status = subject.uscc, subject.name, subject.kind, subject.status
        if kind != law.kind or not name or not is_valid_uscc(uscc):
            return None
        public: Decimal | None = None
        raw = subject.public_score
        if raw:
            text = bytes(raw)
            if text != _NULL:
                if text[0] not in _DIGITS:     # a JSON number without a sign (so never -0)
                    return None
                try:
                    public = Decimal(text.decode("ascii"))
                except (InvalidOperation, UnicodeDecodeError):
                    return None
        if day.tables.public_problem(public, status) is not None:
            return None
        records = subject.records
        ids = [record.id for record in records]
        texts = self.texts
        # Every id a text the model keeps as it is, and no id twice; texts seen before are one set look-up.
        if len(set(ids)) != len(ids) or (not texts.issuperset(ids)
                                         and not all(self._canonical(record_id) for record_id in ids)):
            return None
        violations: list[PlainViolation] = []
        honours: list[PlainHonour] = []
        engine_codes = law.engine_codes
        for record in records:
            if type(record) is PlainViolation:
                if record.indicator in engine_codes:
                    return None
                violations.append(record)
            else:
                assert type(record) is PlainHonour
                valid = record.valid_until
                if (valid is not None and valid < record.awarded_on) \
                        or (record.honour not in texts and not self._canonical(record.honour)):
                    return None
                honours.append(record)
        explainer = Explainer(day) if self.explain else None
        try:
            deductions, bonus = tally(day, violations, honours, explainer)
        except UnknownRule:
            return None
        warnings: list[str] = []
        if law.count_bands and any(record.indicator in law.count_bands for record in violations):
            warnings = stated_tier_warnings(law, violations, offence_places(violations, law.count_bands))
        result = conclude(day, uscc, name, kind, status, public, deductions, bonus,
                          items=explainer.items() if explainer is not None else None, warnings=warnings)
        return result, len(records)
