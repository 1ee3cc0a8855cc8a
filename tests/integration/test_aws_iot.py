"""AWS IoT operations of aws/iot.c against the AWS emulator: role aliases,
policies and versions, certificates (keys, CSR, states), provisioning
templates and versions, thing groups, endpoints; success and error paths."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_aws_helpers import ACCOUNT, TEMPLATE_BODY, TRUST_IOT, AwsCase, iot_policy  # noqa: E402

ROLE_ARN = "arn:aws:iam::%s:role/GreengrassV2TokenExchangeRole" % ACCOUNT


def make_csr():
    d = tempfile.mkdtemp(prefix="fw-csr-")
    key, csr = os.path.join(d, "k.pem"), os.path.join(d, "c.csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=claim"], check=True, capture_output=True)
    return csr


class RoleAliases(AwsCase):
    def test_lifecycle(self):
        self.ok("iam.create-role", name="GreengrassV2TokenExchangeRole", doc=TRUST_IOT)
        out = self.ok("iot.create-role-alias", alias="GreengrassCoreTokenExchangeRoleAlias", role_arn=ROLE_ARN,
                      duration=3600)
        self.assertEqual(out["roleAlias"], "GreengrassCoreTokenExchangeRoleAlias")
        self.assertEqual(out["roleAliasArn"],
                         "arn:aws:iot:us-east-1:%s:rolealias/GreengrassCoreTokenExchangeRoleAlias" % ACCOUNT)
        self.fails("iot.create-role-alias", "ResourceAlreadyExistsException", "FW_ECONFLICT",
                   alias="GreengrassCoreTokenExchangeRoleAlias", role_arn=ROLE_ARN)
        got = self.ok("iot.describe-role-alias", alias="GreengrassCoreTokenExchangeRoleAlias")
        self.assertEqual(got["roleArn"], ROLE_ARN)
        self.assertEqual(got["credentialDurationSeconds"], 3600)
        # longer than the role's MaxSessionDuration (IAM's default 3600): refused, as AWS refuses it
        self.fails("iot.update-role-alias", "InvalidRequestException", "FW_EINVAL",
                   alias="GreengrassCoreTokenExchangeRoleAlias", duration=7200)
        self.ok("iam.update-role-max-session", name="GreengrassV2TokenExchangeRole", seconds=7200)
        call = self.emu.calls(operation="UpdateRole")[-1]
        self.assertEqual(call["parameters"], {"RoleName": "GreengrassV2TokenExchangeRole", "MaxSessionDuration": 7200})
        self.ok("iot.update-role-alias", alias="GreengrassCoreTokenExchangeRoleAlias", duration=7200)
        got = self.ok("iot.describe-role-alias", alias="GreengrassCoreTokenExchangeRoleAlias")
        self.assertEqual(got["credentialDurationSeconds"], 7200)
        self.ok("iot.delete-role-alias", alias="GreengrassCoreTokenExchangeRoleAlias")
        res = self.fails("iot.describe-role-alias", "ResourceNotFoundException", "FW_ENOTFOUND",
                         alias="GreengrassCoreTokenExchangeRoleAlias")
        self.assertEqual(res["error"]["httpStatus"], 404)

    def test_access_denied_mentions_pass_role_and_is_not_retried(self):
        self.emu.fault(operation="CreateRoleAlias", status=403, code="AccessDeniedException",
                       message="User is not authorized to perform: iam:PassRole")
        res = self.fails("iot.create-role-alias", "AccessDeniedException", None, alias="A", role_arn=ROLE_ARN)
        self.assertIn("iam:PassRole on the role given as roleArn", res["error"]["message"])
        self.assertEqual(res["attempts"], 1)
        self.assertEqual(res["sleeps"], [])
        self.assertEqual(len(self.emu.calls(operation="CreateRoleAlias")), 1)


class Policies(AwsCase):
    def test_lifecycle_and_versions(self):
        out = self.ok("iot.create-policy", name="GreengrassV2IoTThingPolicy", doc=iot_policy(1))
        self.assertEqual(out["policyArn"], "arn:aws:iot:us-east-1:%s:policy/GreengrassV2IoTThingPolicy" % ACCOUNT)
        self.assertEqual(out["defaultVersionId"], "1")
        self.fails("iot.create-policy", "ResourceAlreadyExistsException", "FW_ECONFLICT",
                   name="GreengrassV2IoTThingPolicy", doc=iot_policy(1))
        got = self.ok("iot.get-policy", name="GreengrassV2IoTThingPolicy")
        self.assertEqual(json.loads(got["policyDocument"]), json.loads(iot_policy(1)))
        for i in range(2, 6):
            v = self.ok("iot.create-policy-version", name="GreengrassV2IoTThingPolicy", doc=iot_policy(i),
                        default=1)
            self.assertEqual(v["versionId"], str(i))
            self.assertTrue(v["isDefaultVersion"])
        res = self.fails("iot.create-policy-version", "VersionsLimitExceededException", "FW_ECONFLICT",
                         name="GreengrassV2IoTThingPolicy", doc=iot_policy(6))
        self.assertEqual(res["error"]["class"], "limit")
        self.assertIn("five versions is the limit", res["error"]["message"])
        self.assertIn("delete the oldest non-default version", res["error"]["message"])
        self.assertEqual(res["attempts"], 1)
        versions = self.ok("iot.list-policy-versions", name="GreengrassV2IoTThingPolicy")["versions"]
        self.assertEqual(sorted(v["versionId"] for v in versions), ["1", "2", "3", "4", "5"])
        self.assertEqual([v["versionId"] for v in versions if v["isDefaultVersion"]], ["5"])
        self.fails("iot.delete-policy-version", "DeleteConflictException", "FW_ECONFLICT",
                   name="GreengrassV2IoTThingPolicy", version="5")
        self.ok("iot.delete-policy-version", name="GreengrassV2IoTThingPolicy", version="1")
        self.ok("iot.create-policy-version", name="GreengrassV2IoTThingPolicy", doc=iot_policy(7))
        res = self.fails("iot.delete-policy", "DeleteConflictException", "FW_ECONFLICT",
                         name="GreengrassV2IoTThingPolicy")
        self.assertIn("4 non-default version(s)", res["error"]["message"])
        for v in ("2", "3", "4", "6"):
            self.ok("iot.delete-policy-version", name="GreengrassV2IoTThingPolicy", version=v)
        self.ok("iot.delete-policy", name="GreengrassV2IoTThingPolicy")
        self.fails("iot.get-policy", "ResourceNotFoundException", "FW_ENOTFOUND", name="GreengrassV2IoTThingPolicy")

    def test_attach_targets_and_delete_conflict_names_target(self):
        self.ok("iot.create-policy", name="ClaimPolicy", doc=iot_policy())
        cert = self.ok("iot.create-keys-and-certificate", active=1)
        self.ok("iot.attach-policy", name="ClaimPolicy", target=cert["certificateArn"])
        targets = self.ok("iot.list-targets-for-policy", name="ClaimPolicy")["targets"]
        self.assertEqual(targets, [cert["certificateArn"]])
        res = self.fails("iot.delete-policy", "DeleteConflictException", "FW_ECONFLICT", name="ClaimPolicy")
        self.assertIn("still attached to 1 target(s), first %s" % cert["certificateArn"], res["error"]["message"])
        self.ok("iot.detach-policy", name="ClaimPolicy", target=cert["certificateArn"])
        self.assertEqual(self.ok("iot.list-targets-for-policy", name="ClaimPolicy")["targets"], [])
        self.ok("iot.delete-policy", name="ClaimPolicy")
        self.fails("iot.list-targets-for-policy", "ResourceNotFoundException", "FW_ENOTFOUND", name="ClaimPolicy")

    def test_path_labels_are_encoded(self):
        name = "fleet+a=b,c.d@e-f_g"
        self.ok("iot.create-policy", name=name, doc=iot_policy())
        got = self.ok("iot.get-policy", name=name)
        self.assertEqual(got["policyName"], name)
        call = self.emu.calls(operation="GetPolicy")[-1]
        self.assertEqual(call["path"], "/policies/fleet%2Ba%3Db%2Cc.d%40e-f_g")
        self.assertEqual(call["signature"], "valid")
        self.ok("iot.create-policy-version", name=name, doc=iot_policy(2), default=1)
        self.ok("iot.delete-policy-version", name=name, version="1")
        self.ok("iot.delete-policy", name=name)


class Certificates(AwsCase):
    def test_keys_and_certificate_lifecycle(self):
        cert = self.call("iot.create-keys-and-certificate", active=1)
        self.assertTrue(cert["ok"], cert)
        out = cert["out"]
        self.assertTrue(out["hasCertificatePem"])
        self.assertTrue(out["hasPublicKey"])
        self.assertRegex(out["privateKeyFirstLine"], r"^-----BEGIN (RSA )?PRIVATE KEY-----$")
        self.assertGreater(out["privateKeyLength"], 800)
        self.assertEqual(len(out["certificateId"]), 64)
        cid = out["certificateId"]
        call = self.emu.calls(operation="CreateKeysAndCertificate")[-1]
        self.assertEqual(call["path"], "/keys-and-certificate")
        got = self.ok("iot.describe-certificate", id=cid)
        self.assertEqual(got["status"], "ACTIVE")
        self.assertNotIn("privateKeyFirstLine", got)
        res = self.fails("iot.delete-certificate", "CertificateStateException", "FW_ECONFLICT", id=cid)
        self.assertIn("set the certificate INACTIVE before deleting it", res["error"]["message"])
        self.assertEqual(res["attempts"], 1)
        self.ok("iot.update-certificate", id=cid, status="INACTIVE")
        self.ok("iot.update-certificate", id=cid, status="INACTIVE")  # idempotent
        self.assertEqual(self.ok("iot.describe-certificate", id=cid)["status"], "INACTIVE")
        self.ok("iot.delete-certificate", id=cid)
        self.fails("iot.describe-certificate", "ResourceNotFoundException", "FW_ENOTFOUND", id=cid)

    def test_certificate_from_csr_and_list(self):
        csr = make_csr()
        out = self.ok("iot.create-certificate-from-csr", csr="@" + csr, active=1)
        self.assertTrue(out["hasCertificatePem"])
        self.assertNotIn("privateKeyFirstLine", out)
        call = self.emu.calls(operation="CreateCertificateFromCsr")[-1]
        self.assertEqual(call["path"], "/certificates")
        self.assertEqual(call["parameters"].get("setAsActive"), True)
        inactive = self.ok("iot.create-certificate-from-csr", csr="@" + csr, active=0)
        self.assertEqual(self.ok("iot.describe-certificate", id=inactive["certificateId"])["status"], "INACTIVE")
        listed = self.ok("iot.list-certificates")["certificates"]
        self.assertEqual(sorted(c["certificateId"] for c in listed),
                         sorted([out["certificateId"], inactive["certificateId"]]))
        self.fails("iot.create-certificate-from-csr", "InvalidRequestException", "FW_EINVAL", csr="not a csr")

    def test_list_certificates_pages_to_the_end(self):
        csr = make_csr()
        res = self.call("iot.create-certificate-from-csr", csr="@" + csr, active=0, repeat=260)
        self.assertTrue(res["ok"], res)
        self.emu.control("DELETE", "calls")
        listed = self.ok("iot.list-certificates")["certificates"]
        self.assertEqual(len(listed), 260)
        self.assertEqual(len({c["certificateId"] for c in listed}), 260)
        calls = self.emu.calls(operation="ListCertificates")
        self.assertEqual(len(calls), 2)
        self.assertNotIn("marker", calls[0]["parameters"])
        self.assertIn("marker", calls[1]["parameters"])
        self.assertEqual(calls[1]["parameters"]["pageSize"], 250)

    def test_list_certificates_since_reads_newest_first(self):
        csr = make_csr()
        self.emu.control("POST", "clock", {"offsetSeconds": -600})
        try:
            self.assertTrue(self.call("iot.create-certificate-from-csr", csr="@" + csr, active=0, repeat=260)["ok"])
        finally:
            self.emu.control("POST", "clock", {"offsetSeconds": 0})
        new = self.ok("iot.create-certificate-from-csr", csr="@" + csr, active=0)["certificateId"]
        self.emu.control("DELETE", "calls")
        listed = self.ok("iot.list-certificates", since=str(time.time() - 300))["certificates"]
        self.assertEqual([c["certificateId"] for c in listed], [new])
        calls = self.emu.calls(operation="ListCertificates")
        self.assertEqual(len(calls), 1, "the first page already reaches older certificates")
        self.assertIs(calls[0]["parameters"]["ascendingOrder"], False)

    def test_attached_certificate_delete_conflict(self):
        self.ok("iot.create-policy", name="P", doc=iot_policy())
        cert = self.ok("iot.create-keys-and-certificate", active=0)
        self.ok("iot.attach-policy", name="P", target=cert["certificateArn"])
        res = self.fails("iot.delete-certificate", "DeleteConflictException", "FW_ECONFLICT",
                         id=cert["certificateId"])
        self.assertIn("detach", res["error"]["message"])
        self.ok("iot.delete-certificate", id=cert["certificateId"], force=1)


class Templates(AwsCase):
    def setUp(self):
        super().setUp()
        self.role = self.ok("iam.create-role", name="GreengrassFleetProvisioningRole", doc=TRUST_IOT)["arn"]

    def test_lifecycle_and_versions(self):
        out = self.ok("iot.create-provisioning-template", name="GreengrassFleetProvisioningTemplate",
                      body=TEMPLATE_BODY, role_arn=self.role, description="fleet", enabled=1)
        self.assertEqual(out["templateName"], "GreengrassFleetProvisioningTemplate")
        self.assertTrue(out["templateArn"].endswith(":provisioningtemplate/GreengrassFleetProvisioningTemplate"))
        self.assertEqual(out["defaultVersionId"], 1)
        self.fails("iot.create-provisioning-template", "ResourceAlreadyExistsException", "FW_ECONFLICT",
                   name="GreengrassFleetProvisioningTemplate", body=TEMPLATE_BODY, role_arn=self.role)
        got = self.ok("iot.describe-provisioning-template", name="GreengrassFleetProvisioningTemplate")
        self.assertEqual(json.loads(got["templateBody"]), json.loads(TEMPLATE_BODY))
        self.assertEqual(got["provisioningRoleArn"], self.role)
        self.assertTrue(got["enabled"])
        self.assertEqual(got["description"], "fleet")
        self.ok("iot.update-provisioning-template", name="GreengrassFleetProvisioningTemplate", enabled=0,
                description="paused")
        got = self.ok("iot.describe-provisioning-template", name="GreengrassFleetProvisioningTemplate")
        self.assertFalse(got["enabled"])
        self.assertEqual(got["description"], "paused")
        v = self.ok("iot.create-provisioning-template-version", name="GreengrassFleetProvisioningTemplate",
                    body=TEMPLATE_BODY, default=1)
        self.assertEqual(v["versionId"], 2)
        self.assertTrue(v["isDefaultVersion"])
        versions = self.ok("iot.list-provisioning-template-versions",
                           name="GreengrassFleetProvisioningTemplate")["versions"]
        self.assertEqual(sorted(x["versionId"] for x in versions), [1, 2])
        self.fails("iot.delete-provisioning-template-version", "DeleteConflictException", "FW_ECONFLICT",
                   name="GreengrassFleetProvisioningTemplate", version=2)
        self.ok("iot.delete-provisioning-template-version", name="GreengrassFleetProvisioningTemplate", version=1)
        self.ok("iot.update-provisioning-template", name="GreengrassFleetProvisioningTemplate", enabled=1)
        for _ in range(4):
            self.ok("iot.create-provisioning-template-version", name="GreengrassFleetProvisioningTemplate",
                    body=TEMPLATE_BODY)
        res = self.fails("iot.create-provisioning-template-version", "VersionsLimitExceededException",
                         "FW_ECONFLICT", name="GreengrassFleetProvisioningTemplate", body=TEMPLATE_BODY)
        self.assertIn("five versions is the limit", res["error"]["message"])
        names = [t["templateName"] for t in self.ok("iot.list-provisioning-templates")["templates"]]
        self.assertEqual(names, ["GreengrassFleetProvisioningTemplate"])
        self.ok("iot.delete-provisioning-template", name="GreengrassFleetProvisioningTemplate")
        self.fails("iot.describe-provisioning-template", "ResourceNotFoundException", "FW_ENOTFOUND",
                   name="GreengrassFleetProvisioningTemplate")
        self.fails("iot.delete-provisioning-template", "ResourceNotFoundException", "FW_ENOTFOUND",
                   name="GreengrassFleetProvisioningTemplate")

    def test_hook(self):
        hook = "arn:aws:lambda:us-east-1:%s:function:pre-provision" % ACCOUNT
        self.ok("iot.create-provisioning-template", name="Hooked", body=TEMPLATE_BODY, role_arn=self.role, hook=hook)
        got = self.ok("iot.describe-provisioning-template", name="Hooked")
        self.assertEqual(got["hookTargetArn"], hook)
        call = self.emu.calls(operation="CreateProvisioningTemplate")[-1]
        self.assertEqual(call["parameters"]["preProvisioningHook"],
                         {"targetArn": hook, "payloadVersion": "2020-04-01"})
        self.ok("iot.update-provisioning-template", name="Hooked", remove_hook=1)
        self.assertIsNone(self.ok("iot.describe-provisioning-template", name="Hooked")["hookTargetArn"])

    def test_list_pages_to_the_end(self):
        for i in range(4):
            self.ok("iot.create-provisioning-template", name="T%d" % i, body=TEMPLATE_BODY, role_arn=self.role)
        names = sorted(t["templateName"] for t in self.ok("iot.list-provisioning-templates")["templates"])
        self.assertEqual(names, ["T0", "T1", "T2", "T3"])

    def test_invalid_name(self):
        res = self.fails("iot.create-provisioning-template", "InvalidRequestException", "FW_EINVAL",
                         name="x" * 37, body=TEMPLATE_BODY, role_arn=self.role)
        self.assertEqual(res["attempts"], 1)


class ThingGroupsAndEndpoints(AwsCase):
    def test_thing_groups(self):
        self.fails("iot.describe-thing-group", "ResourceNotFoundException", "FW_ENOTFOUND", name="Fleet")
        out = self.ok("iot.create-thing-group", name="Fleet", description="all cores")
        self.assertTrue(out["thingGroupArn"].endswith(":thinggroup/Fleet"))
        self.ok("iot.create-thing-group", name="Child", parent="Fleet")
        got = self.ok("iot.describe-thing-group", name="Child")
        self.assertEqual(got["parentGroupName"], "Fleet")
        self.assertEqual(self.ok("iot.describe-thing-group", name="Fleet")["description"], "all cores")

    def boto_iot(self):
        import botocore.session
        from test_aws_helpers import AKID, SECRET
        return botocore.session.get_session().create_client(
            "iot", endpoint_url=self.emu.url, region_name="us-east-1", aws_access_key_id=AKID,
            aws_secret_access_key=SECRET)

    def test_delete_thing_group(self):
        self.ok("iot.create-thing-group", name="Gone")
        self.ok("iot.create-thing-group", name="Kid", parent="Gone")
        res = self.fails("iot.delete-thing-group", "InvalidRequestException", "FW_EINVAL", name="Gone")
        self.assertIn("child groups", res["error"]["message"])
        self.assertEqual(res["attempts"], 1)
        res = self.fails("iot.delete-thing-group", "VersionConflictException", "FW_ECONFLICT", name="Kid",
                         expected_version=2)
        self.assertEqual(res["error"]["httpStatus"], 409)
        self.ok("iot.delete-thing-group", name="Kid", expected_version=1)
        self.ok("iot.delete-thing-group", name="Gone")
        self.fails("iot.describe-thing-group", "ResourceNotFoundException", "FW_ENOTFOUND", name="Gone")
        self.ok("iot.delete-thing-group", name="Gone")   # AWS answers 200 for a group that is not there
        calls = self.emu.calls(operation="DeleteThingGroup")
        self.assertEqual([(c["method"], c["parameters"]) for c in calls[1:3]],
                         [("DELETE", {"thingGroupName": "Kid", "expectedVersion": 2}),
                          ("DELETE", {"thingGroupName": "Kid", "expectedVersion": 1})])

    def test_list_things_in_thing_group_pages(self):
        iot = self.boto_iot()
        iot.create_thing_group(thingGroupName="Big")
        iot.create_thing_group(thingGroupName="BigSub", parentGroupName="Big")
        names = ["core-%03d" % i for i in range(260)]
        for n in names:
            iot.create_thing(thingName=n)
            iot.add_thing_to_thing_group(thingGroupName="Big", thingName=n)
        iot.create_thing(thingName="sub-core")
        iot.add_thing_to_thing_group(thingGroupName="BigSub", thingName="sub-core")
        self.emu.control("DELETE", "calls")
        self.assertEqual(sorted(self.ok("iot.list-things-in-thing-group", name="Big")["things"]), names)
        calls = self.emu.calls(operation="ListThingsInThingGroup")
        self.assertEqual(len(calls), 2)
        self.assertEqual(calls[0]["parameters"], {"thingGroupName": "Big", "maxResults": 250})
        self.assertEqual(calls[1]["parameters"]["nextToken"], "250")
        got = self.ok("iot.list-things-in-thing-group", name="Big", recursive=1)["things"]
        self.assertEqual(sorted(got), names + ["sub-core"])
        # max stops paging once that many are in: one page of 250
        self.emu.control("DELETE", "calls")
        self.assertEqual(len(self.ok("iot.list-things-in-thing-group", name="Big", max=100)["things"]), 250)
        self.assertEqual(len(self.emu.calls(operation="ListThingsInThingGroup")), 1)
        self.assertEqual(self.ok("iot.list-things-in-thing-group", name="BigSub")["things"], ["sub-core"])
        self.fails("iot.list-things-in-thing-group", "ResourceNotFoundException", "FW_ENOTFOUND", name="Nope")

    def test_describe_endpoint(self):
        data = self.ok("iot.describe-endpoint", type="iot:Data-ATS")["endpointAddress"]
        cred = self.ok("iot.describe-endpoint", type="iot:CredentialProvider")["endpointAddress"]
        self.assertRegex(data, r"^[a-z0-9]+-ats\.iot\.us-east-1\.amazonaws\.com$")
        self.assertRegex(cred, r"\.credentials\.iot\.us-east-1\.amazonaws\.com$")
        call = self.emu.calls(operation="DescribeEndpoint")[-1]
        self.assertEqual(call["method"], "GET")
        self.assertEqual(call["parameters"], {"endpointType": "iot:CredentialProvider"})


if __name__ == "__main__":
    unittest.main()
