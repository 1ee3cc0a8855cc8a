"""botocore service models: operation resolution, input parsing and validation."""

import base64
import datetime
import json
import re
import threading
import unicodedata
import urllib.parse

import botocore.session

from errors import AwsError

SERVICES = {
    # key -> (botocore model name, protocol)
    'iot': 'iot',
    'iam': 'iam',
    'sts': 'sts',
    'cloudwatch': 'cloudwatch',
}

_lock = threading.Lock()
_models = {}
_routes = {}


def service_model(name):
    with _lock:
        m = _models.get(name)
        if m is None:
            m = botocore.session.get_session().get_service_model(name)
            _models[name] = m
        return m


def error_status(service, code, default=400):
    """HTTP status of an exception shape in the model (IoT)."""
    m = service_model(service)
    try:
        sh = m.shape_for(code)
        return int(sh.metadata.get('error', {}).get('httpStatusCode', default))
    except Exception:
        return default


# ---------------------------------------------------------------- rest-json

def _compile_route(uri):
    path, _, query = uri.partition('?')
    regex = ''
    names = []
    pos = 0
    for m in re.finditer(r'\{([^}]+)\}', path):
        regex += re.escape(path[pos:m.start()])
        name = m.group(1)
        if name.endswith('+'):
            names.append(name[:-1])
            regex += '(.+)'
        else:
            names.append(name)
            regex += '([^/]+)'
        pos = m.end()
    regex += re.escape(path[pos:])
    fixed = []
    for part in query.split('&') if query else []:
        k, eq, v = part.partition('=')
        if v.startswith('{'):
            continue
        fixed.append((k, v if eq else None))
    return re.compile('^' + regex + '/?$'), names, fixed


def rest_routes(service):
    with _lock:
        r = _routes.get(service)
    if r is not None:
        return r
    m = service_model(service)
    r = []
    for op in m.operation_names:
        om = m.operation_model(op)
        rx, names, fixed = _compile_route(om.http['requestUri'])
        r.append((om.http['method'], rx, names, fixed, op))
    with _lock:
        _routes[service] = r
    return r


def resolve_rest(service, method, raw_path, query_pairs):
    """Return (operation_name, uri_params) or raise AwsError."""
    qkeys = {k: v for k, v in query_pairs}
    best = None
    path_matched = False
    for meth, rx, names, fixed, op in rest_routes(service):
        m = rx.match(raw_path)
        if not m:
            continue
        path_matched = True
        if meth != method:
            continue
        ok = True
        for k, v in fixed:
            if k not in qkeys or (v is not None and qkeys[k] != v):
                ok = False
        if not ok:
            continue
        score = (len(fixed), -len(names), len(rx.pattern))
        if best is None or score > best[0]:
            params = {n: urllib.parse.unquote(g) for n, g in zip(names, m.groups())}
            best = (score, op, params)
    if best is None:
        raise AwsError('UnknownOperationException' if not path_matched else 'MethodNotAllowedException',
                       'Unknown operation %s %s' % (method, raw_path),
                       404 if not path_matched else 405)
    return best[1], best[2]


def _parse_scalar(shape, value, where):
    t = shape.type_name
    try:
        if t in ('integer', 'long'):
            return int(value)
        if t in ('float', 'double'):
            return float(value)
        if t == 'boolean':
            if isinstance(value, bool):
                return value
            if str(value).lower() in ('true', 'false'):
                return str(value).lower() == 'true'
            raise ValueError(value)
        if t == 'timestamp':
            return parse_timestamp(value)
        if t == 'blob':
            return base64.b64decode(value)
    except (ValueError, TypeError, OverflowError):
        raise AwsError.validation('Invalid value for %s: %r' % (where, value))
    return value


def parse_timestamp(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc)
    s = str(value).strip()
    try:
        return datetime.datetime.fromtimestamp(float(s), datetime.timezone.utc)
    except ValueError:
        pass
    if s.endswith('Z'):
        s = s[:-1] + '+00:00'
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.astimezone(datetime.timezone.utc)


