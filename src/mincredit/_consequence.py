"""One measure a result entails (arts. 21–24), as results carry it.

A plain frozen dataclass rather than a pydantic model: a batch run gives every subject of a grade the same
measures, and building them from a cached plan must not need pydantic (see :mod:`mincredit._plan`).  Result
models that hold it (``SubjectResult``) still validate and dump it as a nested object with these fields, in
this order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsequenceItem:
    id: str
    article: str
    kind: str
    wording: str
    because: str
    suspended: bool = False
    suspended_because: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The item as its JSON object (every field is already a JSON value)."""
        return asdict(self)
