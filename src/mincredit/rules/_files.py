"""Where rulebook files are, by name alone: the shipped library, and one rulebook's version files.

Standard library only, so that the compiled-rulebook cache (:mod:`mincredit.rules._cache`) can find a
rulebook's files without importing the registry and its models; :mod:`mincredit.rules._registry` uses the
same names and patterns.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
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


# --- the library of a project: its configuration, or the folder a scenario file sits in ---------------

CONFIG_FILE = "mincredit.toml"
PYPROJECT = "pyproject.toml"


class LibraryConfigError(ValueError):
    """A project's configuration names its rulebook library wrongly (the message names the file)."""


@dataclass(frozen=True)
class ProjectLibrary:
    """A rulebook library a project's configuration names, and the file that names it."""

    directory: Path
    config: Path

    def describe(self) -> str:
        where = "[tool.mincredit] library" if self.config.name == PYPROJECT else "library"
        return f"{self.directory} ({where} in {self.config})"


def _project_root(folder: Path) -> bool:
    return any((folder / name).exists() for name in (CONFIG_FILE, PYPROJECT, ".git"))


def project_library(start: Path) -> ProjectLibrary | None:
    """The rulebook library a project names, searched from ``start`` upwards, as ruff finds its settings: the
    nearest ``mincredit.toml`` (``library = "rulebooks"``) or ``pyproject.toml`` with a ``[tool.mincredit]``
    table; its ``library`` is relative to that file.  None when the search meets no such file, or the nearest
    one names no library.  Raises LibraryConfigError for a file that cannot be read, a ``library`` that is not
    text, or a folder that does not exist.

    So a drafter working in a checkout, even with mincredit installed from it into site-packages, evaluates,
    tests and diffs the checkout's rulebooks, the files they edit, not the installed copy.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        found, library = _config_in(folder)
        if found:
            return library
    return None


def _config_in(folder: Path) -> tuple[bool, ProjectLibrary | None]:
    """Whether ``folder`` holds mincredit's settings (a mincredit.toml, or a pyproject.toml with a
    ``[tool.mincredit]`` table), and the library they name."""
    own = folder / CONFIG_FILE
    if own.is_file():
        return True, _configured(own, _toml(own))
    pyproject = folder / PYPROJECT
    if pyproject.is_file():
        tool = _toml(pyproject).get("tool")
        table = tool.get("mincredit") if isinstance(tool, dict) else None
        if isinstance(table, dict):
            return True, _configured(pyproject, table)
    return False, None


def _toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LibraryConfigError(f"cannot read {path}: {error}") from None


def _configured(config: Path, table: dict[str, object]) -> ProjectLibrary | None:
    library = table.get("library")
    if library is None:
        return None
    if not isinstance(library, str) or not library.strip():
        raise LibraryConfigError(f"{config}: library must be the path of a folder, relative to the file "
                                 f'(library = "rulebooks"), not {library!r}')
    directory = config.parent / library
    if not directory.is_dir():
        raise LibraryConfigError(f"{config}: library = {library!r}, but {directory} is not a folder")
    return ProjectLibrary(directory, config)


def library_beside(file: Path, rulebook_id: str) -> Path | None:
    """The library a file (a drafters' scenario file) sits in or under: the nearest of its folder and the folders
    above it holding ``rulebook_id`` (``rulebooks/`` for ``rulebooks/scenarios/x.yaml``).  The search stops at the
    project's root (a folder with mincredit.toml, pyproject.toml or .git), where the project's configured library
    is taken if it names one."""
    file = file.resolve()
    for folder in file.parents:
        own = folder / f"{rulebook_id}.yaml"
        if (own != file and own.is_file()) or any(found == rulebook_id for found, _, _ in history_files(folder)):
            return folder
        if _project_root(folder):
            _, configured = _config_in(folder)
            return configured.directory if configured is not None else None
    return None
