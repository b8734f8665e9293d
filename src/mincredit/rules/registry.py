"""Find rulebooks: a path, or the id of a rulebook shipped inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mincredit.rules.compiling import CompiledRulebook, compile_rulebook
from mincredit.rules.loading import LoadedRulebook, load_rulebook_file


class UnknownRulebook(LookupError):
    """Neither a readable file nor the id of a shipped rulebook."""


def shipped_rulebook_dir() -> Path:
    """Where the shipped rulebooks are: inside the installed package, or the source tree's rulebooks/.

    A wheel carries them as ``mincredit/shipped_rulebooks`` (see pyproject.toml).  An
    editable install or a plain source checkout has no such folder, so the
    repository's own ``rulebooks/`` is used; both hold the same files.
    """
    packaged = Path(str(resources.files("mincredit"))) / "shipped_rulebooks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "rulebooks"


def shipped_rulebook_ids() -> list[str]:
    directory = shipped_rulebook_dir()
    return sorted(path.stem for path in directory.glob("*.yaml")) if directory.is_dir() else []


def resolve_rulebook_path(spec: str | Path) -> Path:
    path = Path(spec)
    if path.suffix in {".yaml", ".yml"} or path.exists() or "/" in str(spec):
        if not path.is_file():
            raise UnknownRulebook(f"the rulebook file {spec} does not exist or is not a file")
        return path
    candidate = shipped_rulebook_dir() / f"{spec}.yaml"
    if candidate.is_file():
        return candidate
    known = ", ".join(shipped_rulebook_ids()) or "none"
    raise UnknownRulebook(f"there is no shipped rulebook called {spec!r} (shipped: {known}); "
                          "give a rulebook id or the path of a rulebook file")


def load_rulebook_source(spec: str | Path) -> LoadedRulebook:
    return load_rulebook_file(resolve_rulebook_path(spec))


def load_rulebook(spec: str | Path) -> CompiledRulebook:
    """Load, validate and compile a rulebook given by shipped id (``miner``) or by path."""
    return compile_rulebook(load_rulebook_source(spec).rulebook)
