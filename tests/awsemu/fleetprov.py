"""The fleet provisioning MQTT API (device provisioning MQTT API page): CreateKeysAndCertificate,
CreateCertificateFromCsr and RegisterThing, in JSON or CBOR by the topic. The broker hands each PUBLISH to a
request topic here (after iot:Publish was allowed) and delivers the answers to that connection only:

    handles(topic) -> bool
    handle(emu, conn, topic, payload) -> [(answer topic, answer payload bytes)]

Every outcome is logged for GET /__emu/dataplane/provisioning (no private key, no ownership token) and
counted for CloudWatch through fpmetrics. Sources and the readings chosen where AWS is silent:
tests/awsemu/README.md, "Fleet provisioning"."""

import hashlib
import json
import re
import secrets
import sys
import time
import traceback

import cbor2

import certs
import fpmetrics
import hooks
import iot
import provapply
import provrole
import provtemplate
from errors import AwsError
from provtemplate import ProvError


TOPIC_RE = re.compile(r'^\$aws/(?:certificates/(create|create-from-csr)|provisioning-templates/([^/#+]*)/provision)'
                      r'/(json|cbor)$')
API_NAMES = {'create': 'CreateKeysAndCertificate', 'create-from-csr': 'CreateCertificateFromCsr'}
TEMPLATE_NAME_RE = re.compile(r'^[0-9A-Za-z_-]{1,36}$')
MAX_PAYLOAD = 128 * 1024            # AWS IoT's largest MQTT message
MAX_CSR = 4096                      # CreateCertificateFromCsr's certificateSigningRequest
MAX_PARAM_KEY, MAX_PARAM_VALUE = 2048, 4096
TOKEN_TTL_S = 3600                  # "the certificateOwnershipToken ... expires after one hour"
TOKEN_FORGET_S = 86400              # an expired token is still told apart from a made-up one for a day


def handles(topic):
    return isinstance(topic, str) and TOPIC_RE.match(topic) is not None


class Call:
    """One API call: what the log records and the metrics count."""

    def __init__(self, api, template, conn, now):
        self.t0 = time.monotonic()
        self.rec = {'time': _iso(now), 'api': api,
                    'clientId': getattr(conn, 'client_id', None), 'claimCertificateId': getattr(conn, 'cert_id', None),
                    'template': template, 'certificateId': None, 'parameters': None, 'outcome': None,
                    'statusCode': None, 'errorCode': None, 'errorMessage': None}


