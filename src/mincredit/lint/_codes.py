"""Every finding code of ``mincredit lint``: severity, what it catches, why it matters, a bad and a fixed example.

The catalogue is data, ``lint/codes.yaml`` beside this module (its examples are rulebook YAML, not Python): the
single source of the codes' documentation.  ``mincredit lint --explain CODE`` prints an entry, the SARIF output
carries them as rules, and the "Codes" section of docs/lint.md is generated from it (a test keeps the two
equal).  It ships inside the package so that ``--explain`` works after a plain ``pip install .``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mincredit.lint._findings import Severity

CATALOGUE = Path(__file__).resolve().parent / "codes.yaml"


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str
    catches: str
    why: str
    bad: str
    fixed: str
    refuses_compile: bool = False
    """Whether compiling (and so ``evaluate``) refuses a rulebook with this finding."""


def _read_catalogue() -> tuple[dict[str, str], list[CodeInfo]]:
    # The package's own file, read by ruamel's safe loader: its examples hold what rulebooks must not (tabs in
    # indentation, bad bytes shown as text), which mincredit's strict rulebook reader would refuse.
    from ruamel.yaml import YAML

    data: Any = YAML(typ="safe").load(CATALOGUE.read_text(encoding="utf-8"))
    return dict(data["families"]), [CodeInfo(**entry) for entry in data["codes"]]


FAMILIES, _CODES = _read_catalogue()
CODES: dict[str, CodeInfo] = {info.code: info for info in _CODES}
RETIRED: dict[str, str] = {
    "G004": "unknown grade letter: grades are whatever labels the rulebook defines (G008 checks what names them)",
    "H001": "unknown honour level: levels are whatever ids the rulebook defines (facts naming another level are "
            "that subject's error)",
}
"""Codes no longer reported, with why: a code is never reused for another finding."""
COMPILE_REFUSES: frozenset[str] = frozenset(info.code for info in _CODES if info.refuses_compile)


def matching(selector: str) -> list[str]:
    """The codes a ``--select``/``--ignore`` entry names: a whole code or a prefix of codes (``Q``, ``Q00``)."""
    wanted = selector.strip().upper()
    if wanted == "ALL":
        return list(CODES)
    return [code for code in CODES if code.startswith(wanted)] if wanted else []


def explain(code: str) -> str:
    """The documentation of one code as plain text (``mincredit lint --explain CODE``)."""
    wanted = code.strip().upper()
    if wanted in RETIRED:
        return f"{wanted} (retired): {RETIRED[wanted]}\n"
    info = CODES[wanted]
    lines = [
        f"{info.code} ({info.severity}): {info.title}",
        "",
        f"What it catches: {info.catches}",
        "",
        f"Why it matters: {info.why}",
    ]
    if info.refuses_compile:
        lines += ["", "Compiling (and so `mincredit evaluate`) also refuses a rulebook with this finding."]
    lines += ["", "Bad:", *_indent(info.bad), "", "Fixed:", *_indent(info.fixed)]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> list[str]:
    return ["    " + line for line in text.rstrip("\n").splitlines()]


def codes_markdown() -> str:
    """The "Codes" section of docs/lint.md, generated from this module."""
    out: list[str] = []
    for family, name in FAMILIES.items():
        members = [info for info in _CODES if info.code.startswith(family)]
        out.append(f"### {family} — {name}\n")
        out.append("| code | severity | title |\n| --- | --- | --- |")
        out.extend(f"| [{info.code}](#{info.code.lower()}) | {info.severity} | {info.title} |" for info in members)
        out.append("")
        for info in members:
            out.append(f"#### {info.code}\n")
            out.append(f"**{info.title}** — severity **{info.severity}**"
                       + ("; compiling refuses it too." if info.refuses_compile else "."))
            out.append("")
            out.append(f"*What it catches.* {info.catches}\n")
            out.append(f"*Why it matters for a scored subject.* {info.why}\n")
            out.append("Bad:\n\n```yaml\n" + info.bad.rstrip("\n") + "\n```\n")
            out.append("Fixed:\n\n```yaml\n" + info.fixed.rstrip("\n") + "\n```\n")
    out.append("### Retired codes\n")
    out.append("A retired code is never reused for another finding.\n")
    out.extend(f"- **{code}** — {why}" for code, why in RETIRED.items())
    return "\n".join(out).rstrip("\n") + "\n"

