#!/usr/bin/python3
"""Load driver for the shop demo: N client threads send requests to one or
more endpoints until a duration or a request count is reached, then it
writes what it measured as JSON.

    load.py --base http://127.0.0.1:8080 --endpoint orders --clients 8 \
            --duration 6 [--max-requests 100000] [--rate 50] --out load.json
    load.py --base https://127.0.0.1:8443 --endpoint catalog --ca cert.pem \
            --tls-max 1.2 --no-keepalive --no-session-reuse ...

Endpoints: orders, signup, report, product, search, profile, catalog,
healthz, newsletter (the service's asyncio listener: --base is its loop
port); several --endpoint options mix them (each request picks one at
random).

Each client keeps its connection alive unless told not to (or the server
answers Connection: close). With --reconnect-every N it reconnects after N
requests on a connection, offering the previous TLS session for resumption
unless --no-session-reuse.

Output JSON: {"requests", "errors", "elapsed_s", "endpoints": {"GET /orders":
{"count", "status": {...}, "latency_ms": {"p50", "p95", "mean", "max"},
"facts": {"orders": {"count", "sum", "mean", "min", "max", "p50", "p95"}, ...}}},
"connections": {"opened", "tls": {"handshakes", "resumed", "versions"}}}.
`facts` summarise the X-Shop-* response headers, i.e. what the service says
each request did. Stdlib only; run with /usr/bin/python3.
"""

import argparse
import http.client
import json
import random
import socket
import ssl
import sys
import threading
import time
import urllib.parse

CUSTOMERS_WITH_ORDERS = 2000  # run_demo.py seeds 10 orders for customers 1..2000
HOT_PRODUCTS = 50  # product ids requested: a small hot set a cache can hold

ENDPOINTS = {
    # name: (method, endpoint as waitscope templates it)
    "orders": ("GET", "GET /orders"),
    "signup": ("POST", "POST /signup"),
    "report": ("GET", "GET /report"),
    "product": ("GET", "GET /product/{id}"),
    "search": ("GET", "GET /search"),
    "profile": ("GET", "GET /profile"),
    "catalog": ("GET", "GET /catalog"),
    "healthz": ("GET", "GET /healthz"),
    "newsletter": ("POST", "POST /newsletter"),
}


def make_request(name, rng, client, seq, run_tag):
    """(method, path, body) for one request to endpoint `name`."""
    customer = rng.randint(1, CUSTOMERS_WITH_ORDERS)
    if name == "orders":
        return "GET", f"/orders?customer={customer}", None
    if name == "signup":
        body = json.dumps({"email": f"new-{run_tag}-{client}-{seq}@example.com",
                           "name": f"client {client}"}).encode()
        return "POST", "/signup", body
    if name == "newsletter":
        body = json.dumps({"email": f"reader-{run_tag}-{client}-{seq}@example.com"}).encode()
        return "POST", "/newsletter", body
    if name == "report":
        return "GET", f"/report?from={rng.randint(1, CUSTOMERS_WITH_ORDERS - 20)}", None
    if name == "product":
        return "GET", f"/product/{rng.randint(1, HOT_PRODUCTS)}", None
    if name == "search":
        return "GET", f"/search?email=customer{customer}%40example.com", None
    if name == "profile":
        return "GET", f"/profile?customer={customer}", None
    return "GET", f"/{name}", None


class TlsConnection(http.client.HTTPConnection):
    """HTTPS with control over the TLS session offered for resumption (the
    stdlib HTTPSConnection offers none)."""

    default_port = 443

    def __init__(self, host, port, context, session_holder, timeout):
        super().__init__(host, port, timeout=timeout)
        self._context = context
        self._holder = session_holder  # {"session": ssl.SSLSession or None}

    def connect(self):
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host,
                                              session=self._holder.get("session"))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}  # endpoint -> [ms]
        self.status = {}  # endpoint -> {status: n}
        self.facts = {}  # endpoint -> {fact: [values]}
        self.errors = []
        self.connections = 0
        self.handshakes = 0
        self.resumed = 0
        self.versions = {}

    def add(self, endpoint, status, ms, facts):
        with self.lock:
            self.latency.setdefault(endpoint, []).append(ms)
            st = self.status.setdefault(endpoint, {})
            st[str(status)] = st.get(str(status), 0) + 1
            per = self.facts.setdefault(endpoint, {})
            for k, v in facts.items():
                per.setdefault(k, []).append(v)

    def connected(self, sock):
        with self.lock:
            self.connections += 1
            if isinstance(sock, ssl.SSLSocket):
                self.handshakes += 1
                self.resumed += 1 if sock.session_reused else 0
                v = sock.version()
                self.versions[v] = self.versions.get(v, 0) + 1

    def error(self, what):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(what)
            self.status.setdefault("errors", {"count": 0})["count"] += 1


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def summary(values):
    return {"count": len(values), "sum": sum(values), "mean": sum(values) / len(values),
            "min": min(values), "max": max(values), "p50": percentile(values, 50),
            "p95": percentile(values, 95)}


