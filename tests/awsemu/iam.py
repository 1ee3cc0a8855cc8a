"""IAM: roles, managed policies and their versions, role attachments."""

import json

from errors import AwsError
from util import as_list, check_policy_json, page, rand_id, statements, url_encode_doc

MANAGED = {
    'arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration': {
        'path': '/service-role/', 'id': 'ANPAJ3YHFPXEKTSTDOOWI',
        'document': ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":['
                     '"iot:AddThingToThingGroup","iot:AttachPolicy","iot:AttachPrincipalPolicy",'
                     '"iot:AttachThingPrincipal","iot:CreateCertificateFromCsr","iot:CreatePolicy",'
                     '"iot:CreateThing","iot:DescribeCertificate","iot:DescribeThing",'
                     '"iot:DescribeThingGroup","iot:DescribeThingType","iot:DetachPolicy",'
                     '"iot:DetachThingPrincipal","iot:GetPolicy","iot:ListAttachedPolicies",'
                     '"iot:ListPolicyPrincipals","iot:ListPrincipalPolicies","iot:ListPrincipalThings",'
                     '"iot:ListTargetsForPolicy","iot:ListThingGroupsForThing","iot:ListThingPrincipals",'
                     '"iot:RegisterCertificate","iot:RegisterThing","iot:RemoveThingFromThingGroup",'
                     '"iot:UpdateCertificate","iot:UpdateThing","iot:UpdateThingGroupsForThing",'
                     '"iot:AddThingToBillingGroup","iot:DescribeBillingGroup",'
                     '"iot:RemoveThingFromBillingGroup"],"Resource":["*"]}]}'),
    },
}

READONLY = {'GetRole', 'GetPolicy', 'GetPolicyVersion', 'ListPolicyVersions', 'ListAttachedRolePolicies'}


def _iam(ctx):
    return ctx.st['iam']


def _role_key(name):
    return name.lower()


def _norm_path(p):
    return p or '/'


def _managed_policies(ctx):
    """AWS managed policies live in every account (created lazily, count attachments here)."""
    pols = _iam(ctx)['policies']
    for arn, m in MANAGED.items():
        if arn not in pols:
            pols[arn] = {'PolicyName': arn.rsplit('/', 1)[1], 'PolicyId': m['id'], 'Arn': arn, 'Path': m['path'],
                         'DefaultVersionId': 'v1', 'AttachmentCount': 0, 'PermissionsBoundaryUsageCount': 0,
                         'IsAttachable': True, 'Description': 'Allows IoT to register things at bulk',
                         'CreateDate': 1431475200.0, 'UpdateDate': 1431475200.0, 'AwsManaged': True,
                         'Versions': {'v1': {'Document': m['document'], 'CreateDate': 1431475200.0}},
                         'NextVersion': 2, 'Tags': []}
    return pols


def _get_role(ctx, name):
    r = _iam(ctx)['roles'].get(_role_key(name))
    if r is None:
        raise AwsError('NoSuchEntity', 'The role with name %s cannot be found.' % name, 404)
    return r


