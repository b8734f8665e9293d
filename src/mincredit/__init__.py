"""mincredit: Inner Mongolia's mining credit measures as versioned YAML rulebooks and an exact, explained engine.

The public API, small on purpose (everything else is private, as in httpx):

- :func:`load_rulebook` — a rulebook by id (in force on a date), ``id@version``, or file; a :class:`CompiledRulebook`.
- :func:`read_facts_file` — subjects from a YAML, JSON or JSON Lines facts file, each valid or with its errors.
- :func:`evaluate` — score, grade and explain subjects against a rulebook as of a date: an :class:`Evaluation`.
- :func:`evaluate_subject` — one subject already checked.
- :func:`evaluate_stream` — an iterable of subjects lazily, one :class:`SubjectResult` or :class:`SubjectErrors`
  per subject in input order; with ``explain=False`` the results carry no items (every other field the same).
- :func:`evaluate_table` — a pyarrow Table or polars DataFrame of records already in memory, on whole columns
  (needs the ``columnar`` extra).
- the fact models (:class:`Subject`, :class:`ViolationRecord`, :class:`HonourRecord`, :class:`FactsDocument`) and
  the result values (:class:`Evaluation`, :class:`SubjectResult`, :class:`Item`, :class:`SubjectErrors`,
  :class:`FactError`); the errors (:class:`RulebookError`, :class:`RulebookInvalid`, :class:`UnknownRulebook`).
- :func:`publish` — the serious-blacklist and the evaluation results as published on a date, personal information
  masked; :func:`verify_publication` and :func:`replay_publication` check a published folder against its manifest
  and its facts; :func:`read_publication` reads one back as the previous publication of a later one.

The names are imported when first used, so that ``import mincredit`` (and the command line) loads only the
modules a task needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mincredit._lazy import lazy_names

if TYPE_CHECKING:
    from mincredit._engine import evaluate, evaluate_subject
    from mincredit._population.columnar import evaluate_table
    from mincredit._population.run import evaluate_stream
    from mincredit._publish._api import (
        Publication,
        PublicationError,
        publish,
        read_publication,
        replay_publication,
        verify_publication,
    )
    from mincredit._results import Evaluation, Item, SubjectErrors, SubjectResult
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
    "Evaluation": "mincredit._results",
    "FactError": "mincredit.facts",
    "FactsDocument": "mincredit.facts",
    "HonourRecord": "mincredit.facts",
    "Item": "mincredit._results",
    "Publication": "mincredit._publish._api",
    "PublicationError": "mincredit._publish._api",
    "RulebookError": "mincredit.rules",
    "RulebookInvalid": "mincredit.rules",
    "Subject": "mincredit.facts",
    "SubjectErrors": "mincredit._results",
    "SubjectResult": "mincredit._results",
    "UnknownRulebook": "mincredit.rules",
    "ViolationRecord": "mincredit.facts",
    "evaluate": "mincredit._engine",
    "evaluate_stream": "mincredit._population.run",
    "evaluate_subject": "mincredit._engine",
    "evaluate_table": "mincredit._population.columnar",
    "load_rulebook": "mincredit.rules",
    "publish": "mincredit._publish._api",
    "read_publication": "mincredit._publish._api",
    "replay_publication": "mincredit._publish._api",
    "verify_publication": "mincredit._publish._api",
    "read_facts_file": "mincredit.facts",
}


__getattr__, __dir__ = lazy_names("mincredit", _HOME, globals())
