"""A rulebook prepared for scoring plain subjects fast: a date-free basis, then a plan for one date.

:class:`PlanBasis` is everything scoring a plain subject (violations and honours) needs from a compiled
rulebook, independent of the evaluation date: (indicator, tier) → points, honour level → points, the
cap, the formula, the grade bands as sorted edges, the indicators a blacklist trigger could take, the
offence-count bands, and each grade's consequences.  It is plain data (standard library only), so it can
be kept in the compiled-rulebook cache (:mod:`mincredit.rules._cache`) and read back without pydantic, the
YAML reader or the rulebook models.  :class:`ScorePlan` adds one evaluation date: the first day a violation
or an honour without a stated validity still counts.

The full compiled rulebook is still there for the subjects that need the engine: ``ScorePlan.rulebook``
loads it on first use when the basis came from the cache.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from mincredit._consequence import ConsequenceItem
from mincredit._decimals import exact
from mincredit._periods import period_end

if TYPE_CHECKING:
    from mincredit._blacklist import ListingStatus, Proposal
    from mincredit._engine import SubjectResult
    from mincredit.rules._compiling import CompiledRulebook

_CONTEXT = Context(prec=60)   # the engine's precision; every operation of the formula goes through it
HONOUR_LEVEL_NAMES = frozenset({"provincial_government", "city_government", "ministry", "provincial_department"})
BASIS_FORMAT = 1
"""The layout of :meth:`PlanBasis.to_json`; a cached basis of another layout is not used."""


DISSOLVED_REASON = "主体资格灭失: a dissolved subject is not evaluated (art. 15)"


class Score(NamedTuple):
    """A subject's result without explanations: every field of SubjectResult except ``items``.

    The lists of the result are tuples here (a grade's consequences are shared by every subject with it).
    """

    uscc: str
    name: str
    kind: str
    status: str
    evaluated: bool
    grade: str | None
    grade_meaning: str | None
    score: Decimal | None
    public_score: Decimal | None
    deductions: Decimal
    honour_bonus: Decimal
    not_evaluated_reason: str | None
    proposals: tuple[Proposal, ...] = ()
    listings: tuple[ListingStatus, ...] = ()
    consequences: tuple[ConsequenceItem, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_result(self) -> SubjectResult:
        """The same result as a SubjectResult with no items (explanations were not built)."""
        from mincredit._engine import SubjectResult

        fields: dict[str, Any] = self._asdict()
        for name in MEASURE_FIELDS:
            fields[name] = list(fields[name])
        return SubjectResult(**fields, items=[])

    @classmethod
    def of(cls, result: SubjectResult) -> Score:
        """The fields of an explained result, without its items."""
        return cls(result.uscc, result.name, result.kind, result.status, result.evaluated, result.grade,
                   result.grade_meaning, result.score, result.public_score, result.deductions, result.honour_bonus,
                   result.not_evaluated_reason, tuple(result.proposals), tuple(result.listings),
                   tuple(result.consequences), tuple(result.warnings))


MEASURE_FIELDS = ("proposals", "listings", "consequences", "warnings")


class Grade(NamedTuple):
    """A grade band as results name it."""

    grade: str
    meaning: str


def first_day_counting(as_of: dt.date, years: int) -> dt.date:
    """The earliest start day whose period of ``years`` (Civil Code counting) still runs on ``as_of``.

    ``period_end`` never decreases as the start moves later, so the starts whose period reaches
    ``as_of`` are exactly the days from this one on: a record counts on ``as_of`` iff
    ``first_day_counting(as_of, years) <= start <= as_of``.
    """
    low, high = dt.date.min.toordinal(), as_of.toordinal()   # period_end(as_of) >= as_of always holds
    low = max(low, high - 366 * years - 2)                    # a period of n years is at most 366·n days
    while low < high:
        middle = (low + high) // 2
        if period_end(dt.date.fromordinal(middle), years=years) >= as_of:
            high = middle
        else:
            low = middle + 1
    return dt.date.fromordinal(low)


def trigger_codes(rulebook: CompiledRulebook) -> frozenset[str]:
    """The indicators a plain violation of which (no penalty, behaviours or info kind) a blacklist trigger takes.

    A subject with such a record gets a proposal (arts. 16–17) when the record counts, so it is evaluated by
    the engine; the triggers are tested with the program and the record facts the engine itself uses.
    """
    source = rulebook.source
    if source.blacklist is None or not source.blacklist.triggers:
        return frozenset()
    from mincredit._conditions import compile_program, holds
    from mincredit._derive import record_fact
    from mincredit.facts._models import Subject, ViolationRecord
    from mincredit.facts._uscc import check_character

    triggers = [rule for rule in compile_program(source).rules if rule.id.startswith("trigger:")]
    first = "91150000000000000"
    subject = Subject.model_validate({"uscc": first + check_character(first), "name": "-",
                                      "kind": rulebook.subject_kind})
    found = set()
    for code, tiers in rulebook.tiers_of.items():
        record = ViolationRecord(id="r", type="violation", indicator=code, tier=tiers[0],
                                 determined_on=dt.date(2000, 1, 1))
        fact = record_fact(record, subject)
        if any(holds(rule.when, fact) for rule in triggers):
            found.add(code)
    return frozenset(found)


def grade_consequences(rulebook: CompiledRulebook, grade: str) -> tuple[ConsequenceItem, ...]:
    """What a grade entails for a subject on no serious-blacklist (arts. 21–24), as the engine gives it.

    The evaluation date matters only for listings, so for such a subject the measures are the same on
    every date.
    """
    kind = rulebook.subject_kind
    if not any(grade in measure.when.grades and (not measure.when.subject_kinds or kind in measure.when.subject_kinds)
               for measure in rulebook.source.consequences):
        return ()
    from mincredit._consequences import consequences_for

    return tuple(consequences_for(rulebook.source, kind, grade, [], [], set(), rulebook.identity.effective.start))


@dataclass(frozen=True)
class PlanBasis:
    """What scoring plain subjects needs from a compiled rulebook, whatever the evaluation date."""

    rulebook_id: str
    version: str
    digest: str
    kind: str
    effective_start: dt.date
    effective_end: dt.date | None
    points: Mapping[tuple[str, int], Decimal]
    level_points: Mapping[str, Decimal]
    cap: Decimal
    base: Decimal
    public_weight: Decimal
    industry_weight: Decimal
    missing_public_score: str
    violation_years: int
    honour_default_years: int
    grades: tuple[Grade, ...]
    """The grade bands in the rulebook's order."""
    edges: tuple[Decimal, ...]
    """Every band boundary, sorted; ``at_edge[i]`` is the band (an index into ``grades``) holding ``edges[i]``,
    ``between[i]`` the band holding the scores below ``edges[i]`` and above ``edges[i - 1]``."""
    at_edge: tuple[int, ...]
    between: tuple[int, ...]
    engine_codes: frozenset[str]
    count_bands: Mapping[str, tuple[tuple[int, int, int | None], ...]]
    consequences: Mapping[str, tuple[ConsequenceItem, ...]]
    load: Callable[[], CompiledRulebook] | None = field(default=None, compare=False, repr=False)
    """Gives the full compiled rulebook (for the subjects the engine evaluates); None when it is at hand."""

    @classmethod
    def of(cls, rulebook: CompiledRulebook) -> PlanBasis:
        grades = tuple(Grade(band.grade, band.meaning) for band in rulebook.bands)
        number = {id(band): index for index, band in enumerate(rulebook.bands)}
        edges = sorted({bound.value for band in rulebook.bands for bound in (band.lower, band.upper)
                        if bound is not None})
        probes = [*([edges[0] - 1] if edges else [Decimal(0)]),
                  *((low + high) / 2 for low, high in itertools.pairwise(edges)),
                  *([edges[-1] + 1] if edges else [])]
        derived = rulebook.source.derived
        identity = rulebook.identity
        return cls(
            rulebook_id=identity.id, version=identity.version, digest=rulebook.digest, kind=rulebook.subject_kind,
            effective_start=identity.effective.start, effective_end=identity.effective.end,
            points={key: tier.points for key, tier in rulebook.tiers.items()},
            level_points={name: level.points for name, level in rulebook.honour_levels.items()},
            cap=rulebook.honour_cap, base=rulebook.base, public_weight=rulebook.public_weight,
            industry_weight=rulebook.industry_weight, missing_public_score=rulebook.missing_public_score,
            violation_years=rulebook.violation_years, honour_default_years=rulebook.honour_default_years,
            grades=grades, edges=tuple(edges),
            at_edge=tuple(number[id(rulebook.band_for(edge))] for edge in edges),
            between=tuple(number[id(rulebook.band_for(probe))] for probe in probes),
            engine_codes=trigger_codes(rulebook),
            count_bands={rule.indicator: tuple((band.tier, band.lower, band.upper) for band in rule.tiers)
                         for rule in (derived.offence_count if derived is not None else [])},
            consequences={band.grade: grade_consequences(rulebook, band.grade) for band in rulebook.bands},
            load=lambda: rulebook)

    # --- as plain JSON data, for the cache -----------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The basis as JSON data: decimals and dates as their exact text."""
        return {
            "format": BASIS_FORMAT, "rulebook_id": self.rulebook_id, "version": self.version, "digest": self.digest,
            "kind": self.kind, "effective_start": self.effective_start.isoformat(),
            "effective_end": self.effective_end.isoformat() if self.effective_end is not None else None,
            "points": [[code, tier, str(points)] for (code, tier), points in self.points.items()],
            "level_points": {name: str(points) for name, points in self.level_points.items()},
            "cap": str(self.cap), "base": str(self.base), "public_weight": str(self.public_weight),
            "industry_weight": str(self.industry_weight), "missing_public_score": self.missing_public_score,
            "violation_years": self.violation_years, "honour_default_years": self.honour_default_years,
            "grades": [list(grade) for grade in self.grades], "edges": [str(edge) for edge in self.edges],
            "at_edge": list(self.at_edge), "between": list(self.between), "engine_codes": sorted(self.engine_codes),
            "count_bands": {code: [list(band) for band in bands] for code, bands in self.count_bands.items()},
            "consequences": {grade: [item.as_json() for item in items] for grade, items in self.consequences.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], load: Callable[[], CompiledRulebook] | None) -> PlanBasis:
        """The basis :meth:`to_json` wrote; KeyError, TypeError or ValueError if ``data`` is not one."""
        if data["format"] != BASIS_FORMAT:
            raise ValueError(f"basis format {data['format']!r}")
        end = data["effective_end"]
        return cls(
            rulebook_id=_text(data["rulebook_id"]), version=_text(data["version"]), digest=_text(data["digest"]),
            kind=_text(data["kind"]), effective_start=dt.date.fromisoformat(data["effective_start"]),
            effective_end=dt.date.fromisoformat(end) if end is not None else None,
            points={(_text(code), _whole(tier)): Decimal(points) for code, tier, points in data["points"]},
            level_points={_text(name): Decimal(points) for name, points in data["level_points"].items()},
            cap=Decimal(data["cap"]), base=Decimal(data["base"]), public_weight=Decimal(data["public_weight"]),
            industry_weight=Decimal(data["industry_weight"]),
            missing_public_score=_text(data["missing_public_score"]),
            violation_years=_whole(data["violation_years"]), honour_default_years=_whole(data["honour_default_years"]),
            grades=tuple(Grade(_text(grade), _text(meaning)) for grade, meaning in data["grades"]),
            edges=tuple(Decimal(edge) for edge in data["edges"]),
            at_edge=tuple(_whole(index) for index in data["at_edge"]),
            between=tuple(_whole(index) for index in data["between"]),
            engine_codes=frozenset(_text(code) for code in data["engine_codes"]),
            count_bands={_text(code): tuple((_whole(tier), _whole(lower), None if upper is None else _whole(upper))
                                            for tier, lower, upper in bands)
                         for code, bands in data["count_bands"].items()},
            consequences={_text(grade): tuple(ConsequenceItem(**item) for item in items)
                          for grade, items in data["consequences"].items()},
            load=load)


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a text, got {value!r}")
    return value


def _whole(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected a whole number, got {value!r}")
    return value


class ScorePlan:
    """A rulebook prepared for one as-of date: everything the per-record loop looks up.

    Built from a compiled rulebook or from a :class:`PlanBasis` (e.g. read from the cache).
    """

    def __init__(self, source: CompiledRulebook | PlanBasis, as_of: dt.date) -> None:
        basis = source if isinstance(source, PlanBasis) else PlanBasis.of(source)
        self.basis = basis
        self.as_of = as_of
        self.kind = basis.kind
        self.integral = all(points == points.to_integral_value()
                            for points in itertools.chain(basis.points.values(), basis.level_points.values()))
        # Integral points are summed as ints (exact, and faster than Decimal); the formula is in Decimal.
        self.points: dict[tuple[str, int], int | Decimal] = {
            key: self._number(points) for key, points in basis.points.items()}
        self.level_points: dict[str, int | Decimal] = {
            name: self._number(points) for name, points in basis.level_points.items() if name in HONOUR_LEVEL_NAMES}
        self.cap = basis.cap
        self.violation_from = first_day_counting(as_of, basis.violation_years)
        self.honour_from = first_day_counting(as_of, basis.honour_default_years)
        self.public_weight = basis.public_weight
        self.industry_weight = basis.industry_weight
        self.base = basis.base
        self.public_required = basis.missing_public_score == "error"
        self.bands = basis.grades
        self._edges = list(basis.edges)
        self._at_edge = [basis.grades[index] for index in basis.at_edge]
        self._between = [basis.grades[index] for index in basis.between]
        self.exact_cap = exact(self.cap)
        self.as_of_text = as_of.isoformat()
        self.violation_from_text = self.violation_from.isoformat()
        self.honour_from_text = self.honour_from.isoformat()
        # Beyond the score (arts. 16–28).  A plain violation a blacklist trigger takes sends its subject to the
        # engine (its code is left out of the look-up below); a grade's consequences are the same for every
        # subject on no list; a stated tier of an indicator graded by repetition is checked against the count.
        self.engine_codes = basis.engine_codes
        self.consequences: Mapping[str, tuple[ConsequenceItem, ...]] = basis.consequences
        self.count_bands = basis.count_bands
        # indicator code → points by tier number (None where the indicator has no such tier)
        self.tiers_by_code: dict[str, list[int | Decimal | None]] = {}
        for (code, tier), points in self.points.items():
            if code in self.engine_codes:
                continue
            row = self.tiers_by_code.setdefault(code, [None])
            row.extend([None] * (tier + 1 - len(row)))
            row[tier] = points
        self.valid_texts: set[str] = set()
        # (deductions, capped bonus) → their exact Decimals and the industry part of the formula; few distinct
        self._industry: dict[tuple[int | Decimal, int | Decimal], tuple[Decimal, Decimal, Decimal]] = {}
        self.valid_dates: dict[str, dt.date] = {}
        self._rulebook: CompiledRulebook | None = None

    @property
    def rulebook(self) -> CompiledRulebook:
        """The full compiled rulebook, for the subjects the engine evaluates (loaded on first use)."""
        if self._rulebook is None:
            if self.basis.load is None:
                raise RuntimeError("this plan has no rulebook to load")
            rulebook = self.basis.load()
            if rulebook.digest != self.basis.digest:
                raise RuntimeError(f"the rulebook loaded for {self.basis.rulebook_id}@{self.basis.version} has "
                                   f"digest {rulebook.digest}, not the plan's {self.basis.digest}")
            self._rulebook = rulebook
        return self._rulebook

    def remember_text(self, value: object) -> bool:
        """True (and remembered) for a text the model keeps as it is: not empty, no surrounding spaces."""
        if type(value) is str and value != "" and value.strip() == value:
            if len(self.valid_texts) > 1_000_000:
                self.valid_texts.clear()
            self.valid_texts.add(value)
            return True
        return False

    def extras_ok(self, record: dict[str, Any], allowed: frozenset[str]) -> bool:
        """A record with more than its required fields: only known ones, the optional texts as text."""
        if not record.keys() <= allowed:
            return False
        return all(type(record.get(extra)) in (str, type(None)) for extra in ("authority", "description"))

    def remember_date(self, value: object) -> dt.date | None:
        """The date of a plain YYYY-MM-DD text (remembered), or None to let the model decide."""
        day = plain_date(value)
        if day is not None and type(value) is str:
            if len(self.valid_dates) > 1_000_000:
                self.valid_dates.clear()
            self.valid_dates[value] = day
        return day

    def _number(self, value: Decimal) -> int | Decimal:
        return int(value) if self.integral else value

    def band(self, score: Decimal) -> Grade:
        """The grade band of ``score``; the same band as ``CompiledRulebook.band_for``, by bisection."""
        position = bisect.bisect_left(self._edges, score)
        if position < len(self._edges) and self._edges[position] == score:
            return self._at_edge[position]
        return self._between[position]

    def count_warnings(self, violations: Sequence[tuple[str, str, int, Any]]) -> tuple[str, ...] | None:
        """The warnings the engine gives a subject's plain violations of indicators graded by repetition.

        ``violations`` are (record id, indicator, stated tier, determination day), in record order; the days are
        dates, or ISO texts already checked to be dates (which sort as the dates do).  A record's offence number
        is its place among the subject's records of its indicator by (day, id), as :func:`mincredit._derive.
        offence_counts` counts it.  None (leave the subject to the engine) when a count falls in two bands
        that would both contradict the stated tier: the engine's message would name either.
        """
        places: dict[str, int] = {}
        by_code: dict[str, list[tuple[Any, str]]] = {}
        for record_id, code, _, day in violations:
            by_code.setdefault(code, []).append((day, record_id))
        for group in by_code.values():
            for place, (_, record_id) in enumerate(sorted(group), start=1):
                places[record_id] = place
        warnings: list[str] = []
        for record_id, code, tier, _ in violations:
            bands = self.count_bands[code]
            if all(tier != band_tier for band_tier, _, _ in bands):
                continue
            count = places[record_id]
            wrong = [band_tier for band_tier, lower, upper in bands
                     if lower <= count and (upper is None or count <= upper) and band_tier != tier]
            if len(wrong) > 1:
                return None
            if wrong:
                warnings.append(self.count_warning(record_id, code, tier, count, wrong[0]))
        return tuple(warnings)

    @staticmethod
    def count_warning(record_id: str, code: str, tier: int, count: int, count_tier: int) -> str:
        """The engine's warning on a stated tier the offence count contradicts (mincredit._derive.resolve_tiers)."""
        return (f"record {record_id}: tier {tier} is stated, but offence number {count} is tier {count_tier} of "
                f"{code}; the stated tier is used — check it")

    def finish(self, uscc: str, name: str, kind: str, status: str, public: Decimal | None,
               deductions: int | Decimal, bonus: int | Decimal, warnings: tuple[str, ...] = ()) -> Score:
        """The subject's score from its deductions and its in-force honour points (before the cap)."""
        if status == "dissolved":
            return Score(uscc, name, kind, status, False, None, None, None, public, Decimal(0), Decimal(0),
                         DISSOLVED_REASON, (), (), (), warnings)
        key = (deductions, bonus if bonus < self.cap else self.cap)
        industry = self._industry.get(key)
        if industry is None:
            if len(self._industry) > 100_000:
                self._industry.clear()
            # An int made into a Decimal is already what exact() makes of it (200, not 2E+2).
            capped = (Decimal(bonus) if isinstance(bonus, int) else exact(bonus)) if bonus < self.cap \
                else self.exact_cap
            deducted = Decimal(deductions) if isinstance(deductions, int) else exact(deductions)
            part = _CONTEXT.multiply(_CONTEXT.add(_CONTEXT.subtract(self.base, deducted), capped),
                                     self.industry_weight)
            industry = self._industry[key] = (deducted, capped, part)
        deducted, capped, part = industry
        score = exact(_CONTEXT.add(_CONTEXT.multiply(public if public is not None else Decimal(0),
                                                     self.public_weight), part))
        band = self.band(score)
        return Score(uscc, name, kind, status, True, band.grade, band.meaning, score, public, deducted, capped,
                     None, (), (), self.consequences[band.grade], warnings)


def plain_date(value: object) -> dt.date | None:
    """A date written plainly as YYYY-MM-DD (or already a date); None means 'let the model decide'."""
    if type(value) is str:
        if len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii():
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return None
        return None
    if type(value) is dt.date:
        return value
    return None
