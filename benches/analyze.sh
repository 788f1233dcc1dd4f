#!/usr/bin/env bash
# `runlens analyze` next to the equivalent DuckDB query on the same Parquet files
# (docs/benchmarks.md).
#
#   benches/analyze.sh [ROWS] [WORK_DIR]        defaults: 1000000, /tmp/runlens-analyze-<rows>
#   REPEAT=3 benches/analyze.sh 10000000
#   ANALYZE_ARGS="--by model --phase" benches/analyze.sh 10000000
#
# Writes ROWS LLM calls as latency CSV files (1 M rows per file, 4 providers x 3 models,
# seeded) and ingests them once into WORK_DIR/data. Then measures, interleaved, REPEAT
# (default 3) times under GNU time:
#   analyze   runlens analyze $ANALYZE_ARGS (default --by provider,model: every metric's count, failed, mean,
#             stddev, min, max, p50/p95/p99, CI and outliers per group)
#   duckdb    the same aggregates per provider and model over llm_calls in DuckDB (Python
#             package from PyPI): count, avg, stddev_samp, min, max, quantile_cont x 3, for
#             the six call metrics (no CI, no outliers)
#   baseline  with BASELINE=/path/to/an/older/runlens: that binary's analyze, interleaved
#             (before/after figures of a change); its output must equal this build's
# and, once each under strace, how many times each binary opens a Parquet file of the
# dataset (the scans one analyze makes).
set -euo pipefail
rows=${1:-1000000}
work=${2:-/tmp/runlens-analyze-${rows}}
repeat=${REPEAT:-3}
read -r -a args <<< "${ANALYZE_ARGS:---by provider,model}"
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet -r "$root/tests/readers/requirements.txt"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
runlens=${CARGO_TARGET_DIR:-$root/target}/release/runlens
if [ ! -d "$work/data" ]; then
  mkdir -p "$work/csv"
  python3 - "$work/csv" "$rows" <<'PY'
import random, sys
out, rows = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
models = [("ollama", "llama3.2:3b"), ("ollama", "qwen2.5:7b"), ("ollama", "mistral-small"),
          ("anthropic", "claude-sonnet-4-5"), ("anthropic", "claude-haiku-4-5"), ("anthropic", "claude-opus-4-1"),
          ("openai", "gpt-4o-mini"), ("openai", "gpt-4.1"), ("openai", "gpt-5"),
          ("gemini", "gemini-2.5-flash"), ("gemini", "gemini-2.5-pro"), ("gemini", "gemini-2.0-flash")]
