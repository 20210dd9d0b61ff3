#!/usr/bin/python3
"""Runs the shop demo: PostgreSQL, Redis and an SMTP sink, the shop service
with one anti-pattern switched on (or its fixed twin), and a load driver;
then writes truth.json, what the demo knows about each run, and stops
everything it started (also on Ctrl-C, SIGTERM or an error).

    run_demo.py [--scenario NAME|all|mixed] [--fixed | --twins] [--duration S]
                [--clients N] [--out DIR] [--service-wrapper 'CMD ... --']

Scenarios (README.md): n_plus_one, sync_email, pool_exhaustion, cache_miss,
slow_query, tls_handshake, connection_churn, event_loop_blocked. `all` runs
each in turn (a fresh service per run, the servers shared); `mixed` runs one
service with every switch at once and a load over every endpoint (with
--fixed: the fully fixed shop, which should show no finding at all).

    --fixed    run the fixed twins instead of the anti-patterns
    --twins    run each scenario twice: anti-pattern, then fixed twin

--service-wrapper: a command (shell words) the service is started under,
e.g. 'waitscope record -q -o {out}/waitscope --'. `{run}` becomes the run's
name (n_plus_one, n_plus_one.fixed...) and `{out}` its directory OUT/RUN.
The service is stopped with SIGTERM after the load; the wrapper must then
exit by itself (waitscope does: its command exited), or it gets SIGINT.

Output: OUT/truth.json (rewritten after each run), and per run OUT/RUN/:
load.json (load.py's measurements), service.json (the service's totals).
Exit status 0 when every run served requests, 1 otherwise, 77 when a
server package is missing (the message names it).

Needs root (PostgreSQL runs as the `postgres` user) and Debian's
/usr/bin/python3 with python3-psycopg2, python3-redis; postgresql,
redis-server, redis-tools, openssl.
"""

import argparse
import ctypes
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "bpf"))

import servers  # noqa: E402  (tests/bpf/servers.py: PostgreSQL and Redis as plain processes)

PYTHON = "/usr/bin/python3"
SKIP_EXIT_CODE = 77
READY_TIMEOUT_S = 60  # the wrapper (waitscope loading BPF) + the service's pool

# name -> what the scenario is (README.md explains each).
SCENARIOS = {
    "n_plus_one": {"endpoint": "GET /orders", "load": ["orders"], "clients": 8},
    "sync_email": {"endpoint": "POST /signup", "load": ["signup"], "clients": 8},
    "pool_exhaustion": {"endpoint": "GET /report", "load": ["report"], "clients": 16},
    "cache_miss": {"endpoint": "GET /product/{id}", "load": ["product"], "clients": 8},
    "slow_query": {"endpoint": "GET /search", "load": ["search"], "clients": 4},
    "tls_handshake": {"endpoint": "GET /catalog", "load": ["catalog"], "clients": 8},
    "connection_churn": {"endpoint": "GET /profile", "load": ["profile"], "clients": 8},
    # Served by the service's asyncio listener (its loop port), not the worker pool.
    "event_loop_blocked": {"endpoint": "POST /newsletter", "load": ["newsletter"], "clients": 8,
                           "listener": "loop"},
}
MIXED_LOOP_CLIENTS = 4  # newsletter clients in `mixed` (3 or more make requests overlap)
ANTI_POOL_SIZE = 2
FIXED_POOL_SIZE = 16
SEARCH_TABLE, SEARCH_COLUMN, SEARCH_INDEX = "customers", "email", "customers_email_idx"
CUSTOMERS = 200_000
CUSTOMERS_WITH_ORDERS, ORDERS_PER_CUSTOMER, ITEMS_PER_ORDER = 2000, 10, 3

SCHEMA_SQL = f"""
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL,
                       description text NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL,
                     total_cents int NOT NULL, status text NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE order_items (order_id bigint NOT NULL, product_id int NOT NULL, qty int NOT NULL,
                          price_cents int NOT NULL);
INSERT INTO customers (email, name)
  SELECT 'customer' || g || '@example.com', 'Customer ' || g FROM generate_series(1, {CUSTOMERS}) g;
INSERT INTO products
  SELECT g, 'Product ' || g, 100 + (g * 37) % 5000, repeat('a fine product ', 8)
  FROM generate_series(1, 500) g;
INSERT INTO orders (customer_id, total_cents, status)
  SELECT c, (c * 31 + o * 17) % 10000, (ARRAY['paid', 'shipped', 'open'])[1 + (c + o) % 3]
  FROM generate_series(1, {CUSTOMERS_WITH_ORDERS}) c, generate_series(1, {ORDERS_PER_CUSTOMER}) o
  ORDER BY c, o;
INSERT INTO order_items
  SELECT o.id, 1 + (o.id * 7 + k) % 500, k, 100 + k FROM orders o,
  generate_series(1, {ITEMS_PER_ORDER}) k;
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX order_items_order_idx ON order_items (order_id);
ANALYZE;
"""


