#!/usr/bin/env bash
# Grouping and filtering by a label next to the same by a plain column (docs/benchmarks.md).
#
#   benches/labels.sh [ROWS] [WORK_DIR]        defaults: 5000000, /tmp/runlens-labels-<rows>
#   REPEAT=5 benches/labels.sh 5000000
#
# Writes ROWS LLM calls as latency CSV files, one folder per provider and prompt set (4 x 3,
# seeded), and ingests each folder with --label vendor=<its provider> --label
# prompt_set=<its set>: the label `vendor` then equals the column `provider` on every row, so
# grouping by either must give the same figures. Checks that it does (query and analyze,
# every statistic), then measures, interleaved, REPEAT (default 3) times under GNU time:
#   query-column    query: count and mean TTFT per provider
#   query-label     the same per label_vendor
#   analyze-column  analyze --by provider (every metric, statistics, CIs, outliers)
#   analyze-label   analyze --by vendor
#   filter-column   analyze --filter provider=openai
#   filter-label    analyze --filter vendor=openai
# and prints each label step's median time as a ratio of its column step's.
set -euo pipefail
rows=${1:-5000000}
work=${2:-/tmp/runlens-labels-${rows}}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
runlens=${CARGO_TARGET_DIR:-$root/target}/release/runlens
data="$work/data"
if [ ! -d "$data" ]; then
  mkdir -p "$work/csv"
  python3 - "$work/csv" "$rows" <<'PY'
import os, random, sys
out, rows = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
models = {"ollama": ["llama3.2:3b", "qwen2.5:7b", "mistral-small"],
          "anthropic": ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"],
          "openai": ["gpt-4o-mini", "gpt-4.1", "gpt-5"],
          "gemini": ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"]}
folders = [(p, s) for p in models for s in ("a", "b", "c")]
per_folder = rows // len(folders)
for f, (provider, prompt_set) in enumerate(folders):
    n = per_folder + (rows - per_folder * len(folders) if f == 0 else 0)
    os.makedirs(f"{out}/{provider}-{prompt_set}", exist_ok=True)
    with open(f"{out}/{provider}-{prompt_set}/calls.csv", "w") as fh:
        fh.write("timestamp,provider,model,first_token_ms,tokens_per_s,total_ms,input_tokens,output_tokens\n")
        lines = []
        for i in range(n):
            model = rng.choice(models[provider])
            ttft = rng.lognormvariate(5.5, 0.5)
            tps = rng.uniform(20, 160)
            out_tok = rng.randrange(20, 2000)
            lines.append(f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}Z,{provider},{model},"
                         f"{ttft:.1f},{tps:.1f},{ttft + out_tok / tps * 1000:.1f},{rng.randrange(100, 30000)},{out_tok}\n")
            if len(lines) == 100_000:
                fh.writelines(lines)
                lines = []
        fh.writelines(lines)
PY
  for folder in "$work"/csv/*/; do
    name=$(basename "$folder")
    "$runlens" --data "$data" ingest "$folder" --label "vendor=${name%-*}" --label "prompt_set=${name##*-}" >/dev/null
  done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Figures are quoted only when the label path and the column path agree on every one.
"$runlens" --data "$data" query --format json \
  "select provider as k, count(*) as n, avg(ttft_ms) as ttft from llm_calls group by provider" > "$tmp/qc.json"
"$runlens" --data "$data" query --format json \
  "select label_vendor as k, count(*) as n, avg(ttft_ms) as ttft from llm_calls group by label_vendor" > "$tmp/ql.json"
"$runlens" --data "$data" analyze --by provider --format json > "$tmp/ac.json"
"$runlens" --data "$data" analyze --by vendor --format json > "$tmp/al.json"
"$runlens" --data "$data" analyze --filter provider=openai --format json > "$tmp/fc.json"
"$runlens" --data "$data" analyze --filter vendor=openai --format json > "$tmp/fl.json"
python3 - "$tmp" <<'PY' || exit 1
import json, math, sys
tmp = sys.argv[1]
def load(name):
    return json.load(open(f"{tmp}/{name}.json"))
def close(a, b):
    # Sums in another group order differ in the last bits: equal within 1e-9 relative.
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b
def same(a, b, what):
    if not close(a, b):
        sys.exit(f"label and column paths disagree on {what}")
query = lambda name: sorted([r["k"], r["n"], r["ttft"]] for r in load(name))
same(query("qc"), query("ql"), "the query")
def stats(doc, key):
    return sorted([r.get(key), r["phase"], r["metric"]] +
                  [r[s] for s in ("n", "failed", "mean", "stddev", "min", "max", "p50", "p95", "p99")]
                  for r in doc["rows"])
same(stats(load("ac"), "provider"), stats(load("al"), "vendor"), "analyze --by")
same(stats(load("fc"), None), stats(load("fl"), None), "analyze --filter")
print(f"label and column paths agree: query, analyze --by ({len(load('ac')['rows'])} rows), analyze --filter")
PY

measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null 2>&1
  read -r wall rss < <(tail -n 1 "$tmp/t")
  echo "$name $wall $rss" | tee -a "$tmp/results"
}
for _ in $(seq "$repeat"); do
  measure query-column "$runlens" --data "$data" query "select provider, count(*) as n, avg(ttft_ms) as ttft from llm_calls group by provider"
  measure query-label "$runlens" --data "$data" query "select label_vendor, count(*) as n, avg(ttft_ms) as ttft from llm_calls group by label_vendor"
  measure analyze-column "$runlens" --data "$data" analyze --by provider
  measure analyze-label "$runlens" --data "$data" analyze --by vendor
  measure filter-column "$runlens" --data "$data" analyze --filter provider=openai
  measure filter-label "$runlens" --data "$data" analyze --filter vendor=openai
done
python3 - "$tmp/results" "$rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def median(name, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == name)
print(f"{int(sys.argv[2]):,} LLM calls; median of {sum(r[0] == 'query-column' for r in rows)} rounds")
print("| step | column: wall s, peak RSS MiB | label: wall s, peak RSS MiB | label / column |")
print("| --- | ---: | ---: | ---: |")
for step in ("query", "analyze", "filter"):
    c, l = median(f"{step}-column", 1), median(f"{step}-label", 1)
    cm, lm = median(f"{step}-column", 2) / 1024, median(f"{step}-label", 2) / 1024
    print(f"| {step} | {c:.2f} s, {cm:.0f} | {l:.2f} s, {lm:.0f} | {l / c:.2f}x |")
PY
