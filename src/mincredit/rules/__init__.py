"""Rulebooks: schema, loading, compiling.

The names are imported from their modules when first used, so that importing a light module of this
package (``mincredit.rules._cache``) does not import pydantic and the rulebook models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mincredit._lazy import lazy_names

if TYPE_CHECKING:
    from mincredit.rules._compiling import CompiledRulebook, RulebookInvalid, compile_rulebook
    from mincredit.rules._loading import RulebookError, load_rulebook_file
    from mincredit.rules._registry import UnknownRulebook, load_rulebook, shipped_rulebook_ids
    from mincredit.rules._schema import Rulebook

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
    "CompiledRulebook": "mincredit.rules._compiling",
    "RulebookInvalid": "mincredit.rules._compiling",
    "compile_rulebook": "mincredit.rules._compiling",
    "RulebookError": "mincredit.rules._loading",
    "load_rulebook_file": "mincredit.rules._loading",
    "UnknownRulebook": "mincredit.rules._registry",
    "load_rulebook": "mincredit.rules._registry",
    "shipped_rulebook_ids": "mincredit.rules._registry",
    "Rulebook": "mincredit.rules._schema",
}


__getattr__, __dir__ = lazy_names("mincredit.rules", _HOME, globals())
