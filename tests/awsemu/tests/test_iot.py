"""IoT control plane semantics and wire format (rest-json errors)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402
from emuharness import etype  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def make_csr(key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'claim')])).sign(key, hashes.SHA256()))
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


class Iot(h.EmuCase):
    CLIENTS = ('iot', 'iam')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.role = cls.iam.create_role(RoleName='TE', AssumeRolePolicyDocument=h.TRUST_IOT_CREDENTIALS)['Role']['Arn']
        cls.prov = cls.iam.create_role(RoleName='Prov', AssumeRolePolicyDocument=h.TRUST_IOT)['Role']['Arn']

    def test_role_alias(self):
        out = self.iot.create_role_alias(roleAlias='RA', roleArn=self.role, credentialDurationSeconds=900)
        self.assertEqual(out['roleAliasArn'], 'arn:aws:iot:us-east-1:123456789012:rolealias/RA')
        self.assertEqual(self.code(self.iot.create_role_alias, roleAlias='RA', roleArn=self.role),
                         ('ResourceAlreadyExistsException', 409))
        self.assertEqual(self.code(self.iot.create_role_alias, roleAlias='RB',
                                   roleArn='arn:aws:iam::123456789012:role/Missing'),
                         ('InvalidRequestException', 400))
        # the duration is bounded by the role's MaxSessionDuration (test_setup_behaviours.py)
        self.iam.update_role(RoleName='TE', MaxSessionDuration=43200)
        self.iot.update_role_alias(roleAlias='RA', credentialDurationSeconds=43200)
        d = self.iot.describe_role_alias(roleAlias='RA')['roleAliasDescription']
        self.assertEqual((d['credentialDurationSeconds'], d['roleArn'], d['owner']), (43200, self.role, '123456789012'))
        self.iot.delete_role_alias(roleAlias='RA')
        self.assertEqual(self.code(self.iot.describe_role_alias, roleAlias='RA'), ('ResourceNotFoundException', 404))
        # 900..43200 from the model, as raw HTTP (botocore would refuse client-side)
        st, hd, body = self.emu.request('POST', '/role-aliases/RC', body=json.dumps(
            {'roleArn': self.role, 'credentialDurationSeconds': 899}), headers={'Content-Type': 'application/json'})
        self.assertEqual((st, etype(hd)), (400, 'InvalidRequestException'))
        self.assertIn('credentialDurationSeconds', json.loads(body)['message'])

    def test_policy_versions_and_conflicts(self):
        self.iot.create_policy(policyName='TP', policyDocument=h.IOT_POLICY)
        self.assertEqual(self.code(self.iot.create_policy, policyName='TP', policyDocument=h.IOT_POLICY),
                         ('ResourceAlreadyExistsException', 409))
        self.assertEqual(self.code(self.iot.create_policy, policyName='Bad', policyDocument='{'),
                         ('MalformedPolicyException', 400))
        for i in range(4):
            v = self.iot.create_policy_version(policyName='TP', policyDocument=h.IOT_POLICY, setAsDefault=(i == 0))
            self.assertEqual(v['policyVersionId'], str(i + 2))
        self.assertEqual(self.code(self.iot.create_policy_version, policyName='TP', policyDocument=h.IOT_POLICY),
                         ('VersionsLimitExceededException', 409))
        self.assertEqual(self.iot.get_policy(policyName='TP')['defaultVersionId'], '2')
        self.assertEqual(self.code(self.iot.delete_policy_version, policyName='TP', policyVersionId='2'),
                         ('DeleteConflictException', 409))
        vs = self.iot.list_policy_versions(policyName='TP')['policyVersions']
        self.assertEqual(len(vs), 5)
        self.assertEqual(self.code(self.iot.delete_policy, policyName='TP'), ('DeleteConflictException', 409))
        for v in ('1', '3', '4', '5'):
            self.iot.delete_policy_version(policyName='TP', policyVersionId=v)
        cert = self.iot.create_keys_and_certificate(setAsActive=False)
        self.iot.attach_policy(policyName='TP', target=cert['certificateArn'])
        self.assertEqual(self.code(self.iot.delete_policy, policyName='TP'), ('DeleteConflictException', 409))
        self.iot.detach_policy(policyName='TP', target=cert['certificateArn'])
        self.iot.delete_policy(policyName='TP')
        self.assertEqual(self.code(self.iot.get_policy, policyName='TP'), ('ResourceNotFoundException', 404))

    def test_targets_paging(self):
        self.iot.create_policy(policyName='Many', policyDocument=h.IOT_POLICY)
        arns = []
        for _ in range(5):
            _, csr = make_csr()
            c = self.iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
            self.iot.attach_policy(policyName='Many', target=c['certificateArn'])
            arns.append(c['certificateArn'])
        got, marker = [], None
        while True:
            kw = {'policyName': 'Many', 'pageSize': 2}
            if marker:
                kw['marker'] = marker
            out = self.iot.list_targets_for_policy(**kw)
            self.assertLessEqual(len(out['targets']), 2)
            got += out['targets']
            marker = out.get('nextMarker')
            if not marker:
                break
        self.assertEqual(got, arns)
        self.assertEqual(self.code(self.iot.attach_policy, policyName='Many',
                                   target='arn:aws:iot:us-east-1:123456789012:cert/' + '0' * 64),
                         ('ResourceNotFoundException', 404))

    def test_certificates(self):
        key, csr = make_csr()
        c = self.iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
        cert = x509.load_pem_x509_certificate(c['certificatePem'].encode())
        self.assertEqual(cert.public_key().public_numbers(), key.public_key().public_numbers())
        st, ca = self.emu.control('GET', 'ca')
        ca_cert = x509.load_pem_x509_certificate(ca['certificatePem'].encode())
        ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
        self.assertEqual(cert.not_valid_after.year, 2049)
        # bad CSR: garbage, and a CSR whose signature does not verify
        self.assertEqual(self.code(self.iot.create_certificate_from_csr, certificateSigningRequest='garbage'),
                         ('InvalidRequestException', 400))
        bad = bytearray(x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER))
        bad[-5] ^= 0xFF
        import base64
        bad_pem = ('-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n'
                   % base64.encodebytes(bytes(bad)).decode())
        self.assertEqual(self.code(self.iot.create_certificate_from_csr, certificateSigningRequest=bad_pem),
                         ('InvalidRequestException', 400))
        cid = c['certificateId']
        d = self.iot.describe_certificate(certificateId=cid)['certificateDescription']
        self.assertEqual((d['status'], d['ownedBy']), ('ACTIVE', '123456789012'))
        # transitions
        self.assertEqual(self.code(self.iot.update_certificate, certificateId=cid, newStatus='PENDING_TRANSFER'),
                         ('InvalidRequestException', 400))
        self.assertEqual(self.code(self.iot.update_certificate, certificateId=cid, newStatus='PENDING_ACTIVATION'),
                         ('InvalidRequestException', 400))
        self.assertEqual(self.code(self.iot.delete_certificate, certificateId=cid),
                         ('CertificateStateException', 406))
        self.iot.update_certificate(certificateId=cid, newStatus='INACTIVE')
        self.iot.update_certificate(certificateId=cid, newStatus='INACTIVE')  # idempotent
        self.iot.update_certificate(certificateId=cid, newStatus='ACTIVE')
        self.iot.update_certificate(certificateId=cid, newStatus='REVOKED')
        self.assertEqual(self.code(self.iot.update_certificate, certificateId=cid, newStatus='ACTIVE'),
                         ('CertificateStateException', 406))
        # delete with an attached policy: conflict unless forced
        self.iot.create_policy(policyName='CP', policyDocument=h.IOT_POLICY)
        self.iot.attach_policy(policyName='CP', target=c['certificateArn'])
        self.assertEqual(self.code(self.iot.delete_certificate, certificateId=cid), ('DeleteConflictException', 409))
        self.iot.delete_certificate(certificateId=cid, forceDelete=True)
        self.assertEqual(self.code(self.iot.describe_certificate, certificateId=cid),
                         ('ResourceNotFoundException', 404))
        self.assertEqual(self.iot.list_targets_for_policy(policyName='CP')['targets'], [])
        # certificateId pattern
        self.assertEqual(self.code(self.iot.describe_certificate, certificateId='x' * 64),
                         ('InvalidRequestException', 400))

    def test_list_certificates_paging(self):
        e = h.Emu('--no-quotas')
        try:
            iot = e.client('iot')
            ids = [iot.create_keys_and_certificate(setAsActive=True)['certificateId'] for _ in range(5)]
            for asc, expect in ((True, ids), (False, ids[::-1])):
                got, marker = [], None
                while True:
                    kw = {'pageSize': 2, 'ascendingOrder': asc}
                    if marker:
                        kw['marker'] = marker
                    out = iot.list_certificates(**kw)
                    got += [c['certificateId'] for c in out['certificates']]
                    marker = out.get('nextMarker')
                    if not marker:
                        break
                self.assertEqual(got, expect)
            st, hd, body = e.request('GET', '/certificates?pageSize=0')
            self.assertEqual((st, etype(hd)), (400, 'InvalidRequestException'))
            st, hd, body = e.request('GET', '/certificates?pageSize=abc')
            self.assertEqual(st, 400)
        finally:
            e.stop()

    def test_provisioning_templates(self):
        iot = self.iot
        out = iot.create_provisioning_template(templateName='T1', templateBody=h.TEMPLATE_BODY,
                                               provisioningRoleArn=self.prov, enabled=True)
        self.assertEqual(out['defaultVersionId'], 1)
        self.assertEqual(self.code(iot.create_provisioning_template, templateName='T1', templateBody=h.TEMPLATE_BODY,
                                   provisioningRoleArn=self.prov), ('ResourceAlreadyExistsException', 409))
        self.assertEqual(self.code(iot.create_provisioning_template, templateName='T2', templateBody='{nope',
                                   provisioningRoleArn=self.prov), ('InvalidRequestException', 400))
        self.assertEqual(self.code(iot.create_provisioning_template, templateName='T2', templateBody=h.TEMPLATE_BODY,
                                   provisioningRoleArn='arn:aws:iam::123456789012:role/None'),
                         ('InvalidRequestException', 400))
        self.assertEqual(self.code(iot.create_provisioning_template, templateName='T2', templateBody=h.TEMPLATE_BODY,
                                   provisioningRoleArn=self.prov, type='JITP',
                                   preProvisioningHook={'targetArn': 'arn:aws:lambda:us-east-1:123456789012:function:f'}),
                         ('InvalidRequestException', 400))
        self.assertEqual(self.code(iot.create_provisioning_template, templateName='x' * 37,
                                   templateBody=h.TEMPLATE_BODY, provisioningRoleArn=self.prov),
                         ('InvalidRequestException', 400))
        big = json.dumps({'Resources': {}, 'Pad': 'x' * 10300})
        st, hd, body = self.emu.request('POST', '/provisioning-templates', headers={'Content-Type': 'application/json'},
                                        body=json.dumps({'templateName': 'Big', 'templateBody': big,
                                                         'provisioningRoleArn': self.prov}))
        self.assertEqual((st, etype(hd)), (400, 'InvalidRequestException'))
        for i in range(4):
            v = iot.create_provisioning_template_version(templateName='T1', templateBody=h.TEMPLATE_BODY,
                                                         setAsDefault=(i == 1))
            self.assertEqual(v['versionId'], i + 2)
        self.assertEqual(self.code(iot.create_provisioning_template_version, templateName='T1',
                                   templateBody=h.TEMPLATE_BODY), ('VersionsLimitExceededException', 409))
        vs = iot.list_provisioning_template_versions(templateName='T1')['versions']
        self.assertEqual([(v['versionId'], v['isDefaultVersion']) for v in vs],
                         [(1, False), (2, False), (3, True), (4, False), (5, False)])
        self.assertEqual(self.code(iot.delete_provisioning_template_version, templateName='T1', versionId=3),
                         ('DeleteConflictException', 409))
        iot.delete_provisioning_template_version(templateName='T1', versionId=1)
        iot.update_provisioning_template(templateName='T1', enabled=False, defaultVersionId=5, description='new')
        d = iot.describe_provisioning_template(templateName='T1')
        self.assertEqual((d['enabled'], d['defaultVersionId'], d['description']), (False, 5, 'new'))
        names = [t['templateName'] for t in iot.list_provisioning_templates()['templates']]
        self.assertIn('T1', names)
        iot.delete_provisioning_template(templateName='T1')
        self.assertEqual(self.code(iot.describe_provisioning_template, templateName='T1'),
                         ('ResourceNotFoundException', 404))

    def test_thing_groups_and_endpoints(self):
        g = self.iot.create_thing_group(thingGroupName='G1')
        self.assertEqual(self.iot.create_thing_group(thingGroupName='G1')['thingGroupId'], g['thingGroupId'])
        d = self.iot.describe_thing_group(thingGroupName='G1')
        self.assertEqual(d['thingGroupArn'], 'arn:aws:iot:us-east-1:123456789012:thinggroup/G1')
        self.assertEqual(self.code(self.iot.describe_thing_group, thingGroupName='G9'),
                         ('ResourceNotFoundException', 404))
        eps = {t: self.iot.describe_endpoint(endpointType=t)['endpointAddress']
               for t in ('iot:Data-ATS', 'iot:CredentialProvider', 'iot:Data', 'iot:Jobs')}
        prefix = eps['iot:Data'].split('.')[0]
        self.assertEqual(eps['iot:Data-ATS'], prefix + '-ats.iot.us-east-1.amazonaws.com')
        self.assertEqual(eps['iot:CredentialProvider'], prefix + '.credentials.iot.us-east-1.amazonaws.com')
        self.assertEqual(eps['iot:Jobs'], prefix + '.jobs.iot.us-east-1.amazonaws.com')
        self.assertEqual(self.code(self.iot.describe_endpoint, endpointType='iot:Nope'),
                         ('InvalidRequestException', 400))

    def test_delete_thing_group(self):
        iot = self.iot
        iot.create_thing_group(thingGroupName='DG')
        v = iot.describe_thing_group(thingGroupName='DG')['version']
        self.assertEqual(self.code(iot.delete_thing_group, thingGroupName='DG', expectedVersion=v + 1),
                         ('VersionConflictException', 409))
        iot.create_thing_group(thingGroupName='DGChild', parentGroupName='DG')
        with self.assertRaises(ClientError) as cm:
            iot.delete_thing_group(thingGroupName='DG')
        err = cm.exception.response['Error']
        self.assertEqual(err['Code'], 'InvalidRequestException')
        self.assertIn('child groups', err['Message'])
        iot.delete_thing_group(thingGroupName='DGChild')
        iot.delete_thing_group(thingGroupName='DG', expectedVersion=v)
        self.assertEqual(self.code(iot.describe_thing_group, thingGroupName='DG'), ('ResourceNotFoundException', 404))
        # a group that does not exist: success, as in AWS
        self.assertEqual(iot.delete_thing_group(thingGroupName='DG')['ResponseMetadata']['HTTPStatusCode'], 200)
        # the wire format from the model: DELETE /thing-groups/{name}?expectedVersion=N, empty answer
        iot.create_thing_group(thingGroupName='DG2')
        st, hd, body = self.emu.request('DELETE', '/thing-groups/DG2?expectedVersion=1')
        self.assertEqual((st, json.loads(body or b'{}')), (200, {}))
        st, hd, body = self.emu.request('DELETE', '/thing-groups/DG2?expectedVersion=x')
        self.assertEqual((st, etype(hd)), (400, 'InvalidRequestException'))

    def test_things_in_thing_groups(self):
        iot = self.iot
        iot.create_thing_group(thingGroupName='TG')
        iot.create_thing_group(thingGroupName='TGSub', parentGroupName='TG')
        self.assertEqual(iot.list_things_in_thing_group(thingGroupName='TG')['things'], [])
        for i in range(3):
            iot.create_thing(thingName='core-%d' % i)
            iot.add_thing_to_thing_group(thingGroupName='TG', thingName='core-%d' % i)
        arn = iot.create_thing(thingName='sub-core')['thingArn']
        iot.add_thing_to_thing_group(thingGroupArn=iot.describe_thing_group(thingGroupName='TGSub')['thingGroupArn'],
                                     thingArn=arn)
        self.assertEqual(iot.list_things_in_thing_group(thingGroupName='TG')['things'], ['core-0', 'core-1', 'core-2'])
        self.assertEqual(sorted(iot.list_things_in_thing_group(thingGroupName='TG', recursive=True)['things']),
                         ['core-0', 'core-1', 'core-2', 'sub-core'])
        first = iot.list_things_in_thing_group(thingGroupName='TG', maxResults=2)
        self.assertEqual(first['things'], ['core-0', 'core-1'])
        rest = iot.list_things_in_thing_group(thingGroupName='TG', maxResults=2, nextToken=first['nextToken'])
        self.assertEqual((rest['things'], rest.get('nextToken')), (['core-2'], None))
        self.assertEqual(self.code(iot.list_things_in_thing_group, thingGroupName='Nope'),
                         ('ResourceNotFoundException', 404))
        self.assertEqual(self.code(iot.add_thing_to_thing_group, thingGroupName='TG', thingName='nope'),
                         ('ResourceNotFoundException', 404))
        iot.remove_thing_from_thing_group(thingGroupName='TG', thingName='core-2')
        iot.delete_thing(thingName='core-1')   # a deleted thing leaves its groups
        iot.delete_thing(thingName='core-1')   # and deleting it again is success, as in AWS
        self.assertEqual(iot.list_things_in_thing_group(thingGroupName='TG')['things'], ['core-0'])
        self.assertEqual(iot.describe_thing(thingName='core-0')['defaultClientId'], 'core-0')
        # DeleteThingGroup takes the things out of the group; the things stay
        iot.delete_thing_group(thingGroupName='TGSub')
        iot.delete_thing_group(thingGroupName='TG')
        self.assertEqual(iot.describe_thing(thingName='sub-core')['thingArn'], arn)
        iot.create_thing_group(thingGroupName='TG')
        self.assertEqual(iot.list_things_in_thing_group(thingGroupName='TG')['things'], [])

    def test_thing_principals(self):
        iot = self.iot
        iot.create_thing(thingName='pt-core')
        cert = iot.create_keys_and_certificate(setAsActive=False)
        arn = cert['certificateArn']
        self.assertEqual(iot.list_thing_principals(thingName='pt-core')['principals'], [])
        iot.attach_thing_principal(thingName='pt-core', principal=arn)
        iot.attach_thing_principal(thingName='pt-core', principal=arn)  # attaching twice is success
        self.assertEqual(iot.list_thing_principals(thingName='pt-core')['principals'], [arn])
        self.assertEqual(iot.list_principal_things(principal=arn)['things'], ['pt-core'])
        self.assertEqual(self.code(iot.attach_thing_principal, thingName='nope', principal=arn),
                         ('ResourceNotFoundException', 404))
        self.assertEqual(self.code(iot.attach_thing_principal, thingName='pt-core',
                                   principal=arn.replace(cert['certificateId'], 'f' * 64)),
                         ('ResourceNotFoundException', 404))
        # AWS: a certificate attached to a thing cannot be deleted, not even with forceDelete
        self.assertEqual(self.code(iot.delete_certificate, certificateId=cert['certificateId'], forceDelete=True),
                         ('DeleteConflictException', 409))
        iot.detach_thing_principal(thingName='pt-core', principal=arn)
        self.assertEqual(iot.list_principal_things(principal=arn)['things'], [])
        iot.delete_certificate(certificateId=cert['certificateId'])

    def test_rest_json_wire_errors(self):
        st, hd, body = self.emu.request('GET', '/role-aliases/DoesNotExist')
        self.assertEqual(st, 404)
        self.assertEqual(hd['x-amzn-ErrorType'],
                         'ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.iot/')
        self.assertEqual(etype(hd), 'ResourceNotFoundException')
        self.assertIn('message', json.loads(body))
        self.assertIn('x-amzn-RequestId', hd)
        st, hd, body = self.emu.request('POST', '/policies/X', body='{not json',
                                        headers={'Content-Type': 'application/json'})
        self.assertEqual((st, etype(hd)), (400, 'InvalidRequestException'))
        st, hd, body = self.emu.request('POST', '/policies/X', body='{"policyDocument": 5}',
                                        headers={'Content-Type': 'application/json'})
        self.assertEqual((st, etype(hd)), (400, 'InvalidRequestException'))
        st, hd, body = self.emu.request('POST', '/policies/X', body='{}', headers={'Content-Type': 'application/json'})
        self.assertEqual(st, 400)
        self.assertIn('policyDocument', json.loads(body)['message'])
        st, hd, body = self.emu.request('GET', '/no/such/path')
        self.assertEqual(st, 404)
        st, hd, body = self.emu.request('PUT', '/certificates/' + 'a' * 64 + '?newStatus=BOGUS')
        self.assertEqual((st, etype(hd)), (400, 'InvalidRequestException'))


if __name__ == '__main__':
    unittest.main()
