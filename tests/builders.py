"""Small builders for subjects and records used across the tests."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from mincredit.facts._models import Subject
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import load_rulebook

MINER_USCC = "91150600MA13R7T5Q6"
OTHER_MINER_USCC = "91150200MA0N8K2L4Q"
AGENCY_USCC = "12150000MB1A2C3D4A"


@cache
def shipped(name: str) -> CompiledRulebook:
    return load_rulebook(name)


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
