"""RegisterThing's effect on the registry: thing, groups, type, certificate status, policies, OverrideSettings
on a re-provisioned thing, and the provisioning role's trust and permissions."""

import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provharness as ph  # noqa: E402
import emuharness as h  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from provharness import from_csr  # noqa: E402

S = {'Type': 'String'}
PARAMS = dict(ph.CERT_PARAM, ThingName=S, Group=S)


def thing_resource(props=None, overrides=None):
    r = {'Type': 'AWS::IoT::Thing',
         'Properties': dict({'ThingName': {'Ref': 'ThingName'}, 'ThingGroups': [{'Ref': 'Group'}]}, **(props or {}))}
    if overrides:
        r['OverrideSettings'] = overrides
    return r


def template(props=None, overrides=None, policy=None, cert_status='Active', **sections):
    res = {'thing': thing_resource(props, overrides), 'cert': ph.cert_resource(cert_status),
           'policy': {'Type': 'AWS::IoT::Policy', 'Properties': policy or {'PolicyName': 'ThingPolicy'}}}
    return ph.body(res, PARAMS, **sections)


class ProvCase(unittest.TestCase):
    """An emulator of its own with a claim, a provisioning role, thing groups Fleet/Old/New and ThingPolicy."""

    @classmethod
    def setUpClass(cls):
        cls.ip = ph.InProcEmu()
        cls.acct = ph.Account(cls.ip)
        cls.iot = cls.acct.iot
        cls.role = cls.acct.role('ProvRole')
        cls.dev = ph.Device(cls.ip.emu, cls.acct.claim())
        for g in ('Fleet', 'Old', 'New'):
            cls.iot.create_thing_group(thingGroupName=g)
        cls.iot.create_policy(policyName='ThingPolicy', policyDocument=ph.THING_POLICY)
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.ip.stop()

    def tpl(self, body_text, role=None):
        type(self).n += 1
        name = 'T%d' % type(self).n
        self.acct.template(name, body_text, role or self.role)
        return name

    def provision(self, tpl, params, fmt='json'):
        """(accepted?, answer, certificate id) of CreateCertificateFromCsr + RegisterThing."""
        _, ans = from_csr(self.dev, fmt)
        topic, out = self.dev.register(tpl, ans['certificateOwnershipToken'], params, fmt)
        return topic.endswith('/accepted'), out, ans['certificateId']

    def thing(self, name):
        return self.iot.describe_thing(thingName=name)

    def groups(self, name):
        return sorted(g['groupName'] for g in self.iot.list_thing_groups_for_thing(thingName=name)['thingGroups'])

    def policies(self, cert_id):
        arn = self.acct.cert(cert_id)['certificateArn']
        return sorted(p['policyName'] for p in self.iot.list_attached_policies(target=arn)['policies'])


