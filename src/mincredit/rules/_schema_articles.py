"""The rulebook blocks for the other half of the measures: serious-blacklist, repair, removal, objections,
consequences and derived records (arts. 10–11, 15–28).

These are additive, optional blocks of :class:`mincredit.rules._schema.Rulebook`; a rulebook without
them validates and scores exactly as before.  Every rule carries the regulation's own wording and its
article beside the data the engine applies, as the scoring blocks do.

Conditions are data, never code: a :class:`FieldCondition` names a field from the fixed list
:data:`CONDITION_FIELDS`, an operator from :data:`CONDITION_OPS` and a value, and is interpreted by
plain Python (:mod:`mincredit.conditions`) or compiled to durable_rules (:mod:`mincredit._backends.durable`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z]+[0-9]+$")]
Letter = Annotated[str, StringConstraints(pattern=r"^\S(.*\S)?$", max_length=40)]   # a grade label of the rulebook
Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]            # a subject kind

# The record fields a trigger may test.  Scalar fields hold one text or a boolean; list fields hold texts.
SCALAR_FIELDS: tuple[str, ...] = (
    "record_type",        # violation | judgment_refusal | statutory_ground
    "indicator",          # a violation's annex indicator
    "info_kind",          # which item of art. 8 the information is (see docs/facts.md)
    "penalty_kind",       # administrative | criminal | none
    "penalty_procedure",  # general | summary | none
    "penalty_status",     # unchallenged | upheld | final | under_review | none
    "able_to_perform",    # a judgment refusal: the subject was able to perform (true/false)
)
LIST_FIELDS: tuple[str, ...] = (
    "behaviours",         # behaviour tags, in the regulation's words (弄虚作假, 串通报价 …)
    "subject_roles",      # the subject's roles: holder, bidder, winner
)
CONDITION_FIELDS: tuple[str, ...] = SCALAR_FIELDS + LIST_FIELDS
CONDITION_OPS: tuple[str, ...] = ("eq", "ne", "in", "not_in", "any_in")

ConditionField = Literal["record_type", "indicator", "info_kind", "penalty_kind", "penalty_procedure",
                         "penalty_status", "able_to_perform", "behaviours", "subject_roles"]
ConditionOp = Literal["eq", "ne", "in", "not_in", "any_in"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldCondition(_Strict):
    """``field op value``: eq/ne compare one value, in/not_in a scalar against a list, any_in a list field
    against a list (true when they share an element)."""

    field: ConditionField
    op: ConditionOp
    value: bool | NonEmpty | list[NonEmpty]

    @model_validator(mode="after")
    def _fits(self) -> FieldCondition:
        is_list_field = self.field in LIST_FIELDS
        if self.op == "any_in":
            if not is_list_field:
                raise ValueError(f"any_in tests a list field ({', '.join(LIST_FIELDS)}), not {self.field}")
        elif is_list_field:
            raise ValueError(f"{self.field} is a list: test it with any_in")
        wants_list = self.op in {"in", "not_in", "any_in"}
        if wants_list != isinstance(self.value, list):
            raise ValueError(f"{self.op} needs {'a list of values' if wants_list else 'a single value'}")
        if isinstance(self.value, list) and not self.value:
            raise ValueError(f"{self.op} needs at least one value")
        return self


class ArticleRule(_Strict):
    """A rule's place in the regulation and its verbatim wording."""

    article: NonEmpty
    wording: NonEmpty
    line: int | None = Field(default=None, gt=0)


class BlacklistTrigger(_Strict):
    """One ground for the serious-blacklist (art. 16 item, art. 17 item): a record matching every condition."""

    id: RuleId
    article: NonEmpty = Field(description="e.g. 第十六条第一款第（一）项")
    number: int = Field(gt=0, description="the article's number, 16 or 17")
    item: int = Field(gt=0)
    wording: NonEmpty
    line: int | None = Field(default=None, gt=0)
    when: list[FieldCondition] = Field(min_length=1)


class DecidingLevels(ArticleRule):
    levels: list[Literal["region", "league_city", "county"]] = Field(min_length=1)


class DaysRule(ArticleRule):
    days: int = Field(gt=0)


class YearsRule(ArticleRule):
    years: int = Field(gt=0)


class WorkingDaysRule(ArticleRule):
    working_days: int = Field(gt=0)


class Blacklist(_Strict):
    name: NonEmpty = Field(description="the list's name, 地矿严重失信名单")
    behaviours: list[NonEmpty] = Field(default_factory=list,
                                       description="behaviour tags the triggers know; others get a warning")
    triggers: list[BlacklistTrigger] = Field(min_length=1)
    decision: DecidingLevels
    statement: DaysRule = Field(description="art. 19: days after the notice for 陈述和申辩")
    retention_extension: ArticleRule | None = Field(
        default=None, description="art. 11: bad information of a listed subject counts until it leaves the list")


class RepairApplication(ArticleRule):
    after_years: int = Field(gt=0)
    same_kind: Literal["indicator"] = Field(
        default="indicator", description="what 同类不良信息 is: a record of the same annex indicator")


class Repair(_Strict):
    natural: YearsRule
    application: RepairApplication
    listed: ArticleRule = Field(description="art. 25: a listed subject's bad information is not repaired")
    decision: WorkingDaysRule = Field(description="art. 27: the authority checks an application in N working days")


class RemovalApplication(ArticleRule):
    after_years: int = Field(gt=0)


class Removal(_Strict):
    natural: YearsRule
    application: RemovalApplication
    notice: WorkingDaysRule = Field(description="art. 28: public notice before the removal decision")


class Objections(_Strict):
    counts_in_score: bool = Field(description="whether a record under objection still counts while verified")
    score: ArticleRule = Field(description="the wording the score policy rests on")
    verification: WorkingDaysRule = Field(description="regional measures art. 38: verified in N working days")
    suspension: ArticleRule = Field(description="State Council 33号 (二十二): joint sanctions suspended")
    correction: ArticleRule = Field(description="a record found wrong is corrected or revoked")


class ConsequenceWhen(_Strict):
    grades: list[Letter] = Field(default_factory=list)
    listed: bool | None = None
    other_sector_listed: bool | None = None
    subject_kinds: list[Kind] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> ConsequenceWhen:
        if not self.grades and self.listed is None and self.other_sector_listed is None:
            raise ValueError("a consequence applies to some grades, to listed subjects, or to subjects on "
                             "another sector's serious-blacklist")
        return self


class Consequence(ArticleRule):
    id: RuleId
    kind: Literal["supervision", "incentive", "sanction", "joint_sanction"]
    when: ConsequenceWhen
    suspended_under_objection: bool = Field(
        default=False, description="a joint sanction: suspended while the information it rests on is verified")


class ContractOverdue(ArticleRule):
    """Art. 10: the system judges contract overdue itself; the delay picks the indicator's tier."""

    indicator: Code
    quantity: NonEmpty = Field(description="the indicator's time quantity its tier conditions range over")
    contract_kinds: list[Literal["fiscal_project", "mining_rights"]] = Field(min_length=1)


class CountRange(_Strict):
    tier: int = Field(gt=0)
    lower: int = Field(ge=1)
    upper: int | None = Field(default=None, ge=1)


class OffenceCount(ArticleRule):
    """A tier chosen by how many times the subject committed the conduct (初次 / 二次及以上)."""

    indicator: Code
    tiers: list[CountRange] = Field(min_length=1)


class Derived(_Strict):
    contract_overdue: list[ContractOverdue] = Field(default_factory=list)
    offence_count: list[OffenceCount] = Field(default_factory=list)
