"""The kernel's vectorised twin: a unit of Parquet/CSV rows scored on whole columns, without explanations.

Everything the facts model checks is checked on whole columns; every subject a check flags takes the reference
path (the model and the engine), which accepts it exactly or says why not.  The numbers are the kernel's, on
columns: (indicator, tier) → points and level → points through look-up arrays made from the kernel's tables;
a violation counts from the day's ``violation_from`` to the evaluation date; an honour is in force within its
validity (or from ``honour_from``); the same title once at its highest level; the cap; the formula in exact
integer arithmetic on decimals scaled to a common exponent, so scores are exact decimals (``962.47``), never
floats; the grade band by the kernel's edges; what a band entails and the warnings on stated tiers of indicators
graded by repetition in the kernel's own words (:data:`mincredit._kernel.COUNT_WARNING`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from mincredit._decimals import exact
from mincredit._kernel import COUNT_WARNING, Day, count_warning
from mincredit._population import arrow
from mincredit._population.arrow import PROBLEM, SUBJECT_PROBLEM, SUBJECT_ROW
from mincredit._results import encode
from mincredit.facts._uscc import ALPHABET, WEIGHTS


@dataclass(frozen=True)
class _Coded:
    """A text column as each row's position among its distinct values (each checked once), and where it has one.

    ``positions`` means nothing in a row without a value: every use is masked by ``present``.
    """

    positions: npt.NDArray[Any]
    present: npt.NDArray[np.bool_]
    values: pa.Array

    def per_row(self, table: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A number per distinct value, spread to the rows (meaning nothing where a row has no value)."""
        if len(table) == 0:
            return np.zeros(len(self.positions), dtype=table.dtype)
        return table.take(self.positions, mode="clip")

    def rows_of(self, chosen: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """The rows whose value is one of the chosen distinct values."""
        picked = np.flatnonzero(chosen)
        if len(picked) == 0:
            return np.zeros(len(self.positions), dtype=bool)
        rows: npt.NDArray[np.bool_]
        if len(picked) <= 2:       # one or two values: compared, cheaper than looked up
            rows = self.positions == picked[0]
            if len(picked) == 2:
                rows |= self.positions == picked[1]
        else:
            rows = chosen.take(self.positions, mode="clip")
        return rows & self.present

    def value_positions(self, wanted: list[str]) -> npt.NDArray[np.int64]:
        """Each distinct value's position in ``wanted`` (-1: not there)."""
        return arrow.np_int(pc.index_in(self.values, value_set=pa.array(wanted, pa.string())), -1)


_POOL: ThreadPoolExecutor | None = None


_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="mincredit-columns")
        return _POOL


