"""Publishing, verifying and replaying a publication: the public API behind ``mincredit publish``.

A publication is a folder: ``blacklist.{csv,json,html}``, ``results.{csv,json,html}``, with a previous
publication also ``changes.{csv,json,html}``, and ``manifest.json``, which names the rulebook (id, version,
digest), the date, the digest of the facts and the SHA-256 of every other file.  Like an evaluation record
(docs/versions.md), a publication can be verified (every file is the one the manifest names) and replayed
(the same facts under the same rulebook version give the same bytes).

The facts digest in the manifest leaves out the basic information: the manifest is published, and a
digest over identity numbers — numbers of low entropy (a birth date and four digits) — would let anyone who
knows the rest of the facts test guesses of them.  Basic information never changes a published byte, so the
digest still pins everything the publication depends on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mincredit._publish._build import (
    BlacklistEntry,
    Changes,
    Edition,
    Lists,
    PublicationUnavailable,
    ResultEntry,
    Snapshot,
    build_lists,
    changes_since,
    date_text,
    rules_of,
)
from mincredit._publish._render import Page, Table, article_json, csv_bytes, json_bytes, page_html
from mincredit._publish._rules import Publication as PublicationRules
from mincredit.facts._models import Subject
from mincredit.facts._reading import FactError, SubjectEntry
from mincredit.rules._compiling import CompiledRulebook

__all__ = [
    "MANIFEST",
    "FileDifference",
    "PreviousPublication",
    "Publication",
    "PublicationError",
    "PublicationReplay",
    "PublicationUnavailable",
    "publish",
    "read_publication",
    "replay_publication",
    "verify_publication",
]

MANIFEST = "manifest.json"
MANIFEST_KIND = "mincredit publication manifest"
MANIFEST_FORMAT = 1
LISTS = ("blacklist", "results")


class PublicationError(Exception):
    """A publication folder cannot be written, read, verified or replayed; the message says why."""


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def publication_facts_digest(entries: Sequence[SubjectEntry]) -> str:
    """The facts digest of docs/versions.md with every subject's basic information left out (see above)."""
    from mincredit._replay import canonical_facts

    canonical = [{key: value for key, value in item.items() if key != "basic"} if isinstance(item, dict) else item
                 for item in canonical_facts(entries)]
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256(text.encode("utf-8"))


@dataclass(frozen=True)
class PreviousPublication:
    """An earlier publication to compare with: read from its folder (its manifest's SHA-256 kept, so a replay
    can insist on the same one) or made in this process by :func:`publish`."""

    snapshot: Snapshot
    manifest_sha256: str


@dataclass(frozen=True)
class Publication:
    """A publication made in memory: the published entries, the bytes of every file, and the manifest."""

    as_of: dt.date
    rulebook_id: str
    rulebook_version: str
    rulebook_digest: str
    editions: Mapping[str, Edition]
    blacklist: tuple[BlacklistEntry, ...]
    results: tuple[ResultEntry, ...]
    changes: Changes | None
    errors: tuple[FactError, ...]
    notes: tuple[str, ...]
    files: Mapping[str, bytes]
    manifest: Mapping[str, Any]
    other_kind: int = 0

    @property
    def complete(self) -> bool:
        """Every subject of the rulebook's kind could be evaluated (none is missing for bad facts)."""
        return not self.errors

    def manifest_bytes(self) -> bytes:
        return json_bytes(self.manifest)

    def as_previous(self) -> PreviousPublication:
        """This publication as the previous one of a later publication (two runs in one process)."""
        rows = {name: tuple(json.loads(self.files[f"{name}.json"])["rows"]) for name in LISTS}
        return PreviousPublication(Snapshot(self.as_of, self.rulebook_id, rows["blacklist"], rows["results"]),
                                   sha256(self.manifest_bytes()))

    def write(self, directory: str | Path) -> None:
        """Write every file atomically, the manifest last; a folder holding an earlier publication is replaced
        file by file (files of the earlier one this one does not have are removed); any other folder that is
        not empty is refused."""
        write_publication(self, Path(directory))


# ---------------------------------------------------------------- building


def _rows(entries: Sequence[BlacklistEntry] | Sequence[ResultEntry], keys: Sequence[str]) -> list[dict[str, Any]]:
    return [{key: entry.value(key) for key in keys} for entry in entries]


