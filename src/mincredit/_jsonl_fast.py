"""The fast path of a JSON Lines subject: one line decoded by msgspec straight into typed structs, then scored.

The structs describe the *canonical plain subject* only: the subject's own fields, and records that are plain
violations (``id``, ``indicator``, ``tier``, ``determined_on``) or honours (``id``, ``honour``, ``level``,
``awarded_on``, ``valid_until``), each field in its canonical JSON form (text as a string, a tier as a JSON
integer, dates as ``YYYY-MM-DD``, the public score as a JSON number), no field the facts model does not know.
msgspec checks the shape and the types while it parses; the scorer checks everything else the facts model
checks (the USCC's check character, texts neither empty nor with surrounding spaces, unique record ids,
validity after the award, the public score's range) and what the rulebook must know (the subject's kind, each
indicator, tier and honour level, a public score when one is required, the stated tiers of indicators graded by
repetition), then scores the subject with :meth:`~mincredit._plan.ScorePlan.finish` exactly as
:func:`mincredit._batch.score_raw` does.

Anything else gives None, and the line takes the other path (:func:`mincredit._batch.quick_json` and
:func:`~mincredit._batch.score_raw`, then the facts model and the engine), which accepts it or reports exactly what
is wrong: a decode error (not JSON, not UTF-8, a missing or unknown field, another kind of record), a field in
another form (a number written as text or text as a number, ``1.0`` or ``true`` for a tier, a date with a time,
a public score written as a string), or a check that fails.  So this path accepts a subset of what
:func:`~mincredit._batch.score_raw` accepts, and gives the same result for it.

Only the standard library and msgspec are imported here; the plan is handed in by the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, final

import msgspec

from mincredit.facts._uscc import is_valid_uscc

if TYPE_CHECKING:
    from mincredit._batch import Score, ScorePlan

__all__ = ["LineScorer", "PlainHonour", "PlainSubject", "PlainViolation", "decode_line", "line_scorer",
           "score_line"]

# The honour levels of the facts model (mincredit.facts._models.HonourLevelName); msgspec checks them as it reads.
HonourLevel: TypeAlias = Literal["provincial_government", "city_government", "ministry", "provincial_department"]


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
    level: HonourLevel
    awarded_on: dt.date
    valid_until: dt.date | None = None
    authority: str | None = None
    description: str | None = None


@final
class PlainSubject(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A subject with plain records only.

    The public score is kept as its raw JSON text: msgspec would also make a Decimal of a JSON *string*
    (``"500"``, ``"NaN"``), which this path leaves to the model, so the scorer reads the number from its text
    itself.  An absent public score is an empty Raw, an explicit one ``null``.
    """

    uscc: str
    name: str
    kind: str
    status: Literal["active", "dissolved"] = "active"
    public_score: msgspec.Raw = msgspec.Raw()
    records: list[PlainViolation | PlainHonour] = []


LineScorer: TypeAlias = "Callable[[bytes], tuple[Score, int] | None]"

_DECODER = msgspec.json.Decoder(PlainSubject)
_NULL = b"null"
_DIGITS = frozenset(b"0123456789")     # the first byte of a JSON number that is not negative
_NO_TIERS: dict[int, Any] = {}


def decode_line(line: bytes) -> PlainSubject | None:
    """The line as a canonical plain subject, or None (not JSON, not UTF-8, or not of that shape)."""
    try:
        return _DECODER.decode(line)
    except ValueError:          # msgspec.DecodeError and its ValidationError, and UnicodeDecodeError
        return None


def line_scorer(plan: ScorePlan) -> LineScorer:
    """A function scoring one JSON line with ``plan``: its Score and number of records, or None.

    None when the line is not a canonical plain subject that scores plainly; the other path gives the same
    result for every line this one scores, and takes the rest.  Everything the loop looks up is bound once here.
    """
    decode = _DECODER.decode
    plan_kind, public_required = plan.kind, plan.public_required
    texts, remember_text = plan.valid_texts, plan.remember_text
    as_of, violation_from, honour_from = plan.as_of, plan.violation_from, plan.honour_from
    level_points, count_bands = plan.level_points, plan.count_bands
    finish, count_warnings = plan.finish, plan.count_warnings
    # indicator → {tier: points}: a tier the indicator does not have (0, negative, too high) is simply absent
    tier_points = {code: {tier: points for tier, points in enumerate(row) if points is not None}
                   for code, row in plan.tiers_by_code.items()}

    def score(line: bytes) -> tuple[Score, int] | None:
        try:
            subject = decode(line)
        except ValueError:      # msgspec.DecodeError and its ValidationError, and UnicodeDecodeError
            return None
        uscc, name, kind = subject.uscc, subject.name, subject.kind
        if kind != plan_kind or not name or not is_valid_uscc(uscc):
            return None
        status = subject.status
        public: Decimal | None = None
        raw = subject.public_score
        if raw:
            text = bytes(raw)
            if text != _NULL:
                # A JSON number without a sign (so not -0), read exactly from its text as the other path reads it.
                if text[0] not in _DIGITS:
                    return None
                public = Decimal(text.decode("ascii"))
                if not public <= 1000:
                    return None
        if public is None and status == "active" and public_required:
            return None
        records = subject.records
        # Every id a text the model keeps as it is, and no id twice.
        ids = [record.id for record in records]
        if not texts.issuperset(ids) and not all(rid in texts or remember_text(rid) for rid in ids):
            return None
        if len(set(ids)) != len(ids):
            return None
        deductions: int | Decimal = 0
        best: dict[str, int | Decimal] = {}
        repeated: list[tuple[str, str, int, Any]] | None = None
        for record in records:
            if type(record) is PlainViolation:
                indicator = record.indicator
                points = tier_points.get(indicator, _NO_TIERS).get(record.tier)
                if points is None:
                    return None
                day = record.determined_on
                if violation_from <= day <= as_of:
                    deductions += points
                if indicator in count_bands:
                    repeated = repeated or []
                    repeated.append((record.id, indicator, record.tier, day))
            else:
                title = record.honour
                points = level_points.get(record.level)
                if points is None or (title not in texts and not remember_text(title)):
                    return None
                day, valid = record.awarded_on, record.valid_until
                if valid is None:
                    in_force = honour_from <= day <= as_of
                elif valid < day:
                    return None
                else:
                    in_force = day <= as_of <= valid
                if in_force and points > best.get(title, 0):
                    best[title] = points
        warnings = count_warnings(repeated) if repeated is not None else ()
        if warnings is None:
            return None
        return finish(uscc, name, kind, status, public, deductions, sum(best.values()), warnings), len(records)

    return score


def score_line(plan: ScorePlan, line: bytes) -> tuple[Score, int] | None:
    """One line scored by :func:`line_scorer` (for a single line; a loop binds the scorer once)."""
    return line_scorer(plan)(line)
