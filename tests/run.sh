#!/usr/bin/env bash
# tests/run.sh - the whole test suite, on a machine that has never seen the project.
#
# 1. installs the Debian packages that are missing (apt-get; needs root),
# 2. builds the normal and the AddressSanitizer+UBSan builds (meson),
# 3. checks the layers (tests/tools/check_layers.py: no #include across a layer the wrong way,
#    docs/ARCHITECTURE.md), the source habits (tests/tools/check_source.py: no banned function,
#    no "issue N" comment), the Lua scripts' field names against the records' field tables
#    (tests/unit/redis/lua_embed_test.py) and the format (.clang-format,
#    tests/tools/check_format.sh), runs the cmocka unit tests in both builds and a short libFuzzer
#    run of every fuzz target,
# 4. runs the integration tests (Python 3 standard library + Debian packages) against the
#    sanitizer build of the real binary, a real redis-server and the AWS emulator,
#    each test class starting and stopping (by PID) what it needs, FW_TEST_PARALLEL (default 3)
#    classes at a time,
# 5. runs a few integration classes again against a ThreadSanitizer build (build-tsan) of the
#    threaded server and job runtime (not with --quick or -k; FW_SKIP_TSAN=1 skips it),
# 6. ends with one line "N passed, M failed"; the exit code is non-zero on any failure.
#
# Options: --quick (skip the sanitizer build), -k PATTERN (only integration tests matching; given
# again, tests matching any of them).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
PATTERN=""
KARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    -k) PATTERN="$PATTERN $2"; KARGS+=(-k "$2"); shift ;;
    *) echo "usage: tests/run.sh [--quick] [-k PATTERN]" >&2; exit 2 ;;
  esac
  shift
done

install_missing() {
  bash deploy/local/install-packages.sh || return 1
  bash tests/tools/install-npm-tools.sh || echo "WARNING: Node packages not installed (tests/tools, tests/devices); the OpenAPI lint and device tests will fail"
}

build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  meson compile -C "$dir" >"$dir.compile.log" 2>&1 || { tail -50 "$dir.compile.log"; return 1; }
}

# The container tests' images (deploy/container/build-image.sh: debootstrap, then podman build;
# minutes on a fresh machine, cached after) are built in the background while the host builds,
# unit tests and fuzzing run; the tests find them ready or wait on the script's lock. Its log:
# tests/.tmp/images.log. Nothing happens where podman cannot run (the tests say so and skip).
prebuild_images() {
  [ -z "$PATTERN" ] && [ -z "${FW_SKIP_CONTAINERS:-}" ] && [ "$(id -u)" -eq 0 ] &&
    command -v podman >/dev/null && command -v debootstrap >/dev/null || return 0
  mkdir -p tests/.tmp
  ( for t in runtime stunnel awsemu redis; do bash deploy/container/build-image.sh "$t" || break; done
  ) >tests/.tmp/images.log 2>&1 &
  IMAGES_PID=$!
}

PASSED=0
FAILED=0
add_counts() { PASSED=$((PASSED + $1)); FAILED=$((FAILED + $2)); }

# Counts cmocka cases from the meson test log ("[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)");
# a test program that crashed or timed out without cmocka's summary still counts as one failure.
unit_tests() {
  local dir=$1
  echo "== unit tests ($dir)"
  local out
  out=$(meson test -C "$dir" --suite unit --print-errorlogs --num-processes 2 2>&1)
  echo "$out" | grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout):"
  local log="$dir/meson-logs/testlog.txt" p f programs_failed
  p=$(grep -oE '\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  f=$(grep -oE '\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  programs_failed=$(echo "$out" | awk '/^(Fail|Timeout):/ {s+=$2} END {print s+0}')
  [ "$f" -lt "$programs_failed" ] && f=$programs_failed
  echo "unit ($dir): $p passed, $f failed"
  add_counts "$p" "$f"
}

# A short run of every libFuzzer target (tests/fuzz/run.sh prints "fuzz: N passed, M failed").
fuzz_smoke() {
  echo "== fuzz smoke run"
  local f
  f=$(mktemp)
  bash tests/fuzz/run.sh 3 >"$f" 2>&1
  grep -E '^(fuzz|    )' "$f"
  add_counts $(awk '/^fuzz: [0-9]+ passed, [0-9]+ failed$/ {p=$2; f=$4} END {print (p == "" ? "0 1" : p " " f)}' "$f")
  rm -f "$f"
}

# docs/ARCHITECTURE.md's rules: which folder may include which (counts as one test).
layer_check() {
  echo "== layers"
  if /usr/bin/python3 tests/tools/check_layers.py; then add_counts 1 0; else add_counts 0 1; fi
}

# What a grep keeps in the product code: no strcpy/atoi/sscanf/... (the banned list of
# ../shared/STYLE.md), no "issue N" comments (tests/tools/check_source.py; counts as one test).
source_check() {
  echo "== source habits"
  if /usr/bin/python3 tests/tools/check_source.py; then add_counts 1 0; else add_counts 0 1; fi
}

# The Lua scripts name a record's hash fields by its field table (JOB_FIELDS, CLAIM_FIELDS), which
# lua_embed.py resolves at build time: tests/unit/redis/lua_embed_test.py shows that a name the
# table lacks, or a stored row no script names, fails the build, and that no script writes a field
# name by hand (prints "lua_embed: N passed, M failed").
lua_fields_check() {
  echo "== Lua field names"
  local out
  out=$(/usr/bin/python3 tests/unit/redis/lua_embed_test.py 2>&1)
  echo "$out" | tail -1
  echo "$out" | grep -q '^lua_embed: [0-9]* passed, 0 failed$' || echo "$out"
  add_counts $(echo "$out" | awk '/^lua_embed: [0-9]+ passed, [0-9]+ failed$/ {p=$2; f=$4} END {print (p == "" ? "0 1" : p " " f)}')
}

