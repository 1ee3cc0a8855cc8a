"""Pre-provisioning hooks: a local HTTP endpoint plays the template's Lambda (POST /__emu/config lambdaEndpoints)."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provharness as ph  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from provharness import from_csr  # noqa: E402

HOOK = 'arn:aws:lambda:us-east-1:123456789012:function:prehook'
TEMPLATE = ph.body({'thing': {'Type': 'AWS::IoT::Thing', 'Properties': {'ThingName': {'Ref': 'ThingName'}}},
                    'cert': ph.cert_resource()},
                   dict(ph.CERT_PARAM, ThingName={'Type': 'String'}, Site={'Type': 'String', 'Default': 'none'}),
                   DeviceConfiguration={'Site': {'Ref': 'Site'}})


class Hooks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ph.start(cls, 'Hooked', TEMPLATE, hook=HOOK)
        cls.dev.conn.client_id = 'client-7'
        cls.answer = None
        cls.hook = ph.hook_server(lambda event: cls.answer(event))
        st, out = cls.ip.control('POST', 'config', {'lambdaEndpoints': {HOOK: cls.hook.url}})
        assert st == 200, out

    @classmethod
    def tearDownClass(cls):
        cls.hook.stop()
        cls.ip.stop()

    def register(self, name, params=None, template='Hooked'):
        _, ans = from_csr(self.dev)
        topic, out = self.dev.register(template, ans['certificateOwnershipToken'], dict({'ThingName': name},
                                                                                       **(params or {})))
        return topic.endswith('/accepted'), out, ans

    def denied(self, out, words):
        self.assertEqual((out['statusCode'], out['errorCode']), (403, 'AccessDenied'), out)
        self.assertIn(words, out['errorMessage'])

    def test_allow_gets_aws_hook_input(self):
        Hooks.answer = staticmethod(lambda e: (200, {'allowProvisioning': True}))
        self.hook.requests.clear()
        ok, out, ans = self.register('hooked-1', {'Site': 'Lyon'})
        self.assertTrue(ok, out)
        self.assertEqual(out['deviceConfiguration'], {'Site': 'Lyon'})
        tpl = self.acct.iot.describe_provisioning_template(templateName='Hooked')
        self.assertEqual(self.hook.bodies(), [{
            'claimCertificateId': self.claim, 'certificateId': ans['certificateId'],
            'certificatePem': ans['certificatePem'], 'templateArn': tpl['templateArn'], 'clientId': 'client-7',
            'parameters': {'ThingName': 'hooked-1', 'Site': 'Lyon'}}])

    def test_parameter_overrides_apply(self):
        Hooks.answer = staticmethod(lambda e: (200, {'allowProvisioning': True, 'parameterOverrides': {
            'ThingName': 'renamed-' + e['parameters']['ThingName'], 'Site': 'Seattle'}}))
        ok, out, ans = self.register('orig')
        self.assertTrue(ok, out)
        self.assertEqual(out, {'thingName': 'renamed-orig', 'deviceConfiguration': {'Site': 'Seattle'}})
        self.assertEqual(self.acct.iot.describe_thing(thingName='renamed-orig')['thingName'], 'renamed-orig')

    def test_allow_provisioning_false_denies(self):
        for answer in ({'allowProvisioning': False}, {}, {'allowProvisioning': 1}, {'allowProvisioning': 'yes'}):
            Hooks.answer = staticmethod(lambda e, a=answer: (200, a))
            ok, out, ans = self.register('denied-thing')
            self.denied(out, 'did not allow provisioning')
            self.assertEqual(self.acct.cert(ans['certificateId'])['status'], 'PENDING_ACTIVATION')
        with self.assertRaises(ClientError):
            self.acct.iot.describe_thing(thingName='denied-thing')
        Hooks.answer = staticmethod(lambda e: (200, {'allowProvisioning': 'true'}))
        ok, out, _ = self.register('string-true')
        self.assertTrue(ok, out)

    def test_a_failing_hook_denies(self):
        for status, body, words in ((500, {'errorMessage': 'boom'}, 'hook failed: HTTP 500'),
                                    (200, b'not json', 'not JSON'), (200, b'[true]', 'not a JSON object'),
                                    (200, {'allowProvisioning': True, 'parameterOverrides': {'a': 1}},
                                     'parameterOverrides is not a map of strings')):
            Hooks.answer = staticmethod(lambda e, s=status, b=body: (s, b))
            ok, out, _ = self.register('failing')
            self.denied(out, words)

    def test_a_slow_hook_times_out_at_five_seconds(self):
        answer = b'{"allowProvisioning": true}'
        # silent for 6.5 s; then an answer trickling in a byte a second (no single read ever waits 5 s)
        for slow in (lambda e: (time.sleep(6.5), (200, {'allowProvisioning': True}))[1],
                     lambda e: (200, [(0.9, answer[i:i + 1]) for i in range(len(answer))])):
            Hooks.answer = staticmethod(slow)
            t0 = time.monotonic()
            ok, out, _ = self.register('slow')
            took = time.monotonic() - t0
            self.denied(out, 'did not answer within 5 seconds')
            self.assertGreaterEqual(took, 5.0)
            self.assertLess(took, 6.4)

    def test_unmapped_and_foreign_lambdas(self):
        other = 'arn:aws:lambda:us-east-1:123456789012:function:unmapped'
        self.acct.template('Unmapped', TEMPLATE, self.role, hook=other)
        ok, out, _ = self.register('u1', template='Unmapped')
        self.denied(out, 'could not be invoked')
        foreign = 'arn:aws:lambda:eu-west-1:123456789012:function:prehook'
        st, cfg = self.ip.control('POST', 'config', {'lambdaEndpoints': {HOOK: self.hook.url, foreign: self.hook.url}})
        self.assertEqual(st, 200, cfg)
        self.acct.template('Foreign', TEMPLATE, self.role, hook=foreign)
        Hooks.answer = staticmethod(lambda e: (200, {'allowProvisioning': True}))
        ok, out, _ = self.register('f1', template='Foreign')
        self.denied(out, 'is not a Lambda function of this account and region')

    def test_lambda_endpoints_setting_is_checked(self):
        for bad in ({'not-an-arn': self.hook.url}, {HOOK: 'http://10.0.0.1/hook'}, {HOOK: 'file:///etc/passwd'},
                    {HOOK: 7}, ['x']):
            st, out = self.ip.control('POST', 'config', {'lambdaEndpoints': bad})
            self.assertEqual(st, 400, bad)
            self.assertIn('lambdaEndpoints', out['error'])
        st, out = self.ip.control('GET', 'config')
        self.assertEqual(out['lambdaEndpoints'], {HOOK: self.hook.url})

    def test_the_log_records_the_hook(self):
        self.ip.control('DELETE', 'dataplane/provisioning')
        Hooks.answer = staticmethod(lambda e: (200, {'allowProvisioning': False}))
        self.register('logged-deny')
        calls = self.ip.control('GET', 'dataplane/provisioning?api=RegisterThing')[1]['calls']
        self.assertEqual(calls[-1]['hook'], {'targetArn': HOOK, 'allowed': False, 'parameterOverrides': {},
                                             'reason': 'the pre-provisioning hook did not allow provisioning'})


if __name__ == '__main__':
    unittest.main()