class RegisterThing(ProvCase):
    def test_a_device_is_registered(self):
        t = self.tpl(template(DeviceConfiguration={'Endpoint': 'e.example', 'Group': {'Ref': 'Group'}}))
        for fmt in ('json', 'cbor'):
            ok, out, cid = self.provision(t, {'ThingName': 'core-' + fmt, 'Group': 'Fleet', 'Extra': 'ignored'}, fmt)
            self.assertTrue(ok, out)
            self.assertEqual(out, {'deviceConfiguration': {'Endpoint': 'e.example', 'Group': 'Fleet'},
                                   'thingName': 'core-' + fmt})
            cert = self.acct.cert(cid)
            self.assertEqual(cert['status'], 'ACTIVE')
            self.assertEqual(self.iot.list_thing_principals(thingName='core-' + fmt)['principals'],
                             [cert['certificateArn']])
            self.assertEqual(self.iot.list_principal_things(principal=cert['certificateArn'])['things'],
                             ['core-' + fmt])
            self.assertEqual(self.groups('core-' + fmt), ['Fleet'])
            self.assertEqual(self.policies(cid), ['ThingPolicy'])

    def test_certificate_status_from_the_template(self):
        t = self.tpl(template(cert_status='INACTIVE'))
        ok, out, cid = self.provision(t, {'ThingName': 'inactive-1', 'Group': 'Fleet'})
        self.assertTrue(ok, out)
        self.assertEqual(self.acct.cert(cid)['status'], 'INACTIVE')

    def test_policy_by_document_is_created_once_and_shared(self):
        doc = json.dumps({'Version': '2012-10-17', 'Statement': [
            {'Effect': 'Allow', 'Action': 'iot:Connect', 'Resource': 'arn:aws:iot:us-east-1:123456789012:client/x'}]})
        t = self.tpl(template(policy={'PolicyDocument': doc}))
        ok1, out1, c1 = self.provision(t, {'ThingName': 'doc-1', 'Group': 'Fleet'})
        ok2, out2, c2 = self.provision(t, {'ThingName': 'doc-2', 'Group': 'Fleet'})
        self.assertTrue(ok1 and ok2, (out1, out2))
        name = hashlib.sha256(doc.encode()).hexdigest()
        self.assertEqual((self.policies(c1), self.policies(c2)), ([name], [name]))
        self.assertEqual(self.iot.get_policy(policyName=name)['policyDocument'], doc)

    def test_bad_policy_document_and_missing_policy(self):
        t = self.tpl(template(policy={'PolicyDocument': '{"Statement": []}'}))
        ok, out, cid = self.provision(t, {'ThingName': 'bad-doc', 'Group': 'Fleet'})
        self.assertEqual((ok, out['errorCode']), (False, 'InvalidRequest'))
        self.assertIn('PolicyDocument of policy is not valid', out['errorMessage'])
        t = self.tpl(template(policy={'PolicyName': 'NoSuchPolicy'}))
        ok, out, cid = self.provision(t, {'ThingName': 'no-pol', 'Group': 'Fleet'})
        self.assertEqual((out['statusCode'], out['errorCode'], out['errorMessage']),
                         (400, 'ResourceRegistrationFailure', 'Policy NoSuchPolicy does not exist'))

    def test_a_missing_thing_group_changes_nothing(self):
        t = self.tpl(template())
        _, ans = from_csr(self.dev)
        tok = ans['certificateOwnershipToken']
        _, out = self.dev.register(t, tok, {'ThingName': 'grouped', 'Group': 'Later'})
        self.assertEqual((out['statusCode'], out['errorCode'], out['errorMessage']),
                         (400, 'ResourceRegistrationFailure', 'Thing group Later does not exist'))
        with self.assertRaises(ClientError):
            self.thing('grouped')
        self.assertEqual(self.acct.cert(ans['certificateId'])['status'], 'PENDING_ACTIVATION')
        self.assertEqual(self.policies(ans['certificateId']), [])
        self.iot.create_thing_group(thingGroupName='Later')
        topic, out = self.dev.register(t, tok, {'ThingName': 'grouped', 'Group': 'Later'})
        self.assertTrue(topic.endswith('/accepted'), out)
        self.assertEqual(self.groups('grouped'), ['Later'])

    def test_thing_types(self):
        t = self.tpl(template({'ThingTypeName': {'Ref': 'Type'}}).replace('"Group": {"Type": "String"}',
                                                                           '"Group": {"Type": "String"}, '
                                                                           '"Type": {"Type": "String"}'))
        ok, out, _ = self.provision(t, {'ThingName': 'typed', 'Group': 'Fleet', 'Type': 'Core'})
        self.assertEqual((ok, out['errorMessage']), (False, 'Thing type Core does not exist'))
        self.iot.create_thing_type(thingTypeName='Core')
        ok, out, _ = self.provision(t, {'ThingName': 'typed', 'Group': 'Fleet', 'Type': 'Core'})
        self.assertTrue(ok, out)
        self.assertEqual(self.thing('typed')['thingTypeName'], 'Core')
        self.iot.create_thing_type(thingTypeName='Old')
        self.iot.deprecate_thing_type(thingTypeName='Old')
        ok, out, _ = self.provision(t, {'ThingName': 'typed-old', 'Group': 'Fleet', 'Type': 'Old'})
        self.assertEqual((ok, out['errorMessage']), (False, 'Thing type Old is deprecated'))

    def test_missing_parameter_and_bad_thing_name(self):
        t = self.tpl(template())
        ok, out, _ = self.provision(t, {'ThingName': 'x'})
        self.assertEqual((out['statusCode'], out['errorCode']), (400, 'InvalidRequest'))
        self.assertIn('Missing value for parameter Group', out['errorMessage'])
        ok, out, _ = self.provision(t, {'ThingName': '<THING_NAME>', 'Group': 'Fleet'})
        self.assertIn('ThingName "<THING_NAME>" is not valid', out['errorMessage'])


