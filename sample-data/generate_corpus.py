#!/usr/bin/env python3
"""Writes a seeded corpus of every input format runlens ingests, at any size.

Used by the benchmarks (docs/benchmarks.md) and for trying runlens on realistic volumes:

    python3 sample-data/generate_corpus.py --out /tmp/corpus --size-mb 1024 --seed 42

The mix by bytes: ~60 % workflow run logs (phase markers, timestamps, token counts, tool
chatter, a GNU `time -v` report per run), ~22 % latency CSVs, ~10 % hyperfine exports,
~4 % benchmark suite JSON, plus 10 small `/usr/bin/time` outputs per MB (the many-small-
files case). The same seed
gives the same bytes. Only the standard library is used.
"""

import argparse
import datetime
import json
import os
import random

PROVIDERS = [
    ("ollama", ["llama3.2:3b", "qwen2.5:7b", "mistral-small"]),
    ("anthropic", ["claude-sonnet-4-5", "claude-haiku-4-5"]),
    ("openai", ["gpt-4o-mini", "gpt-4.1"]),
    ("gemini", ["gemini-2.5-flash", "gemini-2.5-pro"]),
]
PHASES = ["Discovery", "Planning", "Tool execution", "Analysis", "Report generation"]
TOOLS = ["read_file", "grep", "run_tests", "write_file", "list_dir", "web_search"]
BASE_US = 1_795_000_000_000_000  # 2026-11-17


def iso(us):
    s, frac = divmod(us, 1_000_000)
    days, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    d = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    return f"{d.isoformat()}T{h:02d}:{m:02d}:{sec:02d}.{frac // 1000:03d}Z"


def gnu_verbose(rng, command, wall_s):
    user = wall_s * rng.uniform(0.1, 0.6)
    sys_ = wall_s * rng.uniform(0.02, 0.2)
    minutes, secs = divmod(wall_s, 60)
    return (
        f'\tCommand being timed: "{command}"\n'
        f"\tUser time (seconds): {user:.2f}\n"
        f"\tSystem time (seconds): {sys_:.2f}\n"
        f"\tPercent of CPU this job got: {int(100 * (user + sys_) / max(wall_s, 0.01))}%\n"
        f"\tElapsed (wall clock) time (h:mm:ss or m:ss): {int(minutes)}:{secs:05.2f}\n"
        "\tAverage shared text size (kbytes): 0\n\tAverage unshared data size (kbytes): 0\n"
        "\tAverage stack size (kbytes): 0\n\tAverage total size (kbytes): 0\n"
        f"\tMaximum resident set size (kbytes): {rng.randint(40_000, 2_000_000)}\n"
        "\tAverage resident set size (kbytes): 0\n"
        f"\tMajor (requiring I/O) page faults: {rng.randint(0, 50)}\n"
        f"\tMinor (reclaiming a frame) page faults: {rng.randint(1000, 900000)}\n"
        f"\tVoluntary context switches: {rng.randint(100, 90000)}\n"
        f"\tInvoluntary context switches: {rng.randint(10, 9000)}\n"
        "\tSwaps: 0\n"
        f"\tFile system inputs: {rng.randint(0, 10000)}\n"
        f"\tFile system outputs: {rng.randint(0, 10000)}\n"
        "\tSocket messages sent: 0\n\tSocket messages received: 0\n\tSignals delivered: 0\n"
        "\tPage size (bytes): 4096\n\tExit status: 0\n"
    )


def run_log(rng, target_bytes):
    """One log of several runs, each ending with its time report."""
    parts = []
    size = 0
    t = BASE_US + rng.randint(0, 5 * 86400) * 1_000_000
    provider, models = rng.choice(PROVIDERS)
    model = rng.choice(models)
    while size < target_bytes:
        start = t
        lines = [f"{iso(t)} INFO Starting workflow provider={provider} model={model}\n"]
        for number, phase in enumerate(PHASES, 1):
            lines.append(f"{iso(t)} INFO === Phase {number}/{len(PHASES)} - {phase} ===\n")
            for _ in range(rng.randint(200, 600)):
                t += rng.randint(200, 40_000)
                tool = rng.choice(TOOLS)
                arg = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz/_.") for _ in range(rng.randint(10, 60)))
                lines.append(f"{iso(t)} DEBUG tool_call name={tool} path={arg} status=ok bytes={rng.randint(10, 90000)}\n")
            t += rng.randint(1000, 900_000)
            lines.append(
                f"{iso(t)} INFO LLM call: prompt_tokens={rng.randint(500, 9000)} completion_tokens={rng.randint(50, 3000)}\n"
            )
        chunk = "".join(lines) + gnu_verbose(rng, "./run_workflow.sh --provider " + provider, (t - start) / 1e6)
        parts.append(chunk)
        size += len(chunk)
        t += 5_000_000
    return "".join(parts)


