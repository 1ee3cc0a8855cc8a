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


class TemplateLifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = fl.FleetEnv()
        role = cls.env.aws("iam", "create-role", "--role-name", "prov", "--assume-role-policy-document",
                           json.dumps(fl.prov_trust()))
        cls.role_arn = role["Role"]["Arn"]

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def run_job(self, method, path, b=None, status=202):
        r = self.env.req(method, path, body=b)
        self.assertEqual(r.status, status, r)
        job = self.env.wait_job(r.json["job"]["id"])
        self.assertEqual(job["state"], "succeeded", job)
        return job

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


if __name__ == "__main__":
    unittest.main()
