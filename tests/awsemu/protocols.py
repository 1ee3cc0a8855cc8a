"""Wire formats: rest-json (IoT) and query/XML (IAM, STS, CloudWatch) answers and errors."""

import base64
import datetime
import json
from xml.sax.saxutils import escape

XMLNS = {
    'iam': 'https://iam.amazonaws.com/doc/2010-05-08/',
    'sts': 'https://sts.amazonaws.com/doc/2011-06-15/',
    'cloudwatch': 'http://monitoring.amazonaws.com/doc/2010-08-01/',
}


def iso8601(d):
    if isinstance(d, (int, float)):
        d = datetime.datetime.fromtimestamp(d, datetime.timezone.utc)
    d = d.astimezone(datetime.timezone.utc)
    if d.microsecond:
        return d.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (d.microsecond // 1000)
    return d.strftime('%Y-%m-%dT%H:%M:%SZ')


def epoch(d):
    if isinstance(d, (int, float)):
        return d
    v = d.timestamp()
    return int(v) if v == int(v) else round(v, 3)


def _to_dt(v):
    if isinstance(v, datetime.datetime):
        return v
    if isinstance(v, (int, float)):
        return datetime.datetime.fromtimestamp(v, datetime.timezone.utc)
    from models import parse_timestamp
    return parse_timestamp(v)


# ---------------------------------------------------------------- rest-json

def _json_value(shape, value):
    t = shape.type_name
    if value is None:
        return None
    if t == 'structure':
        out = {}
        for name, mshape in shape.members.items():
            if name in value and value[name] is not None:
                if mshape.serialization.get('location'):
                    continue
                out[mshape.serialization.get('name', name)] = _json_value(mshape, value[name])
        return out
    if t == 'list':
        return [_json_value(shape.member, v) for v in value]
    if t == 'map':
        return {k: _json_value(shape.value, v) for k, v in value.items()}
    if t == 'timestamp':
        fmt = shape.serialization.get('timestampFormat') or shape.metadata.get('timestampFormat')
        d = _to_dt(value)
        if fmt == 'iso8601':
            return iso8601(d)
        return epoch(d)
    if t == 'blob':
        if isinstance(value, str):
            value = value.encode()
        return base64.b64encode(value).decode()
    return value


def rest_json_success(op_model, output, request_id):
    shape = op_model.output_shape
    headers = {'x-amzn-RequestId': request_id, 'Content-Type': 'application/json'}
    status = int(op_model.http.get('responseCode', 200))
    if shape is None:
        return status, headers, b'{}'
    output = output or {}
    for name, mshape in shape.members.items():
        loc = mshape.serialization.get('location')
        if loc == 'header' and output.get(name) is not None:
            headers[mshape.serialization.get('name', name)] = str(output[name])
        elif loc == 'statusCode' and output.get(name) is not None:
            status = int(output[name])
    body = _json_value(shape, output)
    return status, headers, json.dumps(body).encode()


def rest_json_error(err, request_id):
    headers = {'x-amzn-RequestId': request_id, 'Content-Type': 'application/json',
               'x-amzn-ErrorType': err.code}
    headers.update(err.headers)
    return err.status, headers, json.dumps({'message': err.message}).encode()


# ---------------------------------------------------------------- query / XML

def _xml_value(shape, value, name, out):
    t = shape.type_name
    if value is None:
        return
    if t == 'structure':
        out.append('<%s>' % name)
        _xml_members(shape, value, out)
        out.append('</%s>' % name)
    elif t == 'list':
        mname = shape.member.serialization.get('name', 'member')
        if shape.serialization.get('flattened'):
            for v in value:
                _xml_value(shape.member, v, name, out)
        else:
            out.append('<%s>' % name)
            for v in value:
                _xml_value(shape.member, v, mname, out)
            out.append('</%s>' % name)
    elif t == 'map':
        kname = shape.key.serialization.get('name', 'key')
        vname = shape.value.serialization.get('name', 'value')
        out.append('<%s>' % name)
        for k, v in value.items():
            out.append('<entry>')
            _xml_value(shape.key, k, kname, out)
            _xml_value(shape.value, v, vname, out)
            out.append('</entry>')
        out.append('</%s>' % name)
    else:
        if t == 'timestamp':
            text = iso8601(_to_dt(value))
        elif t == 'boolean':
            text = 'true' if value else 'false'
        elif t == 'blob':
            if isinstance(value, str):
                value = value.encode()
            text = base64.b64encode(value).decode()
        elif t in ('double', 'float'):
            text = repr(float(value))
        else:
            text = str(value)
        out.append('<%s>%s</%s>' % (name, escape(text), name))


def _xml_members(shape, value, out):
    for mname, mshape in shape.members.items():
        if mname in value and value[mname] is not None:
            _xml_value(mshape, value[mname], mshape.serialization.get('name', mname), out)


def query_success(service, op_model, output, request_id):
    ns = XMLNS[service]
    op = op_model.name
    out = ['<%sResponse xmlns="%s">' % (op, ns)]
    shape = op_model.output_shape
    if shape is not None:
        wrapper = shape.serialization.get('resultWrapper') or op + 'Result'
        out.append('<%s>' % wrapper)
        _xml_members(shape, output or {}, out)
        out.append('</%s>' % wrapper)
    out.append('<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>' % request_id)
    out.append('</%sResponse>' % op)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n' if False else '') + ''.join(out) + '\n'
    return 200, {'x-amzn-RequestId': request_id, 'Content-Type': 'text/xml'}, body.encode()


def query_error(service, err, request_id):
    ns = XMLNS.get(service, XMLNS['iam'])
    body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>'
            '<RequestId>%s</RequestId></ErrorResponse>\n'
            % (ns, 'Sender' if err.sender else 'Receiver', escape(err.code), escape(err.message), request_id))
    headers = {'x-amzn-RequestId': request_id, 'Content-Type': 'text/xml'}
    headers.update(err.headers)
    return err.status, headers, body.encode()


def render_error(service, err, request_id):
    if service == 'iot':
        return rest_json_error(err, request_id)
    return query_error(service, err, request_id)
