"""An emulator in this process for the fleet provisioning tests: its control plane served over HTTP on a free
loopback port (set up with botocore, as fleetwarden would) and fleetprov.handle() called directly, the way the
broker calls it."""

import json
import os
import sys
import threading
import types

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'lib'))

import awsemu  # noqa: E402
import fleetprov  # noqa: E402
import emuharness as h  # noqa: E402
import harness  # noqa: E402

REGISTRATION = 'arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration'
THING_POLICY = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Action': ['iot:Connect', 'iot:Publish'], 'Resource': '*'}]})


def body(resources, parameters=None, **sections):
    """A template body: {"Parameters", "Resources", ...} as JSON text."""
    doc = {'Parameters': parameters or {}, 'Resources': resources}
    doc.update(sections)
    return json.dumps(doc)


def cert_resource(status='Active'):
    return {'Type': 'AWS::IoT::Certificate',
            'Properties': {'CertificateId': {'Ref': 'AWS::IoT::Certificate::Id'}, 'Status': status}}


CERT_PARAM = {'AWS::IoT::Certificate::Id': {'Type': 'String'}}


def greengrass_body(**sections):
    """A template like the one fleetwarden writes (jobs/handlers/policies.c): the thing named by ThingName in
    the group ThingGroupName, GreengrassV2IoTThingPolicy by name, the certificate ACTIVE."""
    return body({'thing': {'Type': 'AWS::IoT::Thing',
                           'Properties': {'ThingName': {'Ref': 'ThingName'}, 'AttributePayload': {},
                                          'ThingGroups': [{'Ref': 'ThingGroupName'}]},
                           'OverrideSettings': {'AttributePayload': 'REPLACE', 'ThingGroups': 'REPLACE',
                                                'ThingTypeName': 'REPLACE'}},
                 'policy': {'Type': 'AWS::IoT::Policy', 'Properties': {'PolicyName': 'GreengrassV2IoTThingPolicy'}},
                 'cert': cert_resource()},
                dict(CERT_PARAM, ThingName={'Type': 'String'}, ThingGroupName={'Type': 'String'}), **sections)


def csr_pem(key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'device')])).sign(key, hashes.SHA256()))
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def from_csr(device, fmt='json'):
    key, pem = csr_pem()
    topic, ans = device.publish('$aws/certificates/create-from-csr/' + fmt, {'certificateSigningRequest': pem}, fmt)
    assert topic.endswith('/accepted'), ans
    return key, ans


class InProcEmu:
    """awsemu.Emulator plus its HTTP front end on 127.0.0.1 (harness.free_port), stopped by stop()."""

    def __init__(self, quotas=False):
        self.emu = awsemu.Emulator(awsemu.parse_args([] if quotas else ['--no-quotas']))
        handler = type('Handler', (awsemu.Handler,), {'emu': self.emu})
        self.srv = awsemu.Server(('127.0.0.1', harness.free_port()), handler)
        self.url = 'http://127.0.0.1:%d' % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
        self.thread.start()
        self.clients = {}

    def client(self, service):
        if service not in self.clients:
            self.clients[service] = botocore_client(service, self.url)
        return self.clients[service]

    def control(self, method, path, obj=None):
        return h.control(self.url, method, path, obj)

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        for c in self.clients.values():
            c.close()


def botocore_client(service, url):
    import botocore.session
    from botocore.config import Config
    return botocore.session.get_session().create_client(
        service, region_name=h.REGION, endpoint_url=url, aws_access_key_id=h.AKID, aws_secret_access_key=h.SECRET,
        config=Config(retries={'total_max_attempts': 1, 'mode': 'standard'}))


class Device:
    """A connection as the broker describes it to fleetprov (client id, claim certificate)."""

    def __init__(self, emu, cert_id, client_id='device-1'):
        self.emu = emu
        self.conn = types.SimpleNamespace(client_id=client_id, cert_id=cert_id, cert_pem=None, thing_name=None,
                                          protocol_level=4, remote_address=('127.0.0.1', 50000))

    def publish(self, topic, payload, fmt='json'):
        """Sends one request; returns (answer topic, decoded answer)."""
        if not isinstance(payload, (bytes, bytearray)):
            payload = cbor2.dumps(payload) if fmt == 'cbor' else json.dumps(payload).encode()
        out = fleetprov.handle(self.emu, self.conn, topic, payload)
        assert len(out) == 1, out
        t, raw = out[0]
        return t, (cbor2.loads(raw) if topic.endswith('/cbor') else json.loads(raw))

    def create_keys(self, fmt='json'):
        return self.publish('$aws/certificates/create/' + fmt, b'' if fmt == 'json' else cbor2.dumps({}), fmt)

    def register(self, template, token, parameters=None, fmt='json'):
        req = {'certificateOwnershipToken': token}
        if parameters is not None:
            req['parameters'] = parameters
        return self.publish('$aws/provisioning-templates/%s/provision/%s' % (template, fmt), req, fmt)


class Account:
    """Resources of one emulated account for provisioning: claim certificate, provisioning role, templates."""

    def __init__(self, inproc):
        self.inproc = inproc
        self.iot = inproc.client('iot')
        self.iam = inproc.client('iam')

    def claim(self):
        c = self.iot.create_keys_and_certificate(setAsActive=True)
        return c['certificateId']

    def role(self, name, trust=h.TRUST_IOT, registration=True):
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)['Role']['Arn']
        if registration:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=REGISTRATION)
        return arn

    def template(self, name, body_text, role_arn, enabled=True, hook=None):
        kw = {}
        if hook:
            kw['preProvisioningHook'] = {'targetArn': hook, 'payloadVersion': '2020-04-01'}
        self.iot.create_provisioning_template(templateName=name, templateBody=body_text, provisioningRoleArn=role_arn,
                                              enabled=enabled, **kw)

    def cert(self, cert_id):
        return self.iot.describe_certificate(certificateId=cert_id)['certificateDescription']


def start(cls, template_name, template_body, **template_kw):
    """Class set-up shared by the provisioning tests: cls.ip (emulator), cls.acct, cls.claim (a claim
    certificate), cls.role (a provisioning role with AWSIoTThingsRegistration), a template, cls.dev."""
    cls.ip = InProcEmu()
    cls.acct = Account(cls.ip)
    cls.claim = cls.acct.claim()
    cls.role = cls.acct.role('ProvRole')
    cls.acct.template(template_name, template_body, cls.role, **template_kw)
    cls.dev = Device(cls.ip.emu, cls.claim)


def hook_server(answer):
    """A local endpoint that plays a pre-provisioning hook Lambda (harness.StubServer at /hook):
    answer(event) returns (status, payload), payload an object (sent as JSON), bytes, or a list of
    (delay s, bytes) sent piece by piece; its bodies() are the events it got."""
    def invoked(req):
        status, payload = answer(json.loads(req['body']))
        return status, {}, payload
    return harness.StubServer(invoked, path='/hook')
