#!/usr/bin/env bash
# tests/bench/queue/drain_stats.sh - one batch drain, Redis's side of it in detail.
#
# Usage: tests/bench/queue/drain_stats.sh [BUILD_DIR] [WORKERS] [RUNS] [N]
# For each run: a fresh redis-server (port FW_PORT_BASE, default 23990), N test.noop jobs enqueued,
# Redis's statistics reset, then `jobs-probe worker --workers WORKERS --no-aux` until the lane and
# the running set are empty. Prints Redis's CPU (user + system) per job, jobs/s, finishes per
# EVALSHA (the group's batches: service/redis/script_group.h) and, with RUNS=1, INFO commandstats
# per job: what the scripts' own calls cost inside EVALSHA. A complement to run.sh (which compares
# builds and BullMQ); the numbers are noisy on a shared machine, run it several times.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
W=${2:-16}
RUNS=${3:-3}
N=${4:-20000}
PORT=${FW_PORT_BASE:-23990}
PROBE="$BUILD/tests/tools/jobs-probe/jobs-probe"
[ -x "$PROBE" ] || { echo "build $BUILD first (meson)" >&2; exit 2; }
export FLEETWARDEN_REDIS_URL=redis://127.0.0.1:$PORT
unset FLEETWARDEN_PREFIX # the keys read below are the default prefix's
cli() { redis-cli -p "$PORT" "$@" | tr -d '\r'; }
cpu() { cli info cpu | awk -F: '/used_cpu_(user|sys):/ {s += $2} END {printf "%.6f", s}'; }
for r in $(seq 1 "$RUNS"); do
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
  RP=$!
  trap 'kill $RP 2>/dev/null || true' EXIT
  until cli ping >/dev/null 2>&1; do sleep 0.05; done
  "$PROBE" enqueue --type test.noop --count "$N" >/dev/null
  cli config resetstat >/dev/null
  c0=$(cpu); t0=$(date +%s.%N)
  "$PROBE" worker --workers "$W" --no-aux >/dev/null 2>&1 &
  WP=$!
  # Until drained; a worker that died, or 10 minutes, ends the run with an error.
  deadline=$((SECONDS + 600))
  while [ "$(cli llen fw:q:default)" != 0 ] || [ "$(cli zcard fw:running)" != 0 ]; do
    if ! kill -0 "$WP" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "drain_stats: the worker stopped or the drain took over 10 minutes" >&2
      kill "$WP" "$RP" 2>/dev/null || true
      exit 1
    fi
    sleep 0.02
  done
  c1=$(cpu); t1=$(date +%s.%N)
  stats=$(cli info commandstats)
  kill "$WP"; wait "$WP" 2>/dev/null || true
  kill "$RP"; wait "$RP" 2>/dev/null || true
  evals=$(sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' <<<"$stats")
  STATS=$stats /usr/bin/python3 - "$W" "$N" "$c0" "$c1" "$t0" "$t1" "${evals:-0}" "$RUNS" <<'PY'
import os, re, sys
w, n, c0, c1, t0, t1, evals, runs = sys.argv[1:]
n = int(n)
print("workers %s: Redis CPU %.1f us/job, %.0f jobs/s, %.2f finishes per EVALSHA" % (
    w, (float(c1) - float(c0)) / n * 1e6, n / (float(t1) - float(t0)), n / max(int(evals), 1)))
if runs == "1":
    for line in os.environ["STATS"].splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+)", line)
        if m and int(m.group(2)) >= n // 10:
            print("  %-16s %6.2f calls/job %6.1f us/job" % (m.group(1), int(m.group(2)) / n, int(m.group(3)) / n))
PY
done
