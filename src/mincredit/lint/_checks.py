"""The semantic checks of a rulebook, written once for ``mincredit lint`` and for compiling.

Each check looks at the parts of a rulebook that passed the schema (a part
that did not is ``None`` and the checks that need it are skipped, so one
schema error does not hide the other findings or invent new ones).  A check
returns :class:`Issue` values located by their path in the YAML document;
lint turns the path into a line and column, and
:func:`mincredit.rules._compiling.compile_rulebook` refuses a rulebook with any
issue whose code :data:`mincredit.lint._codes.COMPILE_REFUSES` lists.

This module imports nothing from :mod:`mincredit.rules` at run time (only for
type checking), so that the rules package can import it without a cycle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mincredit._units import FixedConversion, UnitProblem, UnitSystem, conversion_conflict, conversion_problem
from mincredit.lint._findings import DocumentPath, Issue
from mincredit.lint._intervals import End, Interval, gaps, number, wide_context
from mincredit.lint._wording import Claim, claims

if TYPE_CHECKING:
    from mincredit.rules._schema import (
        Bound,
        Formula,
        GradeBand,
        Honours,
        Identity,
        Indicator,
        Interpretation,
        QuantityDefinition,
        Retention,
        Rulebook,
        Source,
        UnitConversion,
    )

# The rulebook's top-level blocks, which interpretations may name (`grades`, `rulebook.effective` …).
# the other half of the measures (mincredit.rules._schema_articles): optional blocks, checked by their own schema
# and the publication block (mincredit._publish._rules)
MEASURE_PART_NAMES: tuple[str, ...] = ("blacklist", "repair", "removal", "objections", "consequences", "derived",
                                       "dissolved", "publication")
PART_NAMES: tuple[str, ...] = ("rulebook", "formula", "grades", "honours", "retention", "quantities",
                               "unit_conversions", "indicators", "interpretations", "deductions_source",
                               *MEASURE_PART_NAMES)


@dataclass(frozen=True)
class Parts:
    """The blocks of a rulebook that are valid against the schema; an invalid or missing block is None."""

    rulebook: Identity | None = None
    formula: Formula | None = None
    grades: list[GradeBand] | None = None
    honours: Honours | None = None
    retention: Retention | None = None
    quantities: dict[str, QuantityDefinition] | None = None
    unit_conversions: list[UnitConversion] | None = None
    indicators: list[Indicator] | None = None
    interpretations: list[Interpretation] | None = None
    deductions_source: Source | None = None
    blacklist: Any = None
    repair: Any = None
    removal: Any = None
    objections: Any = None
    consequences: Any = None
    derived: Any = None
    dissolved: Any = None
    publication: Any = None

    @classmethod
    def of(cls, rulebook: Rulebook) -> Parts:
        return cls(rulebook=rulebook.rulebook, formula=rulebook.formula, grades=rulebook.grades,
                   honours=rulebook.honours, retention=rulebook.retention, quantities=rulebook.quantities,
                   unit_conversions=rulebook.unit_conversions, indicators=rulebook.indicators,
                   interpretations=rulebook.interpretations, deductions_source=rulebook.deductions_source,
                   **{name: getattr(rulebook, name) for name in MEASURE_PART_NAMES})


def check_rulebook(parts: Parts, codes: Collection[str] | None = None) -> list[Issue]:
    """The semantic issues of the valid parts of one rulebook: all of them, or those with one of ``codes``.

    Only the checks that can report one of ``codes`` run, so compiling (which
    needs a few) does not pay for the quantity checks.
    """
    issues: list[Issue] = []
    with wide_context():  # exact decimal arithmetic that neither overflows nor traps, whatever the numbers
        for check, reports in _CHECKS:
            if codes is None or not reports.isdisjoint(codes):
                issues.extend(issue for issue in check(parts) if codes is None or issue.code in codes)
    return issues


# ---------------------------------------------------------------- identity and formula


def _identity(parts: Parts) -> Iterator[Issue]:
    identity = parts.rulebook
    if identity is None:
        return
    if not identity.version.strip():
        yield Issue("I001", "rulebook.version is blank: every rulebook needs a version that auditors can quote",
                    ("rulebook", "version"))
    for name in ("document", "article"):
        if not getattr(identity.source, name).strip():
            yield Issue("I002", f"rulebook.source.{name} is blank: say which regulation this rulebook implements",
                        ("rulebook", "source", name))
    effective = identity.effective
    if effective.end is not None and effective.end < effective.start:
        yield Issue("I003", f"the effective period ends ({effective.end}) before it starts ({effective.start})",
                    ("rulebook", "effective", "until"))


def _formula(parts: Parts) -> Iterator[Issue]:
    formula = parts.formula
    if formula is None:
        return
    weights = (formula.public_weight, formula.industry_weight)
    if any(weight < 0 or weight > 1 for weight in weights) or sum(weights) != 1:
        yield Issue("F001", f"public_weight {number(formula.public_weight)} and industry_weight "
                            f"{number(formula.industry_weight)} must each lie between 0 and 1 and add up to 1",
                    ("formula", "public_weight"))
    public = formula.public_score
    if public is not None and public.lower is not None and public.upper is not None and public.lower > public.upper:
        yield Issue("F002", f"the public score's range starts at {number(public.lower)} and ends at "
                            f"{number(public.upper)}: no public score could be evaluated",
                    ("formula", "public_score"))


# ---------------------------------------------------------------- grades


def _band_interval(band: GradeBand) -> Interval:
    return Interval(_end(band.lower), _end(band.upper))


def _end(bound: Bound | None) -> End | None:
    return None if bound is None else End(bound.value, bound.inclusive)


_ANNEX_BETWEEN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([<＜≤])\s*N\s*([<＜≤])\s*(\d+(?:\.\d+)?)\s*$")
_ANNEX_ABOVE = re.compile(r"^\s*N\s*([>＞≥])\s*(\d+(?:\.\d+)?)\s*$")
_ANNEX_BELOW = re.compile(r"^\s*N\s*([<＜≤])\s*(\d+(?:\.\d+)?)\s*$")


def annex_interval(text: str) -> Interval | None:
    """The range the annex's own text gives ("800＜N≤900", "N＞900", "N≤600"), or None if it is not one."""
    if match := _ANNEX_BETWEEN.match(text):
        return Interval(End(Decimal(match[1]), match[2] == "≤"), End(Decimal(match[4]), match[3] == "≤"))
    if match := _ANNEX_ABOVE.match(text):
        return Interval(End(Decimal(match[2]), match[1] == "≥"), None)
    if match := _ANNEX_BELOW.match(text):
        return Interval(None, End(Decimal(match[2]), match[1] == "≤"))
    return None


