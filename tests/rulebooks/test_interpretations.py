"""The interpretations register and the rulebooks' quantity conditions agree with each other and the text.

Each rulebook lists its interpretations (``interpretations:``) and docs/interpretations.md
explains them; these tests keep the two in step, check that every reference and every
quoted passage exists, that no tier with an amount in its wording is silently left without
a decision, and that the ranges of one indicator neither overlap nor leave gaps.  The range
arithmetic is done here with plain Decimal, independently of the library's unit system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

from mincredit.rules._loading import load_rulebook_file
from mincredit.rules._schema import Bound, QuantityCondition, Rulebook

ROOT = Path(__file__).resolve().parents[2]
RULEBOOKS = {kind: ROOT / "rulebooks" / f"{kind}.yaml" for kind in ("miner", "agency")}
REGISTER = ROOT / "docs" / "interpretations.md"
REGULATION = ROOT / "docs" / "regulation" / "000_c25b4c134fa0cdc3.txt"

NAMED_BLOCKS = {"grades", "formula", "honours", "retention", "quantities", "indicators", "rulebook.effective"}
# arts. 10–11, 15–28 (mincredit.rules._schema_articles)
NAMED_BLOCKS |= {"blacklist", "repair", "removal", "objections", "consequences", "derived", "dissolved",
                 "formula.public_score"}
NAMED_BLOCKS |= {"publication"}   # mincredit._publish._rules
TIER_REFERENCE = re.compile(r"^([MA]\d{2})\.(\d+)$")
INDICATOR_REFERENCE = re.compile(r"^[MA]\d{2}$")
AMOUNT_IN_WORDING = re.compile(r"\d+(?:\.\d+)?\s*(?:万元|元|个月|月|年|日|天|%|％)")
HEADING = re.compile(r"^## (I\d{2}) — ", re.MULTILINE)
PASSAGE_SEPARATOR = " | "

# unit -> (dimension, factor to the dimension's base unit)
UNITS = {
    "万元": ("money", Decimal(10000)),
    "元": ("money", Decimal(1)),
    "year": ("calendar", Decimal(12)),
    "month": ("calendar", Decimal(1)),
    "day": ("days", Decimal(1)),
    "percent": ("ratio", Decimal(1)),
}


@cache
def rulebook(kind: str) -> Rulebook:
    return load_rulebook_file(RULEBOOKS[kind]).rulebook


@cache
def register_sections() -> dict[str, str]:
    text = REGISTER.read_text(encoding="utf-8")
    matches = list(HEADING.finditer(text))
    sections: dict[str, str] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following is not None else len(text)
        assert match[1] not in sections, f"{match[1]} has two sections in {REGISTER.name}"
        sections[match[1]] = text[match.start():end]
    return sections


@cache
def regulation_text() -> str:
    # cells are tab-indented lines; miner row 15 wraps a cell over two lines (I06)
    return REGULATION.read_text(encoding="utf-8").replace("\t", "").replace("\n", "")


def squeeze(text: str) -> str:
    return " ".join(text.split())


KINDS = pytest.mark.parametrize("kind", sorted(RULEBOOKS))


# ---------------------------------------------------------------- the register and the rulebooks


def test_every_interpretation_has_a_section_and_every_section_an_interpretation() -> None:
    in_rulebooks = {item.id for kind in RULEBOOKS for item in rulebook(kind).interpretations}
    in_register = set(register_sections())
    assert sorted(in_rulebooks - in_register) == [], "interpretations without a section in the register"
    assert sorted(in_register - in_rulebooks) == [], "register sections no rulebook uses"


@KINDS
def test_interpretation_ids_are_unique(kind: str) -> None:
    ids = [item.id for item in rulebook(kind).interpretations]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_a_shared_id_makes_the_same_decision_in_both_rulebooks() -> None:
    miner = {item.id: item.decision for item in rulebook("miner").interpretations}
    agency = {item.id: item.decision for item in rulebook("agency").interpretations}
    differing = sorted(i for i in miner.keys() & agency.keys() if miner[i] != agency[i])
    assert differing == []
    assert {f"I0{n}" for n in range(1, 9)} <= miner.keys() & agency.keys()


@KINDS
def test_the_register_states_each_decision_as_the_rulebook_does(kind: str) -> None:
    sections = register_sections()
    missing = [item.id for item in rulebook(kind).interpretations
               if squeeze(item.decision) not in squeeze(sections.get(item.id, ""))]
    assert missing == []


@KINDS
def test_quoted_wording_is_verbatim_regulation_text(kind: str) -> None:
    text = regulation_text()
    sections = register_sections()
    problems = []
    for item in rulebook(kind).interpretations:
        for passage in item.wording.split(PASSAGE_SEPARATOR):
            if passage.strip() != passage or passage not in text:
                problems.append(f"{item.id}: {passage!r} is not in the regulation")
            elif passage not in sections.get(item.id, ""):
                problems.append(f"{item.id}: {passage!r} is not quoted in its register section")
    assert problems == []


def resolve(reference: str, book: Rulebook) -> str | None:
    """Why ``reference`` names nothing in ``book``, or None."""
    tiers = {ind.code: {t.tier for t in ind.tiers} for ind in book.indicators}
    if match := TIER_REFERENCE.match(reference):
        code, tier = match[1], int(match[2])
        if code not in tiers:
            return f"no indicator {code}"
        return None if tier in tiers[code] else f"{code} has no tier {tier}"
    if INDICATOR_REFERENCE.match(reference):
        return None if reference in tiers else f"no indicator {reference}"
    return None if reference in NAMED_BLOCKS else "neither an indicator, a tier nor a named block"


@KINDS
def test_applies_to_names_existing_indicators_tiers_or_blocks(kind: str) -> None:
    book = rulebook(kind)
    problems = [f"{item.id} → {reference}: {why}" for item in book.interpretations for reference in item.applies_to
                if (why := resolve(reference, book)) is not None]
    assert problems == []


def covered(book: Rulebook) -> set[str]:
    """Tiers (``M03.2``) and indicators (``M03``) some interpretation applies to."""
    return {reference for item in book.interpretations for reference in item.applies_to}


@KINDS
def test_every_tier_with_an_amount_in_its_wording_has_a_condition_or_an_interpretation(kind: str) -> None:
    book = rulebook(kind)
    named = covered(book)
    skipped = [f"{ind.code}.{tier.tier}: {tier.wording}" for ind in book.indicators for tier in ind.tiers
               if AMOUNT_IN_WORDING.search(tier.wording) and tier.condition is None
               and f"{ind.code}.{tier.tier}" not in named and ind.code not in named]
    assert skipped == []


@KINDS
def test_every_condition_is_explained_by_an_interpretation(kind: str) -> None:
    book = rulebook(kind)
    named = covered(book)
    unexplained = [f"{ind.code}.{tier.tier}" for ind in book.indicators for tier in ind.tiers
                   if tier.condition is not None and f"{ind.code}.{tier.tier}" not in named and ind.code not in named]
    assert unexplained == []


# ---------------------------------------------------------------- quantities and units


@KINDS
def test_every_condition_names_a_declared_quantity_and_every_quantity_is_used(kind: str) -> None:
    book = rulebook(kind)
    used = {tier.condition.quantity for ind in book.indicators for tier in ind.tiers if tier.condition}
    assert sorted(used - book.quantities.keys()) == [], "conditions on undeclared quantities"
    assert sorted(book.quantities.keys() - used) == [], "declared quantities no condition uses"


@KINDS
def test_bounds_have_units_of_their_quantity(kind: str) -> None:
    book = rulebook(kind)
    problems = []
    for name, quantity in book.quantities.items():
        if quantity.unit not in UNITS:
            problems.append(f"quantity {name} has the unknown unit {quantity.unit!r}")
    for ind in book.indicators:
        for tier in ind.tiers:
            condition = tier.condition
            if condition is None:
                continue
            where = f"{ind.code}.{tier.tier}"
            if condition.lower is None and condition.upper is None:
                problems.append(f"{where}: a condition without bounds")
            declared = book.quantities.get(condition.quantity)
            for bound in (condition.lower, condition.upper):
                if bound is None:
                    continue
                if bound.unit not in UNITS:
                    problems.append(f"{where}: bound unit {bound.unit!r} is not one of {sorted(UNITS)}")
                elif declared is not None and declared.unit in UNITS \
                        and UNITS[bound.unit][0] != UNITS[declared.unit][0]:
                    problems.append(f"{where}: {bound.unit} cannot measure {condition.quantity} ({declared.unit})")
    assert problems == []


# ---------------------------------------------------------------- ranges: no overlap, no gap


@dataclass(frozen=True)
class End:
    value: Decimal
    inclusive: bool


@dataclass(frozen=True)
class Range:
    label: str
    lower: End | None  # None: unbounded below
    upper: End | None  # None: unbounded above


def base(bound: Bound | None) -> End | None:
    if bound is None:
        return None
    _, factor = UNITS[bound.unit or ""]
    return End(bound.value * factor, bound.inclusive)


def as_range(label: str, condition: QuantityCondition) -> Range:
    return Range(label, base(condition.lower), base(condition.upper))


def range_problems(ranges: list[Range]) -> list[str]:
    """Overlaps and gaps among ranges of one quantity, between the smallest and the largest bound."""
    problems = []
    for item in ranges:
        low, high = item.lower, item.upper
        if low is not None and high is not None and (
                low.value > high.value or (low.value == high.value and not (low.inclusive and high.inclusive))):
            problems.append(f"{item.label} holds no amount")

    def start(item: Range) -> tuple[int, Decimal, int]:
        if item.lower is None:
            return (0, Decimal(0), 0)
        return (1, item.lower.value, 0 if item.lower.inclusive else 1)

    ordered = sorted(ranges, key=start)
    for first, second in pairwise(ordered):
        pair = f"{first.label} and {second.label}"
        if first.upper is None or second.lower is None:
            problems.append(f"{pair} overlap")
            continue
        high, low = first.upper, second.lower
        if high.value > low.value or (high.value == low.value and high.inclusive and low.inclusive):
            problems.append(f"{pair} overlap at {min(high.value, low.value) if high.value > low.value else low.value}")
        elif high.value < low.value or not (high.inclusive or low.inclusive):
            problems.append(f"{pair} leave a gap after {high.value}")
    return problems


@KINDS
def test_ranges_of_one_quantity_in_one_indicator_neither_overlap_nor_leave_gaps(kind: str) -> None:
    problems = []
    for ind in rulebook(kind).indicators:
        by_quantity: dict[str, list[Range]] = {}
        for tier in ind.tiers:
            if tier.condition is not None:
                by_quantity.setdefault(tier.condition.quantity, []).append(
                    as_range(f"{ind.code}.{tier.tier}", tier.condition))
        for quantity, ranges in by_quantity.items():
            problems.extend(f"{quantity}: {problem}" for problem in range_problems(ranges))
    assert problems == []


def condition(lower: tuple[int, str, bool] | None, upper: tuple[int, str, bool] | None) -> QuantityCondition:
    def bound(spec: tuple[int, str, bool] | None) -> Bound | None:
        return None if spec is None else Bound(value=Decimal(spec[0]), unit=spec[1], inclusive=spec[2])

    return QuantityCondition(quantity="illegal_gain", lower=bound(lower), upper=bound(upper))


@pytest.mark.parametrize(("conditions", "expected"), [
    # the shape the rulebooks use: (.., 10万], (10万, ..)
    ([(None, (10, "万元", True)), ((10, "万元", False), None)], []),
    # units are converted before comparing: 10万元 = 100000元
    ([(None, (10, "万元", True)), ((100000, "元", False), None)], []),
    # both claim 10万元: the Chinese-law reading left unsettled
    ([(None, (10, "万元", True)), ((10, "万元", True), None)], ["overlap"]),
    # neither claims 10万元
    ([(None, (10, "万元", False)), ((10, "万元", False), None)], ["gap"]),
    ([(None, (5, "万元", True)), ((6, "万元", True), None)], ["gap"]),
    # a year is 12 months
    ([((6, "month", False), (1, "year", True)), ((12, "month", False), None)], []),
    ([((6, "month", False), (1, "year", True)), ((11, "month", False), None)], ["overlap"]),
    # a range that holds nothing
    ([((5, "万元", True), (5, "万元", False))], ["holds no amount"]),
])
def test_the_range_check_finds_overlaps_and_gaps(conditions: list[tuple], expected: list[str]) -> None:
    ranges = [as_range(f"t{n}", condition(low, high)) for n, (low, high) in enumerate(conditions, start=1)]
    problems = range_problems(ranges)
    assert len(problems) == len(expected)
    for problem, word in zip(problems, expected, strict=True):
        assert word in problem
