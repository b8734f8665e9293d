"""Does a piece of bad information count on a date, and until when: one function, :func:`violation_window`.

Every path that scores — the explained engine, a fast scorer without explanations, the blacklist and
repair questions — asks this function, so they cannot disagree.  What it applies, each from the rulebook:

- ``retention.violation``: the years from 认定之日, counted per the Civil Code (I05);
- ``blacklist.retention_extension``: if those years end while the subject is on the 地矿严重失信名单, the
  information counts until the subject leaves the list;
- ``repair``: a record repaired on application stops counting on the day of its repair (``repaired_on``),
  except that a listed subject's bad information is not repaired (``repair.listed``); and
  ``removal.decision.repairs``: a removal decision completes the repair of the information it covers on its
  day (I61);
- ``objections``: a record revoked after an objection, or on its review (复核), stops counting from the day of
  the finding; while an objection is being verified the record counts or not as ``objections.counts_in_score``
  says.

A subject's listings are read once into a :class:`SubjectTimeline` (:func:`build_timeline`).  For a
document that uses none of this, the window is exactly the years it always was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from mincredit._periods import period_end
from mincredit.facts._models import Subject
from mincredit.facts._records import Correction, Listing, Objection, Outcome

ONE_DAY = dt.timedelta(days=1)

State = Literal["counted", "not_yet", "expired", "repaired", "revoked", "under_objection"]


class BadInformation(Protocol):
    """A record of bad information (不良信息): a violation, a refusal to perform a judgment, a statutory ground."""

    @property
    def id(self) -> str: ...

    @property
    def determined_on(self) -> dt.date: ...

    @property
    def objections(self) -> list[Objection]: ...

    @property
    def repaired_on(self) -> dt.date | None: ...


RemovalRepairs = Literal["subject", "based_on"]


@dataclass(frozen=True)
class ListingPeriod:
    """The days a subject is on the list, as known on the as-of date: listed_on ≤ day < removed_on."""

    listing_id: str
    listed_on: dt.date
    removed_on: dt.date
    removal: Literal["natural", "decision", "revoked"]
    based_on: tuple[str, ...] = ()
    applied_on: dt.date | None = None      # the application for removal, when recorded

    def holds(self, day: dt.date) -> bool:
        return self.listed_on <= day < self.removed_on


@dataclass(frozen=True)
class Citations:
    """The rulebook's articles the window explanations cite (empty where the rulebook has no such block)."""

    repair: str | None = None             # repair.application
    listed: str | None = None             # repair.listed
    removal: str | None = None            # removal.decision


@dataclass(frozen=True)
class SubjectTimeline:
    as_of: dt.date
    years: int                       # retention in years (the rulebook's retention.violation.years)
    listings: tuple[ListingPeriod, ...] = ()
    extension: bool = False          # the rulebook extends retention while listed
    counts_under_objection: bool = True
    repairable: frozenset[str] = frozenset({"violation"})   # repair.application.record_types
    removal_repairs: RemovalRepairs | None = None           # removal.decision.repairs
    citations: Citations = Citations()

    def listing_on(self, day: dt.date) -> ListingPeriod | None:
        return next((period for period in self.listings if period.holds(day)), None)


def natural_removal(listed_on: dt.date, years: int) -> dt.date:
    """The first day off the list when it ends naturally: the day after the period of ``years``."""
    return period_end(listed_on, years=years) + ONE_DAY


@dataclass(frozen=True)
class Finding:
    """What an objection, or the review (复核) of its outcome, found, and from which day."""

    decided_on: dt.date
    raised_on: dt.date                 # the objection raised, or the review requested
    outcome: Outcome
    corrected: Correction | None
    on_review: bool = False

    def text(self) -> str:
        return (f"on {self.decided_on} on the review (复核) requested on {self.raised_on}" if self.on_review
                else f"on {self.decided_on} after an objection raised on {self.raised_on}")


def findings(objections: Sequence[Objection]) -> list[Finding]:
    """Every decided objection and every decided review of one, in no particular order."""
    found = []
    for objection in objections:
        if objection.decided_on is not None and objection.outcome is not None:
            found.append(Finding(objection.decided_on, objection.raised_on, objection.outcome, objection.corrected))
        review = objection.review
        if review is not None and review.decided_on is not None and review.outcome is not None:
            found.append(Finding(review.decided_on, review.requested_on, review.outcome, review.corrected, True))
    return found


def decided_objection(objections: Sequence[Objection], as_of: dt.date) -> Finding | None:
    """The last finding (an objection's outcome, or a review's) decided on or before ``as_of``: it is what the
    record says from its day on."""
    decided = [f for f in findings(objections) if f.decided_on <= as_of]
    return max(decided, key=lambda f: (f.decided_on, f.raised_on, f.on_review)) if decided else None


def pending_objection(objections: Sequence[Objection], as_of: dt.date) -> Objection | None:
    """An objection raised on or before ``as_of`` and not decided by then (the record is being verified)."""
    pending = [o for o in objections
               if o.raised_on <= as_of and (o.decided_on is None or o.decided_on > as_of)]
    return min(pending, key=lambda o: o.raised_on) if pending else None


def listing_period(listing: Listing, as_of: dt.date, removal_years: int) -> ListingPeriod:
    natural = natural_removal(listing.listed_on, removal_years)
    removed, how = natural, "natural"
    if listing.removed_on is not None and listing.removed_on <= as_of and listing.removed_on < natural:
        removed, how = listing.removed_on, "decision"
    finding = decided_objection(listing.objections, as_of)
    if finding is not None and finding.outcome == "revoked" and finding.decided_on < removed:
        removed, how = max(finding.decided_on, listing.listed_on), "revoked"
    applied = listing.removal_applied_on if listing.removal_applied_on is not None \
        and listing.removal_applied_on <= as_of else None
    return ListingPeriod(listing.id, listing.listed_on, removed, how,  # type: ignore[arg-type]
                         tuple(listing.based_on), applied)


