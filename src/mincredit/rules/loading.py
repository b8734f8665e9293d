"""Load a rulebook file: safe YAML → schema validation, with errors at YAML positions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from mincredit.rules.schema import Rulebook
from mincredit.yaml_source import Position, SourceMap, YamlDocument, YamlReadError, decode_utf8, read_yaml


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


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a field a rulebook may have (check the spelling)"
    if kind == "literal_error":
        return f"must be one of {context.get('expected', '')}, not {error.get('input')!r}"
    if kind == "greater_than":
        return f"must be greater than {context.get('gt')}, not {error.get('input')}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"{error.get('input')!r} does not have the expected form ({context.get('pattern')})"
    if kind.startswith("date"):
        return f"must be a date written YYYY-MM-DD, not {error.get('input')!r}"
    return f"{error['msg'].lower()} (got {error.get('input')!r})"


def schema_problems(error: ValidationError, source_map: SourceMap) -> list[RulebookProblem]:
    problems: list[RulebookProblem] = []
    for detail in error.errors(include_url=False):
        path = tuple(part for part in detail["loc"] if isinstance(part, str | int))
        # pydantic adds the union/model member name to the path in some errors; drop what the YAML lacks
        is_key = detail["type"] == "extra_forbidden"
        position = source_map.locate(path, key=is_key)
        code = "S001"
        if detail["type"] == "missing":
            code = "S002"
        elif detail["type"] == "extra_forbidden":
            code = "S003"
        elif detail["type"] == "greater_than" and path and path[-1] == "points":
            code = "S004"
        elif detail["type"] == "too_short" and path and path[-1] == "tiers":
            code = "S005"
        elif path and path[-1] == "wording" and detail["type"] in {"missing", "string_too_short"}:
            code = "S006"
        if path and path[-1] == "wording" and detail["type"] == "missing":
            code = "S006"
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
