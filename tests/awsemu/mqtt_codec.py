"""MQTT 3.1.1 (protocol level 4) and MQTT 5 (level 5) packets: strict, bounded decoding and encoding.

Every decoder reads from one complete packet body whose size the framing already bounded; any
byte out of place raises MqttError with the MQTT 5 reason code the broker answers with (0x81
malformed, 0x82 protocol error, 0x95 packet too large, ...). Nothing here touches sockets.
"""

import struct
from dataclasses import dataclass, field

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 8, 9, 10, 11, 12, 13, 14, 15
NAMES = {1: 'CONNECT', 2: 'CONNACK', 3: 'PUBLISH', 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP',
         8: 'SUBSCRIBE', 9: 'SUBACK', 10: 'UNSUBSCRIBE', 11: 'UNSUBACK', 12: 'PINGREQ', 13: 'PINGRESP',
         14: 'DISCONNECT', 15: 'AUTH'}

MALFORMED, PROTOCOL_ERROR, TOO_LARGE = 0x81, 0x82, 0x95
MAX_VARINT = 268435455
WILL = 'will'  # pseudo packet type for the properties of a will message

# MQTT 5 properties: id -> (name, type, packet types that may carry it)
_PUB = {PUBLISH, WILL}
_ACKS = {CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH}
PROPERTIES = {
    0x01: ('payload_format_indicator', 'byte', _PUB),
    0x02: ('message_expiry_interval', 'u32', _PUB),
    0x03: ('content_type', 'str', _PUB),
    0x08: ('response_topic', 'str', _PUB),
    0x09: ('correlation_data', 'bin', _PUB),
    0x0B: ('subscription_identifier', 'varint', {PUBLISH, SUBSCRIBE}),
    0x11: ('session_expiry_interval', 'u32', {CONNECT, CONNACK, DISCONNECT}),
    0x12: ('assigned_client_identifier', 'str', {CONNACK}),
    0x13: ('server_keep_alive', 'u16', {CONNACK}),
    0x15: ('authentication_method', 'str', {CONNECT, CONNACK, AUTH}),
    0x16: ('authentication_data', 'bin', {CONNECT, CONNACK, AUTH}),
    0x17: ('request_problem_information', 'byte', {CONNECT}),
    0x18: ('will_delay_interval', 'u32', {WILL}),
    0x19: ('request_response_information', 'byte', {CONNECT}),
    0x1A: ('response_information', 'str', {CONNACK}),
    0x1C: ('server_reference', 'str', {CONNACK, DISCONNECT}),
    0x1F: ('reason_string', 'str', _ACKS),
    0x21: ('receive_maximum', 'u16', {CONNECT, CONNACK}),
    0x22: ('topic_alias_maximum', 'u16', {CONNECT, CONNACK}),
    0x23: ('topic_alias', 'u16', {PUBLISH}),
    0x24: ('maximum_qos', 'byte', {CONNACK}),
    0x25: ('retain_available', 'byte', {CONNACK}),
    0x26: ('user_property', 'pair', _ACKS | _PUB | {CONNECT, SUBSCRIBE, UNSUBSCRIBE}),
    0x27: ('maximum_packet_size', 'u32', {CONNECT, CONNACK}),
    0x28: ('wildcard_subscription_available', 'byte', {CONNACK}),
    0x29: ('subscription_identifier_available', 'byte', {CONNACK}),
    0x2A: ('shared_subscription_available', 'byte', {CONNACK}),
}
PROPERTY_IDS = {v[0]: k for k, v in PROPERTIES.items()}
# values the spec allows (anything else is a protocol error)
_BOOLEAN = ('payload_format_indicator', 'request_problem_information', 'request_response_information')
_NONZERO = ('receive_maximum', 'maximum_packet_size', 'topic_alias', 'subscription_identifier')


class MqttError(Exception):
    """A packet the broker refuses; reason_code is what an MQTT 5 client is told."""

    def __init__(self, reason_code, message):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


def malformed(msg):
    return MqttError(MALFORMED, msg)


def protocol_error(msg):
    return MqttError(PROTOCOL_ERROR, msg)


# ------------------------------------------------------------------ framing

