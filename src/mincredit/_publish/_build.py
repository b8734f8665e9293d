"""What is published on a date: the serious-blacklist entries, the evaluation results
and what changed since a previous publication — built from an evaluation, never from the facts directly.

The engine decides who is on the list and until when (:class:`mincredit._blacklist.ListingStatus`: natural
removal, removal decisions, revocations) and which information still counts (the extension while listed included);
this module only picks, from what it decided, what the rulebook's ``publication:`` block says is published,
and masks free text (:mod:`mincredit._publish._privacy`).  Every Chinese word comes from that block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mincredit._engine import evaluate
from mincredit._publish._privacy import Masker
from mincredit._publish._rules import Publication, Schedule, Texts
from mincredit._results import SubjectResult
from mincredit.facts._models import Subject, ViolationRecord
from mincredit.facts._reading import FactError, SubjectEntry
from mincredit.facts._records import JudgmentRefusal, StatutoryGround
from mincredit.rules._compiling import CompiledRulebook

ONE_DAY = dt.timedelta(days=1)
DISCLOSED = frozenset({"counted", "under_objection"})

EditionKind = Literal["publish", "update", "interim"]


class PublicationUnavailable(Exception):
    """The rulebook has no ``publication:`` block, so nothing can be published under it."""


def rules_of(rulebook: CompiledRulebook) -> Publication:
    rules = rulebook.source.publication
    if rules is None:
        identity = rulebook.identity
        raise PublicationUnavailable(
            f"the rulebook {identity.id}@{identity.version} has no 'publication:' block, which says what is "
            "published, by whom and how personal information is masked (docs/publication.md)")
    return rules


# ---------------------------------------------------------------- dates and editions in the rulebook's words


def date_text(texts: Texts, day: dt.date) -> str:
    return texts.date.format(year=day.year, month=day.month, day=day.day)


@dataclass(frozen=True)
class Edition:
    """Which scheduled edition a date is (I80): the collective publication, an update, or neither."""

    kind: EditionKind
    year: int
    number: int

    @classmethod
    def of(cls, schedule: Schedule, as_of: dt.date) -> Edition:
        last_of_month = (as_of + ONE_DAY).day == 1
        if last_of_month and as_of.month % schedule.publish_months == 0:
            return cls("publish", as_of.year, as_of.month // schedule.publish_months)
        if last_of_month and as_of.month % schedule.update_months == 0:
            return cls("update", as_of.year, as_of.month // schedule.update_months)
        return cls("interim", as_of.year, 0)

    def text(self, texts: Texts, as_of: dt.date) -> str:
        if self.kind == "publish":
            return texts.edition_publish.format(year=self.year, number=self.number)
        if self.kind == "update":
            return texts.edition_update.format(year=self.year, number=self.number)
        return texts.edition_interim.format(date=date_text(texts, as_of))

    def period(self, texts: Texts, as_of: dt.date) -> str:
        """The period an evaluation as of ``as_of`` is for: the year, the quarter, or 'up to' the day."""
        if self.kind == "publish":
            return texts.period_publish.format(year=self.year, number=self.number)
        if self.kind == "update":
            return texts.period_update.format(year=self.year, number=self.number)
        return texts.period_interim.format(date=date_text(texts, as_of))


# ---------------------------------------------------------------- published entries


@dataclass(frozen=True)
class BlacklistEntry:
    """One listing on the published serious-blacklist: the rulebook's fields, and the listing it comes from."""

    name: str
    uscc: str
    facts: str
    decided_by: str
    listed_on: dt.date
    until: dt.date
    listing_id: str = field(compare=False)   # for the department's notes; never published

    def value(self, key: str) -> Any:
        """The field as JSON publishes it."""
        if key == "disclosure_period":
            return {"from": self.listed_on.isoformat(), "until": self.until.isoformat()}
        value: Any = getattr(self, key)
        return value

    def text(self, key: str, texts: Texts) -> str:
        """The field as the CSV file and the page show it."""
        if key == "disclosure_period":
            return texts.span.format(start=date_text(texts, self.listed_on), end=date_text(texts, self.until))
        text: str = getattr(self, key)
        return text


@dataclass(frozen=True)
class ResultEntry:
    """One subject's evaluation result as published: name, USCC, grade, the period evaluated."""

    name: str
    uscc: str
    grade: str
    meaning: str
    period: str

    def value(self, key: str) -> Any:
        value: Any = getattr(self, key)
        return value

    def text(self, key: str, texts: Texts) -> str:
        if key == "grade":
            return texts.grade.format(grade=self.grade, meaning=self.meaning)
        text: str = getattr(self, key)
        return text


