#!/usr/bin/env bash
# tests/bench/run-all.sh - every benchmark of the project in one go; regenerates
# tests/bench/RESULTS.md (the one report: each figure next to its ceiling, measured in the same run).
# Takes 15-25 minutes. Not part of the test suite. Needs root for apt-get (wrk) when wrk is missing.
#
# usage: tests/bench/run-all.sh [--quick] [--only NAME...]
#   --quick  short runs, to check the script itself
#   --only   run only these benchmarks, keep the other logs of the last run, rewrite the report
#
# Benchmarks (each prints its own table; logs kept in tests/bench/.last-run/):
#   http    tests/bench/http/run.sh       HTTP server: /healthz and an authenticated read
#   load    tests/bench/load/run.sh       wrk on the read endpoints, alone and during a bulk rotation,
#                                         + the ceilings (MHD static, MHD + 1 Redis GET) measured here
#   queue   tests/bench/queue/run.sh      jobs/s end to end vs raw hiredis LPUSH+BLMOVE/LREM
#   sigv4   tests/bench/sigv4/run.sh      our signer vs awscrt vs botocore
#   claims  tests/bench/claims/run.sh     claims/min vs the emulator's quota; disable latency
#   watch   tests/bench/watch/run.sh      CloudWatch calls per cycle vs ceil(queries/500)
#   hostile tests/bench/hostile/run.sh    an admin's request under 2,000 hostile connections from one address
#   claimsidx tests/bench/claims_index/run.sh  Redis time per filtered GET /v1/claims, 20,000 claims
#   multiproc tests/bench/multiproc/run.sh 1 serve + 1 worker vs 2 + 2 on one Redis
#   devices tests/bench/devices/run.sh    devices/min provisioning through the emulator vs AWS's quotas
set -uo pipefail
cd "$(dirname "$0")/../.."
QUICK=0
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --only) shift; ONLY="$*"; break ;;
    *) echo "usage: tests/bench/run-all.sh [--quick] [--only NAME...]" >&2; exit 2 ;;
  esac
  shift
done
OUT=tests/bench/.last-run
[ -z "$ONLY" ] && rm -rf "$OUT"
mkdir -p "$OUT"
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null || { echo "apt-get install wrk" >&2; exit 2; }
meson compile -C build >/dev/null || exit 1
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
meson compile -C build-release >/dev/null || exit 1

if [ "$QUICK" -eq 1 ]; then
  HTTP_S=3; LOAD=(build-release 3 100); QUEUE=(build 2000 1); SIGV4=(build 20000 1)
  CLAIMS=(build --reps 3 --bulk 500 --create 60); WATCH=(build 100 1000)
  HOSTILE=(build -- --seconds 5 --hostile 400); CLAIMSIDX=(build)
  MULTIPROC=(build --claims 60 --reps 1 --seconds 3); DEVICES=(build --devices 40 --concurrency 10)
else
  HTTP_S=10; LOAD=(build-release 30 1000); QUEUE=(build 20000 3); SIGV4=(build 200000 5)
  CLAIMS=(build --reps 20 --bulk 10000 --create 600); WATCH=(build 100 1000 10000)
  HOSTILE=(build -- --seconds 20); CLAIMSIDX=(build)
  MULTIPROC=(build --claims 300 --reps 2 --seconds 6); DEVICES=(build --devices 150 --concurrency 20)
fi

run() {
  local name=$1; shift
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  echo "== $name: $*"
  local t0=$SECONDS
  "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "$rc $((SECONDS - t0))" >"$OUT/$name.status"
  echo "   exit $rc in $((SECONDS - t0)) s"
}
START=$(date -u +%Y-%m-%dT%H:%MZ)
[ -n "$ONLY" ] && [ -f "$OUT/start" ] && START="$(cat "$OUT/start") (rerun of $ONLY at $START)"
[ -z "$ONLY" ] && echo "$START" >"$OUT/start"
run load   tests/bench/load/run.sh "${LOAD[@]}" "$OUT/load.json"
run http   tests/bench/http/run.sh "$HTTP_S"
run queue  tests/bench/queue/run.sh "${QUEUE[@]}"
run sigv4  tests/bench/sigv4/run.sh "${SIGV4[@]}"
run claims tests/bench/claims/run.sh "${CLAIMS[@]}" --out "$OUT/claims.md"
run watch  tests/bench/watch/run.sh "${WATCH[@]}"
run hostile tests/bench/hostile/run.sh "${HOSTILE[@]}"
run claimsidx tests/bench/claims_index/run.sh "${CLAIMSIDX[@]}"
run multiproc tests/bench/multiproc/run.sh "${MULTIPROC[@]}" --out "$OUT/multiproc.md"
run devices tests/bench/devices/run.sh "${DEVICES[@]}" --out "$OUT/devices.md"
/usr/bin/python3 tests/bench/report.py "$OUT" "$START" >tests/bench/RESULTS.md
echo "wrote tests/bench/RESULTS.md"
