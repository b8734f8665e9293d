"""What lint reports: a finding at a position of a file, with its code and severity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
DocumentPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """A problem a check found, located by its path in the YAML document (not yet by line and column).

    ``key`` points at the mapping key of ``path`` instead of its value (an unknown field, say).
    """

    code: str
    message: str
    path: DocumentPath
    key: bool = False


@dataclass(frozen=True, order=True)
class Finding:
    """One line of lint output: ``path:line:column: CODE message``."""

    path: str
    line: int
    column: int
    code: str
    severity: Severity
    message: str

    def render(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"

    def as_json(self) -> dict[str, str | int]:
        return {"path": self.path, "line": self.line, "column": self.column, "code": self.code,
                "severity": self.severity, "message": self.message}
