"""Arrow and NumPy helpers shared by the columnar reader and the vectorised twin of the kernel.

Text columns are read dictionary-encoded wherever possible: a value repeated on many rows (a subject's uscc and
name, an indicator code, an honour title) is then decoded, checked and looked up once, not once per row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

SUBJECT_COLUMNS = ("uscc", "name", "kind", "status", "public_score")
RECORD_COLUMNS = ("record_id", "type", "indicator", "tier", "determined_on", "honour", "level", "awarded_on",
                  "valid_until", "authority", "description")
ALL_COLUMNS = SUBJECT_COLUMNS + RECORD_COLUMNS
REQUIRED_COLUMNS = ("uscc", "name", "kind")
SUBJECT_ROW = "_subject_row"   # added by the two-file join: the subject's row in the subjects file (0-based)
PROBLEM = "_problem"           # added by the reader: why a row's cells cannot be read (null: they can)
SUBJECT_PROBLEM = "_subject_problem"   # the same, of the subject's row in the subjects file (the two-file layout)
RECORD_FIELD = {"record_id": "id"}   # the column's name in the facts format, where it differs
BATCH_ROWS = 131_072
CSV_BLOCK_BYTES = 2 << 20
CSV_LARGEST_ROW = 1 << 28             # a CSV row (a record) of more than 256 MiB cannot be read
TABLE_BATCH_ROWS = 1 << 19            # a table already in memory is evaluated in slices of this many rows
# Every character Python's str.isspace() accepts (29 of them): a value that starts or ends with one is left
# to the model, which strips some fields and rejects others.
SPACE = ("\\x{9}\\x{a}\\x{b}\\x{c}\\x{d}\\x{1c}\\x{1d}\\x{1e}\\x{1f}\\x{20}"
          "\\x{85}\\x{a0}\\x{1680}\\x{2000}\\x{2001}\\x{2002}\\x{2003}\\x{2004}\\x{2005}\\x{2006}"
          "\\x{2007}\\x{2008}\\x{2009}\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}")
EDGE_SPACE = f"^[{SPACE}]|[{SPACE}]$"
EPOCH = dt.date(1970, 1, 1)
INT64_MAX = (1 << 63) - 1
FIRST_DAY, LAST_DAY = (dt.date.min - EPOCH).days, (dt.date.max - EPOCH).days


def joined(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """Consecutive batches as one (dictionary columns with one dictionary)."""
    if len(batches) <= 1:
        return batches
    joined: list[pa.RecordBatch] = pa.Table.from_batches(batches).unify_dictionaries().combine_chunks().to_batches()
    return joined


def is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return column.chunk(0)
        if pa.types.is_dictionary(column.type):
            column = pa.chunked_array([pc.cast(chunk, column.type.value_type) for chunk in column.chunks])
        return column.combine_chunks()
    return column


def dictionary_of(column: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray | None:
    """A text column as a dictionary array with unique, non-null string values; None if it is not text."""
    column = whole(column)
    kind = column.type
    if pa.types.is_null(kind):
        return pa.DictionaryArray.from_arrays(pa.nulls(len(column), pa.int32()), pa.array([], pa.string()))
    if pa.types.is_dictionary(kind):
        if not is_text(kind.value_type):
            return None
        values = column.dictionary
        if values.null_count or len(pc.unique(values)) != len(values):
            return pc.dictionary_encode(pc.cast(column, pa.string()))
        if not pa.types.is_string(values.type):
            return pa.DictionaryArray.from_arrays(column.indices, pc.cast(values, pa.string()))
        return column
    if is_text(kind):
        return pc.dictionary_encode(pc.cast(column, pa.string()))
    return None


def texts_at(column: pa.Array, rows: npt.NDArray[np.int64]) -> pa.Array:
    """A text column's values at the rows, as plain strings (a dictionary column: its indices picked with NumPy,
    then its texts, once)."""
    if not pa.types.is_dictionary(column.type):
        return plain(column.take(pa.array(rows)))
    missing = ~valid(column.indices)[rows] if column.null_count else None
    return plain(column.dictionary.take(pa.array(raw(column.indices)[rows], mask=missing)))


def plain(column: pa.Array) -> pa.Array:
    """A text column as plain strings (a dictionary column decoded, row by row)."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary.take(column.indices)
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def keys(column: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], pa.Array]:
    """The uscc column as integer keys (-1: missing) and the text of each key."""
    encoded = dictionary_of(column)
    if encoded is None:   # not text: the subjects are told apart by the values' text; the model reports them
        encoded = pc.dictionary_encode(pa.array([None if value is None else repr(value)
                                                 for value in whole(column).to_pylist()], pa.string()))
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return indices, encoded.dictionary


