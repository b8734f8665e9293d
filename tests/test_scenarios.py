"""`mincredit test`: drafters' scenario tests and their coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from mincredit._scenarios import run_scenarios
from mincredit.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "rulebooks" / "scenarios"


def test_the_shipped_scenarios_pass_and_cover_every_tier_level_and_band():
    run = run_scenarios([SCENARIOS])
    assert run.failures == []
    assert run.scenarios == run.passed == 57 + 41 + 13 + 7 + 3   # + miner-blacklist, agency-derived (arts. 10–28)
    missing = run.coverage.missing()
    assert set(missing) == {("miner", "2020-draft"), ("agency", "2020-draft")}
    for gaps in missing.values():
        assert gaps == {"tiers": [], "honour_levels": [], "grades": []}
    assert sum(len(tiers) for tiers in run.coverage.tiers.values()) == 153 + 107


WRONG = """\
rulebook: miner
scenarios:
  - name: a drafter's mistaken expectation
    as_of: 2024-06-30
    facts:
      subjects:
        - {uscc: 91150600MA13R7T5Q6, name: 某矿业, kind: miner, public_score: 850,
           records: [{id: v-1, type: violation, indicator: M03, tier: 2, determined_on: 2023-05-10}]}
    expect:
      - {uscc: 91150600MA13R7T5Q6, score: 900, grade: A, counted: [v-1]}
  - name: a correct one
    as_of: 2024-06-30
    facts:
      subjects:
        - {uscc: 91150600MA13R7T5Q6, name: 某矿业, kind: miner, public_score: 850}
    expect:
      - {uscc: 91150600MA13R7T5Q6, score: 970, grade: A}
"""


def test_a_failure_names_expected_actual_and_the_explanation(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "wrong.yaml"
    path.write_text(WRONG, encoding="utf-8")
    assert main(["test", str(path), "--coverage"]) == 1
    out = capsys.readouterr().out
    # 850 × 0.2 + (1000 − 200) × 0.8 = 170 + 640 = 810
    assert f"{path}:10: scenario \"a drafter's mistaken expectation\"" in out
    assert "grade expected A, actual B" in out and "score expected 900, actual 810" in out
    assert "v-1: counted: M03 tier 2, −200 points" in out
    assert "2 scenarios: 1 passed, 1 failed" in out
    assert "tiers not exercised: M01.1, M01.2" in out


def test_an_expected_error_that_does_not_happen_fails(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text(WRONG.replace("score: 970, grade: A", "error_field: tier"), encoding="utf-8")
    run = run_scenarios([path])
    assert any("expected an error on field 'tier'" in f.message for f in run.failures)


def test_a_broken_scenario_file_is_a_failure_not_a_crash(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("rulebook: miner\nscenarios:\n  - name: x\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("rulebook: nosuch\nscenarios: [{name: y, as_of: 2024-01-01, facts: {subjects: []},"
                                     " expect: [{uscc: '1'}]}]\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("rulebook: [\n", encoding="utf-8")
    run = run_scenarios([tmp_path])
    messages = [f.describe() for f in run.failures]
    assert any("a.yaml:3" in m and "as_of" in m for m in messages)
    assert any("b.yaml:1" in m and "'nosuch'" in m for m in messages)
    assert any("c.yaml" in m and "does not parse" in m for m in messages)


def test_missing_path_exits_2(capsys: pytest.CaptureFixture[str]):
    assert main(["test", "no/such/folder"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
