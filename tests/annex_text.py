"""An independent reader of the scoring annex, straight from the regulation text.

The tests compare the shipped rulebooks with what this module reads from
``docs/regulation/000_c25b4c134fa0cdc3.txt``, so that a rulebook can never drift
from the regulation unnoticed.  It deliberately shares no code with the
library: a bug in the library's loader must not hide a bug in a rulebook.

The annex tables are tab-indented: each cell is a line starting with a tab,
rows are separated by blank lines, and a row that continues the previous
indicator has empty number and title cells.  One cell (miner row 15) is broken
over two physical lines; a line without a leading tab continues the cell above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REGULATION = Path(__file__).resolve().parent.parent / "docs" / "regulation" / "000_c25b4c134fa0cdc3.txt"


@dataclass
class AnnexTier:
    wording: str
    points: int
    line: int


@dataclass
class AnnexIndicator:
    row: int
    title: str
    line: int
    tiers: list[AnnexTier] = field(default_factory=list)


def regulation_lines() -> list[str]:
    return REGULATION.read_text(encoding="utf-8").splitlines()


def _section_bounds(lines: list[str], heading: str, next_heading: str | None) -> tuple[int, int]:
    start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    end = len(lines)
    if next_heading is not None:
        end = next(i for i, line in enumerate(lines) if line.strip() == next_heading)
    return start + 1, end


def _rows(lines: list[str], start: int, end: int) -> list[tuple[int, list[str]]]:
    """Group the tab-indented cells of lines[start:end] into rows (first line no, cells)."""
    rows: list[tuple[int, list[str]]] = []
    cells: list[str] = []
    first_line = 0
    for index in range(start, end):
        line = lines[index]
        if line.startswith("\t"):
            if not cells:
                first_line = index + 1
            cells.append(line[1:])
        elif line.strip() == "":
            if cells:
                rows.append((first_line, cells))
                cells = []
        elif cells:
            cells[-1] += line  # a cell wrapped onto a second physical line
        # any other text outside a table (headings, notes) ends nothing
    if cells:
        rows.append((first_line, cells))
    return rows


def _deduction_table(heading: str, next_heading: str | None) -> list[AnnexIndicator]:
    lines = regulation_lines()
    start, end = _section_bounds(lines, heading, next_heading)
    indicators: list[AnnexIndicator] = []
    for first_line, cells in _rows(lines, start, end):
        assert len(cells) == 4, (first_line, cells)
        number, title, wording, points = (c.strip() for c in cells)
        if number == "序号":
            continue
        if number:
            indicators.append(AnnexIndicator(row=int(number), title=title, line=first_line))
        else:
            assert title == "", (first_line, cells)
        indicators[-1].tiers.append(AnnexTier(wording=wording, points=int(points), line=first_line + 2))
    return indicators


def miner_indicators() -> list[AnnexIndicator]:
    return _deduction_table("三、矿业权人行业不良信息扣分标准", "四、地矿中介服务机构行业不良信息扣分标准")


def agency_indicators() -> list[AnnexIndicator]:
    return _deduction_table(
        "四、地矿中介服务机构行业不良信息扣分标准",
        "《内蒙古自治区矿业权人和地矿中介服务机构信用监督管理办法》起草说明",
    )


@dataclass
class AnnexHonour:
    name: str
    points: int


def honour_levels() -> list[AnnexHonour]:
    lines = regulation_lines()
    start, end = _section_bounds(lines, "二、行业荣誉信息加分标准", "三、矿业权人行业不良信息扣分标准")
    honours: list[AnnexHonour] = []
    for _, cells in _rows(lines, start, end):
        number, name, _scope, points = (c.strip() for c in cells)
        if number == "序号":
            continue
        honours.append(AnnexHonour(name=name, points=int(points)))
    return honours


def honour_note() -> str:
    return next(line.strip() for line in regulation_lines() if line.startswith("注：行业荣誉加分"))


def grade_bands() -> list[tuple[str, str, str]]:
    """(grade, meaning, range text) for each row of 一、等级标准."""
    lines = regulation_lines()
    start, end = _section_bounds(lines, "一、等级标准", "二、行业荣誉信息加分标准")
    bands: list[tuple[str, str, str]] = []
    for _, cells in _rows(lines, start, end):
        if cells[0].strip() == "信用等级":
            continue
        bands.append((cells[0].strip(), cells[1].strip(), cells[2].strip()))
    return bands


def formula_text() -> str:
    return next(line.strip() for line in regulation_lines() if line.strip().startswith("综合评价分值（N）="))
