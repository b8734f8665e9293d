"""The law, computed once: what a rulebook says a subject's score and grade are on a date.

Everything the score depends on is here and nowhere else:

- which days a violation counts (the rulebook's retention period from its determination, counted per the
  Civil Code) and which days an honour counts (its stated validity, else the rulebook's default period);
- the honour bonus: the same honour once, at its highest level, and the cap applied in award order;
- a record's place among the subject's records of its indicator, and the tier that place gives (an
  indicator graded by repetition);
- the formula, in exact decimals, and the grade band of the result.

:class:`Law` is a compiled rulebook's tables as plain data (a msgspec Struct, so the compiled-rulebook cache
keeps it as JSON and a batch run starts without pydantic or the YAML reader).  :class:`Day` is the law on one
evaluation date, with the look-ups a record loop needs.  :func:`tally` walks a subject's records once.

Explanations observe the computation instead of repeating it: a :class:`Trace` handed to :func:`tally` is told
every decision with the numbers that made it (:mod:`mincredit._explain` turns them into the result's items),
and without one nothing is built.  The columnar path (:mod:`mincredit._population.vector`) is the one
vectorised twin of :func:`tally`; it reads its tables and texts from here.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Context, Decimal
from typing import Any, Literal, Protocol

import msgspec

from mincredit._decimals import exact
from mincredit._periods import last_start, period_end
from mincredit._results import ConsequenceItem, Item, SubjectResult

ZERO = Decimal(0)
_CONTEXT = Context(prec=60)   # every operation of the formula goes through it; exact() then normalises

LAW_FORMAT = 2
"""The layout of :class:`Law`; the cache keeps the format with the law and ignores another one."""


# ---------------------------------------------------------------- the law as data


class Tier(msgspec.Struct, frozen=True, array_like=True):
    tier: int
    points: Decimal
    wording: str


class Indicator(msgspec.Struct, frozen=True, array_like=True):
    code: str
    title: str
    tiers: tuple[Tier, ...]


class Level(msgspec.Struct, frozen=True, array_like=True):
    id: str
    name: str
    points: Decimal


class Band(msgspec.Struct, frozen=True, array_like=True):
    """A grade band: its label and meaning, its bounds, and what it entails for a subject on no list."""

    label: str
    meaning: str
    lower: Decimal | None
    lower_inclusive: bool
    upper: Decimal | None
    upper_inclusive: bool
    consequences: tuple[ConsequenceItem, ...]


class CountBand(msgspec.Struct, frozen=True, array_like=True):
    """The tier an offence number from ``lower`` to ``upper`` (None: no end) gives, for an indicator graded by
    repetition."""

    tier: int
    lower: int
    upper: int | None


class Law(msgspec.Struct, frozen=True, kw_only=True):
    """A compiled rulebook as the kernel reads it: date-free plain data."""

    format: int = LAW_FORMAT
    rulebook_id: str
    version: str
    title: str
    status: str
    digest: str
    kind: str
    subject_name: str
    effective_start: dt.date
    effective_end: dt.date | None
    indicators: tuple[Indicator, ...]
    levels: tuple[Level, ...]
    cap: Decimal
    base: Decimal
    public_weight: Decimal
    industry_weight: Decimal
    public_lower: Decimal | None
    public_upper: Decimal | None
    public_required: bool
    violation_years: int
    violation_article: str
    honour_years: int
    honour_article: str
    bands: tuple[Band, ...]
    """In the rulebook's order, which is the grades' order, best first."""
    count_bands: dict[str, tuple[CountBand, ...]]
    engine_codes: frozenset[str]
    """Indicators a serious-blacklist trigger could take on a plain record: such a subject needs the analysis."""
    dissolved_reason: str

    def indicator(self, code: str) -> Indicator | None:
        return next((indicator for indicator in self.indicators if indicator.code == code), None)

    @property
    def grade_labels(self) -> tuple[str, ...]:
        return tuple(band.label for band in self.bands)


COUNT_WARNING: tuple[str | int, ...] = (
    "record ", 0, ": tier ", 2, " is stated, but offence number ", 3, " is tier ", 4, " of ", 1,
    "; the stated tier is used — check it")
"""The warning on a stated tier that a record's offence number contradicts, as texts and the places of its values:
0 the record id, 1 the indicator, 2 the stated tier, 3 the offence number, 4 the tier that number gives.  The
vectorised path fills the same template on whole columns."""


def count_warning(record_id: str, code: str, tier: int, count: int, count_tier: int) -> str:
    """The warning on a stated tier that a record's offence number contradicts (the stated tier is kept)."""
    values = (record_id, code, tier, count, count_tier)
    return "".join(piece if isinstance(piece, str) else str(values[piece]) for piece in COUNT_WARNING)


