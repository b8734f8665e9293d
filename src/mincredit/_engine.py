"""Evaluate subjects against a compiled rulebook as of a date: score, grade, explanation and what they entail.

A subject whose records are plain violations (a stated tier) and honours goes straight to the kernel
(:func:`mincredit._kernel.tally`).  Any other subject is first analysed (:func:`mincredit._timeline.analyse`:
records as corrected and derived, their counting windows, serious-blacklist proposals and listings), and the
kernel then tallies the analysed records with their windows.  Either way the numbers are the kernel's, and the
explanations are built by observing it (:class:`mincredit._explain.Explainer`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from mincredit._explain import Explainer, WindowTexts
from mincredit._kernel import Day, Law, Tables, UnknownRule, conclude, offence_places, stated_tier_warnings, tally
from mincredit._periods import BeyondCalendar
from mincredit._results import Evaluation, RulebookRef, SubjectResult
from mincredit.facts._models import HonourRecord, PartialSubject, Subject, ViolationRecord
from mincredit.facts._reading import FactError, SubjectEntry

if TYPE_CHECKING:
    from mincredit._timeline import Analysis
    from mincredit.rules._compiling import CompiledRulebook

__all__ = ["Evaluation", "SubjectResult", "entry_errors", "evaluate", "evaluate_subject", "rulebook_errors",
           "rulebook_ref"]

PLAIN_VIOLATION_FIELDS = frozenset({"id", "type", "indicator", "tier", "determined_on", "authority", "description"})
PLAIN_HONOUR_FIELDS = frozenset({"id", "type", "honour", "level", "awarded_on", "valid_until", "authority",
                                 "description"})


def rulebook_ref(rulebook: CompiledRulebook) -> RulebookRef:
    law = rulebook.law
    return RulebookRef(id=law.rulebook_id, version=law.version, title=law.title, status=law.status,
                       subject_kind=law.kind, digest=law.digest)


def rulebook_errors(subject: Subject | PartialSubject, rulebook: CompiledRulebook, index: int,
                    entry: SubjectEntry | None) -> list[FactError]:
    """Facts that are well-formed but mean nothing under this rulebook: another kind of subject, an unknown
    indicator, tier or honour level, a public score the formula does not take, a quantity or correction the
    rulebook cannot read.  Such a subject is refused with these errors; every path checks this first.

    Every problem is reported, not the first: each record is checked, and the public score whatever the records
    say.  A :class:`PartialSubject` (what validated of a subject that did not) gets the same checks but those
    that need the whole subject (quantities and corrections, read by the analysis)."""
    def problem(message: str, field: str, record_id: str | None = None) -> FactError:
        error = FactError(message, file=entry.file if entry else None, line=entry.line if entry else None,
                          subject_index=index, uscc=subject.uscc, name=subject.name,
                          record_id=record_id, field=field)
        return entry.place(error) if entry is not None else error

    law = rulebook.law
    errors: list[FactError] = []
    if subject.kind != law.kind:
        errors.append(problem(
            f"the subject is of kind {subject.kind!r} but rulebook {law.rulebook_id} {law.version} scores "
            f"{law.subject_name} (kind {law.kind!r}); evaluate it with a rulebook for {subject.kind!r}", "kind"))
        return errors
    tables = rulebook.tables
    for record in subject.records:
        if isinstance(record, ViolationRecord | HonourRecord):
            honour = isinstance(record, HonourRecord)
            start = record.awarded_on if isinstance(record, HonourRecord) else record.determined_on
            late = tables.calendar_problem(start, honour) \
                if not (isinstance(record, HonourRecord) and record.valid_until is not None) else None
            if late is not None:
                errors.append(problem(late, "awarded_on" if honour else "determined_on", record.id))
        if isinstance(record, ViolationRecord):
            tiers = tables.tiers.get(record.indicator)
            if tiers is None:
                errors.append(problem(f"there is no indicator {record.indicator} in rulebook {law.rulebook_id} "
                                      f"{law.version}; its indicators are {_code_range(law)}",
                                      "indicator", record.id))
            elif record.tier is not None and record.tier not in tiers:
                numbers = sorted(tiers)
                errors.append(problem(
                    f"indicator {record.indicator} has no tier {record.tier}; it has tiers {numbers[0]}–{numbers[-1]}"
                    if len(numbers) > 1 else f"indicator {record.indicator} has no tier {record.tier}; it has only "
                                             "tier 1", "tier", record.id))
        elif isinstance(record, HonourRecord) and record.level not in tables.levels:
            errors.append(problem(f"the honour level {record.level!r} is not defined in rulebook {law.rulebook_id} "
                                  f"{law.version}; its levels are {', '.join(tables.levels)}", "level", record.id))
    if not errors and isinstance(subject, Subject):
        # The analysis reads quantities and corrections with every record known to the rulebook (a tier it
        # derives may depend on the other records), so this check waits for the ones above to pass.
        from mincredit._timeline import static_problems

        errors.extend(problem(message, field, record_id)
                      for record_id, field, message in static_problems(subject, rulebook.source, rulebook.digest,
                                                                         program=rulebook.program))
    public = tables.public_problem(subject.public_score, subject.status) \
        if not isinstance(subject, PartialSubject) or subject.public_score_valid else None
    if public is not None:
        errors.append(problem(public, "public_score"))
    return errors


def entry_errors(entry: SubjectEntry, rulebook: CompiledRulebook) -> list[FactError]:
    """Every error of a subject that did not validate: the facts model's, then the rulebook's about what of it
    did validate (its records that are valid on their own, say), so that a clerk fixes them all in one go."""
    errors = list(entry.errors)
    if entry.partial is not None:
        errors.extend(rulebook_errors(entry.partial, rulebook, entry.index, entry))
    return errors
def beyond_calendar(error: Exception, subject: Subject, index: int, entry: SubjectEntry | None) -> FactError:
    """The error of a subject one of whose periods (a listing's, a repair's, a deadline in working days …) would
    end after 9999-12-31, the last day a date can hold: its dates cannot all be right."""
    return FactError(f"a period counted from one of this subject's dates would end after 9999-12-31, the last day "
                     f"mincredit can count to ({error}); check the years of its dates",
                     file=entry.file if entry else None, line=entry.line if entry else None, subject_index=index,
                     uscc=subject.uscc, name=subject.name)


def _code_range(law: Law) -> str:
    codes = [indicator.code for indicator in law.indicators]
    return f"{codes[0]}–{codes[-1]}" if len(codes) > 1 else codes[0]


def is_plain(subject: Subject, law: Law) -> bool:
    """Whether the subject has only plain violations (a stated tier, nothing a trigger could read) and honours,
    which the kernel scores without the analysis."""
    return _plain_records(subject, law, None) is not None


def _plain_records(subject: Subject, law: Law, tables: Tables | None
                   ) -> tuple[list[ViolationRecord], list[HonourRecord]] | None:
    """A plain subject's violations and honours (see :func:`is_plain`), in one pass; None for any other subject.

    With ``tables``, also None when a period the kernel may count from a record would end after 9999-12-31: such
    a record is its subject's error, which :func:`rulebook_errors` words (the kernel counts such a period only when
    it explains, so the check must come first for every path to agree)."""
    if subject.roles:
        return None
    engine_codes = law.engine_codes
    violation_last = honour_last = None
    if tables is not None:
        violation_last, honour_last = tables.violation_last, tables.honour_last
    violations: list[ViolationRecord] = []
    honours: list[HonourRecord] = []
    for record in subject.records:
        if type(record) is ViolationRecord:   # exactly the plain model: no subclass, no other record
            if record.tier is None or record.indicator in engine_codes \
                    or not record.__pydantic_fields_set__ <= PLAIN_VIOLATION_FIELDS \
                    or (violation_last is not None and record.determined_on > violation_last):
                return None
            violations.append(record)
        elif type(record) is HonourRecord:
            if not record.__pydantic_fields_set__ <= PLAIN_HONOUR_FIELDS or (
                    honour_last is not None and record.valid_until is None and record.awarded_on > honour_last):
                return None
            honours.append(record)
        else:
            return None
    return violations, honours


def evaluate_plain(day: Day, subject: Subject, explain: bool,
                   records: tuple[list[ViolationRecord], list[HonourRecord]]) -> SubjectResult:
    """A plain subject already checked against the rulebook (:func:`rulebook_errors`), with its violations and
    honours as :func:`_plain_records` split them."""
    violations, honours = records
    explainer = Explainer(day) if explain else None
    deductions, bonus = tally(day, violations, honours, explainer)
    law = day.law
    warnings = stated_tier_warnings(law, violations, offence_places(violations, law.count_bands)) \
        if law.count_bands and any(record.indicator in law.count_bands for record in violations) else []
    return conclude(day, subject.uscc, subject.name, subject.kind, subject.status, subject.public_score,
                    deductions, bonus, items=explainer.items() if explainer is not None else None, warnings=warnings)


def evaluate_subject(subject: Subject, rulebook: CompiledRulebook, as_of: dt.date, *, explain: bool = True
                     ) -> SubjectResult:
    """Score one subject already checked against the rulebook (see :func:`rulebook_errors`)."""
    day = rulebook.day(as_of)
    records = _plain_records(subject, rulebook.law, None)
    if records is not None:
        return evaluate_plain(day, subject, explain, records)
    from mincredit._timeline import analyse

    analysis = analyse(subject, rulebook.source, rulebook.digest, as_of, program=rulebook.program)
    return evaluate_analysed(subject, rulebook, day, analysis, explain)


def checked_result(subject: Subject, rulebook: CompiledRulebook, as_of: dt.date, index: int,
                   entry: SubjectEntry | None, explain: bool) -> SubjectResult | list[FactError]:
    """A subject's result, or every reason the rulebook refuses it: what every path does with a valid subject.

    A plain subject goes straight to the kernel, whose look-ups find an unknown indicator, tier or level
    themselves; only then are the errors worded (:func:`rulebook_errors`), so a valid subject is read once.
    """
    law = rulebook.law
    tables = rulebook.tables
    try:
        records = _plain_records(subject, law, tables) if subject.kind == law.kind else None
        if records is not None and tables.public_problem(subject.public_score, subject.status) is None:
            try:
                return evaluate_plain(rulebook.day(as_of), subject, explain, records)
            except UnknownRule:
                pass
        problems = rulebook_errors(subject, rulebook, index, entry)
        if problems:
            return problems
        try:
            return evaluate_subject(subject, rulebook, as_of, explain=explain)
        except UnknownRule as unknown:   # rulebook_errors said nothing, so the rulebook and the checks disagree
            raise AssertionError(f"record {unknown} passed the rulebook checks but the kernel cannot read it") \
                from None
    except (BeyondCalendar, OverflowError) as beyond:
        return [beyond_calendar(beyond, subject, index, entry)]


def _window_texts(rulebook: CompiledRulebook, analysis: Analysis) -> WindowTexts:
    source = rulebook.source
    objections = source.objections
    objection = None
    if objections is not None:
        verification = objections.verification

        def objection(raised_on: dt.date) -> str:
            due = analysis.counting.add_working_days(raised_on, verification.working_days)
            return (f"under objection since {raised_on}, to be verified by {due} ({verification.working_days} "
                    f"working days, {verification.article}); joint sanctions based on it are suspended meanwhile")

    extension = source.blacklist.retention_extension if source.blacklist is not None else None
    return WindowTexts(
        extension=extension.article if extension is not None else rulebook.law.violation_article,
        revocation=objections.correction.article if objections is not None else "objection",
        objection=objection)


def evaluate_analysed(subject: Subject, rulebook: CompiledRulebook, day: Day, analysis: Analysis, explain: bool
              ) -> SubjectResult:
    from mincredit._consequences import consequences_for
    from mincredit._timeline import finish_warnings

    violations = [resolved.record for resolved in analysis.violations]
    honours = [record for record in subject.records if isinstance(record, HonourRecord)]
    explainer = Explainer(day, {resolved.record.id: resolved for resolved in analysis.violations},
                          _window_texts(rulebook, analysis)) if explain else None
    deductions, bonus = tally(day, violations, honours, explainer, windows=analysis.windows,
                              withheld=analysis.withheld_honours)
    items = explainer.items() if explainer is not None else None
    warnings = finish_warnings(analysis)
    if subject.status == "dissolved":
        return conclude(day, subject.uscc, subject.name, subject.kind, subject.status, subject.public_score,
                        deductions, bonus, items=items, warnings=warnings)
    result = conclude(day, subject.uscc, subject.name, subject.kind, subject.status, subject.public_score,
                      deductions, bonus, items=items, warnings=warnings, proposals=tuple(analysis.proposals),
                      listings=tuple(analysis.listings))
    consequences = consequences_for(rulebook.source, subject.kind, result.grade, analysis.listings,
                                    analysis.other_sector, analysis.objected_records, analysis.as_of)
    return msgspec.structs.replace(result, consequences=tuple(consequences))


def evaluate(subjects: Iterable[Subject | SubjectEntry], rulebook: CompiledRulebook, as_of: dt.date, *,
             explain: bool = True) -> Evaluation:
    """Evaluate every subject; a subject with bad facts goes to ``errors`` and never stops the others."""
    results: list[SubjectResult] = []
    errors: list[FactError] = []
    for index, item in enumerate(subjects):
        entry = item if isinstance(item, SubjectEntry) else None
        subject: Subject
        if entry is not None:
            if entry.subject is None:
                errors.extend(entry_errors(entry, rulebook))
                continue
            subject, position = entry.subject, entry.index
        else:
            assert isinstance(item, Subject)
            subject, position = item, index
        outcome = checked_result(subject, rulebook, as_of, position, entry, explain)
        if isinstance(outcome, list):
            errors.extend(outcome)
        else:
            results.append(outcome)
    return Evaluation(rulebook=rulebook_ref(rulebook), as_of=as_of, results=results, errors=errors)
