"""Fact models (the public interchange format) and facts-file reading.

The names are imported from their modules when first used, so that importing a light module of this
package (``mincredit.facts.reading``, ``mincredit.facts.uscc``) does not build the pydantic models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mincredit.facts.loading import read_facts_file
    from mincredit.facts.models import FactsDocument, HonourRecord, Record, Subject, ViolationRecord
    from mincredit.facts.reading import FactError, FactsFileError, SubjectEntry

__all__ = [
    "FactError",
    "FactsDocument",
    "FactsFileError",
    "HonourRecord",
    "Record",
    "Subject",
    "SubjectEntry",
    "ViolationRecord",
    "read_facts_file",
]

_HOME = {
    "FactError": "mincredit.facts.reading",
    "FactsFileError": "mincredit.facts.reading",
    "SubjectEntry": "mincredit.facts.reading",
    "read_facts_file": "mincredit.facts.loading",
    "FactsDocument": "mincredit.facts.models",
    "HonourRecord": "mincredit.facts.models",
    "Record": "mincredit.facts.models",
    "Subject": "mincredit.facts.models",
    "ViolationRecord": "mincredit.facts.models",
}


def __getattr__(name: str) -> Any:
    """The public names, each imported from its module on first use (PEP 562)."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'mincredit.facts' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
