"""The job queue end to end: real jobs-probe worker processes, real Redis.

Covers: exactly-once completion across processes, kill -9 recovery with
steps not repeated, fencing of late completions, cancel, retry, dead after
max attempts and by error class, long-poll wake-up, lane fairness,
uniqueness, caller-chosen ids, retention TTLs and graceful shutdown.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "jobs-probe"))
from jobs_testlib import PROBE, JobsTestCase, Probe, ProbeError, harness  # noqa: E402


class Throughput(JobsTestCase):

    def test_10k_jobs_3_processes_each_once(self):
        p = self.probe
        ids = p.enqueue_many("test.record", "{}", 10000)
        self.assertEqual(len(set(ids)), 10000)
        t0 = time.monotonic()
        for _ in range(3):
            p.worker(4)
        p.wait_for(lambda: p.count("succeeded") == 10000, timeout=120, what="10k jobs succeeded",
                   interval=0.2)
        elapsed = time.monotonic() - t0
        self.assertEqual(p.list_dupes("test:runs"), [10000, 10000])
        self.assertEqual(p.states_of_all(), {"succeeded": 10000})
        self.assertEqual(p.field_histogram("runs"), {"1": 10000})
        self.assertEqual(p.field_histogram("attempts"), {"1": 10000})
        self.assertEqual(p.r("ZCARD", "fw:running"), 0)
        for lane in ("critical", "default", "bulk"):
            self.assertEqual(p.r("LLEN", "fw:q:" + lane), 0)
        print(f"\n10k jobs, 3 processes x 4 workers: {elapsed:.1f} s ({10000 / elapsed:.0f} jobs/s)",
              file=sys.stderr)


class Crash(JobsTestCase):

    def test_kill9_jobs_finish_elsewhere_steps_not_repeated(self):
        p = self.probe
        victim = p.worker(4, "--no-aux")
        ids = [p.enqueue("test.steps", '{"n":5,"ms":80}')[0] for _ in range(16)]
        p.wait_for(lambda: p.r("LLEN", "fw:test:effects") >= 6, what="first steps done")
        os.kill(victim.pid, signal.SIGKILL)
        p.forget(victim)
        p.worker(4)   # with the reaper
        for jid in ids:
            p.wait_state(jid, "succeeded", timeout=30)
        effects = p.r("LRANGE", "fw:test:effects", 0, -1)
        # Every step ran; a step recorded done is never run again. Only a step in flight at the
        # kill may run again: one whose effect was written but whose "done" was not yet (the
        # probe's step writes its effect and then records itself, two round trips; a kill between
        # them repeats it, as it would any handler's side effect). At most one per job running.
        self.assertEqual(len(set(effects)), 16 * 5, "every step ran")
        self.assertLessEqual(len(effects) - 16 * 5, 4, "only the steps in flight at the kill ran again")
        stalled = [jid for jid in ids if p.job(jid).get("stalls") == "1"]
        self.assertTrue(stalled, "some jobs were running when the worker was killed")
        for jid in stalled:
            job = p.job(jid)
            self.assertEqual(job["state"], "succeeded")
            self.assertEqual(job["runs"], "2")
            self.assertEqual(job["attempts"], "1", "a stall does not use up an attempt")
            self.assertIn("LeaseExpired", job["errors"])

    def test_late_completion_rejected_by_token(self):
        p = self.probe
        first = p.worker(1, "--no-aux")
        jid, _ = p.enqueue("test.sleep", '{"ms":2500}')
        p.wait_state(jid, "running")
        token1 = p.job(jid)["token"]
        os.kill(first.pid, signal.SIGSTOP)        # a hung worker: its lease lapses
        p.worker(1)                               # another worker with the reaper
        job = p.wait_state(jid, "succeeded", timeout=20)
        self.assertEqual(job["runs"], "2")
        os.kill(first.pid, signal.SIGCONT)
        p.wait_for(lambda: "late completion rejected" in p.log_text(first), timeout=10,
                   what="the old worker's completion to be rejected")
        after = p.job(jid)
        self.assertEqual(after["state"], "succeeded")
        self.assertEqual(after["finished"], job["finished"], "the late completion changed nothing")
        self.assertNotEqual(token1, "")
        # A completion with a stale token is refused by the script itself.
        self.assertEqual(p.eval(_FINISH_PROBE, jid, token1), -1)

    def test_poison_job_goes_dead_after_3_stalls(self):
        p = self.probe
        jid, _ = p.enqueue("test.sleep", '{"ms":60000}')
        for n in range(1, 4):
            w = p.worker(1, "--no-aux")
            p.wait_for(lambda: p.job(jid).get("state") == "running" and p.job(jid).get("runs") == str(n),
                       what=f"run {n}")
            os.kill(w.pid, signal.SIGKILL)
            p.forget(w)
            reaper = p.start("scheduler")
            p.wait_for(lambda: p.job(jid).get("state") in ("queued", "dead"), what="reaped")
            p.stop(reaper)
        job = p.job(jid)
        self.assertEqual(job["state"], "dead")
        self.assertIn("poison", job["reason"])
        self.assertGreater(p.r("PTTL", "fw:job:" + jid), 0)

    def test_a_job_canceled_while_its_worker_was_lost_is_not_run_again(self):
        # Cancel answers "requested" for a running job; its worker dies before it sees the flag.
        # The reaper must end the job canceled, not put it back in its lane (it did: the next
        # worker ran it again).
        p = self.probe
        jid, _ = p.enqueue("test.sleep", '{"ms":60000}')
        w = p.worker(1, "--no-aux")
        p.wait_for(lambda: p.job(jid).get("state") == "running", what="running")
        os.kill(w.pid, signal.SIGKILL)
        p.forget(w)
        self.assertEqual(p.run("cancel", jid), "requested")
        reaper = p.start("scheduler")
        p.wait_for(lambda: p.job(jid).get("state") != "running", what="reaped")
        p.stop(reaper)
        job = p.job(jid)
        self.assertEqual(job["state"], "canceled", job)
        self.assertEqual(p.r("LLEN", "fw:q:default"), 0)
        self.assertGreater(p.r("PTTL", "fw:job:" + jid), 0)

    def test_a_cancel_asked_during_a_failing_attempt_ends_the_job(self):
        # The attempt fails 1.5 s after the cancel was asked, before any heartbeat or step told
        # the worker: the job must end canceled, with the attempt's error, not be retried (it
        # was: three more runs).
        p = self.probe
        jid, _ = p.enqueue("test.fail", '{"class":"transient","times":3,"ms":1500}')
        p.worker(1, env={"FLEETWARDEN_JOB_LEASE_MS": "30000"})   # a heartbeat every 10 s
        p.wait_for(lambda: p.job(jid).get("state") == "running", what="running")
        self.assertEqual(p.run("cancel", jid), "requested")
        p.wait_for(lambda: p.job(jid).get("state") not in ("running", "queued", "failed"), timeout=20,
                   what="the attempt ended")
        job = p.job(jid)
        self.assertEqual(job["state"], "canceled", job)
        self.assertEqual(job.get("runs"), "1", job)
        self.assertIn("test failure 1 of 3", job.get("errors", ""), job)


# Calls finish.lua's rule directly: the token must still hold the job's lease
# (jobs/lua/prelude.lua lease_member).
_FINISH_PROBE = """
local P = ARGV[1]
if not redis.call('ZSCORE', P .. 'running', ARGV[2] .. '|' .. ARGV[3]) then return -1 end
return 1
"""


class Control(JobsTestCase):

    def test_cancel_queued_is_immediate_and_final(self):
        p = self.probe
        jid, _ = p.enqueue("test.noop")
        self.assertEqual(p.run("cancel", jid), "canceled")
        job = p.job(jid)
        self.assertEqual(job["state"], "canceled")
        self.assertEqual(p.r("LLEN", "fw:q:default"), 0)
        self.assertEqual(p.run("cancel", jid, check=False), "FW_ECONFLICT")
        self.assertEqual(p.run("cancel", "j_nosuchjob", check=False), "FW_ENOTFOUND")
        w = p.worker(1)
        time.sleep(0.3)
        self.assertEqual(p.job(jid)["state"], "canceled")
        p.stop(w)

    def test_cancel_delayed(self):
        p = self.probe
        jid, _ = p.enqueue("test.noop", delay_ms=60000)
        self.assertEqual(p.job(jid)["state"], "scheduled")
        self.assertEqual(p.run("cancel", jid), "canceled")
        self.assertIsNone(p.r("ZSCORE", "fw:delayed", jid))

    def test_cancel_running_between_steps(self):
        p = self.probe
        p.worker(1)
        jid, _ = p.enqueue("test.steps", '{"n":30,"ms":50}')
        p.wait_for(lambda: int(p.job(jid).get("pdone", "0")) >= 2, what="two steps")
        self.assertEqual(p.run("cancel", jid), "requested")
        job = p.wait_state(jid, "canceled", timeout=10)
        self.assertLess(int(job["pdone"]), 30)
        self.assertGreater(p.r("PTTL", "fw:job:" + jid), 0)

    def test_dead_after_max_attempts_then_retry(self):
        p = self.probe
        p.worker(2)
        jid, _ = p.enqueue("test.fail", '{"class":"transient","times":3,"code":"InternalFailure"}')
        job = p.wait_state(jid, "dead", timeout=20)
        self.assertEqual(job["attempts"], "3")
        self.assertIn("attempts exhausted", job["reason"])
        self.assertEqual(job["errors"].count("InternalFailure"), 3)
        self.assertIsNotNone(p.r("ZSCORE", "fw:dead", jid))
        self.assertEqual(p.run("retry", jid), "ok")
        job = p.wait_state(jid, "succeeded", timeout=20)
        self.assertEqual(job["runs"], "4")
        self.assertIsNone(p.r("ZSCORE", "fw:dead", jid))
        self.assertEqual(p.run("retry", jid, check=False), "FW_ECONFLICT")

    def test_access_denied_dead_at_once(self):
        p = self.probe
        p.worker(1)
        jid, _ = p.enqueue("test.fail", '{"class":"access","times":9,"code":"AccessDenied"}')
        job = p.wait_state(jid, "dead")
        self.assertEqual(job["attempts"], "1")
        self.assertIn("access", job["reason"])

    def test_throttling_does_not_use_attempts(self):
        p = self.probe
        p.worker(1)
        jid, _ = p.enqueue("test.fail", '{"class":"throttling","times":5,"code":"ThrottlingException"}')
        job = p.wait_state(jid, "succeeded", timeout=20)
        self.assertEqual(job["runs"], "6")
        self.assertEqual(job["attempts"], "1")
        self.assertGreaterEqual(int(p.r("HGET", "fw:stats", "retries")), 5)

    def test_long_poll_wakes_on_finish(self):
        p = self.probe
        p.worker(1)
        jid, _ = p.enqueue("test.sleep", '{"ms":700}')
        t0 = time.monotonic()
        self.assertEqual(p.run("wait", jid, 10000), "ok")
        waited = time.monotonic() - t0
        self.assertEqual(p.job(jid)["state"], "succeeded")
        self.assertLess(waited, 3.0, "woken by the finish, not by the 10 s timeout")
        # An unfinished job: the wait ends at its timeout.
        jid2, _ = p.enqueue("test.noop", delay_ms=60000)
        t0 = time.monotonic()
        self.assertEqual(p.run("wait", jid2, 500), "ok")
        self.assertGreaterEqual(time.monotonic() - t0, 0.45)
        self.assertEqual(p.run("wait", "j_unknown", 100, check=False), "FW_ENOTFOUND")

    def test_delayed_job_runs_on_time(self):
        p = self.probe
        p.worker(1)
        jid, _ = p.enqueue("test.noop", delay_ms=800)
        self.assertEqual(p.job(jid)["state"], "scheduled")
        job = p.wait_state(jid, "succeeded", timeout=5)
        self.assertGreaterEqual(int(job["started"]) - int(job["created"]), 750)


class Lanes(JobsTestCase):

    def test_bulk_is_not_starved_by_critical(self):
        p = self.probe
        crit = set(p.enqueue_many("test.record", "{}", 300, lane="critical"))
        bulk = set(p.enqueue_many("test.record", "{}", 60, lane="bulk"))
        default = set(p.enqueue_many("test.record", "{}", 60, lane="default"))
        p.worker(1)
        p.wait_for(lambda: p.count("succeeded") == 420, timeout=60, what="all jobs")
        order = p.r("LRANGE", "fw:test:runs", 0, -1)
        first100 = order[:100]
        nbulk = sum(1 for j in first100 if j in bulk)
        ndefault = sum(1 for j in first100 if j in default)
        ncrit = sum(1 for j in first100 if j in crit)
        self.assertGreaterEqual(nbulk, 8, "bulk gets about every 10th pick while critical is full")
        self.assertGreaterEqual(ndefault, 15)
        self.assertGreater(ncrit, nbulk + ndefault, "critical still goes first most of the time")


class Uniqueness(JobsTestCase):

    def test_unique_per_resource(self):
        p = self.probe
        a1, e1 = p.enqueue("test.unique", '{"ms":10}', resource="claim:a")
        a2, e2 = p.enqueue("test.unique", '{"ms":20}', resource="claim:a")
        b1, _ = p.enqueue("test.unique", '{"ms":10}', resource="claim:b")
        self.assertFalse(e1)
        self.assertTrue(e2)
        self.assertEqual(a1, a2)
        self.assertNotEqual(a1, b1)
        n1, _ = p.enqueue("test.noop", resource="claim:a")
        n2, _ = p.enqueue("test.noop", resource="claim:a")
        self.assertNotEqual(n1, n2, "types without the flag are not unique")
        p.worker(1)
        p.wait_state(a1, "succeeded")
        self.assertIsNone(p.r("GET", "fw:uniq:test.unique:claim:a"), "its finish dropped the job's lock")
        a3, e3 = p.enqueue("test.unique", '{"ms":10}', resource="claim:a")
        self.assertFalse(e3, "a finished job does not block a new one")
        self.assertNotEqual(a3, a1)

    def test_caller_chosen_id(self):
        """A job enqueued under an id the caller chose is enqueued once (watch_eval's webhooks)."""
        p = self.probe
        before = int(p.r("GET", "fw:seq") or 0)   # the creation sequence: one per job made
        j1, e1 = p.enqueue("test.noop", '{"x":1}', id="wh_inc_1_opened")
        j2, e2 = p.enqueue("test.noop", '{"x":1}', id="wh_inc_1_opened")
        self.assertEqual((j1, e1, j2, e2), ("wh_inc_1_opened", False, "wh_inc_1_opened", True))
        self.assertEqual(int(p.r("GET", "fw:seq")), before + 1)
        with self.assertRaises(ProbeError) as cm:
            p.enqueue("test.noop", '{"x":1}', id="has space")
        self.assertEqual(cm.exception.name, "FW_EINVAL")
        j3, e3 = p.enqueue("test.noop", '{"x":1}')
        self.assertNotEqual(j3, j1)
        self.assertFalse(e3)

    def test_secret_payload_rejected(self):
        p = self.probe
        for payload in ('{"privateKey":"x"}', '{"a":{"token":"t"}}', '{"clientSecret":1}'):
            with self.assertRaises(ProbeError) as cm:
                p.enqueue("test.noop", payload)
            self.assertEqual(cm.exception.name, "FW_EINVAL")
        with self.assertRaises(ProbeError):
            p.enqueue("test.noop", "[1,2]")
        self.assertEqual(p.index_ids(), [])


class Retention(JobsTestCase):
    env = {"FLEETWARDEN_JOB_TTL": "120", "FLEETWARDEN_DEAD_TTL": "600"}

    def test_ttl_on_finished_jobs_only(self):
        p = self.probe
        queued, _ = p.enqueue("test.noop", delay_ms=60000)
        self.assertEqual(p.r("PTTL", "fw:job:" + queued), -1, "live jobs never expire")
        p.worker(1)
        ok, _ = p.enqueue("test.noop")
        dead, _ = p.enqueue("test.fail", '{"class":"validation","times":5}')
        p.wait_state(ok, "succeeded")
        p.wait_state(dead, "dead")
        ttl_ok = p.r("PTTL", "fw:job:" + ok)
        ttl_dead = p.r("PTTL", "fw:job:" + dead)
        self.assertTrue(110000 < ttl_ok <= 120000, ttl_ok)
        self.assertTrue(590000 < ttl_dead <= 600000, ttl_dead)

    def test_expired_jobs_leave_the_indexes(self):
        p = self.probe
        live = p.enqueue_many("test.noop", "{}", 5, delay_ms=600000)   # long-lived, the oldest jobs
        p.worker(2)
        ids = p.enqueue_many("test.noop", "{}", 700)
        p.wait_for(lambda: p.count("succeeded") == 700, what="jobs done")
        for jid in ids:   # as if their TTL had run out
            p.r("DEL", "fw:job:" + jid)
        p.wait_for(lambda: p.count("succeeded") == 0 and len(p.index_ids()) == 5, timeout=15,
                   what="the reaper to trim the indexes past the live entries")
        self.assertEqual(sorted(p.index_ids()), sorted(live))

    def test_expired_sparse_dead_jobs_leave_the_index_below_live_ones(self):
        # Dead jobs are sparse: one a bucket (100 sequence numbers). The 10 newest buckets hold a
        # live dead job each; the 20 below hold jobs whose hashes expired. The reaper's walk must
        # get below the live ones (it wrapped at the top whenever 8 buckets held fewer than 500
        # entries: the expired entries stayed, and the dead count with them).
        p = self.probe
        for b in range(2000, 2010):
            jid = "j_live%d" % b
            p.r("HSET", "fw:job:" + jid, "s", "5", "q", str(b * 100), "t", "test.fail", "c", "1")
            p.r("ZADD", "fw:st:dead:%d" % b, str(b * 100), jid)
            p.r("ZADD", "fw:sd:dead", str(b), str(b))
        for b in range(1000, 1020):
            p.r("ZADD", "fw:st:dead:%d" % b, str(b * 100), "j_gone%d" % b)
            p.r("ZADD", "fw:sd:dead", str(b), str(b))
        self.assertEqual(p.count("dead"), 30)
        reaper = p.start("scheduler")
        p.wait_for(lambda: p.r("ZCARD", "fw:sd:dead") == 10, timeout=20,
                   what="the reaper to trim the expired dead jobs below the live ones")
        p.stop(reaper)
        self.assertEqual(p.count("dead"), 10)
        self.assertEqual(p.r("EXISTS", "fw:st:dead:1000"), 0)


class Lists(JobsTestCase):
    """Pages of jobs, newest first, across the finished jobs' index buckets (100 sequence numbers
    each) and across states, to the end: every job once, none twice, and the walk ends even where a
    bucket's jobs all expired."""

    def pages(self, state, limit):
        ids, cursor = [], ""
        for _ in range(100):
            page = json.loads(self.probe.run("list", state, limit, cursor, timeout=10))
            ids += [j["id"] for j in page["items"]]
            cursor = page["nextCursor"]
            if not cursor:
                return ids
        self.fail("no end of the list")

    def test_pages_to_the_end(self):
        p = self.probe
        done = p.enqueue_many("test.noop", "{}", 250)
        p.worker(2)
        p.wait_for(lambda: p.count("succeeded") == 250, what="jobs done")
        waiting = p.enqueue_many("test.noop", "{}", 3, delay_ms=600000)
        newest_first = list(reversed(done))
        self.assertEqual(self.pages("succeeded", 100), newest_first)
        self.assertEqual(self.pages("succeeded", 7), newest_first)
        self.assertEqual(self.pages("", 40), list(reversed(waiting)) + newest_first)
        self.assertEqual(self.pages("dead", 10), [])
        for jid in done[100:200]:    # a whole bucket and more expire: their entries go as the walk meets them
            p.r("DEL", "fw:job:" + jid)
        rest = newest_first[:50] + newest_first[150:]
        self.assertEqual(self.pages("succeeded", 30), rest)
        self.assertEqual(self.pages("", 1000), list(reversed(waiting)) + rest)


class RedisAnswers(JobsTestCase):
    """The one reply-to-error mapping (service/redis/reply.h): an error Redis answers is FW_EREDIS
    and logged once with what ran; a script's own outcome is its FW_E* code, not logged; Redis not
    reachable at all is FW_EUNAVAILABLE."""

    def probe_run(self, *args, env=None):
        r = subprocess.run([PROBE, *args], env=self.probe.env(env), capture_output=True, text=True, timeout=30)
        return r.stdout.strip(), r.stderr

    def test_error_reply_is_eredis_and_logged(self):
        p = self.probe
        p.r("SET", "fw:job:j_notahash", "x")                # HGETALL answers WRONGTYPE
        out, err = self.probe_run("get", "j_notahash")
        self.assertEqual(out, "FW_EREDIS")
        self.assertEqual(err.count('"msg":"redis error reply"'), 1, err)
        self.assertIn('"command":"HGETALL"', err)
        self.assertIn("WRONGTYPE", err)
        p.r("DEL", "fw:q:default")
        p.r("SET", "fw:q:default", "x")                     # the enqueue script's LPUSH fails
        out, err = self.probe_run("enqueue", "--type", "test.noop")
        self.assertEqual(out, "error FW_EREDIS")
        self.assertIn('"command":"jobs/enqueue"', err)
        self.assertIn("WRONGTYPE", err)

    def test_script_outcomes_are_their_codes_and_quiet(self):
        p = self.probe
        jid, _ = p.enqueue("test.noop")
        self.assertEqual(p.run("cancel", jid), "canceled")
        out, err = self.probe_run("cancel", jid)
        self.assertEqual(out, "FW_ECONFLICT")
        out2, err2 = self.probe_run("retry", "j_nosuchjob")
        self.assertEqual(out2, "FW_ENOTFOUND")
        self.assertNotIn("redis error reply", err + err2)

    def test_unreachable_is_eunavailable(self):
        p = self.probe
        jid, _ = p.enqueue("test.noop")
        gone = {"FLEETWARDEN_REDIS_URL": "redis://127.0.0.1:%d/0" % harness.free_port()}
        self.assertEqual(self.probe_run("get", jid, env=gone)[0], "FW_EUNAVAILABLE")
        self.assertEqual(self.probe_run("enqueue", "--type", "test.noop", env=gone)[0], "error FW_EUNAVAILABLE")
        self.assertEqual(self.probe_run("cancel", jid, env=gone)[0], "FW_EUNAVAILABLE")
        self.assertEqual(self.probe_run("list", env=gone)[0], "FW_EUNAVAILABLE")

    def test_scripts_reload_after_script_flush(self):
        p = self.probe
        p.enqueue("test.noop")
        p.r("SCRIPT", "FLUSH")                              # NOSCRIPT next: loaded again, by SHA
        jid, _ = p.enqueue("test.noop")
        self.assertEqual(p.job(jid)["state"], "queued")


class GroupCommit(unittest.TestCase):
    """service/redis/script_group.h: the workers' finishes share one connection, pipelined, and run
    as one script (a batch). Each thread gets its own answer, an error as well as a result; a
    connection that breaks with calls in flight fails every one of them with FW_EUNAVAILABLE (as a
    thread's own connection does), at once. (That a worker process's shared connection reconnects
    and reloads its scripts after Redis restarts: test_jobs_sched.RedisRestart and
    test_redis_failover, whose finishes go this way.)"""

    def group(self, redis, *args):
        return subprocess.Popen([PROBE, "group", *map(str, args)], env=Probe(redis).env(), text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def tally(self, proc):
        """The probe's final counts (its "ready" line read here unless read already)."""
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        words = out.split()
        if words[0] == "ready":
            words = words[1:]
        return dict(zip(words[0::2], map(int, words[1::2])))

    def evalshas(self, redis):
        stats = redis.command("INFO", "commandstats")
        m = re.search(r"cmdstat_evalsha:calls=(\d+)", stats)
        return int(m.group(1)) if m else 0

    def test_answers_reach_their_callers_and_a_break_fails_all_in_flight(self):
        redis = harness.Redis().start()
        try:
            # 16 threads at once, after SCRIPT FLUSH: the first groups meet NOSCRIPT. Every tenth
            # call answers FW_ECONFLICT, every tenth raises an error (FW_EREDIS: other).
            got = self.tally(self.group(redis, "--threads", 16, "--calls", 500))
            self.assertEqual(got, {"ok": 6400, "mismatch": 0, "conflict": 800, "unavailable": 0,
                                   "other": 800})
            # Redis holds 8 calls unanswered (paused), then dies: each of them fails, none hangs.
            g = self.group(redis, "--threads", 8, "--calls", 1, "--keep-scripts", "--wait-go")
            self.assertEqual(g.stdout.readline().strip(), "ready")
            redis.command("CLIENT", "PAUSE", 5000, "ALL")
            g.stdin.write("go\n")
            g.stdin.flush()
            time.sleep(0.5)
            os.kill(redis.proc.pid, signal.SIGKILL)
            redis.proc.wait()
            redis.log.close()
            t0 = time.monotonic()
            self.assertEqual(self.tally(g), {"ok": 0, "mismatch": 0, "conflict": 0, "unavailable": 8,
                                             "other": 0})
            self.assertLess(time.monotonic() - t0, 3.0)   # failed at once, not after the 5 s timeout
        finally:
            redis.stop()

    def test_a_batch_answers_each_call_as_its_own_script_would(self):
        redis = harness.Redis().start()
        try:
            redis.command("CONFIG", "RESETSTAT")
            got = self.tally(self.group(redis, "--threads", 16, "--calls", 500, "--batch"))
            # The same answers as one script per call: a conflict or a raised error in a batch is
            # that call's alone; the calls after it in the batch ran all the same.
            self.assertEqual(got, {"ok": 6400, "mismatch": 0, "conflict": 800, "unavailable": 0,
                                   "other": 800})
            self.assertEqual(redis.command("GET", "fw:probe:ran"), "6400")
            self.assertEqual(redis.command("GET", "fw:probe:raised"), "800")
            # Batches did form: fewer EVALSHAs than calls (NOSCRIPT answers included).
            self.assertLess(self.evalshas(redis), 8000)
            # After SCRIPT FLUSH the first batches meet NOSCRIPT: the batch script is loaded and the
            # batch sent again, each call still answered once.
            g = self.group(redis, "--threads", 8, "--calls", 50, "--batch", "--wait-go")
            self.assertEqual(g.stdout.readline().strip(), "ready")
            g.stdin.write("go\n")
            g.stdin.flush()
            self.assertEqual(self.tally(g), {"ok": 320, "mismatch": 0, "conflict": 40,
                                             "unavailable": 0, "other": 40})
        finally:
            redis.stop()


class Shutdown(JobsTestCase):

    def running_sleepers(self, n, *extra):
        """A worker of n threads, each running a one-minute test.sleep job."""
        w = self.probe.worker(n, *extra, "--grace", "1")
        ids = [self.probe.enqueue("test.sleep", '{"ms":60000}')[0] for _ in range(n)]
        for jid in ids:
            self.probe.wait_state(jid, "running")
        return w, ids

    @staticmethod
    def log_of(w):
        with open(w.log_path) as f:
            return f.read()

    def test_sigterm_gives_back_leases_without_using_attempts(self):
        p = self.probe
        w = p.worker(1, "--no-aux", "--grace", "1")
        jid, _ = p.enqueue("test.sleep", '{"ms":20000}')
        p.wait_state(jid, "running")
        t0 = time.monotonic()
        self.assertEqual(p.stop(w, signal.SIGTERM), 0)
        self.assertLess(time.monotonic() - t0, 6.0)
        job = p.job(jid)
        self.assertEqual(job["state"], "queued")
        self.assertEqual(job["attempts"], "0")
        self.assertNotIn("token", job)
        self.assertEqual(p.r("ZCARD", "fw:running"), 0)

    def test_sigterm_after_a_cancel_the_worker_has_not_seen_ends_the_job_canceled(self):
        # The cancel is asked while the job runs; the worker would learn of it at its next
        # heartbeat (10 s here), but it is stopped first, and its handler (one that does not look
        # for a cancel) outlasts the grace: the stop gives the lease back. That release must end
        # the job canceled, not put it back in its lane for the next worker to run.
        p = self.probe
        w = p.worker(1, "--no-aux", "--grace", "1", env={"FLEETWARDEN_JOB_LEASE_MS": "30000"})
        jid, _ = p.enqueue("test.fail", '{"class":"transient","times":1,"ms":4000}')
        p.wait_state(jid, "running")
        self.assertEqual(p.run("cancel", jid), "requested")
        self.assertEqual(p.stop(w, signal.SIGTERM), 0)
        job = p.job(jid)
        self.assertEqual(job["state"], "canceled", job)
        self.assertEqual(p.r("LLEN", "fw:q:default"), 0)
        self.assertEqual(p.r("ZCARD", "fw:running"), 0)

    def test_sigterm_with_many_running_jobs_uses_no_attempt_of_any(self):
        # The stop cancels the running jobs and gives their leases back one after another. A
        # handler that returns at the cancel must not write its failed attempt first (a counted
        # retry): the stop took the job over. Eight at once leave the last leases time to lose
        # that race if it can be lost.
        p = self.probe
        w, ids = self.running_sleepers(8, "--no-aux")
        self.assertEqual(p.stop(w, signal.SIGTERM), 0)
        log = self.log_of(w)
        got = [(p.job(jid)["state"], p.job(jid)["attempts"]) for jid in ids]
        self.assertEqual(got, [("queued", "0")] * 8, log[-3000:])
        self.assertEqual(log.count('"msg":"shutdown: lease given back"'), 8, log[-3000:])
        self.assertNotIn("late completion rejected", log)

    def test_sigterm_while_redis_is_silent_leaves_the_leases_to_expire(self):
        # Redis stops answering while three jobs run. The first lease given back waits out the
        # command timeout (5 s); the other two are not tried (each would wait as long: 15 s
        # before), the scheduler ends at SIGTERM instead of after the jobs, and the threads are
        # joined by grace + 12 s (serve's listener adds at most 1 s: the 13 s a supervisor's stop
        # timeout is sized by, docs/OPERATIONS.md, Upgrades). The jobs keep their leases; the
        # reaper requeues them.
        p = self.probe
        w, _ = self.running_sleepers(3)
        os.kill(self.redis.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            code = p.stop(w, signal.SIGTERM, timeout=60)
            took = time.monotonic() - t0
        finally:
            os.kill(self.redis.proc.pid, signal.SIGCONT)
        log = self.log_of(w)
        self.assertEqual(code, 0, log[-2000:])
        self.assertIn('"msg":"shutdown: redis did not answer, leases left to expire","leases":3', log)
        self.assertNotIn("lease given back", log)
        # grace 1 + the 12 s tail, + 3 s for the exit of a process that leaves a thread still
        # waiting on Redis (under ThreadSanitizer it took 14.0 s in all)
        self.assertLess(took, 1 + 12 + 3, log[-2000:])

    def test_sigterm_after_redis_dropped_its_connections_gives_every_lease_back(self):
        # A dropped connection (a proxy, a failover, CLIENT KILL) fails the next call at once: it
        # is not a Redis that does not answer, and every lease still goes back, no attempt used.
        p = self.probe
        w, ids = self.running_sleepers(3, "--no-aux")
        self.redis.command("CLIENT", "KILL", "TYPE", "normal")
        self.assertEqual(p.stop(w, signal.SIGTERM), 0)
        log = self.log_of(w)
        for jid in ids:
            job = p.job(jid)
            self.assertEqual((job["state"], job["attempts"]), ("queued", "0"), log[-2000:])
        self.assertNotIn("left to expire", log)

    def test_sigterm_lets_short_jobs_finish(self):
        p = self.probe
        w = p.worker(1, "--no-aux", "--grace", "5")
        jid, _ = p.enqueue("test.sleep", '{"ms":600}')
        p.wait_state(jid, "running")
        self.assertEqual(p.stop(w, signal.SIGTERM), 0)
        self.assertEqual(p.job(jid)["state"], "succeeded")


if __name__ == "__main__":
    unittest.main()
