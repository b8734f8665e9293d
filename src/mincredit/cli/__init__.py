"""The ``mincredit`` command line.

Exit status, for every command: 0 success, 1 the command ran but found
problems (subjects with errors, lint findings), 2 it could not run (unusable
arguments, unreadable files, an invalid rulebook), 70 an unexpected failure
inside mincredit (a bug: one line says how to report it; MINCREDIT_DEBUG=1
prints the traceback), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# Only what every command needs is imported here; each command imports its own modules in its handler, so
# that `mincredit evaluate` does not load the linter, the diff and plot code, replay or the analysis of
# blacklist facts before it reads a record (docs/performance.md).
if TYPE_CHECKING:
    from mincredit._population.columnar import ColumnarInput
    from mincredit._population.evaluator import Source
    from mincredit.rules._compiling import CompiledRulebook

from mincredit.cli._common import (
    DEBUG_ENV,
    EXIT_CRASH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_UNUSABLE,
    UsageProblem,
    _library,
    _read_facts,
    _stdout_console,
    open_rulebook,
    parse_date,
    parse_quarter,
    resolve_or_fail,
)


def run_evaluate(args: argparse.Namespace) -> int:
    if args.as_of is None:
        args.as_of = args.quarter            # --quarter 2024Q3 is the quarter's last day
    batch = args.output is not None or args.format == "jsonl"
    if not batch and (args.no_explain or args.jobs != 1 or args.subjects is not None or args.no_cache):
        raise UsageProblem("--no-explain, --jobs, --subjects and --no-cache go with --output FILE or --format jsonl")
    if not batch:
        return _evaluate_document(args)
    from mincredit._population.run import start_reading

    # A Parquet or CSV input starts being read (in a thread) while the rulebook loads.
    reading = start_reading(Path(args.facts), Path(args.subjects) if args.subjects is not None else None)
    try:
        return run_batch_evaluate(args, _batch_rulebook(args), reading)
    finally:
        if reading is not None:
            reading.close()


def _rulebook_for(args: argparse.Namespace) -> CompiledRulebook:
    """The rulebook asked for, with a note when it is not in force on the evaluation date."""
    resolved = resolve_or_fail(args.rulebook, as_of=args.as_of, library=_library(args))
    rulebook = resolved.rulebook
    identity = rulebook.identity
    _note_not_in_force(identity.id, identity.version, identity.effective.start, identity.effective.end, args.as_of)
    return rulebook


def _note_not_in_force(rulebook_id: str, version: str, start: dt.date, end: dt.date | None, as_of: dt.date) -> None:
    """Only a version or file named explicitly can be out of force on the evaluation date: say so."""
    from mincredit._periods import in_period, period_text

    if in_period(as_of, start, end):
        return
    print(f"mincredit evaluate: note: {rulebook_id}@{version} is in force {period_text(start, end)}, not on {as_of}; "
          "evaluating with it because it was named explicitly", file=sys.stderr)


def _batch_rulebook(args: argparse.Namespace) -> Source:
    """What a batch run needs of the rulebook asked for: its law from the compiled-rulebook cache when it holds
    it, else compiled from the rulebook's file (and then kept in the cache)."""
    from mincredit._population.evaluator import Source
    from mincredit.rules._cache import RulebookCache
    from mincredit.rules._files import shipped_rulebook_dir

    library = Path(args.library) if getattr(args, "library", None) is not None else shipped_rulebook_dir()
    cache = None if args.no_cache else RulebookCache.open()

    def load() -> CompiledRulebook:
        return resolve_or_fail(args.rulebook, as_of=args.as_of, library=_library(args)).rulebook

    if cache is not None and library.is_dir():
        law = cache.law(args.rulebook, library, args.as_of)
        if law is not None:
            _note_not_in_force(law.rulebook_id, law.version, law.effective_start, law.effective_end, args.as_of)
            return Source(law, load)
    from mincredit.rules._registry import RulebookLibrary

    snapshot = cache.snapshot(args.rulebook, library) if cache is not None else {}
    held = _library(args) or RulebookLibrary(library)    # one value: the versions it reads are read once
    resolved = resolve_or_fail(args.rulebook, as_of=args.as_of, library=held)
    rulebook = resolved.rulebook
    identity = rulebook.identity
    _note_not_in_force(identity.id, identity.version, identity.effective.start, identity.effective.end, args.as_of)
    if cache is not None and resolved.path is not None:
        versions = None
        if resolved.entry is not None:
            versions = [(entry.version, entry.start, entry.end, entry.path) for entry in held.versions(identity.id)]
        cache.store(args.rulebook, library, snapshot, resolved.path, rulebook.law, versions)
    return Source.of(rulebook)


