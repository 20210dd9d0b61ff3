#!/usr/bin/python3
"""BPF integration tests: `waitscope top`, the live view.

Runs the real waitscope binary (root, tracepoint BPF) against
tests/testprogs/workload in "spin" mode (nanosleep 20 ms in a loop, so a
"sleep" wait every refresh):
  - with stdout a pipe: `top -n 3 -p PID` prints three plain text blocks, no
    escape codes, naming the workload and its sleep waits;
  - under a pseudo-terminal of 80x24 with TERM=xterm: the screen shows every
    section within 80 columns and 24 rows, keys change sort and focus, a
    resize redraws at the new size, `q` (or Ctrl-C) ends it quickly with exit
    code 0, and the terminal's mode is the same afterwards (stty -g).

Usage: test_top.py [unittest args]  (stdlib only; run with /usr/bin/python3)
Environment (set by tests/bpf/CMakeLists.txt): WAITSCOPE_BIN, WORKLOAD_BIN,
SKIP_EXIT_CODE. Exits 77 (skip) when BPF tracing is not possible here.
"""

import fcntl
import os
import re
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_record as tr  # noqa: E402  (ws, LineReader, skip probe, workload start)

SKIP_EXIT_CODE = tr.SKIP_EXIT_CODE
STARTUP_TIMEOUT_S = 30  # probe load and the first window on a busy machine
QUIT_SCREEN_S = 5.0     # q -> primary screen back (the sanitizer build on a busy machine)
QUIT_EXIT_S = 10.0      # q -> process gone (the probe's teardown detaches every program)

SECTION_TITLES = ("PROCESSES", "ENDPOINTS", "STATEMENTS", "PEERS", "FINDINGS")
CUP_ROW = re.compile(r"\x1b\[(\d+);1H\x1b\[2K")
SGR = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\?[0-9]+[hl]")


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def stty_g(fd):
    """`stty -g` of the terminal on fd, as a shell would see it."""
    return subprocess.run(["stty", "-g"], stdin=fd, capture_output=True, text=True,
                          check=True).stdout.strip()


