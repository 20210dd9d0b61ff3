#!/usr/bin/python3
"""BPF integration tests: `waitscope record` against a workload with known waits.

Runs the real waitscope binary (root, tracepoint BPF) against
tests/testprogs/workload, which blocks in known ways (fsync, socket reads, a
contended mutex, sleeps; and page faults, which are no syscall's wait) from
named functions and measures its own blocked time. The tests check that the
report finds each wait with the right class, target, total and stack, and
that the CLI behaves (attach by pid, exits,
children, Ctrl-C, errors, pprof and SVG outputs).

Usage: test_record.py [unittest args]  (stdlib only; run with /usr/bin/python3)
Environment (set by tests/bpf/CMakeLists.txt):
  WAITSCOPE_BIN     the waitscope binary
  WORKLOAD_BIN      the workload test program
  REPORT_SCHEMA     tests/schema/report.schema.json
  REPORT_VALIDATOR  tests/schema/validate_report.py (needs python3-jsonschema)

Exit code: 0 when everything passed, 1 on any failure, SKIP_EXIT_CODE (77)
when the BPF tests were skipped (not root, or the kernel refused the probe) and
nothing failed, so ctest reports "Skipped" instead of a silent pass.
"""

import gzip
import json
import os
import platform
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

SKIP_EXIT_CODE = int(os.environ.get("SKIP_EXIT_CODE", "77"))

WAITSCOPE = os.environ.get("WAITSCOPE_BIN", "")
WORKLOAD = os.environ.get("WORKLOAD_BIN", "")
DEMO = os.environ.get("DEMO_BIN", "")
SCHEMA = os.environ.get("REPORT_SCHEMA", "")
VALIDATOR = os.environ.get("REPORT_VALIDATOR", "")
PYTHON = "/usr/bin/python3"

RUN_TIMEOUT_S = 60  # upper bound for any single waitscope run

# Why the BPF tests were skipped (None: they were not).
BPF_SKIP_REASON = None


# ---- helpers -----------------------------------------------------------------


def ws(*args, timeout=RUN_TIMEOUT_S, **kwargs):
    """Runs waitscope to completion and returns the CompletedProcess."""
    return subprocess.run([WAITSCOPE, *args], capture_output=True, text=True, timeout=timeout,
                          **kwargs)


class LineReader:
    """Collects a pipe's lines on a thread, so tests can wait for a line with a
    timeout without blocking on the pipe (and the pipe never fills up)."""

    def __init__(self, pipe):
        self.lines = []
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self._thread.start()

    def _run(self, pipe):
        with pipe:  # the reader owns the pipe and closes it at EOF
            for line in pipe:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern, timeout):
        """Returns the first match of `pattern` in a line (seen before or
        arriving within `timeout` seconds), or None."""
        regex = re.compile(pattern)
        for line in self.lines:
            m = regex.search(line)
            if m:
                return m
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:  # EOF: no more lines will come
                self._queue.put(None)
                return None
            self.lines.append(line)
            m = regex.search(line)
            if m:
                return m

    def text(self, wait_eof_s=0.0):
        """Everything read so far (waiting up to wait_eof_s for EOF)."""
        self._thread.join(wait_eof_s)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)
                break
            self.lines.append(line)
        return "\n".join(self.lines)


def kill_quietly(proc_or_pid):
    try:
        if isinstance(proc_or_pid, int):
            os.kill(proc_or_pid, signal.SIGKILL)
        else:
            if proc_or_pid.poll() is None:
                proc_or_pid.kill()
                proc_or_pid.wait(timeout=10)
            if proc_or_pid.stdin and not proc_or_pid.stdin.closed:
                proc_or_pid.stdin.close()
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def voluntary_switches(pid):
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError(f"no voluntary_ctxt_switches in /proc/{pid}/status")


def parse_folded(path):
    """waits.folded lines as (frames, value); frames are
    ["comm (pid)", class, stack frames root first ..., "syscall[ target]"]."""
    stacks = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            frames, _, value = line.rpartition(" ")
            stacks.append((frames.split(";"), int(value)))
    return stacks


def folded_for(stacks, pid, wait_class, syscall, target=None):
    """The folded stacks of one wait row (pid, class, syscall, target)."""
    leaf = syscall if target in (None, "-") else f"{syscall} {target}"
    return [(frames, value) for frames, value in stacks
            if frames[0].endswith(f"({pid})") and frames[1] == wait_class and frames[-1] == leaf]


def is_function(frame, name):
    """True if one folded frame is the function `name`; frames are demangled,
    e.g. "(anonymous namespace)::workload_sleeps()"."""
    return re.search(r"(^|::)" + re.escape(name) + r"(\(|$)", frame) is not None


def has_function(frames, name):
    """True if a stack frame (between class and leaf) is the function `name`."""
    return any(is_function(f, name) for f in frames[2:-1])


def is_stackless(frames):
    """True for a folded stack whose block was settled without its stack: its
    switch-in went unseen, or the stack could not be read (docs/design.md,
    "A block whose end we did not see")."""
    return frames[2:-1] == ["[stack unavailable]"]


def frames_below_main(frames):
    """The frames of a folded stack between its innermost `main` and the leaf."""
    inner = frames[2:-1]
    last_main = max(i for i, f in enumerate(inner) if is_function(f, "main"))
    return inner[last_main + 1:]


# ---- pprof: a minimal protobuf reader (gzip + varints), no dependencies --------


def read_varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def read_fields(buf):
    """Yields (field number, wire type, value) of one message: ints for
    varints and fixed-width fields, bytes for length-delimited ones."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value, pos = bytes(buf[pos:pos + length]), pos + length
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated field")
        yield field, wire, value


def repeated_ints(wire, value):
    """A repeated integer field's values, packed (wire type 2) or not."""
    if wire != 2:
        return [value]
    out, pos = [], 0
    while pos < len(value):
        v, pos = read_varint(value, pos)
        out.append(v)
    return out


def to_int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def decode_pprof(path):
    """Returns (sample types as [(type, unit)], samples as [[values]])."""
    with open(path, "rb") as f:
        data = gzip.decompress(f.read())
    strings, sample_types, samples = [], [], []
    for field, wire, value in read_fields(data):
        if field == 6:  # string_table
            strings.append(value.decode("utf-8"))
        elif field == 1:  # sample_type: ValueType{type=1, unit=2}
            vt = {f: v for f, _, v in read_fields(value)}
            sample_types.append((vt.get(1, 0), vt.get(2, 0)))
        elif field == 2:  # sample: value=2 (repeated int64)
            values = []
            for f, w, v in read_fields(value):
                if f == 2:
                    values.extend(to_int64(x) for x in repeated_ints(w, v))
            samples.append(values)
    types = [(strings[t], strings[u]) for t, u in sample_types]
    return types, samples


# ---- base class ----------------------------------------------------------------


