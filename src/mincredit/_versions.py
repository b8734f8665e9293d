"""The versions a rulebook library holds: ``mincredit versions [ID]``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console

from mincredit._report import cells, titled_table
from mincredit.rules._registry import RulebookLibrary, VersionEntry


def version_row(entry: VersionEntry, library: RulebookLibrary, today: dt.date | None = None) -> dict[str, Any]:
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
    if today is not None:
        row["in_force_today"] = entry.covers(today)
    return row


def version_rows(library: RulebookLibrary, rulebook_id: str | None = None,
                 today: dt.date | None = None) -> list[dict[str, Any]]:
    """One row per version, by id then effective date; raises UnknownRulebook or LibraryError."""
    entries = library.versions(rulebook_id) if rulebook_id is not None else library.all_versions()
    return [version_row(entry, library, today) for entry in entries]


def print_versions(rows: list[dict[str, Any]], console: Console, library: RulebookLibrary,
                   today: dt.date) -> None:
    table = titled_table(f"rulebook versions in {library.directory}")   # folder and file names are data, not markup
    for name, justify in (("rulebook", "left"), ("status", "left"), ("in force from", "left"),
                          ("until (inclusive)", "left"), (f"today {today}", "center"), ("digest", "left"),
                          ("file", "left")):
        table.add_column(name, justify=justify, no_wrap=name in {"rulebook", "digest"})  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*cells(row["spec"], f"{row['status']} ({row['status_wording']})", row["effective_from"],
                             row["effective_until"] or "(no end)", "in force" if row.get("in_force_today") else "",
                             row["digest"], row["file"] + (" (newest)" if row["newest"] else "")))
    console.print(table)
