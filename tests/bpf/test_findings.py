#!/usr/bin/python3
"""BPF integration tests: findings on the shop demo (tools/demo/shop).

Each scenario of the demo switches one anti-pattern on in a thread-per-request
Python web service backed by real PostgreSQL, Redis and an SMTP sink (plus an
asyncio event-loop listener for event_loop_blocked), and has a fixed twin.
For each scenario, one test class checks its two runs of
`tools/demo/shop/run_demo.py --scenario all --twins`, which runs every
scenario against one set of backends with the service started under
`waitscope record` (--service-wrapper); one class run by hand runs only its
own scenario. The checks:

  - the demo ran and knows what it did (truth.json: requests, orders listed
    per request, pool size, SMTP share, cache hit ratio, index, TLS mode);
  - each report validates against the schema and shows the endpoint the
    load hit, with the request count the load driver counted;
  - the anti-pattern run has the scenario's finding, on its endpoint, with
    evidence that agrees with truth.json;
  - the fixed twin has no finding of that kind.

FullyFixedTest runs the whole shop with every fix (`--scenario mixed --fixed`:
every endpoint at once, HTTP and HTTPS) and expects no finding at all.

Until the findings engine emits findings, the finding tests fail with
"no KIND finding ...; findings were: [...]"; everything else must pass.

Usage: test_findings.py [unittest args]  (run with /usr/bin/python3; needs root)
Environment (tests/bpf/CMakeLists.txt): WAITSCOPE_BIN, REPORT_SCHEMA,
REPORT_VALIDATOR, SKIP_EXIT_CODE; SHOP_DEMO_DURATION (load seconds per run,
default 5).
Debian packages: postgresql redis-server redis-tools python3-psycopg2
python3-redis python3-jsonschema openssl.

Exit code: 0 when everything passed, 1 on any failure, SKIP_EXIT_CODE (77)
when tests were skipped (not root, the kernel refused the probe, or a server
package is missing) and nothing failed.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_record as tr  # noqa: E402  (ws, skip probe, schema validation)

SKIP_EXIT_CODE = tr.SKIP_EXIT_CODE
PYTHON = tr.PYTHON
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_DEMO = os.path.join(REPO, "tools", "demo", "shop", "run_demo.py")
DURATION_S = float(os.environ.get("SHOP_DEMO_DURATION", "5"))

# Why tests were skipped because a package is missing (printed loudly).
DEMO_SKIPS = []

# run_demo.py's --scenario for the scenario classes: "all" (one invocation,
# one set of backends, for every class), or the one class main() was asked for.
SHOP_SCENARIO = "all"
# Its outcome, shared by every scenario class: {run name: truth.json run}, or
# the exception that setting it up raised (each class re-raises it rather
# than running the demo again).
_shop_runs = None


def fmt(rows):
    return json.dumps(rows, indent=1, sort_keys=True)


def run_demo(tmp, *args):
    """Runs run_demo.py with the service under `waitscope record` (report in
    RUN_DIR/waitscope) and returns truth.json; SkipTest when a package is
    missing (exit 77), AssertionError on any other failure."""
    out = os.path.join(tmp, "demo")
    wrapper = f"{shlex.quote(tr.WAITSCOPE)} record -q -o {{out}}/waitscope --"
    cmd = [PYTHON, RUN_DEMO, "--out", out, "--duration", str(DURATION_S),
           "--service-wrapper", wrapper, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode == SKIP_EXIT_CODE:
        reason = f"the shop demo needs a package that is not installed: {r.stderr.strip()}"
        DEMO_SKIPS.append(reason)
        print(f"\n*** SKIPPING: {reason} ***\n", file=sys.stderr, flush=True)
        raise unittest.SkipTest(reason)
    if r.returncode != 0:
        raise AssertionError(f"run_demo.py {' '.join(args)} failed (exit {r.returncode}):\n"
                             f"{r.stdout}{r.stderr}")
    with open(os.path.join(out, "truth.json"), encoding="utf-8") as f:
        return json.load(f)


def shop_runs():
    """Every scenario's runs (SHOP_SCENARIO), from one run_demo.py invocation
    made by the first class that asks."""
    global _shop_runs
    if _shop_runs is None:
        tmp = tempfile.mkdtemp(prefix="waitscope-bpf-", dir="/var/tmp")
        unittest.addModuleCleanup(shutil.rmtree, tmp, ignore_errors=True)
        try:
            truth = run_demo(tmp, "--scenario", SHOP_SCENARIO, "--twins")
            _shop_runs = {r["run"]: r for r in truth["runs"]}
        except (AssertionError, unittest.SkipTest) as e:
            _shop_runs = e
        except subprocess.TimeoutExpired as e:
            _shop_runs = AssertionError(f"run_demo.py did not finish: {e}")
    if isinstance(_shop_runs, Exception):
        raise type(_shop_runs)(*_shop_runs.args)
    return _shop_runs


class ShopTestCase(tr.WaitscopeTestCase):
    """One scenario's anti-pattern run and fixed twin."""

    SCENARIO = None  # run_demo.py --scenario
    KIND = None  # the finding kind the anti-pattern must produce
    NEEDS_ENDPOINT = True  # the finding must name the scenario's endpoint

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()
        runs = shop_runs()
        cls.anti = runs[cls.SCENARIO]
        cls.fixed = runs[cls.SCENARIO + ".fixed"]
        cls.reports = {}

    # -- reading a run

    def report(self, run):
        """The run's report.json, validated against the schema (cached)."""
        if run["run"] not in self.reports:
            self.reports[run["run"]] = self.assert_valid_report(
                os.path.join(run["dir"], "waitscope"))
        return self.reports[run["run"]]

    def findings(self, run, kind=None):
        return [f for f in self.report(run)["findings"] if f["pid"] == run["service_pid"]
                and (kind is None or f["kind"] == kind)]

    def the_finding(self, run):
        """The anti-pattern run's finding of KIND (exactly one for the
        endpoint), with its evidence."""
        found = self.findings(run, self.KIND)
        self.assertTrue(found, f"no {self.KIND} finding for the service (pid "
                        f"{run['service_pid']}) in the {run['run']} run; findings were: "
                        f"{fmt(self.report(run)['findings'])}")
        on_endpoint = [f for f in found if f.get("endpoint") == run["endpoint"]]
        if self.NEEDS_ENDPOINT:
            self.assertEqual(len(on_endpoint), 1,
                             f"expected one {self.KIND} finding on {run['endpoint']}; "
                             f"{self.KIND} findings: {fmt(found)}")
            finding = on_endpoint[0]
        else:
            finding = on_endpoint[0] if on_endpoint else found[0]
            if "endpoint" in finding:
                self.assertEqual(finding["endpoint"], run["endpoint"], fmt(finding))
        self.assertIn(finding["severity"], ("warning", "critical"), fmt(finding))
        return finding, finding["evidence"]

    def assert_evidence_close(self, finding, key, expected, rel, abs_tol=0.0):
        ev = finding["evidence"]
        self.assertIn(key, ev, f"evidence has no {key}: {fmt(finding)}")
        tol = max(abs(expected) * rel, abs_tol)
        self.assertLessEqual(abs(ev[key] - expected), tol,
                             f"evidence {key} = {ev[key]}, the demo measured {expected} "
                             f"(tolerance {tol}); finding: {fmt(finding)}")

    # -- the same checks for every scenario

    def test_demo_ran(self):
        for run in (self.anti, self.fixed):
            self.assertGreater(run["endpoint_requests"], 0, fmt(run))
            self.assertEqual(run["load_errors"], 0, f"the load saw errors: {fmt(run)}")
            self.assertEqual(run["wrapper_exit"], 0,
                             f"waitscope record exited with {run['wrapper_exit']} in {run['run']}")
            m = run["measured"][run["endpoint"]]
            self.assertEqual(set(m["status"]), {"201" if run["endpoint"].startswith("POST")
                                                else "200"}, fmt(m))

    def test_reports_valid(self):
        for run in (self.anti, self.fixed):
            report = self.report(run)
            self.assertIn(run["service_pid"], [t["pid"] for t in report["targets"]],
                          f"the service is not a target of its recording: {report['targets']}")

    def test_http_rows(self):
        for run in (self.anti, self.fixed):
            rows = [h for h in self.report(run)["http"] if h["pid"] == run["service_pid"]
                    and h["role"] == "server" and h["endpoint"] == run["endpoint"]]
            self.assertEqual(len(rows), 1, f"one server row for {run['endpoint']} expected in "
                             f"{run['run']}: {fmt(self.report(run)['http'])}")
            self.assertEqual(rows[0]["count"], run["endpoint_requests"],
                             f"requests counted by waitscope vs by the load driver in "
                             f"{run['run']}: {fmt(rows[0])}")

    def test_anti_pattern_has_finding(self):
        finding, _ = self.the_finding(self.anti)
        self.check_evidence(finding, self.anti)

    def test_fixed_twin_has_no_finding(self):
        found = self.findings(self.fixed, self.KIND)
        self.assertEqual(found, [], f"{self.KIND} found in the fixed twin ({self.fixed['run']}): "
                         f"{fmt(found)}")

    def check_evidence(self, finding, run):
        raise NotImplementedError

    # -- helpers for the scenario checks

    def queries(self, run, protocol, contains):
        return [q for q in self.report(run)["queries"] if q["pid"] == run["service_pid"]
                and q["protocol"] == protocol and all(w in q["statement"] for w in contains)]


