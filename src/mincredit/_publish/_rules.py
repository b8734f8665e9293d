"""The rulebook's ``publication:`` block: what is published, by whom, where, how often, and how personal
information is kept out (docs/publication.md).

Everything a published page says in Chinese comes from here, so that a revision of what is published (another field,
another channel, another schedule) or of the masking rules is a YAML edit: the fields of each list are a
fixed vocabulary of keys the code knows how to fill (:data:`BLACKLIST_KEYS`, :data:`RESULT_KEYS`), each
with the label the rulebook gives it, and a key the rulebook does not list is never filled.

The block is optional: a rulebook without it validates, scores and digests exactly as before, and
``mincredit publish`` refuses it with a message naming the block.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mincredit.rules._schema_articles import ArticleRule

NonEmpty = Annotated[str, StringConstraints(min_length=1)]

BlacklistKey = Literal["name", "uscc", "facts", "decided_by", "disclosure_period"]
ResultKey = Literal["name", "uscc", "grade", "period"]
BLACKLIST_KEYS: tuple[str, ...] = ("name", "uscc", "facts", "decided_by", "disclosure_period")
"""name: 主体名称; uscc: 统一社会信用代码; facts: 失信事实 (from the listing's basis); decided_by: 决定机关 (the
listing's deciding authority); disclosure_period: 披露期限 (from 列入之日 to the last day on the list)."""
RESULT_KEYS: tuple[str, ...] = ("name", "uscc", "grade", "period")
"""name, uscc; grade: the grade and its meaning; period: the period the evaluation is for."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldLabel(_Strict):
    key: str
    label: NonEmpty


def _unique_keys(fields: list[FieldLabel], allowed: tuple[str, ...], what: str) -> None:
    keys = [field.key for field in fields]
    unknown = [key for key in keys if key not in allowed]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a field of the {what}; its fields are {', '.join(allowed)}")
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise ValueError(f"the field {twice[0]!r} is listed twice")
    missing = [key for key in ("name", "uscc") if key not in keys]
    if missing:
        raise ValueError(f"the {what} needs the field {missing[0]!r}: a published entry names its subject")


class Schedule(ArticleRule):
    """每季度更新一次，每年度集中公布一次: the list is refreshed as of the last day of every ``update_months``
    months and published collectively as of the last day of every ``publish_months`` months (I80)."""

    update_months: int = Field(gt=0, le=12)
    publish_months: int = Field(gt=0, le=12)

    @model_validator(mode="after")
    def _nested(self) -> Schedule:
        if 12 % self.update_months or self.publish_months % self.update_months or 12 % self.publish_months:
            raise ValueError("update_months must divide publish_months, and publish_months divide 12, so that "
                             "every collective publication is also an update")
        return self


class PublishedList(ArticleRule):
    """One published list: its title, the fields published (in order) and their labels, and its schedule."""

    title: NonEmpty
    fields: list[FieldLabel] = Field(min_length=1)
    schedule: Schedule

    def label_of(self, key: str) -> str:
        return next(item.label for item in self.fields if item.key == key)


class BlacklistPublication(PublishedList):
    @model_validator(mode="after")
    def _fields_known(self) -> BlacklistPublication:
        _unique_keys(self.fields, BLACKLIST_KEYS, "serious-blacklist")
        return self


class ResultsPublication(PublishedList):
    @model_validator(mode="after")
    def _fields_known(self) -> ResultsPublication:
        _unique_keys(self.fields, RESULT_KEYS, "evaluation results list")
        return self


class Publisher(ArticleRule):
    name: NonEmpty = Field(description="who publishes: 自治区自然资源厅")
    channels: list[NonEmpty] = Field(min_length=1, description="where: the portal, the WeChat account, 信用内蒙古")


class NameMask(_Strict):
    """A natural person's name in free text: the first ``keep`` characters, then ``replacement`` (张三 → 张某)."""

    keep: int = Field(ge=0)
    replacement: NonEmpty


class NumberMask(_Strict):
    """Identity, travel-document, telephone and account numbers in free text: every run of at least
    ``min_digits`` digits (a single space or hyphen may separate them, an identity number may end in X), and
    every number of the subject's basic information, is replaced character for character by ``replacement``."""

    min_digits: int = Field(ge=6)
    replacement: Annotated[str, StringConstraints(min_length=1, max_length=1)]


class Privacy(_Strict):
    """No personal privacy is disclosed; the credit file's basic information is kept
    in the credit file, never published; names and numbers inside free text are masked (I84)."""

    rules: list[ArticleRule] = Field(min_length=1)
    basic_information: ArticleRule = Field(description="the basic information, which is never published")
    names: NameMask
    numbers: NumberMask


class RecordTexts(_Strict):
    """失信事实 of a basis record that has no description of its own: the regulation's words for it."""

    judgment_refusal: ArticleRule
    statutory_ground: ArticleRule


# The page texts and the placeholders each may use ({year}, {date} …).  A text naming another placeholder is
# refused when the rulebook is loaded, not when a clerk publishes.
TEXT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "date": frozenset({"year", "month", "day"}),
    "span": frozenset({"start", "end"}),
    "edition_publish": frozenset({"year", "number"}),
    "edition_update": frozenset({"year", "number"}),
    "edition_interim": frozenset({"date"}),
    "period_publish": frozenset({"year", "number"}),
    "period_update": frozenset({"year", "number"}),
    "period_interim": frozenset({"date"}),
    "caption": frozenset({"title", "edition", "count"}),
    "empty": frozenset({"date"}),
    "grade": frozenset({"grade", "meaning"}),
    "fact": frozenset({"date", "text"}),
    "fact_violation": frozenset({"title", "wording"}),
    "fact_statutory_ground": frozenset({"text", "law"}),
    "as_of": frozenset({"date"}),
    "publisher": frozenset({"publisher"}),
    "channels": frozenset({"channels"}),
    "since": frozenset({"date"}),
}


