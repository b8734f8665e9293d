"""统一社会信用代码 (Unified Social Credit Code) check, GB 32100-2015."""

from __future__ import annotations

import operator

# GB 32100-2015 §4: the code's alphabet leaves out I, O, S, V and Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE_OF_BYTE = bytes(ALPHABET.index(chr(byte)) if chr(byte) in ALPHABET else 255 for byte in range(256))
"""An ASCII byte → its value in the alphabet, 255 for a byte that is not in it."""


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: object) -> bool:
    """True only for a valid USCC: the same answer as ``uscc_problem(code) is None``, fast (batch scoring asks it
    for every subject)."""
    if type(code) is not str or len(code) != 18 or not code.isascii():
        return False
    values = code.encode("ascii").translate(_VALUE_OF_BYTE)
    if 255 in values:
        return False
    return bool(values[17] == (31 - sum(map(operator.mul, values, WEIGHTS)) % 31) % 31)


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid USCC, in plain words; None when it is valid."""
    if len(code) != 18:
        return f"a 统一社会信用代码 has 18 characters, this one has {len(code)}"
    bad = [char for char in code if char not in ALPHABET]
    if bad:
        return (f"the character {bad[0]!r} cannot appear in a 统一社会信用代码 "
                "(only digits and capital letters other than I, O, S, V, Z)")
    expected = check_character(code[:17])
    if code[17] != expected:
        return (f"the check character (the 18th) is {code[17]!r} but the first 17 characters require "
                f"{expected!r}; the code was probably mistyped")
    return None