class _Checks:
    """The columns of one unit, checked as the facts model checks them; rows any check flags take the
    reference path (the model and the engine), which accepts them exactly or says why not."""

    def __init__(self, table: pa.Table, texts: Iterable[str] = ()) -> None:
        self.table = table
        self.count = table.num_rows
        self.flag = np.zeros(self.count, dtype=bool)
        self._columns: dict[str, pa.Array | None] = {}
        self._names = frozenset(table.column_names)
        self._nothing: _Coded | None = None
        # Text columns not dictionary-encoded yet (a table in memory) are encoded side by side: Arrow's kernels
        # run without the interpreter lock, so on several cores they overlap.
        self._encoded: dict[str, Future[pa.DictionaryArray | None]] = {}
        plain = [name for name in texts if (column := self.column(name)) is not None and arrow.is_text(column.type)]
        if len(plain) > 1:
            pool = _pool()
            self._encoded = {name: pool.submit(arrow.dictionary_of, self.table.column(name)) for name in plain}

    def column(self, name: str) -> pa.Array | None:
        if name not in self._columns:
            column = arrow.whole(self.table.column(name)) if name in self._names else None
            self._columns[name] = None if column is None or pa.types.is_null(column.type) else column
        return self._columns[name]

    def _none(self) -> _Coded:
        """No text in any row (shared: never changed in place)."""
        if self._nothing is None:
            self._nothing = _Coded(np.zeros(self.count, dtype=np.int32), np.zeros(self.count, dtype=bool),
                                   pa.array([], pa.string()))
        return self._nothing

    def _coded(self, encoded: pa.DictionaryArray) -> _Coded:
        return _Coded(arrow.raw(encoded.indices), arrow.valid(encoded.indices), encoded.dictionary)

    def _flag_codes(self, coded: _Coded, bad_values: npt.NDArray[np.bool_]) -> None:
        if bad_values.any():
            self.flag |= coded.rows_of(bad_values)

    def text(self, name: str) -> _Coded:
        """A text column, coded; an empty text, one with surrounding spaces or a non-text column flags its rows."""
        column = self.column(name)
        if column is None:
            return self._none()
        encoded = self._encoded[name].result() if name in self._encoded else arrow.dictionary_of(column)
        if encoded is None:
            self.flag |= arrow.valid(column)
            return self._none()
        coded = self._coded(encoded)
        self._flag_codes(coded, arrow.empty_or_edge_space(coded.values))
        return coded

    def date(self, name: str) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        """A date column as days since 1970-01-01 (meaning nothing where there is none), and where there is one."""
        column = self.column(name)
        if column is None:
            return np.zeros(self.count, dtype=np.int32), np.zeros(self.count, dtype=bool)
        kind = column.type
        if pa.types.is_date32(kind) or pa.types.is_date64(kind):
            days = column if pa.types.is_date32(kind) else pc.cast(column, pa.date32())
            values, present = arrow.raw(days), arrow.valid(days)
            # beyond Python's dates
            if len(values) and (values.min() < arrow.FIRST_DAY or values.max() > arrow.LAST_DAY):
                self.flag |= present & ((values < arrow.FIRST_DAY) | (values > arrow.LAST_DAY))
            return values, present
        encoded = arrow.dictionary_of(column)
        if encoded is None:    # a timestamp or a number: left to the model, which says what it makes of it
            self.flag |= arrow.valid(column)
            return np.zeros(self.count, dtype=np.int32), np.zeros(self.count, dtype=bool)
        coded = self._coded(encoded)
        parsed = [arrow.iso_date(text) for text in coded.values.to_pylist()]
        bad = np.array([day is None for day in parsed], dtype=bool)
        self._flag_codes(coded, bad)
        days = np.array([(day - arrow.EPOCH).days if day is not None else 0 for day in parsed], dtype=np.int64)
        return coded.per_row(days), coded.rows_of(~bad)

    def tier(self) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        """The tier column as numbers (meaning nothing where there is none; -1 where it is not a plain whole
        number), and where a tier is given."""
        column = self.column("tier")
        if column is None:
            return np.zeros(self.count, dtype=np.int64), np.zeros(self.count, dtype=bool)
        if pa.types.is_integer(column.type):
            return arrow.raw(column), arrow.valid(column)
        encoded = arrow.dictionary_of(column)
        if encoded is None:
            present = arrow.valid(column)
            self.flag |= present
            return np.full(self.count, -1, dtype=np.int64), present
        coded = self._coded(encoded)
        plain = arrow.np_bool(pc.match_substring_regex(coded.values, r"^[1-9][0-9]{0,8}$"))
        self._flag_codes(coded, ~plain)
        numbers = arrow.np_int(pc.cast(pc.if_else(pa.array(plain), coded.values, pa.nulls(len(plain), pa.string())),
                                  pa.int64()), -1)
        return coded.per_row(numbers), coded.present

    def same_on_later_rows(self, column: pa.Array, continuation: npt.NDArray[np.bool_]) -> None:
        """Flag a subject whose later rows give a subject column another value than its first row.

        A value equal to the row before's is the first row's value (by induction along the subject's rows);
        a value after an empty cell is left to the reference path, which compares it with the first row's.
        """
        if self.count < 2:
            return
        later = continuation[1:]
        present = arrow.valid(column)
        if not pa.types.is_dictionary(column.type):
            self.flag[1:] |= later & present[1:] & (arrow.fixed_changes(column) | ~present[:-1])
            return
        # Dictionary-encoded: only the later rows whose index differs from the row before's are looked at, and
        # their texts compared (a dictionary may hold a value twice).
        positions = arrow.raw(column.indices)
        moved = positions[1:] != positions[:-1]
        if column.null_count:
            physical = arrow.valid(column.indices)
            moved = (moved & physical[1:] & physical[:-1]) | (physical[1:] != physical[:-1])
        rows = np.flatnonzero(later & present[1:] & (moved | ~present[:-1]))
        if len(rows) == 0:
            return
        compared = rows[present[rows]]
        if len(compared):
            values = column.dictionary
            same = arrow.np_bool(pc.fill_null(pc.equal(values.take(pa.array(positions[compared])),
                                                  values.take(pa.array(positions[compared + 1]))), False))
            rows = np.concatenate([rows[~present[rows]], compared[~same]])
        self.flag[rows + 1] = True


