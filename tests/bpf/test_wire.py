#!/usr/bin/python3
"""BPF integration tests: wire traffic against real servers (issue "wire traffic").

`waitscope record` traces the socket traffic of the processes it follows,
parses the PostgreSQL, MySQL/MariaDB and Redis protocols, and fills report.json
`queries`, `cache` and `connections`. These tests run real Debian servers
(tests/bpf/servers.py: plain child processes in temp dirs, 127.0.0.1 only) and
real clients (redis-benchmark, redis-cli, pgbench, psql, PyMySQL, the mariadb
client), and compare what waitscope saw with what the server itself counted:

  Redis       INFO commandstats calls/failed_calls, keyspace_hits/misses and
              total_connections_received, before/after deltas;
  PostgreSQL  pg_stat_statements calls (reset before each run), pgbench's own
              transaction count and latency average;
  MariaDB     performance_schema.events_statements_summary_by_digest
              COUNT_STAR and SUM_ERRORS (truncated before each run).

Both sides are covered: the client traced (`record -- CLIENT`) and the server
traced (`record -p SERVER_PID`, its forked children included), the client
then running untraced. Counts must be equal, not close; every report must
validate against the schema and show no loss (events_dropped, bytes_truncated
and parse_errors all zero) at this load.

Usage: test_wire.py [unittest args]  (run with /usr/bin/python3; needs root)
Environment (set by tests/bpf/CMakeLists.txt): WAITSCOPE_BIN, REPORT_SCHEMA,
REPORT_VALIDATOR, SKIP_EXIT_CODE.
Debian packages: postgresql (postgresql-15: server, psql, pgbench,
pg_stat_statements) mariadb-server mariadb-client redis-server redis-tools
python3-pymysql python3-jsonschema.

Exit code: 0 when everything passed, 1 on any failure, SKIP_EXIT_CODE (77)
when tests were skipped (not root, the kernel refused the probe, or a server
package is missing) and nothing failed, so ctest reports "Skipped".
"""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import servers  # noqa: E402
import test_record as tr  # noqa: E402  (shared helpers: ws, LineReader, skip probe)

SKIP_EXIT_CODE = tr.SKIP_EXIT_CODE
PYTHON = tr.PYTHON

# Why tests were skipped because a server package is missing (printed loudly).
SERVER_SKIPS = []

# One instance of each server for the whole run (started on first use, so a
# single ctest group starts only the server it needs), stopped at module end.
_SERVERS = {}


def get_server(cls):
    """The running instance of server class `cls`; SkipTest (loud) if its
    package is missing, an error (test failure) if it cannot start."""
    key = cls.__name__
    if key in _SERVERS:
        if isinstance(_SERVERS[key], str):
            raise unittest.SkipTest(_SERVERS[key])
        return _SERVERS[key]
    try:
        server = cls()
    except servers.ServerMissing as e:
        reason = f"{cls.name} tests need a package that is not installed: {e}"
        _SERVERS[key] = reason
        SERVER_SKIPS.append(reason)
        print(f"\n*** SKIPPING: {reason} ***\n", file=sys.stderr, flush=True)
        raise unittest.SkipTest(reason) from e
    _SERVERS[key] = server.start()
    return _SERVERS[key]


def tearDownModule():  # noqa: N802 - unittest's name
    for server in _SERVERS.values():
        if not isinstance(server, str):
            server.stop()


# ---- report helpers -----------------------------------------------------------------


def fmt_rows(rows):
    return json.dumps(rows, indent=1, sort_keys=True)


