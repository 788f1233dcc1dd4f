#!/usr/bin/env python3
"""`--engine spark` gives the figures `--engine local` gives (`analyze`, `compare`, `report`,
`memory`, `sessions`).

    python3 tests/engines/check_spark_engine.py RUNLENS_BINARY SYNTHETIC_DATASET_BINARY CLAUDE_CORPUS

Writes a seeded synthetic dataset (examples/synthetic_dataset.rs: 10,000 recorded runs
with three phases each, warm-ups, failed runs, an output file per run, resource samples of
every tenth run, about 1 M LLM calls of five models, one unpriced, 2,000 sessions, labels
`version` and `suite`), then runs each command with `--format json` on both engines (Spark in
local mode, `local[2]`, from the pyspark package):
- `analyze`: every metric; `--by` two keys (a column and a label); `--phase`; a `--filter`
  on a label; the iqr and mad outlier rules, dropping the outliers;
- `report --by model,version --filter suite=nightly` (its analysis: three groupings per
  phase, the sd rule): every figure of every section;
- `compare` of two models of one version, `--phase`: medians, ratio, bootstrap CI (same
  seed), Mann-Whitney p, verdict, exit status;
- `memory --by suite,version --filter suite=nightly`: peaks, growth, slopes, verdicts.
Every row must be there on both sides, every count equal, every figure equal within a
relative 1e-9, and analyze's method (excluded warm-ups and failures, outliers found and
removed) equal. Also: `--approx` states its method and keeps counts and means; Spark missing,
Spark unreachable and a statement Spark rejects each exit 3 with a message naming what
failed.

`sessions` (the per-session listing, and with `--agents` and a window), `sessions --daily`,
and `--daily --by label:KEY` with a window: the
Claude Code corpus (sample-data/generate_claude_code.py) and sample-data/ ingested with a
label, every row equal (counts and token sums exact, cost within 1e-9) and
the same warning about unpriced models. And `analyze --by source --phase` on that
dataset, whose few runs give bootstrap intervals (the values Spark sends back).
"""

import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

MASTER = "local[2]"
# Each outlier rule: sd (the default) in the report below, which analyses `--by model,version`
# per phase with a filter, the other two here.
ANALYSES = [
    ["--by", "provider,suite", "--phase", "--outliers", "iqr", "--drop-outliers"],
    ["--by", "version", "--filter", "suite=nightly", "--outliers", "mad", "--drop-outliers"],
]
# Two models of one version: slower and dearer on some metrics, the same on others; per phase.
COMPARISON = ["--baseline", "model=gpt-4o-mini,version=1.4",
              "--candidate", "model=gpt-4.1,version=1.4", "--phase"]
REPORT = ["--by", "model,version", "--filter", "suite=nightly"]
# Every tenth run has resource samples, which Spark reduces to each run's slope.
MEMORY = ["--by", "suite,version", "--filter", "suite=nightly"]


def fail(message):
    print(f"check_spark_engine: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def runlens(binary, data, *args, expect=0):
    started = time.monotonic()
    done = subprocess.run([binary, "--data", str(data), *args], capture_output=True, text=True)
    if expect is not None and done.returncode != expect:
        fail(f"runlens {' '.join(args)} exited {done.returncode}, not {expect}: {done.stderr[-3000:]}")
    return done, time.monotonic() - started


def analysis(binary, data, args, engine):
    extra = ["--engine", "spark", "--spark-master", MASTER] if engine == "spark" else []
    done, seconds = runlens(binary, data, "analyze", "--format", "json", *args, *extra)
    print(f"  {engine:5} {seconds:6.1f} s  analyze {' '.join(args)}")
    return json.loads(done.stdout)


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) \
            or not isinstance(b, (int, float)):
        return a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


SESSIONS = [
    [],
    ["--agents", "--since", "2026-01-01"],
    ["--daily"],
    ["--daily", "--by", "label:team", "--since", "2026-01-01"],
]


