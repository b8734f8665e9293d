"""Benchmark: mincredit against the alternatives on a generated population, in one run.

    python benchmarks/run.py                       # 100,000 subjects, about 1,000,000 records, 3 runs each
    python benchmarks/run.py --subjects 2000 --repeat 1 --variants plain,polars

Generates a deterministic population (benchmarks/generate.py: every indicator and tier of the shipped miner
rulebook, honours at every level) as JSON Lines, Parquet and CSV, exports the rulebook's table for the peers,
evaluates the population once with mincredit's explained engine as the reference, then runs every variant
as its own process, several times.  A variant's time counts only if its grades are identical to the
reference, subject by subject, in order.  Reported: the median wall time of the whole process (or, for
the in-memory variants, of their scoring alone), records per second, peak memory (the process's maximum
resident set), and the ratio to mincredit from Parquet and from JSON Lines.

Variants needing packages that are not installed (``pip install '.[bench]'``) are skipped with a note.
mincredit's own modules are byte-compiled first, as an installed package's are.  The 1-minute load average
before each run is recorded: the machine is shared, and the figures are only as good as it was idle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2024, 6, 30)


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    command: list[str]
    output: str
    needs: tuple[str, ...] = ()
    inner: bool = False          # times its own scoring, reported as inner_seconds
    grades_from: str = "csv"     # how to read its output: "csv" (uscc,grade) or "results" (mincredit output)


@dataclass
class Measurement:
    variant: Variant
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)   # the 1-minute load average before each run
    identical: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def variants(data: Path, out: Path, python: str) -> list[Variant]:
    cli = [python, "-m", "mincredit", "evaluate"]
    explained = ["--rulebook", "miner", "--as-of", AS_OF.isoformat()]
    common = [*explained, "--no-explain"]
    peers = [python, str(HERE / "peers.py")]
    return [
        Variant("mincredit-parquet", "mincredit, Parquet → Parquet (columnar path)",
                [*cli, str(data / "population.parquet"), *common, "--output", str(out / "m-parquet.parquet")],
                "m-parquet.parquet", ("pyarrow",), grades_from="results"),
        Variant("mincredit-parquet-nocache", "mincredit, Parquet → Parquet, rulebook compiled from YAML (--no-cache)",
                [*cli, str(data / "population.parquet"), *common, "--no-cache", "--output",
                 str(out / "m-parquet-nc.parquet")], "m-parquet-nc.parquet", ("pyarrow",), grades_from="results"),
        Variant("mincredit-jsonl", "mincredit, JSON Lines → JSON Lines, full validation",
                [*cli, str(data / "population.jsonl"), *common, "--output", str(out / "m-jsonl.jsonl")],
                "m-jsonl.jsonl", grades_from="results"),
        Variant("mincredit-jsonl-explained", "mincredit, JSON Lines → JSON Lines, explained (every record's item)",
                [*cli, str(data / "population.jsonl"), *explained, "--output", str(out / "m-jsonl-x.jsonl")],
                "m-jsonl-x.jsonl", grades_from="results"),
        Variant("mincredit-parquet-explained", "mincredit, Parquet → Parquet, explained (every record's item)",
                [*cli, str(data / "population.parquet"), *explained, "--output", str(out / "m-parquet-x.parquet")],
                "m-parquet-x.parquet", ("pyarrow",), grades_from="results"),
        Variant("mincredit-jsonl-nocache", "mincredit, JSON Lines → JSON Lines, rulebook compiled from YAML "
                "(--no-cache)",
                [*cli, str(data / "population.jsonl"), *common, "--no-cache", "--output",
                 str(out / "m-jsonl-nc.jsonl")], "m-jsonl-nc.jsonl", grades_from="results"),
        Variant("mincredit-jsonl-j2", "mincredit, JSON Lines → JSON Lines, --jobs 2",
                [*cli, str(data / "population.jsonl"), *common, "--jobs", "2", "--output", str(out / "m-j2.jsonl")],
                "m-j2.jsonl", grades_from="results"),
        Variant("mincredit-csv", "mincredit, CSV → Parquet (columnar path)",
                [*cli, str(data / "population.csv"), *common, "--output", str(out / "m-csv.parquet")],
                "m-csv.parquet", ("pyarrow",), grades_from="results"),
        Variant("mincredit-table", "mincredit in-memory, evaluate_table on an Arrow table (scoring only)",
                [*peers, "mincredit-table", "--data", str(data), "--out", str(out / "table.csv")], "table.csv",
                ("pyarrow",), inner=True),
        Variant("mincredit-api", "mincredit in-memory, evaluate_stream on Subject models (scoring only)",
                [*peers, "mincredit-api", "--data", str(data), "--out", str(out / "api.csv")], "api.csv", inner=True),
        Variant("mincredit-api-mappings", "mincredit in-memory, evaluate_stream on parsed mappings, validated "
                "(scoring only)",
                [*peers, "mincredit-api-mappings", "--data", str(data), "--out", str(out / "api-mappings.csv")],
                "api-mappings.csv", inner=True),
        Variant("plain", "plain Python dict-and-loop, reading CSV (whole process)",
                [*peers, "plain", "--data", str(data), "--out", str(out / "plain.csv")], "plain.csv"),
        Variant("plain-memory", "plain Python dict-and-loop, rows in memory (scoring only)",
                [*peers, "plain-memory", "--data", str(data), "--out", str(out / "plain-memory.csv")],
                "plain-memory.csv", inner=True),
        Variant("polars", "polars join + group_by, reading Parquet",
                [*peers, "polars", "--data", str(data), "--out", str(out / "polars.csv")], "polars.csv", ("polars",)),
        Variant("duckdb", "DuckDB SQL, reading Parquet",
                [*peers, "duckdb", "--data", str(data), "--out", str(out / "duckdb.csv")], "duckdb.csv", ("duckdb",)),
        Variant("zen", "GoRules Zen decision tables, one evaluation per subject",
                [*peers, "zen", "--data", str(data), "--out", str(out / "zen.csv")], "zen.csv", ("zen",)),
        Variant("durable", "durable_rules, one post per record",
                [*peers, "durable", "--data", str(data), "--out", str(out / "durable.csv")], "durable.csv",
                ("durable",)),
    ]


def export_table(data: Path) -> None:
    """The rulebook's table for the peers: points, levels, the formula as integer multipliers, the bands."""
    from mincredit import load_rulebook
    from mincredit._kernel import first_day_counting

    law = load_rulebook("miner").law
    denominator = 10 ** max(-law.public_weight.as_tuple().exponent,  # type: ignore[operator]
                            -law.industry_weight.as_tuple().exponent)
    scale = 100 * denominator   # public scores have two decimals in the generated population

    def scaled(value: Decimal) -> int:
        result = value * scale
        assert result == result.to_integral_value()
        return int(result)

    table = {
        "as_of": AS_OF.isoformat(),
        "violation_from": first_day_counting(AS_OF, law.violation_years).isoformat(),
        "honour_from": first_day_counting(AS_OF, law.honour_years).isoformat(),
        "points": sorted([indicator.code, tier.tier, int(tier.points)] for indicator in law.indicators
                         for tier in indicator.tiers),
        "levels": {level.id: int(level.points) for level in law.levels},
        "cap": int(law.cap), "base": int(law.base),
        "public_mult": int(law.public_weight * denominator), "industry_mult": scaled(law.industry_weight),
        "bands": [[band.label, scaled(band.lower) if band.lower is not None else None,
                   band.lower_inclusive if band.lower is not None else None,
                   scaled(band.upper) if band.upper is not None else None,
                   band.upper_inclusive if band.upper is not None else None] for band in law.bands],
    }
    (data / "table.json").write_text(json.dumps(table, ensure_ascii=False, indent=1), encoding="utf-8")


