"""Units, exact ranges and the reading of 以上/以下 that the quantity checks stand on."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mincredit._units import FixedConversion, IncomparableUnits, UnitSystem, UnknownUnit, conversion_problem
from mincredit.lint._intervals import End, Interval, gaps, number
from mincredit.lint._runner import lint_text
from mincredit.lint._wording import claims

BASE = Path(__file__).resolve().parents[1] / "lint_cases" / "base.yaml"
D = Decimal


# ---------------------------------------------------------------- units


def test_money_converts_exactly() -> None:
    units = UnitSystem()
    assert units.convert(D(10), "万元", "元") == D(100000)
    assert units.convert(D("0.35"), "万元", "元") == D(3500)
    assert units.convert(D(3000), "元", "万元") == D("0.3")


def test_year_is_twelve_months_and_percent_is_a_number() -> None:
    units = UnitSystem()
    assert units.convert(D(1), "year", "month") == D(12)
    assert units.convert(D(18), "month", "year") == D("1.5")
    assert units.convert(D(80), "percent", "percent") == D(80)


def test_month_and_day_do_not_convert_unless_fixed() -> None:
    with pytest.raises(IncomparableUnits, match="not a fixed number of days"):
        UnitSystem().convert(D(1), "month", "day")
    with pytest.raises(IncomparableUnits):
        UnitSystem().convert(D(365), "day", "year")
    assert not UnitSystem().comparable("month", "day")
    fixed = UnitSystem([FixedConversion("month", D(30), "day")])
    assert fixed.convert(D(3), "month", "day") == D(90)
    assert fixed.convert(D(1), "year", "day") == D(360)
    assert fixed.convert(D(45), "day", "month") == D("1.5")


def test_each_rulebook_has_its_own_registry() -> None:
    """Two rulebooks fixing different conversions do not change each other's answers."""
    thirty = UnitSystem([FixedConversion("month", D(30), "day")])
    year = UnitSystem([FixedConversion("year", D(365), "day")])
    plain = UnitSystem()
    assert thirty.convert(D(12), "month", "day") == D(360)
    assert year.convert(D(12), "month", "day") == D(365)
    assert thirty.convert(D(12), "month", "day") == D(360)
    with pytest.raises(IncomparableUnits):
        plain.convert(D(12), "month", "day")


def test_different_things_never_compare() -> None:
    with pytest.raises(IncomparableUnits, match="different things"):
        UnitSystem([FixedConversion("month", D(30), "day")]).convert(D(1), "万元", "day")
    with pytest.raises(UnknownUnit):
        UnitSystem().convert(D(1), "万", "元")


@pytest.mark.parametrize(("conversion", "problem"), [
    (FixedConversion("万元", D(1000), "元"), "already convert exactly"),
    (FixedConversion("year", D(10), "month"), "already convert exactly"),
    (FixedConversion("元", D(1), "day"), "cannot be converted"),
    (FixedConversion("week", D(7), "day"), "not a unit"),
    (FixedConversion("month", D(0), "day"), "positive number"),
])
def test_conversions_a_rulebook_may_not_fix(conversion: FixedConversion, problem: str) -> None:
    assert problem in (conversion_problem(conversion) or "")


def test_month_against_day_is_fine_once_the_rulebook_fixes_it() -> None:
    text = BASE.read_text(encoding="utf-8")
    broken = text.replace("          lower: {value: 3, inclusive: true}\n",
                          "          lower: {value: 90, inclusive: true, unit: day}\n")
    assert [f.code for f in lint_text(broken, "x.yaml").findings] == ["Q003"]
    fixed = broken.replace("unit_conversions: []\n",
                           "unit_conversions:\n  - {unit: month, equals: 30, of: day, reason: 一个月按30日计算}\n")
    assert lint_text(fixed, "x.yaml").findings == []
    # tier 1 may start earlier (80 days), it only must not reach into tier 2 (which starts after 6 months)
    earlier = fixed.replace("{value: 90, inclusive: true, unit: day}", "{value: 80, inclusive: true, unit: day}")
    assert lint_text(earlier, "x.yaml").findings == []
    overlap = fixed.replace("          lower: {value: 6, inclusive: false}\n",
                            "          lower: {value: 150, inclusive: false, unit: day}\n")
    found = lint_text(overlap, "x.yaml").findings
    assert [f.code for f in found] == ["Q001"]
    assert "delay = 6 month" in found[0].message


def test_contradicting_conversions_are_q009() -> None:
    text = BASE.read_text(encoding="utf-8").replace(
        "unit_conversions: []\n",
        "unit_conversions:\n  - {unit: month, equals: 30, of: day, reason: a}\n"
        "  - {unit: year, equals: 365, of: day, reason: b}\n")
    found = lint_text(text, "x.yaml").findings
    assert [(f.code, f.line) for f in found] == [("Q009", 101)]
    assert "contradict" in found[0].message


