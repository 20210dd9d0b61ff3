#!/usr/bin/python3
"""waitscope overhead on an HTTPS server: nginx with and without the agent (see BENCHMARKS.md).

Standard library only; run as root. Starts nginx (tests/bpf/servers.py NginxServer: master + 1
worker, a TLS 1.2-only and a TLS 1.3-only listener on 127.0.0.1, self-signed P-256 certificate,
access log off, `return 200 "ok"`), then, alternating (the order rotates every round), --runs
rounds of each workload and configuration:

  tls13-keepalive   wrk -t T -c C -d D https://127.0.0.1:P13/alpha   (TLS 1.3, keep-alive:
                    the SSL_read/SSL_write uprobes on every request, one handshake per connection)
  tls12-newconn     wrk ... -H 'Connection: close' https://127.0.0.1:P12/alpha  (TLS 1.2, a new
                    connection and handshake per request: accept/close and handshake path)

  plain     nginx alone
  traced    `waitscope record -q -p MASTER -p WORKER -o TMP` attached to the running nginx
            (started before wrk, ended with SIGINT after it: the default capture, OpenSSL
            uprobes on the system libssl)
  cap=N     the same with --capture-bytes N (0 turns socket payload capture off; the OpenSSL
            uprobes and the tracepoints stay)

Per run: wrk's Requests/sec, the CPU time of the nginx worker during the run (utime+stime
delta from /proc; the uprobes and socket hooks run in its context), waitscope's own CPU
time, and for traced runs report.json's `loss`, handshakes (sum of tls[].count) and
requests parsed (sum of http[].count). Prints a Markdown table: medians (min..max) and
the loss vs plain.

--ssl-call-cost instead compiles a small OpenSSL loop (embedded below: one thread, an SSL
client and server over TCP loopback, 4 SSL calls per round trip) and reports the CPU it
adds per round trip under `waitscope record --`, with and without TLS: the price of the
uprobes per SSL call, separated from the socket syscall hooks.

Nothing is pinned (2-core machine: nginx, wrk and the agent share the CPUs). This is a
benchmark, not a test: nothing here belongs in ctest.

Examples:
  sudo /usr/bin/python3 tools/bench/tls_overhead.py
  sudo /usr/bin/python3 tools/bench/tls_overhead.py --runs 7 --variants 0 --markdown-out t.md
  sudo /usr/bin/python3 tools/bench/tls_overhead.py --quick
  sudo /usr/bin/python3 tools/bench/tls_overhead.py --ssl-call-cost
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "bpf"))
from benchlib import find_binary, machine_info, make_log  # noqa: E402  (same directory)
import servers  # noqa: E402  (tests/bpf/servers.py: NginxServer)

log = make_log("tls_overhead")
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_LOSS_PCT = 5.0  # issue "TLS": <= 5 % HTTPS requests/s loss with the agent attached
RPS_LINE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
TOTAL_LINE = re.compile(r"^\s*(\d+) requests in", re.M)
ERRORS_LINE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


# --ssl-call-cost: one thread, two SSL objects over a TCP loopback connection, N
# round trips of client SSL_write -> server SSL_read -> server SSL_write -> client
# SSL_read (4 SSL calls; OpenSSL reads a record as header + body, so 2 writes + 4
# reads), or the same exchange without TLS (2 writes + 2 reads). Prints the CPU ns
# per round trip (getrusage user + system: the probes run in this process).
SSL_LOOP_C = r"""
/* One thread, two SSL objects over a TCP loopback connection: N round trips of
   client SSL_write -> server SSL_read -> server SSL_write -> client SSL_read
   (4 SSL calls, 4 socket syscalls), or the same 4 syscalls without TLS ("plain").
   Prints CPU ns per round trip (getrusage: user + system, the probes included). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
static double cpu(void) {
  struct rusage r; getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}
static void die(const char *w) { perror(w); exit(1); }
int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: sslloop plain|tls N CERT KEY\n"); return 2; }
  int tls = strcmp(argv[1], "tls") == 0; long n = atol(argv[2]);
  int ls = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr_in a = {0};
  a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (void *)&a, sizeof a) || listen(ls, 1)) die("listen");
  socklen_t al = sizeof a; getsockname(ls, (void *)&a, &al);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (void *)&a, sizeof a)) die("connect");
  int s = accept(ls, NULL, NULL); if (s < 0) die("accept");
  int one = 1; setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const char ping[] = "*1\r\n$4\r\nPING\r\n", pong[] = "+PONG\r\n"; char buf[64];
  SSL *cs = NULL, *ss = NULL;
  if (tls) {
    SSL_CTX *sc = SSL_CTX_new(TLS_server_method()), *cc = SSL_CTX_new(TLS_client_method());
    if (SSL_CTX_use_certificate_file(sc, argv[3], SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(sc, argv[4], SSL_FILETYPE_PEM) != 1) die("cert");
    cs = SSL_new(cc); ss = SSL_new(sc); SSL_set_fd(cs, c); SSL_set_fd(ss, s);
    SSL_set_connect_state(cs); SSL_set_accept_state(ss);
    /* Blocking sockets, one thread: step both sides until done; each step
       only reads what the other side already wrote. */
    int cd = 0, sd = 0;
    fcntl(c, F_SETFL, O_NONBLOCK); fcntl(s, F_SETFL, O_NONBLOCK);
    while (!cd || !sd) {
      /* Non-blocking for the handshake only. */
      if (!cd) { int r = SSL_do_handshake(cs); if (r == 1) cd = 1; }
      if (!sd) { int r = SSL_do_handshake(ss); if (r == 1) sd = 1; }
    }
    fcntl(c, F_SETFL, 0); fcntl(s, F_SETFL, 0);
  }
  double t0 = 0;
  for (long i = 0; i <= n; i++) {
    if (i == 1) t0 = cpu(); /* round 0: warm-up (session tickets, first events) */
    if (tls) {
      if (SSL_write(cs, ping, sizeof ping - 1) <= 0 || SSL_read(ss, buf, sizeof buf) <= 0 ||
          SSL_write(ss, pong, sizeof pong - 1) <= 0 || SSL_read(cs, buf, sizeof buf) <= 0) die("ssl io");
    } else {
      if (write(c, ping, sizeof ping - 1) <= 0 || read(s, buf, sizeof buf) <= 0 ||
          write(s, pong, sizeof pong - 1) <= 0 || read(c, buf, sizeof buf) <= 0) die("io");
    }
  }
  printf("%s %.0f ns/round-trip\n", argv[1], (cpu() - t0) / n * 1e9);
  return 0;
}
"""


def proc_cpu(pid):
    """utime+stime of a process in seconds, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def parse_wrk(out):
    m = RPS_LINE.search(out)
    if not m:
        raise RuntimeError(f"no Requests/sec in wrk output: {out[-600:]!r}")
    total = TOTAL_LINE.search(out)
    errors = ERRORS_LINE.search(out)
    return {"rps": float(m.group(1)), "requests": int(total.group(1)) if total else None,
            "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0}


class Agent:
    """waitscope record attached to nginx for one run."""

    def __init__(self, args, pids, out_dir, capture):
        cmd = [args.waitscope, "-v", "record", "-q", "-o", out_dir]
        for pid in pids:
            cmd += ["-p", str(pid)]
        if capture is not None:
            cmd += ["--capture-bytes", str(capture)]
        self.cmd = cmd
        self.out_dir = out_dir
        self.err_path = out_dir + ".stderr"
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 30
        while not all(self._logged(f"tracing pid {pid}") for pid in pids):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"waitscope did not attach: {self._stderr()[-800:]}")
            time.sleep(0.05)

    def _stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def _logged(self, text):
        return re.search(rf"{re.escape(text)}\b", self._stderr()) is not None

    def stop(self):
        """SIGINT; returns (agent CPU s, report dict)."""
        cpu = proc_cpu(self.proc.pid)
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError("waitscope did not stop on SIGINT")
        self.err.close()
        if rc != 0:
            raise RuntimeError(f"waitscope exited {rc}: {self._stderr()[-800:]}")
        with open(os.path.join(self.out_dir, "report.json")) as f:
            report = json.load(f)
        shutil.rmtree(self.out_dir, ignore_errors=True)
        return cpu, report


