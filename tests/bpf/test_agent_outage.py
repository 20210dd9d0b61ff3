#!/usr/bin/python3
"""A collector outage seen through the running `waitscope agent` (root).

The agent exports OTLP/HTTP to tests/otlp/receiver.py, which decodes with the
official protos and is stopped and restarted on the same port:
- a short outage (at least three windows) loses nothing: every window arrives,
  in order, with the timestamps it was taken at, not the delivery time;
- an outage longer than a tiny spool drops the oldest windows, the agent's
  own metrics (Prometheus and OTLP) count the drops, and the windows that
  arrive after the restart are the newest ones.

Windows are 1 s. After an outage the exporter retries with exponential
backoff (at most 30 s), so each test waits up to ~35 s for delivery to resume.

Run by ctest (tests/bpf/CMakeLists.txt) or by hand:
  WAITSCOPE_BIN=... WORKLOAD_BIN=... REPORT_SCHEMA=... REPORT_VALIDATOR=... \\
    /usr/bin/python3 tests/bpf/test_agent_outage.py [TestClass]
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "otlp"))
import test_agent as ta  # noqa: E402
import test_otlp_export as te  # noqa: E402
import test_record as tr  # noqa: E402

WINDOW_NS = 1_000_000_000
# The loop ends a window on its first 200 ms poll past the window length; a
# window missing from the sequence shows as a step of about two windows.
MAX_STEP_NS = int(1.8 * WINDOW_NS)
RESUME_TIMEOUT_S = 40  # max_backoff (30 s) plus a few windows
EVENTS = "waitscope.agent.events"  # a counter every window carries
DROPPED = "waitscope_exporter_requests_total"


def window_points(receiver):
    """(start_unix_ns, time_unix_ns, received_unix_ns, record) of each metrics request."""
    out = []
    for record in receiver.records("/v1/metrics"):
        point = te.metrics_by_name(record)[EVENTS]["sum"]["dataPoints"][0]
        out.append((int(point["startTimeUnixNano"]), int(point["timeUnixNano"]),
                    record["received_unix_ns"], record))
    return out


def self_metric(record, outcome):
    """The agent's own otlp_metrics request count for `outcome` in one OTLP request."""
    requests = te.metrics_by_name(record).get("waitscope.exporter.requests")
    if not requests:
        return None
    for point in requests["sum"]["dataPoints"]:
        labels = te.attrs(point["attributes"])
        if labels == {"exporter": "otlp_metrics", "outcome": outcome}:
            return point["asDouble"]
    return None


class OutageBase(tr.WaitscopeTestCase):
    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()
        cls.gen_dir = cls.make_class_tmp()
        subprocess.run(["protoc", "--proto_path=" + ta.PROTO_ROOT, "--python_out=" + cls.gen_dir,
                        *[os.path.join(ta.PROTO_ROOT, p) for p in ta.PROTOS]], check=True)

    def setUp(self):
        # Cleanups, not tearDown: they run when setUp fails half-way too.
        self.tmp = self.make_tmp()
        self.receiver = te.Receiver(self.tmp, self.gen_dir)
        self.addCleanup(self.receiver.stop)
        self.receiver.start()
        self.load = subprocess.Popen([tr.PYTHON, "-c", ta.LOAD_SCRIPT,
                                      os.path.join(self.tmp, "data")],
                                     stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.load.stdout.close)
        self.addCleanup(ta.stop_process, self.load)
        self.assertEqual(self.load.stdout.readline().strip(), "ready")
        self.agent = None
        self.addCleanup(lambda: self.agent and self.agent.stop())

    def start_agent(self, spool_max_bytes=None):
        self.prom_port = ta.free_port()
        self.spool = os.path.join(self.tmp, "spool")
        size = f"\n  max_bytes: {spool_max_bytes}" if spool_max_bytes is not None else ""
        started_ns = time.time_ns()
        self.agent = ta.Agent(self.tmp, f"""
targets:
  include:
    - comm: {ta.LOAD_COMM}
window: 1s
exports:
  prometheus:
    listen: 127.0.0.1:{self.prom_port}
  otlp:
    enabled: true
    endpoint: http://127.0.0.1:{self.receiver.port}
    compression: gzip
spool:
  dir: {self.spool}{size}
""")
        return started_ns

    def spooled(self):
        """Metrics requests waiting in the agent's on-disk spool."""
        d = os.path.join(self.spool, "otlp", "metrics")
        return [f for f in os.listdir(d) if f.endswith(".wsq")] if os.path.isdir(d) else []

    def wait_windows(self, count, what, after_ns=0, timeout=30):
        return ta.wait_until(
            lambda: len([p for p in window_points(self.receiver) if p[1] > after_ns]) >= count,
            timeout, what)

    def assert_running(self):
        self.assertIsNone(self.agent.proc.poll(), self.agent.log_text())

    def assert_contiguous(self, points, what):
        times = [p[1] for p in points]
        for earlier, later in zip(times, times[1:]):
            self.assertGreater(later, earlier, f"{what}: windows out of order or repeated")
            self.assertLess(later - earlier, MAX_STEP_NS,
                            f"{what}: a window is missing between {earlier} and {later}")


