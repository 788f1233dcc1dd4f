#!/usr/bin/env bash
# Regenerates the example charts of docs/guide.md (one of each kind) from the bundled
# samples and two short recordings of the demo workflow labelled version=1.4 and 1.5.
#
#   docs/charts/make.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
runlens=$root/target/release/runlens
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
ls docs/charts/*.png
