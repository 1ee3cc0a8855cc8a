"""The same operation sent by our C client (aws-ops-probe) and by the AWS CLI
(Debian awscli 2.x, `aws --endpoint-url ...`) reaches the AWS emulator as the
same method, path and parameters, as the emulator records them
(GET /__emu/calls). Both sides start from a reset emulator and the same
setup; generated ids (certificate ids) are replaced by placeholders."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_aws_helpers import ACCOUNT, TEMPLATE_BODY, TRUST_IOT, AwsCase, iot_policy  # noqa: E402

AWS_CLI = "/usr/bin/aws"
ROLE_ARN = "arn:aws:iam::%s:role/ParityRole" % ACCOUNT
POLICY_ARN = "arn:aws:iam::%s:policy/ParityPolicy" % ACCOUNT
START, END = 1795838400, 1795842000
QUERIES = [{"id": "q0", "namespace": "AWS/IoT", "metric": "RegisterThingFailed", "dims": {"TemplateName": "t1"},
            "period": 300, "stat": "Sum"}]
CLI_QUERIES = [{"Id": "q0", "MetricStat": {"Metric": {"Namespace": "AWS/IoT", "MetricName": "RegisterThingFailed",
                                                       "Dimensions": [{"Name": "TemplateName", "Value": "t1"}]},
                                            "Period": 300, "Stat": "Sum"}}]


@unittest.skipUnless(os.path.exists(AWS_CLI), "the AWS CLI is not installed")
class CliParity(AwsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="fw-parity-")
        cls.csr = os.path.join(cls.tmp, "c.csr")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", os.path.join(cls.tmp, "k.pem"), "-out", cls.csr, "-subj", "/CN=p"],
                       check=True, capture_output=True)
        cls.queries = os.path.join(cls.tmp, "q.json")
        with open(cls.queries, "w") as f:
            json.dump(QUERIES, f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def cli(self, *argv):
        env = self.emu.env(AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
        p = subprocess.run([AWS_CLI, "--endpoint-url", self.emu.url, "--output", "json", *argv], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, "aws %s: %s" % (" ".join(argv), p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def recorded(self, operation, subs):
        calls = [c for c in self.emu.calls() if c["operation"] == operation]
        self.assertTrue(calls, "no %s call recorded" % operation)
        c = calls[0]
        text = json.dumps({"method": c["method"], "path": c["path"], "parameters": c["parameters"],
                           "service": c["service"], "signature": c["signature"], "status": c["status"]},
                          sort_keys=True)
        for value, name in subs.items():
            text = text.replace(value, name)
        return json.loads(text)

    def side(self, setup, run, operation):
        self.emu.reset()
        subs = setup() if setup else {}
        self.emu.control("DELETE", "calls")
        run(subs)
        return self.recorded(operation, subs)

    def parity(self, operation, ours, cli, setup=None):
        """ours: (op, args with {NAME} placeholders); cli: argv list with the same placeholders."""
        def fill(s, subs):
            for value, name in subs.items():
                s = s.replace(name, value)
            return s

        def run_ours(subs):
            op, args = ours
            self.ok(op, **{k: fill(str(v), subs) for k, v in args.items()})

        def run_cli(subs):
            self.cli(*[fill(a, subs) for a in cli])

        a = self.side(setup, run_ours, operation)
        b = self.side(setup, run_cli, operation)
        self.assertEqual(a, b)
        self.assertEqual(a["signature"], "valid")
        self.assertEqual(a["status"], 200)
        return a

    # -- setups (run through our client; both sides get the same state)

    def setup_role_and_policy(self):
        self.ok("iam.create-role", name="ParityRole", doc=TRUST_IOT)
        self.ok("iam.create-policy", name="ParityPolicy", doc=iot_policy())
        return {}

    def setup_iot_policy(self):
        self.ok("iot.create-policy", name="ParityIot", doc=iot_policy())
        self.ok("iot.create-policy-version", name="ParityIot", doc=iot_policy(2), default=1)
        return {}

    def setup_cert(self):
        cert = self.ok("iot.create-keys-and-certificate", active=1)
        self.ok("iot.create-policy", name="ParityIot", doc=iot_policy())
        return {cert["certificateId"]: "{CERT}", cert["certificateArn"]: "{CERTARN}"}

    def setup_template(self):
        self.ok("iam.create-role", name="ParityRole", doc=TRUST_IOT)
        self.ok("iot.create-provisioning-template", name="ParityTemplate", body=TEMPLATE_BODY, role_arn=ROLE_ARN)
        return {}

    # -- STS / IAM (query protocol)

    def test_sts_get_caller_identity(self):
        self.parity("GetCallerIdentity", ("sts.get-caller-identity", {}), ["sts", "get-caller-identity"])

    def test_iam_create_role(self):
        self.parity("CreateRole", ("iam.create-role", {"name": "ParityRole", "doc": TRUST_IOT, "description": "d e"}),
                    ["iam", "create-role", "--role-name", "ParityRole", "--assume-role-policy-document", TRUST_IOT,
                     "--description", "d e"])

    def test_iam_create_policy(self):
        self.parity("CreatePolicy", ("iam.create-policy", {"name": "ParityPolicy", "doc": iot_policy()}),
                    ["iam", "create-policy", "--policy-name", "ParityPolicy", "--policy-document", iot_policy()])

    def test_iam_attach_role_policy(self):
        self.parity("AttachRolePolicy", ("iam.attach-role-policy", {"name": "ParityRole", "arn": POLICY_ARN}),
                    ["iam", "attach-role-policy", "--role-name", "ParityRole", "--policy-arn", POLICY_ARN],
                    setup=self.setup_role_and_policy)

    def test_iam_list_policy_versions(self):
        self.parity("ListPolicyVersions", ("iam.list-policy-versions", {"arn": POLICY_ARN}),
                    ["iam", "list-policy-versions", "--policy-arn", POLICY_ARN], setup=self.setup_role_and_policy)

    def test_iam_create_policy_version(self):
        self.parity("CreatePolicyVersion",
                    ("iam.create-policy-version", {"arn": POLICY_ARN, "doc": iot_policy(3), "default": 1}),
                    ["iam", "create-policy-version", "--policy-arn", POLICY_ARN, "--policy-document", iot_policy(3),
                     "--set-as-default"], setup=self.setup_role_and_policy)

    def test_iam_get_role(self):
        self.parity("GetRole", ("iam.get-role", {"name": "ParityRole"}), ["iam", "get-role", "--role-name", "ParityRole"],
                    setup=self.setup_role_and_policy)

    # -- IoT (rest-json)

    def test_iot_create_policy_with_encoded_name(self):
        a = self.parity("CreatePolicy", ("iot.create-policy", {"name": "parity+a=b,c@d", "doc": iot_policy()}),
                        ["iot", "create-policy", "--policy-name", "parity+a=b,c@d", "--policy-document", iot_policy()])
        self.assertEqual(a["path"], "/policies/parity%2Ba%3Db%2Cc%40d")

    def test_iot_create_policy_version(self):
        self.parity("CreatePolicyVersion",
                    ("iot.create-policy-version", {"name": "ParityIot", "doc": iot_policy(5), "default": 1}),
                    ["iot", "create-policy-version", "--policy-name", "ParityIot", "--policy-document", iot_policy(5),
                     "--set-as-default"], setup=self.setup_iot_policy)

    def test_iot_delete_policy_version(self):
        self.parity("DeletePolicyVersion", ("iot.delete-policy-version", {"name": "ParityIot", "version": "1"}),
                    ["iot", "delete-policy-version", "--policy-name", "ParityIot", "--policy-version-id", "1"],
                    setup=self.setup_iot_policy)

    def test_iot_create_keys_and_certificate(self):
        self.parity("CreateKeysAndCertificate", ("iot.create-keys-and-certificate", {"active": 1}),
                    ["iot", "create-keys-and-certificate", "--set-as-active"])

    def test_iot_create_certificate_from_csr(self):
        self.parity("CreateCertificateFromCsr", ("iot.create-certificate-from-csr", {"csr": "@" + self.csr, "active": 1}),
                    ["iot", "create-certificate-from-csr", "--certificate-signing-request", "file://" + self.csr,
                     "--set-as-active"])

    def test_iot_update_certificate(self):
        self.parity("UpdateCertificate", ("iot.update-certificate", {"id": "{CERT}", "status": "INACTIVE"}),
                    ["iot", "update-certificate", "--certificate-id", "{CERT}", "--new-status", "INACTIVE"],
                    setup=self.setup_cert)

    def test_iot_attach_policy(self):
        self.parity("AttachPolicy", ("iot.attach-policy", {"name": "ParityIot", "target": "{CERTARN}"}),
                    ["iot", "attach-policy", "--policy-name", "ParityIot", "--target", "{CERTARN}"],
                    setup=self.setup_cert)

    def test_iot_list_targets_for_policy(self):
        self.parity("ListTargetsForPolicy", ("iot.list-targets-for-policy", {"name": "ParityIot"}),
                    ["iot", "list-targets-for-policy", "--policy-name", "ParityIot", "--page-size", "250"],
                    setup=self.setup_cert)

    def test_iot_list_certificates(self):
        self.parity("ListCertificates", ("iot.list-certificates", {}),
                    ["iot", "list-certificates", "--page-size", "250"], setup=self.setup_cert)

    def test_iot_describe_endpoint(self):
        self.parity("DescribeEndpoint", ("iot.describe-endpoint", {"type": "iot:Data-ATS"}),
                    ["iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS"])

    def test_iot_create_role_alias(self):
        self.parity("CreateRoleAlias",
                    ("iot.create-role-alias", {"alias": "ParityAlias", "role_arn": ROLE_ARN, "duration": 3600}),
                    ["iot", "create-role-alias", "--role-alias", "ParityAlias", "--role-arn", ROLE_ARN,
                     "--credential-duration-seconds", "3600"], setup=self.setup_role_and_policy)

    def test_iot_create_provisioning_template(self):
        self.parity("CreateProvisioningTemplate",
                    ("iot.create-provisioning-template", {"name": "ParityTemplate", "body": TEMPLATE_BODY,
                                                          "role_arn": ROLE_ARN, "enabled": 1, "description": "x"}),
                    ["iot", "create-provisioning-template", "--template-name", "ParityTemplate", "--template-body",
                     TEMPLATE_BODY, "--provisioning-role-arn", ROLE_ARN, "--enabled", "--description", "x"],
                    setup=self.setup_role_and_policy)

    def test_iot_update_provisioning_template(self):
        self.parity("UpdateProvisioningTemplate",
                    ("iot.update-provisioning-template", {"name": "ParityTemplate", "enabled": 0}),
                    ["iot", "update-provisioning-template", "--template-name", "ParityTemplate", "--no-enabled"],
                    setup=self.setup_template)

    def test_iot_list_provisioning_templates(self):
        self.parity("ListProvisioningTemplates", ("iot.list-provisioning-templates", {}),
                    ["iot", "list-provisioning-templates", "--page-size", "250"], setup=self.setup_template)

    def test_iot_create_thing_group(self):
        self.parity("CreateThingGroup", ("iot.create-thing-group", {"name": "ParityGroup", "description": "g"}),
                    ["iot", "create-thing-group", "--thing-group-name", "ParityGroup", "--thing-group-properties",
                     json.dumps({"thingGroupDescription": "g"})])

    def setup_group_with_things(self):
        self.ok("iot.create-thing-group", name="ParityGroup")
        self.ok("iot.create-thing-group", name="ParityChild", parent="ParityGroup")
        self.cli("iot", "create-thing", "--thing-name", "parity-core")
        self.cli("iot", "add-thing-to-thing-group", "--thing-group-name", "ParityChild", "--thing-name",
                 "parity-core")
        return {}

    def test_iot_delete_thing_group(self):
        a = self.parity("DeleteThingGroup", ("iot.delete-thing-group", {"name": "ParityChild", "expected_version": 1}),
                        ["iot", "delete-thing-group", "--thing-group-name", "ParityChild", "--expected-version", "1"],
                        setup=self.setup_group_with_things)
        self.assertEqual(a["method"], "DELETE")

    def test_iot_list_things_in_thing_group(self):
        a = self.parity("ListThingsInThingGroup",
                        ("iot.list-things-in-thing-group", {"name": "ParityGroup", "recursive": 1}),
                        ["iot", "list-things-in-thing-group", "--thing-group-name", "ParityGroup", "--recursive",
                         "--page-size", "250"], setup=self.setup_group_with_things)
        self.assertEqual(a["parameters"]["recursive"], True)

    # -- CloudWatch (query protocol, nested lists)

    def test_cloudwatch_get_metric_data(self):
        self.parity("GetMetricData",
                    ("cloudwatch.get-metric-data", {"queries": "@" + self.queries, "start": START, "end": END}),
                    ["cloudwatch", "get-metric-data", "--metric-data-queries", json.dumps(CLI_QUERIES),
                     "--start-time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START)),
                     "--end-time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(END))])

    def test_cloudwatch_list_metrics(self):
        self.parity("ListMetrics",
                    ("cloudwatch.list-metrics", {"namespace": "AWS/IoT", "dim_name": "TemplateName",
                                                 "dim_value": "t1"}),
                    ["cloudwatch", "list-metrics", "--namespace", "AWS/IoT", "--dimensions",
                     "Name=TemplateName,Value=t1"])


if __name__ == "__main__":
    unittest.main()
