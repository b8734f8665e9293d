"""Lint findings as text (one line each and a summary), JSON, or SARIF 2.1.0 for code-review platforms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mincredit.lint._codes import CODES
from mincredit.lint._findings import Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def tool_version() -> str:
    try:
        return metadata.version("mincredit")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(findings: Sequence[Finding], files: int) -> str:
    checked = f"{_plural(files, 'file')} checked"
    if not findings:
        return f"{checked}, no findings."
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    return f"{checked}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}."


def text_report(findings: Sequence[Finding], files: int) -> str:
    lines = [finding.render() for finding in findings]
    lines.append(summary(findings, files))
    return "\n".join(lines) + "\n"


def json_report(findings: Sequence[Finding]) -> str:
    return json.dumps([finding.as_json() for finding in findings], ensure_ascii=False, indent=2) + "\n"


def _artifact(path: str) -> dict[str, str]:
    candidate = Path(path)
    if candidate.is_absolute():
        return {"uri": candidate.as_uri()}
    return {"uri": quote(candidate.as_posix(), safe="/"), "uriBaseId": "%SRCROOT%"}


def sarif_log(findings: Sequence[Finding]) -> dict[str, Any]:
    """The findings as a SARIF 2.1.0 log: one run, every lint code as a rule, one result per finding."""
    codes = list(CODES.values())
    index = {info.code: number for number, info in enumerate(codes)}
    rules = [{
        "id": info.code,
        "name": "".join(word.capitalize() for word in info.title.replace("-", " ").split() if word.isascii()
                        and word.isalnum()) or info.code,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.catches},
        "help": {"text": f"{info.catches}\n\nWhy it matters: {info.why}\n\n(mincredit lint --explain "
                         f"{info.code}; docs/lint.md)",
                 "markdown": f"{info.catches}\n\n**Why it matters.** {info.why}\n\nBad:\n\n```yaml\n"
                             f"{info.bad.rstrip()}\n```\n\nFixed:\n\n```yaml\n{info.fixed.rstrip()}\n```"},
        "defaultConfiguration": {"level": info.severity},
        "properties": {"tags": ["rulebook"]},
    } for info in codes]
    results = [{
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": finding.severity,
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(finding.path),
            "region": {"startLine": finding.line, "startColumn": finding.column},
        }}],
    } for finding in findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mincredit-lint", "semanticVersion": tool_version(), "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def sarif_report(findings: Sequence[Finding]) -> str:
    return json.dumps(sarif_log(findings), ensure_ascii=False, indent=2) + "\n"
