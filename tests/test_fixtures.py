"""The hypothetical revisions the tests use are what their generators make of today's rulebooks/miner.yaml.

A revision fixture written from an older rulebook would test a revision of a rulebook that no longer exists
(the articles of round two were missing from both for a while); regenerating them is one command each, and
this test names it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _generator(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FIXTURES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["make_hypothetical_revision", "make_structural_revision"])
def test_revision_fixture_is_generated_from_the_current_rulebook(name: str) -> None:
    generator = _generator(name)
    expected = generator.revise(generator.SOURCE.read_text(encoding="utf-8"))
    assert generator.TARGET.read_text(encoding="utf-8") == expected, (
        f"{generator.TARGET.name} is not what its generator makes of {generator.SOURCE.name}: "
        f"run python tests/fixtures/{name}.py")
