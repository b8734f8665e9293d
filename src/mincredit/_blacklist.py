"""The serious-blacklist (地矿严重失信名单): proposals, procedure checks, removal dates.

The engine proposes; an authority decides.  A :class:`Proposal` names the subject's records that match a
trigger of the rulebook's ``blacklist`` block (one item of one article), the article and item, and who
decides (``blacklist.decision``).  A decision is a fact (``type: listing``); :func:`listing_status` checks
its procedure — the written notice before the decision and the days for statement and defence after it
(``blacklist.statement``, counted per the Civil Code), the signature (``blacklist.signature``), a statement
that stood (``blacklist.adoption``), the deciding level — and computes when the subject leaves the list:
naturally (``removal.natural``), or by a decision on an application (``removal.application``) made after the
years on the list with all its bad information repairable, after the review and site check
(``removal.review``) and a public notice of so many working days (``removal.notice``) without objection
(``removal.decision``).  Every article a check cites is the rulebook's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from mincredit._conditions import Match
from mincredit._periods import period_end
from mincredit._repair import Check, repair_answer
from mincredit._retention import (
    ONE_DAY,
    BadInformation,
    CountWindow,
    SubjectTimeline,
    natural_removal,
    pending_objection,
)
from mincredit._workdays import Counting
from mincredit.facts._records import Listing
from mincredit.rules._schema import Rulebook


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Proposal(_Out):
    """A ground for the serious-blacklist found in the subject's records; the authority decides."""

    trigger: str
    article: str
    number: int
    item: int
    wording: str
    records: list[str]
    deciding: str
    under_objection: list[str] = []
    listing: str | None = None
    explanation: str


class RemovalApplication(_Out):
    eligible: bool
    eligible_on: dt.date | None
    answer: str


class ListingStatus(_Out):
    id: str
    article: int
    item: int
    based_on: list[str]
    decided_by: str
    decision_number: str
    listed_on: dt.date
    on_list: bool
    removed_on: dt.date
    removal: str
    natural_removal_on: dt.date
    statement_ends_on: dt.date | None
    checks: list[Check]
    removal_application: RemovalApplication | None = None
    removal_notice_ends_on: dt.date | None = None
    under_objection: bool = False
    missing: list[str] = []           # steps of the procedure the facts do not record (each gives a warning)
    explanation: str

    @property
    def procedure_ok(self) -> bool:
        return all(check.ok for check in self.checks)


def proposals(matches: frozenset[Match], rulebook: Rulebook, listings: Sequence[Listing],
              pending: set[str]) -> list[Proposal]:
    """One proposal per trigger that some record matches, with every matching record."""
    blacklist = rulebook.blacklist
    if blacklist is None:
        return []
    by_trigger: dict[str, list[str]] = {}
    for rule_id, fact_id in matches:
        if rule_id.startswith("trigger:") and fact_id.startswith("record:"):
            by_trigger.setdefault(rule_id[len("trigger:"):], []).append(fact_id[len("record:"):])
    levels = "、".join(blacklist.decision.name(level) for level in blacklist.decision.levels)
    found = []
    for trigger in blacklist.triggers:
        records = sorted(by_trigger.get(trigger.id, []))
        if not records:
            continue
        covering = next((listing.id for listing in listings if listing.article == trigger.number
                         and listing.item == trigger.item and set(records) & set(listing.based_on)), None)
        objected = sorted(r for r in records if r in pending)
        deciding = f"{levels}自然资源主管部门 ({blacklist.decision.article})"
        text = (f"{trigger.article}: record(s) {', '.join(records)} — {trigger.wording} "
                f"Proposed for the {blacklist.name}; decided by the {levels} natural resources department "
                f"({blacklist.decision.article}) after a written notice and {blacklist.statement.days} days for "
                f"statement and defence ({blacklist.statement.article})")
        if covering is not None:
            text += f"; already decided: listing {covering}"
        if objected:
            text += (f"; record(s) {', '.join(objected)} under objection: joint sanctions based on them are "
                     "suspended while they are verified")
        found.append(Proposal(trigger=trigger.id, article=trigger.article, number=trigger.number, item=trigger.item,
                              wording=trigger.wording, records=records, deciding=deciding,
                              under_objection=objected, listing=covering, explanation=text))
    return found


