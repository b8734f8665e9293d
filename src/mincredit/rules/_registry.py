"""Find rulebooks: a path, ``id@version``, or an id chosen by the date it is in force on.

A :class:`RulebookLibrary` is a directory of rulebook versions, as a value: it
holds no global state, so two libraries, or two versions of one rulebook, live
side by side in one process.  Its layout::

    DIR/ID.yaml                     the newest version of rulebook ID (the file drafters edit)
    DIR/history/ID@VERSION.yaml     every older version that was adopted, unchanged

The shipped library is the repository's ``rulebooks/`` (inside a wheel:
``mincredit/shipped_rulebooks``).  A bare id given with a date is resolved by
effective period, the way dated parameters work in law-as-code systems: the
version whose ``effective.from``–``effective.until`` covers the date.  A date no
version covers is an error naming the nearest versions; naming a version
(``miner@2020-draft``) or a file uses it whatever the date.  A bare id without
a date means the newest version.  See docs/versions.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from mincredit._periods import in_period, period_text
from mincredit._yaml import YamlReadError, decode_utf8, read_yaml
from mincredit.rules._compiling import CompiledRulebook, compile_rulebook
from mincredit.rules._digest import rulebook_digest
from mincredit.rules._files import ID_RE, ID_VERSION_RE, history_files, is_path_spec, shipped_rulebook_dir
from mincredit.rules._loading import LoadedRulebook, load_rulebook_file
from mincredit.rules._schema import Identity, Rulebook

_ID_RE = ID_RE
_ID_VERSION_RE = ID_VERSION_RE


class UnknownRulebook(LookupError):
    """Neither a readable file nor a rulebook (version) the library holds."""


class LibraryError(Exception):
    """The library directory is inconsistent: misnamed files, duplicate or overlapping versions."""




@dataclass(frozen=True)
class VersionEntry:
    """One version of one rulebook in a library, with its file and digest.

    Choosing a version needs only each file's ``rulebook:`` block (id, version, effective period, status),
    which is read alone; the whole file is read, validated and digested the first time its rulebook or its
    digest is asked for, so resolving one version never loads the others.
    """

    path: Path
    newest_file: bool
    """True for ``DIR/ID.yaml``, False for ``DIR/history/ID@VERSION.yaml``."""
    identity: Identity
    """The file's ``rulebook:`` block."""
    _loaded: list[LoadedRulebook] = field(default_factory=list, repr=False, compare=False)
    _digest: list[str] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def of_file(cls, path: Path, newest_file: bool) -> VersionEntry:
        """The entry of a rulebook file, from its ``rulebook:`` block (the whole file if that cannot be read
        alone, so that any problem is reported as loading the file reports it)."""
        identity = _identity_block(path)
        if identity is not None:
            return cls(path, newest_file, identity)
        loaded = load_rulebook_file(path)
        return cls(path, newest_file, loaded.rulebook.rulebook, [loaded])

    @property
    def loaded(self) -> LoadedRulebook:
        """The validated rulebook file (read on first use)."""
        if not self._loaded:
            loaded = load_rulebook_file(self.path)
            if loaded.rulebook.rulebook != self.identity:
                raise _library_error(self.path, "the file changed while the library was read")
            self._loaded.append(loaded)
        return self._loaded[0]

    @property
    def digest(self) -> str:
        """The rulebook's digest (computed on first use; compiling the rulebook also gives it)."""
        if not self._digest:
            self._digest.append(rulebook_digest(self.rulebook))
        return self._digest[0]

    def knows_digest(self, digest: str) -> None:
        """Keep the digest compiling this entry's rulebook computed, so that it is not computed twice."""
        if not self._digest:
            self._digest.append(digest)

    @property
    def rulebook(self) -> Rulebook:
        return self.loaded.rulebook

    @property
    def id(self) -> str:
        return self.identity.id

    @property
    def version(self) -> str:
        return self.identity.version

    @property
    def spec(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def start(self) -> dt.date:
        return self.identity.effective.start

    @property
    def end(self) -> dt.date | None:
        return self.identity.effective.end

    @property
    def status(self) -> str:
        return self.identity.status

    @property
    def status_wording(self) -> str:
        return self.identity.status_wording

    def covers(self, day: dt.date) -> bool:
        return in_period(day, self.start, self.end)

    def distance(self, day: dt.date) -> int:
        """Days between ``day`` and this version's effective period (0 inside it)."""
        if day < self.start:
            return (self.start - day).days
        if self.end is not None and day > self.end:
            return (day - self.end).days
        return 0

    def describe(self) -> str:
        return f"{self.spec} ({self.status_wording}, in force {period_text(self.start, self.end)})"


class NoVersionInForce(UnknownRulebook):
    """The library holds the rulebook, but no version of it is in force on the date asked for."""

    def __init__(self, rulebook_id: str, day: dt.date, nearest: tuple[VersionEntry, ...]) -> None:
        self.rulebook_id = rulebook_id
        self.day = day
        self.nearest = nearest
        parts = []
        for entry in nearest:
            days = entry.distance(day)
            span = f"{days} day{'s' if days != 1 else ''}"
            if day < entry.start:
                parts.append(f"{entry.describe()}, which starts {span} after {day}")
            else:
                parts.append(f"{entry.describe()}, which ended {span} before {day}")
        which = "the nearest version is " if len(parts) == 1 else "the nearest versions are "
        names = " or ".join(entry.spec for entry in nearest)
        super().__init__(
            f"no version of rulebook {rulebook_id!r} is in force on {day}; {which}{' and '.join(parts)}; "
            f"name a version explicitly ({names}) to evaluate anyway")


@dataclass(frozen=True)
class ResolvedRulebook:
    """A rulebook found from a spec, and how it was chosen."""

    rulebook: CompiledRulebook
    chosen_by: Literal["path", "version", "date", "newest"]
    entry: VersionEntry | None = None
    path: Path | None = None

    def in_force_on(self, day: dt.date) -> bool:
        effective = self.rulebook.identity.effective
        return in_period(day, effective.start, effective.end)


def _did_you_mean(given: str, known: list[str], prefix: str = "") -> str:
    """ "; did you mean 'ID'?" for a name close to one the library holds (a typo), else nothing."""
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.6)
    return f"; did you mean {prefix}{close[0]}?" if close else ""


