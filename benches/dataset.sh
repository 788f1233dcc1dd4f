#!/usr/bin/env bash
# Dataset storage benchmark (docs/benchmarks.md, "Many writers and object storage").
#
#   benches/dataset.sh [RUNS] [CORPUS_MB]
#
# 1. Ingest throughput into a local directory and into an S3-protocol server on loopback
#    (moto's, tests/s3/moto_server.py), interleaved, REPEAT (default 3) rounds, on a seeded
#    corpus of CORPUS_MB (default 256) from sample-data/generate_corpus.py.
# 2. RUNS (default 10000) recorded runs (`record -- true`, from 4 processes at once) into a
#    local directory: data files and commit records, `query` time (3 times), `compact`
#    (time, files/s, MB/s), files and `query` time again, then `vacuum`.
# Needs GNU time and `pip install -r tests/s3/requirements.txt`.
set -euo pipefail
runs=${1:-10000}
size_mb=${2:-256}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RUNLENS:-$root/target/release/runlens}

[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }
[ -n "${RUNLENS:-}" ] || cargo build --release --quiet --manifest-path "$root/Cargo.toml"
corpus=/tmp/runlens-bench-corpus-${size_mb}
[ -d "$corpus" ] || python3 "$root/sample-data/generate_corpus.py" --out "$corpus" --size-mb "$size_mb" --seed 42
bytes=$(du -sb "$corpus" | cut -f1)
files=$(find "$corpus" -type f | wc -l)
work=$(mktemp -d)
. "$root/benches/moto.sh"

measure() { # label, bytes, command...
  local label=$1 size=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2>&1 || { tail -3 "$work/out"; }
  read -r secs rss_kb < "$work/time"
  awk -v l="$label" -v s="$secs" -v b="$size" -v r="$rss_kb" 'BEGIN {
    printf "%-28s %8.2f s %9.1f MB/s %8.1f MiB peak RSS\n", l, s, b / 1e6 / s, r / 1024 }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
echo "== 1. ingest: $corpus, $files files, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
for i in $(seq "$repeat"); do
  echo "-- round $i"
  rm -rf "$work/local"
  measure "ingest, local directory" "$bytes" "$bin" --data "$work/local" ingest "$corpus"
  measure "ingest, S3 on loopback" "$bytes" "$bin" --data "s3://runlens-bench/round$i" ingest "$corpus"
done
echo "rows: local $("$bin" --data "$work/local" query --format csv 'select count(*) from llm_calls' | tail -n 1)," \
  "S3 $("$bin" --data "s3://runlens-bench/round1" query --format csv 'select count(*) from llm_calls' | tail -n 1) llm_calls"

echo "== 2. $runs recorded runs (4 writers at once), local directory"
data=$work/recorded
start=$(date +%s.%N)
recorders=()
for w in 1 2 3 4; do
  "$bin" --data "$data" record --runs $((runs / 4)) -- true > /dev/null 2> "$work/record-$w.err" &
  recorders+=($!)
done
for pid in "${recorders[@]}"; do
  wait "$pid" || { echo "a recorder failed:"; cat "$work"/record-*.err | tail -5; exit 1; }
done
awk -v s="$start" -v e="$(date +%s.%N)" -v n="$runs" 'BEGIN { printf "recorded in %.1f s (%.0f runs/s)\n", e - s, n / (e - s) }'
count_files() {
  echo "data files: $(find "$data" -name '*.parquet' | wc -l), commit records: $(find "$data/_runlens/commits" -name '*.json' | wc -l), checkpoints: $(find "$data/_runlens/checkpoints" -name '*.json' 2>/dev/null | wc -l)"
}
sql='select count(*) as runs, sum(wall_ms) as wall_ms, count(distinct run_id) as ids from runs'
timed_query() {
  for i in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --data "$data" query --format csv "$sql" > "$work/q"
    read -r secs rss_kb < "$work/time"
    echo "query $i: ${secs} s, $(awk -v r="$rss_kb" 'BEGIN { printf "%.0f MiB", r / 1024 }'), $(tail -n 1 "$work/q")"
  done
}
count_files
timed_query
size=$(find "$data" -name '*.parquet' -printf '%s\n' | awk '{ s += $1 } END { print s }')
measure "compact" "$size" "$bin" --data "$data" compact
cat "$work/out"
count_files
timed_query
"$bin" --data "$data" vacuum --older-than 0s
count_files
timed_query
