#!/usr/bin/env python3
"""runlens against real /usr/bin/time reports in ../shared/realworld, read here without
runlens:

- gnu-time/*.out (GNU `time -v` blocks in SLURM logs, after program output or a traceback):
  each block's elapsed time (h:mm:ss or m:ss), user and system seconds, maximum resident
  set size (KiB) and exit status;
- bsd-time/*.md (macOS `time -l` blocks in a Markdown file, one starting mid-line after a
  Go benchmark name): real, user and sys seconds and maximum resident set size (bytes).

    python3 tests/realworld/check_time.py target/debug/runlens ../shared/realworld

Each file is ingested on its own; its runs (in order) must carry the figures as printed:
wall/user/sys in ms, max_rss_bytes, exit_code. Exit 1 on the first difference.
"""

import csv
import io
import pathlib
import re
import subprocess
import sys
import tempfile

GNU_FIELDS = {
    "User time (seconds)": "user",
    "System time (seconds)": "sys",
    "Elapsed (wall clock) time (h:mm:ss or m:ss)": "wall",
    "Maximum resident set size (kbytes)": "rss_kib",
    "Exit status": "exit",
}
BSD_TIMES = re.compile(r"([\d.]+) real\s+([\d.]+) user\s+([\d.]+) sys")
BSD_RSS = re.compile(r"^\s*(\d+)\s+maximum resident set size")


def clock(text):
    """h:mm:ss or m:ss(.ff) as seconds."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def gnu_blocks(path):
    blocks, block = [], None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if "Command being timed:" in line:
            block = {}
            blocks.append(block)
            continue
        if block is None:
            continue
        key, _, value = line.strip().partition(": ")
        if key in GNU_FIELDS:
            block[GNU_FIELDS[key]] = value.strip()
    return [{"wall_ms": round(clock(b["wall"]) * 1000, 3),
             "user_ms": round(float(b["user"]) * 1000, 3),
             "sys_ms": round(float(b["sys"]) * 1000, 3),
             "max_rss_bytes": int(b["rss_kib"]) * 1024,
             "exit_code": int(b["exit"])} for b in blocks]


def bsd_blocks(path):
    runs = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = BSD_TIMES.search(line)
        if m:
            runs.append({"wall_ms": round(float(m[1]) * 1000, 3), "user_ms": round(float(m[2]) * 1000, 3),
                         "sys_ms": round(float(m[3]) * 1000, 3)})
            continue
        m = BSD_RSS.match(line)
        if m and runs and "max_rss_bytes" not in runs[-1]:
            runs[-1]["max_rss_bytes"] = int(m[1])
    return runs


def runlens_runs(runlens, path, keys):
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "d"
        out = subprocess.run([runlens, "--data", str(data), "ingest", str(path)], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"check_time: {path.name}: ingest exit {out.returncode}\n{out.stdout}{out.stderr}")
        sql = f"select {', '.join(keys)} from runs order by source_line"
        text = subprocess.run([runlens, "--data", str(data), "query", "--format", "csv", sql],
                              capture_output=True, text=True, check=True).stdout
    rows = []
    for r in csv.DictReader(io.StringIO(text)):
        rows.append({k: (int(v) if k in ("max_rss_bytes", "exit_code") else round(float(v), 3)) for k, v in r.items()})
    return rows


def main():
    runlens, shared = sys.argv[1], pathlib.Path(sys.argv[2])
    checked = runs = 0
    for folder, pattern, read in [("gnu-time", "*.out", gnu_blocks), ("bsd-time", "*.md", bsd_blocks)]:
        for path in sorted((shared / folder).glob(pattern)):
            want = read(path)
            keys = list(want[0]) if want else ["wall_ms"]
            got = runlens_runs(runlens, path, keys)
            if got != want:
                for i, (g, w) in enumerate(zip(got, want)):
                    if g != w:
                        print(f"  run {i}: runlens {g}, printed {w}")
                sys.exit(f"check_time: {folder}/{path.name}: {len(got)} runs from runlens, {len(want)} printed")
            checked += 1
            runs += len(want)
    print(f"check_time: ok: {runs} runs in {checked} real time reports carry the figures as printed")


if __name__ == "__main__":
    main()