def _grades(parts: Parts) -> Iterator[Issue]:
    bands = parts.grades
    if bands is None:
        return
    seen: dict[str, int] = {}
    usable: list[int] = []
    intervals = [_band_interval(band) for band in bands]
    for index, band in enumerate(bands):
        where: DocumentPath = ("grades", index)
        if band.grade in seen:
            yield Issue("G005", f"grade {band.grade} has a second band (the first is band {seen[band.grade] + 1}); "
                                "each grade must have exactly one", (*where, "grade"))
        else:
            seen[band.grade] = index
        interval = intervals[index]
        if interval.is_empty():
            yield Issue("G006", f"no score can ever get grade {band.grade}: its bounds "
                                f"({_bounds_text(interval)}) hold no number", where)
            continue
        expected = annex_interval(band.annex)
        if expected is not None and expected != interval:
            yield Issue("G007", f"the bounds of grade {band.grade} give {interval.describe('N')}, but its annex "
                                f"text {band.annex!r} says {expected.describe('N')}", where)
        usable.append(index)
    for position, first in enumerate(usable):
        for second in usable[position + 1:]:
            common = intervals[first].intersection(intervals[second])
            if not common.is_empty():
                yield Issue("G002", f"the score {number(common.witness())} falls in two grade bands, "
                                    f"{bands[first].grade} ({intervals[first].describe('N')}) and "
                                    f"{bands[second].grade} ({intervals[second].describe('N')})",
                            ("grades", second))
    chosen = [intervals[index] for index in usable]
    for gap in gaps(chosen, whole_line=True):
        below = None if gap.after is None else usable[gap.after]
        above = None if gap.before is None else usable[gap.before]
        witness = number(gap.interval.witness())
        if below is not None and above is not None:
            text = (f"between {bands[below].grade} ({intervals[below].describe('N')}) and "
                    f"{bands[above].grade} ({intervals[above].describe('N')})")
        elif above is not None:
            text = f"below the lowest band, {bands[above].grade} ({intervals[above].describe('N')})"
        elif below is not None:
            text = f"above the highest band, {bands[below].grade} ({intervals[below].describe('N')})"
        else:
            text = "as no band holds any score"
        yield Issue("G001", f"the score {witness} falls in no grade band ({gap.interval.describe('N')} is "
                            f"not covered, {text})",
                    ("grades", above if above is not None else below if below is not None else 0))
    # The bands' order in the file is the grades' order, best first: each band must hold lower scores than the
    # one before it (results, summaries and migration matrices list the grades in this order).
    for earlier, later in pairwise(usable):
        first_band, second_band = bands[earlier], bands[later]
        if first_band.grade == second_band.grade:
            continue  # G005 says it
        if not _lower_first(intervals[later], intervals[earlier]):
            yield Issue("G003", f"grade {second_band.grade} ({intervals[later].describe('N')}) is listed after "
                                f"{first_band.grade} ({intervals[earlier].describe('N')}): list the bands from the "
                                "best grade down, each holding lower scores than the one before",
                        ("grades", later, "grade"))
    if len(seen) < 2:
        yield Issue("G009", f"the rulebook defines {len(seen)} grade{'s' if len(seen) != 1 else ''}; a credit "
                            "evaluation tells grades apart, so it needs at least two", ("grades",))