class Texts(_Strict):
    """The Chinese a published page and its CSV/JSON files use, beside the field labels."""

    date: NonEmpty
    span: NonEmpty
    edition_publish: NonEmpty = Field(description="the collective publication (年度集中公布)")
    edition_update: NonEmpty = Field(description="an update that is not the collective publication (季度更新)")
    edition_interim: NonEmpty = Field(description="a list as of another day (not a scheduled edition)")
    period_publish: NonEmpty
    period_update: NonEmpty
    period_interim: NonEmpty
    caption: NonEmpty
    empty: NonEmpty
    grade: NonEmpty
    fact: NonEmpty
    fact_separator: NonEmpty
    fact_violation: NonEmpty
    fact_statutory_ground: NonEmpty
    list_separator: NonEmpty
    as_of: NonEmpty
    publisher: NonEmpty
    channels: NonEmpty
    basis: NonEmpty
    privacy: NonEmpty
    privacy_note: NonEmpty
    downloads: NonEmpty
    manifest: NonEmpty
    skip_link: NonEmpty
    changes_title: NonEmpty
    since: NonEmpty
    change: NonEmpty
    change_listed: NonEmpty
    change_removed: NonEmpty
    change_new: NonEmpty
    change_gone: NonEmpty
    change_grade: NonEmpty
    previous_grade: NonEmpty
    current_grade: NonEmpty
    day: NonEmpty
    removal_natural: NonEmpty
    removal_decision: NonEmpty
    removal_revoked: NonEmpty
    removal_withdrawn: NonEmpty
    no_changes: NonEmpty

    @model_validator(mode="after")
    def _placeholders(self) -> Texts:
        for name in type(self).model_fields:
            text: str = getattr(self, name)
            allowed = TEXT_PLACEHOLDERS.get(name, frozenset())
            try:
                used = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
            except ValueError as error:
                raise ValueError(f"texts.{name}: {error} (write a literal brace as {{{{ or }}}})") from None
            unknown = sorted(used - allowed)
            if unknown:
                known = ", ".join("{" + p + "}" for p in sorted(allowed)) or "none"
                raise ValueError(f"texts.{name} uses {{{unknown[0]}}}; its placeholders are {known}")
        return self


class Publication(_Strict):
    """Who publishes what, where and when; and what never is."""

    publisher: Publisher
    blacklist: BlacklistPublication
    results: ResultsPublication
    privacy: Privacy
    record_texts: RecordTexts
    texts: Texts