# ---------------------------------------------------------------- intervals


def closed(low: int | None, high: int | None, *, low_in: bool = True, high_in: bool = True) -> Interval:
    return Interval(None if low is None else End(D(low), low_in), None if high is None else End(D(high), high_in))


def test_grade_bands_of_the_annex_partition_the_line() -> None:
    bands = [closed(900, None, low_in=False), closed(800, 900, low_in=False), closed(700, 800, low_in=False),
             closed(600, 700, low_in=False), closed(None, 600)]
    assert gaps(bands, whole_line=True) == []


def test_gap_and_its_witness() -> None:
    [gap] = gaps([closed(None, 10, high_in=False), closed(10, None, low_in=False)], whole_line=True)
    assert gap.interval.witness() == D(10)
    assert (gap.after, gap.before) == (0, 1)
    [inner] = gaps([closed(0, 10), closed(20, 30)], whole_line=False)
    assert inner.interval.contains(inner.interval.witness())
    assert not closed(0, 10).contains(inner.interval.witness())


def test_quantity_ranges_ignore_the_outside() -> None:
    assert gaps([closed(3, 6), closed(6, 12, low_in=False)], whole_line=False) == []


def test_describe_and_number() -> None:
    assert closed(800, 900, low_in=False).describe("N") == "800 < N ≤ 900"
    assert closed(10, 10).describe("x", "万元") == "x = 10 万元"
    assert Interval().describe() == "any x"
    assert number(D("1E+5")) == "100000" and number(D("0.20")) == "0.2"
    assert number(D("1E+999999")) == "1E+999999"  # never a million digits


ends = st.one_of(st.none(), st.tuples(st.integers(-5, 5), st.booleans()))


def _interval(low: tuple[int, bool] | None, high: tuple[int, bool] | None) -> Interval:
    return Interval(None if low is None else End(D(low[0]), low[1]), None if high is None else End(D(high[0]), high[1]))


@given(st.lists(st.tuples(ends, ends), max_size=5), st.booleans())
def test_gaps_agree_with_probing(raw: list[tuple[object, object]], whole_line: bool) -> None:
    """Every half-integer probe between -7 and 7 is in a gap exactly when no interval holds it (within the span)."""
    intervals = [_interval(low, high) for low, high in raw]  # type: ignore[arg-type]
    found = gaps(intervals, whole_line=whole_line)
    non_empty = [i for i in intervals if not i.is_empty()]
    for twice in range(-14, 15):
        probe = D(twice) / 2
        held = any(i.contains(probe) for i in non_empty)
        in_gap = any(g.interval.contains(probe) for g in found)
        if whole_line:
            assert held != in_gap, (probe, intervals, found)
        else:
            assert not (held and in_gap)
            below = any(i.lower is None or i.lower.value < probe for i in non_empty)
            above = any(i.upper is None or i.upper.value > probe for i in non_empty)
            if below and above and not held:
                assert in_gap, (probe, intervals, found)
    for gap in found:
        assert not gap.interval.is_empty()
        assert not any(i.contains(gap.interval.witness()) for i in non_empty)


@given(ends, ends, ends, ends)
def test_intersection_and_cover_agree_with_probing(a1: object, a2: object, b1: object, b2: object) -> None:
    first, second = _interval(a1, a2), _interval(b1, b2)  # type: ignore[arg-type]
    common = first.intersection(second)
    probes = [D(twice) / 2 for twice in range(-14, 15)]
    for probe in probes:
        assert common.contains(probe) == (first.contains(probe) and second.contains(probe))
    if not common.is_empty():
        witness = common.witness()
        assert first.contains(witness) and second.contains(witness)
    if first.covers(second):
        assert all(first.contains(p) for p in probes if second.contains(p))


# ---------------------------------------------------------------- wording


def test_chinese_law_reading_of_boundaries() -> None:
    [upper] = claims("未取得采矿许可证擅自采矿，违法所得在10万元以下的。")
    assert (upper.side, upper.value, upper.unit, upper.inclusive) == ("upper", D(10), "万元", True)
    low, high = claims("无故逾期3个月以上6个月以内。")
    assert (low.side, low.value, low.unit, low.inclusive) == ("lower", D(3), "month", True)
    assert (high.side, high.value, high.unit, high.inclusive) == ("upper", D(6), "month", True)
    assert [(c.side, c.value, c.unit) for c in claims("被处3000元以上3万元以下罚款的。")] == [
        ("lower", D(3000), "元"), ("upper", D(3), "万元")]
    [over] = claims("违法所得超过5万元的")
    assert (over.side, over.inclusive) == ("lower", False)
    [under] = claims("完成投入不足80%的")
    assert (under.side, under.unit, under.inclusive) == ("upper", "percent", False)
    assert claims("经责令60日改正，逾期不改正的。") == []
    assert claims("省级及以上人民政府") == []
