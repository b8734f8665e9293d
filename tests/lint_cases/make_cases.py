"""Write the broken rulebooks of tests/lint_cases/ from base.yaml: each breaks exactly one thing.

Run ``python tests/lint_cases/make_cases.py`` after changing base.yaml or the
table below; tests/test_lint_cases.py fails while the files on disk differ from
what this script writes.  A case file is named ``<CODE>-<what is broken>.yaml``
and lint must report that code and no other for it; ``at`` is the text the
finding must point at (its line and column are where that text starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "base.yaml"


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    old: str
    new: str
    at: str | None = None
    """The text the (first) finding points at; None when the position is checked otherwise."""
    encoding: str = "utf-8"
    """The new text is written in this encoding (the rest of the file stays UTF-8)."""

    @property
    def code(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def file(self) -> Path:
        return HERE / f"{self.name}.yaml"


DOC = "内蒙古自治区矿业权人和地矿中介服务机构信用监督管理办法（征求意见稿）"
FORMULA_SOURCE = f"  source:\n    document: {DOC}\n    article: 第十三条\n"

M01 = """  - code: M01
    row: 1
    title: 未按规定办理采矿许可证或勘查许可证登记手续
    tiers:
      - tier: 1
        points: 300
        wording: 未按规定办理采矿或勘查许可证变更或注销手续的。
      - tier: 2
        points: 400
        wording: 采矿或勘查许可证被吊销的。
