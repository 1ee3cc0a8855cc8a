"""Templates (issue 6): the validator (table-driven, no AWS) and the template
routes and jobs against the AWS emulator, checked with the AWS CLI: create,
change, versions (at most five kept), default version, delete.
"""
import copy
import json
import unittest

import fleets_lib as fl
import harness

GOOD = fl.template_body()


def body(mut):
    b = copy.deepcopy(GOOD)
    mut(b)
    return b


def run_to(case, method, path, b, state, status=202):
    """Sends the request (answered status), waits for its job and checks it ended in state."""
    r = case.env.req(method, path, body=b)
    case.assertEqual(r.status, status, r)
    job = case.env.wait_job(r.json["job"]["id"])
    case.assertEqual(job["state"], state, job)
    return job


def res(b):
    return b["Resources"]


# (description, body or text, JSON pointer expected among errors, or None when valid)
VALIDATE = [
    ("the guide's body", GOOD, None),
    ("per-device policy document", body(lambda b: res(b)["MyPolicy"].update(
        {"Properties": {"PolicyDocument": json.dumps(fl.thing_policy())}})), None),
    ("not JSON", "{nope", ""),
    ("too long", json.dumps(body(lambda b: b.update({"Description": "x" * 10300}))), ""),
    ("not an object", [], ""),
    ("no Resources", {"Parameters": {}}, "/Resources"),
    ("no thing", body(lambda b: res(b).pop("MyThing")), "/Resources"),
    ("two things", body(lambda b: res(b).update({"Other": copy.deepcopy(res(b)["MyThing"])})), "/Resources"),
    ("thing without ThingName", body(lambda b: res(b)["MyThing"]["Properties"].pop("ThingName")),
     "/Resources/MyThing/Properties"),
    ("policy with name and document", body(lambda b: res(b)["MyPolicy"]["Properties"].update(
        {"PolicyDocument": json.dumps(fl.thing_policy())})), "/Resources/MyPolicy/Properties"),
    ("policy with neither", body(lambda b: res(b)["MyPolicy"].update({"Properties": {}})),
     "/Resources/MyPolicy/Properties"),
    ("policy document not a policy", body(lambda b: res(b)["MyPolicy"].update(
        {"Properties": {"PolicyDocument": "nope"}})), "/Resources/MyPolicy/Properties/PolicyDocument"),
    ("no policy", body(lambda b: res(b).pop("MyPolicy")), "/Resources"),
    ("no certificate", body(lambda b: res(b).pop("MyCertificate")), "/Resources"),
    ("certificate id not a Ref", body(lambda b: res(b)["MyCertificate"]["Properties"].update(
        {"CertificateId": "abc"})), "/Resources/MyCertificate/Properties/CertificateId"),
    ("certificate id Ref to another parameter", body(lambda b: res(b)["MyCertificate"]["Properties"].update(
        {"CertificateId": {"Ref": "ThingName"}})), "/Resources/MyCertificate/Properties/CertificateId"),
    ("certificate parameter not declared", body(lambda b: b["Parameters"].pop("AWS::IoT::Certificate::Id")),
     "/Parameters"),
    ("Ref to an undeclared parameter", body(lambda b: res(b)["MyThing"]["Properties"].update(
        {"ThingName": {"Ref": "Serial"}})), "/Resources/MyThing"),
    ("unsupported resource type", body(lambda b: res(b).update({"Bucket": {"Type": "AWS::S3::Bucket"}})),
     "/Resources/Bucket"),
    ("resource without a type", body(lambda b: res(b).update({"Odd": {"Properties": {}}})), "/Resources/Odd"),
]


