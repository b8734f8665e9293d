"""Subjects as other systems write them: plain facts, and the ways they go wrong (or are unusual but right).

Hypothesis strategies shared by the population tests: every path must give the same answer for each of
these, a result or the same errors.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from builders import shipped, uscc_of
from hypothesis import strategies as st

RULEBOOK = shipped("miner")
AS_OF = dt.date(2024, 6, 30)
TIER_KEYS = sorted((indicator.code, tier.tier) for indicator in RULEBOOK.law.indicators for tier in indicator.tiers)
LEVELS = sorted(level.id for level in RULEBOOK.law.levels)

dates = st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def raw_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index in range(draw(st.integers(min_value=0, max_value=10))):
        if draw(st.booleans()):
            code, tier = draw(st.sampled_from(TIER_KEYS))
            out.append({"id": f"v-{index}", "type": "violation", "indicator": code, "tier": tier,
                        "determined_on": draw(dates).isoformat()})
        else:
            awarded = draw(dates)
            record: dict[str, Any] = {"id": f"h-{index}", "type": "honour",
                                      "honour": draw(st.sampled_from(["绿色矿山", "先进单位", "示范"])),
                                      "level": draw(st.sampled_from(LEVELS)), "awarded_on": awarded.isoformat()}
            if draw(st.booleans()):
                record["valid_until"] = draw(st.dates(min_value=awarded, max_value=dt.date(2029, 1, 1))).isoformat()
            out.append(record)
    return out


# Ways a subject can be wrong, or unusual but right; each is applied to plain facts data.
MUTATIONS: list[tuple[str, Any]] = [
    ("bad check character", lambda s: s.update(uscc=s["uscc"][:17] + ("0" if s["uscc"][17] != "0" else "1"))),
    ("uscc as int", lambda s: s.update(uscc=123)),
    ("empty name", lambda s: s.update(name="")),
    ("agency", lambda s: s.update(kind="agency")),
    ("unknown kind", lambda s: s.update(kind="mine")),
    ("dissolved", lambda s: s.update(status="dissolved")),
    ("dissolved without score", lambda s: (s.update(status="dissolved"), s.pop("public_score"))),
    ("no public score", lambda s: s.pop("public_score")),
    ("score over 1000", lambda s: s.update(public_score=Decimal("1000.01"))),
    ("score 1000", lambda s: s.update(public_score=Decimal("1000"))),
    ("score as text", lambda s: s.update(public_score="812.35")),
    ("score as int", lambda s: s.update(public_score=700)),
    ("score as float", lambda s: s.update(public_score=812.35)),
    ("negative score", lambda s: s.update(public_score=Decimal("-1"))),
    ("exponent score", lambda s: s.update(public_score=Decimal("8.5E+2"))),
    ("unknown field", lambda s: s.update(extra=1)),
    ("records not a list", lambda s: s.update(records={})),
]
RECORD_MUTATIONS: list[tuple[str, Any]] = [
    ("duplicate id", lambda r, rs: rs.append(dict(r))),
    ("id with spaces", lambda r, rs: r.update(id=f" {r['id']} ")),
    ("numeric id", lambda r, rs: r.update(id=7)),
    ("empty id", lambda r, rs: r.update(id="")),
    ("unknown record field", lambda r, rs: r.update(amount=5)),
    ("bad type", lambda r, rs: r.update(type="warning")),
    ("authority", lambda r, rs: r.update(authority="鄂尔多斯市自然资源局")),
    ("authority not text", lambda r, rs: r.update(authority=5)),
    ("bad date", lambda r, rs: r.update({k: "2023-02-30" for k in ("determined_on", "awarded_on") if k in r})),
    ("datetime text", lambda r, rs: r.update({k: v + "T00:00:00" for k, v in r.items()
                                              if k in ("determined_on", "awarded_on")})),
    ("unknown indicator", lambda r, rs: r.update(indicator="M99") if r["type"] == "violation" else None),
    ("agency indicator", lambda r, rs: r.update(indicator="A05") if r["type"] == "violation" else None),
    ("unknown tier", lambda r, rs: r.update(tier=9) if r["type"] == "violation" else None),
    ("tier as text", lambda r, rs: r.update(tier=str(r["tier"])) if r["type"] == "violation" else None),
    ("tier zero", lambda r, rs: r.update(tier=0) if r["type"] == "violation" else None),
    ("tier bool", lambda r, rs: r.update(tier=True) if r["type"] == "violation" else None),
    ("indicator with space", lambda r, rs: r.update(indicator=r["indicator"] + " ") if r["type"] == "violation"
     else None),
    ("honour field on violation", lambda r, rs: r.update(honour="x") if r["type"] == "violation" else None),
    ("unknown level", lambda r, rs: r.update(level="county") if r["type"] == "honour" else None),
    ("validity before award", lambda r, rs: r.update(valid_until="2000-01-01") if r["type"] == "honour" else None),
    ("null validity", lambda r, rs: r.update(valid_until=None) if r["type"] == "honour" else None),
]


@st.composite
def raw_subjects(draw: st.DrawFn) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "uscc": uscc_of(draw(st.integers(min_value=0, max_value=10 ** 6))), "name": "某矿业有限公司",
        "kind": "miner", "public_score": draw(st.decimals(min_value=0, max_value=1000, places=2)),
        "records": draw(raw_records())}
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        _, mutate = draw(st.sampled_from(MUTATIONS))
        mutate(subject)
    records = subject.get("records")
    if isinstance(records, list) and records and draw(st.integers(min_value=0, max_value=3)) == 0:
        _, mutate = draw(st.sampled_from(RECORD_MUTATIONS))
        mutate(draw(st.sampled_from(records)), records)
    return subject



def write_jsonl(path: Path, subjects: list[Any], extra_lines: tuple[str, ...] = ()) -> Path:
    """Subjects as JSON lines, public scores as JSON numbers (their exact text)."""
    lines = [json.dumps(s, ensure_ascii=False, default=str).replace(
        f'"public_score": "{s.get("public_score")}"', f'"public_score": {s.get("public_score")}')
        if isinstance(s, dict) else json.dumps(s) for s in subjects]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


def results_of(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()  # type: ignore[no-any-return]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
