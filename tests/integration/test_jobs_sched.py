"""Recurring schedules, the shared rate limit and a Redis restart, with real
processes and real Redis (see test_jobs_queue.py for the queue itself)."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "jobs-probe"))
from jobs_testlib import JobsTestCase, Probe, harness  # noqa: E402


def slots_of(probe, name):
    ids = probe.index_ids()
    prefix = f"s_{name}_"
    return sorted(int(i[len(prefix):]) for i in ids if i.startswith(prefix))


def redis_ms(probe):
    sec, usec = probe.r("TIME")
    return int(sec) * 1000 + int(usec) // 1000


class Schedules(JobsTestCase):

    def test_three_schedulers_one_enqueue_per_tick(self):
        p = self.probe
        t_start = redis_ms(p)
        self.assertEqual(p.run("schedule", "--name", "every1", "--type", "test.noop", "--every", 1), "ok")
        self.assertEqual(p.run("schedule", "--name", "every1", "--type", "test.noop", "--every", 1), "ok")
        p.worker(2, "--no-aux")   # runs the ticks' jobs, so no tick is skipped for overlap
        for _ in range(3):
            p.start("scheduler")
        time.sleep(4.5)
        p.stop_all()
        t_end = redis_ms(p)
        slots = slots_of(p, "every1")
        boundaries = t_end // 1000 - t_start // 1000   # whole seconds the schedulers were up for
        self.assertGreaterEqual(len(slots), boundaries - 2, f"{slots} over {t_start}..{t_end}")
        self.assertLessEqual(len(slots), boundaries)
        self.assertEqual(len(slots), len(set(slots)))
        for a, b in zip(slots, slots[1:]):
            self.assertEqual(b - a, 1000, f"one job per 1 s slot, no gap and no duplicate: {slots}")
        sched = dict(zip(*[iter(p.r("HGETALL", "fw:sched:every1"))] * 2))
        self.assertEqual(int(sched["ticks"]), len(slots))

    def test_tick_skipped_while_previous_run_is_active(self):
        p = self.probe
        p.run("schedule", "--name", "slow", "--type", "test.sleep", "--payload", '{"ms":2600}', "--every", 1)
        p.worker(1)
        time.sleep(4.2)
        p.stop_all()
        sched = dict(zip(*[iter(p.r("HGETALL", "fw:sched:slow"))] * 2))
        self.assertGreaterEqual(int(sched.get("skipped", 0)), 2)
        runs = [p.job(f"s_slow_{slot}") for slot in slots_of(p, "slow")]
        self.assertGreaterEqual(len(runs), 1)
        for a, b in zip(runs, runs[1:]):
            self.assertGreaterEqual(int(b["created"]), int(a["finished"]),
                                    "a tick is enqueued only after the previous run finished")

    def test_missed_ticks_after_downtime_run_once(self):
        p = self.probe
        p.run("schedule", "--name", "missed", "--type", "test.noop", "--every", 1)
        now_ms = int(p.r("TIME")[0]) * 1000
        old_due = now_ms - 30000   # 30 slots missed while no scheduler ran
        p.r("ZADD", "fw:sched:due", old_due, "missed")
        p.start("scheduler")
        p.wait_for(lambda: len(slots_of(p, "missed")) >= 1, what="the missed tick")
        time.sleep(0.3)
        slots = slots_of(p, "missed")
        self.assertEqual(slots[0], old_due)
        self.assertLessEqual(len(slots), 2, f"missed slots are not replayed: {slots}")
        next_due = float(p.r("ZSCORE", "fw:sched:due", "missed"))
        self.assertGreater(next_due, now_ms)

    def test_upsert_keeps_due_and_validates(self):
        p = self.probe
        p.run("schedule", "--name", "daily", "--type", "test.noop", "--daily", "03:30")
        due1 = p.r("ZSCORE", "fw:sched:due", "daily")
        p.run("schedule", "--name", "daily", "--type", "test.noop", "--payload", '{"v":2}', "--daily", "03:30")
        self.assertEqual(p.r("ZSCORE", "fw:sched:due", "daily"), due1)
        self.assertEqual(int(float(due1)) % 86400000, (3 * 60 + 30) * 60000)
        self.assertEqual(p.r("HGET", "fw:sched:daily", "payload"), '{"v":2}')
        for bad in (["--daily", "25:00"], ["--every", 0], ["--every", 5, "--daily", "01:00"]):
            out = p.run("schedule", "--name", "bad", "--type", "test.noop", *bad, check=False)
            self.assertEqual(out, "FW_EINVAL")
        self.assertEqual(p.run("unschedule", "daily"), "ok")
        self.assertIsNone(p.r("ZSCORE", "fw:sched:due", "daily"))
        self.assertEqual(p.r("EXISTS", "fw:sched:daily"), 0)
        self.assertEqual(p.run("unschedule", "daily", check=False), "FW_ENOTFOUND")


class RateLimit(JobsTestCase):
    env = {"FLEETWARDEN_RATE_TEST": "20:1"}

    def test_shared_bucket_holds_within_5_percent(self):
        p = self.probe
        p.enqueue_many("test.ratelimited", "{}", 280)
        for _ in range(3):
            p.worker(4)
        p.wait_for(lambda: p.r("LLEN", "fw:test:rl") >= 240, timeout=30, what="240 rate-limited runs",
                   interval=0.2)
        times = sorted(int(t) for t in p.r("LRANGE", "fw:test:rl", 0, -1))
        start = times[0] + 1000
        window = [t for t in times if start <= t < start + 10000]
        rate = len(window) / 10.0
        self.assertGreaterEqual(rate, 19.0, f"{rate}/s")
        self.assertLessEqual(rate, 21.0, f"{rate}/s")
        self.assertGreater(int(p.r("HGET", "fw:stats", "rlwaits")), 100)
        self.assertEqual(p.count("dead"), 0)
        print(f"\nrate limit 20/s, 3 processes x 4 workers: {rate:.1f}/s over 10 s", file=sys.stderr)


class RateLimitLanes(JobsTestCase):
    """Lanes on the shared bucket: queued bulk work holds no reservations
    ahead (at most one token interval, 200 ms here), so a critical job (and a default one)
    gets a token about as soon as one is free, while bulk alone uses the rate."""
    env = {"FLEETWARDEN_RATE_TEST": "5:1"}

    def run_order(self):
        return self.probe.r("LRANGE", "fw:test:rlids", 0, -1)

    def test_critical_job_overtakes_queued_bulk_work(self):
        p = self.probe
        bulk = p.enqueue_many("test.ratelimited", "{}", 120, lane="bulk")
        p.worker(4)
        p.worker(4)
        p.wait_for(lambda: p.r("LLEN", "fw:q:bulk") == 0 and p.r("LLEN", "fw:test:rlids") >= 3,
                   what="bulk jobs claimed and waiting for tokens", interval=0.1)
        waiting = p.r("ZCARD", "fw:rlq:test")
        self.assertGreater(waiting, 100, "bulk jobs wait unreserved, not parked with far-ahead tokens")
        self.assertLessEqual(p.r("ZCARD", "fw:delayed"), 1, "at most one interval of bulk reservations")
        before = p.r("LLEN", "fw:test:rlids")
        crit, _ = p.enqueue("test.ratelimited", lane="critical")
        dflt, _ = p.enqueue("test.ratelimited", lane="default")
        self.assertEqual(p.wait_state(crit, ["succeeded"])["state"], "succeeded")
        self.assertEqual(p.wait_state(dflt, ["succeeded"])["state"], "succeeded")
        order = self.run_order()
        # Bulk reservations reach at most one interval ahead: the critical job runs within
        # a couple of tokens of its enqueue, the default one right after, far ahead of the other bulk jobs.
        self.assertLessEqual(order.index(crit), before + 4, order[:before + 8])
        self.assertLessEqual(order.index(dflt), before + 6, order[:before + 8])
        self.assertGreater(len(bulk) - (len(order) - 2), 90, "most bulk jobs still wait")
        self.assertEqual(p.count("dead"), 0)
        print(f"\nrate 5/s, {len(bulk)} bulk jobs queued: critical ran as number {order.index(crit) + 1}, "
              f"{before} had run when it was enqueued", file=sys.stderr)

    def test_bulk_alone_uses_the_rate_and_never_exceeds_it(self):
        p = self.probe
        p.enqueue_many("test.ratelimited", "{}", 40, lane="bulk")
        p.worker(4)
        p.worker(4)
        p.wait_for(lambda: p.count("succeeded") == 40, timeout=60, what="40 bulk runs", interval=0.2)
        times = sorted(int(t) for t in p.r("LRANGE", "fw:test:rl", 0, -1))
        # Tokens 2..40 are due 200 ms apart (burst 1) and a run starts at or after its token's time:
        # the last one at least 39 intervals after the first token, the first run at most one late.
        self.assertGreaterEqual(times[-1] - times[0], 38 * 200, "never faster than 5/s")
        self.assertEqual(p.r("ZCARD", "fw:rlq:test"), 0)
        self.assertIsNone(p.r("ZSCORE", "fw:rlpump", "test"), "no pump left once nobody waits")
        stats = dict(zip(*[iter(p.r("HGETALL", "fw:rl:test"))] * 2))
        self.assertGreaterEqual(int(stats["grants"]), 30, "the pump handed out the tokens")

    def test_waiters_released_by_an_expired_bucket_still_keep_the_rate(self):
        # The family's bucket expires (no worker took a token for an hour): its waiters go back to
        # their lane and must take tokens anew. They were released as if each held one, and ran
        # all at once, over the rate.
        p = self.probe
        p.enqueue_many("test.ratelimited", "{}", 16, lane="bulk")
        w = p.worker(2)
        p.wait_for(lambda: p.r("ZCARD", "fw:rlq:test") >= 12, what="bulk jobs waiting", interval=0.1)
        p.stop(w)
        ran = p.r("LLEN", "fw:test:rl")
        p.r("DEL", "fw:rl:test")                     # what its TTL does after an hour
        p.r("ZADD", "fw:rlpump", "0", "test")        # and the pump is long due
        p.worker(2)
        p.wait_for(lambda: p.count("succeeded") == 16, timeout=60, what="16 runs", interval=0.2)
        times = sorted(int(t) for t in p.r("LRANGE", "fw:test:rl", ran, -1))
        self.assertGreaterEqual(len(times), 12)
        # at 5/s with a burst of 1, n runs span at least n - 2 intervals of 200 ms; one is given
        # to timing (the tokens are 200 ms apart, a run starts a moment after its own)
        self.assertGreaterEqual(times[-1] - times[0], (len(times) - 3) * 200, times)

    def test_cancel_while_waiting_for_a_token(self):
        p = self.probe
        ids = p.enqueue_many("test.ratelimited", "{}", 30, lane="bulk")
        p.worker(2)
        p.wait_for(lambda: p.r("ZCARD", "fw:rlq:test") >= 20, what="bulk jobs waiting", interval=0.1)
        victim = p.r("ZRANGE", "fw:rlq:test", -1, -1)[0]
        self.assertEqual(p.run("cancel", victim), "canceled")
        self.assertIsNone(p.r("ZSCORE", "fw:rlq:test", victim))
        p.wait_for(lambda: p.count("succeeded") == 29, timeout=60, what="the other 29", interval=0.2)
        self.assertEqual(p.job(victim)["state"], "canceled")
        self.assertNotIn(victim, self.run_order())
        self.assertEqual(len(ids), 30)


class RedisRestart(unittest.TestCase):

    def test_restart_with_aof_loses_nothing(self):
        redis = harness.Redis(appendonly=True).start()
        p = Probe(redis)
        try:
            ids = p.enqueue_many("test.steps", '{"n":2,"ms":15}', 300)
            p.worker(4)
            p.worker(4)
            p.wait_for(lambda: p.count("succeeded") >= 40, what="some jobs done")
            os.kill(redis.proc.pid, signal.SIGKILL)   # appendfsync always: acknowledged writes survive
            redis.proc.wait()
            redis.log.close()
            time.sleep(0.5)
            redis.start()
            p.wait_for(lambda: p.count("succeeded") == 300, timeout=60, what="all 300 jobs", interval=0.2)
            states = p.states_of_all()
            self.assertEqual(states, {"succeeded": 300})
            effects = set(p.r("LRANGE", "fw:test:effects", 0, -1))
            for jid in ids:
                self.assertIn(f"{jid}:step-1", effects)
                self.assertIn(f"{jid}:step-2", effects)
            self.assertEqual(p.r("ZCARD", "fw:running"), 0)
        finally:
            p.stop_all()
            redis.stop()

    def test_redis_stall_longer_than_the_lease(self):
        redis = harness.Redis().start()
        p = Probe(redis)
        try:
            ids = p.enqueue_many("test.steps", '{"n":3,"ms":20}', 200)
            p.worker(4)
            p.worker(4)
            p.wait_for(lambda: p.count("succeeded") >= 20, what="some jobs done")
            redis.command("CLIENT", "PAUSE", 2500, "ALL")   # every lease (1.5 s) runs out meanwhile
            p.wait_for(lambda: p.count("succeeded") == 200, timeout=60, what="all 200 jobs", interval=0.2)
            self.assertEqual(p.states_of_all(), {"succeeded": 200})
            effects = p.r("LRANGE", "fw:test:effects", 0, -1)
            for jid in ids:
                for i in (1, 2, 3):
                    self.assertIn(f"{jid}:step-{i}", effects)
            self.assertLessEqual(len(effects) - len(set(effects)), 8, "a step repeats only if it was cut mid-way")
        finally:
            p.stop_all()
            redis.stop()


if __name__ == "__main__":
    unittest.main()
