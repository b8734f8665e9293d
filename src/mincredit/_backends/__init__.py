"""Rule backends: what decides which rule of a :class:`~mincredit._conditions.Program` matches which fact.

The default is :class:`NativeBackend`, plain Python (:func:`mincredit._conditions.holds`).  The optional
durable_rules backend (``pip install 'mincredit[durable]'``, :mod:`mincredit._backends.durable`) compiles the
same program to a durable_rules ruleset; docs/durable.md says why it is optional and what was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mincredit._conditions import Fact, Match, Program, match_all


class Backend(Protocol):
    name: str

    def run(self, program: Program, facts: Sequence[Fact]) -> frozenset[Match]:
        """Every (rule id, fact id) pair where the rule's condition holds for the fact."""
        ...


class NativeBackend:
    name = "native"

    def run(self, program: Program, facts: Sequence[Fact]) -> frozenset[Match]:
        return match_all(program, facts)


NATIVE = NativeBackend()


def backend_named(name: str) -> Backend:
    """``native`` or ``durable``; the durable backend raises a clear error when its extra is missing."""
    if name == "native":
        return NATIVE
    if name == "durable":
        from mincredit._backends.durable import DurableBackend

        return DurableBackend()
    raise ValueError(f"unknown rule backend {name!r}: use 'native' or 'durable'")


__all__ = ["NATIVE", "Backend", "NativeBackend", "backend_named"]