def _from_json(shape, value, where):
    """Convert a JSON body value to python per shape (type errors -> AwsError)."""
    if value is None:
        return None
    t = shape.type_name
    if t == 'structure':
        if not isinstance(value, dict):
            raise AwsError.validation('%s must be an object' % where)
        out = {}
        for name, mshape in shape.members.items():
            key = mshape.serialization.get('name', name)
            if key in value:
                out[name] = _from_json(mshape, value[key], where + '.' + name)
        return out
    if t == 'list':
        if not isinstance(value, list):
            raise AwsError.validation('%s must be a list' % where)
        return [_from_json(shape.member, v, '%s[%d]' % (where, i)) for i, v in enumerate(value)]
    if t == 'map':
        if not isinstance(value, dict):
            raise AwsError.validation('%s must be a map' % where)
        return {k: _from_json(shape.value, v, where + '.' + k) for k, v in value.items()}
    if t == 'string':
        if not isinstance(value, str):
            raise AwsError.validation('%s must be a string' % where)
        return value
    if t in ('integer', 'long'):
        if isinstance(value, bool) or not isinstance(value, int):
            raise AwsError.validation('%s must be an integer' % where)
        return value
    if t == 'boolean':
        if not isinstance(value, bool):
            raise AwsError.validation('%s must be a boolean' % where)
        return value
    return _parse_scalar(shape, value, where)


