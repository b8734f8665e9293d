"""`mincredit schema`: the JSON Schemas editors validate rulebooks, facts and scenario files with.

Checked with an independent JSON-Schema validator (jsonschema, draft 2020-12), reading each file as an editor's
YAML language server does: numbers as numbers, dates as text.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mincredit._schemas import KINDS, json_schema
from mincredit._yaml import decode_utf8, read_yaml
from mincredit.cli import main

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parent.parent
RULEBOOKS = [ROOT / "rulebooks" / "miner.yaml", ROOT / "rulebooks" / "agency.yaml",
             ROOT / "tests" / "fixtures" / "miner-structural-revision.yaml",
             ROOT / "tests" / "fixtures" / "miner-hypothetical-revision.yaml"]
FACTS = [ROOT / "examples" / "miners.yaml", ROOT / "examples" / "publication.yaml",
         ROOT / "tests" / "fixtures" / "population.yaml"]
SCENARIOS = sorted((ROOT / "rulebooks" / "scenarios").glob("*.yaml"))


def as_an_editor_reads_it(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: as_an_editor_reads_it(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_an_editor_reads_it(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def document(path: Path) -> Any:
    return as_an_editor_reads_it(read_yaml(decode_utf8(path.read_bytes())).data)


def validator(kind: str) -> Any:
    schema = json_schema(kind)  # type: ignore[arg-type]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    assert cls is jsonschema.Draft202012Validator
    return cls(schema)


@pytest.mark.parametrize(("kind", "path"), [*(("rulebook", p) for p in RULEBOOKS), *(("facts", p) for p in FACTS),
                                            *(("scenarios", p) for p in SCENARIOS)],
                         ids=lambda value: value.name if isinstance(value, Path) else value)
def test_the_files_we_ship_validate(kind: str, path: Path) -> None:
    found = validator(kind).iter_errors(document(path))
    errors = [f"{list(error.absolute_path)}: {error.message[:200]}" for error in found]
    assert errors == []


def test_every_scenario_file_is_checked() -> None:
    assert len(SCENARIOS) >= 6


@pytest.mark.parametrize(("change", "where"), [
    (lambda data: data["indicators"][0]["tiers"][0].update(pionts=100), ["indicators", 0, "tiers", 0]),
    (lambda data: data["indicators"][0]["tiers"][0].pop("wording"), ["indicators", 0, "tiers", 0]),
    (lambda data: data["indicators"][0]["tiers"][0].update(tier="one"), ["indicators", 0, "tiers", 0, "tier"]),
    (lambda data: data["rulebook"].update(effective={"from": "2020-12-01", "untill": "2025-11-30"}),
     ["rulebook", "effective"]),
    (lambda data: data.update(grade=[]), []),
])
def test_what_an_editor_marks_as_it_is_typed(change: Any, where: list[Any]) -> None:
    data = document(RULEBOOKS[0])
    change(data)
    errors = list(validator("rulebook").iter_errors(data))
    assert errors and any(list(error.absolute_path) == where for error in errors), [e.message for e in errors]


def test_the_schema_is_the_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json_schema("rulebook") and printed["$schema"].endswith("/draft/2020-12/schema")
    assert printed["additionalProperties"] is False          # unknown keys refused, as the loader refuses them
    for kind in KINDS:
        target = tmp_path / f"{kind}.schema.json"
        assert main(["schema", kind, "--output", str(target)]) == 0
        assert json.loads(target.read_text(encoding="utf-8")) == json_schema(kind)
    assert main(["schema", "--output", str(tmp_path / "missing" / "x.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
