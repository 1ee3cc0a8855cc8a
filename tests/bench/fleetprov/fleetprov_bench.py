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

Usage: fleetprov_bench.py [--n N] [--warm W] [--keys K] [--out RESULTS.md]
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

TEMPLATE = ph.body({'thing': {'Type': 'AWS::IoT::Thing',
                              'Properties': {'ThingName': {'Ref': 'ThingName'}, 'AttributePayload': {},
                                             'ThingGroups': [{'Ref': 'ThingGroupName'}]},
                              'OverrideSettings': {'AttributePayload': 'MERGE', 'ThingGroups': 'DO_NOTHING',
                                                   'ThingTypeName': 'REPLACE'}},
                    'policy': {'Type': 'AWS::IoT::Policy', 'Properties': {'PolicyName': 'GreengrassV2IoTThingPolicy'}},
                    'cert': ph.cert_resource()},
                   dict(ph.CERT_PARAM, ThingName={'Type': 'String'}, ThingGroupName={'Type': 'String'}))


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


def run(n, warm, keys):
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
        r, things = run(a.n, w, a.keys)
        rows.append((w, r, things))
        print('warm=%d: %s (things at the end: %d)' % (w, ', '.join('%s %.1f/s (%.1f per CPU s)' % (k, v[0], v[1])
                                                               for k, v in r.items()), things), flush=True)
    if a.out:
        write(a, rows)


def write(a, rows):
    lines = ['| devices already registered | CreateCertificateFromCsr | RegisterThing | CSR + RegisterThing '
             '(devices) | CreateKeysAndCertificate |', '|---:|---:|---:|---:|---:|']
    for w, r, _ in rows:
        lines.append('| %d | %s |' % (w, ' | '.join('%.0f/s (%.0f per CPU s)' % r[k] if r[k][0] >= 10
                                                  else '%.1f/s (%.1f per CPU s)' % r[k]
                                                  for k in ('csr', 'register', 'device', 'keys'))))
    with open(a.out, 'w') as f:
        f.write('# Fleet provisioning module, called directly (generated by tests/bench/fleetprov/run.sh)\n\n')
        f.write('%s on %s, %d cores; %d calls of each kind per row (%d for CreateKeysAndCertificate), one thread, '
                'emulator quotas off.\n\n' % (time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime()), os.uname().nodename,
                                               os.cpu_count(), a.n, a.keys))
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
