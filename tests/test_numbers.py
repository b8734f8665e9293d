"""What a number in the facts is (mincredit._numbers): strict, the same for every format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mincredit._numbers import NotANumber, decimal_value, json_integer, whole_value, yaml_number


@pytest.mark.parametrize(("given", "expected"), [
    (850, Decimal(850)), ("812.35", Decimal("812.35")), ("8.5E2", Decimal("8.5E2")), (812.35, Decimal("812.35")),
    (Decimal("812.350"), Decimal("812.350")), ("-0", Decimal(0)), ("-0.0", Decimal("0.0")), ("0E+5", Decimal(0)),
    ("0.000000000000000000000000000000000000", Decimal("0E-36")),      # trailing zeros do not count
    (None, None), ([], []),                                             # not numbers: the model says what they are
])
def test_decimals_read(given: object, expected: object) -> None:
    assert decimal_value(given) == expected
    if isinstance(expected, Decimal):
        assert not decimal_value(given).is_signed()                    # type: ignore[union-attr]


@pytest.mark.parametrize(("given", "words"), [
    (True, "not true"), ("+2", "digits 0–9"), (" 2", "digits 0–9"), ("8_12.35", "digits 0–9"), ("８１２", "digits 0–9"),
    ("0850", "digits 0–9"), ("0x1F", "digits 0–9"), ("NaN", "finite"), (".inf", "finite"), (Decimal("NaN"), "finite"),
    (float("inf"), "finite"), ("9" * 5000, "too long"), (Decimal("9" * 5000), "too large"), (10 ** 40, "too large"),
    (Decimal("1E+999999999"), "too large"), ("1E-400", "after the decimal point"),
])
def test_what_is_not_a_decimal(given: object, words: str) -> None:
    with pytest.raises(NotANumber, match=words):
        decimal_value(given)


@pytest.mark.parametrize(("given", "expected"), [(2, 2), ("2", 2), ("-1", -1), (None, None)])
def test_whole_numbers_read(given: object, expected: object) -> None:
    assert whole_value(given) == expected


@pytest.mark.parametrize(("given", "words"), [
    (True, "not true"), ("+2", "digits 0–9"), (" 2", "digits 0–9"), ("２", "digits 0–9"), ("2.0", "decimal point"),
    (Decimal("2.0"), "decimal point"), (2.0, "decimal point"), ("1e3", "decimal point"), (10 ** 18, "too large"),
    ("9" * 19, "too large"), (Decimal("9" * 5000), "too large"), ("NaN", "finite"),
])
def test_what_is_not_a_whole_number(given: object, words: str) -> None:
    with pytest.raises(NotANumber, match=words):
        whole_value(given)


def test_json_and_yaml_hand_over_what_was_written() -> None:
    assert json_integer("12") == 12 and json_integer("9" * 5000) == Decimal("9" * 5000)
    assert yaml_number("2") == 2 and yaml_number("812.35") == Decimal("812.35")
    assert yaml_number(".nan").is_nan() and yaml_number("-.inf") == Decimal("-Infinity")   # type: ignore[union-attr]
    for kept in ("+2", "0x1F", "1_000", "007", "0o17", "1."):
        assert yaml_number(kept) == kept
