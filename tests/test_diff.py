"""What a revision changes, rule by rule and subject by subject.

The revision is tests/fixtures/miner-hypothetical-revision.yaml: HYPOTHETICAL, NOT A REAL REGULATION.
Each subject of tests/fixtures/population.yaml is built to show one of its effects; the expected
scores are computed by hand in that file's comments (as of 2024-06-30).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fixtures.versions_library import POPULATION, REVISION, SHIPPED, edited, revised_library

from mincredit._diff import ERROR, NOT_EVALUATED, RuleChange, diff_rulebooks, histogram, rule_changes, score_summary
from mincredit._yaml import read_yaml
from mincredit.cli import main
from mincredit.facts._validating import read_facts_file
from mincredit.rules._compiling import compile_rulebook
from mincredit.rules._loading import load_rulebook_file
from mincredit.rules._registry import load_rulebook

AS_OF = dt.date(2024, 6, 30)
MEANING_AREAS = {"formula", "grade", "honour", "retention", "indicator", "tier"}


def draft() -> Any:
    return load_rulebook_file(SHIPPED / "miner.yaml").rulebook


def revision() -> Any:
    return load_rulebook_file(REVISION).rulebook


def summary(change: RuleChange) -> tuple[str | None, ...]:
    return (change.where, change.change, change.field, change.old, change.new)


# --- rule changes ---------------------------------------------------------------------------------

def test_the_revision_changes_exactly_what_it_says():
    changes = rule_changes(draft(), revision())
    # quantities, interpretations and tier conditions belong to the real rulebook's own evolution: the
    # fixture is regenerated from it (make_hypothetical_revision.py), these are the revision's own changes
    scoring = [summary(c) for c in changes if c.area in MEANING_AREAS and c.change not in {"condition", "reference"}]
    assert scoring == [
        ("grade B", "wording", "annex", "800＜N≤900", "820＜N≤900"),
        ("grade B", "boundary", "lower", "N > 800", "N > 820"),
        ("grade C", "wording", "annex", "700＜N≤800", "700＜N≤820"),
        ("grade C", "boundary", "upper", "N ≤ 800", "N ≤ 820"),
        ("honour city_government", "re-pointed", "points", "50", "60"),
        ("M01.1", "wording", "wording", "未按规定办理采矿或勘查许可证变更或注销手续的。",
         "未按规定办理采矿或勘查许可证变更、延续或注销手续的。"),
        ("M03.2", "re-pointed", "points", "200", "300"),
        ("M57", "removed", None, "构成矿产资源犯罪（不包含本办法第十六条第一款的刑事处罚信息）", None),
        ("M57.1", "removed", None, "400 points: 经司法生效判决认定构成矿产资源犯罪的", None),
        ("M58", "added", None, None, "（假设指标，测试用）未按规定公示矿山生态修复基金提取和使用情况"),
        ("M58.1", "added", None, None, "100 points: （假设）经责令限期公示仍未公示的。"),
        ("M58.2", "added", None, None, "200 points: （假设）公示内容虚假的。"),
    ]
    identity = {c.field: (c.old, c.new) for c in changes if c.area == "rulebook"}
    assert identity["version"] == ("2020-draft", "2025-hypothetical")
    assert identity["status"] == ("draft", "hypothetical")
    assert identity["effective"] == ("2020-12-01 to 2025-11-30", "from 2025-12-01, no end date")


def test_layout_comments_order_and_number_spelling_are_no_change(tmp_path: Path):
    """The draft rewritten as JSON (valid YAML): no comments, other layout, 0.2 written 0.20, and
    then with the indicators and the grade bands in reverse order."""
    data = read_yaml((SHIPPED / "miner.yaml").read_text(encoding="utf-8")).data

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value) if value != Decimal("0.2") else "0.20"
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: plain(item) for key, item in reversed(value.items())}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    rewritten = tmp_path / "rewritten.yaml"
    rewritten.write_text(json.dumps(plain(data), ensure_ascii=False), encoding="utf-8")
    same = load_rulebook_file(rewritten).rulebook
    assert compile_rulebook(same).digest == load_rulebook("miner@2020-draft").digest
    assert rule_changes(draft(), same) == []
    reordered_data = plain(data)
    reordered_data["indicators"].reverse()
    reordered_data["grades"].reverse()
    reordered = tmp_path / "reordered.yaml"
    reordered.write_text(json.dumps(reordered_data, ensure_ascii=False), encoding="utf-8")
    assert rule_changes(draft(), load_rulebook_file(reordered).rulebook) == []


def test_formula_retention_and_reference_changes_are_classified(tmp_path: Path):
    text = (SHIPPED / "miner.yaml").read_text(encoding="utf-8")
    text = text.replace("  public_weight: 0.2\n", "  public_weight: 0.3\n", 1)
    text = text.replace("  industry_weight: 0.8\n", "  industry_weight: 0.7\n", 1)
    text = text.replace("    years: 5\n", "    years: 3\n", 1)
    text = text.replace("  - code: M02\n    row: 2\n", "  - code: M02\n    row: 20\n", 1)
    changed = tmp_path / "changed.yaml"
    changed.write_text(text, encoding="utf-8")
    changes = [(*summary(c), c.area) for c in rule_changes(draft(), load_rulebook_file(changed).rulebook)]
    assert changes == [
        ("formula", "changed", "public_weight", "0.2", "0.3", "formula"),
        ("formula", "changed", "industry_weight", "0.8", "0.7", "formula"),
        ("retention violation", "changed", "years", "5", "3", "retention"),
        ("M02", "reference", "row", "2", "20", "indicator"),
    ]


# --- population impact ----------------------------------------------------------------------------

def impact_report() -> Any:
    old = load_rulebook("miner@2020-draft")
    new = compile_rulebook(revision())
    return diff_rulebooks(old, new, population=list(read_facts_file(POPULATION)), as_of=AS_OF,
                          facts=str(POPULATION))


def test_the_grade_migration_matrix():
    impact = impact_report().impact
    assert impact.population == 7 and impact.seconds >= 0
    assert impact.categories == ("A", "B", "C", "D", "E", NOT_EVALUATED, ERROR)
    moved = {(old, new): n for old, row in impact.matrix.items() for new, n in row.items() if n}
    assert moved == {("A", "A"): 1,                 # 丁: no records, 962.47 under both
                     ("B", "C"): 2,                 # 甲 (points and boundary), 乙 (boundary alone)
                     ("D", ERROR): 1,               # 丙: M57 removed
                     ("E", "E"): 1,                 # 己: 500 → 508
                     (NOT_EVALUATED, NOT_EVALUATED): 1,   # 戊: dissolved
                     (ERROR, "A"): 1}               # 庚: M58 is new


def test_the_subjects_that_change_grade_and_the_rules_that_moved_them():
    impact = impact_report().impact
    moves = {move.uscc: move for move in impact.moves}
    assert list(moves) == ["91150600MA0P1A1B1G", "91150600MA0P1A1B2K", "91150600MA0P1A1B3N", "91150600MA0P1A1B73"]
    first = moves["91150600MA0P1A1B1G"]
    assert (first.old.category, first.old.score, first.new.category, first.new.score) == (
        "B", Decimal(890), "C", Decimal(810))
    assert [(r.rule, r.detail, r.old, r.new) for r in first.reasons] == [
        ("M03.2", "record p1-v1", "−200", "−300"),
        ("grade bands", "N = 810", "B under the old bands", "C under the new"),
    ]
    second = moves["91150600MA0P1A1B2K"]
    assert (second.old.score, second.new.score) == (Decimal(810), Decimal(810))
    assert [r.rule for r in second.reasons] == ["grade bands"]
    third = moves["91150600MA0P1A1B3N"]
    assert (third.old.category, third.old.score, third.new.category) == ("D", Decimal(660), ERROR)
    assert [r.text() for r in third.reasons] == [
        "not evaluable under the new rulebook (record p3-v1: there is no indicator M57 in rulebook miner "
        "2025-hypothetical; its indicators are M01–M58)"]
    last = moves["91150600MA0P1A1B73"]
    assert (last.old.category, last.new.category, last.new.score) == (ERROR, "A", Decimal(920))
    # 己 keeps E but its score moves: the city-level honour is worth 60 instead of 50
    (same_grade,) = [m for m in impact.score_changes if not m.grade_changed]
    assert (same_grade.uscc, same_grade.old.score, same_grade.new.score) == ("91150600MA0P1A1B60", 500, 508)
    assert [(r.rule, r.old, r.new) for r in same_grade.reasons] == [("honour city_government", "+50", "+60")]


def test_the_score_distributions():
    impact = impact_report().impact
    assert sorted(impact.old_scores) == [500, 660, 810, 890, Decimal("962.47")]
    assert sorted(impact.new_scores) == [508, 810, 810, 920, Decimal("962.47")]
    # means: 3822.47 / 5 = 764.494 → 764.49 and 4010.47 / 5 = 802.094 → 802.09
    assert score_summary(impact.old_scores) == {"count": 5, "min": "500", "median": "810", "mean": "764.49",
                                                "max": "962.47"}
    assert score_summary(impact.new_scores) == {"count": 5, "min": "508", "median": "810", "mean": "802.09",
                                                "max": "962.47"}
    bins = {(b["from"], b["to"]): (b["old"], b["new"]) for b in histogram(impact.old_scores, impact.new_scores)}
    assert bins[("450", "500")] == (1, 0)          # 500 is in (450, 500], as a grade band would have it
    assert bins[("500", "550")] == (0, 1)
    assert bins[("800", "850")] == (1, 2)
    assert bins[("850", "900")] == (1, 0)
    assert bins[("900", "950")] == (0, 1)
    assert sum(old for old, _ in bins.values()) == sum(new for _, new in bins.values()) == 5


def test_score_summary_of_an_even_count_and_of_nothing():
    assert score_summary([Decimal(1), Decimal(2), Decimal(4), Decimal(10)])["median"] == "3"
    assert score_summary([])["count"] == 0 and histogram([], []) == []


# --- the command line -----------------------------------------------------------------------------

def test_cli_diff_table_lists_changes_and_impact(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    library = revised_library(tmp_path / "library")
    assert main(["diff", "miner@2020-draft", "miner", "--library", str(library), "--population", str(POPULATION),
                 "--as-of", "2024-06-30"]) == 0
    out = capsys.readouterr().out
    assert "miner@2020-draft" in out and "miner@2025-hypothetical" in out
    assert "re-pointed" in out and "M03.2" in out and "M57" in out and "M58" in out
    assert "Population: 7 subject(s)" in out and "evaluated under both rulebooks in" in out
    assert "4 subject(s) change grade" in out
    assert "91150600MA0P1A1B60 500 → 508" in out


def test_cli_diff_json(capsys: pytest.CaptureFixture[str]):
    assert main(["diff", "miner@2020-draft", str(REVISION), "--population", str(POPULATION), "--as-of",
                 "2024-06-30", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"]["version"], data["new"]["version"], data["same_digest"]) == (
        "2020-draft", "2025-hypothetical", False)
    assert {"area": "tier", "where": "M03.2", "change": "re-pointed", "field": "points", "old": "200",
            "new": "300"} in data["changes"]
    population = data["population"]
    assert population["population"] == 7 and population["as_of"] == "2024-06-30"
    assert population["migration"]["B"]["C"] == 2 and population["migration"]["error"]["A"] == 1
    assert [(m["uscc"], m["old_grade"], m["new_grade"], m["old_score"], m["new_score"])
            for m in population["grade_changes"]] == [
        ("91150600MA0P1A1B1G", "B", "C", "890", "810"), ("91150600MA0P1A1B2K", "B", "C", "810", "810"),
        ("91150600MA0P1A1B3N", "D", "error", "660", None), ("91150600MA0P1A1B73", "error", "A", None, "920")]
    assert population["scores"]["new"]["mean"] == "802.09"
    assert [e["record_id"] for e in population["errors"]["old"]] == ["p7-v1"]
    assert [e["record_id"] for e in population["errors"]["new"]] == ["p3-v1"]


def test_cli_diff_of_a_rulebook_with_itself(capsys: pytest.CaptureFixture[str]):
    assert main(["diff", "miner", str(SHIPPED / "miner.yaml")]) == 0
    assert "same digest: they mean the same" in capsys.readouterr().out


def test_cli_diff_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "impact.png"
    assert main(["diff", "miner@2020-draft", str(REVISION), "--population", str(POPULATION), "--as-of",
                 "2024-06-30", "--plot", str(plot), "--format", "json"]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


def test_cli_diff_plot_without_matplotlib_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["diff", "miner@2020-draft", str(REVISION), "--population", str(POPULATION), "--as-of",
                 "2024-06-30", "--plot", str(tmp_path / "x.png")]) == 2
    assert "pip install 'mincredit[plot]'" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "words"), [
    (["miner", "agency"], "compare two versions of the same rulebook"),
    (["miner", str(REVISION), "--population", str(POPULATION)], "--population needs --as-of"),
    (["miner", str(REVISION), "--as-of", "2024-06-30"], "--as-of and --plot go with --population"),
    (["miner@1999", str(REVISION)], "no version '1999'"),
])
def test_cli_diff_unusable_arguments(args: list[str], words: str, capsys: pytest.CaptureFixture[str]):
    assert main(["diff", *args]) == 2
    assert words in capsys.readouterr().err


def test_cli_diff_with_unreadable_facts_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    facts = tmp_path / "facts.yaml"
    facts.write_text(POPULATION.read_text(encoding="utf-8").replace("public_score: 1000", "public_score: 1200"),
                     encoding="utf-8")
    assert main(["diff", "miner@2020-draft", str(REVISION), "--population", str(facts), "--as-of",
                 "2024-06-30", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["population"]["migration"][ERROR][ERROR] == 1


def test_cli_diff_of_an_edited_file_with_the_same_version_names_the_files(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]):
    wording = "\n        wording: 未取得采矿许可证擅自采矿，违法所得在10万元以下的。"
    edited_file = edited(SHIPPED / "miner.yaml", tmp_path / "edited" / "miner.yaml",
                         f"      - tier: 2\n        points: 200{wording}",
                         f"      - tier: 2\n        points: 250{wording}")
    assert main(["diff", "miner", str(edited_file)]) == 0
    out = capsys.readouterr().out
    assert "miner = miner@2020-draft" in out and f"{edited_file} = miner@2020-draft" in out
    assert main(["diff", "miner", str(edited_file), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"]["label"], data["new"]["label"]) == ("miner", str(edited_file))
    assert main(["diff", "miner@2020-draft", str(REVISION), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"]["label"], data["new"]["label"]) == ("miner@2020-draft", "miner@2025-hypothetical")


def test_cli_diff_plot_is_checked_before_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["diff", "miner@2020-draft", str(REVISION), "--population", str(POPULATION), "--as-of",
                 "2024-06-30", "--plot", str(tmp_path / "x.png")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "pip install 'mincredit[plot]'" in captured.err
    monkeypatch.delitem(sys.modules, "matplotlib.figure")
    pytest.importorskip("matplotlib")
    assert main(["diff", "miner@2020-draft", str(REVISION), "--population", str(POPULATION), "--as-of",
                 "2024-06-30", "--plot", str(tmp_path / "missing" / "x.png")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "the folder" in captured.err and "does not exist" in captured.err


def test_cli_diff_population_shows_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]):
    from mincredit.cli import _common

    monkeypatch.setattr(_common, "_stderr_is_terminal", lambda: True)
    assert main(["diff", "miner@2020-draft", str(REVISION), "--population", str(POPULATION), "--as-of",
                 "2024-06-30", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "evaluating under both rulebooks" in captured.err and json.loads(captured.out)["population"]


def test_cli_diff_of_different_kinds_says_so_without_plurals(capsys: pytest.CaptureFixture[str]):
    assert main(["diff", "miner", "agency"]) == 2
    err = capsys.readouterr().err
    assert "those of kind 'agency'" in err and "agencys" not in err
