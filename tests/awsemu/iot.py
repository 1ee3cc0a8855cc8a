"""AWS IoT control plane: role aliases, policies, certificates, provisioning templates, thing groups, things."""

import json

import certs
import iam
import iotthings
from errors import AwsError
from util import check_policy_json, endpoint_prefix, page, rand_str

READONLY = {'DescribeRoleAlias', 'GetPolicy', 'GetPolicyVersion', 'ListPolicyVersions', 'ListTargetsForPolicy',
            'DescribeCertificate', 'ListCertificates', 'DescribeProvisioningTemplate', 'ListProvisioningTemplates',
            'ListProvisioningTemplateVersions', 'DescribeProvisioningTemplateVersion', 'DescribeThingGroup',
            'DescribeEndpoint', 'ListAttachedPolicies', 'ListRoleAliases', 'ListPolicies', 'DescribeThing',
            'ListThingsInThingGroup', 'ListThingPrincipals', 'ListPrincipalThings'}

MAX_POLICIES_PER_TARGET = 10


def _iot(ctx):
    return ctx.st['iot']


def _arn(ctx, kind, name):
    return 'arn:aws:iot:%s:%s:%s/%s' % (ctx.region, ctx.account, kind, name)


def _nf(what):
    return AwsError('ResourceNotFoundException', what, 404)


def _exists(what, rid, arn):
    e = AwsError('ResourceAlreadyExistsException', what, 409)
    e.extra = {'resourceId': rid, 'resourceArn': arn}
    return e


def _gen():
    return rand_str(64, '0123456789abcdef')


# ---------------------------------------------------------------- role aliases

def _alias(ctx, name):
    a = _iot(ctx)['roleAliases'].get(name)
    if a is None:
        raise _nf('Role alias %s does not exist' % name)
    return a


def _settling(ctx, role, what):
    """IAM is eventually consistent: for iamPropagationSeconds after a role was created or changed
    (trust policy, attachments, MaxSessionDuration), AWS IoT cannot assume it yet."""
    n = getattr(ctx.emu, 'iam_propagation_s', 0)
    if n and ctx.now_ts() < role.get('ChangedAt', 0) + n:
        raise AwsError('InvalidRequestException', '%s %s cannot be assumed by AWS IoT' % (what, role['Arn']), 400)


def _check_role(ctx, arn, duration=None):
    r = iam.role_by_arn(ctx.st, arn)
    if r is None:
        raise AwsError('InvalidRequestException', 'Role ARN %s is not valid or the role does not exist' % arn, 400)
    _settling(ctx, r, 'Role')
    if duration is not None and duration > r.get('MaxSessionDuration', 3600):
        # CreateRoleAlias / UpdateRoleAlias reference: "This value must be less than or equal to the
        # maximum session duration of the IAM role that the role alias references."
        raise AwsError('InvalidRequestException', 'credentialDurationSeconds %d exceeds the maximum session '
                       'duration (%d) of role %s' % (duration, r.get('MaxSessionDuration', 3600), arn), 400)


def CreateRoleAlias(ctx, p):
    name = p['roleAlias']
    arn = _arn(ctx, 'rolealias', name)
    if name in _iot(ctx)['roleAliases']:
        raise _exists('Role alias %s already exists' % name, name, arn)
    _check_role(ctx, p['roleArn'], p.get('credentialDurationSeconds', 3600))
    now = ctx.now_ts()
    _iot(ctx)['roleAliases'][name] = {'roleAlias': name, 'roleAliasArn': arn, 'roleArn': p['roleArn'],
                                      'owner': ctx.account,
                                      'credentialDurationSeconds': p.get('credentialDurationSeconds', 3600),
                                      'creationDate': now, 'lastModifiedDate': now}
    return {'roleAlias': name, 'roleAliasArn': arn}


def DescribeRoleAlias(ctx, p):
    return {'roleAliasDescription': dict(_alias(ctx, p['roleAlias']))}


def UpdateRoleAlias(ctx, p):
    a = _alias(ctx, p['roleAlias'])
    dur = p.get('credentialDurationSeconds')
    if p.get('roleArn') or dur is not None:
        _check_role(ctx, p.get('roleArn') or a['roleArn'], dur if dur is not None else a['credentialDurationSeconds'])
    if p.get('roleArn'):
        a['roleArn'] = p['roleArn']
    if p.get('credentialDurationSeconds') is not None:
        a['credentialDurationSeconds'] = p['credentialDurationSeconds']
    a['lastModifiedDate'] = ctx.now_ts()
    return {'roleAlias': a['roleAlias'], 'roleAliasArn': a['roleAliasArn']}


