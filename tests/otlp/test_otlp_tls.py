#!/usr/bin/python3
"""OTLP/HTTP and Pyroscope export over HTTPS, end to end.

otlp_export_demo (the real exporter, libcurl) sends to receiver.py serving
HTTPS with a self-signed certificate for 127.0.0.1 made here by the openssl
CLI; with --client-ca the receiver also requires a client certificate
(mutual TLS). Checks that the server is verified against ca_file and refused
without it, that insecure_skip_verify turns verification off, and that the
client certificate is presented when configured and the request is refused
when it is not. A refused connection is retried (a transport error, like an
outage), so "not delivered" is checked after two failed attempts.

Environment as test_otlp_export.py (OTLP_DEMO_BIN, OTLP_PROTO_ROOT, PROTOC).
Run by hand: OTLP_DEMO_BIN=... OTLP_PROTO_ROOT=... /usr/bin/python3 tests/otlp/test_otlp_tls.py
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import test_otlp_export as te

TIMEOUT_MS = te.TIMEOUT_S * 1000
CLIENT_CN = "waitscope-client"


def make_cert(directory, name, subject_alt_name=None):
    """A self-signed P-256 certificate (one day) and its key; returns (cert, key)."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    command = ["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
               "-subj", "/CN=" + name]
    if subject_alt_name:
        command += ["-addext", "subjectAltName=" + subject_alt_name]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


class OtlpTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access("/usr/bin/openssl", os.X_OK):
            raise unittest.SkipTest("needs the openssl CLI (/usr/bin/openssl) to make certificates")
        cls.gen_dir = tempfile.mkdtemp(prefix="ws-otlp-gen-")
        te.generate_protos(cls.gen_dir)
        cls.certs = tempfile.mkdtemp(prefix="ws-otlp-certs-")
        cls.server_cert, cls.server_key = make_cert(cls.certs, "server",
                                                    "IP:127.0.0.1,DNS:localhost")
        cls.client_cert, cls.client_key = make_cert(cls.certs, CLIENT_CN)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.gen_dir, ignore_errors=True)
        shutil.rmtree(cls.certs, ignore_errors=True)

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="ws-otlp-tls-")
        self.receiver = None
        self.demos = []
        self.logs = []

    def tearDown(self):
        for demo in self.demos:
            if demo.proc.poll() is None:
                demo.proc.kill()
                demo.proc.wait()
            demo.proc.stdin.close()
            demo.proc.stdout.close()
        for log in self.logs:
            log.close()
        if self.receiver:
            self.receiver.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start_receiver(self, require_client_cert=False):
        args = ["--tls-cert", self.server_cert, "--tls-key", self.server_key]
        if require_client_cert:
            args += ["--client-ca", self.client_cert]
        self.receiver = te.Receiver(self.workdir, self.gen_dir, args)
        self.receiver.start()
        return self.receiver

    def demo(self, *extra):
        """otlp_export_demo against the receiver; its stderr (the exporter's
        log) goes to a file, returned with it."""
        stderr_path = os.path.join(self.workdir, "demo-%d.log" % len(self.demos))
        log = open(stderr_path, "w", encoding="utf-8")
        self.logs.append(log)
        demo = te.Demo("--metrics-url", self.receiver.url("/v1/metrics"),
                       "--logs-url", self.receiver.url("/v1/logs"),
                       "--pyroscope-url", self.receiver.url(""),
                       "--spool-dir", os.path.join(self.workdir, "spool-%d" % len(self.demos)),
                       *extra, stderr=log)
        self.demos.append(demo)
        return demo, stderr_path

    def tls_errors(self):
        return [r["tls_error"] for r in self.receiver.records() if "tls_error" in r]

    def assert_delivered(self, demo, client_cn=None):
        demo.cmd("metrics 3")
        demo.cmd("findings 3")
        demo.cmd("profile 3")
        self.assertTrue(demo.cmd("wait %d" % TIMEOUT_MS)["idle"])
        [record] = self.receiver.records("/v1/metrics")
        self.assertNotIn("decode_error", record)
        self.assertEqual(te.window_times(self.receiver), [te.window_end(3)])
        self.assertTrue(record["tls"]["version"].startswith("TLS"), record["tls"])
        self.assertEqual(record["tls"]["client_cn"], client_cn)
        [logs] = self.receiver.records("/v1/logs")
        self.assertEqual(len(logs["request"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]), 2)
        [profile] = self.receiver.records("/ingest")
        self.assertEqual(profile["tls"]["client_cn"], client_cn)
        stats = demo.cmd("stats")
        for signal in ("metrics", "logs", "pyroscope"):
            self.assertEqual((stats[signal]["sent"], stats[signal]["failed_attempts"]), (1, 0),
                             signal)
        demo.quit()

    def assert_refused(self, demo):
        """Two failed attempts and nothing delivered; returns the metrics counters."""
        demo.cmd("metrics 3")
        self.assertTrue(demo.cmd("wait-stat failed_attempts 2 %d" % TIMEOUT_MS)["reached"])
        stats = demo.cmd("stats")["metrics"]
        self.assertEqual(stats["sent"], 0)
        self.assertEqual(stats["rejected"], 0)  # a transport error: kept and retried
        self.assertGreaterEqual(stats["retried"], 1)
        self.assertEqual(stats["spool_entries"], 1)
        self.assertEqual(self.receiver.records("/v1/metrics"), [])
        return stats

    def test_ca_file_verifies_the_server(self):
        self.start_receiver()
        demo, _ = self.demo("--ca-file", self.server_cert)
        self.assert_delivered(demo)

    def test_ca_file_per_signal(self):
        self.start_receiver()
        demo, _ = self.demo("--ca-file", self.server_cert, "--per-signal", "1")
        self.assert_delivered(demo)

    def test_system_store_refuses_a_self_signed_server(self):
        self.start_receiver()
        demo, log = self.demo()
        self.assert_refused(demo)
        # The exporter logs the first failure with curl's reason.
        te.wait_for(lambda: "unavailable" in read(log), "the failure in the exporter log")
        self.assertIn("certificate problem", read(log))
        # The receiver saw the client give up during the handshake.
        te.wait_for(lambda: self.tls_errors(), "a failed handshake at the receiver")
        demo.quit()

    def test_insecure_skip_verify_accepts_a_self_signed_server(self):
        self.start_receiver()
        demo, _ = self.demo("--insecure-skip-verify", "1")
        self.assert_delivered(demo)

    def test_insecure_skip_verify_per_signal(self):
        self.start_receiver()
        demo, _ = self.demo("--insecure-skip-verify", "1", "--per-signal", "1")
        self.assert_delivered(demo)

    def test_client_certificate_is_presented(self):
        self.start_receiver(require_client_cert=True)
        demo, _ = self.demo("--ca-file", self.server_cert, "--cert-file", self.client_cert,
                            "--key-file", self.client_key, "--per-signal", "1")
        self.assert_delivered(demo, client_cn=CLIENT_CN)

    def test_without_client_certificate_the_server_refuses(self):
        self.start_receiver(require_client_cert=True)
        demo, _ = self.demo("--ca-file", self.server_cert, "--per-signal", "1")
        self.assert_refused(demo)
        te.wait_for(lambda: any("certificate" in e.lower() for e in self.tls_errors()),
                    "the receiver refusing a client without a certificate")
        demo.quit()


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    for test, reason in result.skipped:
        print(f"*** SKIPPED {test.id()}: {reason} ***", file=sys.stderr)
    sys.exit(77 if result.skipped else 0)  # ctest: SKIP_RETURN_CODE
