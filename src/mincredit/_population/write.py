"""The outputs of a population run: JSON Lines (one result a line) and Parquet (one row a result), written atomically.

A JSON line is the result's own JSON (:func:`mincredit._results.encode`, the same as ``--format json`` gives for
each result) after a header naming the evaluation date and the rulebook.  A Parquet row has the same fields:
decimals as exact text, the lists (proposals, listings, consequences, warnings) as their JSON text, null when
empty, and the items when explanations are on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

import msgspec

from mincredit._atomic import AtomicFile
from mincredit._results import SubjectResult, encode

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

RESULT_FIELDS = ("uscc", "name", "kind", "status", "evaluated", "grade", "grade_meaning", "score",
                 "public_score", "deductions", "honour_bonus", "not_evaluated_reason")
MEASURE_FIELDS = ("proposals", "listings", "consequences", "warnings")
DECIMAL_FIELDS = frozenset({"score", "public_score", "deductions", "honour_bonus"})
ITEM_FIELDS = ("record_id", "type", "counted", "points", "applied", "counts_from", "counts_until", "explanation",
               "indicator", "tier", "indicator_title", "wording", "honour", "level", "level_name")
OutputFormat = Literal["jsonl", "parquet"]
_DATES = (dt.date,)


class OutputError(ValueError):
    """An output the run cannot write as asked (its format)."""


def output_format(path: str | Path) -> OutputFormat:
    suffix = Path(path).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    raise OutputError(f"cannot tell the output format of {str(path)!r}: name it .jsonl (JSON Lines, one result "
                      "a line) or .parquet")


@dataclass(frozen=True)
class Header:
    """What every output row carries besides the result: the evaluation date and the rulebook's identity."""

    as_of: dt.date
    rulebook_id: str
    rulebook_version: str
    rulebook_digest: str

    def json_prefix(self) -> bytes:
        return ('{"as_of":"' + self.as_of.isoformat() + '","rulebook_id":' + encode_basestring(self.rulebook_id)
                + ',"rulebook_version":' + encode_basestring(self.rulebook_version) + ',"rulebook_digest":'
                + encode_basestring(self.rulebook_digest) + ",").encode("utf-8")


