#!/usr/bin/python3
"""The shop backend: a thread-per-request HTTP/1.1 server with switchable
anti-patterns, the workload waitscope's findings are tested against.

Model: one accept thread per listener puts accepted sockets on a queue; a
FIXED pool of worker threads takes one connection each and serves its
requests end to end (keep-alive), like a Python/Ruby worker-pool server. A
request's database statements, Redis commands, SMTP dialogue and TLS
handshake all happen on the worker thread that serves it.

Besides, POST /newsletter has a listener of its own (--loop-port) served by
an asyncio event loop on ONE thread (named `shop-loop`): every connection is
a coroutine on that thread, so requests are served interleaved, like an
aiohttp/uvicorn worker.

Backends: PostgreSQL through psycopg2 and a bounded connection pool (a
queue.Queue of connections: a request blocks on it when every connection is
out), Redis through redis-py, mail through smtplib to a local SMTP server.

Endpoints (the scenario each belongs to; README.md has the details):
    GET  /orders?customer=ID    n_plus_one        --anti n_plus_one: a query per order
    POST /signup                sync_email        --anti sync_email: smtplib on the request thread
    GET  /report                pool_exhaustion   (pool size: --pool-size)
    GET  /product/ID            cache_miss        --anti cache_miss: never populates Redis
    GET  /search?email=E        slow_query        (index or not: the database's state)
    GET  /catalog               tls_handshake     --anti tls_handshake: TLS 1.2, close per response
    GET  /profile?customer=ID   connection_churn  --anti connection_churn: connect per request
    GET  /healthz
    POST /newsletter            event_loop_blocked  (loop port) --anti event_loop_blocked:
                                smtplib called synchronously on the event loop's thread

Each response carries X-Shop-* headers saying what the request did (queries,
orders listed, connects, pool wait, SMTP time, cache hit...), so the load
driver can report what the demo knows without trusting waitscope.

The ready file (written once every listener is up) holds {"pid", "port",
"tls_port", "loop_port"}. SIGTERM/SIGINT stop it; --stats-file then gets the totals.
Debian's /usr/bin/python3 with python3-psycopg2 and python3-redis.
"""

import argparse
import asyncio
import ctypes
import json
import os
import queue
import signal
import smtplib
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler

import psycopg2
import redis

SCENARIOS = ("n_plus_one", "sync_email", "pool_exhaustion", "cache_miss", "slow_query",
             "tls_handshake", "connection_churn", "event_loop_blocked")


# ---- PostgreSQL connection pool -----------------------------------------------------------


class Pool:
    """A fixed number of connections opened at start; get() blocks (on the
    queue's lock/condition) while every connection is lent out."""

    def __init__(self, dsn, size):
        self.dsn = dsn
        self.size = size
        self._free = queue.Queue()
        for _ in range(size):
            self._free.put(connect(dsn))

    def get(self):
        return self._free.get()

    def put(self, conn):
        self._free.put(conn)

    def close(self):
        while True:
            try:
                self._free.get_nowait().close()
            except queue.Empty:
                return


def connect(dsn):
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    return conn


class Borrowed:
    """`with Borrowed(pool, facts) as cur:` a cursor on a pooled connection;
    the time spent waiting for it goes to facts["pool_wait_us"]."""

    def __init__(self, pool, facts):
        self.pool, self.facts, self.conn = pool, facts, None

    def __enter__(self):
        t0 = time.monotonic()
        self.conn = self.pool.get()
        self.facts["pool_wait_us"] = int((time.monotonic() - t0) * 1e6)
        self.cur = self.conn.cursor()
        return self.cur

    def __exit__(self, *exc):
        self.cur.close()
        self.pool.put(self.conn)


def run(cur, facts, sql, params=()):
    cur.execute(sql, params)
    facts["db_queries"] = facts.get("db_queries", 0) + 1
    return cur.fetchall()


# ---- mail -----------------------------------------------------------------------------------