# ---------------------------------------------------------------- the law on one day


def first_day_counting(as_of: dt.date, years: int) -> dt.date:
    """The earliest start day whose period of ``years`` (Civil Code counting) still runs on ``as_of``.

    ``period_end`` never decreases as the start moves later, so a record counts on ``as_of`` exactly when
    ``first_day_counting(as_of, years) <= start <= as_of``.
    """
    low, high = dt.date.min.toordinal(), as_of.toordinal()   # period_end(as_of) >= as_of always holds
    low = max(low, high - 366 * years - 2)                    # a period of n years is at most 366·n days
    last = last_start(years=years).toordinal()                # a later start's period ends after 9999-12-31,
    while low < high:                                         # which is after as_of
        middle = (low + high) // 2
        if middle > last or period_end(dt.date.fromordinal(middle), years=years) >= as_of:
            high = middle
        else:
            low = middle + 1
    return dt.date.fromordinal(low)


Number = int | Decimal


class TierRule(msgspec.Struct, frozen=True):
    """A tier as the record loop sees it: its points (an int when every point of the law is whole)."""

    code: str
    tier: int
    points: Number
    exact_points: Decimal
    title: str
    wording: str


class LevelRule(msgspec.Struct, frozen=True):
    id: str
    name: str
    points: Number
    exact_points: Decimal


class Tables:
    """The law's look-ups, whatever the date: tiers and levels by id, and the grade bands as sorted edges.

    Whole points are summed as ints (exact, and faster than Decimal); the formula is computed in Decimal.
    """

    def __init__(self, law: Law) -> None:
        self.law = law
        every = [tier.points for indicator in law.indicators for tier in indicator.tiers]
        every += [level.points for level in law.levels]
        self.integral = all(points == points.to_integral_value() for points in every)
        self.tiers: dict[str, dict[int, TierRule]] = {
            indicator.code: {tier.tier: TierRule(indicator.code, tier.tier, self._number(tier.points),
                                                 exact(tier.points), indicator.title, tier.wording)
                             for tier in indicator.tiers}
            for indicator in law.indicators}
        self.levels: dict[str, LevelRule] = {}
        for level in law.levels:
            self.levels.setdefault(level.id, LevelRule(level.id, level.name, self._number(level.points),
                                                       exact(level.points)))
        self.cap: Number = self._number(law.cap)
        self.exact_cap = exact(law.cap)
        self.edges, self.at_edge, self.between = _band_edges(law.bands)
        # The latest day a violation, or an honour without a stated validity, can start on and have its period end
        # by 9999-12-31; a record starting later is its subject's error (calendar_problem), on every path.
        self.violation_last = last_start(years=law.violation_years)
        self.honour_last = last_start(years=law.honour_years)

    def _number(self, value: Decimal) -> Number:
        return int(value) if self.integral else value

    def band(self, score: Decimal) -> Band:
        position = bisect.bisect_left(self.edges, score)
        if position < len(self.edges) and self.edges[position] == score:
            return self.at_edge[position]
        return self.between[position]

    def calendar_problem(self, start: dt.date, honour: bool) -> str | None:
        """Why a violation determined on ``start`` (or an honour awarded then, without a stated validity) cannot be
        counted: its period would end after 9999-12-31, the last day a date can hold; or None."""
        law = self.law
        last, years, article = ((self.honour_last, law.honour_years, law.honour_article) if honour
                                else (self.violation_last, law.violation_years, law.violation_article))
        if start <= last:
            return None
        return (f"{start} is too late: the {years}-year period it starts ({article}) would end after 9999-12-31, "
                "the last day mincredit can count to; check the year")

    def public_problem(self, public: Decimal | None, status: str) -> str | None:
        """Why a subject's public score cannot go into the formula, or None."""
        law = self.law
        if public is None:
            if status == "active" and law.public_required:
                return ("the 公共信用评价分值 (public credit score from the public credit platform) is missing; "
                        "it is needed for the formula and this rulebook does not assume one")
            return None
        if not public.is_finite():
            return f"the public score {public} is not a number"
        if (law.public_lower is not None and public < law.public_lower) or \
                (law.public_upper is not None and public > law.public_upper):
            return (f"the public score {format(public, 'f')} is outside the range the formula takes, "
                    f"{_range_text(law.public_lower, law.public_upper)}")
        return None


