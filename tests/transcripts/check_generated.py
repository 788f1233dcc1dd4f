#!/usr/bin/env python3
"""Checks runlens's counts and token totals on a generated transcript corpus against the
generator's own figures.

    python3 sample-data/generate_transcripts.py --out CORPUS --size-mb 24 --seed 3
    python3 tests/transcripts/check_generated.py RUNLENS_BINARY CORPUS

The generator writes CORPUS.expected.json with, per format, the sessions, LLM calls, tool
calls, hollow sessions and token sums it wrote (computed in Python from the numbers it put
in the files, not by runlens's code). runlens ingests the corpus into a temporary dataset;
per format, its sessions, calls, tool calls, sessions that called no tool (`zero_tool_calls`
where tools were expected, `no_tool_calls` where only offered) and the five token
buckets (summed over `llm_calls`, and again over `sessions`) must equal them, and no file or
line may be rejected. Exits non-zero on the first difference, printing it.
"""

import json
import subprocess
import sys
import tempfile

BUCKETS = ["input_tokens", "output_tokens", "cache_read_input_tokens",
           "cache_creation_input_tokens", "reasoning_tokens"]


def query(runlens, data, sql):
    out = subprocess.run([runlens, "--data", data, "query", sql, "--format", "json"],
                         check=True, capture_output=True, text=True)
    return {row["format"]: row for row in json.loads(out.stdout)}


def main():
    runlens, corpus = sys.argv[1], sys.argv[2].rstrip("/")
    with open(corpus + ".expected.json") as f:
        expected = json.load(f)
    with tempfile.TemporaryDirectory() as data:
        ingest = subprocess.run([runlens, "--data", data, "ingest", corpus], capture_output=True, text=True)
        if ingest.returncode != 0 or "0 rejected; 0 with rejected lines" not in ingest.stdout:
            print(ingest.stdout[-3000:], ingest.stderr[-3000:])
            sys.exit(f"ingest of {corpus} was not clean (exit {ingest.returncode})")
        sums = ", ".join(f"SUM(c.{b}) AS {b}" for b in BUCKETS)
        calls = query(runlens, data, f"SELECT s.source_format AS format, COUNT(*) AS llm_calls, {sums} "
                                     "FROM llm_calls c JOIN sessions s ON c.session_id = s.session_id "
                                     "GROUP BY s.source_format")
        sessions = query(runlens, data,
                         "SELECT source_format AS format, COUNT(*) AS sessions, SUM(tool_calls) AS tool_calls, "
                         "SUM(CASE WHEN findings LIKE '%zero_tool_calls%' OR findings LIKE '%no_tool_calls%' "
                         "THEN 1 ELSE 0 END) AS hollow_sessions, "
                         "SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, "
                         "SUM(cache_read_input_tokens) AS cache_read_input_tokens, "
                         "SUM(cache_creation_input_tokens) AS cache_creation_input_tokens "
                         "FROM sessions GROUP BY source_format")
        tools = query(runlens, data, "SELECT s.source_format AS format, COUNT(*) AS tool_rows "
                                     "FROM tool_calls t JOIN sessions s ON t.session_id = s.session_id "
                                     "GROUP BY s.source_format")
    failures = 0
    for fmt, want in sorted(expected.items()):
        got = {**calls.get(fmt, {}), **sessions.get(fmt, {})}
        got["tool_rows"] = tools.get(fmt, {}).get("tool_rows", 0)
        checks = [(k, want[k], got.get(k)) for k in ["sessions", "llm_calls", "tool_calls", "hollow_sessions"] + BUCKETS]
        checks.append(("tool_calls rows", want["tool_calls"], got["tool_rows"]))
        # The sessions table's sums agree with the calls' sums.
        checks += [(f"sessions.{b}", calls.get(fmt, {}).get(b) or 0, got.get(b) or 0) for b in BUCKETS[:4]]
        for name, w, g in checks:
            if (w or 0) != (g or 0):
                print(f"{fmt}: {name}: expected {w}, runlens {g}")
                failures += 1
        print(f"{fmt}: {want['sessions']} sessions, {want['llm_calls']} calls, {want['tool_calls']} tool calls: "
              f"{'ok' if failures == 0 else 'DIFFERENT'}")
    if failures:
        sys.exit(f"{failures} difference(s)")


if __name__ == "__main__":
    main()
