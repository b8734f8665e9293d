"""``mincredit lint PATH...``: check rulebook files before an edit is adopted, locally and in CI.

Exit status: 0 no finding of error severity, 1 at least one, 2 lint could not
run (a path that does not exist or cannot be read, an unknown code in
``--select``/``--ignore``/``--explain``, an ``--against`` rulebook that is not
valid).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mincredit.lint._codes import CODES, FAMILIES, RETIRED, explain, matching
from mincredit.lint._findings import Finding
from mincredit.lint._output import json_report, sarif_report, text_report
from mincredit.lint._runner import FileResult, lint_bytes, version_findings
from mincredit.rules._schema import Rulebook

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
RULEBOOK_SUFFIXES = (".yaml", ".yml")


class CannotRun(Exception):
    """Lint cannot do what it was asked; the message says why (exit status 2)."""


def add_lint_parser(commands: Any) -> None:
    """Register ``lint`` on the subcommands of the ``mincredit`` parser."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "lint", help="check rulebook files for every mistake that would score someone wrongly",
        description="Check rulebook files (or the *.yaml/*.yml files directly inside folders). Each finding is "
                    "printed as path:line:col: CODE message. Exit status 0: no errors; 1: errors found; 2: lint "
                    "could not run. `mincredit lint --explain CODE` documents a code.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="rulebook files, or folders of rulebook files")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="text (default), json (a list of findings) or sarif (SARIF 2.1.0)")
    parser.add_argument("--select", action="append", default=[], metavar="CODES",
                        help="only report these codes or code prefixes, comma-separated (e.g. G,Q001)")
    parser.add_argument("--ignore", action="append", default=[], metavar="CODES",
                        help="do not report these codes or code prefixes, comma-separated")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--against", metavar="OLD",
                        help="an earlier rulebook file (or folder): a rulebook whose content changed while its "
                             "version stayed the same is an error (V001)")
    parser.add_argument("--explain", nargs="?", const="ALL", metavar="CODE",
                        help="print what CODE catches, why, and a bad and a fixed example; without CODE, list "
                             "every code; with PATHs, lint them and explain each code found")
    parser.set_defaults(handler=run_lint)


@dataclass(frozen=True)
class Selection:
    selected: frozenset[str]

    @classmethod
    def from_arguments(cls, select: list[str], ignore: list[str]) -> Selection:
        chosen = set(CODES)
        if select:
            chosen = set(cls._codes(select, "--select"))
        chosen -= set(cls._codes(ignore, "--ignore"))
        return cls(frozenset(chosen))

    @staticmethod
    def _codes(entries: list[str], option: str) -> list[str]:
        codes: list[str] = []
        for entry in entries:
            for part in entry.split(","):
                if not part.strip():
                    continue
                found = matching(part)
                if not found:
                    raise CannotRun(f"{option}: {part.strip()!r} is not a lint code or code prefix "
                                    f"(the families are {', '.join(FAMILIES)}; see mincredit lint --explain)")
                codes.extend(found)
        return codes

    def keeps(self, finding: Finding) -> bool:
        return finding.code in self.selected


def rulebook_files(spec: str) -> list[Path]:
    """The files a PATH argument names: the file itself, or the rulebook files directly inside a folder.

    Subfolders are not searched: rulebooks/scenarios/ holds drafters' scenario tests, not rulebooks.
    """
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in RULEBOOK_SUFFIXES and p.is_file())
        if not files:
            raise CannotRun(f"the folder {spec} holds no rulebook files (*.yaml, *.yml)")
        return files
    if not path.exists():
        raise CannotRun(f"no such file or folder: {spec}")
    return [path]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CannotRun(f"cannot read {path}: {error.strerror or error}") from None


def _old_rulebooks(spec: str) -> dict[str, Rulebook]:
    old: dict[str, Rulebook] = {}
    for path in rulebook_files(spec):
        result = lint_bytes(_read(path), str(path))
        if result.rulebook is None:
            raise CannotRun(f"--against: {path} is not a valid rulebook, so versions cannot be compared with it "
                            f"(see: mincredit lint {path})")
        old.setdefault(result.rulebook.rulebook.id, result.rulebook)
    return old


def _explain(code: str) -> int:
    if code.upper() == "ALL":
        for info in CODES.values():
            print(f"{info.code}  {info.severity:<7}  {info.title}")
        return EXIT_OK
    if code.strip().upper() not in CODES and code.strip().upper() not in RETIRED:
        raise CannotRun(f"--explain: there is no lint code {code!r} (mincredit lint --explain lists them)")
    sys.stdout.write(explain(code))
    return EXIT_OK


def lint_paths(specs: list[str], against: str | None = None) -> tuple[list[Finding], int]:
    """Lint every file the specs name (in order, each once); return the findings and the number of files."""
    files: list[Path] = []
    for spec in specs:
        for path in rulebook_files(spec):
            if path not in files:
                files.append(path)
    old = _old_rulebooks(against) if against is not None else None
    results: list[FileResult] = [lint_bytes(_read(path), str(path)) for path in files]
    findings = [finding for result in results for finding in result.findings]
    if old is not None:
        matched = False
        for result in results:
            if result.rulebook is not None and result.rulebook.rulebook.id in old:
                matched = True
                findings.extend(version_findings(result, old[result.rulebook.rulebook.id]))
        valid = [r for r in results if r.rulebook is not None]
        if against is not None and Path(against).is_file() and valid and not matched:
            ids = ", ".join(sorted(old))
            raise CannotRun(f"--against: {against} is the rulebook {ids}, which none of the linted rulebooks is")
    return sorted(findings), len(files)


def _looks_like_path(text: str) -> bool:
    return Path(text).exists() or "/" in text or "\\" in text or text.endswith(RULEBOOK_SUFFIXES)


def run_lint(args: argparse.Namespace) -> int:
    explain_found = False
    try:
        if args.explain is not None:
            known = args.explain.strip().upper() in CODES or args.explain.strip().upper() in RETIRED
            if args.explain != "ALL" and not known and _looks_like_path(args.explain):
                # `lint --explain rulebooks/`: argparse gave the path to --explain (its CODE is optional); it is a
                # path to lint, with the codes found explained
                args.paths, args.explain = [args.explain, *args.paths], "ALL"
            if args.paths and args.explain != "ALL":
                raise CannotRun("give either --explain CODE or the paths to lint, not both (--explain with paths "
                                "lints them and explains each code found)")
            if not args.paths:
                return _explain(args.explain)
            if args.format != "text":
                raise CannotRun("--explain with paths goes with --format text")
            explain_found = True
        if not args.paths:
            raise CannotRun("give the rulebook files or folders to lint (e.g. mincredit lint rulebooks/)")
        selection = Selection.from_arguments(args.select, args.ignore)
        findings, files = lint_paths(args.paths, args.against)
    except CannotRun as problem:
        print(f"mincredit lint: {problem}", file=sys.stderr)
        return EXIT_UNUSABLE
    kept = [finding for finding in findings if selection.keeps(finding)]
    if args.strict:
        kept = [replace(finding, severity="error") for finding in kept]
    if args.format == "json":
        sys.stdout.write(json_report(kept))
    elif args.format == "sarif":
        sys.stdout.write(sarif_report(kept))
    else:
        sys.stdout.write(text_report(kept, files))
        if explain_found:
            for code in sorted({finding.code for finding in kept}):
                sys.stdout.write("\n" + explain(code))
    return EXIT_FINDINGS if any(finding.severity == "error" for finding in kept) else EXIT_OK
