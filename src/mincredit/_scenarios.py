"""Drafters' scenario tests: facts, an as-of date and the expected outcome, kept beside the rulebooks.

A scenario file is YAML::

    rulebook: ID                    # an id (or id@version) of the library, or a rulebook path relative to this file
    library: ..                     # optional: the library folder the id is found in, relative to this file
    scenarios:
      - name: what the scenario shows
        as_of: YYYY-MM-DD
        facts:                      # the same interchange format as `mincredit evaluate`
          subjects: [...]
        expect:
          - uscc: …
            grade: …                # any of: grade, score, deductions, honour_bonus, evaluated,
            score: …                #   counted (record ids that count), not_counted, error_field
            counted: [record ids]

(docs/scenarios.md describes every key and shows a whole file.)

``mincredit test`` runs them, reports each failure with the expected and the
actual value and the explanation of the actual result, and with
``--coverage`` lists the tiers, honour levels and grade bands no scenario exercises.

A rulebook id is found in the library of the file drafters are editing, never silently in the installed copy:
the file's ``library:``; else the library given to the run (``mincredit test --library DIR``); else the library
the scenario file sits in (the nearest folder above it holding ``ID.yaml`` or ``history/ID@….yaml``:
``rulebooks/`` for ``rulebooks/scenarios/x.yaml``; the search stops at the project's root, whose configured
library it takes); else the fallback given (the project's library of the current folder); else the installed
rulebooks, with a note saying so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mincredit._engine import SubjectResult, evaluate
from mincredit._yaml import SourceMap, YamlReadError, decode_utf8, read_yaml
from mincredit.facts._types import DigitsAsText
from mincredit.facts._validating import FactError, SubjectEntry, validate_subject
from mincredit.rules._compiling import CompiledRulebook, RulebookInvalid
from mincredit.rules._files import library_beside, shipped_rulebook_dir
from mincredit.rules._loading import RulebookError, dotted
from mincredit.rules._registry import LibraryError, RulebookLibrary, UnknownRulebook, load_rulebook


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expectation(_Strict):
    uscc: Annotated[str, DigitsAsText]
    grade: str | None = None
    score: Decimal | None = None
    deductions: Decimal | None = None
    honour_bonus: Decimal | None = None
    evaluated: bool | None = None
    counted: list[str] | None = None
    not_counted: list[str] | None = None
    error_field: str | None = Field(default=None, description="expect this subject to be refused for this field")
    # the other half of the measures (docs/blacklist.md)
    proposals: list[str] | None = Field(default=None, description="trigger ids of the blacklist proposals")
    tiers: dict[str, int] | None = Field(default=None, description="record id → tier, stated or derived")
    consequences: list[str] | None = Field(default=None, description="ids of the measures that apply")
    under_objection: list[str] | None = None
    on_list: bool | None = Field(default=None, description="on the serious-blacklist on the as-of date")


class Scenario(_Strict):
    name: str = Field(min_length=1)
    as_of: dt.date
    facts: dict[str, Any]
    expect: list[Expectation] = Field(min_length=1)


class ScenarioFile(_Strict):
    rulebook: str
    library: str | None = Field(default=None, description="the library folder, relative to the scenario file")
    scenarios: list[Scenario] = Field(min_length=1)


@dataclass(frozen=True)
class Failure:
    file: str
    line: int
    scenario: str
    message: str
    explanation: tuple[str, ...] = ()

    def describe(self) -> str:
        head = f"{self.file}:{self.line}: scenario {self.scenario!r}: {self.message}"
        return "\n".join([head, *(f"    {line}" for line in self.explanation)])


@dataclass
class Coverage:
    """What the scenarios exercised, per rulebook (id, version)."""

    tiers: dict[tuple[str, str], set[tuple[str, int]]] = field(default_factory=dict)
    levels: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    grades: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    rulebooks: dict[tuple[str, str], CompiledRulebook] = field(default_factory=dict)

    def note(self, rulebook: CompiledRulebook, result: SubjectResult) -> None:
        key = (rulebook.identity.id, rulebook.identity.version)
        self.rulebooks[key] = rulebook
        for item in result.items or ():
            if item.counted and item.indicator is not None and item.tier is not None:
                self.tiers.setdefault(key, set()).add((item.indicator, item.tier))
            if item.counted and item.level is not None:
                self.levels.setdefault(key, set()).add(item.level)
        if result.grade is not None:
            self.grades.setdefault(key, set()).add(result.grade)

    def missing(self) -> dict[tuple[str, str], dict[str, list[str]]]:
        report = {}
        for key, rulebook in sorted(self.rulebooks.items()):
            report[key] = {
                "tiers": [f"{indicator.code}.{tier.tier}" for indicator in rulebook.law.indicators
                          for tier in indicator.tiers
                          if (indicator.code, tier.tier) not in self.tiers.get(key, set())],
                "honour_levels": [level.id for level in rulebook.law.levels
                                  if level.id not in self.levels.get(key, set())],
                "grades": [label for label in rulebook.law.grade_labels if label not in self.grades.get(key, set())],
            }
        return report


@dataclass
class TestRun:
    scenarios: int = 0
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    notes: list[str] = field(default_factory=list)
    """Where a rulebook id was found other than beside its scenario file (the installed copy, say)."""
    libraries: dict[Path, RulebookLibrary] = field(default_factory=dict)
    """Every library the run found rulebook ids in, by folder (each read and compiled once)."""

    def library(self, directory: Path) -> RulebookLibrary:
        key = directory.resolve()
        if key not in self.libraries:
            self.libraries[key] = RulebookLibrary(key)
        return self.libraries[key]


def _text(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f")


def _explain(result: SubjectResult) -> tuple[str, ...]:
    lines = [f"actual: grade {result.grade or '—'}, score {_text(result.score)}, "
             f"deductions {_text(result.deductions)}, honour bonus {_text(result.honour_bonus)}"]
    if result.not_evaluated_reason:
        lines.append(result.not_evaluated_reason)
    lines.extend(f"{item.record_id}: {item.explanation}" for item in result.items or ())
    return tuple(lines)


def _compare(expect: Expectation, result: SubjectResult) -> list[str]:
    problems = []
    for name in ("grade", "evaluated"):
        wanted = getattr(expect, name)
        if wanted is not None and wanted != getattr(result, name):
            problems.append(f"{name} expected {wanted}, actual {getattr(result, name)}")
    for name in ("score", "deductions", "honour_bonus"):
        wanted = getattr(expect, name)
        actual = getattr(result, name)
        if wanted is not None and (actual is None or wanted != actual):
            problems.append(f"{name} expected {_text(wanted)}, actual {_text(actual)}")
    counted = sorted(item.record_id for item in result.items or () if item.counted)
    if expect.counted is not None and sorted(expect.counted) != counted:
        problems.append(f"counted records expected {sorted(expect.counted)}, actual {counted}")
    not_counted = sorted(item.record_id for item in result.items or () if not item.counted)
    if expect.not_counted is not None and sorted(expect.not_counted) != not_counted:
        problems.append(f"records not counted expected {sorted(expect.not_counted)}, actual {not_counted}")
    if expect.error_field is not None:
        problems.append(f"expected an error on field {expect.error_field!r}, but the subject was evaluated")
    problems.extend(_compare_measures(expect, result))
    return problems


def _compare_measures(expect: Expectation, result: SubjectResult) -> list[str]:
    """The expectations about proposals, derived tiers, consequences, objections and listing."""
    actual: dict[str, object] = {
        "proposals": sorted(p.trigger for p in result.proposals),
        "tiers": {i.record_id: i.tier for i in result.items or () if i.type == "violation"},
        "consequences": sorted(c.id for c in result.consequences),
        "under_objection": sorted(i.record_id for i in result.items or () if i.under_objection),
        "on_list": any(status.on_list for status in result.listings),
    }
    problems = []
    for name, value in actual.items():
        wanted = getattr(expect, name)
        if isinstance(wanted, list):
            wanted = sorted(wanted)
        if isinstance(wanted, dict) and isinstance(value, dict):   # tiers: only the records named
            value = {record_id: value.get(record_id) for record_id in wanted}
        if wanted is not None and wanted != value:
            problems.append(f"{name} expected {wanted}, actual {value}")
    return problems


def _resolve_rulebook(spec: str, scenario_file: Path, as_of: dt.date, library: RulebookLibrary | None
                      ) -> CompiledRulebook:
    """A path is relative to the scenario file; an id is the version in force on the scenario's date."""
    if spec.endswith((".yaml", ".yml")) or "/" in spec:
        return load_rulebook(scenario_file.parent / spec)
    return load_rulebook(spec, as_of=as_of, library=library)