class _ListTexts:
    """The JSON text of result lists, remembered for the lists many results share (a grade's consequences)."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[object, str]] = {}

    def text(self, values: Sequence[Any]) -> str:
        known = self._known.get(id(values))
        if known is not None and known[0] is values:
            return known[1]
        text = encode(values).decode("utf-8")
        if len(self._known) < 64:
            self._known[id(values)] = (values, text)   # the list is kept, so its id is not reused
        return text


def result_schema(explain: bool) -> pa.Schema:
    """The columns of a result file: the header, the result's fields (decimals as exact text, the lists as
    their JSON text, null when empty), and the items when explanations are on."""
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    fields = [pa.field("as_of", pa.date32()), pa.field("rulebook_id", pa.string()),
              pa.field("rulebook_version", pa.string()), pa.field("rulebook_digest", pa.string())]
    fields += [pa.field(name, pa.bool_() if name == "evaluated" else pa.string()) for name in RESULT_FIELDS]
    # A grade's consequences are the same long text for every subject with that grade: a dictionary column.
    fields += [pa.field(name, pa.dictionary(pa.int32(), pa.string()) if name == "consequences" else pa.string())
               for name in MEASURE_FIELDS]
    if explain:
        item = pa.struct([pa.field(name, pa.bool_() if name == "counted" else pa.int64() if name == "tier"
                                   else pa.date32() if name in {"counts_from", "counts_until"} else pa.string())
                          for name in ITEM_FIELDS])
        fields.append(pa.field("items", pa.list_(item)))
    return pa.schema(fields)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class Encoder:
    """Turns a chunk of results into what a sink writes: JSON Lines bytes or an Arrow table."""

    def __init__(self, header: Header, fmt: OutputFormat, explain: bool) -> None:
        self.header, self.fmt, self.explain = header, fmt, explain
        self.prefix = header.json_prefix()
        self.texts = _ListTexts()

    def encode(self, results: Sequence[SubjectResult]) -> bytes | pa.Table:
        if self.fmt == "jsonl":
            prefix = self.prefix
            return b"".join(prefix + encode(result)[1:] + b"\n" for result in results)
        return self.arrow(self.columns(results))

    def columns(self, results: Sequence[SubjectResult]) -> dict[str, list[Any]]:
        """Results as columns of Python values (decimals as exact text, lists as JSON text), ready for Arrow."""
        texts = self.texts
        columns: dict[str, list[Any]] = {name: [] for name in (*RESULT_FIELDS, *MEASURE_FIELDS)}
        for result in results:
            for name in RESULT_FIELDS:
                value = getattr(result, name)
                columns[name].append(_decimal_text(value) if name in DECIMAL_FIELDS else value)
            for name in MEASURE_FIELDS:
                values = getattr(result, name)
                columns[name].append(texts.text(values) if values else None)
        if self.explain:
            # msgspec writes an item as a mapping in C (decimals as their exact text, dates kept as dates);
            # Arrow takes the item columns of the schema from it and leaves the rest.
            columns["items"] = [msgspec.to_builtins(result.items, builtin_types=_DATES)
                                if result.items is not None else None for result in results]
        return columns

    def arrow(self, columns: Mapping[str, Any]) -> pa.Table:
        """A result table from columns (lists or Arrow arrays), with the header columns added."""
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

        schema = result_schema(self.explain)
        count = len(columns["uscc"])
        data = {"as_of": pa.repeat(pa.scalar(self.header.as_of, pa.date32()), count),
                "rulebook_id": pa.repeat(pa.scalar(self.header.rulebook_id), count),
                "rulebook_version": pa.repeat(pa.scalar(self.header.rulebook_version), count),
                "rulebook_digest": pa.repeat(pa.scalar(self.header.rulebook_digest), count)}
        arrays = [data[f.name] if f.name in data else pa.array(columns[f.name], f.type)
                  if not isinstance(columns[f.name], pa.Array | pa.ChunkedArray) else columns[f.name].cast(f.type)
                  for f in schema]
        return pa.Table.from_arrays(arrays, schema=schema)

    def encode_table(self, table: pa.Table) -> bytes | pa.Table:
        """Encode a result table without items (the vectorised path's output) for this format."""
        if self.fmt == "parquet":
            return table
        prefix = self.prefix
        lines = []
        for row in table.select([*RESULT_FIELDS, *MEASURE_FIELDS]).to_pylist():
            head = encode({name: row[name] for name in RESULT_FIELDS})[1:-1]
            tail = "".join(',"' + name + '":' + row[name] for name in MEASURE_FIELDS if row[name] is not None)
            lines.append(prefix + head + tail.encode("utf-8") + b"}\n")
        return b"".join(lines)


class Sink(Protocol):
    def write(self, payload: bytes | pa.Table) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class JsonlSink:
    """JSON Lines to an atomic file, or to a text stream (stdout) when no path is given."""

    def __init__(self, path: Path | None, stream: TextIO | None = None) -> None:
        self.output = AtomicFile(path) if path is not None else None
        self.stream = stream

    def write(self, payload: bytes | pa.Table) -> None:
        assert isinstance(payload, bytes)
        if self.output is not None:
            self.output.file.write(payload)
        else:
            assert self.stream is not None
            buffer = getattr(self.stream, "buffer", None)
            if buffer is not None:
                self.stream.flush()
                buffer.write(payload)
            else:
                self.stream.write(payload.decode("utf-8"))

    def close(self) -> None:
        if self.output is not None:
            self.output.commit()
        elif self.stream is not None:
            self.stream.flush()

    def abort(self) -> None:
        if self.output is not None:
            self.output.abort()


class ParquetSink:
    """Parquet to an atomic file; every ``ROWS`` results become a row group, written in a background thread.

    Arrow writes (encodes and compresses) without the interpreter lock, so a row group is written while the next
    chunks are evaluated; at most one write is in flight, and the row groups keep input order.
    """

    ROWS = 65_536

    def __init__(self, path: Path, explain: bool, header: Header) -> None:
        import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

        self.output = AtomicFile(path)
        metadata = {b"mincredit": json.dumps({
            "as_of": header.as_of.isoformat(), "rulebook_id": header.rulebook_id,
            "rulebook_version": header.rulebook_version, "rulebook_digest": header.rulebook_digest,
            "decimals": "exact decimal text (score, public_score, deductions, honour_bonus)",
            "lists": "JSON text, as in the JSON output; null when empty (proposals, listings, consequences, "
                     "warnings)"}).encode()}
        schema = result_schema(explain)
        # Dictionary pages only for the columns that repeat (a uscc, a name or a score rarely does).
        repeating = [name for name in schema.names if name not in {"uscc", "name", "score", "public_score", "items"}]
        self.writer = pq.ParquetWriter(self.output.file, schema.with_metadata(metadata), compression="zstd",
                                       use_dictionary=repeating)
        self.pending: list[pa.Table] = []
        self.rows = 0
        self._writing: Future[None] | None = None
        self._thread: ThreadPoolExecutor | None = None

    def write(self, payload: bytes | pa.Table) -> None:
        assert not isinstance(payload, bytes)
        self.pending.append(payload)
        self.rows += payload.num_rows
        if self.rows >= self.ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

        if self.pending:
            table = pa.concat_tables(self.pending).unify_dictionaries()
            table = table.replace_schema_metadata(self.writer.schema.metadata)
            self._wait()
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mincredit-write")
            self._writing = self._thread.submit(self.writer.write_table, table, row_group_size=1 << 20)
        self.pending, self.rows = [], 0

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()                       # a write's error is raised here

    def close(self) -> None:
        self._flush()
        self._wait()
        self._shutdown()
        self.writer.close()
        self.output.commit()

    def _shutdown(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._wait()
        self._shutdown()
        with contextlib.suppress(Exception):
            self.writer.close()
        self.output.abort()
