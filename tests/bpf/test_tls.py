#!/usr/bin/python3
"""BPF integration tests: TLS handshakes and plaintext (issue "TLS").

waitscope reads TLS handshakes from the record layer (agent/protocols/tls)
and the plaintext of OpenSSL through uprobes (bpf/openssl.bpf.h), which
feeds the same protocol parsers as cleartext. These tests run real servers
and clients on 127.0.0.1 with certificates made here, and compare what
waitscope reports with what the servers and clients counted themselves:

  NginxTlsServerTest  nginx (master + 1 worker; one TLS 1.2-only and one TLS
                      1.3-only listener) started under `waitscope record --`;
                      curl and a Python client (ssl + http.client, with and
                      without session reuse) run untraced. `tls` rows per
                      (version, resumed) == nginx's access log
                      ($ssl_protocol, $ssl_session_reused, one handshake per
                      $connection); `http` rows (method, path, status) == the
                      access log's requests.
  NginxTlsClientTest  the same clients traced, nginx untraced; same checks on
                      the client side.
  WrongCertTest       clients that trust another certificate: every refused
                      handshake is a failure in `tls` (client traced, and
                      nginx traced by `-p` while it runs), per version; nginx
                      logged no request.
  OpensslTest         `openssl s_server -WWW` and `openssl s_client` (new and
                      resumed sessions, TLS 1.2 and 1.3) traced together: the
                      GET inside is an `http` row on both sides, the
                      handshakes per version/resumed are what s_client printed.
  PostgresTlsTest     PostgreSQL with ssl=on (servers.PostgresTlsServer): the
                      same psql statements over sslmode=disable and
                      sslmode=require give the same `queries` rows, equal to
                      pg_stat_statements, and a `tls` row with plaintext true;
                      client traced, and the server traced by pid.
  UnparsedPlaintextTest  a Python TLS client ping-ponging bytes of no parsed
                      protocol for 2 s: the uprobes' plaintext copies stop
                      (fewer plaintext events than round trips / 2, from
                      the -v counters) while the traffic goes on.

Every report must validate against the schema and show no loss.

Usage: test_tls.py [TestClass[.test_name]]   (root; /usr/bin/python3)
Environment (tests/bpf/CMakeLists.txt, WAITSCOPE_BPF_ENV): WAITSCOPE_BIN,
REPORT_SCHEMA, REPORT_VALIDATOR, SKIP_EXIT_CODE.
Debian packages: nginx-light (or any nginx with the ssl module), curl,
openssl, postgresql, python3-jsonschema.
Exit code: 0 passed, 1 failed, SKIP_EXIT_CODE (77) when skipped (not root,
no BPF, or a package missing) and nothing failed.
"""

import json
import os
import shlex
import ssl
import subprocess
import sys
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import servers  # noqa: E402
import test_record as tr  # noqa: E402  (ws, LineReader, check_bpf_or_skip)
import test_wire as tw  # noqa: E402  (WireTestCase: record/attach + loss checks; pg_canonical)

SKIP_EXIT_CODE = tr.SKIP_EXIT_CODE
PYTHON = tr.PYTHON
VERSIONS = ("TLSv1.2", "TLSv1.3")
WAIT_S = 20  # upper bound for a server to log what a finished client did

SKIPS = []  # why tests were skipped because a package is missing (printed loudly)
_SERVERS = {}  # one PostgresTlsServer for the module, stopped at the end


def tearDownModule():  # noqa: N802 - unittest's name
    for server in _SERVERS.values():
        if not isinstance(server, str):
            server.stop()


def skip_missing(reason):
    SKIPS.append(reason)
    print(f"\n*** SKIPPING: {reason} ***\n", file=sys.stderr, flush=True)
    raise unittest.SkipTest(reason)


def need_tool(path, package):
    if not os.access(path, os.X_OK):
        skip_missing(f"{path} not found: install the Debian package {package}")
    return path


