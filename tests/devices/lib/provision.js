'use strict';
/*
 * provision.js - the fleet provisioning MQTT API through the SDK's IotIdentityClient, the way
 * Greengrass's plugin (IotIdentityHelper) calls it: subscribe to the operation's accepted and
 * rejected topics, publish the request, wait for one of the answers. A rejected answer becomes a
 * StepError carrying AWS's statusCode, errorCode and errorMessage as the SDK parsed them; a
 * subscription or publish AWS refused (SUBACK 0x80, PUBACK reason code, or the connection closed)
 * fails the step with what the SDK reported. opts: {timeoutMs, retryThrottled, stats}.
 */
const { StepError, crtError, withTimeout, QOS1 } = require('./connection');

function subscribed(result, topic) {
  // MQTT 3.1.1: a refused filter comes back with granted QoS 0x80 (MQTT 5 rejects the promise).
  if (result && (result.qos === 128 || result.error_code)) {
    throw new StepError('SUBACK_FAILURE', `subscription to ${topic} refused`, { qos: result.qos });
  }
}

/*
 * One request/answer of the API, asked again (after 0.2, 0.4, 0.8 s ... with jitter) while AWS
 * answers Throttling and retries are left, as AWS's guidance for throttled calls says; the
 * number of throttled answers is kept in stats.throttled.
 */
async function callRetrying(conn, what, ops, opts) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(conn, what, ops, opts.timeoutMs);
    } catch (e) {
      if (!(e instanceof StepError) || e.code !== 'Throttling' || attempt >= (opts.retryThrottled || 0)) throw e;
      opts.stats.throttled = (opts.stats.throttled || 0) + 1;
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000) * (0.5 + Math.random())));
    }
  }
}

/*
 * One request/answer of the API. ops: {acceptedSub, rejectedSub, publish} (functions of the
 * identity client bound to their request objects); what: the operation's name for messages.
 */
async function call(conn, what, ops, timeoutMs) {
  let settle;
  const answer = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  answer.catch(() => {}); // the answer may come before the PUBACK: it is awaited below, not lost
  const onAccepted = (err, resp) => (err ? settle.reject(crtError(err, 'BAD_ANSWER')) : settle.resolve(resp));
  const onRejected = (err, resp) => {
    if (err) return settle.reject(crtError(err, 'BAD_ANSWER'));
    const r = resp || {};
    return settle.reject(new StepError(r.errorCode || 'Rejected', r.errorMessage || '', { statusCode: r.statusCode }));
  };
  const step = async () => {
    try {
      subscribed(await ops.acceptedSub(QOS1, onAccepted), `${what} accepted`);
      subscribed(await ops.rejectedSub(QOS1, onRejected), `${what} rejected`);
      await ops.publish(QOS1);
    } catch (e) {
      throw crtError(e, 'MQTT_ERROR');
    }
    return answer;
  };
  return withTimeout(conn.guard(step()), timeoutMs, `answer to ${what}`);
}

function createKeysAndCertificate(conn, opts) {
  const id = conn.identity;
  return callRetrying(conn, 'CreateKeysAndCertificate', {
    acceptedSub: (q, h) => id.subscribeToCreateKeysAndCertificateAccepted({}, q, h),
    rejectedSub: (q, h) => id.subscribeToCreateKeysAndCertificateRejected({}, q, h),
    publish: (q) => id.publishCreateKeysAndCertificate({}, q),
  }, opts);
}

function createCertificateFromCsr(conn, csrPem, opts) {
  const id = conn.identity;
  return callRetrying(conn, 'CreateCertificateFromCsr', {
    acceptedSub: (q, h) => id.subscribeToCreateCertificateFromCsrAccepted({}, q, h),
    rejectedSub: (q, h) => id.subscribeToCreateCertificateFromCsrRejected({}, q, h),
    publish: (q) => id.publishCreateCertificateFromCsr({ certificateSigningRequest: csrPem }, q),
  }, opts);
}

function registerThing(conn, templateName, token, parameters, opts) {
  const id = conn.identity;
  return callRetrying(conn, 'RegisterThing', {
    acceptedSub: (q, h) => id.subscribeToRegisterThingAccepted({ templateName }, q, h),
    rejectedSub: (q, h) => id.subscribeToRegisterThingRejected({ templateName }, q, h),
    publish: (q) => id.publishRegisterThing({ templateName, certificateOwnershipToken: token, parameters }, q),
  }, opts);
}

module.exports = { createKeysAndCertificate, createCertificateFromCsr, registerThing };
