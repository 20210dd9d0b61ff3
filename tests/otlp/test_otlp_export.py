#!/usr/bin/python3
"""OTLP/HTTP and Pyroscope export, end to end, decoded independently.

otlp_export_demo (the real exporter, C++) sends synthetic windows and findings
to receiver.py, which decodes them with python3-protobuf and classes generated
here by `protoc --python_out` from the vendored official .proto files. Checks
names, attributes, values and timestamps; then collector outages: nothing lost
and original timestamps kept, the spool surviving an agent restart, and a spool
too small for the outage dropping the oldest windows, counted.

Environment: OTLP_DEMO_BIN (otlp_export_demo), OTLP_PROTO_ROOT
(third_party/opentelemetry-proto), PROTOC (default: protoc on PATH).
Run by hand: OTLP_DEMO_BIN=... OTLP_PROTO_ROOT=... /usr/bin/python3 tests/otlp/test_otlp_export.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
START_NS = 1700000000000000000
WINDOW_NS = 10000000000
TIMEOUT_S = 10

PROTOS = [
    "opentelemetry/proto/common/v1/common.proto",
    "opentelemetry/proto/resource/v1/resource.proto",
    "opentelemetry/proto/metrics/v1/metrics.proto",
    "opentelemetry/proto/logs/v1/logs.proto",
    "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
    "opentelemetry/proto/collector/logs/v1/logs_service.proto",
]


def window_end(i):
    return START_NS + (i + 1) * WINDOW_NS


def wait_for(condition, what, timeout=TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)  # polling a file another process writes; bounded by the deadline
    raise AssertionError("timed out waiting for " + what)


def generate_protos(gen_dir):
    """Python classes for the vendored OTLP protos, into gen_dir (receiver.py --gen-dir)."""
    root = os.environ["OTLP_PROTO_ROOT"]
    subprocess.run([os.environ.get("PROTOC", "protoc"), "--proto_path=" + root,
                    "--python_out=" + gen_dir, *[os.path.join(root, p) for p in PROTOS]],
                   check=True)


class Receiver:
    """receiver.py as a process that can be stopped and restarted on the same port.
    tls_args: receiver.py's --tls-cert/--tls-key/--client-ca flags; any make it HTTPS."""

    def __init__(self, workdir, gen_dir, tls_args=()):
        self.workdir = workdir
        self.gen_dir = gen_dir
        self.tls_args = list(tls_args)
        self.out = os.path.join(workdir, "received.jsonl")
        self.port = 0
        self.proc = None

    def start(self):
        port_file = os.path.join(self.workdir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "receiver.py"), "--gen-dir", self.gen_dir,
             "--out", self.out, "--port-file", port_file, "--port", str(self.port),
             *self.tls_args])
        wait_for(lambda: os.path.exists(port_file) or self.proc.poll() is not None,
                 "the receiver to listen")
        if self.proc.poll() is not None:
            raise AssertionError("receiver exited with %d" % self.proc.returncode)
        with open(port_file, encoding="utf-8") as f:
            self.port = int(f.read())

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=TIMEOUT_S)
            self.proc = None

    def url(self, path):
        scheme = "https" if self.tls_args else "http"
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def records(self, path=None):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return [r for r in rows if path is None or r["path"] == path]


