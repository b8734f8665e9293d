"""What a number in the facts is, in every format: strict, as an audit tool's users expect (docs/facts.md, "Numbers").

A number is written as JSON writes one: an optional minus sign, the ASCII digits 0–9 without leading zeros, then
optionally a decimal point and digits, and optionally an exponent (``e`` or ``E``, an optional sign, digits).  It
may be given as a number (JSON, YAML) or as text holding exactly that (``"812.35"``; every CSV cell is text).
Nothing else is a number: not a boolean (``true`` is not 1), not ``+2``, `` 2``, ``8_12.35``, ``８１２`` or other
non-ASCII digits, hexadecimal or octal, ``NaN``, ``Infinity`` or YAML's ``.nan``/``.inf``.  A whole number (a
tier, an offence count, an article) has no decimal point or exponent.  Sizes are bounded, so that no number can
make mincredit build a billion digits: a whole number has at most 18 digits, any number at most 30 digits before
the decimal point and 30 after it (trailing zeros after the point do not count), and its text at most 100
characters.

The readers (:mod:`mincredit.facts._reading` for JSON, :mod:`mincredit._yaml` for YAML facts) hand the facts model
what was written; the model's validators here decide, and say why not, for that subject alone.  Standard
library only: the batch scorer imports it without pydantic.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", re.ASCII)
"""A number as JSON writes it (match the whole text: ``fullmatch``)."""
WHOLE = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
"""A whole number: JSON's integer, no decimal point, no exponent."""

WHOLE_DIGITS = 18           # a whole number: at most this many digits (a tier, an article: a few)
INTEGER_DIGITS = 30         # any number: at most this many digits before the decimal point
FRACTION_DIGITS = 30        # … and after it (trailing zeros not counted)
TEXT_LENGTH = 100           # the text of a number: at most this many characters, whatever it holds
JSON_INTEGER_DIGITS = 4000  # a JSON integer longer than this is read as a Decimal (Python's int() refuses 4300)

_NOT_FINITE = frozenset({"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity",
                         ".nan", ".inf", "-.inf", "+.inf", "snan", "-snan"})


class NotANumber(ValueError):
    """A value the facts model does not read as a number; the message says why, in a clerk's words."""


def shown(value: object, limit: int = 40) -> str:
    """A value as an error message shows it: its repr, cut short when long (a 5,000-digit number is not repeated)."""
    text = f"'{value}'" if isinstance(value, Decimal) else repr(value)
    if len(text) > limit:
        size = len(value) if isinstance(value, str) else len(str(value)) if isinstance(value, Decimal) else None
        return text[:limit] + "…" + (f" ({size:,} characters)" if size is not None else "")
    return text


def _text_problem(text: str, whole: bool) -> str | None:
    if len(text) > TEXT_LENGTH:
        return f"is too long to be a number: {len(text):,} characters (a number has at most {TEXT_LENGTH})"
    if text.strip().lower() in _NOT_FINITE:
        return "must be a finite number"
    if not (WHOLE if whole else NUMBER).fullmatch(text):
        if whole and NUMBER.fullmatch(text):
            return "must be a whole number, written without a decimal point or exponent"
        return ("must be a whole number written in the digits 0–9, e.g. 2" if whole else
                "must be a number written in the digits 0–9, with an optional minus sign, decimal point and "
                "exponent, e.g. 812.35")
    return None


def _size_problem(value: Decimal) -> str | None:
    if not value.is_finite():
        return "must be a finite number"
    if value and value.adjusted() >= INTEGER_DIGITS:
        return f"is too large: a number has at most {INTEGER_DIGITS} digits before the decimal point"
    exponent = value.as_tuple().exponent
    if value and isinstance(exponent, int) and exponent < -FRACTION_DIGITS:
        # trailing zeros after the point do not count: 850.000… is 850
        digits = value.as_tuple().digits
        trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        if exponent + trailing < -FRACTION_DIGITS:
            return f"has too many digits after the decimal point (at most {FRACTION_DIGITS})"
    return None


