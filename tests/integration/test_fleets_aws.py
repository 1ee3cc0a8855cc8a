"""Fleet setup and teardown against AWS behaviours a real account has (issue 13, item 2): a role
alias longer than the role's MaxSessionDuration, IAM's eventual consistency, IAM's transient
errors, DeletePolicy refused for minutes after DetachPolicy, a pre-provisioning hook in another
account or region, and IoT requests signed as `iot`.

Real fleetwarden (API + workers), real Redis, the AWS emulator with those behaviours switched on
(POST /__emu/config, faults), checked through the API and the emulator's state and call log.
"""
import json
import time
import unittest

import fleets_lib as fl


class SetupOnAws(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv(env={"FLEETWARDEN_RETRY_BASE_MS": "200", "FLEETWARDEN_RETRY_CAP_MS": "2000"})

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def tearDown(self):
        self.env.emu.control("POST", "config", {"iamPropagationSeconds": 0, "policyDeleteDelaySeconds": 0})
        self.env.emu.control("DELETE", "faults")

    def spec(self, name, **extra):
        """A fleet with its own roles, alias and policies (so no other test's resources are found)."""
        body = {"name": name, "tokenExchangeRole": {"name": name + "-tes", "policyName": name + "-tes-access"},
                "roleAlias": {"name": name + "-alias"}, "thingPolicy": {"name": name + "-thing"},
                "provisioningRole": {"name": name + "-prov"}}
        body.update(extra)
        return body

    def setup(self, body, timeout=90):
        _, job = self.env.setup_fleet(body, timeout)
        return job

    def state(self):
        return self.env.emu.control("GET", "state")

    def test_iot_calls_are_signed_as_iot(self):
        self.env.clear_calls()
        job = self.setup(self.spec("sig"))
        self.assertEqual(job["state"], "succeeded", job)
        iot = [c for c in self.env.calls() if c["service"] == "iot"]
        self.assertTrue(iot)
        self.assertEqual({c.get("signingName") for c in iot}, {"iot"}, iot[:1])

    def test_role_alias_longer_than_an_hour(self):
        body = self.spec("dur")
        body["roleAlias"]["credentialDurationSeconds"] = 7200
        job = self.setup(body)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.aws_role("dur-tes")["MaxSessionDuration"], 7200)
        self.assertEqual(self.state()["iot"]["roleAliases"]["dur-alias"]["credentialDurationSeconds"], 7200)
        # an hour or less keeps IAM's default
        job = self.setup(self.spec("dur2"))
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.aws_role("dur2-tes")["MaxSessionDuration"], 3600)

    def aws_role(self, name):
        return self.env.aws("iam", "get-role", "--role-name", name)["Role"]

    def test_two_fleets_creating_a_shared_role_at_once_both_succeed(self):
        """Fleets of an account share the guide's role names. Two set up at once both find the
        role missing and both create it: AWS answers the second EntityAlreadyExists. That job is
        retried and finds the role (before, it died as a conflict and its fleet failed)."""
        self.env.emu.control("POST", "faults", {"faults": [
            {"operation": "CreateRole", "count": 2, "delayMs": 1500, "delayOnly": True}]})
        jobs = []
        for name in ("race1", "race2"):
            body = self.spec(name)
            body["tokenExchangeRole"]["name"] = "race-shared-tes"
            r = self.env.req("POST", "/v1/fleets", body=body)
            self.assertEqual(r.status, 202, r)
            jobs.append(r.json["job"]["id"])
        done = [self.env.wait_job(j, 90) for j in jobs]
        self.assertEqual([j["state"] for j in done], ["succeeded", "succeeded"], done)
        errors = json.dumps([j.get("errors") for j in done])
        self.assertIn("EntityAlreadyExists", errors, "the two creates did not meet: no race to test")
        self.assertIn("made meanwhile", errors)
        for name in ("race1", "race2"):
            fleet = self.env.fleet(name)
            self.assertEqual(fleet["state"], "ready", fleet)
            self.assertEqual(fleet["resources"]["tokenExchangeRole"]["name"], "race-shared-tes")
        self.assertEqual(self.aws_role("race-shared-tes")["RoleName"], "race-shared-tes")

    def test_found_role_with_a_short_session(self):
        self.env.aws("iam", "create-role", "--role-name", "found-tes", "--assume-role-policy-document",
                     json.dumps(fl.tes_trust()))
        body = self.spec("found")
        body["roleAlias"]["credentialDurationSeconds"] = 10800
        job = self.setup(body)
        self.assertEqual(job["state"], "dead", job)
        self.assertIn("MaxSessionDuration: 3600 (AWS) < 10800 (wanted)", json.dumps(job["errors"]))
        self.assertNotIn("found-alias", self.state()["iot"]["roleAliases"])
        self.assertEqual(self.aws_role("found-tes")["MaxSessionDuration"], 3600, "not changed without adopt")
        self.env.req("DELETE", "/v1/fleets/found?force=true")
        deadline = time.monotonic() + 30
        while self.env.req("GET", "/v1/fleets/found").status != 404 and time.monotonic() < deadline:
            time.sleep(0.2)
        body["name"] = "found"
        body["adopt"] = True
        job = self.setup(body)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.aws_role("found-tes")["MaxSessionDuration"], 10800)
        self.assertEqual(self.env.fleet("found")["resources"]["tokenExchangeRole"]["origin"], "adopted")

    def test_new_roles_not_yet_assumable(self):
        # IAM is eventually consistent: a role made seconds ago is refused by IoT for a while.
        self.env.emu.control("POST", "config", {"iamPropagationSeconds": 4})
        t0 = time.monotonic()
        job = self.setup(self.spec("fresh"))
        self.assertEqual(job["state"], "succeeded", job)
        self.assertGreater(time.monotonic() - t0, 3.5)
        refused = [c for c in self.env.calls() if c["errorCode"] == "InvalidRequestException"
                   and c["operation"] in ("CreateRoleAlias", "CreateProvisioningTemplate")]
        self.assertTrue(refused, "the emulator refused at least once")
        self.assertIn("settling", {e["class"] for e in job["errors"]})
        self.assertEqual(job["attempts"], 1, "waiting for IAM uses up no attempt")

    def test_refusal_of_a_role_this_job_did_not_change_is_not_waited_for(self):
        job = self.setup(self.spec("old"))   # roles made, settled
        self.assertEqual(job["state"], "succeeded", job)
        self.env.emu.control("POST", "faults", {"operation": "CreateProvisioningTemplate", "count": 1, "status": 400,
                                                "code": "InvalidRequestException",
                                                "message": "The provisioning role cannot be assumed by AWS IoT"})
        body = self.spec("old2")
        body["tokenExchangeRole"] = {"name": "old-tes", "policyName": "old-tes-access"}
        body["provisioningRole"] = {"name": "old-prov"}
        body["roleAlias"] = {"name": "old-alias"}
        body["thingPolicy"] = {"name": "old-thing"}
        t0 = time.monotonic()
        job = self.setup(body)
        self.assertEqual(job["state"], "dead", job)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertEqual(self.env.fleet("old2")["state"], "failed")

    def test_iam_concurrent_modification_is_transient(self):
        self.env.emu.control("POST", "faults", [
            {"operation": "CreateRole", "service": "iam", "count": 2, "status": 409, "code": "ConcurrentModification",
             "message": "Rate exceeded"},
            {"operation": "AttachRolePolicy", "service": "iam", "count": 1, "status": 409,
             "code": "EntityTemporarilyUnmodifiable", "message": "Cannot modify the entity"}])
        job = self.setup(self.spec("conc"))
        self.assertEqual(job["state"], "succeeded", job)
        codes = {c["errorCode"] for c in self.env.calls() if c["service"] == "iam"}
        self.assertTrue({"ConcurrentModification", "EntityTemporarilyUnmodifiable"} <= codes, codes)

    def test_hook_of_another_account_or_region(self):
        other_region = "arn:aws:lambda:eu-west-1:%s:function:hook" % fl.ACCOUNT
        r = self.env.req("POST", "/v1/fleets", body=self.spec("hk1", template={"preProvisioningHook": other_region}))
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["field"] for e in r.json["errors"]], ["template.preProvisioningHook"])
        ours = "arn:aws:lambda:us-east-1:%s:function:hook" % fl.ACCOUNT
        r = self.env.req("POST", "/v1/fleets", body=self.spec(
            "hk2", template={"preProvisioningHook": ours},
            assumeRole={"roleArn": "arn:aws:iam::210987654321:role/fleet-admin"}))
        self.assertEqual(r.status, 400, r)
        self.assertIn("210987654321", r.json["errors"][0]["message"])
        # the account is known only once the job asked STS: the fleet fails before any template exists
        theirs = "arn:aws:lambda:us-east-1:999999999999:function:hook"
        job = self.setup(self.spec("hk3", template={"preProvisioningHook": theirs}))
        self.assertEqual(job["state"], "dead", job)
        self.assertIn("template.preProvisioningHook", json.dumps(job["errors"]))
        self.assertEqual(self.env.fleet("hk3")["state"], "failed")
        self.assertNotIn("hk3-template", self.state()["iot"]["templates"])
        # the templates API: the provisioning role names the account
        r = self.env.req("POST", "/v1/templates", body={
            "name": "hk4", "provisioningRoleArn": "arn:aws:iam::%s:role/p" % fl.ACCOUNT, "region": "us-east-1",
            "body": fl.template_body(), "preProvisioningHook": theirs})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([e["field"] for e in r.json["errors"]], ["preProvisioningHook"])

    def test_forced_teardown_waits_until_delete_policy_is_accepted(self):
        job = self.setup(self.spec("td"))
        self.assertEqual(job["state"], "succeeded", job)
        self.wait_first_claim("td")
        self.env.emu.control("POST", "config", {"policyDeleteDelaySeconds": 3})
        r = self.env.req("DELETE", "/v1/fleets/td?force=true")
        self.assertEqual(r.status, 202, r)
        fl.harness.wait_until(lambda: any(c["operation"] == "DeletePolicy" and
                                          c["errorCode"] == "DeleteConflictException" for c in self.env.calls()),
                              timeout=30, what="DeletePolicy refused after DetachPolicy")
        self.assertEqual(self.env.req("GET", "/v1/fleets/td").status, 200, "the record stays while it waits")
        job = self.env.wait_job(r.json["job"]["id"], timeout=60)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertIn({"resource": "claimPolicy", "name": "td-claim-policy"}, job["result"]["deleted"])
        self.assertNotIn("td-claim-policy", self.state()["iot"]["policies"])
        self.assertEqual(self.env.req("GET", "/v1/fleets/td").status, 404)

    def test_forced_teardown_disables_its_claims_certificates_first(self):
        # The claim's disable fails once (AWS 500) and is retried a moment later: the teardown must
        # wait for it. Before, it only asked for the disables and went on; a disable that ran
        # after the fleet record was gone died (FleetNotFound) and the certificate stayed ACTIVE.
        job = self.setup(self.spec("tc"))
        self.assertEqual(job["state"], "succeeded", job)
        claim = self.wait_first_claim("tc")
        cert = claim["certificateId"]
        self.assertEqual(self.state()["iot"]["certificates"][cert]["status"], "ACTIVE")
        self.env.emu.control("POST", "faults", {"operation": "UpdateCertificate", "count": 1, "status": 500})
        r = self.env.req("DELETE", "/v1/fleets/tc?force=true")
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"], timeout=60)
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(self.state()["iot"]["certificates"][cert]["status"], "INACTIVE")
        c = self.env.req("GET", "/v1/claims/" + claim["id"]).json
        self.assertEqual(c["state"], "inactive", c)
        self.assertEqual(c.get("disableReason"), "fleet teardown (force)", c)
        self.assertEqual(self.env.req("GET", "/v1/fleets/tc").status, 404)

    def test_forced_teardown_fails_a_claim_whose_creation_was_canceled(self):
        # A claim's creation job is canceled while it runs: the claim stays creating and no job will
        # finish it. A forced teardown waited for it (ClaimsLive) until its own retries ran out and
        # ended dead; it now fails that claim and goes on.
        job = self.setup(self.spec("tx"))
        self.assertEqual(job["state"], "succeeded", job)
        self.wait_first_claim("tx")
        self.env.emu.control("POST", "faults", {"operation": "CreateCertificateFromCsr", "count": 1,
                                                "delayMs": 1500, "delayOnly": True})
        r = self.env.req("POST", "/v1/fleets/tx/claims", body={})
        self.assertEqual(r.status, 202, r)
        cid, jid = r.json["claim"]["id"], r.json["job"]["id"]
        fl.harness.wait_until(lambda: self.env.req("GET", "/v1/jobs/" + jid).json["state"] == "running",
                              timeout=10, what="the claim's creation running")
        self.assertEqual(self.env.req("POST", "/v1/jobs/%s/cancel" % jid).status, 202)
        self.assertEqual(self.env.wait_job(jid)["state"], "canceled")
        self.assertEqual(self.env.req("GET", "/v1/claims/" + cid).json["state"], "creating")
        r = self.env.req("DELETE", "/v1/fleets/tx?force=true")
        self.assertEqual(r.status, 202, r)
        job = self.env.wait_job(r.json["job"]["id"], timeout=90)
        self.assertEqual(job["state"], "succeeded", job)
        c = self.env.req("GET", "/v1/claims/" + cid).json
        self.assertEqual((c["state"], c["error"]), ("failed", "its creation job was canceled"), c)
        self.assertEqual(self.env.req("GET", "/v1/fleets/tx").status, 404)

    def wait_first_claim(self, fleet):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = self.env.req("GET", "/v1/claims?fleet=" + fleet).json["items"]
            if items and items[0]["state"] == "active":
                return items[0]
            time.sleep(0.2)
        self.fail("no active claim")