"""

BOMB = """lol1: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
lol2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
lol3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
lol4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
lol5: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
"""

CASES = [
    Case("Y001-unclosed-bracket", "a flow mapping that is never closed",
         "lower: {value: 900, inclusive: false}\n  - grade: B", "lower: {value: 900, inclusive: false\n  - grade: B",
         at=": B\n    meaning: 信用良好"),
    Case("Y001-two-documents", "a second YAML document in the same file",
         "quantities:\n", "---\nquantities:\n", at="---"),
    Case("Y001-nested-too-deep", "lists nested 70 levels deep, refused before the parser could recurse into them",
         "unit_conversions: []\n", "unit_conversions: " + "[" * 70 + "]" * 70 + "\n", at="[" * 7 + "]"),
    Case("Y002-duplicate-key", "a tier with points twice",
         "        points: 400\n        wording: 采矿或勘查许可证被吊销的。\n",
         "        points: 400\n        wording: 采矿或勘查许可证被吊销的。\n        points: 200\n",
         at="points: 200\n  - code: M02"),
    Case("Y003-tab-indent", "a tab in the indentation",
         "  cap: 100\n", "\tcap: 100\n", at="\tcap: 100"),
    Case("Y004-python-tag", "a tag that would run a command",
         "  base: 1000\n", "  base: !!python/object/apply:os.system [\"echo hacked\"]\n", at="!!python"),
    Case("Y004-merge-key", "a merge key",
         FORMULA_SOURCE, f"  source:\n    <<: {{document: {DOC}}}\n    article: 第十三条\n", at="<<"),
    Case("Y005-alias", "an anchored value repeated by an alias",
         "        points: 300\n        wording: 未按规定办理采矿或勘查许可证变更或注销手续的。\n      - tier: 2\n"
         "        points: 400\n",
         "        points: &same 300\n        wording: 未按规定办理采矿或勘查许可证变更或注销手续的。\n      - tier: 2\n"
         "        points: *same\n", at="*same"),
    Case("Y005-alias-bomb", "a billion-laughs alias bomb, which must be refused without being expanded",
         "quantities:\n", BOMB + "quantities:\n", at="*a, *a, *a, *a, *a, *a, *a, *a, *a]\nlol3"),
    Case("Y007-gbk-wording", "one wording saved in GBK instead of UTF-8",
         "违法所得在10万元以下的。", "违法所得在10万元以下的。", at="违法所得在10万元以下的。", encoding="gbk"),
    Case("S001-points-text", "points written in words",
         "        points: 400\n        wording: 采矿", "        points: 四百\n        wording: 采矿", at="四百"),
    Case("S001-list-for-mapping", "a list where the formula's source mapping belongs",
         FORMULA_SOURCE, f"  source: [{DOC}, 第十三条]\n",
         at="[内蒙古"),
    Case("S002-missing-title", "an indicator without its title",
         "    title: 未按规定汇交地质资料\n", "", at="code: M04"),
    Case("S003-misspelt-until", "until misspelt",
         "    until: 2025-11-30\n", "    untill: 2025-11-30\n", at="untill"),
    Case("S004-negative-points", "a negative deduction",
         "        points: 400\n        wording: 采矿", "        points: -400\n        wording: 采矿", at="-400"),
    Case("S004-zero-honour", "an honour worth nothing",
         "      points: 50\n  source:", "      points: 0\n  source:",
         at=f"0\n  source:\n    document: {DOC}\n    article: 第九条"),
    Case("S005-no-tiers", "an indicator with an empty tier list",
         M01, M01.split("    tiers:")[0] + "    tiers: []\n", at="[]\n  - code: M02"),
    Case("S006-missing-wording", "a tier without its wording",
         "        points: 400\n        wording: 采矿或勘查许可证被吊销的。\n", "        points: 400\n",
         at="tier: 2\n        points: 400\n  - code: M02"),
    Case("S006-empty-wording", "a tier with an empty wording",
         "        wording: 采矿或勘查许可证被吊销的。\n", "        wording: \"\"\n", at="\"\""),
    Case("I001-blank-version", "a version of spaces",
         "  version: \"1\"\n", "  version: \"  \"\n", at="\"  \""),
    Case("I001-missing-version", "no version",
         "  version: \"1\"\n", "", at="id: lint-fixture"),
    Case("I002-missing-source", "no provenance",
         f"  source:\n    document: {DOC}\n    article: 附件《信用评价标准》\n"
         "    file: docs/regulation/000_c25b4c134fa0cdc3.txt   # found in the checkout, two folders up, or the "
         "shipped copy\n",
         "", at="id: lint-fixture"),
    Case("I002-blank-article", "a provenance without its article",
         "    article: 附件《信用评价标准》\n", "    article: \" \"\n", at="\" \""),
    Case("I003-ends-before-start", "an effective period that ends before it starts",
         "    until: 2025-11-30\n", "    until: 2015-11-30\n", at="2015-11-30"),
    Case("F001-weights", "weights that add up to 1.1",
         "  industry_weight: 0.8\n", "  industry_weight: 0.9\n", at="0.2"),
    Case("F002-public-range-empty", "a public score range from 1000 down to 0",
         "  public_score: {lower: 0, upper: 1000}\n", "  public_score: {lower: 1000, upper: 0}\n",
         at="{lower: 1000"),
    Case("G001-gap-at-900", "B excludes 900 as A does: exactly 900 gets no grade",
         "    annex: \"800＜N≤900\"\n    lower: {value: 800, inclusive: false}\n"
         "    upper: {value: 900, inclusive: true}\n",
         "    annex: \"800＜N＜900\"\n    lower: {value: 800, inclusive: false}\n"
         "    upper: {value: 900, inclusive: false}\n",
         at="grade: A"),
    Case("G001-no-lowest-band", "E starts at 500, so scores below it get no grade",
         "    annex: \"N≤600\"\n    upper: {value: 600, inclusive: true}\n",
         "    annex: \"500≤N≤600\"\n    lower: {value: 500, inclusive: true}\n"
         "    upper: {value: 600, inclusive: true}\n",
         at="grade: E"),
    Case("G002-overlap-at-900", "A includes 900 as B does: exactly 900 gets two grades",
         "    annex: \"N＞900\"\n    lower: {value: 900, inclusive: false}\n",
         "    annex: \"N≥900\"\n    lower: {value: 900, inclusive: true}\n", at="grade: B"),
    Case("G003-bands-out-of-order", "B's band listed before A's, though A holds the higher scores",
         "  - grade: A\n    meaning: 信用优秀\n    annex: \"N＞900\"\n    lower: {value: 900, inclusive: false}\n"
         "  - grade: B\n    meaning: 信用良好\n    annex: \"800＜N≤900\"\n    lower: {value: 800, inclusive: false}\n"
         "    upper: {value: 900, inclusive: true}\n",
         "  - grade: B\n    meaning: 信用良好\n    annex: \"800＜N≤900\"\n    lower: {value: 800, inclusive: false}\n"
         "    upper: {value: 900, inclusive: true}\n"
         "  - grade: A\n    meaning: 信用优秀\n    annex: \"N＞900\"\n    lower: {value: 900, inclusive: false}\n",
         at="A\n    meaning: 信用优秀"),
    Case("G008-consequence-for-no-grade", "a measure for grade F, which no band has",
         "    when: {grades: [A]}\n", "    when: {grades: [F]}\n", at="F]"),
    Case("G009-one-grade", "every band but A removed, A covering every score",
         "    annex: \"N＞900\"\n    lower: {value: 900, inclusive: false}\n  - grade: B\n    meaning: 信用良好\n"
         "    annex: \"800＜N≤900\"\n    lower: {value: 800, inclusive: false}\n"
         "    upper: {value: 900, inclusive: true}\n"
         "  - grade: C\n    meaning: 信用中等\n    annex: \"700＜N≤800\"\n    lower: {value: 700, inclusive: false}\n"
         "    upper: {value: 800, inclusive: true}\n  - grade: D\n    meaning: 信用较差\n    annex: \"600＜N≤700\"\n"
         "    lower: {value: 600, inclusive: false}\n    upper: {value: 700, inclusive: true}\n  - grade: E\n"
         "    meaning: 信用差\n    annex: \"N≤600\"\n    upper: {value: 600, inclusive: true}\n",
         "    annex: \"全部\"\n", at="- grade: A"),
    Case("G005-letter-twice", "two bands for grade B",
         "  - grade: C\n", "  - grade: B\n", at="B\n    meaning: 信用中等"),
    Case("G006-empty-band", "D holds no score (700 < N ≤ 700); E holds N ≤ 700",
         "    annex: \"600＜N≤700\"\n    lower: {value: 600, inclusive: false}\n"
         "    upper: {value: 700, inclusive: true}\n  - grade: E\n    meaning: 信用差\n    annex: \"N≤600\"\n"
         "    upper: {value: 600, inclusive: true}\n",
         "    annex: \"600＜N≤700\"\n    lower: {value: 700, inclusive: false}\n"
         "    upper: {value: 700, inclusive: true}\n  - grade: E\n    meaning: 信用差\n    annex: \"N≤700\"\n"
         "    upper: {value: 700, inclusive: true}\n", at="grade: D"),
    Case("G007-annex-text", "B's annex text says 800≤N≤900 but its bound excludes 800",
         "    annex: \"800＜N≤900\"\n", "    annex: \"800≤N≤900\"\n", at="grade: B"),
    Case("H002-no-cap", "no cap", "  cap: 100\n", "", at="note: 注"),
    Case("H003-cap-below-bonus", "a cap of 50 under a 100-point honour",
         "  cap: 100\n", "  cap: 50\n", at="50\n  note"),
    Case("H004-level-twice", "ministry twice",
         "    - level: provincial_department\n", "    - level: ministry\n", at="ministry\n      row: 4"),
    Case("R001-indicator-twice", "M01 defined a second time",
         "\nconsequences:\n", M01.replace("M01\n", "M01  # again\n", 1) + "\nconsequences:\n",
         at="M01  # again"),
    Case("R002-tier-twice", "M01 has tier 1 twice",
         "      - tier: 2\n        points: 400\n", "      - tier: 1\n        points: 400\n",
         at="1\n        points: 400"),
    Case("R003-tier-skipped", "M01 jumps from tier 1 to tier 3",
         "      - tier: 2\n        points: 400\n", "      - tier: 3\n        points: 400\n",
         at="3\n        points: 400"),
    Case("R004-agency-code", "an agency code in a miner rulebook",
         "  - code: M01\n", "  - code: A01\n", at="A01"),
    Case("R010-consequence-for-another-kind", "a measure limited to agencies in a miner rulebook",
         "    when: {listed: true}\n", "    when: {listed: true, subject_kinds: [agency]}\n", at="[agency]"),
    Case("R011-count-bands-overlap", "offence number 2 of M04 in the bands of tier 1 and tier 2",
         "        - {tier: 1, lower: 1, upper: 1}\n", "        - {tier: 1, lower: 1, upper: 2}\n",
         at="{tier: 2, lower: 2}"),
    Case("R005-unknown-tier", "an interpretation naming a tier that does not exist",
         "\"retention.violation\"", "\"M02.5\"", at="\"M02.5\""),
    Case("R005-unknown-block", "an interpretation naming a block path that does not exist",
         "\"honours.ministry\"", "\"honours.county\"", at="\"honours.county\""),
    Case("R006-unknown-quantity", "a condition on a quantity nobody defined",
         "          quantity: illegal_gain\n          upper: {value: 10, inclusive: true}\n",
         "          quantity: ilegal_gain\n          upper: {value: 10, inclusive: true}\n", at="ilegal_gain"),
    Case("R007-interpretation-twice", "two interpretations I02",
         "  - id: I01\n", "  - id: I02\n", at="I02\n    applies_to: [\"M02.3\""),
    Case("R008-row-mismatch", "M04 said to be row 5",
         "    row: 4\n    title: 未按规定汇交", "    row: 5\n    title: 未按规定汇交",
         at="5\n    title: 未按规定汇交地质资料"),
    Case("R009-same-wording", "M01's two tiers worded the same",
         "        wording: 采矿或勘查许可证被吊销的。\n",
         "        wording: 未按规定办理采矿或勘查许可证变更或注销手续的。\n",
         at="未按规定办理采矿或勘查许可证变更或注销手续的。\n  - code: M02"),
    Case("Q001-overlap-at-10", "tier 3 includes 10万元 as tier 2 does",
         "          lower: {value: 10, inclusive: false}\n", "          lower: {value: 10, inclusive: true}\n",
         at="quantity: illegal_gain\n          lower: {value: 10, inclusive: true}"),
    Case("Q001-overlap-across-units", "tier 4 starts at 300000 元 inclusive, which is tier 3's 30 万元",
         "          lower: {value: 300000, inclusive: false, unit: 元}\n",
         "          lower: {value: 300000, inclusive: true, unit: 元}\n",
         at="quantity: illegal_gain\n          lower: {value: 300000"),
    Case("Q002-gap", "tier 4 starts at 40万元: nothing claims 30万元 < x ≤ 40万元",
         "          lower: {value: 300000, inclusive: false, unit: 元}\n",
         "          lower: {value: 400000, inclusive: false, unit: 元}\n",
         at="quantity: illegal_gain\n          lower: {value: 400000"),
    Case("Q003-month-against-day", "a day bound on a quantity counted in months, with no fixed conversion",
         "          lower: {value: 3, inclusive: true}\n", "          lower: {value: 90, inclusive: true, unit: day}\n",
         at="day}\n          upper: {value: 6"),
    Case("Q003-money-against-days", "a money bound on a quantity counted in days",
         "          upper: {value: 60, inclusive: true, unit: day}\n",
         "          upper: {value: 60, inclusive: true, unit: 万元}\n",
         at="万元}\n      - tier: 2\n        points: 200\n"),
    Case("Q004-unknown-quantity-unit", "a quantity in 万 (not a unit)",
         "  illegal_gain: {name: 违法所得, unit: 万元}\n", "  illegal_gain: {name: 违法所得, unit: 万}\n", at="万}"),
    Case("Q004-unknown-bound-unit", "a bound in weeks",
         "          upper: {value: 60, inclusive: true, unit: day}\n",
         "          upper: {value: 60, inclusive: true, unit: week}\n", at="week"),
    Case("Q005-empty-range", "a condition from 100 days up to 60 days",
         "          lower: {value: 0, inclusive: false}\n", "          lower: {value: 100, inclusive: false}\n",
         at="quantity: overdue_days\n          lower: {value: 100"),
    Case("Q006-covered-tier", "tier 4 (15万元 < x ≤ 20万元) lies inside tier 3 (10万元 < x ≤ 30万元)",
         "          lower: {value: 300000, inclusive: false, unit: 元}\n",
         "          lower: {value: 15, inclusive: false}\n          upper: {value: 20, inclusive: true}\n",
         at="quantity: illegal_gain\n          lower: {value: 15"),
    Case("Q007-undocumented-boundary", "M02 tier 3 moves 10万元 away from its wording, and no interpretation says so",
         "[\"M02.3\", \"M02.4\",", "[\"M02.4\",", at="{value: 10, inclusive: false}"),
    Case("Q008-unsettled-boundary", "two tiers worded 5万元以下 / 5万元以上 with no conditions",
         "        wording: 未按规定办理采矿或勘查许可证变更或注销手续的。\n      - tier: 2\n        points: 400\n"
         "        wording: 采矿或勘查许可证被吊销的。\n",
         "        wording: 处罚款5万元以下的。\n      - tier: 2\n        points: 400\n"
         "        wording: 处罚款5万元以上的。\n",
         at="tier: 1\n        points: 300"),
    Case("Q009-bad-conversion", "a conversion that redefines 万元",
         "unit_conversions: []\n", "unit_conversions:\n  - {unit: 万元, equals: 1000, of: 元, reason: typo}\n",
         at="{unit: 万元"),
    Case("T001-wording-not-at-line", "a consequence's wording shortened: line 77 holds the article's own words",
         "    wording: 限制参与自然资源主管部门组织或由自然资源主管部门推荐的各类评优、评先活动\n",
         "    wording: 限制参与各类评优、评先活动\n", at="限制参与各类评优、评先活动"),
    Case("T002-line-beyond-file", "a consequence cited at line 99999 of a 1761-line file",
         "    line: 77\n", "    line: 99999\n", at="99999"),
    Case("T003-regulation-not-found", "the regulation file named under a name no folder holds",
         "    file: docs/regulation/000_c25b4c134fa0cdc3.txt", "    file: docs/regulation/draft.txt",
         at="docs/regulation/draft.txt"),
    Case("V001-changed-same-version",
         "M01 tier 2 re-pointed while the version stays \"1\" (lint with --against base.yaml)",
         "        points: 400\n        wording: 采矿或勘查许可证被吊销的。\n",
         "        points: 350\n        wording: 采矿或勘查许可证被吊销的。\n", at="\"1\""),
]

EMPTY_CASES = {"Y006-empty": "", "Y006-only-comments": "# a rulebook that was never written\n\n# (only comments)\n"}


def case_bytes(case: Case, base: str) -> bytes:
    assert base.count(case.old) == 1, f"{case.name}: the text to replace must occur exactly once in base.yaml"
    before, after = base.split(case.old)
    return before.encode() + case.new.encode(case.encoding) + after.encode()


def expected_files() -> dict[Path, bytes]:
    base = BASE.read_text(encoding="utf-8")
    files = {case.file: case_bytes(case, base) for case in CASES}
    files.update({HERE / f"{name}.yaml": text.encode() for name, text in EMPTY_CASES.items()})
    return files


def main() -> None:
    for path in HERE.glob("[A-Z][0-9][0-9][0-9]-*.yaml"):
        path.unlink()
    for path, content in expected_files().items():
        path.write_bytes(content)


if __name__ == "__main__":
    main()
