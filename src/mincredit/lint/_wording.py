"""What a tier's Chinese wording says about amounts: "违法所得在10万元以下", "逾期3个月以上6个月以内".

Chinese law reads 以上、以下、以内 as including the number itself (the Criminal
Law says so, and administrative rules use them the same way), while 超过、不满、
不足、未满、低于、高于 exclude it.  So two tiers worded "10万元以下" and
"10万元以上" *both* claim exactly 10万元, and a rulebook has to settle which
one it belongs to.  This module only reads the claims; the checks compare
them with the tiers' conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Side = Literal["lower", "upper"]

# The units as the regulation writes them, and the rulebook unit each one is.
_UNIT_WORDS = {"万元": "万元", "元": "元", "个月": "month", "月": "month", "年": "year", "日": "day", "天": "day",
               "%": "percent", "％": "percent"}
_NUMBER = r"(?P<number>\d+(?:\.\d+)?)"
_UNIT = r"(?P<unit>万元|元|个月|年|日|天|%|％)"
# "10万元以上", "60日以内": the number comes first and is included.
_SUFFIXED = re.compile(_NUMBER + r"\s*" + _UNIT + r"(?P<word>以上|以下|以内)")
# "超过10万元", "不满3个月": the word comes first and the number is excluded.
_PREFIXED = re.compile(r"(?P<word>超过|高于|多于|不满|不足|未满|低于|少于)\s*" + _NUMBER + r"\s*" + _UNIT)
_SIDE = {"以上": "lower", "以下": "upper", "以内": "upper", "超过": "lower", "高于": "lower", "多于": "lower",
         "不满": "upper", "不足": "upper", "未满": "upper", "低于": "upper", "少于": "upper"}


@dataclass(frozen=True)
class Claim:
    """The wording puts one end of the range at ``value`` ``unit``; ``text`` is the words themselves."""

    side: Side
    value: Decimal
    unit: str
    inclusive: bool
    text: str


def claims(wording: str) -> list[Claim]:
    """Every end of a range the wording states, in the order they appear."""
    found: list[tuple[int, Claim]] = []
    for match in _SUFFIXED.finditer(wording):
        word = match["word"]
        side: Side = "lower" if _SIDE[word] == "lower" else "upper"
        found.append((match.start(), Claim(side, Decimal(match["number"]), _UNIT_WORDS[match["unit"]], True,
                                           match.group(0))))
    for match in _PREFIXED.finditer(wording):
        word = match["word"]
        side = "lower" if _SIDE[word] == "lower" else "upper"
        found.append((match.start(), Claim(side, Decimal(match["number"]), _UNIT_WORDS[match["unit"]], False,
                                           match.group(0))))
    return [claim for _, claim in sorted(found, key=lambda item: item[0])]
