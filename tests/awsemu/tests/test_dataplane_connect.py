"""Data plane, connecting: TLS (SNI, ALPN, client certificates), certificate status, iot:Connect,
client ID rules, keep-alive bounds, closing on UpdateCertificate, the control endpoints, SIGTERM."""

import datetime
import os
import signal
import ssl
import subprocess
import sys
import time
import unittest
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpharness as d  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import util  # noqa: E402  (the emulator's endpoint prefix)
from dpharness import ARN, allow, deny, policy  # noqa: E402

CONNACK_OK_311 = (2, 0, b'\x00\x00')


class Connect(d.DataPlaneCase):
    RUN_COST_S = 40

    def tearDown(self):
        super().tearDown()
        self.emu.control('POST', 'dataplane/config', {'keepAliveMinSeconds': 30})

    def mqtt(self, device, client_id=None, **kw):
        return super().mqtt(device, client_id, connect=False, **kw)

    def refusal(self, client_id):
        evs = self.emu.wait_events(type='refused', clientId=client_id)
        self.assertTrue(evs, self.emu.events())
        return evs[-1]['reason']

    def test_active_certificate_connects_with_mqtt_311_and_5(self):
        dev = self.emu.device(d.ALL, rsa=True)  # an RSA key from CreateKeysAndCertificate (others: EC, CSR)
        self.assertEqual(self.mqtt(dev, 'dev-311').connect(), 0)
        v5 = self.mqtt(dev, 'dev-5', v5=True)
        self.assertEqual(v5.connect(), 0)
        # what AWS announces to MQTT 5 clients
        p = v5.connack_props
        self.assertEqual((p.MaximumQoS, p.RetainAvailable, p.TopicAliasMaximum, p.ReceiveMaximum,
                          p.SubscriptionIdentifierAvailable, p.WildcardSubscriptionAvailable), (1, 1, 8, 100, 0, 1))
        conns = {c['clientId']: c for c in self.emu.connections()}
        self.assertEqual(conns['dev-311']['protocol'], 'MQTT 3.1.1')
        self.assertEqual(conns['dev-5']['protocol'], 'MQTT 5')
        self.assertEqual(conns['dev-5']['certificateId'], dev.cert_id)
        self.assertEqual(conns['dev-5']['sni'], 'localhost')
        # DescribeEndpoint points devices at this data plane; the ready file and health say where it is
        self.assertEqual(self.emu.iot.describe_endpoint(endpointType='iot:Data-ATS')['endpointAddress'], 'localhost')
        st, health = self.emu.control('GET', 'health')
        self.assertEqual((health['mqttPort'], health['credentialsPort'], health['serverCaFile']),
                         (self.emu.mqtt_port, self.emu.credentials_port, self.emu.ca_file))

    def test_inactive_revoked_unknown_and_expired_certificates_are_refused(self):
        inactive = self.emu.device(d.ALL, active=False)
        revoked = self.emu.device(d.ALL)
        self.emu.iot.update_certificate(certificateId=revoked.cert_id, newStatus='REVOKED')
        unknown = self.emu.device(d.ALL, active=False)
        self.emu.iot.detach_policy(policyName=unknown.policy_name, target=unknown.arn)
        self.emu.iot.delete_certificate(certificateId=unknown.cert_id)
        for dev, why in ((inactive, 'is INACTIVE'), (revoked, 'is REVOKED'), (unknown, 'is not registered')):
            # AWS closes an MQTT 3.1.1 connection without a CONNACK; MQTT 5 gets CONNACK 0x87
            c3 = self.mqtt(dev, 'r3-' + why[3:6])
            self.assertEqual(c3.connect(), 'closed', why)
            self.assertIn(why, self.refusal('r3-' + why[3:6]))
            self.assertEqual(self.mqtt(dev, 'r5-' + why[3:6], v5=True).connect(), 0x87, why)
            self.assertIn(why, self.refusal('r5-' + why[3:6]))
        expired = self.emu.device(d.ALL)
        self.emu.control('POST', 'clock', {'now': '2050-01-02T00:00:00Z'})  # past the certificate's notAfter
        try:
            self.assertEqual(self.mqtt(expired, 'r-expired', v5=True).connect(), 0x87)
            self.assertIn('expired', self.refusal('r-expired'))
        finally:
            self.emu.control('POST', 'clock', {'offsetSeconds': 0})
        self.assertEqual(self.mqtt(expired, 'r-expired-now', v5=True).connect(), 0)

    def test_clock_moved_back_keeps_todays_certificates_valid(self):
        # /__emu/clock with a negative offset stamps device traffic days back (the slow production line of
        # tests/integration/test_devices_misuse.py): a certificate issued today is not "not valid yet" then.
        dev = self.emu.device(d.ALL)
        self.emu.control('POST', 'clock', {'offsetSeconds': -3 * 86400})
        try:
            self.assertEqual(self.mqtt(dev, 'back-3d', v5=True).connect(), 0)
        finally:
            self.emu.control('POST', 'clock', {'offsetSeconds': 0})

    def test_certificate_from_another_ca_fails_the_tls_handshake(self):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'stranger')])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
        dev = self.emu.device()
        with open(dev.certfile, 'wb') as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(dev.keyfile, 'wb') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            raw = d.Raw(self.emu, dev)  # TLS 1.3: the client learns of the refusal on its first read
            try:
                raw.send(d.connect_packet('stranger'))
                if raw.packet() is None:
                    raise ConnectionError('closed')
            finally:
                raw.close()
        evs = self.emu.wait_events(type='refused')
        self.assertIn('TLS handshake failed', evs[-1]['reason'])

    def test_sni_is_required_and_must_name_the_endpoint(self):
        dev = self.emu.device(d.ALL)
        for sni, why in ((None, 'no SNI'), ('iot.example.com', 'is not an endpoint')):
            with self.assertRaises(ssl.SSLError):
                d.Raw(self.emu, dev, sni=sni)
            self.assertIn(why, self.emu.wait_events(type='refused')[-1]['reason'])
            self.emu.control('DELETE', 'dataplane/events')
        # the AWS-shaped name of the ATS endpoint (DescribeEndpoint's answer without --endpoint-host) is on the
        # server certificate too, for a device that maps it to 127.0.0.1
        aws_name = '%s-ats.iot.us-east-1.amazonaws.com' % util.endpoint_prefix('123456789012')
        raw = d.Raw(self.emu, dev, sni=aws_name)
        raw.send(d.connect_packet('sni-aws'))
        self.assertEqual(raw.packet(), CONNACK_OK_311)
        raw.close()

    def test_alpn_x_amzn_mqtt_ca_is_accepted(self):
        dev = self.emu.device(d.ALL)
        raw = d.Raw(self.emu, dev, alpn=['x-amzn-mqtt-ca'])
        self.assertEqual(raw.s.selected_alpn_protocol(), 'x-amzn-mqtt-ca')
        raw.send(d.connect_packet('alpn-dev'))
        self.assertEqual(raw.packet(), CONNACK_OK_311)
        raw.close()

    def test_iot_connect_policy_with_thing_variables_and_deny(self):
        doc = policy(allow('iot:Connect', ARN + 'client/${iot:Connection.Thing.ThingName}'),
                     allow('iot:Connect', ARN + 'client/guest-*'),
                     deny('iot:Connect', ARN + 'client/guest-banned'))
        dev = self.emu.device(doc, thing='thing-%s' % uuid.uuid4().hex[:6])
        thing = self.emu.iot.list_principal_things(principal=dev.arn)['things'][0]
        self.assertEqual(self.mqtt(dev, thing).connect(), 0)
        conn = self.emu.connections(clientId=thing)[0]
        self.assertEqual(conn['thingName'], thing)
        self.assertEqual(self.mqtt(dev, 'guest-1', v5=True).connect(), 0)
        # Deny wins over the Allow of guest-*
        self.assertEqual(self.mqtt(dev, 'guest-banned', v5=True).connect(), 0x87)
        self.assertIn('explicitly denied', self.refusal('guest-banned'))
        # a thing that exists but is not attached to this certificate does not resolve the variable
        other = 'other-%s' % uuid.uuid4().hex[:6]
        self.emu.iot.create_thing(thingName=other)
        self.assertEqual(self.mqtt(dev, other).connect(), 'closed')
        self.assertIn('no policy allows iot:Connect', self.refusal(other))

    def test_connect_attributes_persistent_session_and_last_will(self):
        doc = policy(allow('iot:Connect', '*', Condition={'ForAllValues:StringEquals': {
            'iot:ConnectAttributes': ['LastWill']}}))
        dev = self.emu.device(doc)
        self.assertEqual(self.mqtt(dev, 'attr-clean').connect(), 0)
        self.assertEqual(self.mqtt(dev, 'attr-will', will=('w/t', b'bye')).connect(), 0)
        self.assertEqual(self.mqtt(dev, 'attr-persistent', clean=False).connect(), 'closed')
        self.assertIn('iot:Connect refused', self.refusal('attr-persistent'))

    def test_a_second_connection_with_the_client_id_closes_the_first(self):
        dev = self.emu.device(d.ALL)
        first = self.mqtt(dev, 'twin', v5=True)
        self.assertEqual(first.connect(), 0)
        self.assertEqual(self.mqtt(dev, 'twin').connect(), 0)
        self.assertEqual(first.disconnected(), 0x8E)  # MQTT 5: Session taken over
        self.assertEqual([c['protocol'] for c in self.emu.connections(clientId='twin')], ['MQTT 3.1.1'])

    def test_update_certificate_out_of_active_closes_its_connections(self):
        dev = self.emu.device(d.ALL)
        other = self.emu.device(d.ALL)
        c3, c5, bystander = self.mqtt(dev, 'uc-3'), self.mqtt(dev, 'uc-5', v5=True), self.mqtt(other, 'uc-other')
        for c in (c3, c5, bystander):
            self.assertEqual(c.connect(), 0)
        self.emu.iot.update_certificate(certificateId=dev.cert_id, newStatus='INACTIVE')
        self.assertEqual(c5.disconnected(), 0x98)  # MQTT 5: Administrative action
        self.assertIsNotNone(c3.disconnected())
        self.assertEqual([c['clientId'] for c in self.emu.connections(certificateId=dev.cert_id)], [])
        self.assertEqual(len(self.emu.connections(clientId='uc-other')), 1)
        reasons = [e['reason'] for e in self.emu.events(type='disconnect', certificateId=dev.cert_id)]
        self.assertEqual(reasons, ['certificate status changed to INACTIVE'] * 2)
        self.emu.iot.update_certificate(certificateId=dev.cert_id, newStatus='ACTIVE')
        self.assertEqual(self.mqtt(dev, 'uc-again').connect(), 0)

    def test_control_connections_disconnect_and_events(self):
        dev = self.emu.device(d.ALL)
        c = self.mqtt(dev, 'ctl-1', v5=True)
        self.assertEqual(c.connect(), 0)
        self.assertEqual(c.subscribe('ctl/+/x'), [1])
        conn = self.emu.connections(clientId='ctl-1')[0]
        self.assertEqual(conn['subscriptions'], [{'topicFilter': 'ctl/+/x', 'qos': 1}])
        st, out = self.emu.control('POST', 'dataplane/disconnect', {'clientId': 'ctl-1'})
        self.assertEqual((st, out), (200, {'disconnected': 1}))
        self.assertEqual(c.disconnected(), 0x98)
        self.assertEqual(self.emu.control('POST', 'dataplane/disconnect', {'clientId': 7})[0], 400)
        self.assertEqual(self.emu.control('POST', 'dataplane/disconnect', {})[0], 400)
        types = [e['type'] for e in self.emu.events(clientId='ctl-1')]
        self.assertEqual(types, ['connect', 'subscribe', 'disconnect'])
        self.assertEqual(self.emu.control('DELETE', 'dataplane/events'), (200, {'cleared': True}))
        self.assertEqual(self.emu.events(), [])

    def test_keep_alive_bounds_and_timeout(self):
        dev = self.emu.device(d.ALL)
        short = self.mqtt(dev, 'ka-short', v5=True, keepalive=5)
        self.assertEqual(short.connect(), 0)
        self.assertEqual(short.connack_props.ServerKeepAlive, 30)  # AWS: under 30 s counts as 30
        raw = d.Raw(self.emu, dev)  # (paho cannot connect with keep-alive 0 over TLS)
        raw.send(d.connect_packet('ka-zero', level=5, keepalive=0))
        ptype, _, body = raw.packet()
        self.assertEqual((ptype, body[:2]), (2, b'\x00\x00'))
        self.assertIn(b'\x13\x04\xb0', body)  # Server Keep Alive 1200: 0 means AWS's default of 1200 s
        raw.close()
        # lower the floor (an emulator setting) to see the 1.5 x keep-alive timeout without waiting 45 s
        self.emu.control('POST', 'dataplane/config', {'keepAliveMinSeconds': 1})
        raw = d.Raw(self.emu, dev)
        raw.send(d.connect_packet('ka-raw', level=5, keepalive=1))
        self.assertEqual(raw.packet()[0], 2)
        t0 = time.time()
        self.assertEqual(raw.packet()[:2], (14, 0))  # DISCONNECT ...
        self.assertGreater(time.time() - t0, 1.2)
        self.assertIn('keep-alive timeout', self.emu.wait_events(type='disconnect', clientId='ka-raw')[0]['reason'])
        raw.close()

    def test_client_id_rules(self):
        dev = self.emu.device(d.ALL)
        raw = d.Raw(self.emu, dev)
        raw.send(d.connect_packet('x' * 129))
        self.assertEqual(raw.packet(), (2, 0, b'\x00\x02'))  # identifier rejected: over AWS's 128 bytes
        self.assertTrue(raw.closed())
        raw.close()
        raw = d.Raw(self.emu, dev)
        raw.send(d.connect_packet('', level=5))
        ptype, _, body = raw.packet()
        self.assertEqual((ptype, body[:2]), (2, b'\x00\x00'))
        self.assertIn(b'awsemu-', body)  # MQTT 5: the broker assigns a client ID
        raw.close()
        raw = d.Raw(self.emu, dev)
        raw.send(d.connect_packet('', clean=False))
        self.assertEqual(raw.packet(), (2, 0, b'\x00\x02'))  # 3.1.1: empty ID needs a clean session
        raw.close()

    def own_emulator(self, check):
        """An emulator of the test's own with one connected MQTT 5 client: check(emu, client)."""
        emu = d.DataPlaneEmu()
        try:
            c = d.Mqtt(emu, emu.device(d.ALL), 'own', v5=True)
            self.assertEqual(c.connect(), 0)
            check(emu, c)
            c.close()
        finally:
            emu.stop()

    def test_reset_closes_connections(self):
        def check(emu, c):
            emu.control('POST', 'reset')
            self.assertEqual(c.disconnected(), 0x98)
            self.assertEqual(emu.connections(), [])
        self.own_emulator(check)

    def test_sigterm_closes_clients_and_exits_cleanly(self):
        def check(emu, c):
            emu.proc.send_signal(signal.SIGTERM)
            self.assertEqual(c.disconnected(), 0x8B)  # Server shutting down
            try:
                self.assertEqual(emu.proc.wait(10), 0)
            except subprocess.TimeoutExpired:
                self.fail('the emulator did not exit on SIGTERM')
            self.assertNotIn('Traceback', emu.stderr())
        self.own_emulator(check)

if __name__ == '__main__':
    unittest.main()
