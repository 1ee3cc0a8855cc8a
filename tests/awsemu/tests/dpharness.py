"""Data plane test helpers: an emulator with its MQTT and credentials endpoints, devices (IoT certificates
with policies), a synchronous wrapper around paho-mqtt (Debian python3-paho-mqtt, MQTT 3.1.1 and 5: an
MQTT implementation independent of the emulator's) and a raw TLS client whose packets are written by
hand here, for the byte-level cases paho cannot produce or does not show (reason codes, malformed input).
"""

import json
import os
import queue
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import unittest
import uuid

import paho.mqtt.client as paho
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402

ARN = 'arn:aws:iot:%s:%s:' % (h.REGION, h.ACCOUNT)
HERE = os.path.dirname(os.path.abspath(__file__))


def allow(actions, resources, **extra):
    return dict({'Effect': 'Allow', 'Action': actions, 'Resource': resources}, **extra)


def deny(actions, resources, **extra):
    return dict({'Effect': 'Deny', 'Action': actions, 'Resource': resources}, **extra)


def policy(*statements):
    return json.dumps({'Version': '2012-10-17', 'Statement': list(statements)})


ALL = policy(allow(['iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive', 'iot:RetainPublish'], '*'))


class DataPlaneEmu(h.Emu):
    """An emulator whose data plane answers on localhost; its server CA is written to ca_file."""

    def __init__(self, *extra, script=None):
        self.ca_dir = tempfile.mkdtemp(prefix='awsemu-ca-')
        self.ca_file = os.path.join(self.ca_dir, 'server-ca.pem')
        super().__init__('--endpoint-host', 'localhost', '--server-ca-file', self.ca_file, *extra, script=script)
        self.mqtt_port = self.info['mqttPort']
        self.credentials_port = self.info['credentialsPort']
        self.iot = self.client('iot')

    def stop(self):
        super().stop()
        import shutil
        shutil.rmtree(self.ca_dir, ignore_errors=True)

    def events(self, **q):
        st, out = self.control('GET', 'dataplane/events?' + '&'.join('%s=%s' % kv for kv in q.items()))
        assert st == 200, out
        return out['events']

    def connections(self, **q):
        st, out = self.control('GET', 'dataplane/connections?' + '&'.join('%s=%s' % kv for kv in q.items()))
        assert st == 200, out
        return out['connections']

    def wait_events(self, n=1, timeout=5, **q):
        deadline = time.time() + timeout
        while True:
            evs = self.events(**q)
            if len(evs) >= n or time.time() > deadline:
                return evs
            time.sleep(0.05)

    def device(self, doc=None, active=True, thing=None, rsa=False):
        return Device(self, doc, active, thing, rsa)


class Device:
    """An IoT certificate and key (files for TLS), with a policy attached. By default the key is an EC P-256
    key of the test and the certificate comes from CreateCertificateFromCsr (an RSA key from
    CreateKeysAndCertificate takes seconds on a busy machine); rsa=True uses CreateKeysAndCertificate."""

    def __init__(self, emu, doc=None, active=True, thing=None, rsa=False):
        if rsa:
            out = emu.iot.create_keys_and_certificate(setAsActive=active)
            self.key_pem = out['keyPair']['PrivateKey']
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            csr = (x509.CertificateSigningRequestBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'device')]))
                   .sign(key, hashes.SHA256()))
            out = emu.iot.create_certificate_from_csr(
                certificateSigningRequest=csr.public_bytes(serialization.Encoding.PEM).decode(), setAsActive=active)
            self.key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        self.cert_id, self.arn = out['certificateId'], out['certificateArn']
        self.cert_pem = out['certificatePem']
        self.certfile = os.path.join(emu.tmp, self.cert_id[:16] + '-cert.pem')
        self.keyfile = os.path.join(emu.tmp, self.cert_id[:16] + '-key.pem')
        with open(self.certfile, 'w') as f:
            f.write(self.cert_pem)
        with open(self.keyfile, 'w') as f:
            f.write(self.key_pem)
        self.policy_name = None
        if doc:
            self.policy_name = 'p-' + uuid.uuid4().hex[:12]
            emu.iot.create_policy(policyName=self.policy_name, policyDocument=doc)
            emu.iot.attach_policy(policyName=self.policy_name, target=self.arn)
        if thing:
            emu.iot.create_thing(thingName=thing)
            emu.iot.attach_thing_principal(thingName=thing, principal=self.arn)


class DataPlaneCase(unittest.TestCase):
    """One emulator per class (EMU_ARGS, EMU_SCRIPT); each test starts with no events and closes its clients."""

    EMU_ARGS = ('--no-quotas',)
    EMU_SCRIPT = None

    @classmethod
    def setUpClass(cls):
        cls.emu = DataPlaneEmu(*cls.EMU_ARGS, script=cls.EMU_SCRIPT)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.control('DELETE', 'dataplane/events')
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def mqtt(self, device, client_id=None, connect=True, **kw):
        """A paho client of this test (closed in tearDown); connected unless connect=False."""
        c = Mqtt(self.emu, device, client_id or 'c-' + uuid.uuid4().hex[:8], **kw)
        self.clients.append(c)
        if connect:
            self.assertEqual(c.connect(), 0)
        return c


# ------------------------------------------------------------------ paho, made synchronous