def _public_scores(column: pa.Array | None, runs: int
                   ) -> tuple[npt.NDArray[np.int64], int, npt.NDArray[np.bool_], pa.Array, npt.NDArray[np.bool_]]:
    """Each subject's public score as an integer scaled by 10^scale, the scale, which are missing, the text
    the result reports, and which are bad (or unusual: the reference path decides)."""
    zeros = np.zeros(runs, dtype=np.int64)
    bad = np.zeros(runs, dtype=bool)
    if column is None:
        return zeros, 0, np.ones(runs, dtype=bool), pa.nulls(runs, pa.string()), bad
    if pa.types.is_dictionary(column.type):
        column = arrow.plain_values(column)
    kind = column.type
    if pa.types.is_floating(kind):   # a float has lost what was written; its shortest repr is taken, as the model does
        column = pa.array([None if value is None else repr(value) for value in column.to_pylist()], pa.string())
        kind = column.type
    if pa.types.is_integer(kind):
        column = pc.cast(column, pa.string())
        kind = column.type
    missing = ~arrow.valid(column)
    if pa.types.is_decimal128(kind):
        scale = kind.scale
        if not 0 <= scale <= 15:
            return zeros, 0, missing, pc.cast(column, pa.string()), ~missing
        unscaled, fits = _unscaled(column)
        bad |= ~missing & ~fits
        return np.where(bad | missing, 0, unscaled), scale, missing, pc.cast(column, pa.string()), bad
    if pa.types.is_decimal(kind):
        column = pc.cast(column, pa.string())
        kind = column.type
    if arrow.is_text(kind):
        text = pc.cast(column, pa.string())
        plain = arrow.np_bool(pc.match_substring_regex(text, r"^(0|[1-9][0-9]{0,3})(\.[0-9]{1,15})?$"))
        bad |= ~missing & ~plain
        text_ok = pc.if_else(pa.array(plain), text, pa.nulls(runs, pa.string()))
        dot = pc.find_substring(text_ok, ".")
        fraction = pc.if_else(pc.greater_equal(dot, 0), pc.subtract(pc.subtract(pc.binary_length(text_ok), dot), 1), 0)
        scale = int(pc.max(fraction).as_py() or 0)
        unscaled, fits = _unscaled(pc.cast(text_ok, pa.decimal128(38, scale)))
        bad |= ~missing & ~fits
        return np.where(bad | missing, 0, unscaled), scale, missing, text, bad
    return zeros, 0, missing, pa.nulls(runs, pa.string()), ~missing


def _outside(public: npt.NDArray[np.int64], scale: int, missing: npt.NDArray[np.bool_], lower: Decimal | None,
             upper: Decimal | None) -> npt.NDArray[np.bool_]:
    """Which public scores (integers scaled by 10^scale) lie outside the range the law's formula takes."""
    outside = np.zeros(len(public), dtype=bool)
    if lower is not None:
        least = int(lower.scaleb(scale).to_integral_value(rounding="ROUND_CEILING"))
        outside |= public < max(least, -arrow.INT64_MAX)
    if upper is not None:
        most = int(upper.scaleb(scale).to_integral_value(rounding="ROUND_FLOOR"))
        outside |= public > min(most, arrow.INT64_MAX)
    return outside & ~missing


def _unscaled(column: pa.Array) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """A decimal128 column's unscaled integers (0 where missing), and whether each fits in 64 bits."""
    count = len(column)
    if sys.byteorder != "little":   # the buffer's words are little-endian only there
        values = [None if value is None else int(value.scaleb(column.type.scale)) for value in column.to_pylist()]
        fits = np.array([value is None or abs(value) <= arrow.INT64_MAX for value in values], dtype=bool)
        return np.array([value if value is not None and ok else 0 for value, ok in zip(values, fits, strict=True)],
                        dtype=np.int64), fits
    words = np.frombuffer(column.buffers()[1], dtype=np.int64)[2 * column.offset:2 * (column.offset + count)]
    low, high = words[0::2], words[1::2]
    present = arrow.valid(column)
    fits = ~present | (high == (low >> 63))
    return np.where(present & fits, low, 0), fits


_USCC_VALUE = np.full(256, -1, dtype=np.int8)
_USCC_VALUE[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET))
_USCC_WEIGHTS = np.array(WEIGHTS, dtype=np.float32)   # sums of at most 17 × 30 × 30: exact in a float32


def _uscc_valid(keys: pa.Array) -> npt.NDArray[np.bool_]:
    """The GB 32100-2015 check on a whole column of texts: length, alphabet, check character.

    The texts' bytes are read as an (n, 18) array: each byte maps to its value in the alphabet (or -1),
    the first 17 are weighted and summed, and the 18th must be the check character that sum requires.
    """
    keys = pc.cast(keys, pa.string())
    count = len(keys)
    ok = np.zeros(count, dtype=bool)
    if count == 0:
        return ok
    if keys.null_count:
        keys = pc.fill_null(keys, "")
    offsets = np.frombuffer(keys.buffers()[1], dtype=np.int32)[keys.offset:keys.offset + count + 1].astype(np.int64)
    data = np.frombuffer(keys.buffers()[2], dtype=np.uint8) if keys.buffers()[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    rows: slice | npt.NDArray[np.int64]
    if (lengths == 18).all():      # as a rule: the texts one after the other, 18 bytes each
        rows = slice(None)
        codes = data[offsets[0]:offsets[0] + 18 * count].reshape(count, 18)
    else:
        rows = np.flatnonzero(lengths == 18)
        if len(rows) == 0:
            return ok
        codes = data[offsets[rows][:, None] + np.arange(18)]
    values = _USCC_VALUE.take(codes)
    total = (values[:, :17].astype(np.float32) @ _USCC_WEIGHTS).astype(np.int64)
    known = (values >= 0).all(axis=1) if values.min() < 0 else True
    ok[rows] = known & (values[:, 17] == (31 - total % 31) % 31)
    return ok


def _per_run(values: npt.NDArray[Any], starts: npt.NDArray[np.int64], reduce: Any,
             dtype: Any = None) -> npt.NDArray[Any]:
    if len(starts) == 0:
        return np.zeros(0, dtype=dtype or values.dtype)
    return reduce.reduceat(values, starts, dtype=dtype)  # type: ignore[no-any-return]


_POPCOUNT = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.int64)

