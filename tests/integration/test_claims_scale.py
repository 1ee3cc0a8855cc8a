"""2,000 claims against the AWS emulator with its default rate quotas on
(CreateCertificateFromCsr 15/s, AttachPolicy 15/s): every claim becomes
active, no throttling error reaches a user (no failed claim, no dead job,
no error on a claim), and the emulator holds exactly one attached
certificate per claim. The API process runs 8 workers and a second
`worker` process 8 more; all of them share the Redis token buckets.

FW_CLAIMS_SCALE_N overrides the number of claims (default 2000).
The measured rate is printed (claims per minute) next to the quota's
ceiling; tests/bench/claims/RESULTS.md records a run.
"""
import json
import os
import threading
import time
import unittest

import claims_lib as cl

N = int(os.environ.get("FW_CLAIMS_SCALE_N", "2000"))
RATE = "15"   # our token bucket for certificate creation = the emulator's CreateCertificateFromCsr quota


class TwoThousandClaims(unittest.TestCase):
    RUN_COST_S = 135    # wall time on the reference machine: the parallel runner starts the longest first

    @classmethod
    def setUpClass(cls):
        cls.env = cl.ClaimsEnv(workers=8, worker_procs=1,
                               env={"FLEETWARDEN_RATE_IOT_CERT_CREATE": RATE, "FLEETWARDEN_LOG_LEVEL": "warn"})
        cls.policy = cls.env.make_fleet("scale")

    @classmethod
    def tearDownClass(cls):
        cls.env.stop_checked()

    def post_all(self):
        ids, errors, lock = [], [], threading.Lock()

        def worker(k):
            for _ in range(k):
                r = self.env.req("POST", "/v1/fleets/scale/claims", body={"expectedDevices": 100})
                with lock:
                    (ids if r.status == 202 else errors).append(r.json["claim"]["id"] if r.status == 202 else r)
        per = [N // 8 + (1 if i < N % 8 else 0) for i in range(8)]
        ts = [threading.Thread(target=worker, args=(k,)) for k in per]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        return ids

    def count_states(self, ids):
        counts, cursor, seen = {}, None, set()
        while True:
            q = "/v1/claims?fleet=scale&limit=500" + ("&cursor=" + cursor if cursor else "")
            page = self.env.req("GET", q, token=self.env.read).json
            for c in page["items"]:
                self.assertNotIn(c["id"], seen, "listed twice (cursor %s)" % cursor)
                seen.add(c["id"])
                if c["id"] not in ids:
                    continue      # the fleet's first claim, made by fleet.setup
                counts[c["state"]] = counts.get(c["state"], 0) + 1
                if c["error"]:
                    counts.setdefault("errors", []).append(c["error"])
            cursor = page["nextCursor"]
            if not cursor:
                return counts

    def test_2000_claims_under_the_emulator_quotas(self):
        t0 = time.monotonic()
        ids = self.post_all()
        self.assertEqual(len(ids), N)
        post_s = time.monotonic() - t0
        deadline = t0 + max(120, N / 15 * 2.5)
        counts = {}
        while time.monotonic() < deadline:
            counts = self.count_states(set(ids))
            if counts.get("active", 0) + counts.get("failed", 0) >= N:
                break
            time.sleep(2)
        elapsed = time.monotonic() - t0
        self.assertEqual(counts.get("active"), N, counts)
        self.assertNotIn("errors", counts)
        dead = self.env.req("GET", "/v1/jobs?state=dead&limit=10", token=self.env.read).json["items"]
        self.assertEqual(dead, [])
        certs = set(self.env.emu_certs())
        mine = set()
        for cid in ids[:50]:
            mine.add(self.env.claim(cid)["certificateId"])
        self.assertTrue(mine <= certs)
        extra = len(certs) - N          # 0, or 1 when fleet.setup made the fleet's first claim
        self.assertIn(extra, (0, 1))
        self.assertEqual(len(self.env.emu_targets(self.policy)), len(certs))
        throttled = self.env.emu.control("GET", "calls?errorCode=ThrottlingException")["calls"]
        rate = N / elapsed * 60
        print("\n  %d claims in %.1f s (POSTs %.1f s): %.0f claims/min; quota ceiling 900/min "
              "(CreateCertificateFromCsr 15/s); %d throttled AWS calls absorbed by retries"
              % (N, elapsed, post_s, rate, len(throttled)))
        with open(os.path.join(self.env.fw.dir, "scale.json"), "w") as f:
            json.dump({"n": N, "seconds": elapsed, "perMinute": rate, "throttled": len(throttled)}, f)


if __name__ == "__main__":
    unittest.main()