def check_sessions(binary, data):
    for args in SESSIONS:
        outputs = []
        for extra in ([], ["--engine", "spark", "--spark-master", MASTER]):
            done, seconds = runlens(binary, data, "sessions", "--format", "json", *args, *extra)
            warnings = [l for l in done.stderr.splitlines() if l.startswith("warning")]
            outputs.append((json.loads(done.stdout), warnings))
            print(f"  {'spark' if extra else 'local':5} {seconds:6.1f} s  sessions {' '.join(args)}")
        (local, warned_l), (spark, warned_s) = outputs
        if not local:
            fail(f"sessions {' '.join(args)}: no rows to compare")
        if len(local) != len(spark):
            fail(f"sessions {' '.join(args)}: {len(local)} rows locally, {len(spark)} on Spark")
        for i, (a, b) in enumerate(zip(local, spark)):
            for key in sorted(set(a) | set(b)):
                if not same(a.get(key), b.get(key)):
                    fail(f"sessions {' '.join(args)}: row {i} {key}: local {a.get(key)!r} "
                         f"spark {b.get(key)!r}")
        if warned_l != warned_s:
            fail(f"sessions {' '.join(args)}: warnings differ: {warned_l} vs {warned_s}")
        print(f"    {len(local)} rows equal")


def compare(local, spark, label):
    if local["method"] != spark["method"]:
        fail(f"{label}: method differs: local {local['method']} spark {spark['method']}")
    return compare_rows(local["rows"], spark["rows"], label)


def compare_rows(rows_l, rows_s, label):
    if len(rows_l) != len(rows_s):
        fail(f"{label}: {len(rows_l)} rows locally, {len(rows_s)} on Spark")
    for i, (a, b) in enumerate(zip(rows_l, rows_s)):
        for key in sorted(set(a) | set(b)):
            if not same(a.get(key), b.get(key)):
                fail(f"{label}: row {i} ({a.get('metric')}, {a.get('phase')}) {key}: "
                     f"local {a.get(key)!r} spark {b.get(key)!r}")
    return len(rows_l)


def both(binary, data, command, args):
    """`command --format json ARGS` on each engine: (exit status, output) per engine, which
    must exit alike."""
    out = []
    for engine, extra in (("local", []), ("spark", ["--engine", "spark", "--spark-master", MASTER])):
        done, seconds = runlens(binary, data, command, "--format", "json", *args, *extra,
                                expect=None)
        if done.returncode not in (0, 1):
            fail(f"{command} {' '.join(args)} on {engine} exited {done.returncode}: "
                 f"{done.stderr[-3000:]}")
        print(f"  {engine:5} {seconds:6.1f} s  {command} {' '.join(args)}")
        out.append((done.returncode, json.loads(done.stdout)))
    if out[0][0] != out[1][0]:
        fail(f"{command} {' '.join(args)}: exit {out[0][0]} locally, {out[1][0]} on Spark")
    return out[0][1], out[1][1]


def check_comparison(binary, data):
    local, spark = both(binary, data, "compare", COMPARISON)
    rows = compare_rows(local["rows"], spark["rows"], "compare")
    verdicts = {r["verdict"] for r in local["rows"]}
    if rows < 30 or not {"worse", "no significant difference"} <= verdicts:
        fail(f"compare: {rows} rows, verdicts {verdicts}: the data exercise too little")
    for key in ("threshold", "method", "speedup"):
        if local.get(key) != spark.get(key):
            fail(f"compare: {key} differs: {local.get(key)!r} vs {spark.get(key)!r}")
    print(f"    {rows} rows equal (medians, ratio, bootstrap CI, p, verdict); verdicts {sorted(verdicts)}")