def uscc_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The uscc column as plain text (another type as the text of its values), nulls kept."""
    column = whole(column)
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string())
    if is_text(column.type) or (pa.types.is_dictionary(column.type) and is_text(column.type.value_type)):
        return column
    return pa.array([None if value is None else repr(value) for value in column.to_pylist()], pa.string())


def changes(column: pa.Array) -> npt.NDArray[np.bool_]:
    """For each row but the first: whether its value differs from the row before's (two missing values do not).

    Exact: a dictionary column's indices are compared, and where they differ the texts themselves (a
    dictionary may hold a value twice); only those rows are decoded.
    """
    count = len(column)
    if count < 2:
        return np.zeros(max(count - 1, 0), dtype=bool)
    if pa.types.is_dictionary(column.type):
        positions = raw(column.indices)
        differs: npt.NDArray[np.bool_] = positions[1:] != positions[:-1]
        if column.null_count:
            present = valid(column.indices)
            differs = (differs & present[1:] & present[:-1]) | (present[1:] != present[:-1])
        candidates = np.flatnonzero(differs)
        if len(candidates):
            before = plain(column.take(pa.array(candidates)))
            after = plain(column.take(pa.array(candidates + 1)))
            differs[candidates] = ~np_bool(pc.fill_null(pc.equal(before, after), False))
        return differs
    before, after = column.slice(0, count - 1), column.slice(1)
    differs = np_bool(pc.not_equal(before, after))
    if column.null_count:
        differs |= np_bool(pc.is_null(before)) != np_bool(pc.is_null(after))
    return differs


NO_KEY = object()


def run_starts(column: pa.Array, previous: object = NO_KEY) -> npt.NDArray[np.int64]:
    """Positions where a new subject starts: its uscc differs from the row before's (across batches too)."""
    return run_heads(column, previous, texts=False)[0]


def run_heads(column: pa.Array, previous: object = NO_KEY, *, texts: bool = True
               ) -> tuple[npt.NDArray[np.int64], pa.Array | None]:
    """Positions where a new subject starts (its uscc differs from the row before's, across batches too), and with
    ``texts`` the uscc at each, as plain text."""
    count = len(column)
    if count == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    if pa.types.is_dictionary(column.type):
        # Another index is, as a rule, another subject; but a dictionary may hold a text twice: two runs of indices
        # one after the other with the same text are one subject (within a run every row has its head's text).
        positions = raw(column.indices)
        moved = np.empty(count, dtype=bool)
        moved[0] = True
        np.not_equal(positions[1:], positions[:-1], out=moved[1:])
        if column.null_count:
            present = valid(column.indices)
            moved[1:] = (moved[1:] & present[1:] & present[:-1]) | (present[1:] != present[:-1])
        starts = np.flatnonzero(moved).astype(np.int64)
        heads = texts_at(column, starts)
        same = np.zeros(len(starts), dtype=bool)
        if len(starts) > 1:
            same[1:] = np_bool(pc.fill_null(pc.equal(heads.slice(1), heads.slice(0, len(heads) - 1)), False))
        same[0] = previous is not NO_KEY and heads[0].as_py() == previous
        if same.any():
            return starts[~same], heads.filter(pa.array(~same))
        return starts, heads
    differs = np.empty(count, dtype=bool)
    differs[1:] = changes(column)
    differs[0] = previous is NO_KEY or column[0].as_py() != previous
    starts = np.flatnonzero(differs).astype(np.int64)
    return starts, plain(column.take(pa.array(starts))) if texts else None



