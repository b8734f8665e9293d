"""Facts: the subjects evaluated and their credit records (the public interchange format).

These field names are the interchange format other systems write; unknown
fields are rejected so a misspelt field is never silently ignored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from mincredit._numbers import decimal_value, whole_value
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
from mincredit.facts._uscc import uscc_problem


def digits_as_text(value: object) -> object:
    """YAML reads an all-digit code (a USCC ending in a digit, ``id: 7``) as a number; it is a label."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


RecordId = Annotated[str, BeforeValidator(digits_as_text), StringConstraints(min_length=1, strip_whitespace=True)]
Whole = Annotated[int, BeforeValidator(whole_value)]
"""A whole number as the facts write it (mincredit._numbers): never a boolean, never ``+2`` or ``2.0``."""
Number = Annotated[Decimal, BeforeValidator(decimal_value)]
"""A decimal number as the facts write it (mincredit._numbers): exact, finite, of a bounded size; -0 is 0."""


class FactModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ViolationRecord(FactModel):
    """行业不良信息: one occurrence of an annex deduction indicator at one tier."""

    id: RecordId
    type: Literal["violation"]
    indicator: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    tier: Whole | None = Field(default=None, gt=0, description="left out: derived from quantities or history")
    determined_on: dt.date = Field(description="认定之日: the day the behaviour was determined")
    authority: str | None = None
    description: str | None = None
    # arts. 8, 15–28 (docs/facts.md, "Blacklist, repair, objections"): all optional
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

    id: RecordId
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

    uscc: Annotated[str, BeforeValidator(digits_as_text)]
    name: Annotated[str, StringConstraints(min_length=1)]
    kind: Identifier
    status: Literal["active", "dissolved"] = "active"
    public_score: Number | None = Field(default=None, allow_inf_nan=False,
                                         description="checked against the range the rulebook's formula takes")
    records: list[Record] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list, description="竞买人（投标人）, 竞得人（中标人） (art. 17)")
    basic: BasicInformation | None = Field(default=None, description="art. 7 基础信息, never published (facts/_basic)")

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, value: str) -> str:
        problem = uscc_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _unique_record_ids(self) -> Subject:
        seen: set[str] = set()
        for record in self.records:
            if record.id in seen:
                raise ValueError(f"the record id {record.id!r} is used twice; every record needs its own id")
            seen.add(record.id)
        return self


class FactsDocument(FactModel):
    """A facts file: a list of subjects."""

    subjects: list[Subject]
