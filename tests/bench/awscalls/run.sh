#!/usr/bin/env bash
# tests/bench/awscalls/run.sh - AWS calls per second through aws/, against the emulator.
#
# Usage: tests/bench/awscalls/run.sh [BUILD_DIR] [N]
# Starts the emulator twice on free ports (as shipped, then with TCP_NODELAY
# via emu_nodelay.py), quotas off, and runs aws-calls-bench for STS
# GetCallerIdentity and IoT DescribeEndpoint: one kept-alive handle, a new
# client per call, and 2 worker threads. Stops each emulator by its PID.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
N=${2:-2000}
BENCH=$BUILD/tests/unit/aws_calls/aws-calls-bench
[ -x "$BENCH" ] || { echo "build $BENCH first" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run() {
  local label=$1 n=$2; shift 2
  /usr/bin/python3 "$@" --host 127.0.0.1 --port 0 --ready-file "$TMP/ready" --no-quotas >"$TMP/emu.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do [ -s "$TMP/ready" ] && break; sleep 0.1; done
  local port
  port=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$TMP/ready")
  for op in sts iot; do
    echo "== $label, $op, $n calls"
    env -i PATH=/usr/bin:/bin HOME="$TMP" AWS_ENDPOINT_URL="http://127.0.0.1:$port" \
      AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
      AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true "$BENCH" "$op" "$n" 2
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$TMP/ready"
}

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), cores: $(nproc), $(uname -srm)"
run "emulator with TCP_NODELAY" "$N" tests/bench/awscalls/emu_nodelay.py tests/awsemu/awsemu.py
run "emulator as shipped (Nagle on)" $((N / 10)) tests/awsemu/awsemu.py
