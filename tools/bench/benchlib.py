"""Helpers shared by the benchmark scripts in tools/bench (standard library only)."""
import datetime
import os
import platform
import socket
import subprocess
import sys
import time


def make_log(prefix):
    """A logger writing "[prefix] msg" to stderr, unbuffered."""
    def log(msg):
        print(f"[{prefix}] {msg}", file=sys.stderr, flush=True)
    return log


def find_binary(explicit, candidates):
    """The explicit path, or the first executable candidate; exits if none."""
    if explicit:
        return os.path.abspath(explicit)
    for c in candidates:
        if os.path.exists(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    sys.exit(f"cannot find {candidates[0]}; pass it explicitly")


def machine_info():
    """What a reader needs to judge the numbers: CPUs, model, memory, kernel, load."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu_model": cpu,
        "mem_gib": round(mem_kib / 1024 / 1024, 1),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_at_start": load,
    }


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server on 127.0.0.1 and a free port, without persistence, logging to
    DIR/redis.log; the constructor returns once it answers PING."""

    def __init__(self, binary, tmp):
        self.port = free_port()
        self.log = open(os.path.join(tmp, "redis.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", tmp],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited at start; see redis.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("redis-server did not answer PING")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
