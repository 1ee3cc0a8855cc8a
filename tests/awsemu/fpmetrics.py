"""Fleet provisioning metrics: what AWS IoT publishes to CloudWatch (namespace AWS/IoT) as devices
provision through a claim.

The data plane (fleetprov.py) calls these on every outcome; POST /__emu/registrations and
POST /__emu/provisioning-results call them to build a history without devices. AWS's
documentation (AWS IoT Core developer guide, "AWS IoT metrics and dimensions", section
"Device provisioning metrics"; https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html):

- ApproximateNumberOfThingsRegistered, dimension ClaimCertificateId: "the count of things that
  have been registered by Fleet Provisioning" through that claim - a running total, with
  Maximum as the statistic to read it. "While the count is generally accurate, the
  distributed architecture of AWS IoT Core makes it difficult to maintain a precise count":
  a reading may dip below the total (modelled by a `dip`, one reading below the total).
- RegisterThingFailed, dimension TemplateName: one sample per RegisterThing call, 1 when it
  failed: Sum = failures, SampleCount = attempts.
- CreateKeysAndCertificateFailed, no dimension: the same per CreateKeysAndCertificate call.
- The CSR failure metric is named CreateCertificateFromCsrFailed in some copies of the
  guide and CreateCertificateFromCsrMqttApiFailed in others; which one an account publishes
  (or neither) is the emulator setting `csrFailureMetric`.
- "the service sends the following metrics and dimensions to CloudWatch every minute": a data
  point is visible to GetMetricData / ListMetrics once the minute it falls in has closed
  (setting `publishPeriodSeconds`, default 60; 0 = at once).

How the running total is sampled is not documented: `sampling` "registration" (default) gives
one data point per registration carrying the total at that moment; "minute" gives one data
point per minute carrying the total at the end of that minute. Maximum is the same under both.

Every function takes the emulator's state dict (state.empty()) and an optional ts (epoch
seconds, a datetime, or None = the emulator's clock, which POST /__emu/clock moves). They
mutate the state under the bound store lock (re-entrant); the caller saves the store.
"""

import bisect
import datetime
import json
import math
import threading

NAMESPACE = 'AWS/IoT'
M_REGISTERED = 'ApproximateNumberOfThingsRegistered'
M_REGISTER_FAILED = 'RegisterThingFailed'
M_KEYS_FAILED = 'CreateKeysAndCertificateFailed'
CSR_METRIC_NAMES = ('CreateCertificateFromCsrFailed', 'CreateCertificateFromCsrMqttApiFailed')
D_CLAIM = 'ClaimCertificateId'
D_TEMPLATE = 'TemplateName'
SAMPLINGS = ('registration', 'minute')
MAX_COUNT = 100000  # registrations one control call may simulate

DEFAULTS = {'csrFailureMetric': CSR_METRIC_NAMES[0], 'sampling': 'registration', 'publishPeriodSeconds': 60}

_clock = None
_lock = threading.RLock()


def bind(clock, lock=None):
    """clock() -> aware datetime (the emulator's, movable); lock: the store's RLock."""
    global _clock, _lock
    _clock = clock
    if lock is not None:
        _lock = lock


def _now():
    if _clock:
        return _clock().timestamp()
    return datetime.datetime.now(datetime.timezone.utc).timestamp()


def _ts(ts):
    if ts is None:
        return _now()
    if isinstance(ts, datetime.datetime):
        return ts.timestamp()
    v = float(ts)
    if math.isnan(v) or math.isinf(v):
        raise ValueError('timestamp must be finite')
    return v


def _fp(state):
    fp = state.setdefault('fpmetrics', {})
    fp.setdefault('claims', {})
    fp.setdefault('config', dict(DEFAULTS))
    return fp


def config(state):
    cfg = dict(DEFAULTS)
    cfg.update(_fp(state)['config'])
    return cfg