def latency_csv(rng, target_bytes):
    out = ["timestamp,provider,model,first_token_ms,tokens_per_s,total_ms,output_tokens,prompt_set\n"]
    size = len(out[0])
    t = BASE_US
    while size < target_bytes:
        provider, models = rng.choice(PROVIDERS)
        model = rng.choice(models)
        ttft = rng.lognormvariate(5.5, 0.4)
        tps = rng.uniform(30, 120)
        toks = rng.randint(20, 800)
        line = f"{iso(t)},{provider},{model},{ttft:.1f},{tps:.1f},{ttft + 1000 * toks / tps:.1f},{toks},{rng.choice(['short', 'long', 'code'])}\n"
        out.append(line)
        size += len(line)
        t += rng.randint(100_000, 5_000_000)
    return "".join(out)


def hyperfine(rng, runs):
    results = []
    for i in range(rng.randint(1, 4)):
        mean = rng.uniform(0.01, 3.0)
        times = [max(1e-4, rng.gauss(mean, mean * 0.05)) for _ in range(runs)]
        times_sorted = sorted(times)
        n = len(times)
        m = sum(times) / n
        sd = (sum((x - m) ** 2 for x in times) / (n - 1)) ** 0.5
        results.append({
            "command": f"./workflow --variant {i} --threads {rng.choice([1, 2, 4, 8])}",
            "mean": m, "stddev": sd, "median": times_sorted[n // 2],
            "user": m * 0.6, "system": m * 0.1, "min": times_sorted[0], "max": times_sorted[-1],
            "times": times, "exit_codes": [0] * n,
            "memory_usage_byte": [rng.randint(10**7, 10**9) for _ in range(n)],
        })
    return json.dumps({"results": results}, indent=2)


def bench_suite(rng):
    entries = []
    for i in range(rng.randint(5, 40)):
        p50 = rng.uniform(0.05, 500)
        entries.append({
            "name": f"bench_{i}", "iterations": 1000, "warmup_iterations": 100,
            "latency_ms": {"p50": p50, "p95": p50 * 1.6, "p99": p50 * 2.4, "mean": p50 * 1.1,
                           "stddev": p50 * 0.2, "min": p50 * 0.7, "max": p50 * 4, "count": 1000},
            "throughput_ops_per_sec": 1000 / p50,
            "resources": {"cpu_mean": rng.uniform(5, 90), "cpu_peak": 99.0, "memory_mean_mb": rng.uniform(20, 900),
                          "memory_peak_mb": rng.uniform(900, 1200), "threads_mean": 8.0, "threads_peak": 12},
            "confidence_interval": {"lower": p50, "upper": p50 * 1.2, "confidence": 0.95},
            "outliers_removed": rng.randint(0, 20),
        })
    return json.dumps({"suite_name": f"suite-{rng.randint(0, 999)}", "timestamp": iso(BASE_US),
                       "benchmark_results": entries}, indent=2)


def posix_time(rng):
    return f"real {rng.uniform(0.1, 400):.2f}\nuser {rng.uniform(0.01, 100):.2f}\nsys {rng.uniform(0.01, 10):.2f}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-mb", type=float, default=100)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    target = int(args.size_mb * 1024 * 1024)
    budgets = {"logs": 0.60, "latency": 0.22, "hyperfine": 0.10, "bench": 0.04, "time": 0.0}
    small_files = max(100, int(args.size_mb * 10))
    totals = {}
    for kind, share in budgets.items():
        folder = os.path.join(args.out, kind)
        os.makedirs(folder, exist_ok=True)
        written, index = 0, 0
        while (written < share * target) if kind != "time" else (index < small_files):
            if kind == "logs":
                text, name = run_log(rng, rng.randint(2, 12) * 1024 * 1024), f"run-{index:05d}.log"
            elif kind == "latency":
                text, name = latency_csv(rng, rng.randint(5, 20) * 1024 * 1024), f"latency-{index:05d}.csv"
            elif kind == "hyperfine":
                text, name = hyperfine(rng, rng.randint(100, 2000)), f"hyperfine-{index:05d}.json"
            elif kind == "bench":
                text, name = bench_suite(rng), f"suite-{index:05d}.json"
            else:
                text, name = posix_time(rng), f"time-{index:06d}.txt"
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
            written += len(text)
            index += 1
        totals[kind] = (index, written)
    files = sum(n for n, _ in totals.values())
    size = sum(b for _, b in totals.values())
    for kind, (n, b) in totals.items():
        print(f"{kind:10s} {n:7d} files {b / 2**20:9.1f} MiB")
    print(f"{'total':10s} {files:7d} files {size / 2**20:9.1f} MiB")


if __name__ == "__main__":
    main()