def _library_error(path: Path, message: str) -> LibraryError:
    return LibraryError(f"the rulebook library is inconsistent: {path}: {message}")


@dataclass(frozen=True)
class RulebookLibrary:
    """The versions of rulebooks kept in one directory (see the module docstring for the layout).

    Files are read when a rulebook id is first asked for and kept, validated and
    compiled, in this value; the directory is not watched for later changes.
    """

    directory: Path
    _versions: dict[str, tuple[VersionEntry, ...]] = field(default_factory=dict, repr=False, compare=False)
    _compiled: dict[tuple[str, str], CompiledRulebook] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def shipped(cls) -> RulebookLibrary:
        """The rulebooks shipped with the package (a new value at each call)."""
        return cls(shipped_rulebook_dir())

    def _history_files(self) -> list[tuple[str, str, Path]]:
        found = []
        for rulebook_id, version, path in history_files(self.directory):
            if rulebook_id is None or version is None:
                raise _library_error(path, "a file in history/ must be named ID@VERSION.yaml, "
                                           "e.g. miner@2020-draft.yaml")
            found.append((rulebook_id, version, path))
        return found

    def ids(self) -> list[str]:
        """Every rulebook id the library holds a version of."""
        if not self.directory.is_dir():
            return []
        newest = {path.stem for path in self.directory.glob("*.yaml") if _ID_RE.match(path.stem)}
        return sorted(newest | {rid for rid, _, _ in self._history_files()})

    def versions(self, rulebook_id: str) -> tuple[VersionEntry, ...]:
        """Every version of a rulebook, oldest first; UnknownRulebook if there is none, LibraryError if the
        files contradict each other."""
        cached = self._versions.get(rulebook_id)
        if cached is not None:
            return cached
        entries: list[VersionEntry] = []
        newest_path = self.directory / f"{rulebook_id}.yaml"
        if newest_path.is_file():
            entry = VersionEntry.of_file(newest_path, True)
            if entry.id != rulebook_id:
                raise _library_error(newest_path, f"the file is named {rulebook_id} but holds rulebook "
                                                  f"{entry.id!r}")
            entries.append(entry)
        for rid, version, path in self._history_files():
            if rid != rulebook_id:
                continue
            entry = VersionEntry.of_file(path, False)
            if (entry.id, entry.version) != (rid, version):
                raise _library_error(path, f"the file is named {rid}@{version} but holds "
                                           f"{entry.id}@{entry.version}")
            entries.append(entry)
        if not entries:
            known = self.ids()
            raise UnknownRulebook(f"there is no rulebook called {rulebook_id!r} in {self.directory}"
                                  f"{_did_you_mean(rulebook_id, known)} (it holds: {', '.join(known) or 'none'}); "
                                  "give a rulebook id, id@version or the path of a rulebook file")
        entries.sort(key=lambda entry: (entry.start, entry.version))
        self._check(entries)
        result = tuple(entries)
        self._versions[rulebook_id] = result
        return result

    @staticmethod
    def _check(entries: list[VersionEntry]) -> None:
        seen: dict[str, VersionEntry] = {}
        for entry in entries:
            if entry.version in seen:
                raise _library_error(entry.path, f"version {entry.spec} is also in {seen[entry.version].path}; "
                                                 "give the newest version a new version name")
            seen[entry.version] = entry
        for earlier, later in itertools.pairwise(entries):
            if earlier.end is None or earlier.end >= later.start:
                raise _library_error(later.path, f"{later.describe()} overlaps {earlier.describe()}; "
                                                 "a date must have at most one version in force")
        newest = [entry for entry in entries if entry.newest_file]
        if newest and newest[0] is not entries[-1]:
            raise _library_error(newest[0].path, f"{newest[0].spec} is the newest file, but {entries[-1].spec} "
                                                 f"({entries[-1].path}) starts later; the ID.yaml file must "
                                                 "hold the newest version")

    def all_versions(self) -> list[VersionEntry]:
        return [entry for rulebook_id in self.ids() for entry in self.versions(rulebook_id)]

    def newest(self, rulebook_id: str) -> VersionEntry:
        return self.versions(rulebook_id)[-1]

    def get(self, rulebook_id: str, version: str) -> VersionEntry:
        entries = self.versions(rulebook_id)
        for entry in entries:
            if entry.version == version:
                return entry
        known = ", ".join(entry.spec for entry in entries)
        hint = _did_you_mean(version, [entry.version for entry in entries], rulebook_id + "@")
        raise UnknownRulebook(f"there is no version {version!r} of rulebook {rulebook_id!r} in "
                              f"{self.directory}{hint} (it holds: {known})")

    def in_force(self, rulebook_id: str, day: dt.date) -> VersionEntry:
        """The version whose effective period covers ``day``; NoVersionInForce names the nearest ones."""
        entries = self.versions(rulebook_id)
        for entry in entries:
            if entry.covers(day):
                return entry
        before = [entry for entry in entries if entry.end is not None and entry.end < day]
        after = [entry for entry in entries if entry.start > day]
        raise NoVersionInForce(rulebook_id, day, tuple(before[-1:] + after[:1]))

    def with_digest(self, digest: str) -> list[VersionEntry]:
        """The versions whose digest is ``digest`` (normally none or one)."""
        return [entry for entry in self.all_versions() if entry.digest == digest]

    def compiled(self, entry: VersionEntry) -> CompiledRulebook:
        key = (entry.id, entry.version)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = compile_rulebook(entry.rulebook)
            entry.knows_digest(compiled.digest)
            self._compiled[key] = compiled
        return compiled

    def resolve(self, spec: str, *, as_of: dt.date | None = None) -> ResolvedRulebook:
        """A rulebook from a spec: ``id@version``, or ``id`` (in force on ``as_of``; newest without it)."""
        match = _ID_VERSION_RE.match(spec)
        if match is not None:
            entry = self.get(match.group(1), match.group(2))
            return ResolvedRulebook(self.compiled(entry), "version", entry, entry.path)
        if not _ID_RE.match(spec):
            raise UnknownRulebook(f"{spec!r} is neither a rulebook id, id@version, nor a rulebook file")
        if as_of is None:
            entry = self.newest(spec)
            return ResolvedRulebook(self.compiled(entry), "newest", entry, entry.path)
        entry = self.in_force(spec, as_of)
        return ResolvedRulebook(self.compiled(entry), "date", entry, entry.path)