def wait_for(predicate, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


fmt = tw.fmt_rows


def fmt_http(rows):
    """The http rows without their latency summaries (short failure messages)."""
    return fmt([{k: h[k] for k in ("pid", "role", "endpoint", "status")} for h in rows])

# ---- clients --------------------------------------------------------------------------

# A Python HTTPS client: N connections (one GET each, response read to the
# end, then closed) to one listener, TLS version pinned, the server
# certificate checked against CAFILE. `reuse`: each connection offers the
# session of the previous one (TLS 1.2 session id/ticket; TLS 1.3 ticket,
# which arrives after the handshake: read with the response). Prints what it
# saw as JSON.
PY_CLIENT = r"""
import http.client, json, ssl, sys
port, version, n, mode, cafile = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
paths = sys.argv[6].split(",")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cafile)
ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version.replace(".", "_"))

class Conn(http.client.HTTPSConnection):
    offered = None
    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host,
                                              session=self.offered)

out = {"requests": 0, "resumed": 0, "failures": 0, "status": {}, "errors": []}
session = None
for i in range(n):
    c = Conn("127.0.0.1", port, context=ctx, timeout=10)
    c.offered = session if mode == "reuse" else None
    try:
        c.request("GET", paths[i % len(paths)])
        r = c.getresponse()
        r.read()
        out["requests"] += 1
        out["status"][str(r.status)] = out["status"].get(str(r.status), 0) + 1
        out["resumed"] += int(c.sock.session_reused)
        session = c.sock.session
    except ssl.SSLError as e:
        out["failures"] += 1
        out["errors"].append(str(e))
    finally:
        c.close()
print(json.dumps(out))
"""


def py_client_cmd(port, version, n, mode, cafile, paths):
    return [PYTHON, "-c", PY_CLIENT, str(port), version, str(n), mode, cafile, ",".join(paths)]


def curl_script(nginx, cafile):
    """A shell script of curl runs against both listeners: keep-alive (one
    connection, several requests) and `Connection: close` (a connection per
    request, the later ones resuming from curl's session cache)."""
    curl = need_tool("/usr/bin/curl", "curl")
    lines = ["set -e"]
    for version, flags in (("TLSv1.2", "--tlsv1.2 --tls-max 1.2"), ("TLSv1.3", "--tlsv1.3")):
        base = f"{curl} -sS --cacert {shlex.quote(cafile)} {flags}"
        urls = " ".join(nginx.url(version, p) for p in ("/alpha", "/beta", "/missing", "/big"))
        lines.append(f"{base} {urls} >/dev/null")
        urls = " ".join(nginx.url(version, p) for p in ("/alpha", "/alpha", "/beta"))
        lines.append(f"{base} -H 'Connection: close' {urls} >/dev/null")
    return "\n".join(lines)


CURL_REQUESTS = 2 * (4 + 3)  # requests curl_script() makes


def py_client_script(nginx, cafile, n=4):
    """A shell script running the Python client with and without session
    reuse against both listeners; prints one JSON line per run."""
    runs = []
    for version in VERSIONS:
        for mode in ("reuse", "fresh"):
            runs.append(shlex.join(py_client_cmd(nginx.ports[version], version, n, mode, cafile,
                                                 ["/alpha", "/beta", "/missing"])))
    return "set -e\n" + "\n".join(runs)


def parse_json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# ---- what waitscope and the servers counted -------------------------------------------


def ws_handshakes(report, role, peers=None, pids=None):
    """({(version, resumed): successful handshakes}, {version: failures})
    from the report's `tls` rows of this role (and peers / pids)."""
    ok, failed = Counter(), Counter()
    for t in report["tls"]:
        if t["role"] != role or (peers is not None and t["peer"] not in peers) or \
                (pids is not None and t["pid"] not in pids):
            continue
        if t["count"] > t["failures"]:
            ok[(t["version"], t["resumed"])] += t["count"] - t["failures"]
        if t["failures"]:
            failed[t["version"]] += t["failures"]
    return dict(ok), dict(failed)


def ws_requests(report, role, pids=None):
    """{(endpoint, status): requests} from the `http` rows of this role."""
    out = Counter()
    for h in report["http"]:
        if h["role"] == role and (pids is None or h["pid"] in pids):
            for status, n in h["status"].items():
                out[(h["endpoint"], status)] += n
    return dict(out)


def log_handshakes(entries):
    """{(version, resumed): connections} from access-log entries (the first
    request of each $connection carries its handshake)."""
    conns = {}
    for e in entries:
        conns.setdefault(e["connection"], (e["protocol"], e["reused"] == "r"))
    return dict(Counter(conns.values()))


def log_requests(entries):
    return dict(Counter((f"{e['method']} {e['uri']}", e["status"]) for e in entries))


class TlsTestCase(tw.WireTestCase):
    """A waitscope test without test_wire's shared server (each class brings
    its own)."""

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()

    def assert_plaintext(self, report, role):
        """Every row with a completed handshake had its plaintext read (the
        uprobes saw it); failed-only rows cannot have any."""
        rows = [t for t in report["tls"] if t["role"] == role]
        self.assertTrue(rows, f"no {role} tls rows: {fmt(report['tls'])}")
        for t in rows:
            self.assertEqual(t["plaintext"], t["count"] > t["failures"], fmt(t))

    def assert_tls_rows_well_formed(self, report):
        for t in report["tls"]:
            self.assertIn(t["version"], VERSIONS, fmt(t))
            done = t["count"] - t["failures"]
            if done:
                self.assertEqual(t["handshake_us"]["count"], done, fmt(t))
                self.assertGreater(t["handshake_us"]["p50"], 0, fmt(t))


def start_nginx(prefix=(), **kwargs):
    """A started servers.NginxServer (skip, loudly, if nginx is missing)."""
    try:
        nginx = servers.NginxServer(**kwargs)
    except servers.ServerMissing as e:
        skip_missing(f"nginx tests need a package that is not installed: {e}")
    return nginx.start(prefix=prefix)


# ---- nginx ----------------------------------------------------------------------------


class NginxClientsMixin:
    """Runs curl_script() and the Python clients and returns what nginx
    logged for them."""

    def run_clients(self, nginx, cafile, runner):
        """`runner(script)` runs a shell script (traced or not) and returns
        its stdout. Returns (access-log entries of the runs, the Python
        client results)."""
        before = len(nginx.access_log())
        runner(curl_script(nginx, cafile))
        results = parse_json_lines(runner(py_client_script(nginx, cafile)))
        self.assertEqual(len(results), 4, results)
        for r in results:
            self.assertEqual(r["failures"], 0, r)
        # The reuse runs did resume (else the test would prove nothing).
        self.assertGreater(sum(r["resumed"] for r in results), 0, results)
        expected = CURL_REQUESTS + sum(r["requests"] for r in results)
        entries = wait_for(lambda: (lambda e: e if len(e) - before == expected else None)(
            nginx.access_log()), f"{expected} access log lines")[before:]
        log = log_handshakes(entries)
        for version in VERSIONS:  # both resumed and full handshakes happened
            self.assertTrue(log.get((version, True)) and log.get((version, False)), log)
        self.assertGreater(log_requests(entries).get(("GET /missing", "404"), 0), 0)
        return entries, results


class NginxTlsServerTest(TlsTestCase, NginxClientsMixin):
    """nginx traced from its start (`waitscope record -- nginx`, master +
    worker); the clients run untraced."""

    def test_handshakes_and_requests_match_access_log(self):
        out = os.path.join(self.make_tmp(), "report")
        nginx = start_nginx(prefix=[tr.WAITSCOPE, "record", "-q", "-o", out, "--"])
        self.addCleanup(nginx.stop)
        workers = set(nginx.worker_pids())

        def untraced(script):
            r = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout

        entries, _ = self.run_clients(nginx, nginx.cert, untraced)
        nginx.shutdown()  # graceful: waitscope ends when nginx does
        self.assertEqual(nginx.proc.returncode, 0, "waitscope record failed")
        report = self.checked_report(out)
        self.assertEqual({t["pid"] for t in report["tls"]}, workers,
                         f"tls rows not from the worker {workers}: {fmt(report['tls'])}")
        ok, failed = ws_handshakes(report, "server")
        self.assertEqual(failed, {}, fmt(report["tls"]))
        self.assertEqual(ok, log_handshakes(entries),
                         "server handshakes per (version, resumed): waitscope vs access log; "
                         f"tls rows: {fmt(report['tls'])}")
        self.assertEqual(ws_requests(report, "server", pids=workers), log_requests(entries),
                         f"requests (endpoint, status): waitscope vs access log; http rows: "
                         f"{fmt_http(report['http'])}")
        self.assert_plaintext(report, "server")
        self.assert_tls_rows_well_formed(report)
        for c in report["connections"]:
            if c["role"] == "server" and c["local"] in {f"127.0.0.1:{p}"
                                                         for p in nginx.ports.values()}:
                self.assertEqual(c["protocol"], "http", fmt(c))


class NginxTlsClientTest(TlsTestCase, NginxClientsMixin):
    """curl and the Python client traced (`waitscope record -- sh -c ...`);
    nginx untraced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nginx = start_nginx()
        cls.addClassCleanup(cls.nginx.stop)

    def test_handshakes_and_requests_match_access_log(self):
        reports = []

        def traced(script):
            report, r = self.record_command("/bin/sh", "-c", script)
            self.assertIn("exited with status 0", r.stderr)
            reports.append(report)
            return r.stdout

        entries, _ = self.run_clients(self.nginx, self.nginx.cert, traced)
        peers = {f"127.0.0.1:{p}" for p in self.nginx.ports.values()}
        ok, failed = Counter(), Counter()
        requests = Counter()
        for report in reports:
            o, f = ws_handshakes(report, "client", peers=peers)
            ok.update(o)
            failed.update(f)
            requests.update(ws_requests(report, "client"))
            self.assert_plaintext(report, "client")
            self.assert_tls_rows_well_formed(report)
        self.assertEqual(dict(failed), {}, [fmt(r["tls"]) for r in reports])
        self.assertEqual(dict(ok), log_handshakes(entries),
                         "client handshakes per (version, resumed): waitscope vs access log; "
                         f"tls rows: {[fmt(r['tls']) for r in reports]}")
        self.assertEqual(dict(requests), log_requests(entries),
                         "requests (endpoint, status): waitscope vs access log; http rows: "
                         f"{[fmt_http(r['http']) for r in reports]}")


class WrongCertTest(TlsTestCase):
    """Clients trusting another certificate than the one nginx serves: the
    handshakes fail, and waitscope counts each failure per version."""

    ATTEMPTS = 3  # Python client connections per version (curl adds one)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nginx = start_nginx()
        cls.addClassCleanup(cls.nginx.stop)
        # A certificate the clients trust that nginx does not have.
        cls.other_cert, _ = servers.make_self_signed_cert(cls.make_class_tmp(), "other")

    def failing_script(self):
        curl = need_tool("/usr/bin/curl", "curl")
        lines = []
        for version in VERSIONS:
            lines.append(shlex.join(py_client_cmd(self.nginx.ports[version], version,
                                                  self.ATTEMPTS, "fresh", self.other_cert,
                                                  ["/alpha"])))
            # 60: "peer certificate cannot be authenticated"
            lines.append(f"{curl} -sS --cacert {shlex.quote(self.other_cert)} "
                         f"{self.nginx.url(version, '/alpha')} >/dev/null 2>&1; "
                         "echo curl_exit=$?")
        return "\n".join(lines)

    def check_client_output(self, stdout):
        results = parse_json_lines(stdout)
        self.assertEqual([(r["failures"], r["requests"]) for r in results],
                         [(self.ATTEMPTS, 0)] * 2, results)
        for r in results:
            self.assertIn("CERTIFICATE_VERIFY_FAILED", r["errors"][0], r)
        self.assertEqual(stdout.count("curl_exit=60"), 2, stdout)

    def expected_failures(self):
        return {v: self.ATTEMPTS + 1 for v in VERSIONS}

    def test_client_side(self):
        before = len(self.nginx.access_log())
        report, r = self.record_command("/bin/sh", "-c", self.failing_script())
        self.check_client_output(r.stdout)
        peers = {f"127.0.0.1:{p}" for p in self.nginx.ports.values()}
        ok, failed = ws_handshakes(report, "client", peers=peers)
        self.assertEqual(ok, {}, fmt(report["tls"]))
        self.assertEqual(failed, self.expected_failures(),
                         f"failed handshakes per version; tls rows: {fmt(report['tls'])}")
        for t in report["tls"]:
            self.assertFalse(t["plaintext"], fmt(t))
        self.assertEqual(len(self.nginx.access_log()), before, "a request got through")

    def test_server_side(self):
        workers = self.nginx.worker_pids()
        self.assertEqual(len(workers), 1, workers)
        rec, err, out = self.start_attached(workers[0])
        r = subprocess.run(["/bin/sh", "-c", self.failing_script()], capture_output=True,
                           text=True, timeout=60)
        self.check_client_output(r.stdout)
        # The worker has seen every connection close once it logged the
        # last refused handshake (error_log info: "... while SSL handshaking").
        n = sum(self.expected_failures().values())
        wait_for(lambda: self.error_log_count("while SSL handshaking") >= n,
                 f"{n} handshake errors in nginx's error log")
        report = self.finish_attached(rec, err, out, interrupt=True)
        ok, failed = ws_handshakes(report, "server", pids=set(workers))
        self.assertEqual(ok, {}, fmt(report["tls"]))
        self.assertEqual(failed, self.expected_failures(),
                         f"failed handshakes per version; tls rows: {fmt(report['tls'])}")

    def error_log_count(self, text):
        with open(os.path.join(self.nginx.dir, "error.log"), encoding="utf-8") as f:
            return f.read().count(text)


# ---- openssl s_server / s_client ------------------------------------------------------

# Runs, traced as a whole: per version, `openssl s_server -WWW` (serving
# hello.txt from its directory), then N `openssl s_client` GETs, the later
# ones resuming the first one's session (-sess_out / -sess_in). Prints JSON:
# {version: {"new": n, "reused": n, "bodies_ok": n, "server_pid": pid}}.
OPENSSL_DRIVER = r"""
import json, os, subprocess, sys
openssl, cert, key, www, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
ports = dict(zip(("TLSv1.2", "TLSv1.3"), map(int, sys.argv[6:8])))
flag = {"TLSv1.2": "-tls1_2", "TLSv1.3": "-tls1_3"}
out = {}
for version, port in ports.items():
    srv = subprocess.Popen([openssl, "s_server", "-WWW", "-accept", f"127.0.0.1:{port}",
                            "-cert", cert, "-key", key, flag[version]], cwd=www,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    for line in srv.stdout:  # "ACCEPT" once it listens
        if line.strip() == "ACCEPT":
            break
    res = {"new": 0, "reused": 0, "bodies_ok": 0, "server_pid": srv.pid}
    sess = os.path.join(www, f"session-{port}.pem")
    for i in range(n):
        args = [openssl, "s_client", "-connect", f"127.0.0.1:{port}", flag[version],
                "-CAfile", cert, "-verify_return_error", "-ign_eof",
                "-sess_in" if i else "-sess_out", sess]
        r = subprocess.run(args, input=b"GET /hello.txt HTTP/1.0\r\n\r\n",
                           capture_output=True, timeout=20)
        text = r.stdout.decode(errors="replace")
        res["reused"] += any(l.startswith("Reused, TLS") for l in text.splitlines())
        res["new"] += any(l.startswith("New, TLS") for l in text.splitlines())
        res["bodies_ok"] += "hello over tls" in text
    srv.terminate()
    srv.wait()
    out[version] = res
print(json.dumps(out))
"""


class OpensslTest(TlsTestCase):
    """openssl s_server -WWW and s_client, both traced in one recording."""

    N = 4  # s_client runs per version: 1 new session, then N - 1 resumed

    def test_uprobe_link_kind(self):
        # uprobe_multi links on Linux 6.6+ (they detach in one grace period,
        # not ~90 ms each), classic ones before or with WAITSCOPE_UPROBE_MULTI=0
        # (the bpf_tls_classic_uprobes groups). The other tests here check
        # that the plaintext arrives either way.
        release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
        multi = release >= (6, 6) and os.environ.get("WAITSCOPE_UPROBE_MULTI", "") != "0"
        out = os.path.join(self.make_tmp(), "report")
        r = tr.ws("-v", "record", "-q", "-o", out, "--", "/bin/true")
        self.assertEqual(r.returncode, 0, r.stderr)
        loaded = ("OpenSSL uprobes loaded for uprobe_multi links)" if multi
                  else "OpenSSL uprobes loaded)")
        self.assertIn(loaded, r.stderr)
        self.assertRegex(r.stderr, r"OpenSSL probes attached to \S+libssl\S* \(\d+ functions\)")

    def test_s_server_s_client(self):
        openssl = need_tool("/usr/bin/openssl", "openssl")
        tmp = self.make_tmp()
        www = os.path.join(tmp, "www")
        os.makedirs(www)
        with open(os.path.join(www, "hello.txt"), "w", encoding="utf-8") as f:
            f.write("hello over tls\n")
        cert, key = servers.make_self_signed_cert(tmp, "s_server")
        ports = [servers.free_port(), servers.free_port()]
        report, r = self.record_command(PYTHON, "-c", OPENSSL_DRIVER, openssl, cert, key, www,
                                        str(self.N), *map(str, ports))
        self.assertIn("exited with status 0", r.stderr)
        runs = json.loads(r.stdout)
        for version in VERSIONS:
            res = runs[version]
            self.assertEqual(res["bodies_ok"], self.N, runs)
            self.assertEqual(res["new"] + res["reused"], self.N, runs)
            self.assertGreater(res["reused"], 0, runs)
        expected = {}
        for version in VERSIONS:
            for resumed, key_ in ((False, "new"), (True, "reused")):
                if runs[version][key_]:
                    expected[(version, resumed)] = runs[version][key_]
        peers = {f"127.0.0.1:{p}" for p in ports}
        for role, kwargs in (("client", {"peers": peers}),
                             ("server", {"pids": {runs[v]["server_pid"] for v in VERSIONS}})):
            with self.subTest(role=role):
                ok, failed = ws_handshakes(report, role, **kwargs)
                self.assertEqual((ok, failed), (expected, {}),
                                 f"{role} handshakes vs s_client's New/Reused lines; "
                                 f"tls rows: {fmt(report['tls'])}")
                if role == "server":
                    # s_server -WWW reads and writes through BIO_f_ssl, which
                    # calls ssl_read_internal/ssl_write_internal, not the
                    # exported SSL_read/SSL_write the uprobes hook
                    # (docs/design-openssl.md, Limits): no plaintext there.
                    continue
                self.assertEqual(ws_requests(report, role),
                                 {("GET /hello.txt", "200"): 2 * self.N},
                                 f"{role} http rows: {fmt_http(report['http'])}")
                self.assert_plaintext(report, role)
        self.assert_tls_rows_well_formed(report)


# ---- PostgreSQL with ssl=on -----------------------------------------------------------

PG_STATEMENTS = [
    "DROP TABLE IF EXISTS tls_items",
    "CREATE TABLE tls_items (id int PRIMARY KEY, name text)",
    # Not VALUES: waitscope folds a VALUES list to (...), pg_stat_statements
    # keeps every $n, and pg_canonical compares texts.
    "INSERT INTO tls_items SELECT g, 'item ' || g FROM generate_series(1, 2) g",
    "SELECT name FROM tls_items WHERE id = 1",
    "UPDATE tls_items SET name = 'uno' WHERE id = 1",
    "SELECT count(*) FROM tls_items",
    "SELECT * FROM tls_no_such_table",  # an error, in both runs
]
PG_RUNS = 2  # psql processes (connections) per recording


class PostgresTlsTest(TlsTestCase):
    """psql over TLS (sslmode=require) vs the same statements in cleartext."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "pg" not in _SERVERS:
            try:
                _SERVERS["pg"] = servers.PostgresTlsServer().start()
            except servers.ServerMissing as e:
                _SERVERS["pg"] = str(e)
                skip_missing(f"PostgreSQL tests need a package that is not installed: {e}")
        if isinstance(_SERVERS["pg"], str):
            raise unittest.SkipTest(_SERVERS["pg"])
        cls.server = _SERVERS["pg"]

    def psql_script(self, sslmode):
        args = [self.server.psql_bin, "-X", "-q", *self.server.tcp_args()]
        for sql in PG_STATEMENTS:
            args += ["-c", sql]
        cmd = shlex.join(args)
        # psql goes on after the failing statement; its exit status is 1.
        return "\n".join([f"PGSSLMODE={sslmode} {cmd} >/dev/null 2>&1 || true"] * PG_RUNS)

    def statements(self, rows):
        """{statement: (count, errors)} exactly as waitscope wrote them."""
        out = {}
        for q in rows:
            c, e = out.get(q["statement"], (0, 0))
            out[q["statement"]] = (c + q["count"], e + q["errors"])
        return out

    def assert_matches_pss(self, rows):
        pss = tw.PostgresTestCase.pss_calls(self)
        ok_rows = [q for q in rows if not q["errors"]]
        self.assertEqual(tw.PostgresTestCase.ws_calls(ok_rows), pss,
                         f"waitscope vs pg_stat_statements; rows: {fmt(rows)}")
        # The reference saw every statement but the failing one, from each run.
        self.assertEqual(list(pss.values()), [PG_RUNS] * (len(PG_STATEMENTS) - 1), pss)
        failed = {s: ce for s, ce in self.statements(rows).items() if ce[1]}
        self.assertEqual(failed, {PG_STATEMENTS[-1]: (PG_RUNS, PG_RUNS)}, fmt(rows))

    def client_run(self, sslmode):
        self.server.admin("SELECT pg_stat_statements_reset()")
        report, r = self.record_command("/bin/sh", "-c", self.psql_script(sslmode),
                                        env=self.server.env())
        self.assertIn("exited with status 0", r.stderr)
        rows = self.queries(report, "postgres", peer=self.server.address)
        self.assert_matches_pss(rows)
        self.assert_connections(report, "client", "postgres", PG_RUNS, peer=self.server.address)
        return report, rows

    def test_client_side_same_as_cleartext(self):
        clear_report, clear_rows = self.client_run("disable")
        self.assertEqual(clear_report["tls"], [], "tls rows without TLS")
        tls_report, tls_rows = self.client_run("require")
        self.assertEqual(self.statements(tls_rows), self.statements(clear_rows),
                         f"TLS vs cleartext statements:\n{fmt(tls_rows)}\n{fmt(clear_rows)}")
        rows = [t for t in tls_report["tls"] if t["peer"] == self.server.address]
        self.assertEqual({(t["role"], t["failures"], t["plaintext"]) for t in rows},
                         {("client", 0, True)}, fmt(tls_report["tls"]))
        self.assertEqual(sum(t["count"] for t in rows), PG_RUNS, fmt(rows))
        self.assert_tls_rows_well_formed(tls_report)

    def test_server_side(self):
        # Before attaching: the admin connection (unix socket) stays out.
        self.server.admin("SELECT pg_stat_statements_reset()")
        rec, err, out = self.start_attached(self.server.pid)
        r = subprocess.run(["/bin/sh", "-c", self.psql_script("require")], capture_output=True,
                           text=True, timeout=60, env=self.server.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        report = self.finish_attached(rec, err, out, interrupt=True)
        rows = [q for q in self.queries(report, "postgres")
                if q["peer"].startswith("127.0.0.1") and "pg_stat_statements" not in q["statement"]]
        self.assert_matches_pss(rows)
        tls = [t for t in report["tls"] if t["role"] == "server"]
        self.assertEqual(sum(t["count"] for t in tls), PG_RUNS, fmt(report["tls"]))
        for t in tls:
            self.assertEqual((t["failures"], t["plaintext"]), (0, True), fmt(t))
        self.assert_tls_rows_well_formed(report)


# ---- a TLS connection whose plaintext is no protocol we parse ------------------------


class UnparsedPlaintextTest(TlsTestCase):
    """A TLS connection whose plaintext is no protocol we parse stops having
    its plaintext copied by the OpenSSL uprobes (the agent posts
    WS_CONN_NO_PLAINTEXT), as its ciphertext stopped after the handshake."""

    DURATION_S = 2.0

    def test_plaintext_copies_stop_while_traffic_goes_on(self):
        cert, key = servers.make_self_signed_cert(self.make_tmp())
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        port = tw.start_echo_server(self, ctx)
        round_trips, events, out = tw.record_ping_pong(self, port, self.DURATION_S, tls=True)
        self.assertGreater(events["plaintext"], 0,
                           "no plaintext was seen: are the uprobes attached?")
        self.assertLess(events["plaintext"], round_trips / 2,
                        f"{events['plaintext']} plaintext events for {round_trips} round trips: "
                        "the plaintext copies of an unparsed TLS connection did not stop")
        report = self.checked_report(out)
        rows = [t for t in report["tls"] if t["peer"] == f"127.0.0.1:{port}"]
        self.assertEqual([(t["count"], t["failures"], t["plaintext"]) for t in rows], [(1, 0, True)],
                         fmt(report["tls"]))
        self.assertEqual(report["queries"], [], "an unknown protocol produced queries")
        self.assertEqual(report["http"], [], "an unknown protocol produced requests")


# ---- main -----------------------------------------------------------------------------


def main():
    missing = [name for name, value in (("WAITSCOPE_BIN", tr.WAITSCOPE),
                                        ("REPORT_SCHEMA", tr.SCHEMA),
                                        ("REPORT_VALIDATOR", tr.VALIDATOR)) if not value]
    if missing:
        print(f"test_tls.py: set {', '.join(missing)} (see tests/bpf/CMakeLists.txt)",
              file=sys.stderr)
        return 2
    prog = unittest.main(module=sys.modules[__name__], argv=sys.argv, exit=False, verbosity=2)
    return tr.exit_status(prog.result, "TLS", SKIPS)


if __name__ == "__main__":
    sys.exit(main())
