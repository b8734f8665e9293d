"""What pyproject.toml promises: the type check cannot turn red on a new release alone, and the wheel ships the
regulation text lint checks rulebooks against."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[]", requirement, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def _exact_pins(requirements: list[str]) -> set[str]:
    return {_name(r) for r in requirements if re.search(r"==\s*[\w.]+", r.split(";")[0])}


def _third_party_imports() -> set[str]:
    """The top-level modules src/ imports that are neither mincredit's nor the standard library's."""
    found: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
                found.add(node.module.split(".")[0])
    return {name for name in found if name != "mincredit" and name not in sys.stdlib_module_names}


def test_every_package_mypy_reads_is_pinned_in_the_test_extra() -> None:
    """`mypy src` reads the types of every package src/ imports (or its `type: ignore`, which a typed release would
    make unused): each must be pinned exactly in the test extra, directly or by a pinned package (pydantic pins
    pydantic-core), so that a new release cannot turn the type check red on its own."""
    test_extra: list[str] = PYPROJECT["project"]["optional-dependencies"]["test"]
    pinned = _exact_pins(test_extra)
    for requirement in list(test_extra):
        if _name(requirement) in pinned:
            try:
                pinned |= _exact_pins(importlib.metadata.requires(_name(requirement)) or [])
            except importlib.metadata.PackageNotFoundError:   # a marker left it out here (durable_rules on 3.13)
                continue
    distributions = importlib.metadata.packages_distributions()
    unpinned = {}
    for module in sorted(_third_party_imports()):
        names = {_name(d) for d in distributions.get(module, [module])}
        if not names & pinned:
            unpinned[module] = sorted(names)
    assert unpinned == {}, f"pin these in pyproject.toml's test extra (name==version): {unpinned}"


def test_the_wheel_ships_the_regulation_text_beside_the_rulebooks() -> None:
    """lint checks a rulebook's wordings at their lines of the regulation text (mincredit.lint._regulation), also
    after a plain `pip install .`: the wheel carries docs/regulation/ as mincredit/shipped_regulation, as it carries
    rulebooks/ as mincredit/shipped_rulebooks, and the shipped rulebooks name a file of that folder."""
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["force-include"]["rulebooks"] == "mincredit/shipped_rulebooks"
    assert wheel["force-include"]["docs/regulation"] == "mincredit/shipped_regulation"
    for rulebook in ("miner", "agency"):
        text = (ROOT / "rulebooks" / f"{rulebook}.yaml").read_text(encoding="utf-8")
        cited = re.search(r"^    file: (\S+)$", text, flags=re.MULTILINE)
        assert cited is not None and cited.group(1).startswith("docs/regulation/")
        assert (ROOT / cited.group(1)).is_file()
