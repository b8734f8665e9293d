"""Exact interval arithmetic for grade bands and quantity ranges, with a concrete value for every answer.

An :class:`Interval` is one range of numbers whose ends are open or closed (or
absent: unbounded).  Everything is decided exactly in :class:`decimal.Decimal`;
every "these overlap" or "this is not covered" comes with a *witness*, a
number that shows it (the score 900 is in two bands; 10 万元 is in no tier).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@contextmanager
def wide_context() -> Iterator[None]:
    """Arithmetic that neither overflows nor rounds away the small steps a witness needs."""
    with decimal.localcontext() as context:
        context.prec = 60
        context.Emax = decimal.MAX_EMAX
        context.Emin = decimal.MIN_EMIN
        context.traps[decimal.Overflow] = False
        context.traps[decimal.InvalidOperation] = False
        yield


def number(value: Decimal) -> str:
    """A decimal as people write it: 900, 0.2, 100000 (never 1E+5)."""
    if not value.is_finite():
        return str(value)
    digits = len(value.as_tuple().digits)
    normalized = value.normalize(decimal.Context(prec=max(digits, 1), Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN))
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and -30 < exponent < 30:
        return format(normalized, "f")
    return str(normalized)


class EndLike(Protocol):
    """An end of a range: an interval's End, or a rulebook Bound (a grade band's, a quantity condition's)."""

    @property
    def value(self) -> Decimal: ...

    @property
    def inclusive(self) -> bool: ...


def within(value: Decimal, lower: EndLike | None, upper: EndLike | None) -> bool:
    """Whether ``value`` lies between ``lower`` and ``upper`` (None: unbounded), each end inclusive or not."""
    if lower is not None and (value < lower.value or (value == lower.value and not lower.inclusive)):
        return False
    return not (upper is not None and (value > upper.value or (value == upper.value and not upper.inclusive)))


@dataclass(frozen=True)
class End:
    """One end of an interval: its value and whether the value itself belongs to the interval."""

    value: Decimal
    inclusive: bool


def _flip(end: End) -> End:
    return End(end.value, not end.inclusive)


def _later_upper(first: End | None, second: End | None) -> End | None:
    """The upper end that reaches further (None is unbounded)."""
    if first is None or second is None:
        return None
    if first.value != second.value:
        return first if first.value > second.value else second
    return first if first.inclusive else second


def _later_lower(first: End | None, second: End | None) -> End | None:
    """The lower end that starts later (None is unbounded below)."""
    if first is None:
        return second
    if second is None:
        return first
    if first.value != second.value:
        return first if first.value > second.value else second
    return second if first.inclusive else first


def _earlier_upper(first: End | None, second: End | None) -> End | None:
    """The upper end that stops sooner."""
    if first is None:
        return second
    if second is None:
        return first
    if first.value != second.value:
        return first if first.value < second.value else second
    return second if first.inclusive else first


@dataclass(frozen=True)
class Interval:
    lower: End | None = None
    upper: End | None = None

    def is_empty(self) -> bool:
        if self.lower is None or self.upper is None:
            return False
        if self.lower.value != self.upper.value:
            return self.lower.value > self.upper.value
        return not (self.lower.inclusive and self.upper.inclusive)

    def contains(self, value: Decimal) -> bool:
        return within(value, self.lower, self.upper)

    def intersection(self, other: Interval) -> Interval:
        return Interval(_later_lower(self.lower, other.lower), _earlier_upper(self.upper, other.upper))

    def covers(self, other: Interval) -> bool:
        """Whether every value of ``other`` is in this interval."""
        if other.is_empty():
            return True
        if self.lower is not None:
            if other.lower is None or other.lower.value < self.lower.value:
                return False
            if other.lower.value == self.lower.value and other.lower.inclusive and not self.lower.inclusive:
                return False
        if self.upper is not None:
            if other.upper is None or other.upper.value > self.upper.value:
                return False
            if other.upper.value == self.upper.value and other.upper.inclusive and not self.upper.inclusive:
                return False
        return True

    def witness(self) -> Decimal:
        """A value inside this (non-empty) interval, preferring its ends, which is where mistakes are."""
        with wide_context():
            low, high = self.lower, self.upper
            if low is not None and low.inclusive:
                return low.value
            if high is not None and high.inclusive:
                return high.value
            if low is not None and high is not None:
                return (low.value + high.value) / 2
            if low is not None:
                return low.value + 1
            if high is not None:
                return high.value - 1
            return Decimal(0)

    def describe(self, symbol: str = "x", unit: str = "") -> str:
        """``800 < N ≤ 900``, ``x ≥ 10万元``, ``any x``."""
        suffix = f" {unit}" if unit else ""
        if self.lower is not None and self.upper is not None and self.lower.value == self.upper.value \
                and self.lower.inclusive and self.upper.inclusive:
            return f"{symbol} = {number(self.lower.value)}{suffix}"
        parts = []
        if self.lower is not None:
            parts.append(f"{number(self.lower.value)}{suffix} {'≤' if self.lower.inclusive else '<'} ")
        parts.append(symbol)
        if self.upper is not None:
            parts.append(f" {'≤' if self.upper.inclusive else '<'} {number(self.upper.value)}{suffix}")
        if self.lower is None and self.upper is None:
            return f"any {symbol}"
        return "".join(parts)


@dataclass(frozen=True)
class Gap:
    """Values no interval holds: ``after`` and ``before`` are the indexes of the intervals on either side."""

    interval: Interval
    after: int | None
    before: int | None


def gaps(intervals: Sequence[Interval], *, whole_line: bool) -> list[Gap]:
    """The values no interval holds, as separate gaps.

    With ``whole_line`` every number must be held (grade bands: every score has a
    grade), so the gaps below the lowest and above the highest interval count;
    otherwise only the gaps between the lowest and the highest interval do
    (amounts below the first tier of an indicator are simply not that violation).
    """
    order = sorted(
        (index for index, interval in enumerate(intervals) if not interval.is_empty()),
        key=lambda i: _lower_key(intervals[i].lower),
    )
    found: list[Gap] = []
    if not order:
        if whole_line:
            found.append(Gap(Interval(), None, None))
        return found
    first = intervals[order[0]]
    if whole_line and first.lower is not None:
        found.append(Gap(Interval(None, _flip(first.lower)), None, order[0]))
    reach = first.upper
    reach_index = order[0]
    for index in order[1:]:
        interval = intervals[index]
        if reach is None:
            break
        if interval.lower is not None:
            gap = Interval(_flip(reach), _flip(interval.lower))
            if not gap.is_empty():
                found.append(Gap(gap, reach_index, index))
        farther = _later_upper(reach, interval.upper)
        if farther is not reach:
            reach, reach_index = farther, index
    if whole_line and reach is not None:
        found.append(Gap(Interval(_flip(reach), None), reach_index, None))
    return found


def _lower_key(end: End | None) -> tuple[int, Decimal, int]:
    if end is None:
        return (0, Decimal(0), 0)
    return (1, end.value, 0 if end.inclusive else 1)
