"""Derived facts: a violation's tier from its quantities or history, a record from a contract (the rulebook's
``derived`` block), and a record as corrected after an objection or its review.

A violation may leave out ``tier`` when it gives the quantity its indicator's tier conditions range over
(``quantities: {illegal_gain: "12 万元"}``), or, for an indicator graded by repetition (M37), its
``offence_count`` — or nothing, and the count is read from the subject's own records.  A contract whose
delay reaches a tier of ``derived.contract_overdue`` becomes a violation record of that indicator.  Which
tier a quantity picks is decided by the rule backend (:mod:`mincredit._backends`) over the facts prepared
here; the explanation says which condition picked it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from mincredit._conditions import Fact, FactValue, Match, Program, measure_fields
from mincredit._kernel import count_warning, offence_places, offence_tier
from mincredit._periods import add_months
from mincredit._retention import CountWindow, decided_objection
from mincredit.facts._models import Subject, ViolationRecord
from mincredit.facts._records import Contract, JudgmentRefusal, StatutoryGround
from mincredit.rules._schema import Bound, QuantityCondition, Rulebook
from mincredit.rules._schema_articles import ContractOverdue

ONE_DAY = dt.timedelta(days=1)
TierSource = Literal["stated", "quantity", "count", "contract"]


def number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def bound_text(bound: Bound) -> str:
    return f"{number(bound.value)} {bound.unit}" if bound.unit else number(bound.value)


def range_text(condition: QuantityCondition) -> str:
    low, high = condition.lower, condition.upper
    if low is not None and high is not None:
        return f"{'[' if low.inclusive else '('}{bound_text(low)}, {bound_text(high)}{']' if high.inclusive else ')'}"
    if low is not None:
        return f"{'≥' if low.inclusive else '>'} {bound_text(low)}"
    if high is not None:
        return f"{'≤' if high.inclusive else '<'} {bound_text(high)}"
    return "any amount"


@dataclass(frozen=True)
class ResolvedViolation:
    """A violation as it is read on the as-of date: corrected if an objection found it wrong, with its tier."""

    record: ViolationRecord
    tier_source: TierSource = "stated"
    tier_reason: str | None = None
    derived_from: str | None = None
    correction: str | None = None

    @property
    def tier(self) -> int:
        assert self.record.tier is not None
        return self.record.tier


def corrected(record: ViolationRecord, as_of: dt.date) -> tuple[ViolationRecord, str | None]:
    """The record as corrected by the last finding (an objection's, or its review's) decided on or before ``as_of``
    (history keeps both)."""
    finding = decided_objection(record.objections, as_of)
    if finding is None or finding.outcome != "corrected" or finding.corrected is None:
        return record, None
    fix = finding.corrected
    changes: dict[str, object] = {k: v for k, v in fix.model_dump(exclude_none=True).items() if k != "quantities"}
    if fix.quantities is not None:
        changes["quantities"] = fix.quantities
        if fix.tier is None:
            changes["tier"] = None       # the tier follows the corrected quantities
    said = ", ".join(f"{name} {getattr(record, name)} → {getattr(fix, name)}" for name in
                     ("indicator", "tier", "determined_on") if getattr(fix, name) is not None)
    if fix.quantities is not None:
        said = ", ".join(filter(None, [said, "quantities " + ", ".join(
            f"{name} {value.text()}" for name, value in fix.quantities.items())]))
    text = f"corrected {finding.text()}{': ' + said if said else ''}"
    return record.model_copy(update=changes), text


# ---------------------------------------------------------------- facts for the backend


def _roles(subject: Subject) -> list[str]:
    return list(subject.roles)


def record_fact(record: ViolationRecord | JudgmentRefusal | StatutoryGround, subject: Subject) -> Fact:
    fact: Fact = {
        "fact": "record", "id": f"record:{record.id}", "record_type": record.type,
        "indicator": "", "info_kind": "", "penalty_kind": "none", "penalty_procedure": "none",
        "penalty_status": "none", "able_to_perform": False, "behaviours": [], "subject_roles": _roles(subject),
    }
    if isinstance(record, ViolationRecord):
        fact["indicator"] = record.indicator
        fact["info_kind"] = record.info_kind or ""
        fact["behaviours"] = list(record.behaviours)
        if record.penalty is not None:
            fact["penalty_kind"] = record.penalty.kind
            fact["penalty_procedure"] = record.penalty.procedure or "none"
            fact["penalty_status"] = record.penalty.status
    elif isinstance(record, JudgmentRefusal):
        fact["info_kind"] = "unperformed_judgment"
        fact["able_to_perform"] = record.able_to_perform
    return fact


def measure_fact(record: ViolationRecord, program: Program) -> tuple[Fact | None, list[str]]:
    if not record.quantities:
        return None, []
    fields, problems = measure_fields(record.quantities, program.measures, program.units(), record.determined_on)
    fact: dict[str, FactValue] = {"fact": "measure", "id": f"measure:{record.id}", "indicator": record.indicator}
    fact.update(fields)
    return fact, problems


def offence_counts(records: Sequence[ViolationRecord], indicators: set[str]) -> dict[str, int]:
    """Each record's offence number: the count the record states (the authority's), else its place among the
    subject's records of its indicator (:func:`mincredit._kernel.offence_places`)."""
    places = offence_places(records, indicators)
    return {record.id: record.offence_count or places[record.id] for record in records if record.id in places}


