"""wrk on fleetwarden's read endpoints, alone and during a bulk rotation, next to the ceiling of
an HTTP read endpoint measured in the same run (ceiling_mhd.c: libmicrohttpd + one Redis GET).

usage: bench.py BUILD_DIR CEILING_BIN [--seconds 30] [--claims 1000] [--json OUT]
Prints a markdown table. Every process on 127.0.0.1, stopped by PID.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("ceiling")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--claims", type=int, default=1000)
    ap.add_argument("--json")
    a = ap.parse_args()
    os.environ["FW_BUILD_DIR"] = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import harness
    from test_faults_lib import FaultEnv, post_claims, run_wrk

    rows = []

    def row(label, phase, r, ceiling=None):
        rows.append({"endpoint": label, "phase": phase, "rps": r["rps"], "p50": r["p50"], "p99": r["p99"],
                     "errors": r["non2xx"] + r["socket_errors"], "ceiling": ceiling})
        print("%-28s %-8s %9.0f req/s p50 %s ms p99 %s ms errors %d" %
              (label, phase, r["rps"], r["p50"], r["p99"], r["non2xx"] + r["socket_errors"]), flush=True)

    # ceilings, same machine, same run
    redis = harness.Redis().start()
    ceil = {}
    try:
        for mode in ("static", "redis"):
            port = harness.free_port()
            p = subprocess.Popen([a.ceiling, str(port), mode, str(redis.port)])
            time.sleep(0.5)
            try:
                run_wrk("http://127.0.0.1:%d/" % port, seconds=2)
                r = run_wrk("http://127.0.0.1:%d/" % port, seconds=a.seconds)
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(10)
            ceil[mode] = r["rps"]
            row("ceiling: MHD %s" % ("static JSON" if mode == "static" else "+ 1 Redis GET"), "-", r)
    finally:
        redis.stop()

    env = FaultEnv(env={"FLEETWARDEN_LOG_LEVEL": "warn", "FLEETWARDEN_RATE_IOT_CERT_CREATE": "15"},
                   worker_procs=1)
    try:
        t0 = time.monotonic()
        jid = env.setup_fleet("bench")
        assert env.wait_job(jid)["state"] == "succeeded"
        claims = post_claims(env, "bench", a.claims, threads=8)
        env.wait_quiet(a.claims / 10 + 120)
        print("setup: %d claims in %.0f s" % (len(claims), time.monotonic() - t0), flush=True)
        base = "http://127.0.0.1:%d" % env.fw.port
        urls = [("GET /healthz", base + "/healthz", None), ("GET /v1/fleets", base + "/v1/fleets", env.read),
                ("GET /v1/claims", base + "/v1/claims", env.read), ("GET /v1/jobs", base + "/v1/jobs", env.read),
                ("GET /v1/fleets/{name}", base + "/v1/fleets/bench", env.read)]
        for label, url, tok in urls:
            run_wrk(url, tok, seconds=2)
            row(label, "alone", run_wrk(url, tok, seconds=a.seconds), ceil["static" if tok is None else "redis"])
        for cid, _ in claims:
            r = env.req("POST", "/v1/claims/%s/rotate" % cid, body={"graceSeconds": 3600})
            assert r.status == 202, r
        t1 = time.monotonic()
        for label, url, tok in urls[1:]:
            row(label, "rotation", run_wrk(url, tok, seconds=a.seconds), ceil["redis"])
        pending = sum(len(v) for s, v in env.jobs_by_state().items() if s in ("queued", "running", "failed"))
        print("rotation: %d rotations, %d jobs still queued/running after %.0f s of reads"
              % (len(claims), pending, time.monotonic() - t1), flush=True)
        by = env.wait_quiet(a.claims / 10 + 300)
        assert not by["dead"], by["dead"][:3]
    finally:
        env.stop()

    print()
    print("| endpoint (wrk -t2 -c64, %d s) | phase | req/s | p50 ms | p99 ms | errors | ceiling req/s (same run) | ratio |"
          % a.seconds)
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        c = r["ceiling"]
        print("| %s | %s | %.0f | %s | %s | %d | %s | %s |" % (
            r["endpoint"], r["phase"], r["rps"], r["p50"], r["p99"], r["errors"],
            "%.0f" % c if c else "", "%.2f" % (r["rps"] / c) if c else ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seconds": a.seconds, "claims": a.claims, "rows": rows, "ceilings": ceil}, f, indent=1)


if __name__ == "__main__":
    main()