def welcome_message(email):
    msg = EmailMessage()
    msg["From"] = "shop@example.com"
    msg["To"] = email
    msg["Subject"] = "Welcome to the shop"
    msg.set_content("Thanks for signing up.\n")
    return msg


def send_welcome(host, port, email):
    """One mail over a new SMTP connection: blocks ~--smtp-delay-ms on the
    sink's answer to DATA."""
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.send_message(welcome_message(email))


class Mailer:
    """The fixed twin of sync_email: a background thread sends queued mail
    over one SMTP connection it keeps open (reconnecting when it drops)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.queue = queue.Queue()
        self.sent = 0
        self._smtp = None
        self._thread = threading.Thread(target=self._run, name="mailer", daemon=True)
        self._thread.start()

    def submit(self, email):
        self.queue.put(email)

    def _run(self):
        while True:
            try:
                email = self.queue.get(timeout=5)
            except queue.Empty:
                self._quit()
                continue
            if email is None:
                self._quit()
                return
            try:
                if self._smtp is None:
                    self._smtp = smtplib.SMTP(self.host, self.port, timeout=30)
                self._smtp.send_message(welcome_message(email))
                self.sent += 1
            except (OSError, smtplib.SMTPException) as e:
                print(f"service: mailer: {e}", file=sys.stderr)
                self._smtp = None

    def _quit(self):
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None

    def stop(self, timeout):
        """Sends what is queued for up to `timeout` s, then drops the rest."""
        self.queue.put(None)
        self._thread.join(timeout)
        return self.queue.qsize()


# ---- the application --------------------------------------------------------------------------


class Shop:
    """State shared by the workers: switches, pool, Redis, mail."""

    def __init__(self, args):
        self.anti = set(args.anti)
        self.dsn = {"host": args.pg_host, "port": args.pg_port, "user": args.pg_user,
                    "password": args.pg_password, "dbname": args.pg_db,
                    "sslmode": "disable", "application_name": "shop"}
        self.pool = Pool(self.dsn, args.pool_size)
        self.redis = redis.Redis(host="127.0.0.1", port=args.redis_port,
                                 max_connections=args.workers + 4)
        self.redis.ping()  # connect now, not in the first request
        self.smtp = ("127.0.0.1", args.smtp_port)
        self.mailer = None if "sync_email" in self.anti else Mailer(*self.smtp)
        self.report_sleep_s = args.report_hold_ms / 4000.0  # four statements
        self.cache_ttl_s = 300
        self.tls_close = "tls_handshake" in self.anti
        self.sync_mails = 0
        self._lock = threading.Lock()
        self.catalog = json.dumps([{"id": i, "name": f"product {i}"} for i in range(1, 21)])

    # Each handler returns (status, body dict or str) and fills `facts`.

    def orders(self, query, facts):
        customer = int(query.get("customer", ["1"])[0])
        with Borrowed(self.pool, facts) as cur:
            if "n_plus_one" in self.anti:
                orders = run(cur, facts,
                             "SELECT id, total_cents, status FROM orders WHERE customer_id = %s "
                             "ORDER BY id LIMIT 10", (customer,))
                out = []
                for order_id, total, status in orders:
                    items = run(cur, facts,
                                "SELECT product_id, qty, price_cents FROM order_items "
                                "WHERE order_id = %s ORDER BY product_id", (order_id,))
                    out.append({"id": order_id, "total_cents": total, "status": status,
                                "items": [list(i) for i in items]})
            else:
                rows = run(cur, facts,
                           "SELECT o.id, o.total_cents, o.status, i.product_id, i.qty, "
                           "i.price_cents FROM (SELECT id, total_cents, status FROM orders "
                           "WHERE customer_id = %s ORDER BY id LIMIT 10) o "
                           "JOIN order_items i ON i.order_id = o.id ORDER BY o.id, i.product_id",
                           (customer,))
                by_id = {}
                for order_id, total, status, product, qty, price in rows:
                    o = by_id.setdefault(order_id, {"id": order_id, "total_cents": total,
                                                    "status": status, "items": []})
                    o["items"].append([product, qty, price])
                out = list(by_id.values())
        facts["orders"] = len(out)
        return 200, {"customer": customer, "orders": out}

    def signup(self, body, facts):
        try:
            data = json.loads(body or b"{}")
            email, name = str(data["email"]), str(data.get("name", "new customer"))
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "want JSON {\"email\": ..., \"name\": ...}"}
        with Borrowed(self.pool, facts) as cur:
            (customer_id,), = run(cur, facts,
                                  "INSERT INTO customers (email, name) VALUES (%s, %s) "
                                  "RETURNING id", (email, name))
        if self.mailer is None:
            t0 = time.monotonic()
            with smtplib.SMTP(*self.smtp, timeout=30) as smtp:
                smtp.send_message(welcome_message(email))
            facts["smtp_us"] = int((time.monotonic() - t0) * 1e6)
            facts["smtp_calls"] = 1
            with self._lock:
                self.sync_mails += 1
        else:
            self.mailer.submit(email)
            facts["smtp_us"] = 0
            facts["smtp_calls"] = 0
        return 201, {"id": customer_id}

    def report(self, query, facts):
        # Four aggregates on one connection, each standing in for a heavy
        # query (pg_sleep), so the connection is held ~--report-hold-ms.
        lo = int(query.get("from", ["1"])[0])
        hi = lo + 20
        s = self.report_sleep_s
        with Borrowed(self.pool, facts) as cur:
            revenue = run(cur, facts,
                          "SELECT count(*), coalesce(sum(total_cents), 0) FROM orders, "
                          "pg_sleep(%s) WHERE customer_id BETWEEN %s AND %s", (s, lo, hi))
            top = run(cur, facts,
                      "SELECT i.product_id, sum(i.qty) FROM order_items i "
                      "JOIN orders o ON o.id = i.order_id, pg_sleep(%s) "
                      "WHERE o.customer_id BETWEEN %s AND %s "
                      "GROUP BY i.product_id ORDER BY 2 DESC LIMIT 5", (s, lo, hi))
            by_status = run(cur, facts,
                            "SELECT status, count(*) FROM orders, pg_sleep(%s) "
                            "WHERE customer_id BETWEEN %s AND %s GROUP BY status", (s, lo, hi))
            customers = run(cur, facts,
                            "SELECT count(*) FROM customers, pg_sleep(%s) "
                            "WHERE id BETWEEN %s AND %s", (s, lo, hi))
        return 200, {"orders": revenue[0][0], "revenue_cents": int(revenue[0][1]),
                     "top": [list(t) for t in top], "status": dict(by_status),
                     "customers": customers[0][0]}

    def product(self, product_id, facts):
        key = f"product:{product_id}"
        cached = self.redis.get(key)
        facts["cache_reads"] = 1
        if cached is not None:
            facts["cache_hits"] = 1
            return 200, cached.decode()
        facts["cache_hits"] = 0
        with Borrowed(self.pool, facts) as cur:
            rows = run(cur, facts,
                       "SELECT id, name, price_cents, description FROM products WHERE id = %s",
                       (product_id,))
        if not rows:
            return 404, {"error": "no such product"}
        body = json.dumps(dict(zip(("id", "name", "price_cents", "description"), rows[0])))
        if "cache_miss" not in self.anti:  # the anti-pattern forgets to fill the cache
            self.redis.set(key, body, ex=self.cache_ttl_s)
        return 200, body

    def search(self, query, facts):
        email = query.get("email", [""])[0]
        with Borrowed(self.pool, facts) as cur:
            found = run(cur, facts, "SELECT id, name FROM customers WHERE email = %s", (email,))
            out = []
            for customer_id, name in found:
                recent = run(cur, facts,
                             "SELECT id, total_cents, status FROM orders WHERE customer_id = %s "
                             "ORDER BY id DESC LIMIT 5", (customer_id,))
                (count, spent), = run(cur, facts,
                                      "SELECT count(*), coalesce(sum(total_cents), 0) FROM orders "
                                      "WHERE customer_id = %s", (customer_id,))
                out.append({"id": customer_id, "name": name, "recent": [list(r) for r in recent],
                            "orders": count, "spent_cents": int(spent)})
        return 200, {"customers": out}

    def profile(self, query, facts):
        customer = int(query.get("customer", ["1"])[0])
        if "connection_churn" in self.anti:
            conn = connect(self.dsn)  # a TCP connect + SCRAM login per request
            facts["db_connects"] = 1
            try:
                with conn.cursor() as cur:
                    rows = self._profile_queries(cur, customer, facts)
            finally:
                conn.close()
        else:
            facts["db_connects"] = 0
            with Borrowed(self.pool, facts) as cur:
                rows = self._profile_queries(cur, customer, facts)
        if rows is None:
            return 404, {"error": "no such customer"}
        return 200, rows

    @staticmethod
    def _profile_queries(cur, customer, facts):
        found = run(cur, facts, "SELECT id, email, name FROM customers WHERE id = %s", (customer,))
        if not found:
            return None
        (count,), = run(cur, facts, "SELECT count(*) FROM orders WHERE customer_id = %s",
                        (customer,))
        return {"id": found[0][0], "email": found[0][1], "name": found[0][2], "orders": count}


class ShopHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client (or tls_close) says otherwise
    timeout = 10  # an idle keep-alive connection frees its worker after 10 s
    server_version = "shop/1"

    def log_message(self, fmt, *args):  # one line per request would swamp the demo
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method):
        shop = self.server.shop
        t0 = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        body = b""
        if method == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        facts = {}
        try:
            if method == "GET" and parts == ["orders"]:
                status, out = shop.orders(query, facts)
            elif method == "POST" and parts == ["signup"]:
                status, out = shop.signup(body, facts)
            elif method == "GET" and parts == ["report"]:
                status, out = shop.report(query, facts)
            elif method == "GET" and len(parts) == 2 and parts[0] == "product" \
                    and parts[1].isdigit():
                status, out = shop.product(int(parts[1]), facts)
            elif method == "GET" and parts == ["search"]:
                status, out = shop.search(query, facts)
            elif method == "GET" and parts == ["profile"]:
                status, out = shop.profile(query, facts)
            elif method == "GET" and parts == ["catalog"]:
                status, out = 200, shop.catalog
            elif method == "GET" and parts == ["healthz"]:
                status, out = 200, {"ok": True}
            else:
                status, out = 404, {"error": "no such endpoint"}
        except (psycopg2.Error, redis.RedisError, smtplib.SMTPException, OSError) as e:
            status, out = 503, {"error": f"{type(e).__name__}: {e}"}
        payload = (out if isinstance(out, str) else json.dumps(out)).encode()
        facts["handler_us"] = int((time.monotonic() - t0) * 1e6)
        if shop.tls_close and isinstance(self.connection, ssl.SSLSocket):
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in facts.items():
            self.send_header("X-Shop-" + key.replace("_", "-"), str(value))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


# ---- the newsletter: an asyncio event loop ------------------------------------------------


def name_this_thread(name):
    """Sets the kernel's name (comm) of the calling thread, so waitscope and
    `top -H` show it (Python 3.11 does not)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


