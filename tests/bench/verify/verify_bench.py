#!/usr/bin/env python3
"""Fleet verification against the emulator (issue 15): how long one verification takes end to end
(POST .../verify to the job's end), how long each step takes, and what it costs in AWS calls; the
ceiling beside it is the same emulator's answer time for those calls made back to back by
fleetwarden's own check (`fleetwarden check --fleet`, no job queue, no HTTP).

Real fleetwarden (API and workers in one process, build given), real Redis, the emulator with its
data plane (tests/integration/verify_lib.py). Runs verifications one after another (a fleet runs
one at a time). Prints a table and writes it to --out.

Usage: verify_bench.py [--n N] [--build DIR] [--out RESULTS.md]
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    os.environ["FW_BIN"] = os.path.join(ROOT, a.build, "fleetwarden")
    import harness  # noqa: E402  (reads FW_BIN)
    import verify_lib as vl  # noqa: E402
    harness.FW_BIN = os.environ["FW_BIN"]
    load_before = os.getloadavg()[0]
    env = vl.VerifyEnv(env={"FLEETWARDEN_LOG_LEVEL": "warn"})
    try:
        env.ready_fleet("bench")
        env.emu.control("POST", "quotas", {"enabled": False})
        jobs, checks = [], []
        for _ in range(a.n):
            t0 = time.monotonic()
            job = env.verify("bench")
            jobs.append((time.monotonic() - t0, job))
            assert job["result"]["result"] == "passed", job["result"]
        for _ in range(max(3, a.n // 4)):
            t0 = time.monotonic()
            p = env.check("bench")
            assert p.returncode == 0, p.stdout + p.stderr
            checks.append(time.monotonic() - t0)
        rss = harness_rss(env.fw.proc.pid)
    finally:
        env.stop()
    ms = [t * 1000 for t, _ in jobs]
    calls = jobs[-1][1]["result"]["awsCalls"]
    lines = ["# Fleet verification (tests/bench/verify)", "",
             "%d verifications of one fleet, one after another, against the emulator on this machine "
             "(%s)." % (a.n, time.strftime("%Y-%m-%d")), "",
             "| measure | value |", "|---|---|",
             "| one verification, POST to the job's end: median | %.0f ms |" % statistics.median(ms),
             "| the same, p90 / max | %.0f ms / %.0f ms |" % (pct(ms, 0.9), max(ms)),
             "| `fleetwarden check --fleet` (the same steps, no queue, a new process): median | %.0f ms |"
             % (statistics.median(checks) * 1000),
             "| AWS calls per verification (control plane + data plane) | %d + %d |"
             % (calls["controlPlane"], calls["dataPlane"]),
             "| RSS of `serve` (API + 4 workers) after the runs | %s |" % rss, "",
             "Machine: %d cores, load average %.1f at the start and %.1f at the end (other engineers' test "
             "runs share it), build `%s`. The time is not broken down by step here; the emulator (Python: TLS, "
             "MQTT, an RSA-2048 key per CreateKeysAndCertificate) answers every call, so these are not AWS's "
             "latencies. The `check` line also pays for starting a process each time." % (
                 os.cpu_count(), load_before, os.getloadavg()[0], a.build), ""]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


def harness_rss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    main()
