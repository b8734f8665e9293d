"""Publication (arts. 3, 15, 20) with personal information protected (art. 4; regional measures arts. 15, 27):
the lists as of a date at every boundary, exactly art. 20's fields, masking, changes, the manifest, verify
and replay, and the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mincredit._publish._api import (
    Publication,
    PublicationError,
    publish,
    read_publication,
    replay_publication,
    verify_publication,
)
from mincredit._publish._build import Edition
from mincredit.cli import main
from mincredit.facts._models import Subject
from mincredit.facts._validating import read_facts_text
from mincredit.rules._compiling import CompiledRulebook
from mincredit.rules._registry import load_rulebook

D = dt.date
ROOT = Path(__file__).resolve().parents[2]
MINER = "91150600MA13R7T5Q6"
OTHER = "91150200MA0N8K2L4Q"
THIRD = "91150100MA0Q1B3C59"
AGENCY = "12150000MB1A2C3D4A"
ID_NUMBER = "150602198001010011"      # a made-up number with a right check character
OTHER_ID = "150102197503150020"
MOMENT = dt.datetime(2025, 1, 2, 8, 0, tzinfo=dt.UTC)


@cache
def book(name: str = "miner") -> CompiledRulebook:
    return load_rulebook(name)


def violation(rid: str = "v-1", on: str = "2021-03-01", **extra: Any) -> dict[str, Any]:
    return {"id": rid, "type": "violation", "indicator": "M05", "tier": 1, "determined_on": on,
            "info_kind": "penalty", "behaviours": ["弄虚作假"],
            "penalty": {"kind": "administrative", "procedure": "general", "status": "upheld"}, **extra}


def listing(based_on: list[str], listed: str = "2021-03-15", **extra: Any) -> dict[str, Any]:
    return {"id": "L-1", "type": "listing", "article": 16, "item": 1, "based_on": based_on,
            "decided_by": "鄂尔多斯市自然资源局", "decision_number": "鄂自然资信〔2021〕1号",
            "notice_served_on": "2021-03-01", "listed_on": listed, **extra}


def subject(records: list[dict[str, Any]] | None = None, *, uscc: str = MINER, name: str = "某某矿业有限公司",
            **extra: Any) -> Subject:
    return Subject.model_validate({"uscc": uscc, "name": name, "kind": "miner", "public_score": 850,
                                   "records": records or [], **extra})


def listed_subject(**extra: Any) -> Subject:
    return subject([violation(), listing(["v-1"])], **extra)


def run(subjects: list[Subject], as_of: D, **kwargs: Any) -> Publication:
    return publish(subjects, book(), as_of, published_at=MOMENT, **kwargs)


def rows(publication: Publication, name: str = "blacklist") -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(publication.files[f"{name}.json"])["rows"]
    return result


def csv_table(publication: Publication, name: str) -> list[list[str]]:
    text = publication.files[f"{name}.csv"].decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# ---------------------------------------------------------------- who is on the published list, until when


def test_a_listing_is_published_through_the_last_day_of_its_five_years_and_not_the_day_after() -> None:
    # listed 2021-03-15: on the list through 2026-03-15, removed naturally on 2026-03-16 (I52, I83)
    last_day = run([listed_subject()], D(2026, 3, 15))
    [row] = rows(last_day)
    assert row["disclosure_period"] == {"from": "2021-03-15", "until": "2026-03-15"}
    assert (row["name"], row["uscc"], row["decided_by"]) == ("某某矿业有限公司", MINER, "鄂尔多斯市自然资源局")
    assert csv_table(last_day, "blacklist")[1][4] == "2021年3月15日至2026年3月15日"
    day_after = run([listed_subject()], D(2026, 3, 16), previous=last_day)
    assert rows(day_after) == []
    assert day_after.changes is not None
    [removed] = day_after.changes.blacklist
    assert (removed.change, removed.uscc, removed.day, removed.removal) == ("removed", MINER, D(2026, 3, 16),
                                                                            "natural")
    assert "移出严重失信名单（期满自然移出）" in day_after.files["changes.csv"].decode("utf-8")
    # the removed listing is named, never its facts, authority or period (I85)
    for name in ("changes.csv", "changes.json", "changes.html"):
        text = day_after.files[name].decode("utf-8")
        assert "鄂尔多斯市自然资源局" not in text and "至2026年3月15日" not in text and "2021-03-15" not in text


def test_a_listing_removed_by_decision_is_published_until_the_day_before_the_decision() -> None:
    removed = subject([
        violation(), listing(["v-1"], removal_applied_on="2022-04-01", removal_notice_from="2022-04-20",
                             removed_on="2022-05-10")])
    before = run([removed], D(2022, 5, 9))
    assert [row["disclosure_period"] for row in rows(before)] == [{"from": "2021-03-15", "until": "2026-03-15"}]
    after = run([removed], D(2022, 5, 10), previous=before)
    assert rows(after) == []
    assert after.changes is not None
    assert [(c.change, c.day, c.removal) for c in after.changes.blacklist] == [("removed", D(2022, 5, 10),
                                                                                "decision")]


def test_a_listing_is_not_published_before_its_decision() -> None:
    assert rows(run([listed_subject()], D(2021, 3, 14))) == []
    assert len(rows(run([listed_subject()], D(2021, 3, 15)))) == 1


def test_facts_come_from_the_basis_still_disclosed_and_a_listing_with_none_left_is_withheld() -> None:
    revoked = violation(objections=[{"raised_on": "2021-06-01", "decided_on": "2021-06-20", "outcome": "revoked"}])
    publication = run([subject([revoked, listing(["v-1"])])], D(2021, 6, 30))
    assert rows(publication) == []
    assert len(publication.notes) == 1 and "none of the records it rests on (v-1)" in publication.notes[0]
    assert publication.manifest["not_published"]["listings_without_disclosed_facts"] == 1
    # before the finding the record was disclosed, so the listing was published
    assert len(rows(run([subject([revoked, listing(["v-1"])])], D(2021, 6, 19)))) == 1


def test_facts_text_is_the_description_or_the_regulations_words_with_the_day_of_determination() -> None:
    described = subject([violation(description="以提交虚假材料方式骗取采矿许可证延续"),
                         {"id": "j-1", "type": "judgment_refusal", "determined_on": "2021-02-01",
                          "able_to_perform": True},
                         {**listing(["v-1", "j-1"])}])
    [row] = rows(run([described], D(2021, 12, 31)))
    assert row["facts"] == ("2021年3月1日，以提交虚假材料方式骗取采矿许可证延续；"
                            "2021年2月1日，有履行能力而拒不履行判决、裁定等生效法律文书的信息")
    [plain] = rows(run([listed_subject()], D(2021, 12, 31)))
    tier = book().tables.tiers["M05"][1]
    assert plain["facts"] == f"2021年3月1日，{tier.title}：{tier.wording}"


def test_a_dissolved_subject_stays_on_the_list_but_has_no_result() -> None:
    publication = run([listed_subject(status="dissolved")], D(2021, 12, 31))
    assert [row["uscc"] for row in rows(publication)] == [MINER]
    assert rows(publication, "results") == []


# ---------------------------------------------------------------- fields: exactly art. 20's


def test_the_blacklist_publishes_exactly_art_20s_fields_in_its_order() -> None:
    publication = run([listed_subject(basic={"legal_representative": {"name": "王建国", "id_number": ID_NUMBER}})],
                      D(2021, 12, 31))
    fields = book().source.publication
    assert fields is not None
    keys = [item.key for item in fields.blacklist.fields]
    labels = [item.label for item in fields.blacklist.fields]
    assert labels == ["主体名称", "统一社会信用代码", "失信事实", "决定机关", "披露期限"]   # art. 20 ¶2, line 69
    assert all(list(row) == keys for row in rows(publication))
    assert csv_table(publication, "blacklist")[0] == labels
    assert json.loads(publication.files["blacklist.json"])["fields"] == [
        {"key": key, "label": label} for key, label in zip(keys, labels, strict=True)]


def test_the_results_list_is_every_evaluated_subject_with_its_grade_and_period() -> None:
    population = [listed_subject(), subject(uscc=OTHER, name="乙矿业有限公司"),
                  subject(uscc=THIRD, name="丙矿业有限公司", status="dissolved")]
    publication = run(population, D(2024, 9, 30))
    assert rows(publication, "results") == [
        {"name": "乙矿业有限公司", "uscc": OTHER, "grade": "A", "period": "2024年第3季度"},
        {"name": "某某矿业有限公司", "uscc": MINER, "grade": "C", "period": "2024年第3季度"}]
    assert csv_table(publication, "results")[1] == ["乙矿业有限公司", OTHER, "A级（信用优秀）", "2024年第3季度"]
    for name in publication.files:   # no score is published (I81)
        assert "970" not in publication.files[name].decode("utf-8")


@pytest.mark.parametrize(("as_of", "kind", "number", "text"), [
    (D(2024, 12, 31), "publish", 1, "2024年度集中公布"),
    (D(2024, 9, 30), "update", 3, "2024年第3季度更新"),
    (D(2024, 3, 31), "update", 1, "2024年第1季度更新"),
    (D(2024, 9, 29), "interim", 0, "截至2024年9月29日"),
    (D(2024, 10, 31), "interim", 0, "截至2024年10月31日"),
])
def test_editions_follow_the_rulebooks_schedule(as_of: D, kind: str, number: int, text: str) -> None:
    rules = book().source.publication
    assert rules is not None
    edition = Edition.of(rules.blacklist.schedule, as_of)
    assert (edition.kind, edition.number, edition.text(rules.texts, as_of)) == (kind, number, text)


# ---------------------------------------------------------------- personal information


def test_basic_information_never_reaches_any_file_and_names_in_free_text_are_masked() -> None:
    basic = {"legal_representative": {"name": "王建国", "id_number": ID_NUMBER, "phone": "13904771234"},
             "actual_controllers": [{"name": "李秀英", "id_number": OTHER_ID, "travel_document": "E12345678"}],
             "contact": {"name": "赵小明", "phone": "0477-8123456"}}
    description = (f"法定代表人王建国（身份证号{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]}）与实际控制人李秀英"
                   "（护照e12345678，电话13904771234）虚报储量；王建国矿业公司另案处理")
    publication = run([subject([violation(description=description), listing(["v-1"])], name="王建国矿业有限公司",
                               basic=basic)], D(2021, 12, 31))
    [row] = rows(publication)
    assert row["name"] == "王建国矿业有限公司"                       # the subject's own name is public
    assert row["facts"] == ("2021年3月1日，法定代表人王某（身份证号********************）与实际控制人李某"
                            "（护照*********，电话***********）虚报储量；王某矿业公司另案处理")
    for name, data in publication.files.items():
        text = data.decode("utf-8")
        for secret in (ID_NUMBER, OTHER_ID, "E12345678", "13904771234", "0477-8123456", "李秀英", "赵小明"):
            assert secret not in text, f"{secret} in {name}"
    manifest = publication.manifest_bytes().decode("utf-8")
    assert ID_NUMBER not in manifest and "王建国" not in manifest


def test_the_facts_digest_of_a_publication_leaves_the_basic_information_out() -> None:
    plain = run([listed_subject()], D(2021, 12, 31))
    with_basic = run([listed_subject(basic={"legal_representative": {"name": "王建国", "id_number": ID_NUMBER}})],
                     D(2021, 12, 31))
    assert plain.manifest["facts"]["digest"] == with_basic.manifest["facts"]["digest"]
    assert plain.files == with_basic.files


# ---------------------------------------------------------------- errors and other kinds


def test_a_bad_subject_is_an_error_and_the_others_are_still_published() -> None:
    text = f"""
