"""The benchmark's correctness checks on a small population (no timing is asserted: machines are noisy)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def test_every_variant_grades_the_population_like_the_engine(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    report_path = tmp_path / "report.json"
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--subjects", "300", "--repeat", "1",
                           "--data", str(tmp_path), "--json", str(report_path)],
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["subjects"] == 300 and report["records"] > 2000
    by_name = {variant["name"]: variant for variant in report["variants"]}
    assert {"mincredit-parquet", "mincredit-jsonl", "mincredit-table", "mincredit-api", "mincredit-api-mappings",
            "plain", "plain-memory"} <= set(by_name)
    for variant in report["variants"]:
        if variant["note"].startswith("skipped"):
            continue
        assert variant["identical"] is True, (variant["name"], variant["note"])
        assert variant["median"] is not None and variant["median"] > 0
    assert "| mincredit, Parquet → Parquet (columnar path) |" in done.stdout


def test_the_population_uses_every_tier_and_level() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import generate
    finally:
        sys.path.pop(0)
    keys = generate.tier_keys()
    subjects = list(generate.population(400, seed=3, keys=keys))
    used = {(r["indicator"], r["tier"]) for s in subjects for r in s["records"] if r["type"] == "violation"}
    levels = {r["level"] for s in subjects for r in s["records"] if r["type"] == "honour"}
    assert used == set(keys)
    assert levels == set(generate.LEVELS)
    assert list(generate.population(50, seed=3, keys=keys)) == subjects[:50]     # deterministic
    assert {s["status"] for s in subjects} == {"active", "dissolved"}
    days = [dt.date.fromisoformat(r.get("determined_on") or r["awarded_on"]) for s in subjects for r in s["records"]]
    assert min(days) < dt.date(2019, 6, 30) < dt.date(2024, 6, 30) < max(days)   # expired, counted and future records
