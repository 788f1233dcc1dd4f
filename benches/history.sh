#!/usr/bin/env bash
# The daily routine on a long history: one day's new transcripts ingested into a dataset
# that already holds a large Claude Code history (docs/benchmarks.md, "Stored transcript
# ids as fingerprints").
#
#   benches/history.sh [SIZE_MB] [CORPUS_DIR]     defaults: 2048, /tmp/runlens-claude-<size>
#   REPEAT=3 COMPARE="before=/path/to/old/runlens" benches/history.sh
#   LATENCY_MS=30 benches/history.sh 256        the datasets in a bucket 30 ms away
#   MIXED_WITH=/tmp/corpus-1g/latency benches/history.sh 256    other calls stored beside
#
# Generates a seeded history (sample-data/generate_claude_code.py) unless CORPUS_DIR holds
# one, and 2 MB of new transcripts whose ids follow the history's; each build ingests the
# history into a dataset of its own once, and then MIXED_WITH (files of other formats, say
# latency CSVs: calls that are not from transcripts) when it is set. Then, interleaved, REPEAT (default 3) times, for
# the current release build and every binary in COMPARE: a copy of that build's dataset,
# `ingest` of the new transcripts into it (wall time, peak RSS: a transcript's calls are
# checked against every stored transcript id), then `sessions --daily --format json`
# (whose output must be the same from every build).
# With LATENCY_MS set, each build's dataset lives in moto's S3 server on loopback
# (benches/moto.sh, LATENCY_MS added to every response as a remote bucket's round trip);
# a bucket prefix cannot be copied back, so each round ingests new transcripts of its own
# (the same ones for every build). Needs `pip install -r tests/s3/requirements.txt`.
set -euo pipefail
size_mb=${1:-2048}
corpus=${2:-/tmp/runlens-claude-${size_mb}}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
binaries="current=$root/target/release/runlens ${COMPARE:-}"
[ -d "$corpus" ] || python3 "$root/sample-data/generate_claude_code.py" --out "$corpus" --size-mb "$size_mb" --seed 42
work=$(mktemp -d)
if [ -n "${LATENCY_MS:-}" ]; then
  . "$root/benches/moto.sh"
  base() { echo "s3://runlens-bench/$1"; }
else
  trap 'rm -rf "$work"' EXIT
  base() { echo "$work/base-$1"; }
fi
new_day() {  # the new transcripts of round $1
  [ -d "$work/new-$1" ] || python3 "$root/sample-data/generate_claude_code.py" --out "$work/new-$1" \
    --size-mb 2 --seed "$((9 + $1))" --first-response "$((1000000000 + $1 * 1000000))" > /dev/null
  echo "$work/new-$1"
}
for entry in $binaries; do
  name=${entry%%=*}
  "${entry#*=}" --data "$(base "$name")" ingest "$corpus" > /dev/null
  [ -z "${MIXED_WITH:-}" ] || "${entry#*=}" --data "$(base "$name")" ingest "$MIXED_WITH" > /dev/null
done
count() { "$root/target/release/runlens" --data "$(base current)" query --format csv "select count(*) from $1" | tail -n 1; }
stored="$(count llm_calls) calls and $(count tool_calls) tool calls"
echo "machine: $(nproc) cores; history: $corpus, $(du -sb "$corpus" | awk '{ printf "%.0f MB", $1 / 1e6 }')," \
  "$stored stored; new each day: $(du -sb "$(new_day 0)" | awk '{ printf "%.1f MB", $1 / 1e6 }')${LATENCY_MS:+; ${LATENCY_MS} ms per request}"
for round in $(seq "$repeat"); do
  for entry in $binaries; do
    name=${entry%%=*}
    bin=${entry#*=}
    if [ -n "${LATENCY_MS:-}" ]; then
      data=$(base "$name") new=$(new_day "$round")
    else
      data=$work/d new=$(new_day 0)
      rm -rf "$data" && cp -a "$(base "$name")" "$data"
    fi
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --data "$data" ingest "$new" > "$work/out" 2>&1 \
      || { tail -3 "$work/out"; exit 1; }
    read -r secs rss_kb < "$work/time"
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --data "$data" sessions --daily --format json > "$work/daily-$name"
    read -r daily_secs daily_kb < "$work/time"
    sum=$(md5sum < "$work/daily-$name" | cut -c1-12)
    echo "$name $secs $rss_kb $daily_secs $sum $round" >> "$work/results"
    printf "round %s %-10s ingest %5.2f s %5.0f MiB   sessions --daily %5.2f s   output %s\n" \
      "$round" "$name" "$secs" "$((rss_kb / 1024))" "$daily_secs" "$sum"
  done
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = list(dict.fromkeys(r[0] for r in rows))
print("| build | ingest of the new day, median s | its peak RSS MiB | sessions --daily s |")
print("| --- | ---: | ---: | ---: |")
for name in names:
    mine = [r for r in rows if r[0] == name]
    print(f"| {name} | {statistics.median(float(r[1]) for r in mine):.2f} "
          f"| {statistics.median(int(r[2]) for r in mine) / 1024:.0f} "
          f"| {statistics.median(float(r[3]) for r in mine):.2f} |")
for round in {r[5] for r in rows}:
    if len({r[4] for r in rows if r[5] == round}) != 1:
        sys.exit(f"round {round}: the builds printed different daily reports")
PY