def load_tests(loader, standard_tests, pattern):
    """Every test but those of the ShopTestCase base itself, which has no
    scenario to run (a skip would make the whole file a skip: tr.exit_status)."""
    def without_base(suite):
        kept = unittest.TestSuite()
        for test in suite:
            if isinstance(test, unittest.TestSuite):
                kept.addTest(without_base(test))
            elif type(test) is not ShopTestCase:
                kept.addTest(test)
        return kept
    return without_base(standard_tests)


class NPlusOneTest(ShopTestCase):
    """GET /orders: one query per listed order vs one JOIN."""

    SCENARIO, KIND = "n_plus_one", "n_plus_one"

    def test_statements_match_truth(self):
        # Works without findings: the per-order statement ran orders x requests times.
        for run, per_request in ((self.anti, run_orders(self.anti)), (self.fixed, 0)):
            rows = self.queries(run, "postgres", ["FROM order_items WHERE order_id = ?"])
            count = sum(q["count"] for q in rows)
            self.assertEqual(count, per_request * run["endpoint_requests"],
                             f"{run['run']}: per-order item queries; rows: {fmt(rows)}")

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        self.assertIn("order_items", ev.get("statement", ""), fmt(finding))
        self.assert_evidence_close(finding, "repeats_per_request", run_orders(run), 0, 0.01)
        self.assertGreater(ev.get("requests", 0), 0, fmt(finding))
        self.assertLessEqual(ev["requests"], run["endpoint_requests"], fmt(finding))
        self.assertGreater(ev.get("time_ms", 0), 0, fmt(finding))