def parse_rest_json(op_model, uri_params, query_pairs, headers, body):
    shape = op_model.input_shape
    params = {}
    if shape is None:
        return params
    bodyobj = {}
    payload = shape.serialization.get('payload')
    if body and not payload:
        try:
            bodyobj = json.loads(body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            raise AwsError.validation('Request body is not valid JSON')
        if not isinstance(bodyobj, dict):
            raise AwsError.validation('Request body must be a JSON object')
    for name, mshape in shape.members.items():
        loc = mshape.serialization.get('location')
        key = mshape.serialization.get('name', name)
        if loc == 'uri':
            if key in uri_params:
                params[name] = _parse_scalar(mshape, uri_params[key], name)
        elif loc == 'querystring':
            vals = [v for k, v in query_pairs if k == key]
            if vals:
                if mshape.type_name == 'list':
                    params[name] = [_parse_scalar(mshape.member, v, name) for v in vals]
                else:
                    params[name] = _parse_scalar(mshape, vals[0], name)
        elif loc == 'header':
            v = headers.get(key)
            if v is not None:
                params[name] = _parse_scalar(mshape, v, name)
        elif payload == name:
            if body:
                if mshape.type_name in ('blob', 'string'):
                    params[name] = body if mshape.type_name == 'blob' else body.decode('utf-8', 'replace')
                else:
                    try:
                        params[name] = _from_json(mshape, json.loads(body), name)
                    except ValueError:
                        raise AwsError.validation('Request body is not valid JSON')
        else:
            if key in bodyobj:
                params[name] = _from_json(mshape, bodyobj[key], name)
    return params


# ---------------------------------------------------------------- query

def parse_query_form(op_model, form):
    """form: dict key -> value (flattened AWS query keys)."""
    shape = op_model.input_shape
    if shape is None:
        return {}
    tree = {}
    for k, v in form.items():
        if k in ('Action', 'Version'):
            continue
        node = tree
        parts = k.split('.')
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                node[p] = nxt
            node = nxt
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = v
    return _from_query(shape, tree, '')


def _from_query(shape, node, where):
    t = shape.type_name
    if t == 'structure':
        if not isinstance(node, dict):
            raise AwsError.validation('%s must be a structure' % where)
        out = {}
        for name, mshape in shape.members.items():
            key = mshape.serialization.get('name', name)
            if key in node:
                out[name] = _from_query(mshape, node[key], (where + '.' if where else '') + name)
        return out
    if t == 'list':
        if node == '':
            return []
        if not isinstance(node, dict):
            raise AwsError.validation('%s must be a list' % where)
        mname = shape.member.serialization.get('name', 'member')
        if shape.serialization.get('flattened'):
            items = node
        else:
            items = node.get(mname, {})
            if not isinstance(items, dict):
                raise AwsError.validation('%s must be a list' % where)
        try:
            idx = sorted(items, key=int)
        except ValueError:
            raise AwsError.validation('%s has a bad list index' % where)
        return [_from_query(shape.member, items[i], '%s.member.%s' % (where, i)) for i in idx]
    if t == 'map':
        if not isinstance(node, dict):
            raise AwsError.validation('%s must be a map' % where)
        entries = node.get('entry', {})
        out = {}
        for i in sorted(entries, key=lambda x: int(x) if x.isdigit() else 0):
            e = entries[i]
            if isinstance(e, dict) and 'key' in e:
                out[e['key']] = _from_query(shape.value, e.get('value', ''), where)
        return out
    if isinstance(node, dict):
        raise AwsError.validation('%s must be a scalar' % where)
    return _parse_scalar(shape, node, where)


# ---------------------------------------------------------------- validation

_pattern_cache = {}


class _UnicodeClass:
    """Java's \\p{C} and \\p{Graph} classes, which Python's re lacks: the whole value must consist of
    characters the test accepts (AWS validates these patterns on the server side)."""

    def __init__(self, test):
        self.test = test

    def fullmatch(self, value):
        return all(self.test(ch) for ch in value)


def _not_other(ch):
    return not unicodedata.category(ch).startswith('C')   # Cc, Cf, Cs, Co, Cn


def _graph_or_space(ch):
    return ch == ' ' or not unicodedata.category(ch)[0] in 'CZ'


_UNICODE_PATTERNS = {'[^\\p{C}]*': _not_other, '[\\p{Graph}\\x20]*': _graph_or_space}


def _pattern(p):
    if p in _pattern_cache:
        return _pattern_cache[p]
    if p in _UNICODE_PATTERNS:
        rx = _UnicodeClass(_UNICODE_PATTERNS[p])
    else:
        try:
            rx = re.compile(p, re.S)
        except re.error:
            rx = None
    _pattern_cache[p] = rx
    return rx


def validate(shape, params):
    """Walk shape constraints; return list of (path, message)."""
    errors = []
    if shape is not None:
        _validate(shape, params, shape.name, errors, top=True)
    return errors


def _validate(shape, value, path, errors, top=False):
    t = shape.type_name
    md = shape.metadata
    if t == 'structure':
        for req in md.get('required', []):
            if value.get(req) is None:
                errors.append((path + '.' + req if not top else req, 'missing',
                               "Value null at '%s' failed to satisfy constraint: Member must not be null" % _lc(req)))
        for name, v in value.items():
            if name in shape.members and v is not None:
                _validate(shape.members[name], v, name if top else path + '.' + name, errors)
        return
    if t == 'list':
        _len_check(md, len(value), path, errors, 'length')
        for i, v in enumerate(value):
            _validate(shape.member, v, '%s.%d' % (path, i + 1), errors)
        return
    if t == 'map':
        _len_check(md, len(value), path, errors, 'length')
        for k, v in value.items():
            _validate(shape.value, v, path + '.' + k, errors)
        return
    if t == 'string':
        _len_check(md, len(value), path, errors, 'length')
        if shape.enum and value not in shape.enum:
            errors.append((path, 'enum', "Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]"
                           % (value, _lc(path), ', '.join(shape.enum))))
        p = md.get('pattern')
        if p:
            rx = _pattern(p)
            if rx is not None and not rx.fullmatch(value):
                errors.append((path, 'pattern', "Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s"
                               % (value, _lc(path), p)))
        return
    if t in ('integer', 'long', 'float', 'double'):
        if 'min' in md and value < md['min']:
            errors.append((path, 'range', "Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %s"
                           % (value, _lc(path), md['min'])))
        if 'max' in md and value > md['max']:
            errors.append((path, 'range', "Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or equal to %s"
                           % (value, _lc(path), md['max'])))
        return
    if t == 'blob':
        _len_check(md, len(value), path, errors, 'length')


def _len_check(md, n, path, errors, what):
    if 'min' in md and n < md['min']:
        errors.append((path, what, "Value at '%s' failed to satisfy constraint: Member must have %s greater than or equal to %s"
                       % (_lc(path), what, md['min'])))
    if 'max' in md and n > md['max']:
        errors.append((path, what, "Value at '%s' failed to satisfy constraint: Member must have %s less than or equal to %s"
                       % (_lc(path), what, md['max'])))


def _lc(path):
    return path[:1].lower() + path[1:]


def validation_message(errors):
    msgs = [e[2] for e in errors]
    if len(msgs) == 1:
        return '1 validation error detected: ' + msgs[0]
    return '%d validation errors detected: %s' % (len(msgs), '; '.join(msgs))