def contract_end(contract: Contract, as_of: dt.date) -> dt.date:
    """The last day the delay runs to: completion, or the as-of date while not completed."""
    return min(contract.completed_on, as_of) if contract.completed_on is not None else as_of


def contract_fact(contract: Contract, rule: ContractOverdue, program: Program, as_of: dt.date) -> Fact | None:
    from mincredit.facts._records import Span

    end = contract_end(contract, as_of)
    if end <= contract.due_on:
        return None
    span = Span.model_validate({"from": contract.due_on, "to": end})
    fields, _ = measure_fields({rule.quantity: span}, program.measures, program.units(), end)
    return {"fact": "contract", "id": f"contract:{contract.id}", "contract_kind": contract.contract_kind,
            "delay_justified": contract.delay_justified, **fields}


def first_overdue_day(rule: ContractOverdue, rulebook: Rulebook, due_on: dt.date) -> dt.date:
    """The first day the delay is in some tier of the indicator (the day the system judges it)."""
    days = []
    for indicator in rulebook.indicators:
        if indicator.code != rule.indicator:
            continue
        for tier in indicator.tiers:
            condition = tier.condition
            if condition is None or condition.quantity != rule.quantity:
                continue
            low = condition.lower
            if low is None:
                days.append(due_on + ONE_DAY)
                continue
            steps = int(low.value)
            reached = (due_on + dt.timedelta(days=steps) if low.unit == "day"
                       else add_months(due_on, steps * (12 if low.unit == "year" else 1)))
            days.append(reached if low.inclusive else reached + ONE_DAY)
    return min(days) if days else due_on + ONE_DAY


# ---------------------------------------------------------------- resolving tiers


@dataclass
class Resolution:
    violations: list[ResolvedViolation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)   # (record id, message)


def _matched(matches: Iterable[Match], prefix: str, fact_id: str) -> list[tuple[str, int]]:
    found = []
    for rule_id, matched_fact in matches:
        if matched_fact == fact_id and rule_id.startswith(prefix):
            code, tier = rule_id[len(prefix):].rsplit(".", 1)
            found.append((code, int(tier)))
    return found


def _quantity_reason(record: ViolationRecord, condition: QuantityCondition | None, code: str, tier: int) -> str:
    if condition is None:
        return f"{code} tier {tier}"
    given = record.quantities.get(condition.quantity)
    amount = given.text() if given is not None else "?"
    return (f"tier {tier} derived from the quantity: {condition.quantity} {amount} is in {range_text(condition)} "
            f"(the condition of {code}.{tier})")