_BITWISE_COUNT = getattr(np, "bitwise_count", None)   # NumPy 2


def _bit_count(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    if _BITWISE_COUNT is not None:
        return _BITWISE_COUNT(words).astype(np.int64)  # type: ignore[no-any-return]
    return _POPCOUNT[words.view(np.uint8)].reshape(len(words), 8).sum(axis=1)  # type: ignore[no-any-return]


def _bits(positions: npt.NDArray[Any], chosen: npt.NDArray[np.bool_], wide: bool) -> npt.NDArray[Any]:
    """One bit per chosen row, at its position (below 32, or 64 when ``wide``), and none in the other rows.

    Made in place in as few and as small arrays as can be (allocating large temporaries costs more than the
    arithmetic)."""
    shift = positions & (63 if wide else 31)
    bits = chosen.astype(np.uint64 if wide else np.uint32)
    np.left_shift(bits, shift.view(np.dtype(f"uint{shift.dtype.itemsize * 8}")), out=bits)
    return bits


def _run_of(rows: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The subject (run) of each of the rows."""
    return np.searchsorted(starts, rows, side="right").astype(np.int64) - 1


def _repeated_ids(keys: npt.NDArray[Any], present: npt.NDArray[np.bool_], width: int,
                  starts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which subjects give some record id twice (``keys``: the id's code per row, ``width`` distinct codes)."""
    runs = len(starts)
    if width <= 64:   # each subject's ids as bits: a repeat sets a bit already set
        union = _per_run(_bits(keys, present, width > 32), starts, np.bitwise_or)
        given = np.diff(np.append(starts, len(present)))            # the rows of each subject with an id
        without = np.flatnonzero(~present)
        if len(without):
            given -= np.bincount(_run_of(without, starts), minlength=runs)
        return _bit_count(union) < given
    rows = np.flatnonzero(present)
    repeated = np.zeros(runs, dtype=bool)
    ordered = np.sort(_run_of(rows, starts) * width + keys[rows])
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    repeated[np.unique(twice // width)] = True
    return repeated


def _honour_bonus(starts: npt.NDArray[np.int64], in_force: npt.NDArray[np.bool_], title: npt.NDArray[Any],
                  width: int, level: _Coded, points: npt.NDArray[np.int64], rank: npt.NDArray[np.int32],
                  values: list[int]) -> npt.NDArray[np.int64]:
    """Each subject's honour points before the cap: each title once, at its highest level in force.

    ``points`` are each distinct level's points; ``values`` the points a level can give, highest first, and
    ``rank`` each distinct level's place among them.
    """
    runs = len(starts)
    bonus = np.zeros(runs, dtype=np.int64)
    if not in_force.any():
        return bonus
    if len(values) * width <= 64:
        # One bit per (points, title): a subject's bits are OR-ed in one pass over its rows; then, from the
        # highest points down, the titles not already counted at higher points.
        position = level.per_row(rank)
        position *= width
        position += title
        union = _per_run(_bits(position, in_force, len(values) * width > 32), starts, np.bitwise_or)
        union = union.astype(np.uint64, copy=False)
        every_title = np.uint64((1 << width) - 1)
        taken = np.zeros(runs, dtype=np.uint64)
        for number, value in enumerate(values):
            titles = (union >> np.uint64(number * width)) & every_title & ~taken
            bonus += value * _bit_count(titles)
            taken |= titles
        return bonus
    rows = np.flatnonzero(in_force)
    run_of_row = _run_of(rows, starts)
    key = run_of_row * (width + 1) + title[rows]
    given = points.take(level.positions[rows])
    order = np.lexsort((-given, key))
    first_of_key = np.ones(len(order), dtype=bool)
    first_of_key[1:] = key[order][1:] != key[order][:-1]
    best = order[first_of_key]
    np.add.at(bonus, run_of_row[best], given[best])
    return bonus


def _count_warnings(day: Day, tables: VectorTables, codes: list[str], rows: npt.NDArray[np.int64],
                    run: npt.NDArray[np.int64], code: npt.NDArray[np.int64], stated: npt.NDArray[np.int64],
                    determined: npt.NDArray[np.int64], record_id: _Coded
                    ) -> tuple[npt.NDArray[np.int64], pa.Array, npt.NDArray[np.int64]]:
    """The warnings on stated tiers of indicators graded by repetition, as the kernel gives them
    (:func:`mincredit._kernel.stated_tier_warnings`).

    ``rows`` are the rows (in record order) of violations of those indicators, with their subject, code, stated
    tier and day.  A record's offence number is its place among its subject's records of its indicator by
    (day, id); the tier it gives is the first count band holding it.  Returns the subjects with warnings (in
    order), their warnings as JSON text, and the subjects left to the reference path (none: kept for safety).
    """
    count = len(rows)
    ids = record_id.positions[rows]
    id_rank = np.empty(len(record_id.values), dtype=np.int64)
    id_rank[np.argsort(np.array(record_id.values.to_pylist(), dtype=object), kind="stable")] = \
        np.arange(len(record_id.values))                      # the ids in Python's order of texts
    order = np.lexsort((id_rank[ids], determined, code, run))
    first = np.ones(count, dtype=bool)
    first[1:] = (run[order][1:] != run[order][:-1]) | (code[order][1:] != code[order][:-1])
    start = np.maximum.accumulate(np.where(first, np.arange(count), 0))
    place = np.empty(count, dtype=np.int64)
    place[order] = np.arange(count) - start + 1
    stated_in_bands = np.zeros(count, dtype=bool)
    by_count = np.zeros(count, dtype=np.int64)            # the tier of the first band holding the place (0: none)
    for name, bands in day.law.count_bands.items():
        if name not in codes:
            continue
        mine = code == codes.index(name)
        for band in bands:
            stated_in_bands |= mine & (stated == band.tier)
            hit = mine & (by_count == 0) & (place >= band.lower) & (
                place <= band.upper if band.upper is not None else True)
            by_count = np.where(hit, band.tier, by_count)
    warned = np.flatnonzero(stated_in_bands & (by_count != 0) & (by_count != stated))   # in record order
    nothing = np.zeros(0, dtype=np.int64)
    if len(warned) == 0:
        return nothing, pa.array([], pa.string()), nothing
    subject, names, code, stated, place, count_tier = (
        run[warned], record_id.values.take(pa.array(ids[warned])), code[warned], stated[warned], place[warned],
        by_count[warned])
    used = [codes[number] for number in np.unique(code).tolist()]
    if not arrow.np_bool(pc.match_substring_regex(names, _JSON_ESCAPED)).any() \
            and not any(_needs_escape(text) for text in used):
        # Each warning written by Arrow from the kernel's template and its values, each subject's as a JSON list.
        values = (names, pa.array(codes, pa.string()).take(pa.array(code)), _integer_text(stated.astype(np.int64)),
                  _integer_text(place), _integer_text(count_tier))
        quoted = pc.binary_join_element_wise(*(pa.scalar(piece) if isinstance(piece, str) else values[piece]
                                               for piece in ['"', *tables.warning, '"']), "")
        first = np.flatnonzero(np.diff(subject)) + 1
        offsets = np.concatenate([[0], first, [len(subject)]]).astype(np.int32)
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), quoted), ",")
        return subject[offsets[:-1]], pc.binary_join_element_wise("[", joined, "]", ""), nothing
    texts: dict[int, list[str]] = {}
    for number, record, code_number, tier, offence, offence_tier in zip(
            subject.tolist(), names.to_pylist(), code.tolist(), stated.tolist(), place.tolist(), count_tier.tolist(),
            strict=True):
        texts.setdefault(number, []).append(count_warning(record, codes[code_number], tier, offence, offence_tier))
    return (np.array(list(texts), dtype=np.int64),
            pa.array([encode(found).decode("utf-8") for found in texts.values()], pa.string()), nothing)


_JSON_ESCAPED = '[\\x00-\\x1f"\\\\]'      # what JSON writes escaped in a string


def _needs_escape(text: str) -> bool:
    return any(character in '"\\' or character < " " for character in text)


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


_INTEGER_TEXTS: list[pa.Array] = []


def _integer_text(values: npt.NDArray[np.int64]) -> pa.Array:
    """Integers as text ("1100"); small ones (a subject's deductions or honour bonus, as a rule) looked up."""
    if len(values) and values.min() >= 0 and values.max() < 1 << 16:
        texts = _INTEGER_TEXTS[0] if _INTEGER_TEXTS else None
        if texts is None or len(texts) <= values.max():
            size = 1 << max(10, int(values.max()).bit_length())
            texts = pa.array([str(number) for number in range(size)], pa.string())
            _INTEGER_TEXTS[:] = [texts]
        return texts.take(pa.array(values))
    return pc.cast(pa.array(values), pa.string())


def _number_text(values: npt.NDArray[np.int64], scale: int) -> pa.Array:
    """Integers scaled by 10^scale as exact decimal text without trailing zeros (96247, 2 → "962.47").

    The integers become a decimal128 column of that scale (its 16-byte values are the integers sign-extended),
    which Arrow writes as text with ``scale`` decimals; the zeros after the point are then trimmed.
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    if scale == 0:
        return _integer_text(values)
    if sys.byteorder != "little":   # the decimal's words are little-endian only there
        return pa.array([str(exact(Decimal(value).scaleb(-scale))) for value in values.tolist()], pa.string())
    words = np.empty(2 * len(values), dtype=np.int64)
    words[0::2] = values
    words[1::2] = values >> 63
    decimals = pa.Array.from_buffers(pa.decimal128(38, scale), len(values), [None, pa.py_buffer(words)])
    return pc.utf8_rtrim(pc.utf8_rtrim(pc.cast(decimals, pa.string()), "0"), ".")


@dataclass(frozen=True)
class VectorTables:
    """What the vectorised path looks up, made once per day (kept in ``Day.derived``), not per chunk."""

    codes: list[str]                    # the indicators scored here, sorted
    stride: int                         # tiers per indicator in ``points`` (the highest tier + 1)
    points: npt.NDArray[Any]            # (indicator, tier) → points, -1 where none; a last row of -1: no indicator
    level_names: list[str]              # the honour levels, sorted
    level_points: npt.NDArray[np.int64]  # each level's points, and -1 after them (no such level)
    ranked: list[int]                   # the points a level can give, highest first
    level_rank: npt.NDArray[np.int32]   # each level's place in ``ranked``, and 0 after them
    at_edge_band: npt.NDArray[np.int64]  # the band at each of the law's band edges (-1 after them)
    between_band: npt.NDArray[np.int64]  # the band below, between and above them
    warning: list[str | int]            # the kernel's warning on a stated tier, its texts JSON-escaped
    consequence_of_band: npt.NDArray[np.int32]   # each band's consequences among ``consequence_texts`` (-1: none)
    consequence_texts: pa.Array         # the JSON text of the consequences of the bands that have some

    @classmethod
    def of(cls, day: Day) -> VectorTables:
        known = day.derived.get("vector")
        if isinstance(known, cls):
            return known
        law, tables = day.law, day.tables
        # Indicators a serious-blacklist trigger takes are left out: their subjects take the reference path.
        rows = {code: tiers for code, tiers in tables.tiers.items() if code not in law.engine_codes}
        codes = sorted(rows)
        stride = max((max(tiers, default=0) + 1 for tiers in rows.values()), default=1)
        small = all(abs(int(rule.points)) < 1 << 31 for tiers in rows.values() for rule in tiers.values())
        points = np.full((len(codes) + 1, stride), -1, dtype=np.int32 if small else np.int64)
        for position, code in enumerate(codes):
            for tier, rule in rows[code].items():
                points[position, tier] = int(rule.points)
        level_names = sorted(tables.levels)
        level_values = [int(tables.levels[name].points) for name in level_names]
        ranked = sorted(set(level_values), reverse=True)
        band_number = {id(band): number for number, band in enumerate(law.bands)}
        entailing = [band for band in law.bands if band.consequences]
        made = cls(
            codes, stride, points, level_names, np.array([*level_values, -1], dtype=np.int64), ranked,
            np.array([*(ranked.index(value) for value in level_values), 0], dtype=np.int32),
            np.array([band_number[id(band)] for band in tables.at_edge] + [-1], dtype=np.int64),
            np.array([band_number[id(band)] for band in tables.between], dtype=np.int64),
            [encode_basestring(piece)[1:-1] if isinstance(piece, str) else piece for piece in COUNT_WARNING],
            np.array([entailing.index(band) if band in entailing else -1 for band in law.bands] + [-1],
                     dtype=np.int32),
            pa.array([encode(band.consequences).decode("utf-8") for band in entailing], pa.string()))
        day.derived["vector"] = made
        return made


_LARGEST_TIER = 1 << 10   # the points of (indicator, tier) are a dense array: tiers numbered beyond this are not


def vectorisable(day: Day) -> bool:
    """Whether the law's numbers fit the integer arithmetic and the look-up arrays of the vectorised path (whole
    points, cap and base; tiers numbered 1, 2, 3 …, as lint wants them, not 10¹²)."""
    known = day.derived.get("vectorisable")
    if not isinstance(known, bool):
        law = day.law
        known = day.derived["vectorisable"] = day.tables.integral and law.base == law.base.to_integral_value() and all(
            0 < tier.tier <= _LARGEST_TIER for indicator in law.indicators for tier in indicator.tiers)
    return known


def vectorised(table: pa.Table, day: Day, starts: npt.NDArray[np.int64], has_record: npt.NDArray[np.bool_], *,
               splits: Mapping[str, Any], repeated_subjects: Mapping[str, Any], subjects_file: str | None
               ) -> tuple[pa.Table, npt.NDArray[np.bool_], dict[str, int], int]:
    """Score a unit's subjects (``starts``: where each one's rows start) on whole columns; also return which
    subjects need the reference path, and how many of those scored have each grade and were not evaluated.

    Row-wise, everything is NumPy on the columns' own buffers: a text column's dictionary positions, a date's
    days, a column's validity bitmap; each distinct text is checked and looked up once.  What a row without a
    value holds is never used unmasked.
    """
    law = day.law
    checks = _Checks(table, ("record_id", "type", "indicator", "honour", "level", "authority", "description"))
    count, runs = checks.count, len(starts)
    continuation = np.ones(count, dtype=bool)
    continuation[starts] = False
    for unreadable in (PROBLEM, SUBJECT_PROBLEM):     # a cell that is not UTF-8: the reference path says so
        column = checks.column(unreadable)
        if column is not None:
            checks.flag |= arrow.valid(column)
    heads = pa.array(starts)
    run_bad = np.zeros(runs, dtype=bool)

    # Subject columns: read from each subject's first row; later rows must repeat them or be empty.
    head: dict[str, pa.Array] = {}
    for name in ("uscc", "name", "kind", "status"):
        column = checks.column(name)
        if column is None or not arrow.is_text_column(column):
            if column is not None:
                checks.flag |= arrow.valid(column)     # not text: the model says what it makes of it
            head[name] = pa.nulls(runs, pa.string())
            continue
        if name != "uscc":
            checks.same_on_later_rows(column, continuation)
        head[name] = arrow.texts_at(column, starts)
    public_column = checks.column("public_score")
    if public_column is not None:
        checks.same_on_later_rows(public_column, continuation)
    uscc, name_text, kind, status = head["uscc"], head["name"], head["kind"], head["status"]
    run_bad |= ~_uscc_valid(uscc)
    run_bad |= ~arrow.valid(name_text) | arrow.empty_or_edge_space(name_text)
    run_bad |= ~arrow.np_bool(pc.equal(kind, law.kind))
    status = pc.fill_null(status, "active")
    run_bad |= ~arrow.np_bool(pc.is_in(status, value_set=pa.array(["active", "dissolved"])))
    active = arrow.np_bool(pc.equal(status, "active"))
    public, public_scale, public_missing, public_text, public_bad = _public_scores(
        public_column.take(heads) if public_column is not None else None, runs)
    run_bad |= public_bad | _outside(public, public_scale, public_missing, law.public_lower, law.public_upper)
    if law.public_required:
        run_bad |= active & public_missing
    for listed in (splits, repeated_subjects):
        if listed:
            run_bad |= arrow.np_bool(pc.is_in(uscc, value_set=pa.array(list(listed), pa.string())))
    if subjects_file is not None:   # a subject with records the subjects file does not have
        subject_row = checks.column(SUBJECT_ROW)
        run_bad |= ~arrow.valid(subject_row.take(heads)) if subject_row is not None else True

    # Record columns: each distinct text is checked and looked up once, then spread to its rows.
    record_id = checks.text("record_id")
    record_type = checks.text("type")
    indicator = checks.text("indicator")
    title = checks.text("honour")
    level = checks.text("level")
    checks.text("authority")
    checks.text("description")
    tier, has_tier = checks.tier()
    determined, has_determined = checks.date("determined_on")
    awarded, has_awarded = checks.date("awarded_on")
    until, has_until = checks.date("valid_until")
    type_code = record_type.value_positions(["violation", "honour"])
    is_violation, is_honour = record_type.rows_of(type_code == 0), record_type.rows_of(type_code == 1)
    flag = checks.flag
    flag |= has_record & ~((is_violation | is_honour) & record_id.present)
    flag |= is_violation & (title.present | level.present | has_awarded | has_until)
    flag |= is_honour & (indicator.present | has_tier | has_determined)

    # Violations: (indicator, tier) → points through a dense look-up array, one row of it per distinct indicator
    # text; counted within the window.  Indicators a blacklist trigger takes are not in it: their subjects take
    # the reference path.
    tables = VectorTables.of(day)
    codes, stride = tables.codes, tables.stride
    code_of_value = indicator.value_positions(codes)                           # -1 picks the last row
    points = tables.points[np.append(code_of_value, -1)].ravel().take(indicator.positions * stride + tier,
                                                                       mode="clip")
    known = is_violation & indicator.present & has_tier & (tier > 0) & (tier < stride) & (points >= 0)
    as_of = (day.as_of - arrow.EPOCH).days
    violation_from = (day.violation_from - arrow.EPOCH).days
    honour_from = (day.honour_from - arrow.EPOCH).days
    flag |= is_violation & ~(known & has_determined)
    # a period that would end after 9999-12-31: the reference path says which record's
    flag |= is_violation & has_determined & (determined > (day.violation_last - arrow.EPOCH).days)
    flag |= is_honour & has_awarded & ~has_until & (awarded > (day.honour_last - arrow.EPOCH).days)
    counted = known & (determined >= violation_from) & (determined <= as_of)
    points *= counted
    deductions = _per_run(points, starts, np.add, np.int64)

    # Honours: in force on the date; the same title once at its highest level; the cap.
    level_of_value = level.value_positions(tables.level_names)                # -1 picks the last: no such level
    honour_points, rank_of_value = tables.level_points[level_of_value], tables.level_rank[level_of_value]
    ranked = tables.ranked
    level_known = level.rows_of(honour_points >= 0)
    flag |= is_honour & ~(level_known & title.present & has_awarded)
    flag |= is_honour & has_until & (until < awarded)
    in_force = is_honour & level_known & title.present & has_awarded & (awarded <= as_of) & (
        (has_until & (until >= as_of)) | (~has_until & (awarded >= honour_from)))
    bonus = _honour_bonus(starts, in_force, title.positions, len(title.values), level, honour_points, rank_of_value,
                          ranked)

    # Record ids given twice in a subject.
    with_id = has_record & record_id.present
    if with_id.any():
        run_bad |= _repeated_ids(record_id.positions, with_id, len(record_id.values), starts)

    # Warnings on stated tiers of indicators graded by repetition (the kernel's words, record order).
    warned_subjects, warnings_text = np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    if law.count_bands:
        graded = np.isin(code_of_value, [codes.index(code) for code in law.count_bands if code in codes])
        rows = np.flatnonzero(known & indicator.rows_of(graded) & record_id.present)
        if len(rows):
            warned_subjects, warnings_text, ambiguous = _count_warnings(
                day, tables, codes, rows, _run_of(rows, starts), code_of_value[indicator.positions[rows]],
                tier[rows], determined[rows], record_id)
            run_bad[ambiguous] = True

    flagged = np.flatnonzero(flag)
    if len(flagged):
        run_bad[_run_of(flagged, starts)] = True
    cap = law.cap
    if cap != cap.to_integral_value():
        run_bad[:] = True          # a fractional cap: every subject takes the reference path
    capped = np.minimum(bonus, int(cap))

    # The formula in exact integers, every decimal scaled by 10^scale:
    # N = public × w₁ + (base − deductions + bonus) × w₂.
    edges = day.tables.edges
    scale = max(public_scale + _decimal_places(law.public_weight), _decimal_places(law.industry_weight),
                *(_decimal_places(edge) for edge in edges))
    industry = int(law.base) - deductions + capped
    w1 = int(law.public_weight.scaleb(scale - public_scale))
    w2 = int(law.industry_weight.scaleb(scale))
    largest = int(np.abs(public).max(initial=0)) * abs(w1) + int(np.abs(industry).max(initial=0)) * abs(w2)
    scaled_edges = [int(edge.scaleb(scale)) for edge in edges]
    if scale > 17 or max([largest, *map(abs, scaled_edges)]) > arrow.INT64_MAX // 2:
        run_bad[:] = True          # beyond 64-bit integers: every subject takes the reference path
        scale, w1, w2, scaled_edges = 0, 0, 0, [0] * len(edges)
    score = public * w1 + industry * w2
    # Python writes a Decimal under 10⁻⁶ in scientific notation (2E-7) where the text here would be 0.0000002:
    # the rare subject with such a score or public score takes the reference path, so the text is the engine's.
    for value, places in ((score, scale), (public, public_scale)):
        if places > 6:
            run_bad |= (value != 0) & (np.abs(value) < 10 ** (places - 6))
    # The grade band: at one of the law's band edges or between two, as the kernel finds it (Tables.band).
    bands = law.bands
    edge_values = np.array(scaled_edges, dtype=np.int64)
    at_edge_band, between_band = tables.at_edge_band, tables.between_band
    position = np.searchsorted(edge_values, score, side="left")
    at_edge = edge_values[np.minimum(position, len(edges) - 1)] == score if len(edges) \
        else np.zeros(runs, dtype=bool)
    at_edge &= position < len(edges)
    grade_index = np.where(at_edge, at_edge_band[position], between_band[position])

    good = np.flatnonzero(~run_bad)
    dissolved = ~active[good]
    evaluated_grade = np.where(dissolved, -1, grade_index[good])
    no_grade = evaluated_grade < 0
    band_of = pa.array(np.maximum(evaluated_grade, 0), mask=no_grade)
    good_arrow = pa.array(good, pa.int64())
    every_run = len(good) == runs             # as a rule: the per-subject columns are used as they are

    def kept(column: pa.Array) -> pa.Array:
        return column if every_run else column.take(good_arrow)

    null_text = pa.nulls(len(good), pa.string())
    # A grade's consequences: one text per grade that has some, each row pointing at its grade's.
    consequence_of_row = tables.consequence_of_band[evaluated_grade]
    consequences = pa.DictionaryArray.from_arrays(
        pa.array(consequence_of_row, pa.int32(), mask=consequence_of_row < 0), tables.consequence_texts)
    warnings = null_text
    if len(warned_subjects):
        with_warnings = np.full(runs, -1, dtype=np.int64)
        with_warnings[warned_subjects] = np.arange(len(warned_subjects))
        slot = with_warnings[good]
        warnings = warnings_text.take(pa.array(slot, mask=slot < 0))
    result = pa.table({
        "uscc": kept(uscc), "name": kept(name_text), "kind": kept(kind),
        "status": kept(status), "evaluated": pa.array(~dissolved),
        "grade": pa.array([band.label for band in bands], pa.string()).take(band_of),
        "grade_meaning": pa.array([band.meaning for band in bands], pa.string()).take(band_of),
        "score": pc.if_else(pa.array(dissolved), null_text, _number_text(score[good], scale)),
        "public_score": kept(public_text),
        "deductions": _number_text(np.where(dissolved, 0, deductions[good]), 0),   # a dissolved subject's: 0
        "honour_bonus": _number_text(np.where(dissolved, 0, capped[good]), 0),
        "not_evaluated_reason": pa.array([law.dissolved_reason]).take(pa.array(np.zeros(len(good), dtype=np.int64),
                                                                           mask=~dissolved)),
        "proposals": null_text, "listings": null_text,
        "consequences": consequences,
        "warnings": warnings,
        "run": good_arrow,
    })
    counted_grades = np.bincount(evaluated_grade[~no_grade], minlength=len(bands))
    grades = {band.label: int(number) for band, number in zip(bands, counted_grades.tolist(), strict=True) if number}
    return result, run_bad, grades, int(np.count_nonzero(dissolved))

