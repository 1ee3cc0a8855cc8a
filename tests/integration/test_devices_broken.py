"""Broken setups as devices meet them (issue 14 B): each break is made the way it happens in real
accounts (by hand, with the AWS API, behind fleetwarden's back, or by a hook that says no), and
the device (tests/devices, the AWS IoT Device SDK) gets AWS's error, whose words the test checks.
Then the setup is mended and the device provisions again, so each test also fails when the device
could not provision at all.

- a provisioning template disabled by hand: RegisterThing rejected (InvalidRequest, "is disabled");
- a pre-provisioning hook that says no: RegisterThing rejected (AccessDenied, "did not allow");
  the hook got AWS's input (the claim's certificate id, the device's parameters);
- a thing policy without iot:AssumeRoleWithCertificate: the device provisions and connects, the
  credentials provider answers 403 "Access Denied";
- a claim policy edited by hand to drop the provisioning topic: the device cannot subscribe to the
  RegisterThing answers; `POST /v1/fleets/{name}/reconcile` finds the difference, repairs the
  policy, and devices provision again.
"""
import json
import unittest

import devices_lib as dl
import harness
from devices_lib import DevicesCase

HOOK_ARN = "arn:aws:lambda:%s:%s:function:line9-hook" % (dl.REGION, dl.ACCOUNT)


class DevicesBrokenSetups(DevicesCase):
    RUN_COST_S = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hook = harness.HookServer(allow=False)
        cls.hook.register(cls.env.emu, HOOK_ARN)
        cls.fleet = cls.env.make_fleet("line9")
        cls.bundle = cls.env.bundle(cls.env.first_claim(cls.fleet)["id"])
        cls.runs = 0

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.hook.stop()

    def device(self, bundle=None):
        DevicesBrokenSetups.runs += 1
        report = self.env.provision(bundle or self.bundle, devices=1, prefix="line9-%d" % self.runs)
        return report, report["devices"][0]

    def assertFailsAt(self, report, step, code, words):
        s = dl.failed_step(report["devices"][0])
        self.assertIsNotNone(s, dl.describe(report))
        self.assertEqual((s["step"], s["errorCode"]), (step, code), dl.describe(report))
        self.assertIn(words, s["errorMessage"])
        return s

    def reconcile(self, name):
        self.env.accepted(self.env.req("POST", "/v1/fleets/%s/reconcile" % name), "reconcile")
        return self.env.req("GET", "/v1/fleets/" + name).json["lastReconcile"]

    def edit_policy(self, name, doc):
        """A new default version of policy `name` made by hand; the old one comes back after the test
        whatever happens (so a failing test does not break the next ones)."""
        before = self.env.iot.get_policy(policyName=name)["defaultVersionId"]
        self.addCleanup(self.env.iot.set_default_policy_version, policyName=name, policyVersionId=before)
        self.env.iot.create_policy_version(policyName=name, policyDocument=json.dumps(doc), setAsDefault=True)

    def test_disabled_template(self):
        template = self.fleet["resources"]["template"]["name"]
        self.env.iot.update_provisioning_template(templateName=template, enabled=False)
        self.addCleanup(self.env.iot.update_provisioning_template, templateName=template, enabled=True)
        report, _ = self.device()
        s = self.assertFailsAt(report, "registerThing", "InvalidRequest", "The provisioning template %s is disabled"
                               % template)
        self.assertEqual(s["statusCode"], 400)
        found = self.reconcile("line9")
        self.assertIn("template", [f["resource"] for f in found["findings"]], found)
        self.assertTrue(self.env.iot.describe_provisioning_template(templateName=template)["enabled"])
        self.assertAllOk(self.device()[0], 1)

    def test_hook_that_says_no(self):
        fleet = self.env.make_fleet("line9h", template={"preProvisioningHook": HOOK_ARN})
        bundle = self.env.bundle(self.env.first_claim(fleet)["id"])
        self.hook.answer = {"allowProvisioning": False}
        before = len(self.hook.calls)
        report, device = self.device(bundle)
        s = self.assertFailsAt(report, "registerThing", "AccessDenied", "the pre-provisioning hook did not allow "
                               "provisioning")
        self.assertEqual(s["statusCode"], 403)
        seen = self.hook.calls[before]
        self.assertEqual(seen["claimCertificateId"], bundle["certificateId"])
        self.assertEqual(seen["certificateId"], device["certificateId"])
        self.assertEqual(seen["parameters"]["ThingName"], "line9-%d-0" % self.runs)
        self.assertEqual(seen["templateArn"], fleet["resources"]["template"]["arn"])
        self.hook.answer = {"allowProvisioning": True}
        self.assertAllOk(self.device(bundle)[0], 1)

    def test_thing_policy_without_assume_role_with_certificate(self):
        name = self.fleet["resources"]["thingPolicy"]["name"]
        doc = json.loads(self.env.iot.get_policy(policyName=name)["policyDocument"])
        kept = [st for st in doc["Statement"] if "iot:AssumeRoleWithCertificate" not in json.dumps(st)]
        self.assertLess(len(kept), len(doc["Statement"]), doc)
        self.edit_policy(name, dict(doc, Statement=kept))
        report, _ = self.device()
        s = self.assertFailsAt(report, "credentials", "HTTP 403", "Access Denied")
        self.assertEqual(s["statusCode"], 403)
        ok = [x["step"] for x in report["devices"][0]["steps"] if x["ok"]]
        self.assertEqual(ok, ["connectClaim", "createCertificate", "registerThing", "connectThing"])
        found = self.reconcile("line9")
        self.assertIn("thingPolicy", [f["resource"] for f in found["findings"]], found)
        # The device made a certificate (registerThing passed): it holds the thing policy, not the
        # claim policy, so it is no claimCertificates finding.
        self.assertNotIn("claimCertificates", [f["resource"] for f in found["findings"]], found)
        self.assertAllOk(self.device()[0], 1)

    def test_claim_policy_without_the_provisioning_topic_reconciled(self):
        name = self.fleet["resources"]["claimPolicy"]["name"]
        template = self.fleet["resources"]["template"]["name"]
        doc = json.loads(self.env.iot.get_policy(policyName=name)["policyDocument"])
        for st in doc["Statement"]:
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            st["Resource"] = [r for r in res if "provisioning-templates" not in r] or ["arn:aws:iot:%s:%s:topic/none"
                                                                                     % (dl.REGION, dl.ACCOUNT)]
        self.edit_policy(name, doc)
        report, _ = self.device()
        s = self.assertFailsAt(report, "registerThing", "SUBACK_FAILURE", "RegisterThing accepted")
        refused = self.env.emu.control("GET", "dataplane/events?type=subscribe-refused")["events"]
        self.assertIn("$aws/provisioning-templates/%s/provision/json/accepted" % template,
                      [e.get("topicFilter") for e in refused], refused[-3:])
        self.assertEqual(s["qos"], 128)
        found = self.reconcile("line9")
        claim_policy = [f for f in found["findings"] if f["resource"] == "claimPolicy"]
        self.assertEqual(len(claim_policy), 1, found)
        self.assertIn("claimPolicy", [r["resource"] for r in found["repaired"]], found)
        self.assertAllOk(self.env.provision(self.bundle, devices=2, prefix="line9-again"), 2)


if __name__ == "__main__":
    unittest.main()