def build_timeline(subject: Subject, as_of: dt.date, *, years: int, removal_years: int | None = None,
                   extension: bool = False, counts_under_objection: bool = True,
                   repairable: frozenset[str] = frozenset({"violation"}), removal_repairs: RemovalRepairs | None = None,
                   citations: Citations = Citations()) -> SubjectTimeline:
    """The subject's listings known on ``as_of`` (decided on or before it), and the rulebook's policies."""
    listings = tuple(listing_period(record, as_of, removal_years or years) for record in subject.records
                     if isinstance(record, Listing) and record.listed_on <= as_of)
    return SubjectTimeline(as_of, years, tuple(sorted(listings, key=lambda p: (p.listed_on, p.listing_id))),
                           extension, counts_under_objection, repairable, removal_repairs, citations)


@dataclass(frozen=True)
class CountWindow:
    """Whether a record counts on the as-of date, and the days it counts as known on that date."""

    counted: bool
    state: State
    counts_from: dt.date
    counts_until: dt.date            # the last day it counts (inclusive)
    natural_until: dt.date           # the end of the retention years
    extended_by: str | None = None   # the listing that extends it while the subject is listed
    repaired_on: dt.date | None = None
    revoked_on: dt.date | None = None
    objection: Objection | None = None      # pending on the as-of date
    repair_refused: str | None = None       # why a recorded repair is not applied
    repaired_by: str | None = None          # the listing whose removal decision repaired it (I61)
    repair_note: str | None = None          # how it was repaired, in the explanation's words


def _cited(text: str, article: str | None) -> str:
    return f"{text} ({article})" if article else text


def _removal_repair(record: BadInformation, until: dt.date, timeline: SubjectTimeline
                    ) -> tuple[dt.date, str] | None:
    """The first removal decision known on the as-of date that repaired ``record`` (I61): its day and listing."""
    if timeline.removal_repairs is None:
        return None
    for period in timeline.listings:
        if period.removal != "decision" or period.removed_on > timeline.as_of or until < period.removed_on:
            continue    # not a removal by decision, not known yet, or the record had already stopped counting
        if timeline.removal_repairs == "based_on":
            covered = record.id in period.based_on
        else:
            # every record of the subject the application covered: those determined by the application (or, with
            # no application recorded, before the decision)
            last = period.applied_on if period.applied_on is not None else period.removed_on - ONE_DAY
            covered = record.determined_on <= last
        if covered and record.determined_on < period.removed_on:
            return period.removed_on, period.listing_id
    return None


def violation_window(record: BadInformation, timeline: SubjectTimeline) -> CountWindow:
    """Does ``record`` count on ``timeline.as_of``, and through which day: THE counting rule (see the module)."""
    as_of = timeline.as_of
    start = record.determined_on
    natural = period_end(start, years=timeline.years)
    until = natural
    extended_by = None
    if timeline.extension:
        period = timeline.listing_on(natural)
        if period is not None and period.removed_on - ONE_DAY > natural:
            until, extended_by = period.removed_on - ONE_DAY, period.listing_id
    citations = timeline.citations
    repaired_on = record.repaired_on
    refused = None
    note = None
    if repaired_on is not None and repaired_on > as_of:
        repaired_on = None            # not known on the as-of date
    if repaired_on is not None:
        listed = timeline.listing_on(repaired_on)
        kind = _record_type(record)
        if kind not in timeline.repairable:
            refused = _cited(f"the repair recorded on {repaired_on} is not applied: the rulebook does not repair "
                             f"{kind} records on application (repair.application.record_types: "
                             f"{', '.join(sorted(timeline.repairable))})", citations.repair)
            repaired_on = None
        elif listed is not None:
            refused = _cited(f"the repair recorded on {repaired_on} is not applied: the subject was on the serious-"
                             f"blacklist then (listing {listed.listing_id}), and a listed subject's bad information "
                             "is not repaired before it leaves the list", citations.listed)
            repaired_on = None
        elif repaired_on <= start:
            refused = f"the repair recorded on {repaired_on} is not applied: it is not after the determination"
            repaired_on = None
        else:
            note = _cited(f"repaired on application on {repaired_on}", citations.repair)
    repaired_by = None
    by_removal = _removal_repair(record, until, timeline)
    if by_removal is not None and (repaired_on is None or by_removal[0] < repaired_on):
        repaired_on, repaired_by = by_removal
        note = _cited(f"repaired with the removal decision of listing {repaired_by} on {repaired_on}",
                      citations.removal)
    if repaired_on is not None:
        until = min(until, repaired_on - ONE_DAY)
    finding = decided_objection(record.objections, as_of)
    revoked_on = finding.decided_on if finding is not None and finding.outcome == "revoked" else None
    if revoked_on is not None:
        until = min(until, revoked_on - ONE_DAY)
    pending = pending_objection(record.objections, as_of)
    state: State
    if as_of < start:
        state = "not_yet"
    elif revoked_on is not None and as_of >= revoked_on:
        state = "revoked"
    elif repaired_on is not None and as_of >= repaired_on:
        state = "repaired"
    elif as_of > until:
        state = "expired"
    elif pending is not None and not timeline.counts_under_objection:
        state = "under_objection"
    else:
        state = "counted"
    return CountWindow(state == "counted", state, start, until, natural, extended_by, repaired_on, revoked_on,
                       pending, refused, repaired_by, note)


def _record_type(record: BadInformation) -> str:
    return str(getattr(record, "type", "violation"))
