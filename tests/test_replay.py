"""Evaluation records and audit replay: the facts digest, atomic records, replay after a revision."""

from __future__ import annotations

import datetime as dt
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from fixtures.versions_library import EXAMPLE, POPULATION, SHIPPED, edited, revised_library
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mincredit._engine import evaluate
from mincredit._replay import (
    DigestMismatch,
    ReplayError,
    atomic_write,
    evaluation_record,
    facts_digest,
    read_record,
    replay,
    write_record,
)
from mincredit.cli import main
from mincredit.facts._validating import read_facts_file
from mincredit.rules._registry import RulebookLibrary, load_rulebook

AS_OF = "2024-06-30"


def digest_of(path: Path) -> str:
    return facts_digest(list(read_facts_file(path)))


def record_with_cli(tmp_path: Path, facts: Path = EXAMPLE, *extra: str, name: str = "record.json") -> Path:
    out = tmp_path / name
    code = main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--record", str(out), *extra])
    assert code in (0, 1) and out.is_file()
    return out


# --- the facts digest -----------------------------------------------------------------------------

REWRITTEN_YAML = """\
# the same two subjects as below, written differently: other key order, flow style, 850.0, comments
subjects:
- {records: [], public_score: 812.350, kind: miner, name: 包头某煤业有限责任公司, uscc: 91150200MA0N8K2L4Q}
- name: 某某矿业有限公司
  uscc: 91150600MA13R7T5Q6
  kind: miner
  status: active          # the default, written out
  public_score: 8.5E2
  records:
    - determined_on: 2023-05-10
      tier: 2
      indicator: M03
      type: violation
      id: v-1
"""


def facts_data() -> dict[str, Any]:
    return {"subjects": [
        {"uscc": "91150200MA0N8K2L4Q", "name": "包头某煤业有限责任公司", "kind": "miner", "public_score": 812.35},
        {"uscc": "91150600MA13R7T5Q6", "name": "某某矿业有限公司", "kind": "miner", "public_score": 850,
         "records": [{"id": "v-1", "type": "violation", "indicator": "M03", "tier": 2,
                      "determined_on": "2023-05-10"}]},
    ]}


def test_the_facts_digest_ignores_how_the_facts_are_written(tmp_path: Path):
    yaml_file = tmp_path / "facts.yaml"
    yaml_file.write_text(REWRITTEN_YAML, encoding="utf-8")
    json_file = tmp_path / "facts.json"
    json_file.write_text(json.dumps(facts_data(), ensure_ascii=False, indent=4), encoding="utf-8")
    jsonl_file = tmp_path / "facts.jsonl"
    jsonl_file.write_text("\n".join(json.dumps(s, ensure_ascii=False) for s in facts_data()["subjects"]) + "\n",
                          encoding="utf-8")
    digests = {digest_of(path) for path in (yaml_file, json_file, jsonl_file)}
    assert len(digests) == 1 and next(iter(digests)).startswith("sha256:")


@pytest.mark.parametrize("change", ["value", "order", "added record", "dropped subject"])
def test_the_facts_digest_changes_with_the_facts(tmp_path: Path, change: str):
    data = facts_data()
    if change == "value":
        data["subjects"][0]["public_score"] = 812.36
    elif change == "order":
        data["subjects"].reverse()
    elif change == "added record":
        data["subjects"][0]["records"] = [{"id": "v-2", "type": "violation", "indicator": "M01", "tier": 1,
                                           "determined_on": "2023-01-01"}]
    else:
        data["subjects"].pop()
    original, changed = tmp_path / "a.json", tmp_path / "b.json"
    original.write_text(json.dumps(facts_data(), ensure_ascii=False), encoding="utf-8")
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert digest_of(original) != digest_of(changed)


def test_an_unreadable_subject_counts_in_the_digest_by_its_errors(tmp_path: Path):
    data = facts_data()
    data["subjects"][0]["public_score"] = 1200
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    moved = tmp_path / "elsewhere" / "bad.json"           # another file name: the same digest
    moved.parent.mkdir()
    moved.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    assert digest_of(bad) == digest_of(moved) != digest_of(EXAMPLE)


# --- the record -----------------------------------------------------------------------------------

def test_the_record_holds_results_rulebook_date_library_and_facts(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "record.json"
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", AS_OF, "--format", "json",
                 "--record", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["record"] == "mincredit evaluation record" and record["format"] == 1
    rulebook = load_rulebook("miner@2020-draft")
    assert record["rulebook"] == {"id": "miner", "version": "2020-draft", "digest": rulebook.digest}
    assert record["as_of"] == AS_OF
    assert record["library"] == {"name": "mincredit", "version": metadata.version("mincredit")}
    assert record["facts"] == {"file": str(EXAMPLE), "subjects": 4, "digest": digest_of(EXAMPLE)}
    assert record["evaluation"] == printed              # the results exactly as evaluate --format json prints
    assert dt.datetime.fromisoformat(record["recorded_at"]).tzinfo is not None


def test_the_python_api_makes_the_same_record():
    entries = list(read_facts_file(EXAMPLE))
    evaluation = evaluate(entries, load_rulebook("miner"), dt.date(2024, 6, 30))
    moment = dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC)
    record = evaluation_record(evaluation, entries, facts_file="x.yaml", recorded_at=moment)
    assert record["recorded_at"] == "2024-07-01T08:00:00+00:00"
    assert record["facts"]["digest"] == digest_of(EXAMPLE)
    assert [r["score"] for r in record["evaluation"]["results"]] == ["890", "962.47", "500", None]


