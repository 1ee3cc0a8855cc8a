#!/usr/bin/env bash
# tests/bench/dataplane/run.sh - the emulated AWS IoT data plane (tests/awsemu broker): MQTT connections
# per second, publish round trips per second, memory with 200 connected clients; writes RESULTS.md here.
#
# usage: tests/bench/dataplane/run.sh [bench.py options]   (e.g. --connects 400 --round-trips 2000 --clients 200)
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=tests/bench/dataplane/RESULTS.md
table=$(/usr/bin/python3 tests/bench/dataplane/bench.py "$@")
{
  echo "# Data plane benchmark (tests/bench/dataplane)"
  echo
  echo "Run: \`tests/bench/dataplane/run.sh $*\` on $(hostname) ($(uname -m), $(nproc) CPUs)."
  echo "The emulator (tests/awsemu/awsemu.py, one broker thread) and the client (raw Python ssl, hand-written"
  echo "MQTT 3.1.1 packets, TCP_NODELAY) share the machine; method in bench.py. The machine is shared with"
  echo "other engineers' runs: read the figures as +/-30%."
  echo
  echo "$table"
} > "$out"
cat "$out"
