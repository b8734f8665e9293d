"""One subject on one date, beyond the score: records as corrected and derived, each record's window, the
serious-blacklist proposals and listings, what a listing does to the honours, and the warnings (the rulebook's
blacklist, repair, removal, objections, consequences and derived blocks).

:func:`analyse` is what the engine calls for every subject before scoring; :func:`static_problems` is
what it checks once, with the other rulebook errors, before evaluating a subject at all.  A subject that
uses none of the new facts gets back its violations unchanged, each with the window it always had.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mincredit._backends import NATIVE, Backend
from mincredit._blacklist import ListingStatus, Proposal, listing_status, proposals
from mincredit._conditions import Fact, Program, compile_program
from mincredit._consequences import HonourWithdrawal, honour_withdrawals
from mincredit._derive import (
    ResolvedViolation,
    contract_fact,
    contract_violations,
    corrected,
    measure_fact,
    offence_counts,
    resolve_tiers,
    window_facts,
)
from mincredit._repair import RepairAnswer, repair_answer
from mincredit._retention import (
    BadInformation,
    Citations,
    CountWindow,
    SubjectTimeline,
    build_timeline,
    pending_objection,
    violation_window,
)
from mincredit._workdays import Counting
from mincredit.facts._models import HonourRecord, Subject, ViolationRecord
from mincredit.facts._records import (
    Contract,
    JudgmentRefusal,
    Listing,
    Objection,
    OtherSectorListing,
    StatutoryGround,
)
from mincredit.rules._schema import Rulebook


def program_for(rulebook: Rulebook, program: Program | None) -> Program:
    """The program given (a compiled rulebook keeps its own), or the rulebook's compiled now."""
    return program if program is not None else compile_program(rulebook)


@dataclass
class Analysis:
    as_of: dt.date
    timeline: SubjectTimeline
    violations: list[ResolvedViolation]
    windows: dict[str, CountWindow]
    other_windows: dict[str, CountWindow]                 # judgment refusals, statutory grounds
    proposals: list[Proposal]
    listings: list[ListingStatus]
    other_sector: list[OtherSectorListing]
    warnings: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    counting: Counting = field(default_factory=Counting)
    # honour record id → what a listing does to it on the as-of date (the rulebook's consequences[].honours, I65):
    # an ``exclude`` is for the scoring kernel to apply; a ``warn`` is already among ``warnings``
    honour_withdrawals: dict[str, HonourWithdrawal] = field(default_factory=dict)

    @property
    def withheld_honours(self) -> dict[str, str]:
        """Honour record id → why it does not count in the bonus on the as-of date: the ``exclude`` entries of
        :attr:`honour_withdrawals`, in the form the scoring kernel takes them."""
        return {rid: w.reason for rid, w in self.honour_withdrawals.items() if w.action == "exclude"}

    @property
    def objected_records(self) -> set[str]:
        return {rid for rid, window in {**self.windows, **self.other_windows}.items() if window.objection is not None}


def timeline_for(subject: Subject, rulebook: Rulebook, as_of: dt.date) -> SubjectTimeline:
    repair, removal = rulebook.repair, rulebook.removal
    decision = removal.decision if removal is not None else None
    return build_timeline(
        subject, as_of, years=rulebook.retention.violation.years,
        removal_years=removal.natural.years if removal is not None else None,
        extension=rulebook.blacklist is not None and rulebook.blacklist.retention_extension is not None,
        counts_under_objection=rulebook.objections.counts_in_score if rulebook.objections is not None else True,
        repairable=frozenset(repair.application.record_types) if repair is not None else frozenset({"violation"}),
        removal_repairs=decision.repairs if decision is not None else None,
        citations=Citations(repair=repair.application.article if repair is not None else None,
                            listed=repair.listed.article if repair is not None else None,
                            removal=decision.article if decision is not None else None))


def _review_warnings(subject: Subject, rulebook: Rulebook, as_of: dt.date, counting: Counting) -> list[str]:
    """A review (复核) of an objection's outcome asked for and not decided within its working days."""
    rule = rulebook.objections.review if rulebook.objections is not None else None
    if rule is None:
        return []
    found = []
    for record in subject.records:
        objections: list[Objection] = getattr(record, "objections", [])
        for objection in objections:
            review = objection.review
            if review is None or review.requested_on > as_of or (review.decided_on is not None
                                                                  and review.decided_on <= as_of):
                continue
            due = counting.add_working_days(review.requested_on, rule.working_days)
            if as_of > due:
                found.append(f"record {record.id}: the review (复核) requested on {review.requested_on} of the "
                             f"objection decided on {objection.decided_on} was due by {due} ({rule.working_days} "
                             f"working days, {rule.article}); no decision is recorded")
    return found


def _counted_indicators(rulebook: Rulebook) -> set[str]:
    return {rule.indicator for rule in (rulebook.derived.offence_count if rulebook.derived else [])}


