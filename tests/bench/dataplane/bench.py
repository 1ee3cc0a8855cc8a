#!/usr/bin/python3
"""Benchmark of the emulated AWS IoT data plane (tests/awsemu broker): MQTT connections per second,
publish round trips per second, and the emulator's memory with N connected clients.

The client is raw Python ssl with hand-written MQTT 3.1.1 packets (no client library in the way); the
TLS-only connection rate against the same port is the ceiling the MQTT work is compared with.
Prints a Markdown table. Not part of the test suite.

usage: tests/bench/dataplane/bench.py [--connects N] [--round-trips N] [--clients N] [--threads N]
"""

import argparse
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EMU = os.path.join(ROOT, 'tests', 'awsemu', 'awsemu.py')
POLICY = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Action': ['iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive'], 'Resource': '*'}]})


def mstr(s):
    b = s.encode()
    return struct.pack('>H', len(b)) + b


def packet(first, body):
    n, out = len(body), b''
    while True:
        d, n = n % 128, n // 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            break
    return bytes([first]) + out + body


def connect_packet(cid):
    return packet(0x10, mstr('MQTT') + b'\x04\x02\x00\x3c' + mstr(cid))


class Emulator:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='bench-dataplane-')
        self.ca = os.path.join(self.dir, 'ca.pem')
        ready = os.path.join(self.dir, 'ready.json')
        self.proc = subprocess.Popen(['/usr/bin/python3', EMU, '--port', '0', '--no-quotas', '--ready-file', ready,
                                      '--endpoint-host', 'localhost', '--server-ca-file', self.ca],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, 'err.log'), 'w'))
        for _ in range(300):
            if os.path.exists(ready):
                break
            time.sleep(0.05)
        with open(ready) as f:
            self.info = json.load(f)
        self.port = self.info['mqttPort']

    def api(self):
        import botocore.session
        return botocore.session.get_session().create_client(
            'iot', region_name='us-east-1', endpoint_url=self.info['url'], aws_access_key_id='AKIDEXAMPLE',
            aws_secret_access_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')

    def device(self):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'bench')])).sign(key, hashes.SHA256()))
        iot = self.api()
        out = iot.create_certificate_from_csr(
            certificateSigningRequest=csr.public_bytes(serialization.Encoding.PEM).decode(), setAsActive=True)
        iot.create_policy(policyName='bench', policyDocument=POLICY)
        iot.attach_policy(policyName='bench', target=out['certificateArn'])
        cf, kf = os.path.join(self.dir, 'cert.pem'), os.path.join(self.dir, 'key.pem')
        with open(cf, 'w') as f:
            f.write(out['certificatePem'])
        with open(kf, 'wb') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.load_cert_chain(cf, kf)
        return ctx

    def rss_kb(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    def threads(self):
        return len(os.listdir('/proc/%d/task' % self.proc.pid))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def tls(emu, ctx):
    raw = socket.create_connection(('127.0.0.1', emu.port), timeout=30)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else Nagle + delayed ACK cap a QoS 1 loop at ~25/s
    return ctx.wrap_socket(raw, server_hostname='localhost')


def read_packet(s):
    head = s.recv(2)
    if len(head) < 2:
        raise ConnectionError('closed')
    n, mult, b = 0, 1, head[1]
    while True:
        n += (b & 0x7F) * mult
        if not b & 0x80:
            break
        mult *= 128
        b = s.recv(1)[0]
    body = b''
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise ConnectionError('closed')
        body += chunk
    return head[0], body


def rate(fn, count, threads):
    """Runs fn(i) count times over `threads` threads; returns calls per second."""
    per = count // threads
    errors = []

    def work(t):
        try:
            for i in range(per):
                fn(t * per + i)
        except Exception as e:  # a failed run must show, not count as fast
            errors.append(e)
    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return per * threads / took


def bench_connects(emu, ctx, n, threads):
    def tls_only(i):
        tls(emu, ctx).close()

    def mqtt(i):
        s = tls(emu, ctx)
        s.sendall(connect_packet('bench-c-%d' % i))
        first, body = read_packet(s)
        assert first == 0x20 and body == b'\x00\x00', (first, body)
        s.sendall(b'\xe0\x00')
        s.close()
    return rate(tls_only, n, threads), rate(mqtt, n, threads)


def bench_round_trips(emu, ctx, n, qos):
    s = tls(emu, ctx)
    s.sendall(connect_packet('bench-rt-%d' % qos))
    read_packet(s)
    s.sendall(packet(0x82, b'\x00\x01' + mstr('bench/rt') + bytes([qos])))
    read_packet(s)
    payload = b'x' * 64

    def one(i):
        pid = i % 65535 + 1
        s.sendall(packet(0x30 | (qos << 1), mstr('bench/rt') + (struct.pack('>H', pid) if qos else b'') + payload))
        while True:
            first, body = read_packet(s)
            if first >> 4 == 3:  # the message back
                if qos:
                    s.sendall(b'\x40\x02' + body[2 + 8:2 + 8 + 2])  # PUBACK the delivery
                return
    r = rate(one, n, 1)
    s.close()
    return r


def bench_memory(emu, ctx, clients):
    before = emu.rss_kb()
    socks = []
    for i in range(clients):
        s = tls(emu, ctx)
        s.sendall(connect_packet('bench-m-%d' % i))
        read_packet(s)
        s.sendall(packet(0x82, b'\x00\x01' + mstr('bench/m/%d' % i) + b'\x01'))
        read_packet(s)
        socks.append(s)
    time.sleep(1)
    with urllib.request.urlopen(emu.info['url'] + '/__emu/dataplane/connections') as r:
        open_conns = len(json.load(r)['connections'])
    after, threads = emu.rss_kb(), emu.threads()
    for s in socks:
        s.close()
    return before, after, open_conns, threads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--connects', type=int, default=400)
    ap.add_argument('--round-trips', type=int, default=2000)
    ap.add_argument('--clients', type=int, default=200)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    emu = Emulator()
    try:
        ctx = emu.device()
        bench_connects(emu, ctx, 20, 1)  # warm-up
        tls_rate, mqtt_rate = bench_connects(emu, ctx, a.connects, a.threads)
        rt1 = bench_round_trips(emu, ctx, a.round_trips, 1)
        rt0 = bench_round_trips(emu, ctx, a.round_trips, 0)
        before, after, conns, threads = bench_memory(emu, ctx, a.clients)
    finally:
        emu.stop()
    load = os.getloadavg()[0]
    print('Data plane benchmark (%s, %d cores, load average %.1f at the end)' % (
        time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime()), os.cpu_count(), load))
    print()
    print('| measure | result | ceiling (same run) | ratio |')
    print('|---|---|---|---:|')
    print('| MQTT 3.1.1 connections (TLS + CONNECT/CONNACK + DISCONNECT, %d over %d client threads) '
          '| %.0f connections/s | TLS handshake only, same port: %.0f/s | %.2f |'
          % (a.connects, a.threads, mqtt_rate, tls_rate, mqtt_rate / tls_rate))
    print('| QoS 1 publish round trips (PUBLISH -> PUBACK + delivery -> PUBACK, one in flight) | %.0f round trips/s '
          '| | |' % rt1)
    print('| QoS 0 publish round trips (PUBLISH -> delivery, one in flight) | %.0f round trips/s | | |' % rt0)
    print('| emulator memory (RSS) with %d connected clients (1 subscription each) | %.1f MB (idle %.1f MB: '
          '+%.0f KB per client), %d threads | | |'
          % (conns, after / 1024, before / 1024, (after - before) / max(conns, 1), threads))
    return 0


if __name__ == '__main__':
    sys.exit(main())
