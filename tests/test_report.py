"""What people read is printed as written: names, record ids, wordings and messages are never rich markup or emoji
codes, and piped output (as here: pytest captures stdout, which is not a terminal) is never hard-wrapped."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fixtures.versions_library import REVISION

from mincredit.cli import main
from mincredit.facts._validating import read_facts_file

ROOT = Path(__file__).resolve().parents[1]
LONG = "非常长的名字" * 60 + "有限公司"          # 364 characters, far wider than any terminal
NAMES = ["x[/]y矿业有限公司", "[red]红[/red]某煤业有限责任公司", "[bold]粗体:thumbs_up:矿业", LONG]
USCCS = ["91150600MA13R7T5Q6", "91150200MA0N8K2L4Q", "91150100MA0Q3F9X1W", "91150700MA0R5P6J2E"]


def facts(tmp_path: Path) -> Path:
    subjects = [{"uscc": uscc, "name": name, "kind": "miner", "public_score": 850,
                 "records": [{"id": f"v-[/]{index}", "type": "violation", "indicator": "M03", "tier": 2,
                              "determined_on": "2023-05-10"}]}
                for index, (uscc, name) in enumerate(zip(USCCS, NAMES, strict=True))]
    # a subject with an error whose message holds markup-like text and is longer than any terminal
    subjects.append({"uscc": "91150200MA0N8K2L4X", "name": "[/]错误" + LONG, "kind": "miner", "public_score": 850})
    path = tmp_path / "markup.json"
    path.write_text(json.dumps({"subjects": subjects}, ensure_ascii=False), encoding="utf-8")
    return path


def lines_with(out: str, text: str) -> list[str]:
    return [line for line in out.splitlines() if text in line]


def test_evaluate_table_prints_names_ids_and_errors_as_written_and_whole(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = facts(tmp_path)
    assert main(["evaluate", str(path), "--rulebook", "miner", "--as-of", "2024-06-30"]) == 1
    out = capsys.readouterr().out
    for uscc, name in zip(USCCS, NAMES, strict=True):
        # the row: one line holding the whole name, the grade and the score
        (row,) = [line for line in lines_with(out, uscc) if line.startswith("│")]
        assert name in row and "信用良好" in row and "810" in row
        # the heading of its explanations, as written
        assert f"{uscc} {name}" in out.splitlines()
    for index in range(len(NAMES)):
        assert len(lines_with(out, f"v-[/]{index}: M03.2")) == 1
    (error,) = list(read_facts_file(path))[-1].errors
    assert f"  {error.describe()}" in out.splitlines()   # the error line, whole


def test_deduction_table_prints_wordings_as_written_one_row_a_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "rulebooks" / "miner.yaml").read_text(encoding="utf-8")
    wording = "经责令立即停止违法行为，未造成危害后果。"
    assert text.count(f"wording: {wording}") >= 1
    marked = text.replace(f"wording: {wording}", f"wording: \"[/]{wording}[red]{LONG}\"", 1)
    path = tmp_path / "miner[x].yaml"
    path.write_text(marked, encoding="utf-8")
    assert main(["table", "--rulebook", str(path)]) == 0
    out = capsys.readouterr().out
    (row,) = lines_with(out, f"[/]{wording}[red]{LONG}")
    assert row.startswith("│ M") and row.rstrip().endswith("│")


def test_versions_print_folder_and_file_names_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    library = tmp_path / "[bold]lib[red]"
    library.mkdir()
    (library / "miner.yaml").write_bytes((ROOT / "rulebooks" / "miner.yaml").read_bytes())
    assert main(["versions", "--library", str(library), "--as-of", "2024-06-30"]) == 0
    out = capsys.readouterr().out
    assert f"rulebook versions in {library}" in out
    assert len(lines_with(out, "miner@2020-draft")) == 1


def test_diff_prints_subject_names_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # M03 tier 2 is re-pointed 200 → 300 by the hypothetical revision: a B subject (810) drops to C (730)
    path = facts(tmp_path)
    assert main(["diff", str(ROOT / "rulebooks" / "miner.yaml"), str(REVISION), "--population", str(path),
                 "--as-of", dt.date(2024, 6, 30).isoformat()]) == 1
    out = capsys.readouterr().out
    for uscc, name in zip(USCCS, NAMES, strict=True):
        (move,) = [line for line in lines_with(out, uscc) if line.startswith("│")]
        assert f"{uscc} {name}" in move


def test_a_real_pipe_gets_whole_rows(tmp_path: Path) -> None:
    """As a clerk's shell runs it: `mincredit evaluate … --format table | grep …`."""
    import subprocess
    import sys

    path = facts(tmp_path)
    done = subprocess.run([sys.executable, "-m", "mincredit", "evaluate", str(path), "--rulebook", "miner",
                           "--as-of", "2024-06-30", "--format", "table"], capture_output=True, text=True,
                          encoding="utf-8", check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    for uscc, name in zip(USCCS, NAMES, strict=True):
        (row,) = [line for line in lines_with(done.stdout, uscc) if line.startswith("│")]
        assert name in row


def test_on_a_terminal_lines_wrap_at_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only piped output is unwrapped: a person at a terminal gets the table at the terminal's width."""
    import io

    from rich.text import Text

    from mincredit._engine import evaluate
    from mincredit._report import print_evaluation_table
    from mincredit.cli._common import _stdout_console
    from mincredit.rules._registry import load_rulebook

    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    monkeypatch.setattr(buffer, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "100")
    console = _stdout_console()
    evaluation = evaluate(list(read_facts_file(ROOT / "examples" / "miners.yaml")), load_rulebook("miner"),
                          dt.date(2024, 6, 30))
    print_evaluation_table(evaluation, console)
    widths = [Text.from_ansi(line).cell_len for line in buffer.getvalue().splitlines()]   # styles are not width
    assert max(widths) <= 100 and max(widths) >= 90
