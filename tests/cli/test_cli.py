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


# --- every input format in every output mode -----------------------------------------------------------------

def example_in(fmt: str, folder: Path) -> Path:
    """examples/miners.yaml written as another facts format (the columnar ones: one record a row)."""
    from mincredit.facts._validating import read_facts_file

    subjects = [entry.subject for entry in read_facts_file(EXAMPLE)]
    target = folder / f"miners.{fmt}"
    if fmt == "yaml":
        target.write_bytes(EXAMPLE.read_bytes())
        return target
    data = [subject.model_dump(mode="json", exclude_defaults=True) for subject in subjects if subject is not None]
    if fmt == "json":
        target.write_text(json.dumps({"subjects": data}, ensure_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        target.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in data), encoding="utf-8")
    else:
        pa = pytest.importorskip("pyarrow")
        columns = ("uscc", "name", "kind", "status", "public_score", "record_id", "type", "indicator", "tier",
                   "determined_on", "honour", "level", "awarded_on", "valid_until", "authority")
        rows = []
        for item in data:
            head = {key: item.get(key) for key in ("uscc", "name", "kind", "status", "public_score")}
            for record in item.get("records") or [{}]:
                rows.append({**head, **{("record_id" if key == "id" else key): value for key, value in record.items()}})
        table = pa.table({name: pa.array([None if row.get(name) is None else str(row[name]) for row in rows],
                                         pa.string()) for name in columns})
        if fmt == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, target)
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, target)
    return target


EXPECTED = {"91150600MA13R7T5Q6": ("B", "890"), "91150200MA0N8K2L4Q": ("A", "962.47"),
            "91150100MA0Q3F9X1W": ("E", "500"), "91150700MA0R5P6J2E": (None, None)}