def DeleteRoleAlias(ctx, p):
    _alias(ctx, p['roleAlias'])
    del _iot(ctx)['roleAliases'][p['roleAlias']]
    return {}


def ListRoleAliases(ctx, p):
    names = sorted(_iot(ctx)['roleAliases'], reverse=not p.get('ascendingOrder', False))
    chunk, nxt = page(names, p.get('marker'), p.get('pageSize', 25))
    return {'roleAliases': chunk, 'nextMarker': nxt}


# ---------------------------------------------------------------- policies

def _policy(ctx, name):
    pol = _iot(ctx)['policies'].get(name)
    if pol is None:
        raise _nf('Policy %s does not exist' % name if False else 'Policy not found')
    return pol


def _check_iot_doc(doc):
    if len(''.join(doc.split())) > 2048:
        raise AwsError('MalformedPolicyException', 'Policy document exceeds the maximum size of 2048 characters '
                       '(excluding whitespace)', 400)
    check_policy_json(doc, 'MalformedPolicyException', 'iot')


def CreatePolicy(ctx, p):
    name = p['policyName']
    arn = _arn(ctx, 'policy', name)
    if name in _iot(ctx)['policies']:
        raise _exists('Policy cannot be created - name already exists (name=%s)' % name, name, arn)
    _check_iot_doc(p['policyDocument'])
    new_policy(ctx, name, p['policyDocument'])
    return {'policyName': name, 'policyArn': arn, 'policyDocument': p['policyDocument'], 'policyVersionId': '1'}


def new_policy(ctx, name, document):
    """Stores a new policy with one version (CreatePolicy, and RegisterThing's policy documents)."""
    now = ctx.now_ts()
    pol = {'policyName': name, 'policyArn': _arn(ctx, 'policy', name), 'defaultVersionId': '1',
           'versions': {'1': {'document': document, 'createDate': now}}, 'nextVersion': 2, 'creationDate': now,
           'lastModifiedDate': now, 'generationId': _gen(), 'targets': []}
    _iot(ctx)['policies'][name] = pol
    return pol


def GetPolicy(ctx, p):
    pol = _policy(ctx, p['policyName'])
    d = pol['defaultVersionId']
    return {'policyName': pol['policyName'], 'policyArn': pol['policyArn'],
            'policyDocument': pol['versions'][d]['document'], 'defaultVersionId': d,
            'creationDate': pol['creationDate'], 'lastModifiedDate': pol['lastModifiedDate'],
            'generationId': pol['generationId']}


def ListPolicies(ctx, p):
    pols = sorted(_iot(ctx)['policies'].values(), key=lambda x: x['policyName'],
                  reverse=not p.get('ascendingOrder', False))
    chunk, nxt = page(pols, p.get('marker'), p.get('pageSize', 25))
    return {'policies': [{'policyName': x['policyName'], 'policyArn': x['policyArn']} for x in chunk],
            'nextMarker': nxt}


def CreatePolicyVersion(ctx, p):
    pol = _policy(ctx, p['policyName'])
    if len(pol['versions']) >= 5:
        raise AwsError('VersionsLimitExceededException', 'The policy %s already has the maximum number of versions '
                       '(5)' % pol['policyName'], 409)
    _check_iot_doc(p['policyDocument'])
    vid = str(pol['nextVersion'])
    pol['nextVersion'] += 1
    pol['versions'][vid] = {'document': p['policyDocument'], 'createDate': ctx.now_ts()}
    if p.get('setAsDefault'):
        pol['defaultVersionId'] = vid
    pol['lastModifiedDate'] = ctx.now_ts()
    pol['generationId'] = _gen()
    return {'policyArn': pol['policyArn'], 'policyDocument': p['policyDocument'], 'policyVersionId': vid,
            'isDefaultVersion': pol['defaultVersionId'] == vid}


def _version(pol, vid):
    if vid not in pol['versions']:
        raise _nf('Policy version %s of policy %s does not exist' % (vid, pol['policyName']))
    return pol['versions'][vid]


def GetPolicyVersion(ctx, p):
    pol = _policy(ctx, p['policyName'])
    v = _version(pol, p['policyVersionId'])
    return {'policyArn': pol['policyArn'], 'policyName': pol['policyName'], 'policyDocument': v['document'],
            'policyVersionId': p['policyVersionId'], 'isDefaultVersion': pol['defaultVersionId'] == p['policyVersionId'],
            'creationDate': v['createDate'], 'lastModifiedDate': v['createDate'], 'generationId': pol['generationId']}


