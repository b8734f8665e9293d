"""Where rulebook files are, by name alone: the shipped library, and one rulebook's version files.

Standard library only, so that the compiled-rulebook cache (:mod:`mincredit.rules._cache`) can find a
rulebook's files without importing the registry and its models; :mod:`mincredit.rules._registry` uses the
same names and patterns.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

HISTORY = "history"
ID_PATTERN = r"[a-z][a-z0-9_-]*"
ID_RE = re.compile(rf"^{ID_PATTERN}$")
ID_VERSION_RE = re.compile(rf"^({ID_PATTERN})@([^/\\@]+)$")


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


def history_files(directory: Path) -> list[tuple[str | None, str | None, Path]]:
    """The files of ``DIR/history`` a rulebook version could be in, sorted, each with the id and version its
    name gives (both None for a name that is not ``ID@VERSION``)."""
    history = directory / HISTORY
    if not history.is_dir():
        return []
    found: list[tuple[str | None, str | None, Path]] = []
    for path in sorted(history.glob("*.y*ml")):
        if path.suffix not in {".yaml", ".yml"}:
            continue
        match = ID_VERSION_RE.match(path.stem)
        found.append((match.group(1), match.group(2), path) if match is not None else (None, None, path))
    return found


def is_path_spec(spec: str | Path) -> bool:
    """Whether a ``--rulebook`` value names a file rather than an id or id@version."""
    if isinstance(spec, Path):
        return True
    path = Path(spec)
    if path.suffix in {".yaml", ".yml"} or "/" in spec or "\\" in spec:
        return True
    return path.is_file() and not (ID_RE.match(spec) or ID_VERSION_RE.match(spec))