Bad = Sequence[tuple[BadInformation, CountWindow]]


def _one_year(listing: Listing, rulebook: Rulebook) -> dt.date:
    """The first day an application for removal may be made: the day after the years on the list."""
    assert rulebook.removal is not None
    return period_end(listing.listed_on, years=rulebook.removal.application.after_years) + ONE_DAY


def _removal_application(listing: Listing, bad: Bad, timeline: SubjectTimeline, rulebook: Rulebook,
                         counting: Counting, natural: dt.date) -> RemovalApplication | None:
    removal, repair = rulebook.removal, rulebook.repair
    if removal is None or repair is None:
        return None
    dates = [_one_year(listing, rulebook)]
    blockers = []
    for record, window in bad:
        if window.state not in {"counted", "under_objection"}:
            continue
        answer = repair_answer(record, window, bad, timeline, repair, counting, ignore_listing=True)
        if answer.eligible_on is None:
            blockers.append(f"record {record.id} cannot be repaired ({answer.answer.removeprefix('not eligible, ')})")
        else:
            dates.append(answer.eligible_on)
    if blockers:
        return RemovalApplication(eligible=False, eligible_on=None,
                                  answer="no application for removal yet, because " + "; ".join(blockers)
                                  + f" ({removal.application.article}); it leaves the list naturally on {natural}")
    eligible_on = max(dates)
    if eligible_on >= natural:
        return RemovalApplication(eligible=False, eligible_on=None,
                                  answer=f"it leaves the list naturally on {natural}, before an application for "
                                         f"removal could be made ({eligible_on})")
    eligible = eligible_on <= timeline.as_of
    text = (f"an application for removal may be made from {eligible_on} ({removal.application.article}: "
            f"{removal.application.after_years} year(s) on the list and all its bad information repairable)")
    return RemovalApplication(eligible=eligible, eligible_on=eligible_on,
                              answer=text if eligible else f"not yet: {text}")


def _application_check(listing: Listing, applied: dt.date, bad: Bad, timeline: SubjectTimeline,
                       rulebook: Rulebook, counting: Counting) -> Check | None:
    """Was the application for removal made when it could be: after the years on the list, with every record of
    bad information that counted on that day repairable by then (I63)."""
    removal, repair = rulebook.removal, rulebook.repair
    if removal is None:
        return None
    one_year = _one_year(listing, rulebook)
    problems = []
    if applied < one_year:
        problems.append(f"it was made before {removal.application.after_years} full year(s) on the list, which "
                        f"allow an application from {one_year}")
    if repair is not None:
        for record, window in bad:
            if window.state in {"revoked", "not_yet"} or not record.determined_on <= applied <= window.counts_until:
                continue      # wrong information, or information that did not count on the day of the application
            # judged as on that day, whatever has happened to the record since (the removal may have repaired it)
            then = dataclasses.replace(window, state="counted", counted=True)
            answer = repair_answer(record, then, bad, timeline, repair, counting, ignore_listing=True,
                                   judged_on=applied)
            if answer.eligible_on is None:
                problems.append(f"record {record.id} could not be repaired "
                                f"({answer.answer.removeprefix('not eligible, ')})")
            elif answer.eligible_on > applied:
                problems.append(f"record {record.id} could be repaired only from {answer.eligible_on}")
    text = f"the application for removal was made on {applied}"
    text += ("; " + "; ".join(problems)) if problems else (
        f", after {removal.application.after_years} full year(s) on the list ({one_year}), with every record of "
        "bad information that counted then repairable")
    return Check(rule=removal.application.article, ok=not problems, text=text)


