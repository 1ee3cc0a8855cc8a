"""The AWS IoT message broker over TLS: MQTT 3.1.1 and 5, client certificates, IoT policies.

One thread runs every connection from a selector loop (so no SSL object is ever used by two threads);
other threads (the HTTP handlers, the reserved-topic workers) talk to it through call(). The state lock
is taken only to read certificates, things and policies, and never while waiting on the loop.

What AWS documents and the broker models (the README lists each with its source): client ID <= 128
bytes, topics <= 256 bytes and 7 slashes, payload <= 128 KB, keep-alive 30..1200 s (0 -> 1200), QoS 0
and 1 only, 8 filters per SUBSCRIBE, 50 subscriptions per connection, 100 unacknowledged outbound QoS 1
messages, persistent sessions kept one hour, retained messages delivered only to exact-topic
subscriptions, 'a/#' not matching 'a', a second connection with a client ID closing the first.
"""

import collections
import concurrent.futures
import hashlib
import queue
import selectors
import socket
import ssl
import threading
import time
import traceback
import uuid

import iotpolicy
import mqtt_codec as mc

MAX_PAYLOAD = 128 * 1024
MAX_TOPIC_BYTES = 256
MAX_SLASHES = 7
MAX_CLIENT_ID_BYTES = 128
MAX_FILTERS_PER_SUBSCRIBE = 8
MAX_SUBSCRIPTIONS = 50
MAX_INFLIGHT = 100
MAX_QUEUED = 1000           # QoS 1 messages waiting for a client (offline session or full window)
MAX_CONNECTIONS = 5000      # the emulator's bounds (AWS's are per account and far higher)
MAX_RETAINED = 10000
MAX_HANDOFF = 100           # reserved-topic requests of one connection waiting for the worker
KEEP_ALIVE_MAX = 1200
KEEP_ALIVE_MIN = 30
SESSION_EXPIRY = 3600       # AWS's default persistent session expiry (an adjustable quota)
TOPIC_ALIAS_MAX = 8
RECEIVE_MAX = 100
# the emulator's bound on any packet: the 128 KB payload plus room for the topic and properties
MAX_PACKET = MAX_PAYLOAD + 16 * 1024
HANDSHAKE_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
MAX_OUTBUF = 4 * 1024 * 1024
# AWS CONNACK properties for MQTT 5 clients
CONNACK_PROPS = {'receive_maximum': RECEIVE_MAX, 'topic_alias_maximum': TOPIC_ALIAS_MAX, 'maximum_qos': 1,
                 'retain_available': 1, 'maximum_packet_size': MAX_PACKET + 5,
                 'wildcard_subscription_available': 1, 'subscription_identifier_available': 0,
                 'shared_subscription_available': 0}
NOT_AUTHORIZED = 0x87
RESERVED_HANDLERS = []  # extra reserved-topic handlers (tests register doubles here before main())


class Message:
    __slots__ = ('topic', 'payload', 'qos', 'retain', 'props', 'created')

    def __init__(self, topic, payload, qos, retain=False, props=None):
        self.topic, self.payload, self.qos, self.retain = topic, payload, qos, retain
        self.props = props or {}
        self.created = time.monotonic()


class Session:
    """What survives a connection when the client asked for a persistent session."""

    def __init__(self, client_id):
        self.client_id = client_id
        self.subs = {}             # topic filter -> mc.Subscription (qos = granted)
        self.conn = None
        self.expiry = 0
        self.expires_at = None
        self.queue = collections.deque()
        self.inflight = collections.OrderedDict()  # packet id -> Message
        self.next_pid = 0

    def new_pid(self):
        for _ in range(65535):
            self.next_pid = self.next_pid % 65535 + 1
            if self.next_pid not in self.inflight:
                return self.next_pid
        return None


class Connection:
    """One client. Attributes read by reserved-topic handlers: client_id, cert_id, cert_pem, thing_name,
    protocol_level, remote, remote_ip."""

    def __init__(self, sock, addr):
        self.sock = sock
        self.remote_ip, self.remote_port = addr[0], addr[1]
        self.remote = '%s:%d' % (addr[0], addr[1]) if ':' not in addr[0] else '[%s]:%d' % (addr[0], addr[1])
        self.state = 'handshake'
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        self.client_id = self.cert_id = self.cert_pem = self.thing_name = None
        self.protocol_level = 4
        self.keep_alive = 0
        self.session = None
        self.will = None
        self.aliases = {}
        self.client_receive_max = RECEIVE_MAX
        self.client_max_packet = None
        self.connected_at = None
        self.sni = self.alpn = None
        self.assigned = False  # the broker chose the client ID (the CONNECT had an empty one)
        self.events = 0  # selector mask currently registered
        self.handoff = collections.deque()  # reserved-topic publishes waiting for the worker, in order
        self.handoff_busy = False

    def describe(self):
        return {'clientId': self.client_id, 'certificateId': self.cert_id, 'thingName': self.thing_name,
                'protocol': 'MQTT 5' if self.protocol_level == 5 else 'MQTT 3.1.1',
                'protocolLevel': self.protocol_level, 'remote': self.remote, 'keepAliveSeconds': self.keep_alive,
                'connectedAt': self.connected_at, 'sni': self.sni, 'alpn': self.alpn,
                'persistentSession': bool(self.session and self.session.expiry),
                'subscriptions': [{'topicFilter': f, 'qos': s.qos} for f, s in sorted(self.session.subs.items())]
                if self.session else []}


