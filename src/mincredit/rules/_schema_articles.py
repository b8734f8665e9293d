"""The rulebook blocks for the other half of the measures: serious-blacklist, repair, removal, objections,
consequences and derived records.

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
    "info_kind",          # which kind of bad information the record is (see docs/facts.md)
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
    """One ground for the serious-blacklist (one item of an article): a record matching every condition."""

    id: RuleId
    article: NonEmpty = Field(description="the article and item as the regulation writes them")
    number: int = Field(gt=0, description="the article's number, which a listing's `article` names")
    item: int = Field(gt=0)
    wording: NonEmpty
    line: int | None = Field(default=None, gt=0)
    when: list[FieldCondition] = Field(min_length=1)


LevelId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class DecidingLevels(ArticleRule):
    """Who decides a listing: the levels of authority allowed to, and the name of every level facts may give."""

    levels: list[LevelId] = Field(min_length=1, description="the levels whose authorities decide a listing")
    level_names: dict[LevelId, NonEmpty] = Field(
        default_factory=dict,
        description="every level a listing's authority_level may name, with its name in explanations (自治区级 …); "
                    "empty: only the deciding levels are known, and they are named by their ids")

    @model_validator(mode="after")
    def _named(self) -> DecidingLevels:
        unnamed = [level for level in self.levels if self.level_names and level not in self.level_names]
        if unnamed:
            raise ValueError(f"the deciding level(s) {', '.join(unnamed)} have no name in level_names")
        return self

    def name(self, level: str) -> str:
        return self.level_names.get(level, level)

    def known(self) -> list[str]:
        """The levels a listing may name: the named ones, and the deciding ones."""
        return list(self.level_names) + [level for level in self.levels if level not in self.level_names]


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
    statement: DaysRule = Field(description="days after the written notice for 陈述和申辩")
    retention_extension: ArticleRule | None = Field(
        default=None, description="bad information of a listed subject counts until it leaves the list")
    signature: ArticleRule | None = Field(
        default=None, description="the decision is signed by the head (负责人) of the deciding authority: a listing "
                                  "without a recorded signature gets a warning")
    adoption: ArticleRule | None = Field(
        default=None, description="a statement and defence whose facts, reasons and evidence stand is adopted: a "
                                  "listing decided over one that stood, without adopting it, fails a check")

    def allowed_listings(self) -> dict[int, list[int]]:
        """Article number → the items a listing may rest on: those of the triggers."""
        allowed: dict[int, list[int]] = {}
        for trigger in self.triggers:
            items = allowed.setdefault(trigger.number, [])
            if trigger.item not in items:
                items.append(trigger.item)
        return {number: sorted(items) for number, items in sorted(allowed.items())}


BadInformationType = Literal["violation", "judgment_refusal", "statutory_ground"]


class RepairConditions(_Strict):
    """The conditions of repair on application, each with its own place in the regulation (the checks cite it)."""

    elapsed: ArticleRule = Field(description="the years since the determination have passed")
    obligations: ArticleRule = Field(description="the obligations the decision imposed are fulfilled")
    same_kind: ArticleRule = Field(description="no new bad information of the same kind since the determination")


class RepairApplication(ArticleRule):
    after_years: int = Field(gt=0)
    same_kind: Literal["indicator"] = Field(
        default="indicator",
        description="what 同类不良信息 is: a violation of the same annex indicator; outside the annex, a record of "
                    "the same type")
    record_types: list[BadInformationType] = Field(
        default_factory=lambda: list[BadInformationType](["violation"]), min_length=1,
        description="the kinds of bad information that may be repaired on application; the others cannot be, and "
                    "keep a listed subject from applying for removal")
    conditions: RepairConditions | None = Field(
        default=None, description="each condition's own article and wording; without it the checks cite the "
                                  "application rule's article")

    def rule_of(self, condition: Literal["elapsed", "obligations", "same_kind"]) -> str:
        """The article a condition's check cites."""
        return getattr(self.conditions, condition).article if self.conditions is not None else self.article


class Repair(_Strict):
    natural: YearsRule
    application: RepairApplication
    listed: ArticleRule = Field(description="a listed subject's bad information is not repaired")
    decision: WorkingDaysRule = Field(description="the authority checks an application in N working days")


class RemovalApplication(ArticleRule):
    after_years: int = Field(gt=0)


class RemovalDecision(ArticleRule):
    """The decision that removes a subject from the list on application, and what it completes."""

    repairs: Literal["subject", "based_on"] | None = Field(
        default=None,
        description="the bad information the decision repairs on its day: 'subject', every record of the subject "
                    "still counting that the application covered; 'based_on', the records the listing rests on; "
                    "none: the decision repairs nothing itself")


class Removal(_Strict):
    natural: YearsRule
    application: RemovalApplication
    notice: WorkingDaysRule = Field(description="public notice before the removal decision")
    review: ArticleRule | None = Field(
        default=None, description="the material review and the site check before the notice: a removal without "
                                  "them recorded gets a warning")
    decision: RemovalDecision | None = Field(
        default=None, description="the removal decision: no objection during the notice, and the repairs it "
                                  "completes")


class Objections(_Strict):
    counts_in_score: bool = Field(description="whether a record under objection still counts while verified")
    score: ArticleRule = Field(description="the wording the score policy rests on")
    verification: WorkingDaysRule = Field(description="an objection is verified in N working days")
    suspension: ArticleRule = Field(description="joint sanctions suspended while the information is verified")
    correction: ArticleRule = Field(description="a record found wrong is corrected or revoked")
    review: WorkingDaysRule | None = Field(
        default=None, description="the review (复核) of an objection's outcome, decided in N working days")


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


class HonourRevocation(_Strict):
    """What a measure does to the subject's honours of some levels while it applies."""

    levels: list[NonEmpty] = Field(min_length=1, description="honour levels of the rulebook's honours block")
    action: Literal["exclude", "warn"] = Field(
        description="exclude: the honours leave the bonus from the day the measure applies; warn: they stay, "
                    "with a warning that their revocation is due")


class Consequence(ArticleRule):
    id: RuleId
    kind: Literal["supervision", "incentive", "sanction", "joint_sanction"]
    when: ConsequenceWhen
    suspended_under_objection: bool = Field(
        default=False, description="a joint sanction: suspended while the information it rests on is verified")
    withdraws: list[RuleId] = Field(
        default_factory=list, description="measures that do not apply while this one applies and is not suspended")
    honours: HonourRevocation | None = None


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
