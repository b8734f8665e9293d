"""What a grade or a listing entails (arts. 21–24): the measures of the rulebook's ``consequences:`` block.

Each measure carries its article and its wording; it applies to some grades, to a subject on the
地矿严重失信名单, or to a subject on another sector's serious-blacklist (art. 24 ¶2).  A joint sanction
(``suspended_under_objection``) is suspended while the information it rests on is being verified after an
objection (State Council 33号 (二十二): 联合惩戒措施在信息核实期间暂不执行).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mincredit._blacklist import ListingStatus
from mincredit._results import ConsequenceItem
from mincredit._retention import pending_objection
from mincredit.facts._records import OtherSectorListing
from mincredit.rules._schema import Rulebook
from mincredit.rules._schema_articles import Consequence

__all__ = ["ConsequenceItem", "active_other_sector", "consequences_for"]


def active_other_sector(records: Sequence[OtherSectorListing], as_of: dt.date) -> list[OtherSectorListing]:
    return [r for r in records if r.listed_on <= as_of and (r.removed_on is None or as_of < r.removed_on)]


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
                      status.under_objection or bool(set(status.based_on) & objected_records))
                     for status in listings if status.on_list)
    if when.other_sector_listed:
        bases.extend((f"on another sector's serious-blacklist ({record.sector}, record {record.id}, since "
                      f"{record.listed_on})", pending_objection(record.objections, as_of) is not None)
                     for record in others)
    return bases


def consequences_for(rulebook: Rulebook, kind: str, grade: str | None, listings: Sequence[ListingStatus],
                     others: Sequence[OtherSectorListing], objected_records: set[str], as_of: dt.date
                     ) -> list[ConsequenceItem]:
    """The measures that apply to a subject of ``kind`` with ``grade`` (None: not evaluated) on ``as_of``."""
    found = []
    suspension = rulebook.objections.suspension.article if rulebook.objections is not None else "33号 (二十二)"
    for measure in rulebook.consequences:
        if measure.when.subject_kinds and kind not in measure.when.subject_kinds:
            continue
        bases = _bases(measure, grade, listings, others, objected_records, as_of)
        if not bases:
            continue
        suspended = measure.suspended_under_objection and all(objected for _, objected in bases)
        found.append(ConsequenceItem(
            id=measure.id, article=measure.article, kind=measure.kind, wording=measure.wording,
            because="; ".join(text for text, _ in bases), suspended=suspended,
            suspended_because=(f"the information it rests on is under objection and being verified ({suspension})"
                               if suspended else None)))
    return found
