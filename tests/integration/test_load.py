"""Load (issue 10): wrk on the read endpoints at 64 connections with zero errors (no non-2xx
answer, no socket error), alone and while workers run a bulk rotation of many claims.

Short runs (FW_LOAD_SECONDS, default 5 s per endpoint) and no timing asserted: the machines are
shared and noisy. The 30 s runs and their numbers are tests/bench/load/run.sh and
tests/bench/RESULTS.md. Needs wrk (Debian package wrk); skipped when it is missing.
"""
import os
import shutil
import time
import unittest

from test_faults_lib import FaultEnv, post_claims, run_wrk

SECONDS = int(os.environ.get("FW_LOAD_SECONDS", "5"))
N_CLAIMS = int(os.environ.get("FW_LOAD_CLAIMS", "300"))


@unittest.skipUnless(shutil.which("wrk"), "wrk is not installed (apt-get install wrk)")
class ReadLoad(unittest.TestCase):
    RUN_COST_S = 60
    RUN_EXCLUSIVE = True    # wrk at 64 connections: measured with the CPU to itself (tests/lib/runner.py)

    @classmethod
    def setUpClass(cls):
        # certificate creation at 20/s (AWS's quota is 15/s): the bulk rotation below lasts ~15 s,
        # through most of the read runs
        cls.env = FaultEnv(env={"FLEETWARDEN_LOG_LEVEL": "warn", "FLEETWARDEN_RETRY_BASE_MS": "200",
                                "FLEETWARDEN_RATE_IOT_CERT_CREATE": "20"}, worker_procs=1)
        jid = cls.env.setup_fleet("load")
        assert cls.env.wait_job(jid)["state"] == "succeeded"
        cls.claims = post_claims(cls.env, "load", N_CLAIMS, threads=4)
        cls.env.wait_quiet(180)
        base = "http://127.0.0.1:%d" % cls.env.fw.port
        cls.urls = {"GET /v1/fleets": base + "/v1/fleets", "GET /v1/claims": base + "/v1/claims",
                    "GET /v1/jobs": base + "/v1/jobs", "GET /v1/fleets/{name}": base + "/v1/fleets/load"}

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def hammer(self, label):
        for name, url in self.urls.items():
            r = run_wrk(url, self.env.read, seconds=SECONDS)
            print("\n  %s %-22s %8.0f req/s  p50 %s ms  p99 %s ms  %d requests" %
                  (label, name, r["rps"], r["p50"], r["p99"], r["requests"]), end="")
            with self.subTest(endpoint=name, phase=label):
                self.assertGreater(r["requests"], 0, r["out"])
                self.assertEqual((r["non2xx"], r["socket_errors"]), (0, 0), r["out"])

    def test_1_reads_alone(self):
        self.hammer("alone ")

    def test_2_reads_during_bulk_rotation(self):
        jobs = []
        for cid, _ in self.claims:
            r = self.env.req("POST", "/v1/claims/%s/rotate" % cid, body={"graceSeconds": 3600})
            self.assertEqual(r.status, 202, r)
            jobs.append(r.json["job"]["id"])
        t0 = time.monotonic()
        self.hammer("rotate")
        by = self.env.jobs_by_state()
        running = sum(1 for s in ("queued", "running", "scheduled", "failed") for j in by[s] if j["id"] in set(jobs))
        print("\n  rotation jobs still pending when the reads ended: %d of %d" % (running, len(jobs)))
        by = self.env.wait_quiet(180)
        done = {j["id"] for j in by["succeeded"]}
        self.assertEqual([j for j in jobs if j not in done][:5], [])
        self.assertGreater(time.monotonic() - t0, 0)


if __name__ == "__main__":
    unittest.main()
