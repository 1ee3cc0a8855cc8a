"""RegisterThing's effect on the registry, in two phases so a refusal changes nothing: plan() checks the
rendered template (provtemplate.py) against the state (certificate, thing and OverrideSettings, thing groups,
thing type, policies) and lists the registry actions the provisioning role must allow; apply() then makes
the changes. Both run under the store lock."""

import hashlib

import iot
import iotthings
from errors import AwsError
from provtemplate import ProvError, invalid


def _registration_failure(message):
    return ProvError(400, 'ResourceRegistrationFailure', message)


class Plan:
    def __init__(self, cert):
        self.cert = cert                # the certificate record of the ownership token
        self.cert_status = 'ACTIVE'
        self.thing_name = None
        self.thing = None               # the existing thing record, or None to create one
        self.attributes = None          # final attributes (None: leave as is)
        self.thing_type = None          # final thing type name ('' : leave as is)
        self.groups = None              # final set of groups (None: leave as is)
        self.policies = []              # [(name, document or None)]: document set = create when missing
        self.needs = []                 # [(action, resource ARN)] the provisioning role must allow


def plan(ctx, rendered, cert):
    p = Plan(cert)
    cres = rendered.certificate
    if cres['CertificateId'] != cert['certificateId']:
        raise invalid('The CertificateId of resource %s is not the certificate of the ownership token'
                      % cres['logicalId'])
    p.cert_status = cres['Status']
    p.needs += [('iot:DescribeCertificate', cert['certificateArn']), ('iot:UpdateCertificate', cert['certificateArn'])]
    if rendered.thing is not None:
        _plan_thing(ctx, p, rendered.thing)
    for pres in rendered.policies:
        _plan_policy(ctx, p, pres)
    attached = set(iot._targets_of(ctx, cert['certificateArn']))
    if len(attached | {name for name, _ in p.policies}) > iot.MAX_POLICIES_PER_TARGET:
        raise _registration_failure('The certificate would have more than %d policies attached'
                                    % iot.MAX_POLICIES_PER_TARGET)
    return p


def _arn(ctx, kind, name):
    return 'arn:aws:iot:%s:%s:%s/%s' % (ctx.region, ctx.account, kind, name)


def _plan_thing(ctx, p, res):
    name = res['ThingName']
    p.thing_name = name
    thing_arn = _arn(ctx, 'thing', name)
    p.thing = ctx.st['iot']['things'].get(name)
    p.needs.append(('iot:DescribeThing', thing_arn))
    if p.thing is None:
        p.attributes = res['AttributePayload'] or {}
        p.thing_type = res['ThingTypeName'] or ''
        p.groups = res['ThingGroups'] or []
        p.needs.append(('iot:CreateThing', thing_arn))
        current_groups = []
    else:
        current_groups = iotthings.groups_of(ctx.st, name)
        _plan_overrides(p, res, current_groups)
        if p.attributes is not None or p.thing_type:
            p.needs.append(('iot:UpdateThing', thing_arn))
    if p.thing_type:
        _check_thing_type(ctx, p)
    for g in (p.groups if p.groups is not None else []):
        if g not in current_groups:
            if g not in ctx.st['iot']['thingGroups']:
                raise _registration_failure('Thing group %s does not exist' % g)
            p.needs.append(('iot:AddThingToThingGroup', _arn(ctx, 'thinggroup', g)))
    for g in (current_groups if p.groups is not None else []):
        if g not in p.groups:
            p.needs.append(('iot:RemoveThingFromThingGroup', _arn(ctx, 'thinggroup', g)))
    p.needs.append(('iot:AttachThingPrincipal', thing_arn))


def _check_thing_type(ctx, p):
    tt = iotthings.thing_type(ctx.st, p.thing_type)
    if tt is None:
        raise _registration_failure('Thing type %s does not exist' % p.thing_type)
    if tt['deprecated']:
        raise _registration_failure('Thing type %s is deprecated' % p.thing_type)
    p.needs.append(('iot:DescribeThingType', tt['thingTypeArn']))


def _conflict(name, prop):
    return ProvError(409, 'ResourceConflicts', 'Thing %s already exists with a different %s and its OverrideSettings '
                     'say FAIL' % (name, prop))