class Mqtt:
    """A paho client on its own network thread; every call waits for the broker's answer."""

    def __init__(self, emu, device, client_id, v5=False, clean=True, keepalive=60, will=None, session_expiry=None):
        self.v5 = v5
        kw = {'protocol': paho.MQTTv5} if v5 else {'protocol': paho.MQTTv311, 'clean_session': clean}
        self.c = paho.Client(client_id=client_id, **kw)
        self.c.tls_set(ca_certs=emu.ca_file, certfile=device.certfile, keyfile=device.keyfile)
        if will:
            self.c.will_set(*will)
        self.emu, self.keepalive, self.clean, self.session_expiry = emu, keepalive, clean, session_expiry
        self.connack = queue.Queue()
        self.disconnects = queue.Queue()
        self.messages = queue.Queue()
        self.subacks = {}
        self.acked = set()
        self.cond = threading.Condition()
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.retain))
        self.c.on_subscribe = self._on_subscribe
        self.c.on_publish = self._on_publish

    def _on_connect(self, c, u, flags, rc, props=None):
        self.connack.put((_code(rc), flags.get('session present', 0), props))

    def _on_disconnect(self, c, u, rc, props=None):
        self.disconnects.put(_code(rc))
        self.connack.put(('closed', None, None))

    def _on_subscribe(self, c, u, mid, granted, props=None):
        with self.cond:
            self.subacks[mid] = [_code(g) for g in granted]
            self.cond.notify_all()

    def _on_publish(self, c, u, mid):
        with self.cond:
            self.acked.add(mid)
            self.cond.notify_all()

    def connect(self, timeout=10):
        """CONNACK code (0 = accepted), 'closed' when the broker hung up without one."""
        kw = {}
        if self.v5:
            kw['clean_start'] = self.clean
            if self.session_expiry is not None:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self.session_expiry
                kw['properties'] = props
        self.c.connect('localhost', self.emu.mqtt_port, keepalive=self.keepalive, **kw)
        self.c.loop_start()
        try:
            code, self.session_present, self.connack_props = self.connack.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError('no CONNACK and no disconnection within %ss' % timeout)
        return code

    def subscribe(self, topic, qos=1, timeout=10):
        rc, mid = self.c.subscribe(topic, qos)
        assert rc == 0, rc
        with self.cond:
            if not self.cond.wait_for(lambda: mid in self.subacks, timeout):
                raise AssertionError('no SUBACK for %s' % topic)
            return self.subacks[mid]

    def publish(self, topic, payload, qos=1, retain=False, timeout=5):
        """True once a QoS 1 PUBLISH is acknowledged; False when no PUBACK came (e.g. disconnected)."""
        info = self.c.publish(topic, payload, qos, retain)
        if qos == 0:
            return True
        with self.cond:
            return self.cond.wait_for(lambda: info.mid in self.acked, timeout)

    def message(self, timeout=5):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def disconnected(self, timeout=5):
        """The disconnect code paho reported (for MQTT 5 the server's DISCONNECT reason), or None."""
        try:
            return self.disconnects.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        try:
            self.c.disconnect()
        finally:
            self.c.loop_stop()


def _code(rc):
    return getattr(rc, 'value', rc)


# ------------------------------------------------------------------ raw TLS, packets written here

class Raw:
    """One TLS connection; send() bytes, packet() reads one MQTT packet (type, flags, body)."""

    def __init__(self, emu, device=None, sni='localhost', alpn=None, timeout=5):
        ctx = ssl.create_default_context(cafile=emu.ca_file)
        if sni is None:
            ctx.check_hostname = False
        if device:
            ctx.load_cert_chain(device.certfile, device.keyfile)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        sock = socket.create_connection(('127.0.0.1', emu.mqtt_port), timeout=timeout)
        self.s = ctx.wrap_socket(sock, server_hostname=sni)
        self.buf = b''

    def send(self, data):
        self.s.sendall(data)

    def _fill(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.s.recv(65536)
            except (ConnectionError, ssl.SSLError, OSError):
                chunk = b''
            if not chunk:
                return False
            self.buf += chunk
        return True

    def packet(self):
        """(type, flags, body), or None when the broker closed the connection."""
        if not self._fill(2):
            return None
        n, mult, i = 0, 1, 1
        while True:
            if not self._fill(i + 1):
                return None
            b = self.buf[i]
            n += (b & 0x7F) * mult
            mult *= 128
            i += 1
            if not b & 0x80:
                break
        if not self._fill(i + n):
            return None
        first, body = self.buf[0], self.buf[i:i + n]
        self.buf = self.buf[i + n:]
        return first >> 4, first & 0x0F, body

    def closed(self):
        """True when the broker closes the connection before sending anything more."""
        return self.packet() is None

    def close(self):
        self.s.close()


def u16(n):
    return struct.pack('>H', n)


def mstr(s):
    b = s.encode() if isinstance(s, str) else s
    return u16(len(b)) + b


def vbi(n):
    out = b''
    while True:
        d, n = n % 128, n // 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            return out


def pkt(first, body):
    return bytes([first]) + vbi(len(body)) + body


def connect_packet(client_id, level=4, keepalive=60, clean=True, props=b'', flags_extra=0, payload_extra=b''):
    flags = (0x02 if clean else 0) | flags_extra
    var = mstr('MQTT') + bytes([level, flags]) + u16(keepalive)
    if level == 5:
        var += vbi(len(props)) + props
    return pkt(0x10, var + mstr(client_id) + payload_extra)


def publish_packet(topic, payload, qos=0, pid=1, level=4, retain=False, props=b''):
    body = mstr(topic) + (u16(pid) if qos else b'')
    if level == 5:
        body += vbi(len(props)) + props
    return pkt(0x30 | (qos << 1) | (1 if retain else 0), body + payload)


def subscribe_packet(filters, pid=1, level=4):
    body = u16(pid) + (b'\x00' if level == 5 else b'')
    for f, q in filters:
        body += mstr(f) + bytes([q])
    return pkt(0x82, body)
