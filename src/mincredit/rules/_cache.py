"""The compiled-rulebook cache: a rulebook's law kept on disk, keyed by the exact bytes it came from.

A batch run (``mincredit evaluate … --output``) needs from the rulebook only its :class:`~mincredit._kernel.Law`
— points, levels, formula, bands, each grade's consequences.  Building it means reading the YAML, validating
it with the pydantic models and compiling it: about a quarter of a second of a fresh process, most of it
importing pydantic and building the models.  The cache keeps the law as JSON, the way Python keeps
``__pycache__``: an entry is found only from the SHA-256 of the rulebook file's bytes together with the
SHA-256 of mincredit's own source files, so any change to the rulebook or to the code that compiles it
misses and the rulebook is compiled from its source again.  Which file a bare id (``miner``) means on a date
is cached the same way, keyed by the names and bytes of every version file of that id.

What the cache is not:

- It never stands for the rulebook: the digest in every result is the one computed from the file when the
  entry was made from those same bytes; ``mincredit replay`` and ``mincredit diff`` never read the cache.
  A subject the engine must evaluate loads the rulebook from its file, and its digest is checked against
  the law's.
- An entry is verified before it is used: it must be the entry of its key; carry a SHA-256 over its key, the
  SHA-256 of the rulebook file's bytes it was made from and its content (a damaged or edited entry does not, nor
  one copied from another file's key); name those bytes, which must be the bytes of the file asked for now;
  decode as a law of the current layout; be the law of the rulebook id (and version, and effective period) asked
  for; and build: its grade bands hold every score once, its numbers are numbers.  Anything else about it, or any
  failure while checking it, and the rulebook is compiled from its file as if there were no cache.
- A cache that cannot be read, written or understood is ignored (the rulebook is compiled as if there were
  none); it never makes a run fail.
- It is trusted as ``__pycache__`` is: whoever can write the cache directory can write an entry that passes these
  checks (as they can write the package's own files).  The checks keep out damage, mix-ups and stale entries,
  not someone with write access to your home directory.

Where: ``$MINCREDIT_CACHE_DIR``, else the platform's user cache folder as platformdirs gives it
(``$XDG_CACHE_HOME/mincredit`` or ``~/.cache/mincredit`` on Linux, ``~/Library/Caches/mincredit`` on macOS,
``%LOCALAPPDATA%\\mincredit\\Cache`` on Windows).
``MINCREDIT_CACHE_DIR=off`` (or ``--no-cache``) turns it off.  Entries are small (about 30 KB a rulebook
version) and written atomically; deleting the directory is always safe.  See docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from mincredit._atomic import atomic_write
from mincredit._kernel import LAW_FORMAT, Day, Law, Tables
from mincredit._periods import in_period
from mincredit.rules._files import ID_RE, ID_VERSION_RE, history_files, is_path_spec

CACHE_ENV = "MINCREDIT_CACHE_DIR"
_OFF = {"", "0", "off", "no", "none", "false"}
_LAYOUT = "mincredit-cache-3"
_PACKAGE = Path(__file__).resolve().parents[1]


def default_cache_directory() -> Path | None:
    """The cache directory the environment asks for, or None when the cache is turned off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in _OFF else Path(chosen)
    # platformdirs knows each platform's convention (XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on
    # Windows), which a hand-written ~/.cache got wrong outside Linux; imported only when no folder is set.
    import platformdirs

    return platformdirs.user_cache_path("mincredit", appauthor=False)


