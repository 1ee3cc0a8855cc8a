"""IoT policy evaluation (tests/awsemu/iotpolicy.py) on a hand-made state: the rules of AWS's IoT policy
documentation, one by one, without a broker in between."""

import datetime
import json
import os
import sys
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import iotpolicy  # noqa: E402

A = 'arn:aws:iot:us-east-1:123456789012:'


def cert_pem():
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'sensor-7'),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Example Corp'),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'AnyCompany'),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, 'A=B, C'),
                         x509.NameAttribute(NameOID.COUNTRY_NAME, 'DE')])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(4242).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class Policies(unittest.TestCase):
    RUN_COST_S = 2

    def setUp(self):
        self.st = {'iot': {'certificates': {'c1': {'certificateArn': A + 'cert/c1', 'certificatePem': cert_pem(),
                                                   'status': 'ACTIVE'}},
                           'policies': {}, 'things': {}, 'thingGroups': {}}}

    def attach(self, name, *statements, target=A + 'cert/c1'):
        doc = json.dumps({'Version': '2012-10-17', 'Statement': list(statements)})
        pol = self.st['iot']['policies'].setdefault(name, {'defaultVersionId': '1', 'targets': [],
                                                           'versions': {'1': {'document': doc}}})
        pol['targets'].append(target)

    def thing(self, name, attached=True, attributes=None, groups=()):
        self.st['iot']['things'][name] = {'thingName': name, 'attributes': attributes or {},
                                          'principals': [A + 'cert/c1'] if attached else []}
        for g in groups:
            self.st['iot']['thingGroups'][g]['things'] = [name]

    def group(self, name, parent=None):
        self.st['iot']['thingGroups'][name] = {'thingGroupArn': A + 'thinggroup/' + name, 'parentGroupName': parent,
                                               'things': []}

    def check(self, action, resource, client_id='dev', thing=None, ip='10.0.0.7', attrs=None):
        v = iotpolicy.connection_variables(self.st, 'c1', client_id, thing, ip, attrs)
        return iotpolicy.evaluate(self.st, 'c1', action, A + resource, v)

    def allowed(self, *a, **kw):
        return self.check(*a, **kw)[0]

    def test_nothing_attached_is_an_implicit_deny(self):
        self.assertEqual(self.check('iot:Connect', 'client/dev'),
                         (False, 'no policy is attached to certificate c1'))
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Publish', 'Resource': '*'})
        ok, reason = self.check('iot:Connect', 'client/dev')
        self.assertFalse(ok)
        self.assertIn('no policy allows iot:Connect', reason)

    def test_deny_in_any_policy_wins(self):
        self.attach('allow-all', {'Effect': 'Allow', 'Action': 'iot:*', 'Resource': '*'})
        self.attach('deny-one', {'Effect': 'Deny', 'Action': 'iot:Publish', 'Resource': A + 'topic/a/*'})
        self.assertTrue(self.allowed('iot:Publish', 'topic/b/1'))
        self.assertEqual(self.check('iot:Publish', 'topic/a/1'),
                         (False, 'explicitly denied by policy deny-one (statement 1)'))

    def test_wildcards_star_question_mark_and_literal_mqtt_wildcards(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Subscribe',
                          'Resource': [A + 'topicfilter/room??', A + 'topicfilter/lit/+', A + 'topicfilter/any/*']})
        self.assertTrue(self.allowed('iot:Subscribe', 'topicfilter/room12'))
        self.assertFalse(self.allowed('iot:Subscribe', 'topicfilter/room123'))
        self.assertTrue(self.allowed('iot:Subscribe', 'topicfilter/lit/+'))
        self.assertFalse(self.allowed('iot:Subscribe', 'topicfilter/lit/x'))
        self.assertTrue(self.allowed('iot:Subscribe', 'topicfilter/any/x/y/#'))  # '*' spans levels
        self.assertFalse(self.allowed('iot:SubscribeX', 'topicfilter/any/x'))
        self.assertTrue(self.allowed('IOT:SUBSCRIBE', 'topicfilter/any/x'))  # actions are case-insensitive

    def test_policy_variables_and_their_literal_values(self):
        self.attach('p', {'Effect': 'Allow', 'Action': ['iot:Publish'],
                          'Resource': [A + 'topic/d/${iot:ClientId}/*', A + 'topic/star/${*}']})
        self.assertTrue(self.allowed('iot:Publish', 'topic/d/dev/x', client_id='dev'))
        self.assertFalse(self.allowed('iot:Publish', 'topic/d/other/x', client_id='dev'))
        # a variable's value is literal: a client ID '*' does not become a wildcard
        self.assertFalse(self.allowed('iot:Publish', 'topic/d/x/y', client_id='*'))
        self.assertTrue(self.allowed('iot:Publish', 'topic/star/*'))
        self.assertFalse(self.allowed('iot:Publish', 'topic/star/x'))

    def test_thing_variables_only_for_a_thing_attached_and_named_by_the_client_id(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Connect',
                          'Resource': A + 'client/${iot:Connection.Thing.ThingName}'},
                    {'Effect': 'Allow', 'Action': 'iot:Publish',
                     'Resource': A + 'topic/${iot:Connection.Thing.Attributes[site]}/*'})
        self.thing('t1', attributes={'site': 'berlin'})
        self.thing('t2', attached=False)
        self.assertTrue(self.allowed('iot:Connect', 'client/t1', client_id='t1', thing='t1'))
        self.assertTrue(self.allowed('iot:Publish', 'topic/berlin/x', client_id='t1', thing='t1'))
        self.assertFalse(self.allowed('iot:Connect', 'client/t2', client_id='t2', thing='t2'))
        # an unresolved variable matches nothing, not even its own text
        self.assertFalse(self.allowed('iot:Connect', 'client/${iot:Connection.Thing.ThingName}', client_id='x'))

    def test_is_attached_condition(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Connect', 'Resource': '*',
                          'Condition': {'Bool': {'iot:Connection.Thing.IsAttached': ['true']}}})
        self.thing('t1')
        self.assertTrue(self.allowed('iot:Connect', 'client/t1', client_id='t1', thing='t1'))
        self.assertFalse(self.allowed('iot:Connect', 'client/loner', client_id='loner', thing='loner'))

    def test_certificate_variables_with_escaping_lists_and_indexes(self):
        v = iotpolicy.connection_variables(self.st, 'c1', 'dev')
        self.assertEqual(v['iot:Certificate.Subject.CommonName'], 'sensor-7')
        self.assertEqual(v['iot:Certificate.Subject.Organization'], 'Example Corp')
        self.assertEqual(v['iot:Certificate.Subject.Organization.1'], 'AnyCompany')
        self.assertEqual(v['iot:Certificate.Subject.Organization.List'], ['Example Corp', 'AnyCompany'])
        self.assertEqual(v['iot:Certificate.Subject.OrganizationalUnit'], 'A\\=B\\, C')  # AWS escapes = and ,
        self.assertEqual(v['iot:Certificate.SerialNumber'], '4242')
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Publish',
                          'Resource': A + 'topic/${iot:Certificate.Subject.CommonName}/*',
                          'Condition': {'ForAllValues:StringEquals': {
                              'iot:Certificate.Subject.Organization.List': ['Example Corp', 'AnyCompany']}}})
        self.assertTrue(self.allowed('iot:Publish', 'topic/sensor-7/x'))
        self.st['iot']['policies']['p']['versions']['1']['document'] = self.st['iot']['policies']['p']['versions'][
            '1']['document'].replace('"AnyCompany"', '"Other"')
        self.assertFalse(self.allowed('iot:Publish', 'topic/sensor-7/x'))

    def test_not_resource_and_not_action(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Receive', 'NotResource': A + 'topic/a/restricted/*'},
                    {'Effect': 'Allow', 'NotAction': 'iot:Publish', 'Resource': A + 'client/*'})
        self.assertTrue(self.allowed('iot:Receive', 'topic/a/open'))
        self.assertFalse(self.allowed('iot:Receive', 'topic/a/restricted/x'))
        self.assertTrue(self.allowed('iot:Connect', 'client/x'))

    def test_condition_operators(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Connect', 'Resource': '*',
                          'Condition': {'IpAddress': {'aws:SourceIp': '10.0.0.0/8'},
                                        'StringLike': {'iot:ClientId': 'dev-*'},
                                        'StringNotEquals': {'iot:ClientId': 'dev-bad'}}})
        self.assertTrue(self.allowed('iot:Connect', 'client/dev-1', client_id='dev-1'))
        self.assertFalse(self.allowed('iot:Connect', 'client/dev-bad', client_id='dev-bad'))
        self.assertFalse(self.allowed('iot:Connect', 'client/dev-1', client_id='dev-1', ip='192.168.1.1'))
        self.assertFalse(self.allowed('iot:Connect', 'client/x', client_id='x'))

    def test_condition_keys_that_are_missing(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Publish', 'Resource': A + 'topic/a',
                          'Condition': {'StringNotEquals': {'iot:Connection.Thing.ThingName': 'x'}}},
                    {'Effect': 'Allow', 'Action': 'iot:Publish', 'Resource': A + 'topic/b',
                     'Condition': {'StringEquals': {'iot:Connection.Thing.ThingName': 'x'}}},
                    {'Effect': 'Allow', 'Action': 'iot:Publish', 'Resource': A + 'topic/c',
                     'Condition': {'Null': {'iot:Connection.Thing.ThingName': 'true'}}},
                    {'Effect': 'Allow', 'Action': 'iot:Publish', 'Resource': A + 'topic/d',
                     'Condition': {'StringEqualsIfExists': {'iot:Connection.Thing.ThingName': 'x'}}},
                    {'Effect': 'Allow', 'Action': 'iot:Publish', 'Resource': A + 'topic/e',
                     'Condition': {'DateGreaterThan': {'aws:CurrentTime': '2020-01-01T00:00:00Z'}}})
        # IAM: a negated operator and IfExists hold without the key, the others do not;
        # an operator the emulator does not implement never grants
        self.assertEqual([self.allowed('iot:Publish', 'topic/' + t) for t in 'abcde'],
                         [True, False, True, True, False])

    def test_connect_attributes(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:Connect', 'Resource': '*'},
                    {'Effect': 'Deny', 'Action': 'iot:Connect', 'Resource': '*',
                     'Condition': {'ForAnyValue:StringEquals': {'iot:ConnectAttributes': ['PersistentConnect']}}})
        self.assertTrue(self.allowed('iot:Connect', 'client/x', attrs=[]))
        self.assertTrue(self.allowed('iot:Connect', 'client/x', attrs=['LastWill']))
        self.assertFalse(self.allowed('iot:Connect', 'client/x', attrs=['PersistentConnect', 'LastWill']))

    def test_thing_group_policies_are_inherited_from_parent_groups(self):
        self.group('top')
        self.group('mid', parent='top')
        self.thing('t1', groups=['mid'])
        self.attach('gp', {'Effect': 'Allow', 'Action': 'iot:Connect', 'Resource': '*'},
                    target=A + 'thinggroup/top')
        self.assertTrue(self.allowed('iot:Connect', 'client/t1', client_id='t1', thing='t1'))
        self.assertFalse(self.allowed('iot:Connect', 'client/other', client_id='other', thing='other'))

    def test_a_policy_document_that_is_not_json_grants_nothing(self):
        self.attach('p', {'Effect': 'Allow', 'Action': 'iot:*', 'Resource': '*'})
        self.st['iot']['policies']['p']['versions']['1']['document'] = '{not json'
        self.assertFalse(self.allowed('iot:Connect', 'client/x'))


if __name__ == '__main__':
    unittest.main()