def decimal_value(value: object) -> object:
    """A decimal field's value (the public score, an amount): a Decimal, or NotANumber saying why it is not one.

    A value of another kind (a list, a mapping) is handed on unchanged, for the model to say it is not a number.
    A negative zero is zero: ``-0`` and ``0`` are one number, written ``0``.
    """
    if isinstance(value, bool):
        raise NotANumber(f"must be a number, not {str(value).lower()}")
    if isinstance(value, int):
        if value.bit_length() > 128:
            raise NotANumber(f"is too large: a number has at most {INTEGER_DIGITS} digits before the decimal point")
        number = Decimal(value)
    elif isinstance(value, float):
        # A float has already lost the decimal the user wrote; its shortest repr is what they wrote.
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        problem = _text_problem(value, whole=False)
        if problem is not None:
            raise NotANumber(f"{problem} (got {shown(value)})")
        number = Decimal(value)
    else:
        return value
    problem = _size_problem(number)
    if problem is not None:
        raise NotANumber(f"{problem} (got {shown(number)})")
    if not number:       # zero is never negative (-0.0 is 0.0) and has no positive exponent (0E+5 is 0)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:
            number = Decimal(0)
        elif number.is_signed():
            number = number.copy_abs()
    return number


def whole_value(value: object) -> object:
    """A whole-number field's value (a tier, an offence count, an article, an item): an int, or NotANumber.

    A Decimal is a whole number only as the JSON reader gives an integer too long for ``int`` (no point, no
    exponent); 2.0 and 1E3 are not whole numbers as written.
    """
    if isinstance(value, bool):
        raise NotANumber(f"must be a whole number, not {str(value).lower()}")
    if isinstance(value, int):
        if value.bit_length() > 60 or len(str(abs(value))) > WHOLE_DIGITS:
            raise NotANumber(f"is too large: a whole number has at most {WHOLE_DIGITS} digits")
        return value
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if value.is_finite() and exponent == 0:
            raise NotANumber(f"is too large: a whole number has at most {WHOLE_DIGITS} digits (got {shown(value)})")
        if not value.is_finite():
            raise NotANumber(f"must be a finite number (got {shown(value)})")
        raise NotANumber(f"must be a whole number, written without a decimal point or exponent (got {shown(value)})")
    if isinstance(value, float):
        raise NotANumber(f"must be a whole number, written without a decimal point or exponent (got {value!r})")
    if isinstance(value, str):
        problem = _text_problem(value, whole=True)
        if problem is not None:
            raise NotANumber(f"{problem} (got {shown(value)})")
        if len(value.lstrip("-")) > WHOLE_DIGITS:
            raise NotANumber(f"is too large: a whole number has at most {WHOLE_DIGITS} digits (got {shown(value)})")
        return int(value)
    return value


def json_integer(text: str) -> int | Decimal:
    """A JSON integer as the stdlib decoder's ``parse_int``: an int, or a Decimal when Python's int() would refuse
    its length (the facts model then says it is too large, for that subject alone)."""
    return int(text) if len(text) <= JSON_INTEGER_DIGITS else Decimal(text)


def json_constant(text: str) -> Decimal:
    """``NaN``, ``Infinity``, ``-Infinity`` (which JSON does not have, and Python's decoder accepts) as what they
    say; every number field refuses them, for that subject alone."""
    try:
        return Decimal(text)
    except InvalidOperation:      # pragma: no cover - the decoder passes only these three
        return Decimal("NaN")


def yaml_number(text: str) -> object:
    """A YAML scalar the YAML resolver took for a number, as a facts document reads it: an int or a Decimal when
    it is written as JSON writes numbers; NaN or ±Infinity for ``.nan``/``.inf``; else its text, unchanged
    (``+2``, ``0x1F``, ``1_000``, ``007``): a text field keeps it as written, a number field refuses it."""
    if WHOLE.fullmatch(text):
        return json_integer(text)
    if NUMBER.fullmatch(text):
        return Decimal(text)
    lowered = text.lower()
    if lowered in {".nan"}:
        return Decimal("NaN")
    if lowered in {".inf", "+.inf"}:
        return Decimal("Infinity")
    if lowered == "-.inf":
        return Decimal("-Infinity")
    return text
