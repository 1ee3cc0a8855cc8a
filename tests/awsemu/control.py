"""Faults and the call log (the /__emu/ endpoints are routed in awsemu.py)."""

import random
import threading
import time

SECRET_KEYS = ('privatekey', 'secretaccesskey', 'sessiontoken', 'webidentitytoken', 'samlassertion', 'password')


def redact(v, key=''):
    k = key.lower()
    if any(s in k for s in SECRET_KEYS):
        return '***'
    if isinstance(v, dict):
        return {kk: redact(vv, kk) for kk, vv in v.items()}
    if isinstance(v, list):
        return [redact(x, key) for x in v]
    if isinstance(v, bytes):
        return '<%d bytes>' % len(v)
    if hasattr(v, 'isoformat'):
        return v.isoformat()
    return v


class CallLog:
    def __init__(self, limit=10000):
        self.lock = threading.Lock()
        self.calls = []
        self.limit = limit

    def add(self, rec):
        with self.lock:
            self.calls.append(rec)
            if len(self.calls) > self.limit:
                del self.calls[:len(self.calls) - self.limit]

    def list(self):
        with self.lock:
            return list(self.calls)

    def clear(self):
        with self.lock:
            self.calls = []


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.rand = random.Random()

    def add(self, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get('operation'), str):
            raise ValueError('operation (string, or "*") is required')
        rule = {
            'operation': spec['operation'],
            'service': spec.get('service'),
            'count': spec.get('count'),
            'rate': spec.get('rate'),
            'status': int(spec.get('status', 500)),
            'code': spec.get('code') or ('InternalFailure' if int(spec.get('status', 500)) >= 500 else 'BadRequest'),
            'message': spec.get('message') or 'Injected fault',
            'delayMs': int(spec.get('delayMs', 0)),
            'errorFree': bool(spec.get('delayOnly', False)),
            'afterApply': bool(spec.get('afterApply', False)),
        }
        if rule['errorFree'] and rule['afterApply']:
            raise ValueError('delayOnly and afterApply exclude each other')
        if rule['count'] is None and rule['rate'] is None:
            rule['count'] = 1
        if rule['rate'] is not None and not (0 <= float(rule['rate']) <= 1):
            raise ValueError('rate must be within 0..1')
        if rule['count'] is not None and int(rule['count']) < 0:
            raise ValueError('count must be >= 0')
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self.lock:
            self.rules = []

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def match(self, service, op):
        """Return the rule that fires for this call, or None."""
        with self.lock:
            for r in self.rules:
                if r['operation'] not in ('*', op):
                    continue
                if r['service'] and r['service'] != service:
                    continue
                if r['rate'] is not None:
                    if self.rand.random() < float(r['rate']):
                        return dict(r)
                    continue
                if r['count'] and int(r['count']) > 0:
                    r['count'] = int(r['count']) - 1
                    return dict(r)
            return None


def sleep_ms(ms):
    if ms > 0:
        time.sleep(ms / 1000.0)
