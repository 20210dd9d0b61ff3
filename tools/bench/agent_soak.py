#!/usr/bin/python3
"""Soak of `waitscope agent` (issue "production agent"): the agent runs with
the packaged default settings (every process traced, 60 s windows,
Prometheus on a free loopback port) while a steady Redis workload runs; RSS
is sampled every 10 s, CPU time at the end. Prints a Markdown section for
BENCHMARKS.md. Not a test.

  sudo /usr/bin/python3 tools/bench/agent_soak.py --minutes 30 \
      --waitscope build/agent/cli/waitscope [--markdown-out soak.md]

The workload: redis-server on 127.0.0.1 and `redis-benchmark -q -l` paced by
`--rps` (requests/s, through redis-benchmark's own loop with -n chunks).
Events/s is the agent's own count (waitscope_agent_events_total) over the
run; CPU per 1k events/s = agent CPU seconds per second / (events/s / 1000).
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

log = benchlib.make_log("agent_soak")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def metric(port, name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return float(line.rsplit(" ", 1)[1])
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--waitscope", default="")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--window", default="60s", help="the agent's window (default: the packaged 60s)")
    ap.add_argument("--clients", type=int, default=4, help="redis-benchmark connections")
    ap.add_argument("--markdown-out", default="")
    args = ap.parse_args()
    ws = benchlib.find_binary(args.waitscope, [os.path.join(REPO, "build/agent/cli/waitscope")])
    for tool in ("redis-server", "redis-benchmark"):
        if not shutil.which(tool):
            sys.exit(f"agent_soak: {tool} is missing (tools/install-deps.sh --test)")
    info = benchlib.machine_info()
    tmp = tempfile.mkdtemp(prefix="ws-soak-")
    procs = []
    redis = None
    try:
        redis = benchlib.RedisServer("redis-server", tmp)
        redis_port = redis.port
        metrics_port = benchlib.free_port()
        config = os.path.join(tmp, "waitscope.yaml")
        # The packaged defaults (packaging/waitscope.yaml sets every key to
        # them), with the window, the metrics port and the spool moved.
        with open(config, "w") as f:
            f.write(f"window: {args.window}\nexports:\n  prometheus:\n"
                    f"    listen: 127.0.0.1:{metrics_port}\nspool:\n  dir: {tmp}/spool\n")
        agent = subprocess.Popen([ws, "agent", "--config", config], stderr=open(os.path.join(tmp, "agent.log"), "w"))
        procs.append(agent)
        deadline = time.monotonic() + 30
        while metric(metrics_port, "waitscope_agent_memory_rss_bytes") is None:
            if time.monotonic() > deadline or agent.poll() is not None:
                sys.exit("agent_soak: the agent did not start serving /metrics; see " + tmp)
            time.sleep(0.5)
        load = subprocess.Popen(["redis-benchmark", "-p", str(redis_port), "-c", str(args.clients),
                                 "-l", "-q", "-t", "get,set", "-d", "64"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(load)
        log(f"agent pid {agent.pid}, redis on {redis_port}, {args.minutes:g} min, window {args.window}")
        start = time.monotonic()
        cpu0 = cpu_seconds(agent.pid)
        events0 = metric(metrics_port, "waitscope_agent_events_total") or 0
        samples = []  # (seconds, rss KiB)
        end = start + args.minutes * 60
        while time.monotonic() < end:
            samples.append((time.monotonic() - start, rss_kib(agent.pid)))
            time.sleep(min(10, max(0.1, end - time.monotonic())))
        samples.append((time.monotonic() - start, rss_kib(agent.pid)))
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(agent.pid) - cpu0
        events = (metric(metrics_port, "waitscope_agent_events_total") or 0) - events0
        dropped = metric(metrics_port, "waitscope_agent_events_dropped_total") or 0
        agent.send_signal(signal.SIGTERM)
        rc = agent.wait(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if redis:
            redis.stop()
    warm = [kib for t, kib in samples if t >= min(120, elapsed / 3)]
    first_half = warm[: len(warm) // 2] or warm
    second_half = warm[len(warm) // 2:] or warm
    events_per_s = events / elapsed
    cpu_share = cpu / elapsed
    per_1k = cpu_share / (events_per_s / 1000) if events_per_s else float("nan")
    out = []
    out.append(f"Run: {info['date']}; {info['nproc']} CPUs ({info['cpu_model']}), {info['mem_gib']} GiB, "
               f"kernel {info['kernel']}; load average at start {' '.join(info['loadavg_at_start'])}.\n")
    out.append(f"Command: `/usr/bin/python3 tools/bench/agent_soak.py --minutes {args.minutes:g} "
               f"--window {args.window}`\n")
    out.append("| measure | value |\n|---|---|")
    out.append(f"| duration | {elapsed / 60:.1f} min, agent exit code after SIGTERM {rc} |")
    out.append(f"| events handled | {events:.0f} ({events_per_s:.0f}/s), dropped (total) {dropped:.0f} |")
    out.append(f"| agent CPU | {cpu:.1f} s = {100 * cpu_share:.2f} % of one CPU; "
               f"{100 * per_1k:.3f} % of a CPU per 1k events/s |")
    out.append(f"| RSS after warm-up (median of samples from {min(120, elapsed / 3):.0f} s) | "
               f"first half {statistics.median(first_half) / 1024:.1f} MiB, "
               f"second half {statistics.median(second_half) / 1024:.1f} MiB, "
               f"max {max(warm) / 1024:.1f} MiB |")
    out.append("\nRSS samples every 10 s (MiB): " +
               " ".join(f"{kib / 1024:.0f}" for _, kib in samples))
    text = "\n".join(out) + "\n"
    print(text)
    if args.markdown_out:
        with open(args.markdown_out, "w") as f:
            f.write(text)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
