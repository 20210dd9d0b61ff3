#!/usr/bin/env bash
# The README's first command: installs what waitscope needs, builds it, and
# records the bundled demo workload (tools/demo/slow_service), then says where
# the report went. Needs root (apt-get, and BPF to record).
#   tools/quickstart-demo.sh [OUTPUT_DIR]     (default: ./demo-report)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-demo-report}

./tools/install-deps.sh
./tools/build.sh build
echo
echo "== waitscope record -o $out -- slow_service 5 =="
./build/agent/cli/waitscope record -o "$out" -- ./build/tools/demo/slow_service 5
echo
echo "Report written to $(realpath "$out")/:"
echo "  report.txt      the summary above"
echo "  flamegraph.svg  open in a browser: where the demo's threads were blocked"
echo "  report.json     machine-readable (docs/outputs.md)"
echo "  waits.folded    folded stacks for flamegraph.pl, inferno, speedscope"
echo "  waits.pb.gz     pprof: go tool pprof -top $out/waits.pb.gz"
