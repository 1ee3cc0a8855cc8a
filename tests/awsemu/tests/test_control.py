"""Control endpoints: quotas, faults, call log, reset, persistence; robustness and keep-alive."""

import http.client
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402
from emuharness import etype  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


class Control(h.EmuCase):
    EMU_ARGS = ()

    def setUp(self):
        self.emu.control('POST', 'reset')

    def test_health(self):
        st, out = self.emu.control('GET', 'health')
        self.assertEqual((st, out['status'], out['port'], out['accountId']), (200, 'ok', self.emu.port, '123456789012'))

    def test_quota_throttling(self):
        st, out = self.emu.control('POST', 'quotas', {'quotas': {'iot:DescribeEndpoint': {'rate': 1, 'burst': 2},
                                                                 'iam:GetRole': 1}})
        self.assertEqual(st, 200)
        iot = self.emu.client('iot')
        codes = []
        for _ in range(4):
            try:
                iot.describe_endpoint(endpointType='iot:Data-ATS')
                codes.append('ok')
            except ClientError as e:
                codes.append(e.response['Error']['Code'])
                self.assertEqual(e.response['ResponseMetadata']['HTTPStatusCode'], 400)
        self.assertEqual(codes[:2], ['ok', 'ok'])
        self.assertIn('ThrottlingException', codes[2:])
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'x'})
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'x'})
        self.assertEqual((st, h.error_code_xml(body)), (400, 'Throttling'))
        self.assertIn(b'<Message>Rate exceeded</Message>', body)
        time.sleep(1.1)
        iot.describe_endpoint(endpointType='iot:Data-ATS')  # refilled
        # disabled quotas never throttle
        self.emu.control('POST', 'quotas', {'enabled': False})
        for _ in range(5):
            iot.describe_endpoint(endpointType='iot:Data-ATS')
        self.emu.control('POST', 'quotas', {'enabled': True})

    def test_default_quota_create_keys(self):
        # CreateKeysAndCertificate: 10 TPS by default; an 11th call in the same instant is throttled
        self.emu.control('POST', 'quotas', {'quotas': {'iot:CreateKeysAndCertificate': {'rate': 0.01, 'burst': 1}}})
        iot = self.emu.client('iot')
        iot.create_keys_and_certificate(setAsActive=False)
        with self.assertRaises(ClientError) as cm:
            iot.create_keys_and_certificate(setAsActive=False)
        self.assertEqual(cm.exception.response['Error']['Code'], 'ThrottlingException')
        st, calls = self.emu.control('GET', 'calls?operation=CreateKeysAndCertificate')
        self.assertEqual([c['status'] for c in calls['calls']], [200, 400])

    def test_faults(self):
        self.emu.control('POST', 'faults', {'operation': 'CreateRoleAlias', 'count': 2, 'status': 500,
                                            'code': 'InternalFailureException'})
        iot = self.emu.client('iot')
        iam = self.emu.client('iam')
        role = iam.create_role(RoleName='FR', AssumeRolePolicyDocument=h.TRUST_IOT_CREDENTIALS)['Role']['Arn']
        for _ in range(2):
            with self.assertRaises(ClientError) as cm:
                iot.create_role_alias(roleAlias='F', roleArn=role)
            self.assertEqual(cm.exception.response['Error']['Code'], 'InternalFailureException')
            self.assertEqual(cm.exception.response['ResponseMetadata']['HTTPStatusCode'], 500)
        iot.create_role_alias(roleAlias='F', roleArn=role)
        # query protocol fault, wildcard and delay
        self.emu.control('POST', 'faults', {'operation': '*', 'service': 'iam', 'count': 1, 'status': 400,
                                            'code': 'Throttling', 'message': 'Rate exceeded', 'delayMs': 300})
        t0 = time.time()
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'FR'})
        self.assertGreaterEqual(time.time() - t0, 0.3)
        self.assertEqual((st, h.error_code_xml(body)), (400, 'Throttling'))
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'FR'})
        self.assertEqual(st, 200)
        # rate 1.0 always fires until cleared
        self.emu.control('POST', 'faults', {'operation': 'DescribeEndpoint', 'rate': 1.0, 'status': 503,
                                            'code': 'ServiceUnavailableException'})
        for _ in range(3):
            st, hd, body = self.emu.request('GET', '/endpoint')
            self.assertEqual((st, etype(hd)), (503, 'ServiceUnavailableException'))
        self.emu.control('DELETE', 'faults')
        st, hd, body = self.emu.request('GET', '/endpoint')
        self.assertEqual(st, 200)
        st, out = self.emu.control('POST', 'faults', {'count': 1})
        self.assertEqual(st, 400)

    def test_call_log_and_state(self):
        iot = self.emu.client('iot')
        c = iot.create_keys_and_certificate(setAsActive=True)
        st, calls = self.emu.control('GET', 'calls')
        last = calls['calls'][-1]
        self.assertEqual((last['service'], last['operation'], last['status'], last['signature']),
                         ('iot', 'CreateKeysAndCertificate', 200, 'valid'))
        self.assertEqual(last['parameters'], {'setAsActive': True})
        self.assertEqual(last['accessKeyId'], h.AKID)
        st, state = self.emu.control('GET', 'state')
        self.assertIn(c['certificateId'], state['iot']['certificates'])
        self.assertNotIn('PRIVATE KEY', json.dumps(state))
        self.emu.control('DELETE', 'calls')
        self.assertEqual(self.emu.control('GET', 'calls')[1]['calls'], [])
        self.emu.control('POST', 'reset')
        self.assertEqual(self.emu.control('GET', 'state')[1]['iot']['certificates'], {})
        self.assertEqual(self.emu.control('GET', 'nope')[0], 404)

    def test_robustness(self):
        # junk bodies, bad JSON, junk query, unknown paths: proper errors, server keeps serving
        cases = [('POST', '/', b'\xff\xfe\x00garbage', {'Content-Type': 'application/x-www-form-urlencoded'}),
                 ('POST', '/', b'Action=GetRole&Version=2010-05-08&RoleName.member.x=1',
                  {'Content-Type': 'application/x-www-form-urlencoded'}),
                 ('POST', '/role-aliases/x', b'[1,2]', {}),
                 ('GET', '/certificates?pageSize=%zz&marker=-5', b'', {}),
                 ('PUT', '/target-policies/p', b'{"target": {"a": 1}}', {})]
        for method, path, body, headers in cases:
            st, hd, rb = self.emu.request(method, path, body=body, headers=headers,
                                          service='iam' if path == '/' else 'execute-api')
            self.assertIn(st, (400, 403, 404, 405), (path, rb))
        s = socket.create_connection(('127.0.0.1', self.emu.port), timeout=5)
        s.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n')
        self.assertIn(b'400', s.recv(200))
        s.close()
        s = socket.create_connection(('127.0.0.1', self.emu.port), timeout=5)
        s.sendall(b'\x00\x01garbage\r\n\r\n')
        s.recv(200)
        s.close()
        st, out = self.emu.control('GET', 'health')
        self.assertEqual(st, 200)
        self.assertNotIn('Traceback', self.emu.stderr())

    def test_keep_alive(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.emu.port, timeout=5)
        for _ in range(3):
            conn.request('GET', '/__emu/health')
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertIsNotNone(r.getheader('Content-Length'))
            r.read()
        sock = conn.sock
        conn.request('GET', '/endpoint')  # unsigned AWS call on the same connection
        r = conn.getresponse()
        self.assertEqual(r.status, 403)
        r.read()
        self.assertIs(conn.sock, sock)
        conn.close()


