"""Fuzzing the rulebook where evaluation reads it (issue 12, item 11): tier numbers, points, bounds and their units,
quantities, grade bands, cap, weights, public-score range, retention years — retyped, enlarged, emptied.

For every mutation: compile refuses only with findings lint reports as errors (lint's own fuzzer,
tests/lint/test_robustness.py, checks that compile accepts what lint passes), and a rulebook that compiles evaluates
a population — plain subjects, refused ones, subjects whose tier comes from a quantity — on every path without a
traceback: the engine explained, JSON Lines without explanations (the plain path), the columns of an Arrow table (the
vectorised path); those paths give each subject the same answer.  Bounded: a few dozen mutations.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tempfile
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from builders import population_for, uscc_of
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mincredit import evaluate, evaluate_table
from mincredit._population.run import BatchRequest, run_batch
from mincredit._results import to_builtins
from mincredit._yaml import read_yaml
from mincredit.facts._validating import validate_subject
from mincredit.lint._runner import lint_bytes
from mincredit.rules._compiling import RulebookInvalid, compile_rulebook
from mincredit.rules._loading import RulebookError, parse_rulebook_text

pa = pytest.importorskip("pyarrow")

SHIPPED = Path(__file__).resolve().parents[2] / "rulebooks" / "miner.yaml"
AS_OF = dt.date(2024, 6, 30)
CORE = ("uscc", "evaluated", "grade", "score", "public_score", "deductions", "honour_bonus")


@cache
def shipped_data() -> str:
    return SHIPPED.read_text(encoding="utf-8")


@cache
def _parsed() -> Any:
    return read_yaml(shipped_data()).data


def parsed() -> Any:
    """The shipped rulebook's data, a copy to change."""
    return copy.deepcopy(_parsed())


