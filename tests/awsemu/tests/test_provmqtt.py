"""Fleet provisioning end to end over MQTT (the emulator's broker, paho-mqtt as the device, 3.1.1 and 5):
claim certificate -> CreateKeysAndCertificate or CreateCertificateFromCsr -> RegisterThing -> the thing is in
its group with an ACTIVE certificate carrying the thing policy, and that certificate connects."""

import json
import os
import sys
import types
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cbor2  # noqa: E402
import dpharness as dp  # noqa: E402
import provharness as ph  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

TEMPLATE = 'GreengrassFleet'
PREFIX = dp.ARN


def claim_policy(template, csr=True):
    """The claim policy fleetwarden writes (jobs/handlers/policies.c): connect, the provisioning topics."""
    topics = ['$aws/certificates/create/*', '$aws/provisioning-templates/%s/provision/*' % template]
    if csr:
        topics.append('$aws/certificates/create-from-csr/*')
    return dp.policy(dp.allow(['iot:Connect'], '*'),
                     dp.allow(['iot:Publish', 'iot:Receive'], [PREFIX + 'topic/' + t for t in topics]),
                     dp.allow(['iot:Subscribe'], [PREFIX + 'topicfilter/' + t for t in topics]))


THING = '${iot:Connection.Thing.ThingName}'
THING_POLICY = dp.policy(dp.allow(['iot:Connect'], PREFIX + 'client/' + THING),
                         dp.allow(['iot:Publish', 'iot:Receive'], PREFIX + 'topic/things/%s/*' % THING),
                         dp.allow(['iot:Subscribe'], PREFIX + 'topicfilter/things/%s/*' % THING))

BODY = ph.greengrass_body(DeviceConfiguration={'Group': {'Ref': 'ThingGroupName'}})


