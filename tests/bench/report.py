"""Writes tests/bench/RESULTS.md from the logs of tests/bench/run-all.sh (stdout).

usage: report.py OUT_DIR START_TIME
Every figure is put next to its ceiling measured in the same run; the tables each benchmark
printed follow verbatim. A benchmark that failed is reported as failed, with its log's tail.
"""
import json
import os
import platform
import re
import sys

OUT, START = sys.argv[1], sys.argv[2]


def log(name, ext=".log"):
    """What a benchmark printed (OUT/<name>.log), or with ext=".md" the table it wrote with --out; "" when absent."""
    try:
        with open(os.path.join(OUT, name + ext), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def status(name):
    try:
        rc, secs = open(os.path.join(OUT, name + ".status")).read().split()
        return int(rc), int(secs)
    except (OSError, ValueError):
        return None, None


def tables(text):
    """Markdown table blocks (consecutive lines starting with '|')."""
    out, cur = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            cur.append(line)
        elif cur:
            out.append("\n".join(cur))
            cur = []
    if cur:
        out.append("\n".join(cur))
    return out


def num(s):
    s = s.strip().replace(",", "")
    m = re.match(r"([\d.]+)\s*([kK])?", s)
    if not m:
        return None
    return float(m.group(1)) * (1000 if m.group(2) else 1)


summary = []        # (benchmark, figure, ceiling, ratio)
load = {}
try:
    load = json.load(open(os.path.join(OUT, "load.json")))
except (OSError, ValueError):
    pass
ceil = load.get("ceilings", {})

# HTTP server
for line in log("http").splitlines():
    m = re.match(r"\| (GET /\S+)[^|]*\| ([\d.]+k?) \|", line)
    if m and ceil:
        rps = num(m.group(2))
        c = ceil["static"] if m.group(1) == "/healthz" or m.group(1).endswith("healthz") else ceil["redis"]
        kind = "MHD static JSON" if c == ceil["static"] else "MHD + 1 Redis GET"
        summary.append(("HTTP server: %s (release, wrk -c64)" % m.group(1), "%.0f req/s" % rps,
                        "%s: %.0f req/s" % (kind, c), "%.2f" % (rps / c)))

# load
for r in load.get("rows", []):
    if r["ceiling"]:
        summary.append(("Load: %s, %s (errors: %d)" % (r["endpoint"], "alone" if r["phase"] == "alone"
                                                        else "during bulk rotation", r["errors"]),
                        "%.0f req/s, p99 %s ms" % (r["rps"], r["p99"]),
                        "MHD + 1 Redis GET: %.0f req/s" % r["ceiling"] if r["endpoint"] != "GET /healthz"
                        else "MHD static JSON: %.0f req/s" % r["ceiling"], "%.2f" % (r["rps"] / r["ceiling"])))

# queue
q = log("queue")
m = re.search(r"raw ceiling[^:]*: ([\d,]+) jobs/s", q)
if m:
    raw = num(m.group(1))
    best = None
    for line in q.splitlines():
        mm = re.match(r"\| (\d+) \| ([\d,]+) ", line)
        if mm and (best is None or num(mm.group(2)) > best[1]):
            best = (mm.group(1), num(mm.group(2)))
    if best:
        summary.append(("Job queue end to end (best: %s worker threads)" % best[0], "%.0f jobs/s" % best[1],
                        "raw hiredis LPUSH+BLMOVE/LREM: %.0f jobs/s" % raw, "%.2f" % (best[1] / raw)))

# sigv4
s = log("sigv4")
ours = crt = boto = None
for line in s.splitlines():
    cells = [c.strip() for c in line.strip("|").split("|")]
    if len(cells) >= 3 and cells[2].replace(".", "").isdigit():
        if cells[0].startswith("fleetwarden") and "warm" in cells[0]:
            ours = float(cells[2])
        elif cells[0].startswith("awscrt") and "new config" in cells[0]:
            crt = float(cells[2])
        elif cells[0].startswith("botocore"):
            boto = float(cells[2])
if ours and crt:
    summary.append(("SigV4 signer (fleetwarden sigv4.c, key cache warm)", "%.0f signatures/s" % ours,
                    "awscrt (AWS C runtime via Python): %.0f/s; botocore %.0f/s" % (crt, boto or 0),
                    "%.2f (vs botocore %.1f)" % (ours / crt, ours / boto if boto else 0)))

# claims
c = log("claims", ".md")
for line in c.splitlines():
    mm = re.match(r"\| ([^|]+) \| (\d+) \| ([\d.]+) \| (\d+) \| (\d+)/min", line)
    if mm:
        summary.append(("Claims created, our bucket %s (emulator quota on)" % mm.group(1).strip(),
                        "%s claims/min (%s in %s s)" % (mm.group(4), mm.group(2), mm.group(3)),
                        "quota: %s/min" % mm.group(5), "%.2f" % (int(mm.group(4)) / int(mm.group(5)))))

# watch
for line in log("watch").splitlines():
    mm = re.match(r"\| (\d+) \| ([\d.]+) s \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", line)
    if mm:
        summary.append(("Watch cycle, %s active claims (%s s)" % (mm.group(1), mm.group(2)),
                        "%s GetMetricData + %s ListMetrics calls" % (mm.group(3), mm.group(4)),
                        "ceil(queries/500) = %s (ceil(claims/500) = %s; naive %s)" % (mm.group(6), mm.group(5),
                                                                                      mm.group(7)),
                        "%.2f" % (int(mm.group(6)) / int(mm.group(3)))))

# hostile
for line in log("hostile").splitlines():
    mm = re.match(r"\| \S+ \| (\w+) \| (\d+) \| ([\d.]+) ms \| ([\d.]+) ms \| ([\d.]+) ms \| ([\d.]+) ms \| (\d+) \|",
                  line)
    if mm:
        summary.append(("Admin GET /v1/fleets under %s hostile connections from one address (limits: %s)"
                        % (mm.group(2), mm.group(1)),
                        "p50 %s ms, p99 %s ms, max %s ms, %s failed" % (mm.group(4), mm.group(5), mm.group(6),
                                                                       mm.group(7)),
                        "no attack: p50 %s ms; goal: under 1 s" % mm.group(3),
                        "%.2f" % (float(mm.group(3)) / float(mm.group(4)))))
# several processes on one Redis
mp = log("multiproc", ".md")
for line in mp.splitlines():
    mm = re.match(r"\| claims created end to end[^|]*\| ([\d.]+) claims/s \| ([\d.]+) claims/s \| ([\d.]+) \|", line)
    if mm:
        summary.append(("Claims end to end, 2 serve + 2 worker on one Redis (emulator without quotas)",
                        "%s claims/s" % mm.group(2), "1 serve + 1 worker: %s claims/s" % mm.group(1), mm.group(3)))

# devices (tests/bench/devices): rows with a quota ceiling
d = log("devices", ".md")
for line in d.splitlines():
    mm = re.match(r"\| ([^|]+) \| (\d+)/(\d+) \| ([\d.]+) \| (\d+) \| (\d+)/min \| ([\d.]+) \|", line)
    if mm:
        summary.append(("Devices provisioned through the emulator: %s" % mm.group(1).strip(),
                        "%s devices/min (%s of %s in %s s)" % (mm.group(5), mm.group(2), mm.group(3), mm.group(4)),
                        "quota: %s/min" % mm.group(6), mm.group(7)))

print("# Benchmark results (generated by tests/bench/run-all.sh)")
print()
print("Every benchmark of the project in one report, each next to its ceiling measured in the same run")
print("(ratio = ours / ceiling; for the watch, minimum calls / our calls, 1.00 = the minimum). Run started")
print("%s on %s, %d cores (%s). The machine is shared with other engineers' test and fuzz runs: read any"
      % (START, platform.node() or "this machine", os.cpu_count(), platform.machine()))
print("figure as +/-20%. Regenerate with `tests/bench/run-all.sh` (15-25 minutes); logs in tests/bench/.last-run/.")
print()
print("## Summary")
print()
print("| benchmark | ours | ceiling (same run) | ratio |")
print("|---|---|---|---:|")
for row in summary:
    print("| %s |" % " | ".join(row))
print()
print("Reading the load rows: the list endpoints answer a page of 50 items (a claim is ~1-2 KB of JSON with")
print("its certificate), the ceiling a 100-byte body, so their ratio mixes server cost with payload size;")
print("GET /v1/claims and GET /v1/jobs at a few % of the ceiling are the slowest reads and the place to look")
print("next. The bulk rotation (every claim, certificate creation at 15/s) overlaps the first endpoints of the")
print("second pass; the `rotation:` line below says how many jobs were still pending when the reads ended.")
print("Errors (non-2xx or socket errors) were required to be 0 in every run.")
print()
sections = [
    ("load", "Load: read endpoints at 64 connections, alone and during a bulk rotation (tests/bench/load)",
     "wrk -t2 -c64, release build, `serve --no-workers` + one `worker` process (4 threads) rotating every claim "
     "(certificate creation at 15/s, AWS's quota) during the second pass. Ceilings: ceiling_mhd.c (libmicrohttpd, "
     "thread pool 2) answering a static 100-byte JSON, and the same with one synchronous Redis GET per request "
     "(../shared/research/limits.md section 2). errors = non-2xx + socket errors."),
    ("http", "HTTP server (tests/bench/http)", "wrk -t2 -c64 after a 2 s warm-up; ceilings as above."),
    ("queue", "Job queue (tests/bench/queue)", "End-to-end jobs/s through the Lua scripts against the raw "
     "hiredis queue (LPUSH + BLMOVE/LREM, one consumer) in the same run."),
    ("sigv4", "SigV4 signer (tests/bench/sigv4)", "Same request signed by ours, awscrt (aws-c-auth) and botocore; "
     "all give the same signature first."),
    ("claims", "Claims against the AWS quota (tests/bench/claims)", "Claims per minute with the emulator's quotas "
     "on, against the quota (CreateCertificateFromCsr 15/s = 900/min); disable latency idle and behind bulk jobs."),
    ("watch", "Misuse watch CloudWatch calls (tests/bench/watch)", "Calls per cycle against the minimum "
     "ceil(queries/500) and the naive one call per claim."),
    ("hostile", "Hostile connections and an admin (tests/bench/hostile)", "2,000 connections from one address "
     "(idle, unfinished headers, event streams, long polls; reopened as soon as the server drops them) while an "
     "admin on another address sends GET /v1/fleets every 100 ms; the shipped limits, then limits opened so all "
     "2,000 are held."),
    ("claimsidx", "Filtered claim lists (tests/bench/claims_index)", "Redis time of the list script per "
     "GET /v1/claims request, 20,000 claims, by filter."),
    ("multiproc", "Several processes on one Redis (tests/bench/multiproc)", "1 serve + 1 worker against 2 + 2 "
     "(and 1 + 1 with twice the worker threads): claims accepted and created per second, reads per second. On 2 "
     "cores a second process adds parallelism, not CPU: see the note under the table."),
    ("devices", "Devices through the emulated data plane (tests/bench/devices)", "Devices per minute that the "
     "device simulator (AWS IoT Device SDK v2) provisions through fleetwarden's claims, one claim and ten, at "
     "AWS's quotas set in the emulator (RegisterThing 10/s, CreateCertificateFromCsr 15/s, "
     "CreateKeysAndCertificate 10/s)."),
]
for name, title, how in sections:
    rc, secs = status(name)
    print("## " + title)
    print()
    print(how)
    print()
    text = c if name == "claims" and c else mp if name == "multiproc" and mp else log(name)
    text = d if name == "devices" and d else text
    if rc is None:
        print("Not run.")
    elif rc != 0:
        print("**Failed** (exit %d after %d s). Last lines of the log:" % (rc, secs))
        print()
        print("```")
        print("\n".join(log(name).splitlines()[-15:]))
        print("```")
    else:
        print("Took %d s." % secs)
        print()
        for line in log(name).splitlines():
            if name not in ("claims", "multiproc") and re.search(r"ceiling|claims in|rotation:|setup:|signature at|date:", line) \
                    and not line.startswith("|"):
                print("    " + line.strip())
        print()
        for t in tables(text):
            print(t)
            print()
        if name == "multiproc":
            print("\n".join(ln for ln in text.splitlines() if ln.startswith("What 2 cores")))
            print()
