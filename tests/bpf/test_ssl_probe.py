#!/usr/bin/python3
"""BPF integration test: TLS plaintext through the OpenSSL uprobes.

tests/testprogs/ssl_events/ssl_events_dump loads the probe with the sockets
family, attaches the openssl family to the OpenSSL copies the traced
processes map (SslAttacher) and prints every socket and SSL event as a JSON
line. Against a real `openssl s_server` (self-signed certificate made here,
127.0.0.1 only), with TLS 1.2 and 1.3, these tests check that:

  - the plaintext each side sent and received appears in WS_EV_SSL_DATA
    events, in order, with contiguous plaintext stream positions from 0,
    under the conn_id of the TCP connection's open event;
  - the handshake is reported once with that conn_id and ret 1 (also when
    SSL_connect nests SSL_do_handshake: ssl_static_client);
  - the ciphertext of the same connection does not contain the plaintext;
  - a client started later by a traced shell is covered (uprobes are per
    library file, filtered by the traced set), as is an executable linking
    OpenSSL statically;
  - nothing was lost (the dump's final counters).

Clients: Python's ssl + http.client (SSL_read_ex/SSL_write_ex,
SSL_do_handshake), `openssl s_client` (SSL_read/SSL_write, handshake inside them), and
ssl_static_client (libssl.a, SSL_connect). The server traced: `openssl s_server -WWW`.

Usage: test_ssl_probe.py [unittest args]   (root; /usr/bin/python3)
Environment: SSL_EVENTS_DUMP (path of ssl_events_dump), SSL_STATIC_CLIENT
(optional), SSL_WORKERS_TEST (tests/unit's ssl_workers_test), SKIP_EXIT_CODE (77).
Exit 77 when a test was skipped (no root, no kernel BTF or uprobes, no openssl, no
static client); programs that do not load are a failure.
"""

import json
import mmap
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SKIP_EXIT_CODE = int(os.environ.get("SKIP_EXIT_CODE", "77"))
PYTHON = "/usr/bin/python3"
DUMP = os.environ.get("SSL_EVENTS_DUMP", "")
STATIC_CLIENT = os.environ.get("SSL_STATIC_CLIENT", "")
SSL_WORKERS_TEST = os.environ.get("SSL_WORKERS_TEST", "")
TIMEOUT = 10.0
FILE_BODY = b"hello from the tls test\n"

SKIP_REASON = None


def skip_reason():
    """Why this machine cannot run the tests, or None."""
    if os.geteuid() != 0:
        return "needs root (loads BPF programs and uprobes)"
    if not DUMP or not os.access(DUMP, os.X_OK):
        return f"SSL_EVENTS_DUMP is not an executable: {DUMP!r}"
    if not shutil.which("openssl"):
        return "the openssl command is missing (Debian package openssl)"
    if not os.path.exists("/sys/bus/event_source/devices/uprobe"):
        return "this kernel has no uprobe perf events"
    return None