def parse_frame(buf, max_remaining):
    """The first complete packet in buf: (type, flags, body, bytes consumed), or None while incomplete.

    A remaining length over max_remaining raises at once (0x95) so an oversized packet is never
    buffered; a length field longer than 4 bytes or not minimal is malformed."""
    if not buf:
        return None
    value, shift, i = 0, 0, 1
    while True:
        if i >= len(buf):
            if i > 4:
                raise malformed('remaining length longer than 4 bytes')
            return None
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        if i > 4:
            raise malformed('remaining length longer than 4 bytes')
        shift += 7
    if i > 2 and buf[i - 1] == 0:
        raise malformed('remaining length not encoded in the fewest bytes')
    if value > max_remaining:
        raise MqttError(TOO_LARGE, 'packet of %d bytes is larger than the %d the broker accepts'
                        % (value, max_remaining))
    if len(buf) < i + value:
        return None
    return buf[0] >> 4, buf[0] & 0x0F, bytes(buf[i:i + value]), i + value


def varint(n):
    if not 0 <= n <= MAX_VARINT:
        raise ValueError('variable byte integer out of range')
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def frame(ptype, flags, body):
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + body


# ------------------------------------------------------------------ reading fields

class Reader:
    """Bounded reads from one packet body."""

    def __init__(self, data):
        self.b = data
        self.i = 0

    def left(self):
        return len(self.b) - self.i

    def take(self, n):
        if n > self.left():
            raise malformed('packet ends in the middle of a field')
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack('>H', self.take(2))[0]

    def u32(self):
        return struct.unpack('>I', self.take(4))[0]

    def varint(self):
        value, shift = 0, 0
        for n in range(4):
            b = self.u8()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                if n and b == 0:
                    raise malformed('variable byte integer not encoded in the fewest bytes')
                return value
            shift += 7
        raise malformed('variable byte integer longer than 4 bytes')

    def binary(self):
        return bytes(self.take(self.u16()))

    def string(self):
        return utf8(self.binary())

    def end(self, what):
        if self.left():
            raise malformed('%d unexpected bytes after the %s' % (self.left(), what))


def utf8(raw):
    """An MQTT UTF-8 string: well-formed UTF-8 (no surrogates, no overlongs) without U+0000."""
    try:
        s = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise malformed('string is not valid UTF-8')
    if '\x00' in s:
        raise malformed('string contains U+0000')
    return s


def read_properties(r, ptype):
    """MQTT 5 properties for a packet type: a dict by name; user properties as a list of pairs."""
    length = r.varint()
    if length > r.left():
        raise malformed('property length runs past the packet')
    sub = Reader(r.take(length))
    props = {}
    while sub.left():
        pid = sub.varint()
        spec = PROPERTIES.get(pid)
        if spec is None or ptype not in spec[2]:
            raise malformed('property 0x%02X is not allowed in %s' % (pid, NAMES.get(ptype, ptype)))
        name, kind, _ = spec
        value = _read_value(sub, kind)
        if name == 'user_property':
            props.setdefault(name, []).append(value)
            continue
        if name in props:
            raise protocol_error('property %s given twice' % name)
        _check_value(name, value)
        props[name] = value
    return props


_FIXED = {'byte': '>B', 'u16': '>H', 'u32': '>I'}  # property value types of a fixed size


def _read_value(r, kind):
    if kind in _FIXED:
        fmt = _FIXED[kind]
        return struct.unpack(fmt, r.take(struct.calcsize(fmt)))[0]
    if kind == 'varint':
        return r.varint()
    if kind == 'str':
        return r.string()
    if kind == 'bin':
        return r.binary()
    return (r.string(), r.string())


def _check_value(name, value):
    if name in _BOOLEAN and value not in (0, 1):
        raise protocol_error('%s must be 0 or 1' % name)
    if name in _NONZERO and value == 0:
        raise protocol_error('%s must not be 0' % name)


def write_properties(props, ptype):
    out = bytearray()
    for name, value in (props or {}).items():
        if value is None:
            continue
        pid = PROPERTY_IDS[name]
        kind = PROPERTIES[pid][1]
        values = value if name == 'user_property' else [value]
        for v in values:
            out += varint(pid) + _write_value(kind, v)
    return varint(len(out)) + bytes(out)


def _write_value(kind, v):
    if kind in _FIXED:
        return struct.pack(_FIXED[kind], v)
    if kind == 'varint':
        return varint(v)
    if kind == 'str':
        return string(v)
    if kind == 'bin':
        return binary(v)
    return string(v[0]) + string(v[1])


def binary(b):
    if len(b) > 0xFFFF:
        raise ValueError('field longer than 65535 bytes')
    return struct.pack('>H', len(b)) + bytes(b)


def string(s):
    return binary(s.encode('utf-8'))


# ------------------------------------------------------------------ topics

def check_topic_name(topic):
    """A topic a client publishes to: no wildcards, not empty."""
    if not topic:
        raise MqttError(0x90, 'empty topic name')
    if '+' in topic or '#' in topic:
        raise MqttError(0x90, 'topic name %r contains a wildcard' % topic)


