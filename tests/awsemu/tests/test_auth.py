"""SigV4 checks: tampered, missing, unknown key, wrong scope, clock skew, session tokens."""

import base64
import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402
from emuharness import etype  # noqa: E402

IAM_V = '2010-05-08'
STS_V = '2011-06-15'


def tamper_signature(req):
    a = req.headers['Authorization']
    sig = a.rsplit('Signature=', 1)[1]
    bad = ('0' if sig[0] != '0' else '1') + sig[1:]
    del req.headers['Authorization']
    req.headers['Authorization'] = a.replace(sig, bad)


class Auth(h.EmuCase):
    def iot_get(self, path='/endpoint?endpointType=iot%3AData-ATS', **kw):
        return self.emu.request('GET', path, **kw)

    def test_valid_signature_rest_and_query(self):
        st, hd, body = self.iot_get()
        self.assertEqual(st, 200, body)
        self.assertIn('-ats.iot.us-east-1.amazonaws.com', json.loads(body)['endpointAddress'])
        st, hd, body = self.emu.query('sts', {'Action': 'GetCallerIdentity', 'Version': STS_V})
        self.assertEqual(st, 200, body)
        self.assertIn(b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">', body)
        self.assertIn(b'<Account>123456789012</Account>', body)
        self.assertIn(b'<RequestId>', body)

    def test_iot_signed_as_iot_also_accepted(self):
        st, hd, body = self.iot_get(service='iot')
        self.assertEqual(st, 200, body)

    def test_tampered_signature_rest_json(self):
        st, hd, body = self.iot_get(tamper=tamper_signature)
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'InvalidSignatureException')
        self.assertIn('signature we calculated does not match', json.loads(body)['message'])
        self.assertIn('x-amzn-RequestId', hd)
        st, calls = self.emu.control('GET', 'calls?errorCode=InvalidSignatureException')
        self.assertEqual(calls['calls'][-1]['signature'], 'invalid')

    def test_tampered_signature_query(self):
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'Version': IAM_V, 'RoleName': 'x'},
                                      tamper=tamper_signature)
        self.assertEqual(st, 403)
        self.assertIn(b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
                      b'<Code>SignatureDoesNotMatch</Code>', body)
        self.assertIn(b'<RequestId>', body)

    def test_tampered_body(self):
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'x'})
        self.assertEqual(h.error_code_xml(body), 'NoSuchEntity')
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'x'},
                                      send_body=b'Action=GetRole&Version=2010-05-08&RoleName=y')
        self.assertEqual(st, 403)
        self.assertEqual(h.error_code_xml(body), 'SignatureDoesNotMatch')

    def test_missing_authorization(self):
        st, hd, body = self.iot_get(sign=False)
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'MissingAuthenticationTokenException')
        self.assertEqual(json.loads(body)['message'], 'Missing Authentication Token')
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'Version': IAM_V, 'RoleName': 'x'}, sign=False)
        self.assertEqual(st, 403)
        self.assertEqual(h.error_code_xml(body), 'MissingAuthenticationToken')

    def test_malformed_authorization(self):
        st, hd, body = self.iot_get(sign=False, headers={'Authorization': 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE',
                                                         'X-Amz-Date': '20260101T000000Z'})
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'IncompleteSignatureException')

    def test_unknown_access_key(self):
        st, hd, body = self.iot_get(akid='AKIAUNKNOWN000000000')
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'UnrecognizedClientException')
        st, hd, body = self.emu.query('sts', {'Action': 'GetCallerIdentity', 'Version': STS_V},
                                      akid='AKIAUNKNOWN000000000')
        self.assertEqual(h.error_code_xml(body), 'InvalidClientTokenId')

    def test_wrong_secret(self):
        st, hd, body = self.iot_get(secret='not-the-secret')
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'InvalidSignatureException')

    def test_wrong_region_and_service_scope(self):
        st, hd, body = self.iot_get(region='eu-west-1')
        self.assertEqual(st, 403)
        self.assertIn("valid region, not 'eu-west-1'", json.loads(body)['message'])
        # IAM is global: only us-east-1
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'Version': IAM_V, 'RoleName': 'x'},
                                      region='eu-west-1')
        self.assertEqual(h.error_code_xml(body), 'SignatureDoesNotMatch')
        # an unknown signing name
        st, hd, body = self.iot_get(service='s3')
        self.assertEqual(st, 403)
        self.assertIn('correct service', json.loads(body)['message'])

    def test_scope_date_mismatch(self):
        def shift_date(req):
            a = req.headers['Authorization']
            del req.headers['Authorization']
            req.headers['Authorization'] = a.replace('/%s/' % req.context['timestamp'][:8], '/20200101/')
        st, hd, body = self.iot_get(tamper=shift_date)
        self.assertEqual(st, 403)
        self.assertIn('Date in Credential scope does not match', json.loads(body)['message'])

    def test_clock_skew(self):
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        st, hd, body = self.iot_get(when=old)
        self.assertEqual(st, 403)
        self.assertIn('Signature expired', json.loads(body)['message'])
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'Version': IAM_V, 'RoleName': 'x'}, when=old)
        self.assertEqual(h.error_code_xml(body), 'SignatureDoesNotMatch')
        self.assertIn(b'Signature expired', body)
        future = datetime.datetime.utcnow() + datetime.timedelta(minutes=20)
        st, hd, body = self.iot_get(when=future)
        self.assertEqual(st, 403)
        self.assertIn('not yet current', json.loads(body)['message'])
        # within 15 minutes is fine
        st, hd, body = self.iot_get(when=datetime.datetime.utcnow() - datetime.timedelta(minutes=10))
        self.assertEqual(st, 200, body)

    def test_emulator_clock_offset(self):
        self.emu.control('POST', 'clock', {'offsetSeconds': 3600})
        try:
            st, hd, body = self.iot_get()
            self.assertEqual(st, 403)
            st, hd, body = self.iot_get(when=datetime.datetime.utcnow() + datetime.timedelta(hours=1))
            self.assertEqual(st, 200, body)
        finally:
            self.emu.control('POST', 'clock', {'offsetSeconds': 0})

    def test_host_and_date_must_be_signed(self):
        def unsign_host(req):
            a = req.headers['Authorization']
            del req.headers['Authorization']
            req.headers['Authorization'] = a.replace('SignedHeaders=host;x-amz-date', 'SignedHeaders=x-amz-date')
        st, hd, body = self.iot_get(tamper=unsign_host)
        self.assertEqual(st, 403)
        self.assertIn("'Host' must be a 'SignedHeader'", json.loads(body)['message'])

        def unsign_date(req):
            a = req.headers['Authorization']
            del req.headers['Authorization']
            req.headers['Authorization'] = a.replace(';x-amz-date', '')
        st, hd, body = self.iot_get(tamper=unsign_date)
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'IncompleteSignatureException')
        st, hd, body = self.emu.query('sts', {'Action': 'GetCallerIdentity'}, tamper=unsign_date)
        self.assertEqual((st, h.error_code_xml(body)), (400, 'IncompleteSignature'))

    def test_session_token(self):
        iam = self.emu.client('iam')
        role = iam.create_role(RoleName='Assumable', AssumeRolePolicyDocument=h.TRUST_ACCOUNT)['Role']
        sts = self.emu.client('sts')
        cr = sts.assume_role(RoleArn=role['Arn'], RoleSessionName='s1', DurationSeconds=900)['Credentials']
        self.assertTrue(cr['AccessKeyId'].startswith('ASIA'))
        s2 = self.emu.client('sts', akid=cr['AccessKeyId'], secret=cr['SecretAccessKey'], token=cr['SessionToken'])
        ident = s2.get_caller_identity()
        self.assertEqual(ident['Arn'], 'arn:aws:sts::123456789012:assumed-role/Assumable/s1')
        iot = self.emu.client('iot', akid=cr['AccessKeyId'], secret=cr['SecretAccessKey'], token=cr['SessionToken'])
        iot.describe_endpoint(endpointType='iot:CredentialProvider')
        # wrong token, missing token
        st, hd, body = self.iot_get(akid=cr['AccessKeyId'], secret=cr['SecretAccessKey'], token='wrong')
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'UnrecognizedClientException')
        st, hd, body = self.iot_get(akid=cr['AccessKeyId'], secret=cr['SecretAccessKey'])
        self.assertEqual(st, 403)
        # expired after the clock moves past the expiration
        self.emu.control('POST', 'clock', {'offsetSeconds': 1000})
        try:
            st, hd, body = self.iot_get(akid=cr['AccessKeyId'], secret=cr['SecretAccessKey'],
                                        token=cr['SessionToken'],
                                        when=datetime.datetime.utcnow() + datetime.timedelta(seconds=1000))
            self.assertEqual(st, 403)
            self.assertEqual(etype(hd), 'ExpiredTokenException')
        finally:
            self.emu.control('POST', 'clock', {'offsetSeconds': 0})

    def test_assume_role_denied_by_trust(self):
        iam = self.emu.client('iam')
        role = iam.create_role(RoleName='ServiceOnly', AssumeRolePolicyDocument=h.TRUST_IOT)['Role']
        st, hd, body = self.emu.query('sts', {'Action': 'AssumeRole', 'Version': STS_V, 'RoleArn': role['Arn'],
                                              'RoleSessionName': 'xx'})
        self.assertEqual(st, 403)
        self.assertEqual(h.error_code_xml(body), 'AccessDenied')

    def test_assume_role_with_web_identity_unsigned(self):
        trust = json.dumps({'Version': '2012-10-17', 'Statement': [{
            'Effect': 'Allow', 'Principal': {'Federated': 'arn:aws:iam::123456789012:oidc-provider/example.com'},
            'Action': 'sts:AssumeRoleWithWebIdentity'}]})
        role = self.emu.client('iam').create_role(RoleName='WebId', AssumeRolePolicyDocument=trust)['Role']

        def b64(o):
            return base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip('=')
        jwt = '%s.%s.%s' % (b64({'alg': 'RS256'}), b64({'sub': 'system:serviceaccount:fw:fw', 'aud': 'sts.amazonaws.com',
                                                        'iss': 'https://example.com'}), 'c2ln')
        st, hd, body = self.emu.query('sts', {'Action': 'AssumeRoleWithWebIdentity', 'Version': STS_V,
                                              'RoleArn': role['Arn'], 'RoleSessionName': 'pod',
                                              'WebIdentityToken': jwt}, sign=False)
        self.assertEqual(st, 200, body)
        self.assertIn(b'<SubjectFromWebIdentityToken>system:serviceaccount:fw:fw</SubjectFromWebIdentityToken>', body)
        st, hd, body = self.emu.query('sts', {'Action': 'AssumeRoleWithWebIdentity', 'Version': STS_V,
                                              'RoleArn': role['Arn'], 'RoleSessionName': 'pod',
                                              'WebIdentityToken': 'not-a-jwt'}, sign=False)
        self.assertEqual(h.error_code_xml(body), 'InvalidIdentityToken')
        # the token is redacted in the call log
        st, calls = self.emu.control('GET', 'calls?operation=AssumeRoleWithWebIdentity')
        self.assertEqual(calls['calls'][0]['parameters']['WebIdentityToken'], '***')
        self.assertEqual(calls['calls'][0]['signature'], 'unsigned')
        # botocore's client agrees (it sends this operation unsigned)
        out = self.emu.client('sts').assume_role_with_web_identity(RoleArn=role['Arn'], RoleSessionName='p2',
                                                                   WebIdentityToken=jwt)
        self.assertIn('SessionToken', out['Credentials'])


if __name__ == '__main__':
    unittest.main()
