"""CloudWatch: GetMetricData and ListMetrics over data points injected through /__emu/metrics
and published by the fleet provisioning metrics (fpmetrics.py).

A point is [timestamp, value, sampleCount or None] with an optional fourth member, the time it
reaches CloudWatch (fpmetrics publishes once a minute); before that it is invisible.
Retention as the GetMetricData reference states it: points older than 3 hours only for periods
of 60 s or more, older than 15 days only for multiples of 300 s, older than 63 days only for
multiples of 3600 s, none older than 455 days. ListMetrics leaves out metrics without a data
point in the past two weeks (ListMetrics reference).
"""

import base64
import hashlib
import json
import math
import re

from errors import AwsError

READONLY = {'GetMetricData', 'ListMetrics'}
MAX_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100800
LIST_METRICS_PAGE = 500
STATS = ('Sum', 'SampleCount', 'Average', 'Maximum', 'Minimum')
DAY = 86400
LIST_METRICS_RECENT = 14 * DAY
_ID_RE = re.compile(r'^[a-z][a-zA-Z0-9_]*$')


def metric_key(namespace, name, dims):
    d = sorted((x['Name'], x['Value']) for x in dims)
    return json.dumps([namespace, name, d])


def inject(st, spec):
    """spec: {"namespace","metricName","dimensions":[{"name","value"}],"points":[{"timestamp","value"}],"unit"}."""
    from models import parse_timestamp
    if not isinstance(spec, dict):
        raise ValueError('metric must be an object')
    ns = spec.get('namespace') or spec.get('Namespace')
    name = spec.get('metricName') or spec.get('MetricName')
    if not isinstance(ns, str) or not isinstance(name, str) or not ns or not name:
        raise ValueError('namespace and metricName are required strings')
    dims = []
    for d in spec.get('dimensions') or spec.get('Dimensions') or []:
        n = d.get('name', d.get('Name'))
        v = d.get('value', d.get('Value'))
        if not isinstance(n, str) or not isinstance(v, str):
            raise ValueError('dimension name and value must be strings')
        dims.append({'Name': n, 'Value': v})
    pts = []
    for p in spec.get('points') or []:
        ts = parse_timestamp(p['timestamp']).timestamp()
        val = float(p['value'])
        if math.isnan(val) or math.isinf(val):
            raise ValueError('value must be finite')
        cnt = p.get('count')
        pts.append([ts, val, float(cnt) if cnt is not None else None])
    key = metric_key(ns, name, dims)
    m = st['cloudwatch']['metrics'].setdefault(key, {'Namespace': ns, 'MetricName': name, 'Dimensions': dims,
                                                     'Points': [], 'Unit': spec.get('unit')})
    m['Points'].extend(pts)
    m['Points'].sort(key=lambda x: x[0])
    return len(pts)


def _aggregate(stat, points):
    vals = [p[1] for p in points]
    if stat == 'Sum':
        return sum(vals)
    if stat == 'SampleCount':
        return float(sum(p[2] if p[2] is not None else 1 for p in points))
    if stat == 'Average':
        return sum(vals) / len(vals)
    if stat == 'Maximum':
        return max(vals)
    return min(vals)


def visible(p, now):
    return len(p) < 4 or p[3] <= now


def retained(p, period, now):
    """Whether CloudWatch still answers point p for a query of this period."""
    age = now - p[0]
    if age > 455 * DAY:
        return False
    if age > 63 * DAY:
        return period % 3600 == 0
    if age > 15 * DAY:
        return period % 300 == 0
    return age <= 3 * 3600 or period >= 60


def _series(st, q, start, end, now):
    ms = q['MetricStat']
    metric = ms['Metric']
    if 'Namespace' not in metric or 'MetricName' not in metric:
        raise AwsError('InvalidParameterValue', 'The parameter MetricDataQueries.member.1.MetricStat.Metric must '
                       'specify Namespace and MetricName.', 400)
    stat = ms['Stat']
    if stat not in STATS:
        raise AwsError('InvalidParameterValue', 'The value %s for parameter MetricDataQueries.member.Stat is not '
                       'supported by awsemu (use %s).' % (stat, ', '.join(STATS)), 400)
    period = ms['Period']
    if period not in (1, 5, 10, 30) and period % 60 != 0:
        raise AwsError('InvalidParameterValue', 'The parameter Period must be 1, 5, 10, 30, or a multiple of 60.', 400)
    key = metric_key(metric['Namespace'], metric['MetricName'], metric.get('Dimensions') or [])
    m = st['cloudwatch']['metrics'].get(key)
    buckets = {}
    if m:
        for p in m['Points']:
            if start <= p[0] < end and visible(p, now) and retained(p, period, now):
                b = math.floor(p[0] / period) * period
                buckets.setdefault(b, []).append(p)
    return [(b, _aggregate(stat, pts)) for b, pts in sorted(buckets.items())]