class ShortOutageTest(OutageBase):
    def test_nothing_lost_and_timestamps_kept(self):
        started_ns = self.start_agent()
        self.wait_windows(2, "two windows delivered before the outage")
        self.receiver.stop()
        down_ns = time.time_ns()
        # Three windows taken and spooled while nothing listens on the port
        # (a fourth: the first may have been taken just before the stop).
        ta.wait_until(lambda: len(self.spooled()) >= 4, 30, "four windows in the agent's spool")
        self.assert_running()
        self.receiver.start()  # same port
        up_ns = time.time_ns()
        ta.wait_until(lambda: not self.spooled() and len(
            [p for p in window_points(self.receiver) if p[1] > up_ns]) >= 2,
            RESUME_TIMEOUT_S, "the spool to drain and two later windows to arrive")
        self.assert_running()

        points = window_points(self.receiver)
        self.assert_contiguous(points, "windows as they arrived")
        # Cumulative counters: one start (the agent's), before every window.
        starts = {p[0] for p in points}
        self.assertEqual(len(starts), 1, "every window keeps the agent's start time")
        start = starts.pop()
        self.assertGreaterEqual(start, started_ns)
        self.assertLess(start, points[0][1])
        # The windows taken during the outage arrived after it, stamped with
        # when they were taken, not when they were delivered.
        late = [p for p in points if down_ns < p[1] < up_ns]
        self.assertGreaterEqual(len(late), 3, "windows taken during the outage arrived")
        for _, taken, received, _ in late:
            self.assertGreaterEqual(received, up_ns)
            self.assertLess(taken, received)
        for _, taken, received, _ in points:
            self.assertLessEqual(taken, received)
        # The traced process's data points are in every window since it first appeared.
        first = next(i for i, p in enumerate(points)
                     if (self.load_wait_time(p[3]) or 0) > 0)
        values = [self.load_wait_time(p[3]) for p in points[first:]]
        self.assertNotIn(None, values, "a window lost the load's wait time")
        self.assertEqual(values, sorted(values), "a cumulative counter went down")
        dropped = ta.series_value(ta.scrape(self.prom_port), DROPPED, exporter="otlp_metrics",
                                  outcome="dropped")
        self.assertIsNotNone(dropped, f"the agent publishes its exporters' {DROPPED} on /metrics")
        self.assertEqual(dropped, 0, "nothing dropped from the spool")

    @staticmethod
    def load_wait_time(record):
        metric = te.metrics_by_name(record).get("waitscope.wait.time")
        if not metric:
            return None
        total = None
        for point in metric["sum"]["dataPoints"]:
            if te.attrs(point["attributes"]).get("process.executable.name") == ta.LOAD_COMM:
                total = (total or 0.0) + point["asDouble"]
        return total


