import sys
from pathlib import Path

import pytest

# tests import the independent annex reader (tests/annex_text.py) as a plain module
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _private_rulebook_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every command it starts) uses a compiled-rulebook cache of its own, never ~/.cache."""
    monkeypatch.setenv("MINCREDIT_CACHE_DIR", str(tmp_path_factory.mktemp("rulebook-cache")))
