"""What every fact model shares: labels read as text, non-empty trimmed texts, and the strict base model."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

from mincredit._numbers import decimal_value, whole_value


def digits_as_text(value: object) -> object:
    """YAML reads an all-digit code (a USCC ending in a digit, ``id: 7``) as a number; it is a label (and must not
    lose a leading zero)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# json_schema_input_type: `mincredit schema` tells editors an all-digit id written as a YAML number is accepted
DigitsAsText = BeforeValidator(digits_as_text, json_schema_input_type=str | int)
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
"""A text that must not be empty; surrounding spaces are trimmed."""
Label = Annotated[str, DigitsAsText, StringConstraints(min_length=1, strip_whitespace=True)]
"""An id or a code: text, even when written as digits."""
Whole = Annotated[int, BeforeValidator(whole_value)]
"""A whole number as the facts write it (mincredit._numbers): never a boolean, never ``+2`` or ``2.0``."""
Number = Annotated[Decimal, BeforeValidator(decimal_value)]
"""A decimal number as the facts write it (mincredit._numbers): exact, finite, of a bounded size; -0 is 0."""


class FactModel(BaseModel):
    """Facts are frozen, and a field the format does not know is an error, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
