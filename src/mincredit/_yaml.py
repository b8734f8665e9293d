"""Read YAML into plain Python data, safely, keeping where every value came from.

Rulebooks and facts are data written by people, so they are read the way a
linter reads code: the parser only composes the node tree, and this module
turns nodes into ``dict``/``list``/scalars itself.  Nothing is ever
constructed from a tag, anchors and aliases are refused (so an alias bomb is
never expanded), duplicate keys and tabs are reported, and every value keeps
its line and column so that later errors can point at the exact spot.

Floats are read as :class:`decimal.Decimal` from their source text, so that
``812.35`` stays exactly 812.35.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from mincredit._numbers import yaml_number

Path = tuple[str | int, ...]

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings read; a rulebook needs 6, and deeper input could exhaust the stack."""

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


@dataclass(frozen=True)
class Position:
    """1-based line and column in a source file."""

    line: int
    column: int


@dataclass(frozen=True)
class YamlProblem:
    """Why a YAML text could not be read; ``code`` is the lint code it maps to."""

    code: str
    message: str
    position: Position


class YamlReadError(Exception):
    """The text is not usable YAML data; ``problems`` says where and why."""

    def __init__(self, problems: list[YamlProblem]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(f"line {first.position.line}, column {first.position.column}: {first.message}")


@dataclass
class SourceMap:
    """Where each value (by its path from the document root) and each mapping key starts."""

    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Position:
        """The position of ``path``, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))


@dataclass
class YamlDocument:
    data: Any
    source_map: SourceMap
    located: list[tuple[Path, YamlProblem]] = field(default_factory=list)
    """Facts only (``read_yaml(…, facts=True)``): problems confined to a place, with the path of the mapping they are
    in (a key given twice), for the reader to report against the subject holding them."""


def _position(node: Node) -> Position:
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1)


def _tab_problems(text: str) -> list[YamlProblem]:
    problems: list[YamlProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        indent = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:indent]:
            problems.append(
                YamlProblem("Y003", "a tab is used for indentation; YAML indents with spaces only",
                            Position(number, line.index("\t") + 1))
            )
    return problems


def _scalar(node: ScalarNode, problems: list[YamlProblem], tag: str, facts: bool = False) -> Any:
    text: str = node.value
    try:
        if tag == "tag:yaml.org,2002:str":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() in {"true", "yes", "on"}
        if facts and tag in {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}:
            # Facts: a number is written as JSON writes one, in YAML as in JSON and CSV (mincredit._numbers); any
            # other spelling stays text, which a number field refuses for that subject alone.
            return yaml_number(text)
        if tag == "tag:yaml.org,2002:int":
            return int(text.replace("_", ""), 0)
        if tag == "tag:yaml.org,2002:float":
            return Decimal(text.replace("_", ""))
        if tag == "tag:yaml.org,2002:timestamp":
            # Anything but a valid calendar date stays text, so the schema reports it at its field
            # (2023-13-10 is "not a valid date" for that record, not an unreadable file).
            try:
                return dt.date.fromisoformat(text) if len(text) == 10 else text
            except ValueError:
                return text
    except (ValueError, InvalidOperation):
        problems.append(YamlProblem("Y001", f"the value {text!r} cannot be read as {tag.rsplit(':', 1)[-1]}",
                                    _position(node)))
        return text
    return text


def _convert(node: Node, path: Path, seen: set[int], source_map: SourceMap,
             problems: list[YamlProblem], located: list[tuple[Path, YamlProblem]] | None = None) -> Any:
    if id(node) in seen:
        problems.append(YamlProblem(
            "Y005", "an alias (*name) repeats an anchored node; rulebooks and facts must spell every value out",
            _position(node)))
        return None
    seen.add(id(node))
    source_map.values[path] = _position(node)
    tag = str(node.tag)
    if tag not in _STANDARD_TAGS:
        problems.append(YamlProblem(
            "Y004", f"the YAML tag {tag.replace('tag:yaml.org,2002:', '!!')} is not allowed; "
                    "only plain data (text, numbers, dates, lists, mappings) may appear",
            _position(node)))
        return None
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                problems.append(YamlProblem("Y001", "a mapping key must be plain text", _position(key_node)))
                continue
            key_tag = str(key_node.tag)    # ruamel builds the text of a tag at every call
            if key_tag not in _STANDARD_TAGS:
                key_tag = key_tag.replace("tag:yaml.org,2002:", "!!")
                problems.append(YamlProblem(
                    "Y004", "merge keys (<<) are not allowed; spell every value out" if key_tag == "!!merge"
                    else f"the YAML tag {key_tag} is not allowed on a key", _position(key_node)))
                continue
            key_value = _scalar(key_node, problems, key_tag)
            key = str(key_value) if not isinstance(key_value, str) else key_value
            if key in result:
                twice = YamlProblem(
                    "Y002", f"the key {key!r} appears twice in the same mapping (first at line "
                            f"{source_map.keys[(*path, key)].line}); only one of them would be used",
                    _position(key_node))
                if located is not None:
                    located.append((path, twice))
                else:
                    problems.append(twice)
                continue
            source_map.keys[(*path, key)] = _position(key_node)
            result[key] = _convert(value_node, (*path, key), seen, source_map, problems, located)
        return result
    if isinstance(node, SequenceNode):
        return [
            _convert(item, (*path, index), seen, source_map, problems, located)
            for index, item in enumerate(node.value)
        ]
    assert isinstance(node, ScalarNode)
    return _scalar(node, problems, tag, located is not None)


def _codepoint(character: object) -> str:
    number = ord(character) if isinstance(character, str) and len(character) == 1 else character
    return f"U+{number:04X}" if isinstance(number, int) else repr(character)


def _offset_position(text: str, offset: int) -> Position:
    before = text[:offset]
    return Position(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def read_yaml(text: str, *, facts: bool = False) -> YamlDocument:
    """Parse one YAML document into plain data and its source map, or raise YamlReadError.

    ``facts``: a facts document, whose subjects are reported one by one: numbers are read as the facts read them
    in every format (:func:`mincredit._numbers.yaml_number`), and a key given twice is kept in ``located`` with
    its place instead of failing the whole document.
    """
    problems = _tab_problems(text)
    # The "safe" composer runs in C (ruamel.yaml.clib) when available, about 7× faster than the pure
    # Python one; only nodes are composed either way, so nothing is constructed from the text.
    yaml = YAML(typ="safe")
    try:
        # The events are read first, without building anything, to refuse input nested so deeply that
        # composing it would exhaust the stack (the C composer recurses and would crash the process).
        depth = 0
        aliases: list[YamlProblem] = []
        for event in yaml.parse(text):
            if isinstance(event, AliasEvent):
                mark = event.start_mark
                aliases.append(YamlProblem(
                    "Y005", f"the alias *{event.anchor} repeats an anchored node; rulebooks and facts must spell "
                            "every value out (aliases are never expanded)", Position(mark.line + 1, mark.column + 1)))
            elif isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise YamlReadError([*problems, YamlProblem(
                        "Y001", f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
                        Position(mark.line + 1, mark.column + 1))])
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
        if aliases:  # refused before anything is composed, so an alias bomb is never built, let alone expanded
            raise YamlReadError(sorted([*problems, *aliases], key=lambda p: (p.position.line, p.position.column)))
        node = yaml.compose(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        message = " ".join(part for part in (error.context, error.problem) if part)
        parse_problem = YamlProblem("Y001", f"YAML does not parse: {message}", position)
        # a tab in the indentation is what breaks most parses it appears in: report the tab, not its effect
        if any(p.position.line == position.line for p in problems):
            raise YamlReadError(problems) from None
        raise YamlReadError([*problems, parse_problem]) from None
    except ReaderError as error:
        raise YamlReadError([*problems, YamlProblem(
            "Y001", f"YAML does not parse: the character {_codepoint(error.character)} is not allowed in YAML text",
            _offset_position(text, error.position))]) from None
    except YAMLError as error:
        raise YamlReadError([*problems, YamlProblem("Y001", f"YAML does not parse: {error}", Position(1, 1))]) \
            from None
    source_map = SourceMap()
    if node is None:
        raise YamlReadError([*problems, YamlProblem("Y006", "the file is empty", Position(1, 1))])
    located: list[tuple[Path, YamlProblem]] | None = [] if facts else None
    data = _convert(node, (), set(), source_map, problems, located)
    if problems:
        raise YamlReadError(sorted(problems, key=lambda p: (p.position.line, p.position.column)))
    return YamlDocument(data=data, source_map=source_map, located=located or [])


def decode_utf8(raw: bytes) -> str:
    """Decode file bytes as UTF-8 or raise YamlReadError at the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise YamlReadError([YamlProblem(
            "Y007", f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x} cannot start a character)",
            Position(line, column))]) from None
