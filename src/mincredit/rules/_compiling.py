"""Compile a validated rulebook into the lookup tables the engine evaluates with.

The engine never walks the rule list per record: a record's points come from
one dictionary look-up by (indicator, tier).  Compiling also refuses a
rulebook that would make evaluation ambiguous (two rules for one key, a score
with no grade), because scoring someone with such a rulebook would be wrong.
The checks themselves are ``mincredit lint``'s (:mod:`mincredit.lint._checks`),
written once: compiling refuses the findings listed in
:data:`mincredit.lint._codes.COMPILE_REFUSES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from mincredit.lint._checks import KIND_PREFIX, Parts, check_rulebook
from mincredit.lint._codes import COMPILE_REFUSES
from mincredit.lint._intervals import within
from mincredit.rules._digest import rulebook_digest
from mincredit.rules._schema import Bound, HonourLevel, Identity, Rulebook

__all__ = ["KIND_PREFIX", "CompiledBand", "CompiledRulebook", "CompiledTier", "RulebookInvalid", "compile_rulebook"]


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
        return within(score, self.lower, self.upper)


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


def compile_rulebook(rulebook: Rulebook) -> CompiledRulebook:
    identity = rulebook.rulebook
    reasons = [f"{issue.code} {issue.message}" for issue in check_rulebook(Parts.of(rulebook), COMPILE_REFUSES)]
    tiers: dict[tuple[str, int], CompiledTier] = {}
    tiers_of: dict[str, tuple[int, ...]] = {}
    for indicator in rulebook.indicators:
        numbers = []
        for tier in indicator.tiers:
            tiers[(indicator.code, tier.tier)] = CompiledTier(indicator.code, tier.tier, tier.points, tier.wording,
                                                              indicator.title)
            numbers.append(tier.tier)
        tiers_of[indicator.code] = tuple(numbers)
    levels: dict[str, HonourLevel] = {}
    for level in rulebook.honours.levels:
        levels.setdefault(level.level, level)
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