subjects:
  - {{uscc: {MINER}, name: 甲, kind: miner, public_score: 850,
      basic: {{legal_representative: {{name: 王建国, id_number: "{ID_NUMBER[:-1]}9"}}}}}}
  - {{uscc: {OTHER}, name: 乙, kind: miner, public_score: 850}}
  - {{uscc: {AGENCY}, name: 丙, kind: agency, public_score: 850}}
"""
    entries = list(read_facts_text(text, "facts.yaml", "yaml"))
    publication = publish(entries, book(), D(2024, 9, 30), published_at=MOMENT)
    assert [row["uscc"] for row in rows(publication, "results")] == [OTHER]
    assert not publication.complete and publication.manifest["complete"] is False
    [error] = publication.errors
    assert error.field == "basic.legal_representative.id_number"
    assert "check character" in error.message and ID_NUMBER[:-1] not in error.describe()
    assert publication.other_kind == 1


def test_a_rulebook_without_a_publication_block_is_refused_by_name(tmp_path: Path) -> None:
    from mincredit._publish._build import PublicationUnavailable
    from mincredit.rules._compiling import compile_rulebook

    bare = compile_rulebook(book().source.model_copy(update={"publication": None}))
    with pytest.raises(PublicationUnavailable, match="no 'publication:' block"):
        publish([listed_subject()], bare, D(2021, 12, 31))


# ---------------------------------------------------------------- the manifest: verify and replay


def written(tmp_path: Path, name: str, subjects: list[Subject], as_of: D, **kwargs: Any) -> Path:
    folder = tmp_path / name
    run(subjects, as_of, **kwargs).write(folder)
    return folder


def test_the_manifest_names_the_rulebook_the_date_and_the_sha256_of_every_file(tmp_path: Path) -> None:
    import hashlib

    folder = written(tmp_path, "q3", [listed_subject()], D(2024, 9, 30))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rulebook"] == {"id": "miner", "version": "2020-draft", "digest": book().digest}
    assert manifest["as_of"] == "2024-09-30"
    on_disk = sorted(p.name for p in folder.iterdir() if p.name != "manifest.json")
    assert sorted(manifest["files"]) == on_disk == sorted(f"{n}.{e}" for n in ("blacklist", "results")
                                                          for e in ("csv", "json", "html"))
    for name, digest in manifest["files"].items():
        assert digest == "sha256:" + hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert verify_publication(folder) == []


def test_verify_finds_a_changed_a_missing_and_an_extra_file(tmp_path: Path) -> None:
    folder = written(tmp_path, "q3", [listed_subject()], D(2024, 9, 30))
    (folder / "blacklist.csv").write_bytes(b"tampered")
    (folder / "results.html").unlink()
    (folder / "notes.txt").write_text("x")
    problems = verify_publication(folder)
    assert [p.split(":")[0] for p in problems] == ["blacklist.csv", "results.html", "notes.txt"]
    with pytest.raises(PublicationError, match="does not match its manifest"):
        read_publication(folder)


def test_replay_is_identical_with_the_same_facts_and_refuses_other_facts(tmp_path: Path) -> None:
    earlier = written(tmp_path, "q2", [listed_subject()], D(2024, 6, 30))
    later = written(tmp_path, "q3", [listed_subject(), subject(uscc=OTHER, name="乙")], D(2024, 9, 30),
                    previous=read_publication(earlier))
    outcome = replay_publication(later, [listed_subject(), subject(uscc=OTHER, name="乙")], previous=earlier)
    assert outcome.identical
    with pytest.raises(PublicationError, match="facts digest does not match"):
        replay_publication(later, [listed_subject()], previous=earlier)
    with pytest.raises(PublicationError, match="give that folder as the previous one"):
        replay_publication(later, [listed_subject(), subject(uscc=OTHER, name="乙")])
    with pytest.raises(PublicationError, match="is not the previous publication"):
        replay_publication(later, [listed_subject(), subject(uscc=OTHER, name="乙")], previous=later)


def test_replay_refuses_a_rulebook_whose_digest_differs(tmp_path: Path) -> None:
    from mincredit.rules._compiling import compile_rulebook

    folder = written(tmp_path, "q3", [listed_subject()], D(2024, 9, 30))
    rules = book().source.publication
    assert rules is not None
    other = compile_rulebook(book().source.model_copy(update={"publication": rules.model_copy(update={
        "blacklist": rules.blacklist.model_copy(update={"title": "另一个标题"})})}))
    with pytest.raises(PublicationError, match="rulebook digest does not match"):
        replay_publication(folder, [listed_subject()], rulebook=other)


def test_writing_replaces_an_earlier_publication_and_refuses_a_foreign_folder(tmp_path: Path) -> None:
    earlier = written(tmp_path, "q2", [listed_subject()], D(2024, 6, 30))
    folder = written(tmp_path, "q3", [listed_subject()], D(2024, 9, 30), previous=read_publication(earlier))
    assert (folder / "changes.json").exists()
    run([listed_subject()], D(2024, 9, 30)).write(folder)        # again, without a previous one
    assert not (folder / "changes.json").exists() and verify_publication(folder) == []
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "index.html").write_text("the portal's own page")
    with pytest.raises(PublicationError, match="not empty and holds no earlier publication"):
        run([listed_subject()], D(2024, 9, 30)).write(foreign)
    assert (foreign / "index.html").read_text() == "the portal's own page"


def test_the_files_do_not_depend_on_the_day_they_are_made() -> None:
    one = publish([listed_subject()], book(), D(2024, 9, 30), published_at=MOMENT)
    two = publish([listed_subject()], book(), D(2024, 9, 30), published_at=MOMENT + dt.timedelta(days=400))
    assert one.files == two.files and one.manifest["published_at"] != two.manifest["published_at"]


def test_changes_list_newly_listed_and_grades_changed_from_two_runs() -> None:
    before = run([subject(), subject(uscc=OTHER, name="乙")], D(2021, 3, 14))
    after = run([listed_subject(), subject(uscc=OTHER, name="乙"), subject(uscc=THIRD, name="丙")],
                D(2021, 3, 31), previous=before)
    assert after.changes is not None
    assert [(c.change, c.uscc, c.day) for c in after.changes.blacklist] == [("listed", MINER, D(2021, 3, 15))]
    assert [(c.change, c.uscc, c.previous_grade, c.current_grade) for c in after.changes.results] == [
        ("new", THIRD, None, "A"), ("grade", MINER, "A", "C")]
    assert after.manifest["previous"] == {"as_of": "2021-03-14", "manifest": before.as_previous().manifest_sha256}


# ---------------------------------------------------------------- the command line


def test_publish_and_publish_verify_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = ROOT / "examples" / "publication.yaml"
    q1, q2 = tmp_path / "2023Q1", tmp_path / "2023Q2"
    assert main(["publish", str(facts), "--rulebook", "miner", "--quarter", "2023Q1", "--output", str(q1)]) == 0
    assert main(["publish", str(facts), "--rulebook", "miner", "--quarter", "2023Q2", "--output", str(q2),
                 "--previous", str(q1)]) == 0
    out = capsys.readouterr().out
    assert "1 newly listed, 1 removed" in out
    assert main(["publish-verify", str(q2)]) == 0
    assert main(["publish-verify", str(q2), "--facts", str(facts), "--previous", str(q1)]) == 0
    assert "identical" in capsys.readouterr().out
    (q2 / "results.json").write_text("{}")
    assert main(["publish-verify", str(q2)]) == 1
    assert "results.json: changed since it was published" in capsys.readouterr().out


def test_publish_exit_statuses_for_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = ROOT / "examples" / "publication.yaml"
    folder = tmp_path / "out"
    assert main(["publish", str(facts), "--rulebook", "miner", "--as-of", "2024-09-30", "--output", str(folder),
                 "--previous", str(folder)]) == 2
    assert "same folder" in capsys.readouterr().err
    assert main(["publish", str(facts), "--rulebook", "miner", "--as-of", "2026-01-15", "--output",
                 str(folder)]) == 2
    assert "no version of rulebook 'miner' is in force on 2026-01-15" in capsys.readouterr().err
    assert main(["publish-verify", str(tmp_path)]) == 2
    assert "has no manifest.json" in capsys.readouterr().err


def test_publish_with_a_subject_that_cannot_be_evaluated_exits_1_and_writes_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(f"""subjects:
  - {{uscc: {MINER}, name: 甲, kind: miner, public_score: 850,
      basic: {{legal_representative: {{name: 王建国, id_number: "15060219800230001X"}}}}}}
  - {{uscc: {OTHER}, name: 乙, kind: miner, public_score: 850}}
