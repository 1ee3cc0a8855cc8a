"""provtemplate.render: a fleet provisioning template evaluated as RegisterThing does (no emulator needed)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import provtemplate as pt  # noqa: E402

CID = 'c' * 64
CERT = {'Type': 'AWS::IoT::Certificate',
        'Properties': {'CertificateId': {'Ref': 'AWS::IoT::Certificate::Id'}, 'Status': 'Active'}}
BASE_PARAMS = {'AWS::IoT::Certificate::Id': {'Type': 'String'}}


def tpl(thing_props=None, params=None, **sections):
    res = {'cert': CERT}
    if thing_props is not None:
        res['thing'] = {'Type': 'AWS::IoT::Thing', 'Properties': thing_props}
    doc = {'Parameters': dict(BASE_PARAMS, **(params or {})), 'Resources': res}
    doc.update(sections)
    return json.dumps(doc)


def name_of(value, params=None, given=None, **sections):
    """The ThingName a template gets when its ThingName property is `value`."""
    return pt.render(tpl({'ThingName': value}, params, **sections), given or {}, CID).thing['ThingName']


S = {'Type': 'String'}


class Functions(unittest.TestCase):
    def refused(self, text, given=None, contains=''):
        with self.assertRaises(pt.ProvError) as cm:
            pt.render(text, given or {}, CID)
        self.assertEqual((cm.exception.status, cm.exception.code), (400, 'InvalidRequest'))
        self.assertIn(contains, cm.exception.message)
        return cm.exception.message

    def test_ref_of_a_parameter_and_of_the_certificate_id(self):
        self.assertEqual(name_of({'Ref': 'N'}, {'N': S}, {'N': 'dev-1'}), 'dev-1')
        r = pt.render(tpl({'ThingName': 'x'}), {}, CID)
        self.assertEqual(r.certificate['CertificateId'], CID)
        self.assertEqual(r.certificate['Status'], 'ACTIVE')

    def test_the_device_cannot_choose_the_certificate_id(self):
        r = pt.render(tpl({'ThingName': 'x'}), {'AWS::IoT::Certificate::Id': 'd' * 64}, CID)
        self.assertEqual(r.certificate['CertificateId'], CID)

    def test_ref_to_an_undeclared_name_is_refused(self):
        self.refused(tpl({'ThingName': {'Ref': 'Nope'}}), contains='Ref to Nope')
        self.refused(tpl({'ThingName': {'Ref': ['N']}}, {'N': S}, ), {'N': 'a'}, contains='Ref takes')

    def test_defaults_and_missing_parameters(self):
        p = {'N': {'Type': 'String', 'Default': 'fallback'}}
        self.assertEqual(name_of({'Ref': 'N'}, p), 'fallback')
        self.assertEqual(name_of({'Ref': 'N'}, p, {'N': 'given'}), 'given')
        self.refused(tpl({'ThingName': 'x'}, {'Serial': S}), contains='Missing value for parameter Serial')
        self.refused(tpl({'ThingName': 'x'}, {'N': {'Type': 'Number'}}), {'N': '1'}, contains='"Type": "String"')
        self.refused(tpl({'ThingName': 'x'}, {'N': {'Type': 'String', 'Default': 3}}), contains='Default')
        self.refused(tpl({'ThingName': 'x'}, {'N': {'Type': 'String', 'AllowedValues': ['a']}}), {'N': 'a'},
                     contains='AllowedValues')

    def test_join(self):
        self.assertEqual(name_of({'Fn::Join': ['-', ['a', {'Ref': 'N'}, 'c']]}, {'N': S}, {'N': 'b'}), 'a-b-c')
        self.assertEqual(name_of({'Fn::Join': ['', ['a', 'b']]}), 'ab')
        self.refused(tpl({'ThingName': {'Fn::Join': ['-', ['a', ['b']]]}}), contains='list of strings')
        self.refused(tpl({'ThingName': {'Fn::Join': ['-']}}), contains='Fn::Join takes a list of 2')
        self.refused(tpl({'ThingName': {'Fn::Join': [1, ['a']]}}), contains='delimiter of Fn::Join')

    def test_split_and_select(self):
        v = {'Fn::Select': [1, {'Fn::Split': [',', {'Ref': 'L'}]}]}
        self.assertEqual(name_of(v, {'L': S}, {'L': 'x,y,z'}), 'y')
        self.assertEqual(name_of({'Fn::Select': ['2', ['a', 'b', 'c']]}), 'c')
        self.refused(tpl({'ThingName': {'Fn::Select': [3, ['a', 'b', 'c']]}}), contains='out of bounds')
        self.refused(tpl({'ThingName': {'Fn::Select': [-1, ['a']]}}), contains='out of bounds')
        self.refused(tpl({'ThingName': {'Fn::Select': ['one', ['a']]}}), contains='must be a number')
        self.refused(tpl({'ThingName': {'Fn::Select': [0, [None]]}}), contains='null')
        self.refused(tpl({'ThingName': {'Fn::Select': [0, 'abc']}}), contains='selects from a list')
        self.refused(tpl({'ThingName': {'Fn::Split': ['', 'abc']}}), contains='cannot be empty')
        self.refused(tpl({'ThingName': {'Fn::Split': [',', ['a']]}}), contains='source of Fn::Split')

    def test_find_in_map(self):
        maps = {'Sites': {'Seattle': {'Group': 'g-sea'}, 'Paris': {'Group': 'g-par'}}}
        v = {'Fn::FindInMap': ['Sites', {'Ref': 'Site'}, 'Group']}
        self.assertEqual(name_of(v, {'Site': S}, {'Site': 'Paris'}, Mappings=maps), 'g-par')
        self.refused(tpl({'ThingName': v}, {'Site': S}, Mappings=maps), {'Site': 'Oslo'},
                     contains='[Sites, Oslo, Group]')
        bad = {'Sites': {'Seattle': {'Group': {'Ref': 'Site'}}}}
        self.refused(tpl({'ThingName': 'x'}, Mappings=bad), contains='may not contain')
        self.refused(tpl({'ThingName': 'x'}, Mappings={'Sites': {'Seattle': 'flat'}}), contains='two-level')

    def test_sub(self):
        self.assertEqual(name_of({'Fn::Sub': 'dev-${N}'}, {'N': S}, {'N': '7'}), 'dev-7')
        self.assertEqual(name_of({'Fn::Sub': ['${A}-${N}', {'A': {'Fn::Join': ['', ['x', 'y']]}}]}, {'N': S},
                                 {'N': '1'}), 'xy-1')
        r = pt.render(tpl({'ThingName': 'x'}, DeviceConfiguration={'Literal': {'Fn::Sub': '${!Keep}'}}), {}, CID)
        self.assertEqual(r.device_configuration, {'Literal': '${Keep}'})
        self.refused(tpl({'ThingName': {'Fn::Sub': 'dev-${Missing}'}}), contains='Ref to Missing')

    def test_if_and_conditions(self):
        conds = {'IsProd': {'Fn::Equals': [{'Ref': 'Env'}, 'prod']},
                 'NotProd': {'Fn::Not': [{'Condition': 'IsProd'}]},
                 'Both': {'Fn::And': [{'Condition': 'IsProd'}, {'Fn::Equals': ['a', 'a']}]},
                 'Either': {'Fn::Or': [{'Condition': 'NotProd'}, {'Fn::Equals': ['a', 'b']}]}}
        p = {'Env': S}
        for env, want in (('prod', 'p-yes-no'), ('test', 't-no-yes')):
            v = {'Fn::Join': ['-', [{'Fn::If': ['IsProd', 'p', 't']}, {'Fn::If': ['Both', 'yes', 'no']},
                                    {'Fn::If': ['Either', 'yes', 'no']}]]}
            self.assertEqual(name_of(v, p, {'Env': env}, Conditions=conds), want)

    def test_conditions_errors(self):
        p = {'Env': S}
        loop = {'A': {'Fn::Not': [{'Condition': 'B'}]}, 'B': {'Fn::Not': [{'Condition': 'A'}]}}
        self.refused(tpl({'ThingName': {'Fn::If': ['A', 'x', 'y']}}, p, Conditions=loop), {'Env': 'e'},
                     contains='refers to itself')
        self.refused(tpl({'ThingName': {'Fn::If': ['Nope', 'x', 'y']}}), contains='Condition Nope is not defined')
        one = {'A': {'Fn::And': [{'Fn::Equals': ['a', 'a']}]}}
        self.refused(tpl({'ThingName': {'Fn::If': ['A', 'x', 'y']}}, Conditions=one), contains='2 to 10')
        notcond = {'A': {'Fn::Not': ['true']}}
        self.refused(tpl({'ThingName': {'Fn::If': ['A', 'x', 'y']}}, Conditions=notcond), contains='A condition must')
        self.refused(tpl({'ThingName': {'Fn::If': ['A', 'x']}}, Conditions=one), contains='Fn::If takes a list of 3')

    def test_resource_condition_skips_the_resource(self):
        doc = json.loads(tpl({'ThingName': 'x'}, {'Env': S}))
        doc['Conditions'] = {'IsProd': {'Fn::Equals': [{'Ref': 'Env'}, 'prod']}}
        doc['Resources']['thing']['Condition'] = 'IsProd'
        self.assertIsNone(pt.render(json.dumps(doc), {'Env': 'test'}, CID).thing)
        self.assertEqual(pt.render(json.dumps(doc), {'Env': 'prod'}, CID).thing['ThingName'], 'x')

    def test_nested_functions(self):
        v = {'Fn::Join': ['', [{'Fn::Select': [0, {'Fn::Split': ['.', {'Fn::FindInMap': [
            'M', {'Fn::If': ['C', 'k1', 'k2']}, 'v']}]}]}, '-', {'Ref': 'N'}]]}
        maps = {'M': {'k1': {'v': 'first.part'}, 'k2': {'v': 'second.part'}}}
        conds = {'C': {'Fn::Equals': [{'Ref': 'N'}, '1']}}
        self.assertEqual(name_of(v, {'N': S}, {'N': '1'}, Mappings=maps, Conditions=conds), 'first-1')
        self.assertEqual(name_of(v, {'N': S}, {'N': '2'}, Mappings=maps, Conditions=conds), 'second-2')

    def test_unknown_and_malformed_functions(self):
        self.refused(tpl({'ThingName': {'Fn::GetAtt': ['a', 'b']}}), contains='Unsupported intrinsic function')
        self.refused(tpl({'ThingName': {'Ref': 'N', 'x': 1}}, {'N': S}), {'N': 'a'}, contains='only key')
        deep = 'x'
        for _ in range(40):
            deep = {'Fn::Join': ['', [deep]]}
        self.refused(tpl({'ThingName': deep}), contains='nested more than')

    def test_bad_documents(self):
        self.refused('{', contains='not a valid JSON')
        self.refused('[]', contains='must be a JSON object')
        self.refused(json.dumps({'Resources': {}}), contains='at least one resource')
        self.refused(json.dumps({'Resources': {'cert': CERT}, 'Outputs': {}}), contains='Unsupported template section')
        thing_only = {'t': {'Type': 'AWS::IoT::Thing', 'Properties': {'ThingName': 'x'}}}
        self.refused(json.dumps({'Parameters': BASE_PARAMS, 'Resources': thing_only}),
                     contains='must declare one AWS::IoT::Certificate')


class Resources(unittest.TestCase):
    def refused(self, text, given=None, contains=''):
        with self.assertRaises(pt.ProvError) as cm:
            pt.render(text, given or {}, CID)
        self.assertIn(contains, cm.exception.message)

    def test_thing_properties(self):
        r = pt.render(tpl({'ThingName': 'n1', 'AttributePayload': {'serial': '42'}, 'ThingTypeName': 'T',
                           'ThingGroups': ['g1', 'g1', 'g2']}), {}, CID)
        self.assertEqual((r.thing['AttributePayload'], r.thing['ThingTypeName'], r.thing['ThingGroups']),
                         ({'serial': '42'}, 'T', ['g1', 'g2']))
        self.refused(tpl({'ThingName': '<THING_NAME>'}), contains='[a-zA-Z0-9:_-]+')
        self.refused(tpl({'ThingName': 'x' * 129}), contains='ThingName')
        self.refused(tpl({'ThingName': 'n', 'AttributePayload': {'a': 1}}), contains='Attribute "a"')
        self.refused(tpl({'ThingName': 'n', 'ThingGroups': 'g1'}), contains='ThingGroups must be a list')
        self.refused(tpl({'ThingName': 'n', 'BillingGroup': 'b'}), contains='billing groups')
        self.refused(tpl({'ThingName': 'n', 'Color': 'red'}), contains='unsupported property: Color')

    def test_override_settings_are_checked(self):
        doc = json.loads(tpl({'ThingName': 'n'}))
        doc['Resources']['thing']['OverrideSettings'] = {'ThingTypeName': 'MERGE'}
        self.refused(json.dumps(doc), contains='ThingTypeName must be one of DO_NOTHING, REPLACE, FAIL')
        doc['Resources']['thing']['OverrideSettings'] = {'THING_GROUPS': 'MERGE', 'AttributePayload': 'FAIL'}
        self.assertEqual(pt.render(json.dumps(doc), {}, CID).thing['overrides'],
                         {'ThingGroups': 'MERGE', 'AttributePayload': 'FAIL'})

    def test_certificate_and_policy_resources(self):
        doc = json.loads(tpl())
        doc['Resources']['cert']['Properties']['Status'] = 'Revoked'
        self.refused(json.dumps(doc), contains='ACTIVE or INACTIVE')
        doc['Resources']['cert']['Properties'] = {'CertificateSigningRequest': 'x'}
        self.refused(json.dumps(doc), contains='only CertificateId')
        doc = json.loads(tpl())
        doc['Resources']['p'] = {'Type': 'AWS::IoT::Policy', 'Properties': {'PolicyName': 'a', 'PolicyDocument': '{}'}}
        self.refused(json.dumps(doc), contains='not both')
        doc['Resources']['p'] = {'Type': 'AWS::IoT::Policy', 'Properties': {'PolicyDocument': {'Version': '1'}}}
        self.assertEqual(pt.render(json.dumps(doc), {}, CID).policies[0]['PolicyDocument'], '{"Version":"1"}')
        doc['Resources']['p']['OverrideSettings'] = {}
        self.refused(json.dumps(doc), contains='not available for policy')
        doc['Resources']['p'] = {'Type': 'AWS::IoT::Gizmo'}
        self.refused(json.dumps(doc), contains='unsupported Type')

    def test_device_configuration(self):
        r = pt.render(tpl({'ThingName': 'x'}, {'N': S}, DeviceConfiguration={'Id': {'Ref': 'N'}, 'Port': 8883}),
                      {'N': 'v'}, CID)
        self.assertEqual(r.device_configuration, {'Id': 'v', 'Port': 8883})
        self.refused(tpl({'ThingName': 'x'}, DeviceConfiguration={'Nested': {'a': 'b'}}), contains='nested objects')
        big = {'Big': {'Fn::Join': ['', [{'Ref': 'P'}] * 40]}}
        self.refused(tpl({'ThingName': 'x'}, {'P': S}, DeviceConfiguration=big), {'P': 'v' * 4096},
                     contains='exceeds 129024 bytes')


if __name__ == '__main__':
    unittest.main()
