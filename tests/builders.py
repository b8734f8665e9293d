"""Small builders for subjects and records used across the tests."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from mincredit._kernel import Law
from mincredit.facts._models import Subject
from mincredit.facts._uscc import check_character
from mincredit.rules._compiling import CompiledRulebook, compile_rulebook
from mincredit.rules._registry import load_rulebook

MINER_USCC = "91150600MA13R7T5Q6"
OTHER_MINER_USCC = "91150200MA0N8K2L4Q"
AGENCY_USCC = "12150000MB1A2C3D4A"


@cache
def shipped(name: str) -> CompiledRulebook:
    return load_rulebook(name)


@cache
def fractional_rulebook() -> CompiledRulebook:
    """The miner rulebook with points an eighth of the shipped ones, honour levels a quarter point more, and a
    missing public score counted as zero."""
    source = shipped("miner").source
    indicators = [indicator.model_copy(update={"tiers": [tier.model_copy(update={"points": tier.points / 8})
                                                         for tier in indicator.tiers]})
                  for indicator in source.indicators]
    honours = source.honours.model_copy(update={"levels": [level.model_copy(update={"points": level.points
                                                                                    + Decimal("0.25")})
                                                           for level in source.honours.levels]})
    formula = source.formula.model_copy(update={"missing_public_score": "zero"})
    return compile_rulebook(source.model_copy(update={"indicators": indicators, "honours": honours,
                                                      "formula": formula}))


@cache
def triggered_rulebook() -> CompiledRulebook:
    """The miner rulebook with a blacklist trigger that takes any violation: a subject with one counting gets a
    proposal (so the fast paths leave every subject with a violation to the engine)."""
    source = shipped("miner").source
    assert source.blacklist is not None
    trigger = source.blacklist.triggers[0]
    loose = trigger.model_copy(update={"when": [trigger.when[0]]})           # record_type: violation, nothing else
    return compile_rulebook(source.model_copy(update={
        "blacklist": source.blacklist.model_copy(update={"triggers": [loose]})}))


def generated_population(count: int, seed: int) -> list[dict[str, Any]]:
    """Subjects of the benchmark's deterministic population (benchmarks/generate.py), as plain data."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    return list(generate.population(count, seed=seed))


def violation(record_id: str, indicator: str, tier: int, determined_on: str | dt.date) -> dict[str, Any]:
    return {"id": record_id, "type": "violation", "indicator": indicator, "tier": tier,
            "determined_on": str(determined_on)}


def honour(record_id: str, title: str, level: str, awarded_on: str | dt.date,
           valid_until: str | dt.date | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"id": record_id, "type": "honour", "honour": title, "level": level,
                              "awarded_on": str(awarded_on)}
    if valid_until is not None:
        record["valid_until"] = str(valid_until)
    return record


def subject_data(public_score: str | int | Decimal | None = "850", records: list[dict[str, Any]] | None = None,
                 *, uscc: str = MINER_USCC, kind: str = "miner", status: str = "active",
                 name: str = "某某矿业有限公司") -> dict[str, Any]:
    data: dict[str, Any] = {"uscc": uscc, "name": name, "kind": kind, "status": status,
                            "records": records or []}
    if public_score is not None:
        data["public_score"] = Decimal(str(public_score))
    return data


def miner(public_score: str | int | Decimal | None = "850", records: list[dict[str, Any]] | None = None,
          **kwargs: Any) -> Subject:
    return Subject.model_validate(subject_data(public_score, records, **kwargs))


def uscc_of(number: int) -> str:
    first = f"91150{number:012d}"
    return first + check_character(first)


def years_before(day: dt.date, years: int) -> dt.date:
    """The start day whose period of ``years`` ends exactly on ``day`` (its last day, Civil Code counting)."""
    import calendar

    year = day.year - years
    return dt.date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def population_for(law: Law, count: int, seed: int, as_of: dt.date) -> list[dict[str, Any]]:
    """Plain subjects any rulebook's law can score (its own kind, codes, tiers and levels), with the boundary days
    of its periods, superseded and capped honours, dissolved subjects, and a few subjects the law refuses (a
    public score outside its range, an unknown level or tier, a missing public score, a record id used twice
    beside an unknown tier)."""
    import random

    chooser = random.Random(seed)
    keys = [(indicator.code, tier.tier) for indicator in law.indicators for tier in indicator.tiers]
    levels = [level.id for level in law.levels]
    titles = ["绿色矿山", "先进单位", "综合利用示范", "诚信企业"]
    low = law.public_lower if law.public_lower is not None else Decimal(0)
    high = law.public_upper if law.public_upper is not None else Decimal(1000)
    edges = {"violation": [as_of, years_before(as_of, law.violation_years),
                           years_before(as_of, law.violation_years) - dt.timedelta(days=1),
                           as_of + dt.timedelta(days=1)],
             "honour": [as_of, years_before(as_of, law.honour_years),
                        years_before(as_of, law.honour_years) - dt.timedelta(days=1), as_of + dt.timedelta(days=1)]}
    subjects = []
    for number in range(count):
        records: list[dict[str, Any]] = []
        for position in range(chooser.randrange(0, 12)):
            record_id = f"r-{position}"
            if chooser.random() < 0.6:
                code, tier = chooser.choice(keys)
                day = chooser.choice(edges["violation"]) if chooser.random() < 0.3 else \
                    as_of - dt.timedelta(days=chooser.randrange(-200, 366 * (law.violation_years + 1)))
                records.append(violation(record_id, code, tier, day))
            else:
                day = chooser.choice(edges["honour"]) if chooser.random() < 0.3 else \
                    as_of - dt.timedelta(days=chooser.randrange(-100, 366 * (law.honour_years + 1)))
                valid = day + dt.timedelta(days=chooser.randrange(0, 900)) if chooser.random() < 0.3 else None
                records.append(honour(record_id, chooser.choice(titles), chooser.choice(levels), day, valid))
        places = chooser.randrange(0, 3)
        public: Decimal | None = low + (high - low) * Decimal(chooser.randrange(0, 10 ** (3 + places))) \
            / 10 ** (3 + places)
        subject: dict[str, Any] = {"uscc": uscc_of(number), "name": f"主体{number:05d}", "kind": law.kind,
                                   "status": "dissolved" if chooser.random() < 0.03 else "active",
                                   "records": records}
        trouble = chooser.random()
        if trouble < 0.02:
            public = high + 1                                   # outside the range the formula takes
        elif trouble < 0.03:
            public = None                                       # missing
        elif trouble < 0.04 and records:
            records[0] = honour(records[0]["id"], "某荣誉", "no_such_level", as_of)   # a level the law lacks
        elif trouble < 0.05:
            records.append(violation("r-x", keys[0][0], 99, as_of))
        elif trouble < 0.065 and records:
            # a record id used twice and a tier the law lacks: the model's error and the rulebook's, both reported
            records.append(dict(records[0]))
            records.append(violation("r-x", keys[0][0], 99, as_of))
        if public is not None:
            subject["public_score"] = public
        subjects.append(subject)
    return subjects
