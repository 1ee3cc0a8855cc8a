"""Watch-cycle benchmark: cycle time and CloudWatch calls per cycle for N active claims.

For each N: a fresh Redis, the AWS emulator (quotas off) and fleetwarden (serve, 4 workers);
one fleet record and N active claim records written directly to Redis (the store_fleet.h /
store_claim.h layouts: creating 10,000 claims through the API would benchmark the claims
code, not the watch); registrations for 10% of the claims (2 at each of 3 times, published as
AWS does: the claim's running total). Then
ROUNDS cycles through POST /v1/watch/run; for each, the job's run time (startedAt to
finishedAt) and the GetMetricData / ListMetrics calls counted at the emulator.

The naive design (one GetMetricData call per claim) is measured by timing NAIVE_SAMPLE
single-query GetMetricData calls with botocore (kept-alive connection) and scaling to N.

usage: bench.py BUILD_DIR N [N...]   (env ROUNDS, default 3)
"""
import datetime
import hashlib
import json
import os
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
import harness  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
NAIVE_SAMPLE = 200


def pipeline(port, cmds):
    out = b"".join(b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a)
                                                  for a in (x.encode() for x in c)) for c in cmds)
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(out)
        f = s.makefile("rb")
        for _ in cmds:
            f.readline()


def seed(redis, n):
    now = str(int(time.time() * 1000))
    fleet = {"j:name": "bench", "j:state": "ready", "j:region": "us-east-1", "j:settings": {"watch": {}},
             "j:spec": {"region": "us-east-1", "template": {"name": "bench-template"}}}
    cmd = ["HSET", "fw:fleet:bench", "version", "1", "createdAt", now, "updatedAt", now]
    for k, v in fleet.items():
        cmd += [k, json.dumps(v)]
    cmds = [cmd, ["ZADD", "fw:fleets", "0", "bench"]]
    certs = []
    for i in range(n):
        cid = "clm_%024x" % i
        cert = hashlib.sha256(cid.encode()).hexdigest()
        certs.append(cert)
        cmds.append(["HSET", "fw:claim:" + cid, "id", cid, "fleet", "bench", "state", "active",
                     "certificateId", cert, "created", now])
        cmds.append(["ZADD", "fw:claims:f:bench", str(i), cid])
        cmds.append(["ZADD", "fw:claims", str(i), cid])
        cmds.append(["ZADD", "fw:claims:fs:bench:active", str(i), cid])
        cmds.append(["ZADD", "fw:claims:s:active", str(i), cid])
    for off in range(0, len(cmds), 5000):
        pipeline(redis.port, cmds[off:off + 5000])
    return certs


def inject(emu, certs):
    """Two registrations at each of three times for every tenth claim, through the emulator's fleet
    provisioning metrics: AWS's running total per claim (tests/awsemu/fpmetrics.py)."""
    now = time.time()
    ts = [datetime.datetime.fromtimestamp(now - a, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
          for a in (600, 1200, 1800)]
    regs = [{"claimCertificateId": c, "count": 2, "timestamp": t} for c in certs[::10] for t in ts]
    for off in range(0, len(regs), 3000):
        emu.control("POST", "registrations", {"registrations": regs[off:off + 3000]})


def naive_per_call_s(emu, certs):
    import botocore.session
    s = botocore.session.get_session()
    cw = s.create_client("cloudwatch", region_name="us-east-1", endpoint_url=emu.url,
                         aws_access_key_id=harness.EMU_AKID, aws_secret_access_key=harness.EMU_SECRET)
    end = datetime.datetime.now(datetime.timezone.utc)
    start = end - datetime.timedelta(hours=1)
    t0 = time.monotonic()
    k = min(NAIVE_SAMPLE, len(certs))
    for c in certs[:k]:
        cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[{
            "Id": "q0", "MetricStat": {"Metric": {"Namespace": "AWS/IoT",
                                                  "MetricName": "ApproximateNumberOfThingsRegistered",
                                                  "Dimensions": [{"Name": "ClaimCertificateId", "Value": c}]},
                                       "Period": 300, "Stat": "Sum"}}])
    return (time.monotonic() - t0) / k


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def one(build, n):
    os.environ["FW_BUILD_DIR"] = build
    harness.FW_BIN = os.path.join(build, "fleetwarden")
    redis = harness.Redis().start()
    emu = harness.Emulator(extra_args=["--no-quotas"]).start()
    env = dict(emu.aws_env(), FLEETWARDEN_WATCH_INTERVAL="0", FLEETWARDEN_WORKERS="4",
               FLEETWARDEN_LOG_LEVEL="warn")
    fw = harness.Fleetwarden(redis, env=env, args=("serve",)).start()
    try:
        tok = fw.token("operate", "bench")
        certs = seed(redis, n)
        inject(emu, certs)
        times, gmd, lm = [], [], []
        for _ in range(ROUNDS):
            emu.control("DELETE", "calls")
            r = fw.request("POST", "/v1/watch/run", token=tok)
            jid = r.json["job"]["id"]
            while True:
                j = fw.request("GET", "/v1/jobs/%s?wait=30" % jid, token=tok).json
                if j["state"] in ("succeeded", "dead", "canceled"):
                    break
            assert j["state"] == "succeeded", j
            times.append(parse_ts(j["finishedAt"]) - parse_ts(j["startedAt"]))
            calls = emu.control("GET", "calls")["calls"]
            gmd.append(sum(1 for c in calls if c["operation"] == "GetMetricData"))
            lm.append(sum(1 for c in calls if c["operation"] == "ListMetrics"))
            assert j["result"]["claims"] == n, j["result"]
        per_call = naive_per_call_s(emu, certs)
        return {"claims": n, "cycle_s": statistics.median(times), "gmd": statistics.median(gmd),
                "lm": statistics.median(lm), "min": -(-(n + 3) // 500), "minc": -(-n // 500), "naive_calls": n,
                "naive_s": per_call * n}
    finally:
        fw.stop()
        emu.stop()
        redis.stop()


def main():
    build = os.path.abspath(sys.argv[1])
    rows = [one(build, int(n)) for n in sys.argv[2:]]
    print("| active claims | cycle time (median of %d) | GetMetricData calls | ListMetrics calls | "
          "ceil(claims/500) | ceil(queries/500) | naive calls (1 per claim) | naive GetMetricData time (est.) |" % ROUNDS)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %d | %.2f s | %d | %d | %d | %d | %d | %.1f s |" % (r["claims"], r["cycle_s"], r["gmd"], r["lm"],
                                                                   r["minc"], r["min"], r["naive_calls"],
                                                                   r["naive_s"]))


if __name__ == "__main__":
    main()
