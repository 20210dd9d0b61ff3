#!/bin/sh
# Re-records the event-stream fixtures of tests/unit/findings/replay_test.cc:
# the shop demo (tools/demo/shop) run under `waitscope record --save-events`,
# one short run per scenario and its fixed twin, plus signup_errors (the
# sync_email anti-pattern while a few signups fail with HTTP 503).
#
#   sudo tests/unit/findings/streams/record.sh [WAITSCOPE_BINARY]
#
# Needs root and the demo's packages (tools/demo/shop/README.md); the binary
# defaults to build/agent/cli/waitscope. Writes SCENARIO.jsonl and
# SCENARIO.fixed.jsonl next to this script, replacing the old ones. Runs are
# kept small (few clients, a paced rate, about a second of load) so that
# each file stays well under 300 KB; to shrink a fixture, run fewer requests
# here, never edit the files. The tests assert on what the demo does (orders
# per request, pool size...), not on counts of one recording, so re-recorded
# streams must pass unchanged; review `git diff --stat` for their sizes.
#
# Internal: `record.sh --errors-wrapper WAITSCOPE OUT -- CMD...` is the
# service wrapper of the signup_errors run.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../.." && pwd)
PY=/usr/bin/python3

if [ "${1:-}" = "--errors-wrapper" ]; then
  # Runs the service under waitscope and, once it is ready, sends signups
  # whose e-mail address is not ASCII: the SMTP sink offers no SMTPUTF8, so
  # smtplib fails after the INSERT and the service answers 503.
  ws=$2 out=$3
  shift 4
  ready=""
  prev=""
  for a in "$@"; do
    [ "$prev" = "--ready-file" ] && ready=$a
    prev=$a
  done
  "$ws" record -q --save-events "$HERE/signup_errors.jsonl" -o "$out/waitscope" -- "$@" &
  ws_pid=$!
  "$PY" - "$ready" <<'EOF' &
import json, os, sys, time, urllib.request, urllib.error
ready = sys.argv[1]
for _ in range(600):
    if os.path.exists(ready):
        break
    time.sleep(0.1)
port = json.load(open(ready))["port"]
for i in range(6):
    body = json.dumps({"email": f"\u00fcml\u00e4ut-{i}@example.com", "name": "err"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/signup", data=body, method="POST")
    try:
        urllib.request.urlopen(req, timeout=30)
        print("signup_errors: expected a 503, got a success", file=sys.stderr)
    except urllib.error.HTTPError as e:
        if e.code != 503:
            print(f"signup_errors: expected a 503, got {e.code}", file=sys.stderr)
EOF
  wait "$ws_pid"
  exit $?
fi

WAITSCOPE=${1:-$REPO/build/agent/cli/waitscope}
[ -x "$WAITSCOPE" ] || { echo "record.sh: no waitscope binary at $WAITSCOPE" >&2; exit 1; }
TMP=$(mktemp -d)
# RECORD_KEEP=1 keeps the demo's reports (to compare them with replays).
if [ -n "${RECORD_KEEP:-}" ]; then echo "record.sh: demo output in $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi
ONLY=${RECORD_ONLY:-}  # one scenario (or signup_errors) instead of all

# scenario clients rate(req/s per client) duration(s) extension
# cache_miss: its fixed twin needs ~500 reads before 50 cold misses fall
# below 10 %, so its streams are gzip'd to stay small. event_loop_blocked:
# at least 3 clients, else the blocked loop serves one request at a time and
# no two requests of its thread overlap (it would not look like a loop).
while read -r scenario clients rate duration ext; do
  [ -z "$ONLY" ] || [ "$ONLY" = "$scenario" ] || continue
  "$PY" "$REPO/tools/demo/shop/run_demo.py" --scenario "$scenario" --twins \
    --clients "$clients" --rate "$rate" --duration "$duration" --out "$TMP/$scenario" \
    --service-wrapper "$WAITSCOPE record -q --save-events $HERE/{run}.$ext -o {out}/waitscope --"
done <<'EOF'
n_plus_one 2 10 1 jsonl
sync_email 2 10 1 jsonl
pool_exhaustion 8 4 1 jsonl
cache_miss 2 250 1 jsonl.gz
slow_query 2 5 1 jsonl
tls_handshake 2 10 1 jsonl
connection_churn 2 10 1 jsonl
event_loop_blocked 4 10 1 jsonl
EOF

[ -z "$ONLY" ] || [ "$ONLY" = signup_errors ] &&
"$PY" "$REPO/tools/demo/shop/run_demo.py" --scenario sync_email --clients 1 --rate 5 \
  --duration 1 --out "$TMP/errors" \
  --service-wrapper "$HERE/record.sh --errors-wrapper $WAITSCOPE {out} --"
ls -l "$HERE"/*.jsonl*