class TemplateValidate(harness.ServiceTestCase):
    def test_validate_table(self):
        for desc, b, pointer in VALIDATE:
            with self.subTest(desc):
                r = self.fw.request("POST", "/v1/templates/validate", token=self.admin, body={"body": b})
                self.assertEqual(r.status, 200, r)
                v = r.json
                if pointer is None:
                    self.assertTrue(v["valid"], v)
                    self.assertEqual(v["errors"], [])
                else:
                    self.assertFalse(v["valid"], v)
                    self.assertIn(pointer, [e["pointer"] for e in v["errors"]], v)

    def test_warnings_and_whole_body(self):
        b = body(lambda b: (b["Parameters"].update({"Unused": {"Type": "String"}}),
                            res(b)["MyCertificate"]["Properties"].update({"Status": "Inactive"})))
        v = self.fw.request("POST", "/v1/templates/validate", token=self.admin, body=b).json
        self.assertTrue(v["valid"], v)
        self.assertEqual({w["pointer"] for w in v["warnings"]},
                         {"/Parameters/Unused", "/Resources/MyCertificate/Properties/Status"})

    def test_read_scope_may_validate(self):
        read = self.fw.token("read", "reader")
        r = self.fw.request("POST", "/v1/templates/validate", token=read, body={"body": GOOD})
        self.assertEqual(r.status, 200)
        self.assertProblem(self.fw.request("POST", "/v1/templates", token=read, body={}), 403)

    def test_create_refused_with_fields(self):
        bad = {"name": "x" * 37, "body": body(lambda b: res(b).pop("MyThing")), "provisioningRoleArn": "nope",
               "preProvisioningHook": "arn:aws:s3:::b", "description": "d" * 501, "enabled": 1, "color": "red"}
        p = self.assertProblem(self.fw.request("POST", "/v1/templates", token=self.admin, body=bad), 400)
        fields = {e["field"] for e in p["errors"]}
        self.assertTrue({"name", "body/Resources", "provisioningRoleArn", "preProvisioningHook", "description",
                         "enabled", "color"} <= fields, fields)


class TemplatesOnAws(unittest.TestCase):
    """A fleetwarden with its workers (ENV_VARS), the emulator and a provisioning role, for the
    whole class."""
    ENV_VARS = {}

    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv(env=dict(cls.ENV_VARS))
        role = cls.env.aws("iam", "create-role", "--role-name", "prov", "--assume-role-policy-document",
                           json.dumps(fl.prov_trust()))
        cls.role_arn = role["Role"]["Arn"]

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def run_job(self, method, path, b=None, status=202):
        return run_to(self, method, path, b, "succeeded", status)