def configure(state, changes):
    """Applies {"csrFailureMetric": name or null, "sampling", "publishPeriodSeconds"}; returns the config."""
    with _lock:
        fp = _fp(state)
        new = config(state)
        for k, v in (changes or {}).items():
            if k == 'csrFailureMetric':
                if v is not None and v not in CSR_METRIC_NAMES:
                    raise ValueError('csrFailureMetric must be one of %s or null' % ', '.join(CSR_METRIC_NAMES))
            elif k == 'sampling':
                if v not in SAMPLINGS:
                    raise ValueError('sampling must be one of %s' % ', '.join(SAMPLINGS))
            elif k == 'publishPeriodSeconds':
                if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 3600:
                    raise ValueError('publishPeriodSeconds must be an integer 0..3600')
            else:
                continue
            new[k] = v
        fp['config'] = new
        for cert in fp['claims']:
            _rebuild(state, cert)
        return dict(new)


def _visible_at(state, ts):
    """When a point of time ts reaches CloudWatch: the end of its publishing period."""
    p = config(state)['publishPeriodSeconds']
    return ts if p <= 0 else (math.floor(ts / p) + 1) * p


def _metric(state, name, dims):
    dims = [{'Name': n, 'Value': v} for n, v in dims]
    key = json.dumps([NAMESPACE, name, sorted((d['Name'], d['Value']) for d in dims)])
    metrics = state['cloudwatch']['metrics']
    m = metrics.get(key)
    if m is None:
        m = metrics[key] = {'Namespace': NAMESPACE, 'MetricName': name, 'Dimensions': dims, 'Points': [],
                            'Unit': 'Count'}
    return m


def _sample(state, name, dims, ts, value):
    m = _metric(state, name, dims)
    bisect.insort(m['Points'], [ts, float(value), 1.0, _visible_at(state, ts)])


def _rebuild(state, cert):
    """The claim's ApproximateNumberOfThingsRegistered points from its events, in time order."""
    c = _fp(state)['claims'][cert]
    c['events'].sort(key=lambda e: (e[0], e[2]))
    total, pts = 0, []
    for ts, n, dip in c['events']:
        for _ in range(int(n)):
            total += 1
            pts.append([ts, float(total), 1.0])
        if dip:
            pts.append([ts, float(max(0, total - dip)), 1.0])
    c['total'] = total
    if config(state)['sampling'] == 'minute':
        last = {}
        for p in pts:
            last[math.floor(p[0] / 60) * 60] = p[1]
        pts = [[t, v, 1.0] for t, v in sorted(last.items())]
    for p in pts:
        p.append(_visible_at(state, p[0]))
    _metric(state, M_REGISTERED, [(D_CLAIM, cert)])['Points'] = pts


def _claim(state, cert, template_name):
    if not isinstance(cert, str) or not cert:
        raise ValueError('claimCertificateId must be a non-empty string')
    c = _fp(state)['claims'].setdefault(cert, {'events': [], 'total': 0, 'templates': []})
    if template_name and template_name not in c['templates']:
        c['templates'].append(template_name)
    return c


def registrations(state, claim_cert_id, template_name, times, dip=0, dip_at=None):
    """Registers len(times) things through the claim at those times (and one reading `dip`
    below the total at the last of them when dip > 0; with no registration, at dip_at, else
    now). Returns the claim's total."""
    with _lock:
        c = _claim(state, claim_cert_id, template_name)
        tss = [_ts(t) for t in times]
        c['events'].extend([t, 1, 0] for t in tss)
        if dip:
            if not isinstance(dip, int) or isinstance(dip, bool) or dip < 0:
                raise ValueError('dip must be a non-negative integer')
            at = max(tss) if tss else _ts(dip_at)
            c['events'].append([at, 0, dip])
        _rebuild(state, claim_cert_id)
        return c['total']


def registration(state, claim_cert_id, template_name, ts=None):
    """A thing registered through that claim: the claim's total grows by one and a data point
    carrying the new total is published. Returns the total."""
    return registrations(state, claim_cert_id, template_name, [ts])


def register_thing_result(state, template_name, failed, ts=None):
    """One RegisterThing call on the template: RegisterThingFailed 1 (failed) or 0."""
    if not isinstance(template_name, str) or not template_name:
        raise ValueError('templateName must be a non-empty string')
    with _lock:
        _sample(state, M_REGISTER_FAILED, [(D_TEMPLATE, template_name)], _ts(ts), 1 if failed else 0)


