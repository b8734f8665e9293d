"""``mincredit repair`` and ``mincredit blacklist``: the questions clerks ask about the serious-blacklist, repair and
removal (the rulebook's blacklist, repair, removal and objections blocks).

``mincredit repair FACTS --rulebook R --as-of D --record ID`` answers "eligible on DATE" or "not
eligible, because …" for one record of bad information (``repair.application``), with the day the authority's
decision is due when an application is recorded (``repair.decision``).  Exit 0: eligible; 1: not eligible; 2: the
question cannot be answered (unknown record or rulebook, unreadable facts, a subject the rulebook refuses).

``mincredit blacklist FACTS --rulebook R --as-of D`` lists, per subject, the proposals for the serious-
blacklist (``blacklist.triggers``), the listings with their procedure checks and their removal dates, and the
warnings (steps of the procedure not recorded among them).  Exit 0: nothing wrong; 1: some listing's procedure
failed a check, or some subject could not be evaluated; 2: unusable arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mincredit._engine import evaluate, rulebook_errors
from mincredit._results import to_builtins
from mincredit._timeline import RecordNotFound, repair_question
from mincredit.facts._validating import FactError


def add_measure_parsers(commands: Any) -> None:
    """Register ``repair`` and ``blacklist`` on the subcommands of the ``mincredit`` parser."""
    from mincredit.cli._common import add_library_option, parse_date

    repair = commands.add_parser("repair", help="may a record of bad information be repaired on application, from when")
    repair.add_argument("facts", help="facts file (.yaml, .json, .jsonl, .parquet, .csv)")
    repair.add_argument("--rulebook", required=True, help="rulebook id, id@version, or rulebook file path")
    repair.add_argument("--as-of", required=True, type=parse_date, dest="as_of", help="the day asked about")
    repair.add_argument("--record", required=True, help="the id of the record of bad information")
    repair.add_argument("--subject", metavar="USCC", help="the subject, when several subjects have that record id")
    repair.add_argument("--format", choices=("text", "json"), default="text")
    add_library_option(repair)
    repair.set_defaults(handler=run_repair)

    blacklist = commands.add_parser("blacklist", help="serious-blacklist proposals, listings, procedure checks and "
                                                      "removal dates")
    blacklist.add_argument("facts", help="facts file (.yaml, .json, .jsonl, .parquet, .csv)")
    blacklist.add_argument("--rulebook", required=True, help="rulebook id, id@version, or rulebook file path")
    blacklist.add_argument("--as-of", required=True, type=parse_date, dest="as_of", help="evaluation date")
    blacklist.add_argument("--format", choices=("text", "json"), default="text")
    add_library_option(blacklist)
    blacklist.set_defaults(handler=run_blacklist)


def run_repair(args: argparse.Namespace) -> int:
    from mincredit.cli._common import EXIT_OK, EXIT_PROBLEMS, UsageProblem, _library, _read_facts, resolve_or_fail

    rulebook = resolve_or_fail(args.rulebook, as_of=args.as_of, library=_library(args)).rulebook
    entries = _read_facts(args.facts)
    holders = [entry for entry in entries if entry.subject is not None
               and any(record.id == args.record for record in entry.subject.records)
               and (args.subject is None or entry.subject.uscc == args.subject)]
    if not holders:
        where = f" of subject {args.subject}" if args.subject else ""
        raise UsageProblem(f"no record {args.record!r}{where} in {args.facts}")
    if len(holders) > 1:
        raise UsageProblem(f"{len(holders)} subjects have a record {args.record!r}; name one with --subject USCC")
    entry = holders[0]
    assert entry.subject is not None
    problems: list[FactError] = rulebook_errors(entry.subject, rulebook, entry.index, entry)
    if problems:
        raise UsageProblem("; ".join(problem.describe() for problem in problems))
    try:
        answer = repair_question(entry.subject, rulebook.source, rulebook.digest, args.as_of, args.record)
    except RecordNotFound as error:
        raise UsageProblem(str(error)) from None
    if args.format == "json":
        data = answer.model_dump(mode="json")
        data["uscc"] = entry.subject.uscc
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        print(f"{entry.subject.uscc} {entry.subject.name}, record {args.record}, as of {args.as_of}: {answer.answer}")
        for check in answer.checks:
            print(f"  {'✓' if check.ok else '✗'} {check.rule}: {check.text}")
        for warning in answer.warnings:
            print(f"  warning: {warning}")
    return EXIT_OK if answer.eligible else EXIT_PROBLEMS


def run_blacklist(args: argparse.Namespace) -> int:
    from mincredit.cli._common import EXIT_OK, EXIT_PROBLEMS, _library, _read_facts, resolve_or_fail

    rulebook = resolve_or_fail(args.rulebook, as_of=args.as_of, library=_library(args)).rulebook
    evaluation = evaluate(_read_facts(args.facts), rulebook, args.as_of)
    failed = any(not check.ok for result in evaluation.results for status in result.listings
                 for check in status.checks)
    if args.format == "json":
        data = {"rulebook": to_builtins(evaluation.rulebook), "as_of": args.as_of.isoformat(),
                "subjects": [{"uscc": r.uscc, "name": r.name, "grade": r.grade,
                              "proposals": [p.model_dump(mode="json") for p in r.proposals],
                              "listings": [s.model_dump(mode="json") for s in r.listings],
                              "consequences": [to_builtins(c) for c in r.consequences
                                               if c.kind in {"sanction", "joint_sanction"}],
                              "warnings": r.warnings}
                             for r in evaluation.results],
                "errors": [error.as_dict() for error in evaluation.errors]}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        for result in evaluation.results:
            if not (result.proposals or result.listings):
                continue
            print(f"{result.uscc} {result.name} (grade {result.grade or '—'}):")
            for proposal in result.proposals:
                state = f"decided: listing {proposal.listing}" if proposal.listing else "to be decided"
                print(f"  proposal {proposal.article} [{state}]: records {', '.join(proposal.records)}; "
                      f"decided by {proposal.deciding}")
                if proposal.under_objection:
                    print(f"    under objection: {', '.join(proposal.under_objection)} (joint sanctions suspended "
                          "while verified)")
            for status in result.listings:
                print(f"  {status.explanation}")
                for check in status.checks:
                    print(f"    {'✓' if check.ok else '✗'} {check.rule}: {check.text}")
                if status.removal_application is not None:
                    print(f"    removal on application: {status.removal_application.answer}")
                if status.removal_notice_ends_on is not None:
                    print(f"    removal notice ends on {status.removal_notice_ends_on}")
            for warning in result.warnings:
                print(f"  warning: {warning}")
        for error in evaluation.errors:
            print(f"error: {error.describe()}")
        if not any(r.proposals or r.listings for r in evaluation.results):
            print(f"no proposals and no listings on {args.as_of}")
    return EXIT_PROBLEMS if failed or evaluation.errors else EXIT_OK