def log(msg):
    print(f"run_demo: {msg}", file=sys.stderr, flush=True)


class DemoError(Exception):
    pass


def become_subreaper():
    """Orphans of our children (a service whose wrapper died) are reparented
    to us, so we can reap them instead of leaving zombies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def pid_alive(pid):
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # our child or an orphan we adopted
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_popen(proc, sig=signal.SIGTERM, timeout=30):
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


def stop_pid(pid, sig, timeout=30):
    """Stops a process that may not be our child (the service under a wrapper)."""
    try:
        os.kill(pid, sig)
        if not wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 10)
    except ProcessLookupError:
        pass


def wait_file(path, proc, what, timeout=READY_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise DemoError(f"{what} exited with status {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise DemoError(f"{what} was not ready within {timeout} s")
        time.sleep(0.05)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Backends:
    """PostgreSQL, Redis and the SMTP sink, shared by every run."""

    def __init__(self, work, smtp_delay_ms):
        self.work = work
        self.smtp_delay_ms = smtp_delay_ms
        self.pg = self.redis = self.smtp = None
        self.smtp_port = None

    def start(self):
        t0 = time.monotonic()
        self.pg = servers.PostgresServer()  # ServerMissing: a package is not installed
        self.redis = servers.RedisServer()
        self.pg.start()
        self.redis.start()
        ready = os.path.join(self.work, "smtp.ready")
        self.smtp = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "smtp_sink.py"), "--delay-ms", str(self.smtp_delay_ms),
             "--ready-file", ready], stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.smtp_port = wait_file(ready, self.smtp, "smtp_sink.py", timeout=20)["port"]
        self.seed()
        log(f"backends up in {time.monotonic() - t0:.1f} s: postgres {self.pg.address}, "
            f"redis {self.redis.address}, smtp 127.0.0.1:{self.smtp_port}")

    def seed(self):
        self.pg.admin("CREATE DATABASE shop", db="postgres")
        # One plain sequential scan for the slow query: parallel workers would
        # only blur it on a 2-core machine.
        self.pg.admin("ALTER SYSTEM SET max_parallel_workers_per_gather = 0", db="postgres")
        self.pg.admin("SELECT pg_reload_conf()", db="postgres")
        self.pg.admin(SCHEMA_SQL, db="shop")

    def set_index(self, present):
        if present:
            self.pg.admin(f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} "
                          f"ON {SEARCH_TABLE} ({SEARCH_COLUMN}); ANALYZE {SEARCH_TABLE}", db="shop")
        else:
            self.pg.admin(f"DROP INDEX IF EXISTS {SEARCH_INDEX}", db="shop")

    def flush_cache(self):
        self.redis.cli("FLUSHALL")

    def stop(self):
        totals = None
        if self.smtp is not None and self.smtp.poll() is None:
            self.smtp.send_signal(signal.SIGTERM)
            try:
                out, _ = self.smtp.communicate(timeout=10)
                totals = json.loads(out) if out.strip() else None
            except (subprocess.TimeoutExpired, ValueError):
                stop_popen(self.smtp, signal.SIGKILL)
        for server in (self.redis, self.pg):
            if server is not None:
                try:
                    server.stop()
                except Exception as e:  # noqa: BLE001 - keep stopping the others
                    log(f"stopping {server.name}: {e}")
        return totals


def make_cert(work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    if not shutil.which("openssl"):
        raise servers.ServerMissing("openssl not found: install the Debian package openssl")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise DemoError(f"openssl req failed: {r.stderr}")
    return cert, key


def fact(load, endpoint, name, stat="mean"):
    f = load["endpoints"].get(endpoint, {}).get("facts", {}).get(name)
    return None if f is None else f[stat]


def measured(load):
    """What the load saw, per endpoint, from the service's X-Shop-* headers."""
    out = {}
    for ep, e in load["endpoints"].items():
        facts = e["facts"]
        m = {"requests": e["count"], "status": e["status"], "latency_ms": e["latency_ms"],
             "queries_per_request": fact(load, ep, "db_queries")}
        if "orders" in facts:
            m["orders_per_request"] = facts["orders"]["mean"]
            m["orders_per_request_min"] = facts["orders"]["min"]
            m["orders_per_request_max"] = facts["orders"]["max"]
        if "smtp_us" in facts:
            handler = facts["handler_us"]["sum"]
            m["smtp_calls_per_request"] = facts["smtp_calls"]["mean"]
            m["smtp_share"] = facts["smtp_us"]["sum"] / handler if handler else 0.0
            m["smtp_ms_mean"] = facts["smtp_us"]["mean"] / 1000.0
        if "loop_blocked_us" in facts:
            # The event loop's thread ran nothing else during these calls.
            m["loop_blocks"] = facts["loop_blocks"]["sum"]
            m["loop_blocked_ms_total"] = facts["loop_blocked_us"]["sum"] / 1000.0
            m["loop_blocked_ms_mean"] = facts["loop_blocked_us"]["mean"] / 1000.0
            m["loop_blocked_ms_max"] = facts["loop_blocked_us"]["max"] / 1000.0
        if "pool_wait_us" in facts:
            m["pool_wait_ms_p50"] = facts["pool_wait_us"]["p50"] / 1000.0
            m["pool_wait_ms_p95"] = facts["pool_wait_us"]["p95"] / 1000.0
        if "cache_reads" in facts:
            reads = facts["cache_reads"]["sum"]
            m["cache_reads"] = reads
            m["cache_hit_ratio"] = facts["cache_hits"]["sum"] / reads if reads else None
        if "db_connects" in facts:
            m["db_connects_per_request"] = facts["db_connects"]["mean"]
        out[ep] = m
    return out