def create_keys_result(state, failed, ts=None):
    """One CreateKeysAndCertificate MQTT call: CreateKeysAndCertificateFailed 1 or 0."""
    with _lock:
        _sample(state, M_KEYS_FAILED, [], _ts(ts), 1 if failed else 0)


def create_from_csr_result(state, failed, ts=None):
    """One CreateCertificateFromCsr MQTT call, under the metric name the account publishes
    (setting csrFailureMetric; null = the account publishes none)."""
    with _lock:
        name = config(state)['csrFailureMetric']
        if name:
            _sample(state, name, [], _ts(ts), 1 if failed else 0)


def total(state, claim_cert_id):
    """The claim's true total (what the data points approximate)."""
    with _lock:
        c = _fp(state)['claims'].get(claim_cert_id)
        return c['total'] if c else 0


def describe(state):
    with _lock:
        claims = {k: {'total': v['total'], 'templates': list(v['templates'])}
                  for k, v in _fp(state)['claims'].items()}
        return {'claims': claims, 'config': config(state)}


# ---- the control endpoints' bodies ----

def _times(spec, now):
    """The registration times of a POST /__emu/registrations body: `count` at `timestamp`
    (default now), or spread evenly over [from, to)."""
    from models import parse_timestamp
    n = spec.get('count', 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > MAX_COUNT:
        raise ValueError('count must be an integer 0..%d' % MAX_COUNT)
    if 'from' in spec or 'to' in spec:
        a = parse_timestamp(spec['from']).timestamp()
        b = parse_timestamp(spec['to']).timestamp()
        if b <= a:
            raise ValueError('"to" must be after "from"')
        return [a + (b - a) * i / n for i in range(n)]
    t = parse_timestamp(spec['timestamp']).timestamp() if spec.get('timestamp') is not None else now
    return [t] * n


def post_registrations(state, spec):
    """{"claimCertificateId","templateName","count","timestamp"|"from"+"to","dip"} -> {"claimCertificateId","total"}."""
    if not isinstance(spec, dict):
        raise ValueError('body must be an object')
    cert = spec.get('claimCertificateId')
    tmpl = spec.get('templateName')
    if tmpl is not None and (not isinstance(tmpl, str) or not tmpl):
        raise ValueError('templateName must be a non-empty string')
    # a dip with count 0 is a reading at the body's timestamp (not now: a reading "now" would
    # become visible, and be the latest, a minute later)
    at = spec.get('timestamp')
    if at is not None:
        from models import parse_timestamp
        at = parse_timestamp(at).timestamp()
    tot = registrations(state, cert, tmpl, _times(spec, _now()), dip=spec.get('dip', 0), dip_at=at)
    return {'claimCertificateId': cert, 'total': tot}


RESULT_APIS = ('RegisterThing', 'CreateKeysAndCertificate', 'CreateCertificateFromCsr')


def post_results(state, spec):
    """{"api","templateName" (RegisterThing),"failed":n,"succeeded":m,"timestamp"|"from"+"to"}."""
    if not isinstance(spec, dict) or spec.get('api') not in RESULT_APIS:
        raise ValueError('api must be one of %s' % ', '.join(RESULT_APIS))
    failed, ok = spec.get('failed', 0), spec.get('succeeded', 0)
    for v in (failed, ok):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > MAX_COUNT:
            raise ValueError('failed and succeeded must be integers 0..%d' % MAX_COUNT)
    base = {k: spec[k] for k in ('timestamp', 'from', 'to') if k in spec}
    times = _times(dict(base, count=failed + ok), _now())
    for i, t in enumerate(times):
        bad = i < failed
        if spec['api'] == 'RegisterThing':
            register_thing_result(state, spec.get('templateName'), bad, t)
        elif spec['api'] == 'CreateKeysAndCertificate':
            create_keys_result(state, bad, t)
        else:
            create_from_csr_result(state, bad, t)
    return {'api': spec['api'], 'samples': len(times)}
