#!/usr/bin/python3
"""`waitscope agent` end to end (root): configuration errors, a real agent
tracing a selected process and exporting to Prometheus text, OTLP/HTTP (an
independent receiver decoding with the official protos) and report
directories; SIGHUP with a bad config keeps the old one; SIGTERM exits 0 and
leaves no BPF program behind.

Run by ctest (tests/bpf/CMakeLists.txt) or by hand:
  WAITSCOPE_BIN=... REPORT_SCHEMA=... REPORT_VALIDATOR=... \
    /usr/bin/python3 tests/bpf/test_agent.py [TestClass]
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_record as tr  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_ROOT = os.path.join(REPO, "third_party", "opentelemetry-proto")
RECEIVER = os.path.join(REPO, "tests", "otlp", "receiver.py")
PROTOS = ["opentelemetry/proto/common/v1/common.proto",
          "opentelemetry/proto/resource/v1/resource.proto",
          "opentelemetry/proto/metrics/v1/metrics.proto",
          "opentelemetry/proto/logs/v1/logs.proto",
          "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
          "opentelemetry/proto/collector/logs/v1/logs_service.proto"]
LOAD_COMM = "wsagentload"
# A process whose name is not UTF-8 (any user can choose such a name):
# Prometheus refuses a whole scrape, and protobuf decoders a whole OTLP
# request, over one such label.
BAD_NAME_PREFIX = "wsutf8"
BAD_NAME = BAD_NAME_PREFIX + "\ufffd\ufffdx"  # as exported: each bad byte a U+FFFD
BAD_NAME_LOAD = f"""
import time
with open('/proc/self/comm', 'wb') as f:
    f.write(b'{BAD_NAME_PREFIX}\\xff\\xfex')
print('ready', flush=True)
while True:
    time.sleep(0.01)
"""
# A process with a distinctive name that blocks in fsync every 20 ms.
LOAD_SCRIPT = f"""
import os, sys, time
with open('/proc/self/comm', 'w') as f:
    f.write('{LOAD_COMM}')
path = sys.argv[1]
print('ready', flush=True)
with open(path, 'wb') as f:
    while True:
        f.write(b'x' * 4096)
        f.flush()
        os.fsync(f.fileno())
        time.sleep(0.02)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def stop_process(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def series_value(text, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = None
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total = (total or 0.0) + float(line.rsplit(" ", 1)[1])
    return total


def loaded_programs():
    """bpftool's list of loaded BPF programs (with the pids holding each)."""
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout or "[]")


def programs_held_by(pid):
    """Ids of the BPF programs a process holds open (from its fds' fdinfo,
    which works whether or not bpftool can name the holders)."""
    ids = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd), encoding="utf-8") as f:
                m = re.search(r"^prog_id:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def map_sizes_held_by(pid):
    """{map name: max_entries} of the BPF maps a process holds open (sizes
    from its fds' fdinfo, names from bpftool)."""
    sizes = {}
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        map_id = re.search(r"^map_id:\s+(\d+)", text, re.M)
        entries = re.search(r"^max_entries:\s+(\d+)", text, re.M)
        if map_id and entries:
            sizes[int(map_id.group(1))] = int(entries.group(1))
    r = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                       check=True)
    return {m.get("name", ""): sizes[m["id"]] for m in json.loads(r.stdout or "[]")
            if m["id"] in sizes}


