#!/usr/bin/env python3
"""Queue benchmark: no-op jobs per second end to end, next to the raw ceiling.

For each worker count (1, 2, 4 threads in one jobs-probe process) and each
run: FLUSHALL, pre-fill N test.noop jobs (jobs-probe enqueue --count, one
EVALSHA per job: the enqueue rate), start the worker, and time from its
"ready" line until all N are succeeded (ZCARD of the state index, polled
every 5 ms). Also reads Redis CPU (INFO cpu) and memory (INFO memory)
before and after, for Redis CPU per job and bytes per finished job (the
finished job hashes are kept, with their 7-day TTL, as in production).
The raw ceiling is raw-queue (bare LPUSH + BLMOVE/LREM, no job records).
Usage: bench.py BUILD_DIR RAW_QUEUE_BIN [N] [RUNS]
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import harness  # noqa: E402


def info(redis, section):
    out = {}
    for line in redis.command("INFO", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def redis_cpu(redis):
    i = info(redis, "cpu")
    return float(i["used_cpu_sys"]) + float(i["used_cpu_user"])


def env_for(redis):
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLEETWARDEN_")}
    e.update({"FLEETWARDEN_REDIS_URL": redis.url, "FLEETWARDEN_LOG_LEVEL": "warn"})
    return e


def one_run(redis, probe, n, workers):
    redis.command("FLUSHALL")
    mem0 = int(info(redis, "memory")["used_memory"])
    t0 = time.monotonic()
    subprocess.run([probe, "enqueue", "--type", "test.noop", "--count", str(n)], env=env_for(redis),
                   stdout=subprocess.DEVNULL, check=True)
    add_rate = n / (time.monotonic() - t0)
    cpu0 = redis_cpu(redis)
    w = subprocess.Popen([probe, "worker", "--workers", str(workers), "--no-aux"], env=env_for(redis),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    w.stdout.readline()
    t0 = time.monotonic()
    while redis.command("ZCARD", "fw:st:succeeded") < n:
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    cpu = redis_cpu(redis) - cpu0
    harness.stop_pid(w)
    w.stdout.close()
    mem1 = int(info(redis, "memory")["used_memory"])
    return {"rate": n / elapsed, "add": add_rate, "cpu_us": cpu / n * 1e6, "bytes": (mem1 - mem0) / n}


def raw_ceiling(redis, raw, n):
    out = subprocess.run([raw, str(redis.port), str(n), "1"], capture_output=True, text=True, check=True)
    return float(out.stdout.split(":")[1])


def med(rows, key):
    vals = [r[key] for r in rows]
    return statistics.median(vals), min(vals), max(vals)


def main():
    build, raw = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    probe = os.path.join(build, "tests", "tools", "jobs-probe", "jobs-probe")
    redis = harness.Redis().start()
    try:
        raws = [raw_ceiling(redis, raw, n) for _ in range(runs)]
        results = {w: [one_run(redis, probe, n, w) for _ in range(runs)] for w in (1, 2, 4)}
    finally:
        redis.stop()
    rm = statistics.median(raws)
    print(f"date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, cores: {os.cpu_count()}, "
          f"N={n} no-op jobs, {runs} runs, median (min-max), Redis without persistence")
    print(f"raw ceiling (LPUSH + BLMOVE/LREM, 1 consumer): {rm:,.0f} jobs/s "
          f"({min(raws):,.0f}-{max(raws):,.0f})")
    print("| workers | end-to-end jobs/s | % of raw | vs Sidekiq 23.5k | vs BullMQ ~5k (6.9k here) "
          "| enqueue jobs/s | Redis CPU/job | Redis bytes/finished job |")
    print("|---|---|---|---|---|---|---|---|")
    for w, rows in results.items():
        r, lo, hi = med(rows, "rate")
        print(f"| {w} | {r:,.0f} ({lo:,.0f}-{hi:,.0f}) | {100 * r / rm:.0f}% | {r / 23500:.2f}x "
              f"| {r / 5000:.2f}x ({r / 6901:.2f}x) | {med(rows, 'add')[0]:,.0f} | {med(rows, 'cpu_us')[0]:.0f} us "
              f"| {med(rows, 'bytes')[0]:,.0f} |")


if __name__ == "__main__":
    main()