def SetDefaultPolicyVersion(ctx, p):
    pol = _policy(ctx, p['policyName'])
    _version(pol, p['policyVersionId'])
    pol['defaultVersionId'] = p['policyVersionId']
    pol['generationId'] = _gen()
    return {}


def DeletePolicyVersion(ctx, p):
    pol = _policy(ctx, p['policyName'])
    vid = p['policyVersionId']
    _version(pol, vid)
    if vid == pol['defaultVersionId']:
        raise AwsError('DeleteConflictException', 'Cannot delete the default version of a policy', 409)
    del pol['versions'][vid]
    return {}


def ListPolicyVersions(ctx, p):
    pol = _policy(ctx, p['policyName'])
    vids = sorted(pol['versions'], key=int, reverse=True)
    return {'policyVersions': [{'versionId': v, 'isDefaultVersion': v == pol['defaultVersionId'],
                                'createDate': pol['versions'][v]['createDate']} for v in vids]}


def DeletePolicy(ctx, p):
    pol = _policy(ctx, p['policyName'])
    delay = getattr(ctx.emu, 'policy_delete_delay_s', 0)
    if delay and ctx.now_ts() < pol.get('detachedAt', 0) + delay:
        # DeletePolicy reference: "it can take up to five minutes after a policy is detached before
        # it's ready to be deleted"
        raise AwsError('DeleteConflictException', 'The policy cannot be deleted yet: it was detached from a '
                       'principal moments ago (name=%s)' % pol['policyName'], 409)
    if pol['targets']:
        raise AwsError('DeleteConflictException', 'The policy cannot be deleted as the policy is attached to one or '
                       'more principals (name=%s)' % pol['policyName'], 409)
    if len(pol['versions']) > 1:
        raise AwsError('DeleteConflictException', 'Cannot delete the policy because it has one or more policy '
                       'versions attached to it (name=%s)' % pol['policyName'], 409)
    del _iot(ctx)['policies'][pol['policyName']]
    return {}


def _cert_by_arn(ctx, arn):
    if ':cert/' in arn:
        c = _iot(ctx)['certificates'].get(arn.rsplit('/', 1)[1])
        if c is not None and c['certificateArn'] == arn:
            return c
    return None


def _check_target(ctx, target):
    if target.startswith('arn:aws:iot:'):
        if ':cert/' in target:
            if _cert_by_arn(ctx, target) is None:
                raise _nf('The certificate given in the principal does not exist.')
        elif ':thinggroup/' in target:
            name = target.rsplit('/', 1)[1]
            g = _iot(ctx)['thingGroups'].get(name)
            if g is None or g['thingGroupArn'] != target:
                raise _nf('Thing group %s does not exist' % name)
        else:
            raise AwsError('InvalidRequestException', 'Invalid target: %s' % target, 400)
    elif ':' not in target:
        raise AwsError('InvalidRequestException', 'Invalid target: %s' % target, 400)


def _targets_of(ctx, target):
    return [n for n, pol in _iot(ctx)['policies'].items() if target in pol['targets']]


def AttachPolicy(ctx, p):
    pol = _policy(ctx, p['policyName'])
    target = p['target']
    _check_target(ctx, target)
    attach_policy(ctx, pol, target)
    return {}


def attach_policy(ctx, pol, target):
    """Attaches a policy record to a target (idempotent; at most MAX_POLICIES_PER_TARGET per target)."""
    if target in pol['targets']:
        return
    if len(_targets_of(ctx, target)) >= MAX_POLICIES_PER_TARGET:
        raise AwsError('LimitExceededException', 'The number of attached policies for the principal %s has reached '
                       'the limit (%d)' % (target, MAX_POLICIES_PER_TARGET), 410)
    pol['targets'].append(target)


def DetachPolicy(ctx, p):
    pol = _policy(ctx, p['policyName'])
    if p['target'] in pol['targets']:
        pol['targets'].remove(p['target'])
        pol['detachedAt'] = ctx.now_ts()
    return {}


def ListTargetsForPolicy(ctx, p):
    pol = _policy(ctx, p['policyName'])
    chunk, nxt = page(pol['targets'], p.get('marker'), p.get('pageSize', 25))
    return {'targets': chunk, 'nextMarker': nxt}


def ListAttachedPolicies(ctx, p):
    names = sorted(_targets_of(ctx, p['target']))
    chunk, nxt = page(names, p.get('marker'), p.get('pageSize', 25))
    return {'policies': [{'policyName': n, 'policyArn': _iot(ctx)['policies'][n]['policyArn']} for n in chunk],
            'nextMarker': nxt}