class Persistence(unittest.TestCase):
    def test_state_survives_restart(self):
        d = tempfile.mkdtemp(prefix='awsemu-state-')
        try:
            e = h.Emu('--no-quotas', state_dir=d)
            try:
                iam = e.client('iam')
                iot = e.client('iot')
                role = iam.create_role(RoleName='Keep', AssumeRolePolicyDocument=h.TRUST_IOT_CREDENTIALS)['Role']
                iot.create_role_alias(roleAlias='KeepAlias', roleArn=role['Arn'])
                cert = iot.create_keys_and_certificate(setAsActive=True)
                e.control('POST', 'metrics', {'namespace': 'AWS/IoT', 'metricName': 'M', 'dimensions': [],
                                              'points': [{'timestamp': int(time.time()) - 600, 'value': 2}]})
                ca1 = e.control('GET', 'ca')[1]
            finally:
                e.stop()
            self.assertTrue(os.path.exists(os.path.join(d, 'state.json')))
            e = h.Emu('--no-quotas', state_dir=d)
            try:
                iam = e.client('iam')
                iot = e.client('iot')
                self.assertEqual(iam.get_role(RoleName='Keep')['Role']['Arn'], role['Arn'])
                self.assertEqual(iot.describe_role_alias(roleAlias='KeepAlias')['roleAliasDescription']['roleArn'],
                                 role['Arn'])
                d2 = iot.describe_certificate(certificateId=cert['certificateId'])['certificateDescription']
                self.assertEqual(d2['status'], 'ACTIVE')
                self.assertEqual(e.control('GET', 'ca')[1], ca1)
                self.assertEqual(len(e.client('cloudwatch').list_metrics(Namespace='AWS/IoT')['Metrics']), 1)
            finally:
                e.stop()
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    unittest.main()


class InternalFailure(unittest.TestCase):
    def test_handler_bug_is_500_and_server_survives(self):
        d = tempfile.mkdtemp(prefix='awsemu-state-')
        try:
            with open(os.path.join(d, 'state.json'), 'w') as f:
                json.dump({'iam': {'roles': {'broken': {'RoleName': 'broken'}}}}, f)
            e = h.Emu('--no-quotas', state_dir=d)
            try:
                st, hd, body = e.query('iam', {'Action': 'GetRole', 'RoleName': 'broken'})
                self.assertEqual((st, h.error_code_xml(body)), (500, 'InternalFailure'))
                self.assertIn(b'<Type>Receiver</Type>', body)
                self.assertNotIn(b'Traceback', body)
                self.assertIn('Traceback', e.stderr())
                st, hd, body = e.query('iam', {'Action': 'GetRole', 'RoleName': 'other'})
                self.assertEqual((st, h.error_code_xml(body)), (404, 'NoSuchEntity'))
            finally:
                e.stop()
        finally:
            shutil.rmtree(d, ignore_errors=True)
