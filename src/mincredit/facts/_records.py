"""Facts for the serious-blacklist, repair, objections and derived records (the rulebook's blacklist, repair,
removal, objections, consequences and derived blocks).

Everything here is optional and additive to the interchange format: a document that uses none of it
is read, and evaluated, exactly as before.  docs/facts.md ("Blacklist, repair, objections") documents
each field.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from mincredit._numbers import NUMBER, decimal_value
from mincredit._units import UNIT_NAMES
from mincredit.facts._types import FactModel, Label, Text, Whole

# ---------------------------------------------------------------- quantities

# a number as JSON writes it (mincredit._numbers), then its unit, a space between them or none
_AMOUNT = re.compile(rf"({NUMBER.pattern}) ?([^\s0-9.][^\s]*)", re.ASCII)


def _amount_text(value: object) -> object:
    """``"12 万元"`` / ``"12万元"`` / ``"3 month"`` → ``{value, unit}``; anything else is left to the models."""
    if isinstance(value, str):
        match = _AMOUNT.fullmatch(value)
        if match is None:
            raise ValueError(f"write an amount as a number and a unit, e.g. '12 万元' or '45 day' (got {value!r})")
        return {"value": match[1], "unit": match[2]}
    return value


class Amount(FactModel):
    """An amount in one of the rulebook units (万元, 元, day, month, year, percent)."""

    value: Annotated[Decimal, BeforeValidator(decimal_value)] = Field(ge=0)
    unit: str

    @model_validator(mode="after")
    def _known_unit(self) -> Amount:
        if self.unit not in UNIT_NAMES:
            raise ValueError(f"{self.unit!r} is not a unit; use one of {', '.join(UNIT_NAMES)}")
        return self

    def text(self) -> str:
        return f"{format(self.value.normalize(), 'f')} {self.unit}"


class Span(FactModel):
    """A stretch of time given by its dates; its length is counted per the Civil Code (I12).

    ``to`` may be left out: the span then runs to the record's day of determination (I39, I44).
    """

    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"the span ends ({self.end}) before it starts ({self.start})")
        return self

    def text(self) -> str:
        return f"{self.start} to {self.end}" if self.end is not None else f"from {self.start}"


Quantity = Annotated[Amount | Span, BeforeValidator(_amount_text)]


# ---------------------------------------------------------------- penalties and objections

InfoKind = Literal["public", "deception", "penalty", "criminal_judgment", "enforcement", "unperformed_judgment",
                   "rectification", "other"]
"""The kinds of bad information the measures list: ``public`` is 公共不良信息; the others are the items of
行业不良信息 in the regulation's order: (一) deception, (二) penalty, (三) criminal_judgment, (四) enforcement,
(五) unperformed_judgment, (六) rectification, (七) other (docs/facts.md)."""


class Penalty(FactModel):
    """The administrative or criminal penalty a record rests on."""

    kind: Literal["administrative", "criminal"]
    procedure: Literal["general", "summary"] | None = Field(
        default=None, description="administrative penalties: 一般程序 or 简易程序")
    status: Literal["unchallenged", "upheld", "final", "under_review"] = Field(
        description="unchallenged: no review or suit within the statutory period; upheld: upheld on review or "
                    "suit; final: a criminal judgment in force; under_review: review, suit or appeal pending")
    decided_on: dt.date | None = None
    decision_number: str | None = None
    authority: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Penalty:
        if self.kind == "criminal" and self.procedure is not None:
            raise ValueError("a criminal penalty has no 一般/简易 procedure; leave 'procedure' out")
        if self.kind == "criminal" and self.status in {"unchallenged", "upheld"}:
            raise ValueError("a criminal judgment is 'final' (in force) or 'under_review' (appeal pending)")
        if self.kind == "administrative" and self.status == "final":
            raise ValueError("an administrative penalty in force is 'unchallenged' (no review or suit in time) "
                             "or 'upheld' (upheld on review or suit)")
        return self


class Correction(FactModel):
    """What a record says from the day an objection found it wrong."""

    indicator: Text | None = None
    tier: Whole | None = Field(default=None, gt=0)
    determined_on: dt.date | None = None
    quantities: dict[str, Quantity] | None = None


Outcome = Literal["confirmed", "corrected", "revoked"]


def _finding_problem(what: str, start: str, start_on: dt.date, decided_on: dt.date | None, outcome: Outcome | None,
                     corrected: Correction | None) -> str | None:
    if (decided_on is None) != (outcome is None):
        return f"{what} that was decided needs both 'decided_on' and 'outcome'"
    if decided_on is not None and decided_on < start_on:
        return f"decided_on {decided_on} is before {start} {start_on}"
    if (outcome == "corrected") != (corrected is not None):
        return "'corrected' gives the corrected fields, and only a 'corrected' outcome has them"
    return None


class Review(FactModel):
    """复核: the review of an objection's outcome, asked for by a subject who does not accept it (the rulebook's
    ``objections.review``).  Its outcome replaces the objection's from the day it is decided."""

    requested_on: dt.date
    decided_on: dt.date | None = None
    outcome: Outcome | None = Field(default=None, description="the outcome on review, as an objection's")
    corrected: Correction | None = None
    by: str | None = Field(default=None, description="the reviewing authority")
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Review:
        problem = _finding_problem("a review", "requested_on", self.requested_on, self.decided_on, self.outcome,
                                   self.corrected)
        if problem is not None:
            raise ValueError(problem)
        return self