def write_reference(data: Path) -> None:
    """The explained engine (mincredit.evaluate), the ground truth every variant is checked against."""
    from mincredit import evaluate, load_rulebook, read_facts_file

    evaluation = evaluate(read_facts_file(data / "population.jsonl"), load_rulebook("miner"), AS_OF)
    assert not evaluation.errors, evaluation.errors[:3]
    with (data / "reference.csv").open("w", encoding="utf-8") as handle:
        for result in evaluation.results:
            handle.write(f"{result.uscc},{result.grade or ''}\n")


def prepare(data: Path) -> None:
    """The table and the reference, computed in a child process so that this one stays small: a child's peak
    memory as the system reports it includes what it shared with this process before it started its program."""
    subprocess.run([sys.executable, str(Path(__file__)), "--prepare", str(data)], check=True)


def read_grades(path: Path, how: str) -> list[tuple[str, str]]:
    if how == "csv":
        return [tuple(line.split(",", 1)) for line in path.read_text(encoding="utf-8").splitlines()]  # type: ignore[misc]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=["uscc", "grade"])
        return [(u, g or "") for u, g in zip(table.column("uscc").to_pylist(), table.column("grade").to_pylist(),
                                              strict=True)]
    grades = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            grades.append((row["uscc"], row["grade"] or ""))
    return grades


