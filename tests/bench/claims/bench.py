#!/usr/bin/env python3
"""Claims benchmark (issue 7).

1. Disable latency: time from sending POST /v1/claims/{id}/disable to the
   emulator receiving UpdateCertificate for that certificate (the
   emulator's own arrival timestamp, ms; same host clock), and to the job
   being finished. Measured with an idle queue, and again with 10,000 bulk
   jobs queued (claim.enable on an already active claim, lane bulk: each one
   is a real UpdateCertificate against the emulator's 10/s quota, taking
   tokens from the same iot-cert-update bucket as ordinary enables).
2. Creation throughput: claims created per minute against the emulator's
   default quotas (CreateCertificateFromCsr 15/s, AttachPolicy 15/s), with
   our token bucket at its default (10/s) and at the emulator's quota (15/s),
   next to the quota's ceiling (900/min).

Usage: bench.py BUILD_DIR [--reps N] [--bulk N] [--create N] [--out RESULTS.md]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
import benchlib  # noqa: E402


def parse_ts(s):
    return datetime.datetime.strptime(s.replace("Z", "+0000"),
                                      "%Y-%m-%dT%H:%M:%S.%f%z" if "." in s else "%Y-%m-%dT%H:%M:%S%z").timestamp()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def make_claims(env, fleet, n):
    ids = []
    for _ in range(n):
        r = env.req("POST", "/v1/fleets/%s/claims" % fleet, body={})
        assert r.status == 202, r
        ids.append(r.json["claim"]["id"])
    return [env.wait_claim(cid, ["active"], timeout=300) for cid in ids]


def seen_update(env, cert_id, since_count):
    calls = env.emu.control("GET", "calls?operation=UpdateCertificate")["calls"]
    for c in calls[since_count:]:
        if (c.get("parameters") or {}).get("certificateId") == cert_id and c.get("status") == 200:
            return c
    return None


def disable_latency(env, claims):
    to_aws, to_done = [], []
    for c in claims:
        base = len(env.emu.control("GET", "calls?operation=UpdateCertificate")["calls"])
        t0 = time.time()
        r = env.req("POST", "/v1/claims/%s/disable" % c["id"], body={"reason": "bench"})
        assert r.status == 202, r
        call = None
        while call is None and time.time() - t0 < 120:
            call = seen_update(env, c["certificateId"], base)
            if call is None:
                time.sleep(0.003)
        assert call, "no UpdateCertificate for %s" % c["id"]
        to_aws.append((parse_ts(call["time"]) - t0) * 1000)
        job = env.wait_job(r.json["job"]["id"])
        to_done.append((parse_ts(job["finishedAt"]) - t0) * 1000)
        time.sleep(max(0.0, t0 + 0.5 - time.time()))   # 2 disables/s: the latency, not our own quota use
    return to_aws, to_done


def enqueue_bulk(env, build, claim_id, n):
    probe = os.path.join(build, "tests", "tools", "jobs-probe", "jobs-probe")
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLEETWARDEN_")}
    e.update({"FLEETWARDEN_REDIS_URL": env.redis.url, "FLEETWARDEN_LOG_LEVEL": "warn"})
    t0 = time.time()
    subprocess.run([probe, "enqueue", "--type", "claim.enable", "--lane", "bulk", "--payload",
                    json.dumps({"claimId": claim_id}), "--count", str(n)], env=e, check=True,
                   stdout=subprocess.DEVNULL)
    return time.time() - t0


def creation_rate(build, n, rate):
    import claims_lib as cl
    env = cl.ClaimsEnv(workers=8, env={"FLEETWARDEN_LOG_LEVEL": "warn", **({"FLEETWARDEN_RATE_IOT_CERT_CREATE": rate}
                                                                          if rate else {})})
    try:
        env.make_fleet("rate")
        t0 = time.time()
        ids = []
        for _ in range(n):
            ids.append(env.req("POST", "/v1/fleets/rate/claims", body={}).json["claim"]["id"])
        for cid in ids:
            env.wait_claim(cid, ["active"], timeout=600)
        el = time.time() - t0
        thr = len(env.emu.control("GET", "calls?errorCode=ThrottlingException")["calls"])
        return n / el * 60, el, thr
    finally:
        env.stop()


def stats(xs):
    return "%.0f / %.0f / %.0f / %.0f" % (statistics.median(xs), pct(xs, 95), max(xs), min(xs))


def waiting(env):
    """Bulk jobs not yet run: in the lane, parked with a token, or waiting for one."""
    return (env.redis.command("LLEN", "fw:q:bulk") + env.redis.command("ZCARD", "fw:delayed")
            + env.redis.command("ZCARD", "fw:rlq:iot-cert-update"))


def disable_run(a, extra_env):
    import claims_lib as cl
    env = cl.ClaimsEnv(workers=4, env={"FLEETWARDEN_LOG_LEVEL": "warn", **extra_env})
    try:
        env.make_fleet("bench")
        claims = make_claims(env, "bench", 2 * a.reps + 1)
        idle_aws, idle_done = disable_latency(env, claims[:a.reps])
        enq_s = enqueue_bulk(env, a.build, claims[-1]["id"], a.bulk)
        depth0 = waiting(env)
        bulk_aws, bulk_done = disable_latency(env, claims[a.reps:2 * a.reps])
        depth1 = waiting(env)
        thr = len([c for c in env.emu.control("GET", "calls?operation=UpdateCertificate")["calls"]
                   if c.get("errorCode") == "ThrottlingException"])
    finally:
        env.stop()
    return {"idle": (idle_aws, idle_done), "bulk": (bulk_aws, bulk_done), "enq_s": enq_s, "depth0": depth0,
            "depth1": depth1, "throttled": thr}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--bulk", type=int, default=10000)
    ap.add_argument("--create", type=int, default=600)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    a = ap.parse_args()
    benchlib.harness_for(a.build)
    d10 = disable_run(a, {})
    d8 = disable_run(a, {"FLEETWARDEN_RATE_IOT_CERT_UPDATE": "8"})
    r10 = creation_rate(a.build, a.create, None)
    r15 = creation_rate(a.build, a.create, "15")
    write(a, d10, d8, r10, r15)


def write(a, d10, d8, r10, r15):
    host = os.uname()
    lines = [
        "# Claims benchmark (tests/bench/claims)",
        "",
        "Run: `tests/bench/claims/run.sh %s` on %s (%s, %d CPUs), %s UTC." % (
            os.path.basename(os.path.abspath(a.build)), host.nodename, host.machine, os.cpu_count(),
            datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")),
        "fleetwarden `serve` with 4 workers, a real redis-server, the AWS emulator (tests/awsemu) with its",
        "default quotas, all on 127.0.0.1. Method in bench.py.",
        "",
        "## Disable: POST …/disable → the emulator receives UpdateCertificate",
        "",
        "%d disables, one every 0.5 s; milliseconds, median / p95 / max / min." % a.reps,
        "",
        "| queue | bulk jobs' iot-cert-update bucket | to UpdateCertificate at AWS | to job finished | throttled UpdateCertificate calls |",
        "|---|---|---|---|---|",
        "| idle | 10/s | %s | %s | |" % (stats(d10["idle"][0]), stats(d10["idle"][1])),
        "| %d bulk jobs queued | 10/s (= the emulator's quota) | %s | %s | %d |" % (
            a.bulk, stats(d10["bulk"][0]), stats(d10["bulk"][1]), d10["throttled"]),
        "| idle | 8/s | %s | %s | |" % (stats(d8["idle"][0]), stats(d8["idle"][1])),
        "| %d bulk jobs queued | 8/s (headroom for other callers) | %s | %s | %d |" % (
            a.bulk, stats(d8["bulk"][0]), stats(d8["bulk"][1]), d8["throttled"]),
        "",
        "The bulk jobs: %d `claim.enable` jobs on the bulk lane (enqueued in %.1f s with jobs-probe), each a real" % (
            a.bulk, d10["enq_s"]),
        "UpdateCertificate taking a token of the shared `iot-cert-update` bucket. %d were waiting (bulk lane, parked" % d10["depth0"],
        "with a reserved token or waiting for one) when the measurement began and %d at its end. claim.disable runs on the" % d10["depth1"],
        "critical lane and takes its token of the same bucket, but the bulk jobs reserve at most one token interval ahead",
        "(they wait unreserved for the family's pump), so a disable gets the next token instead of a place",
        "behind every queued bulk job, and the service's total UpdateCertificate",
        "rate stays at the bucket's. Throttled calls left with the bucket at the quota itself are arrival",
        "jitter at the emulator's bucket; the 8/s row leaves headroom for other callers in the account.",
        "",
        "## Claim creation against the emulator's quotas",
        "",
        "| our iot-cert-create bucket | claims | seconds | claims/min | quota ceiling | throttled AWS calls (absorbed) |",
        "|---|---|---|---|---|---|",
        "| 10/s (default) | %d | %.1f | %.0f | 900/min (CreateCertificateFromCsr 15/s) | %d |" % (
            a.create, r10[1], r10[0], r10[2]),
        "| 15/s (= the quota) | %d | %.1f | %.0f | 900/min | %d |" % (a.create, r15[1], r15[0], r15[2]),
        "",
        "No claim failed and no throttling error reached a user in either run. With the bucket at the",
        "quota itself the service runs at the ceiling; some calls meet the emulator's bucket a little early",
        "and are retried by the client. The default (10/s) leaves a third of the quota to other callers in",
        "the account; set FLEETWARDEN_RATE_IOT_CERT_CREATE to the account's real quota to go faster.",
        "",
    ]
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