def check_topic_filter(flt):
    """'+' alone in its level, '#' alone and last."""
    if not flt:
        raise MqttError(0x8F, 'empty topic filter')
    levels = flt.split('/')
    for n, level in enumerate(levels):
        if '#' in level and (level != '#' or n != len(levels) - 1):
            raise MqttError(0x8F, "'#' must be the last level of topic filter %r, alone" % flt)
        if '+' in level and level != '+':
            raise MqttError(0x8F, "'+' must be alone in its level of topic filter %r" % flt)


def topic_matches(flt, topic):
    """AWS IoT's matching: MQTT's, except that 'a/#' does not match 'a' (AWS differences from the spec);
    filters starting with a wildcard do not match topics starting with '$'."""
    if topic.startswith('$') and flt[:1] in ('+', '#'):
        return False
    f, t = flt.split('/'), topic.split('/')
    for n, level in enumerate(f):
        if level == '#':
            return len(t) > n
        if n >= len(t) or (level != '+' and level != t[n]):
            return False
    return len(f) == len(t)


def has_wildcard(flt):
    return '+' in flt or '#' in flt


# ------------------------------------------------------------------ client -> broker packets

@dataclass
class Will:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: dict = field(default_factory=dict)


@dataclass
class Connect:
    level: int
    clean: bool
    keep_alive: int
    client_id: str
    properties: dict = field(default_factory=dict)
    will: Will = None
    username: str = None
    password: bytes = None


class UnsupportedLevel(MqttError):
    """A CONNECT of a protocol level the broker does not speak (3.1 'MQIsdp', or unknown)."""

    def __init__(self, level):
        super().__init__(0x84, 'unsupported protocol level %r' % level)
        self.level = level


def decode_connect(flags, body):
    if flags:
        raise malformed('CONNECT fixed header flags must be 0')
    r = Reader(body)
    name = r.string()
    level = r.u8()
    if name != 'MQTT' or level not in (4, 5):
        if name in ('MQTT', 'MQIsdp'):
            raise UnsupportedLevel(level)
        raise protocol_error('protocol name %r is not MQTT' % name)
    cflags = r.u8()
    if cflags & 0x01:
        raise malformed('CONNECT reserved flag is set')
    keep_alive = r.u16()
    props = read_properties(r, CONNECT) if level == 5 else {}
    client_id = r.string()
    will = _decode_will(r, cflags, level)
    username = r.string() if cflags & 0x80 else None
    if cflags & 0x40 and level == 4 and username is None:
        raise protocol_error('password flag without user name flag')
    password = r.binary() if cflags & 0x40 else None
    r.end('CONNECT payload')
    return Connect(level, bool(cflags & 0x02), keep_alive, client_id, props, will, username, password)


def _decode_will(r, cflags, level):
    qos, retain = (cflags >> 3) & 0x03, bool(cflags & 0x20)
    if not cflags & 0x04:
        if qos or retain:
            raise malformed('will QoS or retain set without the will flag')
        return None
    if qos == 3:
        raise malformed('will QoS 3')
    props = read_properties(r, WILL) if level == 5 else {}
    topic = r.string()
    check_topic_name(topic)
    return Will(topic, r.binary(), qos, retain, props)


@dataclass
class Publish:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    dup: bool = False
    packet_id: int = None
    properties: dict = field(default_factory=dict)


def decode_publish(flags, body, level):
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise malformed('PUBLISH QoS 3')
    if qos == 0 and flags & 0x08:
        raise malformed('DUP set on a QoS 0 PUBLISH')
    r = Reader(body)
    topic = r.string()
    packet_id = r.u16() if qos else None
    if packet_id == 0:
        raise malformed('packet identifier 0')
    props = read_properties(r, PUBLISH) if level == 5 else {}
    if 'subscription_identifier' in props:
        raise protocol_error('a client PUBLISH must not carry a subscription identifier')
    if topic or 'topic_alias' not in props:
        check_topic_name(topic)
    if 'response_topic' in props:
        check_topic_name(props['response_topic'])
    payload = bytes(r.take(r.left()))
    if props.get('payload_format_indicator') == 1:
        try:
            payload.decode('utf-8')
        except UnicodeDecodeError:
            raise MqttError(0x99, 'payload format indicator says UTF-8 but the payload is not')
    return Publish(topic, payload, qos, bool(flags & 0x01), bool(flags & 0x08), packet_id, props)


