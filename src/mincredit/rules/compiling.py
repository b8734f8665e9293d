"""Compile a validated rulebook into the lookup tables the engine evaluates with.

The engine never walks the rule list per record: a record's points come from
one dictionary look-up by (indicator, tier).  Compiling also refuses a
rulebook that would make evaluation ambiguous (two rules for one key, a score
with no grade), because scoring someone with such a rulebook would be wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from mincredit.rules.digest import rulebook_digest
from mincredit.rules.schema import Bound, GradeBand, HonourLevel, Identity, Rulebook

KIND_PREFIX = {"miner": "M", "agency": "A"}


class RulebookInvalid(Exception):
    """The rulebook validates against the schema but cannot be evaluated unambiguously."""

    def __init__(self, rulebook_id: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"rulebook {rulebook_id!r} cannot be evaluated: " + "; ".join(reasons))


@dataclass(frozen=True)
class CompiledTier:
    code: str
    tier: int
    points: Decimal
    wording: str
    indicator_title: str


@dataclass(frozen=True)
class CompiledBand:
    grade: str
    meaning: str
    annex: str
    lower: Bound | None
    upper: Bound | None

    def contains(self, score: Decimal) -> bool:
        if self.lower is not None:
            if score < self.lower.value or (score == self.lower.value and not self.lower.inclusive):
                return False
        if self.upper is not None:
            if score > self.upper.value or (score == self.upper.value and not self.upper.inclusive):
                return False
        return True


@dataclass(frozen=True)
class CompiledRulebook:
    """An immutable, evaluation-ready rulebook; holds no global state, so versions coexist."""

    source: Rulebook
    identity: Identity
    digest: str
    tiers: Mapping[tuple[str, int], CompiledTier]
    tiers_of: Mapping[str, tuple[int, ...]]
    honour_levels: Mapping[str, HonourLevel]
    bands: tuple[CompiledBand, ...]
    honour_cap: Decimal
    base: Decimal
    public_weight: Decimal
    industry_weight: Decimal
    missing_public_score: str
    violation_years: int
    honour_default_years: int

    @property
    def subject_kind(self) -> str:
        return self.identity.subject_kind

    def band_for(self, score: Decimal) -> CompiledBand:
        for band in self.bands:
            if band.contains(score):
                return band
        raise AssertionError(f"compile guaranteed a band for every score, none holds {score}")


def _band_problems(bands: list[GradeBand]) -> list[str]:
    """Bands must cover every score exactly once: check each boundary value and the open ends."""
    compiled = [CompiledBand(b.grade, b.meaning, b.annex, b.lower, b.upper) for b in bands]
    edges = sorted({bound.value for band in bands for bound in (band.lower, band.upper) if bound is not None})
    # Each edge itself, a point between each pair of edges and one beyond each end is a complete set of
    # witnesses: bands are unions of intervals with these edges, so membership is constant in between.
    probes = set(edges)
    probes.update((low + high) / 2 for low, high in zip(edges, edges[1:], strict=False))
    if edges:
        probes.update({edges[0] - 1, edges[-1] + 1})
    else:
        probes.add(Decimal(0))
    problems = []
    for probe in sorted(probes):
        holders = [b.grade for b in compiled if b.contains(probe)]
        if len(holders) != 1:
            problems.append(f"the score {probe} falls in {len(holders)} grade bands ({', '.join(holders) or 'none'})")
    return problems


def compile_rulebook(rulebook: Rulebook) -> CompiledRulebook:
    identity = rulebook.rulebook
    prefix = KIND_PREFIX[identity.subject_kind]
    reasons: list[str] = []
    tiers: dict[tuple[str, int], CompiledTier] = {}
    tiers_of: dict[str, tuple[int, ...]] = {}
    for indicator in rulebook.indicators:
        if not indicator.code.startswith(prefix):
            reasons.append(f"indicator {indicator.code} does not start with {prefix} in a {identity.subject_kind} rulebook")
        if indicator.code in tiers_of:
            reasons.append(f"indicator {indicator.code} is defined twice")
        numbers = []
        for tier in indicator.tiers:
            key = (indicator.code, tier.tier)
            if key in tiers:
                reasons.append(f"indicator {indicator.code} has tier {tier.tier} twice")
            tiers[key] = CompiledTier(indicator.code, tier.tier, tier.points, tier.wording, indicator.title)
            numbers.append(tier.tier)
        tiers_of[indicator.code] = tuple(numbers)
    levels: dict[str, HonourLevel] = {}
    for level in rulebook.honours.levels:
        if level.level in levels:
            reasons.append(f"honour level {level.level} is defined twice")
        levels[level.level] = level
    reasons.extend(_band_problems(rulebook.grades))
    if reasons:
        raise RulebookInvalid(identity.id, reasons)
    return CompiledRulebook(
        source=rulebook,
        identity=identity,
        digest=rulebook_digest(rulebook),
        tiers=MappingProxyType(tiers),
        tiers_of=MappingProxyType(tiers_of),
        honour_levels=MappingProxyType(levels),
        bands=tuple(CompiledBand(b.grade, b.meaning, b.annex, b.lower, b.upper) for b in rulebook.grades),
        honour_cap=rulebook.honours.cap,
        base=rulebook.formula.base,
        public_weight=rulebook.formula.public_weight,
        industry_weight=rulebook.formula.industry_weight,
        missing_public_score=rulebook.formula.missing_public_score,
        violation_years=rulebook.retention.violation.years,
        honour_default_years=rulebook.retention.honour_default.years,
    )