# .clang-format: any place clang-format would rewrite fails this check (one test); the list of
# files and counts is printed. Fix with clang-format -i FILE.
format_check() {
  echo "== clang-format"
  local out
  out=$(bash tests/tools/check_format.sh --report)
  echo "$out" | tail -1
  if echo "$out" | grep -q '^clang-format: 0 violations'; then add_counts 1 0; else echo "$out"; add_counts 0 1; fi
}

# integration_tests DIR [-k PATTERN ...]: the integration tests against DIR's binary (the -k given
# here, else those of the command line), and the runner's own test (tests/lib/test_runner.py).
integration_tests() {
  local dir=$1; shift
  echo "== integration tests (binary from $dir), ${SECONDS} s into the run"
  local json
  json=$(mktemp)
  local args=(tests/integration tests/awsemu/tests tests/lib --json "$json" --parallel "${FW_TEST_PARALLEL:-3}")
  if [ $# -gt 0 ]; then args+=("$@"); elif [ -n "$PATTERN" ]; then args+=("${KARGS[@]}"); fi
  FW_BUILD_DIR="$ROOT/$dir" FW_REDIS_SERVER="$(command -v redis-server)" \
    FW_AWSEMU="$ROOT/tests/awsemu/awsemu.py" FW_VALIDATE_RESPONSES=1 \
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    /usr/bin/python3 tests/lib/runner.py "${args[@]}" 2>&1
  if [ -s "$json" ]; then
    add_counts "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["passed"])' "$json")" \
               "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed"])' "$json")"
  else
    echo "integration runner did not finish"
    add_counts 0 1
  fi
  rm -f "$json"
}

# ThreadSanitizer: the HTTP server's event-loop threads, the job runtime's workers, heartbeat and
# scheduler, and shutdown across them. The classes that drive those run once more against
# build-tsan (a few, to keep the suite's time); every report goes to tests/.tmp/tsan/tsan.PID, and
# any report is one failed test (the tests themselves may pass: a race seldom changes an answer).
# (test_jobs_queue.Control is left out: its delayed job is timed from the probe's own clock, and a
# TSan process takes long enough to start that it runs "early".)
TSAN_CLASSES=(-k test_http_contract. -k test_jobs_queue.Shutdown -k test_jobs_queue.Crash
              -k test_jobs_api.JobsApi -k test_request_limits. -k test_lifecycle.GracefulShutdown
              -k test_lifecycle.WorkerHealth)
TSAN_BUILD_PID=""
# The TSan build compiles in the background while the integration tests run (they mostly wait on
# leases, quotas and timeouts: the cores are free); tsan_tests waits for it.
prebuild_tsan() {
  [ -z "$PATTERN" ] && [ "$QUICK" -eq 0 ] && [ -z "${FW_SKIP_TSAN:-}" ] || return 0
  mkdir -p tests/.tmp
  ( build build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized >tests/.tmp/tsan-build.out 2>&1 ) &
  TSAN_BUILD_PID=$!
}

tsan_tests() {
  echo "== ThreadSanitizer build (build-tsan, started in the background), ${SECONDS} s into the run"
  if ! wait "$TSAN_BUILD_PID"; then
    cat tests/.tmp/tsan-build.out
    add_counts 0 1
    return
  fi
  local logs="$ROOT/tests/.tmp/tsan"
  rm -rf "$logs" && mkdir -p "$logs"
  TSAN_OPTIONS="log_path=$logs/tsan:halt_on_error=0:second_deadlock_stack=1:history_size=4" \
    integration_tests build-tsan "${TSAN_CLASSES[@]}"
  local reports
  reports=$(find "$logs" -type f | sort)
  if [ -z "$reports" ]; then
    echo "ThreadSanitizer: no reports"
    add_counts 1 0
  else
    echo "ThreadSanitizer: $(echo "$reports" | wc -l) process(es) reported; the first:"
    head -60 "$(echo "$reports" | head -1)"
    add_counts 0 1
  fi
}

install_missing || { echo "0 passed, 1 failed"; exit 1; }
IMAGES_PID=""
prebuild_images
echo "== build"
build build -Dbuildtype=debugoptimized || { echo "0 passed, 1 failed"; exit 1; }
SAN=build
if [ "$QUICK" -eq 0 ]; then
  build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug ||
    { echo "0 passed, 1 failed"; exit 1; }
  SAN=build-asan
fi

[ -z "$PATTERN" ] && layer_check
[ -z "$PATTERN" ] && source_check
[ -z "$PATTERN" ] && lua_fields_check
[ -z "$PATTERN" ] && format_check
[ -z "$PATTERN" ] && unit_tests build
[ -z "$PATTERN" ] && [ "$QUICK" -eq 0 ] && unit_tests build-asan
[ -z "$PATTERN" ] && [ "$QUICK" -eq 0 ] && fuzz_smoke
prebuild_tsan
integration_tests "$SAN"
[ -n "$TSAN_BUILD_PID" ] && tsan_tests

[ -n "$IMAGES_PID" ] && wait "$IMAGES_PID"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