def _lower_first(low: Interval, high: Interval) -> bool:
    """Whether ``low`` lies below ``high`` (compared by where they start)."""
    if high.lower is None:
        return False
    if low.lower is None:
        return True
    return low.lower.value < high.lower.value or (low.lower.value == high.lower.value
                                                  and low.lower.inclusive and not high.lower.inclusive)


def _bounds_text(interval: Interval) -> str:
    parts = []
    if interval.lower is not None:
        parts.append(f"lower {number(interval.lower.value)} {'inclusive' if interval.lower.inclusive else 'exclusive'}")
    if interval.upper is not None:
        parts.append(f"upper {number(interval.upper.value)} {'inclusive' if interval.upper.inclusive else 'exclusive'}")
    return ", ".join(parts)


# ---------------------------------------------------------------- honours


def _honours(parts: Parts) -> Iterator[Issue]:
    honours = parts.honours
    if honours is None:
        return
    seen: dict[str, int] = {}
    for index, level in enumerate(honours.levels):
        if level.level in seen:
            yield Issue("H004", f"the honour level {level.level} is defined twice "
                                f"(first as levels[{seen[level.level]}])",
                        ("honours", "levels", index, "level"))
        else:
            seen[level.level] = index
    largest = max(honours.levels, key=lambda level: level.points)
    if honours.cap < largest.points:
        yield Issue("H003", f"the cap {number(honours.cap)} is below the {number(largest.points)} points of a single "
                            f"{largest.level} honour, which could then never be granted in full",
                    ("honours", "cap"))


# ---------------------------------------------------------------- indicators and tiers


