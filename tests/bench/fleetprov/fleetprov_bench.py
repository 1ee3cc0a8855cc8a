#!/usr/bin/env python3
"""Fleet provisioning calls per second that tests/awsemu/fleetprov.py sustains when called directly
(fleetprov.handle, as the broker calls it; no MQTT, no TLS), one thread, emulator quotas off.

Measured, each after `--warm` devices are already registered (the registry's size matters: the certificate
sweep and the group lookups walk it):
  csr        CreateCertificateFromCsr (EC P-256 CSRs made beforehand)
  register   RegisterThing with a template like fleetwarden's (thing in a group, certificate ACTIVE, a
             policy by name), tokens made beforehand
  keys       CreateKeysAndCertificate (the emulator makes an RSA-2048 key each time)
  device     CreateCertificateFromCsr + RegisterThing, one device after the other

Each row runs twice: as the emulator runs (every call also updates the CloudWatch metrics, fpmetrics.py) and
with the metrics calls replaced by no-ops, which shows what fleetprov.py itself costs.

Usage: fleetprov_bench.py [--n N] [--warm W...] [--keys K] [--out RESULTS.md]
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'awsemu', 'tests'))

import provharness as ph  # noqa: E402
import fleetprov  # noqa: E402

REAL_METRICS = fleetprov.fpmetrics

TEMPLATE = ph.greengrass_body()


class Bench:
    def __init__(self):
        self.ip = ph.InProcEmu()
        acct = ph.Account(self.ip)
        acct.iot.create_thing_group(thingGroupName='Fleet')
        acct.iot.create_policy(policyName='GreengrassV2IoTThingPolicy', policyDocument=ph.THING_POLICY)
        acct.template('Tpl', TEMPLATE, acct.role('GreengrassFleetProvisioningRole'))
        self.dev = ph.Device(self.ip.emu, acct.claim())
        self.seq = 0

    def csr_topic(self, pem):
        return fleetprov.handle(self.ip.emu, self.dev.conn, '$aws/certificates/create-from-csr/json',
                                json.dumps({'certificateSigningRequest': pem}).encode())

    def register_payload(self, token):
        self.seq += 1
        return json.dumps({'certificateOwnershipToken': token,
                           'parameters': {'ThingName': 'core-%06d' % self.seq, 'ThingGroupName': 'Fleet'}}).encode()

    def register(self, payload):
        return fleetprov.handle(self.ip.emu, self.dev.conn, '$aws/provisioning-templates/Tpl/provision/json', payload)


def accepted(out):
    assert out[0][0].endswith('/accepted'), out[0]
    return json.loads(out[0][1])


def timed(fn, items):
    """(calls per wall second, calls per CPU second of this process): on a shared machine the second is the
    steadier figure; the two agree on a quiet one."""
    t0, c0 = time.perf_counter(), time.process_time()
    for x in items:
        fn(x)
    return len(items) / (time.perf_counter() - t0), len(items) / (time.process_time() - c0)


class NoMetrics:
    """fpmetrics with every function a no-op (the second run of each row)."""

    def __getattr__(self, name):
        return lambda *a, **kw: None


def run(n, warm, keys, metrics):
    fleetprov.fpmetrics = REAL_METRICS if metrics else NoMetrics()
    b = Bench()
    pems = [ph.csr_pem()[1] for _ in range(warm + 3 * n)]
    for pem in pems[:warm]:
        accepted(b.register(b.register_payload(accepted(b.csr_topic(pem))['certificateOwnershipToken'])))
    rest = pems[warm:]
    out = {}
    tokens = []
    out['csr'] = timed(lambda pem: tokens.append(accepted(b.csr_topic(pem))['certificateOwnershipToken']), rest[:n])
    payloads = [b.register_payload(t) for t in tokens]
    out['register'] = timed(lambda p: accepted(b.register(p)), payloads)
    out['device'] = timed(lambda pem: accepted(b.register(b.register_payload(
        accepted(b.csr_topic(pem))['certificateOwnershipToken']))), rest[n:2 * n])
    out['keys'] = timed(lambda _: accepted(fleetprov.handle(b.ip.emu, b.dev.conn, '$aws/certificates/create/json',
                                                            b'')), range(keys))
    things = len(b.ip.emu.store.data['iot']['things'])
    b.ip.stop()
    return out, things


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--warm', type=int, nargs='+', default=[0, 5000])
    ap.add_argument('--keys', type=int, default=50)
    ap.add_argument('--out')
    a = ap.parse_args()
    rows = []
    for w in a.warm:
        for metrics in (True, False):
            r, things = run(a.n, w, a.keys, metrics)
            rows.append((w, metrics, r))
            print('warm=%d metrics=%s: %s (things at the end: %d)' % (
                w, metrics, ', '.join('%s %.1f/s (%.1f per CPU s)' % (k, v[0], v[1]) for k, v in r.items()), things),
                flush=True)
    if a.out:
        write(a, rows)


def write(a, rows):
    lines = ['| devices already registered | metrics | CreateCertificateFromCsr | RegisterThing | CSR + RegisterThing '
             '(devices) | CreateKeysAndCertificate |', '|---:|---|---:|---:|---:|---:|']
    for w, metrics, r in rows:
        cells = [('%.0f/s (%.0f per CPU s)' if r[k][0] >= 10 else '%.1f/s (%.1f per CPU s)') % r[k]
                 for k in ('csr', 'register', 'device', 'keys')]
        lines.append('| %d | %s | %s |' % (w, 'fpmetrics' if metrics else 'no-op', ' | '.join(cells)))
    with open(a.out, 'w') as f:
        f.write('# Fleet provisioning module, called directly (generated by tests/bench/fleetprov/run.sh)\n\n')
        f.write('%s on %s, %d cores; %d calls of each kind per row (%d for CreateKeysAndCertificate), one thread, '
                'emulator quotas off.\n\n' % (time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime()), os.uname().nodename,
                                               os.cpu_count(), a.n, a.keys))
        f.write('\n'.join(lines) + '\n')
        f.write(NOTES)


NOTES = """
How to read it: "per CPU s" is calls per second of CPU time used by this process, the steadier figure when
other work shares the 2 cores (wall-clock rates move with the machine's load; the load average is printed
by run.sh). CreateKeysAndCertificate is an RSA-2048 key generation each time (python3-cryptography). The
CSR calls include verifying the CSR and signing a certificate. The `no-op` rows replace fpmetrics.py's
functions (CloudWatch metrics, issue 13) by no-ops: the gap between a `fpmetrics` row and its `no-op` row
is the metrics' cost, which grows with the number of things the claim has registered (fpmetrics rebuilds
the claim's data points on each registration). The emulator's quota for each of these calls is 10 per
second (tests/awsemu/README.md, "Quotas"): the CSR and RegisterThing figures are above it, CreateKeysAndCertificate
(one RSA key per call) is far below it, so a device test using it waits on key generation, not on the quota.
"""


if __name__ == '__main__':
    main()
