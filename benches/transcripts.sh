#!/usr/bin/env bash
# Throughput of the other transcript formats, and of one 100 MB session (docs/benchmarks.md).
#
#   benches/transcripts.sh [SIZE_MB] [WORK_DIR]        defaults: 512, /tmp/runlens-transcripts-<size>
#   REPEAT=3 benches/transcripts.sh
#
# Generates, unless WORK_DIR holds them, a seeded corpus of Codex rollouts, OpenAI /
# Anthropic / Gemini exchanges, OTLP traces and headless runs
# (sample-data/generate_transcripts.py), and a single Claude Code session of 100 MB
# (generate_claude_code.py --one-session). Then measures, interleaved, REPEAT (default 3)
# times under GNU time: reading the files (the I/O floor), runlens ingest into a fresh
# dataset, and runlens validate, for each of the two inputs.
set -euo pipefail
size_mb=${1:-512}
work_dir=${2:-/tmp/runlens-transcripts-${size_mb}}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
runlens=$root/target/release/runlens
corpus=$work_dir/corpus
single=$work_dir/one-session
mkdir -p "$work_dir"
[ -d "$corpus" ] || python3 "$root/sample-data/generate_transcripts.py" --out "$corpus" --size-mb "$size_mb" --seed 42
[ -d "$single" ] || python3 "$root/sample-data/generate_claude_code.py" --out "$single" --size-mb 100 --seed 5 --one-session
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null 2>&1 || true
  read -r wall rss < <(tail -n 1 "$tmp/t")
  echo "$name $wall $rss" | tee -a "$tmp/results"
}
for _ in $(seq "$repeat"); do
  for input in corpus one-session; do
    dir=$work_dir/$input
    measure "$input:read" sh -c "find '$dir' -type f -exec cat {} + > /dev/null"
    rm -rf "$tmp/d"
    measure "$input:ingest" "$runlens" --data "$tmp/d" ingest "$dir"
    measure "$input:validate" "$runlens" validate "$dir"
  done
done
python3 - "$tmp/results" "$(du -sb "$corpus" | cut -f1)" "$(du -sb "$single" | cut -f1)" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
sizes = {"corpus": int(sys.argv[2]) / 1e6, "one-session": int(sys.argv[3]) / 1e6}
print(f"median of {len(rows) // 6} rounds")
print("| input | step | wall s | MB/s | peak RSS MiB |")
print("| --- | --- | ---: | ---: | ---: |")
for name in ["corpus:read", "corpus:ingest", "corpus:validate",
             "one-session:read", "one-session:ingest", "one-session:validate"]:
    what, step = name.split(":")
    w = statistics.median(float(r[1]) for r in rows if r[0] == name)
    m = statistics.median(float(r[2]) for r in rows if r[0] == name) / 1024
    print(f"| {what} ({sizes[what]:.0f} MB) | {step} | {w:.2f} | {sizes[what] / w:.0f} | {m:.0f} |")
PY