def run_orders(run):
    m = run["measured"][run["endpoint"]]
    assert m["orders_per_request_min"] == m["orders_per_request_max"], m
    return m["orders_per_request"]


class SyncEmailTest(ShopTestCase):
    """POST /signup: smtplib on the request thread vs a background mailer."""

    SCENARIO, KIND = "sync_email", "sync_io_in_request_path"

    def test_truth(self):
        m = self.anti["measured"][self.anti["endpoint"]]
        self.assertEqual(m["smtp_calls_per_request"], 1, fmt(m))
        self.assertGreater(m["smtp_share"], 0.5, fmt(m))
        self.assertEqual(self.fixed["measured"][self.fixed["endpoint"]]["smtp_calls_per_request"],
                         0)

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        smtp = run["peers"]["smtp"]
        self.assertEqual(ev.get("peer"), smtp, f"the SMTP sink is {smtp}: {fmt(finding)}")
        self.assertGreaterEqual(ev.get("calls_per_request", 0),
                                run["measured"][run["endpoint"]]["smtp_calls_per_request"],
                                fmt(finding))
        self.assert_evidence_close(finding, "share_of_request",
                                   run["measured"][run["endpoint"]]["smtp_share"], 0.20)


class PoolExhaustionTest(ShopTestCase):
    """GET /report: a pool of 2 connections under 16 clients vs a pool of 16."""

    SCENARIO, KIND = "pool_exhaustion", "pool_exhaustion"
    NEEDS_ENDPOINT = False  # a property of the process and its peer

    def test_truth(self):
        self.assertEqual(self.anti["pool_size"], 2)
        self.assertEqual(self.fixed["pool_size"], 16)
        m = self.anti["measured"][self.anti["endpoint"]]
        self.assertGreater(m["pool_wait_ms_p50"], 20, f"requests hardly waited: {fmt(m)}")

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        m = run["measured"][run["endpoint"]]
        self.assertEqual(ev.get("peer"), run["peers"]["postgres"], fmt(finding))
        self.assertEqual(ev.get("pool_size"), run["pool_size"], fmt(finding))
        self.assertGreater(ev.get("saturated_share", 0), 0.5, fmt(finding))
        # The service timed its wait for a connection; waitscope sees the wait
        # from the request's read to its first statement: the same, give or take.
        self.assert_evidence_close(finding, "wait_before_first_query_p50_ms",
                                   m["pool_wait_ms_p50"], 0.5, 5)
        self.assertGreaterEqual(ev.get("wait_before_first_query_p95_ms", 0),
                                ev["wait_before_first_query_p50_ms"], fmt(finding))