class Objection(FactModel):
    """异议 (the rulebook's ``objections`` block): raised, then verified, with the outcome; perhaps reviewed."""

    raised_on: dt.date
    decided_on: dt.date | None = None
    outcome: Outcome | None = Field(
        default=None, description="confirmed: the record was right; corrected or revoked: it was wrong")
    corrected: Correction | None = None
    note: str | None = None
    review: Review | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Objection:
        problem = _finding_problem("an objection", "raised_on", self.raised_on, self.decided_on, self.outcome,
                                   self.corrected)
        if problem is not None:
            raise ValueError(problem)
        if self.review is not None:
            if self.decided_on is None:
                raise ValueError("a review (复核) is of an objection's outcome: the objection needs 'decided_on' and "
                                 "'outcome' first")
            if self.review.requested_on < self.decided_on:
                raise ValueError(f"the review was requested on {self.review.requested_on}, before the objection was "
                                 f"decided on {self.decided_on}")
        return self


# ---------------------------------------------------------------- new record types


class JudgmentRefusal(FactModel):
    """不履行判决、裁定等生效法律文书的信息: not performing a judgment or ruling in force."""

    id: Label
    type: Literal["judgment_refusal"]
    determined_on: dt.date
    able_to_perform: bool = Field(description="有履行能力: the subject was able to perform")
    judgment: str | None = None
    court: str | None = None
    authority: str | None = None
    description: str | None = None
    obligations_fulfilled_on: dt.date | None = Field(default=None, description="the judgment performed")
    repair_applied_on: dt.date | None = None
    repaired_on: dt.date | None = None
    objections: list[Objection] = Field(default_factory=list)


class StatutoryGround(FactModel):
    """Another ground a law or regulation gives for the serious-blacklist."""

    id: Label
    type: Literal["statutory_ground"]
    determined_on: dt.date
    law: Text
    authority: str | None = None
    description: str | None = None
    obligations_fulfilled_on: dt.date | None = None
    repair_applied_on: dt.date | None = None
    repaired_on: dt.date | None = None
    objections: list[Objection] = Field(default_factory=list)


class Statement(FactModel):
    """陈述和申辩: what the subject put forward after the written notice, and what the authority found."""

    submitted_on: dt.date
    stands: bool | None = Field(default=None, description="its facts, reasons and evidence stand (成立); "
                                                          "left out: no finding is recorded")
    adopted: bool = Field(default=False, description="the authority adopted it (采纳)")


NoticeObjection = Literal["none", "unfounded", "founded"]


class Listing(FactModel):
    """A decision that put the subject on the 地矿严重失信名单 (the rulebook's blacklist and removal blocks)."""

    id: Label
    type: Literal["listing"]
    article: Whole = Field(gt=0, description="the number of the article the listing rests on; the rulebook's "
                                           "blacklist triggers say which articles and items there are")
    item: Whole = Field(gt=0)
    based_on: list[Label] = Field(min_length=1, description="ids of the records the decision rests on")
    decided_by: Text
    authority_level: Label | None = Field(default=None, description="a level of the rulebook's blacklist.decision")
    decision_number: Text
    signed_by: Text | None = Field(default=None, description="the head (负责人) of the authority who signed the "
                                                             "decision (决定书)")
    notice_served_on: dt.date | None = Field(default=None, description="告知书 served")
    statement: Statement | None = Field(default=None, description="陈述和申辩 after the notice, when one was made")
    listed_on: dt.date = Field(description="列入之日: the day of the decision")
    removal_applied_on: dt.date | None = None
    removal_review_on: dt.date | None = Field(default=None, description="材料审查: the material review done")
    removal_site_check_on: dt.date | None = Field(default=None, description="现场核查: the site check done")
    removal_notice_from: dt.date | None = Field(default=None, description="公示 published")
    removal_notice_objection: NoticeObjection | None = Field(
        default=None, description="an objection during the notice: none (无异议), unfounded (raised and found "
                                  "unfounded), founded (raised and found to stand)")
    removed_on: dt.date | None = Field(default=None, description="removed by a decision on application")
    objections: list[Objection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Listing:
        if self.removed_on is not None and self.removed_on < self.listed_on:
            raise ValueError(f"removed_on {self.removed_on} is before listed_on {self.listed_on}")
        return self


class Contract(FactModel):
    """A mining-rights contract or a fiscal project's contract (任务书): the system judges overdue from it (the
    rulebook's derived.contract_overdue)."""

    id: Label
    type: Literal["contract"]
    contract_kind: Literal["fiscal_project", "mining_rights"]
    due_on: dt.date = Field(description="约定期限: the last day of the contractual period")
    completed_on: dt.date | None = None
    delay_justified: bool = Field(default=False, description="the authority accepted the delay (not 无故)")
    name: str | None = None
    description: str | None = None


class OtherSectorListing(FactModel):
    """The subject on another sector's serious-blacklist on the public credit platform (the rulebook's
    consequences with ``when: {other_sector_listed: true}``)."""

    id: Label
    type: Literal["other_sector_blacklist"]
    sector: Text
    listed_on: dt.date
    removed_on: dt.date | None = None
    description: str | None = None
    objections: list[Objection] = Field(default_factory=list)


Role = Literal["bidder", "winner"]
