#!/usr/bin/env python3
"""Runs the views `runlens sql --dialect D` prints in that engine and checks them against
`runlens query` on the same dataset.

    python3 tests/engines/check_views.py RUNLENS_BINARY duckdb|spark ...

Builds a dataset in a temporary folder from sample-data/ (two ingests with different label
keys; a Claude Code transcript stored twice, before and after it grew, so `session_agents`
must pick the later version), then leaves on disk what a plain glob would count wrongly:
files a compaction replaced (not vacuumed) and an uncommitted copy of a data file. For each
dialect it executes every printed statement in the engine (DuckDB from PyPI; Spark in
local mode from the pyspark package) and compares, with `runlens query`:
- every table's row count, and per `date`;
- llm_calls per model: count and the sums of the four token columns;
- the label columns: rows per `label_team` and `label_suite` of llm_calls and runs;
- `session_agents` and `sessions` (the agents folded in): per session its agent, model,
  counts, tokens, start and last activity (epoch microseconds), status and finding codes.
Exits non-zero with a message on the first mismatch.
"""

import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLES = ["runs", "phases", "samples", "llm_calls", "sessions", "session_agents",
          "tool_calls", "bench_results", "artifacts", "ingest_log"]


def fail(message):
    print(f"check_views: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(binary, data, *args):
    done = subprocess.run([binary, "--data", str(data), *args], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        fail(f"runlens {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def build_dataset(binary, work):
    data = work / "data"
    run(binary, data, "ingest", str(ROOT / "sample-data" / "latency"), "--label", "suite=latency")
    run(binary, data, "ingest", str(ROOT / "sample-data"), "--label", "team=core")
    # A transcript stored twice: first a prefix of it, then all of it.
    source = next((ROOT / "sample-data" / "sessions" / "claude-code").rglob("*.jsonl"))
    grown = work / "grown" / "projects" / "-home-dev-grown"
    grown.mkdir(parents=True)
    lines = source.read_text().splitlines(keepends=True)
    target = grown / "aaaaaaaa-1111-4222-8333-444444444444.jsonl"
    target.write_text("".join(lines[: max(2, len(lines) // 2)]))
    run(binary, data, "ingest", str(work / "grown"), "--label", "team=grown")
    target.write_text("".join(lines).replace(
        "3f1c2a4e-7b9d-4c1e-9a2f-5d6e7f8a9b0c", "aaaaaaaa-1111-4222-8333-444444444444"))
    run(binary, data, "ingest", str(work / "grown"), "--label", "team=grown")
    # What only the commit log tells apart: replaced files and a file no commit names.
    run(binary, data, "compact")
    calls = sorted((data / "llm_calls").rglob("*.parquet"))
    if not calls:
        fail("no llm_calls file was written")
    shutil.copy(calls[0], calls[0].with_name("part-uncommitted-0.parquet"))
    return data


def checks():
    """(name, SQL) pairs every engine and runlens query answer; rows are compared sorted."""
    tokens = ", ".join(f"SUM({c})" for c in
                       ["input_tokens", "output_tokens", "cache_read_input_tokens",
                        "cache_creation_input_tokens"])
    session_columns = ("session_id, source_format, agent_id, model, message_count, tool_calls, "
                       "tool_errors, input_tokens, output_tokens, cache_read_input_tokens, "
                       "validation_status, findings, source_path")
    out = [(f"rows of {t}", f"SELECT COUNT(*) FROM {t}") for t in TABLES]
    out += [(f"rows of {t} per date", f"SELECT CAST(date AS VARCHAR), COUNT(*) FROM {t} GROUP BY 1")
            for t in ["runs", "llm_calls", "sessions"]]
    out += [
        ("llm_calls per model", f"SELECT COALESCE(response_model, request_model), COUNT(*), {tokens} "
         "FROM llm_calls GROUP BY 1"),
        ("llm_calls per label", "SELECT label_team, label_suite, COUNT(*) FROM llm_calls GROUP BY 1, 2"),
        ("runs per label", "SELECT label_team, COUNT(*), SUM(wall_ms) FROM runs GROUP BY 1"),
        ("session agents", f"SELECT {session_columns} FROM session_agents"),
        ("sessions", f"SELECT {session_columns}, label_team FROM sessions"),
    ]
    return out


def session_times():
    return ("SELECT session_id, {start}, {last} FROM sessions",
            "started_ts", "last_activity_ts")


def normalise(rows):
    def cell(v):
        if v is None:
            return None
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            return float(v)
        return str(v)
    return sorted((tuple(cell(v) for v in row) for row in rows), key=repr)


def runlens_rows(binary, data, sql):
    text = run(binary, data, "query", "--format", "json", sql)
    rows = json.loads(text) if text.strip() else []
    return [list(r.values()) for r in rows]


def statements(binary, data, dialect):
    text = run(binary, data, "sql", "--dialect", dialect)
    out = []
    for block in text.split("\n\n"):
        body = "\n".join(l for l in block.splitlines() if not l.startswith("--")).strip()
        if body:
            out.append(body.rstrip(";"))
    if len(out) < len(TABLES):
        fail(f"{dialect}: only {len(out)} statements printed")
    return out


class DuckDb:
    name = "duckdb"
    epoch = "epoch_us({c})"

    def __init__(self):
        import duckdb
        self.con = duckdb.connect()

    def execute(self, sql):
        self.con.execute(sql)

    def rows(self, sql):
        return self.con.sql(sql).fetchall()

    def close(self):
        self.con.close()


class Spark:
    name = "spark"
    epoch = "unix_micros({c})"

    def __init__(self):
        from pyspark.sql import SparkSession
        self.spark = (SparkSession.builder.master("local[2]").appName("runlens-views")
                      .config("spark.ui.enabled", "false")
                      .config("spark.ui.showConsoleProgress", "false")
                      .config("spark.sql.session.timeZone", "UTC")
                      .config("spark.driver.bindAddress", "127.0.0.1")
                      .config("spark.driver.host", "127.0.0.1")
                      .getOrCreate())
        self.spark.sparkContext.setLogLevel("ERROR")

    def execute(self, sql):
        self.spark.sql(sql).collect()

    def rows(self, sql):
        return [tuple(r) for r in self.spark.sql(sql.replace("AS VARCHAR", "AS STRING")).collect()]

    def close(self):
        self.spark.stop()


def check_documented_pyspark_reader(data, committed_calls):
    """docs/dataset-format.md's PySpark replay of the commit log, run as written but for its
    root, counts the committed calls."""
    import re
    text = (ROOT / "docs" / "dataset-format.md").read_text()
    match = re.search(r"\*\*Spark\*\* \(PySpark.*?```python\n(.*?)```", text, re.S)
    if not match:
        fail("docs/dataset-format.md has no PySpark reader")
    code = match.group(1)
    if 'root = "s3a://bench/nightly"' not in code:
        fail("the PySpark reader's root line changed: update this check")
    code = code.replace('root = "s3a://bench/nightly"', f'root = "file://{data}"')
    from pyspark.sql import SparkSession
    scope = {"spark": SparkSession.getActiveSession()}
    exec(code, scope)  # noqa: S102 - the documented statement itself
    counted = scope["calls"].count()
    if counted != committed_calls:
        fail(f"the documented PySpark reader counts {counted} calls, runlens {committed_calls}")


def main():
    if len(sys.argv) < 3:
        fail("usage: check_views.py RUNLENS_BINARY duckdb|spark ...")
    binary = str(pathlib.Path(sys.argv[1]).resolve())
    engines = {"duckdb": DuckDb, "spark": Spark}
    with tempfile.TemporaryDirectory() as tmp:
        data = build_dataset(binary, pathlib.Path(tmp))
        expected = {name: normalise(runlens_rows(binary, data, sql)) for name, sql in checks()}
        if expected["rows of llm_calls"][0][0] == 0 or expected["rows of sessions"][0][0] < 2:
            fail(f"the dataset is too small to test anything: {expected}")
        # The traps are there: a plain read of the folder counts replaced and uncommitted rows.
        import pyarrow.dataset as ds
        on_disk = ds.dataset(data / "llm_calls", format="parquet", partitioning="hive").count_rows()
        if on_disk <= expected["rows of llm_calls"][0][0]:
            fail(f"the folder holds no more rows ({on_disk}) than the commits: nothing to tell apart")
        if expected["rows of session_agents"] == expected["rows of sessions"]:
            fail("no session has more than one agent: the fold is not exercised")
        times_sql, start, last = session_times()
        expected_times = normalise(runlens_rows(
            binary, data, times_sql.format(start=f"CAST({start} AS BIGINT)",
                                           last=f"CAST({last} AS BIGINT)")))
        for dialect in sys.argv[2:]:
            engine = engines[dialect]()
            try:
                for statement in statements(binary, data, dialect):
                    try:
                        engine.execute(statement)
                    except Exception as e:  # noqa: BLE001 - the engine's own error, shown
                        fail(f"{dialect} rejected:\n{statement[:2000]}\n{e}")
                for name, sql in checks():
                    got = normalise(engine.rows(sql))
                    if got != expected[name]:
                        fail(f"{dialect}: {name}: {got} != runlens query's {expected[name]}")
                got = normalise(engine.rows(times_sql.format(
                    start=engine.epoch.format(c=start), last=engine.epoch.format(c=last))))
                if got != expected_times:
                    fail(f"{dialect}: session times {got} != {expected_times}")
                if dialect == "spark":
                    check_documented_pyspark_reader(data, expected["rows of llm_calls"][0][0])
            finally:
                engine.close()
            print(f"check_views: {dialect}: {len(checks()) + 1} checks equal runlens query's "
                  f"({expected['rows of llm_calls'][0][0]:.0f} calls, "
                  f"{expected['rows of sessions'][0][0]:.0f} sessions)")


if __name__ == "__main__":
    main()
