#!/usr/bin/python3
"""Runs awsemu with a test double for the fleet provisioning hand-off registered in front of fleetprov.

For test_dataplane_handoff only: the double answers on <topic>/accepted (or /rejected for the payload
b'reject') with what the broker told it about the connection, and raises for b'crash'. The emulator's
own code knows nothing of it (broker.RESERVED_HANDLERS is filled here, before main())."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import awsemu  # noqa: E402
import broker  # noqa: E402


class FleetProvisioningDouble:
    __name__ = 'fleetprov-double'

    def handles(self, topic):
        return topic.startswith(('$aws/certificates/create/', '$aws/provisioning-templates/'))

    def handle(self, emu, conn, topic, payload):
        if payload == b'crash':
            raise RuntimeError('the double was asked to crash')
        if payload == b'slow':
            time.sleep(0.5)
        seen = {'clientId': conn.client_id, 'certificateId': conn.cert_id, 'thingName': conn.thing_name,
                'protocolLevel': conn.protocol_level, 'remote': conn.remote,
                'certPem': conn.cert_pem.splitlines()[0], 'payload': payload.decode(errors='replace')}
        return [(topic + ('/rejected' if payload == b'reject' else '/accepted'), json.dumps(seen).encode())]


broker.RESERVED_HANDLERS.append(FleetProvisioningDouble())

if __name__ == '__main__':
    awsemu.main()
