"""Fleet requests refused before anything is queued (issue 6): table-driven
problem details naming each bad field, conflicts, idempotency and scopes.
No workers run here: nothing reaches AWS.
"""
import copy
import unittest

import harness

OK = {"name": "ok"}


def with_(**kw):
    b = copy.deepcopy(OK)
    b.update(kw)
    return b


# (description, body, field expected in errors[].field)
CASES = [
    ("no name", {}, "name"),
    ("name not a string", {"name": 5}, "name"),
    ("name too long", {"name": "a" * 65}, "name"),
    ("name with a space", {"name": "bad name"}, "name"),
    ("derived template name over 36", {"name": "x" * 30}, "template.name"),
    ("template name over 36", with_(template={"name": "t" * 37}), "template.name"),
    ("template name with a dot", with_(template={"name": "bad.name"}), "template.name"),
    ("template name not a string", with_(template={"name": 7}), "template.name"),
    ("hook not a Lambda ARN", with_(template={"preProvisioningHook": "arn:aws:lambda:us-east-1:123:function:x"}),
     "template.preProvisioningHook"),
    ("hook of another service", with_(template={"preProvisioningHook": "arn:aws:s3:::bucket"}),
     "template.preProvisioningHook"),
    ("description over 500", with_(template={"description": "d" * 501}), "template.description"),
    ("enabled not a boolean", with_(template={"enabled": "yes"}), "template.enabled"),
    ("template body without resources", with_(template={"body": {"Resources": {}}}), "template.body/Resources"),
    ("template body not JSON", with_(template={"body": "{nope"}), "template.body"),
    ("unknown template field", with_(template={"foo": 1}), "template.foo"),
    ("template not an object", with_(template="t"), "template"),
    ("duration below 900", with_(roleAlias={"credentialDurationSeconds": 899}), "roleAlias.credentialDurationSeconds"),
    ("duration above 43200", with_(roleAlias={"credentialDurationSeconds": 43201}),
     "roleAlias.credentialDurationSeconds"),
    ("duration as a string", with_(roleAlias={"credentialDurationSeconds": "3600"}),
     "roleAlias.credentialDurationSeconds"),
    ("role alias with a slash", with_(roleAlias={"name": "a/b"}), "roleAlias.name"),
    ("role alias with a plus", with_(roleAlias={"name": "a+b"}), "roleAlias.name"),
    ("role alias over 128", with_(roleAlias={"name": "a" * 129}), "roleAlias.name"),
    ("role name over 64", with_(tokenExchangeRole={"name": "r" * 65}), "tokenExchangeRole.name"),
    ("role name with a slash", with_(tokenExchangeRole={"name": "a/b"}), "tokenExchangeRole.name"),
    ("role policy name over 128", with_(tokenExchangeRole={"policyName": "p" * 129}),
     "tokenExchangeRole.policyName"),
    ("unknown role field", with_(tokenExchangeRole={"arn": "x"}), "tokenExchangeRole.arn"),
    ("thing policy mode", with_(thingPolicy={"mode": "weird"}), "thingPolicy.mode"),
    ("per-device policy with a name", with_(thingPolicy={"mode": "perDevice", "name": "x"}), "thingPolicy.name"),
    ("thing policy name with a space", with_(thingPolicy={"name": "a b"}), "thingPolicy.name"),
    ("empty provisioning role name", with_(provisioningRole={"name": ""}), "provisioningRole.name"),
    ("thing group with a slash", with_(thingGroups=["g/1"]), "thingGroups[0]"),
    ("thing groups not a list", with_(thingGroups="g"), "thingGroups"),
    ("thing group over 128", with_(thingGroups=["ok", "g" * 129]), "thingGroups[1]"),
    ("bucket with capitals", with_(artifactBuckets=["UPPER"]), "artifactBuckets[0]"),
    ("bucket too short", with_(artifactBuckets=["ab"]), "artifactBuckets[0]"),
    ("claim policy name over 128", with_(claimPolicy={"name": "c" * 129}), "claimPolicy.name"),
    ("claimPolicyAllowCsr as a string", with_(claimPolicyAllowCsr="true"), "claimPolicyAllowCsr"),
    ("role ARN with a short account", with_(assumeRole={"roleArn": "arn:aws:iam::12:role/x"}), "assumeRole.roleArn"),
    ("role ARN of a user", with_(assumeRole={"roleArn": "arn:aws:iam::123456789012:user/x"}), "assumeRole.roleArn"),
    ("external id too short", with_(assumeRole={"roleArn": "arn:aws:iam::123456789012:role/x", "externalId": "a"}),
     "assumeRole.externalId"),
    ("assumeRole not an object", with_(assumeRole="x"), "assumeRole"),
    ("region", with_(region="Mars-1"), "region"),
    ("rotation not an object", with_(rotation=[]), "rotation"),
    ("rotation period as a string", with_(rotation={"periodDays": "30"}), "rotation.periodDays"),
    ("rotation period of 0", with_(rotation={"periodDays": 0}), "rotation.periodDays"),
    ("rotation period above 3650", with_(rotation={"periodDays": 3651}), "rotation.periodDays"),
    ("rotation period as a boolean", with_(rotation={"periodDays": True}), "rotation.periodDays"),
    ("rotation field misspelt", with_(rotation={"periodDayz": 30}), "rotation.periodDayz"),
    ("rotation grace as text", with_(rotation={"periodDays": 30, "graceSeconds": "1h"}), "rotation.graceSeconds"),
    ("rotation grace above 30 days", with_(rotation={"graceSeconds": 2592001}), "rotation.graceSeconds"),
    ("rotation grace a fraction", with_(rotation={"graceSeconds": 1.5}), "rotation.graceSeconds"),
    ("rotation retention negative", with_(rotation={"retentionSeconds": -1}), "rotation.retentionSeconds"),
    ("watch not an object", with_(watch=1), "watch"),
    ("adopt not a boolean", with_(adopt="yes"), "adopt"),
    ("watch action unknown", with_(watch={"action": "explode"}), "watch.action"),
    ("watch webhook without secret", with_(watch={"webhook": {"url": "https://hooks.example.com/x"}}),
     "watch.webhook.secret"),
    ("createThingGroups not a boolean", with_(createThingGroups=1), "createThingGroups"),
    ("unknown field", with_(unknownThing=1), "unknownThing"),
]