def _evaluate_document(args: argparse.Namespace) -> int:
    """evaluate with --format table or json: the whole evaluation at once, explained."""
    from mincredit._engine import evaluate
    from mincredit._replay import evaluation_record, write_record
    from mincredit._report import evaluation_json, print_evaluation_table

    rulebook = _rulebook_for(args)
    entries = _read_facts(args.facts)
    evaluation = evaluate(entries, rulebook, args.as_of)
    if args.format == "json":
        sys.stdout.write(evaluation_json(evaluation))
    else:
        print_evaluation_table(evaluation, _stdout_console(), details=not args.no_details)
    if args.record is not None:
        try:
            write_record(args.record, evaluation_record(evaluation, entries, facts_file=args.facts))
        except OSError as error:
            raise UsageProblem(f"cannot write the evaluation record {args.record}: {error}") from None
    return EXIT_OK if evaluation.complete else EXIT_PROBLEMS


def run_batch_evaluate(args: argparse.Namespace, rulebook: Source,
                       reading: ColumnarInput | None = None) -> int:
    """evaluate --output FILE / --format jsonl: streamed, chunk by chunk, with a progress bar and a summary."""
    from mincredit._population.evaluator import RulebookChanged
    from mincredit._population.run import BatchError, BatchRequest, ColumnarUnavailable, run_batch
    from mincredit._population.write import OutputError, output_format
    from mincredit.facts._reading import FactsFileError

    if args.record is not None:
        raise UsageProblem("--record keeps a whole evaluation in one file for replay; "
                           "it does not go with --output or --format jsonl")
    facts = Path(args.facts)
    output = Path(args.output) if args.output is not None else None
    if output is not None:
        try:
            output_format(output)
        except OutputError as error:
            raise UsageProblem(str(error)) from None
        if not (output.parent if str(output.parent) else Path(".")).is_dir():
            raise UsageProblem(f"the folder of the output {output} does not exist")
        if output.exists() and facts.exists() and output.resolve() == facts.resolve():
            raise UsageProblem("the output would replace the facts file it reads")
    request = BatchRequest(facts, rulebook, args.as_of, output, explain=not args.no_explain,
                           jobs=args.jobs if args.jobs > 0 else (os.cpu_count() or 1),
                           subjects_file=Path(args.subjects) if args.subjects is not None else None,
                           progress=sys.stderr.isatty())
    try:
        summary = run_batch(request, on_error=lambda error: print(error.describe(), file=sys.stderr),
                            reading=reading)
    except FactsFileError as error:
        raise UsageProblem(error.error.describe()) from None
    except (ColumnarUnavailable, BatchError, RulebookChanged) as error:
        raise UsageProblem(str(error)) from None
    except KeyboardInterrupt:
        print("mincredit evaluate: interrupted; " + (f"{output} was left as it was" if output else "output is partial"),
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"mincredit evaluate: {summary.describe(rulebook.law.grade_labels)}"
          + (f"; wrote {output}" if output is not None else ""), file=sys.stderr)
    return EXIT_OK if summary.error_subjects == 0 else EXIT_PROBLEMS


def run_table(args: argparse.Namespace) -> int:
    from mincredit._report import deduction_table_text

    rulebook = open_rulebook(args.rulebook, library=_library(args))
    text = deduction_table_text(rulebook, args.format, _stdout_console())
    if text is not None:
        sys.stdout.write(text)
    return EXIT_OK


def run_test(args: argparse.Namespace) -> int:
    from mincredit._scenarios import run_scenarios

    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageProblem(f"no such file or folder: {', '.join(missing)}")
    run = run_scenarios(paths)
    for failure in run.failures:
        print(failure.describe())
    if args.coverage:
        for (rulebook_id, version), gaps in run.coverage.missing().items():
            print(f"coverage of {rulebook_id} {version}:")
            for what, names in gaps.items():
                print(f"  {what} not exercised: {', '.join(names) if names else 'none'}")
    failed = run.scenarios - run.passed
    print(f"{run.scenarios} scenarios: {run.passed} passed, {failed} failed"
          + (f", {len(run.failures)} failure(s)" if run.failures else ""))
    return EXIT_OK if not run.failures else EXIT_PROBLEMS


