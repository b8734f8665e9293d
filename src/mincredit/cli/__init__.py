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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

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
    add_library_option,
    library_directory,
    open_rulebook,
    parse_date,
    parse_quarter,
    progress_bar,
    resolve_or_fail,
)

T = TypeVar("T")


def run_evaluate(args: argparse.Namespace) -> int:
    if args.as_of is None:
        args.as_of = args.quarter            # --quarter 2024Q3 is the quarter's last day
    batch = args.output is not None or args.format == "jsonl"
    if not batch and (args.no_explain or args.jobs != 1 or args.no_cache):
        raise UsageProblem("--no-explain, --jobs and --no-cache go with --output FILE or --format jsonl")
    if args.record is not None:
        if batch and args.output is None:
            raise UsageProblem("a population run's record keeps the digest of its output file: write it with "
                               "--output FILE (results streamed to stdout cannot be recorded)")
        _check_folder(Path(args.record), "the evaluation record")    # before the run, not after it
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


def _check_folder(path: Path, what: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageProblem(f"cannot write {what} {path}: the folder {folder} does not exist")


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

    library = library_directory(args)
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
    """evaluate with --format table or json: the whole evaluation at once, explained (any facts format: a Parquet or
    CSV file is read as the batch run reads it, errors naming rows)."""
    from mincredit._engine import evaluate
    from mincredit._replay import evaluation_record, write_record
    from mincredit._report import evaluation_json, print_evaluation_table

    rulebook = _rulebook_for(args)
    entries = _read_facts(args.facts, args.subjects)
    with progress_bar("evaluating", len(entries)) as advance:
        evaluation = evaluate(_advancing(entries, advance), rulebook, args.as_of)
    if args.format == "json":
        sys.stdout.write(evaluation_json(evaluation))
    else:
        print_evaluation_table(evaluation, _stdout_console(), details=not args.no_details)
    if args.record is not None:
        try:
            write_record(args.record, evaluation_record(evaluation, entries, facts_file=args.facts,
                                                        subjects_file=args.subjects))
        except OSError as error:
            raise UsageProblem(f"cannot write the evaluation record {args.record}: {error}") from None
    return EXIT_OK if evaluation.complete else EXIT_PROBLEMS


def _advancing(items: Sequence[T], advance: Callable[[], None]) -> Iterator[T]:
    """The items, calling ``advance`` after each has been used (a progress bar's step)."""
    for item in items:
        yield item
        advance()


def run_batch_evaluate(args: argparse.Namespace, rulebook: Source,
                       reading: ColumnarInput | None = None) -> int:
    """evaluate --output FILE / --format jsonl: streamed, chunk by chunk, with a progress bar and a summary; with
    --record, a population record of the run (the digests of its files, not its results)."""
    from mincredit._population.evaluator import RulebookChanged
    from mincredit._population.run import BatchError, BatchRequest, ColumnarUnavailable, run_batch
    from mincredit._population.write import OutputError, output_format
    from mincredit.facts._reading import FactError, FactsFileError

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
    subjects = Path(args.subjects) if args.subjects is not None else None
    request = BatchRequest(facts, rulebook, args.as_of, output, explain=not args.no_explain,
                           jobs=args.jobs if args.jobs > 0 else (os.cpu_count() or 1),
                           subjects_file=subjects, progress=sys.stderr.isatty())
    from mincredit.cli._records import PopulationRecording

    recording = PopulationRecording.start(facts, subjects) if args.record is not None else None

    def on_error(error: FactError) -> None:
        print(error.describe(), file=sys.stderr)
        if recording is not None:
            recording.errors.add(error)

    try:
        summary = run_batch(request, on_error=on_error, reading=reading)
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
    if recording is not None:
        assert output is not None
        recording.write(Path(args.record), rulebook, args.as_of, not args.no_explain, output, summary)
        print(f"mincredit evaluate: recorded the run in {args.record} (replay: mincredit replay {args.record} "
              f"--facts {args.facts})", file=sys.stderr)
    return EXIT_OK if summary.error_subjects == 0 else EXIT_PROBLEMS


def run_table(args: argparse.Namespace) -> int:
    from mincredit._report import deduction_table_text

    rulebook = open_rulebook(args.rulebook, library=_library(args))
    text = deduction_table_text(rulebook, args.format, _stdout_console())
    if text is not None:
        sys.stdout.write(text)
    return EXIT_OK


def run_test(args: argparse.Namespace) -> int:
    from mincredit._scenarios import run_scenarios, scenario_files
    from mincredit.rules._files import LibraryConfigError, project_library

    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageProblem(f"no such file or folder: {', '.join(missing)}")
    given = None
    if args.library is not None:
        given = Path(args.library)
        if not given.is_dir():
            raise UsageProblem(f"the rulebook library {args.library} is not a folder")
    try:   # for a scenario file no library holds its rulebook beside: the project's, before the installed copy
        project = project_library(Path.cwd())
    except LibraryConfigError as error:
        raise UsageProblem(str(error)) from None
    with progress_bar("scenario files", len(scenario_files(paths))) as advance:
        run = run_scenarios(paths, library=given, fallback=project.directory if project is not None else None,
                            on_file=lambda _: advance())
    for note in run.notes:
        print(f"mincredit test: note: {note}", file=sys.stderr)
    for failure in run.failures:
        print(failure.describe())
    if args.coverage:
        for (rulebook_id, version), gaps in run.coverage.missing().items():
            print(f"coverage of {rulebook_id} {version}:")
            for what, names in gaps.items():
                print(f"  {what} not exercised: {', '.join(names) if names else 'none'}")
    failed = run.scenarios - run.passed
    libraries = f" (rulebooks from {', '.join(str(folder) for folder in run.libraries)})" if run.libraries else ""
    print(f"{run.scenarios} scenarios: {run.passed} passed, {failed} failed"
          + (f", {len(run.failures)} failure(s)" if run.failures else "") + libraries)
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
        print_versions(rows, _stdout_console(), library, day, today=args.as_of is None)
    return EXIT_OK


def _shown(value: object) -> str:
    return "(absent)" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def run_replay(args: argparse.Namespace) -> int:
    from mincredit._population.record import is_population_record
    from mincredit._population.run import BatchError, ColumnarUnavailable
    from mincredit._replay import ReplayError, parse_record, replay
    from mincredit.facts._validating import FactsFileError
    from mincredit.rules._compiling import RulebookInvalid
    from mincredit.rules._loading import RulebookError
    from mincredit.rules._registry import LibraryError, RulebookLibrary

    try:
        data = _record_data(args.record)
        if is_population_record(data):
            from mincredit.cli._records import replay_population_command

            return replay_population_command(args, data)
        if args.results is not None:
            raise UsageProblem("--results goes with the record of a population run (evaluate --output --record)")
        outcome = replay(parse_record(data), args.facts, library=_library(args) or RulebookLibrary.shipped(),
                         rulebook=args.rulebook, subjects=args.subjects)
    except FactsFileError as error:
        raise UsageProblem(error.error.describe()) from None
    except (ReplayError, RulebookError, RulebookInvalid, LibraryError, ColumnarUnavailable, BatchError) as error:
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


def _record_data(path: str) -> object:
    from mincredit._replay import ReplayError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ReplayError(f"cannot read the record {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise ReplayError(f"the record {path} is not valid JSON ({error.msg}, line {error.lineno})") from None


def run_diff(args: argparse.Namespace) -> int:
    from mincredit._atomic import atomic_write
    from mincredit._diff import diff_json, diff_rulebooks, plot_impact, print_diff, side_labels

    if args.population is None and (args.as_of is not None or args.plot is not None):
        raise UsageProblem("--as-of and --plot go with --population FACTS")
    if args.population is not None and args.as_of is None:
        raise UsageProblem("--population needs --as-of DATE: the date both rulebooks evaluate the population on")
    if args.plot is not None:
        _check_plot(Path(args.plot))     # before the population is evaluated, not after the report is printed
    library = _library(args)
    old = open_rulebook(args.old, library=library)
    new = open_rulebook(args.new, library=library)
    if old.subject_kind != new.subject_kind:
        raise UsageProblem(f"{args.old} scores subjects of kind {old.subject_kind!r} and {args.new} those of kind "
                           f"{new.subject_kind!r}; compare two versions of the same rulebook")
    population = _read_facts(args.population, args.subjects) if args.population is not None else None
    labels = side_labels(old, new, args.old, args.new)
    with progress_bar("evaluating under both rulebooks", len(population) if population is not None else 0,
                      show=population is not None) as advance:
        report = diff_rulebooks(old, new, population=population, as_of=args.as_of, facts=args.population,
                                labels=labels, on_subject=advance)
    if args.format == "json":
        sys.stdout.write(diff_json(report))
    else:
        print_diff(report, _stdout_console())
    if args.plot is not None and report.impact is not None:
        try:
            png = plot_impact(report.impact, old, new, labels)
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


def _check_plot(plot: Path) -> None:
    """What would make --plot fail after the whole report was computed and printed: matplotlib missing, or no
    folder to write the picture into."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        raise UsageProblem("--plot needs matplotlib: pip install 'mincredit[plot]'") from None
    folder = plot.parent if str(plot.parent) else Path(".")
    if not folder.is_dir():
        raise UsageProblem(f"cannot write the plot {plot}: the folder {folder} does not exist")


class _Version(argparse.Action):
    """``mincredit --version``: what is installed, down to the rulebooks' digests (an auditor asks which rules a
    machine applies, not only which program)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from mincredit._versions import installed_text

        sys.stdout.write(installed_text())
        parser.exit()


def run_schema(args: argparse.Namespace) -> int:
    from mincredit._atomic import atomic_write
    from mincredit._schemas import json_schema

    text = json.dumps(json_schema(args.kind), ensure_ascii=False, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    _check_folder(Path(args.output), "the schema")
    try:
        atomic_write(args.output, text.encode("utf-8"))
    except OSError as error:
        raise UsageProblem(f"cannot write the schema {args.output}: {error}") from None
    print(f"mincredit schema: wrote the {args.kind} schema to {args.output}", file=sys.stderr)
    return EXIT_OK


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the ``command`` being run, the others' modules are not imported."""
    parser = argparse.ArgumentParser(
        prog="mincredit",
        description="Credit evaluation of Inner Mongolia's mining-rights holders and geological/mining "
                    "intermediary agencies, from versioned YAML rulebooks.",
    )
    parser.add_argument("--version", action=_Version,
                        help="print mincredit's version and the installed rulebooks' versions and digests")
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
                      help="evaluate as of the quarter's last day: 2024Q3 is 2024-09-30")
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
                                 help="also write a record for audit replay (mincredit replay): every result, or "
                                      "with --output the digests of the facts and output files")
    add_library_option(evaluate_parser)
    evaluate_parser.set_defaults(handler=run_evaluate)

    table_parser = commands.add_parser("table", help="print a rulebook's deduction table, one row per tier")
    table_parser.add_argument("--rulebook", required=True,
                              help="rulebook id (its newest version), id@version, or rulebook file path")
    table_parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    add_library_option(table_parser)
    table_parser.set_defaults(handler=run_table)

    test_parser = commands.add_parser("test", help="run drafters' scenario tests (YAML files or folders)")
    test_parser.add_argument("paths", nargs="+", help="scenario files, or folders searched for *.yaml")
    test_parser.add_argument("--coverage", action="store_true",
                             help="list the tiers, honour levels and grade bands no scenario exercises")
    test_parser.add_argument("--library", metavar="DIR",
                             help="rulebook library to find the scenario files' rulebook ids in, unless a file names "
                                  "its own (library: DIR); default: the library the scenario file sits in "
                                  "(rulebooks/ for rulebooks/scenarios/x.yaml)")
    test_parser.set_defaults(handler=run_test)

    versions_parser = commands.add_parser("versions", help="list rulebook versions: effective periods, status, "
                                                           "digests")
    versions_parser.add_argument("id", nargs="?", help="one rulebook id (default: every rulebook)")
    versions_parser.add_argument("--as-of", type=parse_date, dest="as_of",
                                 help="mark the versions in force on this date (default: today)")
    versions_parser.add_argument("--format", choices=("table", "json"), default="table")
    add_library_option(versions_parser)
    versions_parser.set_defaults(handler=run_versions)

    replay_parser = commands.add_parser("replay", help="replay an evaluation record and compare, field by field")
    replay_parser.add_argument("record", help="evaluation record written by evaluate --record (with --output: the "
                                              "record of a population run)")
    replay_parser.add_argument("--facts", required=True, help="the facts file the record was made from")
    replay_parser.add_argument("--rulebook",
                               help="the rulebook file (or id@version) to replay with, instead of the "
                                    "recorded version from the library; its digest must match the record's")
    replay_parser.add_argument("--subjects", metavar="FILE",
                               help="the subjects file of a Parquet/CSV records file in two files (docs/columnar.md)")
    replay_parser.add_argument("--results", metavar="FILE",
                               help="a population record: the output the run wrote (default: the file the record "
                                    "names), read to name the subjects that differ")
    replay_parser.add_argument("--format", choices=("text", "json"), default="text")
    add_library_option(replay_parser)
    replay_parser.set_defaults(handler=run_replay)

    diff_parser = commands.add_parser("diff", help="what a revision changes: rules, and grades of a population")
    diff_parser.add_argument("old", help="old rulebook: id@version, id (its newest version) or file path")
    diff_parser.add_argument("new", help="new rulebook: id@version, id (its newest version) or file path")
    diff_parser.add_argument("--population", metavar="FACTS",
                             help="facts file to evaluate under both rulebooks: grade migration and scores")
    diff_parser.add_argument("--as-of", type=parse_date, dest="as_of",
                             help="the date the population is evaluated on (with --population)")
    diff_parser.add_argument("--subjects", metavar="FILE",
                             help="with a Parquet/CSV --population: its subjects file (docs/columnar.md)")
    diff_parser.add_argument("--plot", metavar="FILE.png",
                             help="draw the migration matrix and both score histograms (needs mincredit[plot])")
    diff_parser.add_argument("--format", choices=("table", "json"), default="table")
    add_library_option(diff_parser)
    diff_parser.set_defaults(handler=run_diff)

    schema_parser = commands.add_parser("schema", help="write the JSON Schema of rulebooks (or facts, scenario "
                                                       "files) for editors to validate and complete them")
    schema_parser.add_argument("kind", nargs="?", choices=("rulebook", "facts", "scenarios"), default="rulebook",
                               help="which files the schema describes (default: rulebook)")
    schema_parser.add_argument("--output", metavar="FILE", help="write it to FILE (default: stdout)")
    schema_parser.set_defaults(handler=run_schema)

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