def _list_files(name: str, entries: Sequence[BlacklistEntry] | Sequence[ResultEntry], rules: PublicationRules,
                as_of: dt.date, other: tuple[tuple[str, str], ...], with_changes: bool) -> dict[str, bytes]:
    published = rules.blacklist if name == "blacklist" else rules.results
    texts = rules.texts
    keys = [item.key for item in published.fields]
    labels = [item.label for item in published.fields]
    edition = Edition.of(published.schedule, as_of)
    edition_text = edition.text(texts, as_of)
    rows = [tuple(entry.text(key, texts) for key in keys) for entry in entries]
    basis = (published.schedule, rules.publisher, published) if name == "blacklist" else (published,)
    data = {
        "title": published.title,
        "edition": {"kind": edition.kind, "text": edition_text},
        "as_of": as_of.isoformat(),
        "publisher": rules.publisher.name,
        "channels": list(rules.publisher.channels),
        "basis": [article_json(rule) for rule in basis],
        "fields": [{"key": key, "label": label} for key, label in zip(keys, labels, strict=True)],
        "rows": _rows(entries, keys),
    }
    table = Table(caption=texts.caption.format(title=published.title, edition=edition_text, count=len(rows)),
                  labels=tuple(labels), rows=tuple(rows), empty=texts.empty.format(date=date_text(texts, as_of)),
                  header_column=keys.index("name") if "name" in keys else 0)
    downloads = (f"{name}.csv", f"{name}.json", "manifest.json")
    pages = other + ((("changes.html", texts.changes_title),) if with_changes else ())
    page = Page(title=published.title, edition=edition_text, as_of=texts.as_of.format(date=date_text(texts, as_of)),
                tables=(table,), basis=basis, downloads=downloads, other_pages=pages,
                code_columns=frozenset(i for i, key in enumerate(keys) if key == "uscc"))
    return {f"{name}.csv": csv_bytes(labels, rows), f"{name}.json": json_bytes(data),
            f"{name}.html": page_html(page, rules)}


def _changes_files(changes: Changes, rules: PublicationRules, as_of: dt.date) -> dict[str, bytes]:
    texts = rules.texts
    since = texts.since.format(date=date_text(texts, changes.since))
    ways = {"natural": texts.removal_natural, "decision": texts.removal_decision,
            "revoked": texts.removal_revoked, "withdrawn": texts.removal_withdrawn}
    black_labels = (texts.change, rules.blacklist.label_of("name"), rules.blacklist.label_of("uscc"),
                    texts.day)
    black_rows = []
    for change in changes.blacklist:
        kind = texts.change_listed if change.change == "listed" else texts.change_removed
        if change.removal is not None:
            kind += f"（{ways[change.removal]}）"
        black_rows.append((kind, change.name, change.uscc, date_text(texts, change.day) if change.day else ""))
    result_labels = (texts.change, rules.results.label_of("name"), rules.results.label_of("uscc"),
                     texts.previous_grade, texts.current_grade)
    kinds = {"grade": texts.change_grade, "new": texts.change_new, "gone": texts.change_gone}
    result_rows = [(kinds[c.change], c.name, c.uscc, c.previous_grade or "", c.current_grade or "")
                   for c in changes.results]
    tables = (
        Table(caption=texts.caption.format(title=rules.blacklist.title, edition=since, count=len(black_rows)),
              labels=black_labels, rows=tuple(black_rows), empty=texts.no_changes, header_column=1),
        Table(caption=texts.caption.format(title=rules.results.title, edition=since, count=len(result_rows)),
              labels=result_labels, rows=tuple(result_rows), empty=texts.no_changes, header_column=1),
    )
    data = {
        "since": changes.since.isoformat(),
        "as_of": as_of.isoformat(),
        "blacklist": [{"change": c.change, "removal": c.removal, "name": c.name, "uscc": c.uscc,
                       "day": c.day.isoformat() if c.day else None} for c in changes.blacklist],
        "results": [{"change": c.change, "name": c.name, "uscc": c.uscc, "previous_grade": c.previous_grade,
                     "current_grade": c.current_grade} for c in changes.results],
    }
    page = Page(title=texts.changes_title, edition=since,
                as_of=texts.as_of.format(date=date_text(texts, as_of)), tables=tables,
                basis=(rules.blacklist.schedule, rules.results.schedule),
                downloads=("changes.csv", "changes.json", "manifest.json"),
                other_pages=(("blacklist.html", rules.blacklist.title), ("results.html", rules.results.title)),
                code_columns=frozenset({2}))
    # One CSV table for both lists: a blacklist change has a date, a results change two grades.
    csv_labels = (*black_labels, texts.previous_grade, texts.current_grade)
    csv_rows = [(*row, "", "") for row in black_rows] + [(r[0], r[1], r[2], "", r[3], r[4]) for r in result_rows]
    return {"changes.csv": csv_bytes(csv_labels, csv_rows), "changes.json": json_bytes(data),
            "changes.html": page_html(page, rules)}