class OverrideSettings(ProvCase):
    """A device provisioned again with a thing name that exists: each property follows its OverrideSettings."""

    def existing(self, name):
        self.iot.create_thing(thingName=name, attributePayload={'attributes': {'a': '1', 'b': '2'}})
        self.iot.add_thing_to_thing_group(thingGroupName='Old', thingName=name)

    def again(self, name, overrides):
        t = self.tpl(template({'AttributePayload': {'b': '3', 'c': '4'}}, overrides))
        return self.provision(t, {'ThingName': name, 'Group': 'New'})

    def test_do_nothing(self):
        self.existing('re-nothing')
        ok, out, cid = self.again('re-nothing', {'AttributePayload': 'DO_NOTHING', 'ThingGroups': 'DO_NOTHING'})
        self.assertTrue(ok, out)
        self.assertEqual(self.thing('re-nothing')['attributes'], {'a': '1', 'b': '2'})
        self.assertEqual(self.groups('re-nothing'), ['Old'])
        self.assertEqual(self.iot.list_thing_principals(thingName='re-nothing')['principals'],
                         [self.acct.cert(cid)['certificateArn']])

    def test_unset_means_do_nothing(self):
        self.existing('re-unset')
        ok, out, _ = self.again('re-unset', None)
        self.assertTrue(ok, out)
        self.assertEqual((self.thing('re-unset')['attributes'], self.groups('re-unset')),
                         ({'a': '1', 'b': '2'}, ['Old']))

    def test_replace(self):
        self.existing('re-replace')
        version = self.thing('re-replace')['version']
        ok, out, _ = self.again('re-replace', {'AttributePayload': 'REPLACE', 'ThingGroups': 'REPLACE'})
        self.assertTrue(ok, out)
        t = self.thing('re-replace')
        self.assertEqual((t['attributes'], t['version']), ({'b': '3', 'c': '4'}, version + 1))
        self.assertEqual(self.groups('re-replace'), ['New'])

    def test_merge(self):
        self.existing('re-merge')
        ok, out, _ = self.again('re-merge', {'AttributePayload': 'MERGE', 'ThingGroups': 'MERGE'})
        self.assertTrue(ok, out)
        self.assertEqual(self.thing('re-merge')['attributes'], {'a': '1', 'b': '3', 'c': '4'})
        self.assertEqual(self.groups('re-merge'), ['New', 'Old'])

    def test_fail(self):
        self.existing('re-fail')
        ok, out, cid = self.again('re-fail', {'AttributePayload': 'FAIL'})
        self.assertEqual((out['statusCode'], out['errorCode']), (409, 'ResourceConflicts'))
        self.assertIn('different AttributePayload', out['errorMessage'])
        self.assertEqual(self.acct.cert(cid)['status'], 'PENDING_ACTIVATION')
        self.assertEqual(self.iot.list_thing_principals(thingName='re-fail')['principals'], [])
        ok, out, _ = self.again('re-fail', {'ThingGroups': 'FAIL'})
        self.assertIn('different ThingGroups', out['errorMessage'])
        # the same values are no conflict
        t = self.tpl(template({'AttributePayload': {'a': '1', 'b': '2'}}, {'AttributePayload': 'FAIL'}))
        ok, out, _ = self.provision(t, {'ThingName': 're-fail', 'Group': 'Old'})
        self.assertTrue(ok, out)


class ProvisioningRole(ProvCase):
    def test_role_without_the_registration_policy(self):
        t = self.tpl(template(), self.acct.role('NoPerms', registration=False))
        ok, out, cid = self.provision(t, {'ThingName': 'unregistered', 'Group': 'Fleet'})
        self.assertEqual((out['statusCode'], out['errorCode']), (403, 'AccessDenied'))
        self.assertIn('is not authorized to perform: iot:', out['errorMessage'])
        self.assertEqual(self.acct.cert(cid)['status'], 'PENDING_ACTIVATION')

    def test_role_that_no_longer_trusts_iot(self):
        arn = self.acct.role('Untrusted')
        t = self.tpl(template(), arn)
        self.acct.iam.update_assume_role_policy(RoleName='Untrusted', PolicyDocument=h.TRUST_IOT_CREDENTIALS)
        ok, out, _ = self.provision(t, {'ThingName': 'untrusted', 'Group': 'Fleet'})
        self.assertEqual((out['statusCode'], out['errorCode']), (403, 'AccessDenied'))
        self.assertIn('cannot be assumed by AWS IoT', out['errorMessage'])

    def test_role_deleted(self):
        arn = self.acct.role('Gone', registration=False)
        t = self.tpl(template(), arn)
        self.acct.iam.delete_role(RoleName='Gone')
        ok, out, _ = self.provision(t, {'ThingName': 'gone', 'Group': 'Fleet'})
        self.assertEqual(out['errorMessage'], 'The provisioning role %s of the template does not exist' % arn)

    def test_a_scoped_down_policy_is_evaluated(self):
        arn = self.acct.role('Scoped', registration=False)
        doc = json.dumps({'Version': '2012-10-17', 'Statement': [
            {'Effect': 'Allow', 'Action': ['iot:*'],
             'Resource': ['arn:aws:iot:*:*:thing/plant-?-*', 'arn:aws:iot:*:*:thinggroup/*', 'arn:aws:iot:*:*:cert/*',
                          'arn:aws:iot:*:*:policy/*']},
            {'Effect': 'Deny', 'Action': 'iot:AddThingToThingGroup', 'Resource': 'arn:aws:iot:*:*:thinggroup/Old'}]})
        pol = self.acct.iam.create_policy(PolicyName='ScopedRegistration', PolicyDocument=doc)['Policy']['Arn']
        self.acct.iam.attach_role_policy(RoleName='Scoped', PolicyArn=pol)
        t = self.tpl(template(), arn)
        ok, out, _ = self.provision(t, {'ThingName': 'plant-1-core', 'Group': 'Fleet'})
        self.assertTrue(ok, out)
        ok, out, _ = self.provision(t, {'ThingName': 'elsewhere', 'Group': 'Fleet'})
        self.assertIn('not authorized to perform: iot:DescribeThing on resource: '
                      'arn:aws:iot:us-east-1:123456789012:thing/elsewhere', out['errorMessage'])
        ok, out, _ = self.provision(t, {'ThingName': 'plant-2-core', 'Group': 'Old'})
        self.assertIn('iot:AddThingToThingGroup on resource: arn:aws:iot:us-east-1:123456789012:thinggroup/Old',
                      out['errorMessage'])


if __name__ == '__main__':
    unittest.main()
