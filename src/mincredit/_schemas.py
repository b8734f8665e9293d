"""JSON Schemas of the files people write by hand, from the pydantic models that read them: ``mincredit schema``.

An editor given the rulebook schema (the YAML language server, VS Code, PyCharm) validates a rulebook and completes
its keys as it is typed: a misspelt key, a missing wording or a tier written as text is marked on the spot, before
``mincredit lint`` runs.  The schema is what the models accept, field for field (unknown keys are refused, as the
loader refuses them); what only the linter knows — grade bands that overlap, a wording not in the regulation — it
cannot say.  Scenario files and facts files have theirs too.
"""

from __future__ import annotations

from typing import Any, Literal

SchemaKind = Literal["rulebook", "facts", "scenarios"]
KINDS: tuple[SchemaKind, ...] = ("rulebook", "facts", "scenarios")
DIALECT = "https://json-schema.org/draft/2020-12/schema"

_ABOUT = {
    "rulebook": ("mincredit rulebook", "A rulebook of mincredit (docs/rulebooks.md): the annex's indicators and tiers, "
                                       "grades, honours, retention, and the measures' blocks."),
    "facts": ("mincredit facts", "A facts file of mincredit (docs/facts.md): the subjects evaluated and their "
                                 "records."),
    "scenarios": ("mincredit scenarios", "A drafters' scenario file of mincredit (mincredit test): facts, an as-of "
                                         "date and the expected outcome."),
}


def json_schema(kind: SchemaKind = "rulebook") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a rulebook, a facts file or a scenario file."""
    from pydantic import BaseModel

    model: type[BaseModel]
    if kind == "rulebook":
        from mincredit.rules._schema import Rulebook

        model = Rulebook
    elif kind == "facts":
        from mincredit.facts._models import FactsDocument

        model = FactsDocument
    else:
        from mincredit._scenarios import ScenarioFile

        model = ScenarioFile
    title, description = _ABOUT[kind]
    schema = model.model_json_schema(mode="validation")
    return {"$schema": DIALECT, **schema, "title": title, "description": description}
