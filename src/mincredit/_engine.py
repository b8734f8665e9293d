"""Evaluate subjects against a compiled rulebook as of a date: score, grade and explanation.

N = 公共信用评价分值 × public_weight + (base − 行业不良信息扣分 + 行业荣誉信息加分) × industry_weight,
all in exact decimals.  Every record appears in the result's items, counted or
not, with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, localcontext
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from mincredit._blacklist import ListingStatus, Proposal
from mincredit._consequences import ConsequenceItem, consequences_for
from mincredit._decimals import exact
from mincredit._derive import ResolvedViolation
from mincredit._periods import period_end
from mincredit._retention import CountWindow
from mincredit._timeline import Analysis, analyse, finish_warnings, static_problems
from mincredit.facts._models import HonourRecord, Subject, ViolationRecord
from mincredit.facts._validating import FactError, SubjectEntry
from mincredit.rules._compiling import KIND_PREFIX, CompiledRulebook, CompiledTier

ZERO = Decimal(0)
PLURAL = {"miner": "miners (矿业权人)", "agency": "agencies (地矿中介服务机构)"}


class Output(BaseModel):
    model_config = ConfigDict(frozen=True)


def _without_unused(data: Any, names: tuple[str, ...]) -> Any:
    """Fields added for arts. 10–11, 15–28 are left out while unused, so older outputs keep their exact keys."""
    if isinstance(data, dict):
        for name in names:
            if name in data and data[name] in (None, False, []):
                del data[name]
    return data


class RulebookRef(Output):
    id: str
    version: str
    title: str
    status: str
    subject_kind: str
    digest: str


class Item(Output):
    """One record and what it did to the score."""

    record_id: str
    type: Literal["violation", "honour"]
    counted: bool
    points: Decimal
    applied: Decimal
    counts_from: dt.date
    counts_until: dt.date
    explanation: str
    indicator: str | None = None
    tier: int | None = None
    indicator_title: str | None = None
    wording: str | None = None
    honour: str | None = None
    level: str | None = None
    level_name: str | None = None
    # arts. 10–11, 15–28: shown only when used (docs/blacklist.md)
    under_objection: bool = False
    objection_raised_on: dt.date | None = None
    tier_source: Literal["quantity", "count", "contract"] | None = None
    tier_reason: str | None = None
    derived_from: str | None = None
    correction: str | None = None
    extended_by: str | None = None
    repaired_on: dt.date | None = None
    revoked_on: dt.date | None = None

    @model_serializer(mode="wrap")
    def _omit_unused(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without_unused(handler(self), ITEM_ADDITIONS)


class SubjectResult(Output):
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
    not_evaluated_reason: str | None = None
    items: list[Item]
    # arts. 16–28: shown only when there is something to show (docs/blacklist.md)
    proposals: list[Proposal] = []
    listings: list[ListingStatus] = []
    consequences: list[ConsequenceItem] = []
    warnings: list[str] = []

    @model_serializer(mode="wrap")
    def _omit_unused(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without_unused(handler(self), RESULT_ADDITIONS)


ITEM_ADDITIONS = ("under_objection", "objection_raised_on", "tier_source", "tier_reason", "derived_from",
                  "correction", "extended_by", "repaired_on", "revoked_on")
RESULT_ADDITIONS = ("proposals", "listings", "consequences", "warnings")


class Evaluation(Output):
    rulebook: RulebookRef
    as_of: dt.date
    results: list[SubjectResult]
    errors: list[FactError]

    @property
    def complete(self) -> bool:
        return not self.errors


def rulebook_ref(rulebook: CompiledRulebook) -> RulebookRef:
    identity = rulebook.identity
    return RulebookRef(id=identity.id, version=identity.version, title=identity.title,
                       status=identity.status_wording, subject_kind=identity.subject_kind,
                       digest=rulebook.digest)


def rulebook_errors(subject: Subject, rulebook: CompiledRulebook, index: int, entry: SubjectEntry | None
                    ) -> list[FactError]:
    """Facts that are well-formed but mean nothing under this rulebook: another kind of subject, an unknown
    indicator, tier or honour level, a quantity or correction the rulebook cannot read, a missing public score.

    :func:`evaluate` refuses such a subject with these errors; :mod:`mincredit._batch` checks the same before
    scoring a subject from its facts model."""
    def problem(message: str, field: str, record_id: str | None = None) -> FactError:
        return FactError(message, file=entry.file if entry else None, line=entry.line if entry else None,
                         subject_index=index, uscc=subject.uscc, name=subject.name,
                         record_id=record_id, field=field)

    errors: list[FactError] = []
    kind = rulebook.subject_kind
    if subject.kind != kind:
        errors.append(problem(
            f"the subject is a {subject.kind} but rulebook {rulebook.identity.id} {rulebook.identity.version} "
            f"scores {PLURAL[kind]}; evaluate it with the {subject.kind} rulebook", "kind"))
        return errors
    for record in subject.records:
        if isinstance(record, ViolationRecord):
            code = record.indicator
            if code not in rulebook.tiers_of:
                other = next((k for k, p in KIND_PREFIX.items() if code.startswith(p) and k != kind), None)
                if other is not None:
                    message = f"{code} is an indicator for {PLURAL[other]}, but this subject is a {kind}"
                else:
                    message = (f"there is no indicator {code} in rulebook {rulebook.identity.id} "
                               f"{rulebook.identity.version}")
                errors.append(problem(message, "indicator", record.id))
            elif record.tier is not None and record.tier not in rulebook.tiers_of[code]:
                tiers = rulebook.tiers_of[code]
                errors.append(problem(
                    f"indicator {code} has no tier {record.tier}; it has tiers {tiers[0]}–{tiers[-1]}"
                    if len(tiers) > 1 else f"indicator {code} has no tier {record.tier}; it has only tier 1",
                    "tier", record.id))
        elif isinstance(record, HonourRecord) and record.level not in rulebook.honour_levels:
            errors.append(problem(f"the honour level {record.level} is not defined in this rulebook",
                                  "level", record.id))
    if not errors:
        errors.extend(problem(message, field, record_id)
                      for record_id, field, message in static_problems(subject, rulebook.source, rulebook.digest))
    if subject.status == "active" and subject.public_score is None and rulebook.missing_public_score == "error":
        errors.append(problem(
            "the 公共信用评价分值 (public credit score from the public credit platform) is missing; "
            "it is needed for the formula and this rulebook does not assume one", "public_score"))
    return errors


def _window_explanation(rule: CompiledTier, record: ViolationRecord, window: CountWindow, years: int) -> str:
    """Why a violation counts or not on the as-of date, from its window (mincredit._retention.violation_window)."""
    until = window.counts_until
    extended = (f", extended while the subject was on the serious-blacklist (listing {window.extended_by}) "
                f"until it left the list; the {years} years ended on {window.natural_until}"
                if window.extended_by else "")
    if window.state == "not_yet":
        return f"not counted: determined on {record.determined_on}, after the evaluation date"
    if window.state == "expired":
        return (f"not counted: expired, it counted through {until} "
                f"({years} years from determination on {record.determined_on}{extended}, art. 11)")
    if window.state == "repaired":
        return f"not counted: {window.repair_note}, it counted through {until}"
    if window.state == "revoked":
        return (f"not counted: revoked on {window.revoked_on} after an objection found it wrong "
                f"(art. 15), it counted through {until}")
    if window.state == "under_objection":
        return (f"not counted while under objection: {rule.code} tier {rule.tier}, −{exact(rule.points)} points, "
                f"would count through {until}")
    return (f"counted: {rule.code} tier {rule.tier}, −{exact(rule.points)} points, counts through {until}"
            + (f" ({extended.removeprefix(', ')}, art. 11)" if extended else ""))


def _violation_item(resolved: ResolvedViolation, rulebook: CompiledRulebook, analysis: Analysis) -> Item:
    record = resolved.record
    rule = rulebook.tiers[(record.indicator, resolved.tier)]
    window = analysis.windows[record.id]
    why = _window_explanation(rule, record, window, rulebook.violation_years)
    objection = window.objection
    if objection is not None:
        objections = rulebook.source.objections
        if objections is not None:
            due = analysis.counting.add_working_days(objection.raised_on, objections.verification.working_days)
            why += (f"; under objection since {objection.raised_on}, to be verified by {due} "
                    f"({objections.verification.working_days} working days, {objections.verification.article}); "
                    "joint sanctions based on it are suspended meanwhile")
        else:
            why += f"; under objection since {objection.raised_on}"
    for note in (resolved.tier_reason, resolved.correction):
        if note:
            why += f"; {note}"
    counted = window.counted
    return Item(
        record_id=record.id, type="violation", counted=counted, points=rule.points,
        applied=rule.points if counted else ZERO, counts_from=record.determined_on, counts_until=window.counts_until,
        explanation=why, indicator=rule.code, tier=rule.tier, indicator_title=rule.indicator_title,
        wording=rule.wording, under_objection=objection is not None,
        objection_raised_on=objection.raised_on if objection is not None else None,
        tier_source=None if resolved.tier_source == "stated" else resolved.tier_source,
        tier_reason=resolved.tier_reason, derived_from=resolved.derived_from, correction=resolved.correction,
        extended_by=window.extended_by, repaired_on=window.repaired_on, revoked_on=window.revoked_on,
    )


def _violation_items(analysis: Analysis, rulebook: CompiledRulebook) -> list[Item]:
    return [_violation_item(resolved, rulebook, analysis) for resolved in analysis.violations]


def _honour_items(records: list[HonourRecord], rulebook: CompiledRulebook, as_of: dt.date) -> list[Item]:
    """Honours in force, the same honour once at its highest level, then the cap in award order."""
    windows = {}
    for record in records:
        until = record.valid_until or period_end(record.awarded_on, years=rulebook.honour_default_years)
        windows[record.id] = until
    in_force = [r for r in records if r.awarded_on <= as_of <= windows[r.id]]
    best: dict[str, HonourRecord] = {}
    for record in sorted(in_force, key=lambda r: (-rulebook.honour_levels[r.level].points, r.awarded_on, r.id)):
        best.setdefault(record.honour, record)
    remaining = rulebook.honour_cap
    applied: dict[str, Decimal] = {}
    for record in sorted(best.values(), key=lambda r: (r.awarded_on, r.id)):
        points = rulebook.honour_levels[record.level].points
        applied[record.id] = min(points, remaining)
        remaining -= applied[record.id]
    items = []
    for record in records:
        level = rulebook.honour_levels[record.level]
        until = windows[record.id]
        amount = applied.get(record.id, ZERO)
        if record.id in applied:
            if amount == level.points:
                why = f"counted: {level.name}, +{exact(level.points)} points, in force through {until}"
            elif amount > 0:
                why = (f"counted in part: +{exact(amount)} of {exact(level.points)} points, "
                       f"the honour bonus is capped at {exact(rulebook.honour_cap)}")
            else:
                why = f"not counted: the honour bonus already reached its cap of {exact(rulebook.honour_cap)}"
        elif as_of < record.awarded_on:
            why = f"not counted: awarded on {record.awarded_on}, after the evaluation date"
        elif as_of > until:
            source = "its stated validity" if record.valid_until else (
                f"{rulebook.honour_default_years} year from the award, no validity was given (art. 11)")
            why = f"not counted: no longer in force, it was valid through {until} ({source})"
        else:
            winner = best[record.honour]
            winner_level = rulebook.honour_levels[winner.level]
            if winner_level.points > level.points:
                why = (f"not counted: the same honour counts once, at its highest level — record {winner.id} "
                       f"({winner_level.name}) supersedes it")
            else:
                why = f"not counted: the same honour is already counted by record {winner.id}"
        items.append(Item(
            record_id=record.id, type="honour", counted=amount > 0, points=level.points, applied=amount,
            counts_from=record.awarded_on, counts_until=until, explanation=why, honour=record.honour,
            level=record.level, level_name=level.name,
        ))
    return items


def evaluate_subject(subject: Subject, rulebook: CompiledRulebook, as_of: dt.date) -> SubjectResult:
    """Score one subject already checked against the rulebook (see :func:`evaluate`)."""
    analysis = analyse(subject, rulebook.source, rulebook.digest, as_of)
    honours = [r for r in subject.records if isinstance(r, HonourRecord)]
    items = _violation_items(analysis, rulebook) + _honour_items(honours, rulebook, as_of)
    items.sort(key=lambda i: (i.type != "violation", i.counts_from, i.record_id))
    common: dict[str, Any] = {"uscc": subject.uscc, "name": subject.name, "kind": subject.kind,
                              "status": subject.status, "public_score": subject.public_score, "items": items}
    if subject.status == "dissolved":
        return SubjectResult(
            evaluated=False, grade=None, grade_meaning=None, score=None, deductions=ZERO, honour_bonus=ZERO,
            not_evaluated_reason="主体资格灭失: a dissolved subject is not evaluated (art. 15)",
            warnings=finish_warnings(analysis), **common)
    with localcontext() as context:
        context.prec = 60
        deductions = sum((i.applied for i in items if i.type == "violation"), ZERO)
        bonus = sum((i.applied for i in items if i.type == "honour"), ZERO)
        public = subject.public_score if subject.public_score is not None else ZERO
        score = exact(public * rulebook.public_weight
                      + (rulebook.base - deductions + bonus) * rulebook.industry_weight)
    band = rulebook.band_for(score)
    return SubjectResult(
        evaluated=True, grade=band.grade, grade_meaning=band.meaning, score=score,
        deductions=exact(deductions), honour_bonus=exact(bonus), **_measures(subject, rulebook, band.grade, analysis),
        **common)


def _measures(subject: Subject, rulebook: CompiledRulebook, grade: str, analysis: Analysis) -> dict[str, Any]:
    """Proposals, listings, consequences and warnings of an evaluated subject (arts. 16–28)."""
    consequences = consequences_for(rulebook.source, subject.kind, grade, analysis.listings, analysis.other_sector,
                                    analysis.objected_records, analysis.as_of)
    return {"proposals": analysis.proposals, "listings": analysis.listings, "consequences": consequences,
            "warnings": finish_warnings(analysis)}


def evaluate(
    subjects: Iterable[Subject | SubjectEntry], rulebook: CompiledRulebook, as_of: dt.date
) -> Evaluation:
    """Evaluate every subject; a subject with bad facts goes to ``errors`` and never stops the others."""
    results: list[SubjectResult] = []
    errors: list[FactError] = []
    for index, item in enumerate(subjects):
        entry = item if isinstance(item, SubjectEntry) else None
        if entry is not None:
            if entry.subject is None:
                errors.extend(entry.errors)
                continue
            subject, position = entry.subject, entry.index
        else:
            assert isinstance(item, Subject)
            subject, position = item, index
        problems = rulebook_errors(subject, rulebook, position, entry)
        if problems:
            errors.extend(problems)
            continue
        results.append(evaluate_subject(subject, rulebook, as_of))
    return Evaluation(rulebook=rulebook_ref(rulebook), as_of=as_of, results=results, errors=errors)
