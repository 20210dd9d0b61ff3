#!/usr/bin/env python3
"""Loopback TCP proxy that records a connection's bytes for parser test data.

    tcp_capture_proxy.py LISTEN_PORT UPSTREAM_PORT OUT_DIR [--max-conns N]

Listens on 127.0.0.1:LISTEN_PORT, forwards each connection to
127.0.0.1:UPSTREAM_PORT, and writes OUT_DIR/conn-<n>.capture: one JSON object
per line, {"dir": "request"|"response", "ts_ns": <monotonic ns>,
"data_b64": "..."} in the order the proxy saw the chunks. That is the format
tests/unit/protocols/capture.h replays. Point a real client (psql, pgbench,
redis-cli, curl) at LISTEN_PORT. Stops after --max-conns connections closed
(default: runs until killed). Loopback only.
"""
import argparse
import base64
import json
import os
import selectors
import socket
import threading
import time


def pump(client, upstream, out_path):
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, "request")
    sel.register(upstream, selectors.EVENT_READ, "response")
    peers = {"request": upstream, "response": client}
    with open(out_path, "w") as out:
        open_dirs = 2
        while open_dirs:
            for key, _ in sel.select():
                data = key.fileobj.recv(65536)
                direction = key.data
                if not data:
                    sel.unregister(key.fileobj)
                    open_dirs -= 1
                    try:
                        peers[direction].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                out.write(json.dumps({"dir": direction, "ts_ns": time.monotonic_ns(),
                                      "data_b64": base64.b64encode(data).decode()}) + "\n")
                peers[direction].sendall(data)
    client.close()
    upstream.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("listen_port", type=int)
    ap.add_argument("upstream_port", type=int)
    ap.add_argument("out_dir")
    ap.add_argument("--max-conns", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.listen_port))
    srv.listen(64)
    print(f"capturing 127.0.0.1:{args.listen_port} -> 127.0.0.1:{args.upstream_port} into {args.out_dir}",
          flush=True)
    threads = []
    n = 0
    while not args.max_conns or n < args.max_conns:
        client, _ = srv.accept()
        upstream = socket.create_connection(("127.0.0.1", args.upstream_port))
        n += 1
        t = threading.Thread(target=pump, args=(client, upstream,
                                                os.path.join(args.out_dir, f"conn-{n}.capture")))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