def resolve_tiers(records: Sequence[ViolationRecord], corrections: dict[str, str], counts: dict[str, int],
                  matches: frozenset[Match], rulebook: Rulebook, program: Program) -> Resolution:
    """Each violation with its tier: stated, or derived from its quantity or its offence count."""
    tiers = program.tiers
    count_rules = {rule.indicator: rule for rule in (rulebook.derived.offence_count if rulebook.derived else [])}
    out = Resolution()
    for record in records:
        by_quantity = _matched(matches, "tier:", f"measure:{record.id}")
        if record.tier is not None:
            stated = (record.indicator, record.tier)
            condition = tiers.get(stated, (Decimal(0), None))[1]
            if condition is not None and condition.quantity in record.quantities and stated not in by_quantity:
                given = record.quantities[condition.quantity]
                out.warnings.append(
                    f"record {record.id}: tier {record.tier} is stated, but its condition {condition.quantity} "
                    f"{range_text(condition)} does not hold for {given.text()}"
                    + (f" (the quantity is in the range of tier {', '.join(str(t) for _, t in by_quantity)})"
                       if by_quantity else "")
                    + "; the stated tier is used — check it (the tier may rest on another alternative of its "
                      "wording, I10)")
            if record.indicator in count_rules:
                count = counts.get(record.id)
                bands = count_rules[record.indicator].tiers
                by_count = offence_tier(bands, count) if count is not None else None
                if count is not None and by_count is not None and by_count != record.tier \
                        and any(band.tier == record.tier for band in bands):
                    out.warnings.append(count_warning(record.id, record.indicator, record.tier, count, by_count))
            out.violations.append(ResolvedViolation(record, "stated", None, None, corrections.get(record.id)))
            continue
        if by_quantity:
            code, tier = max(by_quantity, key=lambda key: (tiers[key][0], key[1]))
            reason = _quantity_reason(record, tiers[(code, tier)][1], code, tier)
            if len(by_quantity) > 1:
                others = ", ".join(f"{c}.{t}" for c, t in sorted(by_quantity) if (c, t) != (code, tier))
                reason += f"; its quantities also satisfy {others}, the heaviest satisfied tier applies (I15)"
            out.violations.append(ResolvedViolation(record.model_copy(update={"tier": tier}), "quantity", reason,
                                                    None, corrections.get(record.id)))
            continue
        count = counts.get(record.id)
        tier_by_count = offence_tier(count_rules[record.indicator].tiers, count) \
            if count is not None and record.indicator in count_rules else None
        if tier_by_count is not None:
            tier = tier_by_count
            assert count is not None
            source = ("the offence count the record states" if record.offence_count is not None
                      else "its place among the subject's own records of this indicator")
            reason = (f"tier {tier} derived from the offence count: offence number {count} "
                      f"({'first' if count == 1 else 'repeated'}; {source})")
            out.violations.append(ResolvedViolation(record.model_copy(update={"tier": tier}), "count", reason,
                                                    None, corrections.get(record.id)))
            continue
        if record.quantities:
            given_text = ", ".join(f"{name} {amount.text()}" for name, amount in record.quantities.items())
            out.problems.append((record.id, f"no tier of {record.indicator} has a condition that holds for "
                                            f"{given_text}; state the tier"))
        else:
            out.problems.append((record.id, f"the tier is missing: state it, or give the quantity the tier "
                                            f"conditions of {record.indicator} range over"))
    return out


def contract_violations(contracts: Sequence[Contract], matches: frozenset[Match], rulebook: Rulebook,
                        program: Program, as_of: dt.date) -> list[ResolvedViolation]:
    """The records the system derives from overdue contracts, at the tier their delay reached."""
    rules = {rule.indicator: rule for rule in (rulebook.derived.contract_overdue if rulebook.derived else [])}
    tiers = program.tiers
    found = []
    for contract in contracts:
        hits = _matched(matches, "contract:", f"contract:{contract.id}")
        if not hits:
            continue
        code, tier = max(hits, key=lambda key: (tiers[key][0], key[1]))
        rule = rules[code]
        condition = tiers[(code, tier)][1]
        assert condition is not None
        end = contract_end(contract, as_of)
        determined = first_overdue_day(rule, rulebook, contract.due_on)
        state = f"completed on {contract.completed_on}" if contract.completed_on is not None and \
            contract.completed_on <= as_of else f"not completed on {as_of}"
        reason = (f"derived from contract {contract.id} ({rule.article}): due {contract.due_on}, {state}; "
                  f"the delay from {contract.due_on} to {end} is in {range_text(condition)} "
                  f"(the condition of {code}.{tier}); judged overdue on {determined}")
        record = ViolationRecord(id=f"{contract.id}:{code}", type="violation", indicator=code, tier=tier,
                                 determined_on=determined,
                                 description=f"derived from contract {contract.id}"
                                             + (f" ({contract.name})" if contract.name else ""))
        found.append(ResolvedViolation(record, "contract", reason, contract.id, None))
    return found


def window_facts(records: Iterable[tuple[ViolationRecord | JudgmentRefusal | StatutoryGround, CountWindow]],
                 subject: Subject) -> list[Fact]:
    """The record facts the blacklist triggers test: bad information that counts (or is being verified)."""
    return [record_fact(record, subject) for record, window in records
            if window.state in {"counted", "under_objection"}]
