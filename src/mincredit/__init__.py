"""mincredit: Inner Mongolia's mining credit measures as versioned YAML rulebooks and an exact engine.

The public API, small on purpose:

- :func:`load_rulebook` — a shipped rulebook by id (``"miner"``, ``"agency"``) or a rulebook file.
- :func:`read_facts_file` — subjects from a YAML, JSON or JSON Lines facts file, each valid or with its errors.
- :func:`evaluate` — score, grade and explain subjects against a rulebook as of a date.
- the fact models (:class:`Subject`, :class:`ViolationRecord`, :class:`HonourRecord`) and the result
  models (:class:`Evaluation`, :class:`SubjectResult`, :class:`Item`).
"""

from mincredit.engine import Evaluation, Item, SubjectResult, evaluate, evaluate_subject
from mincredit.facts import FactError, FactsDocument, HonourRecord, Subject, ViolationRecord, read_facts_file
from mincredit.rules import CompiledRulebook, RulebookError, RulebookInvalid, UnknownRulebook, load_rulebook

__all__ = [
    "CompiledRulebook",
    "Evaluation",
    "FactError",
    "FactsDocument",
    "HonourRecord",
    "Item",
    "RulebookError",
    "RulebookInvalid",
    "Subject",
    "SubjectResult",
    "UnknownRulebook",
    "ViolationRecord",
    "evaluate",
    "evaluate_subject",
    "load_rulebook",
    "read_facts_file",
]
