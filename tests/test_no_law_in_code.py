"""No regulation number, label, article or period is written in Python: they are the rulebooks' data.

A revision of the regulation must be a YAML edit on every path. So the source (docstrings and comments included:
a citation in a docstring is how a number creeps back into code) names no article, no State Council document, no
period in words, no grade letter, honour level or subject kind of the shipped rulebooks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "mincredit"

FORBIDDEN = {
    "an article number": r"\barts?\.? ?[0-9]+|第[一二三四五六七八九十百零〇]+条|¶ ?[0-9]",
    "a State Council or regional document number": r"[0-9]+号|〔[0-9]{4}〕",
    "a period in words": r"\b(one|two|three|four|five|ten)[ -](years?|months?)\b|[0-9]+[ -]working[ -]days?\b",
    "a grade letter of the shipped rulebooks": r"[\"'][ABCDE][\"']|grades?[ :]+[ABCDE]\b",
    "an honour level of the shipped rulebooks": r"provincial_government|city_government|provincial_department",
    "a subject kind of the shipped rulebooks": r"[\"'](miner|agency)[\"']",
    "the public score's range": r"\b0 and 1000\b|1000 \* 10|<= ?1000\b",
}


def sources() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


@pytest.mark.parametrize("what", list(FORBIDDEN))
def test_no_regulation_data_in_python(what: str) -> None:
    pattern = re.compile(FORBIDDEN[what])
    found = [f"{path.relative_to(SOURCE)}:{number}: {line.strip()}"
             for path in sources() for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, f"{what} in the source:\n" + "\n".join(found)


def test_the_patterns_find_what_they_are_for() -> None:
    """The grep itself: each pattern finds the kind of text it forbids (so a passing test means something)."""
    samples = {"an article number": "(art. 11)", "a State Council or regional document number": "国发〔2016〕33号",
               "a period in words": "five years", "a grade letter of the shipped rulebooks": 'grade == "E"',
               "an honour level of the shipped rulebooks": "ministry or provincial_department",
               "a subject kind of the shipped rulebooks": 'kind == "miner"',
               "the public score's range": "must be between 0 and 1000"}
    for what, sample in samples.items():
        assert re.search(FORBIDDEN[what], sample), what