# ---------------------------------------------------------------- certificates

def _cert(ctx, cid):
    c = _iot(ctx)['certificates'].get(cid)
    if c is None:
        raise _nf('The certificate given in the principal does not exist.' if False
                  else 'Certificate %s does not exist' % cid)
    return c


def store_cert(ctx, issued, status):
    """Stores an issued certificate (certs.py) with a status: ACTIVE, INACTIVE or PENDING_ACTIVATION."""
    now = ctx.now_ts()
    _iot(ctx)['seq'] += 1
    c = {'certificateId': issued['certificateId'], 'certificateArn': _arn(ctx, 'cert', issued['certificateId']),
         'status': status, 'certificatePem': issued['certificatePem'],
         'ownedBy': ctx.account, 'creationDate': now, 'lastModifiedDate': now, 'customerVersion': 1,
         'generationId': _gen(), 'validity': issued['validity'], 'certificateMode': 'DEFAULT',
         'seq': _iot(ctx)['seq']}
    _iot(ctx)['certificates'][c['certificateId']] = c
    return c


def CreateKeysAndCertificate(ctx, p):
    issued = certs.create_keys_and_certificate()
    c = store_cert(ctx, issued, 'ACTIVE' if p.get('setAsActive') else 'INACTIVE')
    return {'certificateArn': c['certificateArn'], 'certificateId': c['certificateId'],
            'certificatePem': c['certificatePem'],
            'keyPair': {'PublicKey': issued['publicKey'], 'PrivateKey': issued['privateKey']}}


def CreateCertificateFromCsr(ctx, p):
    issued = certs.create_from_csr(p['certificateSigningRequest'])
    c = store_cert(ctx, issued, 'ACTIVE' if p.get('setAsActive') else 'INACTIVE')
    return {'certificateArn': c['certificateArn'], 'certificateId': c['certificateId'],
            'certificatePem': c['certificatePem']}


def DescribeCertificate(ctx, p):
    c = _cert(ctx, p['certificateId'])
    out = {k: c[k] for k in ('certificateArn', 'certificateId', 'status', 'certificatePem', 'ownedBy',
                             'creationDate', 'lastModifiedDate', 'customerVersion', 'generationId', 'validity',
                             'certificateMode')}
    out['transferData'] = {}
    return {'certificateDescription': out}


SETTABLE = ('ACTIVE', 'INACTIVE', 'REVOKED')


def UpdateCertificate(ctx, p):
    c = _cert(ctx, p['certificateId'])
    new = p['newStatus']
    if new not in SETTABLE:
        if new == 'REGISTER_INACTIVE':
            msg = 'REGISTER_INACTIVE is deprecated and cannot be set'
        else:
            msg = 'Status %s cannot be set with UpdateCertificate' % new
        raise AwsError('InvalidRequestException', msg, 400)
    if c['status'] == 'REVOKED' and new != 'REVOKED':
        raise AwsError('CertificateStateException', 'Certificate %s is revoked and its status cannot be changed'
                       % c['certificateId'], 406)
    if c['status'] != new:
        c['status'] = new
        c['lastModifiedDate'] = ctx.now_ts()
        c['customerVersion'] += 1
        c['generationId'] = _gen()
    hook = getattr(getattr(ctx, 'emu', None), 'certificate_status_changed', None)
    if new != 'ACTIVE' and hook:
        hook(c['certificateId'], new)  # its MQTT connections close
    return {}


def DeleteCertificate(ctx, p):
    c = _cert(ctx, p['certificateId'])
    if c['status'] == 'ACTIVE':
        raise AwsError('CertificateStateException', 'Certificate must be deactivated (not ACTIVE) before deletion.',
                       406)
    if things_of_principal(ctx.st, c['certificateArn']):
        # AWS: "A certificate cannot be deleted if it has a policy or IoT thing attached to it"; forceDelete
        # only covers policies
        raise AwsError('DeleteConflictException', 'Things must be detached before deletion (arn: %s)'
                       % c['certificateArn'], 409)
    attached = _targets_of(ctx, c['certificateArn'])
    if attached and not p.get('forceDelete'):
        raise AwsError('DeleteConflictException', 'Certificate policies must be detached before deletion (arn: %s)'
                       % c['certificateArn'], 409)
    for name in attached:
        _iot(ctx)['policies'][name]['targets'].remove(c['certificateArn'])
    del _iot(ctx)['certificates'][c['certificateId']]
    return {}