def publish(entries: Iterable[SubjectEntry | Subject], rulebook: CompiledRulebook, as_of: dt.date, *,
            previous: PreviousPublication | Publication | None = None,
            published_at: dt.datetime | None = None) -> Publication:
    """The publication of ``entries`` as of ``as_of`` under ``rulebook`` (its ``publication:`` block).

    Subjects of the rulebook's kind are evaluated one by one (a bad one is an error of the publication and
    stops no other); the others are left to the other rulebook's publication.  With ``previous``, what changed
    since it is published too.  ``published_at`` is only written into the manifest, for people.
    """
    from mincredit._replay import library_version

    rules = rules_of(rulebook)
    listed = [item if isinstance(item, SubjectEntry) else SubjectEntry(index, None, None, item)
              for index, item in enumerate(entries)]
    lists: Lists = build_lists(listed, rulebook, as_of)
    identity = rulebook.identity
    before = previous.as_previous() if isinstance(previous, Publication) else previous
    if before is not None:
        if before.snapshot.rulebook_id != identity.id:
            raise PublicationError(f"the previous publication is of rulebook {before.snapshot.rulebook_id}, this one "
                                   f"of {identity.id}: compare publications of the same list")
        if before.snapshot.as_of >= as_of:
            raise PublicationError(f"the previous publication is as of {before.snapshot.as_of}, not before {as_of}")
    titles = {"blacklist": rules.blacklist.title, "results": rules.results.title}
    files: dict[str, bytes] = {}
    for name, entries_of in (("blacklist", lists.blacklist), ("results", lists.results)):
        other = tuple((f"{o}.html", titles[o]) for o in LISTS if o != name)
        files.update(_list_files(name, entries_of, rules, as_of, other, before is not None))
    changes = None
    if before is not None:
        current = Snapshot(as_of, identity.id, tuple(json.loads(files["blacklist.json"])["rows"]),
                           tuple(json.loads(files["results.json"])["rows"]))
        changes = changes_since(before.snapshot, current, lists.gone)
        files.update(_changes_files(changes, rules, as_of))
    editions = {name: Edition.of((rules.blacklist if name == "blacklist" else rules.results).schedule, as_of)
                for name in LISTS}
    moment = published_at or dt.datetime.now(dt.UTC)
    manifest: dict[str, Any] = {
        "manifest": MANIFEST_KIND,
        "format": MANIFEST_FORMAT,
        "published_at": moment.isoformat(timespec="seconds"),
        "library": {"name": "mincredit", "version": library_version()},
        "rulebook": {"id": identity.id, "version": identity.version, "digest": rulebook.digest},
        "as_of": as_of.isoformat(),
        "editions": {name: {"kind": edition.kind, "text": edition.text(rules.texts, as_of)}
                     for name, edition in editions.items()},
        "facts": {"subjects": len(listed), "digest": publication_facts_digest(listed),
                  "digest_of": "the facts without each subject's basic information"},
        "published": {"blacklist": len(lists.blacklist), "results": len(lists.results)},
        "not_published": {"subjects_with_errors": len({e.subject_index for e in lists.errors}),
                          "subjects_of_another_kind": lists.other_kind,
                          "listings_without_disclosed_facts": len(lists.notes)},
        "complete": not lists.errors,
        "previous": ({"as_of": before.snapshot.as_of.isoformat(), "manifest": before.manifest_sha256}
                     if before is not None else None),
        "files": {name: sha256(data) for name, data in sorted(files.items())},
    }
    return Publication(as_of=as_of, rulebook_id=identity.id, rulebook_version=identity.version,
                       rulebook_digest=rulebook.digest, editions=editions, blacklist=tuple(lists.blacklist),
                       results=tuple(lists.results), changes=changes, errors=tuple(lists.errors),
                       notes=tuple(lists.notes), files=files, manifest=manifest, other_kind=lists.other_kind)


