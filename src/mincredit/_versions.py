"""The versions a rulebook library holds: ``mincredit versions [ID]``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rich.console import Console

from mincredit._periods import period_text
from mincredit._report import cells, titled_table
from mincredit.rules._loading import RulebookError
from mincredit.rules._registry import LibraryError, RulebookLibrary, UnknownRulebook, VersionEntry


def version_row(entry: VersionEntry, library: RulebookLibrary, day: dt.date | None = None) -> dict[str, Any]:
    try:
        file = str(entry.path.relative_to(library.directory))
    except ValueError:
        file = str(entry.path)
    row: dict[str, Any] = {
        "id": entry.id,
        "version": entry.version,
        "spec": entry.spec,
        "status": entry.status,
        "status_wording": entry.status_wording,
        "title": entry.rulebook.rulebook.title,
        "effective_from": entry.start.isoformat(),
        "effective_until": entry.end.isoformat() if entry.end is not None else None,
        "digest": entry.digest,
        "file": file,
        "newest": entry.newest_file,
    }
    if day is not None:
        # the day asked about (--as-of), today by default: named, so that a row never says "today" of another day
        row["as_of"] = day.isoformat()
        row["in_force"] = entry.covers(day)
    return row


def version_rows(library: RulebookLibrary, rulebook_id: str | None = None,
                 day: dt.date | None = None) -> list[dict[str, Any]]:
    """One row per version, by id then effective date; raises UnknownRulebook or LibraryError."""
    entries = library.versions(rulebook_id) if rulebook_id is not None else library.all_versions()
    return [version_row(entry, library, day) for entry in entries]


def print_versions(rows: list[dict[str, Any]], console: Console, library: RulebookLibrary,
                   day: dt.date, *, today: bool = False) -> None:
    table = titled_table(f"rulebook versions in {library.directory}")   # folder and file names are data, not markup
    in_force = f"in force on {day}" + (" (today)" if today else "")
    for name, justify in (("rulebook", "left"), ("status", "left"), ("in force from", "left"),
                          ("until (inclusive)", "left"), (in_force, "center"), ("digest", "left"),
                          ("file", "left")):
        table.add_column(name, justify=justify,  # type: ignore[arg-type]
                         no_wrap=name in {"rulebook", "digest", in_force})
    for row in rows:
        table.add_row(*cells(row["spec"], f"{row['status']} ({row['status_wording']})", row["effective_from"],
                             row["effective_until"] or "(no end)", "in force" if row.get("in_force") else "",
                             row["digest"], row["file"] + (" (newest)" if row["newest"] else "")))
    console.print(table)


def installed_text(cwd: Path | None = None) -> str:
    """What ``mincredit --version`` prints: mincredit's version, and every version of the installed rulebooks with
    its status, effective period and digest; and, run inside a project that names its own library, that one."""
    import platform

    from mincredit._replay import library_version
    from mincredit.rules._files import LibraryConfigError, project_library

    library = RulebookLibrary.shipped()
    lines = [f"mincredit {library_version()} (Python {platform.python_version()})",
             f"installed rulebooks: {library.directory}"]
    try:
        for entry in library.all_versions():
            lines.append(f"  {entry.spec}  {entry.status_wording}, in force {period_text(entry.start, entry.end)}  "
                         f"{entry.digest}")
    except (LibraryError, RulebookError, UnknownRulebook) as error:
        lines.append(f"  cannot be read: {error}")
    try:
        project = project_library(cwd if cwd is not None else Path.cwd())
    except LibraryConfigError as error:
        lines.append(f"this project's settings: {error}")
    else:
        if project is not None and project.directory.resolve() != library.directory.resolve():
            lines.append(f"rulebook ids here are found in the project's library {project.describe()}")
    return "\n".join(lines) + "\n"
