#!/usr/bin/env python3
"""Filtered claim lists: Redis time per GET /v1/claims request (issue 17, item 7).

A redis-server is loaded with N claims in the layout of the version before the state indexes
(hashes, P claims, P claims:f:FLEET; no state index), spread over 4 fleets: every 10th active,
every 200th rotating, 5% inactive, the rest revoked, newest mostly revoked. `fleetwarden serve
--no-workers` (the binary of BUILD_DIR) starts on it; a binary with the indexes builds them at
start-up (the time until P claims:idx appears is reported). Then each query runs REPS times with a
read token and the Redis time of the list script is read from INFO commandstats (usec of EVAL,
which includes the commands the script runs) before and after; HTTP latency is measured by the
client. Run it with the build before the change and after to compare (run.sh does both when given
two build directories).

usage: bench.py BUILD_DIR [--claims N] [--reps N]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import benchlib  # noqa: E402

SEED_LUA = """
local n0, n = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = n0, n0 + n - 1 do
  local id = 'clm_' .. string.format('%024x', i)
  local fleet = 'f' .. (i % 4)
  local st = 'revoked'
  if i % 10 == 0 then st = 'active' elseif i % 200 == 7 then st = 'rotating' elseif i % 20 == 3 then st = 'inactive' end
  local ms = 1700000000000 + i
  redis.call('HSET', 'fw:claim:' .. id, 'id', id, 'fleet', fleet, 'state', st, 'keySource', 'generated',
             'keyType', 'ec-p256', 'bundleDownloaded', '0', 'keyHeld', '0', 'created', ms, 'updated', ms,
             'certificateId', string.format('%064x', i))
  redis.call('ZADD', 'fw:claims', ms, id)
  redis.call('ZADD', 'fw:claims:f:' .. fleet, ms, id)
end
return n
"""

QUERIES = [
    ("no filter", "limit=50"),
    ("state=active (10%)", "state=active&limit=50"),
    ("state=rotating (0.5%)", "state=rotating&limit=50"),
    ("fleet=f0&state=active", "fleet=f0&state=active&limit=50"),
    ("state=failed (none)", "state=failed&limit=50"),
]


def evalstats(redis):
    usec = calls = 0
    for line in redis.command("INFO", "commandstats").splitlines():
        if line.startswith(("cmdstat_eval:", "cmdstat_evalsha:")):
            kv = dict(p.split("=") for p in line.split(":", 1)[1].split(","))
            usec += int(kv["usec"])
            calls += int(kv["calls"])
    return usec, calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--claims", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=200)
    a = ap.parse_args()
    harness = benchlib.harness_for(a.build)

    redis = harness.Redis().start()
    fw = None
    try:
        for off in range(0, a.claims, 2000):
            redis.command("EVAL", SEED_LUA, "0", off + 1, min(2000, a.claims - off))
        t0 = time.monotonic()
        fw = harness.Fleetwarden(redis, env={"FLEETWARDEN_LOG_LEVEL": "warn"},
                                 args=("serve", "--no-workers")).start()
        indexed = None
        try:
            harness.wait_until(lambda: redis.command("GET", "fw:claims:idx") == "1", timeout=30,
                               what="state indexes")
            indexed = time.monotonic() - t0
        except AssertionError:
            pass
        tok = fw.token("read", "bench")
        print("binary: %s; %d claims; state indexes: %s" % (a.build, a.claims,
              "built %.1f s after start" % indexed if indexed is not None else "none (this version has none)"))
        print()
        print("| query | items on the first page | nextCursor | Redis time of the list script per request | "
              "HTTP latency p50 / p95 |")
        print("|---|---|---|---|---|")
        for name, q in QUERIES:
            fw.request("GET", "/v1/claims?" + q, token=tok)   # warm-up (script cache)
            u0, c0 = evalstats(redis)
            lat = []
            for _ in range(a.reps):
                s = time.monotonic()
                r = fw.request("GET", "/v1/claims?" + q, token=tok)
                lat.append((time.monotonic() - s) * 1000)
                assert r.status == 200, r
            u1, c1 = evalstats(redis)
            lat.sort()
            per = (u1 - u0) / max(1, c1 - c0)
            print("| %s | %d | %s | %.0f us | %.1f / %.1f ms |" % (
                name, len(r.json["items"]), "yes" if r.json["nextCursor"] else "no", per,
                statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]))
    finally:
        if fw:
            fw.stop()
        redis.stop()


if __name__ == "__main__":
    main()