def decoded(table: pa.Table) -> pa.Table:
    """A (small) table with its dictionary columns as plain values."""
    if not any(pa.types.is_dictionary(kind) for kind in table.schema.types):
        return table
    return pa.table({name: plain_values(whole(table.column(name))) for name in table.column_names})


def plain_values(column: pa.Array) -> pa.Array:
    return column.dictionary.take(column.indices) if pa.types.is_dictionary(column.type) else column


def concat(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables, promote_options="permissive")



def np_bool(array: Any) -> npt.NDArray[np.bool_]:
    if array.null_count:
        array = pc.fill_null(array, False)
    return array.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def raw(array: pa.Array) -> npt.NDArray[Any]:
    """An integer (or date32) array's values as its buffer holds them, as signed 32- or 64-bit integers, without
    a copy where it can: what stands in a row without a value means nothing (every use is masked by where the
    rows have one)."""
    kind = array.type
    count, offset = len(array), array.offset
    data = array.buffers()[1] if count else None
    if data is None:
        return np.zeros(count, dtype=np.int64)
    signed = pa.types.is_date32(kind) or pa.types.is_date64(kind) or pa.types.is_signed_integer(kind)
    dtype = np.dtype(f"{'int' if signed else 'uint'}{kind.bit_width}")
    values = np.frombuffer(data, dtype=dtype, count=offset + count)[offset:]
    return values if dtype in (np.dtype(np.int32), np.dtype(np.int64)) else values.astype(np.int64)


def np_int(array: Any, missing: int) -> npt.NDArray[np.int64]:
    """An integer (or date32) array as int64, ``missing`` where it has no value."""
    kind = array.type
    if array.null_count and isinstance(array, pa.Array) and (pa.types.is_integer(kind) or pa.types.is_date32(kind)):
        # The values buffer as it is, and the validity bitmap unpacked: no filled copy of the array first.
        bits = kind.bit_width
        dtype = np.dtype(f"{'int' if pa.types.is_date32(kind) or pa.types.is_signed_integer(kind) else 'uint'}{bits}")
        count, offset = len(array), array.offset
        validity, data = array.buffers()[0], array.buffers()[1]
        if validity is not None and data is not None:
            values = np.frombuffer(data, dtype=dtype, count=offset + count)[offset:].astype(np.int64)
            present = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + count,
                                    bitorder="little")[offset:].astype(bool)
            return np.where(present, values, missing)
    if array.null_count:
        array = pc.fill_null(array, missing)
    return array.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)  # type: ignore[no-any-return]


def iso_date(text: str) -> dt.date | None:
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii() and text[:4].isdigit():
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def valid(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    """Where a column has a value: its validity bitmap, unpacked (a dictionary column with nulls among its values
    and some missing: as Arrow's ``is_valid`` says, an index to a null is no value)."""
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks != 1:
            return (np.concatenate([valid(chunk) for chunk in column.chunks]) if column.num_chunks
                    else np.zeros(0, dtype=bool))
        column = column.chunk(0)
    count, nulls = len(column), column.null_count
    if nulls == 0:
        return np.ones(count, dtype=bool)
    if nulls == count:
        return np.zeros(count, dtype=bool)
    bitmap = column.buffers()[0]
    if bitmap is None or (pa.types.is_dictionary(column.type) and column.dictionary.null_count):
        return np_bool(pc.is_valid(column))
    offset = column.offset
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8, count=(offset + count + 7) // 8), count=offset + count,
                         bitorder="little")
    return bits[offset:].view(np.bool_)