def flow(value: Any) -> str:
    """Plain data as flow-style YAML (texts JSON-quoted, dates and numbers plain), so a mutated tree reads back."""
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(str(key), ensure_ascii=False) + ": " + flow(item)
                               for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def leaves(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(leaves(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(leaves(item, (*prefix, index)))
    return found


# Where evaluation reads the rulebook: the first key of each path.
READ = ("indicators", "honours", "grades", "formula", "retention", "quantities", "unit_conversions", "derived")
NUMBERS = st.one_of(st.integers(1, 1200), st.integers(1, 1200), st.decimals(min_value=0, max_value=1200, places=2,
                                                                              allow_nan=False),
                   st.sampled_from([0, -1, 1, 10 ** 12, 10 ** 30, Decimal("1E+40"), Decimal("0.5"), Decimal("1E-30"),
                                    Decimal("-0"), 999, 1001, 100000]))
TEXTS = st.sampled_from(["万 元", "万元", "元", "day", "month", "year", "percent", "week", "", " ", "10", "M03",
                         "ministry", "illegal_gain", "A", "Z", "万元", "day", "month", "percent"])


def values_like(original: Any) -> st.SearchStrategy[Any]:
    """A new value of the original's kind as a rule (so that the schema reads it and evaluation meets it), now and
    then of any kind."""
    if isinstance(original, bool):
        usual: st.SearchStrategy[Any] = st.booleans()
    elif isinstance(original, int | Decimal):
        usual = NUMBERS
    elif isinstance(original, str):
        usual = TEXTS
    else:
        usual = st.just(original)
    return st.one_of(usual, usual, usual, st.one_of(st.none(), NUMBERS, TEXTS, st.just({}), st.just([]),
                                                    st.just({"value": 10, "inclusive": False, "unit": "day"})))


def get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


READ_KEYS = frozenset({"tier", "points", "value", "unit", "inclusive", "quantity", "cap", "level", "base",
                       "public_weight", "industry_weight", "lower", "upper", "years", "equals", "of",
                       "missing_public_score", "condition"})


def targets(data: Any) -> list[tuple[Any, ...]]:
    return [path for path in leaves(data) if path[0] in READ and path[-1] in READ_KEYS]


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[tuple[Any, ...], str, Any]]:
    """A few changes to the shipped rulebook's data: (path, 'retype' or 'delete', the new value)."""
    data = parsed()
    changes = []
    for _ in range(draw(st.integers(1, 3))):
        found = targets(data)
        conditions = [path for path in found if "condition" in path or path[0] in {"quantities", "unit_conversions"}]
        path = draw(st.sampled_from(conditions if conditions and draw(st.booleans()) else found))
        action = draw(st.sampled_from(["retype"] * 9 + ["delete"]))
        value = draw(values_like(get(data, path))) if action == "retype" else None
        if apply(data, path, action, value):
            changes.append((path, action, value))
    return changes


def apply(data: Any, path: tuple[Any, ...], action: str, value: Any) -> bool:
    parent = data
    try:
        for part in path[:-1]:
            parent = parent[part]
        if action == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        return False
    return True


def mutated(changes: list[tuple[tuple[Any, ...], str, Any]]) -> str:
    data = parsed()
    for path, action, value in changes:
        apply(data, path, action, value)
    return flow(data)


@cache
def _population() -> tuple[dict[str, Any], ...]:
    """Plain subjects of the shipped law (with refused ones), and for every indicator whose tiers have conditions two
    subjects whose tier comes from an amount of its quantity, in the quantity's own unit."""
    source = parse_rulebook_text(shipped_data(), "miner.yaml")[1]
    subjects = population_for(compile_rulebook(source).law, 16, seed=5, as_of=AS_OF)
    number = 900
    for indicator in source.indicators:
        conditions = [tier.condition for tier in indicator.tiers if tier.condition is not None]
        if not conditions:
            continue
        quantity = conditions[0].quantity
        unit = source.quantities[quantity].unit
        for amount in ("5", "60"):
            record = {"id": "v-1", "type": "violation", "indicator": indicator.code, "determined_on": "2023-05-10",
                      "quantities": {quantity: f"{amount} {unit}"}}
            subjects.append({"uscc": uscc_of(number), "name": f"数量{number}", "kind": "miner", "public_score": 800,
                             "records": [record]})
            number += 1
    return tuple(subjects)


def population() -> list[dict[str, Any]]:
    return copy.deepcopy(list(_population()))


def outcomes(results: list[dict[str, Any]], errors: list[Any], count: int) -> list[tuple[Any, ...]]:
    failed: dict[int, set[str]] = {}
    for error in errors:
        failed.setdefault(error.subject_index, set()).add(error.field or "")
    assert len(results) + len(failed) == count, (len(results), failed)
    pending = iter(results)
    found: list[tuple[Any, ...]] = []
    for index in range(count):
        if index in failed:
            found.append(("errors", tuple(sorted(failed[index]))))
        else:
            result = next(pending)
            found.append(("result", tuple(result.get(name) for name in CORE)))
    return found


@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutations())
def test_what_compiles_evaluates_on_every_path_and_what_does_not_is_lints_finding(
        changes: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    text = mutated(changes)
    try:
        rulebook = compile_rulebook(parse_rulebook_text(text, "mutated.yaml")[1])
    except RulebookError:
        event("the schema refuses it")      # lint's own fuzzer (tests/lint/test_robustness.py) checks those
        return
    except RulebookInvalid as refused:
        event("compile refuses it")
        errors = {finding.code for finding in lint_bytes(text.encode("utf-8"), "mutated.yaml").findings
                  if finding.severity == "error"}
        codes = {reason.split(" ", 1)[0] for reason in refused.reasons}
        assert codes <= errors, (codes, errors)
        return
    event("it is evaluated")
    subjects = population()
    count = len(subjects)
    entries = [validate_subject(raw, file=None, index=index, line=None) for index, raw in enumerate(subjects)]
    explained = evaluate(entries, rulebook, AS_OF)
    reference = outcomes([to_builtins(result) for result in explained.results], explained.errors, count)
    with tempfile.TemporaryDirectory() as folder:
        facts, out = Path(folder) / "facts.jsonl", Path(folder) / "out.jsonl"
        facts.write_text("".join(json.dumps(raw, ensure_ascii=False, default=str) + "\n" for raw in subjects),
                         encoding="utf-8")
        found: list[Any] = []
        run_batch(BatchRequest(facts, rulebook, AS_OF, out, explain=False), on_error=found.append)
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
        assert outcomes(lines, found, count) == reference
    plain = [raw for raw in subjects if all("quantities" not in record for record in raw["records"])]
    columns = ("uscc", "name", "kind", "status", "public_score", "record_id", "type", "indicator", "tier",
               "determined_on", "honour", "level", "awarded_on", "valid_until")
    rows = [{**{name: raw.get(name) for name in columns[:5]},
             **{name: record.get("id" if name == "record_id" else name) for name in columns[5:]}}
            for raw in plain for record in raw["records"] or [{}]]
    table = pa.table({name: pa.array([str(row[name]) if row[name] is not None and name != "tier" else row[name]
                                      for row in rows], pa.int64() if name == "tier" else pa.string())
                      for name in columns})
    vector = evaluate_table(table, rulebook, AS_OF)
    found_rows = [{**row, **{name: row[name] for name in CORE}} for row in vector.results.to_pylist()]
    plain_reference = [outcome for raw, outcome in zip(subjects, reference, strict=True) if raw in plain]
    assert outcomes(found_rows, vector.errors, len(plain)) == plain_reference
