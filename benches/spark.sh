#!/usr/bin/env bash
# `runlens analyze` on the embedded engine and on Spark (`--engine spark`, local mode) on the
# same synthetic dataset (docs/benchmarks.md, docs/cluster.md).
#
#   benches/spark.sh [RUNS] [CALLS_PER_RUN] [WORK_DIR]    defaults: 100000, 100 (10 M calls)
#   MASTER='local[2]' DRIVER_MEMORY=8g ANALYZE_ARGS="--by model --phase" REPEAT=1 benches/spark.sh
#
# Writes the dataset once with examples/synthetic_dataset.rs (seed 1) into WORK_DIR/data
# (default /tmp/runlens-spark-<runs>x<calls>), then per round: `analyze --format json` locally
# and with `--engine spark --spark-master $MASTER`, each timed (wall) with the peak resident
# memory of runlens itself (VmHWM of its process, polled) and, for Spark, of the JVM
# spark-sql starts (GNU time on a wrapper; the largest of its two runs). The two outputs must
# be equal (counts exact, figures within a relative 1e-9) before any figure is printed.
# Needs GNU time, Java 17 and pyspark (pip install -r tests/engines/requirements.txt).
set -euo pipefail
runs=${1:-100000}
calls=${2:-100}
work=${3:-/tmp/runlens-spark-${runs}x${calls}}
master=${MASTER:-local[2]}
# In local mode the executors live in the driver's JVM: its heap holds the exact percentiles'
# per-group value counts (Spark's default, 1 GiB, runs out at 10 M calls).
driver_memory=${DRIVER_MEMORY:-8g}
repeat=${REPEAT:-1}
read -r -a args <<< "${ANALYZE_ARGS:---by model --phase}"
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }
command -v spark-sql >/dev/null || python3 -m pip install --quiet -r "$root/tests/engines/requirements.txt"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin runlens --example synthetic_dataset
target=${CARGO_TARGET_DIR:-$root/target}/release
runlens=$target/runlens
[ -d "$work/data" ] || "$target/examples/synthetic_dataset" "$work/data" "$runs" "$calls" 1
# spark-sql under GNU time: the JVM's peak RSS, one file per script.
cat > "$work/spark-sql" <<EOF
#!/usr/bin/env bash
exec /usr/bin/time -f %M -a -o "$work/jvm-rss" "$(command -v spark-sql)" "\$@"
EOF
chmod +x "$work/spark-sql"

measure() { # measure OUT -- command...: wall seconds and runlens's own peak RSS (MiB)
  python3 - "$@" <<'PY'
import subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[3:]
start = time.monotonic()
with open(out, "w") as sink:
    p = subprocess.Popen(cmd, stdout=sink)
    peak = 0
    while p.poll() is None:
        try:
            for line in open(f"/proc/{p.pid}/status"):
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.05)
wall = time.monotonic() - start
if p.returncode != 0:
    sys.exit(f"{cmd} exited {p.returncode}")
print(f"{wall:.1f} {peak / 1024:.0f}")
PY
}

echo "dataset: $work/data ($(du -sh "$work/data" | cut -f1)); analyze ${args[*]}; Spark $master, driver memory $driver_memory"
for round in $(seq "$repeat"); do
  read -r local_s local_mib < <(measure "$work/local.json" -- "$runlens" --data "$work/data" analyze --format json "${args[@]}")
  rm -f "$work/jvm-rss"
  read -r spark_s spark_mib < <(measure "$work/spark.json" -- "$runlens" --data "$work/data" analyze --format json "${args[@]}" \
    --engine spark --spark-master "$master" --spark-sql "$work/spark-sql" --spark-conf "spark.driver.memory=$driver_memory")
  jvm_mib=$(sort -n "$work/jvm-rss" | tail -1 | awk '{printf "%.0f", $1 / 1024}')
  python3 - "$work/local.json" "$work/spark.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["method"] == b["method"], (a["method"], b["method"])
assert len(a["rows"]) == len(b["rows"]), (len(a["rows"]), len(b["rows"]))
def same(x, y):
    if isinstance(x, float) or isinstance(y, float):
        return x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y))
    return x == y
for r, s in zip(a["rows"], b["rows"]):
    for k in set(r) | set(s):
        assert same(r.get(k), s.get(k)), (r.get("metric"), r.get("phase"), k, r.get(k), s.get(k))
print(f"  outputs equal: {len(a['rows'])} rows")
PY
  echo "round $round: local ${local_s} s, runlens ${local_mib} MiB | spark ${spark_s} s, runlens ${spark_mib} MiB, JVM ${jvm_mib} MiB"
done
