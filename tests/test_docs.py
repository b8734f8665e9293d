"""The documentation runs: every shell command and every Python block of README.md and docs/ is executed here,
against the installed mincredit (``sys.executable -m mincredit``) in a temporary copy of the repository's files,
and what a page shows a command print is what it prints. So the docs cannot drift from the code again.

How a page is read:

- A ```` ```sh ```` block (or ``bash``, ``shell``): each line is a command (a trailing backslash continues it);
  ``#`` lines are comments.
- A ```` ```console ```` block: a line starting with ``$ `` is a command, and the lines after it, up to the next
  command, are what it prints (stdout and stderr together, as a terminal shows them). What is shown must be printed
  exactly, line for line, trailing spaces aside; ``…`` stands for any text within a line, and a line holding only
  ``…`` for any number of lines (shown output is elided so, never silently).
- A ```` ```python ```` block runs as a script of its own: it must be complete (its imports, its data).
- A block right after ``<!-- file: PATH -->`` (a facts file, a scenario file …) is written to PATH, for the
  page's later commands to use: the reader sees the whole file, and the suite runs what it shows.
- A block right after ``<!-- not run: REASON -->`` is not run. The reason is required and such blocks are rare
  (at most ``MAX_NOT_RUN``).
- An untagged block may not hold a ``$ `` command line, and a console block must hold one: a command belongs in
  a console block, where it is run.
- A command may carry a here-document (``cat > f <<'EOF'`` … ``EOF``); its lines are the command's, not output.

Exit statuses: a command whose output the page does not show must exit 0; one whose output it shows may exit 1 (lint
findings, a record not eligible for repair: the output says why); nothing may print a traceback. A page that means
another status shows it: ``$ mincredit … ; echo "exit status $?"``.

Two steps are checked rather than run: ``pip install SPEC`` (the suite runs in the environment that installed
mincredit; the extras a page names must exist) and ``python -m pytest`` (this suite itself, which ``.ci/run``
runs with the README's own line). The rest of a command line joined by ``&&`` runs.

Each page runs in one shell, in its own copy of the repository, its blocks in page order (a page may use what its
earlier commands made); two pages run at a time, on the suite's two cores.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mincredit.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL = {"sh", "bash", "shell"}
MAX_NOT_RUN = 2
"""Blocks a page may mark as not run. Keep it small: each one is a place where the docs can drift unnoticed."""
PAGE_TIMEOUT = 600
# What the working copy leaves out: caches, the package's source (commands run the installed mincredit), builds,
# and the project's settings: the pages show what a user of the installed package sees in a folder of their own,
# not the note a checkout adds when its [tool.mincredit] library is not the installed copy (tests/cli cover that).
NOT_COPIED = shutil.ignore_patterns(".git", ".hypothesis", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                                    "__pycache__", "*.egg-info", "build", "dist", ".venv", "src", "pyproject.toml")

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
_NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")
_FILE = re.compile(r"^<!--\s*file:\s*(?P<path>[\w./-]+)\s*-->\s*$")
_HEREDOC = re.compile(r"<<-?\s*(?P<quote>['\"]?)(?P<end>\w+)(?P=quote)")
_TRACEBACK = "Traceback (most recent call last)"


# ---------------------------------------------------------------- reading the pages


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    """The line of the opening fence."""
    language: str
    lines: tuple[str, ...]
    not_run: str | None
    """The reason given for not running it, or None."""
    file: str | None = None
    """The path the block is written to (``<!-- file: PATH -->``), or None."""


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end])
            end += 1
        previous = next((lines[k] for k in range(index - 1, -1, -1) if lines[k].strip()), "").strip()
        marker, file = _NOT_RUN.match(previous), _FILE.match(previous)
        found.append(Block(str(path.relative_to(ROOT)), index + 1, opening["info"].lower(), tuple(body),
                           marker["reason"] if marker is not None else None,
                           file["path"] if file is not None else None))
        index = end + 1
    return found


@dataclass(frozen=True)
class Step:
    """One thing a page runs: a shell command line or a Python block, with the output the page shows for it."""

    page: str
    line: int
    kind: str                       # "shell" or "python"
    source: str                     # what runs ("" when every part of the line is only checked)
    written: str                    # as the page writes it
    shown: tuple[str, ...] = ()     # the output the page shows (console blocks); empty: not shown
    checked: tuple[str, ...] = field(default=())   # parts checked, not run (pip install, python -m pytest)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _commands(block: Block) -> Iterator[tuple[int, str, list[str]]]:
    """(line, command, shown output) for each command of a shell or console block."""
    console = block.language == "console"
    current: tuple[int, str, list[str]] | None = None
    pending = ""
    heredoc: str | None = None   # the word that ends the here-document being read
    first = block.line             # the line a command (continued or not) starts on
    for offset, raw in enumerate(block.lines, start=1):
        number = block.line + offset
        if heredoc is not None:
            assert current is not None
            current = (current[0], current[1] + "\n" + raw, current[2])
            if raw.strip() == heredoc:
                heredoc = None
            continue
        if console and not raw.startswith("$ ") and not pending:
            if current is not None:
                current[2].append(raw.rstrip())
            continue
        text = raw[2:] if console and raw.startswith("$ ") else raw
        if not pending and (not text.strip() or text.lstrip().startswith("#")):
            continue
        if pending:
            text = pending + text.lstrip()
        else:
            first = number
        if text.rstrip().endswith("\\"):
            pending = text.rstrip()[:-1].rstrip() + " "
            continue
        pending = ""
        if current is not None:
            yield current
        current = (first, text.strip(), [])
        opened = _HEREDOC.search(text)
        heredoc = opened["end"] if opened is not None else None
    if current is not None:
        yield current


def _split(command: str) -> tuple[str, tuple[str, ...]]:
    """The part of a command line that runs, and the parts only checked (pip install, the test suite)."""
    run: list[str] = []
    checked: list[str] = []
    for part in (command.split(" && ") if "\n" not in command else [command]):
        if re.match(r"^pip install\b", part.strip()) or re.match(r"^python -m pytest\b", part.strip()):
            checked.append(part.strip())
        else:
            run.append(part.strip())
    return " && ".join(run), tuple(checked)


def steps(path: Path) -> list[Step]:
    found: list[Step] = []
    for block in blocks(path):
        if block.not_run is not None:
            continue
        if block.file is not None:
            target = shlex.quote(block.file)
            body = "\n".join(block.lines)
            found.append(Step(block.page, block.line, "shell",
                              f"mkdir -p \"$(dirname {target})\" && cat > {target} <<'DOCTEST_FILE_END'\n{body}\n"
                              "DOCTEST_FILE_END", f"(the block, written to {block.file})"))
        elif block.language == "python":
            found.append(Step(block.page, block.line, "python", "\n".join(block.lines) + "\n", "\n".join(block.lines)))
        elif block.language in SHELL or block.language == "console":
            for line, command, shown in _commands(block):
                while shown and not shown[-1].strip():
                    shown.pop()
                source, checked = _split(command)
                found.append(Step(block.page, line, "shell", source, command, tuple(shown), checked))
    return found


STEPS = {str(path.relative_to(ROOT)): steps(path) for path in PAGES}
ALL_STEPS = [step for page_steps in STEPS.values() for step in page_steps]


# ---------------------------------------------------------------- running them


@dataclass(frozen=True)
class Outcome:
    status: int
    output: str


PRELUDE = """\
mincredit() { "$DOCTEST_PYTHON" -m mincredit "$@"; }
python() { "$DOCTEST_PYTHON" "$@"; }
python3() { "$DOCTEST_PYTHON" "$@"; }
cd "$DOCTEST_WORK" || exit 97
"""


def _script(page_steps: list[Step], marker: str) -> str:
    parts = [PRELUDE]
    for index, step in enumerate(page_steps):
        if step.kind == "python":
            body = f'"$DOCTEST_PYTHON" - <<\'DOCTEST_PYTHON_END\'\n{step.source}DOCTEST_PYTHON_END\n'
        else:
            body = (step.source or ":") + "\n"
        parts.append(f"{{\n{body}}} 2>&1 </dev/null\nprintf '\\n{marker} {index} %d\\n' $?\n")
    return "".join(parts)


def run_page(page: str, page_steps: list[Step], work: Path) -> list[Outcome]:
    shutil.copytree(ROOT, work, ignore=NOT_COPIED)
    marker = f"@@doc-step-{secrets.token_hex(8)}@@"
    env = {**os.environ, "DOCTEST_PYTHON": sys.executable, "DOCTEST_WORK": str(work), "PYTHONUNBUFFERED": "1",
           "MINCREDIT_CACHE_DIR": str(work.parent / f"{work.name}-cache"), "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(["bash", "-c", _script(page_steps, marker)], capture_output=True, text=True,
                          encoding="utf-8", errors="replace", env=env, cwd=work, timeout=PAGE_TIMEOUT, check=False)
    outcomes: list[Outcome] = []
    output: list[str] = []
    for line in done.stdout.split("\n"):
        if line.startswith(marker):
            _, index, status = line.split()
            assert int(index) == len(outcomes), f"{page}: the steps' outputs are out of order"
            text = "\n".join(output)
            outcomes.append(Outcome(int(status), text[:-1] if text.endswith("\n") else text))
            output = []
        else:
            output.append(line)
    if len(outcomes) != len(page_steps):
        raise AssertionError(f"{page}: the page's shell stopped after {len(outcomes)} of {len(page_steps)} steps "
                             f"(status {done.returncode}): {done.stderr[-2000:]}")
    return outcomes


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Outcome] | str]:
    """Every page run once, two at a time; a page whose shell failed as a whole maps to why."""
    base = tmp_path_factory.mktemp("docs")
    pages = [page for page, page_steps in STEPS.items() if page_steps]

    def run(number_and_page: tuple[int, str]) -> list[Outcome] | str:
        number, page = number_and_page
        try:
            return run_page(page, STEPS[page], base / f"page-{number}")
        except (AssertionError, subprocess.SubprocessError, OSError) as error:
            return str(error)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(pages, pool.map(run, enumerate(pages)), strict=True))


# ---------------------------------------------------------------- comparing


def _line_pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in shown.rstrip().split("…")) + r"\Z", re.DOTALL)


def shows(shown: tuple[str, ...], printed: list[str]) -> bool:
    """Whether ``printed`` is what ``shown`` shows: line for line, ``…`` within a line any text, alone any lines."""
    patterns = [None if line.strip() == "…" else _line_pattern(line) for line in shown]

    def match(i: int, j: int) -> bool:
        if i == len(patterns):
            return j == len(printed)
        pattern = patterns[i]
        if pattern is None:
            return any(match(i + 1, k) for k in range(j, len(printed) + 1))
        return j < len(printed) and pattern.match(printed[j].rstrip()) is not None and match(i + 1, j + 1)

    return match(0, 0)


@pytest.mark.parametrize("step", ALL_STEPS, ids=lambda step: step.id)
def test_the_docs_run(step: Step, outcomes: dict[str, list[Outcome] | str]) -> None:
    page = outcomes[step.page]
    assert not isinstance(page, str), page
    outcome = page[STEPS[step.page].index(step)]
    context = f"{step.id}: {step.written}\n--- printed (status {outcome.status}) ---\n{outcome.output}"
    assert _TRACEBACK not in outcome.output, context
    if step.shown:
        assert outcome.status in (0, 1), context
        expected = "\n".join(step.shown)
        assert shows(step.shown, outcome.output.split("\n")), f"{context}\n--- the page shows ---\n{expected}"
    else:
        assert outcome.status == 0, context


# ---------------------------------------------------------------- what is checked, not run


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("part", sorted({(step.id, part) for step in ALL_STEPS for part in step.checked}),
                         ids=lambda item: f"{item[0]} {item[1]}")
def test_install_and_test_commands_are_the_projects(part: tuple[str, str]) -> None:
    where, command = part
    if command.startswith("python -m pytest"):
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
        line = next(step.written for step in ALL_STEPS if step.id == where)
        assert line in ci.splitlines(), f"{where}: .ci/run must run {line!r}, as the page says"
        return
    for spec in shlex.split(command)[2:]:
        if spec.startswith("-"):
            continue
        extras = re.search(r"\[([^\]]*)\]", spec)
        assert spec.split("[")[0] in {".", "mincredit"}, f"{where}: installs {spec!r}, which is not mincredit"
        for extra in (extras[1].split(",") if extras else []):
            assert extra.strip() in PYPROJECT["project"]["optional-dependencies"], f"{where}: no extra {extra!r}"


def test_blocks_not_run_are_few_and_say_why() -> None:
    marked = [block for path in PAGES for block in blocks(path) if block.not_run is not None]
    unexplained = [f"{block.page}:{block.line}" for block in marked if len(block.not_run or "") < 20]
    assert unexplained == [], "say why a block is not run"
    assert len(marked) <= MAX_NOT_RUN, [f"{block.page}:{block.line}" for block in marked]


def test_no_command_hides_in_a_block_that_is_not_run() -> None:
    """A `$ ` line in an untagged (or text) block is a command nobody runs: put it in a console block. A console
    block without one shows output of nothing, or commands the suite would take for output."""
    every = [block for path in PAGES for block in blocks(path)]
    hidden = [f"{block.page}:{block.line}" for block in every
              if block.language in {"", "text"} and any(line.startswith("$ ") for line in block.lines)]
    assert hidden == []
    promptless = [f"{block.page}:{block.line}" for block in every
                  if block.language == "console" and not any(line.startswith("$ ") for line in block.lines)]
    assert promptless == []


# ---------------------------------------------------------------- what the docs name


def _parser_options() -> dict[str, set[str]]:
    parser = build_parser()
    commands = next(action for action in parser._actions if hasattr(action, "choices") and action.choices)
    options: dict[str, set[str]] = {}
    for name, sub in commands.choices.items():
        options[name] = {option for action in sub._actions for option in action.option_strings
                         if option.startswith("--") and option != "--help"}
    return options


def test_the_readme_lists_every_command_with_all_its_options() -> None:
    rows: dict[str, set[str]] = {}
    alone: set[str] = set()
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `mincredit ([a-z][a-z-]*)(.*?)` \| ", line)
        if match:
            rows[match[1]] = set(re.findall(r"--[a-z][a-z-]*", match[2]))
        option = re.match(r"^\| `mincredit (--[a-z][a-z-]*)` \| ", line)
        if option:
            alone.add(option[1])
    assert rows == _parser_options()
    # the options of mincredit itself (--version), each a row of its own
    assert alone == {option for action in build_parser()._actions for option in action.option_strings
                     if option.startswith("--") and option != "--help"}


def _named_modules() -> Iterator[tuple[str, str]]:
    for path in PAGES:
        for name in re.findall(r"`([\w./-]+\.py)(?:::\w+)?`", path.read_text(encoding="utf-8")):
            yield str(path.relative_to(ROOT)), name


def test_the_modules_and_tests_the_docs_name_exist() -> None:
    package = ROOT / "src" / "mincredit"
    names = {file.name for file in package.rglob("*.py")}
    missing = []
    for page, name in _named_modules():
        places = [ROOT / name, ROOT / "src" / name, package / name]
        if not any(place.is_file() for place in places) and not ("/" not in name and name in names):
            missing.append(f"{page}: {name}")
    assert missing == []


# ---------------------------------------------------------------- the example files the pages use


def test_the_example_files_hold_the_same_subjects_in_every_format() -> None:
    """examples/ gives the subjects of miners.yaml as JSON Lines, as CSV and Parquet records (one file), and as
    records and subjects (two files): each evaluates exactly as the YAML does."""
    import datetime as dt
    from decimal import Decimal

    pytest.importorskip("pyarrow")
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from mincredit import evaluate, evaluate_table, load_rulebook, read_facts_file

    as_of = dt.date(2024, 6, 30)
    rulebook = load_rulebook("miner", as_of=as_of)
    examples = ROOT / "examples"

    def rows(results: list[dict[str, object]]) -> dict[object, tuple[object, ...]]:
        return {row["uscc"]: (row["name"], row["grade"], row["score"], Decimal(str(row["public_score"])),
                              row["deductions"], row["honour_bonus"], row["evaluated"]) for row in results}

    def document(name: str) -> dict[object, tuple[object, ...]]:
        evaluation = evaluate(read_facts_file(examples / name), rulebook, as_of)
        assert not evaluation.errors
        return rows([{"uscc": r.uscc, "name": r.name, "grade": r.grade,
                      "score": None if r.score is None else str(r.score), "public_score": r.public_score,
                      "deductions": str(r.deductions), "honour_bonus": str(r.honour_bonus), "evaluated": r.evaluated}
                     for r in evaluation.results])

    def table(records: object, subjects: object = None) -> dict[object, tuple[object, ...]]:
        result = evaluate_table(records, rulebook, as_of, subjects=subjects)
        assert list(result.errors) == []
        return rows(result.results.to_pylist())

    expected = document("miners.yaml")
    assert len(expected) == 4
    assert document("population.jsonl") == expected
    text = pacsv.ConvertOptions(column_types={name: "string" for name in ("uscc", "public_score", "tier")})
    assert table(pacsv.read_csv(examples / "records.csv", convert_options=text)) == expected
    assert table(pq.read_table(examples / "records.parquet")) == expected
    assert table(pacsv.read_csv(examples / "subject-records.csv", convert_options=text),
                 pacsv.read_csv(examples / "subjects.csv", convert_options=text)) == expected


# ---------------------------------------------------------------- the reading itself


def test_shown_output_matches_line_for_line_with_ellipses() -> None:
    printed = ["a table", "│ row 1 │", "│ row 2 │", "3 rows"]
    assert shows(("a table", "│ row 1 │", "│ row 2 │", "3 rows"), printed)
    assert shows(("a table", "…", "3 rows"), printed)
    assert shows(("a …", "│ row 1 │", "…"), printed)
    assert not shows(("a table", "│ row 2 │", "3 rows"), printed)      # a line left out silently
    assert not shows(("a table", "│ row 1 │"), printed)                 # the rest left out silently
    assert not shows(("a tables", "…"), printed)


def test_a_page_is_read_as_its_blocks_say(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("\n".join([
        "<!-- file: facts.yaml -->", "```yaml", "subjects: []", "```",
        "```console", "$ mincredit lint rulebooks/ \\", "    --strict", "2 files checked, no findings.", "",
        "$ cat > x.txt <<'EOF'", "$ not a prompt", "EOF", "```",
        "<!-- not run: a reason long enough to say why -->", "```sh", "sleep 1000", "```",
        "```sh", "# a comment", "pip install '.[plot]' && mincredit versions", "```",
    ]) + "\n", encoding="utf-8")
    global ROOT
    root, ROOT = ROOT, tmp_path
    try:
        found = steps(page)
    finally:
        ROOT = root
    assert [(step.line, step.written, step.shown) for step in found] == [
        (2, "(the block, written to facts.yaml)", ()),
        (6, "mincredit lint rulebooks/ --strict", ("2 files checked, no findings.",)),
        (10, "cat > x.txt <<'EOF'\n$ not a prompt\nEOF", ()),
        (20, "pip install '.[plot]' && mincredit versions", ()),
    ]
    assert found[-1].source == "mincredit versions" and found[-1].checked == ("pip install '.[plot]'",)
