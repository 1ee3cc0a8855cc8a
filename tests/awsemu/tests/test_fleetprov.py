"""The fleet provisioning MQTT API through fleetprov.handle(), as the broker calls it: topics, JSON and CBOR,
certificates made over MQTT, certificateOwnershipToken rules, bad payloads, the provisioning log."""

import datetime
import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provharness as ph  # noqa: E402
import cbor2  # noqa: E402
import fleetprov  # noqa: E402
import provtemplate  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from provharness import csr_pem, from_csr  # noqa: E402

TEMPLATE = ph.body({'thing': {'Type': 'AWS::IoT::Thing', 'Properties': {'ThingName': {'Ref': 'ThingName'}}},
                    'cert': ph.cert_resource()}, dict(ph.CERT_PARAM, ThingName={'Type': 'String'}))


class FleetProvApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ph.start(cls, 'Tpl', TEMPLATE)

    @classmethod
    def tearDownClass(cls):
        cls.ip.stop()

    def tearDown(self):
        self.ip.control('POST', 'clock', {'offsetSeconds': 0})

    def rejected(self, topic, payload, fmt='json'):
        t, ans = self.dev.publish(topic, payload, fmt)
        self.assertEqual(t, topic + '/rejected', ans)
        self.assertEqual(sorted(ans), ['errorCode', 'errorMessage', 'statusCode'])
        return ans

    def test_topics_handled(self):
        for t in ('$aws/certificates/create/json', '$aws/certificates/create/cbor',
                  '$aws/certificates/create-from-csr/json', '$aws/provisioning-templates/T-1_a/provision/cbor'):
            self.assertTrue(fleetprov.handles(t), t)
        for t in ('$aws/certificates/create/json/accepted', '$aws/certificates/create/xml', '$aws/certificates/create',
                  '$aws/provisioning-templates/a/b/provision/json', '$aws/provisioning-templates/+/provision/json',
                  '$aws/things/x/shadow/update', 'certificates/create/json', None, b'$aws/certificates/create/json'):
            self.assertFalse(fleetprov.handles(t), t)
            self.assertEqual(fleetprov.handle(self.ip.emu, self.dev.conn, t, b''), [])

    def test_create_keys_and_certificate_json_and_cbor(self):
        for fmt in ('json', 'cbor'):
            topic, ans = self.dev.create_keys(fmt)
            self.assertEqual(topic, '$aws/certificates/create/%s/accepted' % fmt)
            self.assertEqual(sorted(ans),
                             ['certificateId', 'certificateOwnershipToken', 'certificatePem', 'privateKey'])
            cert = x509.load_pem_x509_certificate(ans['certificatePem'].encode())
            key = serialization.load_pem_private_key(ans['privateKey'].encode(), None)
            self.assertEqual(cert.public_key().public_numbers(), key.public_key().public_numbers())
            self.assertEqual(ans['certificateId'],
                             hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest())
            self.assertEqual(self.acct.cert(ans['certificateId'])['status'], 'PENDING_ACTIVATION')

    def test_create_keys_takes_an_empty_object_too(self):
        topic, ans = self.dev.publish('$aws/certificates/create/json', b'{}')
        self.assertTrue(topic.endswith('/accepted'), ans)

    def test_create_certificate_from_csr_json_and_cbor(self):
        for fmt in ('json', 'cbor'):
            key, ans = from_csr(self.dev, fmt)
            self.assertEqual(sorted(ans), ['certificateId', 'certificateOwnershipToken', 'certificatePem'])
            cert = x509.load_pem_x509_certificate(ans['certificatePem'].encode())
            self.assertEqual(cert.public_key().public_numbers(), key.public_key().public_numbers())
            self.assertEqual(self.acct.cert(ans['certificateId'])['status'], 'PENDING_ACTIVATION')

    def test_bad_csrs_are_rejected(self):
        t = '$aws/certificates/create-from-csr/json'
        self.assertEqual(self.rejected(t, {})['errorCode'], 'InvalidPayload')
        ans = self.rejected(t, {'certificateSigningRequest': 'not a csr'})
        self.assertEqual((ans['statusCode'], ans['errorCode']), (400, 'InvalidRequest'))
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        ans = self.rejected(t, {'certificateSigningRequest': csr_pem(small)[1]})
        self.assertIn('2048', ans['errorMessage'])
        ans = self.rejected(t, {'certificateSigningRequest': 'A' * 4097})
        self.assertIn('4096', ans['errorMessage'])

    def test_bad_payloads_are_rejected_not_crashed(self):
        cases = [('json', b'{'), ('json', b'[]'), ('json', b'\xff\xfe'), ('json', b'"text"'), ('json', b'[' * 100000),
                 ('cbor', b'\xff'), ('cbor', cbor2.dumps([1, 2])), ('cbor', b'\x9b\xff\xff\xff\xff\xff\xff\xff\xff'),
                 ('cbor', b'\x5b\x00\x00\x00\xff\xff\xff\xff\xff'), ('json', b' ' * (128 * 1024 + 1))]
        for fmt, payload in cases:
            for topic in ('$aws/certificates/create/', '$aws/certificates/create-from-csr/',
                          '$aws/provisioning-templates/Tpl/provision/'):
                ans = self.rejected(topic + fmt, payload, fmt)
                self.assertEqual((ans['statusCode'], ans['errorCode']), (400, 'InvalidPayload'), (topic, payload[:20]))
        big = {'certificateOwnershipToken': 'x', 'certificateSigningRequest': 'x', 'pad': 'a' * (128 * 1024)}
        for fmt in ('json', 'cbor'):
            ans = self.rejected('$aws/provisioning-templates/Tpl/provision/' + fmt, big, fmt)
            self.assertEqual(ans['errorMessage'], 'The payload exceeds 131072 bytes')

    def test_the_answer_is_in_the_format_of_the_topic(self):
        out = fleetprov.handle(self.ip.emu, self.dev.conn, '$aws/provisioning-templates/Tpl/provision/cbor',
                               cbor2.dumps({'certificateOwnershipToken': 'x'}))
        self.assertEqual(cbor2.loads(out[0][1])['errorCode'], 'InvalidCertificateOwnershipToken')
        out = fleetprov.handle(self.ip.emu, self.dev.conn, '$aws/provisioning-templates/Tpl/provision/json', b'{}')
        self.assertEqual(json.loads(out[0][1])['errorMessage'], 'Certificate ownership token cannot be empty.')

    def test_the_token_registers_its_certificate_once(self):
        _, ans = from_csr(self.dev)
        topic, out = self.dev.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'once'})
        self.assertTrue(topic.endswith('/accepted'), out)
        again = self.rejected('$aws/provisioning-templates/Tpl/provision/json',
                              {'certificateOwnershipToken': ans['certificateOwnershipToken'],
                               'parameters': {'ThingName': 'twice'}})
        self.assertEqual((again['statusCode'], again['errorCode'], again['errorMessage']),
                         (400, 'InvalidCertificateOwnershipToken', 'The certificate ownership token is not valid.'))
        with self.assertRaises(ClientError):
            self.acct.iot.describe_thing(thingName='twice')

    def test_wrong_and_malformed_tokens(self):
        t = '$aws/provisioning-templates/Tpl/provision/json'
        for token, msg in (('', 'cannot be empty'), (None, 'cannot be empty'), ('made-up', 'is not valid'),
                           (42, 'is not valid'), ({'a': 1}, 'is not valid'), ('x' * 5000, 'is not valid')):
            req = {'parameters': {'ThingName': 'n'}}
            if token is not None:
                req['certificateOwnershipToken'] = token
            ans = self.rejected(t, req)
            self.assertEqual(ans['errorCode'], 'InvalidCertificateOwnershipToken')
            self.assertIn(msg, ans['errorMessage'])

    def test_a_token_of_another_claim_is_refused(self):
        _, ans = from_csr(self.dev)
        other = ph.Device(self.ip.emu, self.acct.claim(), client_id='thief')
        t, out = other.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'stolen'})
        self.assertEqual((t.endswith('/rejected'), out['errorMessage']),
                         (True, 'The certificate ownership token is not valid.'))
        t, out = self.dev.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'rightful'})
        self.assertTrue(t.endswith('/accepted'), out)

    def test_an_expired_token_is_refused_and_its_certificate_deleted(self):
        _, ans = from_csr(self.dev)
        _, kept = from_csr(self.dev)
        pol = self.acct.iot.create_policy(policyName='Keep', policyDocument=ph.THING_POLICY)['policyName']
        arn = self.acct.cert(kept['certificateId'])['certificateArn']
        self.acct.iot.attach_policy(policyName=pol, target=arn)
        # (signed control-plane calls are made at the real time: the emulator's clock goes back first)
        # a minute short of the hour (the calls above may take seconds on a loaded machine)
        self.ip.control('POST', 'clock', {'offsetSeconds': 3540})
        self.dev.register('Tpl', 'bogus', {'ThingName': 'x'})      # any provisioning call sweeps expired tokens
        certs = self.ip.control('GET', 'state')[1]['iot']['certificates']
        self.assertEqual(certs[ans['certificateId']]['status'], 'PENDING_ACTIVATION')
        self.ip.control('POST', 'clock', {'offsetSeconds': 3660})
        t, out = self.dev.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'late'})
        self.assertEqual(out['errorMessage'], 'The certificate ownership token has expired.')
        self.ip.control('POST', 'clock', {'offsetSeconds': 0})
        with self.assertRaises(ClientError) as cm:
            self.acct.cert(ans['certificateId'])
        self.assertEqual(cm.exception.response['Error']['Code'], 'ResourceNotFoundException')
        # attached to a policy: not deleted ("has not been attached to a policy or a thing")
        self.assertEqual(self.acct.cert(kept['certificateId'])['status'], 'PENDING_ACTIVATION')
        self.acct.iot.detach_policy(policyName=pol, target=arn)

    def test_unknown_disabled_and_jitp_templates(self):
        _, ans = from_csr(self.dev)
        tok = ans['certificateOwnershipToken']
        for name in ('NoSuchTemplate', 'bad.name', 'x' * 37, ''):
            t, out = self.dev.register(name, tok, {'ThingName': 'n'})
            self.assertEqual((out['statusCode'], out['errorCode']), (404, 'ResourceNotFound'), name)
        role = self.acct.iot.describe_provisioning_template(templateName='Tpl')['provisioningRoleArn']
        self.acct.template('Off', TEMPLATE, role, enabled=False)
        t, out = self.dev.register('Off', tok, {'ThingName': 'n'})
        self.assertEqual((out['statusCode'], out['errorCode'], out['errorMessage']),
                         (400, 'InvalidRequest', 'The provisioning template Off is disabled.'))
        self.acct.iot.update_provisioning_template(templateName='Off', enabled=True)
        t, out = self.dev.register('Off', tok, {'ThingName': 'enabled-now'})
        self.assertTrue(t.endswith('/accepted'), out)
        self.acct.iot.create_provisioning_template(templateName='Jit', templateBody=TEMPLATE, provisioningRoleArn=role,
                                                   enabled=True, type='JITP')
        _, ans = from_csr(self.dev)
        t, out = self.dev.register('Jit', ans['certificateOwnershipToken'], {'ThingName': 'n'})
        self.assertIn('not a FLEET_PROVISIONING template', out['errorMessage'])

    def test_parameters_must_be_strings(self):
        _, ans = from_csr(self.dev)
        t = '$aws/provisioning-templates/Tpl/provision/json'
        for params in ([], {'ThingName': 1}, {'ThingName': None}, 'x', {'k' * 2049: 'v'}, {'ThingName': 'v' * 4097}):
            out = self.rejected(t, {'certificateOwnershipToken': ans['certificateOwnershipToken'],
                                    'parameters': params})
            self.assertEqual(out['errorCode'], 'InvalidPayload', params)
        out = self.rejected(t, {'certificateOwnershipToken': ans['certificateOwnershipToken']})
        self.assertIn('Missing value for parameter ThingName', out['errorMessage'])

    def test_throttled_at_the_quota(self):
        self.ip.emu.quotas.load({'enabled': True, 'quotas': {'fleetprov:RegisterThing': 1}})
        try:
            t = '$aws/provisioning-templates/Tpl/provision/json'
            self.rejected(t, {'certificateOwnershipToken': 'a'})
            out = self.rejected(t, {'certificateOwnershipToken': 'a'})
            self.assertEqual((out['statusCode'], out['errorCode'], out['errorMessage']),
                             (429, 'Throttling', 'Rate exceeded'))
        finally:
            self.ip.emu.quotas.load({'enabled': False, 'reset': True})

    def test_an_internal_failure_is_an_answer_not_a_crash(self):
        _, ans = from_csr(self.dev)
        real = provtemplate.render
        fleetprov.provtemplate.render = lambda *a: 1 / 0
        try:
            t, out = self.dev.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'n'})
        finally:
            fleetprov.provtemplate.render = real
        self.assertEqual((out['statusCode'], out['errorCode']), (500, 'InternalFailure'))
        t, out = self.dev.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'after-crash'})
        self.assertTrue(t.endswith('/accepted'), out)

    def test_the_log_names_each_call_without_secrets(self):
        self.ip.control('DELETE', 'dataplane/provisioning')
        _, keys = self.dev.create_keys()
        self.dev.register('Tpl', keys['certificateOwnershipToken'], {'ThingName': 'logged'})
        self.dev.register('Tpl', 'bogus-token', {'ThingName': 'x'})
        st, out = self.ip.control('GET', 'dataplane/provisioning')
        calls = out['calls']
        self.assertEqual([(c['api'], c['outcome']) for c in calls],
                         [('CreateKeysAndCertificate', 'accepted'), ('RegisterThing', 'accepted'),
                          ('RegisterThing', 'rejected')])
        self.assertEqual((calls[1]['clientId'], calls[1]['claimCertificateId'], calls[1]['template'],
                          calls[1]['certificateId'], calls[1]['parameters'], calls[1]['result']['thingName']),
                         ('device-1', self.claim, 'Tpl', keys['certificateId'], {'ThingName': 'logged'}, 'logged'))
        self.assertEqual(calls[2]['errorCode'], 'InvalidCertificateOwnershipToken')
        text = json.dumps(out)
        key_body = keys['privateKey'].splitlines()[1]
        self.assertNotIn(key_body, text)
        self.assertNotIn(keys['certificateOwnershipToken'], text)
        self.assertNotIn(keys['certificateOwnershipToken'], json.dumps(self.ip.control('GET', 'state')[1]))
        st, only = self.ip.control('GET', 'dataplane/provisioning?outcome=rejected')
        self.assertEqual(len(only['calls']), 1)


