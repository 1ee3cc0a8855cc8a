"""The AWS guide "Set up AWS IoT fleet provisioning for Greengrass core devices" with the real AWS CLI v2."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402

AWS = '/usr/bin/aws'
REGION = h.REGION
ACCT = h.ACCOUNT


@unittest.skipUnless(os.path.exists(AWS), 'Debian awscli (v2) not installed')
class CliWalkthrough(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = h.Emu()
        cls.tmp = tempfile.mkdtemp(prefix='awsemu-cli-')
        for name in ('config', 'credentials'):
            open(os.path.join(cls.tmp, name), 'w').close()
        cls.env = dict(os.environ, AWS_ACCESS_KEY_ID=h.AKID, AWS_SECRET_ACCESS_KEY=h.SECRET, AWS_REGION=REGION,
                       AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=os.path.join(cls.tmp, 'config'),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.tmp, 'credentials'), AWS_PAGER='',
                       AWS_MAX_ATTEMPTS='1', AWS_RETRY_MODE='standard', HOME=cls.tmp)
        for k in ('AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL'):
            cls.env.pop(k, None)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def aws(self, *args, ok=True):
        cmd = [AWS, '--endpoint-url', self.emu.url, '--no-cli-pager', '--output', 'json'] + list(args)
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
        if ok:
            self.assertEqual(p.returncode, 0, 'aws %s failed: %s' % (' '.join(args[:2]), p.stderr))
            return json.loads(p.stdout) if p.stdout.strip() else {}
        return p

    def write(self, name, obj):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return 'file://' + path

    def test_fleet_provisioning_guide(self):
        # token exchange role
        r = self.aws('iam', 'create-role', '--role-name', 'GreengrassV2TokenExchangeRole',
                     '--assume-role-policy-document', self.write('trust.json', h.TRUST_IOT_CREDENTIALS))
        role_arn = r['Role']['Arn']
        self.assertEqual(role_arn, 'arn:aws:iam::%s:role/GreengrassV2TokenExchangeRole' % ACCT)
        self.assertEqual(r['Role']['AssumeRolePolicyDocument']['Statement'][0]['Principal']['Service'],
                         'credentials.iot.amazonaws.com')
        access = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': [
            'iot:DescribeCertificate', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents',
            'logs:DescribeLogStreams', 's3:GetBucketLocation'], 'Resource': '*'}]}
        p = self.aws('iam', 'create-policy', '--policy-name', 'GreengrassV2TokenExchangeRoleAccess',
                     '--policy-document', self.write('access.json', access))
        pol_arn = p['Policy']['Arn']
        self.assertEqual(pol_arn, 'arn:aws:iam::%s:policy/GreengrassV2TokenExchangeRoleAccess' % ACCT)
        self.assertEqual(p['Policy']['DefaultVersionId'], 'v1')
        self.aws('iam', 'attach-role-policy', '--role-name', 'GreengrassV2TokenExchangeRole', '--policy-arn', pol_arn)
        # role alias
        ra = self.aws('iot', 'create-role-alias', '--role-alias', 'GreengrassCoreTokenExchangeRoleAlias',
                      '--role-arn', role_arn)
        alias_arn = 'arn:aws:iot:%s:%s:rolealias/GreengrassCoreTokenExchangeRoleAlias' % (REGION, ACCT)
        self.assertEqual(ra['roleAliasArn'], alias_arn)
        # thing policy
        thing_policy = {'Version': '2012-10-17', 'Statement': [
            {'Effect': 'Allow', 'Action': ['iot:Publish', 'iot:Subscribe', 'iot:Receive', 'iot:Connect',
                                           'greengrass:*'], 'Resource': ['*']},
            {'Effect': 'Allow', 'Action': 'iot:AssumeRoleWithCertificate', 'Resource': alias_arn}]}
        tp = self.aws('iot', 'create-policy', '--policy-name', 'GreengrassV2IoTThingPolicy',
                      '--policy-document', self.write('thing.json', thing_policy))
        self.assertEqual(tp['policyVersionId'], '1')
        self.assertEqual(json.loads(tp['policyDocument']), thing_policy)
        # provisioning role
        pr = self.aws('iam', 'create-role', '--role-name', 'GreengrassFleetProvisioningRole',
                      '--assume-role-policy-document', self.write('trust2.json', h.TRUST_IOT))
        prov_arn = pr['Role']['Arn']
        self.aws('iam', 'attach-role-policy', '--role-name', 'GreengrassFleetProvisioningRole', '--policy-arn',
                 'arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration')
        att = self.aws('iam', 'list-attached-role-policies', '--role-name', 'GreengrassFleetProvisioningRole')
        self.assertEqual([a['PolicyName'] for a in att['AttachedPolicies']], ['AWSIoTThingsRegistration'])
        # template
        t = self.aws('iot', 'create-provisioning-template', '--template-name', 'GreengrassFleetProvisioningTemplate',
                     '--description', 'A provisioning template for Greengrass core devices.',
                     '--provisioning-role-arn', prov_arn, '--template-body',
                     self.write('template.json', h.TEMPLATE_BODY), '--enabled')
        self.assertEqual(t['defaultVersionId'], 1)
        self.assertTrue(t['templateArn'].endswith(':provisioningtemplate/GreengrassFleetProvisioningTemplate'))
        d = self.aws('iot', 'describe-provisioning-template', '--template-name', 'GreengrassFleetProvisioningTemplate')
        self.assertTrue(d['enabled'])
        self.assertEqual(json.loads(d['templateBody']), json.loads(h.TEMPLATE_BODY))
        # claim certificate
        c = self.aws('iot', 'create-keys-and-certificate', '--set-as-active')
        self.assertIn('BEGIN RSA PRIVATE KEY', c['keyPair']['PrivateKey'])
        self.assertIn('BEGIN CERTIFICATE', c['certificatePem'])
        self.assertEqual(len(c['certificateId']), 64)
        # claim policy
        tmpl = 'GreengrassFleetProvisioningTemplate'
        base = 'arn:aws:iot:%s:%s:' % (REGION, ACCT)
        claim = {'Version': '2012-10-17', 'Statement': [
            {'Effect': 'Allow', 'Action': 'iot:Connect', 'Resource': '*'},
            {'Effect': 'Allow', 'Action': ['iot:Publish', 'iot:Receive'], 'Resource': [
                base + 'topic/$aws/certificates/create/*', base + 'topic/$aws/provisioning-templates/%s/provision/*'
                % tmpl]},
            {'Effect': 'Allow', 'Action': 'iot:Subscribe', 'Resource': [
                base + 'topicfilter/$aws/certificates/create/*',
                base + 'topicfilter/$aws/provisioning-templates/%s/provision/*' % tmpl]}]}
        self.aws('iot', 'create-policy', '--policy-name', 'GreengrassProvisioningClaimPolicy',
                 '--policy-document', self.write('claim.json', claim))
        self.aws('iot', 'attach-policy', '--policy-name', 'GreengrassProvisioningClaimPolicy',
                 '--target', c['certificateArn'])
        tg = self.aws('iot', 'list-targets-for-policy', '--policy-name', 'GreengrassProvisioningClaimPolicy')
        self.assertEqual(tg['targets'], [c['certificateArn']])
        ep = self.aws('iot', 'describe-endpoint', '--endpoint-type', 'iot:Data-ATS')
        self.assertRegex(ep['endpointAddress'], r'^[a-z0-9]+-ats\.iot\.us-east-1\.amazonaws\.com$')
        # an AWS error reaches the CLI: the template exists already
        p = self.aws('iot', 'create-provisioning-template', '--template-name', tmpl, '--provisioning-role-arn',
                     prov_arn, '--template-body', self.write('template.json', h.TEMPLATE_BODY), ok=False)
        self.assertEqual(p.returncode, 254)
        self.assertIn('ResourceAlreadyExistsException', p.stderr)
        # every call was signed correctly
        st, calls = self.emu.control('GET', 'calls')
        self.assertTrue(calls['calls'])
        self.assertEqual({c['signature'] for c in calls['calls']}, {'valid'})
        st, state = self.emu.control('GET', 'state')
        self.assertIn('GreengrassProvisioningClaimPolicy', state['iot']['policies'])
        # secrets never in the call log
        self.assertNotIn('PRIVATE KEY', json.dumps(calls))

    def test_thing_group_teardown_with_cli(self):
        self.aws('iot', 'create-thing-group', '--thing-group-name', 'CliGroup')
        self.aws('iot', 'create-thing', '--thing-name', 'cli-core')
        self.aws('iot', 'add-thing-to-thing-group', '--thing-group-name', 'CliGroup', '--thing-name', 'cli-core')
        got = self.aws('iot', 'list-things-in-thing-group', '--thing-group-name', 'CliGroup', '--recursive')
        self.assertEqual(got['things'], ['cli-core'])
        self.aws('iot', 'create-thing-group', '--thing-group-name', 'CliChild', '--parent-group-name', 'CliGroup')
        p = self.aws('iot', 'delete-thing-group', '--thing-group-name', 'CliGroup', ok=False)
        self.assertEqual(p.returncode, 254)
        self.assertIn('InvalidRequestException', p.stderr)
        self.assertIn('child groups', p.stderr)
        p = self.aws('iot', 'delete-thing-group', '--thing-group-name', 'CliChild', '--expected-version', '7', ok=False)
        self.assertIn('VersionConflictException', p.stderr)
        self.assertEqual(self.aws('iot', 'delete-thing-group', '--thing-group-name', 'CliChild',
                                  '--expected-version', '1'), {})
        self.assertEqual(self.aws('iot', 'delete-thing-group', '--thing-group-name', 'CliGroup'), {})
        self.assertEqual(self.aws('iot', 'delete-thing-group', '--thing-group-name', 'CliGroup'), {})  # gone: success
        p = self.aws('iot', 'list-things-in-thing-group', '--thing-group-name', 'CliGroup', ok=False)
        self.assertIn('ResourceNotFoundException', p.stderr)
        calls = [c for c in self.emu.control('GET', 'calls')[1]['calls'] if c['operation'] == 'DeleteThingGroup']
        self.assertEqual([(c['method'], c['path'].split('?')[0], c['signature']) for c in calls][-1],
                         ('DELETE', '/thing-groups/CliGroup', 'valid'))
        self.assertIn({'thingGroupName': 'CliChild', 'expectedVersion': 1}, [c['parameters'] for c in calls])

    def test_injected_fault_reaches_cli(self):
        st, _ = self.emu.control('POST', 'faults', {'operation': 'ListCertificates', 'count': 1, 'status': 400,
                                                    'code': 'ThrottlingException', 'message': 'Rate exceeded'})
        self.assertEqual(st, 200)
        p = self.aws('iot', 'list-certificates', ok=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('ThrottlingException', p.stderr)
        self.assertIn('Rate exceeded', p.stderr)


if __name__ == '__main__':
    unittest.main()
