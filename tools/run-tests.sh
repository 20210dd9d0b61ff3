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
# The sanitizer build runs beside the normal build's bpf tier, and the fuzz
# build beside the sanitizer build's, each in the idle scheduling class
# (SCHED_IDLE): those tests mostly wait on workloads, servers and timers, and
# a task of the idle class yields its CPU as soon as any normal task wakes, so
# the tests keep the CPUs when they want them. The recorder's timing tests
# (ctest label `quiet`) run on a quiet machine, before each build starts.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh --test

passed=0
failed=0
skipped=0
# fail_run MESSAGE: ends the run, failed, with the counts so far (a failure
# is at least one, also when what failed was no test).
fail_run() {
  echo "run-tests: $1"
  echo "tests: $passed passed, $((failed > 0 ? failed : 1)) failed, $skipped skipped"
  exit 1
}
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
  if [[ $rc -ne 0 ]]; then fail_run "ctest $* in $dir failed"; fi
}

# phase NAME: a section header with the seconds since the start, so a CI log
# shows where the time went.
phase() { echo "== $* == [${SECONDS} s]"; }

# kill_tree PID: ends a process and every process under it. Each process is
# stopped before its children are listed, so that it cannot start one the
# walk would miss; SIGCONT lets it act on the SIGTERM.
kill_tree() {
  local child
  kill -STOP "$1" 2>/dev/null || return 0
  for child in $(pgrep -P "$1" || true); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null || true
  kill -CONT "$1" 2>/dev/null || true
}

# One build at a time runs beside the tests; its output waits in a file so
# that it does not interleave with theirs.
bg_pid=""
bg_log=""
bg_name=""
# start_build NAME COMMAND...: starts a build in the idle class.
start_build() {
  bg_name=$1
  shift
  bg_log=$(mktemp)
  phase "build ($bg_name) starts beside the tests; its log follows them"
  chrt --idle 0 "$@" >"$bg_log" 2>&1 &
  bg_pid=$!
}
# finish_build: waits for the build, shows its log, and fails the run if it failed.
finish_build() {
  phase "waiting for the build ($bg_name)"
  local rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
  cat "$bg_log"
  rm -f "$bg_log"
  bg_log=""
  if [[ $rc -ne 0 ]]; then fail_run "the build ($bg_name) failed (exit $rc)"; fi
  phase "build ($bg_name) done"
}
stop_build() {
  if [[ -n "$bg_pid" ]]; then kill_tree "$bg_pid"; fi
  if [[ -n "$bg_log" ]]; then rm -f "$bg_log"; fi
}
trap stop_build EXIT

phase "build (RelWithDebInfo)"
g1=(-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
  -DCMAKE_C_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS_DEBUG=-g1)
./tools/build.sh build "${g1[@]}"

phase "tests"
run_ctest build -j2 -L unit
# Label `quiet` (tests/bpf/CMakeLists.txt): the recorder's timing tests run
# before a build starts beside the others.
run_ctest build -L quiet
start_build "ASan + UBSan, clang" env CC=clang CXX=clang++ ./tools/build.sh build-asan \
  -DWAITSCOPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DWAITSCOPE_BENCH=OFF "${g1[@]}"
run_ctest build -L bpf -LE quiet
run_ctest build -L package
finish_build

phase "tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest build-asan -L quiet -LE 'demo|flavour'
start_build "fuzz targets: clang, libFuzzer + ASan/UBSan" \
  env CC=clang CXX=clang++ BUILD_TARGET=fuzz_targets ./tools/build.sh build-fuzz \
  -DWAITSCOPE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug "${g1[@]}" \
  -DWAITSCOPE_FUZZ_SECONDS="${WAITSCOPE_FUZZ_SECONDS:-20}"
run_ctest build-asan -j2 -L unit
run_ctest build-asan -L bpf -LE 'demo|flavour|quiet'
finish_build

phase "fuzz targets (${WAITSCOPE_FUZZ_SECONDS:-20} s each)"
run_ctest build-fuzz -j2 -L fuzz

phase "done"
echo "tests: $passed passed, $failed failed, $skipped skipped"
