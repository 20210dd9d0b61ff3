#!/usr/bin/python3
"""Splits waitscope's per-syscall cost (see BENCHMARKS.md, "Where the syscall cost comes from").

Runs `pingpong syscalls N` (getppid loop; or with --workload pingpong the 1-byte pipe
ping-pong, whose reads block; or with --workload sockets the same ping-pong over UNIX
socketpairs) pinned to one CPU, alternating, --runs rounds:
  baseline             nothing attached
  floor-empty          hook_floor mode 0: empty tp_btf sys_enter/sys_exit programs
  floor-exit-only      hook_floor mode 4: an empty sys_exit program, no sys_enter
  floor-switch-only    hook_floor mode 5: an empty sched_switch program, nothing else
  floor-sock-only      hook_floor mode 7: empty sock_send_length/sock_recv_length programs
                       (the sched flavour's wire hooks), nothing else
  floor-filter         hook_floor mode 1: pid_tgid + bitmap filter, never matches
  ws-untraced          waitscope record -p <sleeping process>
  floor-hash-upd-del   hook_floor mode 2 on the workload: ktime + hash update / lookup + delete
  floor-in-place       hook_floor mode 3 on the workload: ktime + in-place update of a per-thread entry
  ws-traced            waitscope record -p <the workload>
  floor-task-switch-other  hook_floor mode 6 on a sleeping process: an empty program on
                       per-task software context-switch perf events of another task
  floor-task-switch-self   hook_floor mode 6 on the workload (its threads inherit the event)
and prints the median ns/syscall (min..max) and the difference to baseline. Root only.
Usage: hook_floor.py [--build DIR] [--runs 5] [--syscalls 5000000]
                     [--workload getppid|pingpong|sockets]
                     [--round-trips 200000] [--configs a,b,...]
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import overhead  # noqa: E402  (same directory)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(overhead.REPO, "..", "build-bench"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--syscalls", type=int, default=5000000)
    ap.add_argument("--cpu", type=int, default=(os.cpu_count() or 1) - 1)
    ap.add_argument("--workload", choices=("getppid", "pingpong", "sockets"), default="getppid")
    ap.add_argument("--round-trips", type=int, default=200000,
                    help="round trips of pingpong or sockets")
    ap.add_argument("--configs", default="", help="comma list (default: all)")
    args = ap.parse_args()
    ws_bin = os.path.join(args.build, "agent", "cli", "waitscope")
    pp_bin = os.path.join(args.build, "tools", "bench", "pingpong")
    hf_bin = os.path.join(args.build, "tools", "bench", "hook_floor")
    tmp = tempfile.mkdtemp(prefix="hook-floor-")

    def start_stopped_workload():
        # Stopped before exec, so a tracer can be pointed at its pid first.
        work = {"getppid": f"syscalls {args.syscalls}",
                "pingpong": str(args.round_trips),
                "sockets": f"sockets {args.round_trips}"}[args.workload]
        return subprocess.Popen(
            ["bash", "-c", f'kill -STOP $$; exec {pp_bin} --cpu {args.cpu} {work}'],
            stdout=subprocess.PIPE, text=True)

    def wait_stopped(p):
        while True:
            with open(f"/proc/{p.pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "T":
                    return
            time.sleep(0.01)

    def run(config):
        wl = start_stopped_workload()
        wait_stopped(wl)
        tracer, sleeper = None, None
        if config.startswith("floor-"):
            mode = {"floor-empty": 0, "floor-filter": 1, "floor-hash-upd-del": 2, "floor-in-place": 3,
                    "floor-exit-only": 4, "floor-switch-only": 5, "floor-task-switch-other": 6,
                    "floor-task-switch-self": 6, "floor-sock-only": 7}[config]
            target = wl.pid
            if config == "floor-task-switch-other":
                sleeper = subprocess.Popen(["sleep", "100000"])
                target = sleeper.pid
            tracer = subprocess.Popen([hf_bin, str(mode), str(target)], stdout=subprocess.PIPE, text=True)
            if tracer.stdout.readline() != "attached\n":
                for p in (wl, sleeper):
                    if p:
                        p.kill()
                sys.exit(f"hook_floor {mode} {target} failed")
        elif config == "ws-untraced":
            sleeper = subprocess.Popen(["sleep", "100000"])
            tracer = subprocess.Popen([ws_bin, "record", "-q", "-o", tmp + "/u", "-p", str(sleeper.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            overhead.wait_attached(tracer)
        elif config == "ws-traced":
            tracer = subprocess.Popen([ws_bin, "record", "-q", "-o", tmp + "/t", "-p", str(wl.pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            overhead.wait_attached(tracer)
        os.kill(wl.pid, signal.SIGCONT)
        out, _ = wl.communicate()
        if tracer:
            overhead.stop(tracer)
        if sleeper:
            sleeper.kill()
            sleeper.wait()
        res = overhead.last_json(out)
        return res["cpu_ns_per_syscall"], res["ns_per_syscall"]

    configs = ["baseline", "floor-empty", "floor-exit-only", "floor-switch-only", "floor-sock-only",
               "floor-filter",
               "ws-untraced", "floor-hash-upd-del", "floor-in-place", "ws-traced",
               "floor-task-switch-other", "floor-task-switch-self"]
    if args.configs:
        wanted = args.configs.split(",")
        unknown = [c for c in wanted if c not in configs]
        if unknown:
            ap.error(f"unknown configs {unknown}; known: {configs}")
        configs = ["baseline"] + [c for c in wanted if c != "baseline"]
    cpu = {c: [] for c in configs}
    wall = {c: [] for c in configs}
    for i in range(args.runs):
        order = configs[i % len(configs):] + configs[:i % len(configs)]
        for c in order:
            vc, vw = run(c)
            cpu[c].append(vc)
            wall[c].append(vw)
            overhead.log(f"round {i + 1} {c:20s} cpu {vc:7.1f} wall {vw:7.1f} ns/syscall")
    bc, bw = statistics.median(cpu["baseline"]), statistics.median(wall["baseline"])
    what = {"getppid": f"getppid loop, {args.syscalls} calls",
            "pingpong": f"pipe ping-pong, {args.round_trips} round trips",
            "sockets": f"socket ping-pong, {args.round_trips} round trips"}[args.workload]
    print(f"{what}, pinned to CPU {args.cpu}, median of {args.runs} "
          "(CPU = process CPU time per syscall; wall = elapsed)\n")
    print("| config | CPU ns/syscall (min..max) | vs baseline (CPU) | wall ns/syscall | vs baseline (wall) |")
    print("|---|---|---:|---:|---:|")
    for c in configs:
        mc, mw = statistics.median(cpu[c]), statistics.median(wall[c])
        print(f"| {c} | {mc:.1f} ({min(cpu[c]):.1f}..{max(cpu[c]):.1f}) | {mc - bc:+.1f} | {mw:.1f} | {mw - bw:+.1f} |")


if __name__ == "__main__":
    main()
