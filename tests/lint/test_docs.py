"""The codes' documentation: complete, the same in docs/lint.md as in --explain, examples that are YAML."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from mincredit.cli import main
from mincredit.lint._codes import CODES, FAMILIES, explain
from mincredit.lint._docs import with_codes_section

DOC = Path(__file__).resolve().parents[2] / "docs" / "lint.md"


def test_docs_lint_md_is_generated_from_the_package() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert with_codes_section(text) == text, "run: python -m mincredit.lint._docs docs/lint.md"


def test_every_code_is_documented_in_docs_lint_md() -> None:
    text = DOC.read_text(encoding="utf-8")
    headed = set(re.findall(r"^#### ([A-Z]\d{3})$", text, flags=re.MULTILINE))
    assert headed == set(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_code_entry_is_complete(code: str) -> None:
    info = CODES[code]
    assert re.fullmatch(r"[A-Z]\d{3}", code) and code[0] in FAMILIES
    assert info.severity in {"error", "warning"}
    for part in (info.title, info.catches, info.why, info.bad, info.fixed):
        assert part.strip()
    assert info.bad != info.fixed
    text = explain(code)
    assert text.startswith(f"{code} ({info.severity}): {info.title}")
    for part in ("What it catches:", "Why it matters:", "Bad:", "Fixed:"):
        assert part in text


@pytest.mark.parametrize("code", sorted(c for c in CODES if c[0] not in {"Y", "X"}))
def test_examples_are_yaml(code: str) -> None:
    yaml = YAML(typ="safe")
    for example in (CODES[code].bad, CODES[code].fixed):
        yaml.compose(example)


def test_explain_prints_the_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--explain", "q001"]) == 0
    assert capsys.readouterr().out == explain("Q001")


def test_explain_lists_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--explain"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == list(CODES)


def test_explain_unknown_code_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--explain", "Z999"]) == 2
    assert "Z999" in capsys.readouterr().err


def test_explain_works_from_the_installed_package_without_the_docs(tmp_path: Path) -> None:
    """--explain reads nothing from docs/: it runs from any folder (as after a plain pip install)."""
    result = subprocess.run([sys.executable, "-m", "mincredit.cli", "lint", "--explain", "G001"], cwd=tmp_path,
                            capture_output=True, text=True, check=False, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert result.stdout == explain("G001")