class PtyOutput:
    """Reads a pty master on a thread; tests wait for patterns with timeouts."""

    def __init__(self, fd):
        self.fd = fd
        self.data = ""
        self._cond = threading.Condition()
        self._eof = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        decoder = __import__("codecs").getincrementaldecoder("utf-8")("replace")
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: every slave fd closed
                chunk = b""
            with self._cond:
                if not chunk:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self.data += decoder.decode(chunk)
                self._cond.notify_all()

    def wait_for(self, pattern, timeout, start=0):
        """The first match of `pattern` in the output from offset `start`,
        waiting up to `timeout` seconds; None when it did not come."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = regex.search(self.data, start)
                if m or self._eof:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def size(self):
        with self._cond:
            return len(self.data)


def frame_rows(text):
    """(row, visible text) of every row the view drew in `text`."""
    parts = CUP_ROW.split(text)
    rows = []
    for i in range(1, len(parts) - 1, 2):
        body = parts[i + 1].split("\x1b[?1049l")[0]  # stop at leaving the screen
        rows.append((int(parts[i]), SGR.sub("", body)))
    return rows


class TopCliTests(tr.WaitscopeTestCase):
    """Flag errors: one readable line and a non-zero exit; no BPF needed."""

    def test_help_mentions_every_flag(self):
        r = tr.ws("top", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for flag in ("-p", "--pid", "--interval", "--sort", "-n", "--iterations",
                     "--capture-bytes"):
            self.assertRegex(r.stdout, r"(^|[\s,])" + re.escape(flag) + r"\b")

    def test_unknown_sort_key(self):
        r = tr.ws("top", "--sort", "bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--sort", r.stderr)

    def test_negative_iterations(self):
        r = tr.ws("top", "-n", "-3")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--iterations", "'-3'")

    def test_pid_that_is_not_a_number(self):
        r = tr.ws("top", "-n", "1", "-p", "abc")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assert_one_error_line(r, "--pid", "'abc'", "process ID")

    def test_interval_too_short(self):
        r = tr.ws("top", "--interval", "10ms")
        self.assertEqual(r.returncode, 2)
        self.assertIn("100ms", r.stderr)

    def test_unknown_pid(self):
        pid = 999999
        while os.path.exists(f"/proc/{pid}"):
            pid += 1
        r = tr.ws("top", "-n", "1", "-p", str(pid))
        self.assert_one_error_line(r, str(pid))


class TopTestCase(tr.WaitscopeTestCase):
    def setUp(self):
        tr.check_bpf_or_skip()
        tmp = tempfile.mkdtemp(prefix="waitscope-top-", dir="/var/tmp")
        self.addCleanup(__import__("shutil").rmtree, tmp, ignore_errors=True)
        _, self.pid = self.start_workload(os.path.join(tmp, "w.json"), "spin", "60")


class TopPlainTextTest(TopTestCase):
    """stdout is a pipe: plain periodic text."""

    def test_three_blocks_with_the_workload_and_its_sleeps(self):
        r = tr.ws("top", "-n", "3", "-p", str(self.pid), timeout=STARTUP_TIMEOUT_S + 30)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertNotIn("\x1b", out, "escape codes in plain text output")
        blocks = [b for b in out.split("=== waitscope top ") if b.strip()]
        self.assertEqual(len(blocks), 3, out)
        self.assertTrue(out.startswith("=== waitscope top "), out)
        for block in blocks:
            for title in SECTION_TITLES:
                self.assertRegex(block, r"(?m)^" + title + r"\b", block)
        # The workload sleeps all the time: its row, with the sleep class,
        # is in every block after the first full window.
        row = re.compile(r"(?m)^workload \(" + str(self.pid) + r"\)\s+\S+.*\bsleep \d+%")
        self.assertRegex(blocks[-1], row, out)
        self.assertRegex(blocks[1], row, out)


class TopScreenTest(TopTestCase):
    """stdout is a terminal: the full-screen view on an 80x24 pty."""

    def start_top(self, *args):
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        set_winsize(slave, 24, 80)
        before = stty_g(slave)
        env = dict(os.environ, TERM="xterm")

        def make_controlling_tty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen([tr.WAITSCOPE, "top", *args], stdin=slave, stdout=slave,
                                stderr=slave, env=env, preexec_fn=make_controlling_tty)
        self.addCleanup(tr.kill_quietly, proc)
        out = PtyOutput(master)
        return proc, master, slave, out, before

    def assert_restored(self, proc, slave, out, before, sent_at):
        self.assertIsNotNone(out.wait_for(r"\x1b\[\?1049l", QUIT_SCREEN_S),
                             "the primary screen did not come back within "
                             f"{QUIT_SCREEN_S}s")
        screen_back = time.monotonic() - sent_at
        try:
            rc = proc.wait(timeout=QUIT_EXIT_S)
        except subprocess.TimeoutExpired:
            self.fail(f"waitscope top still running {QUIT_EXIT_S}s after quitting")
        exit_s = time.monotonic() - sent_at
        print(f"\n  screen restored after {screen_back:.2f}s, exit after {exit_s:.2f}s",
              file=sys.stderr)
        self.assertEqual(rc, 0, out.data[-2000:])
        self.assertEqual(stty_g(slave), before, "terminal mode not restored")
        os.close(slave)

    def test_sections_keys_resize_and_quit(self):
        proc, master, slave, out, before = self.start_top("-p", str(self.pid))
        self.assertIsNotNone(out.wait_for(r"\x1b\[\?1049h", STARTUP_TIMEOUT_S),
                             f"no alternate screen; output: {out.data!r}")
        # After the first window: the workload's row, with its sleeps.
        m = out.wait_for(r"workload \(" + str(self.pid) + r"\)[^\x1b]*sleep \d+%",
                         STARTUP_TIMEOUT_S)
        self.assertIsNotNone(m, f"no workload row; output: {out.data[-3000:]!r}")
        self.assertIsNotNone(out.wait_for(r"5 FINDINGS", 5, m.start()))
        frame = out.data[m.start():]
        for title in SECTION_TITLES:
            self.assertIn(title, out.data)
        rows = frame_rows(out.data)
        self.assertTrue(rows)
        for row, text in rows:
            self.assertLessEqual(row, 24)
            self.assertLessEqual(len(text), 80, f"row {row} wider than 80: {text!r}")
        self.assertNotIn("\n", frame.split("\x1b[?1049l")[0], "the view scrolled or wrapped")

        mark = out.size()
        os.write(master, b"s")
        self.assertIsNotNone(out.wait_for(r"sort count", 5, mark), "s did not change the sort")
        mark = out.size()
        os.write(master, b"3")
        self.assertIsNotNone(out.wait_for(r"focus statements", 5, mark), "3 did not focus")

        mark = out.size()
        set_winsize(slave, 30, 100)  # the kernel sends SIGWINCH to the foreground group
        self.assertIsNotNone(out.wait_for(r"\x1b\[30;1H", 5, mark), "no redraw at 100x30")
        for row, text in frame_rows(out.data[mark:]):
            self.assertLessEqual(row, 30)
            self.assertLessEqual(len(text), 100)

        sent_at = time.monotonic()
        os.write(master, b"q")
        self.assert_restored(proc, slave, out, before, sent_at)

    def test_ctrl_c_restores_the_terminal(self):
        proc, master, slave, out, before = self.start_top("-p", str(self.pid))
        self.assertIsNotNone(out.wait_for(r"1 PROCESSES", STARTUP_TIMEOUT_S),
                             f"no screen; output: {out.data!r}")
        self.assertNotEqual(stty_g(slave), before, "raw mode was not set")
        sent_at = time.monotonic()
        os.write(master, b"\x03")  # the line discipline turns it into SIGINT
        self.assert_restored(proc, slave, out, before, sent_at)


def main():
    missing = [name for name, value in (("WAITSCOPE_BIN", tr.WAITSCOPE),
                                        ("WORKLOAD_BIN", tr.WORKLOAD)) if not value]
    if missing:
        print(f"test_top.py: set {', '.join(missing)} (see tests/bpf/CMakeLists.txt)",
              file=sys.stderr)
        return 2
    prog = unittest.main(module=sys.modules[__name__], argv=sys.argv, exit=False, verbosity=2)
    return tr.exit_status(prog.result, "top")


if __name__ == "__main__":
    sys.exit(main())
