"""What an evaluation gives: typed, frozen result values, and their one JSON encoding.

Results are msgspec Structs rather than pydantic models: they are made by the library, never validated from
outside, and a population run makes millions of them (one per record when explained), so building and
encoding them must cost next to nothing.  The same values serve every path — the Python API, the document
output (``--format json``), JSON Lines and Parquet — and :func:`encode` is the only place they become JSON:
decimals as exact strings (``"962.47"``), dates as ``YYYY-MM-DD``.

Fields added for the other half of the measures (objections, derived tiers, proposals, listings,
consequences, warnings) are left out of the JSON while unused, so a document that uses none of them gets
exactly the keys it always got; the base fields are always written, ``null`` included.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from mincredit._blacklist import ListingStatus, Proposal
    from mincredit.facts._reading import FactError


class ConsequenceItem(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One measure a grade or a listing entails, with the rulebook clause it comes from."""

    id: str
    article: str
    kind: str
    wording: str
    because: str
    suspended: bool = False
    suspended_because: str | None = None


class Item(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """One record and what it did to the score, with the reason in words."""

    record_id: str
    type: Literal["violation", "honour"]
    counted: bool
    points: Decimal
    applied: Decimal
    counts_from: dt.date
    counts_until: dt.date
    explanation: str
    indicator: str | None
    tier: int | None
    indicator_title: str | None
    wording: str | None
    honour: str | None
    level: str | None
    level_name: str | None
    under_objection: bool = False
    objection_raised_on: dt.date | None = None
    tier_source: Literal["quantity", "count", "contract"] | None = None
    tier_reason: str | None = None
    derived_from: str | None = None
    correction: str | None = None
    extended_by: str | None = None
    repaired_on: dt.date | None = None
    revoked_on: dt.date | None = None
    withheld_because: str | None = None


class SubjectResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A subject's score, grade and everything it entails; ``items`` is None when explanations were not asked for."""

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
    items: list[Item] | None = None
    proposals: tuple[Proposal, ...] = ()
    listings: tuple[ListingStatus, ...] = ()
    consequences: tuple[ConsequenceItem, ...] = ()
    warnings: tuple[str, ...] = ()


class SubjectErrors(msgspec.Struct, frozen=True):
    """A subject that could not be evaluated, and every reason why (it is never dropped silently)."""

    index: int
    errors: tuple[FactError, ...]


class RulebookRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which rulebook, exactly, made an evaluation."""

    id: str
    version: str
    title: str
    status: str
    subject_kind: str
    digest: str


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    rulebook: RulebookRef
    as_of: dt.date
    results: list[SubjectResult]
    errors: list[FactError]

    @property
    def complete(self) -> bool:
        return not self.errors


Outcome = SubjectResult | SubjectErrors


def _builtin(value: Any) -> Any:
    """Values msgspec does not know: the pydantic models of listings and proposals, and FactError."""
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    as_dict = getattr(value, "as_dict", None)
    if as_dict is not None:
        return as_dict()
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_builtin)


def encode(value: Any) -> bytes:
    """The JSON of a result value (compact, UTF-8, decimals as exact strings)."""
    return _ENCODER.encode(value)


def encode_into(value: Any, buffer: bytearray, offset: int) -> None:
    """Append the JSON of ``value`` to ``buffer`` at ``offset`` (a population run encodes into one buffer)."""
    _ENCODER.encode_into(value, buffer, offset)


def to_builtins(value: Any) -> Any:
    """A result value as plain JSON data (dicts, lists, strings), e.g. for the evaluation record."""
    return msgspec.json.decode(encode(value))


def pretty(value: Any) -> str:
    """The JSON of a result value indented by two spaces, as the document output writes it."""
    return msgspec.json.format(encode(value), indent=2).decode("utf-8") + "\n"
