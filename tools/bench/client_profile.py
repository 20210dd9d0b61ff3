#!/usr/bin/python3
"""Where a traced client's added time goes, by kernel symbol (see BENCHMARKS.md).
With --profile server: where the untraced redis-server's added time goes while
waitscope records the client.

Standard library only; run as root; needs perf (cpu-clock sampling is enough).
Starts a redis-server on a free loopback port and a long `redis-benchmark -t get
-c 16 -P PIPELINE` against it, then, alternating, --runs times each:

  plain    perf record -e cpu-clock -g -p CLIENT for --seconds
  traced   the same with `waitscope record -p CLIENT` attached (default options)

(--profile server samples redis-server instead, in both; waitscope still records
the client, so the server only meets the hooks' untraced path.)

Commands are counted from redis INFO commandstats around each perf window, so
every symbol's samples are turned into CPU time per command; the sampled
process's main-thread context switches (/proc/PID/status) too. Per symbol, the
traced-minus-plain difference (medians over the runs) is then split in two:

  waitscope   samples in BPF programs and what only they call: bpf_prog_*,
              bpf_* / __bpf_* helpers and trampolines, hash-map, task-storage
              and ring-buffer internals, and syscall_exit_work (the slow exit
              path a sys_exit tracepoint forces on every syscall)
  the rest    every other symbol: the kernel's and the client's own code,
              running slower per command

This is a benchmark, not a test: nothing here belongs in ctest.

Example:
  sudo /usr/bin/python3 tools/bench/client_profile.py --waitscope build/agent/cli/waitscope
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RedisServer, find_binary, machine_info  # noqa: E402  (same directory)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WAITSCOPE_SYMBOL = re.compile(
    r"^(bpf_|__bpf_|__htab_|htab_|lookup_nulls_elem_raw|bpf_task_storage|"
    r"__bpf_ringbuf|ringbuf_|syscall_exit_work$)")


def redis_calls(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "commandstats"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"cmdstat_get:calls=(\d+)", out)
    return int(m.group(1)) if m else 0


def wait_attached(ws, timeout=30):
    """Until waitscope `ws` holds its BPF links (the hooks are attached)."""
    deadline = time.monotonic() + timeout
    while bpf_links(ws.pid) < 6:
        if time.monotonic() > deadline or ws.poll() is not None:
            raise RuntimeError("waitscope did not attach")
        time.sleep(0.05)


def bpf_links(pid):
    try:
        return sum(1 for fd in os.listdir(f"/proc/{pid}/fd")
                   if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf_link")
    except OSError:
        return 0


def context_switches(pid):
    """Voluntary plus involuntary context switches of `pid`'s main thread."""
    with open(f"/proc/{pid}/status") as f:
        return sum(int(line.split()[1]) for line in f
                   if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


def profile(pid, port, seconds, data):
    """(commands, context switches, {symbol: samples}) over one perf window of
    process `pid`."""
    before = redis_calls(port)
    switches = context_switches(pid)
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2999", "-g",
                    "-p", str(pid), "-o", data, "--", "sleep", str(seconds)],
                   capture_output=True, check=True)
    commands = redis_calls(port) - before
    switches = context_switches(pid) - switches
    report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "sym",
                             "--stdio", "-g", "none", "-F", "sample,sym"],
                            capture_output=True, text=True, check=True).stdout
    samples = {}
    for line in report.splitlines():
        m = re.match(r"\s*(\d+)\s+\[.\]\s+(\S+)", line)
        if m:
            samples[m.group(2)] = samples.get(m.group(2), 0) + int(m.group(1))
    return commands, switches, samples


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--waitscope", help="default: build/agent/cli/waitscope")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--pipeline", type=int, default=1, help="redis-benchmark -P")
    ap.add_argument("--top", type=int, default=12, help="symbols listed by added time")
    ap.add_argument("--profile", choices=("client", "server"), default="client",
                    help="the process perf samples; waitscope always records the client")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("client_profile.py: run as root (perf and BPF)")
    for tool in ("perf", "redis-server", "redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"client_profile.py: {tool} not found")
    waitscope = find_binary(args.waitscope, [os.path.join(REPO, "build/agent/cli/waitscope")])
    info = machine_info()
    print(f"Run: {info['date']}; {info['nproc']} CPUs ({info['cpu_model']}), kernel "
          f"{info['kernel']}; load average at start {' '.join(info['loadavg_at_start'])}",
          flush=True)

    tmp = tempfile.mkdtemp(prefix="ws-client-profile-")
    redis = None
    client = None
    try:
        redis = RedisServer("redis-server", tmp)
        port = redis.port
        client = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "get", "-c", "16",
                                   "-P", str(args.pipeline), "-n", "2000000000", "-q"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)  # connections made, steady state
        per_cmd = {"plain": [], "traced": []}  # [{symbol: ns per command}] per run
        totals = {"plain": [], "traced": []}
        switch_rate = {"plain": [], "traced": []}  # of the sampled process's main thread
        period_ns = 1e9 / 2999
        for run in range(args.runs):
            for config in ("plain", "traced"):
                ws = None
                if config == "traced":
                    ws = subprocess.Popen([waitscope, "record", "-q", "-o",
                                           os.path.join(tmp, f"r{run}"), "-p", str(client.pid)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    wait_attached(ws)
                    time.sleep(0.5)
                sampled = client.pid if args.profile == "client" else redis.proc.pid
                commands, switches, samples = profile(sampled, port, args.seconds,
                                            os.path.join(tmp, "perf.data"))
                if ws:
                    ws.send_signal(signal.SIGINT)
                    ws.wait(timeout=60)
                if commands <= 0:
                    raise RuntimeError("redis-benchmark made no progress")
                per_cmd[config].append({s: n * period_ns / commands for s, n in samples.items()})
                totals[config].append(sum(samples.values()) * period_ns / commands)
                switch_rate[config].append(switches / commands)
                print(f"run {run + 1} {config:6s}: {commands / args.seconds:9.0f} commands/s, "
                      f"{totals[config][-1]:7.0f} ns of {args.profile} CPU per command, "
                      f"{switch_rate[config][-1]:.3f} context switches per command", flush=True)

        def med(config, sym):
            return statistics.median(r.get(sym, 0.0) for r in per_cmd[config])

        symbols = set().union(*per_cmd["plain"], *per_cmd["traced"])
        delta = {s: med("traced", s) - med("plain", s) for s in symbols}
        ours = sum(d for s, d in delta.items() if WAITSCOPE_SYMBOL.match(s))
        plain_total = statistics.median(totals["plain"])
        traced_total = statistics.median(totals["traced"])
        added = traced_total - plain_total
        print()
        print(f"redis-benchmark -t get -c 16 -P {args.pipeline}, {args.runs} runs of "
              f"{args.seconds:g} s each config, medians")
        print()
        print(f"| | ns of {args.profile} CPU per command |")
        print("|---|---:|")
        print(f"| plain | {plain_total:.0f} |")
        print(f"| traced | {traced_total:.0f} |")
        print(f"| added | {added:+.0f} |")
        print(f"| of which in waitscope's BPF code and hooks | {ours:+.0f} |")
        print(f"| of which everywhere else | {added - ours:+.0f} |")
        print()
        print(f"Context switches of the {args.profile}'s main thread per command: plain "
              f"{statistics.median(switch_rate['plain']):.3f}, traced "
              f"{statistics.median(switch_rate['traced']):.3f}")
        print()
        print("| symbol | plain ns/command | traced ns/command | added |")
        print("|---|---:|---:|---:|")
        for s in sorted(symbols, key=lambda s: -delta[s])[:args.top]:
            mark = " (waitscope)" if WAITSCOPE_SYMBOL.match(s) else ""
            print(f"| `{s}`{mark} | {med('plain', s):.1f} | {med('traced', s):.1f} | "
                  f"{delta[s]:+.1f} |")
    finally:
        if client:
            client.kill()
            client.wait()
        if redis:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
