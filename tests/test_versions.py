"""Rulebook versions: the library, choosing a version by date or by name, `mincredit versions`.

The second version is tests/fixtures/miner-hypothetical-revision.yaml, a HYPOTHETICAL revision
(NOT A REAL REGULATION) in force from 2025-12-01 with no end.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from fixtures.versions_library import EXAMPLE, POPULATION, REVISION, SHIPPED, edited, revised_library

from mincredit._engine import evaluate
from mincredit.cli import main
from mincredit.facts._validating import read_facts_file
from mincredit.rules._digest import rulebook_digest
from mincredit.rules._loading import load_rulebook_file
from mincredit.rules._registry import (
    LibraryError,
    NoVersionInForce,
    RulebookLibrary,
    UnknownRulebook,
    load_rulebook,
    load_rulebook_source,
    resolve_rulebook,
    shipped_rulebook_ids,
)


@pytest.fixture
def library(tmp_path: Path) -> RulebookLibrary:
    return RulebookLibrary(revised_library(tmp_path / "library"))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- the shipped library -------------------------------------------------------------------------

def test_shipped_library_holds_one_consistent_version_of_each_rulebook():
    shipped = RulebookLibrary.shipped()
    assert shipped.ids() == ["agency", "miner"] == shipped_rulebook_ids()
    versions = shipped.all_versions()
    assert [(v.spec, v.start, v.end, v.status) for v in versions] == [
        ("agency@2020-draft", day("2020-12-01"), day("2025-11-30"), "draft"),
        ("miner@2020-draft", day("2020-12-01"), day("2025-11-30"), "draft"),
    ]
    # every version in history/ is named after what it holds and no two overlap (versions() checks)
    assert all(v.digest == rulebook_digest(load_rulebook_file(v.path).rulebook) for v in versions)


@pytest.mark.parametrize("as_of", ["2020-12-01", "2024-06-30", "2025-11-30"])
def test_bare_id_is_the_version_in_force_on_the_date(as_of: str):
    resolved = resolve_rulebook("miner", as_of=day(as_of))
    assert (resolved.rulebook.identity.version, resolved.chosen_by) == ("2020-draft", "date")


@pytest.mark.parametrize(("as_of", "words"), [
    ("2025-12-01", "which ended 1 day before 2025-12-01"),
    ("2026-03-01", "which ended 91 days before 2026-03-01"),
    ("2020-11-30", "which starts 1 day after 2020-11-30"),
])
def test_a_date_no_version_covers_is_an_error_naming_the_nearest(as_of: str, words: str):
    with pytest.raises(NoVersionInForce) as caught:
        resolve_rulebook("miner", as_of=day(as_of))
    message = str(caught.value)
    assert f"no version of rulebook 'miner' is in force on {as_of}" in message
    assert "miner@2020-draft (征求意见稿, in force 2020-12-01 to 2025-11-30)" in message
    assert words in message
    assert message.endswith("name a version explicitly (miner@2020-draft) to evaluate anyway")
    assert [entry.spec for entry in caught.value.nearest] == ["miner@2020-draft"]


def test_a_named_version_or_a_file_is_used_whatever_the_date():
    named = resolve_rulebook("miner@2020-draft", as_of=day("2030-01-01"))
    assert (named.rulebook.identity.version, named.chosen_by) == ("2020-draft", "version")
    assert not named.in_force_on(day("2030-01-01"))
    by_file = resolve_rulebook(str(REVISION), as_of=day("2020-01-01"))
    assert (by_file.rulebook.identity.version, by_file.chosen_by) == ("2025-hypothetical", "path")


def test_existing_callers_keep_working():
    assert load_rulebook("miner").identity.version == "2020-draft"            # newest, no date
    assert load_rulebook_source("agency").rulebook.rulebook.id == "agency"
    assert load_rulebook(SHIPPED / "miner.yaml").digest == load_rulebook("miner@2020-draft").digest
    with pytest.raises(UnknownRulebook, match=r"no rulebook called 'nosuch'.*it holds: agency, miner"):
        load_rulebook("nosuch")
    with pytest.raises(UnknownRulebook, match=r"no version '2031' of rulebook 'miner'.*miner@2020-draft"):
        load_rulebook("miner@2031")
    with pytest.raises(UnknownRulebook, match="does not exist"):
        load_rulebook("missing/miner.yaml")


# --- a library with two versions ------------------------------------------------------------------

def test_versions_are_listed_oldest_first_with_files_and_digests(library: RulebookLibrary):
    versions = library.versions("miner")
    assert [(v.spec, v.newest_file, v.path.relative_to(library.directory).as_posix()) for v in versions] == [
        ("miner@2020-draft", False, "history/miner@2020-draft.yaml"),
        ("miner@2025-hypothetical", True, "miner.yaml"),
    ]
    assert versions[0].digest == RulebookLibrary.shipped().newest("miner").digest
    assert versions[1].digest == rulebook_digest(load_rulebook_file(REVISION).rulebook)
    assert library.with_digest(versions[0].digest) == [versions[0]]


@pytest.mark.parametrize(("as_of", "version"), [
    ("2020-12-01", "2020-draft"), ("2025-11-30", "2020-draft"),
    ("2025-12-01", "2025-hypothetical"), ("2040-01-01", "2025-hypothetical"),
])
def test_the_date_picks_the_version_whose_period_covers_it(library: RulebookLibrary, as_of: str, version: str):
    assert library.resolve("miner", as_of=day(as_of)).rulebook.identity.version == version


def test_without_a_date_a_bare_id_is_the_newest_version(library: RulebookLibrary):
    resolved = library.resolve("miner")
    assert (resolved.rulebook.identity.version, resolved.chosen_by) == ("2025-hypothetical", "newest")


def test_two_versions_live_side_by_side_in_one_process(library: RulebookLibrary):
    """甲矿业 (M03.2 and a ministry honour, public 850), scored by both versions at once:
    2020-draft 170 + (1000 − 200 + 100) × 0.8 = 890 → B; revision (M03.2 = 300, B from 820)
    170 + (1000 − 300 + 100) × 0.8 = 810 → C."""
    old = library.resolve("miner@2020-draft").rulebook
    new = library.resolve("miner@2025-hypothetical").rulebook
    subjects = [entry for entry in read_facts_file(POPULATION)][:1]
    before = evaluate(subjects, old, day("2024-06-30")).results[0]
    after = evaluate(subjects, new, day("2024-06-30")).results[0]
    assert (before.score, before.grade) == (Decimal(890), "B")
    assert (after.score, after.grade) == (Decimal(810), "C")
    assert old.tables.tiers["M03"][2].points == 200 and new.tables.tiers["M03"][2].points == 300
    assert library.compiled(library.get("miner", "2020-draft")) is old      # compiled once, kept


def test_a_gap_between_versions_names_the_version_before_and_after(tmp_path: Path):
    directory = revised_library(tmp_path / "library")
    edited(REVISION, directory / "miner.yaml", "    from: 2025-12-01", "    from: 2026-06-01")
    with pytest.raises(NoVersionInForce) as caught:
        RulebookLibrary(directory).resolve("miner", as_of=day("2026-01-01"))
    assert [entry.spec for entry in caught.value.nearest] == ["miner@2020-draft", "miner@2025-hypothetical"]
    assert "which starts 151 days after 2026-01-01" in str(caught.value)
    assert "name a version explicitly (miner@2020-draft or miner@2025-hypothetical)" in str(caught.value)


@pytest.mark.parametrize(("change", "words"), [
    ("misnamed", "is named miner@2019-draft but holds miner@2020-draft"),
    ("duplicate", "version miner@2020-draft is also in"),
    ("overlap", "overlaps miner@2020-draft"),
    ("history newer", "the ID.yaml file must hold the newest version"),
    ("bad name", "must be named ID@VERSION.yaml"),
])
def test_an_inconsistent_library_is_refused(tmp_path: Path, change: str, words: str):
    directory = revised_library(tmp_path / "library")
    history = directory / "history" / "miner@2020-draft.yaml"
    if change == "misnamed":
        history.rename(history.with_name("miner@2019-draft.yaml"))
    elif change == "duplicate":
        (directory / "miner.yaml").write_bytes(history.read_bytes())
    elif change == "overlap":
        edited(REVISION, directory / "miner.yaml", "    from: 2025-12-01", "    from: 2025-01-01")
    elif change == "history newer":
        (directory / "miner.yaml").write_bytes(history.read_bytes())
        (directory / "history" / "miner@2025-hypothetical.yaml").write_bytes(REVISION.read_bytes())
        history.unlink()
    else:
        history.rename(history.with_name("miner-2020.yaml"))
    with pytest.raises(LibraryError, match=words):
        RulebookLibrary(directory).versions("miner")


def test_a_library_with_only_history_still_resolves(tmp_path: Path):
    directory = tmp_path / "library"
    (directory / "history").mkdir(parents=True)
    (directory / "history" / "miner@2020-draft.yaml").write_bytes((SHIPPED / "miner.yaml").read_bytes())
    library = RulebookLibrary(directory)
    assert library.ids() == ["miner"]
    assert library.resolve("miner", as_of=day("2024-06-30")).entry == library.newest("miner")


# --- the command line -----------------------------------------------------------------------------

def test_cli_versions_lists_periods_status_and_digests(library: RulebookLibrary, capsys: pytest.CaptureFixture[str]):
    assert main(["versions", "miner", "--library", str(library.directory), "--as-of", "2026-01-15",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["as_of"] for r in rows} == {"2026-01-15"}
    assert [(r["spec"], r["status"], r["effective_from"], r["effective_until"], r["file"], r["newest"],
             r["in_force"]) for r in rows] == [
        ("miner@2020-draft", "draft", "2020-12-01", "2025-11-30", "history/miner@2020-draft.yaml", False, False),
        ("miner@2025-hypothetical", "hypothetical", "2025-12-01", None, "miner.yaml", True, True),
    ]
    assert [r["digest"] for r in rows] == [v.digest for v in library.versions("miner")]


def test_cli_versions_table_and_unknown_id(capsys: pytest.CaptureFixture[str]):
    assert main(["versions", "--as-of", "2024-06-30"]) == 0
    out = capsys.readouterr().out
    assert "miner@2020-draft" in out and "agency@2020-draft" in out and "in force on 2024-06-30" in out
    assert "today" not in out                      # the day asked about is not today
    assert main(["versions"]) == 0
    assert f"in force on {dt.date.today()} (today)" in capsys.readouterr().out
    assert RulebookLibrary.shipped().newest("miner").digest in out
    assert main(["versions", "nosuch"]) == 2
    assert "no rulebook called 'nosuch'" in capsys.readouterr().err


def test_cli_evaluate_after_the_draft_expired_is_an_error(capsys: pytest.CaptureFixture[str]):
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner", "--as-of", "2026-01-15"]) == 2
    err = capsys.readouterr().err
    assert "no version of rulebook 'miner' is in force on 2026-01-15" in err
    assert "in force 2020-12-01 to 2025-11-30" in err
    assert "name a version explicitly (miner@2020-draft) to evaluate anyway" in err


def test_cli_evaluate_with_a_named_version_after_it_expired_notes_it(capsys: pytest.CaptureFixture[str]):
    assert main(["evaluate", str(EXAMPLE), "--rulebook", "miner@2020-draft", "--as-of", "2026-01-15",
                 "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rulebook"]["version"] == "2020-draft"
    assert "note: miner@2020-draft is in force 2020-12-01 to 2025-11-30, not on 2026-01-15" in captured.err


def test_cli_evaluate_picks_the_version_by_as_of_in_a_library(library: RulebookLibrary,
                                                               capsys: pytest.CaptureFixture[str]):
    scores = {}
    for as_of in ("2025-11-30", "2025-12-01"):
        assert main(["evaluate", str(POPULATION), "--rulebook", "miner", "--as-of", as_of, "--format", "json",
                     "--library", str(library.directory)]) == 1          # each version rejects one subject
        data = json.loads(capsys.readouterr().out)
        first = data["results"][0]
        scores[as_of] = (data["rulebook"]["version"], first["uscc"], first["score"], first["grade"])
    assert scores == {"2025-11-30": ("2020-draft", "91150600MA0P1A1B1G", "890", "B"),
                      "2025-12-01": ("2025-hypothetical", "91150600MA0P1A1B1G", "810", "C")}


def test_cli_table_accepts_id_at_version(capsys: pytest.CaptureFixture[str]):
    assert main(["table", "--rulebook", "miner@2020-draft", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"indicator": "M03", "tier": 2, "points": "200"}.items() <= rows[[
        (r["indicator"], r["tier"]) for r in rows].index(("M03", 2))].items()      # a tier is a number, as evaluate


def test_cli_library_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["versions", "--library", str(tmp_path / "nothing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_hypothetical_revision_fixture_lints_clean():
    from mincredit.lint._runner import lint_bytes

    fixture = Path(__file__).resolve().parent / "fixtures" / "miner-hypothetical-revision.yaml"
    assert [f.code for f in lint_bytes(fixture.read_bytes(), str(fixture)).findings] == []
