"""The ``mincredit`` command line.

Exit status, for every command: 0 success, 1 the command ran but found
problems (subjects with errors, lint findings), 2 it could not run (unusable
arguments, unreadable files, an invalid rulebook).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from mincredit.engine import evaluate
from mincredit.facts.loading import FactsFileError, read_facts_file
from mincredit.report import deduction_table_text, evaluation_json, print_evaluation_table
from mincredit.rules.compiling import CompiledRulebook, RulebookInvalid
from mincredit.rules.loading import RulebookError
from mincredit.rules.registry import UnknownRulebook, load_rulebook
from mincredit.scenarios import run_scenarios

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


class UsageProblem(Exception):
    """An argument the command cannot use; the message says which and why."""


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def open_rulebook(spec: str) -> CompiledRulebook:
    try:
        return load_rulebook(spec)
    except (UnknownRulebook, RulebookError, RulebookInvalid) as error:
        raise UsageProblem(str(error)) from None


def _stdout_console() -> Console:
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def run_evaluate(args: argparse.Namespace) -> int:
    rulebook = open_rulebook(args.rulebook)
    try:
        entries = list(read_facts_file(args.facts))
    except FactsFileError as error:
        raise UsageProblem(error.error.describe()) from None
    evaluation = evaluate(entries, rulebook, args.as_of)
    if args.format == "json":
        sys.stdout.write(evaluation_json(evaluation))
    else:
        print_evaluation_table(evaluation, _stdout_console(), details=not args.no_details)
    return EXIT_OK if evaluation.complete else EXIT_PROBLEMS


def run_table(args: argparse.Namespace) -> int:
    rulebook = open_rulebook(args.rulebook)
    text = deduction_table_text(rulebook, args.format, _stdout_console())
    if text is not None:
        sys.stdout.write(text)
    return EXIT_OK


def run_test(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mincredit",
        description="Credit evaluation of Inner Mongolia's mining-rights holders and geological/mining "
                    "intermediary agencies, from versioned YAML rulebooks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    evaluate_parser = commands.add_parser("evaluate", help="score and grade the subjects of a facts file")
    evaluate_parser.add_argument("facts", help="facts file (.yaml, .json, or .jsonl with one subject a line)")
    evaluate_parser.add_argument("--rulebook", required=True,
                                 help="shipped rulebook id (miner, agency) or a rulebook file path")
    evaluate_parser.add_argument("--as-of", required=True, type=parse_date, dest="as_of",
                                 help="evaluation date, YYYY-MM-DD")
    evaluate_parser.add_argument("--format", choices=("table", "json"), default="table")
    evaluate_parser.add_argument("--no-details", action="store_true",
                                 help="table format: only the summary table, not each record's explanation")
    evaluate_parser.set_defaults(handler=run_evaluate)

    table_parser = commands.add_parser("table", help="print a rulebook's deduction table, one row per tier")
    table_parser.add_argument("--rulebook", required=True, help="shipped rulebook id or rulebook file path")
    table_parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    table_parser.set_defaults(handler=run_table)

    test_parser = commands.add_parser("test", help="run drafters' scenario tests (YAML files or folders)")
    test_parser.add_argument("paths", nargs="+", help="scenario files, or folders searched for *.yaml")
    test_parser.add_argument("--coverage", action="store_true",
                             help="list the tiers, honour levels and grade bands no scenario exercises")
    test_parser.set_defaults(handler=run_test)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageProblem as problem:
        print(f"mincredit {args.command}: {problem}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":
    raise SystemExit(main())
