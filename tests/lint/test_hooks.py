"""The pre-commit hooks this repository defines (.pre-commit-hooks.yaml): what they run, on which files."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mincredit._yaml import decode_utf8, read_yaml
from mincredit.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def hooks() -> dict[str, Any]:
    data = read_yaml(decode_utf8((ROOT / ".pre-commit-hooks.yaml").read_bytes())).data
    assert isinstance(data, list)
    return {hook["id"]: hook for hook in data}


def test_the_hooks_are_well_formed() -> None:
    """What pre-commit requires of a hook (id, name, entry, language), and commands mincredit knows."""
    found = hooks()
    assert set(found) == {"mincredit-lint", "mincredit-test"}
    for hook in found.values():
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
        program, *arguments = shlex.split(hook["entry"])
        assert program == "mincredit"
        build_parser(arguments[0]).parse_known_args(arguments)     # a command and options it accepts
        re.compile(hook.get("files", ""))
    assert found["mincredit-test"]["pass_filenames"] is False


@pytest.mark.parametrize(("path", "linted"), [
    ("rulebooks/miner.yaml", True), ("rulebooks/agency.yml", True), ("rulebooks/history/miner@2020-draft.yaml", True),
    ("rulebooks/scenarios/miner-basics.yaml", False), ("rulebooks/history/README.md", False),
    ("examples/miners.yaml", False),
])
def test_the_lint_hook_sees_rulebooks_only(path: str, linted: bool) -> None:
    assert bool(re.search(hooks()["mincredit-lint"]["files"], path)) is linted


def test_the_lint_hook_passes_on_the_files_it_would_be_given(capsys: pytest.CaptureFixture[str]) -> None:
    """pre-commit runs the entry with the staged files that match: here, every such file of the repository."""
    try:
        tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    pattern = re.compile(hooks()["mincredit-lint"]["files"])
    files = [str(ROOT / name) for name in tracked.splitlines() if pattern.search(name)]
    assert any(name.endswith("miner.yaml") for name in files)
    _, *arguments = shlex.split(hooks()["mincredit-lint"]["entry"])
    assert main([*arguments, *files]) == 0
    assert "no findings" in capsys.readouterr().out
