"""A claim disable (critical lane) behind bulk work of the same AWS call
family: it takes its token from the shared iot-cert-update bucket like every
other UpdateCertificate, yet gets one of the next tokens instead of waiting
behind the queued bulk jobs, and the emulator (quota = our rate) never sees
more UpdateCertificate calls than the rate allows: not one is throttled.

The bulk jobs are claim.enable jobs on an already active claim, enqueued on
the bulk lane with jobs-probe: each is a real UpdateCertificate.
"""
import json
import os
import subprocess
import sys
import time
import unittest

import claims_lib as cl
import harness

RATE = 4        # our iot-cert-update bucket, tokens/s (burst 4)
BULK = 150


class DisableBehindBulkWork(cl.ClaimsCase):
    FLEET = "incident"
    ENV = {"workers": 4, "env": {"FLEETWARDEN_RATE_IOT_CERT_UPDATE": str(RATE), "FLEETWARDEN_LOG_LEVEL": "warn"}}

    def update_calls(self):
        return self.env.emu.control("GET", "calls?operation=UpdateCertificate")["calls"]

    def enqueue_bulk(self, claim_id, n):
        probe = os.path.join(harness.BUILD_DIR, "tests", "tools", "jobs-probe", "jobs-probe")
        e = {k: v for k, v in os.environ.items() if not k.startswith("FLEETWARDEN_")}
        e.update({"FLEETWARDEN_REDIS_URL": self.env.redis.url, "FLEETWARDEN_LOG_LEVEL": "warn"})
        subprocess.run([probe, "enqueue", "--type", "claim.enable", "--lane", "bulk", "--payload",
                        json.dumps({"claimId": claim_id}), "--count", str(n)], env=e, check=True,
                       stdout=subprocess.DEVNULL, timeout=120)

    def test_disable_gets_one_of_the_next_tokens_and_the_quota_holds(self):
        victim, busy = self.new_claim(), self.new_claim()
        # The emulator's UpdateCertificate quota is our rate (burst twice that: arrivals jitter).
        self.env.emu.control("POST", "quotas", {"enabled": True,
                                                "quotas": {"iot:UpdateCertificate": {"rate": RATE, "burst": 2 * RATE}}})
        self.enqueue_bulk(busy["id"], BULK)

        def bulk_done():
            return [c for c in self.update_calls()
                    if (c.get("parameters") or {}).get("certificateId") == busy["certificateId"]]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.env.redis.command("LLEN", "fw:q:bulk") == 0 and len(bulk_done()) >= 2 * RATE:
                break
            time.sleep(0.1)
        self.assertGreater(self.env.redis.command("ZCARD", "fw:rlq:iot-cert-update"), BULK // 2,
                           "bulk jobs wait for tokens without reserving them")
        before = len(bulk_done())

        r = self.env.req("POST", "/v1/claims/%s/disable" % victim["id"], body={"reason": "key leaked"})
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual((job["state"], job["lane"]), ("succeeded", "critical"), job)
        self.assertEqual(self.env.claim(victim["id"])["state"], "inactive")

        calls = self.update_calls()
        at = [i for i, c in enumerate(calls)
              if (c.get("parameters") or {}).get("certificateId") == victim["certificateId"]
              and (c.get("parameters") or {}).get("newStatus") == "INACTIVE"]
        self.assertEqual(len(at), 1, "one UpdateCertificate for the disable, not throttled and retried")
        bulk_before_disable = sum(1 for c in calls[:at[0]]
                                  if (c.get("parameters") or {}).get("certificateId") == busy["certificateId"])
        # The disable overtook the queued bulk work: only the tokens already handed out
        # (at most about one interval's worth) and the enqueue's own latency came first.
        self.assertLessEqual(bulk_before_disable, before + RATE, (before, bulk_before_disable))
        self.assertLess(bulk_before_disable, BULK // 3)
        print("\n  disable after %d of %d bulk UpdateCertificate calls (%d done when it was posted), rate %d/s"
              % (bulk_before_disable, BULK, before, RATE), file=sys.stderr)
        throttled = [c for c in calls if c.get("errorCode") == "ThrottlingException"]
        self.assertEqual(throttled, [], "the emulator saw more UpdateCertificate calls than the rate allows")


if __name__ == "__main__":
    unittest.main()