class TemplateLifecycle(TemplatesOnAws):

    def test_lifecycle(self):
        self.run_job("POST", "/v1/templates", {"name": "t1", "body": GOOD, "provisioningRoleArn": self.role_arn,
                                                "description": "first"})
        t = self.env.req("GET", "/v1/templates/t1")
        self.assertEqual(t.json["state"], "ready", t)
        self.assertEqual(t.json["arn"], "arn:aws:iot:us-east-1:123456789012:provisioningtemplate/t1")
        self.assertEqual(self.env.req("POST", "/v1/templates", body={"name": "t1", "body": GOOD,
                                                                     "provisioningRoleArn": self.role_arn}).status, 409)
        self.run_job("PATCH", "/v1/templates/t1", {"enabled": False,
                                                   "preProvisioningHook": "arn:aws:lambda:us-east-1:123456789012:function:h"})
        aws = self.env.aws("iot", "describe-provisioning-template", "--template-name", "t1")
        self.assertFalse(aws["enabled"])
        self.assertEqual(aws["preProvisioningHook"]["targetArn"], "arn:aws:lambda:us-east-1:123456789012:function:h")
        for i in range(6):
            b = body(lambda b: res(b)["MyThing"]["Properties"].update({"AttributePayload": {"v": str(i)}}))
            self.run_job("POST", "/v1/templates/t1/versions", {"body": b})
        versions = self.env.aws("iot", "list-provisioning-template-versions", "--template-name", "t1")["versions"]
        self.assertEqual(len(versions), 5)
        # a non-default version makes room too (it died on VersionsLimitExceeded: AWS keeps five)
        b = body(lambda b: res(b)["MyThing"]["Properties"].update({"AttributePayload": {"v": "side"}}))
        self.run_job("POST", "/v1/templates/t1/versions", {"body": b, "setAsDefault": False})
        versions = self.env.aws("iot", "list-provisioning-template-versions", "--template-name", "t1")["versions"]
        self.assertEqual(len(versions), 5)
        self.assertEqual(sum(v["isDefaultVersion"] for v in versions), 1)
        self.assertEqual(len(self.env.req("GET", "/v1/templates/t1/versions").json["items"]), 5)
        oldest = min(v["versionId"] for v in versions)
        self.run_job("PUT", "/v1/templates/t1/default-version", {"versionId": oldest})
        aws = self.env.aws("iot", "describe-provisioning-template", "--template-name", "t1")
        self.assertEqual(aws["defaultVersionId"], oldest)
        bad = self.env.req("PUT", "/v1/templates/t1/default-version", body={"versionId": 0})
        self.assertEqual(bad.status, 400)
        # If-Match is honoured as on PATCH and DELETE (it was ignored: 202 on a stale ETag)
        stale = self.env.req("PUT", "/v1/templates/t1/default-version", body={"versionId": oldest},
                             headers={"If-Match": '"stale-etag"'})
        self.assertEqual(stale.status, 412, stale)
        self.run_job("DELETE", "/v1/templates/t1")
        self.assertEqual(self.env.req("GET", "/v1/templates/t1").status, 404)
        self.assertIsNone(self.env.aws("iot", "describe-provisioning-template", "--template-name", "t1", check=False))

    def run_dead(self, method, path, b=None):
        return run_to(self, method, path, b, "dead")

    def test_fleet_template_is_not_taken_over(self):
        """A template already at AWS (here fleet ft's) is not this API's: another role is a conflict
        and the record's DELETE leaves it; the same settings adopt it, and DELETE removes only the
        record (it took over any template with the same body, then deleted the fleet's)."""
        _, job = self.env.setup_fleet({"name": "ft"})
        self.assertEqual(job["state"], "succeeded", job)
        aws = self.env.aws("iot", "describe-provisioning-template", "--template-name", "ft-template")
        fleet_body = json.loads(aws["templateBody"])
        job = self.run_dead("POST", "/v1/templates", {"name": "ft-template", "body": fleet_body,
                                                       "provisioningRoleArn": self.role_arn})
        self.assertEqual(job["errors"][-1]["code"], "TemplateExists", job)
        t = self.env.req("GET", "/v1/templates/ft-template").json
        self.assertEqual(t["state"], "failed", t)
        self.assertIn("provisioningRoleArn differs", t["error"])
        self.assertIsNone(t["origin"])
        self.run_job("DELETE", "/v1/templates/ft-template")
        self.assertEqual(self.env.req("GET", "/v1/templates/ft-template").status, 404)
        after = self.env.aws("iot", "describe-provisioning-template", "--template-name", "ft-template")
        self.assertEqual(after["provisioningRoleArn"], aws["provisioningRoleArn"])
        # the very same settings: adopted, and its DELETE leaves the template at AWS
        self.run_job("POST", "/v1/templates", {"name": "ft-template", "body": fleet_body,
                                               "provisioningRoleArn": aws["provisioningRoleArn"]})
        t = self.env.req("GET", "/v1/templates/ft-template").json
        self.assertEqual((t["state"], t["origin"]), ("ready", "adopted"), t)
        # adopted, it is still the fleet's: no change through this API reaches AWS (they did)
        for method, path, body in (("PATCH", "", {"enabled": False}),
                                   ("POST", "/versions", {"body": GOOD, "setAsDefault": True}),
                                   ("PUT", "/default-version", {"versionId": 1})):
            r = self.env.req(method, "/v1/templates/ft-template" + path, body=body)
            self.assertEqual(r.status, 409, r)
            self.assertIn("fleet ft provisions with this template", r.json["detail"])
        now = self.env.aws("iot", "describe-provisioning-template", "--template-name", "ft-template")
        self.assertEqual((now["enabled"], now["defaultVersionId"]), (aws["enabled"], aws["defaultVersionId"]))
        self.run_job("DELETE", "/v1/templates/ft-template")
        self.assertIsNotNone(self.env.aws("iot", "describe-provisioning-template", "--template-name",
                                          "ft-template", check=False))
        self.assertEqual(self.env.fleet("ft")["state"], "ready")
        # a template this API made is not deleted while a fleet names it
        self.run_job("POST", "/v1/templates", {"name": "t-shared", "body": GOOD,
                                               "provisioningRoleArn": self.role_arn})
        self.assertEqual(self.env.req("GET", "/v1/templates/t-shared").json["origin"], "created")
        r, _ = self.env.setup_fleet({"name": "fs", "template": {"name": "t-shared"}})
        p = self.env.req("DELETE", "/v1/templates/t-shared")
        self.assertEqual(p.status, 409, p)
        self.assertIn("fleet fs", p.json["detail"])
        self.assertIsNotNone(self.env.aws("iot", "describe-provisioning-template", "--template-name",
                                          "t-shared", check=False))

    def test_default_version_typo(self):
        """A default version AWS refuses fails the job only (the template was marked failed though
        nothing changed at AWS)."""
        self.run_job("POST", "/v1/templates", {"name": "tv", "body": GOOD, "provisioningRoleArn": self.role_arn})
        job = self.run_dead("PUT", "/v1/templates/tv/default-version", {"versionId": 9})
        self.assertIn("9", job["errors"][-1]["message"])
        t = self.env.req("GET", "/v1/templates/tv").json
        self.assertEqual((t["state"], t["error"]), ("ready", None), t)

    def test_body_follows_default_version(self):
        """The record's body is the default version's (it stayed the first version's)."""
        self.run_job("POST", "/v1/templates", {"name": "tb", "body": GOOD, "provisioningRoleArn": self.role_arn})
        other = body(lambda b: res(b)["MyThing"]["Properties"].update({"AttributePayload": {"v": "2"}}))
        self.run_job("POST", "/v1/templates/tb/versions", {"body": other})
        t = self.env.req("GET", "/v1/templates/tb").json
        self.assertEqual(t["defaultVersionId"], 2)
        self.assertEqual(t["body"], other)
        self.run_job("PUT", "/v1/templates/tb/default-version", {"versionId": 1})
        self.assertEqual(self.env.req("GET", "/v1/templates/tb").json["body"], GOOD)