class Demo:
    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="shop-demo-", dir="/var/tmp")
        self.backends = Backends(self.work, args.smtp_delay_ms)
        self.truth = {"version": 1, "runs": [], "backends": {}, "complete": False}
        self.cert = self.key = None
        self.live = []  # (Popen, signal) to stop on the way out, newest last

    def plan(self):
        names = list(SCENARIOS) if self.args.scenario == "all" else [self.args.scenario]
        if self.args.twins:
            return [(n, fixed) for n in names for fixed in (False, True)]
        return [(n, self.args.fixed) for n in names]

    def run(self):
        self.backends.start()
        self.cert, self.key = make_cert(self.work)
        b = self.backends
        self.truth["backends"] = {"postgres": b.pg.address, "redis": b.redis.address,
                                  "smtp": f"127.0.0.1:{b.smtp_port}",
                                  "smtp_delay_ms": self.args.smtp_delay_ms}
        ok = True
        for name, fixed in self.plan():
            run = self.run_one(name, fixed)
            self.truth["runs"].append(run)
            self.write_truth()
            ok = ok and run["measured_total_requests"] > 0
        self.truth["complete"] = True
        return ok

    def write_truth(self):
        path = os.path.join(self.out, "truth.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.truth, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(path + ".tmp", path)

    def run_one(self, name, fixed):
        args, b = self.args, self.backends
        run_name = name + (".fixed" if fixed else "")
        run_dir = os.path.join(self.out, run_name)
        os.makedirs(run_dir, exist_ok=True)
        anti = [] if fixed else (list(SCENARIOS) if name == "mixed" else [name])
        pool_size = ANTI_POOL_SIZE if "pool_exhaustion" in anti else FIXED_POOL_SIZE
        if args.pool_size:
            pool_size = args.pool_size
        index_present = "slow_query" not in anti
        tls = name in ("tls_handshake", "mixed")
        b.set_index(index_present)
        b.flush_cache()

        ready = os.path.join(self.work, f"{run_name}.ready")
        stats_file = os.path.join(run_dir, "service.json")
        cmd = [PYTHON, os.path.join(HERE, "service.py"), "--pg-port", str(b.pg.port),
               "--pg-password", b.pg.PASSWORD, "--redis-port", str(b.redis.port),
               "--smtp-port", str(b.smtp_port), "--pool-size", str(pool_size),
               "--ready-file", ready, "--stats-file", stats_file]
        if tls:
            cmd += ["--tls-port", "0", "--cert", self.cert, "--key", self.key]
        for a in anti:
            cmd += ["--anti", a]
        wrapper = []
        if args.service_wrapper:
            wrapper = [w.replace("{run}", run_name).replace("{out}", run_dir)
                       for w in shlex.split(args.service_wrapper)]
        log(f"run {run_name}: starting the service"
            + (f" under {' '.join(wrapper)}" if wrapper else ""))
        proc = subprocess.Popen(wrapper + cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        self.live.append((proc, signal.SIGINT))
        info = wait_file(ready, proc, "the service" + (" (or its wrapper)" if wrapper else ""))
        service_pid = info["pid"]
        self.live.append((service_pid, signal.SIGTERM))
        log(f"run {run_name}: service pid {service_pid} on 127.0.0.1:{info['port']}"
            + (f", https 127.0.0.1:{info['tls_port']}" if info["tls_port"] else "")
            + f", event loop 127.0.0.1:{info['loop_port']}")

        loads = self.start_loads(name, fixed, info, run_dir)
        load_results = {}
        for label, (lproc, path) in loads.items():
            rc = lproc.wait(timeout=args.duration + 120)
            if rc not in (0, 1):
                raise DemoError(f"load.py ({label}) failed with status {rc}")
            with open(path, encoding="utf-8") as f:
                load_results[label] = json.load(f)

        # Stop the service, then its wrapper (waitscope ends when its command does).
        stop_pid(service_pid, signal.SIGTERM)
        self.live.remove((service_pid, signal.SIGTERM))
        try:
            wrapper_rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            log(f"run {run_name}: the wrapper did not exit after the service; SIGINT")
            wrapper_rc = stop_popen(proc, signal.SIGINT, timeout=60)
        self.live.remove((proc, signal.SIGINT))
        service_stats = {}
        if os.path.exists(stats_file):
            with open(stats_file, encoding="utf-8") as f:
                service_stats = json.load(f)

        meas = {}
        for res in load_results.values():
            meas.update(measured(res))
        http_load = (load_results.get("http") or load_results.get("https")
                     or load_results.get("loop"))
        truth = {
            "run": run_name, "scenario": name, "fixed": fixed, "anti_patterns": anti,
            "endpoint": None if name == "mixed" else SCENARIOS[name]["endpoint"],
            "dir": run_dir, "service_pid": service_pid,
            "wrapper": wrapper or None, "wrapper_exit": wrapper_rc if wrapper else None,
            "duration_s": args.duration,
            "clients": {k: v["clients"] for k, v in load_results.items()},
            "pool_size": pool_size, "workers": 32,
            "orders_per_customer": ORDERS_PER_CUSTOMER,
            "smtp_delay_ms": args.smtp_delay_ms, "mail": "background" if "sync_email" not in anti
            else "sync",
            "cache_configured": "cache_miss" not in anti,
            "index_present": index_present,
            "search": {"table": SEARCH_TABLE, "column": SEARCH_COLUMN, "rows": CUSTOMERS},
            "tls_mode": self.tls_mode(name, anti),
            "profile_connections": "per_request" if "connection_churn" in anti else "pool",
            "newsletter_mail": "on_loop" if "event_loop_blocked" in anti else "executor",
            "loop_thread": "shop-loop",
            "peers": {"postgres": b.pg.address, "redis": b.redis.address,
                      "smtp": f"127.0.0.1:{b.smtp_port}"},
            "measured": meas,
            "measured_total_requests": sum(r["requests"] for r in load_results.values()),
            "load_errors": sum(r["errors"] for r in load_results.values()),
            "tls_measured": load_results["https"]["connections"]["tls"]
            if "https" in load_results else None,
            "service": service_stats,
        }
        if http_load is not None and name != "mixed":
            ep = SCENARIOS[name]["endpoint"]
            truth["endpoint_requests"] = http_load["endpoints"].get(ep, {}).get("count", 0)
        log(f"run {run_name}: {truth['measured_total_requests']} requests, "
            f"{truth['load_errors']} errors")
        return truth

    @staticmethod
    def tls_mode(name, anti):
        if name not in ("tls_handshake", "mixed"):
            return "off"
        if "tls_handshake" in anti:
            return {"version": "TLSv1.2", "keepalive": False, "session_reuse": False}
        return {"version": "TLSv1.3", "keepalive": True, "session_reuse": True}

    def start_loads(self, name, fixed, info, run_dir):
        args = self.args
        loads = {}

        def start(label, base, endpoints, clients, extra=()):
            path = os.path.join(run_dir, f"load-{label}.json" if name == "mixed" else "load.json")
            cmd = [PYTHON, os.path.join(HERE, "load.py"), "--base", base, "--clients",
                   str(clients), "--duration", str(args.duration), "--out", path,
                   "--rate", str(args.rate),
                   "--run-tag", f"{os.getpid()}-{name}-{int(fixed)}-{time.time_ns()}", *extra]
            for e in endpoints:
                cmd += ["--endpoint", e]
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
            self.live.append((p, signal.SIGTERM))
            loads[label] = (p, path)

        http = f"http://127.0.0.1:{info['port']}"
        https = f"https://127.0.0.1:{info['tls_port']}"
        loop = f"http://127.0.0.1:{info['loop_port']}"
        tls_anti = "tls_handshake" in ([] if fixed else (list(SCENARIOS) if name == "mixed"
                                                           else [name]))
        tls_flags = (["--ca", self.cert, "--tls-max", "1.2", "--no-keepalive",
                      "--no-session-reuse"] if tls_anti else
                     ["--ca", self.cert, "--tls-min", "1.3", "--reconnect-every", "25"])
        if name == "mixed":
            eps = [e for s in SCENARIOS.values() if "listener" not in s for e in s["load"]
                   if e != "catalog"]
            start("http", http, eps, args.clients or 8)
            start("https", https, ["catalog"], 2, tls_flags)
            start("loop", loop, SCENARIOS["event_loop_blocked"]["load"], MIXED_LOOP_CLIENTS)
        elif name == "tls_handshake":
            start("https", https, ["catalog"], args.clients or SCENARIOS[name]["clients"],
                  tls_flags)
        else:
            on_loop = SCENARIOS[name].get("listener") == "loop"
            start("loop" if on_loop else "http", loop if on_loop else http,
                  SCENARIOS[name]["load"], args.clients or SCENARIOS[name]["clients"])
        return loads

    def close(self):
        # Newest first: the loads, the service, then its wrapper (which
        # writes its report once the service is gone).
        for proc, sig in reversed(self.live):
            if isinstance(proc, int):
                stop_pid(proc, sig)
            else:
                stop_popen(proc, sig, timeout=60)
        self.live = []
        totals = self.backends.stop()
        if totals is not None:
            self.truth["backends"]["smtp_totals"] = totals
        if self.truth["runs"]:
            self.write_truth()
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--scenario", default="all", choices=[*SCENARIOS, "all", "mixed"])
    twin = ap.add_mutually_exclusive_group()
    twin.add_argument("--fixed", action="store_true", help="run the fixed twin(s)")
    twin.add_argument("--twins", action="store_true", help="anti-pattern, then fixed twin")
    ap.add_argument("--duration", type=float, default=5.0, help="load seconds per run")
    ap.add_argument("--clients", type=int, default=0,
                    help="concurrent clients (default: per scenario, see README.md)")
    ap.add_argument("--pool-size", type=int, default=0,
                    help=f"override the pool size (default {ANTI_POOL_SIZE} for "
                    f"pool_exhaustion, else {FIXED_POOL_SIZE})")
    ap.add_argument("--rate", type=float, default=50,
                    help="requests/s per client at most (0: unpaced)")
    ap.add_argument("--smtp-delay-ms", type=float, default=100.0)
    ap.add_argument("--out", default="shop-demo")
    ap.add_argument("--service-wrapper", default="",
                    help="command the service runs under; {run} and {out} are substituted")
    args = ap.parse_args()

    if os.geteuid() != 0:
        log("needs root: PostgreSQL is started as the postgres user")
        return 1
    for module, package in (("psycopg2", "python3-psycopg2"), ("redis", "python3-redis")):
        try:
            __import__(module)
        except ImportError:
            log(f"SKIP: python module {module} missing: install the Debian package {package}")
            return SKIP_EXIT_CODE
    become_subreaper()

    def on_term(_signo, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # also when started with SIGINT ignored
    demo = Demo(args)
    t0 = time.monotonic()
    try:
        ok = demo.run()
    except servers.ServerMissing as e:
        log(f"SKIP: {e}")
        return SKIP_EXIT_CODE
    except (DemoError, servers.ServerError) as e:
        log(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        demo.close()
    log(f"done in {time.monotonic() - t0:.1f} s; truth: {os.path.join(demo.out, 'truth.json')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
