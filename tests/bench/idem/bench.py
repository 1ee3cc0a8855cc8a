#!/usr/bin/env python3
"""Idempotency-Key benchmark (issue 16, item 4): what a key costs a creating POST.

POST /v1/fleets/{name}/claims against a real Redis and the real binary (no workers: the jobs stay
queued), n requests one after the other on one connection each, three ways: without a key, each
with a new key, and each replayed with a key already answered. Reported: requests/s (a loaded
machine moves it), Redis commands per request (INFO commandstats, a script's own calls included: does not move
with load), and
Redis memory per kept key (MEMORY USAGE of the P reqidem:TOKEN:KEY hashes).

Usage: bench.py BUILD_DIR [--n N]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402


def commands(redis):
    """Total calls of every command so far."""
    info = redis.command("INFO", "commandstats")
    info = info.decode() if isinstance(info, bytes) else info
    total = 0
    for line in info.splitlines():
        if line.startswith("cmdstat_"):
            total += int(line.split("calls=")[1].split(",")[0])
    return total


def seed_fleet(redis, name):
    now = str(int(time.time() * 1000))
    fields = {"j:name": name, "j:uid": "fl_%024x" % 1, "j:state": "ready", "j:region": "us-east-1",
              "j:settings": {"rotation": {}, "watch": {}}, "j:spec": {"name": name},
              "r:claimPolicy": {"name": name + "-claim-policy"}}
    args = ["HSET", "fw:fleet:" + name, "version", "1", "createdAt", now, "updatedAt", now]
    for k, v in fields.items():
        args += [k, json.dumps(v)]
    redis.command(*args)
    redis.command("ZADD", "fw:fleets", "0", name)


def run(fw, redis, token, n, key_of):
    c0, t0 = commands(redis), time.perf_counter()
    for i in range(n):
        key = key_of(i)
        r = fw.request("POST", "/v1/fleets/b/claims", token=token, body={"note": "n%d" % (i % 10)},
                       headers={"Idempotency-Key": key} if key else {})
        assert r.status == 202, r
    dt = time.perf_counter() - t0
    return n / dt, (commands(redis) - c0 - 1) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    h = benchlib.harness_for(a.build)
    redis = h.Redis().start()
    fw = h.Fleetwarden(redis, args=("serve", "--no-workers")).start()
    try:
        token = fw.token("admin", "bench")
        seed_fleet(redis, "b")
        run(fw, redis, token, 100, lambda i: None)   # warm-up: connections, caches
        rows = [("a new key each", run(fw, redis, token, a.n, lambda i: "k-%d" % i)),
                ("replayed keys", run(fw, redis, token, a.n, lambda i: "k-%d" % i)),
                ("no key", run(fw, redis, token, a.n, lambda i: None))]
        keys = [k.decode() if isinstance(k, bytes) else k for k in redis.command("KEYS", "fw:reqidem:*")]
        mem = sum(int(redis.command("MEMORY", "USAGE", k, "SAMPLES", "0")) for k in keys[:200]) / max(1, min(200, len(keys)))
        print("| requests (%d each, sequential) | requests/s | Redis commands per request (inside scripts too) |" % a.n)
        print("|---|---|---|")
        for name, (rate, cmds) in rows:
            print("| %s | %.0f | %.2f |" % (name, rate, cmds))
        body = sum(int(redis.command("HSTRLEN", k, "body")) for k in keys[:200]) / max(1, min(200, len(keys)))
        print("\nkept keys: %d, Redis memory per key (MEMORY USAGE SAMPLES 0, mean of %d): %.0f bytes, "
              "of which the kept answer's body %.0f" % (len(keys), min(200, len(keys)), mem, body))
    finally:
        fw.stop()
        redis.stop()


if __name__ == "__main__":
    main()