class WaitscopeTestCase(unittest.TestCase):
    maxDiff = None

    def make_tmp(self):
        d = tempfile.mkdtemp(prefix="waitscope-bpf-", dir="/var/tmp")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    @classmethod
    def make_class_tmp(cls):
        d = tempfile.mkdtemp(prefix="waitscope-bpf-", dir="/var/tmp")
        cls.addClassCleanup(shutil.rmtree, d, ignore_errors=True)
        return d

    @classmethod
    def record_workload_stacks(cls, *modes):
        """`waitscope record -- workload SUMMARY MODES...` into a class temp
        dir; sets cls.result, cls.pid (the workload's) and cls.folded."""
        cls.tmp = cls.make_class_tmp()
        out = os.path.join(cls.tmp, "report")
        summary_path = os.path.join(cls.tmp, "workload.json")
        cls.result = ws("record", "-o", out, "--", WORKLOAD, summary_path, *modes)
        if cls.result.returncode != 0:
            raise AssertionError(f"waitscope record failed (exit {cls.result.returncode}):\n"
                                 f"{cls.result.stderr}")
        with open(summary_path, encoding="utf-8") as f:
            cls.pid = json.load(f)["pid"]
        cls.folded = parse_folded(os.path.join(out, "waits.folded"))

    def assert_valid_report(self, out_dir):
        path = os.path.join(out_dir, "report.json")
        self.assertTrue(os.path.isfile(path), f"no report.json in {out_dir}")
        r = subprocess.run([PYTHON, VALIDATOR, SCHEMA, path], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0,
                         f"report.json does not validate against the schema:\n{r.stdout}{r.stderr}")
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def assert_one_error_line(self, r, *must_mention):
        self.assertNotEqual(r.returncode, 0, f"expected failure, stderr: {r.stderr!r}")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"expected exactly one line on stderr, got {r.stderr!r}")
        self.assertTrue(lines[0].startswith("waitscope: error:"), lines[0])
        for word in must_mention:
            self.assertIn(word, lines[0])

    def assert_stackless_announced(self, stderr, what):
        """A block settled without its stack is one the recorder says it
        settled so, on stderr."""
        self.assertRegex(stderr, r"blocks ended unseen|stacks could not be read",
                         f"{what} without a stack, and no word of it on stderr")

    def with_frames(self, stacks, stderr, what):
        """The folded stacks (frame lists) that have frames. A block whose
        switch-in the hook did not see may be settled later without its
        stack (docs/design.md, "A block whose end we did not see"); the
        recorder must have said so. At least one stack must have frames."""
        stacked = [f for f in stacks if not is_stackless(f)]
        if len(stacked) < len(stacks):
            self.assert_stackless_announced(stderr, what)
        self.assertTrue(stacked, f"no {what} stack with frames: {stacks}")
        return stacked

    def start_workload(self, out_json, *modes, stdin=None):
        """Starts the workload with a mode that prints "ready PID"; returns
        (Popen, pid) once that line arrived."""
        proc = subprocess.Popen([WORKLOAD, out_json, *modes], stdin=stdin, stdout=subprocess.PIPE,
                                text=True)
        self.addCleanup(kill_quietly, proc)
        reader = LineReader(proc.stdout)
        m = reader.wait_for(r"^ready (\d+)$", timeout=10)
        self.assertIsNotNone(m, "workload did not print its ready line")
        pid = int(m.group(1))
        self.assertEqual(pid, proc.pid)
        return proc, pid


def row(report, pid, wait_class, syscall, target=None):
    """The report.json wait rows of one pid/class/syscall(/target)."""
    syscalls = syscall if isinstance(syscall, (list, tuple)) else [syscall]
    return [w for w in report["waits"]
            if w["pid"] == pid and w["class"] == wait_class and w["syscall"] in syscalls
            and (target is None or w["target"] == target)]


def check_bpf_or_skip():
    """Skips (loudly) when tracing cannot work here; fails on anything else."""
    global BPF_SKIP_REASON
    if BPF_SKIP_REASON:
        raise unittest.SkipTest(BPF_SKIP_REASON)
    if os.geteuid() != 0:
        BPF_SKIP_REASON = "not running as root: waitscope needs root (or CAP_BPF+CAP_PERFMON)"
    else:
        d = tempfile.mkdtemp(prefix="waitscope-bpf-probe-", dir="/var/tmp")
        try:
            r = ws("record", "-q", "-o", d, "--", "/bin/true")
        finally:
            shutil.rmtree(d, ignore_errors=True)
        if r.returncode != 0:
            err = r.stderr.strip()
            # Only the two refusals that name something this machine lacks
            # (privileges: loader/privileges.cc CheckTracingPrivileges; kernel
            # BTF: CheckKernelBtf) are a reason to skip. Anything else, and
            # above all "the kernel refused to load them" (the verifier
            # rejecting our own programs), is a test failure.
            if r.returncode == 1 and err.startswith("waitscope: error:") and re.search(
                    r"waitscope needs root, or the capabilities|this kernel exposes no BTF", err):
                BPF_SKIP_REASON = f"waitscope cannot trace on this machine: {err}"
            else:
                raise AssertionError(
                    f"`waitscope record -- /bin/true` failed (exit {r.returncode}):\n{r.stderr}")
    if BPF_SKIP_REASON:
        print(f"\n*** SKIPPING the BPF tests: {BPF_SKIP_REASON} ***\n", file=sys.stderr, flush=True)
        raise unittest.SkipTest(BPF_SKIP_REASON)


# ---- tests that need no BPF -------------------------------------------------------


