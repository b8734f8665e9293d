"""Load a rulebook file: safe YAML → schema validation, with errors at YAML positions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from mincredit._yaml import Position, SourceMap, YamlDocument, YamlReadError, decode_utf8, read_yaml
from mincredit.rules._schema import Rulebook


@dataclass(frozen=True)
class RulebookProblem:
    """One thing wrong with a rulebook file, at a position in it."""

    code: str
    message: str
    position: Position
    path: tuple[str | int, ...] = ()

    def render(self, file: str) -> str:
        return f"{file}:{self.position.line}:{self.position.column}: {self.code} {self.message}"


class RulebookError(Exception):
    """A rulebook could not be loaded; every problem found is listed, each with its position."""

    def __init__(self, file: str, problems: list[RulebookProblem]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(p.render(file) for p in problems)
        super().__init__(f"the rulebook {file} cannot be used:\n{lines}")


def dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(document)"


def _shown(value: Any) -> str:
    """A value as it may appear in a message: repr, cut short (a pasted table must not flood the output)."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return "a number too long to show"
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    shown = _shown(error.get("input"))
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a field a rulebook may have (check the spelling)"
    if kind == "literal_error":
        return f"must be one of {context.get('expected', '')}, not {shown}"
    if kind == "greater_than":
        return f"must be greater than {context.get('gt')}, not {shown}"
    if kind in {"too_short", "string_too_short"}:
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"{shown} does not have the expected form ({context.get('pattern')})"
    if kind.startswith("date"):
        return f"must be a date written YYYY-MM-DD, not {shown}"
    if kind in {"dict_type", "model_type"}:
        return f"must be a mapping (key: value lines), not {shown}"
    if kind == "list_type":
        return f"must be a list (lines starting with -), not {shown}"
    return f"{error['msg'].lower()} (got {shown})"


def problem_code(kind: str, path: tuple[str | int, ...]) -> str:
    """The lint code of one schema error: its kind (pydantic's error type) at its path in the document."""
    last = path[-1] if path else None
    if path[:1] == ("rulebook",) and path[1:2] == ("version",):
        return "I001"
    if path[:2] == ("rulebook", "source") and ((len(path) == 2 and kind == "missing")
                                                 or last in {"document", "article"}):
        return "I002"
    if path == ("honours", "cap") and kind == "missing":
        return "H002"
    if last == "wording" and kind in {"missing", "string_too_short"}:
        return "S006"
    if last == "tiers" and kind in {"missing", "too_short"}:
        return "S005"
    if last == "points" and kind == "greater_than":
        return "S004"
    if kind == "missing":
        return "S002"
    if kind == "extra_forbidden":
        return "S003"
    return "S001"


def schema_problems(error: ValidationError, source_map: SourceMap) -> list[RulebookProblem]:
    problems: list[RulebookProblem] = []
    for detail in error.errors(include_url=False):
        path = tuple(part for part in detail["loc"] if isinstance(part, str | int))
        # pydantic adds the union/model member name to the path in some errors; drop what the YAML lacks
        is_key = detail["type"] == "extra_forbidden"
        position = source_map.locate(path, key=is_key)
        code = problem_code(detail["type"], path)
        problems.append(RulebookProblem(code, f"{dotted(path)} {_describe(detail)}", position, path))
    return problems


@dataclass(frozen=True)
class LoadedRulebook:
    """A validated rulebook with the file it came from and where each of its values sits."""

    rulebook: Rulebook
    file: str
    source_map: SourceMap
    raw: Any


def parse_rulebook_text(text: str, file: str) -> tuple[YamlDocument, Rulebook]:
    try:
        document = read_yaml(text)
    except YamlReadError as error:
        raise RulebookError(file, [RulebookProblem(p.code, p.message, p.position) for p in error.problems]) \
            from None
    if not isinstance(document.data, dict):
        raise RulebookError(file, [RulebookProblem("S001", "a rulebook must be a mapping with a `rulebook:` block",
                                                   Position(1, 1))])
    try:
        rulebook = Rulebook.model_validate(document.data)
    except ValidationError as error:
        raise RulebookError(file, schema_problems(error, document.source_map)) from None
    return document, rulebook


def load_rulebook_file(path: str | Path) -> LoadedRulebook:
    """Read and validate one rulebook file; raise RulebookError naming every problem."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise RulebookError(file, [RulebookProblem("E902", f"cannot read the file: {error.strerror}",
                                                   Position(1, 1))]) from None
    try:
        text = decode_utf8(raw)
    except YamlReadError as error:
        raise RulebookError(file, [RulebookProblem(p.code, p.message, p.position) for p in error.problems]) \
            from None
    document, rulebook = parse_rulebook_text(text, file)
    return LoadedRulebook(rulebook=rulebook, file=file, source_map=document.source_map, raw=document.data)
