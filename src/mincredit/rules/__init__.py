"""Rulebooks: schema, loading, compiling."""

from mincredit.rules.compiling import CompiledRulebook, RulebookInvalid, compile_rulebook
from mincredit.rules.loading import RulebookError, load_rulebook_file
from mincredit.rules.registry import UnknownRulebook, load_rulebook, shipped_rulebook_ids
from mincredit.rules.schema import Rulebook

__all__ = [
    "CompiledRulebook",
    "Rulebook",
    "RulebookError",
    "RulebookInvalid",
    "UnknownRulebook",
    "compile_rulebook",
    "load_rulebook",
    "load_rulebook_file",
    "shipped_rulebook_ids",
]
