#!/usr/bin/env bash
# Ingest into object storage with a remote bucket's round trip (docs/benchmarks.md,
# "Uploads to object storage, several at once").
#
#   benches/object_store.sh [SIZE_MB] [CORPUS_DIR]     defaults: 256, /tmp/runlens-claude-<size>
#   LATENCY_MS=30 REPEAT=3 COMPARE="before=/path/to/old/runlens" benches/object_store.sh
#
# Starts moto's S3-protocol server on loopback (tests/s3/moto_server.py) with LATENCY_MS
# (default 30) added to every response, outside its lock, as a round trip to a bucket in
# another region would; generates a seeded Claude Code history
# (sample-data/generate_claude_code.py) unless CORPUS_DIR holds one; then, interleaved,
# REPEAT (default 3) times, for the current release build and every binary in COMPARE:
# 1. `ingest` of the corpus into a fresh prefix of the bucket (wall time, peak RSS), and
#    checks that every build stored the same number of calls;
# 2. a query of a dataset of 98 commits since its last checkpoint (98 `record`ed runs): a
#    reader first reads those 98 commit records;
# 3. `sessions --daily` and `analyze --by model` (`RUNLENS_NO_CACHE`: the answer computed, not printed from the result cache) of the history ingested
#    in round 1 by each build: polars reading a table's files from the bucket. Every build
#    must print the same reports (md5).
# Needs GNU time and `pip install -r tests/s3/requirements.txt`.
set -euo pipefail
size_mb=${1:-256}
corpus=${2:-/tmp/runlens-claude-${size_mb}}
repeat=${REPEAT:-3}
LATENCY_MS=${LATENCY_MS:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
binaries="current=$root/target/release/runlens ${COMPARE:-}"
[ -d "$corpus" ] || python3 "$root/sample-data/generate_claude_code.py" --out "$corpus" --size-mb "$size_mb" --seed 42
work=$(mktemp -d)
. "$root/benches/moto.sh"

echo "machine: $(nproc) cores; corpus: $corpus, $(find "$corpus" -type f | wc -l) files," \
  "$(du -sb "$corpus" | awk '{ printf "%.0f MB", $1 / 1e6 }'); ${LATENCY_MS} ms per request"
for round in $(seq "$repeat"); do
  for entry in $binaries; do
    name=${entry%%=*}
    bin=${entry#*=}
    url=s3://runlens-bench/$name-$round
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --data "$url" ingest "$corpus" > "$work/out" 2>&1 \
      || { tail -3 "$work/out"; exit 1; }
    read -r secs rss_kb < "$work/time"
    calls=$("$bin" --data "$url" query --format csv 'select count(*) from llm_calls' | tail -n 1)
    echo "$name $secs $rss_kb $calls" >> "$work/results"
    printf "round %s %-10s %6.2f s %6.0f MiB peak RSS %8s calls\n" "$round" "$name" "$secs" "$((rss_kb / 1024))" "$calls"
  done
done
summarise() {
python3 - "$1" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = list(dict.fromkeys(r[0] for r in rows))
print("| build | median wall s | median peak RSS MiB | count |")
print("| --- | ---: | ---: | ---: |")
for name in names:
    mine = [r for r in rows if r[0] == name]
    calls = sorted({r[3] for r in mine})
    print(f"| {name} | {statistics.median(float(r[1]) for r in mine):.2f} "
          f"| {statistics.median(int(r[2]) for r in mine) / 1024:.0f} | {', '.join(calls)} |")
if len({r[3] for r in rows}) != 1:
    sys.exit("the builds gave different counts")
PY
}
echo "== 1. ingest"
summarise "$work/results"

echo "== 2. query after 98 commits"
current=${binaries%% *}
"${current#*=}" --data s3://runlens-bench/runs record --runs 98 -- true > /dev/null 2>&1
for round in $(seq "$repeat"); do
  for entry in $binaries; do
    name=${entry%%=*}
    bin=${entry#*=}
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --data s3://runlens-bench/runs \
      query --format csv 'select count(*) from runs' > "$work/out" 2>&1 || { tail -3 "$work/out"; exit 1; }
    read -r secs rss_kb < "$work/time"
    echo "$name $secs $rss_kb $(tail -n 1 "$work/out")" >> "$work/queries"
  done
done
summarise "$work/queries"

echo "== 3. sessions --daily and analyze --by model, read from the bucket"
for round in $(seq "$repeat"); do
  for entry in $binaries; do
    name=${entry%%=*}
    bin=${entry#*=}
    for report in "sessions --daily" "analyze --by model"; do
      # shellcheck disable=SC2086 # the report's words are its arguments
      RUNLENS_NO_CACHE=true /usr/bin/time -f "%e %M" -o "$work/time" "$bin" \
        --data "s3://runlens-bench/$name-1" $report --format json > "$work/out" 2> "$work/err" || { tail -3 "$work/err"; exit 1; }
      read -r secs rss_kb < "$work/time"
      echo "$name $secs $rss_kb $(md5sum < "$work/out" | cut -c1-12)" >> "$work/${report%% *}"
    done
  done
done
echo "sessions --daily:" && summarise "$work/sessions"
echo "analyze --by model:" && summarise "$work/analyze"
