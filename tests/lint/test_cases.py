"""Every lint code, triggered by a broken rulebook that triggers exactly that code, at the exact YAML node.

The broken rulebooks are tests/lint_cases/*.yaml, each base.yaml with one thing
broken, written by tests/lint_cases/make_cases.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mincredit.lint import _checks as checks
from mincredit.lint._codes import CODES, COMPILE_REFUSES
from mincredit.lint._runner import lint_bytes, lint_text
from mincredit.rules._compiling import RulebookInvalid, compile_rulebook
from mincredit.rules._loading import load_rulebook_file

CASES_DIR = Path(__file__).resolve().parents[1] / "lint_cases"
BASE = CASES_DIR / "base.yaml"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_make_cases", CASES_DIR / "make_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lint_make_cases"] = module
    spec.loader.exec_module(module)
    return module


make_cases = _load_generator()
CASE_FILES = sorted(CASES_DIR.glob("[A-Z][0-9][0-9][0-9]-*.yaml"))
AT = {case.name: case for case in make_cases.CASES}


def lint_file(path: Path) -> list[tuple[str, int, int]]:
    result = lint_bytes(path.read_bytes(), str(path))
    return [(f.code, f.line, f.column) for f in result.findings]


def expected_position(path: Path, at: str, encoding: str) -> tuple[int, int]:
    raw = path.read_bytes()
    if encoding != "utf-8":  # Y007: the position of the first byte that is not UTF-8, counted in bytes
        needle = at.encode(encoding)
        assert raw.count(needle) == 1
        start = raw.index(needle)
        with pytest.raises(UnicodeDecodeError) as caught:
            raw[start:].decode("utf-8")
        index = start + caught.value.start
        return raw[:index].count(b"\n") + 1, index - (raw.rfind(b"\n", 0, index) + 1) + 1
    text = raw.decode("utf-8")
    assert text.count(at) == 1, f"{path.name}: {at!r} must occur exactly once"
    index = text.index(at)
    return text[:index].count("\n") + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def test_base_rulebook_is_clean_and_compiles() -> None:
    assert lint_file(BASE) == []
    compile_rulebook(load_rulebook_file(BASE).rulebook)


def test_case_files_are_up_to_date() -> None:
    expected = make_cases.expected_files()
    assert sorted(expected) == CASE_FILES, "run python tests/lint_cases/make_cases.py"
    for path, content in expected.items():
        assert path.read_bytes() == content, f"{path.name} is stale: run python tests/lint_cases/make_cases.py"


@pytest.mark.parametrize("path", [p for p in CASE_FILES if not p.name.startswith("V")], ids=lambda p: p.stem)
def test_case_triggers_exactly_its_code(path: Path) -> None:
    code = path.name.split("-", 1)[0]
    found = lint_file(path)
    assert found, f"{path.name} gives no finding"
    assert {c for c, _, _ in found} == {code}, found
    case = AT.get(path.stem)
    if case is not None and case.at is not None:
        assert found[0][1:] == expected_position(path, case.at, case.encoding)
    elif path.stem.startswith("Y006"):
        assert found == [("Y006", 1, 1)]


def test_every_code_has_a_case() -> None:
    covered = {path.name.split("-", 1)[0] for path in CASE_FILES}
    assert covered == set(CODES) - {"X001"}  # X001 is lint failing; see test_internal_failure_is_a_finding


def test_version_unchanged_after_a_change_is_v001() -> None:
    from mincredit.lint._command import lint_paths

    case = CASES_DIR / "V001-changed-same-version.yaml"
    assert lint_file(case) == []  # on its own it is a valid rulebook
    findings, files = lint_paths([str(case)], against=str(BASE))
    assert files == 1
    assert [(f.code, f.line, f.column) for f in findings] == [
        ("V001", *expected_position(case, AT[case.stem].at, "utf-8"))]
    # against itself, or a copy with only comments and layout changed, nothing changed
    assert lint_paths([str(BASE)], against=str(BASE))[0] == []


def test_reformatting_is_not_a_change(tmp_path: Path) -> None:
    from mincredit.lint._command import lint_paths

    text = BASE.read_text(encoding="utf-8")
    reformatted = tmp_path / "base.yaml"
    reformatted.write_text("# a new comment\n" + text.replace("  industry_weight: 0.8\n", "  industry_weight: 0.80\n"),
                           encoding="utf-8")
    assert lint_paths([str(reformatted)], against=str(BASE))[0] == []


def test_internal_failure_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(parts: checks.Parts) -> list[checks.Issue]:
        raise RuntimeError("a bug")

    monkeypatch.setattr("mincredit.lint._runner.check_rulebook", broken)
    result = lint_text(BASE.read_text(encoding="utf-8"), "base.yaml")
    assert [(f.code, f.line) for f in result.findings] == [("X001", 1)]
    assert "RuntimeError: a bug" in result.findings[0].message


def test_schema_error_does_not_hide_other_blocks(tmp_path: Path) -> None:
    """An unknown field in a tier and a gap between grade bands are both reported."""
    text = BASE.read_text(encoding="utf-8")
    text = text.replace("        points: 300\n", "        points: 300\n        pionts: 3\n", 1)
    text = text.replace("    upper: {value: 900, inclusive: true}\n", "    upper: {value: 900, inclusive: false}\n")
    text = text.replace("    annex: \"800＜N≤900\"\n", "    annex: \"800＜N＜900\"\n")
    codes = [f.code for f in lint_text(text, "x.yaml").findings]
    assert sorted(codes) == ["G001", "S003"]


@pytest.mark.parametrize("code", sorted(COMPILE_REFUSES))
def test_compile_refuses_what_it_cannot_evaluate(code: str) -> None:
    path = next(p for p in CASE_FILES if p.name.startswith(code))
    with pytest.raises(RulebookInvalid) as caught:
        compile_rulebook(load_rulebook_file(path).rulebook)
    assert all(reason.startswith(code) for reason in caught.value.reasons)


def test_compile_accepts_warnings_and_lint_only_errors() -> None:
    for name in ("G007-annex-text", "R008-row-mismatch", "Q001-overlap-at-10", "H003-cap-below-bonus"):
        compile_rulebook(load_rulebook_file(CASES_DIR / f"{name}.yaml").rulebook)


SEMANTIC = frozenset().union(*(reports for _, reports in checks._CHECKS))


def test_every_code_has_a_stage() -> None:
    schema = {"S001", "S002", "S003", "S004", "S005", "S006", "I001", "I002", "H002"}
    yaml = {code for code in CODES if code.startswith("Y")}
    text = {code for code in CODES if code.startswith("T")}   # against the regulation file (lint._regulation)
    assert SEMANTIC | schema | yaml | text | {"V001", "X001"} == set(CODES)


VALID_CASES = [p for p in CASE_FILES if lint_bytes(p.read_bytes(), str(p)).rulebook is not None]


@pytest.mark.parametrize("path", [p for p in VALID_CASES if p.name[:4] in SEMANTIC], ids=lambda p: p.stem)
def test_checks_run_for_the_codes_asked(path: Path) -> None:
    """compile asks only for the codes it refuses: each check must run when one of its codes is asked for."""
    code = path.name[:4]
    parts = checks.Parts.of(load_rulebook_file(path).rulebook)
    assert {issue.code for issue in checks.check_rulebook(parts, {code})} == {code}
