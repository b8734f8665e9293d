"""Lint T001–T003: every wording and title of a rulebook stands verbatim at its line of the regulation text.

The expectations are read from the regulation file by tests/annex_text.py, which shares no code with lint.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import annex_text
import pytest

from mincredit.lint import _regulation
from mincredit.lint._checks import Parts
from mincredit.lint._regulation import RegulationText, citations, find_regulation, shipped_regulation_dir
from mincredit.lint._runner import lint_text

ROOT = Path(__file__).resolve().parents[2]
MINER = ROOT / "rulebooks" / "miner.yaml"
NAME = "docs/regulation/000_c25b4c134fa0cdc3.txt"
M01_TITLE = "未按规定办理采矿许可证或勘查许可证登记手续"          # line 182, after the row number 1 on line 181
M01_TIER1 = "未按规定办理采矿或勘查许可证变更或注销手续的。"      # line 183
TIER1_AT = f"        wording: {M01_TIER1}\n        line: 183\n"


def lint(text: str, location: Path = MINER) -> list[tuple[str, str]]:
    result = lint_text(text, str(location), location=location)
    return [(f.code, f.message) for f in result.findings]


def miner_text() -> str:
    return MINER.read_text(encoding="utf-8")


def replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# ---------------------------------------------------------------- the shipped rulebooks


@pytest.mark.parametrize("name", ["miner", "agency"])
def test_every_quoted_block_of_the_shipped_rulebooks_is_checked_and_stands(name: str) -> None:
    path = ROOT / "rulebooks" / f"{name}.yaml"
    result = lint_text(path.read_text(encoding="utf-8"), str(path), location=path)
    assert result.findings == [] and result.rulebook is not None
    checked = Counter(str(citation.path[0]) for citation in citations(Parts.of(result.rulebook)))
    rulebook = result.rulebook
    assert checked["indicators"] == len(rulebook.indicators) + sum(len(i.tiers) for i in rulebook.indicators)
    for block in ("blacklist", "repair", "removal", "objections", "consequences", "derived", "dissolved",
                  "publication"):
        assert checked[block] > 0, block
    assert checked["consequences"] == len(rulebook.consequences)


def test_the_shipped_copy_is_the_checkouts_regulation() -> None:
    assert (shipped_regulation_dir() / Path(NAME).name).read_bytes() == (ROOT / NAME).read_bytes()


def test_reading_agrees_with_the_independent_annex_reader() -> None:
    text = _regulation.read_regulation(ROOT / NAME)
    assert isinstance(text, RegulationText)
    assert len(text) == len(annex_text.regulation_lines())
    for indicator in annex_text.miner_indicators() + annex_text.agency_indicators():
        assert text.row(indicator.line)[:2] == [str(indicator.row), indicator.title]
        for tier in indicator.tiers:
            assert text.at(tier.line) == tier.wording and tier.line in text.cells


# ---------------------------------------------------------------- what lint finds


def test_a_replaced_tier_wording_is_t001_quoting_the_cell_at_its_line() -> None:
    text = replaced(miner_text(), f"        wording: {M01_TIER1}\n",
                    "        wording: 未按规定办理采矿许可证变更手续的。\n")
    ((code, message),) = lint(text)
    assert code == "T001"
    assert message == (f"M01 tier 1: its wording '未按规定办理采矿许可证变更手续的。' is not the regulation's text at "
                       f"line 183 of {NAME}: the cell there reads '{M01_TIER1}'; it stands nowhere in that file")


def test_a_wording_at_the_wrong_line_says_where_it_stands() -> None:
    text = replaced(miner_text(), TIER1_AT, TIER1_AT.replace("183", "184"))
    ((code, message),) = lint(text)
    assert code == "T001" and message.endswith("the cell there reads '300'; it stands at line 183")


def test_a_line_beyond_the_file_is_t002() -> None:
    total = len(annex_text.regulation_lines())
    text = replaced(miner_text(), TIER1_AT, TIER1_AT.replace("183", "99999"))
    assert lint(text) == [("T002", f"M01 tier 1: line 99999 is beyond the end of {NAME}, which has {total} lines")]
    ranged = replaced(miner_text(), '    lines: "119"\n', '    lines: "119-2000"\n')
    assert lint(ranged) == [("T002", f"formula.source.lines: line 2000 is beyond the end of {NAME}, which has "
                                     f"{total} lines")]


def test_a_wrapped_cell_is_one_wording_and_its_first_line_alone_is_not() -> None:
    text = miner_text()
    assert "wording: 经责令限期内改正，并完成投入占最低勘查投入的50%的。" in text       # I06: lines 403–404, joined
    cut = replaced(text, "wording: 经责令限期内改正，并完成投入占最低勘查投入的50%的。",
                   "wording: 经责令限期内改正，并完成投入占最低勘查投入的")
    ((code, message),) = lint(cut)
    assert code == "T001" and "M15 tier 2" in message
    assert "the cell there reads '经责令限期内改正，并完成投入占最低勘查投入的50%的。'" in message


def test_an_article_rule_stands_inside_its_line_of_prose() -> None:
    text = miner_text()
    shortened = replaced(text, "  wording: 矿业权人、地矿中介服务机构的主体资格灭失的，不参与信用评价。\n",
                         "  wording: 主体资格灭失的，不参与信用评价。\n")
    assert lint(shortened) == []              # a part of the article's sentence is still its text
    invented = replaced(text, "  wording: 矿业权人、地矿中介服务机构的主体资格灭失的，不参与信用评价。\n",
                        "  wording: 主体资格灭失的，不参与信用评价和公示。\n")
    ((code, message),) = lint(invented)
    assert code == "T001"
    assert message.startswith("dissolved: its wording '主体资格灭失的，不参与信用评价和公示。' is not the "
                              "regulation's text at line 52")
    assert "the line there reads '第十五条" in message


def test_later_passages_stand_in_order_after_the_first() -> None:
    text = miner_text()
    passages = ("（一）不良信息自认定之日起满1年； | "
                "（二）撤销行政许可等授益性决定、行政处罚决定和司法裁判等明确的法定责任和义务履行完毕，"
                "社会不良影响基本消除； | "
                "（三）自不良信息认定之日起至申请信用修复期间未产生新的记入信用档案的同类不良信息。")
    assert f'wording: "{passages}"' in text
    first, second, third = passages.split(" | ")
    swapped = replaced(text, f'wording: "{passages}"', f'wording: "{first} | {third} | {second}"')
    ((code, message),) = lint(swapped)
    assert code == "T001" and message.startswith("repair.application: the passage '（二）")
    assert message.endswith("at or after line 90, where the passage before it stands (it stands at line 89, before)")
    assert lint(replaced(text, f'wording: "{passages}"', f'wording: "{first} | {second}"')) == []


def test_an_indicators_line_is_its_row_number_then_its_title() -> None:
    text = miner_text()
    moved = replaced(text, f"    title: {M01_TITLE}\n    line: 181\n", f"    title: {M01_TITLE}\n    line: 182\n")
    ((code, message),) = lint(moved)
    assert code == "T001" and message == (
        f"M01: its title '{M01_TITLE}' is not the annex row 1 at line 182 of {NAME}: the row there starts "
        f"'{M01_TITLE}', then '{M01_TIER1}'; the title stands at line 182")
    retitled = replaced(text, f"    title: {M01_TITLE}\n", "    title: 未按规定办理采矿许可证登记手续\n")
    ((code, message),) = lint(retitled)
    assert code == "T001" and f"its title cell reads '{M01_TITLE}'" in message


# ---------------------------------------------------------------- which text


def test_the_text_is_found_beside_the_rulebook_above_it_or_shipped(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # a checkout elsewhere: rulebooks/ beside docs/regulation/
    checkout = tmp_path / "checkout"
    (checkout / "rulebooks").mkdir(parents=True)
    (checkout / NAME).parent.mkdir(parents=True)
    (checkout / NAME).write_bytes((ROOT / NAME).read_bytes())
    rulebook = checkout / "rulebooks" / "miner.yaml"
    assert find_regulation(NAME, rulebook) == checkout / NAME
    # beside the rulebook, that copy comes first: a rulebook revised with its own text is checked against it
    (checkout / "rulebooks" / NAME).parent.mkdir(parents=True)
    revised = (ROOT / NAME).read_text(encoding="utf-8").replace("\t未按规定办理采矿或勘查许可证变更或注销手续的。\n",
                                                              "\t未按规定办理采矿或勘查许可证变更、延续或注销手续的。\n")
    (checkout / "rulebooks" / NAME).write_text(revised, encoding="utf-8")
    assert find_regulation(NAME, rulebook) == checkout / "rulebooks" / NAME
    ((code, message),) = lint(miner_text(), rulebook)
    assert code == "T001" and "the cell there reads '未按规定办理采矿或勘查许可证变更、延续或注销手续的。'" in message
    # outside any checkout: the copy shipped with mincredit
    alone = tmp_path / "alone" / "miner.yaml"
    alone.parent.mkdir()
    assert find_regulation(NAME, alone) == shipped_regulation_dir() / Path(NAME).name
    assert lint(miner_text(), alone) == []
    # nowhere at all
    monkeypatch.setattr(_regulation, "shipped_regulation_dir", lambda: tmp_path / "none")
    assert lint(miner_text(), alone) == [("T003", f"rulebook.source.file names {NAME}, which is neither beside the "
                                                  "rulebook, in a folder above it, nor shipped with mincredit: its "
                                                  "wordings cannot be checked against the text")]


def test_the_installed_package_carries_its_own_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a wheel lays it out (pyproject.toml: docs/regulation → mincredit/shipped_regulation)."""
    package = tmp_path / "mincredit"
    shutil.copytree(ROOT / "docs" / "regulation", package / "shipped_regulation")
    monkeypatch.setattr(_regulation.resources, "files", lambda name: package)
    assert shipped_regulation_dir() == package / "shipped_regulation"


def test_no_file_named_or_a_file_that_is_not_text_is_t003(tmp_path: Path) -> None:
    text = miner_text()
    unnamed = replaced(text, f"    file: {NAME}\n", "")
    assert lint(unnamed) == [("T003", "the rulebook cites lines of the regulation (M01 at line 181, …) but "
                                      "rulebook.source.file names no file: its wordings cannot be checked against "
                                      "the text")]
    rulebook = tmp_path / "miner.yaml"
    (tmp_path / "gbk.txt").write_bytes("不良信息".encode("gbk"))
    ((code, message),) = lint(replaced(text, f"    file: {NAME}\n", "    file: gbk.txt\n"), rulebook)
    assert code == "T003" and message.endswith("cannot be checked against: it is not UTF-8 text (byte 0)")


def test_a_rulebook_without_lines_is_not_checked() -> None:
    base = ROOT / "tests" / "lint_cases" / "base.yaml"
    text = base.read_text(encoding="utf-8").replace("    line: 72\n", "").replace("    line: 77\n", "")
    assert lint(replaced(text, f"    file: {NAME}", "    file: nowhere.txt"), base) == []
