"""Fact models (the public interchange format) and facts-file reading."""

from mincredit.facts.loading import FactError, FactsFileError, SubjectEntry, read_facts_file
from mincredit.facts.models import FactsDocument, HonourRecord, Record, Subject, ViolationRecord

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
