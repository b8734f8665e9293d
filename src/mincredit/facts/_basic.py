"""基础信息 (the credit file's basic information): the persons behind a subject, and how a 公民身份号码 is checked
(GB 11643-1999).

The credit file puts the names, identity numbers and travel-document numbers of a subject's 法定代表人, 主要负责人
and 实际控制人 in its credit file.  They are facts like any other (validated, with errors naming the
field), but they are personal information: nothing here is ever published (the rulebook's publication.privacy
rules, docs/publication.md), and :mod:`mincredit._publish` uses them only to find and mask these persons' names and
numbers inside free text.

No message written here repeats an identity number, not even a wrong one: error messages reach logs,
terminals and evaluation records.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from mincredit.facts._types import FactModel, Label

# ISO 7064 MOD 11-2 as GB 11643 states it: weight 2^(17-i) mod 11 for the i-th of the first 17 digits;
# the check character is (12 - sum mod 11) mod 11, written X for 10.
_WEIGHTS = tuple(pow(2, 17 - position, 11) for position in range(17))
_CHECK = "10X98765432"


def identity_check_character(first17: str) -> str:
    """The 18th character GB 11643 requires after these 17 digits."""
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True)) % 11]


def identity_number_problem(number: str) -> str | None:
    """Why ``number`` is not a valid 18-character 公民身份号码, in a clerk's words — never repeating it; None
    when it is valid: 17 digits (6 of address, 8 of birth date, 3 of sequence), then the ISO 7064 MOD 11-2 check
    character (a digit or X), and a birth date that is a real day."""
    if len(number) == 15 and number.isdigit() and number.isascii():
        return ("this is a 15-digit first-generation number; write the 18-digit 公民身份号码 of the second-generation "
                "card (GB 11643-1999)")
    if len(number) != 18:
        return f"a 公民身份号码 has 18 characters, this one has {len(number)}"
    if not (number[:17].isdigit() and number[:17].isascii()):
        return "the first 17 characters of a 公民身份号码 are digits"
    last = number[17].upper()
    if not (last.isascii() and (last.isdigit() or last == "X")):
        return "the 18th character of a 公民身份号码 is a digit or X"
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "characters 7–14 of a 公民身份号码 are the birth date (YYYYMMDD), and these are not a real day"
    if identity_check_character(number[:17]) != last:
        return ("the check character (the 18th) does not match the first 17 characters (ISO 7064 MOD 11-2); "
                "the number was probably mistyped")
    return None


class Person(FactModel):
    """A natural person the credit file records: name and identifying numbers. Never published."""

    name: Label
    id_number: Label | None = Field(default=None, repr=False, description="公民身份号码, 18 characters, GB 11643-1999")
    travel_document: Label | None = Field(default=None, repr=False, description="出入境证件号码")
    phone: Label | None = Field(default=None, repr=False)   # repr: a logged model must not show the numbers

    @field_validator("name")
    @classmethod
    def _full_name(cls, value: str) -> str:
        # a one-character "name" would make every occurrence of that character a name to mask (I84)
        if len(value) < 2:
            raise ValueError("write the person's full name (at least two characters)")
        return value

    @field_validator("id_number")
    @classmethod
    def _valid_identity_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = identity_number_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value.upper()


class Licence(FactModel):
    """A registration, licence or qualification of the credit file (工商登记, 勘查开采许可, 安全生产许可, 资质)."""

    kind: Label
    number: Label
    valid_until: dt.date | None = None


class BasicInformation(FactModel):
    """基础信息: kept in the credit file, never published (docs/publication.md)."""

    legal_representative: Person | None = Field(default=None, description="法定代表人")
    principals: list[Person] = Field(default_factory=list, description="主要负责人")
    actual_controllers: list[Person] = Field(default_factory=list, description="实际控制人")
    contact: Person | None = Field(default=None, description="联系人")
    licences: list[Licence] = Field(default_factory=list)

    def persons(self) -> list[Person]:
        """Every natural person named, in the order above."""
        found = [self.legal_representative, *self.principals, *self.actual_controllers, self.contact]
        return [person for person in found if person is not None]