def _tier_facts(records: list[ViolationRecord], program: Program, rulebook: Rulebook,
                revoked: frozenset[str] = frozenset()) -> tuple[list[Fact], dict[str, int], list[tuple[str, str]]]:
    facts: list[Fact] = []
    problems: list[tuple[str, str]] = []
    for record in records:
        fact, trouble = measure_fact(record, program)
        problems.extend((record.id, text) for text in trouble)
        if fact is not None:
            facts.append(fact)
    indicators = _counted_indicators(rulebook)
    counts = offence_counts(records, indicators)
    counts.update(offence_counts([r for r in records if r.id not in revoked], indicators))
    return facts, counts, problems


def analyse(subject: Subject, rulebook: Rulebook, digest: str, as_of: dt.date, backend: Backend = NATIVE, *,
            program: Program | None = None) -> Analysis:
    """Everything about ``subject`` on ``as_of`` that the score, the blacklist and the consequences need.

    ``program`` is the rulebook's compiled conditions (``CompiledRulebook.program``); without it they are compiled
    for this call."""
    program = program_for(rulebook, program)
    counting = Counting()
    timeline = timeline_for(subject, rulebook, as_of)
    corrections: dict[str, str] = {}
    records: list[ViolationRecord] = []
    for record in subject.records:
        if isinstance(record, ViolationRecord):
            read, text = corrected(record, as_of)
            records.append(read)
            if text is not None:
                corrections[record.id] = text
    revoked = {r.id for r in records if r.objections and violation_window(r, timeline).state == "revoked"}
    facts, counts, problems = _tier_facts(records, program, rulebook, frozenset(revoked))
    contracts = [r for r in subject.records if isinstance(r, Contract)]
    contract_rules = rulebook.derived.contract_overdue if rulebook.derived else []
    for contract in contracts:
        for rule in contract_rules:
            fact = contract_fact(contract, rule, program, as_of)
            if fact is not None:
                facts.append(fact)
    matches = backend.run(program, facts) if facts else frozenset()
    resolution = resolve_tiers(records, corrections, counts, matches, rulebook, program)
    violations = resolution.violations + contract_violations(contracts, matches, rulebook, program, as_of)
    windows = {v.record.id: violation_window(v.record, timeline) for v in violations}
    others = [r for r in subject.records if isinstance(r, JudgmentRefusal | StatutoryGround)]
    other_windows = {r.id: violation_window(r, timeline) for r in others}
    record_facts = window_facts([(v.record, windows[v.record.id]) for v in violations], subject) \
        + window_facts([(r, other_windows[r.id]) for r in others], subject)
    trigger_matches = backend.run(program, record_facts) if record_facts and rulebook.blacklist else frozenset()
    warnings = list(resolution.warnings)
    listing_records = [r for r in subject.records if isinstance(r, Listing)]
    pending = {rid for rid, w in {**windows, **other_windows}.items() if w.objection is not None}
    found = proposals(trigger_matches, rulebook, listing_records, pending)
    bad: list[tuple[BadInformation, CountWindow]] = [(v.record, windows[v.record.id]) for v in violations]
    bad += [(r, other_windows[r.id]) for r in others]
    ids = {record.id for record in subject.records}
    statuses = [listing_status(listing, bad, ids, timeline, rulebook, counting)
                for listing in listing_records if listing.listed_on <= as_of]
    for status in statuses:
        warnings.extend(f"listing {status.id}: {check.text} ({check.rule})" for check in status.checks if not check.ok)
        warnings.extend(f"listing {status.id}: {text}" for text in status.missing)
    for information, window in bad:
        if window.repair_refused is not None:
            warnings.append(f"record {information.id}: {window.repair_refused}")
    warnings.extend(_review_warnings(subject, rulebook, as_of, counting))
    if rulebook.blacklist is not None and rulebook.blacklist.behaviours:
        known = set(rulebook.blacklist.behaviours)
        for record in records:
            unknown = [tag for tag in record.behaviours if tag not in known]
            if unknown:
                warnings.append(f"record {record.id}: behaviour tag(s) {', '.join(unknown)} are not in the "
                                "rulebook's list of behaviours (blacklist.behaviours); check the spelling")
    other_sector = [r for r in subject.records if isinstance(r, OtherSectorListing)
                    and r.listed_on <= as_of and (r.removed_on is None or as_of < r.removed_on)]
    honours = [r for r in subject.records if isinstance(r, HonourRecord)]
    withdrawn = honour_withdrawals(rulebook, subject.kind, statuses, honours, pending, as_of) if honours else {}
    warnings.extend(w.reason for w in withdrawn.values() if w.action == "warn")
    return Analysis(as_of, timeline, violations, windows, other_windows, found, statuses, other_sector,
                    warnings, problems + resolution.problems, counting, withdrawn)


def finish_warnings(analysis: Analysis) -> list[str]:
    """The analysis's warnings with the calendar's (a year the official calendar does not publish)."""
    return analysis.warnings + [w for w in analysis.counting.warnings if w not in analysis.warnings]


