#!/usr/bin/python3
"""Where a socket data event's time goes: builds with steps of on_data removed.

Standard library only; root (BPF, bpf_stats). Makes a git worktree of HEAD in a
temporary directory, configures a build there (RelWithDebInfo, the waitscope
target only), and builds one waitscope binary per variant, each with the edits
below applied to bpf/sockets.bpf.h (nothing in the repository is touched).
Then, alternating, --rounds times: `WAITSCOPE=VARIANT prog_cost.sh BUILD_DIR
sockets` for each variant, and prints the socket programs' average ns per run.

The socket ping-pong's 1-byte messages are no protocol waitscope parses, so
the agent turns capture off after the first bytes: `as-committed` and
`no-event` measure a followed, uncopied connection. Without the copy or the
ring-buffer send the agent never sees bytes and capture stays on, so those
variants build and send (or copy) an event for every read and write.

An edit that no longer matches the source stops the script: the ablation is
then out of date with on_data and must be updated with it.

This is a benchmark, not a test. Example:
  sudo /usr/bin/python3 tools/bench/copy_path_ablation.py --build build --rounds 2
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NO_RING = ("  if (bpf_ringbuf_output(&sock_events, ev, size, data_wakeup_flag(scratch)))",
           "  if (size == 0 && bpf_ringbuf_output(&sock_events, ev, size, "
           "data_wakeup_flag(scratch)))")
NO_COPY = ("      captured = copy_chunk(ev, 0, (const void *)a->arg1, ret);",
           "      captured = 0;")
NO_CLOCK = ("  ev->hdr.ts_ns = bpf_ktime_get_ns();\n  ev->conn_id = st->conn_id;",
            "  ev->hdr.ts_ns = 0;\n  ev->conn_id = st->conn_id;")
NO_STATS = ("  sample_tcp_stats(st, ev->hdr.ts_ns, &ev->srtt_us, &ev->retransmits);\n",
            "")
NO_EVENT = ("  if (st->flags & WS_CONN_NO_CAPTURE)\n    return;\n",
            "  if (st->flags & WS_CONN_NO_CAPTURE || 1)\n    return;\n")

VARIANTS = {
    "as-committed": [],
    "no-event": [NO_EVENT],
    "no-copy": [NO_COPY],
    "no-ring": [NO_RING],
    "no-clock": [NO_CLOCK],
    "no-ring,no-copy": [NO_RING, NO_COPY],
    "no-ring,no-clock": [NO_RING, NO_CLOCK],
    "no-ring,no-stats": [NO_RING, NO_STATS],
    "no-ring,header-only": [NO_RING, NO_COPY, NO_CLOCK, NO_STATS],
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True,
                    help="a build directory of this repository (for pingpong and hook_floor)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("copy_path_ablation.py: --rounds must be at least 1")
    if os.geteuid() != 0:
        sys.exit("copy_path_ablation.py: run as root (BPF and bpf_stats)")
    if not os.access(os.path.join(args.build, "tools", "bench", "pingpong"), os.X_OK):
        sys.exit(f"copy_path_ablation.py: {args.build} has no tools/bench/pingpong: "
                 "give a built build directory of this repository")
    tmp = tempfile.mkdtemp(prefix="ws-ablation-")
    tree = os.path.join(tmp, "src")
    try:
        run(["git", "-C", REPO, "worktree", "add", "-q", "--detach", tree, "HEAD"])
        build = os.path.join(tmp, "build")
        run(["cmake", "-S", tree, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
            stdout=subprocess.DEVNULL)
        source = os.path.join(tree, "bpf", "sockets.bpf.h")
        original = open(source).read()
        binaries = {}
        for name, edits in VARIANTS.items():
            text = original
            for old, new in edits:
                if text.count(old) != 1:
                    sys.exit(f"copy_path_ablation.py: the edit for {name} no longer matches "
                             f"bpf/sockets.bpf.h:\n{old}")
                text = text.replace(old, new)
            with open(source, "w") as f:
                f.write(text)
            print(f"building {name}", flush=True)
            run(["ninja", "-C", build, "waitscope"], stdout=subprocess.DEVNULL)
            binaries[name] = os.path.join(tmp, f"waitscope-{name.replace(',', '-')}")
            shutil.copy(os.path.join(build, "agent", "cli", "waitscope"), binaries[name])
        prog_cost = os.path.join(REPO, "tools", "bench", "prog_cost.sh")
        results = {name: [] for name in VARIANTS}
        for r in range(args.rounds):
            for name, binary in binaries.items():
                out = subprocess.run([prog_cost, os.path.abspath(args.build), "sockets"],
                                     env=dict(os.environ, WAITSCOPE=binary), check=True,
                                     capture_output=True, text=True).stdout
                traced = out.split("== untraced")[0]
                avg = {}
                for line in traced.splitlines():
                    parts = line.split()
                    if parts and parts[0] in ("sched_sock_recv", "sched_sock_send"):
                        avg[parts[0]] = float(parts[-2])
                if len(avg) != 2:
                    # A variant whose programs never ran (or a changed
                    # prog_cost.sh format) must not show as a 0-ns row.
                    sys.exit(f"copy_path_ablation.py: no socket program averages for {name} "
                             f"in prog_cost.sh's output:\n{out}")
                results[name].append(avg)
                print(f"round {r + 1} {name:20s} receive "
                      f"{avg['sched_sock_recv']:6.1f} send "
                      f"{avg['sched_sock_send']:6.1f} ns per run", flush=True)
        print("\n| variant | " + " | ".join(f"round {r + 1}" for r in range(args.rounds)) + " |")
        print("|---|" + "---:|" * args.rounds)
        for name, rounds in results.items():
            cells = " | ".join(f"{a['sched_sock_recv']:.0f} / {a['sched_sock_send']:.0f}"
                              for a in rounds)
            print(f"| {name} | {cells} |")
        print("\n(receive / send: the socket programs' average ns per run, bpf_stats, traced "
              "socket ping-pong)")
    finally:
        subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", tree],
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