def _indicators(parts: Parts) -> Iterator[Issue]:
    indicators = parts.indicators
    if indicators is None:
        return
    codes = parts.rulebook.indicator_codes if parts.rulebook is not None else None
    pattern = re.compile(rf"{re.escape(codes.prefix)}[0-9]{{{codes.digits}}}") if codes is not None else None
    seen: dict[str, int] = {}
    for index, indicator in enumerate(indicators):
        where: DocumentPath = ("indicators", index)
        if indicator.code in seen:
            yield Issue("R001", f"the indicator {indicator.code} is defined twice "
                                f"(first as indicators[{seen[indicator.code]}])",
                        (*where, "code"))
        else:
            seen[indicator.code] = index
        if codes is not None and pattern is not None and not pattern.fullmatch(indicator.code):
            yield Issue("R004", f"the indicator {indicator.code} is not written as this rulebook's codes are "
                                f"(rulebook.indicator_codes: {codes.prefix} and {codes.digits} digits, e.g. "
                                f"{codes.prefix}{1:0{codes.digits}d})", (*where, "code"))
        digits = re.search(r"[0-9]+$", indicator.code)
        if digits is not None and int(digits.group()) != indicator.row:
            prefix = indicator.code[:digits.start()]
            yield Issue("R008", f"the indicator {indicator.code} is row {indicator.row} of the annex; its code "
                                f"should be {prefix}{indicator.row:0{len(digits.group())}d}", (*where, "row"))
        numbers: dict[int, int] = {}
        duplicated = False
        for position, tier in enumerate(indicator.tiers):
            if tier.tier in numbers:
                duplicated = True
                yield Issue("R002", f"{indicator.code} has tier {tier.tier} twice "
                                    f"(first as tiers[{numbers[tier.tier]}])",
                            (*where, "tiers", position, "tier"))
            else:
                numbers[tier.tier] = position
        if not duplicated:
            for position, tier in enumerate(indicator.tiers):
                if tier.tier != position + 1:
                    yield Issue("R003", f"{indicator.code}'s tiers must be numbered 1, 2, 3 … in order; "
                                        f"tiers[{position}] is numbered {tier.tier}, not {position + 1}",
                                (*where, "tiers", position, "tier"))
                    break
        wordings: dict[str, int] = {}
        for position, tier in enumerate(indicator.tiers):
            text = tier.wording.strip()
            if text in wordings:
                yield Issue("R009", f"{indicator.code} tier {tier.tier} has the same wording as tier "
                                    f"{indicator.tiers[wordings[text]].tier}; a record could not tell them apart",
                            (*where, "tiers", position, "wording"))
            else:
                wordings[text] = position


# ---------------------------------------------------------------- quantities


@dataclass(frozen=True)
class _Ranged:
    """A tier's condition as an interval in its quantity's unit."""

    position: int
    tier: int
    quantity: str
    unit: str
    interval: Interval


def _unit_system(parts: Parts) -> UnitSystem:
    conversions = parts.unit_conversions or []
    return UnitSystem([FixedConversion(c.unit, c.equals, c.of) for c in conversions])


def _quantity_units(parts: Parts) -> Iterator[Issue]:
    """What evaluating could not use at all: an unusable conversion, an unknown unit, a condition on an undefined
    quantity, a bound in a unit its quantity's cannot be compared with.  Compile refuses these, so this check runs
    on every compile: it compares units by kind and never builds pint's registry (a third of a second)."""
    if parts.quantities is None or parts.unit_conversions is None:
        return
    units = _unit_system(parts)
    fixed: dict[str, Decimal] = {}
    for index, conversion in enumerate(parts.unit_conversions):
        fixed_conversion = FixedConversion(conversion.unit, conversion.equals, conversion.of)
        problem = conversion_problem(fixed_conversion) or conversion_conflict(fixed, fixed_conversion)
        if problem is not None:
            yield Issue("Q009", f"the conversion 1 {conversion.unit} = {number(conversion.equals)} {conversion.of} "
                                f"cannot be used: {problem}", ("unit_conversions", index))
        else:
            fixed.setdefault(conversion.unit, conversion.equals)
    for key, defined in parts.quantities.items():
        if not units.is_known(defined.unit):
            yield Issue("Q004", _unknown_unit(defined.unit), ("quantities", key, "unit"))
    for index, indicator in enumerate(parts.indicators or ()):
        for position, tier in enumerate(indicator.tiers):
            condition = tier.condition
            if condition is None:
                continue
            at: DocumentPath = ("indicators", index, "tiers", position, "condition")
            definition = parts.quantities.get(condition.quantity)
            if definition is None:
                known = ", ".join(sorted(parts.quantities)) or "none is defined"
                yield Issue("R006", f"{indicator.code} tier {tier.tier} is conditioned on the quantity "
                                    f"{condition.quantity!r}, which `quantities:` does not define ({known})",
                            (*at, "quantity"))
                continue
            if not units.is_known(definition.unit):
                continue  # reported once, at the quantity's definition
            for side in ("lower", "upper"):
                bound: Bound | None = getattr(condition, side)
                if bound is None:
                    continue
                unit = bound.unit if bound.unit is not None else definition.unit
                where: DocumentPath = (*at, side, "unit") if bound.unit is not None else (*at, side)
                if not units.is_known(unit):
                    yield Issue("Q004", _unknown_unit(unit), where)
                elif not units.comparable(unit, definition.unit):
                    try:   # raised before any conversion: comparable() said no
                        units.convert(bound.value, unit, definition.unit)
                    except UnitProblem as problem:
                        yield Issue("Q003", f"{indicator.code} tier {tier.tier}: the {side} bound is in {unit} but "
                                            f"the quantity {condition.quantity} is counted in {definition.unit}; "
                                            f"{problem}", where)


