"""The rulebook schema: what a rulebook YAML file may say, as pydantic models.

Every rule carries the regulation's own Chinese wording beside the numbers it
implements (``wording``, ``title``, ``annex``), so a reader can check one
against the other without opening the regulation.  The models are frozen: a
loaded rulebook is a value, and two versions can live side by side.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mincredit._publish._rules import Publication
from mincredit.rules._schema_articles import (
    ArticleRule,
    Blacklist,
    Consequence,
    Derived,
    Objections,
    Removal,
    Repair,
)

# Every list of the regulation is the rulebook's: a kind of subject, a grade, an honour level and an indicator
# code are whatever ids and labels the rulebook defines (the ids are plain lower-case words, so that facts,
# scenario files and command lines can name them).
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
SubjectKind = Identifier
HonourLevelId = Identifier
GradeLabel = Annotated[str, StringConstraints(pattern=r"^\S(.*\S)?$", max_length=40)]
IndicatorCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]+[0-9]+$")]

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(Strict):
    """Where in the regulation a rule comes from."""

    document: NonEmptyText
    article: NonEmptyText
    file: str | None = None
    lines: str | None = Field(default=None, description="line range in the regulation file, e.g. '181-188'")


class EffectivePeriod(Strict):
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="until", description="last day in force, inclusive")


class IndicatorCodes(Strict):
    """How the rulebook's indicator codes are written: a prefix and the annex row in so many digits (M03)."""

    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]+$")]
    digits: int = Field(default=2, ge=1, le=6)


class Identity(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$")]
    version: NonEmptyText
    title: NonEmptyText
    subject_kind: SubjectKind = Field(description="the facts' `kind` of the subjects this rulebook scores")
    subject_name: NonEmptyText | None = Field(default=None, description="those subjects in the regulation's words")
    indicator_codes: IndicatorCodes | None = None
    status: Literal["draft", "adopted", "repealed", "hypothetical"]
    status_wording: NonEmptyText
    effective: EffectivePeriod
    source: Source


class Bound(Strict):
    value: Decimal
    inclusive: bool
    unit: str | None = None


class GradeBand(Strict):
    grade: GradeLabel
    meaning: NonEmptyText
    annex: NonEmptyText = Field(description="the annex's own range text, e.g. 800＜N≤900")
    lower: Bound | None = None
    upper: Bound | None = None


class PublicScoreRange(Strict):
    """The range of the 公共信用评价分值 the formula takes; a subject's score outside it is that subject's error."""

    lower: Decimal | None = None
    upper: Decimal | None = None


class Formula(Strict):
    annex: NonEmptyText
    base: Decimal = Field(description="the industry part starts from this many points (1000)")
    public_weight: Decimal
    industry_weight: Decimal
    missing_public_score: Literal["error", "zero"] = "error"
    public_score: PublicScoreRange | None = Field(default=None, description="the public scores the formula takes")
    source: Source


class HonourLevel(Strict):
    level: HonourLevelId
    row: int = Field(gt=0)
    name: NonEmptyText
    scope: NonEmptyText
    points: Decimal = Field(gt=0)


class Honours(Strict):
    cap: Decimal = Field(gt=0)
    note: NonEmptyText
    levels: list[HonourLevel] = Field(min_length=1)
    source: Source


class RetentionRule(Strict):
    years: int = Field(gt=0)
    article: NonEmptyText
    wording: NonEmptyText


class Retention(Strict):
    violation: RetentionRule
    honour_default: RetentionRule


class QuantityDefinition(Strict):
    name: NonEmptyText
    unit: NonEmptyText


class UnitConversion(Strict):
    """A conversion the rulebook fixes where units have no exact one: 1 month = 30 day, 1 year = 365 day.

    Without one, a condition in months and a quantity in days cannot be compared
    (mincredit lint reports it); see mincredit._units.
    """

    unit: NonEmptyText
    equals: Decimal = Field(gt=0)
    of: NonEmptyText
    reason: NonEmptyText = Field(description="why this conversion, e.g. the interpretation that decides it")


class QuantityCondition(Strict):
    """A range of a quantity (违法所得, 逾期 …) that picks this tier when the record gives the amount."""

    quantity: NonEmptyText
    lower: Bound | None = None
    upper: Bound | None = None


class Tier(Strict):
    tier: int = Field(gt=0)
    points: Decimal = Field(gt=0)
    wording: NonEmptyText
    condition: QuantityCondition | None = None
    line: int | None = Field(default=None, gt=0, description="line of the wording in the regulation file")


class Indicator(Strict):
    code: IndicatorCode
    row: int = Field(gt=0)
    title: NonEmptyText
    line: int | None = Field(default=None, gt=0, description="line of the row number in the regulation file")
    tiers: list[Tier] = Field(min_length=1)


class Interpretation(Strict):
    """An explicit decision where the regulation is ambiguous; docs/interpretations.md keeps the register."""

    id: Annotated[str, StringConstraints(pattern=r"^I\d{2}$")]
    applies_to: list[NonEmptyText] = Field(min_length=1)
    wording: NonEmptyText
    decision: NonEmptyText


class Rulebook(Strict):
    rulebook: Identity
    formula: Formula
    grades: list[GradeBand] = Field(min_length=1)
    honours: Honours
    retention: Retention
    quantities: dict[str, QuantityDefinition] = Field(default_factory=dict)
    unit_conversions: list[UnitConversion] = Field(default_factory=list)
    indicators: list[Indicator] = Field(min_length=1)
    interpretations: list[Interpretation] = Field(default_factory=list)
    deductions_source: Source
    # the other half of the measures (mincredit.rules._schema_articles): optional; without them it scores as before
    blacklist: Blacklist | None = None
    repair: Repair | None = None
    removal: Removal | None = None
    objections: Objections | None = None
    consequences: list[Consequence] = Field(default_factory=list)
    derived: Derived | None = None
    dissolved: ArticleRule | None = Field(default=None, description="who is not evaluated: a dissolved subject")
    publication: Publication | None = None   # what is published, and how (mincredit._publish._rules): optional
