"""lint never crashes: mutated rulebooks give findings or nothing, never a traceback.

Hypothesis mutates valid rulebooks — deleting, duplicating, retyping and
reordering nodes of the data, and deleting, duplicating, swapping and
corrupting lines and bytes of the text — and every outcome must be a list of
well-formed findings, none of them X001 (lint failing on the file).  And when
lint reports no error, the engine's compile must accept the rulebook.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mincredit._yaml import read_yaml
from mincredit.lint._codes import CODES
from mincredit.lint._runner import FileResult, lint_bytes
from mincredit.rules._compiling import compile_rulebook

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "tests" / "lint_cases" / "base.yaml", ROOT / "rulebooks" / "miner.yaml",
           ROOT / "rulebooks" / "agency.yaml"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def source_text(index: int) -> str:
    return SOURCES[index].read_text(encoding="utf-8")


def check(result: FileResult) -> None:
    for finding in result.findings:
        assert finding.code in CODES
        assert finding.code != "X001", finding.message
        assert finding.severity == CODES[finding.code].severity
        assert finding.line >= 1 and finding.column >= 1
        assert finding.message and "\n" not in finding.message
    if result.rulebook is not None and not any(f.severity == "error" for f in result.findings):
        compile_rulebook(result.rulebook)


# ---------------------------------------------------------------- the data: nodes deleted, duplicated, retyped …


def emit(value: Any, indent: int = 0) -> str:
    """Block-style YAML for plain data (JSON-quoted scalars), so a mutated tree can be read back."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{json.dumps(str(key), ensure_ascii=False)}:\n{emit(item, indent + 2)}")
            else:
                out.append(f"{pad}{json.dumps(str(key), ensure_ascii=False)}: {emit(item).strip()}\n")
        return "".join(out)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = []
        for item in value:
            if isinstance(item, dict | list) and item:
                body = emit(item, indent + 2)
                out.append(f"{pad}-\n{body}")
            else:
                out.append(f"{pad}- {emit(item).strip()}\n")
        return "".join(out)
    if value is None:
        return pad + "null\n"
    if isinstance(value, bool):
        return pad + ("true\n" if value else "false\n")
    if isinstance(value, int | Decimal):
        return f"{pad}{value}\n"
    if isinstance(value, dt.date):
        return f"{pad}{value.isoformat()}\n"
    return pad + json.dumps(str(value), ensure_ascii=False) + "\n"


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(paths(item, (*prefix, index)))
    return found


def get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


REPLACEMENTS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6, max_value=10**6),
    st.just([]), st.just({}), st.just({"value": 10, "inclusive": True}), st.just(["M01", "M99.9", "grades.Z"]),
    st.sampled_from(["万元", "元", "day", "month", "year", "percent", "week", "M01", "M02.2", "A01", "F", "ministry"]),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 1, 1)),
)


@st.composite
def mutated_data(draw: st.DrawFn) -> str:
    data = read_yaml(source_text(draw(st.sampled_from([0, 0, 0, 1, 2])))).data
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths(data)))
        if not path:
            continue
        parent, last = get(data, path[:-1]), path[-1]
        action = draw(st.sampled_from(["delete", "duplicate", "retype", "reorder", "wrap"]))
        if action == "delete":
            del parent[last]
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(last, json.loads(json.dumps(parent[last], default=str)))
        elif action == "duplicate" and isinstance(parent, dict):
            parent[f"{last}_copy"] = parent[last]
        elif action == "retype":
            # a copy: st.just gives the same list or mapping every time, and a later mutation of it in place would
            # change what the next example draws (hypothesis then stops with FlakyStrategyDefinition)
            parent[last] = copy.deepcopy(draw(REPLACEMENTS))
        elif action == "reorder" and isinstance(parent, list):
            parent[:] = draw(st.permutations(parent))
        elif action == "reorder" and isinstance(parent, dict):
            items = draw(st.permutations(list(parent.items())))
            parent.clear()
            parent.update(items)
        elif action == "wrap":
            parent[last] = [parent[last]]
    return emit(data)


@SETTINGS
@given(mutated_data())
def test_mutated_data_gives_findings_not_tracebacks(text: str) -> None:
    check(lint_bytes(text.encode("utf-8"), "mutated.yaml"))


# ---------------------------------------------------------------- the text: lines and bytes


@st.composite
def mutated_text(draw: st.DrawFn) -> bytes:
    lines = source_text(draw(st.sampled_from([0, 0, 1, 2]))).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "insert", "truncate"]))
        if action == "delete" and len(lines) > 1:
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif action == "indent":
            lines[index] = draw(st.sampled_from(["  ", "\t", " "])) + lines[index]
        elif action == "dedent":
            lines[index] = lines[index].lstrip(" ")
        elif action == "insert":
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(st.text(max_size=8)) + line[at:]
        elif action == "truncate" and index > 0:
            lines = lines[:index]
    raw = "".join(lines).encode("utf-8")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=6)) + raw[at + draw(st.integers(0, 6)):]
    return raw


@SETTINGS
@given(mutated_text())
def test_mutated_text_gives_findings_not_tracebacks(raw: bytes) -> None:
    check(lint_bytes(raw, "mutated.yaml"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_findings_not_tracebacks(raw: bytes) -> None:
    check(lint_bytes(raw, "random.yaml"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]{}:-,&*!?|>'\"%@`#\t\n x1万元")), max_size=60))
def test_yaml_punctuation_gives_findings_not_tracebacks(text: str) -> None:
    check(lint_bytes(text.encode("utf-8"), "punctuation.yaml"))


def test_hostile_inputs() -> None:
    hostile = [
        b"", b"\xef\xbb\xbf", b"# only a comment\n", b"\xff\xfe\x00r", b"a: 1\x00", "a: \x85".encode(),
        b"[" * 100_000, b"- " * 100_000 + b"x", b"{a: " * 10_000, b"a: " + b"9" * 10_000, b"a: 0x" + b"f" * 10_000,
        b"rulebook: !!python/object/apply:os.system [echo]", b"x: !!binary aGk=", b"<<: {a: 1}",
        b"a: &a [1]\nb: *a", b"*undefined", b"? [complex, key]\n: v", b"%TAG ! tag:evil.com,2000:\n--- !x 1",
        b"a: 1\n---\nb: 2", b"a: .inf", b"a: 1e999999999", b"rulebook: {effective: {from: 2020-02-30}}",
        b"\t\t\t", "rulebook:\n  title: 测试\u2028next".encode(), b"'unterminated",
    ]
    for raw in hostile:
        check(lint_bytes(raw, "hostile.yaml"))
