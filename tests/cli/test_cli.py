"""The command line, run as a user runs it: exit codes, formats, installed rulebooks."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mincredit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "miners.yaml"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mincredit.cli", *args], capture_output=True, text=True,
                          cwd=cwd, check=False)


def test_evaluate_json_from_another_directory(tmp_path: Path):
    done = run("evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "json",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["rulebook"]["id"] == "miner" and data["rulebook"]["version"] == "2020-draft"
    assert data["rulebook"]["digest"].startswith("sha256:")
    assert data["as_of"] == "2024-06-30" and data["errors"] == []
    scores = {r["uscc"]: (r["grade"], r["score"]) for r in data["results"]}
    assert scores["91150600MA13R7T5Q6"] == ("B", "890")
    assert scores["91150200MA0N8K2L4Q"] == ("A", "962.47")
    assert scores["91150100MA0Q3F9X1W"] == ("E", "500")     # 140 + (1000 − 600 + 50) × 0.8
    assert scores["91150700MA0R5P6J2E"] == (None, None)      # dissolved
    first = data["results"][0]
    assert set(first) >= {"uscc", "name", "grade", "score", "deductions", "honour_bonus", "items"}
    assert first["items"][0]["wording"] == "未取得采矿许可证擅自采矿，违法所得在10万元以下的。"


def test_evaluate_table_shows_grades_with_their_meaning(capsys: pytest.CaptureFixture[str]):
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30"]) == 0
    out = capsys.readouterr().out
    assert "信用良好" in out and "962.47" in out and "主体资格灭失" in out


def test_errors_give_exit_1_and_the_rest_is_evaluated(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    facts = tmp_path / "f.yaml"
    facts.write_text(EXAMPLE.read_text(encoding="utf-8").replace("tier: 2, determined_on: 2023-05-10",
                                                                 "tier: 9, determined_on: 2023-05-10"),
                     encoding="utf-8")
    assert main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert len(data["results"]) == 3
    (error,) = data["errors"]
    assert error["record_id"] == "v-1" and error["field"] == "tier" and error["file"] == str(facts)


@pytest.mark.parametrize("args", [
    ["evaluate", str(EXAMPLE), "--rulebook", "nosuch", "--as-of", "2024-06-30"],
    ["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-02-30"],
    ["evaluate", "missing.yaml", "--rulebook", "miner", "--as-of", "2024-06-30"],
    ["evaluate", str(EXAMPLE), "--as-of", "2024-06-30"],
])
def test_unusable_arguments_exit_2(args: list[str]):
    done = run(*args)
    assert done.returncode == 2
    assert done.stderr.strip()
    assert "Traceback" not in done.stderr


def test_table_csv_has_one_row_per_tier():
    done = run("table", "--rulebook", "miner", "--format", "csv")
    assert done.returncode == 0
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 153
    assert rows[0] == {"indicator": "M01", "tier": "1", "points": "300",
                       "indicator_title": "未按规定办理采矿许可证或勘查许可证登记手续",
                       "wording": "未按规定办理采矿或勘查许可证变更或注销手续的。"}


def test_table_json_for_agency():
    done = run("table", "--rulebook", "agency", "--format", "json")
    rows = json.loads(done.stdout)
    assert len(rows) == 107 and rows[-1]["indicator"] == "A41" and rows[-1]["points"] == "400"
