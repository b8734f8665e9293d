"""The rulebook's conditions — blacklist triggers, quantity tiers, contract delays — compiled into one program.

A :class:`Program` is a list of :class:`Rule`\\ s, each a condition over the fields of one flat fact
(a mapping of texts, booleans, integers and lists of texts).  The facts are prepared from a subject by
:func:`prepare_facts`; a backend (:mod:`mincredit._backends`) tells which rule matches which fact.  The
library's own backend interprets the conditions in plain Python; the optional durable_rules backend
compiles the same conditions to a durable_rules ruleset.  Nothing is ever evaluated as code.

Rule ids say what a match means:

- ``trigger:<id>`` — a record is a ground for the serious-blacklist (``blacklist.triggers``);
- ``tier:<code>.<tier>`` — a record's quantity lies in the tier's ``condition``;
- ``contract:<code>.<tier>`` — a contract's delay lies in the tier's ``condition`` (``derived.contract_overdue``);

Exactness: quantities are compared as integers.  An amount (a Decimal) converted to a bound's unit is
scaled by 10^k, k the bound's decimal places, and given as its floor and whether it has a fraction; a span
of time is given in whole days, or in whole months or years (Civil Code counting, interpretation I12) and
whether days are left over.  ``x ≤ b`` is then ``floor < b or (floor = b and no fraction)``, exact for
any amount and any bound, and plain integer comparisons any rule engine does the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from mincredit._periods import add_months
from mincredit._units import FixedConversion, UnitProblem, UnitSystem
from mincredit.facts._records import Amount, Span
from mincredit.rules._schema import Bound, QuantityCondition, Rulebook
from mincredit.rules._schema_articles import FieldCondition

FactValue = str | bool | int | list[str]
Fact = dict[str, FactValue]
Op = Literal["eq", "ne", "in", "not_in", "any_in", "lt", "le", "gt", "ge"]

UNIT_KEY = {"万元": "wan_yuan", "元": "yuan", "day": "day", "month": "month", "year": "year", "percent": "percent"}
CALENDAR_UNITS = frozenset({"day", "month", "year"})


@dataclass(frozen=True)
class Test:
    """``fact[field] op value``; a fact without the field never passes."""

    field: str
    op: Op
    value: str | bool | int | tuple[str, ...]


@dataclass(frozen=True)
class All:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Expr, ...]


Expr = Test | All | AnyOf


@dataclass(frozen=True)
class Rule:
    id: str
    when: Expr


@dataclass(frozen=True)
class Measure:
    """One way a quantity is compared: in ``unit``, scaled by 10^``scale``."""

    quantity: str
    unit: str
    scale: int

    @property
    def key(self) -> str:
        return f"q__{self.quantity}__{UNIT_KEY[self.unit]}__{self.scale}"


@dataclass(frozen=True)
class Program:
    rules: tuple[Rule, ...]
    measures: tuple[Measure, ...]           # every (quantity, unit, scale) a tier condition compares
    conversions: tuple[FixedConversion, ...]
    tiers: Mapping[tuple[str, int], tuple[Decimal, QuantityCondition | None]] = field(default_factory=dict)
    """(indicator, tier) → its points and its condition, for the analysis's derived tiers."""
    index: dict[tuple[str, str | None], list[Rule]] = field(default_factory=dict, compare=False, repr=False)
    memo: dict[tuple[object, ...], tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    """What :func:`match_all` learns as it runs: the rules by the fact kind and indicator they require, and the
    rules a fact's content matched (facts of plain records repeat).  The program's own, so versions coexist."""

    def units(self) -> UnitSystem:
        return UnitSystem(self.conversions)


# ---------------------------------------------------------------- compiling


def _scale(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _bound_measure(quantity: str, bound: Bound, quantity_unit: str) -> Measure:
    """How a bound compares its quantity: in the bound's unit, or the quantity's own when it names none (as lint
    reads it: mincredit.lint._checks)."""
    return Measure(quantity, bound.unit if bound.unit is not None else quantity_unit, _scale(bound.value))


def _bound_test(measure: Measure, bound: Bound, side: Literal["lower", "upper"]) -> Expr:
    """The test ``x ≥ b`` / ``x > b`` (lower) or ``x ≤ b`` / ``x < b`` (upper) on floor and fraction."""
    limit = int(bound.value.scaleb(measure.scale))
    floor, frac = f"{measure.key}__floor", f"{measure.key}__frac"
    if side == "lower":
        if bound.inclusive:
            return Test(floor, "ge", limit)
        return AnyOf((Test(floor, "gt", limit), All((Test(floor, "eq", limit), Test(frac, "eq", 1)))))
    if bound.inclusive:
        return AnyOf((Test(floor, "lt", limit), All((Test(floor, "eq", limit), Test(frac, "eq", 0)))))
    return Test(floor, "lt", limit)


def condition_expr(condition: QuantityCondition, quantity_unit: str) -> tuple[Expr, list[Measure]]:
    tests: list[Expr] = [Test(f"has__{condition.quantity}", "eq", True)]
    measures: list[Measure] = []
    for side, bound in (("lower", condition.lower), ("upper", condition.upper)):
        if bound is None:
            continue
        measure = _bound_measure(condition.quantity, bound, quantity_unit)
        measures.append(measure)
        tests.append(_bound_test(measure, bound, side))  # type: ignore[arg-type]
    return All(tuple(tests)), measures


def field_expr(condition: FieldCondition) -> Expr:
    value = condition.value
    if isinstance(value, list):
        return Test(condition.field, condition.op, tuple(value))
    return Test(condition.field, condition.op, value)


def compile_program(rulebook: Rulebook) -> Program:
    rules: list[Rule] = []
    measures: dict[str, Measure] = {}
    if rulebook.blacklist is not None:
        for trigger in rulebook.blacklist.triggers:
            rules.append(Rule(f"trigger:{trigger.id}", All((Test("fact", "eq", "record"),
                                                            *(field_expr(c) for c in trigger.when)))))
    contract_rules = {rule.indicator: rule for rule in (rulebook.derived.contract_overdue if rulebook.derived else [])}
    for indicator in rulebook.indicators:
        for tier in indicator.tiers:
            if tier.condition is None:
                continue
            defined = rulebook.quantities.get(tier.condition.quantity)
            expr, used = condition_expr(tier.condition, defined.unit if defined is not None else "")
            for measure in used:
                measures.setdefault(measure.key, measure)
            rules.append(Rule(f"tier:{indicator.code}.{tier.tier}",
                              All((Test("fact", "eq", "measure"), Test("indicator", "eq", indicator.code), expr))))
            contract = contract_rules.get(indicator.code)
            if contract is not None and tier.condition.quantity == contract.quantity:
                rules.append(Rule(f"contract:{indicator.code}.{tier.tier}", All((
                    Test("fact", "eq", "contract"), Test("contract_kind", "in", tuple(contract.contract_kinds)),
                    Test("delay_justified", "eq", False), expr))))
    conversions = tuple(FixedConversion(c.unit, c.equals, c.of) for c in rulebook.unit_conversions)
    tiers = {(indicator.code, tier.tier): (tier.points, tier.condition) for indicator in rulebook.indicators
             for tier in indicator.tiers}
    return Program(tuple(rules), tuple(measures.values()), conversions, tiers)


# ---------------------------------------------------------------- measuring


class MeasureProblem(ValueError):
    """A quantity cannot be compared with a bound (units that do not convert, a span measuring money)."""


def _whole(start: dt.date, end: dt.date, months_per_step: int) -> tuple[int, int]:
    """Whole months (or years) from ``start`` to ``end`` counted per the Civil Code, and 1 if days are left."""
    steps = max(0, ((end.year - start.year) * 12 + end.month - start.month) // months_per_step + 1)
    while steps > 0 and add_months(start, steps * months_per_step) > end:
        steps -= 1
    return steps, int(add_months(start, steps * months_per_step) < end)


def measure_value(value: Amount | Span, measure: Measure, units: UnitSystem, default_end: dt.date
                  ) -> tuple[int, int]:
    """``value`` in the measure's unit and scale, as (floor, has a fraction)."""
    if isinstance(value, Span):
        if measure.unit not in CALENDAR_UNITS:
            raise MeasureProblem(f"a span of dates cannot measure {measure.quantity} in {measure.unit}")
        if measure.scale:
            raise MeasureProblem(f"a span of dates is compared with whole {measure.unit}s, not a fraction")
        end = value.end or default_end
        if end < value.start:
            raise MeasureProblem(f"the span from {value.start} ends on {end}, before it starts")
        if measure.unit == "day":
            return (end - value.start).days, 0
        return _whole(value.start, end, 12 if measure.unit == "year" else 1)
    try:
        amount = units.convert(value.value, value.unit, measure.unit)
    except UnitProblem as error:
        raise MeasureProblem(str(error)) from None
    scaled = amount.scaleb(measure.scale)
    floor = int(scaled.to_integral_value(rounding="ROUND_FLOOR"))
    return floor, int(scaled != floor)


def measure_fields(quantities: Mapping[str, Amount | Span], measures: Iterable[Measure], units: UnitSystem,
                   default_end: dt.date) -> tuple[dict[str, FactValue], list[str]]:
    """The fact fields of the quantities a record gives, and the problems measuring them."""
    fields: dict[str, FactValue] = {}
    problems: list[str] = []
    for measure in measures:
        value = quantities.get(measure.quantity)
        if value is None:
            continue
        try:
            floor, frac = measure_value(value, measure, units, default_end)
        except MeasureProblem as error:
            problems.append(f"{measure.quantity} {value.text()}: {error}")
            continue
        fields[f"has__{measure.quantity}"] = True
        fields[f"{measure.key}__floor"] = floor
        fields[f"{measure.key}__frac"] = frac
    return fields, problems


# ---------------------------------------------------------------- matching (the reference semantics)


def holds(expr: Expr, fact: Mapping[str, FactValue]) -> bool:
    """The reference meaning of a condition; the durable_rules backend must agree with it."""
    if isinstance(expr, All):
        return all(holds(item, fact) for item in expr.items)
    if isinstance(expr, AnyOf):
        return any(holds(item, fact) for item in expr.items)
    if expr.field not in fact:
        return False
    actual = fact[expr.field]
    wanted = expr.value
    op = expr.op
    if op == "eq":
        return type(actual) is type(wanted) and actual == wanted
    if op == "ne":
        return not (type(actual) is type(wanted) and actual == wanted)
    if op in {"in", "not_in"}:
        assert isinstance(wanted, tuple)
        inside = isinstance(actual, str) and actual in wanted
        return inside if op == "in" else not inside
    if op == "any_in":
        assert isinstance(wanted, tuple) and isinstance(actual, list)
        return any(item in wanted for item in actual)
    assert isinstance(actual, int) and isinstance(wanted, int) and not isinstance(actual, bool)
    return {"lt": actual < wanted, "le": actual <= wanted, "gt": actual > wanted, "ge": actual >= wanted}[op]


Match = tuple[str, str]   # (rule id, fact id)


def _key(rule: Rule) -> tuple[str, str | None]:
    """The fact kind (and indicator) a rule's leading tests require, to look rules up by fact."""
    tests = rule.when.items if isinstance(rule.when, All) else ()
    kind = indicator = None
    for test in tests[:2]:
        if isinstance(test, Test) and test.op == "eq" and isinstance(test.value, str):
            if test.field == "fact":
                kind = test.value
            elif test.field == "indicator":
                indicator = test.value
    return (kind or "*", indicator)


def _index(program: Program) -> dict[tuple[str, str | None], list[Rule]]:
    index = program.index
    if not index and program.rules:
        for rule in program.rules:
            index.setdefault(_key(rule), []).append(rule)
    return index


def _content(fact: Fact) -> tuple[object, ...]:
    return tuple((key, tuple(value) if isinstance(value, list) else value)
                 for key, value in sorted(fact.items()) if key != "id")


def match_all(program: Program, facts: Sequence[Fact]) -> frozenset[Match]:
    """Every (rule id, fact id) where the rule holds.  Rules are looked up by the fact kind and indicator their
    leading tests require, and the rules a fact's content matches are remembered (facts of plain records repeat)."""
    index = _index(program)
    memo = program.memo
    found: set[Match] = set()
    for fact in facts:
        key = _content(fact)
        rules = memo.get(key)
        if rules is None:
            kind = fact.get("fact")
            indicator = fact.get("indicator")
            candidates = [*index.get(("*", None), ()), *index.get((str(kind), None), ())]
            if isinstance(indicator, str):
                candidates += index.get((str(kind), indicator), ())
            rules = tuple(rule.id for rule in candidates if holds(rule.when, fact))
            if len(memo) < 100_000:
                memo[key] = rules
        found.update((rule_id, str(fact["id"])) for rule_id in rules)
    return frozenset(found)