def _iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (dt.microsecond // 1000)


def handle(emu, conn, topic, payload):
    m = TOPIC_RE.match(topic) if isinstance(topic, str) else None
    if m is None:
        return []
    kind, template, fmt = m.groups()
    api = API_NAMES.get(kind, 'RegisterThing')
    call = Call(api, template, conn, emu.now())
    try:
        body = decode(payload, fmt)
        if not emu.quotas.take('fleetprov', api):
            raise ProvError(429, 'Throttling', 'Rate exceeded')
        if api == 'RegisterThing':
            answer = register_thing(emu, conn, template, body, call)
        else:
            answer = create_certificate(emu, conn, api, body, call)
        call.rec.update(outcome='accepted', statusCode=200)
        out = [(topic + '/accepted', encode(answer, fmt))]
    except ProvError as e:
        call.rec.update(outcome='rejected', statusCode=e.status, errorCode=e.code, errorMessage=e.message)
        out = [(topic + '/rejected', encode({'statusCode': e.status, 'errorCode': e.code,
                                              'errorMessage': e.message}, fmt))]
    except Exception:
        sys.stderr.write('awsemu: fleet provisioning %s failed:\n%s' % (api, traceback.format_exc()))
        call.rec.update(outcome='rejected', statusCode=500, errorCode='InternalFailure',
                        errorMessage='An internal error occurred in awsemu.')
        out = [(topic + '/rejected', encode({'statusCode': 500, 'errorCode': 'InternalFailure',
                                              'errorMessage': 'An internal error occurred in awsemu.'}, fmt))]
    _finish(emu, call)
    return out


def _finish(emu, call):
    call.rec['durationMs'] = int((time.monotonic() - call.t0) * 1000)
    log = getattr(emu, 'prov_log', None)
    if log is not None:
        log.add(call.rec)
    failed = call.rec['outcome'] != 'accepted'
    try:
        with emu.store.lock:
            _count(emu, call, failed)
            emu.store.save()
    except Exception:  # noqa: BLE001 - a metrics failure must not take the device's answer with it
        sys.stderr.write('awsemu: fleet provisioning metrics failed:\n%s' % traceback.format_exc())


def _count(emu, call, failed):
    """The CloudWatch metrics AWS IoT publishes for this call (fpmetrics.py)."""
    st, api = emu.store.data, call.rec['api']
    if api == 'CreateKeysAndCertificate':
        fpmetrics.create_keys_result(st, failed)
    elif api == 'CreateCertificateFromCsr':
        fpmetrics.create_from_csr_result(st, failed)
    elif call.rec['template']:      # a topic with an empty template name has no TemplateName to count under
        fpmetrics.register_thing_result(st, call.rec['template'], failed)
        if not failed:
            fpmetrics.registration(st, call.rec['claimCertificateId'], call.rec['template'])


# ---------------------------------------------------------------- payloads

def decode(payload, fmt):
    """The request as a dict: JSON or CBOR by the topic, at most MAX_PAYLOAD bytes; empty means {}."""
    if not isinstance(payload, (bytes, bytearray)):
        raise ProvError(400, 'InvalidPayload', 'The payload must be bytes')
    if len(payload) > MAX_PAYLOAD:
        raise ProvError(400, 'InvalidPayload', 'The payload exceeds %d bytes' % MAX_PAYLOAD)
    if not payload:
        return {}
    try:
        body = json.loads(bytes(payload).decode('utf-8')) if fmt == 'json' else cbor2.loads(bytes(payload))
    except Exception:  # noqa: BLE001 - any decoder failure (depth, bad UTF-8, CBOR errors) is a bad payload
        raise ProvError(400, 'InvalidPayload', 'The payload is not valid %s' % fmt.upper())
    if not isinstance(body, dict):
        kind = 'JSON object' if fmt == 'json' else 'CBOR map'
        raise ProvError(400, 'InvalidPayload', 'The payload must be a %s' % kind)
    return body


def encode(obj, fmt):
    if fmt == 'cbor':
        return cbor2.dumps(obj)
    return json.dumps(obj, separators=(',', ':')).encode()


# ---------------------------------------------------------------- state access

class Ctx:
    """What iot.py's helpers read from an operation context."""

    def __init__(self, emu):
        self.st = emu.store.data
        self.account = emu.account
        self.region = emu.region
        self.now = emu.now().timestamp()

    def now_ts(self):
        return round(self.now, 3)


def _token_key(token):
    return hashlib.sha256(token.encode()).hexdigest()


def expire_pending(st, now_ts):
    """AWS deletes a certificate made over MQTT that was neither activated nor attached to a policy or a thing
    when its ownership token expired; token records are forgotten a day later. The registry is walked only
    when something is due (`nextSweep`), not on every call."""
    iot_st = st['iot']
    if now_ts < iot_st.get('nextSweep', 0):
        return
    due = float('inf')
    tokens = iot_st.setdefault('ownershipTokens', {})
    for key, t in list(tokens.items()):
        if now_ts >= t['expires'] + TOKEN_FORGET_S:
            del tokens[key]
        else:
            due = min(due, t['expires'] + TOKEN_FORGET_S)
    for cid, c in list(iot_st['certificates'].items()):
        until = c.get('pendingUntil')
        if until is None:
            continue
        if now_ts < until:
            due = min(due, until)
            continue
        c.pop('pendingUntil', None)
        if c['status'] == 'PENDING_ACTIVATION' and not _attached(st, c['certificateArn']):
            del iot_st['certificates'][cid]
    iot_st['nextSweep'] = due if due != float('inf') else now_ts + TOKEN_TTL_S


def _attached(st, arn):
    if any(arn in p['targets'] for p in st['iot']['policies'].values()):
        return True
    return any(arn in t.get('principals', []) for t in st['iot']['things'].values())


# ---------------------------------------------------------------- CreateKeysAndCertificate, CreateCertificateFromCsr

def create_certificate(emu, conn, api, body, call):
    if api == 'CreateCertificateFromCsr':
        csr = body.get('certificateSigningRequest')
        if not isinstance(csr, str) or not csr:
            raise ProvError(400, 'InvalidPayload', 'certificateSigningRequest is required')
        if len(csr) > MAX_CSR:
            raise ProvError(400, 'InvalidRequest', 'certificateSigningRequest exceeds %d characters' % MAX_CSR)
        try:
            issued = certs.create_from_csr(csr)
        except AwsError as e:
            raise ProvError(400, 'InvalidRequest', e.message)
    else:
        issued = certs.create_keys_and_certificate()
    token = secrets.token_urlsafe(96)
    with emu.store.lock:
        ctx = Ctx(emu)
        expire_pending(ctx.st, ctx.now)
        cert = iot.store_cert(ctx, issued, 'PENDING_ACTIVATION')
        cert['pendingUntil'] = ctx.now + TOKEN_TTL_S
        ctx.st['iot']['nextSweep'] = min(ctx.st['iot'].get('nextSweep', cert['pendingUntil']), cert['pendingUntil'])
        ctx.st['iot']['ownershipTokens'][_token_key(token)] = {
            'certificateId': cert['certificateId'], 'claimCertificateId': call.rec['claimCertificateId'],
            'expires': ctx.now + TOKEN_TTL_S, 'used': False}
        emu.store.save()
    call.rec['certificateId'] = cert['certificateId']
    answer = {'certificateId': cert['certificateId'], 'certificatePem': cert['certificatePem'],
              'certificateOwnershipToken': token}
    if api == 'CreateKeysAndCertificate':
        answer['privateKey'] = issued['privateKey']
    return answer


# ---------------------------------------------------------------- RegisterThing

def _bad_token(message):
    return ProvError(400, 'InvalidCertificateOwnershipToken', message)


def _token(st, body, claim_cert_id, now):
    """The token record of the request: known, unused, unexpired and issued to this claim certificate."""
    token = body.get('certificateOwnershipToken')
    if token is None or token == '':
        raise _bad_token('Certificate ownership token cannot be empty.')
    if not isinstance(token, str) or len(token) > 4096:
        raise _bad_token('The certificate ownership token is not valid.')
    rec = st['iot']['ownershipTokens'].get(_token_key(token))
    if rec is None or rec['used'] or rec['claimCertificateId'] != claim_cert_id:
        raise _bad_token('The certificate ownership token is not valid.')
    if now >= rec['expires']:
        raise _bad_token('The certificate ownership token has expired.')
    cert = st['iot']['certificates'].get(rec['certificateId'])
    if cert is None or cert['status'] == 'REVOKED':
        raise _bad_token('The certificate of the ownership token no longer exists or is revoked.')
    return rec, cert


def _parameters(body):
    params = body.get('parameters', {})
    if params is None:
        params = {}
    if not isinstance(params, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise ProvError(400, 'InvalidPayload', 'parameters must be a map of strings to strings')
    _check_parameters(params)
    return params


def _check_parameters(params):
    for k, v in params.items():
        if len(k) > MAX_PARAM_KEY or len(v) > MAX_PARAM_VALUE:
            raise ProvError(400, 'InvalidPayload', 'Parameter names are at most %d characters and values at most %d'
                            % (MAX_PARAM_KEY, MAX_PARAM_VALUE))


def _template(st, name):
    t = st['iot']['templates'].get(name) if TEMPLATE_NAME_RE.match(name) else None
    if t is None:
        raise ProvError(404, 'ResourceNotFound', 'The provisioning template %s does not exist.' % name)
    if t.get('type', 'FLEET_PROVISIONING') != 'FLEET_PROVISIONING':
        raise ProvError(400, 'InvalidRequest', 'The provisioning template %s is not a FLEET_PROVISIONING template.'
                        % name)
    if not t.get('enabled'):
        raise ProvError(400, 'InvalidRequest', 'The provisioning template %s is disabled.' % name)
    return t


def register_thing(emu, conn, name, body, call):
    params = _parameters(body)
    call.rec['parameters'] = params
    with emu.store.lock:       # phase 1: the request is checked before anything is called or changed
        ctx = Ctx(emu)
        expire_pending(ctx.st, ctx.now)
        _, cert = _token(ctx.st, body, call.rec['claimCertificateId'], ctx.now)
        call.rec['certificateId'] = cert['certificateId']
        tpl = _template(ctx.st, name)
        hook = dict(tpl['preProvisioningHook']) if tpl.get('preProvisioningHook') else None
        event = _hook_event(tpl, cert, conn, params) if hook else None
    if hook:
        params = _run_hook(emu, hook, event, params, call)
    with emu.store.lock:       # phase 2: checked again (another request may have used the token), then applied
        ctx = Ctx(emu)
        rec, cert = _token(ctx.st, body, call.rec['claimCertificateId'], ctx.now)
        tpl = _template(ctx.st, name)
        body_text = tpl['versions'][str(tpl['defaultVersionId'])]['templateBody']
        rendered = provtemplate.render(body_text, params, cert['certificateId'])
        plan = provapply.plan(ctx, rendered, cert)
        provrole.check(ctx.st, tpl['provisioningRoleArn'], plan.needs)
        thing_name = provapply.apply(ctx, plan)
        rec['used'] = True
        emu.store.save()
    call.rec['result'] = provapply.describe(plan)
    answer = {'deviceConfiguration': rendered.device_configuration}
    if thing_name is not None:
        answer['thingName'] = thing_name
    return answer


def _hook_event(tpl, cert, conn, params):
    """The pre-provisioning hook input (pre-provisioning hook page): the device's own parameters."""
    return {'claimCertificateId': getattr(conn, 'cert_id', None), 'certificateId': cert['certificateId'],
            'certificatePem': cert['certificatePem'], 'templateArn': tpl['templateArn'],
            'clientId': getattr(conn, 'client_id', None), 'parameters': dict(params)}


def _run_hook(emu, hook, event, params, call):
    arn = hook.get('targetArn')
    url = getattr(emu, 'lambda_endpoints', {}).get(arn)
    if not hooks.in_reach(arn, emu.region, emu.account):
        outcome = hooks.HookOutcome(False, reason='the pre-provisioning hook %s is not a Lambda function of this '
                                    'account and region' % arn)
    elif url is None:
        outcome = hooks.HookOutcome(False, reason='the pre-provisioning hook %s could not be invoked' % arn)
    else:
        outcome = hooks.invoke(url, event)
    call.rec['hook'] = {'targetArn': arn, 'allowed': outcome.allowed, 'reason': outcome.reason or None,
                        'parameterOverrides': outcome.overrides}
    if not outcome.allowed:
        raise ProvError(403, 'AccessDenied', 'Access denied: %s.' % outcome.reason)
    return dict(params, **outcome.overrides)