def _quantities(parts: Parts) -> Iterator[Issue]:
    if parts.quantities is None or parts.unit_conversions is None or parts.indicators is None:
        return
    units = _unit_system(parts)
    decided = _interpreted(parts)
    for index, indicator in enumerate(parts.indicators):
        yield from _indicator_ranges(parts, units, index, indicator, decided)


def _unknown_unit(unit: str) -> str:
    return f"{unit!r} is not a unit a rulebook may use; write one of 万元, 元, day, month, year, percent"


def _interpreted(parts: Parts) -> set[str] | None:
    """What the interpretations name (M03, M03.2 …), or None when they are not valid."""
    if parts.interpretations is None:
        return None
    return {reference.strip() for item in parts.interpretations for reference in item.applies_to}


def _indicator_ranges(parts: Parts, units: UnitSystem, index: int, indicator: Indicator,
                      decided: set[str] | None) -> Iterator[Issue]:
    assert parts.quantities is not None
    where: DocumentPath = ("indicators", index)
    ranged: list[_Ranged] = []
    for position, tier in enumerate(indicator.tiers):
        condition = tier.condition
        if condition is None:
            continue
        at: DocumentPath = (*where, "tiers", position, "condition")
        definition = parts.quantities.get(condition.quantity)
        if definition is None or not units.is_known(definition.unit):
            continue  # reported by _quantity_units
        ends: dict[str, End | None] = {"lower": None, "upper": None}
        usable = True
        for side in ("lower", "upper"):
            bound: Bound | None = getattr(condition, side)
            if bound is None:
                continue
            unit = bound.unit if bound.unit is not None else definition.unit
            if not units.comparable(unit, definition.unit):
                usable = False   # an unknown or incomparable unit: reported by _quantity_units
                continue
            ends[side] = End(units.convert(bound.value, unit, definition.unit), bound.inclusive)
        if not usable:
            continue
        interval = Interval(ends["lower"], ends["upper"])
        if interval.is_empty():
            yield Issue("Q005", f"{indicator.code} tier {tier.tier} can never be chosen by its condition: "
                                f"{_bounds_text(interval)} ({definition.unit}) holds no amount", at)
            continue
        ranged.append(_Ranged(position, tier.tier, condition.quantity, definition.unit, interval))
        yield from _wording_departures(indicator, at, units, definition.unit, interval, decided)
    yield from _range_relations(indicator, where, ranged)
    yield from _unsettled_boundaries(indicator, where, units)


