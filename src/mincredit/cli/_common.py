"""What every command shares: exit statuses, the usage error, dates, rulebooks and facts from arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from mincredit.facts._validating import SubjectEntry
    from mincredit.rules._compiling import CompiledRulebook
    from mincredit.rules._registry import ResolvedRulebook, RulebookLibrary

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2
EXIT_CRASH = 70            # an unexpected failure inside mincredit: a bug (sysexits.h's EX_SOFTWARE)
EXIT_INTERRUPTED = 130     # Ctrl-C (128 + SIGINT), as a shell reports a process a SIGINT ended
DEBUG_ENV = "MINCREDIT_DEBUG"


class UsageProblem(Exception):
    """An argument the command cannot use; the message says which and why."""


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def resolve_or_fail(spec: str, *, as_of: dt.date | None = None,
                    library: RulebookLibrary | None = None) -> ResolvedRulebook:
    """A rulebook by path, id@version, or id (in force on ``as_of``, else the newest); UsageProblem if none."""
    from mincredit.rules._compiling import RulebookInvalid
    from mincredit.rules._loading import RulebookError
    from mincredit.rules._registry import LibraryError, UnknownRulebook, resolve_rulebook

    try:
        return resolve_rulebook(spec, as_of=as_of, library=library)
    except (UnknownRulebook, RulebookError, RulebookInvalid, LibraryError) as error:
        raise UsageProblem(str(error)) from None


def open_rulebook(spec: str, *, as_of: dt.date | None = None,
                  library: RulebookLibrary | None = None) -> CompiledRulebook:
    return resolve_or_fail(spec, as_of=as_of, library=library).rulebook


def _library(args: argparse.Namespace) -> RulebookLibrary | None:
    """The rulebook library given with --library, or None for the shipped one."""
    from mincredit.rules._registry import RulebookLibrary

    directory = getattr(args, "library", None)
    if directory is None:
        return None
    if not Path(directory).is_dir():
        raise UsageProblem(f"the rulebook library {directory} is not a folder")
    return RulebookLibrary(Path(directory))


def _read_facts(path: str) -> list[SubjectEntry]:
    from mincredit.facts._validating import FactsFileError, read_facts_file

    try:
        return list(read_facts_file(path))
    except FactsFileError as error:
        raise UsageProblem(error.error.describe()) from None


def _stdout_console() -> Console:
    from rich.console import Console

    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def parse_quarter(text: str) -> dt.date:
    from mincredit._population.run import quarter_end

    try:
        return quarter_end(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