def ListCertificates(ctx, p):
    # The query parameter is isAscendingOrder (an unknown one such as ascendingOrder is ignored, as
    # AWS ignores it); without it the oldest come first.
    cs = sorted(_iot(ctx)['certificates'].values(), key=lambda c: (c['creationDate'], c['seq']),
                reverse=not p.get('ascendingOrder', True))
    chunk, nxt = page(cs, p.get('marker'), p.get('pageSize', 25))
    return {'certificates': [{k: c[k] for k in ('certificateArn', 'certificateId', 'status', 'certificateMode',
                                                 'creationDate')} for c in chunk],
            'nextMarker': nxt}


# ---------------------------------------------------------------- provisioning templates

def _template(ctx, name):
    t = _iot(ctx)['templates'].get(name)
    if t is None:
        raise _nf('The provisioning template %s does not exist' % name)
    return t


def _check_body(body):
    if len(body) > 10240:
        raise AwsError('InvalidRequestException', 'The template body exceeds the maximum size of 10240', 400)
    try:
        doc = json.loads(body)
    except ValueError:
        raise AwsError('InvalidRequestException', 'The template body is not a valid JSON document', 400)
    if not isinstance(doc, dict) or not isinstance(doc.get('Resources'), dict):
        raise AwsError('InvalidRequestException', 'The template body must contain a Resources section', 400)


def _check_provisioning_role(ctx, arn):
    r = iam.role_by_arn(ctx.st, arn)
    if r is None:
        raise AwsError('InvalidRequestException', 'The provisioning role %s does not exist' % arn, 400)
    if not iam.trusts_service(r, 'iot.amazonaws.com'):
        raise AwsError('InvalidRequestException', 'The provisioning role %s cannot be assumed by AWS IoT' % arn, 400)
    _settling(ctx, r, 'The provisioning role')


def CreateProvisioningTemplate(ctx, p):
    name = p['templateName']
    arn = _arn(ctx, 'provisioningtemplate', name)
    if name in _iot(ctx)['templates']:
        raise _exists('The provisioning template %s already exists' % name, name, arn)
    _check_body(p['templateBody'])
    _check_provisioning_role(ctx, p['provisioningRoleArn'])
    ttype = p.get('type', 'FLEET_PROVISIONING')
    if p.get('preProvisioningHook') and ttype != 'FLEET_PROVISIONING':
        raise AwsError('InvalidRequestException', 'Pre-provisioning hooks are only supported for '
                       'FLEET_PROVISIONING templates', 400)
    now = ctx.now_ts()
    _iot(ctx)['templates'][name] = {
        'templateName': name, 'templateArn': arn, 'description': p.get('description'), 'creationDate': now,
        'lastModifiedDate': now, 'enabled': p.get('enabled', False), 'provisioningRoleArn': p['provisioningRoleArn'],
        'preProvisioningHook': p.get('preProvisioningHook'), 'type': ttype, 'defaultVersionId': 1,
        'nextVersion': 2, 'versions': {'1': {'templateBody': p['templateBody'], 'creationDate': now}}}
    return {'templateArn': arn, 'templateName': name, 'defaultVersionId': 1}


def DescribeProvisioningTemplate(ctx, p):
    t = _template(ctx, p['templateName'])
    out = {k: t[k] for k in ('templateArn', 'templateName', 'description', 'creationDate', 'lastModifiedDate',
                             'defaultVersionId', 'enabled', 'provisioningRoleArn', 'preProvisioningHook', 'type')}
    out['templateBody'] = t['versions'][str(t['defaultVersionId'])]['templateBody']
    return out


def UpdateProvisioningTemplate(ctx, p):
    t = _template(ctx, p['templateName'])
    if p.get('defaultVersionId') is not None and str(p['defaultVersionId']) not in t['versions']:
        raise _nf('The provisioning template version %s does not exist' % p['defaultVersionId'])
    if p.get('provisioningRoleArn'):
        _check_provisioning_role(ctx, p['provisioningRoleArn'])
    if p.get('preProvisioningHook') and t['type'] != 'FLEET_PROVISIONING':
        raise AwsError('InvalidRequestException', 'Pre-provisioning hooks are only supported for '
                       'FLEET_PROVISIONING templates', 400)
    if p.get('preProvisioningHook') and p.get('removePreProvisioningHook'):
        raise AwsError('InvalidRequestException', 'preProvisioningHook and removePreProvisioningHook cannot be '
                       'used together', 400)
    for k in ('description', 'enabled', 'defaultVersionId', 'provisioningRoleArn', 'preProvisioningHook'):
        if p.get(k) is not None:
            t[k] = p[k]
    if p.get('removePreProvisioningHook'):
        t['preProvisioningHook'] = None
    t['lastModifiedDate'] = ctx.now_ts()
    return {}


