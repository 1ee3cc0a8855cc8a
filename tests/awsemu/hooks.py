"""Pre-provisioning hooks: the Lambda a template names (preProvisioningHook.targetArn) is played by a local HTTP
endpoint that the emulator setting `lambdaEndpoints` maps the ARN to. RegisterThing POSTs AWS's hook input
to it and reads the Lambda's answer; the docs' rules (pre-provisioning hook page) decide: only
"allowProvisioning": true lets provisioning go on, a failing Lambda or one slower than 5 s fails the request
with ACCESS_DENIED, parameterOverrides are added to the request's parameters."""

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT_S = 5.0                     # "must finish running and return within 5 seconds"
MAX_RESPONSE = 256 * 1024
LAMBDA_ARN_RE = re.compile(r'^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:[a-zA-Z0-9_-]{1,64}'
                           r'(:[a-zA-Z0-9$_-]{1,128})?$')
LOOPBACK = ('127.0.0.1', 'localhost', '::1')


def check_endpoints(mapping):
    """Validates a `lambdaEndpoints` setting: Lambda ARN -> http(s) URL on this machine (the emulator only
    calls loopback). Raises ValueError naming the bad entry."""
    if not isinstance(mapping, dict):
        raise ValueError('lambdaEndpoints must be an object of Lambda ARN -> URL')
    if len(mapping) > 1000:
        raise ValueError('lambdaEndpoints: at most 1000 entries')
    for arn, url in mapping.items():
        if not LAMBDA_ARN_RE.match(arn):
            raise ValueError('lambdaEndpoints: %r is not a Lambda function ARN' % arn)
        u = urllib.parse.urlsplit(url) if isinstance(url, str) and len(url) <= 2048 else None
        if u is None or u.scheme not in ('http', 'https') or u.hostname not in LOOPBACK:
            raise ValueError('lambdaEndpoints: the URL of %s must be http(s) on 127.0.0.1, localhost or ::1' % arn)
    return dict(mapping)


class HookOutcome:
    def __init__(self, allowed, overrides=None, reason=''):
        self.allowed = allowed
        self.overrides = overrides or {}
        self.reason = reason        # why it was refused (for the provisioning log and the device's error)


def in_reach(arn, region, account):
    """AWS IoT invokes only a Lambda of the template's own account and region."""
    m = LAMBDA_ARN_RE.match(arn or '')
    return bool(m) and m.group(1) == region and m.group(2) == account


def invoke(url, event):
    """Calls the hook endpoint with the hook input; never waits more than TIMEOUT_S in all."""
    box = {}
    worker = threading.Thread(target=_call, args=(url, event, box), daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    if worker.is_alive() or 'timeout' in box:
        return HookOutcome(False, reason='the pre-provisioning hook did not answer within 5 seconds')
    if 'error' in box:
        return HookOutcome(False, reason='the pre-provisioning hook failed: %s' % box['error'])
    return _read(box['body'])


def _call(url, event, box):
    req = urllib.request.Request(url, data=json.dumps(event).encode(), method='POST',
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
            box['body'] = r.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as e:
        box['error'] = 'HTTP %d' % e.code
    except (TimeoutError, OSError) as e:
        if 'timed out' in str(e):
            box['timeout'] = True
        else:
            box['error'] = type(e).__name__
    except Exception as e:  # noqa: BLE001 - whatever the endpoint does, the request fails, the emulator lives
        box['error'] = type(e).__name__


def _read(body):
    if len(body) > MAX_RESPONSE:
        return HookOutcome(False, reason='the pre-provisioning hook failed: its answer is too large')
    try:
        out = json.loads(body.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        return HookOutcome(False, reason='the pre-provisioning hook failed: its answer is not JSON')
    if not isinstance(out, dict):
        return HookOutcome(False, reason='the pre-provisioning hook failed: its answer is not a JSON object')
    allow = out.get('allowProvisioning')
    if not (allow is True or (isinstance(allow, str) and allow.lower() == 'true')):
        return HookOutcome(False, reason='the pre-provisioning hook did not allow provisioning')
    overrides = out.get('parameterOverrides') or {}
    if not isinstance(overrides, dict) or not all(isinstance(k, str) and isinstance(v, str) and len(k) <= 2048
                                                   and len(v) <= 4096 for k, v in overrides.items()):
        return HookOutcome(False, reason='the pre-provisioning hook failed: parameterOverrides is not a map of '
                           'strings (names up to 2048 characters, values up to 4096)')
    return HookOutcome(True, overrides)