_BLOCK_START = re.compile(r"rulebook:[ \t]*(#.*)?")


def _identity_block(path: Path) -> Identity | None:
    """A rulebook file's ``rulebook:`` block read on its own, or None when it cannot be (the file is then read
    whole, which reports the problem): the top-level ``rulebook:`` line and the indented lines after it."""
    try:
        text = decode_utf8(path.read_bytes())
    except (OSError, YamlReadError):
        return None
    lines = text.split("\n")
    starts = [number for number, line in enumerate(lines) if _BLOCK_START.fullmatch(line.rstrip("\r"))]
    if len(starts) != 1:
        return None
    block = [lines[starts[0]]]
    for line in lines[starts[0] + 1:]:
        if line.strip() and not line.startswith((" ", "#")):
            break
        block.append(line)
    try:
        data = read_yaml("\n".join(block)).data
        return Identity.model_validate(data["rulebook"])
    except (YamlReadError, ValidationError, TypeError, KeyError):
        return None


def shipped_rulebook_ids() -> list[str]:
    return RulebookLibrary.shipped().ids()


def resolve_rulebook_path(spec: str | Path) -> Path:
    path = Path(spec)
    if not path.is_file():
        raise UnknownRulebook(f"the rulebook file {spec} does not exist or is not a file")
    return path


def resolve_rulebook(spec: str | Path, *, as_of: dt.date | None = None,
                     library: RulebookLibrary | None = None) -> ResolvedRulebook:
    """A rulebook by path, ``id@version``, or id (the version in force on ``as_of``, else the newest)."""
    if is_path_spec(spec):
        path = resolve_rulebook_path(spec)
        return ResolvedRulebook(compile_rulebook(load_rulebook_file(path).rulebook), "path", None, path)
    return (library or RulebookLibrary.shipped()).resolve(str(spec), as_of=as_of)


def load_rulebook_source(spec: str | Path, *, library: RulebookLibrary | None = None) -> LoadedRulebook:
    """The validated rulebook file behind a path, ``id@version`` or id (newest version)."""
    if is_path_spec(spec):
        return load_rulebook_file(resolve_rulebook_path(spec))
    resolved = (library or RulebookLibrary.shipped()).resolve(str(spec))
    assert resolved.entry is not None
    return resolved.entry.loaded


def load_rulebook(spec: str | Path, *, as_of: dt.date | None = None,
                  library: RulebookLibrary | None = None) -> CompiledRulebook:
    """Load, validate and compile a rulebook given by id (``miner``), ``id@version`` or path.

    A bare id is the version in force on ``as_of``, or the newest version when no date is given.
    """
    return resolve_rulebook(spec, as_of=as_of, library=library).rulebook
