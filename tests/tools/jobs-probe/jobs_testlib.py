"""Helpers for the jobs integration tests (tests/integration/test_jobs*.py).

Starts jobs-probe processes (real workers, real scheduler) against a real
redis-server from tests/lib/harness.py, and reads Redis directly to check
what happened. Every process is stopped by its own PID.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
import harness  # noqa: E402

PROBE = os.path.join(harness.BUILD_DIR, "tests", "tools", "jobs-probe", "jobs-probe")


def stored_names(header=os.path.join(HERE, "..", "..", "..", "jobs", "job_record.h")):
    """{stored name: long name} of the job hash, read from the rows of jobs/job_record.h's field
    table (X(ENUM, "stored", ...)): the long name is the row's ENUM in lower case ("max", "runs",
    "pdone"); the PREFIX row of the steps ("s:") is left out (steps keep their stored names)."""
    with open(header) as f:
        rows = re.findall(r'^\s*X\((\w+),\s*"([^"]+)",\s*(\w+),', f.read(), re.M)
    return {stored: enum.lower() for enum, stored, kept in rows if kept != "PREFIX"}


# The job hash's stored field names and the names job() shows them by.
STORED_NAMES = stored_names()
SHORT_NAMES = {v: k for k, v in STORED_NAMES.items()}
STATES = ("queued", "scheduled", "running", "succeeded", "failed", "dead", "canceled")

# Fast timings so stalls, retries and reaping happen within a test.
FAST_ENV = {
    "FLEETWARDEN_JOB_LEASE_MS": "1500",
    "FLEETWARDEN_REAPER_MS": "300",
    "FLEETWARDEN_RETRY_BASE_MS": "50",
    "FLEETWARDEN_RETRY_CAP_MS": "400",
    "FLEETWARDEN_LOG_LEVEL": "warn",
}


class Probe:
    """Runs jobs-probe subcommands and worker processes against one Redis."""

    def __init__(self, redis, env=None, prefix="fw:"):
        self.redis = redis
        self.prefix = prefix
        self.dir = tempfile.mkdtemp(prefix="fw-jobs-")
        self.extra = dict(FAST_ENV)
        self.extra.update(env or {})
        self.procs = []

    def env(self, extra=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("FLEETWARDEN_")}
        e["FLEETWARDEN_REDIS_URL"] = self.redis.url
        e["FLEETWARDEN_PREFIX"] = self.prefix
        e.update(self.extra)
        e.update(extra or {})
        return e

    def run(self, *args, env=None, check=True, timeout=60):
        r = subprocess.run([PROBE, *map(str, args)], env=self.env(env), capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"jobs-probe {args} exited {r.returncode}: {r.stdout} {r.stderr}")
        return r.stdout.strip()

    def enqueue(self, jtype, payload="{}", **kw):
        """Enqueues one job; returns (id, existed) or raises with the error name."""
        args = ["enqueue", "--type", jtype, "--payload", payload]
        for k, v in kw.items():
            args += ["--" + k.replace("_", "-"), v]
        out = self.run(*args, check=False)
        first = out.splitlines()[0] if out else "error none"
        if first.startswith("error"):
            raise ProbeError(first.split()[1])
        jid, existed = first.split()
        return jid, existed == "1"

    def enqueue_many(self, jtype, payload, count, **kw):
        args = ["enqueue", "--type", jtype, "--payload", payload, "--count", count]
        for k, v in kw.items():
            args += ["--" + k.replace("_", "-"), v]
        return [line.split()[0] for line in self.run(*args, timeout=120).splitlines()]

    def start(self, *args, env=None):
        """Starts a long-running jobs-probe (worker, scheduler); waits for 'ready'."""
        log = open(os.path.join(self.dir, f"probe-{len(self.procs)}.log"), "ab")
        p = subprocess.Popen([PROBE, *map(str, args)], env=self.env(env), stdout=subprocess.PIPE,
                             stderr=log)
        p.log_file = log
        p.log_path = log.name
        line = p.stdout.readline()
        if line.strip() != b"ready":
            raise AssertionError(f"jobs-probe {args} did not start: {line!r}")
        self.procs.append(p)
        return p

    def worker(self, workers=4, *extra, env=None):
        return self.start("worker", "--workers", workers, *extra, env=env)

    def stop(self, p, sig=signal.SIGTERM, timeout=20):
        code = harness.stop_pid(p, sig, timeout)
        p.log_file.close()
        p.stdout.close()
        if p in self.procs:
            self.procs.remove(p)
        return code

    def forget(self, p):
        """Drops a process that was killed and reaped by the test itself."""
        p.wait()
        p.log_file.close()
        p.stdout.close()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                except OSError:
                    pass
            self.stop(p)

    # ---- reading Redis ----

    def r(self, *args):
        return self.redis.command(*args)

    def job(self, jid):
        """The job hash with the long field names of jobs/job_record.h's table, the state by name,
        start and finish as epoch ms, counts at 0 when not stored, and "token" while it runs."""
        flat = self.r("HGETALL", self.prefix + "job:" + jid)
        stored = dict(zip(flat[0::2], flat[1::2]))
        if not stored:
            return {}
        job = {STORED_NAMES.get(k, k): v for k, v in stored.items()}
        job["state"] = STATES[int(stored["s"])]
        for rel, name in (("b", "started"), ("f", "finished")):
            if rel in stored:
                job[name] = str(int(stored["c"]) + int(stored[rel]))
        for name in ("attempts", "runs", "stalls"):
            job.setdefault(name, "0")
        for member in self.r("ZRANGE", self.prefix + "running", 0, -1):
            if member.startswith(jid + "|"):
                job["token"] = member[len(jid) + 1:]
        return job

    def count(self, state):
        """Jobs in the index of state (jobs/lua/prelude.lua idx_add)."""
        return len(self.index_ids(state))

    def index_ids(self, state=None):
        """The job ids in the index of state, or in every index."""
        return self.eval("""
            local P, want = ARGV[1], ARGV[2]; local out = {}
            local function add(ids) for _, id in ipairs(ids) do out[#out + 1] = id end end
            for _, st in ipairs({'queued', 'scheduled', 'failed'}) do
              if want == '' or want == st then add(redis.call('ZRANGE', P .. 'st:' .. st, 0, -1)) end
            end
            if want == '' or want == 'running' then
              for _, m in ipairs(redis.call('ZRANGE', P .. 'running', 0, -1)) do
                out[#out + 1] = string.match(m, '^(.*)|')
              end
            end
            for _, st in ipairs({'succeeded', 'dead', 'canceled'}) do
              if want == '' or want == st then
                for _, b in ipairs(redis.call('ZRANGE', P .. 'sd:' .. st, 0, -1)) do
                  add(redis.call('ZRANGE', P .. 'st:' .. st .. ':' .. b, 0, -1))
                end
              end
            end
            return out""", state or "")

    def wait_for(self, pred, timeout=30.0, what="condition", interval=0.05):
        harness.wait_until(pred, timeout=timeout, interval=interval, what=what)

    def wait_state(self, jid, states, timeout=20.0):
        if isinstance(states, str):
            states = (states,)
        self.wait_for(lambda: self.job(jid).get("state") in states, timeout,
                      what=f"job {jid} in {states} (now {self.job(jid).get('state')})")
        return self.job(jid)

    def eval(self, script, *args):
        return self.r("EVAL", script, 0, self.prefix, *args)

    def states_of_all(self):
        """{state: count} over every job hash (one script, any number of jobs)."""
        flat = self.eval("""
            local P = ARGV[1]; local c = {}
            for _, k in ipairs(redis.call('KEYS', P .. 'job:*')) do
              local s = redis.call('HGET', k, 's') or 'missing'
              c[s] = (c[s] or 0) + 1
            end
            local out = {}
            for k, v in pairs(c) do out[#out + 1] = k; out[#out + 1] = v end
            return out""")
        return {STATES[int(k)] if k.isdigit() else k: v for k, v in zip(flat[0::2], flat[1::2])}

    def field_histogram(self, field):
        """{value: count} of one hash field (long name, as job() shows it) over every job."""
        flat = self.eval("""
            local P = ARGV[1]; local c = {}
            for _, k in ipairs(redis.call('KEYS', P .. 'job:*')) do
              local s = redis.call('HGET', k, ARGV[2]) or 'nil'
              c[s] = (c[s] or 0) + 1
            end
            local out = {}
            for k, v in pairs(c) do out[#out + 1] = k; out[#out + 1] = v end
            return out""", SHORT_NAMES[field])
        return dict(zip(flat[0::2], flat[1::2]))

    def list_dupes(self, key):
        """(length, distinct) of a list of strings."""
        return self.eval("""
            local P = ARGV[1]; local seen = {}; local n, d = 0, 0
            for _, v in ipairs(redis.call('LRANGE', P .. ARGV[2], 0, -1)) do
              n = n + 1
              if not seen[v] then seen[v] = true; d = d + 1 end
            end
            return {n, d}""", key)

    def log_text(self, p):
        p.log_file.flush()
        with open(p.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class ProbeError(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


def monotonic_ms():
    return int(time.monotonic() * 1000)


class JobsTestCase(harness.RedisTestCase):
    """One redis-server per test class (harness.RedisTestCase); a flushed Redis per test."""
    redis = None
    env = None

    def setUp(self):
        self.redis.command("FLUSHALL")
        self.probe = Probe(self.redis, env=self.env)

    def tearDown(self):
        self.probe.stop_all()