def _token(fingerprint, offset):
    return base64.b64encode(json.dumps({'f': fingerprint, 'o': offset}).encode()).decode()


# ---- injected CloudWatch misbehaviour (POST /__emu/config) ----

STATUS_CODES = ('InternalError', 'Forbidden', 'PartialData')  # MetricDataResult.StatusCode, besides Complete
_LOOP_PREFIX = 'loop-'


def check_status_fault(spec):
    """gmdStatusFault: {"dimensionValue", "statusCode", "minPeriod", "count"} or null (off)."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get('dimensionValue'), str):
        raise ValueError('gmdStatusFault must be {"dimensionValue": "...", "statusCode", "minPeriod", "count"} '
                         'or null')
    code = spec.get('statusCode', 'InternalError')
    if code not in STATUS_CODES:
        raise ValueError('gmdStatusFault.statusCode must be one of %s' % ', '.join(STATUS_CODES))
    count, min_period = spec.get('count', 1), spec.get('minPeriod', 0)
    if not isinstance(count, int) or count < 1 or not isinstance(min_period, int) or min_period < 0:
        raise ValueError('gmdStatusFault.count must be >= 1 and minPeriod >= 0 (integers)')
    return {'dimensionValue': spec['dimensionValue'], 'statusCode': code, 'minPeriod': min_period,
            'count': count}


def check_token_loop(spec):
    """nextTokenLoop: {"ListMetrics" | "GetMetricData": "repeat" | "fresh"}; null or {} = off."""
    spec = spec or {}
    if not isinstance(spec, dict) or any(k not in OPERATIONS or v not in ('repeat', 'fresh')
                                         for k, v in spec.items()):
        raise ValueError('nextTokenLoop must map ListMetrics / GetMetricData to "repeat" or "fresh"')
    return dict(spec)


def _status_fault(ctx, q):
    """The StatusCode an injected fault gives this query's result (counted), else None."""
    sf = ctx.emu.gmd_status_fault
    if not sf or sf['count'] <= 0:
        return None
    dims = q['MetricStat']['Metric'].get('Dimensions') or []
    if not any(d.get('Value') == sf['dimensionValue'] for d in dims) or q['MetricStat']['Period'] < sf['minPeriod']:
        return None
    sf['count'] -= 1
    if sf['count'] <= 0:
        ctx.emu.gmd_status_fault = None
    return sf['statusCode']


def _loop_token(ctx, op, sent):
    """With nextTokenLoop on for op: the NextToken of every answer ("repeat": the one the request
    sent, "fresh": a new one each page). A loop token reads the first page again."""
    mode = ctx.emu.next_token_loop.get(op)
    if not mode:
        return None
    if mode == 'repeat' and sent:
        return sent
    ctx.emu.loop_tokens += 1
    return _LOOP_PREFIX + str(ctx.emu.loop_tokens)


