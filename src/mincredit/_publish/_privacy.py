"""Personal information kept out of published text (the rulebook's publication.privacy rules; I84).

What is published is a fixed set of fields (the rulebook's publication lists), none of them basic information; but two
of them are free text written by clerks — 失信事实 (a record's description) and 决定机关 — and free text can
name a person.  :class:`Masker` masks, in that text:

- every number of the subject's basic information (identity, travel-document and telephone numbers),
  however it is spaced or hyphenated;
- every run of at least ``min_digits`` digits (a single space or hyphen may separate them; an identity number
  may end in X), whoever it belongs to: identity numbers, old 15-digit numbers, mobile and landline numbers,
  bank accounts — character for character, so the text keeps its length and shape;
- the name of every natural person of the subject's basic information, to its first ``keep`` characters and
  the replacement (张三 → 张某), except where the name is part of the subject's own name, which is public.

Names of persons the facts do not record cannot be recognised in free text: docs/publication.md tells
clerks not to write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mincredit._publish._rules import Privacy
from mincredit.facts._models import Subject

_SEPARATOR = r"[ \-]?"
_CHECK_X = "XxＸｘ"


def _digit_run(min_digits: int) -> re.Pattern[str]:
    # \d is every Unicode decimal digit (full-width １２３ too); the look-behind and look-ahead make a match
    # a whole run, so a number is never half masked.
    return re.compile(rf"(?<!\d)\d(?:{_SEPARATOR}\d){{{min_digits - 1},}}(?:{_SEPARATOR}[{_CHECK_X}])?(?!\d)")


def _known_number(number: str) -> re.Pattern[str] | None:
    """A number as it may be written in text: any single space or hyphen between its characters, any case."""
    characters = [c for c in number if c not in " -"]
    if not characters:
        return None
    return re.compile(_SEPARATOR.join(re.escape(c) for c in characters), re.IGNORECASE)


@dataclass(frozen=True)
class Masker:
    """Masks one subject's free text for publication."""

    names: tuple[str, ...]
    numbers: tuple[re.Pattern[str], ...]
    digit_run: re.Pattern[str]
    keep: int
    name_replacement: str
    number_replacement: str
    protected: tuple[str, ...] = ()

    @classmethod
    def for_subject(cls, rules: Privacy, subject: Subject | None) -> Masker:
        names: list[str] = []
        numbers: list[str] = []
        protected: list[str] = []
        if subject is not None:
            protected.append(subject.name)
            if subject.basic is not None:
                for person in subject.basic.persons():
                    names.append(person.name)
                    numbers.extend(n for n in (person.id_number, person.travel_document, person.phone) if n)
        patterns = [p for p in (_known_number(n) for n in sorted(set(numbers), key=len, reverse=True)) if p]
        return cls(names=tuple(sorted(set(names), key=len, reverse=True)), numbers=tuple(patterns),
                   digit_run=_digit_run(rules.numbers.min_digits), keep=rules.names.keep,
                   name_replacement=rules.names.replacement, number_replacement=rules.numbers.replacement,
                   protected=tuple(protected))

    def _mask_name(self, name: str) -> str:
        keep = min(self.keep, len(name) - 1)
        return name[:keep] + self.name_replacement

    def mask(self, text: str) -> str:
        def hide(match: re.Match[str]) -> str:
            return self.number_replacement * len(match.group(0))

        for pattern in self.numbers:
            text = pattern.sub(hide, text)
        text = self.digit_run.sub(hide, text)
        if not self.names:
            return text
        # Spans of the subject's own (public) name: a person's name inside it is not masked there.
        kept = [(m.start(), m.end()) for own in self.protected if own
                for m in re.finditer(re.escape(own), text)]
        pattern = re.compile("|".join(re.escape(name) for name in self.names))

        def hide_name(match: re.Match[str]) -> str:
            if any(start <= match.start() and match.end() <= end for start, end in kept):
                return match.group(0)
            return self._mask_name(match.group(0))

        return pattern.sub(hide_name, text)
