#!/usr/bin/env bash
# The README's first command: installs what waitscope and the demo need,
# builds waitscope, and records the bundled demo: a small Python web shop
# (tools/demo/shop: PostgreSQL, Redis, an SMTP sink, HTTPS) running with
# every anti-pattern waitscope knows switched on, under a short load. Then it
# prints the report: the findings first, then where each endpoint's time goes.
# Needs root (apt-get, BPF).
#   tools/quickstart-demo.sh [OUTPUT_DIR]     (default: ./demo-report)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-demo-report}

./tools/install-deps.sh --demo
./tools/build.sh build
rm -rf "$out"
echo
echo "== the shop demo under waitscope record (about 30 s) =="
/usr/bin/python3 tools/demo/shop/run_demo.py --scenario mixed --duration 10 --out "$out" \
  --service-wrapper "$PWD/build/agent/cli/waitscope record -q -o {out}/waitscope --"
report=$(dirname "$(find "$out" -name report.json -path '*waitscope*' | head -n 1)")
echo
cat "$report/report.txt"
echo
echo "Report written to $(realpath "$report")/:"
echo "  report.txt       the summary above"
echo "  report.json      machine-readable (docs/outputs.md), findings with their evidence"
echo "  requests.svg     where each endpoint's time goes (open in a browser)"
echo "  flamegraph.svg   where the service's threads were blocked"
echo "  requests.pb.gz, waits.pb.gz   pprof: go tool pprof -top $report/requests.pb.gz"
echo "  requests.folded, waits.folded folded stacks for flamegraph.pl, inferno, speedscope"
echo "What the demo did, for comparison: $(realpath "$out")/truth.json"