def run_one(args, nginx, workload, wrk_cmd, config, tmp, n, rnd):
    capture = None if config in ("plain", "traced") else int(config.split("=", 1)[1])
    agent = None
    if config != "plain":
        agent = Agent(args, [nginx.master_pid, *nginx.worker_pids()],
                      os.path.join(tmp, f"r{n}"), capture)
    worker = nginx.worker_pids()[0]
    cpu0 = proc_cpu(worker)
    r = subprocess.run(wrk_cmd, capture_output=True, text=True, timeout=args.seconds + 60)
    cpu1 = proc_cpu(worker)
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(wrk_cmd)} exited {r.returncode}: {r.stderr}")
    rec = {"workload": workload, "config": config, "round": rnd, "metrics": parse_wrk(r.stdout),
           "nginx_cpu_s": cpu1 - cpu0}
    if agent:
        rec["agent_cpu_s"], report = agent.stop()
        rec["loss"] = report.get("loss", {})
        rec["handshakes"] = sum(t["count"] for t in report.get("tls", []))
        rec["resumed"] = sum(t["count"] for t in report.get("tls", []) if t["resumed"])
        rec["http_parsed"] = sum(h["count"] for h in report.get("http", []))
        rec["agent_cmd"] = shlex.join(agent.cmd)
    m = rec["metrics"]
    extra = ""
    if agent:
        extra = (f" agent_cpu={rec['agent_cpu_s']:.2f}s handshakes={rec['handshakes']}"
                 f" (resumed {rec['resumed']}) http={rec['http_parsed']} loss={rec['loss']}")
    log(f"{workload:16s} {config:7s} rps={m['rps']:.0f} requests={m['requests']} "
        f"errors={m['socket_errors']} nginx_cpu={rec['nginx_cpu_s']:.2f}s{extra}")
    return rec


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt_range(vals, fmt="{:.0f}"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    return (f"{fmt.format(statistics.median(vals))} "
            f"({fmt.format(min(vals))}..{fmt.format(max(vals))})")


def markdown(results, workloads, configs, info, args, cmdline):
    lines = [
        f"Run: {info['date']}; machine: {info['nproc']} CPUs ({info['cpu_model']}), "
        f"{info['mem_gib']} GiB, kernel {info['kernel']}; load average at start "
        f"{' '.join(info['loadavg_at_start'])}; nginx {args.nginx_version}, "
        f"wrk -t {args.threads} -c {args.connections} -d {args.seconds}s.",
        "",
        f"Command: `{cmdline}`",
        "",
        f"Requests/s: median of {args.runs} runs (min..max), configurations alternating "
        "(order rotating per round), nothing pinned. Loss = 1 - median(config) / "
        "median(plain); paired loss = median over rounds of 1 - run / plain run of the same "
        "round. nginx CPU = utime+stime of the worker during the run (BPF programs "
        "and uprobes run in its context), per 1000 requests; agent CPU = waitscope's process "
        "over the run. Handshakes / requests parsed: sum of report.json tls[].count / "
        "http[].count, median per run.",
        "",
        "| workload | config | requests/s | loss vs plain | paired loss | target | met "
        "| nginx CPU ms / 1k req | agent CPU s | handshakes / run (resumed) "
        "| requests parsed / run | loss counters |",
        "|---|---|---:|---:|---:|---|---|---:|---:|---:|---:|---|",
    ]
    summary = []
    for wl in workloads:
        base = median([r["metrics"]["rps"] for r in results
                       if r["workload"] == wl and r["config"] == "plain"])
        for cfg in configs:
            rs = [r for r in results if r["workload"] == wl and r["config"] == cfg]
            if not rs:
                continue
            rps = [r["metrics"]["rps"] for r in rs]
            med = median(rps)
            loss = None if cfg == "plain" else (1 - med / base) * 100
            # Each config's run next to the plain run of the same round: slow
            # drifts of a shared machine cancel out in the ratio.
            plain_by_round = {r["round"]: r["metrics"]["rps"] for r in results
                              if r["workload"] == wl and r["config"] == "plain"}
            paired = None if cfg == "plain" else median(
                [(1 - r["metrics"]["rps"] / plain_by_round[r["round"]]) * 100 for r in rs
                 if r["round"] in plain_by_round])
            target, met = "–", "–"
            if cfg == "traced":
                target = f"<= {TARGET_LOSS_PCT:.0f} %"
                met = "yes" if loss <= TARGET_LOSS_PCT else "**NO**"
                summary.append((wl, base, med, loss, met))
            per1k = [r["nginx_cpu_s"] / r["metrics"]["requests"] * 1e6 for r in rs
                     if r["metrics"]["requests"]]
            if cfg == "plain":
                hs = parsed = counters = "–"
            else:
                hs = f"{median([r['handshakes'] for r in rs]):.0f} " \
                     f"({median([r['resumed'] for r in rs]):.0f})"
                parsed = f"{median([r['http_parsed'] for r in rs]):.0f}"
                keys = ("events_dropped", "bytes_truncated", "parse_errors", "exchanges_lost")
                counters = ", ".join(f"{k} {sum(r['loss'].get(k, 0) for r in rs)}" for k in keys)
            lines.append(
                f"| {wl} | {cfg} | {fmt_range(rps)} | "
                f"{'–' if loss is None else f'{loss:+.1f} %'} | "
                f"{'–' if paired is None else f'{paired:+.1f} %'} | {target} | {met} | "
                f"{fmt_range(per1k, '{:.1f}')} | "
                f"{fmt_range([r.get('agent_cpu_s') for r in rs], '{:.2f}')} | {hs} | {parsed} | "
                f"{counters} |")
    lines.append("")
    return "\n".join(lines), summary


def ssl_call_cost(args, tmp):
    """Added CPU per round trip of ssl_loop with `waitscope record --` around it,
    with and without TLS (medians of --runs, alternating)."""
    src = os.path.join(tmp, "ssl_loop.c")
    exe = os.path.join(tmp, "ssl_loop")
    with open(src, "w") as f:
        f.write(SSL_LOOP_C)
    subprocess.run(["cc", "-O2", "-o", exe, src, "-lssl", "-lcrypto"], check=True)
    cert, key = servers.make_self_signed_cert(tmp, "loop")
    n = str(args.loop_rounds)
    res = {}
    for rnd in range(args.runs):
        for mode in ("plain", "tls"):
            for traced in (False, True):
                cmd = [exe, mode, n, cert, key]
                if traced:
                    cmd = [args.waitscope, "record", "-q", "-o", os.path.join(tmp, "out"),
                           "--"] + cmd
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                ns = float(out.split()[1])
                res.setdefault((mode, traced), []).append(ns)
                log(f"round {rnd + 1}: {mode:5s} {'traced' if traced else 'plain '} {ns:.0f} ns")
    lines = [f"ssl_loop, {n} round trips, median of {args.runs} (min..max), CPU ns per round "
             "trip:", "", "| exchange | alone | traced | added |", "|---|---:|---:|---:|"]
    for mode in ("plain", "tls"):
        a, t = median(res[(mode, False)]), median(res[(mode, True)])
        lines.append(f"| {mode} | {fmt_range(res[(mode, False)])} | "
                     f"{fmt_range(res[(mode, True)])} | {t - a:+.0f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--waitscope")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5, help="wrk -d per run")
    ap.add_argument("--threads", type=int, default=1, help="wrk -t")
    ap.add_argument("--connections", type=int, default=16, help="wrk -c")
    ap.add_argument("--variants", default="",
                    help="extra --capture-bytes values to run traced, e.g. 0")
    ap.add_argument("--only", default="tls13-keepalive,tls12-newconn")
    ap.add_argument("--quick", action="store_true", help="2 runs of 2 s")
    ap.add_argument("--ssl-call-cost", action="store_true",
                    help="instead: the added CPU per SSL call in a tight loop (needs cc and "
                         "libssl-dev)")
    ap.add_argument("--loop-rounds", type=int, default=100000)
    ap.add_argument("--markdown-out")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (waitscope needs BPF)")
    if not args.ssl_call_cost and not os.access(args.wrk, os.X_OK):
        sys.exit("wrk not found: apt-get install wrk")
    if args.quick:
        args.runs, args.seconds = 2, 2
    args.waitscope = find_binary(args.waitscope, [
        os.path.join(REPO, "..", "build-bench", "agent", "cli", "waitscope"),
        os.path.join(REPO, "..", "build", "agent", "cli", "waitscope")])
    r = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True, text=True)
    args.nginx_version = (r.stderr.strip().split("/")[-1] or "?")
    configs = ["plain", "traced"] + [f"cap={v}" for v in args.variants.split(",") if v != ""]
    cmdline = "/usr/bin/python3 tools/bench/tls_overhead.py " + shlex.join(sys.argv[1:])
    info = machine_info()
    log(f"waitscope: {args.waitscope}; configs: {configs}; load {info['loadavg_at_start']}")

    tmp = tempfile.mkdtemp(prefix="waitscope-tls-bench-", dir="/var/tmp")
    if args.ssl_call_cost:
        try:
            print(ssl_call_cost(args, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    nginx = servers.NginxServer(workers=1, access_log=False)
    results = []
    try:
        nginx.start()
        log(f"nginx master {nginx.master_pid}, worker {nginx.worker_pids()}, ports {nginx.ports}")
        base = [args.wrk, "-t", str(args.threads), "-c", str(args.connections),
                "-d", f"{args.seconds}s"]
        all_workloads = {
            "tls13-keepalive": base + [nginx.url("TLSv1.3", "/alpha")],
            "tls12-newconn": base + ["-H", "Connection: close", nginx.url("TLSv1.2", "/alpha")],
        }
        workloads = [w for w in args.only.split(",") if w in all_workloads]
        for wl in workloads:  # warm-up, untraced, 2 s
            cmd = list(all_workloads[wl])
            cmd[cmd.index("-d") + 1] = "2s"
            subprocess.run(cmd, capture_output=True, timeout=120, check=True)
        n = 0
        for rnd in range(args.runs):
            order = configs[rnd % len(configs):] + configs[:rnd % len(configs)]
            log(f"round {rnd + 1}/{args.runs}: order {order}")
            for wl in workloads:
                for cfg in order:
                    n += 1
                    results.append(run_one(args, nginx, wl, all_workloads[wl], cfg, tmp, n, rnd))
    finally:
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    md, summary = markdown(results, workloads, configs, info, args, cmdline)
    print(md)
    if args.markdown_out:
        with open(args.markdown_out, "w") as f:
            f.write(md)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": info, "results": results, "cmdline": cmdline}, f, indent=1)
    for wl, base, med, loss, met in summary:
        log(f"{wl}: plain {base:.0f} req/s, traced {med:.0f} req/s, loss {loss:+.1f} % ({met})")


if __name__ == "__main__":
    main()
