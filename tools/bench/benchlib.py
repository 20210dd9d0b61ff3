"""Helpers shared by the benchmark scripts in tools/bench (standard library only)."""
import datetime
import os
import platform
import sys


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
