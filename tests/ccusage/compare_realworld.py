#!/usr/bin/env python3
"""runlens's `sessions --daily` against ccusage's `claude daily` on real Claude Code files
(../shared/realworld/claude-code: main sessions, a sub-agent file, Bedrock transcripts).

    python3 tests/ccusage/compare_realworld.py RUNLENS_BINARY CCUSAGE_BINARY REALWORLD_DIR

The files are copied into a temporary `projects/` folder that ccusage reads through
CLAUDE_CONFIG_DIR (it does not follow symbolic links); runlens ingests the same folder.

The two agree on every day but one kind of line: an assistant response written as several
lines *without a `requestId`* (Bedrock and Vertex transcripts carry none). ccusage
deduplicates only on `message.id:requestId`, so it counts every such line's usage; runlens
counts the response once (its largest usage). This script computes that surplus from the
files themselves (per day: the sum of all copies minus the largest copy of each such
response) and requires, for every day and each of the four buckets,

    ccusage = runlens + surplus

so a difference of any other origin fails. Exit 1 on the first mismatch.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

BUCKETS = [("input_tokens", "inputTokens", "input_tokens"),
           ("output_tokens", "outputTokens", "output_tokens"),
           ("cache_read_tokens", "cacheReadTokens", "cache_read_input_tokens"),
           ("cache_write_tokens", "cacheCreationTokens", "cache_creation_input_tokens")]


def surplus_per_day(folder):
    """Per UTC day, the usage ccusage adds by counting every copy of responses that have no
    requestId: all copies summed, minus the largest (the one runlens keeps)."""
    copies = defaultdict(list)
    for path in sorted(folder.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            m = e.get("message") or {}
            if e.get("type") != "assistant" or not m.get("id") or e.get("requestId"):
                continue
            u = m.get("usage")
            if u:
                copies[(e.get("sessionId"), m["id"])].append((e.get("timestamp", "")[:10], u))
    surplus = defaultdict(lambda: defaultdict(int))
    for group in copies.values():
        size = lambda c: sum(c[1].get(k) or 0 for _, _, k in BUCKETS)
        kept = max(group, key=size)
        for c in group:
            if c is kept:
                continue
            for _, _, key in BUCKETS:
                surplus[c[0]][key] += c[1].get(key) or 0
    return surplus


def main():
    runlens, ccusage, shared = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    source = shared / "claude-code"
    if not source.is_dir():
        print(f"compare_realworld: {source} not found, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        projects = pathlib.Path(tmp) / "config" / "projects" / "realworld"
        shutil.copytree(source, projects)
        env = dict(os.environ, CLAUDE_CONFIG_DIR=str(projects.parent.parent), TZ="UTC")
        theirs = json.loads(subprocess.run(
            [ccusage, "claude", "daily", "--json", "--offline", "--timezone", "UTC"],
            check=True, capture_output=True, text=True, env=env).stdout)["daily"]
        data = pathlib.Path(tmp) / "data"
        subprocess.run([runlens, "--data", str(data), "ingest", str(projects)], check=True,
                       capture_output=True)
        ours = json.loads(subprocess.run(
            [runlens, "--data", str(data), "sessions", "--daily", "--format", "json"],
            check=True, capture_output=True, text=True).stdout)
        surplus = surplus_per_day(projects)
    ours = {d["day"]: d for d in ours}
    theirs = {d["date"]: d for d in theirs}
    if set(ours) != set(theirs):
        sys.exit(f"compare_realworld: days differ: runlens {sorted(ours)}, ccusage {sorted(theirs)}")
    explained = 0
    for day in sorted(ours):
        for mine, other, key in BUCKETS:
            a, b, extra = ours[day].get(mine) or 0, theirs[day].get(other) or 0, surplus[day][key]
            if a + extra != b:
                sys.exit(f"compare_realworld: {day} {mine}: runlens {a} + repeated lines {extra} != ccusage {b}")
            explained += extra
    print(f"compare_realworld: {len(ours)} days equal to ccusage's on all four buckets once the "
          f"{explained} tokens ccusage counts again (response lines without requestId) are set aside")


if __name__ == "__main__":
    main()
