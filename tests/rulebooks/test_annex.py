"""The shipped rulebooks say exactly what the regulation text says.

Expectations come from tests/annex_text.py, which reads the regulation file in
docs/regulation/ on its own, never from a copy of the YAML.
"""

from __future__ import annotations

from decimal import Decimal

import annex_text
import pytest

from mincredit.rules._registry import load_rulebook_source
from mincredit.rules._schema import Rulebook


def _rulebook(name: str) -> Rulebook:
    return load_rulebook_source(name).rulebook


CASES = [
    ("miner", "M", annex_text.miner_indicators, 57),
    ("agency", "A", annex_text.agency_indicators, 41),
]


@pytest.mark.parametrize(("name", "prefix", "read_annex", "count"), CASES)
def test_every_indicator_and_tier_matches_the_annex(name, prefix, read_annex, count):
    rulebook = _rulebook(name)
    annex = read_annex()
    assert len(annex) == count
    assert [i.code for i in rulebook.indicators] == [f"{prefix}{row:02d}" for row in range(1, count + 1)]
    for indicator, row in zip(rulebook.indicators, annex, strict=True):
        assert indicator.row == row.row
        assert indicator.title == row.title, indicator.code
        assert [t.tier for t in indicator.tiers] == list(range(1, len(row.tiers) + 1)), indicator.code
        assert [t.points for t in indicator.tiers] == [Decimal(t.points) for t in row.tiers], indicator.code
        assert [t.wording for t in indicator.tiers] == [t.wording for t in row.tiers], indicator.code
        assert indicator.line == row.line, indicator.code
        assert [t.line for t in indicator.tiers] == [t.line for t in row.tiers], indicator.code


def test_tier_totals():
    assert sum(len(i.tiers) for i in annex_text.miner_indicators()) == 153
    assert sum(len(i.tiers) for i in annex_text.agency_indicators()) == 107


@pytest.mark.parametrize("name", ["miner", "agency"])
def test_cited_lines_hold_the_cited_wording(name):
    lines = annex_text.regulation_lines()
    for indicator in _rulebook(name).indicators:
        assert indicator.line is not None
        # the cited line holds the row number, the title follows on the next line
        assert lines[indicator.line - 1].strip() == str(indicator.row)
        assert lines[indicator.line].strip() == indicator.title
        for tier in indicator.tiers:
            assert tier.line is not None
            # a wrapped cell (miner row 15) starts on the cited line and continues on the next
            assert tier.wording.startswith(lines[tier.line - 1].strip()), (indicator.code, tier.tier)


@pytest.mark.parametrize("name", ["miner", "agency"])
def test_honours_bands_and_formula_match_the_annex(name):
    rulebook = _rulebook(name)
    honours = annex_text.honour_levels()
    assert [(h.name, h.points) for h in rulebook.honours.levels] == [(h.name, Decimal(h.points)) for h in honours]
    assert [h.level for h in rulebook.honours.levels] == [
        "provincial_government", "city_government", "ministry", "provincial_department"]
    assert rulebook.honours.cap == 100
    assert rulebook.honours.note == annex_text.honour_note()
    assert "不超过100分" in rulebook.honours.note
    assert [(b.grade, b.meaning, b.annex) for b in rulebook.grades] == annex_text.grade_bands()
    assert rulebook.formula.annex == annex_text.formula_text()
    assert (rulebook.formula.public_weight, rulebook.formula.industry_weight, rulebook.formula.base) == (
        Decimal("0.2"), Decimal("0.8"), Decimal(1000))
    assert "×20%" in rulebook.formula.annex and "×80%" in rulebook.formula.annex


@pytest.mark.parametrize("name", ["miner", "agency"])
def test_identity_and_retention_follow_the_articles(name):
    rulebook = _rulebook(name)
    identity = rulebook.rulebook
    text = "\n".join(annex_text.regulation_lines())
    assert identity.id == name and identity.subject_kind == name
    assert identity.status == "draft" and identity.status_wording == "征求意见稿"
    assert "（征求意见稿）" in text.splitlines()[2]
    assert str(identity.effective.start) == "2020-12-01"
    assert str(identity.effective.end) == "2025-11-30"
    assert "本办法自2020年12月1日起施行，有效期五年" in text
    assert rulebook.retention.violation.years == 5
    assert rulebook.retention.violation.wording in text
    assert rulebook.retention.honour_default.years == 1
    assert rulebook.retention.honour_default.wording in text


def test_grade_band_edges_are_the_annex_numbers():
    rulebook = _rulebook("miner")
    edges = {b.grade: (b.lower, b.upper) for b in rulebook.grades}
    lower_a, upper_a = edges["A"]
    assert lower_a is not None and lower_a.value == 900 and not lower_a.inclusive and upper_a is None
    lower_e, upper_e = edges["E"]
    assert lower_e is None and upper_e is not None and upper_e.value == 600 and upper_e.inclusive