""", encoding="utf-8")
    folder = tmp_path / "out"
    assert main(["publish", str(facts), "--rulebook", "miner", "--as-of", "2024-09-30", "--output",
                 str(folder)]) == 1
    captured = capsys.readouterr()
    assert "subject #1" in captured.err and "basic.legal_representative.id_number" in captured.err
    assert "birth date" in captured.err and "15060219800230001X" not in captured.err + captured.out
    assert "incomplete: 1 subject(s)" in captured.out
    assert verify_publication(folder) == []


def test_a_statutory_ground_is_published_with_its_law_and_a_revoked_listing_leaves_as_revoked() -> None:
    ground = {"id": "s-1", "type": "statutory_ground", "determined_on": "2021-02-01", "law": "《某某条例》第十条"}
    objection = {"raised_on": "2021-06-01", "decided_on": "2021-06-20", "outcome": "revoked"}
    records = [ground, {**listing(["s-1"]), "item": 3, "objections": [objection]}]
    before = run([subject(records)], D(2021, 6, 19))
    [row] = rows(before)
    assert row["facts"] == "2021年2月1日，法律、法规规定的其他应当列入严重失信名单的（《某某条例》第十条）"
    after = run([subject(records)], D(2021, 6, 20), previous=before)
    assert rows(after) == []
    assert after.changes is not None
    assert [(c.change, c.day, c.removal) for c in after.changes.blacklist] == [("removed", D(2021, 6, 20),
                                                                                "revoked")]
