#!/usr/bin/env python3
"""Redis instructions per job: the queue drains of bench.py with redis-server under valgrind's
callgrind, counting what Redis executes for each job (Ir: instructions). Unlike CPU time this does
not depend on the machine's load (a shared VM's load average of 20 doubles CPU time per job and
changes it unevenly between clients), so it compares before/after/BullMQ on a busy machine.

For each configuration: FLUSHALL, pre-fill N jobs (not counted), zero the counters, drain with the
worker (ours: `jobs-probe worker --workers 2`; BullMQ: one Worker, concurrency 50, jobs kept),
dump the counters, split as PARTS says. "requests" is the figure to compare: Redis's timers
(serverCron) are counted apart, as they grow with the drain's wall time. Ours also includes
the completion polls (3 cheap reads, every 200 ms here: callgrind slows Redis ~50x, and bench.py's
5 ms polls then counted as part of each job: ~474k requests a job became ~436k for the same jobs
code once they were slowed); BullMQ's worker reports its own end.
With --profile, also the functions of redis-server where the instructions went (inclusive cost
per job, the top 30 below the event loop, from callgrind_annotate), to see what to cut.
Usage: instr.py N LABEL=BUILD_DIR... [--bullmq] [--profile]
(needs valgrind; BullMQ as run.sh installs it)
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

import bench  # noqa: E402  (tests/bench/queue/bench.py: the same drains)

harness = bench.harness
POLL_S = 0.2  # completion polls: few enough to count next to nothing per job


class CallgrindRedis(harness.Redis):
    """redis-server under callgrind; counters zeroed and dumped with callgrind_control."""

    def start(self):
        self.out = tempfile.mkdtemp(prefix="fw-callgrind-")
        args = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.%%p" % self.out,
                harness.REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_until(self.ping, timeout=60, what="redis under callgrind")
        return self

    def control(self, flag):
        subprocess.run(["callgrind_control", flag, str(self.proc.pid)], check=True, capture_output=True)

    def instructions(self):
        """Dumps the counters: the instructions since the last zeroing, by part (parts())."""
        before = set(glob.glob(self.out + "/cg.*"))
        self.control("-d")
        for _ in range(600):
            new = sorted(set(glob.glob(self.out + "/cg.*")) - before)
            if new:
                time.sleep(0.5)
                self.last_dump = new[-1]
                return parts(new[-1])
            time.sleep(0.1)
        raise RuntimeError("no callgrind dump")


# What a dump is split into (inclusive instructions of these functions of redis-server):
# requests = readQueryFromClient (reading, running and answering every command the clients sent),
# scripts = evalShaCommand (the Lua scripts alone), timers = serverCron (Redis's 10 Hz timer: it
# grows with the drain's wall time, so a slow drain on a loaded machine counts more of it).
PARTS = {"requests": "readQueryFromClient", "scripts": "evalShaCommand", "timers": "serverCron"}


def parts(dump):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", dump], capture_output=True, text=True,
                         check=True).stdout
    got = {"total": 0}
    for line in out.splitlines():
        words = line.split()
        if not words or not words[0][0].isdigit():
            continue
        ir = int(words[0].replace(",", ""))
        if "PROGRAM TOTALS" in line:
            got["total"] = ir
        for name, fn in PARTS.items():
            if (":%s " % fn) in line and name not in got:
                got[name] = ir
    return got


ANNOTATED = re.compile(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S+)\s+\[(\S+)\]$")


def profile(dump, n, top=30):
    """[(instructions per job, function)] of the top functions by inclusive cost, below the
    event loop (Debian's redis-server is stripped: its static functions, Lua's among them, show
    as addresses)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", dump],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = ANNOTATED.match(line)
        if not m:
            continue
        fn = m.group(2).split(":", 1)[-1]
        if fn.startswith("0x"):
            fn += " (%s)" % os.path.basename(m.group(3))
        rows.append((int(m.group(1).replace(",", "")) / n, fn))
    start = next((i for i, (_, fn) in enumerate(rows) if fn == "readQueryFromClient"), 0)
    return rows[start:start + top]


def ours(redis, build, n):
    probe = bench.probe_of(build)
    redis.command("FLUSHALL")
    bench.run_child([probe, "enqueue", "--type", "test.noop", "--count", str(n)], bench.env_for(redis))
    w = subprocess.Popen([probe, "worker", "--workers", "2", "--no-aux"], env=bench.env_for(redis),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    w.stdout.readline()
    redis.control("-z")
    bench.wait_finished(redis, POLL_S)
    ir = redis.instructions()
    harness.stop_pid(w)
    w.stdout.close()
    return per_job(redis, ir, n)


def per_job(redis, ir, n):
    got = {k: v / n for k, v in ir.items()}
    if "--profile" in sys.argv:
        got["profile"] = profile(redis.last_dump, n)
    return got


def bullmq(redis, n):
    redis.command("FLUSHALL")
    name = "i%d" % time.monotonic_ns()
    bench.run_child(bench.node(redis, "add", name, n, 1))
    w = bench.bullmq_worker(redis, name, n, 50)
    redis.control("-z")
    w.stdin.write("go\n")
    w.stdin.flush()
    if w.stdout.readline().strip() != "done":
        raise RuntimeError("bullmq worker did not finish")
    ir = redis.instructions()
    w.wait(60)
    return per_job(redis, ir, n)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n, builds = int(args[0]), [a.partition("=")[::2] for a in args[1:]]
    redis = CallgrindRedis().start()
    try:
        rows = [(label, ours(redis, path, n)) for label, path in builds]
        if "--bullmq" in sys.argv:
            rows.append(("BullMQ (concurrency 50, jobs kept)", bullmq(redis, n)))
        if "--profile" in sys.argv:
            for label, ir in rows:
                print("%s: where Redis's instructions per job go (inclusive, top 30)" % label)
                for per_job, fn in ir["profile"]:
                    print("%10.0f  %s" % (per_job, fn))
    finally:
        redis.stop()
    print("Redis instructions per job (callgrind), drain of %d no-op jobs" % n)
    print("| queue | requests | of which scripts | timers | total |")
    print("|---|---|---|---|---|")
    for label, ir in rows:
        print("| %s | %s |" % (label, " | ".join(f"{ir.get(k, 0):,.0f}" for k in
                                                 ("requests", "scripts", "timers", "total"))))


if __name__ == "__main__":
    main()
