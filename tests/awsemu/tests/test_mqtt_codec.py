"""The broker's packet codec (tests/awsemu/mqtt_codec.py): framing bounds, strict decoding, AWS's topic
matching. Expected bytes are written out here from the MQTT 3.1.1 / 5.0 specifications."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import mqtt_codec as mc  # noqa: E402


def code_of(fn, *args):
    try:
        fn(*args)
    except mc.MqttError as e:
        return e.reason_code
    return None


class Framing(unittest.TestCase):
    RUN_COST_S = 1

    def test_frames_and_bounds(self):
        self.assertIsNone(mc.parse_frame(b'', 100))
        self.assertIsNone(mc.parse_frame(b'\x30', 100))
        self.assertIsNone(mc.parse_frame(b'\x30\x05abc', 100))          # body incomplete
        self.assertEqual(mc.parse_frame(b'\x30\x02ab\xc0\x00', 100), (3, 0, b'ab', 4))
        self.assertEqual(mc.parse_frame(b'\x30\x80\x01' + b'x' * 128, 200)[3], 131)
        self.assertEqual(code_of(mc.parse_frame, b'\x30\xff\xff\xff\xff\x01', 10 ** 9), mc.MALFORMED)
        self.assertEqual(code_of(mc.parse_frame, b'\x30\x80\x00', 100), mc.MALFORMED)  # not minimal
        # too large is known from the length alone: nothing more is read
        self.assertEqual(code_of(mc.parse_frame, b'\x30\xe9\x07', 1000), mc.TOO_LARGE)

    def test_varint_encoding(self):
        for n, enc in ((0, b'\x00'), (127, b'\x7f'), (128, b'\x80\x01'), (16383, b'\xff\x7f'),
                       (268435455, b'\xff\xff\xff\x7f')):
            self.assertEqual(mc.varint(n), enc)
        with self.assertRaises(ValueError):
            mc.varint(268435456)


class Decoding(unittest.TestCase):
    RUN_COST_S = 1

    def connect(self, level=4, flags=0x02, props=b'', payload=b'\x00\x02id'):
        body = b'\x00\x04MQTT' + bytes([level, flags]) + b'\x00\x3c'
        if level == 5:
            body += bytes([len(props)]) + props
        return body + payload

    def test_connect(self):
        c = mc.decode_connect(0, self.connect())
        self.assertEqual((c.level, c.clean, c.keep_alive, c.client_id, c.will), (4, True, 60, 'id', None))
        will = b'\x00\x02id' + b'\x00\x03w/t' + b'\x00\x03bye'
        c = mc.decode_connect(0, self.connect(flags=0x02 | 0x04 | 0x08 | 0x20, payload=will))
        self.assertEqual((c.will.topic, c.will.payload, c.will.qos, c.will.retain), ('w/t', b'bye', 1, True))
        c = mc.decode_connect(0, self.connect(5, props=b'\x11\x00\x00\x0e\x10\x21\x00\x0a'))
        self.assertEqual(c.properties, {'session_expiry_interval': 3600, 'receive_maximum': 10})

    def test_connect_refusals(self):
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(flags=0x03)), mc.MALFORMED)  # reserved bit
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(flags=0x02 | 0x08)), mc.MALFORMED)  # will QoS
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(level=3)), 0x84)
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect() + b'x'), mc.MALFORMED)  # trailing byte
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(payload=b'\x00\x02\xc3\x28')), mc.MALFORMED)
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(payload=b'\x00\x01\x00')), mc.MALFORMED)
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(flags=0x42)), mc.PROTOCOL_ERROR)  # pw, no user
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(5, props=b'\x21\x00\x00')), mc.PROTOCOL_ERROR)
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(5, props=b'\x21\x00\x01\x21\x00\x02')),
                         mc.PROTOCOL_ERROR)
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(5, props=b'\x23\x00\x01')), mc.MALFORMED)
        self.assertEqual(code_of(mc.decode_connect, 0, self.connect(5, props=b'\x11\x00')), mc.MALFORMED)

    def test_publish(self):
        p = mc.decode_publish(0x0B, b'\x00\x03a/b\x00\x07hi', 4)
        self.assertEqual((p.topic, p.qos, p.retain, p.dup, p.packet_id, p.payload), ('a/b', 1, True, True, 7, b'hi'))
        self.assertEqual(code_of(mc.decode_publish, 0x06, b'\x00\x01a\x00\x01', 4), mc.MALFORMED)  # QoS 3
        self.assertEqual(code_of(mc.decode_publish, 0x08, b'\x00\x01a', 4), mc.MALFORMED)          # DUP at QoS 0
        self.assertEqual(code_of(mc.decode_publish, 0x02, b'\x00\x01a\x00\x00', 4), mc.MALFORMED)  # packet id 0
        self.assertEqual(code_of(mc.decode_publish, 0, b'\x00\x01#', 4), 0x90)
        p = mc.decode_publish(0, b'\x00\x00\x03\x23\x00\x01x', 5)  # empty topic with a topic alias
        self.assertEqual((p.topic, p.properties), ('', {'topic_alias': 1}))
        self.assertEqual(code_of(mc.decode_publish, 0, b'\x00\x00\x00x', 5), 0x90)  # empty topic, no alias

    def test_subscribe(self):
        pid, props, subs = mc.decode_subscribe(0x02, b'\x00\x05\x00\x03a/#\x01\x00\x01+\x00', 4)
        self.assertEqual((pid, [(s.topic_filter, s.qos) for s in subs]), (5, [('a/#', 1), ('+', 0)]))
        self.assertEqual(code_of(mc.decode_subscribe, 0x00, b'\x00\x05\x00\x01a\x01', 4), mc.MALFORMED)
        self.assertEqual(code_of(mc.decode_subscribe, 0x02, b'\x00\x05', 4), mc.PROTOCOL_ERROR)
        self.assertEqual(code_of(mc.decode_subscribe, 0x02, b'\x00\x05\x00\x01a\x05', 4), mc.MALFORMED)
        _, _, subs = mc.decode_subscribe(0x02, b'\x00\x05\x00\x00\x01a\x2d', 5)
        s = subs[0]
        self.assertEqual((s.qos, s.no_local, s.retain_as_published, s.retain_handling), (1, True, True, 2))
        self.assertEqual(code_of(mc.decode_subscribe, 0x02, b'\x00\x05\x00\x00\x01a\x30', 5), mc.PROTOCOL_ERROR)

    def test_disconnect_and_acks(self):
        self.assertEqual(mc.decode_disconnect(0, b'', 4), (0, {}))
        self.assertEqual(code_of(mc.decode_disconnect, 0, b'\x00', 4), mc.MALFORMED)
        self.assertEqual(mc.decode_disconnect(0, b'\x04\x05\x11\x00\x00\x00\x0a', 5),
                         (4, {'session_expiry_interval': 10}))
        self.assertEqual(mc.decode_ack(0, b'\x00\x09', 4, mc.PUBACK), (9, 0))
        self.assertEqual(code_of(mc.decode_ack, 0, b'\x00\x09\x00', 4, mc.PUBACK), mc.MALFORMED)


class Encoding(unittest.TestCase):
    RUN_COST_S = 1

    def test_packets(self):
        self.assertEqual(mc.encode_connack(4, True, 0), b'\x20\x02\x01\x00')
        self.assertEqual(mc.encode_connack(5, False, 0x87, {'reason_string': 'no'}),
                         b'\x20\x08\x00\x87\x05\x1f\x00\x02no')
        self.assertEqual(mc.encode_ack(4, mc.PUBACK, 3), b'\x40\x02\x00\x03')
        self.assertEqual(mc.encode_ack(5, mc.PUBACK, 3, 0x87), b'\x40\x04\x00\x03\x87\x00')
        self.assertEqual(mc.encode_suback(4, 1, [1, 0x80]), b'\x90\x04\x00\x01\x01\x80')
        self.assertEqual(mc.encode_suback(4, 1, [0], mc.UNSUBACK), b'\xb0\x02\x00\x01')
        self.assertEqual(mc.encode_disconnect(0x8E), b'\xe0\x02\x8e\x00')
        pub = mc.Publish('a', b'x', 1, False, False, 2)
        self.assertEqual(mc.encode_publish(5, pub, {'user_property': [('k', 'v')]}),
                         b'\x32\x0e\x00\x01a\x00\x02\x07\x26\x00\x01k\x00\x01vx')


class Topics(unittest.TestCase):
    RUN_COST_S = 1

    def test_aws_matching(self):
        m = mc.topic_matches
        self.assertTrue(m('sensor/#', 'sensor/temp/room1'))
        self.assertTrue(m('sensor/#', 'sensor/'))
        self.assertFalse(m('sensor/#', 'sensor'))  # AWS differs from the spec here
        self.assertTrue(m('sensor/+/room1', 'sensor/humidity/room1'))
        self.assertFalse(m('sensor/+/room1', 'sensor/humidity/room2'))
        self.assertFalse(m('#', '$aws/things/x'))
        self.assertFalse(m('+/things/x', '$aws/things/x'))
        self.assertTrue(m('$aws/things/+', '$aws/things/x'))
        self.assertFalse(m('a/b', 'a/b/c'))

    def test_filter_syntax(self):
        for ok in ('a/#', '#', '+/+', 'a/+/b'):
            mc.check_topic_filter(ok)
        for bad in ('a/#/b', 'a#', 'a/b+', ''):
            self.assertEqual(code_of(mc.check_topic_filter, bad), 0x8F, bad)


if __name__ == '__main__':
    unittest.main()