def test_a_record_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "record.json"
    target.write_text("the old record\n", encoding="utf-8")

    def crash(*args: object) -> None:
        raise OSError("disk full")

    for step in ("fsync", "replace"):             # a crash while writing, or before the rename
        with monkeypatch.context() as patch:
            patch.setattr(os, step, crash)
            with pytest.raises(OSError, match="disk full"):
                write_record(target, {"record": "new"})
        assert target.read_text(encoding="utf-8") == "the old record\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]   # no temporary left behind
    atomic_write(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_record_that_cannot_be_written_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "no such folder" / "record.json"
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", AS_OF, "--record", str(out)]) == 2
    assert "cannot write the evaluation record" in capsys.readouterr().err


# --- replay ---------------------------------------------------------------------------------------

def test_replay_of_an_unchanged_evaluation_is_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    record = record_with_cli(tmp_path)
    capsys.readouterr()
    assert main(["replay", str(record), "--facts", str(EXAMPLE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "identical"
    assert "miner@2020-draft" in lines[0] and "as of 2024-06-30" in lines[0]


def test_replay_after_the_current_rulebook_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Records made when 2020-draft was the newest version replay identically once the (hypothetical)
    revision has replaced it as miner.yaml and 2020-draft lives in history/."""
    records = [record_with_cli(tmp_path, facts, name=f"{facts.stem}.json") for facts in (EXAMPLE, POPULATION)]
    library = revised_library(tmp_path / "library")
    assert load_rulebook("miner", library=RulebookLibrary(library)).identity.version == "2025-hypothetical"
    capsys.readouterr()
    for record, facts in zip(records, (EXAMPLE, POPULATION), strict=True):
        assert main(["replay", str(record), "--facts", str(facts), "--library", str(library)]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "identical"
        outcome = replay(record, facts, library=RulebookLibrary(library))
        assert outcome.identical and outcome.rulebook.identity.version == "2020-draft"
        assert outcome.rulebook.digest == read_record(record).rulebook_digest


def test_a_record_made_under_the_revision_replays_under_the_revision(tmp_path: Path):
    library = revised_library(tmp_path / "library")
    out = tmp_path / "new.json"
    assert main(["evaluate", str(POPULATION), "--rulebook", "miner", "--as-of", "2026-01-15",
                 "--library", str(library), "--record", str(out)]) == 1      # M57 is gone: one subject errors
    record = read_record(out)
    assert (record.rulebook_version, record.as_of) == ("2025-hypothetical", dt.date(2026, 1, 15))
    assert replay(out, POPULATION, library=RulebookLibrary(library)).identical
    with pytest.raises(ReplayError, match="no version '2025-hypothetical'"):
        replay(out, POPULATION)                                                 # the shipped library lacks it


def test_replay_names_every_difference(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = record_with_cli(tmp_path)
    record = json.loads(path.read_text(encoding="utf-8"))
    first = record["evaluation"]["results"][0]
    first["score"] = "891"
    first["items"][0]["applied"] = "150"
    record["evaluation"]["results"][2]["grade"] = "D"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    assert main(["replay", str(path), "--facts", str(EXAMPLE), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["identical"] is False
    assert [(d["subject"], d["field"], d["recorded"], d["replayed"]) for d in data["differences"]] == [
        ("91150600MA13R7T5Q6 某某矿业有限公司", "score", "891", "890"),
        ("91150600MA13R7T5Q6 某某矿业有限公司", "items[v-1].applied", "150", "200"),
        ("91150100MA0Q3F9X1W 呼和浩特某矿产开发有限公司", "grade", "D", "E"),
    ]
    assert main(["replay", str(path), "--facts", str(EXAMPLE)]) == 1
    out = capsys.readouterr().out
    assert "3 difference(s)" in out and "identical" not in out.splitlines()
    assert "91150600MA13R7T5Q6 某某矿业有限公司\tscore\t891\t890" in out


def test_replay_refuses_other_facts_naming_the_facts_digest(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    record = record_with_cli(tmp_path)
    other = edited(EXAMPLE, tmp_path / "other.yaml", "public_score: 812.35", "public_score: 812.36")
    capsys.readouterr()
    assert main(["replay", str(record), "--facts", str(other)]) == 2
    err = capsys.readouterr().err
    assert "the facts digest does not match the record" in err and "rulebook digest" not in err
    with pytest.raises(DigestMismatch) as caught:
        replay(record, other)
    assert caught.value.which == "facts" and caught.value.recorded == digest_of(EXAMPLE)


def test_replay_refuses_a_rulebook_changed_without_a_new_version(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]):
    record = record_with_cli(tmp_path)
    library = revised_library(tmp_path / "library")
    history = library / "history" / "miner@2020-draft.yaml"
    edited(SHIPPED / "miner.yaml", history, "        points: 300\n        wording: 未按规定办理采矿或勘查许可证变更",
           "        points: 310\n        wording: 未按规定办理采矿或勘查许可证变更")
    capsys.readouterr()
    assert main(["replay", str(record), "--facts", str(EXAMPLE), "--library", str(library)]) == 2
    err = capsys.readouterr().err
    assert "the rulebook digest does not match the record" in err
    assert "changed without a new version" in err
    with pytest.raises(DigestMismatch) as caught:
        replay(record, EXAMPLE, library=RulebookLibrary(library))
    assert caught.value.which == "rulebook"
    # the auditor's archived copy of the rulebook file replays it
    outcome = replay(record, EXAMPLE, library=RulebookLibrary(library), rulebook=SHIPPED / "miner.yaml")
    assert outcome.identical


def test_replay_of_something_that_is_not_a_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    not_json = tmp_path / "x.json"
    not_json.write_text("{", encoding="utf-8")
    wrong = tmp_path / "y.json"
    wrong.write_text(json.dumps({"rulebook": {}}), encoding="utf-8")
    for path, words in ((not_json, "is not valid JSON"), (wrong, "not a mincredit evaluation record"),
                        (tmp_path / "missing.json", "cannot read the record")):
        assert main(["replay", str(path), "--facts", str(EXAMPLE)]) == 2
        assert words in capsys.readouterr().err


@pytest.mark.parametrize(("rulebook_id", "version", "words"), [
    ("evil/miner", "x.yaml", "is not a rulebook id"),
    ("../miner", "2020-draft", "is not a rulebook id"),
    ("miner", "../../evil", "is not a version name"),
    ("miner", "x.yaml", "no version 'x.yaml' of rulebook 'miner'"),
    ("miner", " 2020-draft", "is not a version name"),
])
def test_a_record_names_library_ids_only_never_a_file(rulebook_id: str, version: str, words: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A tampered record naming `evil/miner` version `x.yaml` once loaded ./evil/miner@x.yaml and said
    "identical": the recorded id and version are looked up in the library, never read as a path."""
    record = record_with_cli(tmp_path)
    data = json.loads(record.read_text(encoding="utf-8"))
    planted = tmp_path / "evil" / "miner@x.yaml"
    planted.parent.mkdir()
    planted.write_bytes((SHIPPED / "miner.yaml").read_bytes())      # a rulebook with the recorded digest
    (tmp_path / "miner@x.yaml").write_bytes((SHIPPED / "miner.yaml").read_bytes())
    data["rulebook"].update(id=rulebook_id, version=version)
    record.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["replay", str(record), "--facts", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert words in err and "identical" not in err
    with pytest.raises(ReplayError, match=r"is not|no version"):
        replay(record, EXAMPLE)


# --- tampered records (fuzzed) ------------------------------------------------------------------------

def _record_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_record_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found.extend(_record_paths(item, (*prefix, index)))
    return found


_TAMPERED_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 10 ** 6), st.text(max_size=12), st.just([]), st.just({}),
    st.sampled_from(["evil/miner", "../miner", "x.yaml", "miner", "miner@2020-draft", "2020-draft", "agency",
                     "/etc/passwd", "sha256:" + "0" * 64, "9999-12-31", "2024-02-30", "NaN", "9" * 5000]))


@pytest.fixture(scope="module")
def a_record(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("record") / "record.json"
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", AS_OF, "--format", "json",
                 "--record", str(out)]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_tampered_record_is_refused_or_compared_never_a_traceback(a_record: dict[str, Any],
                                                                    data: st.DataObject) -> None:
    import contextlib
    import io
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        (here / "evil").mkdir()
        (here / "evil" / "miner@x.yaml").write_bytes((SHIPPED / "miner.yaml").read_bytes())
        record = here / "record.json"
        content = json.loads(json.dumps(a_record))
        for _ in range(data.draw(st.integers(1, 3))):
            path = data.draw(st.sampled_from(_record_paths(content)))
            parent = content
            for part in path[:-1]:
                parent = parent[part]
            if data.draw(st.booleans()):
                parent[path[-1]] = data.draw(_TAMPERED_VALUES)
            else:
                del parent[path[-1]]
        record.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(here):
            code = main(["replay", str(record), "--facts", str(EXAMPLE)])
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()
    assert code in (0, 1, 2)
    if code != 2:        # it was compared: the record names the library's own rulebook, never the planted file
        assert content["rulebook"]["id"] == "miner" and content["rulebook"]["version"] == "2020-draft"
