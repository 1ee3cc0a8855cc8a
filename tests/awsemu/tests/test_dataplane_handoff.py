"""The hand-off of reserved fleet provisioning topics to the provisioning module (fleetprov), through a
test double registered by handoff_double.py: the publish is authorized first, the handler sees the
connection, and its answers reach that connection alone, only through a subscription it may receive."""

import json
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpharness as d  # noqa: E402
from dpharness import ARN, allow, deny, policy  # noqa: E402

CREATE = '$aws/certificates/create/json'
PROVISION = '$aws/provisioning-templates/Tpl/provision/json'


class HandOff(d.DataPlaneCase):
    RUN_COST_S = 15
    EMU_SCRIPT = os.path.join(d.HERE, 'handoff_double.py')
    CLAIM = policy(allow('iot:Connect', '*'),
                   allow(['iot:Publish', 'iot:Receive'], ARN + 'topic/$aws/certificates/create/*'),
                   allow('iot:Subscribe', ARN + 'topicfilter/$aws/certificates/create/*'),
                   allow(['iot:Publish', 'iot:Receive'], ARN + 'topic/$aws/provisioning-templates/*'),
                   allow('iot:Subscribe', ARN + 'topicfilter/$aws/provisioning-templates/*'))

    def test_answer_goes_to_the_requesting_connection_only(self):
        claim = self.emu.device(self.CLAIM)
        a, b = self.mqtt(claim, 'dev-a', v5=True), self.mqtt(claim, 'dev-b')
        for c in (a, b):
            self.assertEqual(c.subscribe(CREATE + '/+'), [1])
        self.assertTrue(a.publish(CREATE, b'{}'))
        topic, payload, _ = a.message()
        self.assertEqual(topic, CREATE + '/accepted')
        seen = json.loads(payload)
        self.assertEqual((seen['clientId'], seen['certificateId'], seen['protocolLevel'], seen['thingName']),
                         ('dev-a', claim.cert_id, 5, None))
        self.assertEqual(seen['certPem'], '-----BEGIN CERTIFICATE-----')
        self.assertTrue(seen['remote'].startswith(('127.0.0.1:', '[::1]:')))
        self.assertIsNone(b.message(0.3))  # answers carry private keys: never to other subscribers
        self.assertEqual(b.subscribe(PROVISION + '/+'), [1])
        b.publish(PROVISION, b'reject')
        self.assertEqual(b.message()[0], PROVISION + '/rejected')
        ev = self.emu.wait_events(type='publish-reserved', clientId='dev-a')[0]
        self.assertEqual((ev['topic'], ev['handler'], ev['bytes']), (CREATE, 'fleetprov-double', 2))

    def test_answer_is_dropped_without_a_subscription_or_iot_receive(self):
        claim = self.emu.device(self.CLAIM)
        c = self.mqtt(claim, 'no-sub')
        c.publish(CREATE, b'{}')
        drop = self.emu.wait_events(type='drop', clientId='no-sub')[0]
        self.assertEqual((drop['topic'], drop['reason']),
                         (CREATE + '/accepted', 'the client does not subscribe to this topic'))
        blind = self.emu.device(policy(allow(['iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive'], '*'),
                                       deny('iot:Receive', ARN + 'topic/$aws/certificates/create/json/accepted')))
        c = self.mqtt(blind, 'no-receive')
        c.subscribe(CREATE + '/accepted')
        c.publish(CREATE, b'{}')
        self.assertIsNone(c.message(0.3))
        drop = self.emu.wait_events(type='drop', clientId='no-receive')[0]
        self.assertIn('iot:Receive refused', drop['reason'])

    def test_the_publish_is_authorized_before_the_hand_off(self):
        dev = self.emu.device(policy(allow(['iot:Connect', 'iot:Subscribe', 'iot:Receive'], '*')))
        r = d.Raw(self.emu, dev)
        self.clients.append(r)
        r.send(d.connect_packet('unauthorized-claim', level=5))
        self.assertEqual(r.packet()[0], 2)
        r.send(d.publish_packet(CREATE, b'{}', qos=1, pid=9, level=5))
        ptype, _, body = r.packet()
        self.assertEqual((ptype, body[:3]), (4, b'\x00\x09\x87'))
        self.assertEqual(self.emu.events(type='publish-reserved'), [])

    def test_the_handler_sees_the_thing_and_a_failing_handler_is_recorded(self):
        thing = 'thing-%s' % uuid.uuid4().hex[:6]
        dev = self.emu.device(self.CLAIM, thing=thing)
        c = self.mqtt(dev, thing)
        c.subscribe(CREATE + '/accepted')
        c.publish(CREATE, b'crash')
        err = self.emu.wait_events(type='handler-error', clientId=thing)[0]
        self.assertIn('the double was asked to crash', err['reason'])
        c.publish(CREATE, b'slow')   # the connection carries on; answers keep the order of the requests
        c.publish(CREATE, b'fast')
        first, second = json.loads(c.message()[1]), json.loads(c.message()[1])
        self.assertEqual((first['payload'], second['payload'], first['thingName']), ('slow', 'fast', thing))

    def test_requests_waiting_for_the_handler_are_bounded(self):
        r = d.Raw(self.emu, self.emu.device(self.CLAIM))
        self.clients.append(r)
        r.send(d.connect_packet('flooder', level=5))
        self.assertEqual(r.packet()[0], 2)
        r.send(b''.join(d.publish_packet(CREATE, b'slow', level=5) for _ in range(102)))
        r.send(d.publish_packet(CREATE, b'one more', qos=1, pid=5, level=5))
        ptype, _, body = r.packet()
        self.assertEqual((ptype, body[:3]), (4, b'\x00\x05\x97'))  # MQTT 5 PUBACK: Quota exceeded
        self.assertIn('requests waiting', self.emu.wait_events(type='publish-refused', clientId='flooder')[0]['reason'])

    def test_reserved_topics_nobody_emulates_are_dropped(self):
        c = self.mqtt(self.emu.device(d.ALL), 'shadow-user')
        c.subscribe('$aws/things/x/shadow/update/accepted')
        c.publish('$aws/things/x/shadow/update', b'{}')
        drop = self.emu.wait_events(type='drop', clientId='shadow-user')[0]
        self.assertIn('not emulated', drop['reason'])
        self.assertIsNone(c.message(0.3))


if __name__ == '__main__':
    unittest.main()