class CacheMissTest(ShopTestCase):
    """GET /product/{id}: Redis read first; never populated vs populated."""

    SCENARIO, KIND = "cache_miss", "low_cache_hit_ratio"
    NEEDS_ENDPOINT = False  # a property of the cache peer

    def test_cache_rows_match_truth(self):
        for run in (self.anti, self.fixed):
            m = run["measured"][run["endpoint"]]
            rows = [c for c in self.report(run)["cache"] if c["pid"] == run["service_pid"]]
            reads = sum(c["reads"] for c in rows)
            hits = sum(c["hits"] for c in rows)
            self.assertEqual(reads, m["cache_reads"], f"{run['run']}: {fmt(rows)}")
            self.assertEqual(hits, round(m["cache_hit_ratio"] * m["cache_reads"]),
                             f"{run['run']}: {fmt(rows)}")
        self.assertGreater(self.fixed["measured"][self.fixed["endpoint"]]["cache_hit_ratio"], 0.9)

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        m = run["measured"][run["endpoint"]]
        self.assertEqual(ev.get("peer"), run["peers"]["redis"], fmt(finding))
        self.assertLess(ev.get("hit_ratio", 1), 0.8, fmt(finding))
        self.assert_evidence_close(finding, "hit_ratio", m["cache_hit_ratio"], 0, 0.05)
        self.assert_evidence_close(finding, "reads", m["cache_reads"], 0.05)


class SlowQueryTest(ShopTestCase):
    """GET /search?email=: a filter on an un-indexed column of 200k rows vs indexed."""

    SCENARIO, KIND = "slow_query", "slow_query"
    NEEDS_ENDPOINT = False  # a statement's property; if named, the endpoint must match

    def test_truth(self):
        self.assertFalse(self.anti["index_present"])
        self.assertTrue(self.fixed["index_present"])

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        table, column = run["search"]["table"], run["search"]["column"]
        self.assertRegex(ev.get("statement", ""), rf"\b{table}\b.*\b{column}\b",
                         f"the slow statement filters {table}.{column}: {fmt(finding)}")
        self.assertGreater(ev.get("count", 0), 0, fmt(finding))
        self.assertLessEqual(ev["count"], run["endpoint_requests"], fmt(finding))
        self.assertGreater(ev.get("p95_ms", 0), 5, fmt(finding))
        self.assertGreater(ev.get("share_of_db_time", 0), 0.5, fmt(finding))


class TlsHandshakeTest(ShopTestCase):
    """HTTPS GET /catalog: TLS 1.2, a new connection per request, no resumption
    vs TLS 1.3, keep-alive and session resumption."""

    SCENARIO, KIND = "tls_handshake", "tls_full_handshake"
    NEEDS_ENDPOINT = False  # the handshake precedes the request

    def test_truth(self):
        t = self.anti["tls_measured"]
        self.assertEqual(t["versions"], {"TLSv1.2": t["handshakes"]}, fmt(t))
        self.assertEqual(t["resumed"], 0, fmt(t))
        f = self.fixed["tls_measured"]
        self.assertEqual(set(f["versions"]), {"TLSv1.3"}, fmt(f))
        self.assertGreater(f["resumed"], 0.5 * f["handshakes"], fmt(f))

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        self.assertEqual(ev.get("version"), "TLSv1.2", fmt(finding))
        self.assertGreaterEqual(ev.get("full_share", 0), 0.95, f"no handshake was resumed: "
                                f"{fmt(finding)}")
        self.assertGreater(ev.get("mean_ms", 0), 0, fmt(finding))
        rate = run["tls_measured"]["handshakes"] / run["duration_s"]
        self.assert_evidence_close(finding, "handshakes_per_s", rate, 0.3)
        rows = [t for t in self.report(run)["tls"] if t["pid"] == run["service_pid"]]
        self.assertTrue(rows and all(t["version"] == "TLSv1.2" and t["resumed"] is False
                                     for t in rows), f"tls rows: {fmt(rows)}")


