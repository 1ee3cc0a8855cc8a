"""Helpers for the fleet and template integration tests (issue 6).

FleetEnv: a Redis, the AWS emulator and fleetwarden serve (workers in
process), an admin token, the AWS CLI pointed at the emulator, and the
guide's documents written out independently of the C code under test.
"""
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import harness  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
SETUP_WRITES = {"CreateRole", "CreatePolicy", "CreatePolicyVersion", "AttachRolePolicy", "UpdateAssumeRolePolicy",
                "CreateRoleAlias", "UpdateRoleAlias", "CreateProvisioningTemplate", "UpdateProvisioningTemplate",
                "CreateProvisioningTemplateVersion", "CreateThingGroup", "DeletePolicyVersion",
                "DetachRolePolicy", "DeleteRole", "DeletePolicy", "DeleteRoleAlias",
                "DeleteProvisioningTemplate"}


class FleetEnv(harness.ApiHelpers):
    def __init__(self, env=None, emulator=None):
        """emulator: a harness.Emulator not yet started (default: one with the AWS-shaped endpoints)."""
        self.redis = harness.Redis().start()
        self.emu = (emulator or harness.Emulator()).start()
        self.env_extra = dict(env or {})
        self.fw = None
        self.start_fw()
        self.admin = self.fw.token("admin", "admin")

    def start_fw(self):
        env = self.emu.aws_env()
        env.update(self.env_extra)
        workdir = self.fw.dir if self.fw else None
        self.fw = harness.Fleetwarden(self.redis, env=env, args=("serve",), workdir=workdir).start()
        return self.fw

    def stop(self):
        code = None
        try:
            if self.fw:
                code = self.fw.stop()
        finally:
            self.emu.stop()
            self.redis.stop()
        if code not in (0, None):
            raise AssertionError("fleetwarden exited with %s (sanitizer finding?); log:\n%s"
                                 % (code, self.fw.logs()[-4000:]))

    def setup_fleet(self, body, timeout=60):
        r = self.req("POST", "/v1/fleets", body=body)
        assert r.status == 202, r
        job = self.wait_job(r.json["job"]["id"], timeout)
        return r, job

    def fleet(self, name):
        return self.req("GET", "/v1/fleets/" + name).json

    def calls(self):
        return self.emu.control("GET", "calls")["calls"]

    def clear_calls(self):
        self.emu.control("DELETE", "calls")

    def aws(self, *args, check=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": harness.EMU_AKID, "AWS_SECRET_ACCESS_KEY": harness.EMU_SECRET,
                    "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true"})
        p = subprocess.run(["aws", "--endpoint-url", self.emu.url, "--output", "json", *args], env=env,
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("aws %s failed: %s" % (" ".join(args), p.stderr))
        if p.returncode != 0:
            return None
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def iam_doc(self, text):
        """IAM answers policy documents URL-encoded (the CLI decodes some, not all)."""
        if isinstance(text, dict):
            return text
        return json.loads(urllib.parse.unquote(text))


def canon(doc, top=True):
    """Policy meaning: Statement as a list, string-or-list members as sorted lists, Sid dropped."""
    if top and isinstance(doc, str):
        doc = json.loads(doc)
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            if k == "Sid":
                continue
            if k == "Statement" and isinstance(v, dict):
                v = [v]
            if k in ("Action", "NotAction", "Resource", "NotResource", "Service") and isinstance(v, str):
                v = [v]
            out[k] = canon(v, False)
        return out
    if isinstance(doc, list):
        items = [canon(x, False) for x in doc]
        if all(isinstance(x, str) for x in items):
            return sorted(items)
        return items
    return doc


def tes_trust():
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "credentials.iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def tes_access(buckets=()):
    st = [{"Effect": "Allow",
           "Action": ["iot:DescribeCertificate", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                      "logs:DescribeLogStreams", "s3:GetBucketLocation"],
           "Resource": "*"}]
    if buckets:
        st.append({"Effect": "Allow", "Action": ["s3:GetObject"],
                   "Resource": ["arn:aws:s3:::%s/*" % b for b in buckets]})
    return {"Version": "2012-10-17", "Statement": st}


def thing_policy(alias="GreengrassCoreTokenExchangeRoleAlias"):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Subscribe", "iot:Receive", "iot:Connect", "greengrass:*"],
         "Resource": ["*"]},
        {"Effect": "Allow", "Action": ["iot:AssumeRoleWithCertificate"],
         "Resource": "arn:aws:iot:%s:%s:rolealias/%s" % (REGION, ACCOUNT, alias)}]}


def prov_trust():
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def template_body(policy_name="GreengrassV2IoTThingPolicy"):
    return {
        "Parameters": {"ThingName": {"Type": "String"}, "ThingGroupName": {"Type": "String"},
                       "AWS::IoT::Certificate::Id": {"Type": "String"}},
        "Resources": {
            # the Greengrass guide's values ("Set up AWS IoT fleet provisioning for Greengrass core
            # devices"): a re-provisioned device is put back into its thing group
            "MyThing": {"OverrideSettings": {"AttributePayload": "REPLACE", "ThingGroups": "REPLACE",
                                             "ThingTypeName": "REPLACE"},
                        "Properties": {"AttributePayload": {}, "ThingGroups": [{"Ref": "ThingGroupName"}],
                                       "ThingName": {"Ref": "ThingName"}},
                        "Type": "AWS::IoT::Thing"},
            "MyPolicy": {"Properties": {"PolicyName": policy_name}, "Type": "AWS::IoT::Policy"},
            "MyCertificate": {"Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
                                             "Status": "Active"},
                              "Type": "AWS::IoT::Certificate"}}}


def claim_policy(template, csr=False):
    arn = "arn:aws:iot:%s:%s:" % (REGION, ACCOUNT)
    topics = ["$aws/certificates/create/*", "$aws/provisioning-templates/%s/provision/*" % template]
    if csr:
        topics.append("$aws/certificates/create-from-csr/*")
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": [arn + "topic/" + t for t in topics]},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [arn + "topicfilter/" + t for t in topics]}]}
