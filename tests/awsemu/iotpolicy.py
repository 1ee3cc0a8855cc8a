"""AWS IoT Core policy evaluation, as the message broker and the credentials provider apply it.

The policies in force for a certificate are those attached to it and, when the connection has a thing
(the certificate is attached to a thing named by the client ID), those attached to the thing's groups
and their parents. An explicit Deny in any of them wins; else any Allow; else the implicit deny.
Resources and condition values may hold policy variables (${iot:ClientId}, ...); `*` and `?` are the
only wildcards (MQTT's `+` and `#` are literal); a variable with no value makes its entry match nothing.
Callers hold the state lock.
"""

import functools
import ipaddress
import json
import re

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

from util import as_list, statements

# X.509 name attributes AWS exposes as iot:Certificate.Subject.* / .Issuer.*
NAME_ATTRIBUTES = {
    NameOID.COMMON_NAME: 'CommonName', NameOID.COUNTRY_NAME: 'Country', NameOID.ORGANIZATION_NAME: 'Organization',
    NameOID.ORGANIZATIONAL_UNIT_NAME: 'OrganizationalUnit', NameOID.STATE_OR_PROVINCE_NAME: 'State',
    NameOID.SERIAL_NUMBER: 'SerialNumber', NameOID.TITLE: 'Title', NameOID.SURNAME: 'Surname',
    NameOID.GIVEN_NAME: 'GivenName', ObjectIdentifier('2.5.4.43'): 'Initials', NameOID.PSEUDONYM: 'Pseudonym',
    NameOID.GENERATION_QUALIFIER: 'GenerationQualifier', NameOID.DN_QUALIFIER: 'DistinguishedNameQualifier'}
SPECIAL = {'*': '*', '?': '?', '$': '$'}  # ${*}, ${?}, ${$}: the literal characters
_VAR = re.compile(r'\$\{([^}]*)\}')
_ESCAPE = re.compile(r'([,"\\+=<>;])')
MAX_ATTRIBUTE = 1024  # AWS: longer certificate attribute values are not substituted
MAX_VALUES = 5  # AWS: certificate attribute arrays are limited to five items


# ------------------------------------------------------------------ which policies

def policies_for(st, cert_id, thing_name=None):
    """[(policy name, parsed document)] in force for the certificate (and the thing, if any)."""
    cert = st['iot']['certificates'].get(cert_id)
    if cert is None:
        return []
    targets = [cert['certificateArn']] + (group_arns(st, thing_name) if thing_name else [])
    out = []
    for name, pol in sorted(st['iot']['policies'].items()):
        if any(t in pol['targets'] for t in targets):
            doc = _parsed(pol['versions'][pol['defaultVersionId']]['document'])
            if doc is not None:
                out.append((name, doc))
    return out


def group_arns(st, thing_name):
    """ARNs of the thing's groups and all their parents (policies on a group are inherited)."""
    groups = st['iot']['thingGroups']
    arns, todo = [], [n for n, g in groups.items() if thing_name in g.get('things', [])]
    while todo:
        g = groups.get(todo.pop())
        if g is not None and g['thingGroupArn'] not in arns:
            arns.append(g['thingGroupArn'])
            if g.get('parentGroupName'):
                todo.append(g['parentGroupName'])
    return arns


@functools.lru_cache(maxsize=512)
def _parsed(text):
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


# ------------------------------------------------------------------ evaluation

def evaluate(st, cert_id, action, resource_arn, variables):
    """(allowed, reason) for one action on one resource ARN."""
    pols = policies_for(st, cert_id, variables.get('iot:Connection.Thing.ThingName'))
    if not pols:
        return False, 'no policy is attached to certificate %s' % cert_id[:12]
    allowed_by = None
    for name, doc in pols:
        for n, s in enumerate(statements(doc) or []):
            if not isinstance(s, dict) or not _applies(s, action, resource_arn, variables):
                continue
            if s.get('Effect') == 'Deny':
                return False, 'explicitly denied by policy %s (statement %d)' % (name, n + 1)
            if s.get('Effect') == 'Allow' and allowed_by is None:
                allowed_by = 'allowed by policy %s (statement %d)' % (name, n + 1)
    if allowed_by:
        return True, allowed_by
    return False, 'no policy allows %s on %s' % (action, resource_arn)