def role_by_arn(st, arn):
    """The role record whose ARN is `arn`, or None."""
    parts = arn.split(':', 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[2] != 'iam' or not parts[5].startswith('role/'):
        return None
    r = st['iam']['roles'].get(_role_key(parts[5].rsplit('/', 1)[1]))
    return r if r is not None and r['Arn'] == arn else None


def trusts_service(role, service):
    """Whether the role's trust policy has an Allow for the service principal `service` (its Conditions, such as
    aws:SourceAccount, are taken as met: the service itself sets them)."""
    try:
        doc = json.loads(role['AssumeRolePolicyDocument'])
    except ValueError:
        return False
    for s in (statements(doc) if isinstance(doc, dict) else None) or []:
        pr = s.get('Principal') if isinstance(s, dict) else None
        if isinstance(pr, dict) and s.get('Effect') == 'Allow' and service in as_list(pr.get('Service')):
            return True
    return False


def _get_policy(ctx, arn, attachable=False):
    p = _managed_policies(ctx).get(arn)
    if p is None:
        if attachable:
            raise AwsError('NoSuchEntity', 'Policy %s does not exist or is not attachable.' % arn, 404)
        raise AwsError('NoSuchEntity', 'Policy %s was not found.' % arn, 404)
    return p


def _role_out(r, full=True):
    out = {k: r[k] for k in ('Path', 'RoleName', 'RoleId', 'Arn', 'CreateDate', 'MaxSessionDuration')}
    out['AssumeRolePolicyDocument'] = url_encode_doc(r['AssumeRolePolicyDocument'])
    if r.get('Description') is not None:
        out['Description'] = r['Description']
    if r.get('Tags'):
        out['Tags'] = r['Tags']
    if full:
        out['RoleLastUsed'] = {}
    if r.get('PermissionsBoundary'):
        out['PermissionsBoundary'] = {'PermissionsBoundaryType': 'Policy',
                                      'PermissionsBoundaryArn': r['PermissionsBoundary']}
    return out


def _policy_out(p):
    out = {k: p[k] for k in ('PolicyName', 'PolicyId', 'Arn', 'Path', 'DefaultVersionId', 'AttachmentCount',
                             'PermissionsBoundaryUsageCount', 'IsAttachable', 'CreateDate', 'UpdateDate')}
    if p.get('Description'):
        out['Description'] = p['Description']
    if p.get('Tags'):
        out['Tags'] = p['Tags']
    return out


def CreateRole(ctx, p):
    roles = _iam(ctx)['roles']
    name = p['RoleName']
    if _role_key(name) in roles:
        raise AwsError('EntityAlreadyExists', 'Role with name %s already exists.' % name, 409)
    check_policy_json(p['AssumeRolePolicyDocument'], 'MalformedPolicyDocument', 'trust')
    if p.get('PermissionsBoundary'):
        _get_policy(ctx, p['PermissionsBoundary'], attachable=True)
    path = _norm_path(p.get('Path'))
    r = {'RoleName': name, 'Path': path, 'RoleId': rand_id('AROA'),
         'Arn': 'arn:aws:iam::%s:role%s%s' % (ctx.account, path, name),
         'CreateDate': ctx.now_ts(), 'AssumeRolePolicyDocument': p['AssumeRolePolicyDocument'],
         'Description': p.get('Description'), 'MaxSessionDuration': p.get('MaxSessionDuration', 3600),
         'Tags': p.get('Tags', []), 'PermissionsBoundary': p.get('PermissionsBoundary'), 'Attached': [],
         'ChangedAt': ctx.now_ts()}
    roles[_role_key(name)] = r
    if r['PermissionsBoundary']:
        _boundary_uses(ctx, r['PermissionsBoundary'], 1)
    return {'Role': _role_out(r, full=False)}


def GetRole(ctx, p):
    return {'Role': _role_out(_get_role(ctx, p['RoleName']))}


def DeleteRole(ctx, p):
    r = _get_role(ctx, p['RoleName'])
    if r['Attached']:
        raise AwsError('DeleteConflict', 'Cannot delete entity, must detach all policies first.', 409)
    if r.get('PermissionsBoundary'):
        _boundary_uses(ctx, r['PermissionsBoundary'], -1)
    del _iam(ctx)['roles'][_role_key(p['RoleName'])]
    return {}


def _boundary_uses(ctx, arn, delta):
    pol = _managed_policies(ctx).get(arn)
    if pol is not None:
        pol['PermissionsBoundaryUsageCount'] = max(0, pol.get('PermissionsBoundaryUsageCount', 0) + delta)


def PutRolePermissionsBoundary(ctx, p):
    r = _get_role(ctx, p['RoleName'])
    _get_policy(ctx, p['PermissionsBoundary'], attachable=True)
    if r.get('PermissionsBoundary'):
        _boundary_uses(ctx, r['PermissionsBoundary'], -1)
    r['PermissionsBoundary'] = p['PermissionsBoundary']
    r['ChangedAt'] = ctx.now_ts()
    _boundary_uses(ctx, p['PermissionsBoundary'], 1)
    return {}


def DeleteRolePermissionsBoundary(ctx, p):
    r = _get_role(ctx, p['RoleName'])
    if r.get('PermissionsBoundary'):
        _boundary_uses(ctx, r['PermissionsBoundary'], -1)
    r['PermissionsBoundary'] = None
    return {}


def UpdateAssumeRolePolicy(ctx, p):
    r = _get_role(ctx, p['RoleName'])
    check_policy_json(p['PolicyDocument'], 'MalformedPolicyDocument', 'trust')
    r['AssumeRolePolicyDocument'] = p['PolicyDocument']
    r['ChangedAt'] = ctx.now_ts()
    return {}


def UpdateRole(ctx, p):
    """Description and MaxSessionDuration (3600..43200, checked by the model)."""
    r = _get_role(ctx, p['RoleName'])
    if p.get('Description') is not None:
        r['Description'] = p['Description']
    if p.get('MaxSessionDuration') is not None:
        r['MaxSessionDuration'] = p['MaxSessionDuration']
    r['ChangedAt'] = ctx.now_ts()
    return {}


def CreatePolicy(ctx, p):
    pols = _managed_policies(ctx)
    path = _norm_path(p.get('Path'))
    name = p['PolicyName']
    arn = 'arn:aws:iam::%s:policy%s%s' % (ctx.account, path, name)
    for q in pols.values():
        if q['PolicyName'].lower() == name.lower() and not q.get('AwsManaged'):
            raise AwsError('EntityAlreadyExists',
                           'A policy called %s already exists. Duplicate names are not allowed.' % name, 409)
    check_policy_json(p['PolicyDocument'], 'MalformedPolicyDocument', 'identity')
    now = ctx.now_ts()
    pol = {'PolicyName': name, 'PolicyId': rand_id('ANPA'), 'Arn': arn, 'Path': path, 'DefaultVersionId': 'v1',
           'AttachmentCount': 0, 'PermissionsBoundaryUsageCount': 0, 'IsAttachable': True,
           'Description': p.get('Description'), 'CreateDate': now, 'UpdateDate': now, 'Tags': p.get('Tags', []),
           'Versions': {'v1': {'Document': p['PolicyDocument'], 'CreateDate': now}}, 'NextVersion': 2}
    pols[arn] = pol
    return {'Policy': _policy_out(pol)}


def GetPolicy(ctx, p):
    return {'Policy': _policy_out(_get_policy(ctx, p['PolicyArn']))}


def _version_out(pol, vid, doc=True):
    v = pol['Versions'][vid]
    out = {'VersionId': vid, 'IsDefaultVersion': vid == pol['DefaultVersionId'], 'CreateDate': v['CreateDate']}
    if doc:
        out['Document'] = url_encode_doc(v['Document'])
    return out


def _vkey(vid):
    return int(vid[1:])


def GetPolicyVersion(ctx, p):
    pol = _get_policy(ctx, p['PolicyArn'])
    if p['VersionId'] not in pol['Versions']:
        raise AwsError('NoSuchEntity', 'Policy %s version %s does not exist or is not attachable.'
                       % (p['PolicyArn'], p['VersionId']), 404)
    return {'PolicyVersion': _version_out(pol, p['VersionId'])}


def CreatePolicyVersion(ctx, p):
    pol = _get_policy(ctx, p['PolicyArn'])
    if pol.get('AwsManaged'):
        raise AwsError('AccessDenied', 'You cannot create versions of an AWS managed policy.', 403)
    if len(pol['Versions']) >= 5:
        raise AwsError('LimitExceeded', 'A managed policy can have up to 5 versions. Before you create a new '
                       'version, you must delete an existing version.', 409)
    check_policy_json(p['PolicyDocument'], 'MalformedPolicyDocument', 'identity')
    vid = 'v%d' % pol['NextVersion']
    pol['NextVersion'] += 1
    pol['Versions'][vid] = {'Document': p['PolicyDocument'], 'CreateDate': ctx.now_ts()}
    if p.get('SetAsDefault'):
        pol['DefaultVersionId'] = vid
    pol['UpdateDate'] = ctx.now_ts()
    return {'PolicyVersion': _version_out(pol, vid, doc=False)}


def SetDefaultPolicyVersion(ctx, p):
    pol = _get_policy(ctx, p['PolicyArn'])
    if p['VersionId'] not in pol['Versions']:
        raise AwsError('NoSuchEntity', 'Policy %s version %s does not exist.' % (p['PolicyArn'], p['VersionId']), 404)
    pol['DefaultVersionId'] = p['VersionId']
    return {}


def DeletePolicyVersion(ctx, p):
    pol = _get_policy(ctx, p['PolicyArn'])
    if pol.get('AwsManaged'):
        raise AwsError('AccessDenied', 'You cannot delete versions of an AWS managed policy.', 403)
    vid = p['VersionId']
    if vid not in pol['Versions']:
        raise AwsError('NoSuchEntity', 'Policy %s version %s does not exist.' % (p['PolicyArn'], vid), 404)
    if vid == pol['DefaultVersionId']:
        raise AwsError('DeleteConflict', 'Cannot delete the default version of a policy.', 409)
    del pol['Versions'][vid]
    return {}


def ListPolicyVersions(ctx, p):
    pol = _get_policy(ctx, p['PolicyArn'])
    vids = sorted(pol['Versions'], key=_vkey, reverse=True)
    chunk, nxt = page(vids, p.get('Marker'), p.get('MaxItems', 100))
    out = {'Versions': [_version_out(pol, v, doc=False) for v in chunk], 'IsTruncated': nxt is not None}
    if nxt:
        out['Marker'] = nxt
    return out


def DeletePolicy(ctx, p):
    pol = _get_policy(ctx, p['PolicyArn'])
    if pol.get('AwsManaged'):
        raise AwsError('AccessDenied', 'User: %s is not authorized to perform: iam:DeletePolicy on resource: '
                       'policy %s' % (ctx.caller_arn, p['PolicyArn']), 403)
    if pol['AttachmentCount'] > 0 or pol.get('PermissionsBoundaryUsageCount', 0) > 0:
        raise AwsError('DeleteConflict', 'Cannot delete a policy attached to entities.', 409)
    if len(pol['Versions']) > 1:
        raise AwsError('DeleteConflict', "This policy has more than one version. Before you delete a policy, you "
                       "must delete the policy's versions. The default version is deleted with the policy.", 409)
    del _iam(ctx)['policies'][p['PolicyArn']]
    return {}


def AttachRolePolicy(ctx, p):
    r = _get_role(ctx, p['RoleName'])
    pol = _get_policy(ctx, p['PolicyArn'], attachable=True)
    if p['PolicyArn'] in r['Attached']:
        return {}
    if len(r['Attached']) >= 10:
        raise AwsError('LimitExceeded', 'Cannot exceed quota for PoliciesPerRole: 10', 409)
    r['Attached'].append(p['PolicyArn'])
    r['ChangedAt'] = ctx.now_ts()
    pol['AttachmentCount'] += 1
    return {}


def DetachRolePolicy(ctx, p):
    r = _get_role(ctx, p['RoleName'])
    if p['PolicyArn'] not in r['Attached']:
        raise AwsError('NoSuchEntity', 'Policy %s was not found.' % p['PolicyArn'], 404)
    r['Attached'].remove(p['PolicyArn'])
    r['ChangedAt'] = ctx.now_ts()
    pol = _managed_policies(ctx).get(p['PolicyArn'])
    if pol:
        pol['AttachmentCount'] = max(0, pol['AttachmentCount'] - 1)
    return {}


def ListAttachedRolePolicies(ctx, p):
    r = _get_role(ctx, p['RoleName'])
    pols = _managed_policies(ctx)
    prefix = p.get('PathPrefix') or '/'
    items = []
    for arn in r['Attached']:
        pol = pols.get(arn)
        if pol and pol['Path'].startswith(prefix):
            items.append({'PolicyName': pol['PolicyName'], 'PolicyArn': arn})
    chunk, nxt = page(items, p.get('Marker'), p.get('MaxItems', 100))
    out = {'AttachedPolicies': chunk, 'IsTruncated': nxt is not None}
    if nxt:
        out['Marker'] = nxt
    return out


OPERATIONS = {name: fn for name, fn in globals().items() if callable(fn) and name[:1].isupper()
              and name not in ('AwsError',)}