def _range_relations(indicator: Indicator, where: DocumentPath, ranged: list[_Ranged]) -> Iterator[Issue]:
    quantities = sorted({item.quantity for item in ranged})
    for quantity in quantities:
        group = [item for item in ranged if item.quantity == quantity]
        unit = group[0].unit
        for number_, first in enumerate(group):
            for second in group[number_ + 1:]:
                at: DocumentPath = (*where, "tiers", second.position, "condition")
                if first.interval.covers(second.interval):
                    yield Issue("Q006", f"{indicator.code} tier {second.tier} can never be chosen: every amount "
                                        f"of its condition ({second.interval.describe('x', unit)}) is already "
                                        f"claimed by the earlier tier {first.tier} "
                                        f"({first.interval.describe('x', unit)})", at)
                    continue
                common = first.interval.intersection(second.interval)
                if not common.is_empty():
                    yield Issue("Q001", f"{indicator.code} tiers {first.tier} and {second.tier} both claim "
                                        f"{quantity} = {number(common.witness())} {unit} (tier {first.tier}: "
                                        f"{first.interval.describe('x', unit)}; tier {second.tier}: "
                                        f"{second.interval.describe('x', unit)}); settle which tier it belongs to",
                                at)
        for gap in gaps([item.interval for item in group], whole_line=False):
            assert gap.after is not None and gap.before is not None
            below, above = group[gap.after], group[gap.before]
            yield Issue("Q002", f"no tier of {indicator.code} claims {quantity} = "
                                f"{number(gap.interval.witness())} {unit}: tier {below.tier} covers "
                                f"{below.interval.describe('x', unit)} and tier {above.tier} covers "
                                f"{above.interval.describe('x', unit)}",
                        (*where, "tiers", above.position, "condition"))


def _wording_departures(indicator: Indicator, at: DocumentPath, units: UnitSystem, unit: str,
                        interval: Interval, decided: set[str] | None) -> Iterator[Issue]:
    """Q007: the condition settles a boundary against the wording's literal reading, with no interpretation."""
    if decided is None:
        return
    position = at[-2]
    assert isinstance(position, int)
    tier = indicator.tiers[position]
    if indicator.code in decided or f"{indicator.code}.{tier.tier}" in decided:
        return
    for claim in claims(tier.wording):
        if not units.comparable(claim.unit, unit):
            continue
        value = units.convert(claim.value, claim.unit, unit)
        end = interval.lower if claim.side == "lower" else interval.upper
        if end is None or end.value != value or end.inclusive == claim.inclusive:
            continue
        reading = "includes" if claim.inclusive else "excludes"
        condition = "excludes" if claim.inclusive else "includes"
        yield Issue("Q007", f"{indicator.code} tier {tier.tier}: the wording {claim.text!r} {reading} "
                            f"{number(claim.value)} {claim.unit} itself, but the condition {condition} it; record "
                            f"the decision in an interpretation that applies_to {indicator.code}.{tier.tier}",
                    (*at, claim.side))


_CANONICAL = {"万元": "元", "元": "元", "day": "day", "month": "month", "year": "month", "percent": "percent"}


def _unsettled_boundaries(indicator: Indicator, where: DocumentPath, units: UnitSystem) -> Iterator[Issue]:
    """Q008: two tiers' wordings both claim the same number (…以下 / …以上) and a condition does not settle it."""
    claimed: list[tuple[int, Claim, Decimal, str]] = []
    for position, tier in enumerate(indicator.tiers):
        for claim in claims(tier.wording):
            canonical = _CANONICAL[claim.unit]
            claimed.append((position, claim, units.convert(claim.value, claim.unit, canonical), canonical))
    reported: set[tuple[int, int]] = set()
    for first_position, first, first_value, first_unit in claimed:
        for second_position, second, second_value, second_unit in claimed:
            if second_position <= first_position or (first_position, second_position) in reported:
                continue
            if (first_unit, first_value) != (second_unit, second_value) or first.side == second.side:
                continue
            if not (first.inclusive and second.inclusive):
                continue
            one, other = indicator.tiers[first_position], indicator.tiers[second_position]
            if one.condition is not None and other.condition is not None:
                continue  # the conditions settle it; Q001 and Q007 check how
            reported.add((first_position, second_position))
            missing = first_position if one.condition is None else second_position
            yield Issue("Q008", f"{indicator.code} tiers {one.tier} ({first.text!r}) and {other.tier} "
                                f"({second.text!r}) both claim exactly {number(first.value)} {first.unit}, since "
                                "以上 and 以下 include the number itself; give both tiers a `condition:` that "
                                "settles which one it belongs to",
                        (*where, "tiers", missing))