class Day:
    """The law on one evaluation date: the first day a record still counts, and the look-ups of the record loop."""

    def __init__(self, tables: Tables, as_of: dt.date) -> None:
        law = tables.law
        self.law = law
        self.tables = tables
        self.as_of = as_of
        self.violation_from = first_day_counting(as_of, law.violation_years)
        self.honour_from = first_day_counting(as_of, law.honour_years)
        self.violation_last = tables.violation_last
        self.honour_last = tables.honour_last
        self.tiers = tables.tiers
        self.levels = tables.levels
        self.cap = tables.cap
        self.exact_cap = tables.exact_cap
        self.band = tables.band
        self.derived: dict[str, Any] = {}
        """What other views build from this day once (the vectorised path's look-up arrays)."""
        self._natural: dict[dt.date, dt.date] = {}
        self._honour_natural: dict[dt.date, dt.date] = {}
        self._industry: dict[tuple[Number, Number], tuple[Decimal, Decimal, Decimal]] = {}

    # --- retention

    def violation_until(self, start: dt.date) -> dt.date:
        """The last day a violation determined on ``start`` counts, absent anything that ends or extends it."""
        until = self._natural.get(start)
        if until is None:
            if len(self._natural) > 100_000:
                self._natural.clear()
            until = self._natural[start] = period_end(start, years=self.law.violation_years)
        return until

    def honour_until(self, awarded: dt.date, valid_until: dt.date | None) -> dt.date:
        """The last day an honour counts: its stated validity, else the rulebook's default period."""
        if valid_until is not None:
            return valid_until
        until = self._honour_natural.get(awarded)
        if until is None:
            if len(self._honour_natural) > 100_000:
                self._honour_natural.clear()
            until = self._honour_natural[awarded] = period_end(awarded, years=self.law.honour_years)
        return until

    # --- the formula

    def formula(self, public: Decimal | None, deductions: Number, bonus: Number) -> tuple[Decimal, Decimal, Decimal]:
        """(score, deductions, capped bonus) as exact decimals; ``bonus`` is the bonus after the cap."""
        key = (deductions, bonus)
        known = self._industry.get(key)
        if known is None:
            if len(self._industry) > 100_000:
                self._industry.clear()
            law = self.law
            # An int made into a Decimal is already what exact() makes of it (200, not 2E+2).
            deducted = Decimal(deductions) if isinstance(deductions, int) else exact(deductions)
            capped = Decimal(bonus) if isinstance(bonus, int) else exact(bonus)
            part = _CONTEXT.multiply(_CONTEXT.add(_CONTEXT.subtract(law.base, deducted), capped),
                                     law.industry_weight)
            known = self._industry[key] = (deducted, capped, part)
        deducted, capped, part = known
        score = exact(_CONTEXT.add(_CONTEXT.multiply(public if public is not None else ZERO,
                                                     self.law.public_weight), part))
        return score, deducted, capped


def _range_text(lower: Decimal | None, upper: Decimal | None) -> str:
    if lower is not None and upper is not None:
        return f"{format(exact(lower), 'f')} to {format(exact(upper), 'f')}"
    if lower is not None:
        return f"at least {format(exact(lower), 'f')}"
    return f"at most {format(exact(upper), 'f')}" if upper is not None else "any number"


def _contains(band: Band, score: Decimal) -> bool:
    if band.lower is not None and (score < band.lower or (score == band.lower and not band.lower_inclusive)):
        return False
    return band.upper is None or score < band.upper or (score == band.upper and band.upper_inclusive)


def _band_edges(bands: Sequence[Band]) -> tuple[list[Decimal], list[Band], list[Band]]:
    """Every band boundary, sorted; the band holding each boundary, and the band holding the scores below each
    boundary and above the one before (compile has checked that the bands hold every score exactly once)."""
    edges = sorted({bound for band in bands for bound in (band.lower, band.upper) if bound is not None})

    def holding(score: Decimal) -> Band:
        found = next((band for band in bands if _contains(band, score)), None)
        if found is None:
            raise ValueError(f"no grade band holds the score {score}")
        return found

    probes = [edges[0] - 1] if edges else [ZERO]
    probes += [(low + high) / 2 for low, high in itertools.pairwise(edges)]
    probes += [edges[-1] + 1] if edges else []
    return edges, [holding(edge) for edge in edges], [holding(probe) for probe in probes]


