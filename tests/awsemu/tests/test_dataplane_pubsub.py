"""Data plane, messages: iot:Publish / iot:Subscribe / iot:Receive as AWS evaluates them, the refusals
AWS gives (3.1.1 disconnect, SUBACK 0x80, MQTT 5 reason codes), retained and will messages, persistent
sessions, AWS's limits, and malformed packets (the connection closes, the broker stays up)."""

import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpharness as d  # noqa: E402
from dpharness import ARN, allow, deny, policy  # noqa: E402

CONNACK_OK_5 = b'\x00\x00'


class PubSub(d.DataPlaneCase):
    RUN_COST_S = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.full = cls.emu.device(d.ALL)

    def raw(self, device, client_id, level=5):
        r = d.Raw(self.emu, device)
        self.clients.append(r)
        r.send(d.connect_packet(client_id, level=level))
        ptype, _, body = r.packet()
        self.assertEqual((ptype, body[:2]), (2, b'\x00\x00'))
        return r

    def test_policy_variables_scope_a_client_to_its_own_topics(self):
        doc = policy(allow('iot:Connect', ARN + 'client/${iot:ClientId}'),
                     allow('iot:Publish', ARN + 'topic/dev/${iot:ClientId}/*'),
                     allow('iot:Subscribe', ARN + 'topicfilter/dev/${iot:ClientId}/*'),
                     allow('iot:Receive', ARN + 'topic/dev/${iot:ClientId}/*'))
        dev = self.emu.device(doc)
        alice = self.mqtt(dev, 'alice')
        self.assertEqual(alice.subscribe('dev/alice/+'), [1])
        self.assertEqual(alice.subscribe('dev/bob/+'), [0x80])  # 3.1.1 SUBACK failure
        self.assertTrue(alice.publish('dev/alice/t', b'mine'))
        self.assertEqual(alice.message(), ('dev/alice/t', b'mine', 0))
        # a 3.1.1 client publishing where it may not is disconnected
        self.assertFalse(alice.publish('dev/bob/t', b'not mine', timeout=1))
        self.assertIsNotNone(alice.disconnected())
        ev = self.emu.wait_events(type='publish-refused', clientId='alice')[0]
        self.assertEqual(ev['topic'], 'dev/bob/t')
        self.assertIn('no policy allows iot:Publish', ev['reason'])

    def test_deny_wins_and_policy_wildcards(self):
        doc = policy(allow('iot:*', '*'),
                     deny('iot:Publish', ARN + 'topic/secret/*'),
                     deny('iot:Subscribe', ARN + 'topicfilter/room???'),
                     deny('iot:Subscribe', ARN + 'topicfilter/lit/+'))
        dev = self.emu.device(doc)
        c = self.mqtt(dev, v5=True)
        self.assertEqual(c.subscribe('room12'), [1])    # '?' is one character: room12 is not room???
        self.assertEqual(c.subscribe('room123'), [0x87])
        self.assertEqual(c.subscribe('lit/x'), [1])     # '+' is literal in a policy
        self.assertEqual(c.subscribe('lit/+'), [0x87])
        self.assertTrue(c.publish('open/a', b'1'))
        r = self.raw(dev, 'deny-raw')
        r.send(d.publish_packet('secret/a', b'x', qos=1, pid=7, level=5))
        ptype, _, body = r.packet()
        self.assertEqual((ptype, body[:3]), (4, b'\x00\x07\x87'))  # MQTT 5 PUBACK: Not authorized
        self.assertIn(b'explicitly denied', body)
        r.send(b'\xc0\x00')  # and the client stays connected: PINGREQ -> PINGRESP
        self.assertEqual(r.packet(), (13, 0, b''))

    def test_mqtt5_suback_reason_code(self):
        doc = policy(allow(['iot:Connect', 'iot:Subscribe'], '*'), deny('iot:Subscribe', ARN + 'topicfilter/no/#'))
        r = self.raw(self.emu.device(doc), 'suback-5')
        r.send(d.subscribe_packet([('yes/#', 1), ('no/#', 1), ('a/+/#', 2)], pid=3, level=5))
        ptype, _, body = r.packet()
        self.assertEqual(ptype, 9)
        self.assertEqual(body[:2], b'\x00\x03')
        self.assertEqual(body[-3:], b'\x01\x87\x01')  # granted 1, Not authorized, QoS 2 granted as 1

    def test_receive_is_checked_on_every_delivery(self):
        doc = policy(allow(['iot:Connect', 'iot:Subscribe', 'iot:Receive'], '*'),
                     deny('iot:Receive', ARN + 'topic/r/secret'))
        sub = self.mqtt(self.emu.device(doc), 'receiver')
        self.assertEqual(sub.subscribe('r/#'), [1])
        pub = self.mqtt(self.full)
        pub.publish('r/secret', b'hidden')
        pub.publish('r/open', b'seen')
        self.assertEqual(sub.message(), ('r/open', b'seen', 0))
        self.assertIsNone(sub.message(0.3))
        drop = self.emu.wait_events(type='drop', clientId='receiver')[0]
        self.assertEqual(drop['topic'], 'r/secret')
        self.assertIn('iot:Receive refused', drop['reason'])

    def test_cross_version_and_aws_wildcard_rule(self):
        s5 = self.mqtt(self.full, v5=True)
        self.assertEqual(s5.subscribe('x/#'), [1])
        p3 = self.mqtt(self.full)
        p3.publish('x', b'parent')   # AWS: 'x/#' does not match 'x' (it does in the MQTT spec)
        p3.publish('x/y/z', b'child')
        self.assertEqual(s5.message(), ('x/y/z', b'child', 0))
        self.assertIsNone(s5.message(0.3))

    def test_retained_messages_as_aws_delivers_them(self):
        pub = self.mqtt(self.full)
        self.assertTrue(pub.publish('cfg/dev1', b'v1', retain=True))
        exact, wild = self.mqtt(self.full), self.mqtt(self.full)
        exact.subscribe('cfg/dev1')
        self.assertEqual(exact.message(), ('cfg/dev1', b'v1', 1))  # retain flag set on subscription
        wild.subscribe('cfg/+')
        self.assertIsNone(wild.message(0.3))  # AWS: no retained message for a wildcard subscription
        pub.publish('cfg/dev1', b'', retain=True)  # an empty retained message deletes it
        self.assertEqual(exact.message(), ('cfg/dev1', b'', 0))
        late = self.mqtt(self.full)
        late.subscribe('cfg/dev1')
        self.assertIsNone(late.message(0.3))
        # iot:RetainPublish is needed to retain
        no_retain = self.emu.device(policy(allow(['iot:Connect', 'iot:Publish'], '*')))
        c = self.mqtt(no_retain)
        self.assertFalse(c.publish('cfg/dev2', b'x', retain=True, timeout=1))
        self.assertIn('iot:RetainPublish', self.emu.wait_events(type='publish-refused')[0]['reason'])

    def test_will_message_on_unexpected_disconnect_only(self):
        watcher = self.mqtt(self.full)
        watcher.subscribe('lwt/+')
        self.mqtt(self.full, 'dying', will=('lwt/dying', b'gone', 1))
        graceful = self.mqtt(self.full, 'graceful', will=('lwt/graceful', b'gone', 1))
        graceful.close()
        self.emu.control('POST', 'dataplane/disconnect', {'clientId': 'dying'})
        self.assertEqual(watcher.message(), ('lwt/dying', b'gone', 0))
        self.assertIsNone(watcher.message(0.3))

    def test_persistent_session_keeps_subscriptions_and_queues_qos1(self):
        dev = self.full
        s = self.mqtt(dev, 'sleeper', clean=False)
        self.assertEqual(s.subscribe('mail/sleeper'), [1])
        s.close()
        self.mqtt(dev).publish('mail/sleeper', b'while away')
        back = self.mqtt(dev, 'sleeper', clean=False, connect=False)
        self.assertEqual(back.connect(), 0)
        self.assertEqual(back.session_present, 1)
        self.assertEqual(back.message(), ('mail/sleeper', b'while away', 0))
        fresh = self.mqtt(dev, 'sleeper', clean=True, connect=False)
        self.assertEqual(fresh.connect(), 0)
        self.assertEqual(fresh.session_present, 0)

    def test_aws_limits(self):
        c = self.mqtt(self.full, v5=True)
        self.assertEqual(c.subscribe('a/b/c/d/e/f/g/h'), [1])       # 7 slashes
        self.assertEqual(c.subscribe('a/b/c/d/e/f/g/h/i'), [0x8F])  # 8 slashes
        self.assertEqual(c.subscribe('t' * 257), [0x8F])            # over 256 bytes
        r = self.raw(self.full, 'limits-raw')
        r.send(d.subscribe_packet([('f/%d' % i, 0) for i in range(9)], pid=2, level=5))
        ptype, _, body = r.packet()
        self.assertEqual((ptype, body[-9:]), (9, b'\x97' * 9))  # 9 filters in one SUBSCRIBE: AWS allows 8
        r.send(d.publish_packet('big', b'x' * (128 * 1024 + 1), qos=1, level=5))
        ptype, _, body = r.packet()
        self.assertEqual((ptype, body[0]), (14, 0x95))  # DISCONNECT: Packet too large
        self.assertIn('128 KB', self.emu.wait_events(type='disconnect', clientId='limits-raw')[0]['reason'])
        many = self.mqtt(self.full, 'many-subs')
        for i in range(50):
            self.assertEqual(many.subscribe('s/%d' % i), [1])
        many.c.subscribe('s/50', 1)  # the 51st: AWS disconnects
        self.assertIsNotNone(many.disconnected())
        p3 = self.mqtt(self.full, 'deep-publisher')
        self.assertFalse(p3.publish('/'.join('l%d' % i for i in range(9)), b'x', timeout=1))
        self.assertIn('more than 7 slashes',
                      self.emu.wait_events(type='publish-refused', clientId='deep-publisher')[0]['reason'])

    def test_mqtt5_protocol_violations_get_disconnect_reason_codes(self):
        cases = [
            (d.publish_packet('q2', b'x', qos=2, level=5), 0x9B),                        # QoS 2
            (d.publish_packet('a', b'x', level=5, props=b'\x23\x00\x09'), 0x94),         # topic alias 9 > 8
            (d.publish_packet('', b'x', level=5, props=b'\x23\x00\x02'), 0x82),          # alias never set
            (d.pkt(0x82, d.u16(1) + b'\x02\x0b\x01' + d.mstr('a') + b'\x00'), 0xA1),    # subscription identifier
            (d.publish_packet('a', b'x', level=5, props=b'\x01\x01\x01\x01'), 0x82),     # property twice
            (d.publish_packet('a', b'x', level=5, props=b'\x11\x00\x00\x00\x01'), 0x81),  # not a PUBLISH property
            (d.publish_packet('a', b'\xff', level=5, props=b'\x01\x01'), 0x99),          # not UTF-8 as announced
            (d.publish_packet('$sys/x', b'x', qos=1, level=5), None),                   # PUBACK 0x90
        ]
        for n, (packet, code) in enumerate(cases):
            r = self.raw(self.full, 'viol-%d' % n)
            r.send(packet)
            ptype, _, body = r.packet()
            if code is None:
                self.assertEqual((ptype, body[2]), (4, 0x90))
                continue
            self.assertEqual((ptype, body[0]), (14, code), n)
            self.assertTrue(r.closed(), n)

    def test_malformed_packets_close_the_connection_not_the_broker(self):
        bad = [
            b'\x10\xff\xff\xff\xff\x01',                                      # remaining length of 5 bytes
            b'\x10\x80\x80\x80\x01',                                          # 2 MB: over the bound, never read
            b'\x10\x80\x00',                                                  # length not in the fewest bytes
            d.connect_packet('x', flags_extra=0x01),                          # CONNECT reserved flag
            d.connect_packet('\u0000nul'),                                    # U+0000 in a string
            d.pkt(0x10, d.mstr('MQTT') + b'\x04\x02\x00\x3c' + d.u16(5) + b'\xff\xfe\xfd\xfc\xfb'),  # bad UTF-8
            d.pkt(0x10, d.mstr('MQTT') + b'\x04\x02\x00'),                    # CONNECT cut short
            d.pkt(0x10, d.mstr('HTTP') + b'\x04\x02\x00\x3c' + d.mstr('x')),  # not MQTT
            d.publish_packet('early', b'x'),                                  # PUBLISH before CONNECT
            b'\x00\x00',                                                      # packet type 0
            d.connect_packet('x', level=5, props=b'\x27\x00\x00\x00\x00'),    # maximum packet size 0
            d.connect_packet('x', flags_extra=0x18),                          # will QoS 3 without the will flag
        ]
        for n, data in enumerate(bad):
            r = d.Raw(self.emu, self.full)
            r.send(data)
            self.assertTrue(r.closed(), 'case %d: %r' % (n, data[:20]))
            r.close()
        after_connect = [
            b'\x32\x03\x00\x01a',                      # QoS 1 PUBLISH without room for the packet id
            b'\x36\x04\x00\x01a\x00',                  # QoS 3
            b'\x80\x06\x00\x01\x00\x01a\x00',          # SUBSCRIBE with flags 0000
            b'\x82\x06\x00\x01\x00\x01a\x04',          # MQTT 3.1.1 SUBSCRIBE options reserved bits
            b'\x10\x0c' + d.mstr('MQTT')[:2],          # a second CONNECT (cut)
            b'\xc0\x01\x00',                           # PINGREQ with a body
            b'\x62\x02\x00\x01',                       # PUBREL: no QoS 2 here
            b'\x30\x04\x00\x02a+',                     # wildcard in a topic name
        ]
        for n, data in enumerate(after_connect):
            r = self.raw(self.full, 'bad-%d' % n, level=4)
            r.send(data)
            self.assertTrue(r.closed(), 'case %d: %r' % (n, data))
        # random garbage after a good CONNECT, both protocol levels
        rnd = random.Random(14)
        for n in range(60):
            r = self.raw(self.full, 'fuzz-%d' % n, level=4 + n % 2)
            r.send(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200))))
            r.close()
        time.sleep(0.3)
        c = self.mqtt(self.full, 'still-here')
        self.assertEqual(c.subscribe('alive'), [1])
        self.assertNotIn('broker error', self.emu.stderr())
        self.assertNotIn('Traceback', self.emu.stderr())


if __name__ == '__main__':
    unittest.main()
