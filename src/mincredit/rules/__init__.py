"""Rulebooks: schema, loading, compiling.

The names are imported from their modules when first used, so that importing a light module of this
package (``mincredit.rules.cache``) does not import pydantic and the rulebook models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mincredit.lazy import lazy_names

if TYPE_CHECKING:
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

_HOME = {
    "CompiledRulebook": "mincredit.rules.compiling",
    "RulebookInvalid": "mincredit.rules.compiling",
    "compile_rulebook": "mincredit.rules.compiling",
    "RulebookError": "mincredit.rules.loading",
    "load_rulebook_file": "mincredit.rules.loading",
    "UnknownRulebook": "mincredit.rules.registry",
    "load_rulebook": "mincredit.rules.registry",
    "shipped_rulebook_ids": "mincredit.rules.registry",
    "Rulebook": "mincredit.rules.schema",
}


__getattr__, __dir__ = lazy_names("mincredit.rules", _HOME, globals())
