"""The digest of a rulebook's meaning: SHA-256 over its canonical content.

What is hashed: the validated rulebook — every field that is set to something
other than the schema's default (a field left at its default is omitted, so that
adding an optional field to the schema does not change the digest of rulebooks
that do not use it) — serialised as JSON with sorted keys, no insignificant
whitespace, UTF-8, numbers written as normalised decimals (0.20 and 0.2 are
the same number) and dates as YYYY-MM-DD.  Comments, key order, quoting and
layout of the YAML file are not part of it, so reformatting a rulebook keeps
its digest while any change of meaning changes it.
"""

from __future__ import annotations

import hashlib
import json

from mincredit._decimals import canonical_value
from mincredit.rules._schema import Rulebook


def canonical_json(rulebook: Rulebook) -> str:
    data = canonical_value(rulebook.model_dump(mode="python", by_alias=True, exclude_defaults=True))
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def rulebook_digest(rulebook: Rulebook) -> str:
    """``sha256:<hex>`` of the rulebook's canonical content."""
    return "sha256:" + hashlib.sha256(canonical_json(rulebook).encode("utf-8")).hexdigest()