def _applies(s, action, resource, variables):
    if 'Action' in s:
        if not any(_action_matches(a, action) for a in as_list(s['Action'])):
            return False
    elif any(_action_matches(a, action) for a in as_list(s.get('NotAction'))):
        return False
    if 'Resource' in s:
        if not any(resource_matches(r, resource, variables) for r in as_list(s['Resource'])):
            return False
    elif any(resource_matches(r, resource, variables) for r in as_list(s.get('NotResource'))):
        return False
    return conditions_hold(s.get('Condition'), variables)


def _action_matches(pattern, action):
    if not isinstance(pattern, str):
        return False
    return _wildcard_regex(((pattern.lower(), True),)).fullmatch(action.lower()) is not None


def resource_matches(pattern, resource, variables):
    if not isinstance(pattern, str):
        return False
    parts = substitute(pattern, variables)
    return parts is not None and _wildcard_regex(tuple(parts)).fullmatch(resource) is not None


def substitute(text, variables):
    """text as [(piece, wildcards_apply)]: the policy's own characters keep `*`/`?` as wildcards, a
    variable's value is literal. None when a variable has no value (the entry then matches nothing)."""
    parts, pos = [], 0
    for m in _VAR.finditer(text):
        parts.append((text[pos:m.start()], True))
        value = _variable(m.group(1).strip(), variables)
        if value is None:
            return None
        parts.append((value, False))
        pos = m.end()
    parts.append((text[pos:], True))
    return parts


def _variable(name, variables):
    if name in SPECIAL:
        return SPECIAL[name]
    v = variables.get(name)
    if isinstance(v, list):
        return None
    return v


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(parts):
    rx = []
    for piece, wild in parts:
        esc = re.escape(piece)
        if wild:
            esc = esc.replace(r'\*', '.*').replace(r'\?', '.')
        rx.append(esc)
    return re.compile(''.join(rx), re.S)


# ------------------------------------------------------------------ conditions (IAM semantics)

def conditions_hold(cond, variables):
    if not cond:
        return True
    if not isinstance(cond, dict):
        return False
    for op, block in cond.items():
        if not isinstance(block, dict):
            return False
        for key, values in block.items():
            if not _condition(op, key, as_list(values), variables.get(key), variables):
                return False
    return True


def _condition(op, key, wanted, actual, variables):
    qualifier, _, base = op.rpartition(':')
    if_exists = base.endswith('IfExists')
    base = base[:-len('IfExists')] if if_exists else base
    if base == 'Null':
        return (actual is None) == (str(wanted[0]).lower() == 'true') if wanted else False
    negated = 'Not' in base
    if actual is None or actual == []:
        if qualifier == 'ForAllValues' or if_exists:
            return True
        return negated and qualifier != 'ForAnyValue'
    test = _OPERATORS.get(base.replace('Not', '', 1) if negated else base)
    if test is None:
        return False  # an operator the emulator does not know never grants
    vals = []
    for w in wanted:
        sub = substitute(str(w), variables) if isinstance(w, (str, int, float, bool)) else None
        if sub is not None:
            vals.append(sub)
    one = lambda a: any(test(str(a), w) for w in vals)  # noqa: E731
    actuals = actual if isinstance(actual, list) else [actual]
    if qualifier == 'ForAllValues':
        hit = all(one(a) for a in actuals)
        return (not any(one(a) for a in actuals)) if negated else hit
    hit = any(one(a) for a in actuals)
    return not hit if negated else hit


def _literal(parts):
    return ''.join(p for p, _ in parts)


def _numeric(cmp):
    def test(a, w):
        try:
            return cmp(float(a), float(_literal(w)))
        except ValueError:
            return False
    return test


def _ip(a, w):
    try:
        return ipaddress.ip_address(a) in ipaddress.ip_network(_literal(w), strict=False)
    except ValueError:
        return False


