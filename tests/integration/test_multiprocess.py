"""Two `serve` and two `worker` processes on one Redis (issue 18).

500 claims are posted through both APIs (eight client threads, each POST with an
Idempotency-Key and retried with the same key on a dropped connection or 503). After the 100th
is accepted one worker is killed with SIGKILL mid-work (its jobs' leases run out and the other
workers take them over); after the 200th one API process is restarted (SIGTERM, then the same
port again); after the 300th a new worker is started, as a Deployment would replace the pod.

Then: every claim is active, each listed once; one certificate per claim at the emulator (no
job run twice made a second one); no dead job; and the four processes together never sent
CreateCertificateFromCsr faster than the configured rate (our token bucket in Redis, shared by
every process). The emulator's quota for that call is set to three times our rate, so it never
throttles (a throttled call is retried inside the AWS client without a new token, which would
count twice): in every 20-second window of the emulator's own clock at most
rate * (20 + 3) + burst attempts, throttled ones included (3 s: how late a call may arrive after
its token on a loaded machine; per-process buckets would send twice the rate or more, 800+ in a
window). With the quota equal to our rate, a run at load 17 under ASan counted 485 of 460: 67
throttled calls and their in-client retries. The emulator's throttles are printed, not asserted.
"""
import datetime
import threading
import unittest

import claims_lib as cl
import multiproc_lib as mp

N = 500
RATE = 20          # FLEETWARDEN_RATE_IOT_CERT_CREATE (the emulator's quota for the operation: 3x)
WINDOW_S = 20
DELAY_S = 3        # how late a call may reach the emulator after its token (a loaded 2-core machine)


def times(calls, op):
    out = []
    for c in calls:
        if c.get("operation") == op:
            t = c["time"].replace("Z", "+00:00")
            out.append(datetime.datetime.fromisoformat(t).timestamp())
    return sorted(out)


def max_in_window(ts, w):
    best, j = 0, 0
    for i, t in enumerate(ts):
        while ts[j] < t - w:
            j += 1
        best = max(best, i - j + 1)
    return best


class TwoServeTwoWorker(unittest.TestCase):
    RUN_COST_S = 70

    @classmethod
    def setUpClass(cls):
        cls.env = mp.MultiEnv(apis=2, workers=2, env={
            "FLEETWARDEN_RATE_IOT_CERT_CREATE": str(RATE), "FLEETWARDEN_RATE_IOT_POLICY_ATTACH": str(RATE),
            "FLEETWARDEN_JOB_LEASE_MS": "3000", "FLEETWARDEN_REAPER_MS": "500", "FLEETWARDEN_WORKERS": "4"})
        cls.env.emu.control("POST", "quotas", {"quotas": {"iot:CreateCertificateFromCsr": {"rate": 3 * RATE, "burst": 3 * RATE},
                                                          "iot:AttachPolicy": {"rate": RATE, "burst": RATE}}})
        cls.policy = cls.env.make_fleet("mp")

    @classmethod
    def tearDownClass(cls):
        cls.env.stop_checked()

    def test_500_claims_while_a_worker_is_killed_and_an_api_restarted(self):
        env, side = self.env, []
        env.emu.control("DELETE", "calls")

        def during(k):
            if k == 100:
                env.kill9_worker(0)
            elif k == 200:
                t = threading.Thread(target=env.restart_api, args=(1,))
                t.start()
                side.append(t)
            elif k == 300:
                env.workers.append(env.start_worker())
        ids, wrong = mp.create_claims(env, "mp", N, threads=8, during=during)
        for t in side:
            t.join()
        self.assertEqual(wrong, [])
        self.assertEqual(len(ids), N)
        self.assertEqual(len(set(ids)), N)
        self.assertEqual(len(env.killed), 1)
        counts = mp.wait_all(env, "mp", ids)
        self.assertEqual(counts, {"active": N})
        dead = env.req("GET", "/v1/jobs?state=dead&limit=10", token=env.read).json["items"]
        self.assertEqual(dead, [])
        certs = env.emu_certs()
        self.assertEqual(len(certs), N + 1, "one certificate per claim (+ the fleet's first)")
        self.assertEqual(len(env.emu_targets(self.policy)), N + 1)
        calls = env.emu.control("GET", "calls?operation=CreateCertificateFromCsr")["calls"]
        ts = times(calls, "CreateCertificateFromCsr")
        peak = max_in_window(ts, WINDOW_S)
        throttled = sum(1 for c in calls if c.get("errorCode") == "ThrottlingException")
        limit = RATE * (WINDOW_S + DELAY_S) + RATE
        print("\n  %d claims; CreateCertificateFromCsr: %d attempts, at most %d in %d s (limit %d), %d throttled"
              % (N, len(ts), peak, WINDOW_S, limit, throttled))
        self.assertLessEqual(peak, limit)


if __name__ == "__main__":
    unittest.main()
