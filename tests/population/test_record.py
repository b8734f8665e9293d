"""Population runs recorded (the digests of their files) and replayed: the same output, or the subjects that differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import generated_population
from population.mutations import write_jsonl

from mincredit._population.record import (
    POPULATION_RECORD_KIND,
    compare_outputs,
    output_rows,
    read_population_record,
    replay_population,
)
from mincredit._replay import DigestMismatch, ReplayError
from mincredit.cli import main

pq = pytest.importorskip("pyarrow.parquet")
AS_OF = "2024-06-30"


def facts_file(tmp_path: Path, count: int = 30) -> Path:
    """A population with a few subjects the rulebook refuses (their errors are recorded as a digest)."""
    return write_jsonl(tmp_path / "facts.jsonl", generated_population(count, seed=5), ('{"uscc": 1}',))


def record_run(tmp_path: Path, facts: Path, output: str, *extra: str) -> Path:
    record = tmp_path / "run.json"
    code = main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--output", str(tmp_path / output),
                 "--record", str(record), *extra])
    assert code == 1          # the line that is not a subject
    return record


@pytest.mark.parametrize(("output", "extra"), [("out.jsonl", ()), ("out.parquet", ("--no-explain",)),
                                                ("out.jsonl", ("--jobs", "2", "--no-explain"))])
def test_a_recorded_run_replays_byte_for_byte(tmp_path: Path, output: str, extra: tuple[str, ...],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    facts = facts_file(tmp_path)
    record_path = record_run(tmp_path, facts, output, *extra)
    data = json.loads(record_path.read_text(encoding="utf-8"))
    assert data["record"] == POPULATION_RECORD_KIND and data["as_of"] == AS_OF
    assert data["rulebook"]["id"] == "miner" and data["rulebook"]["digest"].startswith("sha256:")
    assert data["facts"]["bytes"] == facts.stat().st_size and data["facts"]["digest"].startswith("sha256:")
    assert data["output"]["file"] == str(tmp_path / output)
    assert data["output"]["explain"] == ("--no-explain" not in extra)
    assert data["summary"]["subjects"] == 31 and data["summary"]["with_errors"] == 1 and data["errors"]["count"] == 3
    assert "results" not in json.dumps(data)       # digests, never the results themselves
    capsys.readouterr()
    assert main(["replay", str(record_path), "--facts", str(facts)]) == 0
    out = capsys.readouterr().out
    assert "a population run of miner@2020-draft" in out and "byte for byte the recorded one" in out
    assert out.rstrip().endswith("identical")


def test_a_changed_result_is_named_by_subject_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What a replay says when the code now scores a subject otherwise: made here by recording an output in which
    one subject's score was changed, so that the replayed output differs from it."""
    facts = facts_file(tmp_path)
    record_path = record_run(tmp_path, facts, "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    changed = {**first, "score": "1", "grade": "A" if first["grade"] != "A" else "B"}
    (tmp_path / "out.jsonl").write_text("\n".join([json.dumps(changed, ensure_ascii=False), *lines[1:]]) + "\n",
                                        encoding="utf-8")
    rerecord(record_path, tmp_path / "out.jsonl")
    capsys.readouterr()
    assert main(["replay", str(record_path), "--facts", str(facts)]) == 1
    out = capsys.readouterr().out
    assert "1 subject(s) differ" in out and out.rstrip().endswith("different")
    subject = f"{first['uscc']} {first['name']}"
    assert f"  {subject}\tscore\t1\t{first['score']}" in out
    assert f"  {subject}\tgrade\t{changed['grade']}\t{first['grade']}" in out
    assert main(["replay", str(record_path), "--facts", str(facts), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["subjects_differing"] == [subject] and report["output"]["compared"] is True


def rerecord(record_path: Path, output: Path) -> None:
    """Make the record name ``output`` as it now is (its digest and size)."""
    from mincredit._population.record import FileDigest

    data = json.loads(record_path.read_text(encoding="utf-8"))
    found = FileDigest.of(output)
    data["output"].update(file=str(output), bytes=found.bytes, digest=found.digest)
    record_path.write_text(json.dumps(data), encoding="utf-8")


def test_other_bytes_with_the_same_results_are_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Parquet output written otherwise (another pyarrow, another compression) holds the same results."""
    facts = facts_file(tmp_path)
    record_path = record_run(tmp_path, facts, "out.parquet", "--no-explain")
    table = pq.read_table(tmp_path / "out.parquet")
    pq.write_table(table, tmp_path / "out.parquet", compression="gzip")
    rerecord(record_path, tmp_path / "out.parquet")
    capsys.readouterr()
    assert main(["replay", str(record_path), "--facts", str(facts)]) == 0
    assert "bytes differ from the recorded ones" in capsys.readouterr().out
    outcome = replay_population(record_path, facts)
    assert outcome.identical and not outcome.same_bytes and outcome.compared and outcome.same_errors


def test_without_the_recorded_output_only_the_digests_are_compared(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    facts = facts_file(tmp_path)
    record_path = record_run(tmp_path, facts, "out.jsonl")
    data = json.loads(record_path.read_text(encoding="utf-8"))
    data["output"]["digest"] = "sha256:" + "0" * 64      # a run whose output is not at hand and differs
    data["output"]["file"] = str(tmp_path / "gone.jsonl")
    record_path.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main(["replay", str(record_path), "--facts", str(facts)]) == 1
    out = capsys.readouterr().out
    assert "give the output the run wrote (--results FILE" in out and "gone.jsonl" in out


@pytest.mark.parametrize("what", ["facts", "output", "rulebook"])
def test_other_files_than_the_recorded_ones_are_refused(tmp_path: Path, what: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    facts = facts_file(tmp_path)
    record_path = record_run(tmp_path, facts, "out.jsonl")
    args = ["replay", str(record_path), "--facts", str(facts)]
    if what == "facts":
        facts.write_bytes(facts.read_bytes() + b"\n")          # a blank line more: other bytes
    elif what == "output":
        (tmp_path / "out.jsonl").write_bytes(b"")
    else:
        data = json.loads(record_path.read_text(encoding="utf-8"))
        data["rulebook"]["digest"] = "sha256:" + "1" * 64
        record_path.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main(args) == 2
    assert f"the {what} digest does not match the record" in capsys.readouterr().err
    if what != "rulebook":
        with pytest.raises(DigestMismatch):
            replay_population(record_path, facts)


def test_the_errors_are_part_of_the_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = facts_file(tmp_path)
    record_path = record_run(tmp_path, facts, "out.jsonl")
    data = json.loads(record_path.read_text(encoding="utf-8"))
    data["errors"]["count"] = 2
    record_path.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main(["replay", str(record_path), "--facts", str(facts)]) == 1
    assert "the errors differ: 2 recorded, 3 replayed" in capsys.readouterr().out


def test_a_two_file_columnar_run_needs_its_subjects_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pa = pytest.importorskip("pyarrow")
    subjects = pa.table({"uscc": ["91150600MA13R7T5Q6"], "name": ["某某矿业有限公司"], "kind": ["miner"],
                         "public_score": ["850"]})
    records = pa.table({"uscc": ["91150600MA13R7T5Q6"], "record_id": ["v-1"], "type": ["violation"],
                        "indicator": ["M03"], "tier": [2], "determined_on": ["2023-05-10"]})
    pq.write_table(subjects, tmp_path / "subjects.parquet")
    pq.write_table(records, tmp_path / "records.parquet")
    record = tmp_path / "run.json"
    assert main(["evaluate", str(tmp_path / "records.parquet"), "--subjects", str(tmp_path / "subjects.parquet"),
                 "--rulebook", "miner", "--as-of", AS_OF, "--output", str(tmp_path / "out.jsonl"),
                 "--record", str(record)]) == 0
    assert read_population_record(record).subjects_file == str(tmp_path / "subjects.parquet")
    capsys.readouterr()
    assert main(["replay", str(record), "--facts", str(tmp_path / "records.parquet")]) == 2
    assert "give it with --subjects FILE" in capsys.readouterr().err
    assert main(["replay", str(record), "--facts", str(tmp_path / "records.parquet"),
                 "--subjects", str(tmp_path / "subjects.parquet")]) == 0


def test_recording_needs_an_output_file_and_a_folder_for_the_record(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    facts = facts_file(tmp_path, 3)
    assert main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--format", "jsonl",
                 "--record", str(tmp_path / "run.json")]) == 2
    assert "write it with --output FILE" in capsys.readouterr().err
    assert main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--output",
                 str(tmp_path / "out.jsonl"), "--record", str(tmp_path / "missing" / "run.json")]) == 2
    assert "the folder" in capsys.readouterr().err and not (tmp_path / "out.jsonl").exists()   # checked first


def test_a_facts_file_changed_during_the_run_is_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from mincredit._population import record as record_module

    monkeypatch.setattr(record_module.FileDigest, "unchanged", lambda self: False)
    facts = facts_file(tmp_path, 3)
    assert main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--output",
                 str(tmp_path / "out.jsonl"), "--record", str(tmp_path / "run.json")]) == 2
    assert "changed while it was evaluated" in capsys.readouterr().err and not (tmp_path / "run.json").exists()


def test_an_evaluation_record_is_not_a_population_record(tmp_path: Path) -> None:
    record = tmp_path / "run.json"
    record.write_text(json.dumps({"record": "mincredit evaluation record", "format": 1}), encoding="utf-8")
    with pytest.raises(ReplayError, match="not a mincredit population record"):
        read_population_record(record)


def test_outputs_are_compared_by_subject_whatever_their_format(tmp_path: Path) -> None:
    facts = facts_file(tmp_path, 10)
    for name in ("a.jsonl", "b.parquet"):
        main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", AS_OF, "--output", str(tmp_path / name)])
    rows: list[dict[str, Any]] = list(output_rows(tmp_path / "b.parquet"))
    assert rows == list(output_rows(tmp_path / "a.jsonl"))
    assert compare_outputs(tmp_path / "a.jsonl", tmp_path / "b.parquet") == []
