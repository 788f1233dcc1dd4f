#!/usr/bin/env bash
# Claude Code transcript throughput next to ccusage (docs/benchmarks.md).
#
#   benches/claude_code.sh [SIZE_MB] [CORPUS_DIR]        defaults: 1024, /tmp/runlens-claude-<size>
#   REPEAT=3 CCUSAGE=/path/to/ccusage benches/claude_code.sh
#
# Generates a seeded corpus (sample-data/generate_claude_code.py) unless CORPUS_DIR holds one,
# installs ccusage 20.0.24 with its native binary into target/ccusage unless CCUSAGE names
# one, then measures, interleaved, REPEAT (default 3) times under GNU time:
#   read      cat every file to /dev/null (the I/O floor, page cache warm)
#   ingest    runlens ingest into a fresh dataset (parse + Parquet write)
#   validate  runlens validate (parse + session checks, nothing written)
#   ccusage   ccusage claude daily --json --offline (parse + daily totals)
#   daily-first  runlens ingest into a fresh dataset, then sessions --daily --format json
#   daily-again  the same on that dataset, every file already stored (the daily routine):
#                the answer stored by the previous `sessions` is printed
#   daily-nocache daily-again with --no-cache: the answer computed from the dataset again
#   daily-rehash daily-again after touching every file: each is hashed to be recognised
#                (what every re-run did before unchanged files were skipped unread)
set -euo pipefail
size_mb=${1:-1024}
corpus=${2:-/tmp/runlens-claude-${size_mb}}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
runlens=$root/target/release/runlens
if [ -z "${CCUSAGE:-}" ]; then
  npm install --silent --prefix "$root/target/ccusage" ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24 >/dev/null
  CCUSAGE=$root/target/ccusage/node_modules/.bin/ccusage
fi
[ -d "$corpus" ] || python3 "$root/sample-data/generate_claude_code.py" --out "$corpus" --size-mb "$size_mb" --seed 42
bytes=$(du -sb "$corpus" | cut -f1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
measure() {
  # Wall time to the millisecond from the clock (GNU time rounds to 10 ms), peak RSS from
  # GNU time.
  local name=$1; shift
  local start ns
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/t" "$@" >/dev/null 2>&1
  ns=$(( $(date +%s%N) - start ))
  read -r rss < "$work/t"
  echo "$name $(( ns / 1000000000 )).$(printf %03d $(( ns / 1000000 % 1000 ))) $rss" | tee -a "$work/results"
}
for _ in $(seq "$repeat"); do
  measure read sh -c "find '$corpus' -type f -exec cat {} + > /dev/null"
  rm -rf "$work/d"
  measure ingest "$runlens" --data "$work/d" ingest "$corpus"
  measure validate "$runlens" validate "$corpus"
  measure ccusage env CLAUDE_CONFIG_DIR="$corpus" "$CCUSAGE" claude daily --json --offline --timezone UTC
  rm -rf "$work/daily"
  measure daily-first sh -c "'$runlens' --data '$work/daily' ingest '$corpus' && '$runlens' --data '$work/daily' sessions --daily --format json"
  measure daily-again sh -c "'$runlens' --data '$work/daily' ingest '$corpus' && '$runlens' --data '$work/daily' sessions --daily --format json"
  measure daily-nocache sh -c "'$runlens' --data '$work/daily' ingest '$corpus' && '$runlens' --data '$work/daily' sessions --daily --format json --no-cache"
  find "$corpus" -type f -exec touch {} +
  measure daily-rehash sh -c "'$runlens' --data '$work/daily' ingest '$corpus' && '$runlens' --data '$work/daily' sessions --daily --format json"
done
python3 - "$work/results" "$bytes" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
mb = int(sys.argv[2]) / 1e6
print(f"corpus: {mb:.0f} MB; median of {len(rows) // 8} rounds")
print("| step | wall s | MB/s | peak RSS MiB |")
print("| --- | ---: | ---: | ---: |")
for name in ["read", "ingest", "validate", "ccusage", "daily-first", "daily-again", "daily-nocache", "daily-rehash"]:
    w = statistics.median(float(r[1]) for r in rows if r[0] == name)
    m = statistics.median(float(r[2]) for r in rows if r[0] == name) / 1024
    print(f"| {name} | {w:.3f} | {mb / w:.0f} | {m:.0f} |")
PY