def DeleteProvisioningTemplate(ctx, p):
    _template(ctx, p['templateName'])
    del _iot(ctx)['templates'][p['templateName']]
    return {}


def ListProvisioningTemplates(ctx, p):
    ts = sorted(_iot(ctx)['templates'].values(), key=lambda t: t['templateName'])
    chunk, nxt = page(ts, p.get('nextToken'), p.get('maxResults', 25))
    return {'templates': [{k: t[k] for k in ('templateArn', 'templateName', 'description', 'creationDate',
                                             'lastModifiedDate', 'enabled', 'type')} for t in chunk],
            'nextToken': nxt}


def CreateProvisioningTemplateVersion(ctx, p):
    t = _template(ctx, p['templateName'])
    if len(t['versions']) >= 5:
        raise AwsError('VersionsLimitExceededException', 'The provisioning template %s already has the maximum '
                       'number of versions (5)' % t['templateName'], 409)
    _check_body(p['templateBody'])
    vid = t['nextVersion']
    t['nextVersion'] += 1
    t['versions'][str(vid)] = {'templateBody': p['templateBody'], 'creationDate': ctx.now_ts()}
    if p.get('setAsDefault'):
        t['defaultVersionId'] = vid
    t['lastModifiedDate'] = ctx.now_ts()
    return {'templateArn': t['templateArn'], 'templateName': t['templateName'], 'versionId': vid,
            'isDefaultVersion': t['defaultVersionId'] == vid}


def DescribeProvisioningTemplateVersion(ctx, p):
    t = _template(ctx, p['templateName'])
    v = t['versions'].get(str(p['versionId']))
    if v is None:
        raise _nf('The provisioning template version %s does not exist' % p['versionId'])
    return {'versionId': p['versionId'], 'creationDate': v['creationDate'], 'templateBody': v['templateBody'],
            'isDefaultVersion': t['defaultVersionId'] == p['versionId']}


def ListProvisioningTemplateVersions(ctx, p):
    t = _template(ctx, p['templateName'])
    vids = sorted(t['versions'], key=int)
    chunk, nxt = page(vids, p.get('nextToken'), p.get('maxResults', 25))
    return {'versions': [{'versionId': int(v), 'creationDate': t['versions'][v]['creationDate'],
                          'isDefaultVersion': t['defaultVersionId'] == int(v)} for v in chunk],
            'nextToken': nxt}


def DeleteProvisioningTemplateVersion(ctx, p):
    t = _template(ctx, p['templateName'])
    vid = p['versionId']
    if str(vid) not in t['versions']:
        raise _nf('The provisioning template version %s does not exist' % vid)
    if vid == t['defaultVersionId']:
        raise AwsError('DeleteConflictException', 'Cannot delete the default version of the provisioning template '
                       '%s' % t['templateName'], 409)
    del t['versions'][str(vid)]
    return {}


# ---------------------------------------------------------------- thing groups, endpoints

def CreateThingGroup(ctx, p):
    name = p['thingGroupName']
    groups = _iot(ctx)['thingGroups']
    props = p.get('thingGroupProperties') or {}
    if name in groups:
        g = groups[name]
        if g['thingGroupProperties'] == props and g.get('parentGroupName') == p.get('parentGroupName'):
            return {'thingGroupName': name, 'thingGroupArn': g['thingGroupArn'], 'thingGroupId': g['thingGroupId']}
        raise _exists('Thing Group %s already exists with different tags or properties' % name, name,
                      g['thingGroupArn'])
    parent = p.get('parentGroupName')
    if parent and parent not in groups:
        raise _nf('Thing group %s does not exist' % parent)
    import uuid
    g = {'thingGroupName': name, 'thingGroupArn': _arn(ctx, 'thinggroup', name), 'thingGroupId': str(uuid.uuid4()),
         'thingGroupProperties': props, 'parentGroupName': parent, 'creationDate': ctx.now_ts(), 'version': 1}
    groups[name] = g
    return {'thingGroupName': name, 'thingGroupArn': g['thingGroupArn'], 'thingGroupId': g['thingGroupId']}