def run_versions(args: argparse.Namespace) -> int:
    from mincredit._versions import print_versions, version_rows
    from mincredit.rules._loading import RulebookError
    from mincredit.rules._registry import LibraryError, RulebookLibrary, UnknownRulebook

    library = _library(args) or RulebookLibrary.shipped()
    day = args.as_of or dt.date.today()
    try:
        rows = version_rows(library, args.id, day)
    except (UnknownRulebook, RulebookError, LibraryError) as error:
        raise UsageProblem(str(error)) from None
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        print_versions(rows, _stdout_console(), library, day)
    return EXIT_OK


def _shown(value: object) -> str:
    return "(absent)" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def run_replay(args: argparse.Namespace) -> int:
    from mincredit._replay import ReplayError, replay
    from mincredit.facts._validating import FactsFileError
    from mincredit.rules._compiling import RulebookInvalid
    from mincredit.rules._loading import RulebookError
    from mincredit.rules._registry import LibraryError, RulebookLibrary

    try:
        outcome = replay(args.record, args.facts, library=_library(args) or RulebookLibrary.shipped(),
                         rulebook=args.rulebook)
    except FactsFileError as error:
        raise UsageProblem(error.error.describe()) from None
    except (ReplayError, RulebookError, RulebookInvalid, LibraryError) as error:
        raise UsageProblem(str(error)) from None
    record = outcome.record
    if args.format == "json":
        sys.stdout.write(json.dumps({
            "identical": outcome.identical,
            "rulebook": {"id": record.rulebook_id, "version": record.rulebook_version,
                         "digest": record.rulebook_digest},
            "as_of": record.as_of.isoformat(), "facts_digest": record.facts_digest,
            "recorded_with": record.library_version, "replayed_with": outcome.library_version,
            "differences": [{"subject": d.subject, "field": d.field, "recorded": d.recorded, "replayed": d.replayed}
                            for d in outcome.differences],
        }, ensure_ascii=False, indent=2) + "\n")
    else:
        print(f"replayed {args.record}: {record.rulebook_id}@{record.rulebook_version} ({record.rulebook_digest}), "
              f"as of {record.as_of}, {len(outcome.evaluation.results)} subject(s) evaluated; "
              f"recorded with mincredit {record.library_version}, replayed with {outcome.library_version}")
        if outcome.identical:
            print("identical")
        else:
            print(f"{len(outcome.differences)} difference(s) (subject, field, recorded value, replayed value):")
            for difference in outcome.differences:
                print(f"  {difference.subject}\t{difference.field}\t{_shown(difference.recorded)}\t"
                      f"{_shown(difference.replayed)}")
    return EXIT_OK if outcome.identical else EXIT_PROBLEMS