# ---------------------------------------------------------------- writing, reading, verifying


def _read_manifest(directory: Path) -> tuple[dict[str, Any], bytes]:
    path = directory / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PublicationError(f"{directory} is not a publication: it has no {MANIFEST}") from None
    except OSError as error:
        raise PublicationError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PublicationError(f"{path} is not a JSON manifest") from None
    if not isinstance(data, dict) or data.get("manifest") != MANIFEST_KIND:
        raise PublicationError(f"{path} is not a mincredit publication manifest")
    if data.get("format") != MANIFEST_FORMAT:
        raise PublicationError(f"{path} has format {data.get('format')!r}; this mincredit reads format "
                               f"{MANIFEST_FORMAT}")
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise PublicationError(f"{path} has no list of files with their SHA-256")
    for name in files:
        if Path(name).name != name or name in {MANIFEST, ".", ".."}:
            raise PublicationError(f"{path} names the file {name!r}, which is not a file of the folder")
    return data, raw


def write_publication(publication: Publication, directory: Path) -> None:
    from mincredit._atomic import atomic_write

    if directory.exists() and not directory.is_dir():
        raise PublicationError(f"{directory} exists and is not a folder")
    earlier: set[str] = set()
    if directory.is_dir() and any(not p.name.startswith(".") for p in directory.iterdir()):
        try:
            data, _ = _read_manifest(directory)
        except PublicationError:
            raise PublicationError(f"{directory} is not empty and holds no earlier publication; publish into a new "
                                   "or empty folder (nothing there is overwritten)") from None
        earlier = set(data["files"])
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data_bytes in sorted(publication.files.items()):
            atomic_write(directory / name, data_bytes)
        atomic_write(directory / MANIFEST, publication.manifest_bytes())   # last: it vouches for the others
        for stale in sorted(earlier - set(publication.files)):
            (directory / stale).unlink(missing_ok=True)
    except OSError as error:
        raise PublicationError(f"cannot write the publication into {directory}: {error}") from None


def verify_publication(directory: str | Path) -> list[str]:
    """Every problem with a publication folder: a file missing, changed, or not in the manifest. Empty: intact."""
    folder = Path(directory)
    data, _ = _read_manifest(folder)
    return _file_problems(folder, data)


def _verified_manifest(folder: Path) -> tuple[dict[str, Any], bytes]:
    """The manifest of a publication folder (its data and bytes, read once) whose files all match it; else the
    error that lists what does not."""
    data, raw = _read_manifest(folder)
    problems = _file_problems(folder, data)
    if problems:
        raise PublicationError(f"the publication in {folder} does not match its manifest: " + "; ".join(problems))
    return data, raw


def _file_problems(folder: Path, data: dict[str, Any]) -> list[str]:
    """A file the manifest lists missing or changed, or a file of the folder it does not list."""
    problems = []
    for name, digest in sorted(data["files"].items()):
        path = folder / name
        try:
            found = sha256(path.read_bytes())
        except FileNotFoundError:
            problems.append(f"{name}: missing")
            continue
        except OSError as error:
            problems.append(f"{name}: cannot be read ({error.strerror})")
            continue
        if found != digest:
            problems.append(f"{name}: changed since it was published (the manifest says {digest}, the file has "
                            f"{found})")
    for path in sorted(folder.iterdir()):
        if path.name != MANIFEST and not path.name.startswith(".") and path.name not in data["files"]:
            problems.append(f"{path.name}: not in the manifest")
    return problems


def read_publication(directory: str | Path) -> PreviousPublication:
    """A publication folder, verified, as the previous publication of a later one."""
    folder = Path(directory)
    data, raw = _verified_manifest(folder)
    try:
        as_of = dt.date.fromisoformat(data["as_of"])
        rulebook_id = data["rulebook"]["id"]
        rows = {name: tuple(json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))["rows"])
                for name in LISTS}
    except (KeyError, TypeError, ValueError, OSError) as error:
        raise PublicationError(f"the publication in {folder} cannot be read: {error}") from None
    return PreviousPublication(Snapshot(as_of, str(rulebook_id), rows["blacklist"], rows["results"]), sha256(raw))


