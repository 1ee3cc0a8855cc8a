#!/usr/bin/env bash
# tests/bench/fleetprov/run.sh - fleet provisioning calls per second of tests/awsemu/fleetprov.py called
# directly (no MQTT), with an empty registry and with 5,000 devices already registered; writes RESULTS.md here.
#
# usage: tests/bench/fleetprov/run.sh [fleetprov_bench.py options]   (e.g. --n 100 --warm 0 for a quick run)
set -euo pipefail
cd "$(dirname "$0")/../../.."
echo "load average at the start: $(cut -d" " -f1-3 /proc/loadavg)"
/usr/bin/python3 tests/bench/fleetprov/fleetprov_bench.py --out tests/bench/fleetprov/RESULTS.md "$@"
echo "load average at the end: $(cut -d" " -f1-3 /proc/loadavg)" | tee -a tests/bench/fleetprov/RESULTS.md