class Reset(unittest.TestCase):
    def setUp(self):
        ph.start(self, 'Tpl', TEMPLATE)

    def tearDown(self):
        self.ip.stop()

    def test_reset_clears_tokens_and_the_log(self):
        _, ans = from_csr(self.dev)
        self.assertEqual(self.ip.control('POST', 'reset'), (200, {'reset': True}))
        self.assertEqual(self.ip.control('GET', 'dataplane/provisioning')[1]['calls'], [])
        t, out = self.dev.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'n'})
        self.assertEqual(out['errorMessage'], 'The certificate ownership token is not valid.')


class Metrics(unittest.TestCase):
    """What CloudWatch shows of the provisioning traffic (fpmetrics.py), read back with GetMetricData."""

    def setUp(self):
        ph.start(self, 'Tpl', TEMPLATE)
        self.assertEqual(self.ip.control('POST', 'config', {'publishPeriodSeconds': 0})[0], 200)
        self.cw = self.ip.client('cloudwatch')

    def tearDown(self):
        self.ip.stop()

    def stat(self, name, stat, dims=()):
        now = datetime.datetime.now(datetime.timezone.utc)
        q = {'Id': 'q', 'MetricStat': {'Metric': {'Namespace': 'AWS/IoT', 'MetricName': name, 'Dimensions': [
            {'Name': n, 'Value': v} for n, v in dims]}, 'Period': 3600, 'Stat': stat}}
        out = self.cw.get_metric_data(MetricDataQueries=[q], StartTime=now - datetime.timedelta(hours=1),
                                      EndTime=now + datetime.timedelta(minutes=5))['MetricDataResults'][0]
        return sum(out['Values'])

    def test_the_traffic_is_counted(self):
        other = ph.Device(self.ip.emu, self.acct.claim(), client_id='other')
        for i, dev in enumerate((self.dev, self.dev, other)):
            _, ans = from_csr(dev)
            t, out = dev.register('Tpl', ans['certificateOwnershipToken'], {'ThingName': 'm%d' % i})
            self.assertTrue(t.endswith('/accepted'), out)
        self.dev.register('Tpl', 'bogus', {'ThingName': 'x'})
        self.dev.publish('$aws/certificates/create-from-csr/json', {'certificateSigningRequest': 'bad'})
        self.dev.create_keys()
        self.assertEqual(self.stat('ApproximateNumberOfThingsRegistered', 'Maximum',
                                   [('ClaimCertificateId', self.claim)]), 2)
        self.assertEqual(self.stat('ApproximateNumberOfThingsRegistered', 'Maximum',
                                   [('ClaimCertificateId', other.conn.cert_id)]), 1)
        self.assertEqual(self.stat('RegisterThingFailed', 'Sum', [('TemplateName', 'Tpl')]), 1)
        self.assertEqual(self.stat('RegisterThingFailed', 'SampleCount', [('TemplateName', 'Tpl')]), 4)
        self.assertEqual(self.stat('CreateCertificateFromCsrFailed', 'SampleCount'), 4)
        self.assertEqual(self.stat('CreateCertificateFromCsrFailed', 'Sum'), 1)
        self.assertEqual(self.stat('CreateKeysAndCertificateFailed', 'SampleCount'), 1)
        self.assertEqual(self.stat('CreateKeysAndCertificateFailed', 'Sum'), 0)


if __name__ == '__main__':
    unittest.main()