class Agent:
    """A running `waitscope agent` with its own config file and log."""

    def __init__(self, workdir, config_text, global_args=()):
        self.config = os.path.join(workdir, "waitscope.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, "agent.log")
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([tr.WAITSCOPE, *global_args, "agent", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def log_text(self):
        with open(self.log_path, encoding="utf-8") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Its exit code; a second call (a test's cleanup after the test
        stopped it) only returns it again."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()


class AgentConfigTest(tr.WaitscopeTestCase):
    def test_packaged_config_is_valid(self):
        r = tr.ws("agent", "--check", "--config",
                  os.path.join(REPO, "packaging", "waitscope.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration is valid", r.stdout)

    def test_errors_name_file_line_and_column(self):
        tmp = self.make_tmp()
        cases = [("window: 60s\nexprots:\n  prometheus: {}\n", "waitscope.yaml:2:1", "exprots"),
                 ("window: soon\n", "waitscope.yaml:1:9", "soon"),
                 ("exports:\n  prometheus:\n    listen: 0.0.0.0:9464\n", "waitscope.yaml:3",
                  "allow_public")]
        for text, where, word in cases:
            path = os.path.join(tmp, "waitscope.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            r = tr.ws("agent", "--config", path)
            self.assertEqual(r.returncode, 1, text)
            self.assert_one_error_line(r, where, word)

    def test_missing_config_file(self):
        r = tr.ws("agent", "--config", "/nonexistent/waitscope.yaml")
        self.assertEqual(r.returncode, 1)
        self.assert_one_error_line(r, "/nonexistent/waitscope.yaml")
        # An unset variable (--config "$CONF") once ran the built-in defaults,
        # tracing every process.
        r = tr.ws("agent", "--check", "--config", "")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--config", "empty path")


class AgentRunTest(tr.WaitscopeTestCase):
    """One agent for the class: selection, Prometheus, OTLP, report files, SIGHUP."""

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()
        cls.tmp = cls.make_class_tmp()
        cls.gen_dir = os.path.join(cls.tmp, "gen")
        os.makedirs(cls.gen_dir)
        subprocess.run(["protoc", "--proto_path=" + PROTO_ROOT, "--python_out=" + cls.gen_dir,
                        *[os.path.join(PROTO_ROOT, p) for p in PROTOS]], check=True)
        cls.received = os.path.join(cls.tmp, "received.jsonl")
        port_file = os.path.join(cls.tmp, "receiver.port")
        # Class cleanups run even when setUpClass fails half-way (tearDownClass
        # does not): nothing started here outlives the class.
        cls.receiver = subprocess.Popen([tr.PYTHON, RECEIVER, "--gen-dir", cls.gen_dir, "--out",
                                         cls.received, "--port-file", port_file])
        cls.addClassCleanup(stop_process, cls.receiver)
        otlp_port = int(wait_until(lambda: os.path.exists(port_file) and open(port_file).read(),
                                   10, "the OTLP receiver to listen"))
        cls.load = subprocess.Popen([tr.PYTHON, "-c", LOAD_SCRIPT, os.path.join(cls.tmp, "data")],
                                    stdout=subprocess.PIPE, text=True)
        cls.addClassCleanup(stop_process, cls.load)
        assert cls.load.stdout.readline().strip() == "ready"
        cls.bad_name_load = subprocess.Popen([tr.PYTHON, "-c", BAD_NAME_LOAD],
                                             stdout=subprocess.PIPE, text=True)
        cls.addClassCleanup(stop_process, cls.bad_name_load)
        assert cls.bad_name_load.stdout.readline().strip() == "ready"
        cls.port = free_port()
        cls.files = os.path.join(cls.tmp, "reports")
        cls.config_text = f"""
targets:
  include:
    - comm: {LOAD_COMM}
    - comm: "{BAD_NAME_PREFIX}*"
window: 2s
exports:
  prometheus:
    listen: 127.0.0.1:{cls.port}
  otlp:
    enabled: true
    endpoint: http://127.0.0.1:{otlp_port}
    compression: gzip
  files:
    enabled: true
    dir: {cls.files}
    keep: 3
spool:
  dir: {os.path.join(cls.tmp, "spool")}
"""
        cls.agent = Agent(cls.tmp, cls.config_text)
        cls.addClassCleanup(cls.agent.stop)

    def test_prometheus_shows_the_selected_process_waits(self):
        value = wait_until(
            lambda: series_value(scrape(self.port), "waitscope_wait_time_seconds_total",
                                 process_executable_name=LOAD_COMM, waitscope_wait_class="disk"),
            30, f"disk wait time of {LOAD_COMM} on /metrics")
        self.assertGreater(value, 0)
        text = scrape(self.port)
        others = {m.group(1) for m in re.finditer(
            r'^waitscope_wait_time_seconds_total\{[^}]*process_executable_name="([^"]+)"', text,
            re.M)}
        self.assertEqual(others - {BAD_NAME}, {LOAD_COMM}, "only the selected processes are traced")
        self.assertIsNotNone(series_value(text, "waitscope_agent_memory_rss_bytes"))

    def received_metric_names(self):
        names = set()
        if not os.path.exists(self.received):
            return names
        with open(self.received, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if rec["path"] != "/v1/metrics":
                    continue
                for rm in rec["request"].get("resourceMetrics", []):
                    for sm in rm.get("scopeMetrics", []):
                        for m in sm.get("metrics", []):
                            for dp in m.get("sum", {}).get("dataPoints", []):
                                attrs = {a["key"]: a["value"].get("stringValue")
                                         for a in dp.get("attributes", [])}
                                names.add((m["name"], attrs.get("process.executable.name")))
        return names

    def test_a_process_name_that_is_not_utf8_breaks_no_export(self):
        # scrape() decodes strictly: the bytes as they were would raise here.
        wait_until(lambda: series_value(scrape(self.port), "waitscope_wait_time_seconds_total",
                                        process_executable_name=BAD_NAME),
                   30, "the sleep waits of the process with a name that is not UTF-8 on /metrics")
        wait_until(lambda: ("waitscope.wait.time", BAD_NAME) in self.received_metric_names(), 30,
                   "the same series at the OTLP receiver")
        with open(self.received, encoding="utf-8") as f:
            refused = [json.loads(line).get("decode_error") for line in f]
        self.assertEqual([e for e in refused if e], [], "OTLP requests the receiver refused")
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed (Debian package prometheus, "
                          "tools/install-deps.sh --test): Prometheus' own parser not run")
        r = subprocess.run([promtool, "check", "metrics"], input=scrape(self.port),
                           capture_output=True, text=True, timeout=60)
        self.assertNotIn("parsing error", r.stdout + r.stderr)

    def test_otlp_receiver_decodes_the_metrics(self):
        names = wait_until(lambda: ("waitscope.wait.time", LOAD_COMM) in self.received_metric_names()
                           and self.received_metric_names(), 30,
                           "waitscope.wait.time of the load at the OTLP receiver")
        self.assertIn(("waitscope.wait.time", LOAD_COMM), names)

    def test_report_directories_rotate(self):
        def reports():
            if not os.path.isdir(self.files):
                return []
            return sorted(d for d in os.listdir(self.files)
                          if os.path.exists(os.path.join(self.files, d, "report.json")))
        got = wait_until(lambda: len(reports()) >= 2 and reports(), 30, "two window reports")
        report = self.assert_valid_report(os.path.join(self.files, got[-1]))
        self.assertEqual({t["comm"] for t in report["targets"]}, {LOAD_COMM, BAD_NAME})
        # keep: 3. The oldest window seen goes once three newer ones are written
        # (a count taken at the third window could not tell rotation from none),
        # and no more than three are ever left.
        oldest = got[0]
        wait_until(lambda: oldest not in reports(), 60, f"the oldest window {oldest} to be removed")
        after = reports()
        self.assertLessEqual(len(after), 3, after)
        self.assertGreaterEqual(len(after), 2, after)

    def test_sighup_with_a_bad_config_keeps_the_old_one(self):
        with open(self.agent.config, "w", encoding="utf-8") as f:
            f.write("window: whenever\n")
        try:
            self.agent.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "keeping the current configuration" in self.agent.log_text(), 10,
                       "the agent to refuse the bad config")
            self.assertIn("1:9", self.agent.log_text())
            self.assertIsNone(self.agent.proc.poll(), "the agent keeps running")
            wait_until(lambda: scrape(self.port), 10, "the agent to keep serving /metrics")
        finally:
            with open(self.agent.config, "w", encoding="utf-8") as f:
                f.write(self.config_text)

    def test_sighup_with_a_taken_port_keeps_the_old_exports(self):
        """The reload's last line says the old exports stay (it used to say
        only 'in force', just after the error)."""
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with open(self.agent.config, "w", encoding="utf-8") as f:
            f.write(self.config_text.replace(f"127.0.0.1:{self.port}",
                                             f"127.0.0.1:{taken.getsockname()[1]}"))
        try:
            self.agent.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "in force, but with the previous exports" in self.agent.log_text(),
                       10, "the agent to keep its exports")
            self.assertIn("the new exports fail", self.agent.log_text())
            self.assertIsNone(self.agent.proc.poll(), "the agent keeps running")
            wait_until(lambda: scrape(self.port), 10, "the agent to keep /metrics on the old port")
        finally:
            taken.close()
            with open(self.agent.config, "w", encoding="utf-8") as f:
                f.write(self.config_text)


class AgentStopTest(tr.WaitscopeTestCase):
    def start_agent(self, tmp, config_text, **kwargs):
        """An agent that a failed assertion does not leave running (these
        configs trace every process)."""
        agent = Agent(tmp, config_text, **kwargs)
        self.addCleanup(agent.stop, signal.SIGKILL)
        return agent

    def test_sigterm_exits_zero_and_detaches_everything(self):
        tr.check_bpf_or_skip()
        tmp = self.make_tmp()
        port = free_port()
        agent = self.start_agent(tmp, f"window: 1s\nexports:\n  prometheus:\n"
                                      f"    listen: 127.0.0.1:{port}\nspool:\n  dir: {tmp}/spool\n")
        wait_until(lambda: scrape(port), 30, "the agent to serve /metrics")
        ours = programs_held_by(agent.proc.pid)
        self.assertGreater(len(ours), 0, "the agent holds its programs")
        self.assertEqual(agent.stop(signal.SIGTERM), 0, agent.log_text())
        self.assertIn("every probe detached", agent.log_text())
        # The kernel frees a closed program asynchronously (after an RCU grace period).
        wait_until(lambda: not (ours & {p["id"] for p in loaded_programs()}), 15,
                   f"the agent's programs {sorted(ours)} to be unloaded")

    def test_limits_size_the_kernel_tables(self):
        """limits.max_connections and max_stacks are the sizes of the kernel
        tables they bound (they used to be parsed and then ignored)."""
        tr.check_bpf_or_skip()
        tmp = self.make_tmp()
        port = free_port()
        agent = self.start_agent(tmp, f"limits: {{max_connections: 1000, max_stacks: 500}}\n"
                                      f"exports:\n  prometheus:\n    listen: 127.0.0.1:{port}\n"
                                      f"spool:\n  dir: {tmp}/spool\n")
        wait_until(lambda: scrape(port), 30, "the agent to serve /metrics")
        sizes = map_sizes_held_by(agent.proc.pid)
        self.assertEqual(agent.stop(signal.SIGTERM), 0, agent.log_text())
        self.assertEqual((sizes.get("conns"), sizes.get("conn_ctl"), sizes.get("stacks")),
                         (1000, 1000, 500), sizes)

    def test_verbose_flag_outranks_a_quieter_log_level(self):
        """`waitscope -v agent` logs debug lines even when the config says
        `log_level: warn` (the config's level used to replace the flag's)."""
        tr.check_bpf_or_skip()
        tmp = self.make_tmp()
        port = free_port()
        agent = self.start_agent(tmp, f"log_level: warn\nwindow: 1s\nexports:\n  prometheus:\n"
                                      f"    listen: 127.0.0.1:{port}\nspool:\n  dir: {tmp}/spool\n",
                                 global_args=["-v"])
        wait_until(lambda: scrape(port), 30, "the agent to serve /metrics")
        self.assertEqual(agent.stop(signal.SIGTERM), 0, agent.log_text())
        self.assertRegex(agent.log_text(), r"(?m)^waitscope: debug: ",
                         "no debug line from `waitscope -v agent` with log_level: warn")


if __name__ == "__main__":
    sys.exit(tr.main())