def code_fingerprint(package: Path = _PACKAGE) -> str:
    """SHA-256 over the names and bytes of every source file of the mincredit package.

    An installed release and an edited checkout alike: any change to the code that reads, validates or
    compiles a rulebook gives another fingerprint, so entries made by other code are never used.
    """
    digest = hashlib.sha256(_LAYOUT.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class RulebookCache:
    """One cache directory, for one version of the code (a value: no global state)."""

    directory: Path
    fingerprint: str

    @classmethod
    def open(cls, directory: Path | None = None) -> RulebookCache | None:
        """The cache in ``directory`` (default: :func:`default_cache_directory`), or None when it is off or the
        package's source cannot be read."""
        chosen = directory if directory is not None else default_cache_directory()
        if chosen is None:
            return None
        try:
            return cls(chosen, code_fingerprint())
        except OSError:
            return None

    # --- looking up ------------------------------------------------------------------------------------

    def law(self, spec: str, library: Path, as_of: dt.date | None) -> Law | None:
        """The cached law of the rulebook ``spec`` (a path, ``id@version`` or an id resolved on ``as_of`` in
        ``library``), or None when anything about it is not in the cache or the entry does not verify."""
        try:
            found = self._file_key_for(spec, library, as_of)
            if found is None:
                return None
            key, source_sha256, version = found
            data = self._read(key)
            if data is None or data.get("source_sha256") != source_sha256:
                return None      # made from other bytes than the file's (an entry copied from another key)
            if _checksum(key, source_sha256, data["law"]) != data["law_sha256"]:
                return None
            law = msgspec.convert(data["law"], Law, strict=False)
            if law.format != LAW_FORMAT:
                return None
            if not is_path_spec(spec) and law.rulebook_id != spec.split("@", 1)[0]:
                return None
            if version is not None and (law.version, law.effective_start.isoformat(),
                                        law.effective_end.isoformat() if law.effective_end else None) != version:
                return None      # not the version the library's table says this file holds
            Day(Tables(law), as_of or law.effective_start)    # it builds: bands, numbers, periods
            return law
        except Exception:        # whatever is wrong with an entry, the file is compiled instead: never a crash
            return None

    def _file_key_for(self, spec: str, library: Path, as_of: dt.date | None
                      ) -> tuple[str, str, tuple[str, str, str | None] | None] | None:
        """The key of the law entry ``spec`` resolves to, the SHA-256 of that rulebook file's bytes, and (for an id
        or ``id@version``) the version, start and end the library's table gives it; None when not cached."""
        if is_path_spec(spec):
            content = Path(spec).read_bytes()
            return self._file_key(content), hashlib.sha256(content).hexdigest(), None
        match = ID_VERSION_RE.match(spec)
        rulebook_id = match.group(1) if match is not None else spec
        if match is None and not ID_RE.match(spec):
            return None
        files = _version_files(library, rulebook_id)
        if files is None:
            return None
        contents = {path: path.read_bytes() for path in files}
        state_key = self._library_key(rulebook_id, files, contents)
        state = self._read(state_key)
        if state is None or _checksum(state_key, "", state["versions"]) != state.get("versions_sha256"):
            return None
        versions = state["versions"]   # oldest first: [version, start, end or None, file key, file name]
        if match is not None:
            chosen = [row for row in versions if row[0] == match.group(2)]
        elif as_of is None:
            chosen = versions[-1:]
        else:
            chosen = [row for row in versions if in_period(as_of, dt.date.fromisoformat(row[1]),
                                                           dt.date.fromisoformat(row[2]) if row[2] else None)]
        if len(chosen) != 1:
            return None    # no version in force (the registry says which are nearest), or a name it lacks
        version, start, end, key, name = chosen[0]
        source = next((path for path in files if path.name == name), None)
        if source is None or not isinstance(key, str) or key != self._file_key(contents[source]):
            return None
        return key, hashlib.sha256(contents[source]).hexdigest(), (version, start, end)

    # --- storing -----------------------------------------------------------------------------------------

    def snapshot(self, spec: str, library: Path) -> dict[Path, bytes]:
        """The bytes of every file ``spec`` could resolve to, read before the rulebook is loaded from them, so
        that :meth:`store` keeps nothing if a file changed while it was being loaded."""
        try:
            if is_path_spec(spec):
                return {Path(spec): Path(spec).read_bytes()}
            match = ID_VERSION_RE.match(spec)
            files = _version_files(library, match.group(1) if match is not None else spec)
            return {path: path.read_bytes() for path in files or ()}
        except OSError:
            return {}

    def store(self, spec: str, library: Path, snapshot: dict[Path, bytes], source: Path, law: Law,
              versions: list[tuple[str, dt.date, dt.date | None, Path]] | None) -> None:
        """Keep ``law``, made from the rulebook file ``source``; for an id or ``id@version``, also the
        library's versions of that id as the registry read them (version, effective start and end, file).

        Nothing is kept unless every file of ``snapshot`` still has the bytes it had before the rulebook was
        loaded.  A failure to write is ignored.
        """
        try:
            if not snapshot or any(path.read_bytes() != content for path, content in snapshot.items()):
                return
            content = snapshot.get(source)
            if content is None:
                return
            data = msgspec.to_builtins(law)
            key, source_sha256 = self._file_key(content), hashlib.sha256(content).hexdigest()
            self._write(key, {"law": data, "source_sha256": source_sha256,
                              "law_sha256": _checksum(key, source_sha256, data)})
            if versions is None or is_path_spec(spec):
                return
            match = ID_VERSION_RE.match(spec)
            rulebook_id = match.group(1) if match is not None else spec
            files = _version_files(library, rulebook_id)
            if files is None or set(files) != set(snapshot) or any(path not in snapshot for *_, path in versions):
                return
            rows = [[version, start.isoformat(), end.isoformat() if end is not None else None,
                     self._file_key(snapshot[path]), path.name] for version, start, end, path in versions]
            state_key = self._library_key(rulebook_id, files, snapshot)
            self._write(state_key, {"versions": rows, "versions_sha256": _checksum(state_key, "", rows)})
        except (OSError, ValueError, TypeError):
            return

    # --- keys and files ----------------------------------------------------------------------------------

    def _file_key(self, content: bytes) -> str:
        return hashlib.sha256(self.fingerprint.encode() + b"\0file\0" + content).hexdigest()

    def _library_key(self, rulebook_id: str, files: list[Path], contents: dict[Path, bytes] | None = None) -> str:
        digest = hashlib.sha256(self.fingerprint.encode() + b"\0library\0" + rulebook_id.encode())
        for path in files:
            content = contents[path] if contents is not None else path.read_bytes()
            digest.update(b"\0" + path.name.encode() + b"\0" + hashlib.sha256(content).digest())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            text = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        return data

    def _write(self, key: str, payload: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps({"key": key, **payload}, ensure_ascii=False, sort_keys=True).encode("utf-8"),
                     private=True)


def _checksum(key: str, source_sha256: str, content: Any) -> str:
    """SHA-256 over an entry's key, the SHA-256 of the bytes it was made from, and its content (canonical JSON):
    damage to any of them, or an entry put under another key, does not verify."""
    text = json.dumps([key, source_sha256, content], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _version_files(library: Path, rulebook_id: str) -> list[Path] | None:
    """Every file holding a version of ``rulebook_id`` in ``library``, in a fixed order; None when the history
    folder holds a misnamed file (the registry reports it)."""
    files = []
    newest = library / f"{rulebook_id}.yaml"
    if newest.is_file():
        files.append(newest)
    for found_id, _, path in history_files(library):
        if found_id is None:
            return None
        if found_id == rulebook_id:
            files.append(path)
    return files or None