class ProvisioningOverMqtt(dp.DataPlaneCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.emu.client('iam')
        role = iam.create_role(RoleName='GreengrassFleetProvisioningRole',
                               AssumeRolePolicyDocument=dp.h.TRUST_IOT)['Role']['Arn']
        iam.attach_role_policy(RoleName='GreengrassFleetProvisioningRole', PolicyArn=ph.REGISTRATION)
        cls.emu.iot.create_thing_group(thingGroupName='Fleet')
        cls.emu.iot.create_policy(policyName='GreengrassV2IoTThingPolicy', policyDocument=THING_POLICY)
        for name, enabled in ((TEMPLATE, True), ('Disabled', False)):
            cls.emu.iot.create_provisioning_template(templateName=name, templateBody=BODY, provisioningRoleArn=role,
                                                     enabled=enabled)
        cls.claim = cls.emu.device(claim_policy(TEMPLATE))

    def request(self, client, topic, payload, fmt):
        """Publishes one request, returns (answer topic, decoded answer) from the subscriptions."""
        data = payload if isinstance(payload, bytes) else (cbor2.dumps(payload) if fmt == 'cbor'
                                                           else json.dumps(payload).encode())
        self.assertTrue(client.publish(topic, data, qos=1))
        msg = client.message(timeout=15)
        self.assertIsNotNone(msg, 'no answer to %s' % topic)
        t, raw, _ = msg
        return t, (cbor2.loads(raw) if fmt == 'cbor' else json.loads(raw))

    def subscribe_all(self, client, fmt, template=TEMPLATE):
        for base in ('$aws/certificates/create/', '$aws/certificates/create-from-csr/',
                     '$aws/provisioning-templates/%s/provision/' % template):
            for end in ('accepted', 'rejected'):
                self.assertEqual(client.subscribe(base + fmt + '/' + end), [1])

    def provision(self, v5, fmt, csr):
        client = self.mqtt(self.claim, client_id='claim-' + uuid.uuid4().hex[:8], v5=v5)
        self.subscribe_all(client, fmt)
        if csr:
            key, pem = ph.csr_pem()
            t, ans = self.request(client, '$aws/certificates/create-from-csr/' + fmt,
                                  {'certificateSigningRequest': pem}, fmt)
            key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
        else:
            t, ans = self.request(client, '$aws/certificates/create/' + fmt, b'' if fmt == 'json' else b'\xa0', fmt)
            key_pem = ans.get('privateKey')
        self.assertEqual(t, ('$aws/certificates/create-from-csr/' if csr else '$aws/certificates/create/')
                         + fmt + '/accepted', ans)
        thing = 'core-%s' % uuid.uuid4().hex[:10]
        t, out = self.request(client, '$aws/provisioning-templates/%s/provision/%s' % (TEMPLATE, fmt),
                              {'certificateOwnershipToken': ans['certificateOwnershipToken'],
                               'parameters': {'ThingName': thing, 'ThingGroupName': 'Fleet'}}, fmt)
        self.assertEqual((t, out), ('$aws/provisioning-templates/%s/provision/%s/accepted' % (TEMPLATE, fmt),
                                    {'deviceConfiguration': {'Group': 'Fleet'}, 'thingName': thing}))
        client.close()
        self.check_registered(thing, ans, key_pem, v5)

    def check_registered(self, thing, ans, key_pem, v5):
        iot = self.emu.iot
        cert = iot.describe_certificate(certificateId=ans['certificateId'])['certificateDescription']
        self.assertEqual(cert['status'], 'ACTIVE')
        self.assertEqual(iot.list_thing_principals(thingName=thing)['principals'], [cert['certificateArn']])
        self.assertEqual([g['groupName'] for g in iot.list_thing_groups_for_thing(thingName=thing)['thingGroups']],
                         ['Fleet'])
        self.assertIn(thing, iot.list_things_in_thing_group(thingGroupName='Fleet')['things'])
        policies = iot.list_attached_policies(target=cert['certificateArn'])['policies']
        self.assertEqual([p['policyName'] for p in policies], ['GreengrassV2IoTThingPolicy'])
        # the new certificate connects as the thing (the thing policy allows client/<thing name> only)
        files = types.SimpleNamespace(certfile=os.path.join(self.emu.tmp, thing + '-cert.pem'),
                                      keyfile=os.path.join(self.emu.tmp, thing + '-key.pem'))
        for path, text in ((files.certfile, ans['certificatePem']), (files.keyfile, key_pem)):
            with open(path, 'w') as f:
                f.write(text)
        device = self.mqtt(files, client_id=thing, v5=v5)
        self.assertEqual(device.subscribe('things/%s/in' % thing), [1])

    def test_keys_and_certificate_mqtt311_json(self):
        self.provision(v5=False, fmt='json', csr=False)

    def test_csr_mqtt5_cbor(self):
        self.provision(v5=True, fmt='cbor', csr=True)

    def test_csr_mqtt311_json_and_keys_mqtt5_cbor(self):
        self.provision(v5=False, fmt='json', csr=True)
        self.provision(v5=True, fmt='cbor', csr=False)

    def test_refusals_reach_the_device(self):
        client = self.mqtt(self.claim, v5=True)
        claim2 = self.emu.device(claim_policy('Disabled'))
        other = self.mqtt(claim2, v5=False)
        self.subscribe_all(other, 'json', template='Disabled')
        key, pem = ph.csr_pem()
        t, ans = self.request(other, '$aws/certificates/create-from-csr/json', {'certificateSigningRequest': pem},
                              'json')
        t, out = self.request(other, '$aws/provisioning-templates/Disabled/provision/json',
                              {'certificateOwnershipToken': ans['certificateOwnershipToken'],
                               'parameters': {'ThingName': 'never', 'ThingGroupName': 'Fleet'}}, 'json')
        self.assertEqual((t, out), ('$aws/provisioning-templates/Disabled/provision/json/rejected',
                                    {'statusCode': 400, 'errorCode': 'InvalidRequest',
                                     'errorMessage': 'The provisioning template Disabled is disabled.'}))
        # the token is bound to the claim that asked for it: another claim cannot use it
        self.subscribe_all(client, 'json')
        t, out = self.request(client, '$aws/provisioning-templates/%s/provision/json' % TEMPLATE,
                              {'certificateOwnershipToken': ans['certificateOwnershipToken'],
                               'parameters': {'ThingName': 'stolen', 'ThingGroupName': 'Fleet'}}, 'json')
        self.assertEqual(out['errorCode'], 'InvalidCertificateOwnershipToken')
        # a PENDING_ACTIVATION certificate cannot connect
        path = os.path.join(self.emu.tmp, 'pending')
        with open(path + '-cert.pem', 'w') as f:
            f.write(ans['certificatePem'])
        with open(path + '-key.pem', 'w') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode())
        pending = self.mqtt(types.SimpleNamespace(certfile=path + '-cert.pem', keyfile=path + '-key.pem'),
                            connect=False)
        self.assertNotEqual(pending.connect(), 0)
        calls = self.emu.control('GET', 'dataplane/provisioning?api=RegisterThing')[1]['calls']
        self.assertEqual([c['errorCode'] for c in calls[-2:]], ['InvalidRequest', 'InvalidCertificateOwnershipToken'])


if __name__ == '__main__':
    import unittest
    unittest.main()
