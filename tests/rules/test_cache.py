"""The compiled-rulebook cache: a hit gives exactly what compiling the file gives; anything else misses."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from builders import MINER_USCC, generated_population, shipped
from fixtures.versions_library import REVISION, SHIPPED, edited, revised_library
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mincredit._kernel import Law
from mincredit._population.evaluator import Evaluator, Source
from mincredit.rules._cache import RulebookCache, code_fingerprint
from mincredit.rules._compiling import compile_rulebook
from mincredit.rules._loading import load_rulebook_file

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2024, 6, 30)


def run(*args: str, cache: Path | str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINCREDIT_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "mincredit", *args], capture_output=True, text=True,
                          check=False, env=env, cwd=cwd)


def population_file(path: Path, count: int = 60) -> Path:
    subjects = generated_population(count, seed=11)
    # one subject the engine must evaluate (a record with a penalty), so the full rulebook is loaded on a hit
    subjects.append({"uscc": MINER_USCC, "name": "某某矿业有限公司", "kind": "miner", "public_score": 850,
                     "records": [{"id": "v-1", "type": "violation", "indicator": "M12", "tier": 1,
                                  "determined_on": "2023-05-01",
                                  "penalty": {"kind": "administrative", "status": "upheld"}}]})
    path.write_text("".join(json.dumps(s, ensure_ascii=False, default=str) + "\n" for s in subjects),
                    encoding="utf-8")
    return path


def entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json")) if cache.exists() else []


@pytest.mark.parametrize("spec", ["miner", "agency"])
def test_a_law_survives_the_cache_unchanged(tmp_path: Path, spec: str) -> None:
    rulebook = shipped(spec)
    cache = RulebookCache(tmp_path / "cache", "fingerprint")
    source = SHIPPED / f"{spec}.yaml"
    cache.store(str(source), SHIPPED, cache.snapshot(str(source), SHIPPED), source, rulebook.law, None)
    again = cache.law(str(source), SHIPPED, AS_OF)
    assert again == rulebook.law and isinstance(again, Law)


def tampered(tmp_path: Path, change: str) -> Law | None:
    """The miner law stored in a cache, its entry then changed; what the cache gives back for it."""
    rulebook = shipped("miner")
    cache = RulebookCache(tmp_path / "cache", "fingerprint")
    source = SHIPPED / "miner.yaml"
    cache.store(str(source), SHIPPED, cache.snapshot(str(source), SHIPPED), source, rulebook.law, None)
    (entry,) = entries(tmp_path / "cache")
    data = json.loads(entry.read_text(encoding="utf-8"))
    if change == "every point zero":            # a consistent-looking entry whose content no longer verifies
        for indicator in data["law"]["indicators"]:
            for tier in indicator[2]:
                tier[1] = "0"
    elif change == "cap not a number":
        data["law"]["cap"] = "abc"
    elif change == "another rulebook's law":
        data["law"] = json.loads(json.dumps(__import__("msgspec").to_builtins(shipped("agency").law)))
    elif change == "bad grade index":
        data["law"]["bands"][0][2] = "not a bound"
    entry.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return cache.law(str(source), SHIPPED, AS_OF)


@pytest.mark.parametrize("change", ["every point zero", "cap not a number", "another rulebook's law",
                                    "bad grade index"])
def test_a_tampered_entry_is_never_used(tmp_path: Path, change: str) -> None:
    assert tampered(tmp_path, change) is None


def test_a_cache_hit_writes_byte_for_byte_what_compiling_writes(tmp_path: Path) -> None:
    facts = population_file(tmp_path / "facts.jsonl")
    cache = tmp_path / "cache"
    args = (str(facts), "--rulebook", "miner", "--as-of", str(AS_OF), "--no-explain")
    cold = run("evaluate", *args, "--output", str(tmp_path / "cold.jsonl"), cache=cache)
    assert cold.returncode in (0, 1), cold.stderr
    assert len(entries(cache)) == 2            # the law, and which file `miner` is on which dates
    warm = run("evaluate", *args, "--output", str(tmp_path / "warm.jsonl"), cache=cache)
    off = run("evaluate", *args, "--output", str(tmp_path / "off.jsonl"), cache="off")
    bypass = run("evaluate", *args, "--no-cache", "--output", str(tmp_path / "bypass.jsonl"), cache=cache)
    cold_bytes = (tmp_path / "cold.jsonl").read_bytes()
    assert (tmp_path / "warm.jsonl").read_bytes() == cold_bytes
    assert (tmp_path / "off.jsonl").read_bytes() == cold_bytes
    assert (tmp_path / "bypass.jsonl").read_bytes() == cold_bytes
    assert warm.returncode == cold.returncode == off.returncode == bypass.returncode
    assert b'"penalty"' not in cold_bytes and MINER_USCC.encode() in cold_bytes   # the engine's subject is there


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    facts = population_file(tmp_path / "facts.jsonl", 5)
    home = tmp_path / "home"
    env_off = run("evaluate", str(facts), "--rulebook", "miner", "--as-of", str(AS_OF), "--format", "jsonl",
                  cache="off", cwd=tmp_path)
    assert env_off.returncode in (0, 1)
    assert not home.exists() and not entries(tmp_path / "off")


def test_an_edited_rulebook_misses_and_its_own_digest_is_written(tmp_path: Path) -> None:
    facts = population_file(tmp_path / "facts.jsonl", 20)
    cache = tmp_path / "cache"
    rulebook = tmp_path / "rb" / "miner.yaml"
    rulebook.parent.mkdir()
    shutil.copyfile(SHIPPED / "miner.yaml", rulebook)
    args = (str(facts), "--rulebook", str(rulebook), "--as-of", str(AS_OF), "--format", "jsonl", "--no-explain")
    first = run("evaluate", *args, cache=cache)
    assert run("evaluate", *args, cache=cache).stdout == first.stdout
    edited(SHIPPED / "miner.yaml", rulebook, "    from: 2020-12-01", "    from: 2020-12-02")
    second = run("evaluate", *args, cache=cache)
    digest = compile_rulebook(load_rulebook_file(rulebook).rulebook).digest
    assert json.loads(second.stdout.splitlines()[0])["rulebook_digest"] == digest
    assert json.loads(first.stdout.splitlines()[0])["rulebook_digest"] != digest
    assert second.stdout == run("evaluate", *args, cache="off").stdout


@pytest.mark.parametrize("damage", ["garbage", "empty", "other key", "wrong shape"])
def test_a_damaged_cache_is_ignored(tmp_path: Path, damage: str) -> None:
    facts = population_file(tmp_path / "facts.jsonl", 20)
    cache = tmp_path / "cache"
    args = (str(facts), "--rulebook", "miner", "--as-of", str(AS_OF), "--format", "jsonl", "--no-explain")
    good = run("evaluate", *args, cache=cache)
    for entry in entries(cache):
        data = json.loads(entry.read_text(encoding="utf-8"))
        if damage == "garbage":
            entry.write_bytes(b"\x00{not json")
        elif damage == "empty":
            entry.write_bytes(b"")
        elif damage == "other key":
            entry.write_text(json.dumps({**data, "key": "0" * 64}), encoding="utf-8")
        else:
            entry.write_text(json.dumps({"key": data["key"], "law": {"format": 1}, "versions": [[1, 2]]}),
                             encoding="utf-8")
    again = run("evaluate", *args, cache=cache)
    assert again.returncode == good.returncode, again.stderr
    assert again.stdout == good.stdout


def test_an_unwritable_cache_never_fails_a_run(tmp_path: Path) -> None:
    facts = population_file(tmp_path / "facts.jsonl", 5)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", encoding="utf-8")
    done = run("evaluate", str(facts), "--rulebook", "miner", "--as-of", str(AS_OF), "--format", "jsonl",
               cache=blocker / "cache")
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout == run("evaluate", str(facts), "--rulebook", "miner", "--as-of", str(AS_OF),
                              "--format", "jsonl", cache="off").stdout


@pytest.mark.parametrize(("as_of", "version"), [("2024-06-30", "2020-draft"), ("2025-11-30", "2020-draft"),
                                                 ("2025-12-01", "2025-hypothetical")])
def test_a_bare_id_resolves_by_date_from_the_cache_as_the_registry_does(tmp_path: Path, as_of: str,
                                                                      version: str) -> None:
    library = revised_library(tmp_path / "library")
    facts = population_file(tmp_path / "facts.jsonl", 10)
    cache = tmp_path / "cache"
    args = (str(facts), "--rulebook", "miner", "--as-of", as_of, "--format", "jsonl", "--no-explain",
            "--library", str(library))
    # warm the cache on another date first, so the answer here comes from the cached table of versions
    run("evaluate", *args[:4], "2021-01-01", *args[5:], cache=cache)
    warm = run("evaluate", *args, cache=cache)
    cold = run("evaluate", *args, cache="off")
    assert warm.stdout == cold.stdout and warm.stderr.split(";")[0] == cold.stderr.split(";")[0]
    assert json.loads(warm.stdout.splitlines()[0])["rulebook_version"] == version


def test_a_date_no_version_covers_still_gets_the_registry_error(tmp_path: Path) -> None:
    library = revised_library(tmp_path / "library")
    edited(REVISION, library / "miner.yaml", "    from: 2025-12-01", "    from: 2026-06-01")
    facts = population_file(tmp_path / "facts.jsonl", 3)
    cache = tmp_path / "cache"
    base = (str(facts), "--rulebook", "miner", "--format", "jsonl", "--library", str(library))
    run("evaluate", *base, "--as-of", "2024-06-30", cache=cache)
    gap = run("evaluate", *base, "--as-of", "2026-01-01", cache=cache)
    assert gap.returncode == 2
    assert "no version of rulebook 'miner' is in force on 2026-01-01" in gap.stderr


def test_a_version_named_explicitly_out_of_force_is_noted_on_a_hit_too(tmp_path: Path) -> None:
    facts = population_file(tmp_path / "facts.jsonl", 3)
    cache = tmp_path / "cache"
    args = (str(facts), "--rulebook", "miner@2020-draft", "--as-of", "2026-03-31", "--format", "jsonl")
    cold = run("evaluate", *args, cache=cache)
    warm = run("evaluate", *args, cache=cache)
    assert "note: miner@2020-draft is in force 2020-12-01 to 2025-11-30, not on 2026-03-31" in cold.stderr
    assert cold.stderr.splitlines()[0] == warm.stderr.splitlines()[0]
    assert cold.stdout == warm.stdout


def test_a_new_history_file_changes_the_library_key(tmp_path: Path) -> None:
    library = revised_library(tmp_path / "library")
    cache = RulebookCache(tmp_path / "cache", "fingerprint")
    files = [library / "miner.yaml", library / "history" / "miner@2020-draft.yaml"]
    before = cache._library_key("miner", files)
    shutil.copyfile(library / "history" / "miner@2020-draft.yaml", library / "history" / "miner@2019-draft.yaml")
    after = cache._library_key("miner", [*files, library / "history" / "miner@2019-draft.yaml"])
    assert before != after


def test_the_code_fingerprint_follows_every_source_file(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "rules").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n", encoding="utf-8")
    (package / "rules" / "b.py").write_text("y = 2\n", encoding="utf-8")
    first = code_fingerprint(package)
    assert code_fingerprint(package) == first
    (package / "rules" / "b.py").write_text("y = 3\n", encoding="utf-8")
    assert code_fingerprint(package) != first
    (package / "rules" / "b.py").write_text("y = 2\n", encoding="utf-8")
    assert code_fingerprint(package) == first
    (package / "c.py").write_text("", encoding="utf-8")
    assert code_fingerprint(package) != first


def test_a_file_changed_while_it_was_loaded_is_not_kept(tmp_path: Path) -> None:
    rulebook = tmp_path / "miner.yaml"
    shutil.copyfile(SHIPPED / "miner.yaml", rulebook)
    cache = RulebookCache(tmp_path / "cache", "fingerprint")
    snapshot = cache.snapshot(str(rulebook), tmp_path)
    law = compile_rulebook(load_rulebook_file(rulebook).rulebook).law
    edited(SHIPPED / "miner.yaml", rulebook, "    from: 2020-12-01", "    from: 2020-12-02")
    cache.store(str(rulebook), tmp_path, snapshot, rulebook, law, None)
    assert not entries(tmp_path / "cache")
    cache.store(str(rulebook), tmp_path, cache.snapshot(str(rulebook), tmp_path), rulebook, law, None)
    assert len(entries(tmp_path / "cache")) == 1


def test_the_engine_subject_checks_the_digest_of_what_it_loads() -> None:
    miner, agency = shipped("miner"), shipped("agency")
    evaluator = Evaluator(Source(miner.law, lambda: agency), AS_OF, explain=False)
    with pytest.raises(RuntimeError, match="digest"):
        evaluator.rulebook  # noqa: B018 - the property loads the rulebook


def test_the_default_folder_is_the_platforms_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without MINCREDIT_CACHE_DIR the folder is platformdirs' user cache folder: on Linux, XDG's."""
    import platformdirs

    from mincredit.rules._cache import default_cache_directory

    monkeypatch.delenv("MINCREDIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_directory() == platformdirs.user_cache_path("mincredit", appauthor=False)
    if sys.platform.startswith("linux"):
        assert default_cache_directory() == tmp_path / "mincredit"
    monkeypatch.setenv("MINCREDIT_CACHE_DIR", "off")
    assert default_cache_directory() is None
def _forge(entry: Path, data: dict[str, object]) -> None:
    """Write an entry whose checksum is made as the cache makes it: consistent-looking, whatever it holds."""
    from mincredit.rules._cache import _checksum

    key, source = str(data["key"]), str(data.get("source_sha256", ""))
    data["law_sha256"] = _checksum(key, source, data["law"])
    entry.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_an_entry_copied_from_another_rulebook_file_is_never_used(tmp_path: Path) -> None:
    """The entry is bound to the bytes of the file it was made from: the agency rulebook's law, put under the miner
    file's key with a checksum over its content (as the cache once checked it), does not pass."""
    import hashlib

    cache = RulebookCache(tmp_path / "cache", "fingerprint")
    miner, agency = SHIPPED / "miner.yaml", SHIPPED / "agency.yaml"
    cache.store(str(agency), SHIPPED, cache.snapshot(str(agency), SHIPPED), agency, shipped("agency").law, None)
    (entry,) = entries(tmp_path / "cache")
    data = json.loads(entry.read_text(encoding="utf-8"))
    key = cache._file_key(miner.read_bytes())
    data["key"] = key
    target = cache._path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps(data["law"], ensure_ascii=False, sort_keys=True).encode("utf-8")
    data["law_sha256"] = hashlib.sha256(content).hexdigest()         # the old check: its own content only
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert cache.law(str(miner), SHIPPED, AS_OF) is None
    _forge(target, data)                                              # even with a checksum made over its key
    assert cache.law(str(miner), SHIPPED, AS_OF) is None               # it names other bytes than miner.yaml's


@pytest.mark.parametrize("change", ["bands that hold no score", "a cap that is text", "a version the table lacks"])
def test_an_entry_that_does_not_build_is_ignored_never_a_crash(tmp_path: Path, change: str) -> None:
    library = tmp_path / "library"
    library.mkdir()
    shutil.copyfile(SHIPPED / "miner.yaml", library / "miner.yaml")
    cache = RulebookCache(tmp_path / "cache", "fingerprint")
    rulebook = load_rulebook_file(library / "miner.yaml").rulebook
    law = compile_rulebook(rulebook).law
    snapshot = cache.snapshot("miner", library)
    cache.store("miner", library, snapshot, library / "miner.yaml", law,
                [(law.version, law.effective_start, law.effective_end, library / "miner.yaml")])
    assert cache.law("miner", library, AS_OF) == law
    entry = cache._path(cache._file_key((library / "miner.yaml").read_bytes()))
    data = json.loads(entry.read_text(encoding="utf-8"))
    if change == "bands that hold no score":
        for band in data["law"]["bands"]:
            band[2], band[4] = "5000", "6000"
    elif change == "a cap that is text":
        data["law"]["cap"] = "abc"
    else:
        data["law"]["version"] = "2099-forged"
    _forge(entry, data)
    assert cache.law("miner", library, AS_OF) is None


def test_a_tampered_table_of_versions_is_ignored(tmp_path: Path) -> None:
    library = revised_library(tmp_path / "library")
    facts = population_file(tmp_path / "facts.jsonl", 5)
    cache = tmp_path / "cache"
    args = (str(facts), "--rulebook", "miner", "--as-of", "2024-06-30", "--format", "jsonl", "--no-explain",
            "--library", str(library))
    cold = run("evaluate", *args, cache=cache)
    for entry in entries(cache):
        data = json.loads(entry.read_text(encoding="utf-8"))
        if "versions" in data:      # point 2020-draft at the revision's file, as a mix-up would
            data["versions"][0][3:] = data["versions"][1][3:]
            entry.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    warm = run("evaluate", *args, cache=cache)
    assert warm.stdout == cold.stdout and warm.returncode == cold.returncode


def test_a_rulebook_that_changes_during_a_run_stops_it_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A subject the engine evaluates loads the rulebook from its file; another digest than the run's is exit 2 with
    a line saying so (it was a RuntimeError traceback), and the output is left as it was."""
    from mincredit.cli import main

    facts = population_file(tmp_path / "facts.jsonl", 5)
    out = tmp_path / "out.jsonl"
    agency_law = shipped("agency").law
    monkeypatch.setattr(RulebookCache, "law", lambda self, spec, library, as_of: Law(**{
        **{field: getattr(agency_law, field) for field in agency_law.__struct_fields__}, "kind": "miner",
        "rulebook_id": "miner"}))
    assert main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", str(AS_OF), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "its file changed during the run" in err and "Traceback" not in err and not out.exists()


# --- damaged entries (fuzzed) ------------------------------------------------------------------------


def _json_paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_json_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value[:4]):
            found.extend(_json_paths(item, (*prefix, index)))
    return found


_ENTRY_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10 ** 6), st.text(max_size=8),
                          st.sampled_from(["0", "abc", "-1", "1E+40", "NaN", "2020-12-01", [], {}, [0, 1], "miner"]))


@pytest.fixture(scope="module")
def warmed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, tuple[int, bytes]]:
    """Facts, a cache filled by evaluating them, and what evaluating them without a cache writes (made once)."""
    here = tmp_path_factory.mktemp("warmed")
    facts = population_file(here / "facts.jsonl", 12)
    expected = _evaluate_main(facts, "off", here / "off.jsonl")
    assert _evaluate_main(facts, str(here / "cache"), here / "cold.jsonl") == expected
    return facts, here / "cache", expected


def _evaluate_main(facts: Path, cache: str, output: Path) -> tuple[int, bytes]:
    import contextlib
    import io

    from mincredit.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINCREDIT_CACHE_DIR", cache)
        code = main(["evaluate", str(facts), "--rulebook", "miner", "--as-of", str(AS_OF), "--no-explain",
                     "--output", str(output)])
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()
    return code, output.read_bytes() if output.exists() else b""


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_damaged_entry_is_never_a_crash_nor_a_wrong_score(warmed: tuple[Path, Path, tuple[int, bytes]],
                                                            data: st.DataObject) -> None:
    """Entries damaged byte by byte or value by value: the run writes exactly what a run without the cache writes.
    Entries whose checksum is then made again as the cache makes it — a forgery, by someone who can write the cache
    (docs/performance.md: it is trusted as __pycache__ is) — never crash the run either."""
    import tempfile

    from mincredit.rules._cache import _checksum

    facts, filled, expected = warmed
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        cache = here / "cache"
        shutil.copytree(filled, cache)
        forged = data.draw(st.booleans())
        for entry in entries(cache):
            raw = entry.read_bytes()
            if data.draw(st.booleans()):
                at = data.draw(st.integers(0, len(raw) - 1))
                entry.write_bytes(raw[:at] + data.draw(st.binary(min_size=1, max_size=4)) + raw[at + 1:])
                continue
            content = json.loads(raw)
            path = data.draw(st.sampled_from(_json_paths(content)))
            parent = content
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = data.draw(_ENTRY_VALUES)
            if forged and "law" in content and isinstance(content.get("law"), dict):
                content["law_sha256"] = _checksum(str(content.get("key")), str(content.get("source_sha256")),
                                                  content["law"])
            entry.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
        warm = _evaluate_main(facts, str(cache), here / "warm.jsonl")
        assert warm == expected or forged