def DescribeThingGroup(ctx, p):
    g = _iot(ctx)['thingGroups'].get(p['thingGroupName'])
    if g is None:
        raise _nf('Thing Group %s does not exist' % p['thingGroupName'])
    meta = {'creationDate': g['creationDate']}
    if g.get('parentGroupName'):
        meta['parentGroupName'] = g['parentGroupName']
        chain = []
        cur = g['parentGroupName']
        groups = _iot(ctx)['thingGroups']
        while cur and cur in groups:
            chain.insert(0, {'groupName': cur, 'groupArn': groups[cur]['thingGroupArn']})
            cur = groups[cur].get('parentGroupName')
        meta['rootToParentThingGroups'] = chain
    return {'thingGroupName': g['thingGroupName'], 'thingGroupId': g['thingGroupId'],
            'thingGroupArn': g['thingGroupArn'], 'version': g['version'],
            'thingGroupProperties': g['thingGroupProperties'], 'thingGroupMetadata': meta}


def _by_name_or_arn(table, kind, name, arn, missing):
    """The record of a thing or thing group named `name`, or else whose ARN is `arn`."""
    if name is None and arn:
        name = next((n for n, r in table.items() if r[kind + 'Arn'] == arn), arn)
    if not name:
        raise AwsError('InvalidRequestException', 'Either %sName or %sArn must be given' % (kind, kind), 400)
    r = table.get(name)
    if r is None:
        raise _nf(missing % name)
    return r


def _group(ctx, name=None, arn=None):
    return _by_name_or_arn(_iot(ctx)['thingGroups'], 'thingGroup', name, arn, 'Thing Group %s does not exist')


def _children(ctx, name):
    return sorted(n for n, g in _iot(ctx)['thingGroups'].items() if g.get('parentGroupName') == name)


def DeleteThingGroup(ctx, p):
    """A missing group is success, as in AWS; things in the group leave it."""
    name = p['thingGroupName']
    g = _iot(ctx)['thingGroups'].get(name)
    if g is None:
        return {}
    if p.get('expectedVersion') is not None and p['expectedVersion'] != g['version']:
        raise AwsError('VersionConflictException', 'The version for thing group %s does not match the expected '
                       'version.' % name, 409)
    if _children(ctx, name):
        raise AwsError('InvalidRequestException', 'Cannot delete thing group : %s when there are still child groups '
                       'attached to it' % name, 400)
    del _iot(ctx)['thingGroups'][name]
    return {}


def ListThingsInThingGroup(ctx, p):
    names, todo = set(), [_group(ctx, p['thingGroupName'])['thingGroupName']]
    while todo:
        cur = todo.pop()
        names.update(_iot(ctx)['thingGroups'][cur].get('things', []))
        if p.get('recursive'):
            todo.extend(_children(ctx, cur))
    chunk, nxt = page(sorted(names), p.get('nextToken'), p.get('maxResults', 25))
    return {'things': chunk, 'nextToken': nxt}


# ---------------------------------------------------------------- things (registry only: no shadows, no billing groups)

def _thing(ctx, name=None, arn=None):
    return _by_name_or_arn(_iot(ctx)['things'], 'thing', name, arn, 'Thing %s cannot be found.')


def CreateThing(ctx, p):
    name = p['thingName']
    if p.get('billingGroupName'):
        raise AwsError('InvalidRequestException', 'billing groups are not emulated by awsemu', 400)
    ttype = p.get('thingTypeName')
    if ttype:
        tt = iotthings.thing_type(ctx.st, ttype)
        if tt is None:
            raise _nf('Thing Type %s does not exist' % ttype)
        if tt['deprecated']:
            raise AwsError('InvalidRequestException', 'Can not create new thing with deprecated thing type %s'
                           % ttype, 400)
    attrs = (p.get('attributePayload') or {}).get('attributes') or {}
    t = _iot(ctx)['things'].get(name)
    if t is not None:
        if t['attributes'] == attrs and t.get('thingTypeName') == ttype:
            return {'thingName': name, 'thingArn': t['thingArn'], 'thingId': t['thingId']}
        raise _exists('Thing %s already exists in account with different attributes' % name, name, t['thingArn'])
    t = new_thing(ctx, name, attrs, ttype)
    return {'thingName': name, 'thingArn': t['thingArn'], 'thingId': t['thingId']}


def new_thing(ctx, name, attrs, ttype=None):
    """Stores and returns a new thing record (CreateThing and RegisterThing)."""
    import uuid
    t = {'thingName': name, 'thingArn': _arn(ctx, 'thing', name), 'thingId': str(uuid.uuid4()),
         'attributes': attrs, 'version': 1, 'principals': []}
    if ttype:
        t['thingTypeName'] = ttype
    _iot(ctx)['things'][name] = t
    return t