_OPERATORS = {
    'StringEquals': lambda a, w: a == _literal(w),
    'StringEqualsIgnoreCase': lambda a, w: a.lower() == _literal(w).lower(),
    'StringLike': lambda a, w: _wildcard_regex(tuple(w)).fullmatch(a) is not None,
    'ArnEquals': lambda a, w: a == _literal(w),
    'ArnLike': lambda a, w: _wildcard_regex(tuple(w)).fullmatch(a) is not None,
    'Bool': lambda a, w: a.lower() == _literal(w).lower(),
    'NumericEquals': _numeric(lambda a, b: a == b),
    'NumericLessThan': _numeric(lambda a, b: a < b),
    'NumericLessThanEquals': _numeric(lambda a, b: a <= b),
    'NumericGreaterThan': _numeric(lambda a, b: a > b),
    'NumericGreaterThanEquals': _numeric(lambda a, b: a >= b),
    'IpAddress': _ip,
}
# 'NumericNotEquals', 'StringNotLike', 'NotIpAddress', ... are the negations of the above


# ------------------------------------------------------------------ the variables of a connection

def connection_variables(st, cert_id, client_id=None, thing_name=None, source_ip=None, connect_attributes=None):
    """Policy variables for a principal. thing_name: the thing the connection claims (the MQTT client ID,
    or the credentials provider's x-amzn-iot-thingname); it counts only when attached to the certificate."""
    v = {}
    if client_id is not None:
        v['iot:ClientId'] = client_id
    if source_ip:
        v['aws:SourceIp'] = source_ip
    if connect_attributes is not None:
        v['iot:ConnectAttributes'] = list(connect_attributes)
    cert = st['iot']['certificates'].get(cert_id)
    if cert is None:
        return v
    v.update(certificate_variables(cert['certificatePem']))
    thing = st['iot']['things'].get(thing_name) if thing_name else None
    attached = thing is not None and cert['certificateArn'] in thing.get('principals', [])
    v['iot:Connection.Thing.IsAttached'] = 'true' if attached else 'false'
    if attached:
        v['iot:Connection.Thing.ThingName'] = thing['thingName']
        for k, val in (thing.get('attributes') or {}).items():
            v['iot:Connection.Thing.Attributes[%s]' % k] = val
        if thing.get('thingTypeName'):
            v['iot:Connection.Thing.ThingTypeName'] = thing['thingTypeName']
    return v


def attached_thing(st, cert_id, name):
    """name when it is a thing the certificate is attached to, else None."""
    cert = st['iot']['certificates'].get(cert_id)
    thing = st['iot']['things'].get(name) if name else None
    if cert is None or thing is None or cert['certificateArn'] not in thing.get('principals', []):
        return None
    return name


@functools.lru_cache(maxsize=1024)
def certificate_variables(pem):
    """iot:Certificate.* variables of a PEM certificate (values escaped as AWS documents)."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    v = {'iot:Certificate.SerialNumber': str(cert.serial_number)}
    for side, name in (('Subject', cert.subject), ('Issuer', cert.issuer)):
        values = {}
        for attr in name:
            label = NAME_ATTRIBUTES.get(attr.oid)
            if label:
                values.setdefault(label, []).append(attr.value)
        for label, vals in values.items():
            _add_attribute(v, 'iot:Certificate.%s.%s' % (side, label), vals[:MAX_VALUES])
    v['iot:Certificate.AvailableKeys'] = sorted(k[len('iot:'):] for k in v if not k.endswith('.List'))
    return v


def _add_attribute(v, key, vals):
    usable = [_ESCAPE.sub(r'\\\1', x) for x in vals
              if len(x) <= MAX_ATTRIBUTE and not any(c in x for c in '*$+?#')]
    if len(usable) != len(vals):
        return  # AWS leaves a variable with wildcard characters or an oversized value unreplaced
    v[key] = usable[0]
    for n, x in enumerate(usable[1:], 1):
        v['%s.%d' % (key, n)] = x
    v[key + '.List'] = usable

