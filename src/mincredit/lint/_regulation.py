"""Lint T001–T003: every wording and title of a rulebook stands verbatim at its line of the regulation text.

A rulebook quotes the regulation beside every number it implements (a tier's ``wording``, an indicator's
``title``, an article rule's ``wording``) and says where (``line``).  Only a check against the text itself keeps
them honest: a replaced wording or ``line: 99999`` reads as well as the right one.

Which text: the file ``rulebook.source.file`` names, written relative to the checkout
(``docs/regulation/…``).  It is looked for beside the rulebook, then in each folder above it (a checkout, where
``rulebooks/`` sits beside ``docs/``), then as the copy shipped inside mincredit (``mincredit/shipped_regulation``,
pyproject.toml's force-include), so that lint checks the same text after a plain ``pip install``.

How it is read, as tests/annex_text.py reads the annex (interpretation I06): a line that starts with a tab is a
table cell, and a following line that is neither blank nor tab-indented continues that cell (miner row 15's two
wrapped cells); the whitespace around a cell is not part of it.  At a cell, the wording must be the whole cell; at
a line of prose (an article), the line must contain it.  A wording quoting several passages joins them with
`` | ``: the first stands at the line, each later one at or after the line where the one before it stands.  An
indicator's ``line`` is its annex row's first line: the row number there, its title in the next cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mincredit.lint._findings import DocumentPath, Issue

if TYPE_CHECKING:
    from mincredit.lint._checks import Parts

PASSAGE_SEPARATOR = " | "
SHOWN = 100
"""At most this many characters of a text are quoted in a finding."""
_LINES = re.compile(r"^\s*(\d+)\s*(?:[-–]\s*(\d+)\s*)?$")
_NAMED_BY = ("id", "code", "level", "key")


def shipped_regulation_dir() -> Path:
    """Where the regulation text shipped with mincredit is: inside the installed package, or the source tree's
    docs/regulation/ (an editable install or a plain checkout, which hold the same files)."""
    packaged = Path(str(resources.files("mincredit"))) / "shipped_regulation"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "docs" / "regulation"


def find_regulation(name: str, rulebook: Path | None) -> Path | None:
    """The regulation file ``name`` (``rulebook.source.file``) for the rulebook file ``rulebook``: beside it, in
    a folder above it, or shipped with mincredit; None when it is nowhere."""
    cited = PurePosixPath(name.replace("\\", "/"))
    if cited.is_absolute():
        return Path(cited) if Path(cited).is_file() else None
    folder = (rulebook if rulebook is not None else Path("rulebook.yaml")).resolve().parent
    for base in (folder, *folder.parents):
        candidate = base / cited
        if candidate.is_file():
            return candidate
    shipped = shipped_regulation_dir() / cited.name
    return shipped if shipped.is_file() else None


@dataclass(frozen=True)
class RegulationText:
    """The regulation file as lint reads it: for each line, its text, and whether it is a table cell."""

    name: str
    texts: tuple[str, ...]
    """Line n's text at index n - 1: a cell with its continuation lines joined and the whitespace around it
    removed; any other line stripped."""
    cells: frozenset[int]
    """The numbers of the lines that start a table cell."""

    @classmethod
    def parse(cls, name: str, content: str) -> RegulationText:
        lines = content.split("\n")
        if lines and lines[-1] == "":
            lines.pop()   # the newline that ends the last line starts no line of its own
        texts = [line.strip() for line in lines]
        cells: set[int] = set()
        start: int | None = None   # the index of the cell a continuation line would continue
        for index, line in enumerate(lines):
            if line.startswith("\t"):
                start = index
                cells.add(index + 1)
            elif line.strip() and start is not None:
                texts[start] += line.strip()   # a cell wrapped onto a line of its own
            else:
                start = None
        return cls(name, tuple(texts), frozenset(cells))

    def __len__(self) -> int:
        return len(self.texts)

    def at(self, line: int) -> str:
        return self.texts[line - 1]

    def row(self, line: int) -> list[str]:
        """The cells of the table row starting at ``line`` (empty when no cell starts there)."""
        found: list[str] = []
        number = line
        while number <= len(self) and number in self.cells:
            found.append(self.at(number))
            number += 1
            while number <= len(self) and number not in self.cells and self.texts[number - 1]:
                number += 1   # a continuation line, already joined to its cell
        return found

    def stands(self, passage: str, line: int) -> bool:
        """Whether ``passage`` stands at ``line``: the whole cell there, or inside the line of prose."""
        text = self.at(line)
        return text == passage if line in self.cells else passage in text

    def first(self, passage: str, start: int = 1) -> int | None:
        """The first line from ``start`` on whose text holds ``passage`` (where it stands elsewhere, for a hint)."""
        for number in range(max(start, 1), len(self) + 1):
            if passage in self.texts[number - 1]:
                return number
        return None


@lru_cache(maxsize=8)   # a lint run reads one text, or a few; an edited file has another stamp
def _read(path: Path, stamp: tuple[int, int]) -> RegulationText | str:
    """The parsed text, or why it cannot be read; ``stamp`` (modification time, size) keys the cache."""
    try:
        return RegulationText.parse(path.name, path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        return f"it is not UTF-8 text (byte {error.start})"
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"


def read_regulation(path: Path) -> RegulationText | str:
    try:
        status = path.stat()
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    return _read(path, (status.st_mtime_ns, status.st_size))


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "…")


# ---------------------------------------------------------------- what a rulebook cites


@dataclass(frozen=True)
class Citation:
    """A model of the rulebook that cites a line: where it is in the YAML document, and how to name it."""

    path: DocumentPath
    what: str
    model: Any


def citations(parts: Parts) -> Iterator[Citation]:
    """Every valid part of the rulebook that carries a ``line`` with a ``wording`` or a ``title``, in file order."""
    for part in fields(parts):
        yield from _walk(getattr(parts, part.name), (part.name,), part.name)


def _walk(value: Any, path: DocumentPath, what: str) -> Iterator[Citation]:
    if isinstance(value, BaseModel):
        declared = type(value).model_fields
        if getattr(value, "line", None) is not None and ("wording" in declared or "title" in declared):
            yield Citation(path, what, value)
        for name, field in declared.items():
            key = field.alias or name
            yield from _walk(getattr(value, name), (*path, key), f"{what}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index), _item_name(what, index, item))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key), f"{what}.{key}")


def _item_name(what: str, index: int, item: Any) -> str:
    if what == "indicators" and hasattr(item, "code"):
        return str(item.code)
    if what.endswith(".tiers") and hasattr(item, "tier"):
        return f"{what.removesuffix('.tiers')} tier {item.tier}"
    for attribute in _NAMED_BY:
        label = getattr(item, attribute, None)
        if isinstance(label, str):
            return f"{what}[{label}]"
    return f"{what}[{index}]"


def _cited_ranges(parts: Parts) -> Iterator[tuple[DocumentPath, str, int]]:
    """The ``lines`` of every ``source`` (``"119"``, ``"181-188"``): each end, where it is written."""
    for part in fields(parts):
        yield from _ranges(getattr(parts, part.name), (part.name,), part.name)


def _ranges(value: Any, path: DocumentPath, what: str) -> Iterator[tuple[DocumentPath, str, int]]:
    if isinstance(value, BaseModel):
        lines = getattr(value, "lines", None)
        if isinstance(lines, str) and (match := _LINES.match(lines)):
            for end in (match[1], match[2]):
                if end is not None:
                    yield (*path, "lines"), f"{what}.lines", int(end)
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            yield from _ranges(getattr(value, name), (*path, key), f"{what}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _ranges(item, (*path, index), f"{what}[{index}]")


# ---------------------------------------------------------------- the checks


def text_issues(parts: Parts, rulebook: Path | None) -> list[Issue]:
    """T001–T003 for the valid parts of the rulebook file ``rulebook`` (None: a text with no file)."""
    cited = list(citations(parts))
    ranges = list(_cited_ranges(parts))
    if not cited and not ranges:
        return []
    identity = parts.rulebook
    if identity is None:
        return []   # the identity block is invalid: the schema findings say why; which text is not known
    name = identity.source.file
    if name is None or not name.strip():
        first = cited[0] if cited else None
        example = f" ({first.what} at line {first.model.line}, …)" if first is not None else ""
        return [Issue("T003", f"the rulebook cites lines of the regulation{example} but rulebook.source.file names no "
                              "file: its wordings cannot be checked against the text",
                      ("rulebook", "source"))]
    path = find_regulation(name, rulebook)
    if path is None:
        return [Issue("T003", f"rulebook.source.file names {name}, which is neither beside the rulebook, in a folder "
                              "above it, nor shipped with mincredit: its wordings cannot be checked against the text",
                      ("rulebook", "source", "file"))]
    text = read_regulation(path)
    if isinstance(text, str):
        return [Issue("T003", f"the regulation file {path} ({name}) cannot be checked against: {text}",
                      ("rulebook", "source", "file"))]
    issues: list[Issue] = []
    for where, what, line in ranges:
        if line > len(text):
            issues.append(_beyond(what, line, name, text, where))
    for citation in cited:
        issues.extend(_check(citation, name, text))
    return issues


def _beyond(what: str, line: int, name: str, text: RegulationText, where: DocumentPath) -> Issue:
    return Issue("T002", f"{what}: line {line} is beyond the end of {name}, which has {len(text)} lines", where)


def _check(citation: Citation, name: str, text: RegulationText) -> Iterator[Issue]:
    model, what, path = citation.model, citation.what, citation.path
    line: int = model.line
    if line > len(text):
        yield _beyond(what, line, name, text, (*path, "line"))
        return
    if "wording" not in type(model).model_fields:
        yield from _check_row(citation, name, text)
        return
    passages = str(model.wording).split(PASSAGE_SEPARATOR)
    if not text.stands(passages[0], line):
        elsewhere = text.first(passages[0])
        hint = f"; it stands at line {elsewhere}" if elsewhere is not None else "; it stands nowhere in that file"
        shape = "the cell" if line in text.cells else "the line"
        quoted = "its wording" if len(passages) == 1 else "the first passage of its wording"
        yield Issue("T001", f"{what}: {quoted} {_shown(passages[0])} is not the regulation's text at line {line} "
                            f"of {name}: {shape} there reads {_shown(text.at(line))}{hint}", (*path, "wording"))
        return
    previous = line
    for passage in passages[1:]:
        found = text.first(passage, previous)
        if found is None:
            earlier = text.first(passage)
            hint = f" (it stands at line {earlier}, before)" if earlier is not None else ""
            yield Issue("T001", f"{what}: the passage {_shown(passage)} of its wording stands nowhere in {name} at or "
                                f"after line {previous}, where the passage before it stands{hint}", (*path, "wording"))
            return
        previous = found


def _check_row(citation: Citation, name: str, text: RegulationText) -> Iterator[Issue]:
    """An indicator: the annex row at its line holds its row number, then its title."""
    model, what, path = citation.model, citation.what, citation.path
    line: int = model.line
    cells = text.row(line)
    number = str(getattr(model, "row", ""))
    if len(cells) >= 2 and cells[0] == number and cells[1] == model.title:
        return
    if len(cells) >= 2 and cells[0] == number:
        found = f"its title cell reads {_shown(cells[1])}"
    elif cells:
        found = f"the row there starts {_shown(cells[0])}" + (f", then {_shown(cells[1])}" if len(cells) > 1 else "")
    else:
        found = f"line {line} is no table row: it reads {_shown(text.at(line))}"
    elsewhere = text.first(model.title)
    hint = f"; the title stands at line {elsewhere}" if elsewhere is not None else "; the title stands nowhere in it"
    yield Issue("T001", f"{what}: its title {_shown(model.title)} is not the annex row {number} at line {line} of "
                        f"{name}: {found}{hint}", (*path, "title"))