class ConnectionChurnTest(ShopTestCase):
    """GET /profile: a new PostgreSQL connection per request vs the pool."""

    SCENARIO, KIND = "connection_churn", "connection_churn"

    def test_connections_match_truth(self):
        # Works without findings: one client connection to postgres per request.
        run = self.anti
        rows = [c for c in self.report(run)["connections"] if c["pid"] == run["service_pid"]
                and c["role"] == "client" and c["peer"] == run["peers"]["postgres"]]
        opened = sum(c["opened"] for c in rows)
        expected = run["endpoint_requests"] * run["measured"][run["endpoint"]][
            "db_connects_per_request"]
        self.assertGreaterEqual(opened, expected, fmt(rows))
        self.assertLessEqual(opened, expected + run["pool_size"] + 2, fmt(rows))

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        self.assertEqual(ev.get("peer"), run["peers"]["postgres"], fmt(finding))
        self.assert_evidence_close(finding, "connects_per_request",
                                   run["measured"][run["endpoint"]]["db_connects_per_request"],
                                   0.1)
        self.assertGreater(ev.get("connect_ms", 0), 0, fmt(finding))


class EventLoopBlockedTest(ShopTestCase):
    """POST /newsletter on the service's asyncio listener (one event-loop
    thread, 8 keep-alive clients): smtplib called synchronously in the
    coroutine vs awaited in a thread-pool executor."""

    SCENARIO, KIND = "event_loop_blocked", "event_loop_blocked"
    NEEDS_ENDPOINT = True  # the request the loop answered right after each block

    def test_truth(self):
        m = self.anti["measured"][self.anti["endpoint"]]
        self.assertEqual(self.anti["newsletter_mail"], "on_loop")
        self.assertEqual(m["loop_blocks"], self.anti["endpoint_requests"], fmt(m))
        self.assertEqual(self.anti["service"]["loop_blocks"], m["loop_blocks"],
                         fmt(self.anti["service"]))
        self.assertGreaterEqual(m["loop_blocked_ms_mean"], 0.9 * self.anti["smtp_delay_ms"],
                                fmt(m))
        f = self.fixed["measured"][self.fixed["endpoint"]]
        self.assertEqual(self.fixed["newsletter_mail"], "executor")
        self.assertEqual(f["loop_blocks"], 0, fmt(f))
        self.assertEqual(self.fixed["service"]["loop_executor_mails"],
                         self.fixed["endpoint_requests"], fmt(self.fixed["service"]))
        # Handing a mail to the executor takes the loop well under a
        # millisecond on average, but one hand-over can wait for the GIL or
        # a CPU (18.9 ms once, with both CPUs busy beside the test). A mail
        # sent on the loop would hold it for the sink's whole delay.
        self.assertLess(f["loop_blocked_ms_mean"], 0.05 * self.fixed["smtp_delay_ms"],
                        f"the fix blocked the loop: {fmt(f)}")
        self.assertLess(f["loop_blocked_ms_max"], 0.5 * self.fixed["smtp_delay_ms"],
                        f"the fix blocked the loop: {fmt(f)}")

    def test_loop_requests_counted_not_attributed(self):
        # The fixed twin's loop thread serves overlapping requests from the
        # start: waitscope must count them (test_http_rows) and see it as an
        # event loop, i.e. attribute none (no time in the breakdown), which
        # is also why its quiet result means something.
        rows = [h for h in self.report(self.fixed)["http"] if h["pid"] ==
                self.fixed["service_pid"] and h["endpoint"] == self.fixed["endpoint"]]
        self.assertEqual(len(rows), 1, fmt(self.report(self.fixed)["http"]))
        self.assertEqual(rows[0]["count"], self.fixed["endpoint_requests"], fmt(rows))
        self.assertEqual(set(rows[0]["breakdown_us"].values()), {0},
                         f"requests of the event loop were attributed: {fmt(rows)}")

    def test_no_other_finding(self):
        # Only the loop blocks: no per-request finding on the endpoint (its
        # requests are not attributed) and nothing at all in the fixed twin.
        for run, allowed in ((self.anti, {self.KIND}), (self.fixed, set())):
            kinds = {f["kind"] for f in self.findings(run)}
            self.assertEqual(kinds - allowed, set(),
                             f"{run['run']}: {fmt(self.report(run)['findings'])}")

    def check_evidence(self, finding, run):
        ev = finding["evidence"]
        m = run["measured"][run["endpoint"]]
        self.assertEqual(ev.get("target"), run["peers"]["smtp"], fmt(finding))
        self.assertEqual(ev.get("class"), "net", fmt(finding))
        self.assertEqual(len(self.findings(run, self.KIND)), 1,
                         fmt(self.findings(run, self.KIND)))
        # Blocked most of the recording: critical.
        self.assertEqual(finding["severity"], "critical", fmt(finding))
        # One block of ~smtp_delay_ms (the wait for the sink's 250) per mail
        # the service sent on the loop thread, and their time; the service
        # timed the whole smtplib call, a little more than the wait.
        self.assert_evidence_close(finding, "count", m["loop_blocks"], 0.20)
        self.assert_evidence_close(finding, "total_ms", m["loop_blocked_ms_total"], 0.20)
        self.assertGreaterEqual(ev.get("longest_ms", 0), 0.9 * run["smtp_delay_ms"], fmt(finding))
        self.assertLessEqual(ev["longest_ms"], 1.2 * m["loop_blocked_ms_max"], fmt(finding))

    def test_finding_names_the_loop_thread(self):
        finding, ev = self.the_finding(self.anti)
        self.assertEqual(ev.get("comm"), self.anti["loop_thread"], fmt(finding))
        self.assertIn(self.anti["loop_thread"], finding["summary"], fmt(finding))