# ---------------------------------------------------------------- references


_TIER_REFERENCE = re.compile(r"^([A-Z]+[0-9]+)\.([0-9]+)$")
_INDICATOR_REFERENCE = re.compile(r"^[A-Z]+[0-9]+$")
_INTERPRETATION_REFERENCE = re.compile(r"^I\d{2}$")


def _references(parts: Parts) -> Iterator[Issue]:
    yield from _measure_references(parts)
    interpretations = parts.interpretations
    if interpretations is None:
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(interpretations):
        if item.id in seen:
            yield Issue("R007", f"the interpretation {item.id} is defined twice "
                                f"(first as interpretations[{seen[item.id]}])",
                        ("interpretations", index, "id"))
        else:
            seen[item.id] = index
    for index, item in enumerate(interpretations):
        for position, reference in enumerate(item.applies_to):
            problem = _resolve(parts, reference.strip(), set(seen))
            if problem is not None:
                yield Issue("R005", f"interpretation {item.id} applies to {reference!r}, {problem}",
                            ("interpretations", index, "applies_to", position))


def _measure_references(parts: Parts) -> Iterator[Issue]:
    """A consequence's ``withdraws`` names other consequences, its ``honours.levels`` the honour levels."""
    measures = parts.consequences
    if not measures:
        return
    ids = {measure.id for measure in measures}
    levels = {level.level for level in parts.honours.levels} if parts.honours is not None else None
    for index, measure in enumerate(measures):
        for position, withdrawn in enumerate(measure.withdraws):
            if withdrawn not in ids or withdrawn == measure.id:
                yield Issue("R005", f"consequence {measure.id} withdraws {withdrawn!r}, but "
                                    + ("a measure cannot withdraw itself" if withdrawn == measure.id
                                       else "there is no consequence with that id"),
                            ("consequences", index, "withdraws", position))
        if measure.honours is not None and levels is not None:
            for position, level in enumerate(measure.honours.levels):
                if level not in levels:
                    yield Issue("R005", f"consequence {measure.id} acts on honours of level {level!r}, but the "
                                        f"honours block has no such level ({', '.join(sorted(levels))})",
                                ("consequences", index, "honours", "levels", position))


def _resolve(parts: Parts, reference: str, interpretation_ids: set[str]) -> str | None:
    """Why ``reference`` names nothing in the rulebook, or None when it names something (or cannot be told)."""
    codes = {indicator.code: indicator for indicator in parts.indicators} if parts.indicators is not None else None
    if match := _TIER_REFERENCE.match(reference):
        if codes is None:
            return None
        code, tier = match[1], int(match[2])
        indicator = codes.get(code)
        if indicator is None:
            return f"but there is no indicator {code}"
        if all(t.tier != tier for t in indicator.tiers):
            numbers = ", ".join(str(t.tier) for t in indicator.tiers)
            return f"but {code} has no tier {tier} (its tiers: {numbers})"
        return None
    if reference in interpretation_ids or (codes is not None and reference in codes):
        return None
    if _INTERPRETATION_REFERENCE.match(reference):
        return f"but there is no interpretation {reference}"
    if _INDICATOR_REFERENCE.match(reference):
        return None if codes is None else f"but there is no indicator {reference}"
    segments = reference.split(".")
    if segments[0] not in PART_NAMES:
        return ("which is neither an indicator (M03), a tier (M03.2), an interpretation (I01) nor a block "
                f"of the rulebook ({', '.join(PART_NAMES)}, or a path inside one such as rulebook.effective)")
    value: Any = getattr(parts, segments[0])
    for depth, segment in enumerate(segments[1:], start=1):
        if value is None:
            return None  # that block is invalid; the schema findings say why
        found, value = _step(value, segment)
        if not found:
            return f"but {'.'.join(segments[:depth])} has no {segment!r}"
    return None


_IDENTIFIERS = ("code", "grade", "level", "id")