class TeardownLeftBehind(unittest.TestCase):
    """When AWS still refuses DeletePolicy after the wait, the policy is reported as left behind."""

    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv(env={"FLEETWARDEN_RETRY_BASE_MS": "200", "FLEETWARDEN_RETRY_CAP_MS": "1000",
                                   "FLEETWARDEN_POLICY_DELETE_WAIT_S": "3"})

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def test_policy_left_behind_is_named(self):
        _, job = self.env.setup_fleet({"name": "lb"})
        self.assertEqual(job["state"], "succeeded", job)
        SetupOnAws.wait_first_claim(self, "lb")
        self.env.emu.control("POST", "config", {"policyDeleteDelaySeconds": 600})
        r = self.env.req("DELETE", "/v1/fleets/lb?force=true")
        job = self.env.wait_job(r.json["job"]["id"], timeout=60)
        self.assertEqual(job["state"], "succeeded", job)
        kept = [k for k in job["result"]["kept"] if k["resource"] == "claimPolicy"]
        self.assertEqual(len(kept), 1, job["result"])
        self.assertEqual(kept[0]["name"], "lb-claim-policy")
        self.assertIn("left behind", kept[0]["reason"])
        self.assertIn("aws iot delete-policy --policy-name lb-claim-policy", kept[0]["reason"])
        self.assertIn("lb-claim-policy", self.env.emu.control("GET", "state")["iot"]["policies"])
        self.assertEqual(self.env.req("GET", "/v1/fleets/lb").status, 404)


if __name__ == "__main__":
    unittest.main()