def run_measured(variant: Variant, env: dict[str, str]) -> tuple[float, int, dict[str, Any]]:
    """Run the variant as a child process: its wall time, its own peak resident set in KiB (os.wait4: the child
    and the processes it waited for, not the maximum over every child this harness ran), and its report."""
    started = time.perf_counter()
    out_path = Path(env["MINCREDIT_BENCH_TMP"]) / f"{variant.name}.stdout"
    err_path = Path(env["MINCREDIT_BENCH_TMP"]) / f"{variant.name}.stderr"
    timer = ["/usr/bin/time", "-f", "MAXRSS %M"] if Path("/usr/bin/time").exists() else []
    with out_path.open("w") as stdout, err_path.open("w") as stderr:
        child = subprocess.Popen([*timer, *variant.command], stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = err_path.read_text()
    if child.returncode != 0:
        raise RuntimeError(f"{variant.name} failed ({child.returncode}): {errors[-2000:]}")
    peak = int(usage.ru_maxrss)
    for line in errors.splitlines()[::-1]:
        if line.startswith("MAXRSS "):   # GNU time: the peak of the variant's own process, not of a fork of this one
            peak = int(line.split()[1])
            break
    report: dict[str, Any] = {}
    for line in out_path.read_text().splitlines()[::-1]:
        if line.startswith("{"):
            report = json.loads(line)
            break
    return seconds, peak, report


def warm_cache(data: Path, out: Path, env: dict[str, str]) -> None:
    """Fill the compiled-rulebook cache: one evaluation of a one-line file with the benchmark's rulebook and date."""
    first = (data / "population.jsonl").read_bytes().split(b"\n", 1)[0] + b"\n"
    (out / "warm.jsonl").write_bytes(first)
    subprocess.run([sys.executable, "-m", "mincredit", "evaluate", str(out / "warm.jsonl"), "--rulebook", "miner",
                    "--as-of", AS_OF.isoformat(), "--format", "jsonl"], env=env, check=True, capture_output=True)


def byte_compile() -> None:
    """Byte-compile mincredit's modules, as installing the package does.

    An editable checkout run with PYTHONDONTWRITEBYTECODE set (as in some development environments) would
    otherwise compile every mincredit module again in every process, about 70 ms that an installed package
    never pays; the peers' packages are installed, with their bytecode.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("mincredit")
    assert spec is not None and spec.origin is not None
    compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def compile_time(repeat: int = 20) -> float:
    """Median time to load and compile the shipped miner rulebook, in this process after the first."""
    from mincredit.rules._registry import load_rulebook

    load_rulebook("miner")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        load_rulebook("miner")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compile_time_in_child() -> float:
    done = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import run; "
                           "print(run.compile_time())", str(HERE)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (the median is reported)")
    parser.add_argument("--slow-repeat", type=int, default=1,
                        help="runs for the slow peers (Zen, durable_rules), which take tens of seconds each")
    parser.add_argument("--variants", help="comma-separated names (default: all)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "mincredit-bench",
                        help="where the population is generated (and kept for the next run)")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare is not None:
        export_table(args.prepare)
        write_reference(args.prepare)
        return 0
    sys.path.insert(0, str(HERE))
    import generate

    data: Path = args.data / f"n{args.subjects}"
    marker = data / "population.done"
    if not marker.exists():
        print(f"generating {args.subjects:,} subjects in {data} …", file=sys.stderr)
        made = generate.write_all(data, args.subjects)
        marker.write_text(json.dumps({"records": made["records"]}))
    records = json.loads(marker.read_text())["records"]
    started = time.perf_counter()
    prepare(data)
    reference = read_grades(data / "reference.csv", "csv")
    print(f"table and reference (explained engine): {time.perf_counter() - started:.1f} s", file=sys.stderr)
    byte_compile()
    out = data / "out"
    out.mkdir(exist_ok=True)
    # The compiled-rulebook cache of the timed runs is this run's own, filled once before any timing (as any
    # run after the first finds it); the --no-cache variants time compiling the rulebook from its YAML.
    env = {**os.environ, "MINCREDIT_BENCH_TMP": str(out), "MINCREDIT_CACHE_DIR": str(out / "rulebook-cache")}
    warm_cache(data, out, env)
    print(f"population: {args.subjects:,} subjects, {records:,} records; JSON Lines "
          f"{(data / 'population.jsonl').stat().st_size / 1e6:.0f} MB, Parquet "
          f"{(data / 'population.parquet').stat().st_size / 1e6:.1f} MB, CSV "
          f"{(data / 'population.csv').stat().st_size / 1e6:.0f} MB", file=sys.stderr)
    chosen = set(args.variants.split(",")) if args.variants else None
    measurements: list[Measurement] = []
    for variant in variants(data, out, sys.executable):
        if chosen is not None and variant.name not in chosen:
            continue
        measurement = Measurement(variant)
        measurements.append(measurement)
        missing = [name for name in variant.needs if importlib.util.find_spec(name) is None]
        if missing:
            measurement.note = f"skipped: {', '.join(missing)} not installed (pip install '.[bench]')"
            print(f"{variant.name}: {measurement.note}", file=sys.stderr)
            continue
        runs = args.slow_repeat if variant.name in {"zen", "durable"} else args.repeat
        for attempt in range(runs):
            measurement.loads.append(load_average())
            try:
                seconds, peak, report = run_measured(variant, env)
            except RuntimeError as error:
                measurement.note = str(error).splitlines()[0][:200]
                print(f"{variant.name}: {error}", file=sys.stderr)
                break
            if attempt == 0:
                grades = read_grades(out / variant.output, variant.grades_from)
                measurement.identical = grades == reference
                if not measurement.identical:
                    wrong = sum(1 for a, b in zip(grades, reference, strict=False) if a != b)
                    measurement.note = (f"grades differ from the reference ({wrong:,} subjects, "
                                        f"{len(grades):,} vs {len(reference):,} rows): time not counted")
                    print(f"{variant.name}: {measurement.note}", file=sys.stderr)
                    break
            measurement.seconds.append(float(report.get("inner_seconds", seconds)))
            measurement.peak_kb.append(peak)
            print(f"{variant.name}: run {attempt + 1}: {measurement.seconds[-1]:.2f} s, "
                  f"{peak / 1024:.0f} MB", file=sys.stderr)
    compile_ms = compile_time_in_child() * 1000
    print_table(measurements, records, args, compile_ms)
    if args.json:
        args.json.write_text(json.dumps({
            "subjects": args.subjects, "records": records, "machine": machine(),
            "rulebook_load_compile_ms": compile_ms,
            "variants": [{"name": m.variant.name, "label": m.variant.label, "seconds": m.seconds,
                          "median": m.median if m.seconds else None, "peak_mb": max(m.peak_kb) / 1024 if m.peak_kb
                          else None, "load_averages": m.loads, "identical": m.identical, "note": m.note}
                         for m in measurements]}, indent=1))
    return 0


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {load:.2f} at the end")


def print_table(measurements: list[Measurement], records: int, args: argparse.Namespace, compile_ms: float) -> None:
    by_name = {m.variant.name: m for m in measurements}
    parquet = by_name.get("mincredit-parquet")
    jsonl = by_name.get("mincredit-jsonl")
    print(f"\n{args.subjects:,} subjects, {records:,} records; median of {args.repeat} runs "
          f"({args.slow_repeat} for Zen and durable_rules); {machine()}")
    print(f"rulebook load + compile: {compile_ms:.1f} ms (median of 20 in one process, after a first load)\n")
    print("| variant | median s | records/s | peak MB | × mincredit Parquet | × mincredit JSONL | load | grades |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for m in measurements:
        if not m.seconds:
            print(f"| {m.variant.label} | — | — | — | — | — | — | {m.note or 'not run'} |")
            continue
        ratio_p = f"{m.median / parquet.median:.2f}" if parquet and parquet.seconds else "—"
        ratio_j = f"{m.median / jsonl.median:.2f}" if jsonl and jsonl.seconds else "—"
        peak = max(m.peak_kb) / 1024
        load = f"{min(m.loads):.1f}–{max(m.loads):.1f}" if m.loads else "—"
        print(f"| {m.variant.label} | {m.median:.2f} | {records / m.median:,.0f} | {peak:.0f} | {ratio_p} | "
              f"{ratio_j} | {load} | {'identical' if m.identical else m.note} |")


if __name__ == "__main__":
    raise SystemExit(main())