def _library_of(path: Path, parsed: ScenarioFile, run: TestRun, given: Path | None, fallback: Path | None
                ) -> RulebookLibrary | None:
    """The library a scenario file's rulebook id is found in (see the module docstring); None for a rulebook path.
    Raises UnknownRulebook for a ``library:`` that is not a folder."""
    spec = parsed.rulebook
    if spec.endswith((".yaml", ".yml")) or "/" in spec:
        return None
    if parsed.library is not None:
        directory = path.parent / parsed.library
        if not directory.is_dir():
            raise UnknownRulebook(f"library: {parsed.library} is not a folder (it is read relative to the scenario "
                                  f"file: {directory})")
        return run.library(directory)
    if given is not None:
        return run.library(given)
    beside = library_beside(path, spec.split("@", 1)[0])
    if beside is not None:
        return run.library(beside)
    installed = shipped_rulebook_dir()
    chosen = fallback if fallback is not None else installed
    if chosen.resolve() != installed.resolve() or fallback is None:
        whose = "the project's library" if fallback is not None else "the installed rulebooks"
        note = (f"{path}: rulebook {spec!r} is found in {whose}, {chosen}: no library holds it beside the scenario "
                "file (name one with library: in the file, or mincredit test --library DIR)")
        if note not in run.notes:
            run.notes.append(note)
    return run.library(chosen)


