"""The IoT credentials provider: HTTPS with a client certificate, role alias -> temporary credentials that
the emulator's STS accepts; AWS's refusals (thing name, policy, alias, role trust, duration) in AWS's order."""

import datetime
import http.client
import json
import os
import ssl
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpharness as d  # noqa: E402
import emuharness as h  # noqa: E402
from dpharness import ARN, allow, deny, policy  # noqa: E402


class CredentialsProvider(unittest.TestCase):
    RUN_COST_S = 20

    @classmethod
    def setUpClass(cls):
        cls.emu = d.DataPlaneEmu('--no-quotas')
        iam = cls.emu.client('iam')
        cls.role = iam.create_role(RoleName='DeviceRole', AssumeRolePolicyDocument=h.TRUST_IOT_CREDENTIALS)['Role']
        cls.untrusting = iam.create_role(RoleName='NotForIot', AssumeRolePolicyDocument=h.TRUST_ACCOUNT)['Role']
        iot = cls.emu.iot
        iot.create_role_alias(roleAlias='DeviceAlias', roleArn=cls.role['Arn'], credentialDurationSeconds=900)
        iot.create_role_alias(roleAlias='Untrusted', roleArn=cls.untrusting['Arn'])
        # CreateRoleAlias refuses a duration above the role's MaxSessionDuration (issue 13), so the
        # role is shortened after the alias was made: the credentials provider then refuses it
        iam.update_role(RoleName='DeviceRole', MaxSessionDuration=7200)
        iot.create_role_alias(roleAlias='TooLong', roleArn=cls.role['Arn'], credentialDurationSeconds=7200)
        iam.update_role(RoleName='DeviceRole', MaxSessionDuration=3600)
        cls.assume_all = policy(allow('iot:AssumeRoleWithCertificate', ARN + 'rolealias/*'))

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def get(self, device, alias, thing=None, cert=True):
        ctx = ssl.create_default_context(cafile=self.emu.ca_file)
        if cert:
            ctx.load_cert_chain(device.certfile, device.keyfile)
        conn = http.client.HTTPSConnection('localhost', self.emu.credentials_port, context=ctx, timeout=10)
        try:
            conn.request('GET', '/role-aliases/%s/credentials' % alias,
                         headers={'x-amzn-iot-thingname': thing} if thing else {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), json.loads(r.read() or b'null')
        finally:
            conn.close()

    def test_credentials_work_against_sts(self):
        dev = self.emu.device(self.assume_all)
        before = datetime.datetime.now(datetime.timezone.utc)
        st, hd, out = self.get(dev, 'DeviceAlias')
        self.assertEqual(st, 200, out)
        c = out['credentials']
        self.assertEqual(sorted(c), ['accessKeyId', 'expiration', 'secretAccessKey', 'sessionToken'])
        exp = datetime.datetime.strptime(c['expiration'], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
        self.assertAlmostEqual((exp - before).total_seconds(), 900, delta=5)  # the alias's duration
        sts = self.emu.client('sts', akid=c['accessKeyId'], secret=c['secretAccessKey'], token=c['sessionToken'])
        who = sts.get_caller_identity()
        self.assertEqual(who['Arn'], 'arn:aws:sts::%s:assumed-role/DeviceRole/%s' % (h.ACCOUNT, dev.cert_id))
        ev = self.emu.wait_events(type='credentials', certificateId=dev.cert_id)[0]
        self.assertEqual((ev['roleAlias'], ev['accessKeyId']), ('DeviceAlias', c['accessKeyId']))
        self.assertNotIn('secretAccessKey', json.dumps(self.emu.events()))

    def test_thing_name_must_be_a_thing_of_the_certificate(self):
        thing = 'core-%s' % uuid.uuid4().hex[:6]
        dev = self.emu.device(self.assume_all, thing=thing)
        self.assertEqual(self.get(dev, 'DeviceAlias', thing)[0], 200)
        other = 'core-%s' % uuid.uuid4().hex[:6]
        self.emu.iot.create_thing(thingName=other)
        for name in (other, 'no-such-thing'):
            st, hd, out = self.get(dev, 'DeviceAlias', name)
            self.assertEqual((st, out, hd.get('x-amzn-ErrorType')),
                             (403, {'message': 'Invalid thing name passed'}, 'AccessDeniedException'))

    def test_policy_decides_with_thing_variables_and_deny_wins(self):
        doc = policy(allow('iot:AssumeRoleWithCertificate',
                           ARN + 'rolealias/${iot:Connection.Thing.Attributes[alias]}'))
        thing = 'attr-%s' % uuid.uuid4().hex[:6]
        dev = self.emu.device(doc)
        self.emu.iot.create_thing(thingName=thing, attributePayload={'attributes': {'alias': 'DeviceAlias'}})
        self.emu.iot.attach_thing_principal(thingName=thing, principal=dev.arn)
        self.assertEqual(self.get(dev, 'DeviceAlias', thing)[0], 200)
        # without the thing name the variable has no value: nothing is allowed
        self.assertEqual(self.get(dev, 'DeviceAlias')[::2], (403, {'message': 'Access Denied'}))
        denied = self.emu.device(policy(allow('iot:*', '*'), deny('iot:AssumeRoleWithCertificate', '*')))
        self.assertEqual(self.get(denied, 'DeviceAlias')[2], {'message': 'Access Denied'})
        none = self.emu.device(policy(allow('iot:Connect', '*')))
        self.assertEqual(self.get(none, 'DeviceAlias')[0], 403)
        reasons = [e['reason'] for e in self.emu.events(type='credentials-refused', certificateId=denied.cert_id)]
        self.assertIn('explicitly denied', reasons[-1])

    def test_thing_group_policy_applies_to_the_thing(self):
        group = 'grp-%s' % uuid.uuid4().hex[:6]
        self.emu.iot.create_thing_group(thingGroupName=group)
        child = group + '-child'
        self.emu.iot.create_thing_group(thingGroupName=child, parentGroupName=group)
        pname = 'gp-%s' % uuid.uuid4().hex[:6]
        self.emu.iot.create_policy(policyName=pname, policyDocument=self.assume_all)
        self.emu.iot.attach_policy(policyName=pname, target=self.emu.iot.describe_thing_group(
            thingGroupName=group)['thingGroupArn'])
        thing = 'member-%s' % uuid.uuid4().hex[:6]
        dev = self.emu.device(thing=thing)
        self.emu.iot.add_thing_to_thing_group(thingGroupName=child, thingName=thing)
        self.assertEqual(self.get(dev, 'DeviceAlias', thing)[0], 200)  # inherited from the parent group
        self.assertEqual(self.get(dev, 'DeviceAlias')[0], 403)         # no thing, no group policies

    def test_refusals_in_aws_order_with_aws_messages(self):
        dev = self.emu.device(self.assume_all)
        self.assertEqual(self.get(dev, 'NoSuchAlias')[::2], (404, {'message': 'Role alias does not exist'}))
        self.assertEqual(self.get(dev, 'Untrusted')[::2],
                         (400, {'message': 'Unable to assume the role, or the role to assume does not exist'}))
        self.assertEqual(self.get(dev, 'TooLong')[::2], (400, {
            'message': 'The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role'}))
        # the policy is checked before the alias: no permission and no alias is 403, not 404
        none = self.emu.device(policy(allow('iot:Connect', '*')))
        self.assertEqual(self.get(none, 'NoSuchAlias')[0], 403)

    def test_certificate_must_be_active(self):
        dev = self.emu.device(self.assume_all)
        self.emu.iot.update_certificate(certificateId=dev.cert_id, newStatus='INACTIVE')
        self.assertEqual(self.get(dev, 'DeviceAlias')[::2],
                         (403, {'message': 'Certificate is invalid on this endpoint'}))
        self.emu.iot.update_certificate(certificateId=dev.cert_id, newStatus='ACTIVE')
        self.assertEqual(self.get(dev, 'DeviceAlias')[0], 200)

    def test_no_client_certificate_no_tls(self):
        dev = self.emu.device(self.assume_all)
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.get(dev, 'DeviceAlias', cert=False)
        self.assertIn('TLS handshake failed', self.emu.wait_events(type='credentials-refused')[-1]['reason'])


if __name__ == '__main__':
    unittest.main()