@pytest.mark.parametrize("mode", ["table", "json", "jsonl", "output.jsonl", "output.parquet"])
@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl", "csv", "parquet"])
def test_every_input_format_in_every_output_mode(fmt: str, mode: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    facts = example_in(fmt, tmp_path)
    args = ["evaluate", str(facts), "--rulebook", "miner", "--as-of", "2024-06-30"]
    if mode.startswith("output"):
        if mode.endswith("parquet"):
            pytest.importorskip("pyarrow")
        output = tmp_path / f"results.{mode.split('.')[1]}"
        assert main([*args, "--output", str(output)]) == 0
        from mincredit._population.record import output_rows

        rows = list(output_rows(output))
    else:
        assert main([*args, "--format", mode]) == 0
        out = capsys.readouterr().out
        if mode == "table":
            assert all(score in out for _, score in EXPECTED.values() if score) and "信用优秀" in out
            assert "v-12" in out and "主体资格灭失" in out          # explained, as for YAML
            return
        rows = json.loads(out)["results"] if mode == "json" else [json.loads(line) for line in out.splitlines()]
    assert {row["uscc"]: (row["grade"], row["score"]) for row in rows} == EXPECTED
    assert all(row["items"] is not None for row in rows)     # explained in every mode


def test_a_columnar_document_is_recorded_and_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV file evaluated as a document: its record's facts digest is the YAML's (the same facts), and it replays."""
    pytest.importorskip("pyarrow")
    facts = example_in("csv", tmp_path)
    for name, source in (("csv.json", facts), ("yaml.json", EXAMPLE)):
        assert main(["evaluate", str(source), "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "json",
                     "--record", str(tmp_path / name)]) == 0
    digests = {json.loads((tmp_path / name).read_text(encoding="utf-8"))["facts"]["digest"]
               for name in ("csv.json", "yaml.json")}
    assert len(digests) == 1
    capsys.readouterr()
    assert main(["replay", str(tmp_path / "csv.json"), "--facts", str(facts)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("identical")


# --- the project's library, and --library everywhere -----------------------------------------------------------

def checkout(tmp_path: Path) -> Path:
    """A checkout whose miner.yaml re-points M03 tier 2 from 200 to 250, and whose settings name rulebooks/."""
    import shutil

    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "rulebooks", root / "rulebooks")
    (root / "pyproject.toml").write_text('[tool.mincredit]\nlibrary = "rulebooks"\n', encoding="utf-8")
    miner = root / "rulebooks" / "miner.yaml"
    old = "      - tier: 2\n        points: 200\n        wording: 未取得采矿许可证擅自采矿，违法所得在10万元以下的。"
    text = miner.read_text(encoding="utf-8")
    assert text.count(old) == 1
    miner.write_text(text.replace(old, old.replace("200", "250")), encoding="utf-8")
    return root


@pytest.mark.parametrize("batch", [False, True])
def test_inside_a_checkout_its_rulebooks_are_used_and_said_so(tmp_path: Path, batch: bool,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = checkout(tmp_path)
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    extra = ["--format", "jsonl"] if batch else ["--format", "json"]
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30", *extra]) == 0
    captured = capsys.readouterr()
    results = [json.loads(line) for line in captured.out.splitlines()] if batch else \
        json.loads(captured.out)["results"]
    assert results[0]["score"] == "850"            # 170 + (1000 − 250 + 100) × 0.8: the edited points
    assert f"rulebooks from the project's library {root / 'rulebooks'}" in captured.err
    assert "not the installed copy" in captured.err
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30", *extra,
                 "--library", str(ROOT / "rulebooks")]) == 0
    captured = capsys.readouterr()
    assert "890" in captured.out and "project's library" not in captured.err
    monkeypatch.chdir(tmp_path)                    # outside the checkout: the installed rulebooks, silently
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30", *extra]) == 0
    captured = capsys.readouterr()
    assert "890" in captured.out and captured.err.count("project's library") == 0


def test_broken_project_settings_are_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mincredit.toml").write_text('library = "nowhere"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["table", "--rulebook", "miner", "--format", "csv"]) == 2
    assert "library = 'nowhere', but" in capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["repair", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30", "--record", "v-1"],
    ["blacklist", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30"],
    ["table", "--rulebook", "miner"],
    ["versions"],
    ["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30"],
    ["diff", "miner", "miner"],
])
def test_every_command_that_finds_rulebooks_takes_library(command: list[str], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty-library"
    empty.mkdir()
    code = main([*command, "--library", str(empty)])
    err = capsys.readouterr().err
    if command[0] == "versions":
        assert code == 0
    else:
        assert code == 2 and f"there is no rulebook called 'miner' in {empty}" in err


def test_test_takes_library_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenarios = str(ROOT / "rulebooks" / "scenarios" / "miner-basics.yaml")
    assert main(["test", scenarios]) == 0
    capsys.readouterr()
    assert main(["test", scenarios, "--library", str(checkout(tmp_path) / "rulebooks")]) == 1
    out = capsys.readouterr().out
    assert "M03 tier 2, −250 points" in out          # the library given, with its edit, not the one beside
    assert f"rulebooks from {(tmp_path / 'checkout' / 'rulebooks').resolve()}" in out


def test_a_misspelt_rulebook_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", "--rulebook", "minr"]) == 2
    assert "did you mean miner?" in capsys.readouterr().err
    assert main(["table", "--rulebook", "miner@2020-draf"]) == 2
    assert "did you mean miner@2020-draft?" in capsys.readouterr().err


# --- small things ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("date", ["20240630", "2024-W26-7", "2024-6-30", "2024-06-30T00:00"])
def test_dates_are_yyyy_mm_dd_only(date: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", date])
    assert stopped.value.code == 2 and f"{date!r} is not a date; write it as YYYY-MM-DD" in capsys.readouterr().err


def test_table_json_gives_the_tier_as_a_number_as_evaluate_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", "--rulebook", "miner", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["tier"] == 1 and rows[0]["points"] == "300"


def test_version_names_the_installed_rulebooks_and_their_digests(capsys: pytest.CaptureFixture[str]) -> None:
    from mincredit.rules._registry import RulebookLibrary

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("mincredit 0.1.0 (Python ")
    for entry in RulebookLibrary.shipped().all_versions():
        assert f"  {entry.spec}  {entry.status_wording}, in force 2020-12-01 to 2025-11-30  {entry.digest}" in out
    done = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("mincredit ")


def test_explained_evaluate_shows_progress_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from mincredit.cli import _common

    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "json"]) == 0
    assert "evaluating" not in capsys.readouterr().err
    monkeypatch.setattr(_common, "_stderr_is_terminal", lambda: True)
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "evaluating" in captured.err and json.loads(captured.out)["results"]     # stdout stays clean