def differences(a, b, path):
    """Where two JSON documents differ: counts and text exactly, figures beyond 1e-9."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in list(a) + [k for k in b if k not in a]
                for d in differences(a.get(key), b.get(key), f"{path}.{key}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in differences(x, y, f"{path}[{i}]")]
    return [] if same(a, b) else [f"{path}: local {a!r} spark {b!r}"]


def check_report(binary, data):
    local, spark = both(binary, data, "report", REPORT)
    found = differences(local, spark, "report")
    if found:
        fail("report --format json differs:\n  " + "\n  ".join(found[:20]))
    sections = local.get("sections", {})
    phases = sections.get("phases", {}).get("rows", [])
    if len(phases) < 4:
        fail(f"report: the phases section has {len(phases)} rows: {list(sections)}")
    print(f"    every figure equal: {len(sections)} sections, {len(phases)} phase rows")


def check_memory(binary, data):
    local, spark = both(binary, data, "memory", MEMORY)
    found = differences(local, spark, "memory")
    if found:
        fail("memory --format json differs:\n  " + "\n  ".join(found[:20]))
    rows = local.get("rows", [])
    if len(rows) < 2 or any(r.get("within_run_bytes_per_s") is None for r in rows):
        fail(f"memory: the data exercise too little: {rows}")
    print(f"    {len(rows)} groups equal (peaks, growth, slopes, within-run slopes, verdicts)")


def main():
    binary = str(pathlib.Path(sys.argv[1]).resolve())
    generator = str(pathlib.Path(sys.argv[2]).resolve())
    corpus = pathlib.Path(sys.argv[3]).resolve()
    root = pathlib.Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="runlens-spark-") as work:
        sessions = pathlib.Path(work) / "sessions"
        runlens(binary, sessions, "ingest", str(corpus), str(root / "sample-data"),
                "--label", "team=core", expect=None)
        check_sessions(binary, sessions)
        # The sample data's few runs: intervals that are bootstraps (their values come back).
        args = ["--by", "source", "--phase"]
        local = analysis(binary, sessions, args, "local")
        rows = compare(local, analysis(binary, sessions, args, "spark"), "sample data")
        if not any(r.get("ci95_method") == "bootstrap" for r in local["rows"]):
            fail("the sample data gave no bootstrap interval to compare")
        print(f"    {rows} rows equal, bootstrap intervals among them")
        # --approx: its method stated, counts and means unchanged, percentiles close.
        approx = analysis(binary, sessions, [*args, "--approx"], "spark")
        if "percentile_approx" not in approx["method"]["quantiles"]:
            fail(f"--approx does not say so: {approx['method']['quantiles']}")
        for a, b in zip(local["rows"], approx["rows"]):
            for key in ("n", "mean", "min", "max"):
                if not same(a.get(key), b.get(key)):
                    fail(f"--approx changed {key}: {a.get(key)} vs {b.get(key)}")
            for key in ("p50", "p95", "p99"):
                x, y = a.get(key), b.get(key)
                if (x is None) != (y is None) or (x is not None and not a["min"] <= y <= a["max"]):
                    fail(f"--approx {key} of {a['metric']}: {y} outside the sample [{a['min']}, {a['max']}]")

        data = pathlib.Path(work) / "data"
        subprocess.run([generator, str(data), "10000", "102", "7"], check=True)
        counts = {}
        for table in ("llm_calls", "runs", "phases", "sessions"):
            done, _ = runlens(binary, data, "query", "--format", "json",
                              f"SELECT count(*) AS n FROM {table}")
            counts[table] = json.loads(done.stdout)[0]["n"]
        print(f"  dataset: {counts}")
        if counts["llm_calls"] < 1_000_000 or counts["runs"] < 10_000 or counts["phases"] < 30_000 \
                or counts["sessions"] == 0:
            fail(f"the generated dataset is smaller than asked: {counts}")

        seen_methods = set()
        for args in ANALYSES:
            local = analysis(binary, data, args, "local")
            spark = analysis(binary, data, args, "spark")
            rows = compare(local, spark, " ".join(args))
            method = local["method"]
            if method["warmups_excluded"] == 0 or method["failed_excluded"] == 0 \
                    or method["outliers_found"] == 0:
                fail(f"{' '.join(args)}: the data exercise no warm-up, failure or outlier: {method}")
            metrics = {r["metric"] for r in local["rows"]}
            if len(metrics) < 17:
                fail(f"{' '.join(args)}: only {sorted(metrics)} have rows")
            seen_methods |= {r.get("ci95_method") for r in local["rows"]}
            print(f"    {rows} rows equal; {method}")
        print(f"  intervals seen: {sorted(m for m in seen_methods if m)}")
        check_comparison(binary, data)
        check_report(binary, data)
        check_memory(binary, data)

        # Failures: exit 3 and a message naming what failed.
        done, _ = runlens(binary, data, "analyze", "--engine", "spark", "--spark-sql",
                          "/nonexistent/bin/spark-sql", expect=3)
        if "/nonexistent/bin/spark-sql not found" not in done.stderr:
            fail(f"Spark missing: {done.stderr}")
        done, _ = runlens(binary, data, "analyze", "--engine", "spark", "--spark-master", MASTER,
                          "--spark-root", "file:///nonexistent/runlens-data", expect=3)
        if "spark:" not in done.stderr or "PATH_NOT_FOUND" not in done.stderr:
            fail(f"a statement Spark rejects: {done.stderr}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        done, _ = runlens(binary, data, "analyze", "--engine", "spark", "--spark-master",
                          f"spark://127.0.0.1:{port}", expect=3)
        if f"127.0.0.1:{port}" not in done.stderr or not any(
                word in done.stderr.lower() for word in ("unresponsive", "connect")):
            fail(f"Spark unreachable: {done.stderr}")
        print("check_spark_engine: ok")


if __name__ == "__main__":
    main()
