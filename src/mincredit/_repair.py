"""Credit repair on application: is a record eligible, from which day, and the authority's deadline.

The rulebook's ``repair`` block holds the rules.  ``repair.application``: an application may be made when the
years since the determination have passed, the obligations the decision imposed are fulfilled, and no new bad
information of the same kind was recorded from the determination to the application (each condition cites its
own article from ``repair.application.conditions``); only the kinds of bad information in
``repair.application.record_types`` are repaired on application.  ``repair.listed``: a listed subject's bad
information is not repaired before it leaves the list.  ``repair.decision``: the authority checks the
application within so many working days.  A repaired record stops counting on the day of its repair
(:func:`mincredit._retention.violation_window`).

The same function answers ``mincredit repair`` and judges, for an application for removal from the list,
whether every record of bad information could be repaired (:mod:`mincredit._blacklist`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from mincredit._periods import period_end
from mincredit._retention import ONE_DAY, BadInformation, CountWindow, SubjectTimeline
from mincredit._workdays import Counting
from mincredit.rules._schema_articles import Repair


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Check(_Out):
    """One condition and whether it holds, in words."""

    rule: str
    ok: bool
    text: str


class RepairAnswer(_Out):
    record_id: str
    as_of: dt.date
    eligible: bool
    eligible_on: dt.date | None
    answer: str
    checks: list[Check]
    applied_on: dt.date | None = None
    decision_due: dt.date | None = None
    repaired_on: dt.date | None = None
    warnings: list[str] = []


def record_type(record: BadInformation) -> str:
    return str(getattr(record, "type", "violation"))


def same_kind_key(record: BadInformation) -> tuple[str, str]:
    """What 同类 compares (the rulebook's ``repair.application.same_kind``, I54, I62): a violation's annex
    indicator; outside the annex, the record's type."""
    kind = record_type(record)
    return (kind, str(getattr(record, "indicator", ""))) if kind == "violation" else (kind, "")


def same_kind_text(record: BadInformation) -> str:
    kind, indicator = same_kind_key(record)
    return f"the same indicator {indicator}" if kind == "violation" else f"the same type ({kind})"


def _same_kind(record: BadInformation, others: Sequence[tuple[BadInformation, CountWindow]], until: dt.date
               ) -> BadInformation | None:
    """The first other record of the same kind determined after ``record`` and on or before ``until``."""
    key = same_kind_key(record)
    later = [other for other, window in others
             if other.id != record.id and same_kind_key(other) == key
             and record.determined_on < other.determined_on <= until and window.state != "revoked"]
    return min(later, key=lambda r: (r.determined_on, r.id)) if later else None


def repair_answer(record: BadInformation, window: CountWindow, others: Sequence[tuple[BadInformation, CountWindow]],
                  timeline: SubjectTimeline, rules: Repair, counting: Counting, *, ignore_listing: bool = False,
                  judged_on: dt.date | None = None) -> RepairAnswer:
    """May ``record`` be repaired on application, and from which day; ``others`` are the subject's bad
    information (for the same-kind condition), each with its window.

    ``judged_on`` is the day the same-kind condition looks up to (an application for removal judges every record
    on its own day); by default the record's own repair application, or the as-of date without one.
    """
    as_of = timeline.as_of
    application = rules.application
    base: dict[str, Any] = {"record_id": record.id, "as_of": as_of}
    kind = record_type(record)
    if kind not in application.record_types:
        return RepairAnswer(
            **base, eligible=False, eligible_on=None, checks=[], repaired_on=window.repaired_on,
            answer=f"not eligible, because it is a {kind} record, and the rulebook repairs only "
                   f"{', '.join(application.record_types)} records on application (repair.application, "
                   f"{application.article})")
    done = {"not_yet": f"it is determined on {record.determined_on}, after {as_of}",
            "repaired": f"it was already repaired on {window.repaired_on}"
                        + (f" with the removal decision of listing {window.repaired_by}" if window.repaired_by else ""),
            "revoked": f"it was revoked on {window.revoked_on} after an objection; there is nothing to repair",
            "expired": f"it no longer counts: it counted through {window.counts_until} (natural repair, "
                       f"{rules.natural.article})"}
    if window.state in done:
        return RepairAnswer(**base, eligible=False, eligible_on=None, checks=[], repaired_on=window.repaired_on,
                            answer=f"not eligible, because {done[window.state]}")
    checks: list[Check] = []
    dated: list[Check] = []          # the conditions that are only a matter of time
    blockers: list[str] = []
    candidates: list[dt.date] = []
    one_year = period_end(record.determined_on, years=application.after_years) + ONE_DAY
    candidates.append(one_year)
    elapsed = Check(rule=application.rule_of("elapsed"), ok=as_of >= one_year,
                    text=f"{application.after_years} year(s) from the determination on {record.determined_on} "
                         f"have passed on {one_year}")
    checks.append(elapsed)
    dated.append(elapsed)
    fulfilled = record_fulfilled(record)
    obligations = application.rule_of("obligations")
    if fulfilled is None or fulfilled > as_of:
        checks.append(Check(rule=obligations, ok=False,
                            text="the fulfilment of the obligations the decision imposed is not recorded "
                                 "(obligations_fulfilled_on)"))
        blockers.append(f"the fulfilment of its obligations is not recorded ({obligations})")
    else:
        candidates.append(fulfilled)
        checks.append(Check(rule=obligations, ok=True, text=f"the obligations were fulfilled on {fulfilled}"))
    own = getattr(record, "repair_applied_on", None)
    applied = own if own is not None and own <= as_of else None
    judged = judged_on or applied or as_of
    newer = _same_kind(record, others, judged)
    rule = application.rule_of("same_kind")
    what = same_kind_text(record)
    if newer is not None:
        checks.append(Check(rule=rule, ok=False,
                            text=f"record {newer.id} of {what} was determined on {newer.determined_on}, after this "
                                 "one and before the application"))
        blockers.append(f"new bad information of the same kind (record {newer.id}, {what}, determined on "
                        f"{newer.determined_on}) was recorded after it ({rule})")
    else:
        checks.append(Check(rule=rule, ok=True,
                            text=f"no other record of {what} determined from {record.determined_on} to {judged}"))
    listed = None if ignore_listing else timeline.listing_on(as_of)
    if listed is not None:
        candidates.append(listed.removed_on)
        on_list = Check(rule=rules.listed.article, ok=False,
                        text=f"the subject is on the serious-blacklist (listing {listed.listing_id}) until it "
                             f"leaves it on {listed.removed_on}")
        checks.append(on_list)
        dated.append(on_list)
    eligible_on = max(candidates) if not blockers else None
    eligible = eligible_on is not None and eligible_on <= as_of
    warnings: list[str] = []
    decision_due = None
    if applied is not None:
        decision_due = counting.add_working_days(applied, rules.decision.working_days)
        if eligible_on is None or applied < eligible_on:
            warnings.append(f"record {record.id}: the repair application of {applied} was made before the record "
                            "was eligible" + (f" (eligible on {eligible_on})" if eligible_on else ""))
    if eligible:
        answer = f"eligible on {eligible_on}"
    elif eligible_on is not None:
        unmet = "; ".join(c.text for c in checks if not c.ok)
        answer = f"not eligible on {as_of}, because {unmet}; eligible on {eligible_on}"
    else:
        answer = "not eligible, because " + "; ".join(blockers)
        earliest = max(candidates) if candidates else None
        if earliest is not None and earliest > as_of:
            # the clerk also needs the date conditions, not only what must be done first
            answer += f"; even then not before {earliest} (" + "; ".join(c.text for c in dated if not c.ok) + ")"
    if decision_due is not None:
        answer += (f"; applied on {applied}, the authority decides by {decision_due} "
                   f"({rules.decision.working_days} working days, {rules.decision.article})")
    return RepairAnswer(**base, eligible=eligible, eligible_on=eligible_on, answer=answer, checks=checks,
                        applied_on=applied, decision_due=decision_due, repaired_on=window.repaired_on,
                        warnings=warnings)


def record_fulfilled(record: BadInformation) -> dt.date | None:
    value = getattr(record, "obligations_fulfilled_on", None)
    return value if isinstance(value, dt.date) else None
