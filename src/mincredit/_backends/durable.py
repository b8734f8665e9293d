"""The optional durable_rules backend: the same program, compiled to a durable_rules ruleset.

``pip install 'mincredit[durable]'`` installs durable_rules 2.0.28 (its last release, 2020), which builds
and runs on Python 3.11 and 3.12 and fails to import on 3.13.  docs/durable.md records why it is an
optional backend and not the engine, and what was measured.  How it is used here, because of what was
measured:

- one subject at a time: its facts are asserted under one state (sid ``"0"``), the matches collected, and
  the state deleted before the next subject — a ruleset holds at most 1,024 states, so one state per
  subject would fail at the 1,025th;
- no reliance on durable_rules' process-global names: each program gets a ruleset named with a fresh
  UUID, registered on a private host of this backend, never through ``durable.lang``'s global registry;
- no background thread: durable_rules' host dispatches actions on a timer thread concurrently with the
  caller (``post_batch`` lost updates that way); the private host does not start it, so every action
  runs inside the ``assert_fact`` call that triggered it, and a lock serialises runs;
- facts are asserted one by one (``assert_fact``), never with ``post_batch``.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from mincredit._conditions import All, AnyOf, Expr, Fact, Match, Program, Rule, Test

EXTRA_HINT = ("the durable_rules backend needs the optional dependency durable_rules: "
              "pip install 'mincredit[durable]' (durable_rules 2.0.28 runs on Python 3.11 and 3.12 only)")
SID = "0"


class DurableUnavailable(ImportError):
    """durable_rules cannot be imported (not installed, or a Python it does not support)."""


def _engine() -> Any:
    try:
        from durable import engine  # type: ignore[import-untyped, unused-ignore]
    except ImportError as error:   # includes the undefined-symbol failure on Python 3.13
        raise DurableUnavailable(f"{EXTRA_HINT} ({error})") from error
    return engine


def available() -> bool:
    try:
        _engine()
    except DurableUnavailable:
        return False
    return True


def compile_expr(expr: Expr) -> dict[str, Any]:
    """A condition in durable_rules' JSON ruleset language."""
    if isinstance(expr, All):
        return {"$and": [compile_expr(item) for item in expr.items]}
    if isinstance(expr, AnyOf):
        return {"$or": [compile_expr(item) for item in expr.items]}
    return _compile_test(expr)


def _compile_test(test: Test) -> dict[str, Any]:
    field, value = test.field, test.value
    if test.op == "eq":
        return {field: value}
    if test.op == "ne":
        return {"$neq": {field: value}}
    if test.op in {"lt", "le", "gt", "ge"}:
        return {f"${'lte' if test.op == 'le' else 'gte' if test.op == 'ge' else test.op}": {field: value}}
    assert isinstance(value, tuple)
    if test.op == "in":
        return {"$or": [{field: item} for item in value]}
    if test.op == "not_in":
        return {"$and": [{"$neq": {field: item}} for item in value]}
    return {"$or": [{"$iany": {field: {"$i": item}}} for item in value]}   # any_in


# Every run first asserts this fact, which this rule matches: durable_rules 2.0.28 corrupts memory when the
# state of a sid that no fact was ever stored under is deleted (all facts unmatched), so the state always exists.
ANCHOR_RULE = "__anchor__"
ANCHOR = {"id": "__anchor__", "fact": "__anchor__"}


def ruleset_definition(program: Program, action: Callable[[str], Callable[[Any], None]]) -> dict[str, Any]:
    rules = {rule.id: {"all": [{"m": compile_expr(rule.when)}], "run": action(rule.id)} for rule in program.rules}
    rules[ANCHOR_RULE] = {"all": [{"m": {"fact": ANCHOR["fact"]}}], "run": action(ANCHOR_RULE)}
    return rules


class DurableBackend:
    name = "durable"

    def __init__(self) -> None:
        engine = _engine()

        class _QuietHost(engine.Host):  # type: ignore[misc, name-defined]
            def _run(self) -> None:   # no dispatch thread: actions run inside the call that triggers them
                return None

        self._engine = engine
        self._host = _QuietHost()
        self._lock = threading.Lock()
        self._rulesets: dict[int, tuple[Program, str]] = {}
        self._found: list[Match] = []

    def _ruleset(self, program: Program) -> str:
        known = self._rulesets.get(id(program))
        if known is not None and known[0] is program:
            return known[1]
        name = f"mincredit_{uuid.uuid4().hex}"

        def action(rule_id: str) -> Callable[[Any], None]:
            def record(closure: Any) -> None:
                self._found.append((rule_id, str(closure.m["id"])))
            return record

        self._host.set_rulesets({name: ruleset_definition(program, action)})
        self._rulesets[id(program)] = (program, name)
        return name

    def run(self, program: Program, facts: Sequence[Fact]) -> frozenset[Match]:
        rules: tuple[Rule, ...] = program.rules
        if not rules or not facts:
            return frozenset()
        with self._lock:
            name = self._ruleset(program)
            self._found = []
            try:
                self._host.assert_fact(name, {**ANCHOR, "sid": SID})
                for fact in facts:
                    # a fact no rule matches raises MessageNotHandledException: it simply matched nothing
                    with contextlib.suppress(self._engine.MessageNotHandledException):
                        self._host.assert_fact(name, {**fact, "sid": SID})
                return frozenset(match for match in self._found if match[0] != ANCHOR_RULE)
            finally:
                self._host.delete_state(name, SID)
