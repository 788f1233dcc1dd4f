#!/usr/bin/env python3
"""runlens against the real hyperfine exports in ../shared/realworld/hyperfine.

    python3 tests/realworld/check_hyperfine.py target/debug/runlens ../shared/realworld

Every `*.json` and `*.md` file there is ingested into a fresh dataset; the figures are then
read back with `runlens query` and compared with what the files themselves say, read here
without runlens: the JSON's seconds (x 1000) and the Markdown table's printed numbers in its
header's unit. Exit 1 on the first difference; 0 with a summary line otherwise; a missing
folder is reported and skipped (exit 0), for checkouts without the shared folder.
"""

import csv
import io
import json
import math
import pathlib
import subprocess
import sys
import tempfile

UNITS_MS = {"s": 1000.0, "ms": 1.0, "µs": 1e-3, "us": 1e-3, "ns": 1e-6}


def expected_json(path):
    for r in json.load(open(path))["results"]:
        yield r["command"], [None if r.get(k) is None else r[k] * 1000 for k in ("mean", "stddev", "min", "max")]


def cells(line):
    inner = line.strip()[1:-1]
    return [c.strip().replace("\\|", "|") for c in inner.replace("\\|", "\0").split("|")]


def expected_markdown(path):
    unit = None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("| Command | Mean ["):
            unit = UNITS_MS[line.split("Mean [", 1)[1].split("]", 1)[0]]
            continue
        if unit is None or not line.startswith("|") or set(line) <= set("|:- "):
            continue
        command, mean, low, high, _relative = [c.replace("\0", "|") for c in cells(line)]
        value, _, sd = mean.partition("±")
        yield command.strip("`"), [float(value) * unit, float(sd) * unit if sd else None,
                                   float(low) * unit, float(high) * unit]


def main():
    runlens, shared = sys.argv[1], pathlib.Path(sys.argv[2]) / "hyperfine"
    if not shared.is_dir():
        print(f"check_hyperfine: {shared} not found, skipped")
        return
    files = sorted(p for p in shared.iterdir() if p.suffix in (".json", ".md"))
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "d"
        for f in files:
            out = subprocess.run([runlens, "--data", str(data), "ingest", str(f)], capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"check_hyperfine: {f.name}: runlens ingest exit {out.returncode}\n{out.stdout}{out.stderr}")
            sql = ("select name, mean_ms, stddev_ms, min_ms, max_ms from bench_results "
                   f"where source_path like '%{f.name}' order by result_index")
            got = subprocess.run([runlens, "--data", str(data), "query", "--format", "csv", sql],
                                 capture_output=True, text=True, check=True).stdout
            rows = list(csv.reader(io.StringIO(got)))[1:]
            want = list(expected_json(f) if f.suffix == ".json" else expected_markdown(f))
            if len(rows) != len(want):
                sys.exit(f"check_hyperfine: {f.name}: runlens has {len(rows)} results, the file {len(want)}")
            for row, (command, figures) in zip(rows, want):
                # runlens redacts secrets in commands; these files have none.
                if row[0] != command:
                    sys.exit(f"check_hyperfine: {f.name}: command {row[0]!r}, the file says {command!r}")
                for name, cell, value in zip(("mean", "stddev", "min", "max"), row[1:], figures):
                    if value is None:
                        if cell != "":
                            sys.exit(f"check_hyperfine: {f.name} {command}: {name} {cell}, the file has none")
                        continue
                    if not math.isclose(float(cell), value, rel_tol=1e-9, abs_tol=1e-9):
                        sys.exit(f"check_hyperfine: {f.name} {command}: {name} {cell} ms, the file says {value} ms")
                checked += 1
    print(f"check_hyperfine: ok: {checked} results in {len(files)} real hyperfine exports equal the files' own figures")


if __name__ == "__main__":
    main()