def _run_scenario(scenario: Scenario, index: int, rulebook: CompiledRulebook, file: str,
                  source_map: SourceMap, run: TestRun) -> None:
    base = ("scenarios", index)
    line = source_map.locate(base).line
    raw_subjects = scenario.facts.get("subjects")
    if not isinstance(raw_subjects, list) or set(scenario.facts) != {"subjects"}:
        run.failures.append(Failure(file, line, scenario.name, "facts must be a mapping with only a 'subjects' list"))
        return
    entries: list[SubjectEntry] = []
    for number, raw in enumerate(raw_subjects):
        path = (*base, "facts", "subjects", number)
        entries.append(validate_subject(raw, file=file, index=number, line=source_map.locate(path).line,
                                        source_map=source_map, base_path=path))
    evaluation = evaluate(entries, rulebook, scenario.as_of)
    results = {result.uscc: result for result in evaluation.results}
    errors: dict[str | None, list[FactError]] = {}
    for error in evaluation.errors:
        errors.setdefault(error.uscc, []).append(error)
    for evaluated in evaluation.results:
        run.coverage.note(rulebook, evaluated)
    failed = False
    for number, expect in enumerate(scenario.expect):
        at = source_map.locate((*base, "expect", number)).line
        subject_errors = errors.get(expect.uscc, [])
        if expect.error_field is not None:
            if not any(e.field == expect.error_field for e in subject_errors):
                actual = "; ".join(e.describe() for e in subject_errors) or "it was evaluated without error"
                run.failures.append(Failure(file, at, scenario.name,
                                            f"subject {expect.uscc}: expected an error on field "
                                            f"{expect.error_field!r}, actual: {actual}"))
                failed = True
            continue
        if subject_errors:
            run.failures.append(Failure(file, at, scenario.name, f"subject {expect.uscc} could not be evaluated",
                                        tuple(e.describe() for e in subject_errors)))
            failed = True
            continue
        result = results.get(expect.uscc)
        if result is None:
            run.failures.append(Failure(file, at, scenario.name,
                                        f"subject {expect.uscc} is expected but not in the scenario's facts"))
            failed = True
            continue
        problems = _compare(expect, result)
        if problems:
            run.failures.append(Failure(file, at, scenario.name,
                                        f"subject {expect.uscc}: " + "; ".join(problems), _explain(result)))
            failed = True
    if not failed:
        run.passed += 1


def run_scenario_file(path: Path, run: TestRun, *, library: Path | None = None, fallback: Path | None = None) -> None:
    """Run every scenario of one file into ``run``; a file that cannot be used is one failure.  ``library`` is the
    library its rulebook id is found in unless the file names one; ``fallback`` the one taken when no library holds
    it beside the file (default: the installed rulebooks)."""
    file = str(path)
    try:
        document = read_yaml(decode_utf8(path.read_bytes()))
    except OSError as error:
        run.failures.append(Failure(file, 1, "(file)", f"cannot read the file: {error.strerror}"))
        return
    except YamlReadError as error:
        problem = error.problems[0]
        run.failures.append(Failure(file, problem.position.line, "(file)", problem.message))
        return
    try:
        parsed = ScenarioFile.model_validate(document.data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = tuple(part for part in detail["loc"] if isinstance(part, str | int))
            run.failures.append(Failure(file, document.source_map.locate(loc).line, "(file)",
                                        f"{dotted(loc)}: {detail['msg']}"))
        return
    try:
        held = _library_of(path, parsed, run, library, fallback)
    except UnknownRulebook as error:
        run.scenarios += len(parsed.scenarios)
        run.failures.append(Failure(file, document.source_map.locate(("library",)).line, "(file)", str(error)))
        return
    for index, scenario in enumerate(parsed.scenarios):
        run.scenarios += 1
        try:
            rulebook = _resolve_rulebook(parsed.rulebook, path, scenario.as_of, held)
        except (UnknownRulebook, RulebookError, RulebookInvalid, LibraryError) as error:
            run.failures.append(Failure(file, document.source_map.locate(("rulebook",)).line, scenario.name,
                                        str(error)))
            continue
        _run_scenario(scenario, index, rulebook, file, document.source_map, run)


def scenario_files(paths: list[Path]) -> list[Path]:
    """The scenario files named, folders searched recursively for *.yaml, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.y*ml") if p.is_file()))
        else:
            found.append(path)
    return found


def run_scenarios(paths: list[Path], *, library: Path | None = None, fallback: Path | None = None,
                  on_file: Callable[[Path], None] | None = None) -> TestRun:
    """Run every scenario file the paths name (``library``, ``fallback``: see :func:`run_scenario_file`);
    ``on_file`` is called after each file (a progress bar)."""
    run = TestRun()
    for path in scenario_files(paths):
        run_scenario_file(path, run, library=library, fallback=fallback)
        if on_file is not None:
            on_file(path)
    return run
