"""Facts: the subjects evaluated and their credit records (the public interchange format).

These field names are the interchange format other systems write; unknown
fields are rejected so a misspelt field is never silently ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from mincredit.facts._basic import BasicInformation
from mincredit.facts._records import (
    Contract,
    InfoKind,
    JudgmentRefusal,
    Listing,
    Objection,
    OtherSectorListing,
    Penalty,
    Quantity,
    Role,
    StatutoryGround,
)
from mincredit.facts._types import DigitsAsText, FactModel, Label, Number, Whole
from mincredit.facts._uscc import uscc_problem


class ViolationRecord(FactModel):
    """行业不良信息: one occurrence of an annex deduction indicator at one tier."""

    id: Label
    type: Literal["violation"]
    indicator: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    tier: Whole | None = Field(default=None, gt=0, description="left out: derived from quantities or history")
    determined_on: dt.date = Field(description="认定之日: the day the behaviour was determined")
    authority: str | None = None
    description: str | None = None
    # the other half of the measures (docs/facts.md, "Blacklist, repair, objections"): all optional
    info_kind: InfoKind | None = None
    penalty: Penalty | None = None
    behaviours: list[Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]] = Field(
        default_factory=list)
    quantities: dict[str, Quantity] = Field(default_factory=dict)
    offence_count: Whole | None = Field(default=None, gt=0, description="初次 = 1; the authority's count")
    obligations_fulfilled_on: dt.date | None = None
    repair_applied_on: dt.date | None = None
    repaired_on: dt.date | None = None
    objections: list[Objection] = Field(default_factory=list)


Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A kind of subject or an honour level: whatever ids the rulebook defines (checked against it when evaluated)."""


class HonourRecord(FactModel):
    """行业荣誉信息: an honour title or commendation awarded at one level."""

    id: Label
    type: Literal["honour"]
    honour: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    level: Identifier
    awarded_on: dt.date
    valid_until: dt.date | None = None
    authority: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _validity_after_award(self) -> HonourRecord:
        if self.valid_until is not None and self.valid_until < self.awarded_on:
            raise ValueError(f"valid_until {self.valid_until} is before awarded_on {self.awarded_on}")
        return self


Record = Annotated[ViolationRecord | HonourRecord | JudgmentRefusal | StatutoryGround | Listing | Contract
                   | OtherSectorListing, Field(discriminator="type")]


class Subject(FactModel):
    """A mining-rights holder or an agency, identified by its 统一社会信用代码."""

    uscc: Annotated[str, DigitsAsText]
    name: Annotated[str, StringConstraints(min_length=1)]
    kind: Identifier
    status: Literal["active", "dissolved"] = "active"
    public_score: Number | None = Field(default=None, allow_inf_nan=False,
                                         description="checked against the range the rulebook's formula takes")
    records: list[Record] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list,
                              description="竞买人（投标人）, 竞得人（中标人）: what the bidders' triggers test")
    basic: BasicInformation | None = Field(default=None, description="基础信息, never published (facts/_basic)")

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, value: str) -> str:
        problem = uscc_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _unique_record_ids(self) -> Subject:
        twice = repeated_ids(record.id for record in self.records)
        if twice:
            raise ValueError(duplicate_id_message(twice[0]))
        return self


def repeated_ids(ids: Iterable[str]) -> list[str]:
    """The record ids used more than once, in the order of their second use."""
    seen: set[str] = set()
    twice: list[str] = []
    for record_id in ids:
        if record_id in seen and record_id not in twice:
            twice.append(record_id)
        seen.add(record_id)
    return twice


def duplicate_id_message(record_id: str) -> str:
    return f"the record id {record_id!r} is used twice; every record needs its own id"


class FactsDocument(FactModel):
    """A facts file: a list of subjects."""

    subjects: list[Subject]


@dataclass(frozen=True)
class PartialSubject:
    """What of a subject that failed validation is valid: its kind, and, where they validated, its status and public
    score, and the records that are valid on their own.  Never evaluated; the rulebook's checks read it, so that a
    subject with a duplicate record id (say) is also told about its unknown tiers, not only after a second try."""

    uscc: str | None
    name: str | None
    kind: str
    status: Literal["active", "dissolved"]
    public_score: Decimal | None
    public_score_valid: bool
    """False when the status or the public score did not validate: the rulebook's range check is then not made
    (the validation error already says what is wrong)."""
    records: tuple[Record, ...]