class LongOutageTest(OutageBase):
    def test_tiny_spool_drops_oldest_and_counts_them(self):
        # Measure one window's request, then give the spool room for about three.
        self.start_agent()
        self.wait_windows(3, "three windows to measure")
        size = max(p[3]["body_bytes"] for p in window_points(self.receiver))
        self.agent.stop()
        self.receiver.stop()
        shutil.rmtree(os.path.join(self.tmp, "spool"))
        os.unlink(self.receiver.out)
        self.receiver.start()
        spool_max = 3 * size + size // 2
        self.start_agent(spool_max_bytes=spool_max)

        self.wait_windows(2, "two windows delivered before the outage")
        self.receiver.stop()
        down_ns = time.time_ns()

        def dropped():
            return ta.series_value(ta.scrape(self.prom_port), DROPPED, exporter="otlp_metrics",
                                   outcome="dropped") or 0
        ta.wait_until(lambda: dropped() >= 3, 30,
                      f"the agent to count 3 dropped windows on /metrics ({DROPPED})")
        self.assert_running()
        self.receiver.start()
        up_ns = time.time_ns()
        ta.wait_until(lambda: not self.spooled() and len(
            [p for p in window_points(self.receiver) if p[1] > up_ns]) >= 2,
            RESUME_TIMEOUT_S, "the spool to drain and two later windows to arrive")
        self.assert_running()
        self.assertIn("dropped the", self.agent.log_text())

        points = window_points(self.receiver)
        times = [p[1] for p in points]
        self.assertEqual(times, sorted(times), "windows arrive oldest first")
        early = [p for p in points if p[2] < down_ns]
        late = [p for p in points if p[2] >= up_ns]
        self.assertEqual(len(early) + len(late), len(points))
        self.assertTrue(early and late)
        # Until the next retry finds the receiver back (backoff, up to 30 s),
        # windows keep going to the full spool: those in it when delivery
        # resumed are the newest, at most the three it holds.
        resumed_ns = late[0][2]
        spooled = [p for p in late if p[1] < resumed_ns]
        self.assertGreaterEqual(len(spooled), 1)
        # The bound is the spool's, in bytes (its entries are the gzipped
        # bodies, as received, plus a header; windows differ in size). The
        # newest of them may never have been in the full spool: taken while
        # the first successful delivery was under way, it waited in the
        # sender's hand-off queue (ci-run30 delivered 3 + 1).
        sizes = [p[3]["body_bytes"] for p in spooled]
        self.assertLessEqual(sum(sizes[:-1]), spool_max,
                             f"more than the spool holds ({spool_max} bytes) survived, "
                             f"besides the newest window: {sizes} bytes")
        for _, taken, received, _ in spooled:
            self.assertGreater(taken, down_ns, "the oldest windows of the outage were dropped")
            self.assertLess(taken, received)
        # A hole right after the last window delivered before the outage, then
        # the newest windows unbroken to the last.
        hole = late[0][1] - early[-1][1]
        self.assertGreater(hole, MAX_STEP_NS, "the oldest windows of the outage were dropped")
        self.assert_contiguous(late, "the newest windows")
        # The hole is about as many windows as the drops counted. Measured in
        # time, so with slack: a window taken while the exporter retries (or
        # under ASan) can run late and stretch the hole by one.
        total_dropped = dropped()
        step = (late[-1][1] - late[0][1]) / (len(late) - 1)
        self.assertAlmostEqual(hole / step - 1, total_dropped,
                               delta=max(2.0, 0.25 * total_dropped))
        # The agent's OTLP self-metrics say the same, in the newest window.
        self.assertEqual(self_metric(points[-1][3], "dropped"), total_dropped)

if __name__ == "__main__":
    sys.exit(tr.main())
