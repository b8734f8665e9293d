"""The benchmark's variants, each run as its own process: ``python benchmarks/peers.py VARIANT --data DIR --out FILE``.

Every variant scores the same population with the same table (``DIR/table.json``, exported from the
miner rulebook by run.py: (indicator, tier) → points, honour level → points, the cap, the formula as
integer multipliers, the grade bands, and the first day a record still counts on the as-of date) and
writes ``uscc,grade`` lines in input order, which run.py compares with mincredit's explained engine
before any time counts.  Variants that time only their scoring (the in-memory ones) print
``{"inner_seconds": …}`` on stdout.

The peers do integer arithmetic on the score scaled by ``scale`` (exact for public scores with at most
two decimals, which the generated population has); mincredit works in exact decimals for any input.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any


def load_table(data: Path) -> dict[str, Any]:
    table: dict[str, Any] = json.loads((data / "table.json").read_text(encoding="utf-8"))
    return table


def cents(text: str) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])


class Grader:
    """The formula and the grade bands, in scaled integers."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.base, self.cap = table["base"], table["cap"]
        self.public_mult, self.industry_mult = table["public_mult"], table["industry_mult"]
        self.bands = [tuple(band) for band in table["bands"]]

    def grade(self, public_cents: int, deductions: int, bonus: int) -> str:
        score = public_cents * self.public_mult + (self.base - deductions + min(bonus, self.cap)) * self.industry_mult
        for grade, lower, lower_inclusive, upper, upper_inclusive in self.bands:
            if lower is not None and (score < lower or (score == lower and not lower_inclusive)):
                continue
            if upper is not None and (score > upper or (score == upper and not upper_inclusive)):
                continue
            return str(grade)
        raise AssertionError(score)


def write_grades(out: Path, grades: Iterable[tuple[str, str]]) -> None:
    with out.open("w", encoding="utf-8") as handle:
        for uscc, grade in grades:
            handle.write(f"{uscc},{grade}\n")


# --- plain Python: a dict and a loop over the CSV rows ----------------------------------------------