# ---------------------------------------------------------------- the record loop

State = Literal["counted", "not_yet", "expired", "repaired", "revoked", "under_objection"]
HonourState = Literal["counted", "partial", "capped", "not_yet", "expired", "superseded", "duplicate", "withheld"]


class ViolationLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def indicator(self) -> str: ...
    @property
    def tier(self) -> int | None: ...
    @property
    def determined_on(self) -> dt.date: ...


class HonourLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def honour(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def awarded_on(self) -> dt.date: ...
    @property
    def valid_until(self) -> dt.date | None: ...


class Window(Protocol):
    """A record's counting window worked out beyond the natural period (listings, repair, objections)."""

    @property
    def counted(self) -> bool: ...
    @property
    def state(self) -> State: ...
    @property
    def counts_until(self) -> dt.date: ...


class Trace(Protocol):
    """What observes :func:`tally`: told each decision, with the numbers that made it."""

    def violation(self, record: Any, rule: TierRule, state: State, until: dt.date, window: Any) -> None: ...

    def honour(self, record: Any, rule: LevelRule, state: HonourState, until: dt.date, applied: Number,
               winner: Any) -> None: ...


class UnknownRule(LookupError):
    """A record names an indicator, tier or honour level the law does not have."""


def tally(day: Day, violations: Iterable[ViolationLike], honours: Iterable[HonourLike], trace: Trace | None = None,
          *, windows: Mapping[str, Window] | None = None, withheld: Mapping[str, str] | None = None
          ) -> tuple[Number, Number]:
    """The deductions and the capped honour bonus of a subject's records on ``day``.

    ``windows`` are the violations' counting windows where the analysis worked them out (listings, repair,
    objections); without them a violation counts through its natural period.  ``withheld`` names honours that
    are not counted, with why.  Raises :class:`UnknownRule` for a record the law cannot read.
    """
    as_of = day.as_of
    tiers = day.tiers
    deductions: Number = 0
    for record in violations:
        try:
            rule = tiers[record.indicator][record.tier]   # type: ignore[index]
        except KeyError:
            raise UnknownRule(record.id) from None
        start = record.determined_on
        if windows is None:
            counted = day.violation_from <= start <= as_of
            if trace is not None:
                state: State = "counted" if counted else "not_yet" if start > as_of else "expired"
                trace.violation(record, rule, state, day.violation_until(start), None)
        else:
            window = windows[record.id]
            counted = window.counted
            if trace is not None:
                trace.violation(record, rule, window.state, window.counts_until, window)
        if counted:
            deductions += rule.points
    return deductions, _honour_bonus(day, honours, trace, withheld)


def _honour_bonus(day: Day, honours: Iterable[HonourLike], trace: Trace | None,
                  withheld: Mapping[str, str] | None) -> Number:
    """The same honour once at its highest level (ties: the earlier award, then the smaller id), then the cap
    in award order."""
    as_of = day.as_of
    levels = day.levels
    best: dict[str, tuple[LevelRule, HonourLike]] = {}
    seen: list[tuple[HonourLike, LevelRule, bool]] | None = [] if trace is not None else None
    for record in honours:
        rule = levels.get(record.level)
        if rule is None:
            raise UnknownRule(record.id)
        awarded, valid = record.awarded_on, record.valid_until
        in_force = (day.honour_from <= awarded <= as_of) if valid is None else (awarded <= as_of <= valid)
        if in_force and withheld is not None and record.id in withheld:
            in_force = False
        if in_force:
            title = record.honour
            current = best.get(title)
            if current is None or _better(rule, record, *current):
                best[title] = (rule, record)
        if seen is not None:
            seen.append((record, rule, in_force))
    remaining = day.cap
    applied: dict[str, Number] = {}
    for rule, record in sorted(best.values(), key=lambda pair: (pair[1].awarded_on, pair[1].id)) \
            if len(best) > 1 else best.values():
        amount = rule.points if rule.points < remaining else remaining
        applied[record.id] = amount
        remaining -= amount
    if seen is not None:
        assert trace is not None
        for record, rule, in_force in seen:
            until = day.honour_until(record.awarded_on, record.valid_until)
            given = applied.get(record.id)
            if given is not None:
                state: HonourState = "counted" if given == rule.points else "partial" if given > 0 else "capped"
                trace.honour(record, rule, state, until, given, None)
                continue
            if in_force:
                winner_rule, winner = best[record.honour]
                state = "superseded" if winner_rule.points > rule.points else "duplicate"
                trace.honour(record, rule, state, until, 0, winner)
            elif withheld is not None and record.id in withheld and record.awarded_on <= as_of <= until:
                trace.honour(record, rule, "withheld", until, 0, withheld[record.id])
            else:
                trace.honour(record, rule, "not_yet" if as_of < record.awarded_on else "expired", until, 0, None)
    return sum(applied.values())


def _better(rule: LevelRule, record: HonourLike, best_rule: LevelRule, best_record: HonourLike) -> bool:
    if rule.points != best_rule.points:
        return rule.points > best_rule.points
    return (record.awarded_on, record.id) < (best_record.awarded_on, best_record.id)


# ---------------------------------------------------------------- offence counts


def offence_places(records: Iterable[ViolationLike], codes: Collection[str]) -> dict[str, int]:
    """Each record's place among the subject's records of its indicator, by determination then id (1 = first),
    for the indicators in ``codes``."""
    groups: dict[str, list[tuple[dt.date, str]]] = {}
    for record in records:
        if record.indicator in codes:
            groups.setdefault(record.indicator, []).append((record.determined_on, record.id))
    places: dict[str, int] = {}
    for group in groups.values():
        group.sort()
        for place, (_, record_id) in enumerate(group, start=1):
            places[record_id] = place
    return places


class CountRange(Protocol):
    @property
    def tier(self) -> int: ...
    @property
    def lower(self) -> int: ...
    @property
    def upper(self) -> int | None: ...


def offence_tier(bands: Sequence[CountRange], count: int) -> int | None:
    """The tier an offence number gives, for an indicator graded by repetition: the band holding it (lint and
    compile see to it that no two bands share a number)."""
    for band in bands:
        if band.lower <= count and (band.upper is None or count <= band.upper):
            return band.tier
    return None


def stated_tier_warnings(law: Law, violations: Sequence[ViolationLike], counts: Mapping[str, int]) -> list[str]:
    """Warnings on stated tiers of indicators graded by repetition that the offence number contradicts."""
    warnings = []
    for record in violations:
        bands = law.count_bands.get(record.indicator)
        count = counts.get(record.id)
        if not bands or count is None or record.tier is None or all(band.tier != record.tier for band in bands):
            continue
        by_count = offence_tier(bands, count)
        if by_count is not None and by_count != record.tier:
            warnings.append(count_warning(record.id, record.indicator, record.tier, count, by_count))
    return warnings


# ---------------------------------------------------------------- the result


def conclude(day: Day, uscc: str, name: str, kind: str, status: str, public: Decimal | None,
             deductions: Number, bonus: Number, *, items: list[Item] | None = None, warnings: Sequence[str] = (),
             proposals: tuple[Any, ...] = (), listings: tuple[Any, ...] = (),
             consequences: Sequence[ConsequenceItem] | None = None) -> SubjectResult:
    """The subject's result from its tally: the formula, the band, and what the band entails.

    ``consequences`` are the measures worked out for a subject on some list; None takes the band's own.
    """
    if status == "dissolved":
        return SubjectResult(uscc=uscc, name=name, kind=kind, status=status, evaluated=False, grade=None,
                             grade_meaning=None, score=None, public_score=public, deductions=ZERO, honour_bonus=ZERO,
                             not_evaluated_reason=day.law.dissolved_reason, items=items, warnings=tuple(warnings))
    score, deducted, capped = day.formula(public, deductions, bonus)
    band = day.band(score)
    return SubjectResult(uscc=uscc, name=name, kind=kind, status=status, evaluated=True, grade=band.label,
                         grade_meaning=band.meaning, score=score, public_score=public, deductions=deducted,
                         honour_bonus=capped, not_evaluated_reason=None, items=items, proposals=proposals,
                         listings=listings,
                         consequences=band.consequences if consequences is None else tuple(consequences),
                         warnings=tuple(warnings))