@dataclass(frozen=True)
class RemovedListing:
    """What the engine says of a listing no longer published: how and when it left the list."""

    way: Literal["natural", "decision", "revoked", "withdrawn"]
    on: dt.date


@dataclass
class Lists:
    """Everything one publication date gives: the two lists, notes for the department, errors."""

    as_of: dt.date
    blacklist: list[BlacklistEntry]
    results: list[ResultEntry]
    errors: list[FactError]
    notes: list[str]
    subjects: int
    other_kind: int
    # (uscc, listed_on, decided_by as published) -> how it left, for listings known but not published
    gone: dict[tuple[str, str, str], RemovedListing]


def _disclosed_windows(subject: Subject, rulebook: CompiledRulebook, as_of: dt.date) -> tuple[Any, dict[str, str]]:
    """The listings and the state of every bad-information record as the engine's analysis has them.

    Used where a result carries neither: a dissolved subject's result has no listings (it is not evaluated,
    the rulebook, but stays on the list), and results carry no item for a judgment refusal or a statutory ground.
    """
    from mincredit._timeline import analyse

    analysis = analyse(subject, rulebook.source, rulebook.digest, as_of, program=rulebook.program)
    states: dict[str, str] = {rid: str(window.state)
                              for rid, window in {**analysis.windows, **analysis.other_windows}.items()}
    return analysis.listings, states


def _fact_texts(subject: Subject, result: SubjectResult, based_on: Sequence[str], states: dict[str, str] | None,
                rules: Publication) -> tuple[list[str], bool]:
    """失信事实 of a listing: one text per basis record still disclosed (I82), and whether the analysis was needed."""
    texts = rules.texts
    records = {record.id: record for record in subject.records}
    items = {item.record_id: item for item in result.items or () if item.type == "violation"}
    found: list[str] = []
    needs_analysis = False
    for record_id in based_on:
        record = records.get(record_id)
        if isinstance(record, ViolationRecord):
            item = items.get(record_id)
            if item is None or not (item.counted or item.under_objection):
                continue   # expired, repaired or revoked: no longer disclosed
            text = record.description or texts.fact_violation.format(title=item.indicator_title or item.indicator,
                                                                     wording=item.wording)
            found.append(texts.fact.format(date=date_text(texts, item.counts_from), text=text))
        elif isinstance(record, JudgmentRefusal | StatutoryGround):
            if states is None:
                needs_analysis = True
                continue
            if states.get(record_id) not in DISCLOSED:
                continue
            if record.description:
                text = record.description
            elif isinstance(record, StatutoryGround):
                text = texts.fact_statutory_ground.format(text=rules.record_texts.statutory_ground.wording,
                                                          law=record.law)
            else:
                text = rules.record_texts.judgment_refusal.wording
            found.append(texts.fact.format(date=date_text(texts, record.determined_on), text=text))
    return found, needs_analysis


def _subject_lists(subject: Subject, result: SubjectResult, rulebook: CompiledRulebook, rules: Publication,
                   as_of: dt.date, lists: Lists) -> None:
    masker = Masker.for_subject(rules.privacy, subject)
    listings: Sequence[Any] = result.listings
    states: dict[str, str] | None = None
    if not result.evaluated and any(record.type == "listing" for record in subject.records):
        listings, states = _disclosed_windows(subject, rulebook, as_of)
    for status in listings:
        decided_by = masker.mask(status.decided_by)
        key = (subject.uscc, status.listed_on.isoformat(), decided_by)
        if not status.on_list:
            lists.gone[key] = RemovedListing(status.removal, status.removed_on)
            continue
        facts, needs = _fact_texts(subject, result, status.based_on, states, rules)
        if needs:
            _, states = _disclosed_windows(subject, rulebook, as_of)
            facts, _ = _fact_texts(subject, result, status.based_on, states, rules)
        if not facts:
            lists.gone[key] = RemovedListing("withdrawn", as_of)
            lists.notes.append(
                f"{subject.uscc} {subject.name}: listing {status.id} is on the list on {as_of}, but none of the "
                f"records it rests on ({', '.join(status.based_on)}) is still disclosed (expired, repaired or "
                "revoked); it is not published — the deciding authority should decide on the listing")
            continue
        lists.blacklist.append(BlacklistEntry(
            name=subject.name, uscc=subject.uscc, facts=masker.mask(rules.texts.fact_separator.join(facts)),
            decided_by=decided_by, listed_on=status.listed_on, until=status.removed_on - ONE_DAY,
            listing_id=status.id))
    if result.evaluated and result.grade is not None:
        edition = Edition.of(rules.results.schedule, as_of)
        lists.results.append(ResultEntry(name=subject.name, uscc=subject.uscc, grade=result.grade,
                                         meaning=result.grade_meaning or "",
                                         period=edition.period(rules.texts, as_of)))


