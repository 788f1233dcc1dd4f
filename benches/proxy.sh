#!/usr/bin/env bash
# The latency and throughput the recording proxy adds, side by side with a direct connection
# to the same upstream, and the probe's timing error against injected delays
# (docs/benchmarks.md).
#
#   benches/proxy.sh [REQUESTS] [CONCURRENCY]     defaults: 2000, 8
#   REPEAT=3 benches/proxy.sh
#
# The upstream is the tests' fake provider (examples/fake_provider.rs) on loopback with no
# injected delay, so what is measured is HTTP and the proxy, not a model. The load is
# examples/llm_load.rs: REQUESTS chat completions, CONCURRENCY at a time, latency to the
# last byte. Each round runs, interleaved:
#   direct     llm_load against the upstream
#   proxy      runlens record --runs 1 --capture -- llm_load (OPENAI_BASE_URL = the proxy);
#              every call recorded and written to the dataset
# for whole replies and for streamed ones (3 content chunks + usage + [DONE]).
# Then the probe: 50 streamed requests against an upstream injecting 200 ms to the first
# token and 50 ms between chunks; its TTFT and gap percentiles against those figures.
set -euo pipefail
requests=${1:-2000}
concurrency=${2:-8}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin runlens --examples
bin=$root/target/release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin/examples/fake_provider" 0 0 > "$work/upstream" &
for _ in $(seq 50); do [ -s "$work/upstream" ] && break; sleep 0.1; done
upstream=$(head -1 "$work/upstream")

for round in $(seq "$repeat"); do
  for mode in whole stream; do
    arg=""; [ "$mode" = stream ] && arg=stream
    direct=$(OPENAI_BASE_URL="$upstream/v1" "$bin/examples/llm_load" "$requests" "$concurrency" $arg)
    rm -rf "$work/data"
    "$bin/runlens" --data "$work/data" record --runs 1 --hide-output --capture \
      --upstream "openai=$upstream/v1" -- sh -c "\"$bin/examples/llm_load\" $requests $concurrency $arg > \"$work/proxied\"" >/dev/null 2>&1
    proxied=$(cat "$work/proxied")
    recorded=$("$bin/runlens" --data "$work/data" query --format csv "SELECT count(*) FROM llm_calls" | tail -1)
    echo "round $round $mode direct  $direct"
    echo "round $round $mode proxy   $proxied recorded=$recorded"
  done
done

kill %1 2>/dev/null || true
"$bin/examples/fake_provider" 200 50 > "$work/slow" &
for _ in $(seq 50); do [ -s "$work/slow" ] && break; sleep 0.1; done
slow=$(head -1 "$work/slow")
echo "probe against 200 ms TTFT / 50 ms gaps:"
OPENAI_API_KEY=sk-bench "$bin/runlens" --data "$work/probe" probe --provider openai \
  --base-url "$slow/v1" --model fake-text --requests 50 --concurrency 4 --format json 2>/dev/null