def bytes_set(*ranges: tuple[int, int]) -> npt.NDArray[np.bool_]:
    chosen = np.zeros(256, dtype=bool)
    for low, high in ranges:
        chosen[low:high + 1] = True
    return chosen


# Bytes that may begin or end one of the spaces of SPACE in UTF-8: a text whose first byte, and whose last byte
# (with the one before it), are none of them neither starts nor ends with a space, and the regular expression need
# not look at it.  The last byte of a two- or three-byte space (U+0085 … U+3000) follows one of SPACE_BEFORE_LAST.
ASCII_SPACE = bytes_set((0x09, 0x0D), (0x1C, 0x20))
SPACE_LEAD = ASCII_SPACE | bytes_set((0xC2, 0xC2), (0xE1, 0xE3))
SPACE_LAST = bytes_set((0x80, 0x8A), (0x85, 0x85), (0x9F, 0xA0), (0xA8, 0xA9), (0xAF, 0xAF))
SPACE_BEFORE_LAST = bytes_set((0x80, 0x81), (0x9A, 0x9A), (0xC2, 0xC2))


def empty_or_edge_space(texts: pa.Array) -> npt.NDArray[np.bool_]:
    """Which texts are empty or start or end with a space (a character str.isspace() accepts); a missing text is
    neither.  The first and last bytes pick the few texts that may; the regular expression decides for those."""
    if not pa.types.is_string(texts.type):
        texts = pc.cast(texts, pa.string())
    count = len(texts)
    if count <= 256:           # a dictionary's few values, as a rule: the expression on each is cheaper
        return np_bool(pc.or_(pc.equal(pc.binary_length(texts), 0), pc.match_substring_regex(texts, EDGE_SPACE)))
    present = valid(texts)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=texts.offset + count + 1)[texts.offset:]
    ends = offsets[1:]
    empty = ends <= offsets[:-1]
    data_buffer = texts.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    if len(data) == 0:
        return present & empty
    last = data.take(ends - 1, mode="clip")
    maybe = present & ~empty & (SPACE_LEAD[data.take(offsets[:-1], mode="clip")] | ASCII_SPACE[last]
                              | (SPACE_LAST[last] & SPACE_BEFORE_LAST[data.take(ends - 2, mode="clip")]))
    found = present & empty
    rows = np.flatnonzero(maybe)
    if len(rows):
        found[rows] = np_bool(pc.match_substring_regex(texts.take(pa.array(rows)), EDGE_SPACE))
    return found


def is_text_column(column: pa.Array) -> bool:
    kind = column.type
    return is_text(kind) or (pa.types.is_dictionary(kind) and is_text(kind.value_type))


def fixed_changes(column: pa.Array) -> npt.NDArray[np.bool_]:
    """For each row but the first: whether its value differs from the row before's (meaning nothing where either
    has none).  An integer, date or decimal column's values are compared as the bytes its buffer holds."""
    kind = column.type
    count, offset = len(column), column.offset
    data = column.buffers()[1] if count > 1 and len(column.buffers()) == 2 else None
    if data is None or not (pa.types.is_integer(kind) or pa.types.is_date(kind) or pa.types.is_decimal(kind)) \
            or (kind.bit_width % 64 and kind.bit_width not in (8, 16, 32)):
        return changes(column)
    if kind.bit_width <= 64:
        values = np.frombuffer(data, dtype=f"u{kind.bit_width // 8}", count=offset + count)[offset:]
        changed: npt.NDArray[np.bool_] = values[1:] != values[:-1]
        return changed
    words = kind.bit_width // 64          # a decimal128 or decimal256: its 64-bit words, each compared
    values = np.frombuffer(data, dtype=np.uint64, count=(offset + count) * words)[offset * words:].reshape(count, words)
    differs: npt.NDArray[np.bool_] = values[1:, 0] != values[:-1, 0]
    for word in range(1, words):
        differs |= values[1:, word] != values[:-1, word]
    return differs


