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


# --- the drafter's loop: the rulebook tested is the file being edited ---------------------------------------

def checkout(tmp_path: Path, points: str = "250") -> Path:
    """A checkout as a drafter has it: the project's settings naming rulebooks/, the shipped library copied in, and
    M03 tier 2 re-pointed from 200 to ``points`` — while the installed rulebooks (here: the repository's) keep 200."""
    import shutil

    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "rulebooks", root / "rulebooks")
    (root / "pyproject.toml").write_text('[tool.mincredit]\nlibrary = "rulebooks"\n', encoding="utf-8")
    miner = root / "rulebooks" / "miner.yaml"
    text = miner.read_text(encoding="utf-8")
    old = "      - tier: 2\n        points: 200\n        wording: 未取得采矿许可证擅自采矿，违法所得在10万元以下的。"
    assert text.count(old) == 1
    miner.write_text(text.replace(old, old.replace("points: 200", f"points: {points}")), encoding="utf-8")
    return root


def test_an_edit_to_the_checkouts_rulebook_is_what_the_scenarios_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]):
    root = checkout(tmp_path)
    monkeypatch.chdir(tmp_path)                  # from outside the checkout: the library beside the files
    assert main(["test", str(root / "rulebooks" / "scenarios")]) == 1
    out = capsys.readouterr().out
    assert "M03" in out and "failed" in out and f"rulebooks from {(root / 'rulebooks').resolve()}" in out
    monkeypatch.chdir(root)                      # and from inside it
    assert main(["test", "rulebooks/scenarios"]) == 1
    assert "failed" in capsys.readouterr().out


def test_a_scenario_file_names_its_library_or_the_run_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = checkout(tmp_path, points="200")     # the same points as installed: only the library differs
    scenario = tmp_path / "elsewhere" / "s.yaml"
    scenario.parent.mkdir()
    scenario.write_text(WRONG.replace("rulebook: miner\n", "rulebook: miner\nlibrary: ../checkout/rulebooks\n"),
                        encoding="utf-8")
    run = run_scenarios([scenario])
    assert list(run.libraries) == [(root / "rulebooks").resolve()] and run.notes == []
    assert main(["test", str(tmp_path / "elsewhere" / "s.yaml"), "--library", str(root / "rulebooks")]) == 1
    scenario.write_text(WRONG, encoding="utf-8")
    run = run_scenarios([scenario], library=root / "rulebooks")
    assert list(run.libraries) == [(root / "rulebooks").resolve()] and run.notes == []
    scenario.write_text(WRONG.replace("rulebook: miner\n", "rulebook: miner\nlibrary: nowhere\n"), encoding="utf-8")
    run = run_scenarios([scenario])
    assert run.scenarios == 2 and run.passed == 0
    assert "library: nowhere is not a folder" in run.failures[0].message and run.failures[0].line == 2


def test_a_scenario_file_outside_any_library_uses_the_installed_one_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.chdir(tmp_path)                 # outside any project, too
    scenario = tmp_path / "s.yaml"
    scenario.write_text(WRONG, encoding="utf-8")
    assert main(["test", str(scenario)]) == 1
    captured = capsys.readouterr()
    assert f"note: {scenario}: rulebook 'miner' is found in the installed rulebooks" in captured.err
    assert "library: in the file, or mincredit test --library DIR" in captured.err


def test_a_misspelt_rulebook_id_gets_a_suggestion(tmp_path: Path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(WRONG.replace("rulebook: miner", "rulebook: minr"), encoding="utf-8")
    run = run_scenarios([scenario])
    assert "there is no rulebook called 'minr'" in run.failures[0].message
    assert "did you mean miner?" in run.failures[0].message


def test_the_progress_bar_shows_on_a_terminal_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]):
    from mincredit.cli import _common

    scenario = tmp_path / "s.yaml"
    scenario.write_text(WRONG, encoding="utf-8")
    main(["test", str(scenario)])
    assert "scenario files" not in capsys.readouterr().err
    monkeypatch.setattr(_common, "_stderr_is_terminal", lambda: True)
    main(["test", str(scenario)])
    assert "scenario files" in capsys.readouterr().err