class Client(threading.Thread):
    def __init__(self, index, args, stats, budget, deadline):
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.args, self.stats = index, args, stats
        self.budget, self.deadline = budget, deadline
        self.rng = random.Random(args.seed * 1000 + index)
        url = urllib.parse.urlsplit(args.base)
        self.host, self.port = url.hostname, url.port
        self.tls = url.scheme == "https"
        self.session = {"session": None}
        self.conn = None
        self.on_conn = 0
        if self.tls:
            ctx = ssl.create_default_context(cafile=args.ca)
            ctx.check_hostname = False  # a self-signed cert for 127.0.0.1
            if args.tls_max == "1.2":
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            elif args.tls_min == "1.3":
                ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            self.ctx = ctx

    def _connection(self):
        if self.conn is None:
            if self.tls:
                self.conn = TlsConnection(self.host, self.port, self.ctx, self.session,
                                          timeout=30)
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.stats.connected(self.conn.sock)
            self.on_conn = 0
        return self.conn

    def _close(self):
        if self.conn is not None:
            sock = self.conn.sock
            if self.tls and sock is not None and not self.args.no_session_reuse:
                # TLS 1.3 tickets arrive after the handshake: read now.
                self.session["session"] = sock.session
            self.conn.close()
            self.conn = None

    def run(self):
        seq = 0
        interval = 1.0 / self.args.rate if self.args.rate > 0 else 0.0
        next_at = time.monotonic()
        while time.monotonic() < self.deadline and self.budget.take():
            seq += 1
            if interval:
                # Paced like a user, not a benchmark: at most --rate requests/s.
                next_at += interval
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                else:
                    next_at = time.monotonic()
            name = self.rng.choice(self.args.endpoint)
            method, path, body = make_request(name, self.rng, self.index, seq, self.args.run_tag)
            endpoint = ENDPOINTS[name][1]
            headers = {"Content-Type": "application/json"} if body else {}
            if self.args.no_keepalive:
                headers["Connection"] = "close"
            try:
                conn = self._connection()
                t0 = time.monotonic()
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ms = (time.monotonic() - t0) * 1000.0
                facts = {}
                for k, v in resp.getheaders():
                    if k.lower().startswith("x-shop-"):
                        try:
                            facts[k[7:].lower().replace("-", "_")] = float(v)
                        except ValueError:
                            pass
                self.stats.add(endpoint, resp.status, ms, facts)
                self.on_conn += 1
                if (resp.will_close or self.args.no_keepalive
                        or (self.args.reconnect_every and
                            self.on_conn >= self.args.reconnect_every)):
                    self._close()
            except (OSError, http.client.HTTPException) as e:
                self.stats.error(f"{endpoint}: {type(e).__name__}: {e}")
                self._close()
        self._close()


class Budget:
    """At most `n` requests over all clients (0: unbounded)."""

    def __init__(self, n):
        self.left = n
        self.lock = threading.Lock()

    def take(self):
        if self.left is None:
            return True
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="http://HOST:PORT or https://HOST:PORT")
    ap.add_argument("--endpoint", action="append", required=True, choices=sorted(ENDPOINTS))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=6.0, help="seconds")
    ap.add_argument("--max-requests", type=int, default=200000)
    ap.add_argument("--rate", type=float, default=0,
                    help="at most this many requests/s per client (0: as fast as answered)")
    ap.add_argument("--ca", help="CA file for https")
    ap.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3")
    ap.add_argument("--tls-min", choices=("1.2", "1.3"), default="1.2")
    ap.add_argument("--no-keepalive", action="store_true", help="a new connection per request")
    ap.add_argument("--no-session-reuse", action="store_true")
    ap.add_argument("--reconnect-every", type=int, default=0,
                    help="reconnect after this many requests on one connection (0: never)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--run-tag", default=str(int(time.time() * 1000)),
                    help="makes signup e-mail addresses unique across runs")
    ap.add_argument("--out", help="write the JSON here (default: stdout)")
    args = ap.parse_args()

    stats = Stats()
    budget = Budget(args.max_requests if args.max_requests > 0 else None)
    t0 = time.monotonic()
    clients = [Client(i, args, stats, budget, t0 + args.duration) for i in range(args.clients)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(args.duration + 60)
    elapsed = time.monotonic() - t0

    endpoints = {}
    for ep, lat in stats.latency.items():
        endpoints[ep] = {
            "count": len(lat), "status": stats.status.get(ep, {}),
            "latency_ms": {"p50": percentile(lat, 50), "p95": percentile(lat, 95),
                           "mean": sum(lat) / len(lat), "max": max(lat)},
            "facts": {k: summary(v) for k, v in stats.facts.get(ep, {}).items()},
        }
    out = {"requests": sum(e["count"] for e in endpoints.values()),
           "errors": stats.status.get("errors", {}).get("count", 0),
           "error_samples": stats.errors, "elapsed_s": elapsed, "clients": args.clients,
           "endpoints": endpoints,
           "connections": {"opened": stats.connections,
                           "tls": {"handshakes": stats.handshakes, "resumed": stats.resumed,
                                   "versions": stats.versions}}}
    text = json.dumps(out, indent=1, sort_keys=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0 if out["requests"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