def _step(value: Any, segment: str) -> tuple[bool, Any]:
    """Follow one segment of a dotted reference: a field, a mapping key, or an item named by its id."""
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            if segment in (name, field.alias):
                return True, getattr(value, name)
        for name in type(value).model_fields:
            found, item = _step_into_list(getattr(value, name), segment)
            if found:
                return True, item
        return False, None
    if isinstance(value, dict):
        return (True, value[segment]) if segment in value else (False, None)
    return _step_into_list(value, segment)


def _step_into_list(value: Any, segment: str) -> tuple[bool, Any]:
    if not isinstance(value, list):
        return False, None
    for item in value:
        for name in _IDENTIFIERS:
            if str(getattr(item, name, None)) == segment:
                return True, item
    return False, None


# ---------------------------------------------------------------- what the articles' blocks name


def _named_lists(parts: Parts) -> Iterator[Issue]:
    """What the code used to assume: the grades and subject kinds a consequence names, the indicators and tiers
    an offence count names, are the rulebook's own."""
    labels = {band.grade for band in parts.grades} if parts.grades is not None else None
    kind = parts.rulebook.subject_kind if parts.rulebook is not None else None
    for index, measure in enumerate(parts.consequences or []):
        where: DocumentPath = ("consequences", index, "when")
        for position, grade in enumerate(measure.when.grades):
            if labels is not None and grade not in labels:
                yield Issue("G008", f"consequence {measure.id} applies to grade {grade}, which the rulebook does not "
                                    f"define (its grades: {', '.join(band.grade for band in parts.grades or [])}); "
                                    "it would never apply", (*where, "grades", position))
        kinds = measure.when.subject_kinds
        if kinds and kind is not None and kind not in kinds:
            yield Issue("R010", f"consequence {measure.id} applies to {', '.join(kinds)} only, but this rulebook "
                                f"scores {kind}: it would never apply", (*where, "subject_kinds"))
    derived = parts.derived
    if derived is None or parts.indicators is None:
        return
    tiers = {indicator.code: {tier.tier for tier in indicator.tiers} for indicator in parts.indicators}
    for index, rule in enumerate(derived.offence_count):
        where = ("derived", "offence_count", index)
        if rule.indicator not in tiers:
            yield Issue("R011", f"offence counts are given for {rule.indicator}, which the rulebook does not define",
                        (*where, "indicator"))
            continue
        taken: list[tuple[int, int | None, int]] = []
        for position, band in enumerate(rule.tiers):
            at: DocumentPath = (*where, "tiers", position)
            if band.tier not in tiers[rule.indicator]:
                yield Issue("R011", f"offence counts of {rule.indicator} give tier {band.tier}, which it does not "
                                    "have", (*at, "tier"))
            if band.upper is not None and band.upper < band.lower:
                yield Issue("R011", f"the offence count band of {rule.indicator} tier {band.tier} runs from "
                                    f"{band.lower} to {band.upper}: it holds no count", at)
                continue
            for lower, upper, other in taken:
                if band.lower <= (upper if upper is not None else band.lower) and \
                        lower <= (band.upper if band.upper is not None else lower):
                    yield Issue("R011", f"offence number {max(lower, band.lower)} of {rule.indicator} falls in the "
                                        f"bands of tier {other} and tier {band.tier}; say which tier it gives", at)
                    break
            taken.append((band.lower, band.upper, band.tier))


_CHECKS: list[tuple[Callable[[Parts], Iterator[Issue]], frozenset[str]]] = [
    (_identity, frozenset({"I001", "I002", "I003"})),
    (_formula, frozenset({"F001", "F002"})),
    (_grades, frozenset({"G001", "G002", "G003", "G005", "G006", "G007", "G009"})),
    (_named_lists, frozenset({"G008", "R010", "R011"})),
    (_honours, frozenset({"H003", "H004"})),
    (_indicators, frozenset({"R001", "R002", "R003", "R004", "R008", "R009"})),
    (_quantity_units, frozenset({"Q003", "Q004", "Q009", "R006"})),
    (_quantities, frozenset({"Q001", "Q002", "Q005", "Q006", "Q007", "Q008"})),
    (_references, frozenset({"R005", "R007"})),
]
