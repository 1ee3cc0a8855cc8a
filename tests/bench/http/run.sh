#!/usr/bin/env bash
# tests/bench/http/run.sh - HTTP throughput of fleetwarden with wrk, next to its ceiling.
#
# Starts its own redis-server and a release build of fleetwarden on free loopback ports, then
# runs wrk (2 threads, 64 connections) against:
#   GET /healthz     no Redis, the bare server path
#   GET /v1/tokens   authenticated: token lookup (HMGET) + a ZRANGE + per-item reads from Redis,
#                    without the request rate limits, then with them counted (set far above what
#                    wrk sends, so every request is counted, in the token lookup's script, and none refused)
# Prints wrk's summary for each and a markdown table row set. Not part of the test suite.
# Usage: tests/bench/http/run.sh [SECONDS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/../../.."
DUR=${1:-10}
command -v wrk >/dev/null || { echo "apt-get install wrk" >&2; exit 2; }
[ -f build-release/build.ninja ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
meson compile -C build-release >/dev/null
TMP=$(mktemp -d)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free_port); HP=$(free_port); HP2=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
RPID=$!
trap 'kill $FPID $FPID2 $RPID 2>/dev/null; rm -rf "$TMP"' EXIT
sleep 0.5
export FLEETWARDEN_REDIS_URL=redis://127.0.0.1:$RP/0 FLEETWARDEN_LISTEN=127.0.0.1:$HP FLEETWARDEN_LOG_LEVEL=warn
openssl rand -hex 32 >"$TMP/kek"; chmod 600 "$TMP/kek"
export FLEETWARDEN_KEK_FILE=$TMP/kek   # serve refuses to start without one
TOKEN=$(build-release/fleetwarden token create --scope admin --name bench 2>/dev/null)
FLEETWARDEN_RATE_LIMIT_ADDRESS=0 FLEETWARDEN_RATE_LIMIT_TOKEN=0 \
  build-release/fleetwarden serve --no-workers >"$TMP/fw.log" 2>&1 &
FPID=$!
FLEETWARDEN_LISTEN=127.0.0.1:$HP2 FLEETWARDEN_RATE_LIMIT_ADDRESS=1000000 FLEETWARDEN_RATE_LIMIT_TOKEN=1000000 \
  build-release/fleetwarden serve --no-workers >"$TMP/fw2.log" 2>&1 &
FPID2=$!
sleep 0.5
run() {
  local name=$1; shift
  wrk -t2 -c64 -d2s "$@" >/dev/null 2>&1   # warm-up
  local out
  out=$(wrk -t2 -c64 -d"${DUR}s" --latency "$@")
  echo "### $name"; echo "$out"
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  ROWS+="| $name | $rps | $p50 | $p99 | ${errs:-none} |"$'\n'
}
ROWS=""
run "GET /healthz" "http://127.0.0.1:$HP/healthz"
run "GET /v1/tokens (auth + Redis)" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HP/v1/tokens"
run "GET /v1/tokens (auth + rate limits counted + Redis)" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HP2/v1/tokens"
echo
echo "| endpoint (wrk -t2 -c64, ${DUR}s) | req/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
printf "%s" "$ROWS"