# ---------------------------------------------------------------- replay


@dataclass(frozen=True)
class FileDifference:
    name: str
    what: str


@dataclass(frozen=True)
class PublicationReplay:
    """The outcome of replaying a publication: ``identical``, or which files differ and how."""

    as_of: dt.date
    rulebook: str
    differences: tuple[FileDifference, ...] = field(default=())

    @property
    def identical(self) -> bool:
        return not self.differences


def _json_differences(recorded: bytes, replayed: bytes) -> str:
    from mincredit._replay import _compare

    try:
        found = list(_compare(json.loads(recorded), json.loads(replayed), ""))
    except ValueError:
        return "differs"
    shown = "; ".join(f"{path}: published {old!r}, replayed {new!r}" for path, old, new in found[:5])
    return shown + (f"; and {len(found) - 5} more" if len(found) > 5 else "") if shown else "differs"


def replay_publication(directory: str | Path, entries: Iterable[SubjectEntry | Subject], *,
                       rulebook: CompiledRulebook | None = None, library: Any = None,
                       previous: str | Path | None = None) -> PublicationReplay:
    """Publish ``entries`` again as the manifest in ``directory`` says and compare every file, byte for byte.

    The folder is verified first; the facts digest and the rulebook digest must be the manifest's (the rulebook
    is the recorded id@version from ``library``, or ``rulebook``); a publication made against a previous one
    needs that previous folder again, with the very manifest it was compared with.
    """
    from mincredit.rules._registry import UnknownRulebook, resolve_rulebook

    folder = Path(directory)
    data, _ = _verified_manifest(folder)
    try:
        as_of = dt.date.fromisoformat(data["as_of"])
        rulebook_id, version, digest = (data["rulebook"][k] for k in ("id", "version", "digest"))
        facts_digest = data["facts"]["digest"]
    except (KeyError, TypeError, ValueError):
        raise PublicationError(f"the manifest in {folder} lacks its rulebook, date or facts digest") from None
    listed = [item if isinstance(item, SubjectEntry) else SubjectEntry(index, None, None, item)
              for index, item in enumerate(entries)]
    found = publication_facts_digest(listed)
    if found != facts_digest:
        raise PublicationError(f"the facts digest does not match the manifest: the manifest says {facts_digest}, "
                               f"these facts have {found}")
    if rulebook is None:
        try:
            rulebook = resolve_rulebook(f"{rulebook_id}@{version}", library=library).rulebook
        except UnknownRulebook as error:
            raise PublicationError(str(error)) from None
    if rulebook.digest != digest:
        raise PublicationError(f"the rulebook digest does not match the manifest: the manifest says {digest}, "
                               f"{rulebook.identity.id}@{rulebook.identity.version} has {rulebook.digest}")
    before = None
    recorded_previous = data.get("previous")
    if isinstance(recorded_previous, dict):
        if previous is None:
            raise PublicationError(f"the publication was compared with the publication as of "
                                   f"{recorded_previous.get('as_of')}: give that folder as the previous one")
        before = read_publication(previous)
        if before.manifest_sha256 != recorded_previous.get("manifest"):
            raise PublicationError(f"{previous} is not the previous publication this one was compared with: its "
                                   f"manifest has {before.manifest_sha256}, the manifest names "
                                   f"{recorded_previous.get('manifest')}")
    again = publish(listed, rulebook, as_of, previous=before)
    recorded: dict[str, str] = data["files"]
    differences = []
    for name in sorted(recorded.keys() | again.files.keys()):
        if name not in again.files:
            differences.append(FileDifference(name, "published, but not made again"))
        elif name not in recorded:
            differences.append(FileDifference(name, "made again, but not published"))
        elif sha256(again.files[name]) != recorded[name]:
            what = (_json_differences((folder / name).read_bytes(), again.files[name]) if name.endswith(".json")
                    else f"published {recorded[name]}, replayed {sha256(again.files[name])}")
            differences.append(FileDifference(name, what))
    return PublicationReplay(as_of, f"{rulebook_id}@{version}", tuple(differences))

