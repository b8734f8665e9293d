"""Fact models (the public interchange format) and facts-file reading.

The names are imported from their modules when first used, so that importing a light module of this
package (``mincredit.facts.reading``, ``mincredit.facts.uscc``) does not build the pydantic models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mincredit.lazy import lazy_names

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


__getattr__, __dir__ = lazy_names("mincredit.facts", _HOME, globals())