def readable(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch as read, its text cells as UTF-8 text: a text or binary column (dictionary-encoded or not) becomes
    text, each distinct value checked once; a cell that is not valid UTF-8 is shown with U+FFFD for its bad bytes
    and said, with its column, in the PROBLEM column of its row — its subject's error, not the file's."""
    columns: list[pa.Array] = []
    problems: list[str | None] | None = None
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column.type
        dictionary = pa.types.is_dictionary(kind)
        values = column.dictionary if dictionary else column
        value_kind = values.type
        if pa.types.is_date(value_kind):
            # Arrow holds days Python cannot: a year before 1 or after 9999 is its row's problem, not a crash
            for row in np.flatnonzero(_beyond_python_dates(column)).tolist():
                problems = problems if problems is not None else [None] * batch.num_rows
                said = f"the date in column {name!r} lies outside the years 1 to 9999"
                problems[row] = said if problems[row] is None else f"{problems[row]}; {said}"
            columns.append(column)
            continue
        if not (is_text(value_kind) or pa.types.is_binary(value_kind) or pa.types.is_large_binary(value_kind)):
            columns.append(column)
            continue
        try:
            text = values.cast(pa.string()) if not pa.types.is_string(value_kind) else values
            text.validate(full=True)
            if text is values:
                columns.append(column)
                continue
        except pa.ArrowInvalid:
            text, bad = _repaired(values)
            positions = np.flatnonzero(np.isin(raw(column.indices) if dictionary else np.arange(len(column)),
                                               list(bad)) & valid(column.indices if dictionary else column))
            if len(positions):
                problems = problems if problems is not None else [None] * batch.num_rows
                codes = raw(column.indices) if dictionary else np.arange(len(column))
                for row in positions.tolist():
                    said = f"the cell in column {name!r} {bad[int(codes[row])]}"
                    problems[row] = said if problems[row] is None else f"{problems[row]}; {said}"
        columns.append(pa.DictionaryArray.from_arrays(column.indices, text) if dictionary else text)
    names = list(batch.schema.names)
    if problems is not None:
        columns.append(pa.array(problems, pa.string()))
        names.append(PROBLEM)
    return pa.RecordBatch.from_arrays(columns, names=names)


def _beyond_python_dates(column: pa.Array) -> npt.NDArray[np.bool_]:
    """For each row of a date column (date32 or date64, dictionary-encoded or not): whether its day lies before
    0001-01-01 or after 9999-12-31 (a missing date does not)."""
    values = column.dictionary.take(column.indices) if pa.types.is_dictionary(column.type) else column
    # date64 counts milliseconds: compared with the first and the day after the last in milliseconds, exactly
    day = 86_400_000 if pa.types.is_date64(values.type) else 1
    first, after_last = FIRST_DAY * day, (LAST_DAY + 1) * day
    held = raw(values)
    # The buffer's least and greatest, rows without a date included (what stands there means nothing): within the
    # years, no row is outside them; else the rows with a date are looked at one by one (rarely).
    if not len(held) or (held.min() >= first and held.max() < after_last):
        return np.zeros(len(column), dtype=bool)
    outside: npt.NDArray[np.bool_] = ((held < first) | (held >= after_last)) & valid(values)
    return outside


def _repaired(values: pa.Array) -> tuple[pa.Array, dict[int, str]]:
    """Values as text, each that is not valid UTF-8 with U+FFFD for its bad bytes; which those are, and why."""
    if is_text(values.type):
        values = values.view(pa.binary()) if pa.types.is_string(values.type) else values.cast(pa.large_binary())
    texts: list[str | None] = []
    bad: dict[int, str] = {}
    for position, value in enumerate(values.to_pylist()):
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(value.decode("utf-8"))
        except UnicodeDecodeError as error:
            texts.append(value.decode("utf-8", errors="replace"))
            bad[position] = (f"is not valid UTF-8 (byte 0x{value[error.start]:02x} at position {error.start + 1}); "
                             "write the file in UTF-8")
    return pa.array(texts, pa.string()), bad