per_file = 1_000_000
for f in range((rows + per_file - 1) // per_file):
    n = min(per_file, rows - f * per_file)
    with open(f"{out}/calls-{f:03d}.csv", "w") as fh:
        fh.write("timestamp,provider,model,first_token_ms,tokens_per_s,total_ms,input_tokens,output_tokens\n")
        lines = []
        for i in range(n):
            p, m = models[rng.randrange(12)]
            s = f * per_file + i
            ttft = rng.lognormvariate(5.5, 0.5)
            tps = rng.uniform(20, 160)
            out_tok = rng.randrange(20, 2000)
            lines.append(f"2026-11-{1 + s % 28:02d}T{s % 24:02d}:{s % 60:02d}:{(s // 60) % 60:02d}Z,{p},{m},"
                         f"{ttft:.1f},{tps:.1f},{ttft + out_tok / tps * 1000:.1f},{rng.randrange(100, 30000)},{out_tok}\n")
            if len(lines) == 100_000:
                fh.writelines(lines)
                lines = []
        fh.writelines(lines)
PY
  "$runlens" --data "$work/data" ingest "$work/csv" >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/duckdb_query.py" <<PY
import duckdb
metrics = [("ttft", "ttft_ms"), ("output_tokens_per_s", "output_tokens_per_s"), ("input_tokens", "input_tokens"),
           ("output_tokens", "output_tokens"), ("cache_read_tokens", "cache_read_input_tokens"),
           ("cache_write_tokens", "cache_creation_input_tokens")]
cols = ", ".join(
    f"count({c}) AS {m}_n, avg({c}) AS {m}_mean, stddev_samp({c}) AS {m}_sd, min({c}) AS {m}_min, max({c}) AS {m}_max, "
    f"quantile_cont({c}, 0.5) AS {m}_p50, quantile_cont({c}, 0.95) AS {m}_p95, quantile_cont({c}, 0.99) AS {m}_p99"
    for m, c in metrics)
con = duckdb.connect()
rows = con.execute(f"SELECT provider, coalesce(response_model, request_model) AS model, {cols} "
                   f"FROM read_parquet('$work/data/llm_calls/**/*.parquet', hive_partitioning = true) "
                   f"WHERE error_kind IS NULL GROUP BY ALL").fetchall()
print(len(rows))
PY
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null 2>&1
  read -r wall rss < <(tail -n 1 "$tmp/t")
  echo "$name $wall $rss" | tee -a "$tmp/results"
}
baseline=${BASELINE:-}
if [ -n "$baseline" ]; then
  # Figures are quoted only when both binaries agree on every one of them.
  "$baseline" --data "$work/data" analyze "${args[@]}" --format json > "$tmp/old.json"
  "$runlens" --data "$work/data" analyze "${args[@]}" --format json > "$tmp/new.json"
  python3 - "$tmp/old.json" "$tmp/new.json" <<'PY' || exit 1
import json, math, sys
def rows(path):
    return {(r.get("provider"), r.get("model"), r["phase"], r["metric"]): r for r in json.load(open(path))["rows"]}
old, new = rows(sys.argv[1]), rows(sys.argv[2])
if old.keys() != new.keys():
    sys.exit(f"baseline and this build have different rows: {sorted(old.keys() ^ new.keys())[:5]}")
for key, o in old.items():
    for stat in ("n", "failed", "mean", "stddev", "min", "max", "p50", "p95", "p99"):
        a, b = o[stat], new[key][stat]
        if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)):
            sys.exit(f"baseline and this build disagree on {key} {stat}: {a} vs {b}")
print(f"baseline and this build agree on {len(old)} rows")
PY
fi
opens() {
  command -v strace >/dev/null || { echo "n/a"; return; }
  strace -f -qq -e trace=openat -o "$tmp/strace" "$@" >/dev/null 2>&1
  grep -c '\.parquet"' "$tmp/strace"
}
for _ in $(seq "$repeat"); do
  measure analyze "$runlens" --data "$work/data" analyze "${args[@]}"
  if [ -n "$baseline" ]; then
    measure baseline "$baseline" --data "$work/data" analyze "${args[@]}"
  fi
  measure duckdb python3 "$tmp/duckdb_query.py"
done
echo "parquet opens: analyze $(opens "$runlens" --data "$work/data" analyze "${args[@]}")" \
  "${baseline:+baseline $(opens "$baseline" --data "$work/data" analyze "${args[@]}")}"
python3 - "$tmp/results" "$rows" "$(du -sb "$work/data/llm_calls" | cut -f1)" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
rounds = sum(1 for r in rows if r[0] == "analyze")
print(f"{int(sys.argv[2]):,} LLM calls, {int(sys.argv[3]) / 1e6:.0f} MB of Parquet; median of {rounds} rounds")
print("| step | wall s | peak RSS MiB |")
print("| --- | ---: | ---: |")
for name in ["analyze", "baseline", "duckdb"]:
    if not any(r[0] == name for r in rows):
        continue
    w = statistics.median(float(r[1]) for r in rows if r[0] == name)
    m = statistics.median(float(r[2]) for r in rows if r[0] == name) / 1024
    print(f"| {name} | {w:.2f} | {m:.0f} |")
PY
