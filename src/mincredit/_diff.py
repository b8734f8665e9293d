"""What a revision changes: rule by rule, and subject by subject over a population.

:func:`rule_changes` compares two rulebooks by meaning, not text: both are read
through the schema, so comments, layout, key order and number spelling never
show.  Lists are matched by their keys (indicators by code, tiers by tier
number, grade bands by letter, honour levels by level, interpretations by id),
so a reordering is no change either.

:func:`population_impact` evaluates one population under both rulebooks as of
one date and reports the grade migration matrix, every subject whose grade
changes with the rules that moved it, and the score distributions.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich.console import Console
from rich.text import Text

from mincredit._decimals import canonical_value, exact
from mincredit._engine import SubjectResult, evaluate
from mincredit._report import cells, titled_table
from mincredit.facts._validating import FactError, SubjectEntry
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._schema import Rulebook

NOT_EVALUATED = "not evaluated"
ERROR = "error"

_WORDING = {"wording", "title", "meaning", "annex", "name", "scope", "note", "status_wording"}
_REFERENCE = {"row", "line", "lines", "source", "file", "document", "article", "deductions_source"}


# --- rule changes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleChange:
    """One change of meaning between two rulebooks.

    ``change`` is one of: added, removed, re-pointed (points), boundary (a grade band's bound),
    wording, condition, changed (any other value: a weight, a cap, a period), reference (where in the
    regulation a rule sits: row, line, source; listed apart, it changes no evaluation).
    """

    area: str
    where: str
    change: str
    field: str | None = None
    old: str | None = None
    new: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"area": self.area, "where": self.where, "change": self.change, "field": self.field,
                "old": self.old, "new": self.new}


def _bound_text(side: str, bound: dict[str, Any]) -> str:
    inclusive = bool(bound.get("inclusive"))
    sign = ("≥" if inclusive else ">") if side == "lower" else ("≤" if inclusive else "<")
    unit = f" {bound['unit']}" if bound.get("unit") else ""
    return f"N {sign} {bound.get('value')}{unit}"


def _text(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if key in {"lower", "upper"} and isinstance(value, dict) and "value" in value:
        return _bound_text(key, value)
    if key == "effective" and isinstance(value, dict):
        until = value.get("until")
        return f"{value.get('from')} to {until}" if until else f"from {value.get('from')}, no end date"
    if key == "condition" and isinstance(value, dict):
        parts = [value.get("quantity", "?")]
        for side in ("lower", "upper"):
            if isinstance(value.get(side), dict):
                parts.append(_bound_text(side, value[side]).replace("N", "", 1).strip())
        return " ".join(str(part) for part in parts)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ": "))


def _kind(key: str, default: str = "changed") -> str:
    if key in _WORDING:
        return "wording"
    if key in _REFERENCE:
        return "reference"
    if key == "points":
        return "re-pointed"
    if key in {"lower", "upper"}:
        return "boundary"
    if key == "condition":
        return "condition"
    return default


def _ordered_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return list(old) + [key for key in new if key not in old]


def _fields(old: dict[str, Any], new: dict[str, Any], area: str, where: str, *, skip: Iterable[str] = (),
            default: str = "changed") -> list[RuleChange]:
    skipped = set(skip)
    return [RuleChange(area, where, _kind(key, default), key, _text(key, old.get(key)), _text(key, new.get(key)))
            for key in _ordered_keys(old, new) if key not in skipped and old.get(key) != new.get(key)]


def _keyed(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items}


def _tier_text(tier: dict[str, Any]) -> str:
    text = f"{tier['points']} points: {tier['wording']}"
    if tier.get("condition"):
        text += f" [{_text('condition', tier['condition'])}]"
    return text


def _indicator_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[RuleChange]:
    changes: list[RuleChange] = []
    old_by, new_by = _keyed(old, "code"), _keyed(new, "code")
    for code in _ordered_keys(old_by, new_by):
        before, after = old_by.get(code), new_by.get(code)
        if before is None or after is None:
            present = after if before is None else before
            assert present is not None
            change = "added" if before is None else "removed"
            title = str(present["title"])
            changes.append(RuleChange("indicator", code, change, None,
                                      None if change == "added" else title, title if change == "added" else None))
            for tier in present["tiers"]:
                text = _tier_text(tier)
                changes.append(RuleChange("tier", f"{code}.{tier['tier']}", change, None,
                                          None if change == "added" else text, text if change == "added" else None))
            continue
        changes.extend(_fields(before, after, "indicator", code, skip={"code", "tiers"}))
        old_tiers, new_tiers = _keyed(before["tiers"], "tier"), _keyed(after["tiers"], "tier")
        for number in _ordered_keys(old_tiers, new_tiers):
            old_tier, new_tier = old_tiers.get(number), new_tiers.get(number)
            where = f"{code}.{number}"
            if old_tier is None or new_tier is None:
                changes.append(RuleChange("tier", where, "added" if old_tier is None else "removed", None,
                                          _tier_text(old_tier) if old_tier else None,
                                          _tier_text(new_tier) if new_tier else None))
                continue
            changes.extend(_fields(old_tier, new_tier, "tier", where, skip={"tier"}))
    return changes


def _keyed_changes(old: list[dict[str, Any]], new: list[dict[str, Any]], key: str, area: str, label: str,
                   describe: Any, default: str = "changed") -> list[RuleChange]:
    changes: list[RuleChange] = []
    old_by, new_by = _keyed(old, key), _keyed(new, key)
    for name in _ordered_keys(old_by, new_by):
        before, after = old_by.get(name), new_by.get(name)
        where = f"{label} {name}".strip()
        if before is None or after is None:
            changes.append(RuleChange(area, where, "added" if before is None else "removed", None,
                                      describe(before) if before else None, describe(after) if after else None))
        else:
            changes.extend(_fields(before, after, area, where, skip={key}, default=default))
    return changes


_HANDLED = {"rulebook", "formula", "grades", "honours", "retention", "quantities", "indicators",
            "interpretations", "deductions_source"}


def rule_changes(old: Rulebook, new: Rulebook) -> list[RuleChange]:
    """Every change of meaning from ``old`` to ``new`` (plus ``reference`` changes), in rulebook order."""
    before = canonical_value(old.model_dump(mode="python", by_alias=True))
    after = canonical_value(new.model_dump(mode="python", by_alias=True))
    changes: list[RuleChange] = []
    changes += _fields(before["rulebook"], after["rulebook"], "rulebook", "rulebook")
    changes += _fields(before["formula"], after["formula"], "formula", "formula")
    changes += _keyed_changes(before["grades"], after["grades"], "grade", "grade", "grade",
                              lambda band: f"{band['annex']} {band['meaning']}")
    changes += _fields(before["honours"], after["honours"], "honour", "honours", skip={"levels"})
    changes += _keyed_changes(before["honours"]["levels"], after["honours"]["levels"], "level", "honour",
                              "honour", lambda level: f"{level['name']}: {level['points']} points")
    for rule in _ordered_keys(before["retention"], after["retention"]):
        changes += _fields(before["retention"].get(rule) or {}, after["retention"].get(rule) or {}, "retention",
                           f"retention {rule}")
    quantities_before = [{"key": key, **value} for key, value in before.get("quantities", {}).items()]
    quantities_after = [{"key": key, **value} for key, value in after.get("quantities", {}).items()]
    changes += _keyed_changes(quantities_before, quantities_after, "key", "quantity", "quantity",
                              lambda quantity: f"{quantity['name']} ({quantity['unit']})")
    changes += _indicator_changes(before["indicators"], after["indicators"])
    changes += _keyed_changes(before.get("interpretations", []), after.get("interpretations", []), "id",
                              "interpretation", "", lambda item: f"{item['wording']} → {item['decision']}")
    changes += _fields(before, after, "other", "rulebook", skip=_HANDLED)
    if before.get("deductions_source") != after.get("deductions_source"):
        changes.append(RuleChange("indicator", "deductions", "reference", "deductions_source",
                                  _text("source", before.get("deductions_source")),
                                  _text("source", after.get("deductions_source"))))
    return changes


# --- population impact ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """One subject under one rulebook: its grade (or NOT_EVALUATED / ERROR) and score."""

    category: str
    score: Decimal | None
    result: SubjectResult | None
    errors: tuple[FactError, ...] = ()


@dataclass(frozen=True)
class Reason:
    """A rule that moved a subject: ``rule`` (M03.2, grade bands, …), what it concerns, old and new."""

    rule: str
    detail: str
    old: str | None = None
    new: str | None = None

    def text(self) -> str:
        change = f": {self.old} → {self.new}" if self.old is not None or self.new is not None else ""
        return f"{self.rule} ({self.detail}){change}"

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "detail": self.detail, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Move:
    index: int
    uscc: str
    name: str
    old: Outcome
    new: Outcome
    reasons: tuple[Reason, ...]

    @property
    def grade_changed(self) -> bool:
        return self.old.category != self.new.category

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "uscc": self.uscc, "name": self.name,
            "old_grade": self.old.category, "new_grade": self.new.category,
            "old_score": _number(self.old.score), "new_score": _number(self.new.score),
            "rules": [reason.as_dict() for reason in self.reasons],
        }


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(exact(value), "f")


@dataclass(frozen=True)
class Impact:
    facts: str | None
    as_of: dt.date
    population: int
    seconds: float
    categories: tuple[str, ...]
    matrix: dict[str, dict[str, int]]
    moves: tuple[Move, ...]
    """Every subject whose grade (or evaluability) changes."""
    score_changes: tuple[Move, ...]
    """Every subject evaluated under both whose score changes, grade changed or not."""
    old_scores: tuple[Decimal, ...]
    new_scores: tuple[Decimal, ...]
    old_errors: tuple[FactError, ...]
    new_errors: tuple[FactError, ...]


def _outcome(entry: SubjectEntry, rulebook: CompiledRulebook, as_of: dt.date) -> Outcome:
    evaluation = evaluate([entry], rulebook, as_of)
    if evaluation.errors:
        return Outcome(ERROR, None, None, tuple(evaluation.errors))
    result = evaluation.results[0]
    if not result.evaluated or result.grade is None:
        return Outcome(NOT_EVALUATED, None, result)
    return Outcome(result.grade, result.score, result)


def _signed(item_type: str, amount: Decimal) -> str:
    text = format(exact(amount), "f")
    return f"−{text}" if item_type == "violation" else f"+{text}"


def _reasons(old: Outcome, new: Outcome, old_rb: CompiledRulebook, new_rb: CompiledRulebook,
             formula: Sequence[RuleChange]) -> list[Reason]:
    reasons: list[Reason] = []
    for label, outcome in (("old", old), ("new", new)):
        for error in outcome.errors:
            record = f"record {error.record_id}: " if error.record_id else ""
            reasons.append(Reason(f"not evaluable under the {label} rulebook", f"{record}{error.message}"))
    if old.result is None or new.result is None:
        return reasons
    old_items = {item.record_id: item for item in old.result.items or ()}
    for item in new.result.items or ():
        before = old_items.get(item.record_id)
        if before is None or before.applied == item.applied:
            continue
        rule = f"{item.indicator}.{item.tier}" if item.type == "violation" else f"honour {item.level}"
        reasons.append(Reason(rule, f"record {item.record_id}", _signed(item.type, before.applied),
                              _signed(item.type, item.applied)))
    if old.score is not None and new.score is not None and old.score != new.score:
        reasons.extend(Reason("formula", change.field or "", change.old, change.new) for change in formula)
    if new.score is not None and old.score is not None:
        under_old = old_rb.tables.band(new.score).label
        under_new = new_rb.tables.band(new.score).label
        if under_old != under_new:
            reasons.append(Reason("grade bands", f"N = {_number(new.score)}", f"{under_old} under the old bands",
                                  f"{under_new} under the new"))
    return reasons


def population_impact(entries: Sequence[SubjectEntry], old: CompiledRulebook, new: CompiledRulebook,
                      as_of: dt.date, *, facts: str | None = None,
                      on_subject: Callable[[], None] | None = None) -> Impact:
    """Evaluate every subject under both rulebooks and compare, subject by subject."""
    started = time.perf_counter()
    formula = [change for change in rule_changes(old.source, new.source)
               if change.area == "formula" and change.change == "changed"]
    pairs = []
    for entry in entries:
        pairs.append((entry, _outcome(entry, old, as_of), _outcome(entry, new, as_of)))
        if on_subject is not None:
            on_subject()
    grades = list(old.law.grade_labels)     # the rulebook's order of its grades, best first
    grades += [label for label in new.law.grade_labels if label not in grades]
    extra = [category for category in (NOT_EVALUATED, ERROR)
             if any(category in (before.category, after.category) for _, before, after in pairs)]
    categories = tuple(grades + extra)
    matrix = {row: dict.fromkeys(categories, 0) for row in categories}
    moves: list[Move] = []
    score_changes: list[Move] = []
    for entry, before, after in pairs:
        matrix[before.category][after.category] += 1
        changed_grade = before.category != after.category
        changed_score = before.score is not None and after.score is not None and before.score != after.score
        if not (changed_grade or changed_score):
            continue
        subject = entry.subject
        uscc = subject.uscc if subject is not None else next((e.uscc for e in entry.errors if e.uscc), "") or ""
        name = subject.name if subject is not None else next((e.name for e in entry.errors if e.name), "") or ""
        move = Move(entry.index, uscc, name, before, after, tuple(_reasons(before, after, old, new, formula)))
        if changed_grade:
            moves.append(move)
        if changed_score:
            score_changes.append(move)
    seconds = time.perf_counter() - started
    return Impact(
        facts=facts, as_of=as_of, population=len(entries), seconds=seconds, categories=categories,
        matrix=matrix, moves=tuple(moves), score_changes=tuple(score_changes),
        old_scores=tuple(b.score for _, b, _ in pairs if b.score is not None),
        new_scores=tuple(a.score for _, _, a in pairs if a.score is not None),
        old_errors=tuple(error for _, b, _ in pairs for error in b.errors),
        new_errors=tuple(error for _, _, a in pairs for error in a.errors),
    )


def score_summary(scores: Sequence[Decimal]) -> dict[str, Any]:
    """count, min, median, mean (to 0.01) and max of a list of scores; exact decimals as text."""
    if not scores:
        return {"count": 0, "min": None, "median": None, "mean": None, "max": None}
    ordered = sorted(scores)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    mean = (sum(ordered, Decimal(0)) / len(ordered)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {"count": len(ordered), "min": _number(ordered[0]), "median": _number(median),
            "mean": _number(mean), "max": _number(ordered[-1])}


def histogram(old: Sequence[Decimal], new: Sequence[Decimal], width: int = 50) -> list[dict[str, Any]]:
    """Counts of old and new scores in bins (from, to] of ``width`` points, like the grade bands."""
    everything = list(old) + list(new)
    if not everything:
        return []
    step = Decimal(width)
    low = (min(everything) / step).to_integral_value(rounding="ROUND_CEILING") * step - step
    high = (max(everything) / step).to_integral_value(rounding="ROUND_CEILING") * step
    bins = []
    edge = low
    while edge < high:
        top = edge + step
        bins.append({"from": _number(edge), "to": _number(top),
                     "old": sum(1 for score in old if edge < score <= top),
                     "new": sum(1 for score in new if edge < score <= top)})
        edge = top
    return bins


# --- the whole report -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffReport:
    old: CompiledRulebook
    new: CompiledRulebook
    changes: tuple[RuleChange, ...]
    impact: Impact | None = None
    old_label: str | None = None
    """What the report calls the old rulebook (default its id@version)."""
    new_label: str | None = None

    @property
    def meaning_changes(self) -> tuple[RuleChange, ...]:
        return tuple(change for change in self.changes if change.change != "reference")

    @property
    def labels(self) -> tuple[str, str]:
        return (self.old_label or _spec(self.old), self.new_label or _spec(self.new))


def side_labels(old: CompiledRulebook, new: CompiledRulebook, old_given: str, new_given: str) -> tuple[str, str]:
    """What to call the two sides of a diff: their id@version, or, when both have the same one (a file edited
    without a new version yet, compared with the library's), the names they were given by."""
    if _spec(old) != _spec(new):
        return _spec(old), _spec(new)
    if old_given != new_given:
        return old_given, new_given
    return f"old {old_given}", f"new {new_given}"


def diff_rulebooks(old: CompiledRulebook, new: CompiledRulebook, *, population: Sequence[SubjectEntry] | None = None,
                   as_of: dt.date | None = None, facts: str | None = None,
                   labels: tuple[str, str] | None = None,
                   on_subject: Callable[[], None] | None = None) -> DiffReport:
    """Rule changes from ``old`` to ``new`` and, given a population and a date, their impact.

    ``labels`` name the two sides in the report (default: each one's id@version); ``on_subject`` is called after
    each subject of the population is evaluated under both (a progress bar).
    """
    impact = None
    if population is not None:
        if as_of is None:
            raise ValueError("a population impact needs an as-of date")
        impact = population_impact(population, old, new, as_of, facts=facts, on_subject=on_subject)
    old_label, new_label = labels if labels is not None else (None, None)
    return DiffReport(old, new, tuple(rule_changes(old.source, new.source)), impact, old_label, new_label)


def _ref(rulebook: CompiledRulebook, label: str) -> dict[str, Any]:
    identity = rulebook.identity
    return {"id": identity.id, "version": identity.version, "title": identity.title, "label": label,
            "status": identity.status, "status_wording": identity.status_wording, "digest": rulebook.digest}


def impact_data(impact: Impact) -> dict[str, Any]:
    return {
        "facts": impact.facts,
        "as_of": impact.as_of.isoformat(),
        "population": impact.population,
        "seconds": round(impact.seconds, 3),
        "grades": list(impact.categories),
        "migration": impact.matrix,
        "grade_changes": [move.as_dict() for move in impact.moves],
        "score_changes": [move.as_dict() for move in impact.score_changes],
        "scores": {"old": score_summary(impact.old_scores), "new": score_summary(impact.new_scores)},
        "histogram": histogram(impact.old_scores, impact.new_scores),
        "errors": {"old": [error.as_dict() for error in impact.old_errors],
                   "new": [error.as_dict() for error in impact.new_errors]},
    }


def diff_data(report: DiffReport) -> dict[str, Any]:
    data: dict[str, Any] = {
        "old": _ref(report.old, report.labels[0]),
        "new": _ref(report.new, report.labels[1]),
        "same_digest": report.old.digest == report.new.digest,
        "changes": [change.as_dict() for change in report.changes],
    }
    if report.impact is not None:
        data["population"] = impact_data(report.impact)
    return data


def diff_json(report: DiffReport) -> str:
    return json.dumps(diff_data(report), ensure_ascii=False, indent=2) + "\n"


def _spec(rulebook: CompiledRulebook) -> str:
    return f"{rulebook.identity.id}@{rulebook.identity.version}"


def print_diff(report: DiffReport, console: Console) -> None:
    # Rulebook labels (file names, when both sides are one version), subjects' names and wordings are data: Text,
    # never markup (mincredit._report)
    for label, rulebook in zip(report.labels, (report.old, report.new), strict=True):
        described = f" = {_spec(rulebook)}" if label != _spec(rulebook) else ""
        console.print(Text.assemble((label, "bold"), f"{described} ({rulebook.identity.status_wording}, "
                                                     f"{rulebook.digest})"))
    old, new = report.labels
    meaning = report.meaning_changes
    references = len(report.changes) - len(meaning)
    if report.old.digest == report.new.digest:
        console.print("The two rulebooks have the same digest: they mean the same.")
    elif not meaning:
        console.print("No change of meaning in the rules; only references (rows, lines, sources) differ.")
    else:
        table = titled_table(f"{len(meaning)} change(s) of meaning from {old} to {new}")
        for name in ("area", "where", "change", "field", old, new):
            table.add_column(Text(name), overflow="fold")
        for change in meaning:
            table.add_row(*cells(change.area, change.where, change.change, change.field or "", change.old or "—",
                                 change.new or "—"))
        console.print(table)
    if references:
        console.print(f"{references} reference change(s) (row, line, source) not listed; --format json lists them.")
    if report.impact is not None:
        print_impact(report.impact, console, old, new)


def print_impact(impact: Impact, console: Console, old: str, new: str) -> None:
    source = f" from {impact.facts}" if impact.facts else ""
    console.print(Text(f"\nPopulation: {impact.population} subject(s){source}, as of {impact.as_of}, evaluated under "
                       f"both rulebooks in {impact.seconds:.3f} s."))
    matrix = titled_table(f"grade migration: rows {old}, columns {new}")
    matrix.add_column("old \\ new")
    for category in impact.categories:
        matrix.add_column(Text(category), justify="right")
    matrix.add_column("total", justify="right")
    for row in impact.categories:
        counts = impact.matrix[row]
        moved = [(Text(str(n), style="bold") if n and row != column else Text(str(n) if n else "·"))
                 for column, n in counts.items()]
        matrix.add_row(Text(row), *moved, Text(str(sum(counts.values()))))
    matrix.add_row(*cells("total", *[str(sum(impact.matrix[row][column] for row in impact.categories))
                                     for column in impact.categories], str(impact.population)))
    console.print(matrix)
    if impact.moves:
        moves = titled_table(f"{len(impact.moves)} subject(s) change grade")
        for name in ("subject", "old", "new", "what moved it"):
            moves.add_column(name, overflow="fold")
        for move in impact.moves:
            moves.add_row(*cells(f"{move.uscc} {move.name}", _outcome_text(move.old), _outcome_text(move.new),
                                 "\n".join(reason.text() for reason in move.reasons) or "—"))
        console.print(moves)
    else:
        console.print("No subject changes grade.")
    same_grade = [move for move in impact.score_changes if not move.grade_changed]
    if same_grade:
        console.print(Text(f"{len(same_grade)} more subject(s) change score but keep their grade: "
                           + ", ".join(f"{move.uscc} {_number(move.old.score)} → {_number(move.new.score)}"
                                       for move in same_grade)))
    summary = titled_table("score distribution (evaluated subjects)")
    summary.add_column("")
    summary.add_column(Text(old), justify="right")
    summary.add_column(Text(new), justify="right")
    before, after = score_summary(impact.old_scores), score_summary(impact.new_scores)
    for key in ("count", "min", "median", "mean", "max"):
        summary.add_row(*cells(key, str(before[key] if before[key] is not None else "—"),
                               str(after[key] if after[key] is not None else "—")))
    console.print(summary)
    bins = histogram(impact.old_scores, impact.new_scores)
    if bins:
        hist = titled_table("scores in 50-point bins (from, to]")
        for name in ("bin", old, new):
            hist.add_column(Text(name), justify="right")
        for bin_ in bins:
            hist.add_row(*cells(f"{bin_['from']}＜N≤{bin_['to']}", "█" * bin_["old"] + f" {bin_['old']}",
                                "█" * bin_["new"] + f" {bin_['new']}"))
        console.print(hist)


def _outcome_text(outcome: Outcome) -> str:
    if outcome.score is not None:
        return f"{outcome.category} ({_number(outcome.score)})"
    return outcome.category


def _band_edges(rulebook: CompiledRulebook) -> list[float]:
    return sorted({float(bound) for band in rulebook.law.bands for bound in (band.lower, band.upper)
                   if bound is not None})


def plot_impact(impact: Impact, old: CompiledRulebook, new: CompiledRulebook,
                labels: tuple[str, str] | None = None) -> bytes:
    """Draw the migration matrix and the two score histograms as a PNG; return its bytes.

    The histograms use the report's bins, (from, to] like the grade bands, on one scale, with each
    rulebook's grade boundaries dashed.  Uses matplotlib's object API (no pyplot, no global backend
    state); install ``mincredit[plot]``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    old_label, new_label = labels if labels is not None else (_spec(old), _spec(new))
    figure = Figure(figsize=(16, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    matrix_axes, old_axes, new_axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.15, 1, 1]})
    categories = list(impact.categories)
    counts = [[impact.matrix[row][column] for column in categories] for row in categories]
    matrix_axes.imshow(counts, cmap="Blues")
    matrix_axes.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
    matrix_axes.set_yticks(range(len(categories)), categories)
    matrix_axes.set_xlabel(f"grade under {new_label}")
    matrix_axes.set_ylabel(f"grade under {old_label}")
    matrix_axes.set_title(f"grade migration\n{impact.population} subjects, as of {impact.as_of}")
    peak = max((max(row) for row in counts), default=0)
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            if count:
                matrix_axes.text(j, i, str(count), ha="center", va="center",
                                 color="white" if count > peak / 2 else "black",
                                 fontweight="bold" if i != j else "normal")
    bins = histogram(impact.old_scores, impact.new_scores)
    lefts = [float(row["from"]) for row in bins]
    width = float(bins[0]["to"]) - lefts[0] if bins else 50.0
    tallest = max([row["old"] for row in bins] + [row["new"] for row in bins] + [1])
    for axes, key, rulebook, label, colour in ((old_axes, "old", old, old_label, "tab:gray"),
                                               (new_axes, "new", new, new_label, "tab:blue")):
        axes.bar(lefts, [row[key] for row in bins], width=width, align="edge", color=colour, edgecolor="white")
        for edge in _band_edges(rulebook):
            if bins and lefts[0] <= edge <= lefts[-1] + width:
                axes.axvline(edge, color="tab:red", linestyle="--", linewidth=1)
        count = len(impact.old_scores if key == "old" else impact.new_scores)
        axes.set_title(f"scores under {label}\n(n = {count}; dashed: grade boundaries)")
        axes.set_ylim(0, tallest * 1.15)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("score N (bins from < N ≤ to)")
        axes.set_ylabel("subjects")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
