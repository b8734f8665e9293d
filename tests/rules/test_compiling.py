"""What evaluate cannot use, lint reports, and compiling refuses with lint's own finding: never a traceback; what lint
passes, every path evaluates (issue 12, item 11)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import MINER_USCC, OTHER_MINER_USCC

from mincredit.cli import main
from mincredit.lint._runner import lint_bytes
from mincredit.rules._compiling import RulebookInvalid
from mincredit.rules._registry import load_rulebook

SHIPPED = Path(__file__).resolve().parents[2] / "rulebooks" / "miner.yaml"
AS_OF = dt.date(2024, 6, 30)
BOUND = "upper: {value: 10, unit: 万元, inclusive: true}"


def variant(tmp_path: Path, change: Callable[[str], str]) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text
    path = tmp_path / "miner.yaml"
    path.write_text(changed, encoding="utf-8")
    return path


def quantity_subject(gain: str) -> dict[str, object]:
    """A violation of M03 whose tier the rulebook derives from the illegal gain (M03 tier 2: at most 10 万元)."""
    return {"uscc": MINER_USCC, "name": "某某矿业有限公司", "kind": "miner", "public_score": 850,
            "records": [{"id": "v-1", "type": "violation", "indicator": "M03", "determined_on": "2023-05-10",
                         "quantities": {"illegal_gain": gain}}]}


def test_a_bound_without_a_unit_is_in_its_quantitys_unit_as_lint_reads_it(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """It passed lint, and every evaluation failed with KeyError: ''."""
    path = variant(tmp_path, lambda text: text.replace(BOUND, "upper: {value: 10, inclusive: true}", 1))
    assert lint_bytes(path.read_bytes(), str(path)).findings == []
    facts = tmp_path / "facts.jsonl"
    facts.write_text(json.dumps(quantity_subject("5 万元"), ensure_ascii=False) + "\n"
                     + json.dumps({**quantity_subject("11 万元"), "uscc": OTHER_MINER_USCC}, ensure_ascii=False)
                     + "\n", encoding="utf-8")
    assert main(["evaluate", str(facts), "--rulebook", str(path), "--as-of", str(AS_OF), "--format", "json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [result["items"][0]["tier"] for result in results] == [2, 4]      # ≤ 10 万元, then > 10 万元


@pytest.mark.parametrize(("code", "change"), [
    ("Q004", lambda text: text.replace(BOUND, "upper: {value: 10, unit: 万 元, inclusive: true}", 1)),
    ("Q004", lambda text: text.replace('illegal_gain: {name: "违法所得", unit: 万元}',
                                       'illegal_gain: {name: "违法所得", unit: 万 元}', 1)),
    ("Q003", lambda text: text.replace(BOUND, "upper: {value: 10, unit: day, inclusive: true}", 1)),
    ("R006", lambda text: text.replace("quantity: illegal_gain\n          upper: {value: 10,",
                                       "quantity: illegal_gainx\n          upper: {value: 10,", 1)),
    ("Q009", lambda text: text.replace(
        "\nquantities:\n", "\nunit_conversions:\n  - {unit: month, equals: 30, of: 万元, reason: x}\n"
                           "quantities:\n", 1)),
])
def test_a_unit_evaluate_cannot_use_is_lints_finding_and_compile_refuses_it(
        code: str, change: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad unit (万 元) gave a traceback at every evaluation."""
    path = variant(tmp_path, change)
    finding = next(finding for finding in lint_bytes(path.read_bytes(), str(path)).findings if finding.code == code)
    with pytest.raises(RulebookInvalid, match=code):
        load_rulebook(str(path))
    facts = tmp_path / "facts.jsonl"
    facts.write_text(json.dumps(quantity_subject("5 万元"), ensure_ascii=False) + "\n", encoding="utf-8")
    for extra in (["--format", "json"], ["--output", str(tmp_path / "out.parquet"), "--no-explain"]):
        assert main(["evaluate", str(facts), "--rulebook", str(path), "--as-of", str(AS_OF), *extra]) == 2
        err = capsys.readouterr().err
        assert f"cannot be evaluated: {code} {finding.message}" in err and "Traceback" not in err


def test_a_tier_numbered_in_the_trillions_is_evaluated_on_every_path(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Lint reports the numbering (R003); evaluating with it gave MemoryError on the vectorised path."""
    start = SHIPPED.read_text(encoding="utf-8").index("  - code: M05")

    def renumber(text: str) -> str:
        tier = text.index("- tier: 1\n", start)
        return text[:tier] + "- tier: 1000000000000\n" + text[tier + len("- tier: 1\n"):]

    path = variant(tmp_path, renumber)
    assert "R003" in {finding.code for finding in lint_bytes(path.read_bytes(), str(path)).findings}
    facts = tmp_path / "facts.csv"
    facts.write_text("uscc,name,kind,public_score,record_id,type,indicator,tier,determined_on\n"
                     f"{MINER_USCC},某,miner,850,v-1,violation,M05,1000000000000,2023-05-10\n"
                     f"{OTHER_MINER_USCC},某,miner,850,v-1,violation,M03,2,2023-05-10\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", str(facts), "--rulebook", str(path), "--as-of", str(AS_OF), "--output", str(out),
                 "--no-explain"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    lines = tmp_path / "facts.jsonl"
    lines.write_text("".join(json.dumps({"uscc": uscc, "name": "某", "kind": "miner", "public_score": 850, "records": [
        {"id": "v-1", "type": "violation", "indicator": code, "tier": tier, "determined_on": "2023-05-10"}]}) + "\n"
        for uscc, code, tier in ((MINER_USCC, "M05", 1000000000000), (OTHER_MINER_USCC, "M03", 2))),
        encoding="utf-8")
    assert main(["evaluate", str(lines), "--rulebook", str(path), "--as-of", str(AS_OF), "--format", "json"]) == 0
    explained = json.loads(capsys.readouterr().out)["results"]
    assert explained[0]["items"][0]["tier"] == 1000000000000
    assert [(row["grade"], row["score"]) for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())] \
        == [(result["grade"], result["score"]) for result in explained]