class Demo:
    """otlp_export_demo, one JSON reply per command."""

    def __init__(self, *args, stderr=None):
        self.proc = subprocess.Popen([os.environ["OTLP_DEMO_BIN"], *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=stderr, text=True)

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise AssertionError("otlp_export_demo exited on '%s'" % line)
        return json.loads(reply)

    def quit(self):
        self.cmd("quit")
        self.proc.wait(timeout=TIMEOUT_S)


def attrs(kvs):
    """OTLP KeyValue list (as MessageToDict gives it) -> {key: python value}."""
    out = {}
    for kv in kvs or []:
        value = kv.get("value", {})
        if "stringValue" in value:
            out[kv["key"]] = value["stringValue"]
        elif "intValue" in value:
            out[kv["key"]] = int(value["intValue"])
        elif "doubleValue" in value:
            out[kv["key"]] = value["doubleValue"]
        else:
            out[kv["key"]] = value
    return out


def metrics_by_name(record):
    rms = record["request"]["resourceMetrics"]
    return {m["name"]: m for rm in rms for sm in rm["scopeMetrics"] for m in sm["metrics"]}


def window_times(receiver):
    """time_unix_nano of every received metrics request, in arrival order."""
    times = []
    for record in receiver.records("/v1/metrics"):
        point = metrics_by_name(record)["waitscope.wait.time"]["sum"]["dataPoints"][0]
        times.append(int(point["timeUnixNano"]))
    return times


class OtlpExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gen_dir = tempfile.mkdtemp(prefix="ws-otlp-gen-")
        generate_protos(cls.gen_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.gen_dir, ignore_errors=True)

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="ws-otlp-test-")
        self.spool = os.path.join(self.workdir, "spool")
        self.receiver = Receiver(self.workdir, self.gen_dir)
        self.receiver.start()
        self.demos = []

    def tearDown(self):
        for demo in self.demos:
            if demo.proc.poll() is None:
                demo.proc.kill()
                demo.proc.wait()
        self.receiver.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def demo(self, *extra):
        demo = Demo("--metrics-url", self.receiver.url("/v1/metrics"),
                    "--logs-url", self.receiver.url("/v1/logs"),
                    "--spool-dir", self.spool, *extra)
        self.demos.append(demo)
        return demo

    def test_metrics_findings_and_profile_decode_with_official_protos(self):
        demo = self.demo("--gzip", "1", "--header", "Authorization=Bearer s3cret",
                         "--resource", "deployment.environment=test",
                         "--pyroscope-url", self.receiver.url(""))
        demo.cmd("metrics 2")
        demo.cmd("findings 2")
        demo.cmd("profile 2")
        self.assertTrue(demo.cmd("wait %d" % (TIMEOUT_S * 1000))["idle"])

        [record] = self.receiver.records("/v1/metrics")
        self.assertNotIn("decode_error", record)
        self.assertEqual(record["headers"]["content-type"], "application/x-protobuf")
        self.assertEqual(record["headers"]["content-encoding"], "gzip")
        self.assertEqual(record["headers"]["authorization"], "Bearer s3cret")
        # The exporter spec: name and version (the demo passes "test").
        self.assertEqual(record["headers"]["user-agent"], "waitscope/test")
        rm = record["request"]["resourceMetrics"][0]
        resource = attrs(rm["resource"]["attributes"])
        self.assertEqual(resource["service.name"], "waitscope")
        self.assertEqual(resource["deployment.environment"], "test")
        self.assertTrue(resource["host.name"])
        self.assertEqual(rm["scopeMetrics"][0]["scope"]["name"], "waitscope")

        metrics = metrics_by_name(record)
        wait = metrics["waitscope.wait.time"]
        self.assertEqual(wait["unit"], "s")
        self.assertTrue(wait["sum"]["isMonotonic"])
        self.assertEqual(wait["sum"]["aggregationTemporality"], "AGGREGATION_TEMPORALITY_CUMULATIVE")
        points = {attrs(p["attributes"])["class"]: p for p in wait["sum"]["dataPoints"]}
        self.assertEqual(attrs(points["disk"]["attributes"]), {"class": "disk", "pid": "42"})
        self.assertEqual(points["disk"]["asDouble"], 4.5)
        self.assertEqual(points["net"]["asDouble"], 0.75)
        self.assertEqual(int(points["disk"]["startTimeUnixNano"]), START_NS)
        self.assertEqual(int(points["disk"]["timeUnixNano"]), window_end(2))

        gauge = metrics["waitscope.connections.open"]["gauge"]["dataPoints"][0]
        self.assertEqual(gauge["asDouble"], 2)
        self.assertEqual(attrs(gauge["attributes"]), {"peer": "10.0.0.5:5432"})

        hist = metrics["waitscope.http.server.duration"]["histogram"]
        self.assertEqual(hist["aggregationTemporality"], "AGGREGATION_TEMPORALITY_CUMULATIVE")
        hp = hist["dataPoints"][0]
        self.assertEqual(hp["explicitBounds"], [0.005, 0.05, 0.5])
        self.assertEqual([int(c) for c in hp["bucketCounts"]], [2, 2, 3, 1])
        self.assertEqual(int(hp["count"]), 8)
        self.assertEqual(hp["sum"], 0.75)
        self.assertEqual(attrs(hp["attributes"]), {"endpoint": "GET /orders/{id}"})

        [logs] = self.receiver.records("/v1/logs")
        records = logs["request"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        self.assertEqual(len(records), 2)
        first = records[0]
        self.assertEqual(int(first["timeUnixNano"]), window_end(2))
        self.assertEqual(first["severityNumber"], "SEVERITY_NUMBER_WARN")
        self.assertEqual(first["severityText"], "warning")
        self.assertIn("runs 50 times", first["body"]["stringValue"])
        a = attrs(first["attributes"])
        self.assertEqual(a["waitscope.finding.kind"], "n_plus_one")
        self.assertEqual(a["waitscope.finding.pid"], 42)
        self.assertEqual(a["waitscope.finding.endpoint"], "GET /orders/{id}")
        self.assertEqual(a["waitscope.finding.evidence.repeats_per_request"], 50)
        self.assertEqual(a["waitscope.finding.evidence.share"], 0.62)
        b = attrs(records[1]["attributes"])
        self.assertEqual(records[1]["severityNumber"], "SEVERITY_NUMBER_ERROR")
        self.assertEqual(b["waitscope.finding.evidence.latency.p50_us"], 1000)
        self.assertNotIn("waitscope.finding.endpoint", b)

        [profile] = self.receiver.records("/ingest")
        self.assertEqual(profile["query"]["name"], "waitscope.wait{host=demo}")
        self.assertEqual(profile["query"]["format"], "pprof")
        self.assertEqual(int(profile["query"]["from"]), START_NS // 10**9 + 20)
        self.assertEqual(int(profile["query"]["until"]), window_end(2) // 10**9)
        self.assertTrue(profile["profile_gzip"])
        demo.quit()

    def test_outage_loses_nothing_and_keeps_timestamps(self):
        demo = self.demo("--gzip", "1")
        demo.cmd("metrics 0")
        self.assertTrue(demo.cmd("wait %d" % (TIMEOUT_S * 1000))["idle"])
        self.receiver.stop()
        for i in range(1, 7):
            demo.cmd("metrics %d" % i)
        demo.cmd("findings 6")
        self.assertTrue(demo.cmd("wait-stat failed_attempts 2 %d" % (TIMEOUT_S * 1000))["reached"])
        stats = demo.cmd("stats")["metrics"]
        self.assertEqual(stats["sent"], 1)
        self.assertEqual(stats["spool_entries"], 6)
        spooled = os.path.join(self.spool, "metrics")
        wait_for(lambda: len(os.listdir(spooled)) == 6, "six windows in the on-disk spool")
        self.receiver.start()
        self.assertTrue(demo.cmd("wait %d" % (TIMEOUT_S * 1000))["idle"])
        self.assertEqual(window_times(self.receiver), [window_end(i) for i in range(7)])
        [logs] = self.receiver.records("/v1/logs")
        record = logs["request"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
        self.assertEqual(int(record["timeUnixNano"]), window_end(6))
        stats = demo.cmd("stats")["metrics"]
        self.assertEqual((stats["sent"], stats["dropped_oldest"], stats["spool_entries"]), (7, 0, 0))
        self.assertGreater(stats["retried"], 0)
        demo.quit()

    def test_spool_survives_agent_restart(self):
        self.receiver.stop()
        first = self.demo()
        for i in range(3):
            first.cmd("metrics %d" % i)
        self.assertTrue(first.cmd("wait-stat failed_attempts 1 %d" % (TIMEOUT_S * 1000))["reached"])
        first.quit()
        self.receiver.start()
        second = self.demo()
        self.assertTrue(second.cmd("wait %d" % (TIMEOUT_S * 1000))["idle"])
        self.assertEqual(window_times(self.receiver), [window_end(i) for i in range(3)])
        second.quit()

    def test_tiny_spool_drops_oldest_and_counts_them(self):
        self.receiver.stop()
        demo = self.demo("--spool-entries", "3")
        for i in range(8):
            demo.cmd("metrics %d" % i)
        self.assertTrue(demo.cmd("wait-stat dropped_oldest 5 %d" % (TIMEOUT_S * 1000))["reached"])
        self.receiver.start()
        self.assertTrue(demo.cmd("wait %d" % (TIMEOUT_S * 1000))["idle"])
        self.assertEqual(window_times(self.receiver), [window_end(i) for i in (5, 6, 7)])
        stats = demo.cmd("stats")["metrics"]
        self.assertEqual((stats["sent"], stats["dropped_oldest"]), (3, 5))
        demo.quit()


if __name__ == "__main__":
    unittest.main()