def build_lists(entries: Iterable[SubjectEntry | Subject], rulebook: CompiledRulebook, as_of: dt.date) -> Lists:
    """Evaluate each subject of the rulebook's kind on ``as_of`` and pick what is published.

    Subjects of the other kind are left to the other rulebook's publication (counted in ``other_kind``); a
    subject that cannot be evaluated is an error and never stops the others.
    """
    rules = rules_of(rulebook)
    lists = Lists(as_of, [], [], [], [], 0, 0, {})
    for position, item in enumerate(entries):
        entry = item if isinstance(item, SubjectEntry) else SubjectEntry(position, None, None, item)
        lists.subjects += 1
        subject = entry.subject
        if subject is not None and subject.kind != rulebook.subject_kind:
            lists.other_kind += 1
            continue
        evaluation = evaluate([entry], rulebook, as_of)
        lists.errors.extend(evaluation.errors)
        for result in evaluation.results:
            assert subject is not None
            _subject_lists(subject, result, rulebook, rules, as_of, lists)
    lists.blacklist.sort(key=lambda e: (e.uscc, e.listed_on, e.decided_by, e.listing_id))
    lists.results.sort(key=lambda e: e.uscc)
    return lists


# ---------------------------------------------------------------- what changed


@dataclass(frozen=True)
class Snapshot:
    """A publication's two lists as published (JSON values), to compare a later one with."""

    as_of: dt.date
    rulebook_id: str
    blacklist: tuple[dict[str, Any], ...]
    results: tuple[dict[str, Any], ...]


def blacklist_key(row: dict[str, Any]) -> tuple[str, str, str]:
    period = row.get("disclosure_period") or {}
    return (str(row.get("uscc")), str(period.get("from")), str(row.get("decided_by")))


@dataclass(frozen=True)
class BlacklistChange:
    change: Literal["listed", "removed"]
    name: str
    uscc: str
    day: dt.date | None
    removal: Literal["natural", "decision", "revoked", "withdrawn"] | None = None


@dataclass(frozen=True)
class ResultChange:
    change: Literal["grade", "new", "gone"]
    name: str
    uscc: str
    previous_grade: str | None
    current_grade: str | None


@dataclass(frozen=True)
class Changes:
    since: dt.date
    blacklist: tuple[BlacklistChange, ...]
    results: tuple[ResultChange, ...]


def changes_since(previous: Snapshot, current: Snapshot, gone: dict[tuple[str, str, str], RemovedListing]) -> Changes:
    """Newly listed, removed (with how and when, as the engine says), grades changed, subjects new or gone."""
    before = {blacklist_key(row): row for row in previous.blacklist}
    now = {blacklist_key(row): row for row in current.blacklist}
    listed = [BlacklistChange("listed", str(row["name"]), key[0], dt.date.fromisoformat(key[1]))
              for key, row in now.items() if key not in before]
    removed = []
    for key, row in before.items():
        if key in now:
            continue
        how = gone.get(key)
        removed.append(BlacklistChange("removed", str(row["name"]), key[0], how.on if how else None,
                                       how.way if how else None))
    blacklist = sorted([*listed, *removed], key=lambda c: (c.change != "listed", c.uscc, c.day or dt.date.min))
    old = {str(row["uscc"]): row for row in previous.results}
    new = {str(row["uscc"]): row for row in current.results}
    results: list[ResultChange] = []
    for uscc in sorted(old.keys() | new.keys()):
        was, now_row = old.get(uscc), new.get(uscc)
        if was is not None and now_row is not None:
            if was.get("grade") != now_row.get("grade"):
                results.append(ResultChange("grade", str(now_row["name"]), uscc, str(was.get("grade")),
                                            str(now_row.get("grade"))))
        elif now_row is not None:
            results.append(ResultChange("new", str(now_row["name"]), uscc, None, str(now_row.get("grade"))))
        elif was is not None:
            results.append(ResultChange("gone", str(was["name"]), uscc, str(was.get("grade")), None))
    return Changes(previous.as_of, tuple(blacklist), tuple(results))
