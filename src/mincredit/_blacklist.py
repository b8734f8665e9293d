"""The serious-blacklist (地矿严重失信名单, arts. 16–20, 26, 28): proposals, procedure checks, removal dates.

The engine proposes; an authority decides (art. 18).  A :class:`Proposal` names the subject's records
that match a trigger of the rulebook (art. 16 or 17, one item), the article and item, and who decides.
A decision is a fact (``type: listing``); :func:`listing_status` checks its procedure — the written notice
before the decision, and the days for statement and defence after it (art. 19, counted per Civil Code
arts. 201 and 203) — and computes when the subject leaves the list: naturally after five years, or on
application after one year with all its bad information repairable, after a public notice of seven
working days (arts. 26, 28).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from mincredit._conditions import Match
from mincredit._periods import period_end
from mincredit._repair import Check, repair_answer
from mincredit._retention import ONE_DAY, CountWindow, SubjectTimeline, natural_removal, pending_objection
from mincredit._workdays import Counting
from mincredit.facts._models import ViolationRecord
from mincredit.facts._records import Listing
from mincredit.rules._schema import Rulebook

LEVEL_NAMES = {"region": "自治区级", "league_city": "盟市级", "county": "旗县级"}


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
    levels = "、".join(LEVEL_NAMES[level] for level in blacklist.decision.levels)
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


def _removal_application(listing: Listing, violations: Sequence[tuple[ViolationRecord, CountWindow]],
                         timeline: SubjectTimeline, rulebook: Rulebook, counting: Counting,
                         natural: dt.date) -> RemovalApplication | None:
    removal, repair = rulebook.removal, rulebook.repair
    if removal is None or repair is None:
        return None
    one_year = period_end(listing.listed_on, years=removal.application.after_years) + ONE_DAY
    dates = [one_year]
    blockers = []
    for record, window in violations:
        if window.state not in {"counted", "under_objection"}:
            continue
        answer = repair_answer(record, window, violations, timeline, repair, counting, ignore_listing=True)
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
    text = (f"an application for removal may be made from {eligible_on} ({removal.application.article}: one year "
            "on the list and all its bad information repairable)")
    return RemovalApplication(eligible=eligible, eligible_on=eligible_on,
                              answer=text if eligible else f"not yet: {text}")


def listing_status(listing: Listing, violations: Sequence[tuple[ViolationRecord, CountWindow]],
                   record_ids: set[str], timeline: SubjectTimeline, rulebook: Rulebook, counting: Counting
                   ) -> ListingStatus:
    """A listing's procedure checked, its dates computed, and whether the subject is on the list on the as-of date."""
    blacklist = rulebook.blacklist
    as_of = timeline.as_of
    removal_years = rulebook.removal.natural.years if rulebook.removal is not None else timeline.years
    natural = natural_removal(listing.listed_on, removal_years)
    period = next(p for p in timeline.listings if p.listing_id == listing.id)
    checks: list[Check] = []
    statement_end = None
    if blacklist is not None:
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
                                     f"notice ended on {statement_end} (Civil Code arts. 201, 203); the decision "
                                     f"was made on {listing.listed_on}"))
        if listing.authority_level is not None:
            checks.append(Check(rule=blacklist.decision.article,
                                ok=listing.authority_level in blacklist.decision.levels,
                                text=f"decided by {listing.decided_by} ({LEVEL_NAMES[listing.authority_level]}); "
                                     "the listing is decided by the "
                                     + "、".join(LEVEL_NAMES[level] for level in blacklist.decision.levels)
                                     + " department"))
    missing = [record_id for record_id in listing.based_on if record_id not in record_ids]
    if missing:
        checks.append(Check(rule="based_on", ok=False,
                            text=f"the records {', '.join(missing)} it rests on are not in the subject's facts"))
    notice_end = None
    if rulebook.removal is not None and listing.removal_notice_from is not None:
        notice_end = counting.add_working_days(listing.removal_notice_from, rulebook.removal.notice.working_days)
        if listing.removed_on is not None:
            checks.append(Check(rule=rulebook.removal.notice.article, ok=listing.removed_on > notice_end,
                                text=f"the public notice from {listing.removal_notice_from} ran "
                                     f"{rulebook.removal.notice.working_days} working days, to {notice_end}; the "
                                     f"removal was decided on {listing.removed_on}"))
    elif listing.removed_on is not None and listing.removed_on < natural and rulebook.removal is not None:
        checks.append(Check(rule=rulebook.removal.notice.article, ok=False,
                            text=f"removed on {listing.removed_on} by a decision, but no public notice "
                                 "(公示) is recorded"))
    application = None
    on_list = period.holds(as_of)
    if on_list:
        application = _removal_application(listing, violations, timeline, rulebook, counting, natural)
    objected = pending_objection(listing.objections, as_of) is not None
    state = (f"on the list since {listing.listed_on}, until {period.removed_on - ONE_DAY}" if on_list
             else f"listed {listing.listed_on} to {period.removed_on - ONE_DAY}" if as_of >= listing.listed_on
             else f"listed from {listing.listed_on}")
    how = {"natural": f"leaves it naturally on {natural} (five years, counted per the Civil Code)",
           "decision": f"removed by a decision on {period.removed_on}",
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
        removal_notice_ends_on=notice_end, under_objection=objected, explanation=explanation)