def plain_rows(rows: Iterable[list[str]], table: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Rows of the columnar CSV (header skipped), grouped by subject: one (uscc, grade) per subject."""
    points = {(code, str(tier)): value for code, tier, value in table["points"]}
    levels = table["levels"]
    as_of, violation_from, honour_from = table["as_of"], table["violation_from"], table["honour_from"]
    grader = Grader(table)
    current = None
    status = public = ""
    deductions = 0
    best: dict[str, int] = {}
    for row in rows:
        uscc = row[0]
        if uscc != current:
            if current is not None:
                yield current, ("" if status == "dissolved" else
                                grader.grade(cents(public), deductions, sum(best.values())))
            current, status, public, deductions, best = uscc, row[3], row[4], 0, {}
        kind = row[6]
        if kind == "violation":
            if violation_from <= row[9] <= as_of:
                deductions += points[row[7], row[8]]
        elif kind == "honour":
            awarded, until = row[12], row[13]
            if (awarded <= as_of <= until) if until else (honour_from <= awarded <= as_of):
                value = levels[row[11]]
                if value > best.get(row[10], 0):
                    best[row[10]] = value
    if current is not None:
        yield current, ("" if status == "dissolved" else grader.grade(cents(public), deductions, sum(best.values())))


def run_plain(data: Path, out: Path) -> dict[str, Any]:
    table = load_table(data)
    with (data / "population.csv").open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        write_grades(out, plain_rows(rows, table))
    return {}


def run_plain_memory(data: Path, out: Path) -> dict[str, Any]:
    table = load_table(data)
    with (data / "population.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    started = time.perf_counter()
    grades = list(plain_rows(rows, table))
    inner = time.perf_counter() - started
    write_grades(out, grades)
    return {"inner_seconds": inner}


# --- mincredit's in-memory API: data already in memory → scores ----------------------------------------

def run_mincredit_table(data: Path, out: Path) -> dict[str, Any]:
    """evaluate_table on an Arrow table already in memory (read from the Parquet file before the clock starts)."""
    import datetime as dt

    import pyarrow.parquet as pq

    from mincredit import evaluate_table, load_rulebook

    table_json = load_table(data)
    rulebook = load_rulebook("miner")
    records = pq.read_table(data / "population.parquet")
    as_of = dt.date.fromisoformat(table_json["as_of"])
    started = time.perf_counter()
    result = evaluate_table(records, rulebook, as_of)
    inner = time.perf_counter() - started
    assert result.complete, result.errors[:3]
    grades = zip(result.results.column("uscc").to_pylist(), result.results.column("grade").to_pylist(), strict=True)
    write_grades(out, ((uscc, grade or "") for uscc, grade in grades))
    return {"inner_seconds": inner}


def _stream_grades(subjects: list[Any], data: Path) -> tuple[list[tuple[str, str]], float]:
    import datetime as dt

    from mincredit import SubjectErrors, evaluate_stream, load_rulebook

    rulebook = load_rulebook("miner")
    as_of = dt.date.fromisoformat(load_table(data)["as_of"])
    started = time.perf_counter()
    grades = []
    for outcome in evaluate_stream(subjects, rulebook, as_of, explain=False):
        assert not isinstance(outcome, SubjectErrors)
        grades.append((outcome.uscc, outcome.grade or ""))
    return grades, time.perf_counter() - started


def run_mincredit_api(data: Path, out: Path) -> dict[str, Any]:
    """evaluate_stream on Subject models already in memory (validated from the JSON Lines before the clock starts)."""
    from mincredit import read_facts_file

    subjects = [entry.subject for entry in read_facts_file(data / "population.jsonl")]
    assert all(subject is not None for subject in subjects)
    grades, inner = _stream_grades(subjects, data)
    write_grades(out, grades)
    return {"inner_seconds": inner}


def run_mincredit_api_mappings(data: Path, out: Path) -> dict[str, Any]:
    """evaluate_stream on plain mappings already in memory (the JSON lines parsed before the clock starts),
    each validated as it is scored."""
    from decimal import Decimal

    with (data / "population.jsonl").open(encoding="utf-8") as handle:
        subjects = [json.loads(line, parse_float=Decimal) for line in handle]
    grades, inner = _stream_grades(subjects, data)
    write_grades(out, grades)
    return {"inner_seconds": inner}


# --- polars and DuckDB: a join and a group-by ----------------------------------------------------

def run_polars(data: Path, out: Path) -> dict[str, Any]:
    import datetime as dt

    import polars as pl

    table = load_table(data)
    frame = pl.read_parquet(data / "population.parquet")
    day = dt.date.fromisoformat
    as_of, violation_from, honour_from = day(table["as_of"]), day(table["violation_from"]), day(table["honour_from"])
    points = pl.DataFrame({"indicator": [p[0] for p in table["points"]], "tier": [p[1] for p in table["points"]],
                           "points": [p[2] for p in table["points"]]},
                          schema={"indicator": pl.String, "tier": frame.schema["tier"], "points": pl.Int64})
    levels = pl.DataFrame({"level": list(table["levels"]), "level_points": list(table["levels"].values())},
                          schema={"level": pl.String, "level_points": pl.Int64})
    subjects = frame.select("uscc", "status", "public_score").unique(subset="uscc", keep="first", maintain_order=True)
    counted = (pl.col("type") == "violation") & pl.col("determined_on").is_between(violation_from, as_of)
    deductions = (frame.filter(counted).join(points, on=["indicator", "tier"])
                  .group_by("uscc").agg(pl.col("points").sum().alias("d")))
    in_force = pl.when(pl.col("valid_until").is_null()).then(pl.col("awarded_on").is_between(honour_from, as_of)) \
        .otherwise((pl.col("awarded_on") <= as_of) & (pl.col("valid_until") >= as_of))
    bonus = (frame.filter((pl.col("type") == "honour") & in_force).join(levels, on="level")
             .group_by("uscc", "honour").agg(pl.col("level_points").max())
             .group_by("uscc").agg(pl.col("level_points").sum().alias("b")))
    score = ((pl.col("public_score") * 100).cast(pl.Int64) * table["public_mult"]
             + (table["base"] - pl.col("d") + pl.min_horizontal(pl.col("b"), pl.lit(table["cap"])))
             * table["industry_mult"])
    grade: Any = pl.lit(None, dtype=pl.String)
    for name, lower, lower_inclusive, upper, upper_inclusive in reversed(table["bands"]):
        condition = pl.lit(True)
        if lower is not None:
            condition = condition & ((pl.col("n") >= lower) if lower_inclusive else (pl.col("n") > lower))
        if upper is not None:
            condition = condition & ((pl.col("n") <= upper) if upper_inclusive else (pl.col("n") < upper))
        grade = pl.when(condition).then(pl.lit(name)).otherwise(grade)
    result = (subjects.join(deductions, on="uscc", how="left", maintain_order="left")
              .join(bonus, on="uscc", how="left", maintain_order="left")
              .with_columns(pl.col("d").fill_null(0), pl.col("b").fill_null(0))
              .with_columns(score.alias("n"))
              .with_columns(pl.when(pl.col("status") == "dissolved").then(pl.lit("")).otherwise(grade).alias("grade")))
    write_grades(out, zip(result["uscc"].to_list(), result["grade"].to_list(), strict=True))
    return {}


def run_duckdb(data: Path, out: Path) -> dict[str, Any]:
    import duckdb

    table = load_table(data)
    connection = duckdb.connect()
    connection.execute("CREATE TABLE points(indicator VARCHAR, tier INTEGER, points BIGINT)")
    connection.executemany("INSERT INTO points VALUES (?, ?, ?)", table["points"])
    connection.execute("CREATE TABLE levels(level VARCHAR, points BIGINT)")
    connection.executemany("INSERT INTO levels VALUES (?, ?)", list(table["levels"].items()))
    cases = []
    for name, lower, lower_inclusive, upper, upper_inclusive in table["bands"]:
        parts = []
        if lower is not None:
            parts.append(f"n {'>=' if lower_inclusive else '>'} {lower}")
        if upper is not None:
            parts.append(f"n {'<=' if upper_inclusive else '<'} {upper}")
        cases.append(f"WHEN {' AND '.join(parts) or 'TRUE'} THEN '{name}'")
    path = str(data / "population.parquet")
    query = f"""
    WITH f AS (SELECT *, row_number() OVER () AS r FROM read_parquet('{path}')),
    s AS (SELECT uscc, first(status) AS status, first(public_score) AS public_score, min(r) AS r FROM f GROUP BY uscc),
    d AS (SELECT uscc, sum(p.points) AS d FROM f JOIN points p USING (indicator, tier)
          WHERE type = 'violation'
            AND determined_on BETWEEN DATE '{table['violation_from']}' AND DATE '{table['as_of']}'
          GROUP BY uscc),
    h AS (SELECT uscc, honour, max(l.points) AS points FROM f JOIN levels l USING (level)
          WHERE type = 'honour' AND CASE WHEN valid_until IS NULL
                THEN awarded_on BETWEEN DATE '{table['honour_from']}' AND DATE '{table['as_of']}'
                ELSE awarded_on <= DATE '{table['as_of']}' AND valid_until >= DATE '{table['as_of']}' END
          GROUP BY uscc, honour),
    b AS (SELECT uscc, sum(points) AS b FROM h GROUP BY uscc),
    n AS (SELECT s.uscc, s.status, s.r,
                 CAST(s.public_score * 100 AS BIGINT) * {table['public_mult']}
                 + ({table['base']} - coalesce(d.d, 0) + least(coalesce(b.b, 0), {table['cap']}))
                   * {table['industry_mult']} AS n
          FROM s LEFT JOIN d USING (uscc) LEFT JOIN b USING (uscc))
    SELECT uscc, CASE WHEN status = 'dissolved' THEN '' ELSE CASE {' '.join(cases)} END END FROM n ORDER BY r
    """
    write_grades(out, connection.execute(query).fetchall())
    return {}


# --- GoRules Zen: the table as a JDM decision table, one evaluation per subject -----------------------

def yyyymmdd(text: str | None) -> int:
    return int(text.replace("-", "")) if text else 0


def zen_graph(table: dict[str, Any]) -> dict[str, Any]:
    as_of, violation_from, honour_from = (yyyymmdd(table[k]) for k in ("as_of", "violation_from", "honour_from"))
    violation_rules = [{"_id": f"v{n}", "i1": json.dumps(code), "i2": str(tier),
                        "i3": f"[{violation_from}..{as_of}]", "o1": str(points)}
                       for n, (code, tier, points) in enumerate(table["points"])]
    violation_rules.append({"_id": "v-none", "i1": "", "i2": "", "i3": "", "o1": "0"})
    honour_rules = []
    for n, (level, points) in enumerate(table["levels"].items()):
        honour_rules.append({"_id": f"h{n}a", "j1": json.dumps(level), "j2": f"[{honour_from}..{as_of}]", "j3": "0",
                             "p1": str(points)})
        honour_rules.append({"_id": f"h{n}b", "j1": json.dumps(level), "j2": f"<= {as_of}", "j3": f">= {as_of}",
                             "p1": str(points)})
    honour_rules.append({"_id": "h-none", "j1": "", "j2": "", "j3": "", "p1": "0"})
    position = {"x": 0, "y": 0}
    return {"nodes": [
        {"id": "in", "name": "request", "type": "inputNode", "position": position},
        {"id": "violations", "name": "violations", "type": "decisionTableNode", "position": position, "content": {
            "hitPolicy": "first", "rules": violation_rules,
            "inputs": [{"id": "i1", "name": "indicator", "field": "indicator"},
                       {"id": "i2", "name": "tier", "field": "tier"}, {"id": "i3", "name": "day", "field": "day"}],
            "outputs": [{"id": "o1", "name": "points", "field": "points"}],
            "inputField": "violations", "outputPath": "violation_points", "executionMode": "loop",
            "passThrough": True}},
        {"id": "deductions", "name": "deductions", "type": "expressionNode", "position": position, "content": {
            "expressions": [{"id": "x1", "key": "deductions", "value": "sum(map(violation_points, #.points))"}],
            "passThrough": True}},
        {"id": "honours", "name": "honours", "type": "decisionTableNode", "position": position, "content": {
            "hitPolicy": "first", "rules": honour_rules,
            "inputs": [{"id": "j1", "name": "level", "field": "level"},
                       {"id": "j2", "name": "awarded", "field": "awarded"},
                       {"id": "j3", "name": "until", "field": "until"}],
            "outputs": [{"id": "p1", "name": "points", "field": "points"}],
            "inputField": "honours", "outputPath": "honour_points", "executionMode": "loop", "passThrough": True}},
        {"id": "out", "name": "response", "type": "outputNode", "position": position}],
        "edges": [{"id": "e1", "sourceId": "in", "targetId": "violations"},
                  {"id": "e2", "sourceId": "violations", "targetId": "deductions"},
                  {"id": "e3", "sourceId": "deductions", "targetId": "honours"},
                  {"id": "e4", "sourceId": "honours", "targetId": "out"}]}


def jsonl_subjects(data: Path) -> Iterator[dict[str, Any]]:
    with (data / "population.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line, parse_float=str)


def run_zen(data: Path, out: Path) -> dict[str, Any]:
    import zen

    table = load_table(data)
    decision = zen.ZenEngine().create_decision(json.dumps(zen_graph(table)))
    grader = Grader(table)
    grades = []
    for subject in jsonl_subjects(data):
        violations = [{"indicator": r["indicator"], "tier": r["tier"], "day": yyyymmdd(r["determined_on"])}
                      for r in subject["records"] if r["type"] == "violation"]
        honours = [{"level": r["level"], "awarded": yyyymmdd(r["awarded_on"]), "until": yyyymmdd(r.get("valid_until")),
                    "title": r["honour"]} for r in subject["records"] if r["type"] == "honour"]
        result = decision.evaluate({"violations": violations, "honours": honours})["result"]
        best: dict[str, int] = {}
        for item in result["honour_points"]:
            if item["points"] > best.get(item["title"], 0):
                best[item["title"]] = item["points"]
        grades.append((subject["uscc"], "" if subject["status"] == "dissolved" else
                       grader.grade(cents(str(subject["public_score"])), int(result["deductions"]),
                                    sum(best.values()))))
    write_grades(out, grades)
    return {}


# --- durable_rules: one rule per tier and honour window, one post per record --------------------------

def run_durable(data: Path, out: Path) -> dict[str, Any]:
    from durable.engine import MessageNotHandledException  # type: ignore[import-untyped]
    from durable.lang import m, post, ruleset, when_all

    table = load_table(data)
    as_of, violation_from, honour_from = (yyyymmdd(table[k]) for k in ("as_of", "violation_from", "honour_from"))
    deductions: dict[str, int] = {}
    honours: dict[str, dict[str, int]] = {}

    def deduct(points: int) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            deductions[c.m.sid] = deductions.get(c.m.sid, 0) + points
        return action

    def honour(points: int) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            best = honours.setdefault(c.m.sid, {})
            if points > best.get(c.m.title, 0):
                best[c.m.title] = points
        return action

    # durable_rules keeps rulesets in a process-wide registry; each subject is its own state (sid), deleted
    # after its last record, so no more than one state is alive at a time (a ruleset holds at most 1,024).
    with ruleset("mincredit_bench"):
        for code, tier, points in table["points"]:
            when_all((m.type == "violation") & (m.indicator == code) & (m.tier == tier)
                     & (m.day >= violation_from) & (m.day <= as_of))(deduct(points))
        for level, points in table["levels"].items():
            when_all((m.type == "honour") & (m.level == level) & (m.until == 0)
                     & (m.awarded >= honour_from) & (m.awarded <= as_of))(honour(points))
            when_all((m.type == "honour") & (m.level == level) & (m.until >= as_of)
                     & (m.awarded <= as_of))(honour(points))
    from durable.lang import delete_state

    grader = Grader(table)
    grades = []
    for subject in jsonl_subjects(data):
        sid = subject["uscc"]
        for record in subject["records"]:
            if record["type"] == "violation":
                event = {"sid": sid, "type": "violation", "indicator": record["indicator"], "tier": record["tier"],
                         "day": yyyymmdd(record["determined_on"])}
            else:
                event = {"sid": sid, "type": "honour", "level": record["level"], "title": record["honour"],
                         "awarded": yyyymmdd(record["awarded_on"]), "until": yyyymmdd(record.get("valid_until"))}
            with contextlib.suppress(MessageNotHandledException):   # no rule matched: the record does not count
                post("mincredit_bench", event)
        with contextlib.suppress(Exception):   # a subject none of whose records matched has no state
            delete_state("mincredit_bench", sid)
        grades.append((sid, "" if subject["status"] == "dissolved" else
                       grader.grade(cents(str(subject["public_score"])), deductions.pop(sid, 0),
                                    sum(honours.pop(sid, {}).values()))))
    write_grades(out, grades)
    return {}


VARIANTS: dict[str, Callable[[Path, Path], dict[str, Any]]] = {
    "plain": run_plain, "plain-memory": run_plain_memory, "mincredit-table": run_mincredit_table,
    "mincredit-api": run_mincredit_api, "mincredit-api-mappings": run_mincredit_api_mappings,
    "polars": run_polars, "duckdb": run_duckdb, "zen": run_zen, "durable": run_durable,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = VARIANTS[args.variant](args.data, args.out)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