class CliErrorTests(WaitscopeTestCase):
    """Command-line errors: a non-zero exit and one readable line."""

    def test_unknown_pid(self):
        pid = 999999
        while os.path.exists(f"/proc/{pid}"):
            pid += 1
        r = ws("record", "-p", str(pid), "-o", os.path.join(self.make_tmp(), "out"))
        self.assert_one_error_line(r, str(pid))

    def test_min_block_without_unit(self):
        r = ws("record", "--min-block", "5", "-o", os.path.join(self.make_tmp(), "out"), "--",
               "/bin/true")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--min-block", r.stderr)
        self.assertIn("unit", r.stderr)

    def test_unwritable_output_dir(self):
        r = ws("record", "-o", "/proc/waitscope-x", "--", "/bin/true")
        self.assert_one_error_line(r, "/proc/waitscope-x")

    def test_pid_that_is_not_a_number(self):
        # CLI11's own check printed its limits as doubles: "not in range
        # 0.000000 to 179769313486231570814527423731704356798070...".
        for bad in ("abc", "0", "12x", "-3", "99999999"):
            with self.subTest(pid=bad):
                r = ws("record", "-p", bad, "-o", os.path.join(self.make_tmp(), "out"))
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assert_one_error_line(r, "--pid", f"'{bad}'", "process ID")
                self.assertLess(len(r.stderr), 200, r.stderr)

    def test_zero_duration(self):
        # It once recorded nothing for 0 s and wrote an empty report.
        r = ws("record", "--duration", "0", "-o", os.path.join(self.make_tmp(), "out"), "--",
               "/bin/true")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--duration", "longer than 0")

    def test_negative_top(self):
        # Taken as a size_t, "-5" once wrapped to "all rows" without a word.
        r = ws("record", "--top", "-5", "-o", os.path.join(self.make_tmp(), "out"), "--",
               "/bin/true")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--top", "'-5'")

    def test_unknown_command(self):
        for name, argv in (("frobnicate", ["frobnicate"]), ("recrod", ["-v", "recrod", "-p", "1"])):
            with self.subTest(argv=argv):
                r = ws(*argv)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assert_one_error_line(r, f"unknown command '{name}'", "record, top, agent")

    def test_empty_output_dir(self):
        # `-o "$UNSET"` once wrote to ./waitscope-DATE-TIME instead.
        r = ws("record", "-o", "", "--", "/bin/true", cwd=self.make_tmp())
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--output", "empty path")
        # --save-events "" once recorded and wrote no event file, exit 0.
        r = ws("record", "--save-events", "", "--", "/bin/true", cwd=self.make_tmp())
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--save-events", "empty path")

    def test_error_line_is_safe_for_a_terminal(self):
        # A value is echoed in the error: an escape sequence in it recoloured
        # the terminal, a newline broke the one line, and 100 KB came back whole.
        r = ws("record", "--duration", "1\x1b[31mRED\n2", "--", "/bin/true")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--duration", "?[31mRED?2")
        self.assertNotIn("\x1b", r.stderr)
        r = ws("record", "--duration", "9" * 100_000 + "x", "--", "/bin/true")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--duration")
        self.assertLess(len(r.stderr), 500, r.stderr[:500])

    def test_capture_bytes_is_a_plain_number(self):
        # CLI11's range check said "Value 5x not in range 0 to 16384" and took
        # 0x10 as hexadecimal.
        for bad in ("5x", "0x10", " 5", "1.5", "", "16385", "-1"):
            with self.subTest(value=bad):
                r = ws("record", "--capture-bytes", bad, "--", "/bin/true", cwd=self.make_tmp())
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assert_one_error_line(r, "--capture-bytes", f"'{bad}' is not a byte count",
                                           "from 0 to 16384")

    def test_version(self):
        r = ws("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^waitscope \d+\.\d+")

    def test_record_help_mentions_every_flag(self):
        r = ws("record", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for flag in ("-p", "--pid", "--duration", "-o", "--output", "--min-block", "-q"):
            self.assertRegex(r.stdout, r"(^|[\s,])" + re.escape(flag) + r"\b",
                             f"`record --help` does not mention {flag}")


class SchedFlagCheckTest(WaitscopeTestCase):
    """The sched flavour reads a thread_info bit as TIF_NEED_FPU_LOAD, chosen
    by kernel version; at start-up it checks that the bit behaves like it and
    falls back to tp_btf when it does not (docs/design.md)."""

    def setUp(self):
        check_bpf_or_skip()

    def record(self, **env):
        out = os.path.join(self.make_tmp(), "out")
        # -v: the debug log names the check's result and the flavour attached.
        r = ws("record", "-v", "-o", out, "--", "/bin/true", env=dict(os.environ, **env))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def skip_unless_offered(self, r):
        # Only a kernel that is not offered the flavour skips: one where the
        # check refuses the right bit must fail here, not skip.
        if "the sched hooks need" in r.stderr:
            self.skipTest("the sched flavour is not offered here (x86-64, Linux 6.18+)")

    def test_the_bit_in_use_passes(self):
        r = self.record(WAITSCOPE_HOOKS="")
        self.skip_unless_offered(r)
        self.assertIn("TIF_NEED_FPU_LOAD check passed", r.stderr)
        self.assertIn("BPF hooks attached (sched", r.stderr)

    def test_a_wrong_bit_falls_back_to_tp_btf(self):
        # Bit 63 of thread_info.flags is never set: no task switching in has it.
        r = self.record(WAITSCOPE_HOOKS="", WAITSCOPE_TIF_NEED_FPU_LOAD_BIT="63")
        self.skip_unless_offered(r)
        self.assertIn("does not behave as TIF_NEED_FPU_LOAD", r.stderr)
        self.assertIn("BPF hooks attached (tp_btf", r.stderr)


# ---- one recording of every kind of wait --------------------------------------------


class KnownWaitsBase(WaitscopeTestCase):
    """`record --min-block MIN_BLOCK -- workload out.json fsync socket futex
    pagefault sleep`, once per class; the subclasses check what the report
    says. The page faults block the thread outside any syscall, just before
    the sleeps: they must not be counted as a syscall's wait (nor swallow the
    first sleep)."""

    MIN_BLOCK = "1ms"
    HOOKS = ""  # WAITSCOPE_HOOKS: "" automatic (sched here), or a forced flavour

    @classmethod
    def setUpClass(cls):
        check_bpf_or_skip()
        cls.tmp = cls.make_class_tmp()
        cls.out = os.path.join(cls.tmp, "report")
        cls.summary_path = os.path.join(cls.tmp, "workload.json")
        env = dict(os.environ, WORKLOAD_DIR=cls.tmp, WAITSCOPE_HOOKS=cls.HOOKS)
        # -v: the debug log names the hook flavour that was attached.
        # The page faults run after the futex phase on purpose: its threads
        # leave stale return addresses on the main thread's stack, which a
        # leaf scan of a fault's stack once took for callers (and its reads
        # made waitscope record 38-72 % of the faults' time;
        # test_page_fault_stack_has_no_stale_callers).
        cls.result = ws("record", "-v", "--min-block", cls.MIN_BLOCK, "-o", cls.out, "--", WORKLOAD,
                        cls.summary_path, "fsync", "socket", "futex", "sleep", "pagefault",
                        env=env)
        if cls.result.returncode != 0:
            raise AssertionError(f"waitscope record failed (exit {cls.result.returncode}):\n"
                                 f"{cls.result.stderr}")
        with open(cls.summary_path, encoding="utf-8") as f:
            cls.measured = json.load(f)
        cls.pid = cls.measured["pid"]
        with open(os.path.join(cls.out, "report.json"), encoding="utf-8") as f:
            cls.report = json.load(f)
        cls.folded = parse_folded(os.path.join(cls.out, "waits.folded"))

    def one_row(self, wait_class, syscall, target=None):
        rows = row(self.report, self.pid, wait_class, syscall, target)
        self.assertEqual(len(rows), 1,
                         f"expected one {wait_class}/{syscall}/{target} row for pid {self.pid}, "
                         f"got {rows}; all waits: {json.dumps(self.report['waits'], indent=1)}")
        return rows[0]

    def assert_total_close(self, recorded_ns, measured_ns, what, abs_ns=0):
        tolerance = max(0.10 * measured_ns, abs_ns)
        self.assertLessEqual(
            abs(recorded_ns - measured_ns), tolerance,
            f"{what}: recorded {recorded_ns / 1e6:.2f} ms, the workload measured "
            f"{measured_ns / 1e6:.2f} ms (tolerance {tolerance / 1e6:.2f} ms)")

    def assert_offcpu_close(self, recorded_ns, m, what):
        """`recorded_ns` against what the workload measured off CPU around the
        calls (m["offcpu_ns"]: wall minus its thread's CPU time), 10% or 2 ms.
        That measure also holds time that was no block, which waitscope does
        not count: the thread's wait on a run queue when it was preempted (a
        busy machine: 2.4 ms recorded of 5.0 ms in one CI run while fuzzers
        ran beside it) and the CPUs' steal and interrupt time (1.5 ms of
        steal in one ASan CI run). The workload reports those (runq_ns,
        steal_ns, irq_ns over the loop); so less may be recorded by as much.

        More may be recorded by up to the run-queue time, never more than the
        calls' wall time: the thread's CPU time is the scheduler's clock, not
        CLOCK_MONOTONIC (waitscope's and the wall time's clock), and on a
        busy machine the two disagree. We believe the unstable TSC these VMs
        boot with (tsc=unstable) is why; what was measured is the
        disagreement, not its cause. With two busy loops beside it, 63 fsync blocks
        that did not overlap summed to 17.2 ms within 20.1 ms of wall time,
        while the thread's CPU time left 15.0 ms off CPU (6-8 ms on a run
        queue; 18.6 against 15.5 ms in one ASan CI run)."""
        measured = m["offcpu_ns"]
        tolerance = max(0.10 * measured, 2_000_000)
        runq, steal, irq = (max(m.get(k, 0), 0) for k in ("runq_ns", "steal_ns", "irq_ns"))
        detail = (f"{what}: recorded {recorded_ns / 1e6:.2f} ms, the workload measured "
                  f"{measured / 1e6:.2f} ms off CPU (tolerance {tolerance / 1e6:.2f} ms) in "
                  f"{m['total_ns'] / 1e6:.2f} ms of wall time, with "
                  f"{runq / 1e6:.2f} ms on a run queue, and the CPUs "
                  f"{steal / 1e6:.2f} ms stolen and {irq / 1e6:.2f} ms in interrupts")
        self.assertLessEqual(recorded_ns, m["total_ns"] + tolerance, detail)
        self.assertLessEqual(recorded_ns, measured + runq + tolerance, detail)
        self.assertGreaterEqual(recorded_ns, measured - runq - steal - irq - tolerance, detail)

    def assert_stack_has(self, wait_class, syscall, target, function, measured_ns=None,
                         abs_ns=0):
        """The wait's folded stacks name `function`; with measured_ns, the time
        under it is within 10% (or abs_ns) of what the workload measured.
        Returns the time under it."""
        stacks = folded_for(self.folded, self.pid, wait_class, syscall, target)
        self.assertTrue(stacks, f"no folded stack for {wait_class} {syscall} {target}")
        under = [(f, v) for f, v in stacks if has_function(f, function)]
        self.assertTrue(under, f"{function} is in no stack of {wait_class} {syscall} {target}; "
                        f"stacks: {[';'.join(f) for f, _ in stacks]}")
        if measured_ns is not None:
            # A block whose switch-in the hook did not see is settled later,
            # without its stack (docs/design.md, "A block whose end we did
            # not see"; one 40-ms sleep in 8 recordings with two busy loops
            # beside them), and the recorder says so: its time is in the
            # wait's [stack unavailable] row instead.
            unstacked = sum(v for f, v in stacks if is_stackless(f))
            if unstacked:
                self.assert_stackless_announced(self.result.stderr, f"{wait_class} time")
            self.assert_total_close(sum(v for _, v in under) + unstacked, measured_ns,
                                    f"{wait_class} time under {function} (+{unstacked / 1e6:.2f} "
                                    f"ms without a stack)", abs_ns)
        return sum(v for _, v in under)


class KnownWaitsTest(KnownWaitsBase):
    """Every known wait is in report.json with its class, target and total, and
    the other outputs agree with it."""

    def test_report_validates(self):
        self.assert_valid_report(self.out)

    def test_hook_flavour(self):
        self.assertIn(f"BPF hooks attached ({self.HOOKS or 'sched'}", self.result.stderr)

    def test_nothing_lost(self):
        # A handful of waits fits every map and ring; anything counted here
        # (a full map, a ring reservation, a program run the kernel skipped)
        # would also explain a known wait missing below.
        self.assertEqual(self.report["loss"]["events_dropped"], 0, self.report["loss"])

    def test_target_is_listed(self):
        targets = [t for t in self.report["targets"] if t["pid"] == self.pid]
        self.assertEqual(len(targets), 1, self.report["targets"])
        self.assertEqual(targets[0]["comm"], "workload")
        self.assertEqual(os.path.realpath(targets[0]["exe"]), os.path.realpath(WORKLOAD))

    def test_fsync(self):
        m = self.measured["fsync"]
        w = self.one_row("disk", "fsync", self.measured["file"])
        self.assertEqual(w["count"], 20, f"{w}; loss: {self.report['loss']}")
        # waitscope counts off-CPU time, and ext4's fsync spends a machine-
        # dependent share of its wall time on CPU (40 % on one CI host): the
        # workload measures wall minus its thread's CPU time around each fsync.
        self.assert_offcpu_close(w["total_ns"], m, "fsync off-CPU")

    def test_socket_reads(self):
        m = self.measured["socket"]
        self.assertRegex(m["peer"], r"^127\.0\.0\.1:\d+$")
        w = self.one_row("net", "read", m["peer"])
        self.assertEqual(w["count"], 5, f"{w}; loss: {self.report['loss']}")
        self.assert_total_close(w["total_ns"], m["total_ns"], "socket reads")

    def test_futex(self):
        m = self.measured["futex"]
        w = self.one_row("lock", "futex", "-")
        # 3 mutex waits, plus possibly a short wait in pthread_join.
        self.assertGreaterEqual(w["count"], 3)
        self.assert_total_close(w["total_ns"], m["total_ns"], "futex")

    def test_page_faults_are_not_waits_of_a_syscall(self):
        m = self.measured["pagefault"]
        self.assertGreater(m["major_faults"], 0,
                           "the workload's page faults did not go to the disk: nothing tested")
        # A thread blocked in a page fault is in no syscall. Counted as one,
        # its time would join the next syscall's wait (the first sleep) or
        # show as a syscall the workload never made.
        made = {"fsync", "fdatasync", "read", "futex", "poll", "ppoll", "clock_nanosleep",
                "nanosleep", "accept", "accept4"}  # the blocking syscalls of these modes and their helpers
        # The modes' files are created, filled and deleted on ext4, whose
        # journal can hold these syscalls for as long as the faults took
        # (3 unlinks: 19.7 ms against 37.6 ms of faults on a busy CI disk).
        # Not listed: clock_gettime (the thread's CPU time), the syscall just
        # before the fault loop and just after it, where misattributed fault
        # time would land.
        made |= {"openat", "write", "fadvise64", "close", "unlink", "unlinkat"}
        faulted = [w for w in self.report["waits"]
                   if w["pid"] == self.pid and w["total_ns"] >= 0.5 * m["offcpu_ns"]
                   and w["syscall"] not in made | {"page_fault"}]
        self.assertEqual(faulted, [], f"page-fault time ({m['offcpu_ns'] / 1e6:.1f} ms off CPU, "
                         f"{m['major_faults']} major faults) reported as a syscall's wait")

    def test_page_faults(self):
        """Each block in a page fault is a disk wait of its own ("page_fault"),
        with the function that touched the pages in its stack."""
        m = self.measured["pagefault"]
        self.assertGreater(m["major_faults"], 0,
                           "the workload's page faults did not go to the disk: nothing tested")
        w = self.one_row("disk", "page_fault", "-")
        # A major fault blocks until its read completes, unless the read is
        # done before the thread sleeps (544 of 1024 blocked on one CI host):
        # compare with the voluntary context switches the workload counted
        # around its touch loop, which makes no syscall. The row also holds
        # the process's other faults (start-up).
        self.assertGreater(m["blocks"], 0, "no page fault blocked: nothing tested")
        self.assertGreaterEqual(w["count"], 0.9 * m["blocks"], (w, m))
        self.assertLessEqual(w["count"], 1.1 * m["blocks"] + 20, (w, m))
        # The workload measures the touch loop's wall time minus its CPU time.
        # That also holds time that is no wait: preemption, and the interrupts
        # that complete the reads, which the kernel does not charge to the
        # thread. It also leaves out wait: a thread woken on an idle CPU is
        # charged CPU time from its wake-up, not from when it runs (the run
        # queue's clock update is skipped at the switch that follows), so each
        # block's wake-up-to-run latency counts as CPU time there while
        # waitscope counts it as blocked. That was 2.7-3.9 us per block on the
        # development VM (the scheduler's sum_exec_runtime against waitscope's
        # own switch times, docs/design.md "What counts as a wait"), where
        # waitscope recorded 109-114 % of the workload's figure. So: at least
        # half of it, and for the faults under workload_touch_pages no more
        # than it +5 %, 1 ms and 10 us per block. An ASan-built workload saw
        # up to 1.27x (before this allowance), so the bound there is 1.5x.
        # The row also holds the process's other faults (start-up, ~2 ms
        # under ASan). On a busy machine the thread's CPU time also drifts
        # from waitscope's clock (assert_offcpu_close): 232.8 ms recorded
        # against 206.0 ms with two busy loops beside the test. So the
        # run-queue time is allowed on top, and the loop's wall time, in
        # waitscope's own clock, bounds it too.
        measured = m["offcpu_ns"]
        with open(WORKLOAD, "rb") as f:
            asan = b"libasan.so" in f.read()
        under = sum(v for f, v in folded_for(self.folded, self.pid, "disk", "page_fault", "-")
                    if has_function(f, "workload_touch_pages"))
        wake_allowance = m["blocks"] * 10_000
        runq, steal, irq = (max(m[k], 0) for k in ("runq_ns", "steal_ns", "irq_ns"))
        # (+5 % and 2 ms: the socket mode's one fault is under the same
        # function, outside the loop.)
        self.assertLessEqual(under, 1.05 * m["total_ns"] + 2_000_000,
                             f"page-fault waits under workload_touch_pages: {under / 1e6:.2f} ms "
                             f"recorded, more than the touch loop's {m['total_ns'] / 1e6:.2f} ms "
                             f"of wall time")
        self.assertLessEqual(under,
                             (1.5 if asan else 1.05) * measured + wake_allowance + runq + 1_000_000,
                             f"page-fault waits under workload_touch_pages: {under / 1e6:.2f} ms "
                             f"recorded, more than the {measured / 1e6:.2f} ms the workload "
                             f"spent off CPU (+{wake_allowance / 1e6:.2f} ms for "
                             f"{m['blocks']} wake-ups, +{runq / 1e6:.2f} ms on a run queue)")
        # The lower bound leaves out what of that time was surely no block:
        # the thread's wait on a run queue, and the steal and interrupt time
        # of every CPU (a hypervisor running another guest; interrupts the
        # thread's CPU time leaves out). 30 ms off CPU against 8-10 ms
        # recorded in two CI runs of the ASan build, before they were taken
        # out; 41-53 ms against 48-57 ms by hand.
        blocked_at_least = measured - runq - steal - irq
        for what, recorded in (("page-fault waits", w["total_ns"]),
                               ("page-fault waits under workload_touch_pages", under)):
            self.assertGreaterEqual(recorded, 0.5 * blocked_at_least,
                                    f"{what}: {recorded / 1e6:.2f} ms recorded, the workload "
                                    f"spent {measured / 1e6:.2f} ms off CPU, of which "
                                    f"{runq / 1e6:.2f} ms on a run queue, and the CPUs "
                                    f"{steal / 1e6:.2f} ms stolen and {irq / 1e6:.2f} ms "
                                    f"in interrupts")

    def test_page_fault_stack_has_no_stale_callers(self):
        """A fault's stack is the frame-pointer walk from the faulting
        function, plus its caller when that function set up no frame (GCC's
        leaf functions, like workload_touch_pages) and the return address at
        the stack pointer checks out; nothing else. Earlier phases leave
        return addresses on the main thread's stack (into pthread_create
        after the futex phase, into workload_sleeps after the sleeps), which
        a scan of the stack's top once added as callers."""
        stacks = [(f, v) for f, v in folded_for(self.folded, self.pid, "disk", "page_fault", "-")
                  if has_function(f, "workload_touch_pages") and has_function(f, "main")]
        self.assertTrue(stacks, "no page-fault stack from main to workload_touch_pages")

        # The two call paths into the faulting function (workload.cc keeps
        # every function on them out of line).
        paths = (("RunPageFaults", "workload_touch_pages"),
                 ("RunSocket", "workload_socket_reads", "workload_touch_pages"))
        for frames, _ in stacks:
            chain = frames_below_main(frames)
            ok = any(len(chain) == len(path) and all(map(is_function, chain, path))
                     for path in paths)
            self.assertTrue(ok, f"the frames between main and the faulting function are not "
                                f"one of its call paths {paths}: {chain}")

    def test_sleep(self):
        m = self.measured["sleep"]
        rows = row(self.report, self.pid, "sleep", ["clock_nanosleep", "nanosleep"])
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["target"], "-")
        self.assertEqual(rows[0]["count"], 5, f"{rows}; loss: {self.report['loss']}")
        self.assert_total_close(rows[0]["total_ns"], m["total_ns"], "sleep")

    def test_syscall_stack_has_no_stale_callers(self):
        """A syscall's stack is the frame-pointer walk plus the callers the
        scan of the stack's top finds between the syscall and the first frame
        with a frame pointer: here libc's nanosleep, then workload_sleeps.
        workload_plant_frames ran just before in the same stack memory and
        left return addresses into itself in workload_sleeps's locals, which
        the scan once added as callers."""
        stacks = [f for f, _ in folded_for(self.folded, self.pid, "sleep", "clock_nanosleep")
                  + folded_for(self.folded, self.pid, "sleep", "nanosleep")]
        # One sleep of a CI run of the ASan build had no stack (settled late).
        for frames in self.with_frames(stacks, self.result.stderr, "sleep"):
            self.assertTrue(has_function(frames, "main"), f"main is not in the sleep stack {frames}")
            chain = frames_below_main(frames)
            self.assertTrue(chain and is_function(chain[0], "workload_sleeps"),
                            f"workload_sleeps is not main's callee in {chain}")
            self.assertFalse(any(is_function(f, "workload_plant_frames") for f in frames),
                             f"a stale caller in the sleep stack {frames}")
            self.assertFalse(any(is_function(f, "workload_sleeps") for f in chain[1:]),
                             f"workload_sleeps twice in {chain}")

    def test_folded_matches_report(self):
        folded_total = sum(v for _, v in self.folded)
        report_total = sum(w["total_ns"] for w in self.report["waits"])
        self.assertEqual(folded_total, report_total)
        for frames, _ in self.folded:
            self.assertRegex(frames[0], r"^.+ \(\d+\)$")
            self.assertIn(frames[1], ("disk", "net", "db", "tls", "lock", "sleep", "poll", "pipe",
                                      "other"))

    def test_pprof_total_matches_report(self):
        types, samples = decode_pprof(os.path.join(self.out, "waits.pb.gz"))
        self.assertIn(("wait", "nanoseconds"), types)
        i = types.index(("wait", "nanoseconds"))
        self.assertTrue(samples)
        for s in samples:
            self.assertEqual(len(s), len(types))
        pprof_total = sum(s[i] for s in samples)
        report_total = sum(w["total_ns"] for w in self.report["waits"])
        self.assertGreater(report_total, 0)
        self.assertEqual(pprof_total, report_total)

    def test_go_tool_pprof_opens_profile(self):
        """The real pprof reads waits.pb.gz: types, totals and function names."""
        go = shutil.which("go")
        if not go:
            self.skipTest("*** go is not installed (tools/install-deps.sh --test installs "
                          "golang-go); cannot check waits.pb.gz with go tool pprof ***")
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, HOME=home, GOCACHE=os.path.join(home, "cache"),
                       GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
            res = subprocess.run([go, "tool", "pprof", "-top", "-cum", "-nodecount=500",
                                  "-sample_index=wait", os.path.join(self.out, "waits.pb.gz")],
                                 capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("Type: wait", res.stdout)
        self.assertIn("workload_socket_reads", res.stdout)
        self.assertIn("workload_sleeps", res.stdout)

    def test_flamegraph_svg_parses(self):
        root = ET.parse(os.path.join(self.out, "flamegraph.svg")).getroot()
        self.assertTrue(root.tag.endswith("svg"), root.tag)
        text = "".join(root.itertext())
        self.assertIn("workload_socket_reads", text)


class SyscallTracepointKnownWaitsTest(KnownWaitsTest):
    """The same checks with the tp_btf programs (sys_exit and sched_switch),
    the flavour for kernels without the sched flavour's needs (6.18's
    bpf_task_work, x86-64): this kernel never falls back to it by itself."""

    HOOKS = "tp_btf"


class RawTracepointKnownWaitsTest(KnownWaitsTest):
    """The same checks with the raw_tp programs, the fallback for kernels that
    cannot attach tp_btf: this kernel never falls back by itself, so without
    this run those programs would only ever be verified, never executed."""

    HOOKS = "raw_tp"

    def test_page_faults(self):
        # The raw_tp fallback reads no task's registers at sched_switch, so
        # it does not follow page faults (docs/design.md).
        self.assertEqual(row(self.report, self.pid, "disk", "page_fault"), [])

    def test_page_fault_stack_has_no_stale_callers(self):
        self.assertEqual(row(self.report, self.pid, "disk", "page_fault"), [])


class KnownWaitStacksTest(KnownWaitsBase):
    """The folded stacks of each known wait name the workload function that
    blocked (frames between the class and the leaf), and nearly all of the
    wait's time is under it."""

    # A stack for every wait: fsyncs on this VM's disk are often under 1 ms.
    MIN_BLOCK = "0"

    def test_fsync_stack(self):
        under = self.assert_stack_has("disk", "fsync", self.measured["file"],
                                      "workload_fsync_loop")
        self.assert_offcpu_close(under, self.measured["fsync"],
                                 "fsync off-CPU under workload_fsync_loop")

    def test_socket_reads_stack(self):
        m = self.measured["socket"]
        self.assert_stack_has("net", "read", m["peer"], "workload_socket_reads", m["total_ns"])

    def test_futex_stack(self):
        m = self.measured["futex"]
        self.assert_stack_has("lock", "futex", "-", "workload_lock_wait", m["total_ns"])

    def test_sleep_stack(self):
        m = self.measured["sleep"]
        w = row(self.report, self.pid, "sleep", ["clock_nanosleep", "nanosleep"])
        self.assertTrue(w)
        self.assert_stack_has("sleep", w[0]["syscall"], "-", "workload_sleeps", m["total_ns"])


class StackThresholdMidSyscallTest(KnownWaitsBase):
    """A --min-block shorter than an fsync but longer than one of its blocks:
    ext4's fsync leaves the CPU about three times here, so an fsync tends to
    reach the threshold at a later block. Without sys_exit (the sched
    flavour) its earlier blocks were already added without a stack when that
    happens; they must be moved to the stacked wait, not counted twice."""

    MIN_BLOCK = "40us"

    def test_each_fsync_counts_once(self):
        m = self.measured["fsync"]
        w = self.one_row("disk", "fsync", self.measured["file"])
        # ci-run34 once got 21: a block whose switch-in was found late, after
        # the stack task work had counted the wait (fixed in f922a1e). On a
        # failure, the rows by stack and the recorder's notes (unseen
        # switch-ins, stack errors) say which path counted twice.
        stacks = [(frames[-3:], ns) for frames, ns in
                  folded_for(self.folded, self.pid, "disk", "fsync", self.measured["file"])]
        notes = [line for line in self.result.stderr.splitlines()
                 if "libbpf" not in line and ("info:" in line or "warn" in line)]
        self.assertEqual(w["count"], 20, f"{w}; fsync stacks (leaf frames, ns): {stacks}; "
                         f"recorder notes: {notes}; workload measured: {m}")
        # Counted twice, blocks would show as more than the workload measured.
        self.assert_offcpu_close(w["total_ns"], m, "fsync off-CPU")


class BogusFramePointerTest(WaitscopeTestCase):
    """Code built without frame pointers uses rbp as a register, so at a
    syscall it may point at anything on the stack; the kernel's frame-pointer
    walk then reads locals for return addresses. The workload's bogus-rbp
    mode sleeps with rbp at a fake frame whose return address is the number
    0x2faf080: that walk is dropped (its first return address follows no
    call instruction), and the scan of the stack's top finds the real
    callers. Once the stack was `[unknown] 0x2faf080;workload_sleep_bogus_rbp`."""

    @classmethod
    def setUpClass(cls):
        check_bpf_or_skip()
        if platform.machine() != "x86_64":
            raise unittest.SkipTest(f"bogus-rbp is x86-64 assembly; this is {platform.machine()}")
        # The sleeps after keep the process alive while its stacks are named.
        cls.record_workload_stacks("bogus-rbp", "sleep")

    def test_walk_from_a_bogus_frame_pointer_is_dropped(self):
        stacks = [f for f, _ in folded_for(self.folded, self.pid, "sleep", "nanosleep")]
        for frames in self.with_frames(stacks, self.result.stderr, "nanosleep"):
            self.assertFalse(any("0x2faf080" in f for f in frames),
                             f"the fake frame's number is a frame of {frames}")
            chain = frames_below_main(frames) if has_function(frames, "main") else []
            self.assertTrue(
                len(chain) == 2 and is_function(chain[0], "workload_bogus_rbp_sleeps")
                and is_function(chain[1], "workload_sleep_bogus_rbp"),
                f"not main, workload_bogus_rbp_sleeps, workload_sleep_bogus_rbp: {frames}")


class DeepStackTest(WaitscopeTestCase):
    """A wait 100 calls below main is deeper than the kernel's stack walk
    goes: its stack keeps the frames nearest the wait and says at its root
    that the rest was cut (it used to start at a middle frame, with nothing
    to tell). A shallow stack in the same run has no such frame."""

    @classmethod
    def setUpClass(cls):
        check_bpf_or_skip()
        cls.record_workload_stacks("deep-sleep", "sleep")

    def test_a_cut_stack_says_so_at_its_root(self):
        stacks = [f for f, _ in folded_for(self.folded, self.pid, "sleep", "clock_nanosleep")
                  + folded_for(self.folded, self.pid, "sleep", "nanosleep")]
        stacked = self.with_frames(stacks, self.result.stderr, "sleep")
        deep = [f for f in stacked if any(is_function(x, "workload_deep_sleeps") for x in f)]
        shallow = [f for f in stacked if any(is_function(x, "workload_sleeps") for x in f)]
        self.assertTrue(deep and shallow, f"expected both kinds of sleep stacks: {stacked}")
        for frames in deep:
            self.assertEqual(frames[2], "[stack cut: deeper than the walk]", frames)
            self.assertFalse(has_function(frames, "main"), f"main is 100 calls out: {frames}")
        for frames in shallow:
            self.assertNotIn("[stack cut: deeper than the walk]", frames)
            self.assertTrue(has_function(frames, "main"), frames)


class ReusedInodeTest(WaitscopeTestCase):
    """A file is fsynced and deleted, then a new file in the same directory is
    fsynced by the same thread: ext4 gives the new file the deleted one's inode
    number, and the kernel likely hands out the same struct file. They are
    still two targets, each with its own name and count."""

    @classmethod
    def setUpClass(cls):
        check_bpf_or_skip()
        cls.tmp = cls.make_class_tmp()
        out = os.path.join(cls.tmp, "report")
        summary_path = os.path.join(cls.tmp, "workload.json")
        result = ws("record", "-o", out, "--", WORKLOAD, summary_path, "reuse-inode",
                    env=dict(os.environ, WORKLOAD_DIR=cls.tmp))
        if result.returncode != 0:
            raise AssertionError(f"waitscope record failed (exit {result.returncode}):\n"
                                 f"{result.stderr}")
        with open(summary_path, encoding="utf-8") as f:
            cls.measured = json.load(f)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            cls.report = json.load(f)

    def test_each_file_keeps_its_name_and_count(self):
        pid = self.measured["pid"]
        fsyncs = {w["target"]: w["count"] for w in row(self.report, pid, "disk", "fsync")}
        old, new = self.measured["reuse_old"], self.measured["reuse_new"]
        self.assertEqual(fsyncs, {old["file"]: old["count"], new["file"]: new["count"]})
        if old["ino"] != new["ino"]:
            self.skipTest(f"the file system under {self.tmp} gave the new file another inode "
                          f"number ({old['ino']} -> {new['ino']}): reuse was not exercised")


# ---- the README quick start's demo ---------------------------------------------------------


class DemoTest(WaitscopeTestCase):
    """The bundled demo (tools/demo/slow_service) under `waitscope record`, as the
    README's first command runs it: every lookup it made appears as a statement,
    one in four is a cache miss, and its waits on the lookup are class db."""

    @classmethod
    def setUpClass(cls):
        check_bpf_or_skip()
        cls.out = cls.make_class_tmp()
        cls.result = ws("record", "-q", "-o", cls.out, "--", DEMO, "2", "3")
        m = re.search(r"served (\d+) requests", cls.result.stdout)
        cls.served = int(m.group(1)) if m else None

    def test_demo_ran_and_report_is_valid(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertIsNotNone(self.served, self.result.stdout)
        self.assertGreater(self.served, 0)
        self.report = self.assert_valid_report(self.out)

    def test_every_lookup_is_a_statement(self):
        report = self.assert_valid_report(self.out)
        gets = [q for q in report["queries"] if q["statement"] == "GET order:?"]
        # The demo is both the client and the database: one row per side.
        self.assertEqual(sorted(q["count"] for q in gets), [self.served, self.served], gets)
        for q in gets:
            self.assertEqual(q["errors"], 0)
            self.assertGreaterEqual(q["latency_us"]["p50"], 20000 * 0.9)  # the 20 ms answer

    def test_cache_misses_are_the_ids_divisible_by_four(self):
        report = self.assert_valid_report(self.out)
        client = [c for c in report["cache"] if not c["peer"].endswith(":0")]
        self.assertEqual(len(client), 1, report["cache"])
        self.assertEqual(client[0]["reads"], self.served)
        self.assertEqual(client[0]["misses"], (self.served + 3) // 4)  # ids 0, 4, 8, ...

    def test_lookup_waits_are_database_waits(self):
        report = self.assert_valid_report(self.out)
        db = [w for w in report["waits"] if w["class"] == "db"]
        self.assertTrue(db, "no db-class waits")
        self.assertGreaterEqual(sum(w["count"] for w in db), self.served)


# ---- processes: attach, exit, children, Ctrl-C ------------------------------------------


class ProcessTests(WaitscopeTestCase):

    @classmethod
    def setUpClass(cls):
        check_bpf_or_skip()

    def test_attach_by_pid(self):
        tmp = self.make_tmp()
        _, pid = self.start_workload(os.path.join(tmp, "w.json"), "spin", "30")
        out = os.path.join(tmp, "report")
        r = ws("record", "-q", "-p", str(pid), "--duration", "2s", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        report = self.assert_valid_report(out)
        self.assertIn({"pid": pid, "comm": "workload"},
                      [{"pid": t["pid"], "comm": t["comm"]} for t in report["targets"]])
        sleeps = row(report, pid, "sleep", ["clock_nanosleep", "nanosleep"])
        self.assertEqual(len(sleeps), 1, report["waits"])
        self.assertEqual(sleeps[0]["comm"], "workload")
        # The workload sleeps 20 ms at a time, nearly all of the 2 s; a single
        # thread cannot be blocked longer than the recording lasted.
        total_s = sleeps[0]["total_ns"] / 1e9
        self.assertGreaterEqual(total_s, 0.75 * report["duration_s"], sleeps)
        self.assertLessEqual(total_s, report["duration_s"] + 0.05, sleeps)
        self.assertGreaterEqual(sleeps[0]["count"], 30, sleeps)

    def test_attach_by_thread_id_traces_its_process(self):
        # A thread id (from `top -H`, a JVM thread dump) names its process.
        script = ("import threading, time\n"
                  "def sleeper():\n"
                  "    print(threading.get_native_id(), flush=True)\n"
                  "    while True:\n"
                  "        time.sleep(0.02)\n"
                  "threading.Thread(target=sleeper, daemon=True).start()\n"
                  "time.sleep(120)\n")
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        self.addCleanup(kill_quietly, proc)
        tid = int(LineReader(proc.stdout).wait_for(r"^\d+$", timeout=10).group(0))
        self.assertNotEqual(tid, proc.pid)
        out = os.path.join(self.make_tmp(), "report")
        r = ws("record", "-q", "-p", str(tid), "--duration", "2s", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"-p {tid} is a thread of PID {proc.pid} (python3): tracing that process",
                      r.stderr)
        report = self.assert_valid_report(out)
        self.assertEqual([t["pid"] for t in report["targets"]], [proc.pid])
        sleeps = row(report, proc.pid, "sleep", ["clock_nanosleep", "nanosleep", "select"])
        self.assertGreaterEqual(sum(w["count"] for w in sleeps), 30, report["waits"])

    def test_process_exits_mid_recording(self):
        tmp = self.make_tmp()
        summary = os.path.join(tmp, "w.json")
        wl, pid = self.start_workload(summary, "wait-stdin", "spin", "1", stdin=subprocess.PIPE)
        out = os.path.join(tmp, "report")
        rec = subprocess.Popen([WAITSCOPE, "-v", "record", "-q", "-p", str(pid), "-o", out],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(kill_quietly, rec)
        err = LineReader(rec.stderr)
        # Logged once the pid is in the traced set (the hooks are attached before).
        self.assertIsNotNone(err.wait_for(rf"tracing pid {pid}\b", timeout=30),
                             f"waitscope did not start tracing pid {pid}: {err.text()}")
        wl.stdin.write("go\n")
        wl.stdin.close()
        self.assertEqual(wl.wait(timeout=20), 0)
        try:
            rc = rec.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("waitscope -p did not end after its only process exited")
        stderr = err.text(wait_eof_s=5)
        self.assertEqual(rc, 0, stderr)
        self.assertIn("every traced process exited", stderr)

        with open(summary, encoding="utf-8") as f:
            measured = json.load(f)["spin"]
        report = self.assert_valid_report(out)
        targets = [t for t in report["targets"] if t["pid"] == pid]
        self.assertEqual(len(targets), 1, report["targets"])
        self.assertEqual(targets[0]["comm"], "workload")
        self.assertEqual(os.path.realpath(targets[0]["exe"]), os.path.realpath(WORKLOAD))
        sleeps = row(report, pid, "sleep", ["clock_nanosleep", "nanosleep"])
        self.assertEqual(len(sleeps), 1, report["waits"])
        # The spin loop started after the pid was in the traced set: every
        # sleep is seen (one spare for a kernel that delays the bitmap
        # store's visibility to the other CPU), and none is invented.
        count, total_ns = sleeps[0]["count"], sleeps[0]["total_ns"]
        self.assertLessEqual(count, measured["count"], sleeps)
        self.assertGreaterEqual(count, measured["count"] - 1, (sleeps, measured))
        self.assertLessEqual(total_ns, measured["total_ns"] * 1.02, (sleeps, measured))
        self.assertGreaterEqual(total_ns, measured["total_ns"] * count / measured["count"] * 0.9,
                                (sleeps, measured))
        # The stacks were symbolized although the process (and its maps) is gone.
        stacks = folded_for(parse_folded(os.path.join(out, "waits.folded")), pid, "sleep",
                            sleeps[0]["syscall"])
        # About one run in 30 settles a sleep without its stack.
        for frames in self.with_frames([f for f, _ in stacks], stderr, "sleep"):
            self.assertTrue(any(f == "main" for f in frames[2:-1]),
                            f"stack not symbolized: {';'.join(frames)}")

    def test_child_processes(self):
        tmp = self.make_tmp()
        a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
        wl = shlex.quote(WORKLOAD)
        script = f"{wl} {shlex.quote(a)} sleep & {wl} {shlex.quote(b)} sleep; wait"
        out = os.path.join(tmp, "report")
        r = ws("record", "-q", "-o", out, "--", "sh", "-c", script)
        self.assertEqual(r.returncode, 0, r.stderr)
        report = self.assert_valid_report(out)
        for path in (a, b):
            with open(path, encoding="utf-8") as f:
                measured = json.load(f)
            pid = measured["pid"]
            self.assertIn({"pid": pid, "comm": "workload"},
                          [{"pid": t["pid"], "comm": t["comm"]} for t in report["targets"]])
            sleeps = row(report, pid, "sleep", ["clock_nanosleep", "nanosleep"])
            self.assertEqual(len(sleeps), 1, report["waits"])
            self.assertEqual(sleeps[0]["count"], 5)
            self.assertLessEqual(abs(sleeps[0]["total_ns"] - measured["sleep"]["total_ns"]),
                                 0.10 * measured["sleep"]["total_ns"])

    def test_ctrl_c_writes_report(self):
        self.assert_signal_writes_report(signal.SIGINT, "interrupted")

    def test_hangup_and_quit_write_report(self):
        """A closed terminal (SIGHUP) or Ctrl-\\ (SIGQUIT) ends the recording
        as Ctrl-C does; both used to end waitscope with no report, leaving
        the command running."""
        for sig, reason in ((signal.SIGHUP, "hung up"), (signal.SIGQUIT, "interrupted")):
            with self.subTest(signal=sig.name):
                self.assert_signal_writes_report(sig, reason)

    def assert_signal_writes_report(self, sig, reason):
        tmp = self.make_tmp()
        out = os.path.join(tmp, "report")
        rec = subprocess.Popen(
            [WAITSCOPE, "-v", "record", "-q", "-o", out, "--", WORKLOAD,
             os.path.join(tmp, "w.json"), "spin", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(kill_quietly, rec)
        out_lines, err = LineReader(rec.stdout), LineReader(rec.stderr)
        m = out_lines.wait_for(r"^ready (\d+)$", timeout=30)
        self.assertIsNotNone(m, f"the workload did not start: {err.text()}")
        workload_pid = int(m.group(1))
        self.addCleanup(kill_quietly, workload_pid)  # if waitscope left it running
        # Let a few of its 20 ms sleeps complete (each is a voluntary context
        # switch) before interrupting.
        start = voluntary_switches(workload_pid)
        deadline = time.monotonic() + 10
        while voluntary_switches(workload_pid) < start + 5:
            self.assertLess(time.monotonic(), deadline, "the workload does not sleep")
            time.sleep(0.02)
        t0 = time.monotonic()
        rec.send_signal(sig)
        # The report (symbols, pprof, SVG) is written before the exit; 15 s
        # leaves room for the sanitizer build on a loaded machine.
        try:
            rc = rec.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail(f"waitscope did not exit within 15 s of {sig.name}")
        self.assertLess(time.monotonic() - t0, 15)
        stderr = err.text(wait_eof_s=5)
        self.assertEqual(rc, 0, stderr)
        self.assertRegex(stderr, rf"recorded [0-9.]+s \({reason}\); report in ")
        # Only waitscope got the signal (not the terminal's process group): it
        # ended its command itself, and reaped it.
        self.assertIn("ended the command, still running: it was killed by SIGTERM", stderr)
        self.assertFalse(os.path.exists(f"/proc/{workload_pid}"), "the command outlived waitscope")
        report = self.assert_valid_report(out)
        self.assertIn(workload_pid, [t["pid"] for t in report["targets"]])
        sleeps = row(report, workload_pid, "sleep", ["clock_nanosleep", "nanosleep"])
        self.assertEqual(len(sleeps), 1, report["waits"])
        self.assertGreaterEqual(sleeps[0]["count"], 1)
        for name in ("report.txt", "waits.folded", "waits.pb.gz", "flamegraph.svg"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)

    def test_duration_ends_a_command_that_ignores_sigterm(self):
        tmp = self.make_tmp()
        out = os.path.join(tmp, "report")
        pid_file = os.path.join(tmp, "pid")
        script = ("import os, signal, sys, time\n"
                  "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                  "open(sys.argv[1], 'w').write(str(os.getpid()))\n"
                  "time.sleep(120)\n")
        r = ws("record", "-q", "--duration", "2", "-o", out, "--", sys.executable, "-c", script,
               pid_file, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("duration reached", r.stderr)
        self.assertIn("ended the command, still running: it was killed by SIGKILL", r.stderr)
        with open(pid_file) as f:
            pid = int(f.read())
        self.addCleanup(kill_quietly, pid)  # if waitscope left it running
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "the command outlived waitscope")
        self.assert_valid_report(out)

    def test_rerun_into_a_directory_removes_request_profiles_it_did_not_write(self):
        # requests.* exist only when requests were attributed; a recording
        # without any, written where one with requests was, must not leave
        # that one's flame graph beside its own report.
        out = os.path.join(self.make_tmp(), "report")
        os.makedirs(out)
        for name in ("requests.folded", "requests.pb.gz", "requests.svg", "notes.txt"):
            with open(os.path.join(out, name), "w") as f:
                f.write("from an earlier recording\n")
        r = ws("record", "-q", "-o", out, "--", "/bin/true")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_valid_report(out)
        left = set(os.listdir(out))
        self.assertFalse(left & {"requests.folded", "requests.pb.gz", "requests.svg"}, left)
        self.assertIn("notes.txt", left, "a file waitscope does not write is the user's")

    def test_exit_status_is_the_commands_own(self):
        # As time(1) and strace(1): `waitscope record -- make test` fails when
        # the tests fail, and the report is still written.
        for script, want, said in (("exit 3", 3, "exited with status 3"),
                                   ("kill -TERM $$", 128 + signal.SIGTERM, "was killed by SIGTERM"),
                                   ("exit 0", 0, "exited with status 0")):
            with self.subTest(script=script):
                out = os.path.join(self.make_tmp(), "report")
                r = ws("record", "-q", "-o", out, "--", "/bin/sh", "-c", script)
                self.assertEqual(r.returncode, want, r.stderr)
                self.assertIn(f"(the command {said}); report in", r.stderr)
                self.assert_valid_report(out)

    def test_command_not_found(self):
        """A command that never ran exits as a shell says (127: not found,
        126: cannot run), so a script tells it from one that ran and failed."""
        tmp = self.make_tmp()
        r = ws("record", "-q", "-o", os.path.join(tmp, "out"), "--", "/nonexistent/prog")
        self.assert_one_error_line(r, "/nonexistent/prog")
        self.assertEqual(r.returncode, 127, r.stderr)
        not_executable = os.path.join(tmp, "notes.txt")
        with open(not_executable, "w", encoding="utf-8") as f:
            f.write("not a program\n")
        os.chmod(not_executable, 0o644)
        r = ws("record", "-q", "-o", os.path.join(tmp, "out"), "--", not_executable)
        self.assert_one_error_line(r, not_executable, "Permission denied")
        self.assertEqual(r.returncode, 126, r.stderr)


# ---- main ------------------------------------------------------------------------------


def main():
    missing = [name for name, value in (("WAITSCOPE_BIN", WAITSCOPE), ("WORKLOAD_BIN", WORKLOAD),
                                        ("REPORT_SCHEMA", SCHEMA),
                                        ("REPORT_VALIDATOR", VALIDATOR)) if not value]
    if missing:
        print(f"test_record.py: set {', '.join(missing)} (see tests/bpf/CMakeLists.txt)",
              file=sys.stderr)
        return 2
    prog = unittest.main(argv=sys.argv, exit=False, verbosity=2)
    return exit_status(prog.result, "BPF")


def exit_status(result, what, reasons=()):
    """The exit code of a test file: 1 if a test failed; SKIP_EXIT_CODE if any
    test was skipped (ctest then shows the file as skipped, not passed), with
    every reason printed; 0 if all ran and passed."""
    if not result.wasSuccessful():
        return 1
    reasons = list(dict.fromkeys(list(reasons) + [reason for _, reason in result.skipped]))
    for reason in reasons:
        print(f"\n*** {what} tests SKIPPED: {reason} ***", file=sys.stderr)
    return SKIP_EXIT_CODE if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