def run_diff(args: argparse.Namespace) -> int:
    from mincredit._atomic import atomic_write
    from mincredit._diff import diff_json, diff_rulebooks, plot_impact, print_diff

    library = _library(args)
    old = open_rulebook(args.old, library=library)
    new = open_rulebook(args.new, library=library)
    if old.subject_kind != new.subject_kind:
        raise UsageProblem(f"{args.old} scores {old.subject_kind}s and {args.new} scores {new.subject_kind}s; "
                           "compare two versions of the same rulebook")
    if args.population is None and (args.as_of is not None or args.plot is not None):
        raise UsageProblem("--as-of and --plot go with --population FACTS")
    if args.population is not None and args.as_of is None:
        raise UsageProblem("--population needs --as-of DATE: the date both rulebooks evaluate the population on")
    population = _read_facts(args.population) if args.population is not None else None
    report = diff_rulebooks(old, new, population=population, as_of=args.as_of, facts=args.population)
    if args.format == "json":
        sys.stdout.write(diff_json(report))
    else:
        print_diff(report, _stdout_console())
    if args.plot is not None and report.impact is not None:
        try:
            png = plot_impact(report.impact, old, new)
        except ImportError:
            raise UsageProblem("--plot needs matplotlib: pip install 'mincredit[plot]'") from None
        try:
            atomic_write(args.plot, png)
        except OSError as error:
            raise UsageProblem(f"cannot write the plot {args.plot}: {error}") from None
    impact = report.impact
    if impact is not None and ({error.subject_index for error in impact.old_errors}
                               & {error.subject_index for error in impact.new_errors}):
        return EXIT_PROBLEMS   # facts neither rulebook can evaluate (a subject only one refuses is the revision's)
    return EXIT_OK


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the ``command`` being run, the others' modules are not imported."""
    parser = argparse.ArgumentParser(
        prog="mincredit",
        description="Credit evaluation of Inner Mongolia's mining-rights holders and geological/mining "
                    "intermediary agencies, from versioned YAML rulebooks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    evaluate_parser = commands.add_parser("evaluate", help="score and grade the subjects of a facts file")
    evaluate_parser.add_argument("facts", help="facts file (.yaml, .json, .jsonl with one subject a line, or "
                                               ".parquet/.csv with one record a row: docs/columnar.md)")
    evaluate_parser.add_argument("--rulebook", required=True,
                                 help="rulebook id (miner, agency: the version in force on --as-of), "
                                      "id@version (miner@2020-draft), or a rulebook file path")
    when = evaluate_parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--as-of", type=parse_date, dest="as_of", help="evaluation date, YYYY-MM-DD")
    when.add_argument("--quarter", type=parse_quarter,
                      help="evaluate as of the quarter's last day: 2024Q3 is 2024-09-30 (art. 15)")
    evaluate_parser.add_argument("--format", choices=("table", "json", "jsonl"), default="table",
                                 help="jsonl: stream one result a line to stdout (like --output FILE.jsonl)")
    evaluate_parser.add_argument("--output", metavar="FILE",
                                 help="write the results to FILE (.jsonl or .parquet), atomically, streaming "
                                      "the input chunk by chunk; errors go to stderr, a summary at the end")
    evaluate_parser.add_argument("--no-explain", action="store_true", dest="no_explain",
                                 help="with --output/--format jsonl: results without items (explanations); "
                                      "the same scores, much faster")
    evaluate_parser.add_argument("--jobs", type=int, default=1, metavar="N",
                                 help="with --output/--format jsonl: evaluate in N processes (0: one per core); "
                                      "results identical and in input order")
    evaluate_parser.add_argument("--subjects", metavar="FILE",
                                 help="Parquet/CSV records: the subjects in this second file, joined on uscc "
                                      "(docs/columnar.md)")
    evaluate_parser.add_argument("--no-cache", action="store_true", dest="no_cache",
                                 help="with --output/--format jsonl: compile the rulebook from its file even if "
                                      "the compiled-rulebook cache holds it (docs/performance.md)")
    evaluate_parser.add_argument("--no-details", action="store_true",
                                 help="table format: only the summary table, not each record's explanation")
    evaluate_parser.add_argument("--record", metavar="OUT.json",
                                 help="also write an evaluation record for audit replay (mincredit replay)")
    _add_library_option(evaluate_parser)
    evaluate_parser.set_defaults(handler=run_evaluate)

    table_parser = commands.add_parser("table", help="print a rulebook's deduction table, one row per tier")
    table_parser.add_argument("--rulebook", required=True,
                              help="rulebook id (its newest version), id@version, or rulebook file path")
    table_parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    _add_library_option(table_parser)
    table_parser.set_defaults(handler=run_table)

    test_parser = commands.add_parser("test", help="run drafters' scenario tests (YAML files or folders)")
    test_parser.add_argument("paths", nargs="+", help="scenario files, or folders searched for *.yaml")
    test_parser.add_argument("--coverage", action="store_true",
                             help="list the tiers, honour levels and grade bands no scenario exercises")
    test_parser.set_defaults(handler=run_test)

    versions_parser = commands.add_parser("versions", help="list rulebook versions: effective periods, status, "
                                                           "digests")
    versions_parser.add_argument("id", nargs="?", help="one rulebook id (default: every rulebook)")
    versions_parser.add_argument("--as-of", type=parse_date, dest="as_of",
                                 help="mark the versions in force on this date (default: today)")
    versions_parser.add_argument("--format", choices=("table", "json"), default="table")
    _add_library_option(versions_parser)
    versions_parser.set_defaults(handler=run_versions)

    replay_parser = commands.add_parser("replay", help="replay an evaluation record and compare, field by field")
    replay_parser.add_argument("record", help="evaluation record written by evaluate --record")
    replay_parser.add_argument("--facts", required=True, help="the facts file the record was made from")
    replay_parser.add_argument("--rulebook",
                               help="the rulebook file (or id@version) to replay with, instead of the "
                                    "recorded version from the library; its digest must match the record's")
    replay_parser.add_argument("--format", choices=("text", "json"), default="text")
    _add_library_option(replay_parser)
    replay_parser.set_defaults(handler=run_replay)

    diff_parser = commands.add_parser("diff", help="what a revision changes: rules, and grades of a population")
    diff_parser.add_argument("old", help="old rulebook: id@version, id (its newest version) or file path")
    diff_parser.add_argument("new", help="new rulebook: id@version, id (its newest version) or file path")
    diff_parser.add_argument("--population", metavar="FACTS",
                             help="facts file to evaluate under both rulebooks: grade migration and scores")
    diff_parser.add_argument("--as-of", type=parse_date, dest="as_of",
                             help="the date the population is evaluated on (with --population)")
    diff_parser.add_argument("--plot", metavar="FILE.png",
                             help="draw the migration matrix and both score histograms (needs mincredit[plot])")
    diff_parser.add_argument("--format", choices=("table", "json"), default="table")
    _add_library_option(diff_parser)
    diff_parser.set_defaults(handler=run_diff)

    if command is None or command in EXTERNAL_COMMANDS:
        from mincredit.cli._publish import add_publish_parsers
        from mincredit.cli._repair_blacklist import add_measure_parsers
        from mincredit.lint._command import add_lint_parser

        add_lint_parser(commands)
        add_measure_parsers(commands)   # repair, blacklist (mincredit.cli._repair_blacklist)
        add_publish_parsers(commands)   # publish, publish-verify (mincredit.cli._publish)
    else:
        # Another command runs: these are listed by name only, without importing the linter or the analysis.
        for name, help_text in EXTERNAL_COMMANDS.items():
            commands.add_parser(name, help=help_text)
    return parser


# Commands whose parsers other modules register (mincredit.lint._command, mincredit.cli._repair_blacklist),
# with their help.
EXTERNAL_COMMANDS = {
    "lint": "check rulebook files for every mistake that would score someone wrongly",
    "repair": "may a record of bad information be repaired on application, from when",
    "blacklist": "serious-blacklist proposals, listings, procedure checks and removal dates",
    "publish": "publish the serious-blacklist and the evaluation results, with a manifest",
    "publish-verify": "check a publication against its manifest, or replay it from the facts",
}


def command_of(argv: Sequence[str]) -> str | None:
    """The command a command line runs (its first argument that is not an option), or None for a help request."""
    for argument in argv:
        if argument in {"-h", "--help"}:
            return None
        if not argument.startswith("-"):
            return argument
    return None


def _add_library_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--library", metavar="DIR",
                        help="rulebook library folder (ID.yaml and history/ID@VERSION.yaml) to find rulebook "
                             "ids and versions in, instead of the shipped rulebooks")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = command_of(arguments)
    try:
        parser = build_parser(command)
        args = parser.parse_args(arguments)
        try:
            code: int = args.handler(args)
        except UsageProblem as problem:
            print(f"mincredit {args.command}: {problem}", file=sys.stderr)
            return EXIT_UNUSABLE
        except BrokenPipeError:
            return EXIT_OK
        return code
    except KeyboardInterrupt:
        # Every command, every path: one line and 130, never a traceback.  Files are written atomically
        # (mincredit._atomic), so whatever was being written was left as it was.
        print(f"mincredit{' ' + command if command else ''}: interrupted; a file being written was left as it was",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:     # a bug: reported in one line, with how to report it
        _report_crash(command, error)
        return EXIT_CRASH


def _report_crash(command: str | None, error: Exception) -> None:
    """One line for an unexpected failure (its own exit status, 70: never confused with subjects' errors), and
    the traceback only when MINCREDIT_DEBUG asks for it."""
    from importlib import metadata

    try:
        version = metadata.version("mincredit")
    except metadata.PackageNotFoundError:
        version = "(version unknown)"
    if os.environ.get(DEBUG_ENV, "").strip().lower() not in {"", "0", "no", "off", "false"}:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    text = " ".join(str(error).split())
    if len(text) > 300:
        text = text[:300] + "…"
    print(f"mincredit{' ' + command if command else ''}: internal error, a bug in mincredit "
          f"{version}: {type(error).__name__}{': ' + text if text else ''}. Please report it to mincredit's "
          f"maintainers with the command line, this message and, if you can, the input; run it again with "
          f"{DEBUG_ENV}=1 to print the traceback for the report.", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
