"""What a grade or a listing entails: the measures of the rulebook's ``consequences:`` block.

Each measure carries its article and its wording; it applies to some grades, to a subject on the
地矿严重失信名单, or to a subject on another sector's serious-blacklist.  A joint sanction
(``suspended_under_objection``) is suspended while the information it rests on is being verified after an
objection (the rulebook's ``objections.suspension``).  A measure that applies and is not suspended withdraws
the measures its ``withdraws`` names (a listed subject gets no incentive, I64), and one with ``honours`` takes
the subject's honours of those levels out of the bonus, or warns about them (I65): :func:`honour_withdrawals`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mincredit._blacklist import ListingStatus
from mincredit._periods import period_end
from mincredit._results import ConsequenceItem
from mincredit._retention import pending_objection
from mincredit.facts._models import HonourRecord
from mincredit.facts._records import OtherSectorListing
from mincredit.rules._schema import Rulebook
from mincredit.rules._schema_articles import Consequence

__all__ = ["ConsequenceItem", "HonourWithdrawal", "active_other_sector", "consequences_for", "honour_withdrawals"]


def active_other_sector(records: Sequence[OtherSectorListing], as_of: dt.date) -> list[OtherSectorListing]:
    return [r for r in records if r.listed_on <= as_of and (r.removed_on is None or as_of < r.removed_on)]


def _listing_objected(status: ListingStatus, objected_records: set[str]) -> bool:
    return status.under_objection or bool(set(status.based_on) & objected_records)


def _bases(measure: Consequence, grade: str | None, listings: Sequence[ListingStatus],
           others: Sequence[OtherSectorListing], objected_records: set[str], as_of: dt.date
           ) -> list[tuple[str, bool]]:
    """(why it applies, whether that basis is under objection), one per basis."""
    bases: list[tuple[str, bool]] = []
    when = measure.when
    if grade is not None and grade in when.grades:
        bases.append((f"grade {grade}", False))
    if when.listed:
        bases.extend((f"on the serious-blacklist (listing {status.id}, since {status.listed_on})",
                      _listing_objected(status, objected_records))
                     for status in listings if status.on_list)
    if when.other_sector_listed:
        bases.extend((f"on another sector's serious-blacklist ({record.sector}, record {record.id}, since "
                      f"{record.listed_on})", pending_objection(record.objections, as_of) is not None)
                     for record in others)
    return bases


def _suspension_text(rulebook: Rulebook) -> str:
    text = "the information it rests on is under objection and being verified"
    return f"{text} ({rulebook.objections.suspension.article})" if rulebook.objections is not None else text


def consequences_for(rulebook: Rulebook, kind: str, grade: str | None, listings: Sequence[ListingStatus],
                     others: Sequence[OtherSectorListing], objected_records: set[str], as_of: dt.date
                     ) -> list[ConsequenceItem]:
    """The measures that apply to a subject of ``kind`` with ``grade`` (None: not evaluated) on ``as_of``."""
    applying: list[tuple[Consequence, str, bool]] = []
    for measure in rulebook.consequences:
        if measure.when.subject_kinds and kind not in measure.when.subject_kinds:
            continue
        bases = _bases(measure, grade, listings, others, objected_records, as_of)
        if not bases:
            continue
        suspended = measure.suspended_under_objection and all(objected for _, objected in bases)
        applying.append((measure, "; ".join(text for text, _ in bases), suspended))
    # a measure in force takes away those it withdraws; a suspended one is not executed, so it takes nothing away
    withdrawn_by = {withdrawn: measure for measure, _, suspended in applying if not suspended
                    for withdrawn in measure.withdraws}
    present = {measure.id: measure for measure, _, _ in applying}
    found = []
    for measure, because, suspended in applying:
        if measure.id in withdrawn_by:
            continue
        taken = [present[wid] for wid in measure.withdraws if wid in present and withdrawn_by.get(wid) is measure]
        if taken and not suspended:
            because += "; so " + ", ".join(f"{other.id} ({other.article})" for other in taken) + " does not apply"
        found.append(ConsequenceItem(
            id=measure.id, article=measure.article, kind=measure.kind, wording=measure.wording, because=because,
            suspended=suspended, suspended_because=_suspension_text(rulebook) if suspended else None))
    return found


@dataclass(frozen=True)
class HonourWithdrawal:
    """What a listing does to one honour record on the as-of date (the rulebook's ``consequences[].honours``).

    ``action`` ``exclude``: the honour does not count in the bonus on the as-of date, and does not take part in
    choosing the same honour's highest level either; ``warn``: it still counts, and ``reason`` is already among
    the analysis's warnings.  ``applies_from`` is the first day it applies: the listing day, or the award when
    later.
    """

    record_id: str
    action: Literal["exclude", "warn"]
    applies_from: dt.date
    listing_id: str
    measure: str
    article: str
    reason: str


def _in_force(record: HonourRecord, as_of: dt.date, default_years: int) -> bool:
    until = record.valid_until or period_end(record.awarded_on, years=default_years)
    return record.awarded_on <= as_of <= until


def honour_withdrawals(rulebook: Rulebook, kind: str, listings: Sequence[ListingStatus],
                       honours: Sequence[HonourRecord], objected_records: set[str], as_of: dt.date
                       ) -> dict[str, HonourWithdrawal]:
    """Honour records in force on ``as_of`` that a listing takes out of the bonus, or warns about (I65).

    A measure's ``honours`` applies from the day of a listing known on ``as_of`` (not one revoked after an
    objection) to the honours of its levels awarded before the subject left that list.  ``exclude`` lasts after
    the subject leaves the list (a revoked title is not restored); ``warn`` only while it is on the list.  While
    the measure is suspended (every basis under objection) an ``exclude`` becomes a ``warn``.
    """
    found: dict[str, HonourWithdrawal] = {}
    years = rulebook.retention.honour_default.years
    for measure in rulebook.consequences:
        rule = measure.honours
        if rule is None or not measure.when.listed or (measure.when.subject_kinds
                                                         and kind not in measure.when.subject_kinds):
            continue
        for status in sorted(listings, key=lambda s: (s.listed_on, s.id)):
            if status.removal == "revoked" or status.listed_on > as_of:
                continue
            suspended = status.on_list and measure.suspended_under_objection \
                and _listing_objected(status, objected_records)
            action: Literal["exclude", "warn"] = "warn" if suspended else rule.action
            if action == "warn" and not status.on_list:
                continue
            for record in honours:
                if record.id in found or record.level not in rule.levels or record.awarded_on >= status.removed_on \
                        or not _in_force(record, as_of, years):
                    continue
                start = max(status.listed_on, record.awarded_on)
                level = next((lv.name for lv in rulebook.honours.levels if lv.level == record.level), record.level)
                granted = f"honour {record.id} ({record.honour}, {level})"
                listed = f"listing {status.id} of {status.listed_on}"
                if action == "exclude":
                    reason = (f"{granted} does not count in the honour bonus from {start}: the subject was put on "
                              f"the {rulebook.blacklist.name if rulebook.blacklist else 'serious-blacklist'} "
                              f"({listed}), and {measure.wording} ({measure.article})")
                elif suspended:
                    reason = (f"{granted} still counts in the honour bonus while {listed} is under objection and "
                              f"being verified; once it is confirmed the honour no longer counts "
                              f"({measure.article})")
                else:
                    reason = (f"{granted} still counts in the honour bonus, but the subject is on the serious-"
                              f"blacklist ({listed}) and {measure.wording} ({measure.article}); once the honour "
                              "is revoked, record the day before the revocation as its valid_until")
                found[record.id] = HonourWithdrawal(record.id, action, start, status.id, measure.id, measure.article,
                                                    reason)
    return found