class WireTestCase(tr.WaitscopeTestCase):

    SERVER = None  # the servers.* class this test class needs

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()
        cls.server = get_server(cls.SERVER)

    # -- running waitscope

    def record_command(self, *command, env=None, unanswered=False):
        """`waitscope record -q -o OUT -- COMMAND`; returns (report, the
        CompletedProcess: the command's stdout/stderr pass through). The
        report is checked: schema-valid, no loss, consistent query rows
        (`unanswered`: the workload sends requests the server does not
        answer, which have no latency sample)."""
        out = os.path.join(self.make_tmp(), "report")
        # A forced hook flavour (WAITSCOPE_HOOKS, set by ctest for the raw_tp
        # groups) must really be the one attached: -v logs it.
        hooks = (env or os.environ).get("WAITSCOPE_HOOKS", "")
        verbose = ["-v"] if hooks else []
        r = tr.ws(*verbose, "record", "-q", "-o", out, "--", *command, env=env, timeout=120)
        ended = re.search(r"the command exited with status (\d+)\); report in", r.stderr)
        self.assertIsNotNone(ended, f"the command did not run to its end:\n{r.stderr}")
        # Some workloads end in an error on purpose (a failing statement):
        # waitscope passes the command's status on, after writing the report.
        self.assertEqual(r.returncode, int(ended.group(1)),
                         f"waitscope record failed:\n{r.stderr}")
        if hooks:
            self.assertIn(f"BPF hooks attached ({hooks}", r.stderr)
        return self.checked_report(out, unanswered=unanswered), r

    def start_attached(self, pid, *extra):
        """Starts `waitscope -v record -q -p PID EXTRA -o OUT` and returns
        (Popen, stderr LineReader, OUT) once it logged that it traces `pid`
        (logged after the BPF and socket hooks are attached and the pid is in
        the traced set, so a client started now is seen from its connect)."""
        out = os.path.join(self.make_tmp(), "report")
        rec = subprocess.Popen([tr.WAITSCOPE, "-v", "record", "-q", "-p", str(pid), *extra,
                                "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
        self.addCleanup(tr.kill_quietly, rec)
        err = tr.LineReader(rec.stderr)
        self.assertIsNotNone(err.wait_for(rf"tracing pid {pid}\b", timeout=30),
                             f"waitscope did not start tracing pid {pid}: {err.text()}")
        return rec, err, out

    def finish_attached(self, rec, err, out, interrupt, truncated=False):
        """Ends a start_attached() recording (SIGINT when `interrupt`, else it
        must end by itself, i.e. on --duration) and returns the checked report
        (`truncated`: see checked_report)."""
        if interrupt:
            rec.send_signal(signal.SIGINT)
        try:
            rc = rec.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail(f"waitscope did not end: {err.text()}")
        stderr = err.text(wait_eof_s=5)
        self.assertEqual(rc, 0, stderr)
        self.assertIn("interrupted" if interrupt else "duration reached", stderr)
        return self.checked_report(out, truncated=truncated)

    def checked_report(self, out, truncated=False, unanswered=False):
        """The report in `out`, schema-checked, with no loss. `truncated`:
        the workload sends messages longer than --capture-bytes on purpose,
        so bytes_truncated must be above 0 (the rest still zero).
        `unanswered`: see record_command."""
        report = self.assert_valid_report(out)
        loss = dict(report["loss"])
        if truncated:
            self.assertGreater(loss["bytes_truncated"], 0,
                               f"a message over --capture-bytes was not truncated: {loss}")
            loss["bytes_truncated"] = 0
        self.assertEqual(loss, {"events_dropped": 0, "bytes_truncated": 0, "parse_errors": 0,
                                "exchanges_lost": 0},
                         f"waitscope lost events, bytes or parses at a light load: "
                         f"{report['loss']}")
        for q in report["queries"]:
            if unanswered:
                self.assertLessEqual(q["latency_us"]["count"], q["count"], fmt_rows(q))
            else:
                self.assertEqual(q["latency_us"]["count"], q["count"],
                                 f"latency summary does not cover every call: {fmt_rows(q)}")
            self.assertLessEqual(q["errors"], q["count"], fmt_rows(q))
        return report

    # -- reading a report

    @staticmethod
    def queries(report, protocol, peer=None, pids=None):
        return [q for q in report["queries"] if q["protocol"] == protocol
                and (peer is None or q["peer"] == peer) and (pids is None or q["pid"] in pids)]

    def assert_connections(self, report, role, protocol, opened, peer=None, local=None,
                           pids=None):
        """The report's connection rows with this role and peer (client side)
        or local address (server side): at least one, all with the protocol,
        and `opened` connections in all (what the server counted where it
        counts, e.g. Redis total_connections_received)."""
        rows = [c for c in report["connections"] if c["role"] == role
                and (peer is None or c["peer"] == peer) and (local is None or c["local"] == local)
                and (pids is None or c["pid"] in pids)]
        self.assertTrue(rows, f"no {role} connection (peer {peer}, local {local}) in "
                        f"{fmt_rows(report['connections'])}")
        for c in rows:
            self.assertEqual(c["protocol"], protocol, fmt_rows(rows))
            # TCP connections that carried data have had RTT samples (the
            # kernel's srtt, >= 1 µs once set); UNIX sockets have none.
            if re.fullmatch(r"[\d.]+:\d+|\[[0-9a-f:]+\]:\d+", c["peer"]):
                rtt = c.get("rtt_us", {})
                self.assertGreaterEqual(rtt.get("count", 0), 1, f"no RTT: {fmt_rows([c])}")
                self.assertGreater(rtt["p50"], 0, fmt_rows([c]))
                # Both ends have their ports by the time data flows (a
                # connection announced at SYN_SENT would still have local
                # port 0: the kernel picks it after that state change).
                self.assertNotRegex(c["local"], r":0$", fmt_rows([c]))
        self.assertEqual(sum(c["opened"] for c in rows), opened,
                         f"connections opened (expected: {opened}); rows: {fmt_rows(rows)}")
        return rows


# ---- Redis ----------------------------------------------------------------------------

BENCH_TESTS = ("SET", "GET", "INCR", "LPUSH")
BENCH_REQUESTS = 5000


class RedisSnapshot:
    """What the Redis server counted: INFO commandstats and stats."""

    def __init__(self, server):
        self.calls = {}  # "GET", "CONFIG GET"... -> calls
        self.failed = {}  # -> failed_calls + rejected_calls
        # One INFO (one connection: the tests count the server's connections).
        info = server.info("all")
        for k, v in info.items():
            if not k.startswith("cmdstat_"):
                continue
            name = k[len("cmdstat_"):].replace("|", " ").upper()
            fields = dict(kv.split("=", 1) for kv in v.split(","))
            self.calls[name] = int(fields["calls"])
            self.failed[name] = int(fields["failed_calls"]) + int(fields["rejected_calls"])
        self.hits = int(info["keyspace_hits"])
        self.misses = int(info["keyspace_misses"])
        self.connections = int(info["total_connections_received"])

    def delta(self, before):
        """{command: (calls, failed)} that ran between `before` and this
        snapshot. INFO is left out: the tests' own (untraced) INFO calls
        are the only ones."""
        out = {}
        for name, calls in self.calls.items():
            d = (calls - before.calls.get(name, 0), self.failed[name] - before.failed.get(name, 0))
            if name != "INFO" and d != (0, 0):
                out[name] = d
        return out


# Lines of a Python script: a raw RESP client (connect, send, reply), for
# what the usual clients hide (replies turned off, transactions, RESP3 pushes).
RESP_CLIENT = [
    "import socket",
    "def connect(port):",
    "    c = socket.create_connection(('127.0.0.1', port))",
    "    return c, c.makefile('rb')",
    "def send(c, *args):",
    "    out = b'*%d\\r\\n' % len(args)",
    "    for a in args:",
    "        a = str(a).encode()",
    "        out += b'$%d\\r\\n%s\\r\\n' % (len(a), a)",
    "    c.sendall(out)",
    "def reply(f):  # RESP2 and RESP3; a push message comes back as ('push', [...])",
    "    line = f.readline()",
    "    t, n = line[:1], line[1:].strip()",
    "    if t in (b'$', b'=', b'!', b'*', b'~', b'>', b'%') and int(n) < 0:",
    "        return None",
    "    if t in (b'$', b'=', b'!'):",
    "        return f.read(int(n) + 2)[:-2]",
    "    if t in (b'*', b'~', b'>'):",
    "        items = [reply(f) for _ in range(int(n))]",
    "        return ('push', items) if t == b'>' else items",
    "    if t == b'%':",
    "        return {reply(f): reply(f) for _ in range(int(n))}",
    "    return None if t == b'_' else line.strip()",
]


# Lines of a Python script: sendmmsg/recvmmsg through ctypes (the socket
# module has neither). messages() builds an mmsghdr vector from the bytes of
# each message's iovecs.
MMSG_CTYPES = [
    "import ctypes",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "class Iovec(ctypes.Structure):",
    "    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]",
    "class Msghdr(ctypes.Structure):",
    "    _fields_ = [('name', ctypes.c_void_p), ('namelen', ctypes.c_uint),",
    "                ('iov', ctypes.POINTER(Iovec)), ('iovlen', ctypes.c_size_t),",
    "                ('control', ctypes.c_void_p), ('controllen', ctypes.c_size_t),",
    "                ('flags', ctypes.c_int)]",
    "class Mmsghdr(ctypes.Structure):",
    "    _fields_ = [('hdr', Msghdr), ('len', ctypes.c_uint)]",
    "MSG_WAITFORONE = 0x10000",
    "def messages(buffers):  # [[bytes, ...] per message] -> (vector, buffers kept alive)",
    "    vec, keep = (Mmsghdr * len(buffers))(), []",
    "    for m, parts in zip(vec, buffers):",
    "        iov = (Iovec * max(len(parts), 1))()",
    "        for v, part in zip(iov, parts):",
    "            b = ctypes.create_string_buffer(part, max(len(part), 1))",
    "            keep.append(b)",
    "            v.base, v.len = ctypes.addressof(b), len(part)",
    "        keep.append(iov)",
    "        m.hdr.iov, m.hdr.iovlen = iov, len(parts)",
    "    return vec, keep",
]


def redis_command_of(statement, known):
    """The command a Redis statement row belongs to: its first word, or its
    first two for container commands ("CONFIG GET", as commandstats names them)."""
    words = statement.split(" ")
    two = " ".join(words[:2])
    return two if two in known else words[0]


class RedisTestCase(WireTestCase):
    SERVER = servers.RedisServer

    def ws_commands(self, rows, known):
        """{command: (count, errors)} from waitscope's redis query rows."""
        count, errors = Counter(), Counter()
        for q in rows:
            cmd = redis_command_of(q["statement"], known)
            count[cmd] += q["count"]
            errors[cmd] += q["errors"]
        return {cmd: (count[cmd], errors[cmd]) for cmd in count}

    def record_script(self, script, server_counts, unanswered=False):
        """Runs the Python `script` traced and checks that INFO commandstats
        saw `server_counts` ({command: (calls, failed)}) meanwhile: (report,
        waitscope's redis rows to the server, the snapshots before and after)."""
        before = RedisSnapshot(self.server)
        report, r = self.record_command(PYTHON, "-c", script, unanswered=unanswered)
        after = RedisSnapshot(self.server)
        self.assertIn("exited with status 0", r.stderr, r.stdout + r.stderr)
        self.assertEqual(after.delta(before), server_counts,
                         "the server did not count the script's commands as expected")
        return report, self.queries(report, "redis", peer=self.server.address), before, after

    def assert_matches_server(self, report, before, after, rows, cache_rows):
        expected = after.delta(before)
        for cmd in BENCH_TESTS:  # the benchmark did run them all
            self.assertGreaterEqual(expected.get(cmd, (0, 0))[0], BENCH_REQUESTS, expected)
        got = self.ws_commands(rows, expected)
        self.assertEqual(got, expected,
                         "per-command (count, errors): waitscope vs INFO commandstats deltas; "
                         f"rows: {fmt_rows(rows)}")
        reads = sum(c["reads"] for c in cache_rows)
        hits = sum(c["hits"] for c in cache_rows)
        misses = sum(c["misses"] for c in cache_rows)
        self.assertEqual((reads, hits, misses),
                         (after.hits - before.hits + after.misses - before.misses,
                          after.hits - before.hits, after.misses - before.misses),
                         f"cache (reads, hits, misses) vs keyspace_hits/misses deltas: "
                         f"{fmt_rows(cache_rows)}")

    def benchmark_args(self, pipeline):
        args = [self.server.benchmark_bin, "-h", "127.0.0.1", "-p", str(self.server.port),
                "-n", str(BENCH_REQUESTS), "-c", "4", "-t", ",".join(BENCH_TESTS).lower(), "-q"]
        if pipeline > 1:
            args += ["-P", str(pipeline)]
        return args


class RedisClientTest(RedisTestCase):
    """redis-benchmark and redis-cli traced (the client side)."""

    def test_benchmark(self):
        for pipeline in (1, 16):
            with self.subTest(pipeline=pipeline):
                before = RedisSnapshot(self.server)
                report, r = self.record_command(*self.benchmark_args(pipeline))
                after = RedisSnapshot(self.server)
                self.assertRegex(r.stdout, r"LPUSH: [\d.]+ requests per second", r.stdout)
                peer = self.server.address
                rows = self.queries(report, "redis", peer=peer)
                cache_rows = [c for c in report["cache"] if c["peer"] == peer]
                self.assert_matches_server(report, before, after, rows, cache_rows)
                # Every connection the server accepted (but the "after" INFO's).
                self.assert_connections(report, "client", "redis",
                                        after.connections - before.connections - 1, peer=peer)

    def test_cache_hits_and_misses(self):
        """GET/MGET hits and misses from redis-cli in a traced shell script."""
        cli = shlex.join([self.server.cli_bin, "-h", "127.0.0.1", "-p", str(self.server.port)])
        script = "\n".join([
            "set -e",
            f"{cli} SET cache:present value >/dev/null",
            f"{cli} GET cache:present >/dev/null",                       # hit
            f"{cli} GET cache:present >/dev/null",                       # hit
            *(f"{cli} GET cache:missing:{i} >/dev/null" for i in range(3)),  # 3 misses
            f"{cli} MGET cache:present cache:missing:a cache:missing:b >/dev/null",  # 1 + 2
            f"{cli} DEL cache:present >/dev/null",
            f"{cli} GET cache:present >/dev/null",                       # miss
        ])
        before = RedisSnapshot(self.server)
        report, r = self.record_command("/bin/sh", "-c", script)
        after = RedisSnapshot(self.server)
        self.assertIn("exited with status 0", r.stderr)
        peer = self.server.address
        expected = after.delta(before)
        self.assertEqual(expected, {"SET": (1, 0), "GET": (6, 0), "MGET": (1, 0), "DEL": (1, 0)},
                         "the server did not see the script's commands")
        rows = self.queries(report, "redis", peer=peer)
        self.assertEqual(self.ws_commands(rows, expected), expected, fmt_rows(rows))
        cache_rows = [c for c in report["cache"] if c["peer"] == peer]
        got = tuple(sum(c[k] for c in cache_rows) for k in ("reads", "hits", "misses"))
        server = (after.hits - before.hits + after.misses - before.misses,
                  after.hits - before.hits, after.misses - before.misses)
        self.assertEqual(server, (9, 3, 6))  # what the script does, as the server counts it
        self.assertEqual(got, server, f"cache rows: {fmt_rows(cache_rows)}")
        # One redis-cli process (and connection) per command.
        self.assert_connections(report, "client", "redis",
                                after.connections - before.connections - 1, peer=peer)


    def test_client_reply_off_and_skip(self):
        """A mass insert under CLIENT REPLY OFF and a CLIENT REPLY SKIP: the
        server runs those commands without answering. Each counts once, with
        no latency, and every reply still goes to its own command (waiting
        for theirs, every later reply went to the command before it)."""
        script = "\n".join([
            *RESP_CLIENT,
            f"c, f = connect({self.server.port})",
            "send(c, 'CLIENT', 'REPLY', 'OFF')",
            "for i in range(200):",
            "    send(c, 'SET', 'bulk:%d' % i, i)",
            "send(c, 'CLIENT', 'REPLY', 'ON')",
            "assert reply(f) == b'+OK'",
            "for i in range(0, 200, 20):",
            "    send(c, 'GET', 'bulk:%d' % i)",
            "    assert reply(f) == str(i).encode()",
            "send(c, 'CLIENT', 'REPLY', 'SKIP')",
            "send(c, 'DEL', 'bulk:0')",
            "send(c, 'PING')",
            "assert reply(f) == b'+PONG'",
        ])
        expected = {"CLIENT REPLY": (3, 0), "SET": (200, 0), "GET": (10, 0), "DEL": (1, 0),
                    "PING": (1, 0)}
        report, rows, before, after = self.record_script(script, expected, unanswered=True)
        peer = self.server.address
        self.assertEqual(self.ws_commands(rows, expected), expected, fmt_rows(rows))
        # Latency only where there was a reply.
        samples = {q["statement"]: q["latency_us"]["count"] for q in rows}
        self.assertEqual(samples, {"CLIENT REPLY": 1, "SET bulk:?": 0, "GET bulk:?": 10,
                                   "DEL bulk:?": 0, "PING": 1}, fmt_rows(rows))
        cache_rows = [c for c in report["cache"] if c["peer"] == peer]
        self.assertEqual(tuple(sum(c[k] for c in cache_rows) for k in ("reads", "hits", "misses")),
                         (10, after.hits - before.hits, after.misses - before.misses))
        self.assertEqual(report["loss"].get("exchanges_lost", 0), 0, report["loss"])

    def test_sendmmsg_and_recvmmsg(self):
        """Commands sent with sendmmsg, one per message (two iovecs each, an
        empty message among them), replies read with recvmmsg into 7-byte
        messages: every message's bytes, in order, as the server counts the
        commands. The "sched" hooks see one message at a time and must tell
        which; sys_exit sees the call, whose return value counts messages."""
        rounds = 40
        script = "\n".join([
            *MMSG_CTYPES,
            "import os, socket",
            "def resp(*args):",
            "    out = b'*%d\\r\\n' % len(args)",
            "    for a in args:",
            "        out += b'$%d\\r\\n%s\\r\\n' % (len(a), a)",
            "    return out",
            f"c = socket.create_connection(('127.0.0.1', {self.server.port}))",
            "fd, prefix = c.fileno(), b'mmsg:%d' % os.getpid()",
            "# Seven messages of at most 7 bytes: a reply round ends inside one",
            "rvec, rkeep = messages([[b'\\0' * 7]] * 7)",
            f"for i in range({rounds}):",
            "    key, value = b'%s:%d' % (prefix, i), b'v%d' % i",
            "    cmds = [resp(b'SET', key, value), resp(b'GET', key), b'',",
            "            resp(b'GET', prefix + b':missing'), resp(b'INCR', prefix + b':n')]",
            "    vec, keep = messages([[x[:len(x) // 2], x[len(x) // 2:]] if x else [] for x in cmds])",
            "    n = libc.sendmmsg(fd, vec, len(cmds), 0)",
            "    assert n == len(cmds), (n, ctypes.get_errno())",
            "    assert [m.len for m in vec] == [len(x) for x in cmds]",
            "    want = b'+OK\\r\\n$%d\\r\\n%s\\r\\n$-1\\r\\n:%d\\r\\n' % (len(value), value, i + 1)",
            "    got = b''",
            "    while len(got) < len(want):",
            "        n = libc.recvmmsg(fd, rvec, len(rvec), MSG_WAITFORONE, None)",
            "        assert n > 0, (n, ctypes.get_errno())",
            "        got += b''.join(rkeep[2 * j].raw[:rvec[j].len] for j in range(n))",
            "    assert got == want, (got, want)",
        ])
        expected = {"SET": (rounds, 0), "GET": (2 * rounds, 0), "INCR": (rounds, 0)}
        report, rows, before, after = self.record_script(script, expected)
        # (record_script checked one latency sample per command.)
        self.assertEqual(self.ws_commands(rows, expected), expected, fmt_rows(rows))
        cache_rows = [c for c in report["cache"] if c["peer"] == self.server.address]
        self.assertEqual(tuple(sum(c[k] for c in cache_rows) for k in ("reads", "hits", "misses")),
                         (2 * rounds, after.hits - before.hits, after.misses - before.misses),
                         fmt_rows(cache_rows))
        self.assertEqual((after.hits - before.hits, after.misses - before.misses),
                         (rounds, rounds), "the server did not count the script's GETs")
        self.assert_connections(report, "client", "redis", 1, peer=self.server.address)


    def test_transactions(self):
        """MULTI/EXEC as INFO commandstats counts it: a queued command when
        EXEC runs it (an error inside EXEC's array is its error); nothing
        for DISCARD, -EXECABORT or an EXEC that a WATCHed key aborted."""
        script = "\n".join([
            *RESP_CLIENT,
            f"c, f = connect({self.server.port})",
            "def call(*args):",
            "    send(c, *args)",
            "    return reply(f)",
            "call('DEL', 'tx:list', 'tx:watched')",
            "for i in range(3):",
            "    call('MULTI'); call('SET', 'tx:a', i); call('INCR', 'tx:n'); call('DISCARD')",
            "for i in range(2):",
            "    call('WATCH', 'tx:watched'); call('MULTI'); call('GET', 'tx:a')",
            "    other, _ = connect(" + str(self.server.port) + ")",
            "    send(other, 'SET', 'tx:watched', i); other.recv(64); other.close()",
            "    assert call('EXEC') is None, 'the WATCH did not abort'",
            "call('MULTI'); call('SET', 'tx:b', 1); call('NO-SUCH-COMMAND')",
            "assert call('EXEC').startswith(b'-EXECABORT')",
            "for i in range(4):",
            "    call('MULTI'); call('SET', 'tx:list', 'x'); call('LPUSH', 'tx:list', 'y')",
            "    call('GET', 'tx:list')",
            "    assert len(call('EXEC')) == 3",
        ])
        expected = {"DEL": (1, 0), "MULTI": (10, 0), "DISCARD": (3, 0), "WATCH": (2, 0),
                    "EXEC": (7, 1), "SET": (6, 0), "LPUSH": (4, 4), "GET": (4, 0)}
        _, rows, _, _ = self.record_script(script, expected)
        got = self.ws_commands(rows, expected)
        got.pop("NO-SUCH-COMMAND", None)  # rejected: in errorstats, not commandstats
        self.assertEqual(got, expected, fmt_rows(rows))


    def test_resp3_push_messages(self):
        """RESP3 (HELLO 3, the default of clients such as Lettuce): maps, sets
        and nulls as replies, and push messages that answer no command: a
        client-side caching invalidation, pub/sub confirmations and
        messages. Each command still gets its own reply."""
        script = "\n".join([
            *RESP_CLIENT,
            f"a, fa = connect({self.server.port})",
            f"b, fb = connect({self.server.port})",
            "def call(*args):",
            "    send(a, *args)",
            "    return reply(fa)",
            "assert isinstance(call('HELLO', '3'), dict)",
            "call('CLIENT', 'TRACKING', 'ON')",
            "call('HSET', 'r3:h', 'f', 'v'); call('SADD', 'r3:s', 'x'); call('SET', 'r3:k', 'v')",
            "assert call('GET', 'r3:k') == b'v'",
            "assert call('HGETALL', 'r3:h') == {b'f': b'v'}",
            "assert call('SMEMBERS', 'r3:s') == [b'x']",
            "assert call('GET', 'r3:missing') is None",
            "send(b, 'SET', 'r3:k', 'v2'); assert reply(fb) == b'+OK'",
            "# The invalidation of the tracked key is pushed to `a`, unasked.",
            "assert call('PING') == ('push', [b'invalidate', [b'r3:k']])",
            "assert reply(fa) == b'+PONG'",
            "assert call('SUBSCRIBE', 'r3:ch') == ('push', [b'subscribe', b'r3:ch', b':1'])",
            "send(b, 'PUBLISH', 'r3:ch', 'hello'); assert reply(fb) == b':1'",
            "assert reply(fa) == ('push', [b'message', b'r3:ch', b'hello'])",
            "assert call('PING') == b'+PONG'  # RESP3 allows commands while subscribed",
            "assert call('UNSUBSCRIBE', 'r3:ch')[0] == 'push'",
            "assert call('GET', 'r3:k') == b'v2'",
        ])
        expected = {"HELLO": (1, 0), "CLIENT TRACKING": (1, 0), "HSET": (1, 0), "SADD": (1, 0),
                    "SET": (2, 0), "GET": (3, 0), "HGETALL": (1, 0), "SMEMBERS": (1, 0),
                    "PING": (2, 0), "SUBSCRIBE": (1, 0), "PUBLISH": (1, 0), "UNSUBSCRIBE": (1, 0)}
        report, rows, before, after = self.record_script(script, expected)
        peer = self.server.address
        self.assertEqual(self.ws_commands(rows, expected), expected, fmt_rows(rows))
        # Every command had a reply of its own: one latency sample each.
        self.assertEqual({q["statement"]: q["latency_us"]["count"] for q in rows},
                         {q["statement"]: q["count"] for q in rows}, fmt_rows(rows))
        # GETs: r3:k twice (hits), r3:missing (a miss); keyspace_hits also
        # counts HGETALL's and SMEMBERS' lookups, which are no cache reads.
        cache_rows = [c for c in report["cache"] if c["peer"] == peer]
        self.assertEqual(tuple(sum(c[k] for c in cache_rows) for k in ("reads", "hits", "misses")),
                         (3, 2, 1), fmt_rows(cache_rows))
        self.assertEqual(after.misses - before.misses, 1)
        self.assertEqual(report["loss"].get("parse_errors", 0), 0, report["loss"])


class RedisServerTest(RedisTestCase):
    """redis-server traced by pid (`-p PID --duration`); redis-benchmark runs
    untraced, after waitscope is attached and well before the duration ends."""

    DURATION_S = 4

    def test_benchmark_server_side(self):
        for pipeline in (1, 16):
            with self.subTest(pipeline=pipeline):
                before = RedisSnapshot(self.server)
                rec, err, out = self.start_attached(self.server.pid, "--duration",
                                                    f"{self.DURATION_S}s")
                b = subprocess.run(self.benchmark_args(pipeline), capture_output=True, text=True,
                                   timeout=60)
                self.assertEqual(b.returncode, 0, b.stderr)
                self.assertIsNone(rec.poll(),
                                  f"the benchmark outlasted --duration {self.DURATION_S}s: "
                                  "raise DURATION_S")
                report = self.finish_attached(rec, err, out, interrupt=False)
                after = RedisSnapshot(self.server)
                pids = {self.server.pid}
                rows = self.queries(report, "redis", pids=pids)
                cache_rows = [c for c in report["cache"] if c["pid"] in pids]
                self.assert_matches_server(report, before, after, rows, cache_rows)
                self.assert_connections(report, "server", "redis",
                                        after.connections - before.connections - 1,
                                        local=self.server.address, pids=pids)


# ---- PostgreSQL -----------------------------------------------------------------------


def pg_canonical(sql):
    """A statement's text in a form both sides map to, so waitscope rows can
    be matched with pg_stat_statements rows.

    waitscope redacts literals to `?` and keeps $n placeholders; pg_stat_statements
    replaces the constants it finds in the parse tree with $n (numbered in
    order) and keeps the query text as sent otherwise. They differ in which
    tokens they treat as constants: pg_stat_statements turns `true` into $1
    (current_schemas(true) in pgbench's setup query) but keeps the column
    positions of `GROUP BY 1, 2 ORDER BY 1`, which waitscope redacts. So here
    $n, ?, bare numbers and true/false all become `#`; then case and whitespace
    are folded and a trailing `;` dropped."""
    s = sql.strip().rstrip(";").strip().lower()
    s = re.sub(r"\$\d+", "#", s)
    s = s.replace("?", "#")
    s = re.sub(r"\b(true|false)\b", "#", s)
    s = re.sub(r"(?<![\w.])\d+(\.\d+)?(?![\w.])", "#", s)
    return re.sub(r"\s+", " ", s)


PGBENCH_CLIENTS = 2
PGBENCH_TX_PER_CLIENT = 200
PGBENCH_TX = PGBENCH_CLIENTS * PGBENCH_TX_PER_CLIENT
PGBENCH_TPCB = [  # pgbench's built-in "TPC-B (sort of)" script, one transaction
    "BEGIN",
    "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
    "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
    "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2",
    "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
    "CURRENT_TIMESTAMP)",
    "END",
]


def pgbench_conn_args(server):
    """Connection arguments for pgbench, whose -d means --debug: the database
    name goes last, as an argument."""
    args = server.tcp_args()
    i = args.index("-d")
    return args[:i] + args[i + 2:] + [args[i + 1]]


class PostgresTestCase(WireTestCase):
    SERVER = servers.PostgresServer

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # pgbench's tables (untraced), once per server.
        if not getattr(cls.server, "pgbench_initialized", False):
            r = subprocess.run([cls.server.pgbench_bin, "-i", "-q", "-s", "1",
                                *pgbench_conn_args(cls.server)], capture_output=True, text=True,
                               env=cls.server.env(), timeout=120)
            if r.returncode != 0:
                raise AssertionError(f"pgbench -i failed:\n{r.stdout}{r.stderr}")
            cls.server.pgbench_initialized = True

    def pgbench_args(self, mode):
        return [self.server.pgbench_bin, "-n", "-t", str(PGBENCH_TX_PER_CLIENT),
                "-c", str(PGBENCH_CLIENTS), "-M", mode, *pgbench_conn_args(self.server)]

    def reset_pss(self):
        self.server.admin("SELECT pg_stat_statements_reset()")

    def pss_calls(self):
        """{canonical statement: calls} from pg_stat_statements, without the
        tests' own queries about pg_stat_statements."""
        calls = Counter()
        for line in self.server.admin("SELECT calls, query FROM pg_stat_statements "
                                      "WHERE query NOT LIKE '%pg_stat_statements%'"):
            n, _, query = line.partition("\t")
            calls[pg_canonical(query)] += int(n)
        return dict(calls)

    @staticmethod
    def ws_calls(rows):
        calls = Counter()
        for q in rows:
            calls[pg_canonical(q["statement"])] += q["count"]
        return dict(calls)

    def assert_matches_pss(self, rows, mode):
        expected = self.pss_calls()
        if mode == "prepared":
            # pg_stat_statements (PostgreSQL 15) counts a utility statement run
            # from a protocol-level prepared statement only on its first
            # execution per connection (it zeroes the cached plan's queryId), so
            # it reports BEGIN/END once per client here. For those two the
            # reference is pgbench's own count of finished transactions.
            for stmt in ("BEGIN", "END"):
                expected[pg_canonical(stmt)] = PGBENCH_TX
        for stmt in PGBENCH_TPCB:  # the reference saw the whole workload
            self.assertEqual(expected.get(pg_canonical(stmt)), PGBENCH_TX, (stmt, expected))
        self.assertFalse([q for q in rows if q["errors"]], f"errors: {fmt_rows(rows)}")
        self.assertEqual(self.ws_calls(rows), expected,
                         "waitscope counts vs pg_stat_statements calls (canonical statement "
                         f"text); rows: {fmt_rows(rows)}")

    def assert_latency_consistent(self, rows, pgbench_stdout):
        """Statement latencies against pgbench's "latency average" (per
        transaction, per client; over the run, including every statement).

        A pgbench client runs the 7 statements of a transaction one after
        the other on its connection (no pipelining), and a transaction's
        latency spans all of them, plus pgbench's own work between them. So
        any one statement's median is below the transaction's average
        (allow x1.5 for skew), the sum of the 7 mean statement latencies is
        at most the mean transaction latency (x1.25 slack: clocks, rounding),
        and it is not tiny either: a latency that missed the server's time
        would fall far below (>= 0.3: the rest is pgbench's own CPU time)."""
        m = re.search(r"^latency average = ([\d.]+) ms$", pgbench_stdout, re.M)
        self.assertIsNotNone(m, pgbench_stdout)
        avg_us = float(m.group(1)) * 1000
        tpcb = {pg_canonical(s) for s in PGBENCH_TPCB}
        tx_rows = [q for q in rows if pg_canonical(q["statement"]) in tpcb]
        for q in tx_rows:
            self.assertLessEqual(q["latency_us"]["p50"], 1.5 * avg_us,
                                 f"p50 of {q['statement']!r} vs pgbench latency average "
                                 f"{avg_us:.0f} us: {fmt_rows(q)}")
        sum_mean = sum(q["latency_us"]["mean"] * q["count"] for q in tx_rows) / PGBENCH_TX
        self.assertLessEqual(sum_mean, 1.25 * avg_us,
                             f"statement time per transaction {sum_mean:.0f} us vs pgbench "
                             f"latency average {avg_us:.0f} us")
        self.assertGreaterEqual(sum_mean, 0.3 * avg_us,
                                f"statement time per transaction {sum_mean:.0f} us vs pgbench "
                                f"latency average {avg_us:.0f} us")

    def assert_pgbench_ok(self, stdout):
        self.assertIn(f"number of transactions actually processed: {PGBENCH_TX}/{PGBENCH_TX}",
                      stdout)

    # psql -c commands: SQL-level PREPARE/EXECUTE (not the protocol's
    # Parse/Bind), a name in another case, a quoted one, several in one
    # query string, and an EXECUTE of a deallocated name.
    SQL_PREPARE_COMMANDS = [
        "-c", "PREPARE q(int) AS SELECT $1 + 1 AS x",
        "-c", "EXECUTE q(1)",
        "-c", "execute Q (2)",
        "-c", 'PREPARE "Big"(numeric(10, 2), text) AS SELECT $1 * 2, length($2)',
        "-c", "EXECUTE \"Big\"(1.5, 'abc')",
        "-c", "PREPARE r AS SELECT count(*) FROM pg_class WHERE relname <> 'x'; "
              "EXECUTE r; EXECUTE r",
        "-c", "DEALLOCATE q",
        "-c", "EXECUTE q(3)",  # fails: deallocated
    ]
    SQL_PREPARE_PLUS = "SELECT $1 + ? AS x"
    SQL_PREPARE_COUNT = "SELECT count(*) FROM pg_class WHERE relname <> ?"
    SQL_PREPARE_STATEMENTS = {  # {statement: (count, errors)}
        "PREPARE q(int) AS " + SQL_PREPARE_PLUS: (1, 0),
        SQL_PREPARE_PLUS: (2, 0),
        'PREPARE "Big"(numeric(?, ?), text) AS SELECT $1 * ?, length($2)': (1, 0),
        "SELECT $1 * ?, length($2)": (1, 0),
        "PREPARE r AS " + SQL_PREPARE_COUNT: (1, 0),
        SQL_PREPARE_COUNT: (2, 0),
        "DEALLOCATE q": (1, 0),
        "EXECUTE q(?)": (1, 1),
    }

    def assert_sql_prepare(self, rows):
        """SQL_PREPARE_COMMANDS as waitscope reports them, and against
        pg_stat_statements, which files each EXECUTE under its PREPARE
        ("PREPARE name AS statement" rows hold the EXECUTEs' calls) and
        counts neither the PREPARE, DEALLOCATE nor failed statements."""
        got = {q["statement"]: (q["count"], q["errors"]) for q in rows}
        self.assertEqual(got, self.SQL_PREPARE_STATEMENTS, fmt_rows(rows))
        expected = {}
        for text, calls in self.pss_calls().items():
            if text.startswith("prepare "):
                text = re.split(r" as ", text, maxsplit=1)[1]
            expected[text] = expected.get(text, 0) + calls
        ran = [q for q in rows
               if not q["statement"].startswith(("PREPARE ", "DEALLOCATE ")) and not q["errors"]]
        self.assertEqual(self.ws_calls(ran), expected, fmt_rows(rows))


class PostgresClientTest(PostgresTestCase):
    """pgbench and psql traced (the client side)."""

    def test_pgbench(self):
        for mode in ("simple", "extended", "prepared"):
            with self.subTest(mode=mode):
                self.reset_pss()
                report, r = self.record_command(*self.pgbench_args(mode), env=self.server.env())
                self.assert_pgbench_ok(r.stdout)
                rows = self.queries(report, "postgres", peer=self.server.address)
                self.assert_matches_pss(rows, mode)
                self.assert_latency_consistent(rows, r.stdout)
                # pgbench connects once for its setup queries, then once per client.
                self.assert_connections(report, "client", "postgres", 1 + PGBENCH_CLIENTS,
                                        peer=self.server.address)

    def test_pgbench_over_the_unix_socket(self):
        """The same workload over the server's UNIX socket (how local clients
        connect by default): the statements are reported with the socket's
        path as peer, under unix_sockets (the contract's peers are ip:port)."""
        self.reset_pss()
        tcp = self.pgbench_args("extended")
        i = tcp.index("-h")
        args = tcp[:i + 1] + [self.server.dir] + tcp[i + 2:]
        report, r = self.record_command(*args, env=self.server.env())
        self.assert_pgbench_ok(r.stdout)
        path = f"unix:{self.server.dir}/.s.PGSQL.{self.server.port}"
        self.assertFalse(self.queries(report, "postgres"),
                         f"UNIX-socket statements in the contract's queries: "
                         f"{fmt_rows(report['queries'])}")
        unix = report["unix_sockets"]
        rows = [q for q in unix["queries"] if q["protocol"] == "postgres"]
        self.assertTrue(rows and all(q["peer"] == path for q in rows),
                        f"expected peer {path}: {fmt_rows(unix['queries'])}")
        self.assert_matches_pss(rows, "extended")
        conns = [c for c in unix["connections"] if c["peer"] == path]
        self.assertEqual(sum(c["opened"] for c in conns), 1 + PGBENCH_CLIENTS, fmt_rows(conns))
        self.assertTrue(all(c["protocol"] == "postgres" for c in conns), fmt_rows(conns))

    def test_portal_row_limits(self):
        """Executes with a row limit (JDBC's fetch size): the server answers
        PortalSuspended until a portal's last rows and counts the run once,
        so waitscope reports one statement per portal run, with all its rows
        (pg_stat_statements keeps only the last Execute's rows)."""
        self.reset_pss()
        socket_path = os.path.join(self.server.dir, f".s.PGSQL.{self.server.port}")
        report, r = self.record_command(
            PYTHON, os.path.join(os.path.dirname(__file__), "pg_portal_client.py"), socket_path,
            self.server.DATABASE)
        self.assertIn("exited with status 0", r.stderr, r.stdout + r.stderr)
        rows = [q for q in report["unix_sockets"]["queries"] if q["protocol"] == "postgres"]
        expected = self.pss_calls()
        self.assertEqual(expected.get(pg_canonical("SELECT g FROM generate_series($1, $2) g")),
                         1, expected)
        self.assertEqual(self.ws_calls(rows), expected, fmt_rows(rows))
        fetched = {q["statement"]: q.get("rows") for q in rows if "generate_series" in q["statement"]}
        self.assertEqual(fetched, {"SELECT g FROM generate_series(?, ?) g": 25,
                                   "SELECT g + ? FROM generate_series(?, ?) g": 25},
                         fmt_rows(rows))

    def test_sql_prepare(self):
        """SQL-level PREPARE/EXECUTE: waitscope reports each EXECUTE as the
        statement it runs, and the PREPARE as its own round trip."""
        self.reset_pss()
        report, r = self.record_command(self.server.psql_bin, "-X", *self.server.tcp_args(),
                                        *self.SQL_PREPARE_COMMANDS, env=self.server.env())
        self.assertIn('prepared statement "q" does not exist', r.stdout + r.stderr)
        self.assert_sql_prepare(self.queries(report, "postgres", peer=self.server.address))

    def test_psql_errors(self):
        """Failed statements count as errors; in a multi-statement simple query
        the server skips what follows an error, so waitscope must not count it."""
        self.reset_pss()
        report, r = self.record_command(
            self.server.psql_bin, "-X", *self.server.tcp_args(),
            "-c", "SELECT 1 AS one",
            "-c", "SELECT * FROM nope WHERE x = 'abc'",
            "-c", "SELECT 'x;y' AS two",
            # The session is left in an aborted transaction: ROLLBACK ends it.
            "-c", "BEGIN; SELECT 1/0; COMMIT",
            "-c", "ROLLBACK",
            env=self.server.env())
        output = r.stdout + r.stderr
        self.assertIn('relation "nope" does not exist', output)
        self.assertIn("division by zero", output)
        self.assertNotIn("current transaction is aborted", output)
        rows = self.queries(report, "postgres", peer=self.server.address)
        got = {q["statement"]: (q["count"], q["errors"]) for q in rows}
        self.assertEqual(got, {
            "SELECT ? AS one": (1, 0),
            "SELECT * FROM nope WHERE x = ?": (1, 1),
            "BEGIN": (1, 0),
            "SELECT ?/?": (1, 1),
            # COMMIT never ran: the server abandons a query string at its first error.
            "ROLLBACK": (1, 0),
            "SELECT ? AS two": (1, 0),
        }, fmt_rows(rows))
        # pg_stat_statements records only the statements that succeeded.
        ok = Counter({pg_canonical(s): c for s, (c, e) in got.items() if not e})
        self.assertEqual(dict(ok), self.pss_calls())
        self.assert_connections(report, "client", "postgres", 1, peer=self.server.address)


class PostgresServerTest(PostgresTestCase):
    """The postmaster traced by pid: the backends it forks for pgbench's
    connections (after waitscope attached) are traced with it; pgbench runs
    untraced. Ended with SIGINT once pgbench is done."""

    def test_pgbench_server_side(self):
        for mode in ("simple", "extended", "prepared"):
            with self.subTest(mode=mode):
                self.reset_pss()
                rec, err, out = self.start_attached(self.server.pid)
                b = subprocess.run(self.pgbench_args(mode), capture_output=True, text=True,
                                   env=self.server.env(), timeout=120)
                self.assertEqual(b.returncode, 0, b.stdout + b.stderr)
                self.assert_pgbench_ok(b.stdout)
                report = self.finish_attached(rec, err, out, interrupt=True)
                backends = {t["pid"] for t in report["targets"] if t["pid"] != self.server.pid}
                self.assertTrue(backends, f"no backend traced: {report['targets']}")
                rows = self.queries(report, "postgres", pids=backends)
                self.assertEqual(rows, self.queries(report, "postgres"))
                self.assert_matches_pss(rows, mode)
                # A statement's time at the server is part of the client's.
                m = re.search(r"^latency average = ([\d.]+) ms$", b.stdout, re.M)
                avg_us = float(m.group(1)) * 1000
                tpcb = {pg_canonical(s) for s in PGBENCH_TPCB}
                for q in rows:
                    if pg_canonical(q["statement"]) in tpcb:
                        self.assertLessEqual(q["latency_us"]["p50"], avg_us, fmt_rows(q))
                self.assert_connections(report, "server", "postgres", 1 + PGBENCH_CLIENTS,
                                        local=self.server.address, pids=backends)

    def test_sql_prepare_server_side(self):
        """PostgresClientTest.test_sql_prepare, seen from the backend."""
        self.reset_pss()
        rec, err, out = self.start_attached(self.server.pid)
        r = subprocess.run([self.server.psql_bin, "-X", *self.server.tcp_args(),
                            *self.SQL_PREPARE_COMMANDS],
                           capture_output=True, text=True, env=self.server.env(), timeout=120)
        self.assertIn('prepared statement "q" does not exist', r.stdout + r.stderr)
        report = self.finish_attached(rec, err, out, interrupt=True)
        backends = {t["pid"] for t in report["targets"] if t["pid"] != self.server.pid}
        self.assert_sql_prepare(self.queries(report, "postgres", pids=backends))


# ---- MariaDB --------------------------------------------------------------------------


def mysql_canonical(sql):
    """A statement's text in a form waitscope's rows and MariaDB's DIGEST_TEXT
    both map to. The digest quotes identifiers with backticks, uppercases the
    identifiers that are also keywords (ID, NAME), and puts spaces around
    every token ("COUNT ( * )"); waitscope keeps the text as sent with
    literals as `?` and IN/VALUES lists as (...), like the digest. So:
    backticks and all whitespace dropped, case folded, trailing `;` dropped."""
    s = sql.strip().rstrip(";").lower().replace("`", "")
    return re.sub(r"\s+", "", s)


class MariadbTestCase(WireTestCase):
    """Shared by the MariaDB tests: the server (one per run), its `items`
    table, PyMySQL scripts and the performance_schema digest reference."""

    SERVER = servers.MariadbServer

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        db = cls.server.DATABASE
        cls.server.admin(f"DROP TABLE IF EXISTS {db}.items; "
                         f"CREATE TABLE {db}.items (id INT PRIMARY KEY, name VARCHAR(40), qty INT)")

    def need_pymysql(self):
        """PyMySQL (Debian python3-pymysql) drives most of these tests; without
        it they skip, loudly."""
        import importlib.util  # noqa: PLC0415
        if importlib.util.find_spec("pymysql") is None:
            reason = "PyMySQL is not installed: install the Debian package python3-pymysql"
            if reason not in SERVER_SKIPS:
                SERVER_SKIPS.append(reason)
                print(f"\n*** SKIPPING: {reason} ***\n", file=sys.stderr, flush=True)
            self.skipTest(reason)

    def pymysql_script(self, body, multi=False):
        self.need_pymysql()
        s = self.server
        flags = ", client_flag=CLIENT.MULTI_STATEMENTS" if multi else ""
        return "\n".join([
            "import pymysql",
            "from pymysql.constants import CLIENT",
            "def connect():",
            f"    return pymysql.connect(host='127.0.0.1', port={s.port}, user={s.USER!r}, "
            f"password={s.PASSWORD!r}, database={s.DATABASE!r}, autocommit=True{flags})",
            "c = connect()",
            "cur = c.cursor()",
            "def fails(sql, args=None):",
            "    try:",
            "        cur.execute(sql, args)",
            "        while cur.nextset(): pass  # a later statement of a multi-statement",
            "    except pymysql.MySQLError:",
            "        return",
            "    raise SystemExit('expected an error: ' + sql)",
            body,
            "c.close()",
        ])

    def truncate_digests(self):
        self.server.admin(
            "TRUNCATE TABLE performance_schema.events_statements_summary_by_digest")

    def digests(self):
        """{canonical DIGEST_TEXT: (COUNT_STAR, SUM_ERRORS)} of the statements
        run in the test database (the tests' own root queries run with none)."""
        out = {}
        for schema, count, errors, text in self.server.admin(
                "SELECT SCHEMA_NAME, COUNT_STAR, SUM_ERRORS, DIGEST_TEXT FROM "
                "performance_schema.events_statements_summary_by_digest"):
            if schema != self.server.DATABASE:
                continue
            key = mysql_canonical(text)
            c, e = out.get(key, (0, 0))
            out[key] = (c + int(count), e + int(errors))
        return out

    def record_pymysql_with_digests(self, body):
        """Runs pymysql_script(body) traced, from empty digests: (report,
        the digests, waitscope's rows, their {statement: (count, errors)})."""
        self.truncate_digests()
        report, r = self.record_command(PYTHON, "-c", self.pymysql_script(body))
        self.assertIn("exited with status 0", r.stderr, r.stdout + r.stderr)
        return (report, self.digests(), *self.ws_statements(report))

    def record_cli_with_digests(self, sql):
        """Runs `mariadb -e SQL` (the tested TCP login) traced, from empty
        digests: (report, the CompletedProcess, the digests, waitscope's rows,
        their {statement: (count, errors)})."""
        self.truncate_digests()
        report, r = self.record_command(self.server.client, *self.server.tcp_args(), "-e", sql)
        return (report, r, self.digests(), *self.ws_statements(report))

    def assert_matches_digests(self, got, expected, rows):
        self.assertEqual(got, expected,
                         "waitscope (count, errors) vs performance_schema digests "
                         f"(COUNT_STAR, SUM_ERRORS); rows: {fmt_rows(rows)}")

    def ws_statements(self, report, pids=None):
        """(rows, {canonical statement: (count, errors)}) of waitscope's mysql
        rows: the client's to the server's address, or (server side) those of
        `pids`."""
        if pids is None:
            rows = self.queries(report, "mysql", peer=self.server.address)
        else:
            rows = self.queries(report, "mysql", pids=pids)
        out = {}
        for q in rows:
            key = mysql_canonical(q["statement"])
            c, e = out.get(key, (0, 0))
            out[key] = (c + q["count"], e + q["errors"])
        return rows, out


    # tests/bpf/mysql_cursor_client.py: a SELECT of 25 rows executed with a
    # cursor and fetched 10 at a time to its last row, executed again and
    # closed after one fetch of 10, and a second statement's empty cursor.
    CURSOR_CLIENT = os.path.join(os.path.dirname(__file__), "mysql_cursor_client.py")
    CURSOR_COUNTERS = {"Com_stmt_prepare": 2, "Com_stmt_execute": 3, "Com_stmt_fetch": 5}
    CURSOR_STATEMENTS = {  # {statement: (count, rows)}
        "PREPARE SELECT seq FROM seq_1_to_25 WHERE seq > ?": (1, 0),
        "PREPARE SELECT seq FROM seq_1_to_25 WHERE seq > ? + ?": (1, 0),
        "SELECT seq FROM seq_1_to_25 WHERE seq > ?": (2, 25 + 10),
        "SELECT seq FROM seq_1_to_25 WHERE seq > ? + ?": (1, 0),
    }

    def cursor_client(self, *flags):
        s = self.server
        return [PYTHON, self.CURSOR_CLIENT, "127.0.0.1", str(s.port), s.USER, s.PASSWORD,
                s.DATABASE, *flags]

    def com_stmt_counters(self):
        """The server's Com_stmt_prepare/execute/fetch counters."""
        return {name: int(value) for name, value in self.server.admin(
            "SHOW GLOBAL STATUS WHERE Variable_name IN "
            "('Com_stmt_prepare', 'Com_stmt_execute', 'Com_stmt_fetch')")}

    def assert_cursor_runs(self, report, counters_before, pids=None):
        """The cursor client's statements in `report` against the server's
        own counters since `counters_before`: one statement per execute
        (Com_stmt_execute), none per fetch (Com_stmt_fetch), all rows."""
        server = {k: v - counters_before[k] for k, v in self.com_stmt_counters().items()}
        self.assertEqual(server, self.CURSOR_COUNTERS, "the server saw another workload")
        rows, _ = self.ws_statements(report, pids=pids)
        got = {q["statement"]: (q["count"], q.get("rows")) for q in rows}
        self.assertEqual(got, self.CURSOR_STATEMENTS, fmt_rows(rows))
        executes = sum(c for text, (c, _) in got.items() if text.startswith("SELECT"))
        self.assertEqual(executes, server["Com_stmt_execute"], fmt_rows(rows))


class MariadbTest(MariadbTestCase):
    """PyMySQL and the mariadb client traced, against a password login over
    TCP; reference: performance_schema's statement digests."""

    def test_pymysql_matches_digests(self):
        body = "\n".join([
            "cur.execute('DELETE FROM items')",
            "for i in range(40):",
            "    cur.execute('INSERT INTO items (id, name, qty) VALUES (%s, %s, %s)',",
            "                (i, 'item-%d' % i, i * 3))",
            "for i in range(5):  # duplicate keys: 5 errors on the same statement",
            "    fails('INSERT INTO items (id, name, qty) VALUES (%s, %s, %s)', (i, 'dup', 0))",
            "for i in range(30):",
            "    cur.execute('SELECT name, qty FROM items WHERE id = %s', (i,))",
            "    cur.fetchall()",
            "for i in range(20):",
            "    cur.execute('UPDATE items SET qty = qty + 1 WHERE id IN (%s, %s, %s)',",
            "                (i, i + 1, i + 2))",
            "for i in range(3):",
            "    fails('SELECT * FROM nope WHERE id = %s', (i,))",
            "cur.execute(\"SELECT id FROM items WHERE name = 'a;b''c' OR name = %s\", ('x',))",
            "cur.fetchall()",
            "cur.execute('SELECT COUNT(*) FROM items')",
            "assert cur.fetchone()[0] == 40",
        ])
        report, expected, rows, got = self.record_pymysql_with_digests(body)
        # The reference saw the workload as written.
        self.assertEqual(expected.get(mysql_canonical(
            "INSERT INTO items (id, name, qty) VALUES (...)")), (45, 5), expected)
        self.assertEqual(expected.get(mysql_canonical("SELECT * FROM nope WHERE id = ?")),
                         (3, 3), expected)
        self.assert_matches_digests(got, expected, rows)
        self.assert_connections(report, "client", "mysql", 1, peer=self.server.address)

    def test_mariadb_client_matches_digests(self):
        """The mariadb command-line client (no TLS, batch mode): one
        statement per ';', stopping at the first error."""
        report, r, expected, rows, got = self.record_cli_with_digests(
            "SELECT COUNT(*) FROM items WHERE qty > 2; "
            "UPDATE items SET name = 'renamed' WHERE id = 7; "
            "SELECT * FROM nope; "
            "SELECT 'never run'")
        self.assertIn("doesn't exist", r.stdout + r.stderr)
        self.assertEqual(expected.get(mysql_canonical("SELECT * FROM nope")), (1, 1), expected)
        self.assertNotIn(mysql_canonical("SELECT ?"), expected)
        self.assert_matches_digests(got, expected, rows)
        self.assert_connections(report, "client", "mysql", 1, peer=self.server.address)

    def test_executable_comments(self):
        """mysqldump writes whole statements as executable comments
        (`/*!40101 SET NAMES utf8mb4 */`), which the server runs: waitscope
        names them by what they run, as the digests do (as comments they
        normalized to nothing)."""
        _, r, expected, rows, got = self.record_cli_with_digests(
            "/*!40101 SET NAMES utf8mb4 */; "
            "/*!40014 SET UNIQUE_CHECKS=0, FOREIGN_KEY_CHECKS=0 */; "
            "SELECT /*!50000 qty */ FROM items WHERE id = 3; "
            "/*M!100100 SELECT COUNT(*) FROM items */; "
            "/*!40014 SET UNIQUE_CHECKS=1 */")
        self.assertIn("exited with status 0", r.stderr, r.stdout + r.stderr)
        # The server ran each of them.
        for sql in ("SET NAMES utf8mb4", "SELECT qty FROM items WHERE id = ?",
                    "SELECT COUNT(*) FROM items"):
            self.assertEqual(expected.get(mysql_canonical(sql)), (1, 0), expected)
        self.assert_matches_digests(got, expected, rows)

    def test_stored_procedures(self):
        """A CALL answers with its procedure's result sets, then its own OK
        (or an ERR): one statement, as the digests count it, with the rows
        of all its result sets."""
        db = self.server.DATABASE
        self.server.admin(
            "DELIMITER //\n"
            f"DROP PROCEDURE IF EXISTS {db}.two_sets//\n"
            f"CREATE PROCEDURE {db}.two_sets() BEGIN "
            "SELECT id FROM items ORDER BY id LIMIT 2; SELECT COUNT(*) FROM items; END//\n"
            f"DROP PROCEDURE IF EXISTS {db}.fails_late//\n"
            f"CREATE PROCEDURE {db}.fails_late() BEGIN SELECT 1; SELECT * FROM nope; END//\n"
            "DELIMITER ;")
        body = "\n".join([
            "cur.execute('DELETE FROM items WHERE id >= 300')",
            "for i in (300, 301):",
            "    cur.execute('INSERT INTO items VALUES (%s, %s, 1)', (i, 'p'))",
            "for i in range(4):",
            "    cur.execute('CALL two_sets()')",
            "    while cur.nextset(): pass",
            "for i in range(2):",
            "    fails('CALL fails_late()')",
            "cur.execute('SELECT COUNT(*) FROM items')",
        ])
        report, expected, rows, got = self.record_pymysql_with_digests(body)
        self.assertEqual(expected.get(mysql_canonical("CALL two_sets()")), (4, 0), expected)
        self.assertEqual(expected.get(mysql_canonical("CALL fails_late()")), (2, 2), expected)
        self.assert_matches_digests(got, expected, rows)
        call = [q for q in rows if q["statement"] == "CALL two_sets()"]
        self.assertEqual(len(call), 1, fmt_rows(rows))
        self.assertGreaterEqual(call[0].get("rows", 0), 4 * 3, fmt_rows(call))  # 2 ids + 1 count


    def test_cursor_fetch(self):
        """COM_STMT_EXECUTE with a read-only cursor, then COM_STMT_FETCH until
        the last row (JDBC's useCursorFetch): one statement per execute, as
        the server counts it, with the rows of all its fetches; a cursor
        closed early counts the rows fetched. MariaDB keeps no digests for the
        binary protocol: its status counters are the reference. With and
        without CLIENT_DEPRECATE_EOF, where the cursor's metadata ends
        differently."""
        for flags in ([], ["--deprecate-eof"]):
            with self.subTest(flags=flags):
                before = self.com_stmt_counters()
                report, r = self.record_command(*self.cursor_client(*flags))
                self.assertIn("exited with status 0", r.stderr, r.stdout + r.stderr)
                self.assert_cursor_runs(report, before)

    def test_multi_statements(self):
        """COM_QUERY with several statements (CLIENT_MULTI_STATEMENTS): one
        row per statement. MariaDB's digest table cannot be the reference here
        (it files every statement of such a packet under the digest of the
        whole text), so the expected counts are the script's own; the server
        stops at the first failing statement of a packet."""
        body = "\n".join([
            "cur.execute('DELETE FROM items WHERE id >= 100')",
            "for i in range(100, 105):",
            "    cur.execute('INSERT INTO items VALUES (%s, %s, 1); '",
            "                'SELECT qty FROM items WHERE id = %s; '",
            "                'UPDATE items SET qty = 2 WHERE id = %s', (i, 'm', i, i))",
            "    while cur.nextset(): pass",
            "for i in range(2):",
            "    fails('SELECT 1 AS a; SELECT * FROM nope; SELECT 2 AS b')",
            "# An empty statement is a syntax error that ends the packet.",
            "fails('SELECT 3 AS c;; SELECT 4 AS d')",
        ])
        report, r = self.record_command(PYTHON, "-c", self.pymysql_script(body, multi=True))
        self.assertIn("exited with status 0", r.stderr, r.stdout + r.stderr)
        rows = self.queries(report, "mysql", peer=self.server.address)
        got = {q["statement"]: (q["count"], q["errors"]) for q in rows}
        self.assertEqual(got, {
            "DELETE FROM items WHERE id >= ?": (1, 0),
            "INSERT INTO items VALUES (...)": (5, 0),
            "SELECT qty FROM items WHERE id = ?": (5, 0),
            "UPDATE items SET qty = ? WHERE id = ?": (5, 0),
            "SELECT ? AS a": (2, 0),
            "SELECT * FROM nope": (2, 2),
            # "SELECT ? AS b" never ran.
            "SELECT ? AS c": (1, 0),
            "": (1, 1),  # not "SELECT ? AS d", which never ran either
        }, fmt_rows(rows))
        self.assert_connections(report, "client", "mysql", 1, peer=self.server.address)


class MariadbServerTest(MariadbTestCase):
    """mariadbd traced by pid (`-p PID`: one process, a thread per
    connection); a PyMySQL script runs untraced over two connections open at
    the same time, after waitscope is attached. Ended with SIGINT once the
    script is done. Reference: performance_schema's statement digests, and
    performance_schema.accounts for the connections."""

    # Two connections, `c` and `d`, used in turn (two server threads at once).
    WORKLOAD = "\n".join([
        "d = connect()",
        "cd = d.cursor()",
        "def on(k):",
        "    return cur if k % 2 == 0 else cd",
        "cur.execute('DELETE FROM items')",
        "for i in range(40):",
        "    on(i).execute('INSERT INTO items (id, name, qty) VALUES (%s, %s, %s)',",
        "                  (i, 'item-%d' % i, i * 3))",
        "for i in range(5):  # duplicate keys: 5 errors on the same statement",
        "    fails('INSERT INTO items (id, name, qty) VALUES (%s, %s, %s)', (i, 'dup', 0))",
        "for i in range(30):",
        "    on(i).execute('SELECT name, qty FROM items WHERE id = %s', (i,))",
        "    on(i).fetchall()",
        "for i in range(20):",
        "    on(i).execute('UPDATE items SET qty = qty + 1 WHERE id IN (%s, %s, %s)',",
        "                  (i, i + 1, i + 2))",
        "for i in range(3):",
        "    fails('SELECT * FROM nope WHERE id = %s', (i,))",
        "for i in range(2):",
        "    fails(\"SIGNAL SQLSTATE '45000'\")",
        "cd.execute(\"SELECT id FROM items WHERE name = 'a;b''c' OR name = %s\", ('x',))",
        "cd.fetchall()",
        "# Responses of many rows, and of one row larger than a capture (16 KiB).",
        "for k in range(2):",
        "    on(k).execute('SELECT id, name, qty FROM items ORDER BY id')",
        "    assert len(on(k).fetchall()) == 40",
        "cd.execute('SELECT REPEAT(name, %s) AS big FROM items WHERE id = %s', (10000, 1))",
        "assert len(cd.fetchone()[0]) == 60000  # 'item-1' x 10000",
        "cd.execute('SELECT COUNT(*) FROM items')",
        "assert cd.fetchone()[0] == 40",
        "d.close()",
    ])

    def account_connections(self):
        """Connections the server accepted for the test user (from 127.0.0.1)."""
        rows = self.server.admin(
            "SELECT TOTAL_CONNECTIONS FROM performance_schema.accounts "
            f"WHERE USER = '{self.server.USER}' AND HOST = '127.0.0.1'")
        return int(rows[0][0]) if rows else 0

    def wait_sessions_gone(self):
        """Waits until the test user's sessions have left the server (their
        COM_QUIT handled, so their last statements are in the digests)."""
        servers._wait_until(  # noqa: SLF001 - the servers module's own poller
            lambda: not self.server.admin(
                "SELECT ID FROM information_schema.PROCESSLIST "
                f"WHERE USER = '{self.server.USER}'"),
            self.server.proc, "mariadbd (sessions ending)", self.server.log_path, timeout=30)

    def test_pymysql_server_side(self):
        script = self.pymysql_script(self.WORKLOAD)
        connections_before = self.account_connections()
        self.truncate_digests()
        rec, err, out = self.start_attached(self.server.pid)
        r = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The 60000-byte row is longer than --capture-bytes can be (16 KiB):
        # its bytes past the capture are truncated, and the parser must
        # resynchronise on the next message without losing a statement.
        report = self.finish_attached(rec, err, out, interrupt=True, truncated=True)
        # The reference, read after waitscope stopped (root's admin session
        # over the unix socket is not part of the recording).
        self.wait_sessions_gone()
        expected = self.digests()
        opened = self.account_connections() - connections_before
        self.assertEqual(opened, 2, "the server did not count the script's two connections")
        # The reference saw the workload as written.
        self.assertEqual(expected.get(mysql_canonical(
            "INSERT INTO items (id, name, qty) VALUES (...)")), (45, 5), expected)
        self.assertEqual(expected.get(mysql_canonical("SELECT * FROM nope WHERE id = ?")),
                         (3, 3), expected)
        self.assertEqual(expected.get(mysql_canonical("SIGNAL SQLSTATE ?")), (2, 2), expected)
        pids = {self.server.pid}
        self.assertIn(self.server.pid, {t["pid"] for t in report["targets"]},
                      f"mariadbd is not a target: {report['targets']}")
        rows, got = self.ws_statements(report, pids=pids)
        self.assertEqual(rows, self.queries(report, "mysql"),
                         "mysql rows from a pid other than mariadbd's")
        self.assert_connections(report, "server", "mysql", opened,
                                local=self.server.address, pids=pids)
        # mariadbd connects nowhere: all its connections are the server side.
        wrong = [c for c in report["connections"] if c["pid"] in pids and c["role"] != "server"]
        self.assertEqual(wrong, [], "mariadbd connections not in the server role")
        self.assertEqual(got, expected,
                         "waitscope (count, errors) at the server vs performance_schema "
                         f"digests (COUNT_STAR, SUM_ERRORS); rows: {fmt_rows(rows)}")


    def test_cursor_fetch_server_side(self):
        """The cursor runs of MariadbTest.test_cursor_fetch, seen from mariadbd."""
        before = self.com_stmt_counters()
        rec, err, out = self.start_attached(self.server.pid)
        r = subprocess.run(self.cursor_client(), capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.wait_sessions_gone()
        report = self.finish_attached(rec, err, out, interrupt=True)
        self.assert_cursor_runs(report, before, pids={self.server.pid})


# ---- connections of no interest -------------------------------------------------------


# A client of a protocol no parser knows: it ping-pongs binary messages with an
# echo server (run by the test, untraced) for argv[2] seconds, over TLS if
# argv[3] is "tls", and prints how many round trips it made.
UNKNOWN_PROTOCOL_CLIENT = r"""
import socket, ssl, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
if sys.argv[3] == "tls":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s)
msg = bytes(range(256)) * 2
n, end = 0, time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    s.sendall(msg)
    got = 0
    while got < len(msg):
        got += len(s.recv(65536))
    n += 1
print(n)
"""


def start_echo_server(test, tls_context=None):
    """An echo server on 127.0.0.1 in this (untraced) process, a thread per
    connection, speaking TLS if given an ssl.SSLContext; returns its port.
    Closed at the test's cleanup."""
    srv = socket.create_server(("127.0.0.1", 0))
    test.addCleanup(srv.close)

    def echo(conn):
        try:
            if tls_context:
                conn = tls_context.wrap_socket(conn, server_side=True)
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)
        except OSError:  # includes ssl.SSLError: the client went away mid-record
            pass

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


def record_ping_pong(test, port, seconds, tls=False):
    """Runs UNKNOWN_PROTOCOL_CLIENT against `port` under `waitscope -v
    record`; returns (round trips, the -v log's socket counters as
    {"data": socket data events, "plaintext": plaintext events}, report
    directory)."""
    out = os.path.join(test.make_tmp(), "report")
    r = tr.ws("-v", "record", "-q", "-o", out, "--", PYTHON, "-c", UNKNOWN_PROTOCOL_CLIENT,
              str(port), str(seconds), "tls" if tls else "plain", timeout=120)
    test.assertEqual(r.returncode, 0, f"waitscope record failed:\n{r.stderr}")
    round_trips = int(r.stdout.strip().splitlines()[-1])
    m = re.search(r"sockets: (\d+) data events, (\d+) plaintext events copied", r.stderr)
    test.assertIsNotNone(m, f"no socket counters in the -v log:\n{r.stderr[-2000:]}")
    # Copied in full, each round trip is at least 2 events (one write, one or
    # more reads). The agent polls every 100 ms, so copies it stops end
    # within a few polls of the first bytes, far before the end.
    test.assertGreater(round_trips, 200, "the client made too few round trips to tell")
    return round_trips, {"data": int(m.group(1)), "plaintext": int(m.group(2))}, out


class UninterestingConnectionTest(tr.WaitscopeTestCase):
    """A connection whose protocol is recognised as none we parse stops being
    copied: the kernel's data events for it stop while its traffic goes on
    (the agent posts WS_CONN_NO_CAPTURE through the conn_ctl map)."""

    DURATION_S = 2.0

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()

    def test_copies_stop_while_traffic_goes_on(self):
        port = start_echo_server(self)
        round_trips, events, out = record_ping_pong(self, port, self.DURATION_S)
        self.assertLess(events["data"], round_trips / 2,
                        f"{events['data']} data events for {round_trips} round trips: the "
                        "copies of an unparsed connection did not stop")
        report = self.assert_valid_report(out)
        conns = [c for c in report["connections"] if c["peer"] == f"127.0.0.1:{port}"]
        self.assertEqual(len(conns), 1, f"the connection is not reported: {report['connections']}")
        self.assertEqual(report["queries"], [], "an unknown protocol produced queries")


# An HTTP/1.1 server whose response bodies go out with sendfile(2) (as
# nginx's static files do), and a keep-alive client, in one process. argv:
# the file to serve, the number of requests.
SENDFILE_HTTP = r"""
import http.client, os, socket, sys, threading
path, requests = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(path)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()

def serve():
    conn, _ = listener.accept()
    with conn, open(path, "rb") as body:
        buf = b""
        for _ in range(requests):
            while b"\r\n\r\n" not in buf:
                buf += conn.recv(4096)
            buf = buf.split(b"\r\n\r\n", 1)[1]
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            body.seek(0)
            conn.sendfile(body)  # os.sendfile for a regular file

threading.Thread(target=serve, daemon=True).start()
client = http.client.HTTPConnection("127.0.0.1", listener.getsockname()[1])
for _ in range(requests):
    client.request("GET", "/static/file.bin")
    response = client.getresponse()
    assert response.status == 200 and len(response.read()) == size
"""


class SendfileTest(tr.WaitscopeTestCase):
    """Response bodies sent with sendfile(2) have no user buffer to copy.
    Their bytes must still move the stream on (as a gap), or the parser,
    told by the head that a body of N bytes comes, takes the next response
    for that body: every response after the first was lost."""

    REQUESTS = 5
    BODY_BYTES = 20000

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()

    def test_each_response_is_seen_and_the_body_counted(self):
        tmp = self.make_tmp()
        path = os.path.join(tmp, "file.bin")
        with open(path, "wb") as f:
            f.write(b"x" * self.BODY_BYTES)
        out = os.path.join(tmp, "report")
        r = tr.ws("record", "-q", "-o", out, "--", PYTHON, "-c", SENDFILE_HTTP, path,
                  str(self.REQUESTS), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        report = self.assert_valid_report(out)
        rows = {h["role"]: h for h in report["http"] if h["endpoint"] == "GET /static/file.bin"}
        self.assertEqual(set(rows), {"client", "server"}, report["http"])
        for role, h in rows.items():
            self.assertEqual(h["count"], self.REQUESTS, f"{role}: {h}")
            self.assertEqual(h["status"], {"200": self.REQUESTS}, f"{role}: {h}")
        loss = report["loss"]
        self.assertEqual(loss["parse_errors"], 0, loss)
        self.assertEqual(loss["exchanges_lost"], 0, loss)
        # The sent bodies were not copied, and say so.
        self.assertGreaterEqual(loss["bytes_truncated"], self.REQUESTS * self.BODY_BYTES, loss)


# A process that talks RESP over three sockets, then exec()s a program that
# reads a file through the fd number of the last one. Python sockets are
# close-on-exec, so exec closed them without a close syscall. (The lowest fd
# is no test: the dynamic loader opens and closes it first, and the close
# ends the stale connection.)
EXEC_BEFORE = r"""
import os, socket, sys
ping = b"*1\r\n$4\r\nPING\r\n"
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(3)]
for s in socks:
    s.sendall(ping)
    got = b""
    while len(got) < len(ping):
        got += s.recv(64)
os.execv(sys.executable, [sys.executable, "-c", sys.argv[3], str(socks[-1].fileno()), sys.argv[2]])
"""
EXEC_AFTER = r"""
import os, sys
fds = [os.open(sys.argv[2], os.O_RDONLY) for _ in range(3)]
print(fds[-1], sys.argv[1], flush=True)
n = 0
while os.read(fds[-1], 1):
    n += 1
print(n, flush=True)
"""


class ExecReusedFdTest(tr.WaitscopeTestCase):
    """After an exec, a file opened on the fd number of a socket the exec
    closed is not read as that connection: its bytes are not copied and do
    not reach the Redis parser."""

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()

    def test_file_on_a_closed_sockets_fd_is_not_the_connection(self):
        port = start_echo_server(self)
        tmp = self.make_tmp()
        path = os.path.join(tmp, "data")
        with open(path, "wb") as f:
            f.write(b"not a socket, not RESP\n" * 20)  # 460 bytes, read 1 at a time
        out = os.path.join(tmp, "report")
        r = tr.ws("-v", "record", "-q", "-o", out, "--", PYTHON, "-c", EXEC_BEFORE, str(port), path,
                  EXEC_AFTER, timeout=120)
        self.assertEqual(r.returncode, 0, f"waitscope record failed:\n{r.stderr}")
        lines = r.stdout.split()
        self.assertEqual(len(lines), 3, f"unexpected output: {r.stdout!r}\n{r.stderr}")
        file_fd, socket_fd, reads = lines
        self.assertEqual(file_fd, socket_fd, "the file did not get the last socket's fd number: "
                         "the test shows nothing (change the workload)")
        self.assertEqual(int(reads), 460)
        m = re.search(r"sockets: (\d+) data events", r.stderr)
        self.assertIsNotNone(m, f"no socket counters in the -v log:\n{r.stderr[-2000:]}")
        self.assertLess(int(m.group(1)), 20, "the file's reads were copied as socket data")
        report = self.assert_valid_report(out)
        self.assertEqual(report["loss"]["parse_errors"], 0,
                         "the file's bytes reached the connection's parser")
        pings = [q for q in report["queries"] if q["statement"] == "PING"]
        self.assertEqual(sum(q["count"] for q in pings), 3, fmt_rows(report["queries"]))


# A process that opens connected sockets, says so, and exits when told without
# closing them (the kernel closes them: no close syscall for waitscope to see).
EXITING_HOLDER = "\n".join(MMSG_CTYPES) + r"""
import os, socket, sys
srv = socket.create_server(("127.0.0.1", 0))
held = []
for _ in range(3):
    c = socket.create_connection(srv.getsockname())
    a, _ = srv.accept()
    c.sendall(b"\x00hello")  # data: the kernel follows the connection from here
    a.recv(16)
    held += [c, a]
# The "sched" hooks keep a message cursor for a thread's sendmmsg.
vec, keep = messages([[b"\x00mm"]])
assert libc.sendmmsg(held[0].fileno(), vec, 1, 0) == 1
held[1].recv(16)
print(os.getpid(), flush=True)
sys.stdin.readline()
os._exit(0)
"""


def wait_for_condition(check, timeout, interval=0.05):
    """check()'s first truthy result within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() >= deadline:
            return result or None
        time.sleep(interval)


def conns_entries(waitscope_pid, tgid):
    """The kernel `conns` map entries of process `tgid`, in the map held by
    waitscope process `waitscope_pid` (other waitscopes may run)."""
    return [e for e in map_entries(waitscope_pid, "conns")
            if e["formatted"]["key"]["tgid"] == tgid]


def cursor_tids(waitscope_pid):
    """The threads with an entry in the kernel `mmsg_cursors` map."""
    return {e["formatted"]["key"] for e in map_entries(waitscope_pid, "mmsg_cursors")}


def map_entries(waitscope_pid, name):
    """The entries of the kernel map `name` held by waitscope process
    `waitscope_pid`, as `bpftool -j map dump` gives them."""
    ids = set()
    for fd in os.listdir(f"/proc/{waitscope_pid}/fdinfo"):
        try:
            with open(f"/proc/{waitscope_pid}/fdinfo/{fd}") as f:
                ids.update(int(line.split()[1]) for line in f if line.startswith("map_id:"))
        except OSError:
            continue
    for map_id in ids:
        info = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(map_id)],
                                         capture_output=True, text=True, check=True).stdout)
        if info.get("name") != name:
            continue
        return json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "id", str(map_id)],
                                         capture_output=True, text=True, check=True).stdout)
    raise AssertionError(f"waitscope {waitscope_pid} holds no map named {name}")


class ExitedProcessConnectionsTest(tr.WaitscopeTestCase):
    """A traced process that exits with sockets open: the kernel closes them
    without a close syscall, and waitscope removes their entries from the
    kernel's connection map (else they stay until it is full, and a new
    process with the same pid and fd finds them)."""

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()

    def test_kernel_entries_go_with_the_process(self):
        if shutil.which("bpftool") is None:
            self.fail("bpftool is not installed (tools/install-deps.sh installs it)")
        out = os.path.join(self.make_tmp(), "report")
        # The shell outlives the holder (it then waits for a line), so the
        # recording is still on when the holder is gone.
        script = f"{shlex.quote(PYTHON)} -c {shlex.quote(EXITING_HOLDER)}; read line"
        rec = subprocess.Popen([tr.WAITSCOPE, "-v", "record", "-q", "-o", out, "--", "sh", "-c",
                                script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        self.addCleanup(tr.kill_quietly, rec)
        err = tr.LineReader(rec.stderr)
        # The flavour is logged before the command starts.
        hooks = err.wait_for(r"BPF hooks attached \((\w+)", timeout=30)
        self.assertIsNotNone(hooks, f"waitscope did not attach: {err.text()}")
        started = tr.LineReader(rec.stdout).wait_for(r"^\d+$", timeout=30)
        self.assertIsNotNone(started, f"the holder did not start: {err.text()}")
        holder = int(started.group(0))
        held = wait_for_condition(lambda: len(conns_entries(rec.pid, holder)) == 6, timeout=10)
        self.assertTrue(held, f"the kernel does not follow the 6 sockets of {holder}: "
                        f"{[e['formatted'] for e in conns_entries(rec.pid, holder)]}\n"
                        f"{err.text()}")
        # The "sched" hooks' message cursor for its sendmmsg (a thread's:
        # the holder has one, tid = pid).
        sched = hooks.group(1) == "sched"
        if sched:
            self.assertIn(holder, cursor_tids(rec.pid), "no mmsg cursor for the holder")
        rec.stdin.write("exit\n")
        rec.stdin.flush()
        # Within a few polls of the exit (waitscope drains every 100 ms).
        gone = wait_for_condition(lambda: not conns_entries(rec.pid, holder), timeout=10)
        self.assertIsNone(rec.poll(), f"waitscope ended too early: {err.text()}")
        self.assertTrue(gone, f"entries of exited process {holder} stayed: "
                        f"{[e['formatted'] for e in conns_entries(rec.pid, holder)]}")
        if sched:  # deleted by the kernel side at the thread's exit
            self.assertNotIn(holder, cursor_tids(rec.pid),
                             "the mmsg cursor of the exited holder stayed")
        rec.stdin.write("done\n")
        rec.stdin.flush()
        self.assertEqual(rec.wait(timeout=60), 0, err.text())
        report = self.assert_valid_report(out)
        opened = sum(c["opened"] for c in report["connections"] if c["pid"] == holder)
        self.assertEqual(opened, 6, f"connections: {report['connections']}")


# ---- main -----------------------------------------------------------------------------


def main():
    missing = [name for name, value in (("WAITSCOPE_BIN", tr.WAITSCOPE),
                                        ("REPORT_SCHEMA", tr.SCHEMA),
                                        ("REPORT_VALIDATOR", tr.VALIDATOR)) if not value]
    if missing:
        print(f"test_wire.py: set {', '.join(missing)} (see tests/bpf/CMakeLists.txt)",
              file=sys.stderr)
        return 2
    prog = unittest.main(module=sys.modules[__name__], argv=sys.argv, exit=False, verbosity=2)
    return tr.exit_status(prog.result, "wire", SERVER_SKIPS)


if __name__ == "__main__":
    sys.exit(main())
