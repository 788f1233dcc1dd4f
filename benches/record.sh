#!/usr/bin/env bash
# Recorder overhead benchmark (docs/benchmarks.md).
#
#   benches/record.sh [RUNS] [COMMAND...]        defaults: 20 runs of `sleep 0.05`
#   REPEAT=5 benches/record.sh 20 sleep 0.2
#
# Runs the same command RUNS times in each of these ways, interleaved, REPEAT (default 5)
# times, each whole batch under GNU time (wall, user+sys CPU of everything involved):
#   bare          a shell loop running the command RUNS times: the floor
#   hyperfine     hyperfine -N --runs RUNS (no shell, no warm-up)
#   record-off    runlens record --runs RUNS --sample-interval 0 (GNU time accounting)
#   record-rusage runlens record, sampling off, --accounting rusage
#   record-100    runlens record, default sampling every 100 ms
#   record-10     runlens record, sampling every 10 ms
# and prints the median batch and the overhead per run against bare. Every runlens batch
# writes a fresh dataset (one commit per run, as in real use).
set -euo pipefail
runs=${1:-20}
shift || true
if [ $# -eq 0 ]; then set -- sleep 0.05; fi
repeat=${REPEAT:-5}
root=$(cd "$(dirname "$0")/.." && pwd)

[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
runlens=$root/target/release/runlens
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quoted=$(printf '%q ' "$@")

measure() { # name, then the command line; appends "name wall cpu" to $work/results
  local name=$1; shift
  rm -rf "$work/d"
  /usr/bin/time -f "%e %U %S" -o "$work/t" "$@" >/dev/null 2>&1
  read -r wall user sys < "$work/t"
  echo "$name $wall $(echo "$user + $sys" | bc)" >> "$work/results"
}

for _ in $(seq "$repeat"); do
  measure bare sh -c "for i in \$(seq $runs); do $quoted; done"
  measure hyperfine hyperfine -N --runs "$runs" --style none --export-json "$work/h.json" "$quoted"
  measure record-off "$runlens" --data "$work/d" record --hide-output --runs "$runs" --sample-interval 0 --accounting time -- "$@"
  measure record-rusage "$runlens" --data "$work/d" record --hide-output --runs "$runs" --sample-interval 0 --accounting rusage -- "$@"
  measure record-100 "$runlens" --data "$work/d" record --hide-output --runs "$runs" --accounting time -- "$@"
  measure record-10 "$runlens" --data "$work/d" record --hide-output --runs "$runs" --sample-interval 10 --accounting time -- "$@"
done

python3 - "$work/results" "$runs" "$quoted" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
runs = int(sys.argv[2])
order = ["bare", "hyperfine", "record-off", "record-rusage", "record-100", "record-10"]
med = {n: (statistics.median(float(r[1]) for r in rows if r[0] == n),
           statistics.median(float(r[2]) for r in rows if r[0] == n)) for n in order}
bw, bc = med["bare"]
print(f"{runs} runs of `{sys.argv[3].strip()}`, median of {len(rows) // len(order)} batches")
print(f"| way | batch wall s | batch CPU s | wall overhead per run ms | CPU overhead per run ms |")
print("| --- | ---: | ---: | ---: | ---: |")
for n in order:
    w, c = med[n]
    print(f"| {n} | {w:.2f} | {c:.2f} | {(w - bw) / runs * 1000:.1f} | {(c - bc) / runs * 1000:.1f} |")
PY
