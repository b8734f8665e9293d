"""Every finding code of ``mincredit lint``: severity, what it catches, why it matters, a bad and a fixed example.

This module is the single source of the codes' documentation: ``mincredit lint
--explain CODE`` prints an entry, the SARIF output carries them as rules, and
the "Codes" section of docs/lint.md is generated from it (a test keeps the two
equal).  It lives inside the package so that ``--explain`` works after a plain
``pip install .``.

Families: Y the YAML text, S the schema, I the identity block, F the formula,
G the grade bands, H the honour table, R indicators, tiers and references,
Q quantity conditions and units, V versions (``--against``), X lint itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from mincredit.lint._findings import Severity


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str
    catches: str
    why: str
    bad: str
    fixed: str
    refuses_compile: bool = False
    """Whether compiling (and so ``evaluate``) refuses a rulebook with this finding."""


FAMILIES = {
    "Y": "YAML text",
    "S": "schema",
    "I": "identity block",
    "F": "formula",
    "G": "grade bands",
    "H": "honour table",
    "R": "indicators, tiers and references",
    "Q": "quantity conditions and units",
    "V": "versions (--against)",
    "X": "lint itself",
}

_CODES = [
    CodeInfo(
        "Y001", "error", "YAML that does not parse",
        "Text that is not YAML (an unclosed bracket, a bad indent, a key without a value separator), more "
        "than one document in a file, a value that cannot be read as the type its form says (an integer too "
        "long to read), a mapping key that is not plain text, or nesting deeper than 64 levels. The finding "
        "carries the parser's own position.",
        "A rulebook that cannot be read cannot be checked or evaluated at all; every other check waits for it.",
        "indicators:\n  - code: M01\n    tiers: [{tier: 1, points: 300\n",
        "indicators:\n  - code: M01\n    tiers: [{tier: 1, points: 300}]\n",
    ),
    CodeInfo(
        "Y002", "error", "duplicate mapping key",
        "The same key twice in one mapping. Most YAML readers silently keep the last one; mincredit refuses it "
        "and names the line of the first.",
        "Which of two `points:` counts depends on the reader: a drafter who adds a corrected line below the old "
        "one may believe the subject loses 200 points when it loses 100.",
        "- tier: 1\n  points: 100\n  wording: 经责令立即停止违法行为，未造成危害后果。\n  points: 200\n",
        "- tier: 1\n  points: 200\n  wording: 经责令立即停止违法行为，未造成危害后果。\n",
    ),
    CodeInfo(
        "Y003", "error", "tab used for indentation",
        "A tab character in the indentation of a line.",
        "YAML forbids tabs for indentation, and editors show them at different widths, so the structure a "
        "drafter sees is not the structure that is read.",
        "honours:\n\tcap: 100\n",
        "honours:\n  cap: 100\n",
    ),
    CodeInfo(
        "Y004", "error", "YAML tag that would construct an object",
        "Any tag beyond plain text, numbers, booleans, null, dates, lists and mappings: `!!python/object`, "
        "`!!binary`, `!!set`, application tags like `!Money`, and merge keys (`<<`). The node is never "
        "constructed: lint only reads the parse tree.",
        "A rulebook is data written by people and shared by CI; a tag that builds an object could run code on "
        "every machine that reads it, and a value that is not plain data cannot be scored.",
        "formula:\n  base: !!python/object/apply:os.system [\"echo hi\"]\n",
        "formula:\n  base: 1000\n",
    ),
    CodeInfo(
        "Y005", "error", "alias (anchors and *references)",
        "An alias `*name` that repeats an anchored node. This also defeats alias-expansion bombs (\"billion "
        "laughs\"): aliases are reported where they stand and never expanded.",
        "An alias makes two rules share one value invisibly: editing the anchor changes tiers the drafter did "
        "not look at, and a chain of aliases can expand to gigabytes.",
        "- tier: 1\n  points: &p 100\n- tier: 2\n  points: *p\n",
        "- tier: 1\n  points: 100\n- tier: 2\n  points: 100\n",
    ),
    CodeInfo(
        "Y006", "error", "empty file",
        "A file with no YAML document in it (empty, or only comments).",
        "An empty rulebook scores nobody; it is almost always a truncated save or a wrong path.",
        "# miner rulebook\n",
        "rulebook:\n  id: miner\n  # … the whole rulebook\n",
    ),
    CodeInfo(
        "Y007", "error", "not valid UTF-8",
        "Bytes that are not UTF-8 (a file saved as GBK or GB18030, say). The position is that of the first bad "
        "byte.",
        "The regulation's wording in the rulebook must be exactly the regulation's; text in another encoding "
        "would be read as different characters, or not at all.",
        "(the file saved in GBK: 违法所得 becomes the bytes CE A5 B7 A8 …)",
        "(the same file saved as UTF-8)",
    ),
    CodeInfo(
        "S001", "error", "wrong type or value",
        "A value the schema does not accept: text where a number belongs, a list where a mapping belongs, a "
        "date that is not YYYY-MM-DD, an id that does not have the required form, a value outside its list of "
        "allowed values, an empty list, or a document that is not a mapping at all.",
        "The engine computes with the validated values only; a value of the wrong kind would either stop "
        "evaluation or be read as something the drafter did not mean.",
        "- tier: 1\n  points: 一百\n  wording: 经责令立即停止违法行为，未造成危害后果。\n",
        "- tier: 1\n  points: 100\n  wording: 经责令立即停止违法行为，未造成危害后果。\n",
    ),
    CodeInfo(
        "S002", "error", "required field missing",
        "A field the schema requires is absent (the finding points at the mapping that lacks it).",
        "Without, say, a band's `meaning` or an indicator's `title`, results could not explain a grade or a "
        "deduction to the subject.",
        "- code: M01\n  row: 1\n  tiers: [{tier: 1, points: 300, wording: 采矿或勘查许可证被吊销的。}]\n",
        "- code: M01\n  row: 1\n  title: 未按规定办理采矿许可证或勘查许可证登记手续\n"
        "  tiers: [{tier: 1, points: 300, wording: 采矿或勘查许可证被吊销的。}]\n",
    ),
    CodeInfo(
        "S003", "error", "unknown field",
        "A key the schema does not define — usually a misspelling (`point:` for `points:`, `untill:` for "
        "`until:`). The finding points at the key.",
        "A misspelt field is silently ignored by lenient readers, so the value the drafter wrote would never be "
        "used: a misspelt `until:` leaves a rulebook in force for ever.",
        "effective:\n  from: 2020-12-01\n  untill: 2025-11-30\n",
        "effective:\n  from: 2020-12-01\n  until: 2025-11-30\n",
    ),
    CodeInfo(
        "S004", "error", "points not positive",
        "A tier's deduction or an honour level's bonus that is zero or negative.",
        "A negative deduction would raise a violator's score; a zero one records a violation that changes "
        "nothing. The direction of every number is fixed by the formula, not by its sign.",
        "- tier: 1\n  points: -100\n  wording: 经责令立即停止违法行为，未造成危害后果。\n",
        "- tier: 1\n  points: 100\n  wording: 经责令立即停止违法行为，未造成危害后果。\n",
    ),
    CodeInfo(
        "S005", "error", "indicator without tiers",
        "An indicator whose `tiers:` list is missing or empty.",
        "A record of that indicator could not be scored at all: there is no deduction to apply.",
        "- code: M01\n  row: 1\n  title: 未按规定办理采矿许可证或勘查许可证登记手续\n  tiers: []\n",
        "- code: M01\n  row: 1\n  title: 未按规定办理采矿许可证或勘查许可证登记手续\n"
        "  tiers:\n    - tier: 1\n      points: 300\n      wording: 未按规定办理采矿或勘查许可证变更或注销手续的。\n",
    ),
    CodeInfo(
        "S006", "error", "regulation wording missing",
        "A tier (or a retention rule or interpretation) without its `wording:`, or with an empty one.",
        "The wording is the regulation's own text that a deduction implements; without it nobody can check the "
        "number against the law, and results cannot quote to the subject what it was scored for.",
        "- tier: 2\n  points: 400\n",
        "- tier: 2\n  points: 400\n  wording: 采矿或勘查许可证被吊销的。\n",
    ),
    CodeInfo(
        "I001", "error", "version missing or blank",
        "`rulebook.version` absent, empty or only spaces.",
        "Every result names the rulebook version it was scored with; auditors and the subject must be able to "
        "tell which text of the rules applied.",
        "rulebook:\n  id: miner\n  version: \" \"\n",
        "rulebook:\n  id: miner\n  version: 2020-draft\n",
    ),
    CodeInfo(
        "I002", "error", "provenance missing",
        "`rulebook.source` absent, or its `document` or `article` empty or blank.",
        "A rulebook must say which regulation it implements; a score whose legal basis cannot be named cannot "
        "be defended in an objection (异议) procedure.",
        "rulebook:\n  id: miner\n  version: 2020-draft\n  # no source:\n",
        "rulebook:\n  id: miner\n  version: 2020-draft\n  source:\n"
        "    document: 内蒙古自治区矿业权人和地矿中介服务机构信用监督管理办法（征求意见稿）\n"
        "    article: 第三十条；附件《信用评价标准》\n",
    ),
    CodeInfo(
        "I003", "error", "effective period ends before it starts",
        "`rulebook.effective.until` earlier than `rulebook.effective.from`.",
        "Such a rulebook is in force on no day, so no evaluation date could select it — or a swapped pair of "
        "dates selects the wrong version for every subject.",
        "effective:\n  from: 2020-12-01\n  until: 2015-11-30\n",
        "effective:\n  from: 2020-12-01\n  until: 2025-11-30\n",
    ),
    CodeInfo(
        "F001", "error", "formula weights do not add up to 1",
        "`formula.public_weight` and `formula.industry_weight` outside 0…1, or not adding up to exactly 1 "
        "(20% + 80% in the annex).",
        "The grade bands are drawn on a 1000-point scale; weights that do not add up to 1 move every subject's "
        "score off that scale and so into the wrong grade.",
        "formula:\n  public_weight: 0.2\n  industry_weight: 0.9\n",
        "formula:\n  public_weight: 0.2\n  industry_weight: 0.8\n",
    ),
    CodeInfo(
        "F002", "error", "public score range that holds no score",
        "`formula.public_score` whose `lower` is above its `upper`.",
        "Every subject's 公共信用评价分值 is checked against this range before the formula takes it; an empty "
        "range refuses every subject. Compile refuses such a rulebook.",
        "formula:\n  public_score: {lower: 1000, upper: 0}\n",
        "formula:\n  public_score: {lower: 0, upper: 1000}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "G001", "error", "a score falls in no grade band",
        "A gap between the bands, or below the lowest or above the highest: the finding names a concrete score "
        "that gets no grade, e.g. exactly 900 when B is `800＜N＜900` and A is `N＞900`.",
        "A subject with that score would get no grade at all; compile refuses such a rulebook.",
        "- grade: A\n  lower: {value: 900, inclusive: false}\n- grade: B\n"
        "  lower: {value: 800, inclusive: false}\n  upper: {value: 900, inclusive: false}\n",
        "- grade: A\n  lower: {value: 900, inclusive: false}\n- grade: B\n"
        "  lower: {value: 800, inclusive: false}\n  upper: {value: 900, inclusive: true}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "G002", "error", "a score falls in two grade bands",
        "Two bands that share a score — typically both include a boundary (`N≥900` and `N≤900`); the finding "
        "names the shared score.",
        "A subject with that score would have two grades, and which one it got would depend on the order of "
        "the bands; compile refuses such a rulebook.",
        "- grade: A\n  lower: {value: 900, inclusive: true}\n- grade: B\n"
        "  lower: {value: 800, inclusive: false}\n  upper: {value: 900, inclusive: true}\n",
        "- grade: A\n  lower: {value: 900, inclusive: false}\n- grade: B\n"
        "  lower: {value: 800, inclusive: false}\n  upper: {value: 900, inclusive: true}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "G003", "error", "grade bands out of order",
        "Bands not listed from the best grade down: a band holding higher scores than the band listed before it.",
        "The file's order of the bands is the grades' order (best first): results, summaries and migration "
        "matrices list the grades that way, and a band list out of order is how a swapped pair of bounds slips "
        "in, giving a subject the grade meant for a worse score.",
        "- grade: B\n  lower: {value: 900, inclusive: false}\n- grade: A\n"
        "  lower: {value: 800, inclusive: false}\n  upper: {value: 900, inclusive: true}\n",
        "- grade: A\n  lower: {value: 900, inclusive: false}\n- grade: B\n"
        "  lower: {value: 800, inclusive: false}\n  upper: {value: 900, inclusive: true}\n",
    ),
    CodeInfo(
        "G005", "error", "grade letter defined twice",
        "Two bands with the same grade letter.",
        "Each grade must have exactly one range, or the meaning of the grade differs by score in a way the "
        "regulation never says.",
        "- grade: C\n  upper: {value: 800, inclusive: true}\n  lower: {value: 700, inclusive: false}\n"
        "- grade: C\n  upper: {value: 700, inclusive: true}\n  lower: {value: 600, inclusive: false}\n",
        "- grade: C\n  upper: {value: 800, inclusive: true}\n  lower: {value: 700, inclusive: false}\n"
        "- grade: D\n  upper: {value: 700, inclusive: true}\n  lower: {value: 600, inclusive: false}\n",
    ),
    CodeInfo(
        "G006", "error", "grade band no score can reach",
        "A band whose lower bound is above its upper bound, or equal with one end excluded.",
        "That grade can never be given, and the scores meant for it fall elsewhere.",
        "- grade: B\n  lower: {value: 900, inclusive: false}\n  upper: {value: 800, inclusive: true}\n",
        "- grade: B\n  lower: {value: 800, inclusive: false}\n  upper: {value: 900, inclusive: true}\n",
    ),
    CodeInfo(
        "G007", "warning", "band bounds disagree with its annex text",
        "A band whose `annex:` text (the regulation's own range, e.g. `800＜N≤900`) describes a different range "
        "from its `lower:`/`upper:` bounds.",
        "The bounds are what the engine uses and the annex text is what a reviewer reads; when a drafter edits "
        "one and not the other, the review approves a range the engine does not apply.",
        "- grade: B\n  annex: \"800＜N≤900\"\n  lower: {value: 800, inclusive: true}\n"
        "  upper: {value: 900, inclusive: true}\n",
        "- grade: B\n  annex: \"800＜N≤900\"\n  lower: {value: 800, inclusive: false}\n"
        "  upper: {value: 900, inclusive: true}\n",
    ),
    CodeInfo(
        "G008", "error", "consequence for a grade the rulebook does not define",
        "A `consequences[].when.grades` entry that is not the `grade:` of any band.",
        "Grades are the rulebook's own labels (A–E today; a revision may relabel or re-count them); a measure "
        "naming a label no band has never applies, so the subjects it was meant for silently escape it.",
        "grades:\n  - grade: A\n  # … A, B, M, C, D\nconsequences:\n  - id: art23-2-review\n"
        "    when: {grades: [E]}\n",
        "grades:\n  - grade: A\n  # … A, B, M, C, D\nconsequences:\n  - id: art23-2-review\n"
        "    when: {grades: [D]}\n",
    ),
    CodeInfo(
        "G009", "error", "fewer than two grades",
        "A `grades:` list with a single band (or one label for every band).",
        "A credit evaluation is a grading; with one grade every subject gets the same result and no consequence "
        "can tell subjects apart. Compile refuses such a rulebook.",
        "grades:\n  - grade: A\n    meaning: 合格\n",
        "grades:\n  - grade: A\n    meaning: 信用优秀\n    lower: {value: 900, inclusive: false}\n"
        "  - grade: B\n    meaning: 信用一般\n    upper: {value: 900, inclusive: true}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "H002", "error", "honour cap missing",
        "`honours:` without `cap:`.",
        "The annex limits honour bonuses to 100 points in total (行业荣誉加分不超过100分); without a cap a "
        "subject with many honours would be scored above what the regulation allows.",
        "honours:\n  note: 注：行业荣誉加分不超过100分。\n",
        "honours:\n  cap: 100\n  note: 注：行业荣誉加分不超过100分。\n",
    ),
    CodeInfo(
        "H003", "error", "honour cap below the largest single bonus",
        "A `cap:` smaller than the points of one honour level.",
        "A single honour of that level could never be granted in full, which contradicts the table that grants "
        "it; one of the two numbers is a typo.",
        "honours:\n  cap: 50\n  levels:\n    - level: ministry\n      points: 100\n",
        "honours:\n  cap: 100\n  levels:\n    - level: ministry\n      points: 100\n",
    ),
    CodeInfo(
        "H004", "error", "honour level defined twice",
        "Two rows of the honour table with the same level id.",
        "A record of that level would match two bonuses; compile refuses such a rulebook.",
        "levels:\n  - level: ministry\n    points: 100\n  - level: ministry\n    points: 50\n",
        "levels:\n  - level: ministry\n    points: 100\n  - level: provincial_department\n    points: 50\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "R001", "error", "indicator code defined twice",
        "Two indicators with the same code.",
        "Records name their indicator by code; with two definitions a record's deduction would depend on which "
        "one was read last. Compile refuses such a rulebook.",
        "- code: M05\n  row: 5\n  # …\n- code: M05\n  row: 6\n  # …\n",
        "- code: M05\n  row: 5\n  # …\n- code: M06\n  row: 6\n  # …\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "R002", "error", "tier number used twice",
        "Two tiers of one indicator with the same `tier:` number.",
        "Records name their tier by number; a duplicated number makes the deduction ambiguous. Compile refuses "
        "such a rulebook.",
        "tiers:\n  - {tier: 1, points: 100, wording: …}\n  - {tier: 1, points: 200, wording: …}\n",
        "tiers:\n  - {tier: 1, points: 100, wording: …}\n  - {tier: 2, points: 200, wording: …}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "R003", "error", "tiers not numbered 1, 2, 3 … in order",
        "Tier numbers that skip a number, do not start at 1, or are not in increasing order.",
        "Tier numbers follow the annex's order of tiers; a gap or a swap is how a record ends up pointing at "
        "the neighbouring tier and its different deduction.",
        "tiers:\n  - {tier: 1, points: 100, wording: …}\n  - {tier: 3, points: 200, wording: …}\n",
        "tiers:\n  - {tier: 1, points: 100, wording: …}\n  - {tier: 2, points: 200, wording: …}\n",
    ),
    CodeInfo(
        "R004", "error", "indicator code not written as the rulebook's codes are",
        "An indicator whose code does not have the form `rulebook.indicator_codes` gives: its prefix and the "
        "annex row in so many digits (`{prefix: M, digits: 2}`: M01 … M57).",
        "Codes tell whose table a record belongs to; an A-code in the miner rulebook would score a miner by an "
        "agency's rule. Compile refuses such a rulebook.",
        "rulebook:\n  indicator_codes: {prefix: M, digits: 2}\nindicators:\n  - code: A01\n",
        "rulebook:\n  indicator_codes: {prefix: M, digits: 2}\nindicators:\n  - code: M01\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "R005", "error", "reference that points nowhere",
        "An `interpretations[].applies_to` entry naming an indicator (M03), a tier (M03.2), an interpretation "
        "(I01) or a block (grades, formula, honours, retention, rulebook.effective, honours.ministry …) that the "
        "rulebook does not define; or a consequence whose `withdraws` names no consequence (or itself), or whose "
        "`honours.levels` names no honour level.",
        "An interpretation settles how an ambiguous rule is applied; if it names a tier that does not exist "
        "(renumbered, deleted, or a typo), the decision silently applies to nothing.",
        "interpretations:\n  - id: I04\n    applies_to: [M03.4]\n    wording: …\n    decision: …\n",
        "interpretations:\n  - id: I04\n    applies_to: [M03.2]\n    wording: …\n    decision: …\n",
    ),
    CodeInfo(
        "R006", "error", "condition on an undefined quantity",
        "A tier `condition:` whose `quantity:` is not a key of `quantities:`.",
        "The quantity says what is measured (违法所得, 逾期) and in which unit; a condition on an undefined one "
        "cannot be compared with any record. Compile refuses such a rulebook.",
        "quantities:\n  illegal_gain: {name: 违法所得, unit: 万元}\n"
        "# …\ncondition: {quantity: ilegal_gain, upper: {value: 10, inclusive: true}}\n",
        "quantities:\n  illegal_gain: {name: 违法所得, unit: 万元}\n"
        "# …\ncondition: {quantity: illegal_gain, upper: {value: 10, inclusive: true}}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "R007", "error", "interpretation id used twice",
        "Two interpretations with the same id.",
        "Interpretations are cited by id (in docs and in other interpretations); two with one id make every "
        "citation ambiguous.",
        "interpretations:\n  - id: I01\n    # …\n  - id: I01\n    # …\n",
        "interpretations:\n  - id: I01\n    # …\n  - id: I02\n    # …\n",
    ),
    CodeInfo(
        "R008", "warning", "indicator code does not match its annex row",
        "An indicator whose code number differs from its `row:` (M05 on row 6).",
        "Code MNN is the annex's row NN; a mismatch usually means rows were inserted or moved and records "
        "coded from the annex would hit the neighbouring indicator.",
        "- code: M05\n  row: 6\n",
        "- code: M06\n  row: 6\n",
    ),
    CodeInfo(
        "R009", "warning", "two tiers with the same wording",
        "Two tiers of one indicator whose wording is identical.",
        "The wording is what tells the person entering a record which tier applies; identical wordings with "
        "different points make that choice arbitrary. It is usually a copy-and-paste slip.",
        "tiers:\n  - {tier: 1, points: 100, wording: 违法所得5万元以下。}\n"
        "  - {tier: 2, points: 200, wording: 违法所得5万元以下。}\n",
        "tiers:\n  - {tier: 1, points: 100, wording: 违法所得5万元以下。}\n"
        "  - {tier: 2, points: 200, wording: 违法所得5万元以上10万元以下。}\n",
    ),
    CodeInfo(
        "R010", "warning", "consequence for a subject kind the rulebook does not score",
        "A `consequences[].when.subject_kinds` list that leaves out the rulebook's own `subject_kind`.",
        "A rulebook scores one kind of subject; a measure limited to other kinds never applies here. It is "
        "usually a measure copied from the other rulebook without its `subject_kinds`.",
        "rulebook:\n  subject_kind: miner\nconsequences:\n  - id: x\n"
        "    when: {listed: true, subject_kinds: [agency]}\n",
        "rulebook:\n  subject_kind: miner\nconsequences:\n  - id: x\n    when: {listed: true}\n",
    ),
    CodeInfo(
        "R011", "error", "offence count bands that do not work",
        "A `derived.offence_count` rule for an indicator the rulebook lacks, a band giving a tier the indicator "
        "lacks, a band that holds no count, or two bands that share an offence number.",
        "The offence number picks the tier (初次 / 二次及以上); an overlap would leave the tier to the order of "
        "the bands, and a missing tier would score nothing. Compile refuses such a rulebook.",
        "offence_count:\n  - indicator: M37\n    tiers:\n      - {tier: 2, lower: 1, upper: 2}\n"
        "      - {tier: 3, lower: 2}\n",
        "offence_count:\n  - indicator: M37\n    tiers:\n      - {tier: 2, lower: 1, upper: 1}\n"
        "      - {tier: 3, lower: 2}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "Q001", "error", "tier ranges of one quantity overlap",
        "Two tiers of one indicator whose conditions on the same quantity share an amount, compared in a common "
        "unit (10 万元 = 100 000 元). The finding names the shared amount. The usual cause is the Chinese-law "
        "reading: 以上 and 以下 both include the number, so `10万元以下` and `10万元以上` both claim 10万元.",
        "A record with that amount matches two tiers with different deductions; which one the subject loses "
        "would be arbitrary.",
        "- tier: 2\n  condition: {quantity: illegal_gain, upper: {value: 10, inclusive: true, unit: 万元}}\n"
        "- tier: 3\n  condition: {quantity: illegal_gain, lower: {value: 100000, inclusive: true, unit: 元}}\n",
        "- tier: 2\n  condition: {quantity: illegal_gain, upper: {value: 10, inclusive: true, unit: 万元}}\n"
        "- tier: 3\n  condition: {quantity: illegal_gain, lower: {value: 100000, inclusive: false, unit: 元}}\n",
    ),
    CodeInfo(
        "Q002", "error", "gap between tier ranges of one quantity",
        "Amounts between the lowest and the highest range of an indicator that no tier claims; the finding "
        "names one (typically a boundary both tiers exclude).",
        "A record with that amount matches no tier, so the violation could not be scored although the "
        "regulation clearly covers it.",
        "- tier: 2\n  condition: {quantity: illegal_gain, upper: {value: 10, inclusive: false}}\n"
        "- tier: 3\n  condition: {quantity: illegal_gain, lower: {value: 10, inclusive: false}}\n",
        "- tier: 2\n  condition: {quantity: illegal_gain, upper: {value: 10, inclusive: true}}\n"
        "- tier: 3\n  condition: {quantity: illegal_gain, lower: {value: 10, inclusive: false}}\n",
    ),
    CodeInfo(
        "Q003", "error", "units that cannot be compared",
        "A bound whose unit measures something else than its quantity (万元 against days), or months or years "
        "against days when the rulebook fixes no conversion (`unit_conversions:`): a month is 28 to 31 days and "
        "a year 365 or 366, so lint never converts between them on its own.",
        "Comparing 3 months with 90 days silently picks a conversion nobody decided; the boundary between two "
        "tiers could then fall a day or two away from where the regulation puts it. Compile refuses such a "
        "rulebook: evaluating would have to pick the conversion itself.",
        "quantities:\n  overdue: {name: 逾期, unit: day}\n"
        "# …\ncondition: {quantity: overdue, lower: {value: 3, inclusive: true, unit: month}}\n",
        "quantities:\n  overdue: {name: 逾期, unit: day}\nunit_conversions:\n"
        "  - {unit: month, equals: 30, of: day, reason: \"I07: 一个月按30日计算\"}\n"
        "# …\ncondition: {quantity: overdue, lower: {value: 3, inclusive: true, unit: month}}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "Q004", "error", "unknown unit",
        "A quantity or bound unit other than 万元, 元, day, month, year and percent.",
        "An amount in an unknown unit cannot be compared with any other; 10 in an unknown unit could mean 10 元 "
        "or 10 万元, a factor of ten thousand. Compile refuses such a rulebook.",
        "quantities:\n  illegal_gain: {name: 违法所得, unit: 万}\n",
        "quantities:\n  illegal_gain: {name: 违法所得, unit: 万元}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "Q005", "error", "condition no amount satisfies",
        "A tier condition whose lower bound is above its upper bound (or equal with one end excluded).",
        "That tier can never be chosen by an amount, and amounts meant for it fall to another tier or none.",
        "condition:\n  quantity: illegal_gain\n  lower: {value: 50, inclusive: true}\n"
        "  upper: {value: 20, inclusive: true}\n",
        "condition:\n  quantity: illegal_gain\n  lower: {value: 20, inclusive: true}\n"
        "  upper: {value: 50, inclusive: true}\n",
    ),
    CodeInfo(
        "Q006", "error", "tier that can never be chosen",
        "A tier whose condition is entirely covered by an earlier tier's condition on the same quantity; the "
        "finding names the earlier tier.",
        "Amounts are matched to the first tier that claims them, so the later tier — usually the heavier "
        "deduction — would never be applied.",
        "- tier: 1\n  condition: {quantity: illegal_gain, lower: {value: 5, inclusive: true}}\n"
        "- tier: 2\n  condition: {quantity: illegal_gain, lower: {value: 10, inclusive: false}}\n",
        "- tier: 1\n  condition: {quantity: illegal_gain, lower: {value: 5, inclusive: true}, "
        "upper: {value: 10, inclusive: true}}\n"
        "- tier: 2\n  condition: {quantity: illegal_gain, lower: {value: 10, inclusive: false}}\n",
    ),
    CodeInfo(
        "Q007", "warning", "boundary settled against the wording without an interpretation",
        "A condition whose bound is the number the tier's wording states but with the other inclusiveness "
        "(`10万元以下` includes 10万元, the condition excludes it), while no interpretation `applies_to` that "
        "tier or its indicator.",
        "Where 以上 and 以下 both claim a number, the rulebook has to move it to one side — a legal decision "
        "that must be recorded and reviewable, not a silent edit of a YAML flag.",
        "- tier: 2\n  wording: 违法所得在10万元以下的。\n"
        "  condition: {quantity: illegal_gain, upper: {value: 10, inclusive: false}}\n",
        "interpretations:\n  - id: I05\n    applies_to: [M03.2, M03.3]\n    wording: 10万元以下 / 10万元以上\n"
        "    decision: exactly 10万元 is tier 3\n",
    ),
    CodeInfo(
        "Q008", "warning", "boundary two wordings both claim, not settled",
        "Two tiers of one indicator whose wordings both include the same number (`…10万元以下` and "
        "`…10万元以上`, read by Chinese law: 以上 and 以下 include the number), where at least one of them has no "
        "`condition:`.",
        "A record of exactly that amount fits both tiers' wording; unless conditions settle it, the person "
        "entering the record decides the deduction.",
        "- tier: 2\n  wording: 违法所得在10万元以下的。\n- tier: 3\n  wording: 违法所得在10万元以上的。\n",
        "- tier: 2\n  wording: 违法所得在10万元以下的。\n"
        "  condition: {quantity: illegal_gain, upper: {value: 10, inclusive: true}}\n"
        "- tier: 3\n  wording: 违法所得在10万元以上的。\n"
        "  condition: {quantity: illegal_gain, lower: {value: 10, inclusive: false}}\n",
    ),
    CodeInfo(
        "Q009", "error", "unit conversion a rulebook may not fix",
        "An entry of `unit_conversions:` with an unknown unit, one that redefines an exact conversion (万元 to 元, "
        "year to month), converts between different things (元 to day), or contradicts another entry (1 month "
        "= 30 day with 1 year = 365 day).",
        "Fixed conversions decide where period boundaries fall; a contradictory or meaningless one would shift "
        "them silently. Compile refuses such a rulebook.",
        "unit_conversions:\n  - {unit: 万元, equals: 1000, of: 元, reason: typo}\n",
        "unit_conversions:\n  - {unit: month, equals: 30, of: day, reason: \"I07: 一个月按30日计算\"}\n",
        refuses_compile=True,
    ),
    CodeInfo(
        "V001", "error", "content changed but version did not",
        "With `--against OLD`: a rulebook whose meaning changed (its canonical digest differs from the old "
        "rulebook with the same id) while `rulebook.version` stayed the same. Comments and layout do not count "
        "as a change.",
        "Every result records the rulebook version it was scored with; two different rulebooks under one "
        "version would make past results impossible to audit or replay.",
        "# old: version 2020-draft, M03 tier 2 points: 200\nrulebook:\n  version: 2020-draft\n"
        "# … M03 tier 2 points: 300\n",
        "rulebook:\n  version: 2021-revision\n# … M03 tier 2 points: 300\n",
    ),
    CodeInfo(
        "X001", "error", "lint failed on this file",
        "An unexpected failure inside lint itself while checking the file. It is reported as a finding instead "
        "of a traceback so that the other files are still checked.",
        "The file has not been fully checked, so it must not pass; please report the file and the message as "
        "a bug of mincredit.",
        "(any file that makes lint fail)",
        "(none: this is a bug of mincredit)",
    ),
]

CODES: dict[str, CodeInfo] = {info.code: info for info in _CODES}
RETIRED: dict[str, str] = {
    "G004": "unknown grade letter: grades are whatever labels the rulebook defines (G008 checks what names them)",
    "H001": "unknown honour level: levels are whatever ids the rulebook defines (facts naming another level are "
            "that subject's error)",
}
"""Codes no longer reported, with why: a code is never reused for another finding."""
COMPILE_REFUSES: frozenset[str] = frozenset(info.code for info in _CODES if info.refuses_compile)


def matching(selector: str) -> list[str]:
    """The codes a ``--select``/``--ignore`` entry names: a whole code or a prefix of codes (``Q``, ``Q00``)."""
    wanted = selector.strip().upper()
    if wanted == "ALL":
        return list(CODES)
    return [code for code in CODES if code.startswith(wanted)] if wanted else []


def explain(code: str) -> str:
    """The documentation of one code as plain text (``mincredit lint --explain CODE``)."""
    wanted = code.strip().upper()
    if wanted in RETIRED:
        return f"{wanted} (retired): {RETIRED[wanted]}\n"
    info = CODES[wanted]
    lines = [
        f"{info.code} ({info.severity}): {info.title}",
        "",
        f"What it catches: {info.catches}",
        "",
        f"Why it matters: {info.why}",
    ]
    if info.refuses_compile:
        lines += ["", "Compiling (and so `mincredit evaluate`) also refuses a rulebook with this finding."]
    lines += ["", "Bad:", *_indent(info.bad), "", "Fixed:", *_indent(info.fixed)]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> list[str]:
    return ["    " + line for line in text.rstrip("\n").splitlines()]


def codes_markdown() -> str:
    """The "Codes" section of docs/lint.md, generated from this module."""
    out: list[str] = []
    for family, name in FAMILIES.items():
        members = [info for info in _CODES if info.code.startswith(family)]
        out.append(f"### {family} — {name}\n")
        out.append("| code | severity | title |\n| --- | --- | --- |")
        out.extend(f"| [{info.code}](#{info.code.lower()}) | {info.severity} | {info.title} |" for info in members)
        out.append("")
        for info in members:
            out.append(f"#### {info.code}\n")
            out.append(f"**{info.title}** — severity **{info.severity}**"
                       + ("; compiling refuses it too." if info.refuses_compile else "."))
            out.append("")
            out.append(f"*What it catches.* {info.catches}\n")
            out.append(f"*Why it matters for a scored subject.* {info.why}\n")
            out.append("Bad:\n\n```yaml\n" + info.bad.rstrip("\n") + "\n```\n")
            out.append("Fixed:\n\n```yaml\n" + info.fixed.rstrip("\n") + "\n```\n")
    out.append("### Retired codes\n")
    out.append("A retired code is never reused for another finding.\n")
    out.extend(f"- **{code}** — {why}" for code, why in RETIRED.items())
    return "\n".join(out).rstrip("\n") + "\n"

