"""What every command shares: exit statuses, the usage error, dates, rulebooks and facts from arguments."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Iterator
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


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD, and only so: Python's ``fromisoformat`` also takes ``20240630`` and the week date
    ``2024-W26-7``, which a clerk reading the command line back would not recognise as the same day."""
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
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
    """The rulebook library a command finds rulebook ids in (:func:`chosen_library`), None for the installed one."""
    from mincredit.rules._registry import RulebookLibrary

    directory = chosen_library(args)
    if directory is None:
        return None
    held: RulebookLibrary | None = getattr(args, "_library_held", None)
    if held is None:     # one value per command: the versions it reads are read once
        held = RulebookLibrary(directory)
        args._library_held = held
    return held


def add_library_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--library", metavar="DIR",
                        help="rulebook library folder (ID.yaml and history/ID@VERSION.yaml) to find rulebook ids and "
                             "versions in, instead of the project's (pyproject.toml [tool.mincredit] library) or the "
                             "installed rulebooks")


def chosen_library(args: argparse.Namespace) -> Path | None:
    """The folder of the rulebook library a command finds rulebook ids in: ``--library DIR``; else the library the
    project's settings name (``[tool.mincredit] library`` in the nearest pyproject.toml, or mincredit.toml, from
    the current folder up), announced on stderr when it is not the installed copy; else None, the installed
    rulebooks.  Standard library only: a batch run whose law is in the cache never imports the registry."""
    if hasattr(args, "_library_chosen"):
        found: Path | None = args._library_chosen
        return found
    from mincredit.rules._files import LibraryConfigError, project_library, shipped_rulebook_dir

    directory = getattr(args, "library", None)
    found = None
    if directory is not None:
        if not Path(directory).is_dir():
            raise UsageProblem(f"the rulebook library {directory} is not a folder")
        found = Path(directory)
    else:
        try:
            project = project_library(Path.cwd())
        except LibraryConfigError as error:
            raise UsageProblem(str(error)) from None
        if project is not None:
            found = project.directory
            if project.directory.resolve() != shipped_rulebook_dir().resolve():
                print(f"mincredit {args.command}: rulebooks from the project's library {project.describe()}, not "
                      "the installed copy (--library DIR chooses another)", file=sys.stderr)
    args._library_chosen = found
    return found


def library_directory(args: argparse.Namespace) -> Path:
    """The folder of the library :func:`chosen_library` chooses (the installed rulebooks' when it chooses none)."""
    from mincredit.rules._files import shipped_rulebook_dir

    chosen = chosen_library(args)
    return chosen if chosen is not None else shipped_rulebook_dir()


def _read_facts(path: str, subjects: str | None = None) -> list[SubjectEntry]:
    """Every subject of a facts file in any format (YAML, JSON, JSON Lines, Parquet, CSV; ``subjects``: the
    subjects file of the two-file columnar layout)."""
    from mincredit._population.run import ColumnarUnavailable
    from mincredit.facts._validating import FactsFileError, read_facts_file

    try:
        return list(read_facts_file(path, subjects=subjects))
    except FactsFileError as error:
        raise UsageProblem(error.error.describe()) from None
    except ColumnarUnavailable as error:
        raise UsageProblem(str(error)) from None


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _nothing() -> None:
    return None


@contextlib.contextmanager
def progress_bar(description: str, total: int | None, *, show: bool = True) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr while the block runs, only on a terminal (a log or a pipe gets nothing);
    yields the function to call after each item."""
    if not (show and _stderr_is_terminal()):
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(file=sys.stderr, force_terminal=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance() -> None:
            bar.advance(task)

        yield advance


# Piped output is as wide as its longest line: rich needs a width, and a width no line reaches never wraps one.
UNWRAPPED_WIDTH = 1_000_000_000


def _stdout_console() -> Console:
    """The console of the tables and lines people read on stdout.

    Nothing printed is ever markup or an emoji code (names, record ids and messages are data; the printers in
    mincredit._report give rich Text, and this console would not read markup in a plain string either). On a
    terminal, lines wrap at its width; piped (to a file, grep, another program) nothing is ever hard-wrapped:
    each table row and each error line stays one whole line, however long.
    """
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:
            # The reader went away (``| head``). rich would exit 1, which here means "subjects had errors";
            # instead stdout goes to the null device and the command ends as main() ends any broken pipe.
            self.quiet = True
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            raise BrokenPipeError

    terminal = sys.stdout.isatty()
    return StdoutConsole(markup=False, emoji=False, highlight=False, soft_wrap=False,
                         width=None if terminal else UNWRAPPED_WIDTH)


def parse_quarter(text: str) -> dt.date:
    from mincredit._population.run import quarter_end

    try:
        return quarter_end(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
