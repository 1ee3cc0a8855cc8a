"""AWS behaviours fleet setup and teardown meet on a real account (issue 13, item 2): the role
alias duration against the role's MaxSessionDuration, IAM eventual consistency, DeletePolicy
refused for a while after DetachPolicy, ListCertificates' order and its unknown parameters, and
IoT's signing names."""

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402
from emuharness import etype  # noqa: E402
from test_iot import make_csr  # noqa: E402


class SetupBehaviours(h.EmuCase):
    CLIENTS = ('iot', 'iam')

    def setUp(self):
        self.emu.control('POST', 'reset')

    def refused(self, fn, code, **kw):
        r = self.client_error(fn, **kw)
        self.assertEqual(r['Error']['Code'], code, r)
        return r['Error']['Message']

    def clock(self, seconds):
        self.emu.control('POST', 'clock', {'offsetSeconds': seconds})

    def test_role_alias_duration_within_max_session_duration(self):
        arn = self.iam.create_role(RoleName='TE', AssumeRolePolicyDocument=h.TRUST_IOT_CREDENTIALS)['Role']['Arn']
        self.assertEqual(self.iam.get_role(RoleName='TE')['Role']['MaxSessionDuration'], 3600)
        msg = self.refused(self.iot.create_role_alias, 'InvalidRequestException', roleAlias='A', roleArn=arn,
                           credentialDurationSeconds=7200)
        self.assertIn('maximum session duration', msg)
        self.iot.create_role_alias(roleAlias='A', roleArn=arn, credentialDurationSeconds=3600)
        self.refused(self.iot.update_role_alias, 'InvalidRequestException', roleAlias='A',
                     credentialDurationSeconds=7200)
        self.iam.update_role(RoleName='TE', MaxSessionDuration=7200)
        self.assertEqual(self.iam.get_role(RoleName='TE')['Role']['MaxSessionDuration'], 7200)
        self.iot.update_role_alias(roleAlias='A', credentialDurationSeconds=7200)
        self.iot.create_role_alias(roleAlias='B', roleArn=arn, credentialDurationSeconds=7200)
        # IAM's own bounds on the role: 3600..43200
        self.refused(self.iam.update_role, 'ValidationError', RoleName='TE', MaxSessionDuration=43201)
        self.iam.create_role(RoleName='Long', AssumeRolePolicyDocument=h.TRUST_IOT_CREDENTIALS,
                             MaxSessionDuration=43200)

    def test_a_new_role_is_not_assumable_at_once(self):
        self.assertEqual(self.emu.control('POST', 'config', {'iamPropagationSeconds': 30})[0], 200)
        te = self.iam.create_role(RoleName='TE', AssumeRolePolicyDocument=h.TRUST_IOT_CREDENTIALS)['Role']['Arn']
        prov = self.iam.create_role(RoleName='Prov', AssumeRolePolicyDocument=h.TRUST_IOT)['Role']['Arn']
        msg = self.refused(self.iot.create_role_alias, 'InvalidRequestException', roleAlias='A', roleArn=te)
        self.assertIn('cannot be assumed', msg)
        self.refused(self.iot.create_provisioning_template, 'InvalidRequestException', templateName='T',
                     templateBody=h.TEMPLATE_BODY, provisioningRoleArn=prov)
        self.clock(31)
        self.iot.create_role_alias(roleAlias='A', roleArn=te)
        self.iot.create_provisioning_template(templateName='T', templateBody=h.TEMPLATE_BODY,
                                              provisioningRoleArn=prov)
        # a change (here an attachment) starts the delay again
        self.iam.attach_role_policy(RoleName='Prov',
                                    PolicyArn='arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration')
        self.refused(self.iot.update_provisioning_template, 'InvalidRequestException', templateName='T',
                     provisioningRoleArn=prov)
        self.clock(62)
        self.iot.update_provisioning_template(templateName='T', provisioningRoleArn=prov)
        self.emu.control('POST', 'config', {'iamPropagationSeconds': 0})
        self.assertEqual(self.emu.control('POST', 'config', {'iamPropagationSeconds': -1})[0], 400)

    def test_delete_policy_after_detach(self):
        self.emu.control('POST', 'config', {'policyDeleteDelaySeconds': 300})
        self.iot.create_policy(policyName='P', policyDocument=h.IOT_POLICY)
        cert = self.iot.create_certificate_from_csr(certificateSigningRequest=make_csr()[1])['certificateArn']
        self.iot.attach_policy(policyName='P', target=cert)
        self.iot.detach_policy(policyName='P', target=cert)
        self.refused(self.iot.delete_policy, 'DeleteConflictException', policyName='P')
        self.clock(299)
        self.refused(self.iot.delete_policy, 'DeleteConflictException', policyName='P')
        self.clock(301)
        self.iot.delete_policy(policyName='P')
        # a policy never attached is deleted at once
        self.iot.create_policy(policyName='Q', policyDocument=h.IOT_POLICY)
        self.iot.delete_policy(policyName='Q')

    def list_ids(self, query):
        st, _, body = self.emu.request('GET', '/certificates?' + query)
        self.assertEqual(st, 200, body)
        return [c['certificateId'] for c in json.loads(body)['certificates']]

    def test_list_certificates_order_and_unknown_parameters(self):
        ids = []
        for i in range(3):
            self.clock(i * 10)
            ids.append(self.iot.create_certificate_from_csr(certificateSigningRequest=make_csr()[1])['certificateId'])
        self.assertEqual(self.list_ids('pageSize=10'), ids, 'oldest first without isAscendingOrder')
        self.assertEqual(self.list_ids('pageSize=10&isAscendingOrder=false'), ids[::-1])
        self.assertEqual(self.list_ids('pageSize=10&isAscendingOrder=true'), ids)
        self.assertEqual(self.list_ids('pageSize=10&ascendingOrder=false'), ids, 'an unknown parameter is ignored')
        self.assertEqual(self.list_ids('pageSize=2&isAscendingOrder=false&bogus=1'), ids[::-1][:2])

    def test_iot_signing_names(self):
        for name in ('iot', 'execute-api'):
            self.emu.control('DELETE', 'calls')
            st, hd, body = self.emu.request('GET', '/role-aliases', service=name)
            self.assertEqual(st, 200, body)
            call = self.emu.control('GET', 'calls')[1]['calls'][-1]
            self.assertEqual((call['operation'], call['signingName'], call['signature']),
                             ('ListRoleAliases', name, 'valid'))
        st, hd, body = self.emu.request('GET', '/role-aliases', service='iotdata')
        self.assertEqual(st, 403)
        self.assertEqual(etype(hd), 'InvalidSignatureException')


if __name__ == '__main__':
    unittest.main()