class FleetValidation(harness.ServiceTestCase):
    def post(self, body, path="/v1/fleets", **kw):
        return self.fw.request("POST", path, token=self.admin, body=body, **kw)

    def test_invalid_bodies_name_the_field(self):
        for desc, body, field in CASES:
            with self.subTest(desc):
                r = self.post(body)
                p = self.assertProblem(r, 400)
                fields = [e["field"] for e in p["errors"]]
                self.assertTrue(any(f == field or f.startswith(field) for f in fields), (field, fields))
        self.assertEqual(self.fw.request("GET", "/v1/fleets/ok", token=self.admin).status, 404)

    def test_every_bad_field_is_reported(self):
        r = self.post({"name": "bad name", "region": "x", "adopt": 1, "roleAlias": {"credentialDurationSeconds": 1}})
        fields = {e["field"] for e in self.assertProblem(r, 400)["errors"]}
        self.assertTrue({"name", "region", "adopt", "roleAlias.credentialDurationSeconds"} <= fields, fields)

    def test_dry_run_flag_checked(self):
        r = self.post(OK, path="/v1/fleets?dryRun=maybe")
        self.assertEqual(self.assertProblem(r, 400)["errors"][0]["field"], "dryRun")

    def test_conflict_and_idempotency(self):
        h = {"Idempotency-Key": "k-1"}
        a = self.post({"name": "idem"}, headers=h)
        self.assertEqual(a.status, 202, a)
        self.assertEqual(a.json["fleet"]["state"], "provisioning")
        self.assertNotIn("idempotencyKey", a.json["fleet"])
        b = self.post({"name": "idem"}, headers=h)
        self.assertEqual(b.status, 202, b)
        self.assertEqual(b.json["job"]["id"], a.json["job"]["id"])
        c = self.post({"name": "idem", "adopt": True}, headers=h)
        self.assertProblem(c, 422)
        self.assertProblem(self.post({"name": "idem"}), 409)

    def test_states_guard_the_other_routes(self):
        self.assertEqual(self.post({"name": "busy"}).status, 202)
        t = self.admin
        self.assertProblem(self.fw.request("GET", "/v1/fleets/busy/greengrass-config", token=t), 409)
        self.assertProblem(self.fw.request("DELETE", "/v1/fleets/busy", token=t), 409)
        self.assertProblem(self.fw.request("POST", "/v1/fleets/busy/reconcile", token=t), 409)
        self.assertProblem(self.fw.request("GET", "/v1/fleets/nope", token=t), 404)
        self.assertProblem(self.fw.request("GET", "/v1/fleets/bad%20name", token=t), 404)
        self.assertProblem(self.fw.request("GET", "/v1/fleets?cursor=!!", token=t), 400)
        r = self.fw.request("GET", "/v1/fleets/busy", token=t)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("ETag").startswith('"v'))
        self.assertProblem(self.fw.request("PATCH", "/v1/fleets/busy", token=t, body={"watch": {}},
                                           headers={"If-Match": '"v999"'}), 412)

    def test_webhook_secret_never_shown(self):
        w = {"webhook": {"url": "https://hooks.example.com/fw", "secret": "s3cr3t-s3cr3t-s3cr3t"}}
        r = self.post({"name": "hooked", "watch": w})
        self.assertEqual(r.status, 202, r)
        for resp in (r, self.fw.request("GET", "/v1/fleets/hooked", token=self.admin),
                     self.fw.request("GET", "/v1/fleets", token=self.admin)):
            self.assertNotIn(b"s3cr3t-s3cr3t-s3cr3t", resp.body)
        p = self.fw.request("PATCH", "/v1/fleets/hooked", token=self.admin, body={"watch": w})
        self.assertEqual(p.status, 200, p)
        self.assertNotIn(b"s3cr3t", p.body)

    def test_rotation_patch_checked(self):
        """PATCH checks rotation as POST does (any object was stored, and automatic rotation then
        never happened)."""
        self.assertEqual(self.post({"name": "rot"}).status, 202)
        for rot, field in (({"periodDays": "30"}, "rotation.periodDays"),
                           ({"periodDayz": 30}, "rotation.periodDayz"),
                           ({"periodDays": -1, "graceSeconds": "1h"}, "rotation.periodDays"),
                           ({"periodDays": 30, "graceSeconds": "1h"}, "rotation.graceSeconds")):
            with self.subTest(rot):
                r = self.fw.request("PATCH", "/v1/fleets/rot", token=self.admin, body={"rotation": rot})
                fields = [e["field"] for e in self.assertProblem(r, 400)["errors"]]
                self.assertIn(field, fields)
        good = {"periodDays": 2 / 86400, "graceSeconds": 0, "retentionSeconds": 60}
        r = self.fw.request("PATCH", "/v1/fleets/rot", token=self.admin, body={"rotation": good})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["settings"]["rotation"], good)
        r = self.fw.request("PATCH", "/v1/fleets/rot", token=self.admin, body={"rotation": {}})
        self.assertEqual((r.status, r.json["settings"]["rotation"]), (200, {}))

    def test_scopes(self):
        read = self.fw.token("read", "reader")
        self.assertProblem(self.fw.request("POST", "/v1/fleets", token=read, body=OK), 403)
        self.assertEqual(self.fw.request("GET", "/v1/fleets", token=read).status, 200)
        self.assertProblem(self.fw.request("GET", "/v1/fleets"), 401)


if __name__ == "__main__":
    unittest.main()
