#!/usr/bin/env bash
# Regenerates the example charts of docs/guide.md (one of each kind) from the bundled
# samples and two short recordings of the demo workflow labelled version=1.4 and 1.5, and
# the release comparison example (docs/charts/release.md, and release.png: its HTML page in
# headless Chromium) from two recordings of eight runs, 1.5 a quarter slower.
#
#   docs/charts/make.sh                      # a release build
#   RUNLENS=target/debug/runlens docs/charts/make.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RUNLENS:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  RUNLENS=$root/target/release/runlens
fi
runlens=$(cd "$root" && realpath "$RUNLENS")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
"$runlens" --data "$work/d" ingest sample-data/latency sample-data/sessions >/dev/null || true
for version in 1.4 1.5; do
  "$runlens" --data "$work/d" record --runs 3 --hide-output --label "version=$version" \
    -- sample-data/workflow/demo-workflow.sh "$work/out" >/dev/null 2>&1
done
"$runlens" --data "$work/d" report --by version --format html --out "$work/report.html" \
  --charts docs/charts >/dev/null || true

# Every bundled sample at once: three unrelated workflows, one panel each.
"$runlens" --data "$work/s" ingest sample-data >/dev/null || true
"$runlens" --data "$work/s" report --format md --charts "$work/s-charts" >/dev/null || true
cp "$work/s-charts/phases.png" docs/charts/phases-by-workflow.png
ls docs/charts/*.png

# The release comparison: 1.4 against 1.5 (every phase 25 % slower), with sessions whose
# tools were called (1.4) and the sample sessions that made none (1.5).
"$runlens" --data "$work/r" ingest --label version=1.4 sample-data/sessions/anthropic >/dev/null
"$runlens" --data "$work/r" ingest --label version=1.5 sample-data/sessions/agent-workflow >/dev/null
for version in 1.4 1.5; do
  scale=1; [ "$version" = 1.5 ] && scale=1.25
  "$runlens" --data "$work/r" record --runs 8 --hide-output --label "version=$version" \
    -- sample-data/workflow/demo-workflow.sh "$work/out" "$scale" >/dev/null 2>&1
done
"$runlens" --data "$work/r" report --baseline version=1.4 --candidate version=1.5 \
  --format md --out docs/charts/release.md || true
"$runlens" --data "$work/r" report --baseline version=1.4 --candidate version=1.5 \
  --format html --out "$work/release.html" || true
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
  --window-size=1100,2400 --screenshot="$root/docs/charts/release.png" \
  "file://$work/release.html" >/dev/null 2>&1
ls docs/charts/release.*