def wait_for(predicate, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_events(path):
    events = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    events.append(json.loads(line))
    except FileNotFoundError:
        pass
    return events


class Dump:
    """ssl_events_dump running in the background, writing JSON lines to a file."""

    def __init__(self, tmp, args, stdin=None, stdout=None):
        self.path = os.path.join(tmp, f"events-{time.monotonic_ns()}.jsonl")
        self.stderr_path = self.path + ".stderr"
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([DUMP, "-o", self.path] + args, stdin=stdin,
                                     stdout=stdout, stderr=self.stderr)
        try:
            wait_for(lambda: self.proc.poll() is not None or
                     any(e["type"] == "ready" for e in self.events()), "the dump to start")
        except BaseException:
            self.kill()  # the caller never gets this object to clean up
            raise
        # 77: no privileges or no kernel BTF. Programs that do not load exit 1,
        # which the tests report as the failure it is.
        if self.proc.poll() == SKIP_EXIT_CODE:
            raise unittest.SkipTest("ssl_events_dump cannot trace here: " + self.error_text())

    def events(self):
        return read_events(self.path)

    def error_text(self):
        with open(self.stderr_path) as f:
            return f.read().strip()

    def kill(self):
        # The traced command too: one left running (`sleep 60`) holds ctest's
        # output pipe, and ctest waits for it to close (it did, for 60 s).
        child = next((e.get("child") for e in self.events() if e["type"] == "ready"), None)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if child:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for f in (self.stderr, self.proc.stdin, self.proc.stdout):
            if f and not f.closed:
                f.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.finish()

    def finish(self):
        rc = self.proc.wait(timeout=TIMEOUT)
        self.stderr.close()
        events = self.events()
        if not events or events[-1]["type"] != "counters":
            raise AssertionError(f"dump exited ({rc}) without counters: {self.error_text()}")
        return rc, events


class Server:
    """openssl s_server on 127.0.0.1, one TLS version only."""

    def __init__(self, tmp, version, mode="-WWW"):
        self.port = free_port()
        self.log = open(os.path.join(tmp, f"server-{self.port}.log"), "w")
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}",
             "-cert", os.path.join(tmp, "cert.pem"), "-key", os.path.join(tmp, "key.pem"),
             version, mode, "-quiet"],
            cwd=tmp, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.accepting, "s_server to listen")

    def accepting(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


HTTP_CLIENT = r"""
import http.client, os, ssl, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx)
c.connect()
print(c.sock.version(), flush=True)
if len(sys.argv) > 2:  # wait until the test lets us go (the probes are attached)
    deadline = time.monotonic() + 60  # a failed test never lets go: do not spin forever
    while not os.path.exists(sys.argv[2]):
        if time.monotonic() > deadline:
            sys.exit("the test never let the client go")
        os.sched_yield()
c.request("GET", "/hello.txt", headers={"X-Test": "plaintext"})
r = c.getresponse()
body = r.read()
assert r.status == 200 and body == %r, (r.status, body)
""" % FILE_BODY

RAW_CLIENT = r"""
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
s.sendall(b"hello-from-client\n")
got = b""
while b"hello-from-server" not in got:
    chunk = s.recv(4096)
    assert chunk, got
    got += chunk
s.close()
"""


def stream(events, pid, conn_id, direction):
    """Concatenated plaintext of one direction; asserts contiguous positions."""
    chunks = [e for e in events if e["type"] == "ssl_data" and e["pid"] == pid and
              e["conn_id"] == conn_id and e["dir"] == direction]
    data = b""
    for e in chunks:
        assert e["pos"] == len(data), f"gap or overlap at {e['pos']} (expected {len(data)})"
        assert e["captured"] == e["len"], e
        data += bytes.fromhex(e["hex"])
    return data


def ciphertext(events, pid, conn_id):
    return b"".join(bytes.fromhex(e["hex"]) for e in events
                    if e["type"] == "data" and e["pid"] == pid and e["conn_id"] == conn_id)


class SslProbeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if SKIP_REASON:
            raise unittest.SkipTest(SKIP_REASON)
        cls.tmp = tempfile.mkdtemp(prefix="ws-ssl-")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", os.path.join(cls.tmp, "key.pem"),
                        "-out", os.path.join(cls.tmp, "cert.pem"),
                        "-days", "1", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True)
        with open(os.path.join(cls.tmp, "hello.txt"), "wb") as f:
            f.write(FILE_BODY)
        cls.client = os.path.join(cls.tmp, "https_client.py")
        with open(cls.client, "w") as f:
            f.write(HTTP_CLIENT)
        cls.libssl = cls.find_libssl()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def find_libssl():
        out = subprocess.run(["ldd", shutil.which("openssl")], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            if "libssl.so" in line and "=>" in line:
                return line.split("=>")[1].split()[0]
        raise unittest.SkipTest("cannot find the libssl the openssl command uses")

    def dump(self, args, **kwargs):
        d = Dump(self.tmp, args, **kwargs)
        self.addCleanup(d.kill)
        return d

    def server(self, version, mode="-WWW"):
        s = Server(self.tmp, version, mode)
        self.addCleanup(s.close)
        return s

    def only_open(self, events, pid):
        opens = [e for e in events if e["type"] == "open" and e["pid"] == pid]
        self.assertEqual(len(opens), 1, f"expected one connection of pid {pid}: {opens}")
        return opens[0]["conn_id"]

    def assert_no_loss(self, events):
        c = events[-1]
        for key in ("ringbuf_drops", "ssl_ringbuf_drops", "ssl_bytes_truncated",
                    "ssl_inflight_lost", "ssl_unknown_conn", "ssl_conns_full"):
            self.assertEqual(c[key], 0, f"{key}: {c}")

    def assert_handshake(self, events, pid, conn_id):
        hs = [e for e in events if e["type"] == "ssl_handshake" and e["pid"] == pid]
        self.assertEqual(len(hs), 1, hs)
        self.assertEqual(hs[0]["conn_id"], conn_id)
        self.assertEqual(hs[0]["ret"], 1)
        self.assertGreater(hs[0]["duration_ns"], 0)

    def check_http_client(self, version, expect_name):
        srv = self.server(version)
        dump = self.dump(["--attach-file", self.libssl, "--",
                               PYTHON, self.client, str(srv.port)],
                    stdout=subprocess.PIPE)
        rc, events = dump.finish()
        self.assertEqual(rc, 0, dump.error_text())
        self.assertIn(expect_name, dump.proc.stdout.read().decode())
        pid = next(e["child"] for e in events if e["type"] == "ready")
        conn = self.only_open(events, pid)
        sent = stream(events, pid, conn, "egress")
        received = stream(events, pid, conn, "ingress")
        self.assertTrue(sent.startswith(b"GET /hello.txt HTTP/1.1\r\n"), sent)
        self.assertIn(b"\r\nX-Test: plaintext\r\n", sent)
        self.assertTrue(sent.endswith(b"\r\n\r\n"), sent)
        self.assertTrue(received.startswith(b"HTTP/1.0 200 ok\r\n"), received)
        self.assertTrue(received.endswith(b"\r\n\r\n" + FILE_BODY), received)
        self.assertNotIn(b"X-Test: plaintext", ciphertext(events, pid, conn))
        self.assert_handshake(events, pid, conn)
        self.assert_no_loss(events)

    def test_workers_found_while_another_tracer_probes_libssl(self):
        """A second waitscope finds the SSL workers while the first one's
        uprobes are on the library. The kernel puts a uprobe's int3 into
        every private mapping of the file that may execute, libelf's
        read-only one too; reading the code through it made the second
        fall back to the wrappers (~10 us per call)."""
        if not SSL_WORKERS_TEST or not os.access(SSL_WORKERS_TEST, os.X_OK):
            self.fail(f"SSL_WORKERS_TEST is not an executable: {SSL_WORKERS_TEST!r}")
        self.dump(["--attach-file", self.libssl, "--", "sleep", "60"])  # killed at cleanup
        with open(self.libssl, "rb") as f:
            on_disk = f.read()
            with mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ) as m:
                mapped = m[:]
        breakpoints = sum(1 for a, b in zip(on_disk, mapped) if a != b)
        self.assertGreater(breakpoints, 0, "no uprobe breakpoint shows in a read-only mapping "
                           "of libssl here: nothing to test")
        r = subprocess.run([SSL_WORKERS_TEST,
                            "--gtest_filter=SslWorkers.TheSystemLibsslIsProbedThroughItsWorkers"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-1000:])
        self.assertIn("[  PASSED  ] 1 test", r.stdout, r.stdout[-3000:])

    def test_python_client_tls13(self):
        self.check_http_client("-tls1_3", "TLSv1.3")

    def test_python_client_tls12(self):
        self.check_http_client("-tls1_2", "TLSv1.2")

    def test_s_client_tls12(self):
        """openssl s_client: SSL_write and SSL_read. Its handshake runs inside
        them (SSL_set_connect_state), so no handshake event is expected."""
        srv = self.server("-tls1_2", "-rev")
        dump = self.dump(["--attach-file", self.libssl, "--", "openssl", "s_client",
                               "-connect", f"127.0.0.1:{srv.port}", "-quiet", "-no_ign_eof"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        dump.proc.stdin.write(b"hello plaintext\n")
        dump.proc.stdin.flush()
        out = b""
        deadline = time.monotonic() + TIMEOUT
        while b"txetnialp olleh" not in out and time.monotonic() < deadline:
            if select.select([dump.proc.stdout], [], [], 0.1)[0]:
                out += os.read(dump.proc.stdout.fileno(), 4096)
        self.assertIn(b"txetnialp olleh", out)
        dump.proc.stdin.close()  # -no_ign_eof: s_client shuts the connection down and exits
        rc, events = dump.finish()
        self.assertEqual(rc, 0, dump.error_text())
        pid = next(e["child"] for e in events if e["type"] == "ready")
        conn = self.only_open(events, pid)
        self.assertEqual(stream(events, pid, conn, "egress"), b"hello plaintext\n")
        self.assertIn(b"txetnialp olleh", stream(events, pid, conn, "ingress"))
        self.assertNotIn(b"hello plaintext", ciphertext(events, pid, conn))
        self.assert_no_loss(events)

    def test_server_traced_tls13(self):
        """The server traced (-p): found by Scan before any client connects.
        s_server's default mode uses SSL_accept, SSL_read and SSL_write (its
        -WWW mode goes through OpenSSL's internal BIO calls, not hooked)."""
        port = free_port()
        out_path = os.path.join(self.tmp, f"s_server-{port}.out")
        with open(out_path, "wb") as out:
            srv = subprocess.Popen(
                ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-naccept", "1",
                 "-cert", os.path.join(self.tmp, "cert.pem"),
                 "-key", os.path.join(self.tmp, "key.pem"), "-tls1_3", "-quiet"],
                stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (srv.kill(), srv.wait(), srv.stdin.close()))
        # Not a probe connection: -naccept 1 would spend its one accept on it.
        wait_for(lambda: any(f":{port:04X} " in line and " 0A " in line
                             for line in read_bytes("/proc/net/tcp").decode().splitlines()),
                 "s_server to listen")
        dump = self.dump(["-p", str(srv.pid)])
        wait_for(lambda: any(e["type"] == "ssl_scan" for e in dump.events()),
                 "the server's libssl to be attached")
        client = subprocess.Popen([PYTHON, "-c", RAW_CLIENT, str(port)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: b"hello-from-client" in read_bytes(out_path),
                 "the server to receive the client's line")
        srv.stdin.write(b"hello-from-server\n")
        srv.stdin.flush()
        stdout, stderr = client.communicate(timeout=TIMEOUT)
        self.assertEqual(client.returncode, 0, stderr)
        pid = srv.pid
        wait_for(lambda: any(e["type"] == "ssl_data" and e["dir"] == "egress"
                             for e in dump.events()), "the server's plaintext events")
        rc, events = dump.stop()
        conn = self.only_open(events, pid)
        self.assertEqual(stream(events, pid, conn, "ingress"), b"hello-from-client\n")
        self.assertEqual(stream(events, pid, conn, "egress"), b"hello-from-server\n")
        self.assertNotIn(b"hello-from", ciphertext(events, pid, conn))
        self.assert_handshake(events, pid, conn)
        self.assert_no_loss(events)

    def test_late_process_is_covered(self):
        """A shell is traced; its first client gets libssl attached (Scan at its
        first connection); a second client it starts later is covered from
        its first call, handshake included, with no new attachment."""
        srv = self.server("-tls1_3")
        go = os.path.join(self.tmp, f"go-{time.monotonic_ns()}")
        script = f"{PYTHON} {self.client} {srv.port} {go} && {PYTHON} {self.client} {srv.port}"
        dump = self.dump(["--", "/bin/sh", "-c", script], stdout=subprocess.PIPE)
        first = wait_for(lambda: next((e["pid"] for e in dump.events()
                                       if e["type"] == "ssl_scan"), None),
                         "the first client's libssl to be attached")
        open(go, "w").close()
        rc, events = dump.finish()
        self.assertEqual(rc, 0, dump.error_text())
        opens = [e for e in events if e["type"] == "open"]
        self.assertEqual(len(opens), 2, opens)
        self.assertEqual(opens[0]["pid"], first)
        second = opens[1]["pid"]
        self.assertNotEqual(second, first)
        for pid in (first, second):
            conn = self.only_open(events, pid)
            self.assertTrue(stream(events, pid, conn, "egress").startswith(b"GET /hello.txt"))
            self.assertTrue(stream(events, pid, conn, "ingress").endswith(FILE_BODY))
        self.assert_handshake(events, second, self.only_open(events, second))
        self.assertEqual(events[-1]["ssl_files_attached"], 1)
        self.assert_no_loss(events)

    def test_static_openssl_executable(self):
        if not STATIC_CLIENT or not os.access(STATIC_CLIENT, os.X_OK):
            self.skipTest("SSL_STATIC_CLIENT not built (libssl.a missing)")
        srv = self.server("-tls1_2")
        request = "GET /hello.txt HTTP/1.0\r\n\r\n"
        dump = self.dump(["--attach-file", STATIC_CLIENT, "--", STATIC_CLIENT,
                               str(srv.port), request], stdout=subprocess.PIPE)
        rc, events = dump.finish()
        self.assertEqual(rc, 0, dump.error_text())
        self.assertEqual(events[-1]["ssl_files_attached"], 1)
        pid = next(e["child"] for e in events if e["type"] == "ready")
        conn = self.only_open(events, pid)
        self.assertEqual(stream(events, pid, conn, "egress"), request.encode())
        self.assertTrue(stream(events, pid, conn, "ingress").endswith(FILE_BODY))
        self.assert_handshake(events, pid, conn)
        self.assert_no_loss(events)


if __name__ == "__main__":
    SKIP_REASON = skip_reason()
    if SKIP_REASON:
        print(f"\n*** SKIPPING test_ssl_probe: {SKIP_REASON} ***\n", file=sys.stderr)
        sys.exit(SKIP_EXIT_CODE)
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped:
        # One skipped test makes the whole file "skipped" for ctest: a pass
        # would hide it.
        for test, reason in result.skipped:
            print(f"*** SKIPPED {test.id()}: {reason} ***", file=sys.stderr)
        sys.exit(SKIP_EXIT_CODE)
    sys.exit(0)
