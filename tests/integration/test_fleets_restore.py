"""The restore procedure of docs/OPERATIONS.md ("Backups and recovery"): an older Redis snapshot
is restored, then POST /v1/fleets/{name}/reconcile. Claim certificates made after the snapshot
are still ACTIVE at AWS with the claim policy, but no claim record holds them (the API cannot
disable, rotate or retire them, the misuse watch does not see them): the reconcile lists each as
a claimCertificates finding, and with {"deactivateUnknownClaimCertificates": true} sets those
made long enough ago INACTIVE and detaches the claim policy from them.
"""
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import claims_lib  # noqa: E402
from harness import wait_until  # noqa: E402

FLEET = "rst"
KEY = "deactivateUnknownClaimCertificates"


class RestoreOlderSnapshot(unittest.TestCase):
    RUN_COST_S = 40

    def setUp(self):
        self.env = claims_lib.ClaimsEnv()

    def tearDown(self):
        self.env.stop()

    def call(self, method, path, body=None, token=None):
        """A request, through the 503s of a fleetwarden whose Redis connections come back one by
        one after the restart (as a client honouring Retry-After would)."""
        deadline = time.monotonic() + 30
        while True:
            r = self.env.req(method, path, body=body, token=token or self.env.admin)
            if r.status != 503 or time.monotonic() > deadline:
                return r
            time.sleep(0.2)

    def post_reconcile(self, body=None):
        return self.call("POST", "/v1/fleets/%s/reconcile" % FLEET, body)

    def reconcile(self, body=None):
        r = self.post_reconcile(body)
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"], timeout=120)
        self.assertEqual(job["state"], "succeeded", job)
        return job["result"]

    def cert(self, iot, cid):
        return iot.describe_certificate(certificateId=cid)["certificateDescription"]

    def targets(self, iot, policy):
        return {t.rsplit("/", 1)[1] for t in iot.list_targets_for_policy(policyName=policy)["targets"]}

    def test_certificates_made_after_the_snapshot_are_found_then_deactivated(self):
        env = self.env
        iot = claims_lib.iot_client(env.emu)
        policy = env.make_fleet(FLEET)
        kept = env.req("GET", "/v1/claims?fleet=" + FLEET, token=env.read).json["items"]
        self.assertEqual([c["state"] for c in kept], ["active"])
        kept_cert = kept[0]["certificateId"]
        env.redis.command("SAVE")
        snap = os.path.join(env.redis.dir, "snapshot.rdb")
        shutil.copy(os.path.join(env.redis.dir, "dump.rdb"), snap)

        # Two claims after the snapshot: one whose certificate AWS made 700 s ago (the emulator's
        # clock set back), one made now.
        env.emu.control("POST", "clock", {"offsetSeconds": -700})
        try:
            old = env.new_claim(FLEET)["certificateId"]
        finally:
            env.emu.control("POST", "clock", {"offsetSeconds": 0})
        young = env.new_claim(FLEET)["certificateId"]
        self.assertEqual(self.targets(iot, policy), {kept_cert, old, young})

        env.redis.stop()
        shutil.copy(snap, os.path.join(env.redis.dir, "dump.rdb"))
        env.redis.start()
        wait_until(lambda: env.fw.request("GET", "/readyz").status == 200, timeout=30, what="ready")
        claims = self.call("GET", "/v1/claims?fleet=" + FLEET, token=env.read).json["items"]
        self.assertEqual([c["certificateId"] for c in claims], [kept_cert], "the snapshot's claims")

        # A plain reconcile lists both, changes nothing at AWS.
        result = self.reconcile({})
        found = {f["name"]: f for f in result["findings"] if f["resource"] == "claimCertificates"}
        self.assertEqual(set(found), {old, young}, result)
        for cid in (old, young):
            self.assertTrue(found[cid]["notRepaired"].startswith("no claim record"), found[cid])
            self.assertIn("ACTIVE", found[cid]["difference"])
            self.assertIn(policy, found[cid]["difference"])
        self.assertEqual(result["repaired"], [])
        last = self.call("GET", "/v1/fleets/" + FLEET, token=env.read).json
        self.assertEqual(last["state"], "ready")
        self.assertEqual(last["lastReconcile"]["findings"], result["findings"])
        self.assertEqual(self.targets(iot, policy), {kept_cert, old, young})
        self.assertEqual(self.cert(iot, old)["status"], "ACTIVE")

        # Bad bodies: 400 naming the field, nothing queued.
        r = self.post_reconcile({KEY: "yes"})
        self.assertEqual(r.status, 400, r)
        self.assertIn(KEY, [e["field"] for e in r.json["errors"]])
        r = self.post_reconcile({"deactivate": True})
        self.assertEqual(r.status, 400, r)
        self.assertIn("deactivate", [e["field"] for e in r.json["errors"]])

        # Asked to: the old one is set INACTIVE and loses the claim policy; the young one (it
        # could be a claim's still being recorded) and the recorded claim's are left as they are.
        result = self.reconcile({KEY: True})
        found = {f["name"]: f for f in result["findings"] if f["resource"] == "claimCertificates"}
        self.assertEqual(set(found), {old, young}, result)
        self.assertNotIn("notRepaired", found[old])
        self.assertIn("less than 10 minutes", found[young]["notRepaired"])
        self.assertEqual(result["repaired"],
                         [{"resource": "claimCertificates", "name": old, "action": "deactivated"}])
        self.assertEqual(self.cert(iot, old)["status"], "INACTIVE")
        self.assertEqual(self.cert(iot, young)["status"], "ACTIVE")
        self.assertEqual(self.cert(iot, kept_cert)["status"], "ACTIVE")
        self.assertEqual(self.targets(iot, policy), {kept_cert, young})
        self.assertEqual(env.claim(kept[0]["id"])["state"], "active")

        # The next plain reconcile no longer lists the detached one.
        result = self.reconcile()
        names = [f["name"] for f in result["findings"] if f["resource"] == "claimCertificates"]
        self.assertEqual(names, [young], result)

        # A claim recorded by a version before the certificate index (no index entry) still
        # holds its certificate: found on the fleet's claim records, no finding.
        self.assertEqual(env.redis.command("HDEL", "fw:claims:cert", kept_cert), 1)
        result = self.reconcile({KEY: True})
        names = [f["name"] for f in result["findings"] if f["resource"] == "claimCertificates"]
        self.assertEqual(names, [young], result)
        self.assertEqual(self.cert(iot, kept_cert)["status"], "ACTIVE")


if __name__ == "__main__":
    unittest.main()
