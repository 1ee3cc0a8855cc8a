'use strict';
/*
 * connection.js - one MQTT connection of a device over TLS with its certificate and key (in
 * memory), built with the SDK's own AWS IoT builders, MQTT 3.1.1 (mqtt.MqttClientConnection) or
 * MQTT 5 (mqtt5.Mqtt5Client). Both give the SDK's fleet provisioning client
 * (iotidentity.IotIdentityClient, as the Greengrass plugin uses it) and fail the same way: a
 * StepError with the code and message the SDK reported (MQTT 5: the CONNACK's reason code and
 * reason string; MQTT 3.1.1: the CRT error, since AWS closes the connection without a CONNACK).
 *
 * A connection lost while a step waits (AWS disconnects a 3.1.1 client that publishes where it
 * may not) fails that step at once instead of letting it wait out its timeout.
 */
const { iot, mqtt, mqtt5, iotidentity } = require('aws-iot-device-sdk-v2');

class StepError extends Error {
  constructor(code, message, extra) {
    super(message);
    this.code = code;
    this.extra = extra || {};
  }
}

function crtError(e, fallback) {
  if (e instanceof StepError) return e;
  const msg = (e && (e.message || e.error_message)) || String(e);
  // The CRT names its error (AWS_IO_SOCKET_CLOSED, AWS_ERROR_MQTT_...) in the message when the
  // error object does not carry the name itself.
  const named = /\b(AWS_[A-Z0-9_]+)\b/.exec(msg);
  const name = (e && e.error_name) || (named && named[1]) || fallback;
  return new StepError(name, msg, e && e.error_code !== undefined ? { crtErrorCode: e.error_code } : {});
}

const PING_TIMEOUT_MS = 30000;
let s_client311 = null; // one CRT client (event loop, bootstrap) for every 3.1.1 connection

class Connection {
  constructor(opts) {
    this.opts = opts; // {host, port, clientId, certPem, keyPem, caPem, protocol: "311"|"5", timeoutMs}
    this.lost = null;
    this.lostWaiters = [];
  }

  _lose(err) {
    if (this.lost) return;
    this.lost = err;
    for (const reject of this.lostWaiters) reject(err);
    this.lostWaiters = [];
  }

  /* Races p against the connection being lost. */
  guard(p) {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      this.lostWaiters.push(reject);
      p.then(resolve, reject);
    });
  }

  async connect() {
    return this.opts.protocol === '5' ? this._connect5() : this._connect311();
  }

  async _connect311() {
    const o = this.opts;
    const cfg = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(o.certPem, o.keyPem)
      .with_certificate_authority(o.caPem)
      .with_endpoint(o.host)
      .with_port(o.port)
      .with_client_id(o.clientId)
      .with_clean_session(true)
      .with_keep_alive_seconds(60)
      .with_ping_timeout_ms(PING_TIMEOUT_MS) // the CRT requires it below the keep-alive
      .with_protocol_operation_timeout_ms(o.timeoutMs)
      .with_reconnect_min_sec(60)
      .with_reconnect_max_sec(60)
      .build();
    if (!s_client311) s_client311 = new mqtt.MqttClient();
    this.conn311 = s_client311.new_connection(cfg);
    this.conn311.on('interrupt', (e) => this._lose(crtError(e, 'CONNECTION_INTERRUPTED')));
    this.conn311.on('error', (e) => this._lose(crtError(e, 'CONNECTION_ERROR')));
    try {
      await this.conn311.connect();
    } catch (e) {
      throw crtError(e, 'CONNECT_FAILED');
    }
    this.identity = new iotidentity.IotIdentityClient(this.conn311);
  }

  async _connect5() {
    const o = this.opts;
    const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory(o.host, o.certPem, o.keyPem)
      .withCertificateAuthority(o.caPem)
      .withPort(o.port)
      .withConnectProperties({ clientId: o.clientId, keepAliveIntervalSeconds: 60 })
      .withSessionBehavior(mqtt5.ClientSessionBehavior.Clean)
      .withConnackTimeoutMs(o.timeoutMs)
      .withPingTimeoutMs(PING_TIMEOUT_MS)
      .withAckTimeoutSeconds(Math.ceil(o.timeoutMs / 1000))
      .withMinReconnectDelayMs(60000)
      .withMaxReconnectDelayMs(60000);
    this.client5 = new mqtt5.Mqtt5Client(builder.build());
    const done = new Promise((resolve, reject) => {
      this.client5.on('connectionSuccess', () => resolve());
      this.client5.on('connectionFailure', (ev) => reject(connackError(ev)));
    });
    this.client5.on('disconnection', (ev) => this._lose(disconnectError(ev)));
    this.client5.start();
    try {
      await withTimeout(done, o.timeoutMs + 1000, 'CONNACK');
    } catch (e) {
      await this.close();
      throw e;
    }
    this.identity = iotidentity.IotIdentityClient.newFromMqtt5Client(this.client5);
  }

  async close() {
    try {
      if (this.conn311) {
        const c = this.conn311;
        this.conn311 = null;
        await withTimeout(c.disconnect(), 5000, 'DISCONNECT').catch(() => {});
        c.close();
      }
      if (this.client5) {
        const c = this.client5;
        this.client5 = null;
        const stopped = new Promise((resolve) => c.on('stopped', resolve));
        c.stop();
        await withTimeout(stopped, 5000, 'stop').catch(() => {});
        c.close();
      }
    } catch (e) {
      // closing what is already gone is not a device's failure
    }
  }
}

function connackError(ev) {
  const ack = ev && ev.connack;
  if (ack && ack.reasonCode !== undefined) {
    return new StepError(`CONNACK 0x${ack.reasonCode.toString(16)}`, ack.reasonString || (ev.error && ev.error.message) || '',
      { reasonCode: ack.reasonCode });
  }
  return crtError(ev && ev.error, 'CONNECT_FAILED');
}

function disconnectError(ev) {
  const d = ev && ev.disconnect;
  if (d && d.reasonCode !== undefined) {
    return new StepError(`DISCONNECT 0x${d.reasonCode.toString(16)}`, d.reasonString || 'disconnected by the server',
      { reasonCode: d.reasonCode });
  }
  return crtError(ev && ev.error, 'CONNECTION_LOST');
}

function withTimeout(p, ms, what) {
  let t;
  const timer = new Promise((_, reject) => {
    t = setTimeout(() => reject(new StepError('TIMEOUT', `no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

module.exports = { Connection, StepError, crtError, withTimeout, QOS1: mqtt.QoS.AtLeastOnce };