class Closed(Exception):
    """Raised inside packet handling once the connection has been closed."""


class Broker:
    def __init__(self, emu, host, port, ssl_context, record, handlers=()):
        self.emu = emu
        self.ctx = ssl_context
        self.record_event = record
        self.handlers = list(handlers)
        self.sessions = {}          # client id -> Session
        self.conns = set()
        self.retained = {}          # topic -> Message
        self.keep_alive_min = KEEP_ALIVE_MIN
        self.sel = selectors.DefaultSelector()
        self.commands = queue.Queue()
        self.ready = set()          # connections with TLS bytes already decrypted but not yet read
        self.workers = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix='awsemu-reserved')
        self.listeners = [_listen(host, port)]
        self.port = self.listeners[0].getsockname()[1]
        if host == '127.0.0.1':  # 'localhost' may resolve to ::1 first; some clients try only that
            try:
                self.listeners.append(_listen('::1', self.port))
            except OSError:
                pass
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        for lst in self.listeners:
            self.sel.register(lst, selectors.EVENT_READ, lst)
        self.sel.register(self.wake_r, selectors.EVENT_READ, 'wake')
        self.running = False
        self.thread = None
        self.accept_paused_until = None

    # ------------------------------------------------------------ life cycle and cross-thread calls

    def start(self):
        self.running = True
        self.thread = threading.Thread(target=self._loop, name='awsemu-mqtt', daemon=True)
        self.thread.start()

    def stop(self):
        if not self.running:
            return
        try:
            self.call(lambda: self._close_all('the emulator is shutting down', 0x8B), timeout=5)
        except Exception:
            pass
        self.running = False
        self._wake()
        self.thread.join(5)
        self.workers.shutdown(wait=False)
        for s in self.listeners + [self.wake_r, self.wake_w]:
            s.close()

    def call(self, fn, wait=True, timeout=10):
        """Runs fn() on the broker's thread; with wait, returns its result (never call while holding the
        state lock: the loop may be waiting for it)."""
        fut = concurrent.futures.Future()
        self.commands.put((fn, fut))
        self._wake()
        return fut.result(timeout) if wait else fut

    def _wake(self):
        try:
            self.wake_w.send(b'x')
        except (BlockingIOError, OSError):
            pass

    def _loop(self):
        while self.running:
            timeout = 0 if self.ready else self._next_timeout()
            for key, mask in self.sel.select(timeout):
                self._dispatch(key.data, mask)
            for conn in list(self.ready):
                self.ready.discard(conn)
                self._guard(conn, self._read, conn)
            self._expire()

    def _dispatch(self, data, mask):
        if isinstance(data, socket.socket):
            self._accept(data)
        elif data == 'wake':
            self._run_commands()
        elif data.state == 'handshake':
            self._guard(data, self._handshake, data)
        else:
            if mask & selectors.EVENT_WRITE:
                self._guard(data, self._flush, data)
            if mask & selectors.EVENT_READ and data.state != 'closed':
                self._guard(data, self._read, data)

    def _guard(self, conn, fn, *args):
        """A bug in handling one client closes that client, never the broker."""
        try:
            fn(*args)
        except Closed:
            pass
        except Exception:
            self.emu_log('broker error for %s:\n%s' % (conn.remote, traceback.format_exc()))
            self.close(conn, 'internal error in the emulator', 0x80)

    def emu_log(self, msg):
        import sys
        sys.stderr.write('awsemu broker: %s\n' % msg)
        sys.stderr.flush()

    def _run_commands(self):
        try:
            while self.wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        while True:
            try:
                fn, fut = self.commands.get_nowait()
            except queue.Empty:
                return
            try:
                fut.set_result(fn())
            except Exception as e:
                fut.set_exception(e)

    def _next_timeout(self):
        now = time.monotonic()
        nearest = min((c.deadline for c in self.conns if c.deadline), default=now + 1.0)
        return max(0.0, min(1.0, nearest - now))

    def _pause_accepting(self):
        for lst in self.listeners:
            self.sel.unregister(lst)
        self.accept_paused_until = time.monotonic() + 0.5

    def _expire(self):
        now = time.monotonic()
        if self.accept_paused_until is not None and now >= self.accept_paused_until:
            self.accept_paused_until = None
            for lst in self.listeners:
                self.sel.register(lst, selectors.EVENT_READ, lst)
        for conn in [c for c in self.conns if c.deadline and c.deadline <= now]:
            if conn.state == 'handshake':
                self._refuse_tls(conn, 'TLS handshake not finished within %d s' % HANDSHAKE_TIMEOUT)
            elif conn.state == 'connect':
                self.close(conn, 'no CONNECT within %d s of the TLS handshake' % CONNECT_TIMEOUT)
            else:
                self.close(conn, 'keep-alive timeout: nothing received for 1.5 x %d s' % conn.keep_alive, 0x8D)
        for cid, s in list(self.sessions.items()):
            if s.conn is None and s.expires_at is not None and s.expires_at <= now:
                del self.sessions[cid]

    # ------------------------------------------------------------ TLS

    def _accept(self, listener):
        while True:
            try:
                raw, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # out of file descriptors: stop accepting for a moment instead of spinning
                self.record('refused', reason='accept failed: %s' % e, stage='tcp')
                return self._pause_accepting()
            if len(self.conns) >= MAX_CONNECTIONS:
                self.record('refused', reason='more than %d connections' % MAX_CONNECTIONS, stage='tcp',
                            remote='%s:%s' % addr[:2])
                raw.close()
                continue
            raw.setblocking(False)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                sock = self.ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            conn = Connection(sock, addr)
            self.conns.add(conn)
            self._want(conn, selectors.EVENT_READ)

    def _want(self, conn, events):
        if conn.events == events:
            return
        if conn.events:
            self.sel.modify(conn.sock, events, conn)
        else:
            self.sel.register(conn.sock, events, conn)
        conn.events = events

    def _handshake(self, conn):
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            return self._want(conn, selectors.EVENT_READ)
        except ssl.SSLWantWriteError:
            return self._want(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
        except (ssl.SSLError, OSError) as e:
            reason = getattr(conn.sock, 'awsemu_tls_error', None) or 'TLS handshake failed: %s' % _ssl_reason(e)
            return self._refuse_tls(conn, reason)
        der = conn.sock.getpeercert(binary_form=True)
        conn.cert_id = hashlib.sha256(der).hexdigest()
        conn.cert_pem = ssl.DER_cert_to_PEM_cert(der)
        conn.sni = getattr(conn.sock, 'awsemu_sni', None)
        conn.alpn = conn.sock.selected_alpn_protocol()
        conn.state = 'connect'
        conn.deadline = time.monotonic() + CONNECT_TIMEOUT
        self._want(conn, selectors.EVENT_READ)
        self._read(conn)

    def _refuse_tls(self, conn, reason):
        self.record('refused', conn, reason=reason, stage='tls')
        self._drop(conn)

    # ------------------------------------------------------------ bytes in, bytes out

    def _read(self, conn):
        for _ in range(16):
            try:
                data = conn.sock.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except (ssl.SSLError, OSError) as e:
                return self.close(conn, 'connection lost: %s' % _ssl_reason(e))
            if not data:
                return self.close(conn, 'the client closed the connection')
            conn.inbuf += data
            self._packets(conn)
            if conn.state == 'closed':
                return
        if conn.sock.pending():
            self.ready.add(conn)

    def _packets(self, conn):
        while conn.state in ('connect', 'open'):
            try:
                fr = mc.parse_frame(conn.inbuf, MAX_PACKET)
            except mc.MqttError as e:
                return self._protocol_failure(conn, e)
            if fr is None:
                return
            ptype, flags, body, used = fr
            del conn.inbuf[:used]
            try:
                self._packet(conn, ptype, flags, body)
            except mc.MqttError as e:
                return self._protocol_failure(conn, e)

    def _protocol_failure(self, conn, e):
        self.close(conn, '%s (reason code 0x%02X)' % (e.message, e.reason_code), e.reason_code)
        raise Closed()

    def send(self, conn, data):
        if conn.state == 'closed':
            return False
        if len(conn.outbuf) + len(data) > MAX_OUTBUF:
            self.close(conn, 'the client does not read: more than %d bytes waiting' % MAX_OUTBUF)
            return False
        conn.outbuf += data
        self._flush(conn)
        return True

    def _flush(self, conn):
        while conn.outbuf:
            try:
                n = conn.sock.send(conn.outbuf[:65536])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                return self._want(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
            except (ssl.SSLError, OSError) as e:
                # no Closed here: a failing receiver must not stop the sender's routing loop
                return self.close(conn, 'connection lost while sending: %s' % _ssl_reason(e))
            del conn.outbuf[:n]
        if conn.state != 'closed':
            self._want(conn, selectors.EVENT_READ)

    # ------------------------------------------------------------ closing

    def close(self, conn, reason, code=None, will=True, event='disconnect'):
        """Closes a connection (MQTT 5 clients first get a DISCONNECT with the reason code)."""
        if conn.state == 'closed':
            return
        was_open = conn.state == 'open'
        if was_open and conn.protocol_level == 5 and code is not None and code >= 0x80:
            self._last_words(conn, mc.encode_disconnect(code, {'reason_string': reason[:200]}))
        conn.state = 'closed'
        self._drop(conn)
        if not was_open and conn.client_id is None:
            if event == 'disconnect':
                self.record('refused', conn, reason=reason, stage='mqtt')
            return
        self.record(event, conn, reason=reason, reasonCode=code)
        s = conn.session
        if s is not None and s.conn is conn:
            s.conn = None
            if s.expiry:
                s.expires_at = time.monotonic() + s.expiry
            elif self.sessions.get(s.client_id) is s:
                del self.sessions[s.client_id]
        if will and conn.will is not None and was_open:
            self._publish_will(conn)

    def _last_words(self, conn, data):
        """Best effort: the DISCONNECT goes out if the socket takes it now."""
        try:
            conn.sock.send(bytes(conn.outbuf) + data)
        except (ssl.SSLError, OSError):
            pass
        conn.outbuf.clear()

    def _drop(self, conn):
        conn.state = 'closed'
        self.ready.discard(conn)
        self.conns.discard(conn)
        if conn.events:
            try:
                self.sel.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
            conn.events = 0
        try:
            conn.sock.close()
        except OSError:
            pass

    def _close_all(self, reason, code):
        for conn in list(self.conns):
            self.close(conn, reason, code, will=False)

    # ------------------------------------------------------------ events and authorization

    def record(self, kind, conn=None, **fields):
        ev = {'type': kind}
        if conn is not None:
            ev.update({'clientId': conn.client_id, 'certificateId': conn.cert_id, 'thingName': conn.thing_name,
                       'protocol': 'MQTT 5' if conn.protocol_level == 5 else 'MQTT 3.1.1', 'remote': conn.remote})
        ev.update({k: v for k, v in fields.items() if v is not None})
        self.record_event(ev)

    def arn(self, kind, name):
        return 'arn:aws:iot:%s:%s:%s/%s' % (self.emu.region, self.emu.account, kind, name)

    def authorize(self, conn, action, kind, name, connect_attributes=None):
        """(allowed, reason): the certificate must still be ACTIVE, then the policies decide."""
        with self.emu.store.lock:
            st = self.emu.store.data
            problem = certificate_problem(st, conn.cert_id, self.emu.now().timestamp())
            if problem:
                return False, problem
            conn.thing_name = iotpolicy.attached_thing(st, conn.cert_id, conn.client_id)
            variables = iotpolicy.connection_variables(st, conn.cert_id, conn.client_id, conn.thing_name,
                                                       conn.remote_ip, connect_attributes)
            return iotpolicy.evaluate(st, conn.cert_id, action, self.arn(kind, name), variables)

    # ------------------------------------------------------------ packets

    def _packet(self, conn, ptype, flags, body):
        if conn.state == 'connect':
            if ptype != mc.CONNECT:
                raise mc.protocol_error('the first packet must be CONNECT, not %s' % mc.NAMES.get(ptype, ptype))
            return self._on_connect(conn, flags, body)
        conn.deadline = time.monotonic() + conn.keep_alive * 1.5
        level = conn.protocol_level
        if ptype == mc.PUBLISH:
            self._on_publish(conn, mc.decode_publish(flags, body, level))
        elif ptype == mc.PUBACK:
            self._on_puback(conn, *mc.decode_ack(flags, body, level, ptype))
        elif ptype == mc.SUBSCRIBE:
            self._on_subscribe(conn, *mc.decode_subscribe(flags, body, level))
        elif ptype == mc.UNSUBSCRIBE:
            self._on_unsubscribe(conn, *mc.decode_unsubscribe(flags, body, level))
        elif ptype == mc.PINGREQ:
            mc.decode_empty(ptype, flags, body)
            self.send(conn, mc.encode_pingresp())
        elif ptype == mc.DISCONNECT:
            self._on_disconnect(conn, *mc.decode_disconnect(flags, body, level))
        elif ptype == mc.CONNECT:
            raise mc.protocol_error('a second CONNECT on one connection')
        elif ptype in (mc.PUBREC, mc.PUBREL, mc.PUBCOMP):
            raise mc.protocol_error('%s: AWS IoT does not support QoS 2' % mc.NAMES[ptype])
        elif ptype == mc.AUTH and level == 5:
            raise mc.protocol_error('AUTH: the broker offers no enhanced authentication')
        else:
            raise mc.malformed('packet type %d is not sent by clients' % ptype)

    # -- CONNECT

    def _on_connect(self, conn, flags, body):
        try:
            c = mc.decode_connect(flags, body)
        except mc.UnsupportedLevel as e:
            self._last_words(conn, mc.encode_connack(4, False, 0x01))
            self.close(conn, e.message)
            raise Closed()
        conn.protocol_level = c.level
        refusal = self._connect_refusal(conn, c)
        if refusal:
            code, reason = refusal
            if c.level == 5:
                self._last_words(conn, mc.encode_connack(5, False, code, {'reason_string': reason[:200]}))
            elif code in (0x01, 0x02):
                self._last_words(conn, mc.encode_connack(4, False, code))
            # AWS closes an MQTT 3.1.1 connection it does not authorize without a CONNACK (clients see
            # "connection lost", error 7 in paho, where the spec would send CONNACK 5)
            self.record('refused', conn, reason=reason, stage='connect', reasonCode=code if c.level == 5 else None)
            self._drop(conn)
            raise Closed()
        self._accept_connect(conn, c)

    def _connect_refusal(self, conn, c):
        """(reason code, reason) when the CONNECT is refused, else None; fills the connection's fields."""
        v5 = c.level == 5
        conn.client_id = c.client_id
        if not c.client_id:
            if c.level == 4 and not c.clean:
                return 0x02, 'an empty client ID needs a clean session'
            conn.client_id = 'awsemu-' + uuid.uuid4().hex
            conn.assigned = True
        if len(conn.client_id.encode()) > MAX_CLIENT_ID_BYTES:
            return (0x85 if v5 else 0x02), 'client ID longer than %d bytes' % MAX_CLIENT_ID_BYTES
        if v5 and 'authentication_method' in c.properties:
            return 0x8C, 'enhanced authentication is not supported with certificates'
        if c.will is not None:
            bad = topic_problem(c.will.topic) or ('will payload over 128 KB' if len(c.will.payload) > MAX_PAYLOAD
                                                 else None)
            if bad:
                return (0x90 if v5 else 0x80), 'will message refused: %s' % bad
        attrs = (['PersistentConnect'] if _persistent(c) else []) + (['LastWill'] if c.will else [])
        ok, reason = self.authorize(conn, 'iot:Connect', 'client', conn.client_id, attrs)
        if not ok:
            return NOT_AUTHORIZED, 'iot:Connect refused: %s' % reason
        return None

    def _accept_connect(self, conn, c):
        props = {}
        ka = c.keep_alive
        conn.keep_alive = KEEP_ALIVE_MAX if ka == 0 or ka > KEEP_ALIVE_MAX else max(ka, self.keep_alive_min)
        if c.level == 5:
            props = dict(CONNACK_PROPS)
            if conn.keep_alive != ka:
                props['server_keep_alive'] = conn.keep_alive
            if conn.assigned:
                props['assigned_client_identifier'] = conn.client_id
            conn.client_receive_max = min(RECEIVE_MAX, c.properties.get('receive_maximum', RECEIVE_MAX))
            conn.client_max_packet = c.properties.get('maximum_packet_size')
        expiry = _session_expiry(c)
        if c.level == 5 and c.properties.get('session_expiry_interval', 0) > expiry:
            props['session_expiry_interval'] = expiry
        old = self.sessions.get(conn.client_id)
        if old is not None and old.conn is not None:
            self.close(old.conn, 'session taken over: another connection with client ID %s' % conn.client_id, 0x8E)
            old = self.sessions.get(conn.client_id)  # gone unless it was persistent
        present = old is not None and not c.clean and (old.expires_at is None or old.expires_at > time.monotonic())
        session = old if present else Session(conn.client_id)
        session.expiry, session.expires_at, session.conn = expiry, None, conn
        self.sessions[conn.client_id] = session
        conn.session, conn.will, conn.state = session, c.will, 'open'
        conn.connected_at = self.emu.now().strftime('%Y-%m-%dT%H:%M:%S.%fZ')
        conn.deadline = time.monotonic() + conn.keep_alive * 1.5
        self.record('connect', conn, sessionPresent=present, keepAliveSeconds=conn.keep_alive, sni=conn.sni,
                    alpn=conn.alpn, cleanSession=c.clean)
        self.send(conn, mc.encode_connack(c.level, present, 0, props))
        if present:
            self._resume(conn, session)

    def _resume(self, conn, session):
        for pid, msg in list(session.inflight.items()):
            self._transmit(conn, msg, pid, dup=True)
        self._drain(conn)

    # -- PUBLISH

    def _on_publish(self, conn, pub):
        v5 = conn.protocol_level == 5
        self._resolve_alias(conn, pub)
        if pub.qos == 2:
            if v5:
                return self._fail(conn, 'PUBLISH with QoS 2: AWS IoT supports QoS 0 and 1', 0x9B)
            # AWS: "When QoS level 2 is requested, the message broker doesn't send a PUBACK"
            return self.record('drop', conn, topic=pub.topic, reason='QoS 2 is not supported; no PUBACK sent')
        if len(pub.payload) > MAX_PAYLOAD:
            return self._fail(conn, 'PUBLISH payload of %d bytes is over the 128 KB limit' % len(pub.payload), 0x95)
        problem = topic_problem(pub.topic) or (
            'topics starting with $ are reserved' if pub.topic.startswith('$') and not pub.topic.startswith('$aws/')
            else None)
        if problem:
            return self._refuse_publish(conn, pub, problem, 0x90)
        if pub.retain and pub.topic.startswith('$aws/'):
            return self._fail(conn, 'RETAIN is not allowed on reserved topic %s' % pub.topic, 0x9A)
        ok, reason = self.authorize(conn, 'iot:Publish', 'topic', pub.topic)
        if ok and pub.retain:
            ok, reason = self.authorize(conn, 'iot:RetainPublish', 'topic', pub.topic)
        if not ok:
            return self._refuse_publish(conn, pub, reason, NOT_AUTHORIZED)
        full = self._full(conn, pub)
        if full:
            return self._refuse_publish(conn, pub, full, 0x97, ack_on_311=True)
        if pub.qos == 1:
            self.send(conn, mc.encode_ack(conn.protocol_level, mc.PUBACK, pub.packet_id))
        self._dispatch_publish(conn, pub)

    def _full(self, conn, pub):
        """Which of the emulator's bounds this PUBLISH would pass (AWS throttles; MQTT 5: Quota exceeded)."""
        if pub.topic.startswith('$aws/') and len(conn.handoff) >= MAX_HANDOFF:
            return 'more than %d requests waiting' % MAX_HANDOFF
        if pub.retain and pub.payload and pub.topic not in self.retained and len(self.retained) >= MAX_RETAINED:
            return 'the retained message limit (%d) is reached' % MAX_RETAINED
        return None

    def _resolve_alias(self, conn, pub):
        alias = pub.properties.get('topic_alias')
        if alias is None:
            return
        if alias > TOPIC_ALIAS_MAX:
            raise mc.MqttError(0x94, 'topic alias %d is over the maximum of %d' % (alias, TOPIC_ALIAS_MAX))
        if pub.topic:
            conn.aliases[alias] = pub.topic
        elif alias in conn.aliases:
            pub.topic = conn.aliases[alias]
        else:
            raise mc.protocol_error('topic alias %d was never set on this connection' % alias)

    def _fail(self, conn, reason, code):
        """A violation that ends the connection (MQTT 5: DISCONNECT with the reason code)."""
        self.close(conn, reason, code)
        raise Closed()

    def _refuse_publish(self, conn, pub, reason, code, ack_on_311=False):
        """AWS disconnects an MQTT 3.1.1 client; an MQTT 5 client gets a PUBACK with the reason code
        (QoS 1) or nothing (QoS 0) and stays connected. ack_on_311: a limit of the emulator, not a
        refusal: the 3.1.1 client gets its PUBACK and the message is dropped."""
        self.record('publish-refused', conn, topic=pub.topic, qos=pub.qos, reason=reason,
                    reasonCode=code if conn.protocol_level == 5 else None)
        if conn.protocol_level == 4 and ack_on_311:
            if pub.qos == 1:
                self.send(conn, mc.encode_ack(4, mc.PUBACK, pub.packet_id))
            return
        if conn.protocol_level == 4:
            self.close(conn, 'PUBLISH to %s refused: %s' % (pub.topic, reason))
            raise Closed()
        if pub.qos == 1:
            self.send(conn, mc.encode_ack(5, mc.PUBACK, pub.packet_id, code, {'reason_string': reason[:200]}))

    def _dispatch_publish(self, conn, pub):
        if pub.topic.startswith('$aws/'):
            handler = next((h for h in RESERVED_HANDLERS + self.handlers if h.handles(pub.topic)), None)
            if handler is None:
                return self.record('drop', conn, topic=pub.topic,
                                   reason='reserved topic not emulated; nothing subscribes to it')
            self.record('publish-reserved', conn, topic=pub.topic, bytes=len(pub.payload),
                        handler=getattr(handler, '__name__', type(handler).__name__))
            conn.handoff.append((handler, pub.topic, pub.payload))
            return self._next_handoff(conn)
        props = {k: v for k, v in pub.properties.items() if k not in ('topic_alias',)}
        msg = Message(pub.topic, pub.payload, pub.qos, pub.retain, props)
        if pub.retain:
            self._retain(msg)
        self.route(msg, conn.session)

    def _retain(self, msg):
        """Stores (or, empty, deletes) a retained message; False when the store is full (AWS throttles)."""
        if not msg.payload:
            self.retained.pop(msg.topic, None)
        elif msg.topic in self.retained or len(self.retained) < MAX_RETAINED:
            self.retained[msg.topic] = msg
        else:
            return False
        return True

    # -- reserved topics: run by a worker thread, answers back on the loop

    def _next_handoff(self, conn):
        if conn.handoff_busy or not conn.handoff:
            return
        conn.handoff_busy = True
        handler, topic, payload = conn.handoff.popleft()
        self.workers.submit(self._run_handler, conn, handler, topic, payload)

    def _run_handler(self, conn, handler, topic, payload):
        try:
            answers = list(handler.handle(self.emu, conn, topic, payload) or [])
            error = None
        except Exception:
            answers, error = [], traceback.format_exc()
        self.call(lambda: self._handler_done(conn, topic, answers, error), wait=False)

    def _handler_done(self, conn, topic, answers, error):
        conn.handoff_busy = False
        if error:
            self.emu_log('reserved topic handler failed for %s:\n%s' % (topic, error))
            self.record('handler-error', conn, topic=topic, reason=error.strip().splitlines()[-1][:300])
        for atopic, apayload in answers:
            self.answer(conn, atopic, apayload)
        if conn.state == 'open':
            self._next_handoff(conn)

    def answer(self, conn, topic, payload):
        """An answer of AWS to this connection alone: delivered only if it subscribes to the topic and may
        receive it, else dropped (as AWS drops it)."""
        if conn.state != 'open':
            return self.record('drop', conn, topic=topic, reason='answer for a closed connection')
        sub = best_subscription(conn.session, topic)
        if sub is None:
            return self.record('drop', conn, topic=topic, reason='the client does not subscribe to this topic')
        self.deliver(conn.session, Message(topic, payload, 1), sub)

    # -- routing and delivery

    def route(self, msg, sender):
        for session in list(self.sessions.values()):
            sub = best_subscription(session, msg.topic)
            if sub is None or (sub.no_local and session is sender):
                continue
            self.deliver(session, msg, sub)

    def deliver(self, session, msg, sub, retained=False):
        qos = min(msg.qos, sub.qos)
        conn = session.conn
        if conn is None:
            if qos and len(session.queue) < MAX_QUEUED:
                session.queue.append((msg, sub))
            return
        ok, reason = self.authorize(conn, 'iot:Receive', 'topic', msg.topic)
        if not ok:
            return self.record('drop', conn, topic=msg.topic, reason='iot:Receive refused: %s' % reason)
        out = Message(msg.topic, msg.payload, qos, retained or (msg.retain and sub.retain_as_published), msg.props)
        if qos == 0:
            return self._transmit(conn, out, None)
        if len(session.inflight) >= conn.client_receive_max:
            if len(session.queue) >= MAX_QUEUED:
                return self.record('drop', conn, topic=msg.topic, reason='more than %d messages waiting' % MAX_QUEUED)
            return session.queue.append((out, sub))
        pid = session.new_pid()
        session.inflight[pid] = out
        self._transmit(conn, out, pid)

    def _transmit(self, conn, msg, pid, dup=False):
        pub = mc.Publish(msg.topic, msg.payload, msg.qos, msg.retain, dup, pid)
        props = None
        if conn.protocol_level == 5:
            props = dict(msg.props)
            if 'message_expiry_interval' in props:
                left = props['message_expiry_interval'] - int(time.monotonic() - msg.created)
                if left <= 0:
                    conn.session.inflight.pop(pid, None)
                    return self.record('drop', conn, topic=msg.topic, reason='message expired')
                props['message_expiry_interval'] = left
        data = mc.encode_publish(conn.protocol_level, pub, props)
        if conn.client_max_packet and len(data) > conn.client_max_packet:
            conn.session.inflight.pop(pid, None)
            return self.record('drop', conn, topic=msg.topic, reason="larger than the client's maximum packet size")
        self.send(conn, data)

    def _drain(self, conn):
        s = conn.session
        while s.queue and len(s.inflight) < conn.client_receive_max and conn.state == 'open':
            msg, sub = s.queue.popleft()
            self.deliver(s, msg, sub)

    def _on_puback(self, conn, pid, code):
        if conn.session.inflight.pop(pid, None) is not None:
            self._drain(conn)

    # -- SUBSCRIBE / UNSUBSCRIBE

    def _on_subscribe(self, conn, pid, props, subs):
        v5 = conn.protocol_level == 5
        if 'subscription_identifier' in props:
            raise mc.MqttError(0xA1, 'AWS IoT does not support subscription identifiers')
        if not v5 and any(s.qos == 2 for s in subs):
            # AWS: "When QoS level 2 is requested, the message broker doesn't send a ... SUBACK"
            return self.record('subscribe-refused', conn, topicFilter=subs[0].topic_filter,
                               reason='QoS 2 requested: AWS sends no SUBACK')
        if len(subs) > MAX_FILTERS_PER_SUBSCRIBE:
            codes = [0x97 if v5 else 0x80] * len(subs)
            self.record('subscribe-refused', conn, topicFilter=subs[0].topic_filter,
                        reason='%d filters in one SUBSCRIBE (AWS allows %d)' % (len(subs), MAX_FILTERS_PER_SUBSCRIBE))
            return self.send(conn, mc.encode_suback(conn.protocol_level, pid, codes))
        codes, granted = [], []
        for s in subs:
            code = self._subscribe_one(conn, s)
            codes.append(code)
            if code < 0x80:
                granted.append(s)
        self.send(conn, mc.encode_suback(conn.protocol_level, pid, codes))
        for s in granted:
            self._send_retained(conn, s)

    def _subscribe_one(self, conn, s):
        v5 = conn.protocol_level == 5
        new = s.topic_filter not in conn.session.subs
        problem, code = self._filter_problem(s.topic_filter)
        if problem is None:
            ok, reason = self.authorize(conn, 'iot:Subscribe', 'topicfilter', s.topic_filter)
            problem, code = (None, 0) if ok else ('iot:Subscribe refused: %s' % reason, NOT_AUTHORIZED)
        if problem is None and new and len(conn.session.subs) >= MAX_SUBSCRIPTIONS:
            # AWS: requests that take a connection over 50 subscriptions are disconnected
            self._fail(conn, 'more than %d subscriptions on one connection' % MAX_SUBSCRIPTIONS, 0x97)
        if problem is not None:
            self.record('subscribe-refused', conn, topicFilter=s.topic_filter, reason=problem,
                        reasonCode=code if v5 else 0x80)
            return code if v5 else 0x80
        s.qos = min(s.qos, 1)
        s.is_new = new
        conn.session.subs[s.topic_filter] = s
        self.record('subscribe', conn, topicFilter=s.topic_filter, qos=s.qos)
        return s.qos

    def _filter_problem(self, flt):
        if flt.startswith('$share/'):
            return 'shared subscriptions are not emulated', 0x9E
        try:
            mc.check_topic_filter(flt)
        except mc.MqttError as e:
            return e.message, 0x8F
        problem = topic_problem(flt)
        return (problem, 0x8F) if problem else (None, 0)

    def _send_retained(self, conn, s):
        """AWS delivers a retained message only to a subscription to its exact topic (no wildcards)."""
        if mc.has_wildcard(s.topic_filter) or s.retain_handling == 2 or (s.retain_handling == 1 and not s.is_new):
            return
        msg = self.retained.get(s.topic_filter)
        if msg is not None:
            self.deliver(conn.session, msg, s, retained=True)

    def _on_unsubscribe(self, conn, pid, filters):
        codes = []
        for f in filters:
            existed = conn.session.subs.pop(f, None) is not None
            codes.append(0x00 if existed else 0x11)
            self.record('unsubscribe', conn, topicFilter=f, existed=existed)
        self.send(conn, mc.encode_suback(conn.protocol_level, pid, codes, mc.UNSUBACK))

    # -- DISCONNECT and the will

    def _on_disconnect(self, conn, code, props):
        s = conn.session
        if 'session_expiry_interval' in props:
            if not s.expiry and props['session_expiry_interval']:
                raise mc.protocol_error('DISCONNECT sets a session expiry the CONNECT did not have')
            s.expiry = min(props['session_expiry_interval'], SESSION_EXPIRY)
        self.close(conn, 'the client sent DISCONNECT (reason code 0x%02X)' % code, None, will=code == 0x04)
        raise Closed()

    def _publish_will(self, conn):
        w = conn.will
        ok, reason = self.authorize(conn, 'iot:Publish', 'topic', w.topic)
        if ok and w.retain:
            ok, reason = self.authorize(conn, 'iot:RetainPublish', 'topic', w.topic)
        if not ok:
            return self.record('drop', conn, topic=w.topic, reason='will message refused: %s' % reason)
        self.record('will', conn, topic=w.topic)
        msg = Message(w.topic, w.payload, min(w.qos, 1), w.retain,
                      {k: v for k, v in w.properties.items() if k != 'will_delay_interval'})
        if w.retain and not self._retain(msg):
            return self.record('drop', conn, topic=w.topic, reason='the retained message limit is reached')
        self.route(msg, None)

    # ------------------------------------------------------------ control (run on the loop via call())

    def connections(self):
        return self.call(lambda: [c.describe() for c in self.conns if c.state == 'open'])

    def disconnect(self, certificate_id=None, client_id=None, reason='administrative action', wait=True):
        def run():
            hit = [c for c in self.conns if c.state == 'open' and
                   ((certificate_id and c.cert_id == certificate_id) or (client_id and c.client_id == client_id))]
            for c in hit:
                self.close(c, reason, 0x98)
            return len(hit)
        return self.call(run, wait=wait)

    def reset(self):
        def run():
            self._close_all('the emulator was reset', 0x98)
            self.sessions.clear()
            self.retained.clear()
        return self.call(run)


# ------------------------------------------------------------------ helpers

def _listen(host, port):
    sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(256)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _ssl_reason(e):
    return getattr(e, 'reason', None) or str(e) or type(e).__name__


def _persistent(c):
    if c.level == 5:
        return c.properties.get('session_expiry_interval', 0) > 0
    return not c.clean


def _session_expiry(c):
    if c.level == 5:
        return min(c.properties.get('session_expiry_interval', 0), SESSION_EXPIRY)
    return 0 if c.clean else SESSION_EXPIRY


def topic_problem(topic):
    """AWS's limits on topic names and filters: 256 bytes, 7 slashes ('$aws/rules/<rule>/' not counted)."""
    if len(topic.encode()) > MAX_TOPIC_BYTES:
        return 'topic longer than %d bytes' % MAX_TOPIC_BYTES
    counted = topic
    if topic.startswith('$aws/rules/'):
        counted = topic.split('/', 3)[3] if topic.count('/') >= 3 else ''
    if counted.count('/') > MAX_SLASHES:
        return 'topic with more than %d slashes' % MAX_SLASHES
    return None


def best_subscription(session, topic):
    """The matching subscription with the highest QoS (one delivery per message and client)."""
    best = None
    if session is None:
        return None
    for flt, sub in session.subs.items():
        if mc.topic_matches(flt, topic) and (best is None or sub.qos > best.qos):
            best = sub
    return best


def certificate_problem(st, cert_id, now_ts):
    """Why a client certificate may not be used now (None when it is ACTIVE and valid).

    notBefore is compared with the later of now_ts and the real time: every certificate the
    emulator holds was issued by it at a real time (notBefore = issue time - 5 min), which AWS's
    clock never runs behind, so a certificate is "not valid yet" only to a clock moved back by
    /__emu/clock, the control tests use to stamp device traffic in the past (days of a production
    line) with certificates made today."""
    cert = st['iot']['certificates'].get(cert_id)
    if cert is None:
        return 'certificate %s is not registered' % cert_id[:12]
    if cert['status'] != 'ACTIVE':
        return 'certificate %s is %s' % (cert_id[:12], cert['status'])
    validity = cert.get('validity') or {}
    if validity.get('notAfter') is not None and now_ts > validity['notAfter']:
        return 'certificate %s expired' % cert_id[:12]
    if validity.get('notBefore') is not None and max(now_ts, time.time()) < validity['notBefore']:
        return 'certificate %s is not valid yet' % cert_id[:12]
    return None
