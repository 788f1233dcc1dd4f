#!/usr/bin/env python3
"""Reads a runlens dataset with two independent Parquet readers and checks the contract.

    python3 tests/readers/check_dataset.py RUNLENS_BINARY

Builds a dataset from sample-data/ and one recorded run of the demo workflow (it misses
one expected output on purpose) with the given runlens binary, then, with pyarrow and
with DuckDB (neither shares code with the Rust writer):
- every table folder reads as a hive-partitioned dataset with a `date` column;
- every file carries runlens.schema_version in its key-value metadata;
- column names, order, types and nullability equal the generated reference in
  docs/schema.md;
- row counts agree between pyarrow, DuckDB and `runlens query`;
- a few values read by DuckDB equal the ones written (labels map, list of run times).
Exits non-zero with a message on the first mismatch.
"""

import pathlib
import re
import subprocess
import sys
import tempfile

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq

ROOT = pathlib.Path(__file__).resolve().parents[2]
TYPE_NAMES = {
    "string": "string",
    "large_string": "string",
    "int64": "int64",
    "int32": "int32",
    "double": "float64",
    "bool": "bool",
    "timestamp[us, tz=UTC]": "timestamp[us, UTC]",
    "list<item: double>": "list<float64>",
    "list<element: double>": "list<float64>",
    "list<item: int64>": "list<int64>",
    "list<element: int64>": "list<int64>",
    "map<string, string>": "map<string, string>",
}


def fail(message):
    print(f"check_dataset: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def documented_schema_version():
    """The version docs/schema.md says it describes ("describes **schema version N**")."""
    text = (ROOT / "docs" / "schema.md").read_text()
    match = re.search(r"describes \*\*schema version (\d+)\*\*", text)
    if not match:
        fail("docs/schema.md does not say which schema version it describes")
    return match.group(1).encode()


def documented_columns():
    """{table: [(name, type, nullable)]} from the generated part of docs/schema.md."""
    text = (ROOT / "docs" / "schema.md").read_text()
    generated = text.split("<!-- BEGIN GENERATED COLUMNS -->")[1].split("<!-- END GENERATED COLUMNS -->")[0]
    tables, current = {}, None
    for line in generated.splitlines():
        heading = re.match(r"### `(\w+)`", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
            continue
        row = re.match(r"\| `(\w+)` \| ([^|]+) \| (yes|no) \|", line)
        if row and current:
            tables[current].append((row.group(1), row.group(2).strip(), row.group(3) == "yes"))
    return tables


def arrow_type_name(t):
    name = str(t)
    if name.startswith("map<"):
        return "map<string, string>"
    return TYPE_NAMES.get(name, name)


def runlens_count(binary, data, table):
    out = subprocess.run(
        [binary, "--data", str(data), "query", "--format", "csv", f"select count(*) as n from {table}"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout
    return int(out.splitlines()[1])


def main():
    if len(sys.argv) != 2:
        fail("usage: check_dataset.py RUNLENS_BINARY")
    binary = str(pathlib.Path(sys.argv[1]).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "data"
        subprocess.run([binary, "--data", str(data), "ingest", "--label", "provider=demo",
                        "sample-data"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        # The recorder writes the tables ingest does not (samples, artifacts).
        out = pathlib.Path(tmp) / "out"
        subprocess.run([binary, "--data", str(data), "record", "--runs", "1", "--hide-output",
                        "--label", "provider=demo", "--expect", "report.md", "--expect", "missing.txt",
                        "--output-dir", str(out), "--", "sample-data/workflow/demo-workflow.sh",
                        str(out), "0.2"], check=False, cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        version = documented_schema_version()
        docs = documented_columns()
        con = duckdb.connect()
        checked = 0
        for table, columns in docs.items():
            folder = data / table
            files = sorted(folder.glob("date=*/*.parquet"))
            if not files:
                continue
            for f in files:
                meta = pq.read_metadata(f).metadata or {}
                if meta.get(b"runlens.schema_version") != version:
                    fail(f"{f} lacks runlens.schema_version={version.decode()} (has {meta.get(b'runlens.schema_version')})")
            dataset = ds.dataset(folder, format="parquet", partitioning="hive")
            schema = dataset.schema
            got = [(f.name, arrow_type_name(f.type), f.nullable) for f in schema if f.name != "date"]
            if got != columns:
                for a, b in zip(got, columns):
                    if a != b:
                        fail(f"{table}: file column {a} differs from docs/schema.md {b}")
                fail(f"{table}: {len(got)} columns in files, {len(columns)} in docs/schema.md")
            if "date" not in schema.names:
                fail(f"{table}: hive partition column 'date' missing")
            arrow_rows = dataset.count_rows()
            duck_rows = con.execute(
                f"select count(*) from read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
            ).fetchone()[0]
            # runlens reads `sessions` as one row per session, its agents folded in, and
            # `session_agents` as the stored rows (one per agent; nothing was ingested twice).
            ours = runlens_count(binary, data, "session_agents" if table == "sessions" else table)
            if not (arrow_rows == duck_rows == ours):
                fail(f"{table}: pyarrow {arrow_rows}, DuckDB {duck_rows}, runlens {ours} rows")
            if table == "sessions":
                duck_sessions = con.execute(
                    f"select count(distinct (session_id, source_format)) from read_parquet('{folder}/**/*.parquet')"
                ).fetchone()[0]
                folded = runlens_count(binary, data, "sessions")
                if duck_sessions != folded:
                    fail(f"sessions: DuckDB {duck_sessions} distinct sessions, runlens {folded}")
            checked += 1
        provider = con.execute(
            f"select distinct labels['provider'] from read_parquet('{data}/runs/**/*.parquet')"
        ).fetchall()
        if provider != [("demo",)]:
            fail(f"DuckDB reads labels['provider'] as {provider}, expected demo")
        times = con.execute(
            f"select len(times_ms) from read_parquet('{data}/bench_results/**/*.parquet') "
            "where name = 'sleep 0.05'"
        ).fetchone()
        if times != (5,):
            fail(f"DuckDB reads {times} run times for 'sleep 0.05', expected 5")
        if checked < 5:
            fail(f"only {checked} tables had files; sample-data should fill at least 5")
        print(f"check_dataset: ok: {checked} tables read by pyarrow and DuckDB match docs/schema.md and runlens")


if __name__ == "__main__":
    main()