def GetMetricData(ctx, p):
    queries = p['MetricDataQueries']
    if len(queries) > MAX_QUERIES:
        raise AwsError('ValidationError', 'The collection MetricDataQueries must not have a size greater than %d.'
                       % MAX_QUERIES, 400)
    if not queries:
        raise AwsError('ValidationError', 'The collection MetricDataQueries must not be empty.', 400)
    start = p['StartTime'].timestamp()
    end = p['EndTime'].timestamp()
    if start >= end:
        raise AwsError('ValidationError', 'The parameter StartTime must be less than the parameter EndTime.', 400)
    ids = set()
    for q in queries:
        if not _ID_RE.match(q['Id']):
            raise AwsError('ValidationError', 'The value %s for parameter MetricDataQueries.member.Id is invalid; '
                           'it must start with a lowercase letter.' % q['Id'], 400)
        if q['Id'] in ids:
            raise AwsError('ValidationError', 'The values for parameter id in MetricDataQueries are not unique.', 400)
        ids.add(q['Id'])
        if ('MetricStat' in q) == ('Expression' in q):
            raise AwsError('ValidationError', 'Exactly one element of the metrics list should specify either '
                           'MetricStat or Expression.', 400)
        if 'Expression' in q:
            raise AwsError('ValidationError', 'Metric math expressions are not supported by awsemu.', 400)
    maxdp = p.get('MaxDatapoints') or DEFAULT_MAX_DATAPOINTS
    if maxdp < 1:
        raise AwsError('InvalidParameterValue', 'MaxDatapoints must be positive.', 400)
    desc = p.get('ScanBy', 'TimestampDescending') == 'TimestampDescending'
    series = []
    for q in queries:
        s = _series(ctx.st, q, start, end, ctx.now_ts())
        if desc:
            s.reverse()
        series.append((q, s))
    fp = hashlib.sha256(json.dumps([[q['Id'], q['MetricStat']] for q in queries], sort_keys=True, default=str)
                        .encode() + ('%r%r%r' % (start, end, desc)).encode()).hexdigest()[:16]
    offset = 0
    if p.get('NextToken') and not p['NextToken'].startswith(_LOOP_PREFIX):
        try:
            tok = json.loads(base64.b64decode(p['NextToken'].encode(), validate=True))
            if tok['f'] != fp:
                raise ValueError
            offset = int(tok['o'])
        except Exception:
            raise AwsError('InvalidNextToken', 'The service found NextToken invalid.', 400)
    # flatten (query index, point index) in query order; serve maxdp of them from offset
    total = sum(len(s) for _, s in series)
    results = []
    pos = 0
    end_off = offset + maxdp
    for q, s in series:
        lo = max(offset - pos, 0)
        hi = min(end_off - pos, len(s))
        chunk = s[lo:hi] if hi > lo else []
        pos += len(s)
        if q.get('ReturnData', True) is False:
            continue
        complete = pos <= end_off
        failed = _status_fault(ctx, q)
        if failed:   # AWS's per-result failure: the call succeeds, this result carries no points
            chunk = []
        results.append({'Id': q['Id'], 'Label': q.get('Label') or q['MetricStat']['Metric']['MetricName'],
                        'Timestamps': [c[0] for c in chunk], 'Values': [c[1] for c in chunk],
                        'StatusCode': failed or ('Complete' if complete else 'PartialData')})
    out = {'MetricDataResults': results, 'Messages': []}
    if end_off < total:
        out['NextToken'] = _token(fp, end_off)
    loop = _loop_token(ctx, 'GetMetricData', p.get('NextToken'))
    if loop:
        out['NextToken'] = loop
    return out


def ListMetrics(ctx, p):
    items = []
    now = ctx.now_ts()
    for m in ctx.st['cloudwatch']['metrics'].values():
        if not any(visible(p, now) and p[0] >= now - LIST_METRICS_RECENT for p in m['Points']):
            continue
        if p.get('Namespace') and m['Namespace'] != p['Namespace']:
            continue
        if p.get('MetricName') and m['MetricName'] != p['MetricName']:
            continue
        ok = True
        have = {d['Name']: d['Value'] for d in m['Dimensions']}
        for f in p.get('Dimensions') or []:
            if f['Name'] not in have or (f.get('Value') is not None and have[f['Name']] != f['Value']):
                ok = False
        if ok:
            items.append(m)
    items.sort(key=lambda m: metric_key(m['Namespace'], m['MetricName'], m['Dimensions']))
    offset = 0
    if p.get('NextToken') and not p['NextToken'].startswith(_LOOP_PREFIX):
        try:
            offset = int(base64.b64decode(p['NextToken'].encode(), validate=True).decode())
        except Exception:
            raise AwsError('InvalidNextToken', 'The service found NextToken invalid.', 400)
    size = ctx.emu.list_metrics_page
    chunk = items[offset:offset + size]
    out = {'Metrics': [{'Namespace': m['Namespace'], 'MetricName': m['MetricName'],
                        'Dimensions': m['Dimensions']} for m in chunk]}
    if offset + size < len(items):
        out['NextToken'] = base64.b64encode(str(offset + size).encode()).decode()
    loop = _loop_token(ctx, 'ListMetrics', p.get('NextToken'))
    if loop:
        out['NextToken'] = loop
    return out


OPERATIONS = {'GetMetricData': GetMetricData, 'ListMetrics': ListMetrics}
