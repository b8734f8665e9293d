"""`mincredit lint`: output formats, selection, severities, exit status, folders, --against; the shipped rulebooks."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from mincredit.cli import main
from mincredit.lint._codes import CODES
from mincredit.lint._command import lint_paths

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "lint_cases"
BASE = CASES / "base.yaml"
RULEBOOKS = ROOT / "rulebooks"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["lint", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_shipped_rulebooks_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--strict", str(RULEBOOKS))
    assert (code, out, err) == (0, "2 files checked, no findings.\n", "")


def test_shipped_rulebooks_lint_well_under_a_second() -> None:
    lint_paths([str(RULEBOOKS)])  # imports and first-use set-up are not what is measured
    start = time.perf_counter()
    findings, files = lint_paths([str(RULEBOOKS)])
    elapsed = time.perf_counter() - start
    assert (findings, files) == ([], 2)
    assert elapsed < 0.5, f"linting the shipped rulebooks took {elapsed:.3f} s"


def test_text_format_lines_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    files = [CASES / "R008-row-mismatch.yaml", CASES / "G002-overlap-at-900.yaml", CASES / "R009-same-wording.yaml"]
    code, out, _ = run(capsys, *map(str, files))
    lines = out.splitlines()
    assert code == 1
    assert lines[-1] == "3 files checked: 1 error, 2 warnings."
    assert lines[:-1] == sorted(lines[:-1], key=lambda line: (line.split(":")[0], int(line.split(":")[1])))
    assert lines[0].startswith(f"{CASES / 'G002-overlap-at-900.yaml'}:36:5: G002 the score 900 falls in two")


def test_warnings_alone_pass_unless_strict(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CASES / "R008-row-mismatch.yaml")
    assert run(capsys, path)[0] == 0
    code, out, _ = run(capsys, "--strict", path, "--format", "json")
    assert code == 1
    assert [f["severity"] for f in json.loads(out)] == ["error"]


def test_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    path = CASES / "Q001-overlap-at-10.yaml"
    code, out, _ = run(capsys, "--format", "json", str(path))
    assert code == 1
    assert json.loads(out) == [{
        "path": str(path), "line": 133, "column": 11, "code": "Q001", "severity": "error",
        "message": "M02 tiers 2 and 3 both claim illegal_gain = 10 万元 (tier 2: x ≤ 10 万元; tier 3: 10 万元 ≤ x ≤ "
                   "30 万元); settle which tier it belongs to"}]
    assert json.loads(run(capsys, "--format", "json", str(BASE))[1]) == []


def _check_sarif(log: dict[str, Any]) -> None:
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [run_] = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] and isinstance(driver["rules"], list)
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == list(CODES)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning"}
    for result in run_["results"]:
        assert result["ruleId"] in rule_ids
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note", "none"}
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        region = physical["region"]
        assert isinstance(region["startLine"], int) and region["startLine"] >= 1
        assert isinstance(region["startColumn"], int) and region["startColumn"] >= 1


def test_sarif_format(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "--format", "sarif", "tests/lint_cases/Q001-overlap-at-10.yaml",
                       "tests/lint_cases/R008-row-mismatch.yaml")
    assert code == 1
    log = json.loads(out)
    _check_sarif(log)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("Q001", "error"), ("R008", "warning")]
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"] == {"uri": "tests/lint_cases/Q001-overlap-at-10.yaml", "uriBaseId": "%SRCROOT%"}
    assert first["region"] == {"startLine": 133, "startColumn": 11}
    clean = json.loads(run(capsys, "--format", "sarif", "tests/lint_cases/base.yaml")[1])
    _check_sarif(clean)
    assert clean["runs"][0]["results"] == []


def test_sarif_uri_of_a_chinese_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(CASES / "R008-row-mismatch.yaml", tmp_path / "矿业权人 规则.yaml")
    log = json.loads(run(capsys, "--format", "sarif", "矿业权人 规则.yaml")[1])
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "%E7%9F%BF%E4%B8%9A%E6%9D%83%E4%BA%BA%20%E8%A7%84%E5%88%99.yaml"


def test_select_and_ignore_by_code_and_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(CASES / "R008-row-mismatch.yaml"), str(CASES / "G002-overlap-at-900.yaml")]

    def codes(*options: str) -> list[str]:
        return [f["code"] for f in json.loads(run(capsys, "--format", "json", *options, *files)[1])]

    assert codes() == ["G002", "R008"]
    assert codes("--select", "G") == ["G002"]
    assert codes("--select", "R008,G00") == ["G002", "R008"]
    assert codes("--ignore", "R") == ["G002"]
    assert codes("--select", "R", "--select", "G002", "--ignore", "G002") == ["R008"]
    assert run(capsys, "--ignore", "G", *files)[0] == 0  # only a warning is left


def test_unknown_selector_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--select", "Z1", str(BASE))
    assert code == 2 and out == ""
    assert "'Z1' is not a lint code" in err


def test_missing_path_cannot_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, str(BASE), str(tmp_path / "nowhere.yaml"))
    assert code == 2 and out == ""
    assert "no such file or folder" in err


def test_no_paths_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys)[0] == 2


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["lint", "--format", "xml", str(BASE)])
    assert caught.value.code == 2


def test_unreadable_file_cannot_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "locked.yaml"
    path.write_bytes(BASE.read_bytes())
    path.chmod(0)
    try:
        if _readable(path):
            pytest.skip("running as a user who can read any file")
        code, _, err = run(capsys, str(path))
        assert code == 2 and "cannot read" in err
    finally:
        path.chmod(0o644)


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except OSError:
        return False
    return True


def test_folder_means_its_rulebook_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(CASES / "G002-overlap-at-900.yaml", tmp_path / "b.yml")
    shutil.copy(BASE, tmp_path / "a.yaml")
    (tmp_path / "notes.txt").write_text("not a rulebook", encoding="utf-8")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "scenario.yaml").write_text("scenarios: []\n", encoding="utf-8")
    code, out, _ = run(capsys, str(tmp_path))
    assert code == 1
    assert out.splitlines()[-1] == "2 files checked: 1 error, 0 warnings."
    assert out.startswith(str(tmp_path / "b.yml"))


def test_folder_without_rulebooks_cannot_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2 and "no rulebook files" in err


def test_empty_and_invalid_utf8_files_are_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.yaml").write_bytes(b"")
    (tmp_path / "latin.yaml").write_bytes("rulebook:\n  title: caf\xe9\n".encode("latin-1"))
    code, out, _ = run(capsys, str(tmp_path))
    assert code == 1
    assert out.splitlines()[:2] == [f"{tmp_path / 'empty.yaml'}:1:1: Y006 the file is empty",
                                    f"{tmp_path / 'latin.yaml'}:2:13: Y007 the file is not valid UTF-8 "
                                    "(byte 0xe9 cannot start a character)"]


def test_against(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    changed = CASES / "V001-changed-same-version.yaml"
    code, out, _ = run(capsys, "--against", str(BASE), str(changed))
    assert code == 1
    assert f"{changed}:6:12: V001 the rulebook lint-fixture changed" in out
    assert "give the changed rulebook a new version" in out
    # a new version makes it fine
    bumped = tmp_path / "bumped.yaml"
    bumped.write_text(changed.read_text(encoding="utf-8").replace('version: "1"', 'version: "2"'), encoding="utf-8")
    assert run(capsys, "--against", str(BASE), str(bumped))[0] == 0
    # a folder of old rulebooks is matched by id
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(BASE, old / "renamed.yaml")
    assert run(capsys, "--against", str(old), str(changed))[0] == 1


def test_against_an_unrelated_or_invalid_rulebook_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--against", str(RULEBOOKS / "miner.yaml"), str(BASE))
    assert code == 2 and "none of the linted rulebooks" in err
    code, _, err = run(capsys, "--against", str(CASES / "S004-negative-points.yaml"), str(BASE))
    assert code == 2 and "not a valid rulebook" in err


def test_shipped_rulebook_changed_without_new_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (RULEBOOKS / "miner.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "miner.yaml"
    edited.write_text(text.replace("        points: 300\n", "        points: 250\n", 1), encoding="utf-8")
    code, out, _ = run(capsys, "--against", str(RULEBOOKS), str(edited))
    assert code == 1
    assert [line.split(" ")[1] for line in out.splitlines()[:-1]] == ["V001"]


def test_explain_with_a_path_lints_it_and_explains_the_codes_found(capsys: pytest.CaptureFixture[str]) -> None:
    """`lint --explain rulebooks/`: argparse hands the path to --explain, whose CODE is optional; it is linted."""
    from mincredit.lint._codes import explain

    code, out, err = run(capsys, "--explain", str(RULEBOOKS))
    assert (code, out, err) == (0, "2 files checked, no findings.\n", "")
    case = CASES / "G001-gap-at-900.yaml"
    code, out, _ = run(capsys, "--explain", str(case))
    assert code == 1 and f"{case}:" in out and "G001" in out and out.endswith(explain("G001"))
    code, out, _ = run(capsys, str(case), "--explain")                  # the same, the other way round
    assert code == 1 and out.endswith(explain("G001"))
    code, _, err = run(capsys, "--explain", "G001", str(case))
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "--explain", str(case), "--format", "json")
    assert code == 2 and "goes with --format text" in err