def _listing_checks(listing: Listing, rulebook: Rulebook, counting: Counting
                    ) -> tuple[list[Check], list[str], dt.date | None]:
    """The listing decision's procedure: checks, steps not recorded, and the end of the statement window."""
    blacklist = rulebook.blacklist
    checks: list[Check] = []
    missing: list[str] = []
    if blacklist is None:
        return checks, missing, None
    statement_end = None
    article = blacklist.statement.article
    if listing.notice_served_on is None:
        checks.append(Check(rule=article, ok=False,
                            text="no written notice (告知书) is recorded before the decision"))
    else:
        statement_end = counting.days_period_end(listing.notice_served_on, blacklist.statement.days)
        checks.append(Check(rule=article, ok=listing.notice_served_on < listing.listed_on,
                            text=f"the notice was served on {listing.notice_served_on}, the decision made on "
                                 f"{listing.listed_on}"))
        checks.append(Check(rule=article, ok=listing.listed_on > statement_end,
                            text=f"the {blacklist.statement.days} days for statement and defence after the "
                                 f"notice ended on {statement_end} (the day of receipt not counted, a last day on "
                                 f"a rest day moved to the next working day); the decision was made on "
                                 f"{listing.listed_on}"))
    statement = listing.statement
    if statement is not None and blacklist.adoption is not None:
        rule = blacklist.adoption.article
        made = f"the statement and defence made on {statement.submitted_on}"
        if statement.stands is None:
            missing.append(f"whether {made} stands (成立) is not recorded ({rule})")
        elif not statement.stands:
            checks.append(Check(rule=rule, ok=True, text=f"{made} was found not to stand"))
        else:
            checks.append(Check(rule=rule, ok=statement.adopted,
                                text=f"{made} was found to stand (成立) and was adopted" if statement.adopted else
                                f"{made} was found to stand (成立) but is not recorded as adopted (采纳); the "
                                "authority must adopt it"))
    if blacklist.signature is not None:
        rule = blacklist.signature.article
        if listing.signed_by is None:
            missing.append(f"the signature of the decision {listing.decision_number} by the head (负责人) of "
                           f"{listing.decided_by} is not recorded (signed_by; {rule})")
        else:
            checks.append(Check(rule=rule, ok=True, text=f"the decision was signed by {listing.signed_by}"))
    if listing.authority_level is not None:
        decision = blacklist.decision
        checks.append(Check(rule=decision.article, ok=listing.authority_level in decision.levels,
                            text=f"decided by {listing.decided_by} ({decision.name(listing.authority_level)}); "
                                 "the listing is decided by the "
                                 + "、".join(decision.name(level) for level in decision.levels) + " department"))
    return checks, missing, statement_end


def _removal_checks(listing: Listing, natural: dt.date, bad: Bad, timeline: SubjectTimeline, rulebook: Rulebook,
                    counting: Counting) -> tuple[list[Check], list[str], dt.date | None]:
    """The removal on application: the application's date, the review and site check, the notice, no objection."""
    removal = rulebook.removal
    checks: list[Check] = []
    missing: list[str] = []
    if removal is None:
        return checks, missing, None
    as_of = timeline.as_of
    known = [day for day in (listing.removal_applied_on, listing.removal_review_on, listing.removal_site_check_on,
                             listing.removal_notice_from) if day is not None and day <= as_of]
    decided = listing.removed_on is not None and listing.removed_on <= as_of and listing.removed_on < natural
    if not known and not decided:
        return checks, missing, None      # no removal on application under way
    applied = listing.removal_applied_on if listing.removal_applied_on is not None \
        and listing.removal_applied_on <= as_of else None
    if applied is None:
        missing.append(f"no application for removal (removal_applied_on) is recorded ({removal.application.article})")
    else:
        check = _application_check(listing, applied, bad, timeline, rulebook, counting)
        if check is not None:
            checks.append(check)
    notice = listing.removal_notice_from if listing.removal_notice_from is not None \
        and listing.removal_notice_from <= as_of else None
    if removal.review is not None and (notice is not None or decided):
        rule = removal.review.article
        for day, what, name in ((listing.removal_review_on, "material review (材料审查)", "removal_review_on"),
                                (listing.removal_site_check_on, "site check (现场核查)", "removal_site_check_on")):
            if day is None or day > as_of:
                missing.append(f"the {what} before the public notice is not recorded ({name}; {rule})")
                continue
            before = notice or listing.removed_on
            after_application = applied is None or day >= applied
            ok = after_application and (before is None or day <= before)
            checks.append(Check(rule=rule, ok=ok, text=f"the {what} was done on {day}"
                                + ("" if after_application else f", before the application of {applied}")
                                + (f", after the public notice of {before}" if before is not None and day > before
                                   else "")))
    notice_end = None
    if notice is not None:
        notice_end = counting.add_working_days(notice, removal.notice.working_days)
        if decided:
            checks.append(Check(rule=removal.notice.article, ok=listing.removed_on is not None
                                and listing.removed_on > notice_end,
                                text=f"the public notice from {notice} ran {removal.notice.working_days} working "
                                     f"days, to {notice_end}; the removal was decided on {listing.removed_on}"))
    elif decided:
        checks.append(Check(rule=removal.notice.article, ok=False,
                            text=f"removed on {listing.removed_on} by a decision, but no public notice "
                                 "(公示) is recorded"))
    if decided and removal.decision is not None:
        rule = removal.decision.article
        found = listing.removal_notice_objection
        if found is None:
            missing.append("whether the public notice drew an objection is not recorded (removal_notice_objection; "
                           f"{rule})")
        else:
            checks.append(Check(rule=rule, ok=found != "founded", text={
                "none": "no objection was raised during the public notice",
                "unfounded": "an objection raised during the public notice was found unfounded",
                "founded": "an objection raised during the public notice was found to stand, yet the removal "
                           "was decided"}[found]))
    return checks, missing, notice_end


