#!/usr/bin/env bash
# Ingest throughput benchmark (docs/benchmarks.md).
#
#   benches/ingest.sh [SIZE_MB] [CORPUS_DIR]
#   COMPARE="before=/path/to/old/runlens glibc=/path/to/other" benches/ingest.sh
#
# Generates a seeded corpus of every input format (sample-data/generate_corpus.py) unless
# CORPUS_DIR already holds one, then measures, interleaved, REPEAT (default 3) times:
#   read     cat every file to /dev/null: the I/O floor in the same page-cache state
#   ingest   runlens ingest into a fresh dataset
#   rerun    the same ingest again: every file hashed and skipped
# for the current release build and for every binary named in COMPARE, so all figures
# come from one run on the same machine state. Prints wall time, MB/s, files/s and peak
# RSS (GNU time).
set -euo pipefail
size_mb=${1:-1024}
corpus=${2:-/tmp/runlens-bench-corpus-${size_mb}}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)

[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
binaries="current=$root/target/release/runlens ${COMPARE:-}"
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
    printf "%-18s %8.2f s %9.1f MB/s %9.0f files/s %8.1f MiB peak RSS\n", l, s, b / 1e6 / s, f / s, r / 1024 }'
}

echo "corpus: $corpus, $files files, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
for i in $(seq "$repeat"); do
  echo "-- round $i"
  measure read sh -c 'find "$1" -type f -exec cat {} + > /dev/null' _ "$corpus"
  for entry in $binaries; do
    name=${entry%%=*}; bin=${entry#*=}
    rm -rf "$work/data"
    measure "ingest $name" "$bin" --data "$work/data" ingest "$corpus"
    measure "rerun $name" "$bin" --data "$work/data" ingest "$corpus"
  done
done
bin=${binaries%% *}; bin=${bin#*=}
rm -rf "$work/data"
"$bin" --data "$work/data" ingest "$corpus" > /dev/null
for table in runs phases llm_calls bench_results ingest_log; do
  printf '%-14s %s rows\n' "$table" "$("$bin" --data "$work/data" query --format csv "select count(*) from $table" | tail -n 1)"
done
du -sh "$work/data" | awk '{ print "dataset size:  " $1 }'
