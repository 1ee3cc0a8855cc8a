"""Fleet verification survives kill -9 of its worker (issue 15): the API runs as `serve --no-workers`,
the worker as its own process. The fleet's template gets a pre-provisioning hook that takes three
seconds; the worker is killed while RegisterThing waits on it. The emulator finishes the
registration anyway (as AWS would): a thing and an active certificate the dead worker never heard
of. A new worker takes the job when its lease runs out, finds what the journal says was made
(the thing's name was written before RegisterThing was sent, the certificate's id as soon as it
came), removes it, verifies again from the start, and cleans up: the emulator ends with nothing the
verification made, both verification claims retired.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import verify_lib as vl  # noqa: E402

FLEET = "vcrash"


class KillDuringVerification(vl.VerifyCase):
    FLEET = FLEET
    ENV = {"workers": 1, "env": {"FLEETWARDEN_JOB_LEASE_MS": "1500", "FLEETWARDEN_REAPER_MS": "300"}}

    def test_kill_during_register_thing_resumes_and_cleans_up(self):
        self.env.aws("iot", "update-provisioning-template", "--template-name", FLEET + "-template",
                     "--pre-provisioning-hook", "targetArn=%s,payloadVersion=2020-04-01" % vl.HOOK_ARN)
        self.hook.delay = 3.0
        r = self.env.fw.request("POST", "/v1/fleets/%s/verify" % FLEET, token=self.env.operate)
        self.assertEqual(r.status, 202, r)
        jid = r.json["job"]["id"]
        harness.wait_until(lambda: self.hook.calls, timeout=30, what="RegisterThing waiting on the hook")
        time.sleep(0.5)
        self.env.kill9_worker()
        self.hook.delay = 0.0
        harness.wait_until(lambda: self.env.iot_state()["things"], timeout=10,
                           what="the emulator finishing the dead worker's RegisterThing")
        orphan = sorted(self.env.iot_state()["things"])
        self.assertEqual(len(orphan), 1)
        self.assertTrue(orphan[0].startswith("fwverify-vcrash-"), orphan)
        self.env.workers.append(self.env.start_worker())
        job = self.env.wait_job(jid, timeout=120)
        self.assertEqual(job["state"], "succeeded", job)
        res = job["result"]
        self.assertEqual(res["result"], "passed", json.dumps(res, indent=1))
        self.assertEqual(res["recovered"], 1, res)
        removed = " ".join(res["recoveredRemoved"])
        self.assertIn("thing %s (left its groups, deleted)" % orphan[0], removed)
        self.assertIn("verification claim", removed)
        self.assertIn("LeaseExpired", [e["code"] for e in job["errors"]], job)   # the worker that died
        left = self.env.leftovers(self.own_certs)
        self.assertEqual(left, {"things": [], "certificates": [], "groupMembers": {}}, left)
        vcs = self.env.verification_claims(FLEET)
        self.assertEqual(len(vcs), 2, vcs)
        self.assertEqual({c["state"] for c in vcs}, {"deleted"})
        self.assertEqual(self.env.fleet(FLEET)["lastVerify"]["job"], jid)


if __name__ == "__main__":
    unittest.main()
