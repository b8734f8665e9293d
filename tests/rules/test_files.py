"""Where rulebooks are found: the project's library from its settings, and the library a scenario file sits in."""

from __future__ import annotations

from pathlib import Path

import pytest

from mincredit.rules._files import LibraryConfigError, library_beside, project_library, shipped_rulebook_dir

ROOT = Path(__file__).resolve().parents[2]


def test_this_checkout_names_its_rulebooks_folder() -> None:
    found = project_library(ROOT / "src" / "mincredit")       # from any folder inside the checkout
    assert found is not None and found.directory.resolve() == (ROOT / "rulebooks").resolve()
    assert found.config == ROOT / "pyproject.toml" and "[tool.mincredit] library" in found.describe()


def test_mincredit_toml_and_the_nearest_settings_win(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    (tmp_path / "inner" / "deeper").mkdir(parents=True)
    (tmp_path / "mincredit.toml").write_text('library = "books"\n', encoding="utf-8")
    assert project_library(tmp_path / "inner" / "deeper") is not None
    assert project_library(tmp_path / "inner" / "deeper").directory == tmp_path / "books"   # type: ignore[union-attr]
    # a pyproject.toml without [tool.mincredit] is not mincredit's: the search goes on up
    (tmp_path / "inner" / "pyproject.toml").write_text('[tool.ruff]\nline-length = 100\n', encoding="utf-8")
    assert project_library(tmp_path / "inner").directory == tmp_path / "books"   # type: ignore[union-attr]
    # the nearest settings that are mincredit's decide, even when they name no library
    (tmp_path / "inner" / "pyproject.toml").write_text("[tool.mincredit]\n", encoding="utf-8")
    assert project_library(tmp_path / "inner") is None


@pytest.mark.parametrize(("text", "words"), [
    ('library = "nowhere"\n', "is not a folder"),
    ("library = 3\n", "must be the path of a folder"),
    ("library = \n", "cannot read"),
])
def test_settings_that_name_no_usable_library_are_errors(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "mincredit.toml").write_text(text, encoding="utf-8")
    with pytest.raises(LibraryConfigError, match=words):
        project_library(tmp_path)


def test_a_scenario_file_finds_the_library_it_sits_in(tmp_path: Path) -> None:
    assert library_beside(ROOT / "rulebooks" / "scenarios" / "miner-basics.yaml", "miner") == ROOT / "rulebooks"
    library = tmp_path / "books"
    (library / "history").mkdir(parents=True)
    (library / "history" / "miner@2020-draft.yaml").write_text("", encoding="utf-8")
    (library / "deep" / "scenarios").mkdir(parents=True)
    assert library_beside(library / "deep" / "scenarios" / "s.yaml", "miner") == library     # history/ counts
    assert library_beside(library / "deep" / "scenarios" / "s.yaml", "agency") is None


def test_a_scenario_file_is_not_its_own_library(tmp_path: Path) -> None:
    (tmp_path / "miner.yaml").write_text("rulebook: miner\n", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    assert library_beside(tmp_path / "miner.yaml", "miner") is None


def test_the_search_stops_at_the_projects_root_and_takes_its_library(tmp_path: Path) -> None:
    (tmp_path / "miner.yaml").write_text("", encoding="utf-8")         # above the project: never reached
    project = tmp_path / "project"
    (project / "books").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "pyproject.toml").write_text('[tool.mincredit]\nlibrary = "books"\n', encoding="utf-8")
    assert library_beside(project / "tests" / "s.yaml", "miner") == project / "books"
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert library_beside(project / "tests" / "s.yaml", "miner") is None


def test_the_installed_rulebooks_are_a_library() -> None:
    assert (shipped_rulebook_dir() / "miner.yaml").is_file()