def DescribeThing(ctx, p):
    t = _thing(ctx, p['thingName'])
    out = {'defaultClientId': t['thingName'], 'thingName': t['thingName'], 'thingId': t['thingId'],
           'thingArn': t['thingArn'], 'attributes': t['attributes'], 'version': t['version']}
    if t.get('thingTypeName'):
        out['thingTypeName'] = t['thingTypeName']
    return out


def DeleteThing(ctx, p):
    """A missing thing is success, as in AWS; the thing leaves its groups."""
    t = _iot(ctx)['things'].get(p['thingName'])
    if t is None:
        return {}
    if p.get('expectedVersion') is not None and p['expectedVersion'] != t['version']:
        raise AwsError('VersionConflictException', 'The version for thing %s does not match the expected version.'
                       % t['thingName'], 409)
    if t.get('principals'):
        raise AwsError('InvalidRequestException', 'Cannot delete. Thing %s is still attached to one or more '
                       'principals' % t['thingName'], 400)
    for g in _iot(ctx)['thingGroups'].values():
        if t['thingName'] in g.get('things', []):
            g['things'].remove(t['thingName'])
    del _iot(ctx)['things'][t['thingName']]
    return {}


def AddThingToThingGroup(ctx, p):
    g = _group(ctx, p.get('thingGroupName'), p.get('thingGroupArn'))
    t = _thing(ctx, p.get('thingName'), p.get('thingArn'))
    members = g.setdefault('things', [])
    if t['thingName'] not in members:
        members.append(t['thingName'])
    return {}


def RemoveThingFromThingGroup(ctx, p):
    g = _group(ctx, p.get('thingGroupName'), p.get('thingGroupArn'))
    t = _thing(ctx, p.get('thingName'), p.get('thingArn'))
    if t['thingName'] in g.get('things', []):
        g['things'].remove(t['thingName'])
    return {}


# ---------------------------------------------------------------- thing principals

def things_of_principal(st, principal):
    """Names of the things a principal (certificate ARN) is attached to."""
    return sorted(n for n, t in st['iot']['things'].items() if principal in t.get('principals', []))


def _check_principal(ctx, principal):
    if ':cert/' in principal:
        if _cert_by_arn(ctx, principal) is None:
            raise _nf('The certificate given in the principal does not exist.')
    elif not principal or principal.startswith('arn:'):
        raise AwsError('InvalidRequestException', 'Invalid principal: %s' % principal, 400)


def AttachThingPrincipal(ctx, p):
    t = _thing(ctx, p['thingName'])
    _check_principal(ctx, p['principal'])
    principals = t.setdefault('principals', [])
    if p['principal'] not in principals:
        principals.append(p['principal'])
    return {}


def DetachThingPrincipal(ctx, p):
    t = _thing(ctx, p['thingName'])
    if p['principal'] in t.get('principals', []):
        t['principals'].remove(p['principal'])
    return {}


def ListThingPrincipals(ctx, p):
    t = _thing(ctx, p['thingName'])
    chunk, nxt = page(list(t.get('principals', [])), p.get('nextToken'), p.get('maxResults', 25))
    return {'principals': chunk, 'nextToken': nxt}


def ListPrincipalThings(ctx, p):
    _check_principal(ctx, p['principal'])
    chunk, nxt = page(things_of_principal(ctx.st, p['principal']), p.get('nextToken'), p.get('maxResults', 25))
    return {'things': chunk, 'nextToken': nxt}


def DescribeEndpoint(ctx, p):
    t = p.get('endpointType') or 'iot:Data'
    pre = endpoint_prefix(ctx.account)
    host = getattr(ctx.emu, 'endpoint_host', None)
    hosts = {'iot:data': '%s.iot.%s.amazonaws.com',
             'iot:data-ats': '%s-ats.iot.%s.amazonaws.com',
             'iot:credentialprovider': '%s.credentials.iot.%s.amazonaws.com',
             'iot:jobs': '%s.jobs.iot.%s.amazonaws.com'}
    fmt = hosts.get(t.lower())
    if fmt is None:
        raise AwsError('InvalidRequestException', 'Endpoint type %s is not valid.' % t, 400)
    if host:  # --endpoint-host: the data plane of this emulator answers on that name
        return {'endpointAddress': host}
    return {'endpointAddress': fmt % (pre, ctx.region)}


OPERATIONS = {name: fn for name, fn in list(globals().items()) if callable(fn) and name[:1].isupper()
              and name not in ('AwsError',)}
OPERATIONS.update(iotthings.OPERATIONS)
READONLY |= iotthings.READONLY
