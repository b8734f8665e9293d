"""Compile a validated rulebook into the kernel's law (:class:`mincredit._kernel.Law`).

Compiling refuses a rulebook that would make evaluation ambiguous (two rules for one key, a score with no
grade), because scoring someone with such a rulebook would be wrong.  The checks are ``mincredit lint``'s
(:mod:`mincredit.lint._checks`), written once: compiling refuses the findings that
:data:`mincredit.lint._codes.COMPILE_REFUSES` lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mincredit._kernel import Band, CountBand, Day, Indicator, Law, Level, Tables, Tier
from mincredit.lint._checks import Parts, check_rulebook
from mincredit.lint._codes import COMPILE_REFUSES
from mincredit.rules._digest import rulebook_digest
from mincredit.rules._schema import Identity, Rulebook

if TYPE_CHECKING:
    from mincredit._conditions import Program

__all__ = ["CompiledRulebook", "RulebookInvalid", "compile_rulebook", "law_of"]


class RulebookInvalid(Exception):
    """The rulebook validates against the schema but cannot be evaluated unambiguously."""

    def __init__(self, rulebook_id: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"rulebook {rulebook_id!r} cannot be evaluated: " + "; ".join(reasons))


@dataclass(frozen=True)
class CompiledRulebook:
    """An immutable, evaluation-ready rulebook: its source, its digest, and its law.  It holds no global state,
    so versions coexist; the look-ups it builds on first use stay with it."""

    source: Rulebook
    digest: str
    law: Law
    _days: dict[dt.date, Day] = field(default_factory=dict, compare=False, repr=False)
    _built: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def identity(self) -> Identity:
        return self.source.rulebook

    @property
    def subject_kind(self) -> str:
        return self.law.kind

    @property
    def tables(self) -> Tables:
        tables = self._built.get("tables")
        if not isinstance(tables, Tables):
            tables = self._built["tables"] = Tables(self.law)
        return tables

    def day(self, as_of: dt.date) -> Day:
        """The law on ``as_of`` (kept for the next subject evaluated on the same day)."""
        day = self._days.get(as_of)
        if day is None:
            if len(self._days) > 64:
                self._days.clear()
            day = self._days[as_of] = Day(self.tables, as_of)
        return day

    @property
    def program(self) -> Program:
        """The rulebook's conditions (triggers, quantity tiers, contracts), compiled once."""
        from mincredit._conditions import Program, compile_program

        program = self._built.get("program")
        if not isinstance(program, Program):
            program = self._built["program"] = compile_program(self.source)
        return program


def compile_rulebook(rulebook: Rulebook) -> CompiledRulebook:
    identity = rulebook.rulebook
    reasons = [f"{issue.code} {issue.message}" for issue in check_rulebook(Parts.of(rulebook), COMPILE_REFUSES)]
    if reasons:
        raise RulebookInvalid(identity.id, reasons)
    digest = rulebook_digest(rulebook)
    return CompiledRulebook(source=rulebook, digest=digest, law=law_of(rulebook, digest))


def law_of(rulebook: Rulebook, digest: str) -> Law:
    """The kernel's law of a rulebook that compiles (its bands hold every score once, its ids are unique)."""
    from mincredit._consequences import consequences_for

    identity = rulebook.rulebook
    kind = identity.subject_kind
    levels: dict[str, Level] = {}
    for level in rulebook.honours.levels:
        levels.setdefault(level.level, Level(level.level, level.name, level.points))
    formula = rulebook.formula
    public = formula.public_score
    dissolved = rulebook.dissolved
    return Law(
        rulebook_id=identity.id, version=identity.version, title=identity.title, status=identity.status_wording,
        digest=digest, kind=kind, subject_name=identity.subject_name or kind,
        effective_start=identity.effective.start, effective_end=identity.effective.end,
        indicators=tuple(Indicator(indicator.code, indicator.title,
                                   tuple(Tier(tier.tier, tier.points, tier.wording) for tier in indicator.tiers))
                         for indicator in rulebook.indicators),
        levels=tuple(levels.values()), cap=rulebook.honours.cap, base=formula.base,
        public_weight=formula.public_weight, industry_weight=formula.industry_weight,
        public_lower=public.lower if public is not None else None,
        public_upper=public.upper if public is not None else None,
        public_required=formula.missing_public_score == "error",
        violation_years=rulebook.retention.violation.years, violation_article=rulebook.retention.violation.article,
        honour_years=rulebook.retention.honour_default.years,
        honour_article=rulebook.retention.honour_default.article,
        bands=tuple(Band(
            band.grade, band.meaning,
            band.lower.value if band.lower is not None else None,
            band.lower.inclusive if band.lower is not None else False,
            band.upper.value if band.upper is not None else None,
            band.upper.inclusive if band.upper is not None else False,
            # what the grade entails for a subject on no list: the same on every date
            tuple(consequences_for(rulebook, kind, band.grade, [], [], set(), identity.effective.start)))
            for band in rulebook.grades),
        count_bands={rule.indicator: tuple(CountBand(band.tier, band.lower, band.upper) for band in rule.tiers)
                     for rule in (rulebook.derived.offence_count if rulebook.derived is not None else [])},
        engine_codes=trigger_codes(rulebook),
        dissolved_reason=(f"a dissolved subject is not evaluated: {dissolved.wording} ({dissolved.article})"
                          if dissolved is not None else "a dissolved subject is not evaluated"))


def trigger_codes(rulebook: Rulebook) -> frozenset[str]:
    """The indicators a plain violation of which (no penalty, behaviours or info kind) a serious-blacklist
    trigger takes: a subject with such a record gets a proposal when it counts, so the analysis evaluates it.
    The triggers are tested with the program and the record facts the analysis itself uses."""
    if rulebook.blacklist is None or not rulebook.blacklist.triggers:
        return frozenset()
    from mincredit._conditions import compile_program, holds
    from mincredit._derive import record_fact
    from mincredit.facts._models import Subject, ViolationRecord
    from mincredit.facts._uscc import check_character

    triggers = [rule for rule in compile_program(rulebook).rules if rule.id.startswith("trigger:")]
    first = "91150000000000000"
    subject = Subject.model_validate({"uscc": first + check_character(first), "name": "-",
                                      "kind": rulebook.rulebook.subject_kind})
    found = set()
    for indicator in rulebook.indicators:
        record = ViolationRecord(id="r", type="violation", indicator=indicator.code, tier=indicator.tiers[0].tier,
                                 determined_on=dt.date(2000, 1, 1))
        if any(holds(rule.when, record_fact(record, subject)) for rule in triggers):
            found.add(indicator.code)
    return frozenset(found)
