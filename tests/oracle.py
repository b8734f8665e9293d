"""An independent calculation of the score of plain subjects, from a rulebook file read without mincredit.

Written from the regulation's rules directly — a violation counts from its determination through the same day
so many years later (Civil Code art. 202; 29 February → 28 February), an honour through its validity or the
default years, the same honour once at its highest level, the cap, the formula, the first band holding the
score — with none of mincredit's code: the rulebook is read by ruamel's own safe loader, dates by the standard
library, the numbers as Decimals of their text.  The contract tests hold every path of mincredit to it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def years_later(day: dt.date, years: int) -> dt.date:
    year = day.year + years
    return dt.date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def number(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class Oracle:
    kind: str
    points: dict[tuple[str, int], Decimal]
    levels: dict[str, Decimal]
    cap: Decimal
    base: Decimal
    public_weight: Decimal
    industry_weight: Decimal
    public_range: tuple[Decimal | None, Decimal | None]
    violation_years: int
    honour_years: int
    bands: list[tuple[str, Decimal | None, bool, Decimal | None, bool]]

    @classmethod
    def read(cls, path: Path) -> Oracle:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        formula = data["formula"]
        public = formula.get("public_score") or {}
        bands = []
        for band in data["grades"]:
            lower, upper = band.get("lower"), band.get("upper")
            bands.append((str(band["grade"]), number(lower["value"]) if lower else None,
                          bool(lower["inclusive"]) if lower else False,
                          number(upper["value"]) if upper else None, bool(upper["inclusive"]) if upper else False))
        return cls(
            kind=data["rulebook"]["subject_kind"],
            points={(ind["code"], tier["tier"]): number(tier["points"]) for ind in data["indicators"]
                    for tier in ind["tiers"]},
            levels={level["level"]: number(level["points"]) for level in data["honours"]["levels"]},
            cap=number(data["honours"]["cap"]), base=number(formula["base"]),
            public_weight=number(formula["public_weight"]), industry_weight=number(formula["industry_weight"]),
            public_range=(number(public["lower"]) if "lower" in public else None,
                          number(public["upper"]) if "upper" in public else None),
            violation_years=int(data["retention"]["violation"]["years"]),
            honour_years=int(data["retention"]["honour_default"]["years"]),
            bands=bands)

    def grade(self, score: Decimal) -> str:
        for label, lower, lower_in, upper, upper_in in self.bands:
            if lower is not None and (score < lower or (score == lower and not lower_in)):
                continue
            if upper is not None and (score > upper or (score == upper and not upper_in)):
                continue
            return label
        raise AssertionError(f"no band holds {score}")

    def evaluate(self, subject: dict[str, Any], as_of: dt.date) -> tuple[str | None, Decimal | None, Decimal,
                                                                            Decimal] | str:
        """(grade, score, deductions, bonus) of a plain subject, or the field of its error."""
        if subject["kind"] != self.kind:
            return "kind"
        public = subject.get("public_score")
        public = Decimal(str(public)) if public is not None else None
        low, high = self.public_range
        if public is not None and ((low is not None and public < low) or (high is not None and public > high)):
            return "public_score"
        for record in subject.get("records", []):
            if record["type"] == "violation" and (record["indicator"], record["tier"]) not in self.points:
                return "tier" if any(code == record["indicator"] for code, _ in self.points) else "indicator"
            if record["type"] == "honour" and record["level"] not in self.levels:
                return "level"
        if subject.get("status", "active") == "dissolved":
            return (None, None, Decimal(0), Decimal(0))
        if public is None:
            return "public_score"
        deductions = Decimal(0)
        best: dict[str, Decimal] = {}
        for record in subject.get("records", []):
            if record["type"] == "violation":
                start = dt.date.fromisoformat(record["determined_on"])
                if start <= as_of <= years_later(start, self.violation_years):
                    deductions += self.points[(record["indicator"], record["tier"])]
            else:
                start = dt.date.fromisoformat(record["awarded_on"])
                until = (dt.date.fromisoformat(record["valid_until"]) if record.get("valid_until")
                         else years_later(start, self.honour_years))
                if start <= as_of <= until:
                    best[record["honour"]] = max(best.get(record["honour"], Decimal(0)), self.levels[record["level"]])
        bonus = min(sum(best.values(), Decimal(0)), self.cap)
        with localcontext() as context:
            context.prec = 80
            score = public * self.public_weight + (self.base - deductions + bonus) * self.industry_weight
        return (self.grade(score), score, deductions, bonus)
