"""The command line's records of population runs: ``evaluate --output … --record`` and their ``replay``.

``evaluate --record`` with ``--format table|json`` writes an evaluation record, every result (mincredit._replay);
with ``--output`` it writes the record of a population run, the digests of its files
(mincredit._population.record), which ``replay`` runs again and compares.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mincredit.cli._common import EXIT_OK, EXIT_PROBLEMS, UsageProblem, _library

if TYPE_CHECKING:
    from mincredit._population.evaluator import Source
    from mincredit._population.record import FileDigest
    from mincredit._population.run import BatchSummary
    from mincredit._replay import Difference


class PopulationRecording:
    """What a population run's record needs, gathered as the run goes: the input files' digests, taken before it
    starts (and checked unchanged after it), and the digest of the errors it reports."""

    def __init__(self, facts: FileDigest, subjects: FileDigest | None) -> None:
        from mincredit._population.record import ErrorDigest

        self.facts, self.subjects, self.errors = facts, subjects, ErrorDigest()

    @classmethod
    def start(cls, facts: Path, subjects: Path | None) -> PopulationRecording:
        from mincredit._population.record import FileDigest

        try:
            return cls(FileDigest.of(facts), FileDigest.of(subjects) if subjects is not None else None)
        except OSError as error:
            raise UsageProblem(f"cannot read {error.filename}: {error.strerror}") from None

    def write(self, path: Path, rulebook: Source, as_of: dt.date, explain: bool, output: Path,
              summary: BatchSummary) -> None:
        from mincredit._population.record import FileDigest, population_record
        from mincredit._replay import write_record

        changed = [digest.path for digest in (self.facts, self.subjects) if digest is not None and not
                   digest.unchanged()]
        if changed:
            raise UsageProblem(f"{changed[0]} changed while it was evaluated, so no record of the run was written; "
                               "run it again")
        law = rulebook.law
        try:
            record = population_record(rulebook=(law.rulebook_id, law.version, law.digest), as_of=as_of,
                                       explain=explain, facts=self.facts, subjects=self.subjects,
                                       output=FileDigest.of(output), summary=summary, errors=self.errors)
            write_record(path, record)
        except OSError as error:
            raise UsageProblem(f"cannot write the evaluation record {path}: {error}") from None


def print_differences(differences: Sequence[Difference]) -> None:
    from mincredit.cli import _shown

    for difference in differences:
        print(f"  {difference.subject}\t{difference.field}\t{_shown(difference.recorded)}\t"
              f"{_shown(difference.replayed)}")


def replay_population_command(args: argparse.Namespace, data: object) -> int:
    """replay of a population record: the run again into a temporary file, its output's digest compared with the
    record's, and on a difference the subjects that differ (read from both outputs)."""
    from mincredit._population.record import parse_population_record, replay_population
    from mincredit.rules._registry import RulebookLibrary

    outcome = replay_population(parse_population_record(data), args.facts, subjects=args.subjects,
                                results=args.results, library=_library(args) or RulebookLibrary.shipped(),
                                rulebook=args.rulebook)
    record = outcome.record
    if args.format == "json":
        sys.stdout.write(json.dumps({
            "identical": outcome.identical,
            "record": "population",
            "rulebook": {"id": record.rulebook_id, "version": record.rulebook_version,
                         "digest": record.rulebook_digest},
            "as_of": record.as_of.isoformat(), "facts_digest": record.facts_digest,
            "output": {"file": record.output_file, "digest": record.output_digest, "same_bytes": outcome.same_bytes,
                       "compared": outcome.compared},
            "errors": {"recorded": record.errors_count, "replayed": outcome.errors, "same": outcome.same_errors},
            "recorded_with": record.library_version, "replayed_with": outcome.library_version,
            "subjects_differing": outcome.differing_subjects,
            "differences": [{"subject": d.subject, "field": d.field, "recorded": d.recorded, "replayed": d.replayed}
                            for d in outcome.differences],
        }, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK if outcome.identical else EXIT_PROBLEMS
    print(f"replayed {args.record}: a population run of {record.rulebook_id}@{record.rulebook_version} "
          f"({record.rulebook_digest}), as of {record.as_of}, {outcome.summary.subjects:,} subject(s); "
          f"recorded with mincredit {record.library_version}, replayed with {outcome.library_version}")
    if outcome.same_bytes:
        print(f"the output is byte for byte the recorded one ({record.output_digest})")
    elif outcome.compared and not outcome.differences:
        print(f"the output's bytes differ from the recorded ones ({record.output_digest}), but every result is the "
              "same (a Parquet file written by another pyarrow, say)")
    elif outcome.compared:
        subjects = outcome.differing_subjects
        print(f"{len(subjects)} subject(s) differ; {len(outcome.differences)} difference(s) (subject, field, "
              "recorded value, replayed value):")
        print_differences(outcome.differences)
    else:
        print(f"the output differs from the recorded one ({record.output_digest}); give the output the run wrote "
              f"(--results FILE; the record names {record.output_file}) to see which subjects differ")
    if not outcome.same_errors:
        print(f"the errors differ: {record.errors_count:,} recorded, {outcome.errors:,} replayed, other texts or "
              "places (see the errors of the replayed run with mincredit evaluate)")
    print("identical" if outcome.identical else "different")
    return EXIT_OK if outcome.identical else EXIT_PROBLEMS