def _listing_problems(subject: Subject, rulebook: Rulebook) -> list[tuple[str | None, str, str]]:
    """Listings naming an article, item or authority level the rulebook's blacklist block does not have."""
    blacklist = rulebook.blacklist
    if blacklist is None:
        return []
    allowed = blacklist.allowed_listings()
    articles = "; ".join(f"article {number} with item {', '.join(str(item) for item in items)}"
                         for number, items in allowed.items())
    decision = blacklist.decision
    levels = ", ".join(f"{level} ({decision.name(level)})" if decision.name(level) != level else level
                       for level in decision.known())
    found: list[tuple[str | None, str, str]] = []
    for record in subject.records:
        if not isinstance(record, Listing):
            continue
        if record.article not in allowed:
            found.append((record.id, "article", f"the rulebook's serious-blacklist has no grounds in article "
                                                f"{record.article}; a listing rests on {articles}"))
        elif record.item not in allowed[record.article]:
            found.append((record.id, "item", f"article {record.article} has no item {record.item} among the "
                                             f"rulebook's serious-blacklist grounds; a listing rests on {articles}"))
        if record.authority_level is not None and record.authority_level not in decision.known():
            found.append((record.id, "authority_level", f"{record.authority_level} is not a level of authority the "
                                                        f"rulebook knows (blacklist.decision); use one of {levels}"))
    return found


def static_problems(subject: Subject, rulebook: Rulebook, digest: str, *, program: Program | None = None
                    ) -> list[tuple[str | None, str, str]]:
    """Facts the rulebook cannot read whatever the date: (record id, field, message) — checked before scoring."""
    found = _listing_problems(subject, rulebook)
    known_quantities = set(rulebook.quantities)
    tiers: set[tuple[str, int]] = set()
    for record in subject.records:
        if not isinstance(record, ViolationRecord):
            continue
        for name in record.quantities:
            if name not in known_quantities:
                found.append((record.id, f"quantities.{name}",
                              f"{name} is not a quantity of this rulebook; its quantities are "
                              f"{', '.join(sorted(known_quantities)) or 'none'}"))
        for objection in record.objections:
            fix = objection.corrected
            if fix is None:
                continue
            code = fix.indicator or record.indicator
            if not tiers:   # built only for a corrected record: most subjects have none
                tiers = {(ind.code, t.tier) for ind in rulebook.indicators for t in ind.tiers}
            if all(known != code for known, _ in tiers):
                found.append((record.id, "objections.corrected.indicator", f"there is no indicator {code}"))
            elif fix.tier is not None and (code, fix.tier) not in tiers:
                found.append((record.id, "objections.corrected.tier", f"indicator {code} has no tier {fix.tier}"))
    if found:
        return found
    if not any(r.tier is None or r.quantities or r.objections or r.offence_count is not None
               for r in subject.records if isinstance(r, ViolationRecord)):
        return found    # every tier is stated and nothing corrects it: nothing to derive
    program = program_for(rulebook, program)
    originals = [r for r in subject.records if isinstance(r, ViolationRecord)]
    finals = [corrected(r, dt.date.max)[0] for r in originals]
    seen: set[tuple[str, str]] = set()
    for version in (originals, finals):
        facts, counts, trouble = _tier_facts(version, program, rulebook)
        resolution = resolve_tiers(version, {}, counts, NATIVE.run(program, facts), rulebook, program)
        for record_id, message in trouble + resolution.problems:
            if (record_id, message) not in seen:
                seen.add((record_id, message))
                found.append((record_id, "quantities" if record_id in {i for i, _ in trouble} else "tier", message))
    return found


__all__ = ["Analysis", "RecordNotFound", "analyse", "finish_warnings", "pending_objection", "program_for",
           "repair_question", "static_problems"]


class RecordNotFound(LookupError):
    """The record id names no record of the subject, or no bad information that can be repaired."""


def repair_question(subject: Subject, rulebook: Rulebook, digest: str, as_of: dt.date, record_id: str,
                    backend: Backend = NATIVE) -> RepairAnswer:
    """``mincredit repair``: may this record be repaired on application, from which day, and why not (the
    rulebook's repair block)."""
    if rulebook.repair is None:
        raise RecordNotFound(f"the rulebook {rulebook.rulebook.id} {rulebook.rulebook.version} has no repair rules")
    analysis = analyse(subject, rulebook, digest, as_of, backend)
    pairs: list[tuple[BadInformation, CountWindow]] = [(v.record, analysis.windows[v.record.id])
                                                       for v in analysis.violations]
    pairs += [(r, analysis.other_windows[r.id]) for r in subject.records
              if isinstance(r, JudgmentRefusal | StatutoryGround)]
    found = next(((record, window) for record, window in pairs if record.id == record_id), None)
    if found is None:
        ids = {record.id: record.type for record in subject.records}
        if record_id in ids:
            raise RecordNotFound(f"record {record_id} is a {ids[record_id]} record; only bad information "
                                 "(violation, judgment_refusal and statutory_ground records) is repaired")
        raise RecordNotFound(f"subject {subject.uscc} has no record {record_id!r}")
    record, window = found
    answer = repair_answer(record, window, pairs, analysis.timeline, rulebook.repair, analysis.counting)
    extra = [w for w in analysis.counting.warnings if w not in answer.warnings]
    return answer.model_copy(update={"warnings": answer.warnings + extra}) if extra else answer
