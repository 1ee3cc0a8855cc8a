"""Job control and resource generations (issue 17, item 1), through the real binary, a real Redis
and the AWS emulator.

The attack: a dead `fleet.teardown` (force) is kept for 30 days. Once the fleet has been torn down
by a later job and re-created under the same name, an operate token retried the old job, and it
destroyed the new fleet. Now:
- retry and cancel need the scope that creating the job needed (admin for fleet and template
  jobs; operate for claim and watch jobs);
- a job acts only on the fleet generation (uid) it was created for: a stale one fails with a
  clear reason and makes no AWS call;
- a teardown runs only on a fleet in state `deleting`.
"""
import json
import unittest

import fleets_lib as fl
import harness


class JobScopes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv()
        cls.operate = cls.env.fw.token("operate", "ops")

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def req(self, method, path, body=None, token=None):
        return self.env.req(method, path, body=body, token=token)

    def dead_teardown(self, name):
        """A fleet `name` whose forced teardown died (an access error is never retried)."""
        _, job = self.env.setup_fleet({"name": name})
        self.assertEqual(job["state"], "succeeded", job)
        self.env.emu.control("POST", "faults", {"operation": "DeleteProvisioningTemplate", "count": 1,
                                                "status": 403, "code": "AccessDeniedException",
                                                "message": "injected"})
        r = self.req("DELETE", "/v1/fleets/%s?force=true" % name)
        self.assertEqual(r.status, 202, r)
        old = r.json["job"]["id"]
        self.assertEqual(self.env.wait_job(old)["state"], "dead")
        return old

    def recreate(self, name):
        """Tears the fleet down with a new job, then sets it up again under the same name."""
        r = self.req("DELETE", "/v1/fleets/%s?force=true" % name)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        self.assertEqual(self.req("GET", "/v1/fleets/" + name).status, 404)
        _, job = self.env.setup_fleet({"name": name})
        self.assertEqual(job["state"], "succeeded", job)
        fleet = self.env.fleet(name)
        # the new fleet's own first claim (not the old fleet's) is made by a job of its own: let it
        # finish, so that the AWS calls the test looks at afterwards are the retried job's only
        first = fleet["resources"]["firstClaim"]
        self.assertEqual(self.env.wait_job(first["jobId"])["state"], "succeeded")
        return fleet

    def retried_in_vain(self, old, code):
        """Retries the dead job old as admin: it is taken (202), dies again with code, and makes no
        AWS call; returns the job."""
        self.env.clear_calls()
        r = self.req("POST", "/v1/jobs/%s/retry" % old)
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(old)
        self.assertEqual(job["state"], "dead", job)
        self.assertEqual(job["errors"][-1]["code"], code, job)
        self.assertEqual(self.env.calls(), [])
        return job

    def test_operate_cannot_retry_an_old_teardown_onto_a_recreated_fleet(self):
        old = self.dead_teardown("gen-a")
        fleet = self.recreate("gen-a")
        self.assertEqual(fleet["state"], "ready")
        r = self.req("POST", "/v1/jobs/%s/retry" % old, token=self.operate)
        self.assertEqual(r.status, 403, r)
        self.assertIn("admin", r.json["detail"])
        r = self.req("POST", "/v1/jobs/%s/cancel" % old, token=self.operate)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.env.fleet("gen-a")["state"], "ready")
        self.assertIn("gen-a-template", self.env.emu.control("GET", "state")["iot"]["templates"])

    def test_admin_retry_of_a_stale_job_touches_nothing(self):
        old = self.dead_teardown("gen-b")
        self.recreate("gen-b")
        job = self.retried_in_vain(old, "StaleJob")
        self.assertIn("re-created", job["errors"][-1]["message"])
        fleet = self.env.fleet("gen-b")
        self.assertEqual(fleet["state"], "ready", fleet)
        self.assertIn("gen-b-template", self.env.emu.control("GET", "state")["iot"]["templates"])

    def test_teardown_runs_only_on_a_fleet_being_deleted(self):
        old = self.dead_teardown("gen-c")
        # the same generation, back in state ready (as an operator repairing the record would)
        self.env.redis.command("HSET", "fw:fleet:gen-c", "j:state", '"ready"')
        self.retried_in_vain(old, "FleetNotDeleting")
        self.assertEqual(self.env.fleet("gen-c")["state"], "ready")

    def test_fleet_jobs_record_the_generation(self):
        _, job = self.env.setup_fleet({"name": "gen-d"})
        fleet = self.env.fleet("gen-d")
        self.assertRegex(fleet["uid"], r"^fl_[0-9a-f]{24}$")
        self.assertEqual(job["payload"]["uid"], fleet["uid"], job)
        r = self.req("POST", "/v1/fleets/gen-d/reconcile")
        self.assertEqual(r.status, 202, r)
        rec = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(rec["payload"]["uid"], fleet["uid"], rec)

    def test_operate_still_controls_claim_jobs(self):
        _, job = self.env.setup_fleet({"name": "gen-e"})
        self.assertEqual(job["state"], "succeeded", job)
        # the setup's first claim must not take the fault meant for ours
        harness.wait_until(lambda: not self.req("GET", "/v1/claims?fleet=gen-e&state=creating").json["items"],
                           timeout=60, what="the first claim")
        self.env.emu.control("POST", "faults", {"operation": "CreateCertificateFromCsr", "count": 1,
                                                "status": 403, "code": "AccessDeniedException",
                                                "message": "injected"})
        r = self.req("POST", "/v1/fleets/gen-e/claims", body={}, token=self.operate)
        self.assertEqual(r.status, 202, r)
        jid = r.json["job"]["id"]
        self.assertEqual(self.env.wait_job(jid)["state"], "dead")
        r = self.req("POST", "/v1/jobs/%s/retry" % jid, token=self.operate)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.env.wait_job(jid)["state"], "succeeded")

    def test_operate_cannot_cancel_a_fleet_setup(self):
        self.env.emu.control("POST", "faults", {"operation": "CreateRole", "delayMs": 1500, "delayOnly": True,
                                                "count": 1})
        r = self.req("POST", "/v1/fleets", body={"name": "gen-f"})
        self.assertEqual(r.status, 202, r)
        jid = r.json["job"]["id"]
        r = self.req("POST", "/v1/jobs/%s/cancel" % jid, token=self.operate)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.env.wait_job(jid)["state"], "succeeded")

    def test_stale_template_delete_touches_nothing(self):
        role = self.env.aws("iam", "create-role", "--role-name", "gen-prov", "--assume-role-policy-document",
                            json.dumps(fl.prov_trust()))["Role"]["Arn"]
        body = {"name": "gen-t", "body": fl.template_body(), "provisioningRoleArn": role}
        r = self.req("POST", "/v1/templates", body=body)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        self.env.emu.control("POST", "faults", {"operation": "DeleteProvisioningTemplate", "count": 1,
                                                "status": 403, "code": "AccessDeniedException",
                                                "message": "injected"})
        r = self.req("DELETE", "/v1/templates/gen-t")
        self.assertEqual(r.status, 202, r)
        old = r.json["job"]["id"]
        self.assertEqual(self.env.wait_job(old)["state"], "dead")
        r = self.req("DELETE", "/v1/templates/gen-t")
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        r = self.req("POST", "/v1/templates", body=body)
        self.assertEqual(self.env.wait_job(r.json["job"]["id"])["state"], "succeeded")
        uid = self.req("GET", "/v1/templates/gen-t").json["uid"]
        self.assertRegex(uid, r"^tpl_[0-9a-f]{24}$")
        self.env.clear_calls()
        r = self.req("POST", "/v1/jobs/%s/retry" % old, token=self.operate)
        self.assertEqual(r.status, 403, r)
        r = self.req("POST", "/v1/jobs/%s/retry" % old)
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(old)
        self.assertEqual(job["errors"][-1]["code"], "StaleJob", job)
        self.assertEqual(self.env.calls(), [])
        t = self.req("GET", "/v1/templates/gen-t").json
        self.assertEqual((t["state"], t["uid"]), ("ready", uid), t)
        self.assertIn("gen-t", self.env.emu.control("GET", "state")["iot"]["templates"])

    def test_a_successor_records_its_fleet_generation(self):
        """A rotation's successor is of its predecessor's fleet generation (and purpose), so its
        jobs are refused as StaleJob too when the fleet was re-created meanwhile."""
        _, job = self.env.setup_fleet({"name": "gen-s"})
        self.assertEqual(job["state"], "succeeded", job)
        uid = self.env.fleet("gen-s")["uid"]
        harness.wait_until(lambda: self.req("GET", "/v1/claims?fleet=gen-s&state=active").json["items"],
                           timeout=60, what="the first claim")
        old = self.req("GET", "/v1/claims?fleet=gen-s&state=active").json["items"][0]
        r = self.req("POST", "/v1/claims/%s/rotate" % old["id"], body={"graceSeconds": 60}, token=self.operate)
        self.assertEqual(r.status, 202, r)
        succ = r.json["successor"]["id"]
        stored = self.env.redis.command("HMGET", "fw:claim:" + succ, "fleetUid", "purpose")
        self.assertEqual(stored, [uid, self.env.redis.command("HGET", "fw:claim:" + old["id"], "purpose")])

    def test_claims_record_their_fleet_generation(self):
        """A claim made for an earlier fleet of the same name: its jobs do nothing (StaleJob)."""
        _, job = self.env.setup_fleet({"name": "gen-h"})
        self.assertEqual(job["state"], "succeeded", job)
        uid = self.env.fleet("gen-h")["uid"]
        harness.wait_until(lambda: not self.req("GET", "/v1/claims?fleet=gen-h&state=creating").json["items"],
                           timeout=60, what="the first claim")
        claim = self.req("GET", "/v1/claims?fleet=gen-h").json["items"][0]
        key = "fw:claim:" + claim["id"]
        self.assertEqual(self.env.redis.command("HGET", key, "fleetUid"), uid)
        # as if the fleet had been deleted and re-created after this claim was made
        self.env.redis.command("HSET", key, "fleetUid", "fl_" + "0" * 24)
        self.env.clear_calls()
        r = self.req("POST", "/v1/claims/%s/disable" % claim["id"], body={"reason": "stale"}, token=self.operate)
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "dead", job)
        self.assertEqual(job["errors"][-1]["code"], "StaleJob", job)
        self.assertEqual(self.env.calls(), [])


if __name__ == "__main__":
    unittest.main()
