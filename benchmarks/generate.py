"""A deterministic population of mining-rights holders for the benchmark (and the tests that check it).

``python benchmarks/generate.py --subjects 100000 --out DIR`` writes ``population.jsonl`` (the facts
interchange format, one subject a line), ``population.parquet`` and ``population.csv`` (the columnar
layout of docs/columnar.md: one row per record, the subject's columns repeated).  The same seed and
size always give the same bytes.  About ten records a subject; every tier of every indicator of the
rulebook and every honour level occur; some records are not yet determined, some expired, some
honours out of force or superseded by the same title at a higher level; 1 % of subjects are dissolved.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
TITLES = ("国家级绿色矿山", "自治区绿色矿山", "安全生产先进单位", "矿产资源节约与综合利用先进单位", "诚信企业",
          "地质找矿成果奖", "矿山地质环境治理示范", "文明单位")
LEVELS = ("provincial_government", "city_government", "ministry", "provincial_department")
FIRST_DAY = dt.date(2017, 1, 1)
DAYS = (dt.date(2026, 12, 31) - FIRST_DAY).days
RECORD_COLUMNS = ("record_id", "type", "indicator", "tier", "determined_on", "honour", "level", "awarded_on",
                  "valid_until")


def uscc(number: int) -> str:
    first = f"91150{number:012d}"
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first, WEIGHTS, strict=True))
    return first + ALPHABET[(31 - total % 31) % 31]


def tier_keys(rulebook_path: Path | None = None) -> list[tuple[str, int]]:
    """Every (indicator, tier) of the shipped miner rulebook, read with mincredit's own loader."""
    from mincredit import load_rulebook

    law = load_rulebook(str(rulebook_path) if rulebook_path else "miner").law
    return sorted((indicator.code, tier.tier) for indicator in law.indicators for tier in indicator.tiers)


def population(subjects: int, seed: int = 20240630, keys: list[tuple[str, int]] | None = None
               ) -> Iterator[dict[str, Any]]:
    """The subjects, in the facts format (dates as YYYY-MM-DD text, public scores as exact decimals)."""
    keys = keys if keys is not None else tier_keys()
    chooser = random.Random(seed)
    key_cursor = 0
    for number in range(subjects):
        count = min(30, int(chooser.expovariate(1 / 11.3)))   # about 10 records a subject on average
        records: list[dict[str, Any]] = []
        for position in range(count):
            day = FIRST_DAY + dt.timedelta(days=chooser.randrange(DAYS))
            if chooser.random() < 0.3:
                code, tier = keys[key_cursor % len(keys)]   # cycle, so every tier occurs
                key_cursor += 1
                records.append({"id": f"v-{position + 1}", "type": "violation", "indicator": code, "tier": tier,
                                "determined_on": day.isoformat()})
            else:
                record: dict[str, Any] = {"id": f"h-{position + 1}", "type": "honour",
                                          "honour": TITLES[chooser.randrange(len(TITLES))],
                                          "level": LEVELS[chooser.randrange(len(LEVELS))],
                                          "awarded_on": day.isoformat()}
                if chooser.random() < 0.5:
                    record["valid_until"] = (day + dt.timedelta(days=chooser.randrange(30, 1500))).isoformat()
                records.append(record)
        cents = chooser.randrange(40000, 100001)
        subject: dict[str, Any] = {"uscc": uscc(number), "name": f"矿业权人{number:06d}有限公司", "kind": "miner",
                                   "status": "dissolved" if chooser.random() < 0.01 else "active",
                                   "public_score": Decimal(cents).scaleb(-2), "records": records}
        yield subject


def _json_default(value: object) -> str:
    raise TypeError(type(value).__name__)


def subject_line(subject: dict[str, Any]) -> str:
    """A JSON line with the public score as a JSON number written exactly (812.35, not "812.35")."""
    score = subject["public_score"]
    data = {**subject, "public_score": "__SCORE__"}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace('"__SCORE__"', str(score))


def write_jsonl(path: Path, subjects: int, seed: int = 20240630) -> int:
    records = 0
    with path.open("w", encoding="utf-8") as handle:
        for subject in population(subjects, seed):
            records += len(subject["records"])
            handle.write(subject_line(subject) + "\n")
    return records


def columnar_rows(subjects: int, seed: int = 20240630) -> Iterator[dict[str, Any]]:
    """One row per record (a subject without records: one row with empty record columns)."""
    for subject in population(subjects, seed):
        head = {"uscc": subject["uscc"], "name": subject["name"], "kind": subject["kind"],
                "status": subject["status"], "public_score": subject["public_score"]}
        if not subject["records"]:
            yield {**head, **dict.fromkeys(RECORD_COLUMNS)}
        for record in subject["records"]:
            yield {**head, "record_id": record["id"], "type": record["type"],
                   "indicator": record.get("indicator"), "tier": record.get("tier"),
                   "determined_on": record.get("determined_on"), "honour": record.get("honour"),
                   "level": record.get("level"), "awarded_on": record.get("awarded_on"),
                   "valid_until": record.get("valid_until")}


def write_columnar(parquet: Path | None, csv: Path | None, subjects: int, seed: int = 20240630) -> None:
    """The columnar layout as Parquet (public_score decimal128(6, 2), dates date32) and/or CSV (all text)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    schema = pa.schema([("uscc", pa.string()), ("name", pa.string()), ("kind", pa.string()),
                        ("status", pa.string()), ("public_score", pa.decimal128(6, 2)),
                        ("record_id", pa.string()), ("type", pa.string()), ("indicator", pa.string()),
                        ("tier", pa.int32()), ("determined_on", pa.date32()), ("honour", pa.string()),
                        ("level", pa.string()), ("awarded_on", pa.date32()), ("valid_until", pa.date32())])
    dates = {"determined_on", "awarded_on", "valid_until"}
    parquet_writer = pq.ParquetWriter(parquet, schema, compression="zstd") if parquet else None
    csv_writer = pacsv.CSVWriter(csv, schema) if csv else None
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        columns = {name: [row[name] for row in batch] for name in schema.names}
        for name in dates:
            columns[name] = [dt.date.fromisoformat(v) if v else None for v in columns[name]]
        table = pa.table(columns, schema=schema)
        if parquet_writer:
            parquet_writer.write_table(table)
        if csv_writer:
            csv_writer.write_table(table)
        batch.clear()

    for row in columnar_rows(subjects, seed):
        batch.append(row)
        if len(batch) >= 100_000:
            flush()
    if batch:
        flush()
    if parquet_writer:
        parquet_writer.close()
    if csv_writer:
        csv_writer.close()


def write_all(directory: Path, subjects: int, seed: int = 20240630) -> dict[str, Any]:
    """Write the three files; return the population's size and the files' paths."""
    directory.mkdir(parents=True, exist_ok=True)
    jsonl, parquet, csv = (directory / f"population.{suffix}" for suffix in ("jsonl", "parquet", "csv"))
    records = write_jsonl(jsonl, subjects, seed)
    write_columnar(parquet, csv, subjects, seed)
    return {"subjects": subjects, "records": records, "jsonl": jsonl, "parquet": parquet, "csv": csv}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240630)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "mincredit-bench" / "population")
    args = parser.parse_args(argv)
    made = write_all(args.out, args.subjects, args.seed)
    print(f"{made['subjects']:,} subjects, {made['records']:,} records → {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