class TemplateRetries(TemplatesOnAws):
    """One AWS attempt per call (AWS_MAX_ATTEMPTS=1): a lost answer is retried by the job, which
    must find what the lost attempt made."""
    ENV_VARS = {"AWS_MAX_ATTEMPTS": "1", "FLEETWARDEN_RETRY_BASE_MS": "100"}

    def test_lost_create_answer(self):
        """The job's retry finds the template its lost attempt made: this record's (origin created),
        so its DELETE deletes it at AWS."""
        self.env.emu.control("POST", "faults", {"operation": "CreateProvisioningTemplate", "count": 1,
                                                "status": 500, "afterApply": True})
        self.run_job("POST", "/v1/templates", {"name": "tr", "body": GOOD, "provisioningRoleArn": self.role_arn})
        t = self.env.req("GET", "/v1/templates/tr").json
        self.assertEqual((t["state"], t.get("origin")), ("ready", "created"), t)
        self.run_job("DELETE", "/v1/templates/tr")
        self.assertIsNone(self.env.aws("iot", "describe-provisioning-template", "--template-name", "tr",
                                       check=False))

    def test_lost_version_answer(self):
        """A non-default version whose answer was lost is not made again by the job's retry."""
        self.run_job("POST", "/v1/templates", {"name": "tn", "body": GOOD, "provisioningRoleArn": self.role_arn})
        self.env.emu.control("POST", "faults", {"operation": "CreateProvisioningTemplateVersion", "count": 1,
                                                "status": 500, "afterApply": True})
        side = body(lambda b: b["Parameters"].update({"Extra": {"Type": "String"}}))
        job = self.run_job("POST", "/v1/templates/tn/versions", {"body": side, "setAsDefault": False})
        self.assertGreater(job["attempts"], 1, job)
        versions = self.env.aws("iot", "list-provisioning-template-versions", "--template-name", "tn")["versions"]
        self.assertEqual([(v["versionId"], v["isDefaultVersion"]) for v in versions], [(1, True), (2, False)])
        self.assertEqual(len(self.env.req("GET", "/v1/templates/tn/versions").json["items"]), 2)

if __name__ == "__main__":
    unittest.main()