class Newsletter:
    """POST /newsletter {"email": ...} on its own listener, served by an
    asyncio event loop in one thread (`shop-loop`): HTTP/1.1 keep-alive, one
    coroutine per connection, all on that thread. Each request sends a
    welcome mail through the SMTP sink.

    --anti event_loop_blocked: the coroutine calls smtplib directly (the
    classic mistake), so the loop thread blocks ~--smtp-delay-ms per mail
    and every other connection waits meanwhile. The fix:
    `await loop.run_in_executor(...)`, the mail runs on a thread-pool thread
    and the loop keeps serving.

    What it knows: per request the time the mail kept the loop thread from
    running anything else (X-Shop-Loop-Blocked-Us: the synchronous smtplib
    call; with the fix the submission to the executor, microseconds), and
    totals for --stats-file."""

    THREAD_NAME = "shop-loop"

    def __init__(self, shop, listener, blocking):
        self.smtp = shop.smtp
        self.listener = listener
        self.blocking = blocking
        self.executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="mail")
        self.loop = asyncio.new_event_loop()
        self.blocks = 0  # mails sent synchronously on the loop thread
        self.blocked_ns = 0  # the time they took (the loop ran nothing else)
        self.blocked_max_ns = 0
        self.executor_mails = 0
        self._started = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True)

    def start(self):
        self._thread.start()
        self._started.wait(30)
        if self._error is not None:
            raise self._error

    def stop(self, timeout):
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _run(self):
        name_this_thread(self.THREAD_NAME)
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(asyncio.start_server(self._serve, sock=self.listener))
        except OSError as e:
            self._error = e
            self._started.set()
            return
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    async def _serve(self, reader, writer):
        """One keep-alive connection: requests until the client closes."""
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                t0 = time.monotonic()
                facts = {}
                path = urllib.parse.urlsplit(target).path
                if method == "POST" and path == "/newsletter":
                    try:
                        status, out = await self.newsletter(body, facts)
                    except (smtplib.SMTPException, OSError) as e:
                        status, out = 503, {"error": f"{type(e).__name__}: {e}"}
                elif method == "GET" and path == "/healthz":
                    status, out = 200, {"ok": True}
                else:
                    status, out = 404, {"error": "no such endpoint"}
                facts["handler_us"] = int((time.monotonic() - t0) * 1e6)
                close = headers.get("connection", "").lower() == "close"
                payload = json.dumps(out).encode()
                head = [f"HTTP/1.1 {status} {http_reason(status)}", "Server: shop-loop/1",
                        "Content-Type: application/json", f"Content-Length: {len(payload)}"]
                head += [f"X-Shop-{k.replace('_', '-')}: {v}" for k, v in facts.items()]
                if close:
                    head.append("Connection: close")
                # One write per response: head and body together.
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
                if close:
                    return
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass  # the client went away or sent garbage
        finally:
            writer.close()

    async def newsletter(self, body, facts):
        try:
            email = str(json.loads(body or b"{}")["email"])
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "want JSON {\"email\": ...}"}
        t0 = time.monotonic_ns()
        if self.blocking:
            # The anti-pattern: a blocking call inside a coroutine. Nothing
            # else runs on this thread until the sink answers.
            send_welcome(*self.smtp, email)
            blocked = time.monotonic_ns() - t0
            self.blocks += 1
            self.blocked_ns += blocked
            self.blocked_max_ns = max(self.blocked_max_ns, blocked)
            facts["loop_blocks"] = 1
            facts["smtp_us"] = blocked // 1000
        else:
            sent = asyncio.get_running_loop().run_in_executor(self.executor, send_welcome,
                                                              *self.smtp, email)
            blocked = time.monotonic_ns() - t0  # handing it over: the loop moves on
            await sent
            self.executor_mails += 1
            facts["loop_blocks"] = 0
            facts["smtp_us"] = (time.monotonic_ns() - t0) // 1000
        facts["loop_blocked_us"] = blocked // 1000
        facts["smtp_calls"] = 1
        return 201, {"subscribed": email}


