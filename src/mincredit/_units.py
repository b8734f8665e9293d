"""Units of the quantities a rulebook's tier conditions compare: money, periods, percentages.

A :class:`UnitSystem` holds its own pint ``UnitRegistry``, built from scratch
for one rulebook: there is no module-level registry that two rulebooks (with
different fixed conversions) could change under each other.

The units a rulebook may write are exactly :data:`UNIT_NAMES`:

* ``元`` and ``万元`` (1 万元 = 10 000 元 exactly);
* ``day``, ``month`` and ``year`` (1 year = 12 months exactly);
* ``percent`` (a pure number, 1 percent = 0.01).

A month is not a fixed number of days (28 to 31) and a year is not (365 or
366), so days on one side and months or years on the other are *not*
comparable — pint's own default registry would silently treat a month as
30.44 days, which is why this registry is defined here unit by unit.  A
rulebook that wants them compared has to fix the conversion itself
(``unit_conversions: [{unit: month, equals: 30, of: day, …}]``); the
:class:`UnitSystem` built for that rulebook then converts with exactly that
factor.  All arithmetic is done in :class:`decimal.Decimal`, so 3 万元 is
exactly 30 000 元.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pint

UNIT_NAMES: tuple[str, ...] = ("万元", "元", "day", "month", "year", "percent")
"""Every unit a rulebook may name, as it is written in the rulebook."""

# The registry's own (ASCII) name of each rulebook unit.
_REGISTRY_NAME = {"万元": "wan_yuan", "元": "yuan", "day": "day", "month": "month", "year": "year",
                  "percent": "percent"}

# Which units convert among themselves without any decision by the rulebook.
_FAMILY = {"万元": "money", "元": "money", "day": "days", "month": "calendar", "year": "calendar",
           "percent": "ratio"}

# A rulebook may fix how a calendar unit converts to days, and nothing else.
CONVERTIBLE_BY_RULEBOOK: frozenset[tuple[str, str]] = frozenset({("month", "day"), ("year", "day")})


class UnitProblem(ValueError):
    """A unit cannot be used as asked; the message says why."""


class UnknownUnit(UnitProblem):
    """The unit is not one of :data:`UNIT_NAMES`."""


class IncomparableUnits(UnitProblem):
    """The two units measure different things, or need a conversion the rulebook has not fixed."""


@dataclass(frozen=True)
class FixedConversion:
    """``1 unit = equals of`` — a conversion a rulebook fixes, e.g. 1 month = 30 day."""

    unit: str
    equals: Decimal
    of: str


def conversion_problem(conversion: FixedConversion) -> str | None:
    """Why a rulebook may not fix this conversion, or None when it may."""
    for name in (conversion.unit, conversion.of):
        if name not in _FAMILY:
            return f"{name!r} is not a unit a rulebook may use ({', '.join(UNIT_NAMES)})"
    if (conversion.unit, conversion.of) not in CONVERTIBLE_BY_RULEBOOK:
        if _FAMILY[conversion.unit] == _FAMILY[conversion.of]:
            return f"{conversion.unit} and {conversion.of} already convert exactly; a rulebook cannot redefine that"
        return (f"{conversion.unit} cannot be converted to {conversion.of}; a rulebook may only fix how many days "
                "a month or a year counts")
    if not conversion.equals.is_finite() or conversion.equals <= 0:
        return f"1 {conversion.unit} must equal a positive number of {conversion.of}, not {conversion.equals}"
    return None


def conversion_conflict(fixed: dict[str, Decimal], conversion: FixedConversion) -> str | None:
    """Why ``conversion`` contradicts the days per month/year already ``fixed``, or None."""
    if conversion.unit in fixed:
        if fixed[conversion.unit] != conversion.equals:
            return f"1 {conversion.unit} is already fixed as {fixed[conversion.unit]} day"
        return None
    other = "year" if conversion.unit == "month" else "month"
    if other in fixed:
        month, year = ((conversion.equals, fixed[other]) if conversion.unit == "month"
                       else (fixed[other], conversion.equals))
        if month * 12 != year:
            return f"1 month = {month} day and 1 year = {year} day contradict each other: a year is 12 months"
    return None


class UnitSystem:
    """The units of one rulebook: the fixed ones plus the conversions that rulebook fixes.

    The pint registry is built on first use, so a rulebook whose conditions all
    use their quantity's own unit never pays for it.
    """

    def __init__(self, conversions: Sequence[FixedConversion] = ()) -> None:
        per_day: dict[str, Decimal] = {}
        for conversion in conversions:
            if conversion_problem(conversion) is None and conversion_conflict(per_day, conversion) is None:
                per_day.setdefault(conversion.unit, conversion.equals)
        self._days_per: dict[str, Decimal] = per_day
        self._registry: pint.UnitRegistry[Any] | None = None

    @staticmethod
    def is_known(unit: str) -> bool:
        return unit in _FAMILY

    def _build(self) -> pint.UnitRegistry[Any]:
        import pint  # imported here: only rulebooks that convert units need it

        registry: pint.UnitRegistry[Any] = pint.UnitRegistry(None, non_int_type=Decimal, cache_folder=None)
        registry.define("yuan = [currency]")
        registry.define("wan_yuan = 10000 yuan")
        registry.define("percent = 0.01")
        registry.define("day = [day]")
        if "month" in self._days_per:
            registry.define(f"month = {self._days_per['month']} day")
            registry.define("year = 12 month")
        elif "year" in self._days_per:
            registry.define(f"year = {self._days_per['year']} day")
            registry.define("month = year / 12")
        else:
            registry.define("month = [calendar_month]")
            registry.define("year = 12 month")
        return registry

    def comparable(self, first: str, second: str) -> bool:
        """Whether amounts in the two units can be compared (both known, and convertible)."""
        if not (self.is_known(first) and self.is_known(second)):
            return False
        families = {_FAMILY[first], _FAMILY[second]}
        if len(families) == 1:
            return True
        return families == {"days", "calendar"} and bool(self._days_per)

    def convert(self, value: Decimal, unit: str, to: str) -> Decimal:
        """``value`` in ``unit`` expressed in ``to``, exactly; raise UnitProblem when it cannot be."""
        for name in (unit, to):
            if not self.is_known(name):
                raise UnknownUnit(f"{name!r} is not a unit a rulebook may use ({', '.join(UNIT_NAMES)})")
        if unit == to:
            return value
        if not self.comparable(unit, to):
            if {_FAMILY[unit], _FAMILY[to]} == {"days", "calendar"}:
                raise IncomparableUnits(
                    f"{unit} and {to} cannot be compared: a month or a year is not a fixed number of days; "
                    "the rulebook has to fix the conversion under `unit_conversions:`")
            raise IncomparableUnits(f"{unit} and {to} measure different things and cannot be compared")
        if self._registry is None:
            self._registry = self._build()
        quantity = self._registry.Quantity(value, _REGISTRY_NAME[unit]).to(_REGISTRY_NAME[to])
        magnitude = quantity.magnitude
        return magnitude if isinstance(magnitude, Decimal) else Decimal(str(magnitude))
