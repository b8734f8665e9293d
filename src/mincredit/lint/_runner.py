"""Lint one rulebook file: bytes → UTF-8 → YAML → schema → semantic checks (→ version against an older file).

Each stage reports what it finds and the later stages run on what the earlier
ones could read: YAML problems stop everything (the data is not known), schema
errors leave out only the blocks they are in, so an unknown field in one tier
does not hide a gap between two grade bands.  Nothing here raises for a bad
file: every outcome is a list of findings, and an unexpected failure of lint
itself becomes the finding X001 rather than a traceback.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from mincredit._yaml import Position, SourceMap, YamlReadError, decode_utf8, read_yaml
from mincredit.lint._checks import Parts, check_rulebook
from mincredit.lint._codes import CODES
from mincredit.lint._findings import Finding, Issue
from mincredit.lint._regulation import text_issues
from mincredit.rules._digest import rulebook_digest
from mincredit.rules._loading import schema_problems
from mincredit.rules._schema import Rulebook


@dataclass
class FileResult:
    """The findings of one file and, when the whole file is a valid rulebook, the rulebook."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    rulebook: Rulebook | None = None
    source_map: SourceMap | None = None


def _finding(path: str, code: str, message: str, position: Position) -> Finding:
    return Finding(path, max(position.line, 1), max(position.column, 1), code, CODES[code].severity, message)


@cache
def _part_adapter(name: str) -> TypeAdapter[Any]:
    annotation = Rulebook.model_fields[name].annotation
    assert annotation is not None, f"Rulebook.{name} has no annotation"
    return TypeAdapter(annotation)


def _valid_parts(data: dict[str, Any], failed: set[str]) -> Parts:
    """The blocks of a rulebook that are valid on their own (the schema errors are elsewhere)."""
    values: dict[str, Any] = {}
    for name, info in Rulebook.model_fields.items():
        if name in failed:
            continue
        if name not in data:
            if info.is_required():
                continue
            values[name] = info.get_default(call_default_factory=True)
            continue
        try:
            values[name] = _part_adapter(name).validate_python(data[name])
        except ValidationError:  # pragma: no cover - the whole-document validation said this block is valid
            continue
    return Parts(**values)


def lint_text(text: str, path: str, *, location: Path | None = None) -> FileResult:
    """Lint the text of one rulebook file; ``path`` labels the findings.

    ``location`` is the rulebook file, whose folder the regulation text it cites is looked for from (the T codes,
    mincredit.lint._regulation); by default the file ``path`` names, relative to the working folder.
    """
    result = FileResult(path)
    try:
        _lint_document(text, result, location if location is not None else Path(path))
    except Exception as error:  # lint never crashes: a failure of its own is a finding, not a traceback
        frame = traceback.extract_tb(error.__traceback__)[-1]
        result.findings.append(_finding(path, "X001", f"lint failed on this file ({type(error).__name__}: "
                                                      f"{error} at {Path(frame.filename).name}:{frame.lineno}); "
                                                      "please report it", Position(1, 1)))
        result.rulebook = None
    return result


def lint_bytes(raw: bytes, path: str, *, location: Path | None = None) -> FileResult:
    """Lint the bytes of one rulebook file (invalid UTF-8 is the finding Y007)."""
    try:
        text = decode_utf8(raw)
    except YamlReadError as error:
        return FileResult(path, [_finding(path, p.code, p.message, p.position) for p in error.problems])
    return lint_text(text, path, location=location)


def _lint_document(text: str, result: FileResult, location: Path) -> None:
    path = result.path
    try:
        document = read_yaml(text)
    except YamlReadError as error:
        result.findings.extend(_finding(path, p.code, p.message, p.position) for p in error.problems)
        return
    data = document.data
    source_map = document.source_map
    result.source_map = source_map
    if not isinstance(data, dict):
        result.findings.append(_finding(path, "S001", "a rulebook must be a mapping that starts with a "
                                                      "`rulebook:` block", source_map.locate(())))
        return
    failed: set[str] = set()
    try:
        rulebook: Rulebook | None = Rulebook.model_validate(data)
    except ValidationError as error:
        rulebook = None
        for problem in schema_problems(error, source_map):
            result.findings.append(_finding(path, problem.code, problem.message, problem.position))
            if problem.path and isinstance(problem.path[0], str):
                failed.add(problem.path[0])
    parts = Parts.of(rulebook) if rulebook is not None else _valid_parts(data, failed)
    result.findings.extend(locate(path, check_rulebook(parts), source_map))
    # the wordings against the regulation text itself: lint only (compiling needs no regulation file)
    result.findings.extend(locate(path, text_issues(parts, location), source_map))
    result.rulebook = rulebook


def locate(path: str, issues: Iterable[Issue], source_map: SourceMap) -> list[Finding]:
    return [_finding(path, issue.code, issue.message, source_map.locate(issue.path, key=issue.key))
            for issue in issues]


def version_findings(new: FileResult, old: Rulebook) -> list[Finding]:
    """V001: ``new`` means something else than ``old`` (same id) but carries the same version."""
    if new.rulebook is None or new.source_map is None:
        return []
    identity = new.rulebook.rulebook
    if identity.id != old.rulebook.id or identity.version != old.rulebook.version:
        return []
    new_digest, old_digest = rulebook_digest(new.rulebook), rulebook_digest(old)
    if new_digest == old_digest:
        return []
    return locate(new.path, [Issue(
        "V001", f"the rulebook {identity.id} changed (digest {new_digest[:19]}… was {old_digest[:19]}…) but its "
                f"version is still {identity.version!r}; give the changed rulebook a new version",
        ("rulebook", "version"))], new.source_map)