def http_reason(status):
    return {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found",
            503: "Service Unavailable"}.get(status, "Unknown")


class Server:
    """What BaseHTTPRequestHandler expects of `server`, plus the shop."""

    def __init__(self, shop):
        self.shop = shop


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if "tls_handshake" in args.anti:
        # The anti-pattern: capped at TLS 1.2 (two round trips) and no
        # session tickets, so every connection pays a full handshake.
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


def accept_loop(listener, work, tls):
    while True:
        try:
            sock, addr = listener.accept()
        except OSError:
            return  # closed at shutdown
        work.put((sock, addr, tls))


def worker_loop(work, server, tls_ctx):
    while True:
        item = work.get()
        if item is None:
            return
        sock, addr, tls = item
        try:
            # Headers and body go out in two writes: without NODELAY the
            # second waits for the client's delayed ACK (40 ms).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls:
                sock.settimeout(ShopHandler.timeout)
                sock = tls_ctx.wrap_socket(sock, server_side=True)  # handshake, on this thread
            ShopHandler(sock, addr, server)
        except (OSError, ssl.SSLError):
            pass  # the client went away; nothing to answer
        finally:
            try:
                sock.close()
            except OSError:
                pass


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="HTTP port (0: any free one)")
    ap.add_argument("--tls-port", type=int, default=None,
                    help="also serve HTTPS on this port (0: any free one); needs --cert/--key")
    ap.add_argument("--loop-port", type=int, default=0,
                    help="port of the asyncio listener of POST /newsletter (0: any free one)")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--pool-size", type=int, default=16)
    ap.add_argument("--report-hold-ms", type=float, default=24,
                    help="how long GET /report holds its connection (four pg_sleep statements)")
    ap.add_argument("--anti", action="append", default=[], choices=SCENARIOS,
                    help="switch an anti-pattern on (repeatable); the rest run fixed")
    ap.add_argument("--pg-host", default="127.0.0.1")
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--pg-user", default="postgres")
    ap.add_argument("--pg-password", default="")
    ap.add_argument("--pg-db", default="shop")
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--ready-file")
    ap.add_argument("--stats-file")
    args = ap.parse_args()

    shop = Shop(args)
    server = Server(shop)
    work = queue.Queue()
    listeners = [(listen(args.port), False)]
    tls_ctx = None
    if args.tls_port is not None:
        if not (args.cert and args.key):
            ap.error("--tls-port needs --cert and --key")
        tls_ctx = tls_context(args)
        listeners.append((listen(args.tls_port), True))
    loop_listener = listen(args.loop_port)
    loop_listener.setblocking(False)
    newsletter = Newsletter(shop, loop_listener, "event_loop_blocked" in shop.anti)
    newsletter.start()
    workers = [threading.Thread(target=worker_loop, args=(work, server, tls_ctx),
                                name=f"worker-{i}", daemon=True) for i in range(args.workers)]
    for t in workers:
        t.start()
    for listener, tls in listeners:
        threading.Thread(target=accept_loop, args=(listener, work, tls), daemon=True,
                         name="accept-tls" if tls else "accept").start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.ready_file:
        ready = {"pid": os.getpid(), "port": listeners[0][0].getsockname()[1],
                 "tls_port": listeners[1][0].getsockname()[1] if tls_ctx else None,
                 "loop_port": loop_listener.getsockname()[1]}
        with open(args.ready_file + ".tmp", "w", encoding="utf-8") as f:
            json.dump(ready, f)
        os.replace(args.ready_file + ".tmp", args.ready_file)
    stop.wait()

    for listener, _ in listeners:
        listener.close()
    newsletter.stop(timeout=2)
    pending = shop.mailer.stop(timeout=2) if shop.mailer else 0
    stats = {"sync_mails": shop.sync_mails,
             "background_mails": shop.mailer.sent if shop.mailer else 0,
             "mails_dropped_at_exit": pending,
             "loop_blocks": newsletter.blocks,
             "loop_blocked_ms": newsletter.blocked_ns / 1e6,
             "loop_blocked_max_ms": newsletter.blocked_max_ns / 1e6,
             "loop_executor_mails": newsletter.executor_mails}
    if args.stats_file:
        with open(args.stats_file, "w", encoding="utf-8") as f:
            json.dump(stats, f)
    # Workers may be mid-request on a pooled connection: closing the free
    # ones is enough; the process exit closes the rest.
    shop.pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
