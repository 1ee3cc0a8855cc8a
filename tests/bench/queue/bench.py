#!/usr/bin/env python3
"""Queue benchmark: fleetwarden's job queue and BullMQ side by side on one redis-server.

Configurations, each run RUNS times, interleaved (round 1 of every configuration, then round 2,
...) so that a change in the machine's load hits every one alike:
  ours batch W     FLUSHALL; pre-fill N test.noop jobs with `jobs-probe enqueue --count N` (one
                   EVALSHA per job: the enqueue rate); start `jobs-probe worker --workers W --no-aux`
                   and time from its "ready" line until no job is queued, running or delayed (polled
                   every 5 ms on one connection). W = 1, 2, 4 (--workers 1,2,4,8,16: others).
  ours stream W    the worker runs first (idle); then `jobs-probe enqueue --count N` enqueues one job at
                   a time, each awaited (as a portal or a rotation job does); timed from the first
                   enqueue to the last finished job. W = 1, 4.
  ours sparse 1    the portal case: one worker, idle; N/10 jobs enqueued 5 ms apart (each finds the
                   worker waiting on the wake list), enqueued by this build's jobs-probe for every
                   build alike (the enqueue is not what is compared). --sparse adds it.
  bullmq batch C   the same drain with BullMQ (bullmq/bench.js): addBulk pre-fill, then one Worker of
                   concurrency C; remove = removeOnComplete: true, keep = BullMQ's default (kept).
  bullmq stream C  one Worker (C = 50) first, then N single awaited `queue.add` calls.
CPU is measured as CPU time, which the machine's other load disturbs far less than wall time:
Redis from INFO cpu (user+sys) over the timed window; the worker from /proc/PID/stat over the same
window; the producer (streaming) from its rusage. "jobs per CPU-s" = N / (Redis + worker + producer
CPU seconds). Memory: used_memory after the run minus before the pre-fill, / N (finished jobs
kept: ours with their 7-day TTL, BullMQ "keep" forever; the capped event logs of both are in it).
The raw ceiling is raw-queue (bare LPUSH + BLMOVE/LREM, no job records).
--also LABEL=BUILD_DIR adds the same "ours" rows for another build (e.g. the code before a change),
interleaved with the others in the same run, so before and after meet the same load.
--pin-redis runs redis-server alone on the last CPU and every client on the others (a Redis host of
its own, as in production); without it (the default, and every table of RESULTS.md unless it says
so) all share the machine's CPUs.
Usage: bench.py BUILD_DIR RAW_QUEUE_BIN [N] [RUNS] [--no-bullmq] [--also LABEL=BUILD_DIR]
                [--workers W,W,...] [--no-stream] [--sparse] [--pin-redis]
"""
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
import harness  # noqa: E402

BULLMQ_JS = os.path.join(HERE, "bullmq", "bench.js")
TICK = os.sysconf("SC_CLK_TCK")


