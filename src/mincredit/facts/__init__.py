"""Fact models (the public interchange format) and facts-file reading.

The names are imported from their modules when first used, so that importing a light module of this
package (``mincredit.facts._reading``, ``mincredit.facts._uscc``) does not build the pydantic models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mincredit._lazy import lazy_names

if TYPE_CHECKING:
    from mincredit.facts._models import FactsDocument, HonourRecord, Record, Subject, ViolationRecord
    from mincredit.facts._reading import FactError, FactsFileError, SubjectEntry
    from mincredit.facts._validating import read_facts_file

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
    "FactError": "mincredit.facts._reading",
    "FactsFileError": "mincredit.facts._reading",
    "SubjectEntry": "mincredit.facts._reading",
    "read_facts_file": "mincredit.facts._validating",
    "FactsDocument": "mincredit.facts._models",
    "HonourRecord": "mincredit.facts._models",
    "Record": "mincredit.facts._models",
    "Subject": "mincredit.facts._models",
    "ViolationRecord": "mincredit.facts._models",
}


__getattr__, __dir__ = lazy_names("mincredit.facts", _HOME, globals())
