#!/usr/bin/env bash
# The README's test command: installs dependencies, builds waitscope twice
# (normal, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# the whole suite in both: unit tests (no root) and BPF/end-to-end tests
# (root; they skip loudly, never silently pass, when BPF is unavailable).
# The slowest end-to-end groups (label `demo`: the shop demo's findings), the
# wire tests repeated through the other hook flavours (label `flavour`: the
# kernel side differs, the user-space path they exercise does not) and the
# Debian package test (label `package`: installs the .deb made from the
# tested build) run once, in the normal build; the sanitizer build leaves out
# the benchmark tools, which no test runs. The normal build uses the system
# compiler (GCC, as the package ships); the sanitizer build uses clang, which
# compiles this code at -O0 in a quarter less time (325-328 against 423 s in CI
# runs on a 2-core VM) and puts a second compiler's warnings over the whole tree. Then every
# parser's libFuzzer target runs for a bounded time, two at once (each is
# single-threaded).
# All three builds keep line tables only (-g1): sanitizer reports and gdb
# backtraces still name files and lines, and compiling takes a quarter less
# time than with full debug info (the suite's largest single cost).
# The sanitizer and fuzz builds run while most of the normal build's bpf tier
# does, in the idle scheduling class (SCHED_IDLE): those tests mostly wait on
# workloads, servers and timers, and a task of the idle class yields its CPU
# as soon as any normal task wakes, so the tests keep the CPUs when they want
# them. The recorder's timing tests run before the builds start.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh --test

passed=0
failed=0
skipped=0
# run_ctest BUILD_DIR ARGS...: runs ctest, echoes its output, adds up its counts.
run_ctest() {
  local dir=$1
  shift
  local log
  log=$(mktemp)
  local rc=0
  (cd "$dir" && ctest --output-on-failure "$@") 2>&1 | tee "$log" || rc=$?
  local summary
  summary=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n1 || true)
  if [[ -n "$summary" ]]; then
    local f total s
    f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$summary")
    total=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$summary")
    s=$(grep -c '(Skipped)' "$log" || true)
    failed=$((failed + f))
    skipped=$((skipped + s))
    passed=$((passed + total - f - s))
  fi
  rm -f "$log"
  if [[ $rc -ne 0 ]]; then
    echo "run-tests: ctest $* in $dir failed"
    echo "tests: $passed passed, $((failed > 0 ? failed : 1)) failed, $skipped skipped"
    exit 1
  fi
}

# phase NAME: a section header with the seconds since the start, so a CI log
# shows where the time went.
phase() { echo "== $* == [${SECONDS} s]"; }

# kill_tree PID: ends a background build and every process under it.
kill_tree() {
  local child
  for child in $(pgrep -P "$1" || true); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}

phase "build (RelWithDebInfo)"
g1=(-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
  -DCMAKE_C_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS_DEBUG=-g1)
./tools/build.sh build "${g1[@]}"

phase "tests"
run_ctest build -j2 -L unit
# The recorder's tests compare off-CPU totals with the workload's own clocks
# to a few percent. With the builds beside them, the fsync and page-fault
# totals overran those bounds (while the other 45 bpf groups passed), so they
# run before the builds start.
run_ctest build -L bpf -R '^bpf_record[.]'

phase "sanitizer and fuzz builds start beside the tests (idle class; their log follows the tests)"
later_log=$(mktemp)
(
  set -e
  phase "build (ASan + UBSan, clang)"
  CC=clang CXX=clang++ chrt --idle 0 ./tools/build.sh build-asan -DWAITSCOPE_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug -DWAITSCOPE_BENCH=OFF "${g1[@]}"
  phase "build (fuzz targets: clang, libFuzzer + ASan/UBSan)"
  CC=clang CXX=clang++ BUILD_TARGET=fuzz_targets chrt --idle 0 ./tools/build.sh build-fuzz \
    -DWAITSCOPE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug "${g1[@]}" \
    -DWAITSCOPE_FUZZ_SECONDS="${WAITSCOPE_FUZZ_SECONDS:-20}"
  phase "sanitizer and fuzz builds done"
) >"$later_log" 2>&1 &
later_pid=$!
trap 'kill_tree "$later_pid"; rm -f "$later_log"' EXIT

run_ctest build -L bpf -E '^bpf_record[.]'
run_ctest build -L package

phase "waiting for the sanitizer and fuzz builds"
later_rc=0
wait "$later_pid" || later_rc=$?
trap 'rm -f "$later_log"' EXIT
cat "$later_log"
if [[ $later_rc -ne 0 ]]; then
  echo "run-tests: the sanitizer or fuzz build failed (exit $later_rc)"
  echo "tests: $passed passed, $((failed > 0 ? failed : 1)) failed, $skipped skipped"
  exit 1
fi

phase "tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest build-asan -j2 -L unit
run_ctest build-asan -L bpf -LE 'demo|flavour'

phase "fuzz targets (${WAITSCOPE_FUZZ_SECONDS:-20} s each)"
run_ctest build-fuzz -j2 -L fuzz

phase "done"
echo "tests: $passed passed, $failed failed, $skipped skipped"
