#!/usr/bin/env bash
# Ingest throughput benchmark (docs/benchmarks.md).
#
#   benches/ingest.sh [SIZE_MB] [CORPUS_DIR]
#
# Generates a seeded corpus of every input format (sample-data/generate_corpus.py) unless
# CORPUS_DIR already holds one, then measures in one run, alternating, REPEAT times each:
#   - read:    cat every file to /dev/null (the I/O floor, same page cache state)
#   - ingest:  runlens ingest into a fresh dataset (release build)
#   - rerun:   runlens ingest of the same corpus again (everything skipped)
# and prints MB/s, files/s and peak RSS (GNU time -v) for each.
set -euo pipefail
size_mb=${1:-1024}
corpus=${2:-/tmp/runlens-bench-corpus-${size_mb}}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/release/runlens"

[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
if [ ! -d "$corpus" ]; then
  python3 "$root/sample-data/generate_corpus.py" --out "$corpus" --size-mb "$size_mb" --seed 42
fi
bytes=$(du -sb "$corpus" | cut -f1)
files=$(find "$corpus" -type f | wc -l)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2>&1 || true
  read -r secs rss_kb < "$work/time"
  awk -v l="$label" -v s="$secs" -v b="$bytes" -v f="$files" -v r="$rss_kb" 'BEGIN {
    printf "%-8s %8.2f s %9.1f MB/s %9.0f files/s %8.1f MiB peak RSS\n", l, s, b / 1e6 / s, f / s, r / 1024 }'
}

echo "corpus: $corpus, $files files, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
for i in $(seq "$repeat"); do
  measure read sh -c 'find "$1" -type f -exec cat {} + > /dev/null' _ "$corpus"
  rm -rf "$work/data"
  measure ingest "$bin" --data "$work/data" ingest "$corpus"
  measure rerun "$bin" --data "$work/data" ingest "$corpus"
done
tail -n 3 "$work/out"
"$bin" --data "$work/data" query "select count(*) as runs, (select count(*) from phases) as phases, (select count(*) from llm_calls) as llm_calls, (select count(*) from bench_results) as bench_results from runs"
