"""AWS IoT registry beyond iot.py: thing types and the groups of a thing (RegisterThing, fleetprov.py, needs
both; certificates attached to things are iot.py's AttachThingPrincipal and friends)."""

import uuid

from errors import AwsError
from util import page

READONLY = {'DescribeThingType', 'ListThingTypes', 'ListThingGroupsForThing'}

# AWS refuses DeleteThingType until the type has been deprecated for five minutes (DeleteThingType API reference).
DELETE_AFTER_DEPRECATION_S = 300


def _iot(ctx):
    return ctx.st['iot']


def _types(ctx):
    return _iot(ctx).setdefault('thingTypes', {})


def _nf(msg):
    return AwsError('ResourceNotFoundException', msg, 404)


def thing_type(st, name):
    """The thing type record named `name`, or None."""
    return st['iot'].get('thingTypes', {}).get(name)


def _type(ctx, name):
    t = _types(ctx).get(name)
    if t is None:
        raise _nf('Thing Type %s does not exist' % name)
    return t


def CreateThingType(ctx, p):
    name = p['thingTypeName']
    types = _types(ctx)
    props = p.get('thingTypeProperties') or {}
    if name in types:
        t = types[name]
        if t['thingTypeProperties'] == props:
            return {'thingTypeName': name, 'thingTypeArn': t['thingTypeArn'], 'thingTypeId': t['thingTypeId']}
        e = AwsError('ResourceAlreadyExistsException', 'Thing Type %s already exists with different properties'
                     % name, 409)
        e.extra = {'resourceId': t['thingTypeId'], 'resourceArn': t['thingTypeArn']}
        raise e
    t = {'thingTypeName': name, 'thingTypeId': str(uuid.uuid4()),
         'thingTypeArn': 'arn:aws:iot:%s:%s:thingtype/%s' % (ctx.region, ctx.account, name),
         'thingTypeProperties': props, 'creationDate': ctx.now_ts(), 'deprecated': False,
         'deprecationDate': None}
    types[name] = t
    return {'thingTypeName': name, 'thingTypeArn': t['thingTypeArn'], 'thingTypeId': t['thingTypeId']}


def _describe(t):
    meta = {'deprecated': t['deprecated'], 'creationDate': t['creationDate']}
    if t['deprecationDate'] is not None:
        meta['deprecationDate'] = t['deprecationDate']
    return {'thingTypeName': t['thingTypeName'], 'thingTypeId': t['thingTypeId'], 'thingTypeArn': t['thingTypeArn'],
            'thingTypeProperties': t['thingTypeProperties'], 'thingTypeMetadata': meta}


def DescribeThingType(ctx, p):
    return _describe(_type(ctx, p['thingTypeName']))


def DeprecateThingType(ctx, p):
    t = _type(ctx, p['thingTypeName'])
    undo = bool(p.get('undoDeprecate'))
    t['deprecated'] = not undo
    t['deprecationDate'] = None if undo else ctx.now_ts()
    return {}


def DeleteThingType(ctx, p):
    t = _type(ctx, p['thingTypeName'])
    if not t['deprecated'] or ctx.now_ts() - t['deprecationDate'] < DELETE_AFTER_DEPRECATION_S:
        raise AwsError('InvalidRequestException', 'Thing type %s must be deprecated for at least 5 minutes before '
                       'it can be deleted' % t['thingTypeName'], 400)
    users = sorted(n for n, th in _iot(ctx)['things'].items() if th.get('thingTypeName') == t['thingTypeName'])
    if users:
        raise AwsError('InvalidRequestException', 'Thing type %s is still associated with things' % t['thingTypeName'],
                       400)
    del _types(ctx)[t['thingTypeName']]
    return {}


def ListThingTypes(ctx, p):
    ts = sorted(_types(ctx).values(), key=lambda t: t['thingTypeName'])
    if p.get('thingTypeName'):
        ts = [t for t in ts if t['thingTypeName'] == p['thingTypeName']]
    chunk, nxt = page(ts, p.get('nextToken'), p.get('maxResults', 25))
    return {'thingTypes': [_describe(t) for t in chunk], 'nextToken': nxt}


# ---------------------------------------------------------------- principals and groups of a thing

def attach(thing, cert_arn):
    """Attaches a certificate ARN to a thing record, as AttachThingPrincipal does (RegisterThing)."""
    principals = thing.setdefault('principals', [])
    if cert_arn not in principals:
        principals.append(cert_arn)


def groups_of(st, thing_name):
    """Names of the static thing groups a thing is a direct member of."""
    return sorted(n for n, g in st['iot']['thingGroups'].items() if thing_name in g.get('things', []))


def ListThingGroupsForThing(ctx, p):
    if p['thingName'] not in _iot(ctx)['things']:
        raise _nf('Thing %s cannot be found.' % p['thingName'])
    groups = _iot(ctx)['thingGroups']
    names = groups_of(ctx.st, p['thingName'])
    chunk, nxt = page(names, p.get('nextToken'), p.get('maxResults', 25))
    return {'thingGroups': [{'groupName': n, 'groupArn': groups[n]['thingGroupArn']} for n in chunk],
            'nextToken': nxt}


OPERATIONS = {name: fn for name, fn in list(globals().items()) if callable(fn) and name[:1].isupper()
              and name not in ('AwsError',)}
