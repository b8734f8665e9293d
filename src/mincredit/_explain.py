"""Explanations: the items of a result, built by observing the kernel's decisions (:class:`Explainer`).

The kernel (:func:`mincredit._kernel.tally`) decides whether and how much each record counts; the explainer
is told each decision with the numbers that made it and words it.  It computes nothing the kernel decides.
Every article and period an explanation cites is the rulebook's (the law's retention articles and years, the
analysis's windows and the rulebook blocks they rest on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mincredit._decimals import exact
from mincredit._kernel import Day, HonourState, LevelRule, Number, State, TierRule
from mincredit._results import Item

if TYPE_CHECKING:
    from mincredit._derive import ResolvedViolation
    from mincredit._retention import CountWindow

ZERO = Decimal(0)


def _decimal(value: Number) -> Decimal:
    return Decimal(value) if isinstance(value, int) else exact(value)


class WindowTexts:
    """What the analysis's windows cite: the rulebook's articles for extension and revocation, and an objection's
    verification deadline (working days of the official calendar); a repair is worded by its window."""

    def __init__(self, *, extension: str, revocation: str, objection: Callable[[dt.date], str] | None) -> None:
        self.extension, self.revocation, self.objection = extension, revocation, objection


class Explainer:
    """Collects a result's items as the kernel decides (a :class:`mincredit._kernel.Trace`)."""

    def __init__(self, day: Day, resolved: Mapping[str, ResolvedViolation] | None = None,
                 texts: WindowTexts | None = None) -> None:
        self.day = day
        self.resolved = resolved
        self.texts = texts
        self.violations: list[Item] = []
        self.honours: list[Item] = []

    def items(self) -> list[Item]:
        """Violations first, then honours, each in order of their first day, then id."""
        self.violations.sort(key=_order)
        self.honours.sort(key=_order)
        return self.violations + self.honours

    # --- violations

    def violation(self, record: Any, rule: TierRule, state: State, until: dt.date, window: Any) -> None:
        counted = state == "counted"
        extra: dict[str, Any] = {}
        if window is None:
            why = self._plain_text(record.determined_on, rule, state, until)
        else:
            why, extra = self._windowed(record, rule, state, until, window)
        self.violations.append(Item(
            record_id=record.id, type="violation", counted=counted, points=rule.exact_points,
            applied=rule.exact_points if counted else ZERO, counts_from=record.determined_on, counts_until=until,
            explanation=why, indicator=rule.code, tier=rule.tier, indicator_title=rule.title, wording=rule.wording,
            honour=None, level=None, level_name=None, **extra))

    def _plain_text(self, start: dt.date, rule: TierRule, state: State, until: dt.date) -> str:
        if state == "counted":
            return f"counted: {rule.code} tier {rule.tier}, −{rule.exact_points} points, counts through {until}"
        if state == "not_yet":
            return f"not counted: determined on {start}, after the evaluation date"
        law = self.day.law
        return (f"not counted: expired, it counted through {until} ({law.violation_years} years from "
                f"determination on {start}, {law.violation_article})")

    def _windowed(self, record: Any, rule: TierRule, state: State, until: dt.date, window: CountWindow
                  ) -> tuple[str, dict[str, Any]]:
        """The explanation of a window the analysis worked out, and the item's fields that say what shaped it."""
        law = self.day.law
        texts = self.texts
        assert texts is not None
        start = record.determined_on
        extended = (f"extended while the subject was on the serious-blacklist (listing {window.extended_by}) "
                    f"until it left the list; the {law.violation_years} years ended on {window.natural_until}"
                    if window.extended_by else "")
        points = rule.exact_points
        if state == "not_yet":
            why = f"not counted: determined on {start}, after the evaluation date"
        elif state == "expired":
            why = (f"not counted: expired, it counted through {until} ({law.violation_years} years from "
                   f"determination on {start}{', ' + extended if extended else ''}, {law.violation_article})")
        elif state == "repaired":
            why = f"not counted: {window.repair_note}, it counted through {until}"
        elif state == "revoked":
            why = (f"not counted: revoked on {window.revoked_on} after an objection found it wrong "
                   f"({texts.revocation}), it counted through {until}")
        elif state == "under_objection":
            why = (f"not counted while under objection: {rule.code} tier {rule.tier}, −{points} points, "
                   f"would count through {until}")
        else:
            why = (f"counted: {rule.code} tier {rule.tier}, −{points} points, counts through {until}"
                   + (f" ({extended}, {texts.extension})" if extended else ""))
        objection = window.objection
        if objection is not None:
            why += (f"; {texts.objection(objection.raised_on)}" if texts.objection is not None
                    else f"; under objection since {objection.raised_on}")
        resolved = self.resolved.get(record.id) if self.resolved is not None else None
        if resolved is not None:
            for note in (resolved.tier_reason, resolved.correction):
                if note:
                    why += f"; {note}"
        return why, {
            "under_objection": objection is not None,
            "objection_raised_on": objection.raised_on if objection is not None else None,
            "tier_source": None if resolved is None or resolved.tier_source == "stated" else resolved.tier_source,
            "tier_reason": resolved.tier_reason if resolved is not None else None,
            "derived_from": resolved.derived_from if resolved is not None else None,
            "correction": resolved.correction if resolved is not None else None,
            "extended_by": window.extended_by, "repaired_on": window.repaired_on, "revoked_on": window.revoked_on}

    # --- honours

    def honour(self, record: Any, rule: LevelRule, state: HonourState, until: dt.date, applied: Number,
               winner: Any) -> None:
        day = self.day
        cap = day.exact_cap
        if state == "counted":
            why = f"counted: {rule.name}, +{rule.exact_points} points, in force through {until}"
        elif state == "partial":
            why = (f"counted in part: +{_decimal(applied)} of {rule.exact_points} points, the honour bonus is "
                   f"capped at {cap}")
        elif state == "capped":
            why = f"not counted: the honour bonus already reached its cap of {cap}"
        elif state == "not_yet":
            why = f"not counted: awarded on {record.awarded_on}, after the evaluation date"
        elif state == "expired":
            law = day.law
            source = "its stated validity" if record.valid_until is not None else (
                f"{law.honour_years} year{'s' if law.honour_years != 1 else ''} from the award, no validity was "
                f"given ({law.honour_article})")
            why = f"not counted: no longer in force, it was valid through {until} ({source})"
        elif state == "withheld":
            why = f"not counted: {winner}"
        else:
            winner_rule = day.levels[winner.level]
            why = (f"not counted: the same honour counts once, at its highest level — record {winner.id} "
                   f"({winner_rule.name}) supersedes it" if state == "superseded"
                   else f"not counted: the same honour is already counted by record {winner.id}")
        amount = _decimal(applied)
        self.honours.append(Item(
            record_id=record.id, type="honour", counted=amount > 0, points=rule.exact_points, applied=amount,
            counts_from=record.awarded_on, counts_until=until, explanation=why, indicator=None, tier=None,
            indicator_title=None, wording=None, honour=record.honour, level=record.level, level_name=rule.name,
            withheld_because=winner if state == "withheld" else None))


def _order(item: Item) -> tuple[dt.date, str]:
    return item.counts_from, item.record_id