def _plan_overrides(p, res, current_groups):
    """The thing exists: each property the template gives follows its OverrideSettings (DO_NOTHING when
    unset); a property the template does not give is left as it is."""
    t, ov, name = p.thing, res['overrides'], res['ThingName']
    attrs = res['AttributePayload']
    if attrs is not None:
        action = ov.get('AttributePayload', 'DO_NOTHING')
        if action == 'FAIL' and attrs != t['attributes']:
            raise _conflict(name, 'AttributePayload')
        if action == 'REPLACE':
            p.attributes = dict(attrs)
        elif action == 'MERGE':
            p.attributes = dict(t['attributes'], **attrs)
    ttype = res['ThingTypeName']
    if ttype is not None:
        action = ov.get('ThingTypeName', 'DO_NOTHING')
        if action == 'FAIL' and ttype != t.get('thingTypeName'):
            raise _conflict(name, 'ThingTypeName')
        if action == 'REPLACE' and ttype != t.get('thingTypeName'):
            p.thing_type = ttype
    groups = res['ThingGroups']
    if groups is not None:
        action = ov.get('ThingGroups', 'DO_NOTHING')
        if action == 'FAIL' and set(groups) != set(current_groups):
            raise _conflict(name, 'ThingGroups')
        if action == 'REPLACE':
            p.groups = list(groups)
        elif action == 'MERGE':
            p.groups = current_groups + [g for g in groups if g not in current_groups]


def _plan_policy(ctx, p, res):
    if 'PolicyName' in res:
        name, doc = res['PolicyName'], None
        if name not in ctx.st['iot']['policies']:
            raise _registration_failure('Policy %s does not exist' % name)
    else:
        doc = res['PolicyDocument']
        try:
            iot._check_iot_doc(doc)
        except AwsError as e:
            raise invalid('The PolicyDocument of %s is not valid: %s' % (res['logicalId'], e.message))
        # "PolicyName: Defaults to a hash of the policy document" (provisioning templates page)
        name = hashlib.sha256(doc.encode()).hexdigest()
        if name not in ctx.st['iot']['policies']:
            p.needs.append(('iot:CreatePolicy', _arn(ctx, 'policy', name)))
    p.needs += [('iot:GetPolicy', _arn(ctx, 'policy', name)), ('iot:AttachPolicy', p.cert['certificateArn'])]
    if all(name != n for n, _ in p.policies):
        p.policies.append((name, doc))


def apply(ctx, p):
    """Makes the planned changes; returns the thing's name (None when the template has no thing)."""
    _activate(ctx, p.cert, p.cert_status)
    if p.thing_name is not None:
        _apply_thing(ctx, p)
    for name, doc in p.policies:
        pol = ctx.st['iot']['policies'].get(name) or iot.new_policy(ctx, name, doc)
        iot.attach_policy(ctx, pol, p.cert['certificateArn'])
    return p.thing_name


def _activate(ctx, cert, status):
    cert['status'] = status
    cert.pop('pendingUntil', None)
    cert['lastModifiedDate'] = ctx.now_ts()
    cert['customerVersion'] += 1
    cert['generationId'] = iot._gen()


def _apply_thing(ctx, p):
    t = p.thing
    if t is None:
        t = iot.new_thing(ctx, p.thing_name, p.attributes, p.thing_type or None)
    elif p.attributes is not None or p.thing_type:
        if p.attributes is not None:
            t['attributes'] = p.attributes
        if p.thing_type:
            t['thingTypeName'] = p.thing_type
        t['version'] += 1
    if p.groups is not None:
        groups = ctx.st['iot']['thingGroups']
        current = iotthings.groups_of(ctx.st, p.thing_name) if p.thing is not None else []
        for name in p.groups:
            if name not in current:
                groups[name].setdefault('things', []).append(p.thing_name)
        for name in current:
            if name not in p.groups:
                groups[name]['things'].remove(p.thing_name)
    iotthings.attach(t, p.cert['certificateArn'])


def describe(p):
    """What the plan did, for the provisioning log."""
    return {'thingName': p.thing_name, 'certificateStatus': p.cert_status,
            'thingGroups': p.groups, 'policies': [n for n, _ in p.policies]}
