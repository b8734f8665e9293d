"""Exit statuses on every command path: an unexpected failure has its own (70) and says how to report it; Ctrl-C is
one line and 130, whatever was running (issue 12, items 12 and 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import mincredit._engine
import mincredit._replay
from mincredit.cli import main
from mincredit.cli._common import EXIT_CRASH, EXIT_INTERRUPTED

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "miners.yaml"
EVALUATE = ["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2024-06-30"]

pytestmark = pytest.mark.usefixtures("outside_the_checkout")   # stderr holds only what the test expects


def broken(error: BaseException) -> Any:
    def fail(*args: object, **kwargs: object) -> None:
        raise error
    return fail


def test_a_crash_has_its_own_exit_status_and_says_how_to_report_it(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MINCREDIT_DEBUG", raising=False)
    monkeypatch.setattr(mincredit._engine, "evaluate", broken(KeyError("surprise")))
    assert main([*EVALUATE, "--format", "json"]) == EXIT_CRASH == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "mincredit evaluate: internal error, a bug in mincredit" in err and "KeyError: 'surprise'" in err
    assert "report it" in err and "MINCREDIT_DEBUG=1" in err


def test_the_traceback_is_printed_when_asked_for(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MINCREDIT_DEBUG", "1")
    monkeypatch.setattr(mincredit._engine, "evaluate", broken(ValueError("surprise")))
    assert main([*EVALUATE, "--format", "json"]) == EXIT_CRASH
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("mincredit evaluate: internal error")


def test_problems_and_unusable_arguments_keep_their_statuses(tmp_path: Path) -> None:
    assert main([*EVALUATE[:-1], "2024-06-30", "--format", "json"]) == 0
    assert main(["evaluate", str(tmp_path / "missing.yaml"), "--rulebook", "miner", "--as-of", "2024-06-30"]) == 2


@pytest.mark.parametrize("where", ["evaluating", "writing the record"])
def test_ctrl_c_on_the_document_path_is_one_line_and_130(where: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "record.json"
    if where == "evaluating":
        monkeypatch.setattr(mincredit._engine, "evaluate", broken(KeyboardInterrupt()))
    else:
        monkeypatch.setattr(mincredit._replay, "write_record", broken(KeyboardInterrupt()))
    assert main([*EVALUATE, "--format", "json", "--record", str(record)]) == EXIT_INTERRUPTED == 130
    err = capsys.readouterr().err
    assert err.strip() == "mincredit evaluate: interrupted; a file being written was left as it was"
    assert not record.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["table", "--rulebook", "miner"], ["versions"],
                                     ["lint", str(ROOT / "rulebooks" / "miner.yaml")], ["diff", "miner", "miner"]])
def test_ctrl_c_in_any_command_is_one_line_and_130(command: list[str], monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import mincredit.rules._registry

    monkeypatch.setattr(mincredit.rules._registry.RulebookLibrary, "versions", broken(KeyboardInterrupt()))
    monkeypatch.setattr("mincredit.lint._runner._lint_document", broken(KeyboardInterrupt()))
    assert main(command) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == f"mincredit {command[0]}: interrupted; a file being written was " \
                                              "left as it was"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_a_real_sigint_while_reading_facts_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """The facts are a named pipe that gives nothing: ``--format json --record`` waits reading it until the signal
    comes (the batch path's own interruption is tested in tests/population/test_run.py)."""
    import errno

    pipe = tmp_path / "facts.jsonl"
    os.mkfifo(pipe)
    process = subprocess.Popen([sys.executable, "-m", "mincredit", "evaluate", str(pipe), "--rulebook", "miner",
                                "--as-of", "2024-06-30", "--format", "json", "--record", "record.json"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writer = None
    deadline = time.monotonic() + 60
    while writer is None and time.monotonic() < deadline:     # until mincredit has opened the pipe to read it
        try:
            writer = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            assert error.errno == errno.ENXIO
            time.sleep(0.05)
    assert writer is not None
    try:
        time.sleep(0.2)                                         # … and waits in its read
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        os.close(writer)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "interrupted" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["facts.jsonl"]


def test_ctrl_c_on_the_batch_path_is_one_line_and_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from mincredit._population import jsonl

    facts = tmp_path / "facts.jsonl"
    facts.write_text('{"uscc": "91150600MA13R7T5Q6", "name": "某", "kind": "miner", "public_score": 850}\n',
                     encoding="utf-8")
    monkeypatch.setattr(jsonl.JsonlUnit, "run", broken(KeyboardInterrupt()))
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", "2024-06-30", "--output", str(out)]) == 130
    assert capsys.readouterr().err.strip() == f"mincredit evaluate: interrupted; {out} was left as it was"
    assert not out.exists()


@pytest.mark.parametrize("output", ["table", "json"])
def test_a_reader_that_goes_away_ends_the_command_quietly_with_0(output: str, tmp_path: Path) -> None:
    """``mincredit evaluate … | head -1``: the rest of the output has nowhere to go, which is not a problem with
    the subjects (exit 1) nor a crash; rich's own handling exited 1."""
    from builders import uscc_of

    facts = tmp_path / "facts.jsonl"
    record = '{"type": "violation", "id": "v-1", "indicator": "M03", "tier": 2, "determined_on": "2023-05-10"}'
    facts.write_text("".join(f'{{"uscc": "{uscc_of(number)}", "name": "矿业{number}", "kind": "miner", '
                             f'"public_score": 850, "records": [{record}]}}\n' for number in range(1000)),
                     encoding="utf-8")   # each subject's explanation printed after the table
    process = subprocess.Popen([sys.executable, "-m", "mincredit", "evaluate", str(facts), "--rulebook", "miner",
                                "--as-of", "2024-06-30", "--format", output],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(100)
    process.stdout.close()                      # the reader goes away long before the output ends
    err = process.stderr.read().decode("utf-8")
    assert process.wait(timeout=60) == 0, err
    assert err == ""
