#!/usr/bin/env bash
# tests/bench/queue/run.sh - job queue throughput, CPU and memory, side by side with BullMQ (bench.py).
#
# Usage: tests/bench/queue/run.sh [BUILD_DIR] [N] [RUNS] [--no-bullmq] [--also LABEL=BUILD_DIR]...
#        [--workers 1,2,4,8,16] [--no-stream] [--sparse] [--pin-redis]
# Needs a built jobs-probe (meson), redis-server and, for the BullMQ rows, node and npm: BullMQ is
# installed for this benchmark only, from tests/bench/queue/bullmq/package-lock.json (npm ci), the
# first time. Builds raw-queue (the bare hiredis ceiling) into a temp dir. Prints markdown tables.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
N=${2:-20000}
RUNS=${3:-3}
shift 3 2>/dev/null || shift $#
EXTRA=("$@")
NO_BULLMQ=""
for a in "${EXTRA[@]}"; do [ "$a" = --no-bullmq ] && NO_BULLMQ=--no-bullmq; done
[ -x "$BUILD/tests/tools/jobs-probe/jobs-probe" ] || { echo "build $BUILD first (meson)" >&2; exit 2; }
if [ "$NO_BULLMQ" != "--no-bullmq" ] && [ ! -d tests/bench/queue/bullmq/node_modules/bullmq ]; then
  (cd tests/bench/queue/bullmq && npm ci --no-audit --no-fund >/dev/null)
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -pthread -o "$TMP/raw-queue" tests/bench/queue/raw_queue.c \
  $(pkg-config --cflags --libs hiredis)
FW_BUILD_DIR="$BUILD" /usr/bin/python3 tests/bench/queue/bench.py "$BUILD" "$TMP/raw-queue" "$N" "$RUNS" "${EXTRA[@]}"
