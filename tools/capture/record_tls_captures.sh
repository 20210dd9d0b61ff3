#!/bin/bash
# Records the TLS handshake captures of agent/protocols/tls/testdata with the
# openssl CLI (s_server -rev / s_client) through tcp_capture_proxy.py on
# 127.0.0.1. Each scenario sends one line of application data, then quits.
#
#   tools/capture/record_tls_captures.sh [OUT_DIR]   (default: the testdata dir)
#
# Needs: openssl (CLI), /usr/bin/python3. Ports 47431/47432 on loopback.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../agent/protocols/tls/testdata}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
server_pid=""
proxy_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

server_port=47431
proxy_port=47432
python=/usr/bin/python3

newcert() {  # newcert NAME CN
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=$2" -keyout "$work/$1.key" -out "$work/$1.pem" 2>/dev/null
}
newcert server localhost
newcert otherca "Some Other CA"

wait_port() {
  for _ in $(seq 100); do
    # Checks the listening socket without connecting: a probe connection
    # would count against s_server -naccept and the proxy's --max-conns.
    if [ -n "$(ss -Hltn "sport = :$1")" ]; then return 0; fi
    sleep 0.05
  done
  echo "port $1 did not open" >&2
  return 1
}

# A client run: send one line, stay up a moment (TLS 1.3 tickets arrive after
# the handshake), then EOF makes s_client close the connection.
client() {
  (printf 'hello tls\n'; sleep 0.5) |
    openssl s_client -connect "127.0.0.1:$proxy_port" -servername localhost -no_ign_eof "$@" \
      >"$work/client.log" 2>&1 || true
}

# record NAME CONNS "SERVER_ARGS" then one client() call per connection
# (given as functions run_1 .. run_N). Keeps the last connection's capture.
record() {
  local name=$1 conns=$2 server_args=$3
  rm -rf "$work/cap"
  # shellcheck disable=SC2086
  openssl s_server -accept "$server_port" -cert "$work/server.pem" -key "$work/server.key" \
    -rev -naccept "$conns" $server_args >"$work/server.log" 2>&1 </dev/null &
  server_pid=$!
  wait_port "$server_port"
  "$python" "$here/tcp_capture_proxy.py" "$proxy_port" "$server_port" "$work/cap" \
    --max-conns "$conns" >/dev/null &
  proxy_pid=$!
  wait_port "$proxy_port"
  for i in $(seq "$conns"); do "run_$i"; done
  for _ in $(seq 100); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.05; done
  kill "$proxy_pid" "$server_pid" 2>/dev/null || true
  wait "$proxy_pid" "$server_pid" 2>/dev/null || true
  proxy_pid="" server_pid=""
  cp "$work/cap/conn-$conns.capture" "$out/$name.capture"
  echo "recorded $name"
}

sess="$work/session.pem"

run_1() { client -tls1_2; }
record tls12_full 1 "-tls1_2"

run_1() { client -tls1_2 -sess_out "$sess"; }
run_2() { client -tls1_2 -sess_in "$sess"; }
record tls12_resumed_session_id 2 "-tls1_2 -no_ticket"

run_1() { client -tls1_2 -sess_out "$sess"; }
run_2() { client -tls1_2 -sess_in "$sess"; }
record tls12_resumed_ticket 2 "-tls1_2"

run_1() { client -tls1_3; }
record tls13_full 1 "-tls1_3 -num_tickets 1"

run_1() { client -tls1_3 -sess_out "$sess"; }
run_2() { client -tls1_3 -sess_in "$sess"; }
record tls13_psk_resumed 2 "-tls1_3 -num_tickets 1"

# The client's key share is for X25519 (its first group); the server only
# accepts P-256, so it answers HelloRetryRequest.
run_1() { client -tls1_3 -groups X25519:P-256; }
record tls13_hello_retry 1 "-tls1_3 -num_tickets 1 -groups P-256"

# The client trusts only another CA: it rejects the server's certificate with
# a fatal alert (cleartext in 1.2, encrypted with handshake keys in 1.3).
run_1() { client -tls1_2 -verify_return_error -CAfile "$work/otherca.pem"; }
record tls12_bad_cert 1 "-tls1_2"

run_1() { client -tls1_3 -verify_return_error -CAfile "$work/otherca.pem"; }
record tls13_bad_cert 1 "-tls1_3 -num_tickets 1"

# The server speaks only TLS 1.3, the client only 1.2: protocol_version alert
# before any ServerHello.
run_1() { client -tls1_2; }
record version_mismatch 1 "-tls1_3"
