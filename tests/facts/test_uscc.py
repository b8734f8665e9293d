"""The USCC check (GB 32100-2015), against python-stdnum's ``stdnum.cn.uscc`` as an oracle.

stdnum is not used at run time (docs/dependencies.md): it gives one message for any wrong code, where a clerk
needs to know which character is wrong, and it refuses codes whose first eight characters are not all digits,
which GB 32100 allows (registration authorities N and Y, for example).  On the codes it does check, both
must agree on the check character.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mincredit.facts._uscc import ALPHABET, check_character, is_valid_uscc, uscc_problem

uscc = pytest.importorskip("stdnum.cn.uscc")

first17 = st.tuples(st.text("0123456789", min_size=8, max_size=8), st.text(ALPHABET, min_size=9, max_size=9))


@given(first17, st.sampled_from(ALPHABET))
def test_the_check_character_agrees_with_stdnum(parts: tuple[str, str], last: str) -> None:
    code = parts[0] + parts[1] + last
    assert (uscc_problem(code) is None) == uscc.is_valid(code) == is_valid_uscc(code)
    assert check_character(code[:17]) == uscc.calc_check_digit(code[:17])


def test_our_messages_say_which_character_is_wrong_and_stdnums_do_not() -> None:
    assert "'7' but the first 17 characters require '6'" in (uscc_problem("91150600MA13R7T5Q7") or "")
    assert "'O' cannot appear" in (uscc_problem("9115060OMA13R7T5Q6") or "")
    assert "18 characters, this one has 17" in (uscc_problem("91150600MA13R7T5Q") or "")
    with pytest.raises(Exception, match="checksum or check digit is invalid") as caught:
        uscc.validate("91150600MA13R7T5Q7")
    assert "7" not in str(caught.value)


def test_a_code_stdnum_refuses_but_gb_32100_allows() -> None:
    """Registration authority N (农业) and a letter in the first eight characters: valid, and stdnum says no."""
    code = "N2150100MA0000000"
    code += check_character(code)
    assert uscc_problem(code) is None and is_valid_uscc(code)
    assert not uscc.is_valid(code)