def decode_ack(flags, body, level, ptype):
    """PUBACK (or another 2-byte ack): (packet id, reason code)."""
    if flags != (0x02 if ptype == PUBREL else 0):
        raise malformed('%s fixed header flags' % NAMES[ptype])
    r = Reader(body)
    pid = r.u16()
    code = 0
    if level == 5 and r.left():
        code = r.u8()
        if r.left():
            read_properties(r, ptype)
    r.end(NAMES[ptype])
    return pid, code


@dataclass
class Subscription:
    topic_filter: str
    qos: int
    no_local: bool = False
    retain_as_published: bool = False
    retain_handling: int = 0


def _ack_requested(flags, body, level, ptype):
    """The common head of SUBSCRIBE and UNSUBSCRIBE: (reader at the payload, packet id, properties)."""
    if flags != 0x02:
        raise malformed('%s fixed header flags must be 0010' % NAMES[ptype])
    r = Reader(body)
    pid = r.u16()
    if pid == 0:
        raise malformed('packet identifier 0')
    props = read_properties(r, ptype) if level == 5 else {}
    return r, pid, props


def decode_subscribe(flags, body, level):
    """(packet id, properties, [Subscription]); topic filters are checked by the broker (a bad one gets a
    failure code in the SUBACK, not a closed connection)."""
    r, pid, props = _ack_requested(flags, body, level, SUBSCRIBE)
    subs = []
    while r.left():
        flt = r.string()
        opts = r.u8()
        subs.append(_subscription(flt, opts, level))
    if not subs:
        raise protocol_error('SUBSCRIBE without a topic filter')
    return pid, props, subs


def _subscription(flt, opts, level):
    if opts & (0xC0 if level == 5 else 0xFC):
        raise malformed('SUBSCRIBE options reserved bits set')
    qos = opts & 0x03
    if qos == 3:
        raise malformed('SUBSCRIBE QoS 3')
    handling = (opts >> 4) & 0x03
    if handling == 3:
        raise protocol_error('retain handling 3')
    return Subscription(flt, qos, bool(opts & 0x04) and level == 5, bool(opts & 0x08) and level == 5, handling)


def decode_unsubscribe(flags, body, level):
    r, pid, _ = _ack_requested(flags, body, level, UNSUBSCRIBE)
    filters = []
    while r.left():
        filters.append(r.string())
    if not filters:
        raise protocol_error('UNSUBSCRIBE without a topic filter')
    return pid, filters


def decode_disconnect(flags, body, level):
    """(reason code, properties) of a client's DISCONNECT."""
    if flags:
        raise malformed('DISCONNECT fixed header flags must be 0')
    if level == 4:
        if body:
            raise malformed('MQTT 3.1.1 DISCONNECT has no body')
        return 0, {}
    r = Reader(body)
    code = r.u8() if r.left() else 0
    props = read_properties(r, DISCONNECT) if r.left() else {}
    r.end('DISCONNECT')
    return code, props


def decode_empty(ptype, flags, body):
    if flags or body:
        raise malformed('%s has neither flags nor body' % NAMES[ptype])


# ------------------------------------------------------------------ broker -> client packets

def encode_connack(level, session_present, code, props=None):
    body = bytes([1 if session_present else 0, code])
    if level == 5:
        body += write_properties(props, CONNACK)
    return frame(CONNACK, 0, body)


def encode_publish(level, pub, props=None):
    flags = (pub.qos << 1) | (0x01 if pub.retain else 0) | (0x08 if pub.dup else 0)
    body = string(pub.topic)
    if pub.qos:
        body += struct.pack('>H', pub.packet_id)
    if level == 5:
        body += write_properties(props, PUBLISH)
    return frame(PUBLISH, flags, body + pub.payload)


def encode_ack(level, ptype, packet_id, code=0, props=None):
    """PUBACK / UNSUBACK-less acks: MQTT 5 adds the reason code (omitted when 0 and no properties)."""
    body = struct.pack('>H', packet_id)
    if level == 5 and (code or props):
        body += bytes([code]) + write_properties(props, ptype)
    return frame(ptype, 0x02 if ptype == PUBREL else 0, body)


def encode_suback(level, packet_id, codes, ptype=SUBACK, props=None):
    body = struct.pack('>H', packet_id)
    if level == 5:
        body += write_properties(props, ptype)
    elif ptype == UNSUBACK:
        codes = []  # an MQTT 3.1.1 UNSUBACK is only the packet identifier
    return frame(ptype, 0, body + bytes(codes))


def encode_pingresp():
    return frame(PINGRESP, 0, b'')


def encode_disconnect(code, props=None):
    """MQTT 5 only: a 3.1.1 broker closes the connection without a packet."""
    return frame(DISCONNECT, 0, bytes([code]) + write_properties(props, DISCONNECT))
