"""IAM and STS semantics and wire format (query protocol, XML errors)."""

import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402

MANAGED = 'arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration'


class Iam(h.EmuCase):
    CLIENTS = ('iam',)

    def test_role_lifecycle_and_errors(self):
        r = self.iam.create_role(RoleName='R1', AssumeRolePolicyDocument=h.TRUST_IOT, Path='/fw/',
                                 Description='d')['Role']
        self.assertEqual(r['Arn'], 'arn:aws:iam::123456789012:role/fw/R1')
        self.assertTrue(r['RoleId'].startswith('AROA'))
        self.assertEqual(self.code(self.iam.create_role, RoleName='r1', AssumeRolePolicyDocument=h.TRUST_IOT),
                         ('EntityAlreadyExists', 409))
        self.assertEqual(self.code(self.iam.get_role, RoleName='Nope'), ('NoSuchEntity', 404))
        self.iam.update_assume_role_policy(RoleName='R1', PolicyDocument=h.TRUST_IOT_CREDENTIALS)
        got = self.iam.get_role(RoleName='R1')['Role']
        self.assertEqual(got['AssumeRolePolicyDocument'], json.loads(h.TRUST_IOT_CREDENTIALS))
        self.assertEqual(got['MaxSessionDuration'], 3600)
        self.iam.attach_role_policy(RoleName='R1', PolicyArn=MANAGED)
        self.iam.attach_role_policy(RoleName='R1', PolicyArn=MANAGED)  # idempotent
        self.assertEqual(self.code(self.iam.delete_role, RoleName='R1'), ('DeleteConflict', 409))
        self.assertEqual(self.iam.get_policy(PolicyArn=MANAGED)['Policy']['AttachmentCount'], 1)
        self.iam.detach_role_policy(RoleName='R1', PolicyArn=MANAGED)
        self.assertEqual(self.code(self.iam.detach_role_policy, RoleName='R1', PolicyArn=MANAGED),
                         ('NoSuchEntity', 404))
        self.iam.delete_role(RoleName='R1')
        self.assertEqual(self.code(self.iam.delete_role, RoleName='R1'), ('NoSuchEntity', 404))

    def test_malformed_documents(self):
        self.assertEqual(self.code(self.iam.create_role, RoleName='Bad', AssumeRolePolicyDocument='{not json'),
                         ('MalformedPolicyDocument', 400))
        self.assertEqual(self.code(self.iam.create_policy, PolicyName='Bad', PolicyDocument='{"Statement": 1}'),
                         ('MalformedPolicyDocument', 400))
        no_resource = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:*'}]})
        self.assertEqual(self.code(self.iam.create_policy, PolicyName='Bad', PolicyDocument=no_resource),
                         ('MalformedPolicyDocument', 400))

    def test_policy_versions(self):
        arn = self.iam.create_policy(PolicyName='P1', PolicyDocument=h.ACCESS_POLICY)['Policy']['Arn']
        self.assertEqual(self.code(self.iam.create_policy, PolicyName='P1', PolicyDocument=h.ACCESS_POLICY),
                         ('EntityAlreadyExists', 409))
        for i in range(4):
            v = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=h.ACCESS_POLICY,
                                               SetAsDefault=(i == 3))['PolicyVersion']
            self.assertEqual(v['VersionId'], 'v%d' % (i + 2))
        self.assertEqual(self.code(self.iam.create_policy_version, PolicyArn=arn, PolicyDocument=h.ACCESS_POLICY),
                         ('LimitExceeded', 409))
        vs = self.iam.list_policy_versions(PolicyArn=arn)['Versions']
        self.assertEqual([v['VersionId'] for v in vs], ['v5', 'v4', 'v3', 'v2', 'v1'])
        self.assertEqual([v['VersionId'] for v in vs if v['IsDefaultVersion']], ['v5'])
        self.assertEqual(self.code(self.iam.delete_policy_version, PolicyArn=arn, VersionId='v5'),
                         ('DeleteConflict', 409))
        pv = self.iam.get_policy_version(PolicyArn=arn, VersionId='v1')['PolicyVersion']
        self.assertEqual(pv['Document'], json.loads(h.ACCESS_POLICY))
        self.assertEqual(self.code(self.iam.get_policy_version, PolicyArn=arn, VersionId='v9'), ('NoSuchEntity', 404))
        # cannot delete with non-default versions, nor while attached
        self.assertEqual(self.code(self.iam.delete_policy, PolicyArn=arn), ('DeleteConflict', 409))
        for v in ('v1', 'v2', 'v3', 'v4'):
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)
        self.iam.create_role(RoleName='R2', AssumeRolePolicyDocument=h.TRUST_IOT)
        self.iam.attach_role_policy(RoleName='R2', PolicyArn=arn)
        self.assertEqual(self.code(self.iam.delete_policy, PolicyArn=arn), ('DeleteConflict', 409))
        att = self.iam.list_attached_role_policies(RoleName='R2')['AttachedPolicies']
        self.assertEqual(att, [{'PolicyName': 'P1', 'PolicyArn': arn}])
        self.iam.detach_role_policy(RoleName='R2', PolicyArn=arn)
        self.iam.delete_policy(PolicyArn=arn)
        self.assertEqual(self.code(self.iam.get_policy, PolicyArn=arn), ('NoSuchEntity', 404))

    def test_managed_policy(self):
        p = self.iam.get_policy(PolicyArn=MANAGED)['Policy']
        self.assertEqual(p['PolicyName'], 'AWSIoTThingsRegistration')
        self.assertEqual(p['Path'], '/service-role/')
        self.assertEqual(self.code(self.iam.delete_policy, PolicyArn=MANAGED), ('AccessDenied', 403))
        doc = self.iam.get_policy_version(PolicyArn=MANAGED, VersionId='v1')['PolicyVersion']['Document']
        self.assertIn('iot:RegisterThing', doc['Statement'][0]['Action'])
        self.assertEqual(self.code(self.iam.attach_role_policy, RoleName='Nope', PolicyArn=MANAGED),
                         ('NoSuchEntity', 404))

    def test_wire_format_url_encoded_document_and_validation(self):
        self.iam.create_role(RoleName='Wire', AssumeRolePolicyDocument=h.TRUST_IOT)
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'Wire'})
        self.assertEqual(st, 200)
        self.assertTrue(body.startswith(b'<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
                                        b'<GetRoleResult><Role>'))
        enc = urllib.parse.quote(h.TRUST_IOT, safe='-_.~').encode()
        self.assertIn(b'<AssumeRolePolicyDocument>' + enc + b'</AssumeRolePolicyDocument>', body)
        self.assertIn(b'<ResponseMetadata><RequestId>', body)
        # validation: pattern, missing member, unknown action
        st, hd, body = self.emu.query('iam', {'Action': 'GetRole', 'RoleName': 'bad name!'})
        self.assertEqual((st, h.error_code_xml(body)), (400, 'ValidationError'))
        self.assertIn(b'roleName', body)
        st, hd, body = self.emu.query('iam', {'Action': 'CreateRole', 'RoleName': 'X'})
        self.assertEqual((st, h.error_code_xml(body)), (400, 'ValidationError'))
        self.assertIn(b'Member must not be null', body)
        st, hd, body = self.emu.query('iam', {'Action': 'NoSuchThing'})
        self.assertEqual((st, h.error_code_xml(body)), (400, 'InvalidAction'))
        st, hd, body = self.emu.query('iam', {'Action': 'DeleteRole'})
        self.assertIn(b'<Type>Sender</Type>', body)

    def test_sts_duration_and_caller(self):
        ident = self.emu.client('sts').get_caller_identity()
        self.assertEqual(ident['Account'], '123456789012')
        st, hd, body = self.emu.query('sts', {'Action': 'AssumeRole', 'RoleArn': 'arn:aws:iam::123456789012:role/x',
                                              'RoleSessionName': 'ss', 'DurationSeconds': '60'})
        self.assertEqual((st, h.error_code_xml(body)), (400, 'ValidationError'))
        self.assertIn(b'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"', body)
        st, hd, body = self.emu.query('sts', {'Action': 'AssumeRole', 'RoleArn': 'arn:aws:iam::123456789012:role/x',
                                              'RoleSessionName': 'ss'})
        self.assertEqual((st, h.error_code_xml(body)), (403, 'AccessDenied'))


if __name__ == '__main__':
    unittest.main()
