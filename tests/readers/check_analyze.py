#!/usr/bin/env python3
"""Checks `runlens analyze --format json` against the same aggregates computed by DuckDB
directly on the Parquet files.

    python3 tests/readers/check_analyze.py RUNLENS_BINARY

Builds a dataset from sample-data/ plus a small generated corpus (labelled version=gen, so
groups have dozens of runs and hundreds of calls), one recorded demo run with a warm-up, then
runs `runlens analyze --by source --format json` and `runlens analyze --phase --format json`.
For every row, DuckDB (which shares no code with runlens) computes from the Parquet files: the
count of counted observations, the failed ones, mean, sample standard deviation, min, max and
the 50th / 95th / 99th percentiles with `quantile_cont` (linear interpolation, the method
runlens states). Warm-ups excluded, failed runs (exit code ≠ 0, a signal, timed out,
interrupted) and failed calls (an error_kind) counted apart, phases summed per run for the
`(total)` row. Values must agree to 1e-9 relative. Exits non-zero on the first difference.
"""

import json
import math
import pathlib
import subprocess
import sys
import tempfile

import duckdb

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATS = ["n", "failed", "mean", "stddev", "min", "max", "p50", "p95", "p99"]


def aggregates(con, obs_sql, keys):
    """DuckDB's figures per group of an observations query (keys..., v, failed, warmup)."""
    group = ", ".join(keys)
    counted = "v IS NOT NULL AND NOT failed AND NOT warmup"
    sql = f"""
        SELECT {group},
          count(v) FILTER ({counted}) AS n,
          count(*) FILTER (failed AND NOT warmup) AS failed,
          avg(v) FILTER ({counted}) AS mean,
          stddev_samp(v) FILTER ({counted}) AS stddev,
          min(v) FILTER ({counted}) AS min,
          max(v) FILTER ({counted}) AS max,
          quantile_cont(v, 0.5) FILTER ({counted}) AS p50,
          quantile_cont(v, 0.95) FILTER ({counted}) AS p95,
          quantile_cont(v, 0.99) FILTER ({counted}) AS p99
        FROM ({obs_sql}) GROUP BY {group}"""
    cols = keys + STATS
    return {tuple(r[: len(keys)]): dict(zip(cols, r)) for r in con.execute(sql).fetchall()}


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def main():
    runlens = str(pathlib.Path(sys.argv[1]).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "d"
        corpus = pathlib.Path(tmp) / "corpus"

        def run(*args, ok=(0,)):
            out = subprocess.run([runlens, "--data", str(data), *args], capture_output=True, text=True, cwd=ROOT)
            if out.returncode not in ok:
                sys.exit(f"runlens {' '.join(args)} exited {out.returncode}:\n{out.stderr[-2000:]}")
            return out.stdout

        run("ingest", "sample-data")
        subprocess.run([sys.executable, str(ROOT / "sample-data/generate_corpus.py"), "--out", str(corpus),
                        "--size-mb", "3", "--seed", "11"], check=True, capture_output=True)
        run("ingest", "--label", "version=gen", str(corpus), ok=(0, 1))
        run("record", "--runs", "2", "--warmup", "1", "--hide-output", "--sample-interval", "0", "--",
            "sh", "-c", "sleep 0.05", ok=(0, 1))

        con = duckdb.connect()

        def table(name):
            return f"read_parquet('{data}/{name}/**/*.parquet', hive_partitioning = true, union_by_name = true)"

        run_failed = ("(coalesce(exit_code <> 0, false) OR signal IS NOT NULL OR timed_out OR interrupted)")
        runs_obs = {
            "wall_time": f"SELECT source, wall_ms AS v, {run_failed} AS failed, is_warmup AS warmup FROM {table('runs')}",
            "cpu_time": f"SELECT source, user_ms + sys_ms AS v, {run_failed} AS failed, is_warmup AS warmup FROM {table('runs')}",
            "peak_memory": f"SELECT source, CAST(max_rss_bytes AS DOUBLE) AS v, {run_failed} AS failed, is_warmup AS warmup FROM {table('runs')}",
        }
        call_failed = "error_kind IS NOT NULL"
        calls_obs = {
            name: f"SELECT source, CAST({column} AS DOUBLE) AS v, {call_failed} AS failed, false AS warmup FROM {table('llm_calls')}"
            for name, column in [("ttft", "ttft_ms"), ("output_tokens_per_s", "output_tokens_per_s"),
                                 ("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                                 ("cache_read_tokens", "cache_read_input_tokens"),
                                 ("cache_write_tokens", "cache_creation_input_tokens")]
        }
        phase_join = (f"FROM {table('phases')} p LEFT JOIN (SELECT run_id, is_warmup, {run_failed} AS failed "
                      f"FROM {table('runs')}) r USING (run_id)")
        phases_obs = {
            name: f"SELECT p.phase, CAST(p.{column} AS DOUBLE) AS v, coalesce(r.failed, false) AS failed, "
                  f"coalesce(r.is_warmup, false) AS warmup {phase_join}"
            for name, column in [("phase_time", "duration_ms"), ("phase_input_tokens", "input_tokens"),
                                 ("phase_output_tokens", "output_tokens")]
        }
        # The (total) row of a phase metric: one value per run, the sum of its phases.
        phase_totals = {
            name: f"SELECT 'x' AS k, sum(v) AS v, any_value(failed) AS failed, any_value(warmup) AS warmup "
                  f"FROM ({sql.replace('SELECT p.phase,', 'SELECT p.run_id,')}) GROUP BY run_id"
            for name, sql in phases_obs.items()
        }

        checked = 0
        by_source = json.loads(run("analyze", "--by", "source", "--format", "json"))
        rows = {(r["source"], r["metric"]): r for r in by_source["rows"] if r["phase"] == "(total)"}
        for metric, sql in {**runs_obs, **calls_obs}.items():
            for (source,), want in aggregates(con, sql, ["source"]).items():
                if want["n"] == 0 and want["failed"] == 0:
                    continue
                got = rows.get((source, metric))
                if got is None:
                    sys.exit(f"analyze --by source has no row for {source} {metric}; DuckDB: {want}")
                for stat in STATS:
                    if not close(got[stat], want[stat]):
                        sys.exit(f"{source} {metric} {stat}: runlens {got[stat]}, DuckDB {want[stat]}")
                checked += 1

        per_phase = json.loads(run("analyze", "--phase", "--format", "json"))
        rows = {(r["phase"], r["metric"]): r for r in per_phase["rows"]}
        for metric, sql in phases_obs.items():
            for (phase,), want in aggregates(con, sql, ["phase"]).items():
                if want["n"] == 0 and want["failed"] == 0:
                    continue
                got = rows.get((phase, metric))
                if got is None:
                    sys.exit(f"analyze --phase has no row for {phase} {metric}; DuckDB: {want}")
                for stat in STATS:
                    if not close(got[stat], want[stat]):
                        sys.exit(f"{phase} {metric} {stat}: runlens {got[stat]}, DuckDB {want[stat]}")
                checked += 1
        for metric, sql in phase_totals.items():
            want = aggregates(con, sql, ["k"])[("x",)]
            got = rows[("(total)", metric)]
            for stat in STATS:
                if not close(got[stat], want[stat]):
                    sys.exit(f"(total) {metric} {stat}: runlens {got[stat]}, DuckDB {want[stat]}")
            checked += 1
        warmups = per_phase["method"]["warmups_excluded"]
        if warmups < 1:
            sys.exit(f"the recorded warm-up was not excluded: {per_phase['method']}")
    print(f"check_analyze: ok: {checked} rows of analyze equal DuckDB's aggregates on the Parquet files")


if __name__ == "__main__":
    main()
