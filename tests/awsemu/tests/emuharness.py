"""Shared helpers for the awsemu tests: start/stop an emulator, sign requests with botocore."""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
import botocore.session
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.environ.get('FW_AWSEMU') or os.path.join(os.path.dirname(HERE), 'awsemu.py')
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
AKID = 'AKIDEXAMPLE'
SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
ACCOUNT = '123456789012'
REGION = 'us-east-1'

TRUST_IOT_CREDENTIALS = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Principal': {'Service': 'credentials.iot.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]})
TRUST_IOT = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Principal': {'Service': 'iot.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]})
TRUST_ACCOUNT = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::%s:root' % ACCOUNT}, 'Action': 'sts:AssumeRole'}]})
ACCESS_POLICY = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Action': ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents',
                                   'logs:DescribeLogStreams', 's3:GetBucketLocation'], 'Resource': '*'}]})
IOT_POLICY = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Action': ['iot:Connect'], 'Resource': '*'}]})
TEMPLATE_BODY = json.dumps({
    'Parameters': {'ThingName': {'Type': 'String'}, 'ThingGroupName': {'Type': 'String'}},
    'Resources': {
        'MyThing': {'OverrideSettings': {'AttributePayload': 'REPLACE', 'ThingGroups': 'REPLACE'},
                    'Properties': {'ThingName': {'Ref': 'ThingName'}, 'ThingGroups': [{'Ref': 'ThingGroupName'}]},
                    'Type': 'AWS::IoT::Thing'},
        'MyPolicy': {'Properties': {'PolicyName': 'GreengrassV2IoTThingPolicy'}, 'Type': 'AWS::IoT::Policy'},
        'MyCertificate': {'Properties': {'CertificateId': {'Ref': 'AWS::IoT::Certificate::Id'},
                                         'Status': 'Active'}, 'Type': 'AWS::IoT::Certificate'}}})


class Emu:
    """One emulator process on a free port."""

    def __init__(self, *extra, state_dir=None, script=None):
        """script: run this instead of awsemu.py (a wrapper that registers test doubles, then calls main())."""
        self.clients = {}
        self.tmp = tempfile.mkdtemp(prefix='awsemu-test-')
        self.ready = os.path.join(self.tmp, 'ready.json')
        self.log = open(os.path.join(self.tmp, 'stderr.log'), 'w+')
        args = [PYTHON, script or EMU, '--host', '127.0.0.1', '--port', '0', '--ready-file', self.ready] + list(extra)
        if state_dir:
            args += ['--state-dir', state_dir]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 15
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                raise RuntimeError('awsemu did not start: %s' % self.log.read())
            time.sleep(0.05)
        with open(self.ready) as f:
            info = json.load(f)
        self.info = info
        self.port = info['port']
        self.url = info['url']

    def stop(self):
        for c in self.clients.values():
            c.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stderr(self):
        with open(os.path.join(self.tmp, 'stderr.log')) as f:
            return f.read()

    # -- control endpoints
    def control(self, method, path, obj=None):
        return control(self.url, method, path, obj)

    def client(self, service, akid=AKID, secret=SECRET, token=None, region=REGION):
        key = (service, akid, secret, token, region)
        if key not in self.clients:
            self.clients[key] = self._client(service, akid, secret, token, region)
        return self.clients[key]

    def _client(self, service, akid, secret, token, region):
        return botocore.session.get_session().create_client(
            service, region_name=region, endpoint_url=self.url, aws_access_key_id=akid,
            aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={'total_max_attempts': 1, 'mode': 'standard'}))

    def request(self, method, path, body=b'', headers=None, service='execute-api', region=REGION,
                akid=AKID, secret=SECRET, token=None, when=None, sign=True, tamper=None,
                send_body=None):
        """Send a raw request signed with botocore (optionally at another time or tampered)."""
        url = self.url + path
        headers = dict(headers or {})
        if isinstance(body, str):
            body = body.encode()
        req = AWSRequest(method=method, url=url, data=body, headers=headers)
        if sign:
            auth = SigV4Auth(Credentials(akid, secret, token), service, region)
            when = when or datetime.datetime.utcnow()
            req.context['timestamp'] = when.strftime('%Y%m%dT%H%M%SZ')
            auth._modify_request_before_signing(req)
            cr = auth.canonical_request(req)
            sig = auth.signature(auth.string_to_sign(req, cr), req)
            auth._inject_signature_to_request(req, sig)
            if tamper:
                tamper(req)
        if send_body is not None:
            body = send_body
        ureq = urllib.request.Request(url, data=body if method not in ('GET', 'DELETE') or body else None,
                                      method=method, headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(ureq, timeout=10) as r:
                return r.status, dict(r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()

    def query(self, service, params, **kw):
        import urllib.parse
        params = dict(params)
        params.setdefault('Version', {'iam': '2010-05-08', 'sts': '2011-06-15', 'cloudwatch': '2010-08-01'}[service])
        body = urllib.parse.urlencode(params)
        scope = {'cloudwatch': 'monitoring'}.get(service, service)
        h = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
        h.update(kw.pop('headers', {}))
        return self.request('POST', '/', body=body, headers=h, service=scope, **kw)


class EmuCase(unittest.TestCase):
    """One emulator (started with EMU_ARGS) for the whole class, with a botocore client of each
    service in CLIENTS as a class attribute of the service's name (cls.iot, cls.iam...)."""
    EMU_ARGS = ('--no-quotas',)
    CLIENTS = ()

    @classmethod
    def setUpClass(cls):
        cls.emu = Emu(*cls.EMU_ARGS)
        for service in cls.CLIENTS:
            setattr(cls, service, cls.emu.client(service))

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def client_error(self, fn, *a, **kw):
        """The error answer of fn(*a, **kw), which must raise botocore's ClientError."""
        with self.assertRaises(ClientError) as cm:
            fn(*a, **kw)
        return cm.exception.response

    def code(self, fn, *a, **kw):
        """(AWS error code, HTTP status) of fn(*a, **kw), which must fail."""
        r = self.client_error(fn, *a, **kw)
        return r['Error']['Code'], r['ResponseMetadata']['HTTPStatusCode']


def control(url, method, path, obj=None):
    """(status, JSON answer) of an /__emu/ control endpoint of the emulator at url."""
    data = json.dumps(obj).encode() if obj is not None else None
    req = urllib.request.Request(url + '/__emu/' + path, data=data, method=method,
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def error_code_xml(body):
    import re
    m = re.search(rb'<Code>([^<]*)</Code>', body)
    return m.group(1).decode() if m else None


def etype(headers):
    """The error code of a rest-json answer (x-amzn-ErrorType without its ':http://...' suffix)."""
    return headers['x-amzn-ErrorType'].split(':', 1)[0]
