"""Exact numbers: what ``mincredit._decimals.exact`` makes of a Decimal, never rounding it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mincredit._decimals import exact


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10 ** 30, max_value=10 ** 30)
       | st.integers(min_value=-10 ** 20, max_value=10 ** 20).map(lambda n: Decimal(n).scaleb(3)))
def test_exact_keeps_the_value_and_drops_positive_exponent_and_trailing_zeros(value: Decimal) -> None:
    result = exact(value)
    exponent = result.as_tuple().exponent
    text = format(result, "f")
    assert result == value                                        # never rounded, whatever the digits
    assert isinstance(exponent, int) and exponent <= 0          # 1E+3 is 1000, never an exponent upward
    assert "." not in text or not text.endswith("0")


@pytest.mark.parametrize(("value", "text"), [
    ("962.470", "962.47"), ("1E+3", "1000"), ("0.00", "0"), ("-160.00", "-160"), ("900.001", "900.001"),
    ("812.35000000000000000000000000000000000010", "812.3500000000000000000000000000000000001"),
    ("1234567890123456789012345678901234567890E+2", "123456789012345678901234567890123456789000")])
def test_exact_by_hand(value: str, text: str) -> None:
    assert str(exact(Decimal(value))) == text
