#!/usr/bin/env bash
# A small stand-in for an LLM agent workflow, used by the README, the tests and the
# benchmarks. It prints runlens phase markers and token counts as agent frameworks do,
# sleeps, holds some memory, and writes output files (announced with `::runlens artifact`).
#
#   demo-workflow.sh [OUTPUT_DIR] [SCALE]
#
# OUTPUT_DIR defaults to ./demo-output; SCALE (default 1) multiplies the sleeps.
set -euo pipefail
out=${1:-demo-output}
scale=${2:-1}
mkdir -p "$out"

stamp() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
nap() { sleep "$(awk -v s="$1" -v k="$scale" 'BEGIN { printf "%.3f", s * k }')"; }

echo "[$(stamp)] ::runlens phase discovery"
nap 0.20
echo "[$(stamp)] input_tokens=812 output_tokens=64"

echo "[$(stamp)] ::runlens phase analysis"
# Hold ~32 MiB for a moment: a buffer the shell keeps while sleeping.
buffer=$(head -c 33554432 /dev/zero | tr '\0' 'x')
nap 0.30
echo "[$(stamp)] input_tokens=1530 output_tokens=402"
unset buffer

echo "[$(stamp)] ::runlens phase report"
printf '# Report\n\nAll phases ran.\n' > "$out/report.md"
printf '{"status": "ok"}\n' > "$out/summary.json"
nap 0.10
echo "[$(stamp)] ::runlens artifact $out/report.md"
echo "[$(stamp)] ::runlens artifact $out/summary.json"
echo "[$(stamp)] input_tokens=640 output_tokens=980"
echo "[$(stamp)] ::runlens end"
echo "[$(stamp)] done: 2 files written to $out"
