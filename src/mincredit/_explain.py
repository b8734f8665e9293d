"""Explanations: the items of a result, built by observing the kernel's decisions (:class:`Explainer`).

The kernel (:func:`mincredit._kernel.tally`) decides whether and how much each record counts; the explainer
is told each decision with the numbers that made it and words it.  It computes nothing the kernel decides.
Every article and period an explanation cites is the rulebook's (the law's retention articles and years, the
analysis's windows and the rulebook blocks they rest on).
"""

from __future__ import annotations

import datetime as dt
import operator
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
        phrases = day.derived.get("explanation phrases")
        if phrases is None:
            phrases = day.derived["explanation phrases"] = _Phrases(day)
        self.phrases: _Phrases = phrases

    def items(self) -> list[Item]:
        """Violations first, then honours, each in order of their first day, then id."""
        self.violations.sort(key=_order)
        self.honours.sort(key=_order)
        return self.violations + self.honours

    # --- violations

    def violation(self, record: Any, rule: TierRule, state: State, until: dt.date, window: Any) -> None:
        points = rule.exact_points
        if window is None:
            # The common case, many times a subject: phrases built once a day, defaults left to the model
            # (a keyword given its default value takes a slower path through the struct's constructor).
            phrases = self.phrases
            start = record.determined_on
            if state == "counted":
                why = phrases.counted_violation(rule) + until.isoformat()
            elif state == "not_yet":
                why = phrases.determined_on + start.isoformat() + phrases.after_evaluation
            else:
                why = (phrases.expired_through + until.isoformat() + phrases.expired_years + start.isoformat()
                       + phrases.expired_article)
            self.violations.append(Item(
                record_id=record.id, type="violation", counted=state == "counted", points=points,
                applied=points if state == "counted" else ZERO, counts_from=start, counts_until=until,
                explanation=why, indicator=rule.code, tier=rule.tier, indicator_title=rule.title,
                wording=rule.wording, honour=None, level=None, level_name=None))
            return
        counted = state == "counted"
        why, extra = self._windowed(record, rule, state, until, window)
        self.violations.append(Item(
            record_id=record.id, type="violation", counted=counted, points=points,
            applied=points if counted else ZERO, counts_from=record.determined_on, counts_until=until,
            explanation=why, indicator=rule.code, tier=rule.tier, indicator_title=rule.title, wording=rule.wording,
            honour=None, level=None, level_name=None, **extra))

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
        phrases = self.phrases
        amount = ZERO
        if state == "counted":
            amount = rule.exact_points
            why = phrases.counted_honour(rule) + until.isoformat()
        elif state == "expired":
            why = (phrases.valid_through + until.isoformat()
                   + (phrases.stated_validity if record.valid_until is not None else phrases.default_validity))
        elif state == "partial":
            amount = _decimal(applied)
            why = (f"counted in part: +{amount} of {rule.exact_points} points, the honour bonus is capped at "
                   f"{self.day.exact_cap}")
        elif state == "capped":
            why = phrases.capped
        elif state == "not_yet":
            why = phrases.awarded_on + record.awarded_on.isoformat() + phrases.after_evaluation
        elif state == "withheld":
            self.honours.append(Item(
                record_id=record.id, type="honour", counted=False, points=rule.exact_points, applied=ZERO,
                counts_from=record.awarded_on, counts_until=until, explanation=f"not counted: {winner}",
                indicator=None, tier=None, indicator_title=None, wording=None, honour=record.honour,
                level=record.level, level_name=rule.name, withheld_because=winner))
            return
        elif state == "superseded":
            why = (f"not counted: the same honour counts once, at its highest level — record {winner.id} "
                   f"({self.day.levels[winner.level].name}) supersedes it")
        else:
            why = f"not counted: the same honour is already counted by record {winner.id}"
        self.honours.append(Item(
            record_id=record.id, type="honour", counted=amount > 0, points=rule.exact_points, applied=amount,
            counts_from=record.awarded_on, counts_until=until, explanation=why, indicator=None, tier=None,
            indicator_title=None, wording=None, honour=record.honour, level=record.level, level_name=rule.name))


class _Phrases:
    """The fixed parts of the explanations on one day, worded once from the rulebook (its periods, articles,
    tiers, levels and cap) and kept with the day, so a population's items only join in their dates."""

    def __init__(self, day: Day) -> None:
        law = day.law
        self.determined_on = "not counted: determined on "
        self.awarded_on = "not counted: awarded on "
        self.after_evaluation = ", after the evaluation date"
        self.expired_through = "not counted: expired, it counted through "
        self.expired_years = f" ({law.violation_years} years from determination on "
        self.expired_article = f", {law.violation_article})"
        self.valid_through = "not counted: no longer in force, it was valid through "
        self.stated_validity = " (its stated validity)"
        self.default_validity = (f" ({law.honour_years} year{'s' if law.honour_years != 1 else ''} from the award, "
                                 f"no validity was given ({law.honour_article}))")
        self.capped = f"not counted: the honour bonus already reached its cap of {day.exact_cap}"
        self._violations: dict[tuple[str, int], str] = {}
        self._honours: dict[str, str] = {}

    def counted_violation(self, rule: TierRule) -> str:
        key = (rule.code, rule.tier)
        text = self._violations.get(key)
        if text is None:
            text = self._violations[key] = (f"counted: {rule.code} tier {rule.tier}, −{rule.exact_points} points, "
                                            "counts through ")
        return text

    def counted_honour(self, rule: LevelRule) -> str:
        text = self._honours.get(rule.id)
        if text is None:
            text = self._honours[rule.id] = f"counted: {rule.name}, +{rule.exact_points} points, in force through "
        return text


_order = operator.attrgetter("counts_from", "record_id")