def listing_status(listing: Listing, bad: Bad, record_ids: set[str], timeline: SubjectTimeline, rulebook: Rulebook,
                   counting: Counting) -> ListingStatus:
    """A listing's procedure checked, its dates computed, and whether the subject is on the list on the as-of date.

    ``bad`` is the subject's bad information (violations, refusals to perform a judgment, statutory grounds), each
    with its window: an application for removal needs every one of them repairable.
    """
    as_of = timeline.as_of
    removal_years = rulebook.removal.natural.years if rulebook.removal is not None else timeline.years
    natural = natural_removal(listing.listed_on, removal_years)
    period = next(p for p in timeline.listings if p.listing_id == listing.id)
    checks, missing, statement_end = _listing_checks(listing, rulebook, counting)
    gone = [record_id for record_id in listing.based_on if record_id not in record_ids]
    if gone:
        checks.append(Check(rule="based_on", ok=False,
                            text=f"the records {', '.join(gone)} it rests on are not in the subject's facts"))
    removal_checks, removal_missing, notice_end = _removal_checks(listing, natural, bad, timeline, rulebook, counting)
    checks += removal_checks
    missing += removal_missing
    application = None
    on_list = period.holds(as_of)
    if on_list:
        application = _removal_application(listing, bad, timeline, rulebook, counting, natural)
    objected = pending_objection(listing.objections, as_of) is not None
    state = (f"on the list since {listing.listed_on}, until {period.removed_on - ONE_DAY}" if on_list
             else f"listed {listing.listed_on} to {period.removed_on - ONE_DAY}" if as_of >= listing.listed_on
             else f"listed from {listing.listed_on}")
    removal = rulebook.removal
    natural_rule = f" ({removal.natural.years} years, {removal.natural.article})" if removal is not None else ""
    completing = removal.decision if removal is not None and removal.decision is not None \
        and removal.decision.repairs is not None else None
    how = {"natural": f"leaves it naturally on {natural}{natural_rule}",
           "decision": f"removed by a decision on {period.removed_on}"
                       + (f", which completed the repair of its bad information ({completing.article})"
                          if completing is not None else ""),
           "revoked": f"revoked on {period.removed_on} after an objection"}[period.removal]
    problems = [check.text for check in checks if not check.ok]
    explanation = f"listing {listing.id} ({listing.decision_number}): {state}; {how}"
    if problems:
        explanation += "; procedure problem: " + "; ".join(problems)
    return ListingStatus(
        id=listing.id, article=listing.article, item=listing.item, based_on=list(listing.based_on),
        decided_by=listing.decided_by, decision_number=listing.decision_number, listed_on=listing.listed_on,
        on_list=on_list, removed_on=period.removed_on, removal=period.removal, natural_removal_on=natural,
        statement_ends_on=statement_end, checks=checks, removal_application=application,
        removal_notice_ends_on=notice_end, under_objection=objected, missing=missing, explanation=explanation)