class FullyFixedTest(tr.WaitscopeTestCase):
    """The whole shop with every fix, every endpoint at once (HTTP and
    HTTPS): no finding at all."""

    @classmethod
    def setUpClass(cls):
        tr.check_bpf_or_skip()
        truth = run_demo(cls.make_class_tmp(), "--scenario", "mixed", "--fixed")
        cls.run_ = truth["runs"][0]
        cls.report = None

    def get_report(self):
        if self.__class__.report is None:
            self.__class__.report = self.assert_valid_report(
                os.path.join(self.run_["dir"], "waitscope"))
        return self.__class__.report

    def test_demo_ran(self):
        self.assertEqual(self.run_["anti_patterns"], [])
        self.assertEqual(self.run_["load_errors"], 0, fmt(self.run_))
        self.assertEqual(self.run_["wrapper_exit"], 0)

    def test_every_endpoint_served(self):
        pid = self.run_["service_pid"]
        seen = {h["endpoint"]: h["count"] for h in self.get_report()["http"]
                if h["pid"] == pid and h["role"] == "server"}
        for endpoint, m in self.run_["measured"].items():
            self.assertEqual(seen.get(endpoint), m["requests"],
                             f"{endpoint}: waitscope {seen.get(endpoint)}, load {m['requests']}")

    def test_no_findings(self):
        findings = self.get_report()["findings"]
        self.assertEqual(findings, [], f"the fully fixed shop has findings: {fmt(findings)}")


def main():
    missing = [name for name, value in (("WAITSCOPE_BIN", tr.WAITSCOPE),
                                        ("REPORT_SCHEMA", tr.SCHEMA),
                                        ("REPORT_VALIDATOR", tr.VALIDATOR)) if not value]
    if missing:
        print(f"test_findings.py: set {', '.join(missing)} (see tests/bpf/CMakeLists.txt)",
              file=sys.stderr)
        return 2
    global SHOP_SCENARIO
    named = {a.split(".")[0] for a in sys.argv[1:] if not a.startswith("-")}
    classes = [globals().get(n) for n in named]
    if (len(classes) == 1 and isinstance(classes[0], type)
            and issubclass(classes[0], ShopTestCase)):
        SHOP_SCENARIO = classes[0].SCENARIO
    prog = unittest.main(module=sys.modules[__name__], argv=sys.argv, exit=False, verbosity=2)
    return tr.exit_status(prog.result, "findings", DEMO_SKIPS)


if __name__ == "__main__":
    sys.exit(main())
