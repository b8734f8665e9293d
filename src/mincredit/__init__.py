"""mincredit: Inner Mongolia's mining credit measures as versioned YAML rulebooks and an exact engine.

The public API, small on purpose:

- :func:`load_rulebook` — a shipped rulebook by id (``"miner"``, ``"agency"``) or a rulebook file.
- :func:`read_facts_file` — subjects from a YAML, JSON or JSON Lines facts file, each valid or with its errors.
- :func:`evaluate` — score, grade and explain subjects against a rulebook as of a date.
- :func:`evaluate_stream` — evaluate an iterable of subjects lazily, one outcome per subject in input order;
  with ``explain=False`` a :class:`Score` per subject (every field of the result but the explanations).
- :func:`evaluate_table` — evaluate a pyarrow Table or polars DataFrame of records already in memory, on
  whole columns (needs the ``columnar`` extra).
- :func:`publish` — the serious-blacklist and the evaluation results as published on a date (arts. 15, 20), personal
  information masked; :func:`verify_publication` and :func:`replay_publication` check a published folder against its
  manifest and its facts; :func:`read_publication` reads one back as the previous publication of a later one.
- the fact models (:class:`Subject`, :class:`ViolationRecord`, :class:`HonourRecord`) and the result
  models (:class:`Evaluation`, :class:`SubjectResult`, :class:`Item`, :class:`Score`, :class:`SubjectErrors`).

The names are imported when first used, so that ``import mincredit`` (and the command line) loads only
the modules a task needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mincredit._lazy import lazy_names

if TYPE_CHECKING:
    from mincredit._batch import Score, SubjectErrors, evaluate_stream
    from mincredit._columnar import evaluate_table
    from mincredit._engine import Evaluation, Item, SubjectResult, evaluate, evaluate_subject
    from mincredit._publish._api import (
        Publication,
        PublicationError,
        publish,
        read_publication,
        replay_publication,
        verify_publication,
    )
    from mincredit.facts import FactError, FactsDocument, HonourRecord, Subject, ViolationRecord, read_facts_file
    from mincredit.rules import CompiledRulebook, RulebookError, RulebookInvalid, UnknownRulebook, load_rulebook

__all__ = [
    "CompiledRulebook",
    "Evaluation",
    "FactError",
    "FactsDocument",
    "HonourRecord",
    "Item",
    "Publication",
    "PublicationError",
    "RulebookError",
    "RulebookInvalid",
    "Score",
    "Subject",
    "SubjectErrors",
    "SubjectResult",
    "UnknownRulebook",
    "ViolationRecord",
    "evaluate",
    "evaluate_stream",
    "evaluate_subject",
    "evaluate_table",
    "load_rulebook",
    "publish",
    "read_facts_file",
    "read_publication",
    "replay_publication",
    "verify_publication",
]

_HOME = {
    "CompiledRulebook": "mincredit.rules",
    "Evaluation": "mincredit._engine",
    "FactError": "mincredit.facts",
    "FactsDocument": "mincredit.facts",
    "HonourRecord": "mincredit.facts",
    "Item": "mincredit._engine",
    "Publication": "mincredit._publish._api",
    "PublicationError": "mincredit._publish._api",
    "RulebookError": "mincredit.rules",
    "RulebookInvalid": "mincredit.rules",
    "Score": "mincredit._batch",
    "Subject": "mincredit.facts",
    "SubjectErrors": "mincredit._batch",
    "SubjectResult": "mincredit._engine",
    "UnknownRulebook": "mincredit.rules",
    "ViolationRecord": "mincredit.facts",
    "evaluate": "mincredit._engine",
    "evaluate_stream": "mincredit._batch",
    "evaluate_subject": "mincredit._engine",
    "evaluate_table": "mincredit._columnar",
    "load_rulebook": "mincredit.rules",
    "publish": "mincredit._publish._api",
    "read_publication": "mincredit._publish._api",
    "replay_publication": "mincredit._publish._api",
    "verify_publication": "mincredit._publish._api",
    "read_facts_file": "mincredit.facts",
}


__getattr__, __dir__ = lazy_names("mincredit", _HOME, globals())
