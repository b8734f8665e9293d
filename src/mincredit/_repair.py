"""Credit repair on application (arts. 25–27): is a record eligible, from which day, and the authority's deadline.

Art. 26 ¶1: an application may be made when (一) one year has passed since the determination, (二) the
obligations it imposed are fulfilled, and (三) no new bad information of the same kind was recorded from
the determination to the application.  Art. 25 ¶4: a listed subject's bad information is not repaired
before it leaves the list.  Art. 27: the authority checks the application within 15 working days.  A
repaired record stops counting on the day of its repair (:func:`mincredit._retention.violation_window`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from mincredit._periods import period_end
from mincredit._retention import ONE_DAY, CountWindow, SubjectTimeline
from mincredit._workdays import Counting
from mincredit.facts._models import ViolationRecord
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


def _same_kind(record: ViolationRecord, others: Sequence[tuple[ViolationRecord, CountWindow]], until: dt.date
               ) -> ViolationRecord | None:
    """The first other record of the same indicator determined after ``record`` and on or before ``until``."""
    later = [other for other, window in others
             if other.id != record.id and other.indicator == record.indicator
             and record.determined_on < other.determined_on <= until and window.state != "revoked"]
    return min(later, key=lambda r: (r.determined_on, r.id)) if later else None


def repair_answer(record: ViolationRecord, window: CountWindow, others: Sequence[tuple[ViolationRecord, CountWindow]],
                  timeline: SubjectTimeline, rules: Repair, counting: Counting, *, ignore_listing: bool = False
                  ) -> RepairAnswer:
    """May ``record`` be repaired on application, and from which day (art. 26); ``others`` are the subject's
    violations (for the same-kind condition), each with its window."""
    as_of = timeline.as_of
    base = {"record_id": record.id, "as_of": as_of}
    done = {"not_yet": f"it is determined on {record.determined_on}, after {as_of}",
            "repaired": f"it was already repaired on {window.repaired_on}",
            "revoked": f"it was revoked on {window.revoked_on} after an objection; there is nothing to repair",
            "expired": f"it no longer counts: it counted through {window.counts_until} (natural repair, "
                       f"{rules.natural.article})"}
    if window.state in done:
        return RepairAnswer(**base, eligible=False, eligible_on=None, checks=[], repaired_on=window.repaired_on,
                            answer=f"not eligible, because {done[window.state]}")
    checks: list[Check] = []
    blockers: list[str] = []
    candidates: list[dt.date] = []
    application = rules.application
    one_year = period_end(record.determined_on, years=application.after_years) + ONE_DAY
    candidates.append(one_year)
    checks.append(Check(rule=f"{application.article} (一)", ok=as_of >= one_year,
                        text=f"{application.after_years} year(s) from the determination on {record.determined_on} "
                             f"have passed on {one_year}"))
    fulfilled = record.obligations_fulfilled_on
    if fulfilled is None or fulfilled > as_of:
        checks.append(Check(rule=f"{application.article} (二)", ok=False,
                            text="the fulfilment of the obligations the decision imposed is not recorded "
                                 "(obligations_fulfilled_on)"))
        blockers.append("the fulfilment of its obligations is not recorded (art. 26 (二))")
    else:
        candidates.append(fulfilled)
        checks.append(Check(rule=f"{application.article} (二)", ok=True,
                            text=f"the obligations were fulfilled on {fulfilled}"))
    applied = record.repair_applied_on if record.repair_applied_on is not None \
        and record.repair_applied_on <= as_of else None
    judged = applied or as_of
    newer = _same_kind(record, others, judged)
    if newer is not None:
        checks.append(Check(rule=f"{application.article} (三)", ok=False,
                            text=f"record {newer.id} of the same indicator {record.indicator} was determined on "
                                 f"{newer.determined_on}, after this one and before the application"))
        blockers.append(f"new bad information of the same kind (record {newer.id}, {record.indicator}, determined "
                        f"on {newer.determined_on}) was recorded after it (art. 26 (三))")
    else:
        checks.append(Check(rule=f"{application.article} (三)", ok=True,
                            text=f"no other record of {record.indicator} determined from {record.determined_on} "
                                 f"to {judged}"))
    listed = None if ignore_listing else timeline.listing_on(as_of)
    if listed is not None:
        candidates.append(listed.removed_on)
        checks.append(Check(rule=rules.listed.article, ok=False,
                            text=f"the subject is on the serious-blacklist (listing {listed.listing_id}) until it "
                                 f"leaves it on {listed.removed_on}"))
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
            answer += f"; even then not before {earliest} (" + "; ".join(
                c.text for c in checks if not c.ok and not c.rule.endswith(("(二)", "(三)"))) + ")"
    if decision_due is not None:
        answer += (f"; applied on {applied}, the authority decides by {decision_due} "
                   f"({rules.decision.working_days} working days, {rules.decision.article})")
    return RepairAnswer(**base, eligible=eligible, eligible_on=eligible_on, answer=answer, checks=checks,
                        applied_on=applied, decision_due=decision_due, repaired_on=window.repaired_on,
                        warnings=warnings)