def info(redis, section):
    out = {}
    for line in redis.command("INFO", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def redis_cpu(redis):
    """Redis's (user + system, system) CPU seconds."""
    i = info(redis, "cpu")
    return float(i["used_cpu_sys"]) + float(i["used_cpu_user"]), float(i["used_cpu_sys"])


def used_memory(redis):
    return int(info(redis, "memory")["used_memory"])


def proc_cpu(pid):
    """User + system CPU seconds of a running process (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def env_for(redis):
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLEETWARDEN_")}
    e.update({"FLEETWARDEN_REDIS_URL": redis.url, "FLEETWARDEN_LOG_LEVEL": "warn"})
    return e


def run_child(args, env=None):
    """Runs a child to its end; returns (wall seconds, CPU seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d" % (args[:2], p.returncode))
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime


class Run:
    """One timed window: Redis CPU and the worker's CPU from start() to stop()."""

    def __init__(self, redis, worker_pid):
        self.redis, self.pid = redis, worker_pid

    def start(self):
        self.cpu0, self.wcpu0, self.t0 = redis_cpu(self.redis), proc_cpu(self.pid), time.monotonic()

    def stop(self, n, producer_cpu=0.0, extra=None):
        wall = time.monotonic() - self.t0
        (rcpu, rsys), wcpu = redis_cpu(self.redis), proc_cpu(self.pid) - self.wcpu0
        rcpu, rsys = rcpu - self.cpu0[0], rsys - self.cpu0[1]
        row = {"rate": n / wall, "redis_us": rcpu / n * 1e6, "redis_sys_us": rsys / n * 1e6,
               "worker_us": wcpu / n * 1e6,
               "producer_us": producer_cpu / n * 1e6, "per_cpu_s": n / (rcpu + wcpu + producer_cpu),
               "load": os.getloadavg()[0]}
        row.update(extra or {})
        return row


class Poller:
    """One connection for the 5 ms completion polls (a new connection each time costs Redis CPU
    that would be counted against the queue)."""

    def __init__(self, redis):
        self.sock = socket.create_connection(("127.0.0.1", redis.port))
        self.f = self.sock.makefile("rb")

    def drained(self):
        """No job queued, running or waiting (the no-op jobs cannot fail): all of them finished."""
        cmds = [("LLEN", "fw:q:default"), ("ZCARD", "fw:running"), ("ZCARD", "fw:delayed")]
        self.sock.sendall(b"".join(b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(c), c.encode(), len(k), k.encode())
                                   for c, k in cmds))
        return all(int(self.f.readline()[1:]) == 0 for _ in cmds)

    def close(self):
        self.f.close()
        self.sock.close()


def wait_finished(redis, interval=0.005):
    p = Poller(redis)
    while not p.drained():
        time.sleep(interval)
    p.close()


def ours_batch(redis, probe, n, workers):
    redis.command("FLUSHALL")
    mem0 = used_memory(redis)
    wall, _ = run_child([probe, "enqueue", "--type", "test.noop", "--count", str(n)], env_for(redis))
    w = subprocess.Popen([probe, "worker", "--workers", str(workers), "--no-aux"], env=env_for(redis),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    w.stdout.readline()
    run = Run(redis, w.pid)
    run.start()
    wait_finished(redis)
    row = run.stop(n, extra={"add": n / wall})
    harness.stop_pid(w)
    w.stdout.close()
    row["bytes"] = (used_memory(redis) - mem0) / n
    return row


def ours_stream(redis, probe, n, workers):
    redis.command("FLUSHALL")
    w = subprocess.Popen([probe, "worker", "--workers", str(workers), "--no-aux"], env=env_for(redis),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    w.stdout.readline()
    time.sleep(0.2)   # the workers reach their idle wait
    run = Run(redis, w.pid)
    run.start()
    wall, pcpu = run_child([probe, "enqueue", "--type", "test.noop", "--count", str(n)], env_for(redis))
    wait_finished(redis)
    row = run.stop(n, pcpu, {"add": n / wall})
    harness.stop_pid(w)
    w.stdout.close()
    return row


def ours_sparse(redis, probe, producer, n, gap_ms=5):
    redis.command("FLUSHALL")
    w = subprocess.Popen([probe, "worker", "--workers", "1", "--no-aux"], env=env_for(redis),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    w.stdout.readline()
    time.sleep(0.2)
    run = Run(redis, w.pid)
    run.start()
    wall, pcpu = run_child([producer, "enqueue", "--type", "test.noop", "--count", str(n), "--gap-ms",
                            str(gap_ms)], env_for(redis))
    wait_finished(redis)
    row = run.stop(n, pcpu, {"add": n / wall})
    harness.stop_pid(w)
    w.stdout.close()
    return row


def node(redis, *args):
    return ["node", BULLMQ_JS, args[0], str(redis.port)] + [str(a) for a in args[1:]]


def bullmq_worker(redis, name, n, conc):
    w = subprocess.Popen(node(redis, "worker", name, n, conc), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    if w.stdout.readline().strip() != "ready":
        raise RuntimeError("bullmq worker did not start")
    return w


def bullmq_batch(redis, n, conc, keep):
    redis.command("FLUSHALL")
    mem0 = used_memory(redis)
    name = "b%d" % time.monotonic_ns()
    wall, _ = run_child(node(redis, "add", name, n, 1 if keep else 0))
    w = bullmq_worker(redis, name, n, conc)
    run = Run(redis, w.pid)
    run.start()
    w.stdin.write("go\n")
    w.stdin.flush()
    line = w.stdout.readline().strip()
    row = run.stop(n, extra={"add": n / wall})
    if line != "done":
        raise RuntimeError("bullmq worker: %r" % line)
    w.wait(30)
    row["bytes"] = (used_memory(redis) - mem0) / n
    return row


def bullmq_stream(redis, n, conc):
    redis.command("FLUSHALL")
    name = "s%d" % time.monotonic_ns()
    w = bullmq_worker(redis, name, n, conc)
    w.stdin.write("go\n")
    w.stdin.flush()
    time.sleep(0.2)
    run = Run(redis, w.pid)
    run.start()
    wall, pcpu = run_child(node(redis, "stream", name, n, 0))
    line = w.stdout.readline().strip()
    row = run.stop(n, pcpu, {"add": n / wall})
    if line != "done":
        raise RuntimeError("bullmq worker: %r" % line)
    w.wait(30)
    return row


def raw_ceiling(redis, raw, n):
    out = subprocess.run([raw, str(redis.port), str(n), "1"], capture_output=True, text=True, check=True)
    return float(out.stdout.split(":")[1])


def probe_of(build):
    return os.path.join(build, "tests", "tools", "jobs-probe", "jobs-probe")


def configs(builds, n, bullmq, workers, stream, sparse):
    out = []
    producer = probe_of(builds[0][1])
    for who, build in builds:
        probe = probe_of(build)
        if sparse:
            out.append((who, "sparse", 1, lambda r, p=probe: ours_sparse(r, p, producer, max(n // 10, 1))))
        out += [(who, "batch", w, lambda r, w=w, p=probe: ours_batch(r, p, n, w)) for w in workers]
        if stream:
            out += [(who, "stream", w, lambda r, w=w, p=probe: ours_stream(r, p, n, w)) for w in (1, 4)]
    if bullmq:
        out += [("BullMQ", "batch remove", 50, lambda r: bullmq_batch(r, n, 50, False)),
                ("BullMQ", "batch keep", 50, lambda r: bullmq_batch(r, n, 50, True)),
                ("BullMQ", "stream", 50, lambda r: bullmq_stream(r, n, 50))]
    return out


def med(rows, key):
    vals = [r[key] for r in rows]
    return statistics.median(vals), min(vals), max(vals)


def fmt_rate(rows, key="rate"):
    m, lo, hi = med(rows, key)
    return "%s (%s-%s)" % (f"{m:,.0f}", f"{lo:,.0f}", f"{hi:,.0f}")


def print_legacy(results, raws, n, runs):
    rm = statistics.median(raws)
    print(f"date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, cores: {os.cpu_count()}, "
          f"N={n} no-op jobs, {runs} runs, median (min-max), Redis without persistence")
    print(f"raw ceiling (LPUSH + BLMOVE/LREM, 1 consumer): {rm:,.0f} jobs/s "
          f"({min(raws):,.0f}-{max(raws):,.0f})")
    print("| workers | end-to-end jobs/s | % of raw | enqueue jobs/s | Redis CPU/job | Redis bytes/finished job |")
    print("|---|---|---|---|---|---|")
    for (who, mode, w), rows in results.items():
        if who == "ours" and mode == "batch":
            r = med(rows, "rate")[0]
            print(f"| {w} | {fmt_rate(rows)} | {100 * r / rm:.0f}% | {med(rows, 'add')[0]:,.0f} "
                  f"| {med(rows, 'redis_us')[0]:.0f} us | {med(rows, 'bytes')[0]:,.0f} |")


def print_side_by_side(results):
    print()
    print("| queue | mode | workers (ours: threads; BullMQ: concurrency) | jobs/s wall, median (min-max) "
          "| enqueue jobs/s | Redis CPU/job (of which system) | worker CPU/job | producer CPU/job | jobs per CPU-s (all) "
          "| Redis bytes/finished job | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (who, mode, w), rows in results.items():
        mem = f"{med(rows, 'bytes')[0]:,.0f}" if "bytes" in rows[0] else "-"
        prod = f"{med(rows, 'producer_us')[0]:.0f} us" if mode in ("stream", "sparse") else "-"
        lo, hi = min(r["load"] for r in rows), max(r["load"] for r in rows)
        print(f"| {who} | {mode} | {w} | {fmt_rate(rows)} | {med(rows, 'add')[0]:,.0f} "
              f"| {med(rows, 'redis_us')[0]:.0f} us ({med(rows, 'redis_sys_us')[0]:.0f}) "
              f"| {med(rows, 'worker_us')[0]:.0f} us | {prod} "
              f"| {fmt_rate(rows, 'per_cpu_s')} | {mem} | {lo:.1f}-{hi:.1f} |")


def main():
    argv, also = list(sys.argv[1:]), []
    while "--also" in argv:
        i = argv.index("--also")
        label, _, path = argv[i + 1].partition("=")
        also.append(("ours (%s)" % label, path))
        del argv[i:i + 2]
    workers = (1, 2, 4)
    if "--workers" in argv:
        i = argv.index("--workers")
        workers = tuple(int(w) for w in argv[i + 1].split(","))
        del argv[i:i + 2]
    stream = "--no-stream" not in argv
    sparse = "--sparse" in argv
    args = [a for a in argv if not a.startswith("--")]
    bullmq = "--no-bullmq" not in argv
    build, raw = args[0], args[1]
    n = int(args[2]) if len(args) > 2 else 20000
    runs = int(args[3]) if len(args) > 3 else 3
    redis = harness.Redis().start()
    if "--pin-redis" in argv:
        # Redis alone on the last CPU, everything else (this script, the workers, the producers,
        # BullMQ's node) on the others: the caches Redis runs from are then its own, as on a
        # Redis host of its own. Not the default: the rows of RESULTS.md are all unpinned.
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(redis.proc.pid, {cpus[-1]})
        os.sched_setaffinity(0, set(cpus[:-1]))
        print(f"pinned: redis-server on CPU {cpus[-1]}, the clients on {cpus[:-1]}", flush=True)
    print(f"load avg at start: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[1]:.1f} (5 min)", flush=True)
    results, raws = {}, []
    try:
        for _ in range(runs):
            raws.append(raw_ceiling(redis, raw, n))
            for who, mode, w, fn in configs([("ours", build)] + also, n, bullmq, workers, stream, sparse):
                results.setdefault((who, mode, w), []).append(fn(redis))
    finally:
        redis.stop()
    print_legacy(results, raws, n, runs)
    print_side_by_side(results)
    print(f"\nload avg at end: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[1]:.1f} (5 min)")


if __name__ == "__main__":
    main()
