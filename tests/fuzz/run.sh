#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...] - build the libFuzzer
# targets (clang build dir build-fuzz, ASan+UBSan) and run each briefly.
#
# SECONDS_PER_TARGET defaults to 5 (the smoke run tests/run.sh does); a
# longer session is the same command with a bigger number. TARGET names
# (e.g. aws_xml) limit the run. Each target starts from its seed corpus
# tests/fuzz/corpus/<target>/ (read-only: new inputs go to a scratch dir
# under build-fuzz/fuzz-work/) with tests/fuzz/dict/<dict>.dict; crashes,
# leaks and timeouts are written to build-fuzz/fuzz-artifacts/<target>/.
# Two targets run at a time.
#
# The last line is "fuzz: N passed, M failed" (one count per target); the
# exit code is non-zero when any target failed or the build did.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECS=${1:-5}
shift || true
case "$SECS" in '' | *[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;; esac
BUILD=${FW_FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${FW_FUZZ_JOBS:-2}

# target -> dictionary (tests/fuzz/dict/<name>.dict)
declare -A DICT=(
  [route_tokens]=json [route_claims]=json [route_templates]=json [route_incidents]=json
  [route_watch]=json [fleet_spec]=json [watch_settings]=json [template_check]=json
  [aws_xml]=xml [aws_err]=awserr [sigv4]=sigv4 [keys_csr]=pem [config]=config
  [creds_ini]=ini [creds_answers]=creds [router]=router [job_payload]=json [dataplane_answers]=json
)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=($(printf '%s\n' "${!DICT[@]}" | sort))

ensure_clang() {
  local rt
  rt=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | head -1)
  if command -v clang >/dev/null && [ -n "$rt" ]; then return 0; fi
  echo "== installing clang and libclang-rt-14-dev"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1; }
}

build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
      >"$BUILD.setup.log" 2>&1 || { tail -30 "$BUILD.setup.log"; return 1; }
  fi
  local t names=()
  for t in "${TARGETS[@]}"; do names+=("tests/fuzz/fuzz_$t"); done
  # ninja regenerates build.ninja first when a meson.build changed, so new targets are known.
  ninja -C "$BUILD" "${names[@]}" >"$BUILD.compile.log" 2>&1 || { tail -40 "$BUILD.compile.log"; return 1; }
}

# Runs one target; prints one result line; returns libFuzzer's status.
run_one() {
  local t=$1 bin="$BUILD/tests/fuzz/fuzz_$t"
  local work="$BUILD/fuzz-work/$t" art="$BUILD/fuzz-artifacts/$t" log="$BUILD/fuzz-logs/$t.log"
  local seeds="tests/fuzz/corpus/$t" dict="tests/fuzz/dict/${DICT[$t]:-none}.dict"
  mkdir -p "$work" "$art" "$(dirname "$log")"
  local args=(-max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=16384
              -print_final_stats=1 -artifact_prefix="$art/")
  [ -f "$dict" ] && args+=(-dict="$dict")
  local dirs=("$work")
  [ -d "$seeds" ] && dirs+=("$seeds")
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    FLEETWARDEN_LOG_LEVEL=error \
    "$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
  local rc=$?
  local execs
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ok (${execs:-?} runs in ${SECS}s)"
  else
    echo "fuzz $t: FAILED (exit $rc; log $log; artifacts in $art/)"
    grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|^artifact_prefix|Test unit written' "$log" | head -6 | sed 's/^/    /'
  fi
  return $rc
}

ensure_clang || { echo "clang or libFuzzer is missing and could not be installed"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
echo "== build ($BUILD)"
build || { echo "fuzz: 0 passed, 1 failed"; exit 1; }
echo "== fuzz ${#TARGETS[@]} targets, ${SECS}s each, $JOBS at a time"
RESULTS=$(mktemp -d)
running=0
for t in "${TARGETS[@]}"; do
  if [ ! -x "$BUILD/tests/fuzz/fuzz_$t" ]; then
    echo "fuzz $t: FAILED (no such target)"; echo 1 >"$RESULTS/$t"; continue
  fi
  ( run_one "$t"; echo $? >"$RESULTS/$t" ) &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait
PASSED=0
FAILED=0
for t in "${TARGETS[@]}"; do
  if [ "$(cat "$RESULTS/$t" 2>/dev/null)" = 0 ]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi
done
rm -rf "$RESULTS"
echo "fuzz: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
