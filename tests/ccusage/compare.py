#!/usr/bin/env python3
"""Checks runlens's Claude Code token totals against ccusage's on the same corpus.

    python3 tests/ccusage/compare.py RUNLENS_BINARY CCUSAGE_BINARY CORPUS_DIR

CORPUS_DIR holds `projects/<project>/<session>.jsonl` (as ~/.claude does; generate one with
sample-data/generate_claude_code.py). runlens ingests it into a temporary dataset and
prints `sessions --daily` and `sessions` as JSON; ccusage reads it through CLAUDE_CONFIG_DIR
(`claude daily` and `claude session`, `--json --offline --timezone UTC`). For every day
and every session the four token buckets (input, output, cache read, cache write) must be
equal. Install ccusage with its native binary package of the same version:

    npm install ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24

Exits non-zero on the first difference, printing it.
"""

import json
import os
import subprocess
import sys
import tempfile

BUCKETS = [("input_tokens", "inputTokens"), ("output_tokens", "outputTokens"),
           ("cache_read_tokens", "cacheReadTokens"), ("cache_write_tokens", "cacheCreationTokens")]


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def compare(kind, ours, theirs):
    if set(ours) != set(theirs):
        only_ours, only_theirs = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
        sys.exit(f"{kind}: keys differ: only runlens {only_ours[:5]}, only ccusage {only_theirs[:5]}")
    for key in sorted(ours):
        for mine, other in BUCKETS:
            a, b = ours[key].get(mine) or 0, theirs[key].get(other) or 0
            if a != b:
                sys.exit(f"{kind} {key}: {mine} runlens {a} != ccusage {b}")
    print(f"{kind}: {len(ours)} equal on all four token buckets")


def main():
    runlens, ccusage, corpus = sys.argv[1:4]
    env = dict(os.environ, CLAUDE_CONFIG_DIR=corpus, TZ="UTC")
    flags = ["--json", "--offline", "--timezone", "UTC"]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        subprocess.run([runlens, "--data", data, "ingest", corpus], check=True, stdout=subprocess.DEVNULL)
        daily = run_json([runlens, "--data", data, "sessions", "--daily", "--format", "json"])
        sessions = run_json([runlens, "--data", data, "sessions", "--format", "json"])
    their_daily = run_json([ccusage, "claude", "daily", *flags], env)["daily"]
    their_sessions = run_json([ccusage, "claude", "session", *flags], env)["sessions"]
    compare("days", {d["day"]: d for d in daily}, {d["date"]: d for d in their_daily})
    compare("sessions", {s["session_id"]: s for s in sessions}, {s["sessionId"]: s for s in their_sessions})


if __name__ == "__main__":
    main()
