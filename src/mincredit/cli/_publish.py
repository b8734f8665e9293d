"""``mincredit publish`` and ``mincredit publish-verify``: the lists the rulebook's publication block makes public.

``mincredit publish FACTS --rulebook R {--as-of D | --quarter Q} --output DIR [--previous DIR]`` writes the
serious-blacklist and the evaluation results as CSV, JSON and HTML, what changed since the previous
publication, and a manifest.  Exit 0: every subject of the rulebook's kind was published or rightly left out;
1: some subjects could not be evaluated (listed on stderr; the files are written without them, and the
manifest says ``complete: false``); 2: unusable arguments, or a folder that cannot be written.

``mincredit publish-verify DIR [--facts FACTS [--previous DIR]]`` checks every file against the manifest; with
``--facts`` it also publishes again and compares byte for byte.  Exit 0: intact (and identical); 1: a file
changed, is missing or extra, or a replayed file differs; 2: the facts or rulebook are not the manifest's, or
the question cannot be answered.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

COMMANDS = {
    "publish": "publish the serious-blacklist and the evaluation results, with a manifest",
    "publish-verify": "check a publication against its manifest, or replay it from the facts",
}


def add_publish_parsers(commands: Any) -> None:
    """Register ``publish`` and ``publish-verify`` on the subcommands of the ``mincredit`` parser."""
    from mincredit.cli._common import add_library_option, parse_date, parse_quarter

    publish = commands.add_parser("publish", help=COMMANDS["publish"])
    publish.add_argument("facts", help="facts file (.yaml, .json, .jsonl)")
    publish.add_argument("--rulebook", required=True,
                         help="rulebook id (the version in force on the date), id@version, or a rulebook file")
    when = publish.add_mutually_exclusive_group(required=True)
    when.add_argument("--as-of", type=parse_date, dest="as_of", help="the day the lists are as of, YYYY-MM-DD")
    when.add_argument("--quarter", type=parse_quarter,
                      help="the quarter's last day: 2024Q3 is 2024-09-30; Q4 is the yearly collective publication")
    publish.add_argument("--output", required=True, metavar="DIR",
                         help="folder to write into: new, empty, or holding an earlier publication to replace")
    publish.add_argument("--previous", metavar="DIR",
                         help="an earlier publication's folder: also publish what changed since it")
    add_library_option(publish)
    publish.set_defaults(handler=run_publish)

    verify = commands.add_parser("publish-verify", help=COMMANDS["publish-verify"])
    verify.add_argument("folder", help="a publication folder (with its manifest.json)")
    verify.add_argument("--facts", help="the facts file it was published from: publish again and compare")
    verify.add_argument("--previous", metavar="DIR", help="the earlier publication it was compared with")
    verify.add_argument("--rulebook", help="the rulebook file (or id@version) to replay with, instead of the "
                                           "manifest's version from the library; its digest must match")
    add_library_option(verify)
    verify.set_defaults(handler=run_publish_verify)


def run_publish(args: argparse.Namespace) -> int:
    from mincredit._publish._api import PublicationError, PublicationUnavailable, publish, read_publication
    from mincredit.cli._common import EXIT_OK, EXIT_PROBLEMS, UsageProblem, _library, _read_facts, resolve_or_fail

    as_of = args.as_of if args.as_of is not None else args.quarter
    output = Path(args.output)
    if args.previous is not None and Path(args.previous).resolve() == output.resolve():
        raise UsageProblem("--previous and --output are the same folder; publish into a new folder so that the "
                           "earlier publication stays as it was published")
    rulebook = resolve_or_fail(args.rulebook, as_of=as_of, library=_library(args)).rulebook
    entries = _read_facts(args.facts)
    try:
        previous = read_publication(args.previous) if args.previous is not None else None
        publication = publish(entries, rulebook, as_of, previous=previous)
        publication.write(output)
    except (PublicationError, PublicationUnavailable) as error:
        raise UsageProblem(str(error)) from None
    for problem in publication.errors:
        print(f"error: {problem.describe()}", file=sys.stderr)
    for note in publication.notes:
        print(f"note: {note}", file=sys.stderr)
    editions = publication.manifest["editions"]
    print(f"{output}: {len(publication.blacklist)} listing(s) on the serious-blacklist "
          f"({editions['blacklist']['text']}), {len(publication.results)} evaluation result(s) "
          f"({editions['results']['text']}), as of {as_of}, rulebook {publication.rulebook_id}@"
          f"{publication.rulebook_version}")
    if publication.changes is not None:
        listed = sum(1 for c in publication.changes.blacklist if c.change == "listed")
        print(f"  since {publication.changes.since}: {listed} newly listed, "
              f"{len(publication.changes.blacklist) - listed} removed, {len(publication.changes.results)} change(s) "
              "of evaluation results")
    if publication.other_kind:
        print(f"  {publication.other_kind} subject(s) of another kind left to that kind's rulebook")
    print(f"  files: {', '.join(sorted(publication.files))}, manifest.json")
    if publication.errors:
        subjects = len({problem.subject_index for problem in publication.errors})
        print(f"  incomplete: {subjects} subject(s) could not be evaluated and are not published (see the errors)")
    return EXIT_OK if publication.complete else EXIT_PROBLEMS


def run_publish_verify(args: argparse.Namespace) -> int:
    from mincredit._publish._api import PublicationError, replay_publication, verify_publication
    from mincredit.cli._common import EXIT_OK, EXIT_PROBLEMS, UsageProblem, _library, _read_facts, resolve_or_fail

    if args.facts is None and (args.previous or args.rulebook or args.library):
        raise UsageProblem("--previous, --rulebook and --library go with --facts (a replay)")
    try:
        problems = verify_publication(args.folder)
    except PublicationError as error:
        raise UsageProblem(str(error)) from None
    if problems:
        for problem in problems:
            print(f"{args.folder}: {problem}")
        return EXIT_PROBLEMS
    if args.facts is None:
        print(f"{args.folder}: every file matches the manifest")
        return EXIT_OK
    rulebook = resolve_or_fail(args.rulebook, library=_library(args)).rulebook if args.rulebook else None
    try:
        outcome = replay_publication(args.folder, _read_facts(args.facts), rulebook=rulebook,
                                     library=_library(args), previous=args.previous)
    except PublicationError as error:
        raise UsageProblem(str(error)) from None
    if outcome.identical:
        print(f"{args.folder}: identical (every file published again from {args.facts} under {outcome.rulebook}, "
              f"as of {outcome.as_of})")
        return EXIT_OK
    for difference in outcome.differences:
        print(f"{args.folder}/{difference.name}: {difference.what}")
    return EXIT_PROBLEMS
