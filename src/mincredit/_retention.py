"""Does a piece of bad information count on a date, and until when: one function, :func:`violation_window`.

Every path that scores — the explained engine, a fast scorer without explanations, the blacklist and
repair questions — asks this function, so they cannot disagree.  What it applies:

- art. 11 ¶1: five years from 认定之日, counted per the Civil Code (I05);
- art. 11 ¶1, second sentence: if the five years end while the subject is on the 地矿严重失信名单, the
  information counts until the subject leaves the list (the rulebook's ``blacklist.retention_extension``);
- art. 26: a record repaired on application stops counting on the day of its repair (``repaired_on``),
  except that a listed subject's bad information is not repaired (art. 25 ¶4);
- art. 15, regional measures art. 38, 33号 (二十二): a record revoked after an objection stops counting
  from the day of the finding; while an objection is being verified the record counts or not as the
  rulebook's ``objections.counts_in_score`` says.

A subject's listings are read once into a :class:`SubjectTimeline` (:func:`build_timeline`).  For a
document that uses none of this, the window is exactly the five years it always was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from mincredit._periods import period_end
from mincredit.facts._models import Subject, ViolationRecord
from mincredit.facts._records import Listing, Objection

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


@dataclass(frozen=True)
class ListingPeriod:
    """The days a subject is on the list, as known on the as-of date: listed_on ≤ day < removed_on."""

    listing_id: str
    listed_on: dt.date
    removed_on: dt.date
    removal: Literal["natural", "decision", "revoked"]

    def holds(self, day: dt.date) -> bool:
        return self.listed_on <= day < self.removed_on


@dataclass(frozen=True)
class SubjectTimeline:
    as_of: dt.date
    years: int                       # art. 11: retention in years (the rulebook's retention.violation.years)
    listings: tuple[ListingPeriod, ...] = ()
    extension: bool = False          # the rulebook extends retention while listed
    counts_under_objection: bool = True

    def listing_on(self, day: dt.date) -> ListingPeriod | None:
        return next((period for period in self.listings if period.holds(day)), None)


def natural_removal(listed_on: dt.date, years: int) -> dt.date:
    """The first day off the list when it ends naturally: the day after the period of ``years`` (arts. 26, 201)."""
    return period_end(listed_on, years=years) + ONE_DAY


def decided_objection(objections: Sequence[Objection], as_of: dt.date) -> Objection | None:
    """The last objection decided on or before ``as_of``."""
    decided = [o for o in objections if o.decided_on is not None and o.decided_on <= as_of]
    return max(decided, key=lambda o: (o.decided_on, o.raised_on)) if decided else None


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
    if finding is not None and finding.outcome == "revoked" and finding.decided_on is not None \
            and finding.decided_on < removed:
        removed, how = max(finding.decided_on, listing.listed_on), "revoked"
    return ListingPeriod(listing.id, listing.listed_on, removed, how)  # type: ignore[arg-type]


def build_timeline(subject: Subject, as_of: dt.date, *, years: int, removal_years: int | None = None,
                   extension: bool = False, counts_under_objection: bool = True) -> SubjectTimeline:
    """The subject's listings known on ``as_of`` (decided on or before it), and the rulebook's policies."""
    listings = tuple(listing_period(record, as_of, removal_years or years) for record in subject.records
                     if isinstance(record, Listing) and record.listed_on <= as_of)
    return SubjectTimeline(as_of, years, tuple(sorted(listings, key=lambda p: (p.listed_on, p.listing_id))),
                           extension, counts_under_objection)


@dataclass(frozen=True)
class CountWindow:
    """Whether a record counts on the as-of date, and the days it counts as known on that date."""

    counted: bool
    state: State
    counts_from: dt.date
    counts_until: dt.date            # the last day it counts (inclusive)
    natural_until: dt.date           # the end of the five years (art. 11)
    extended_by: str | None = None   # the listing that extends it (art. 11)
    repaired_on: dt.date | None = None
    revoked_on: dt.date | None = None
    objection: Objection | None = None      # pending on the as-of date
    repair_refused: str | None = None       # why a recorded repair is not applied


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
    repaired_on = getattr(record, "repaired_on", None) if isinstance(record, ViolationRecord) else None
    refused = None
    if repaired_on is not None and repaired_on > as_of:
        repaired_on = None            # not known on the as-of date
    if repaired_on is not None:
        listed = timeline.listing_on(repaired_on)
        if listed is not None:
            refused = (f"the repair recorded on {repaired_on} is not applied: the subject was on the serious-"
                       f"blacklist then (listing {listed.listing_id}), and a listed subject's bad information "
                       "is not repaired before it leaves the list (art. 25)")
            repaired_on = None
        elif repaired_on <= start:
            refused = f"the repair recorded on {repaired_on} is not applied: it is not after the determination"
            repaired_on = None
        else:
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
                       pending, refused)


def needs_full_engine(subject: Subject) -> bool:
    """Whether a subject uses anything beyond plain violations with a tier and honours (a fast scorer that
    knows only those must hand such a subject to :func:`mincredit._engine.evaluate_subject`)."""
    for record in subject.records:
        if isinstance(record, ViolationRecord):
            if record.tier is None or record.repaired_on is not None or record.objections or record.quantities \
                    or record.offence_count is not None:
                return True
        elif record.type != "honour":
            return True
    return False
