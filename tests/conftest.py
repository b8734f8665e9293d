import sys
from pathlib import Path

import pytest

# tests import the independent annex reader (tests/annex_text.py) as a plain module
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _private_rulebook_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every command it starts) uses a compiled-rulebook cache of its own, never ~/.cache."""
    monkeypatch.setenv("MINCREDIT_CACHE_DIR", str(tmp_path_factory.mktemp("rulebook-cache")))


@pytest.fixture
def outside_the_checkout(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder no pyproject.toml names a rulebook library in: the CLI then uses the installed rulebooks
    without a word, whether mincredit is installed from this checkout in editable mode (no note: the project's
    library is the installed copy) or from a copy of it, as CI installs it (a note on stderr: the project's
    library is not the installed copy).  For tests that count the lines a command writes on stderr."""
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
