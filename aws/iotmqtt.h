/*
 * iotmqtt.h - one MQTT connection to AWS IoT Core's data endpoint, made
 * as a device makes it: MQTT 5 over TLS with the device's certificate and
 * private key held in memory only.
 *
 * The TLS context is our own OpenSSL SSL_CTX, handed to libmosquitto
 * (MOSQ_OPT_SSL_CTX without libmosquitto's defaults): the certificate and
 * key are parsed from the PEM text the caller holds into OpenSSL objects,
 * never written to a file; the peer is verified against ca_file with the
 * endpoint's host name; SNI names the host; ALPN "x-amzn-mqtt-ca" is
 * offered when asked (AWS IoT needs it for MQTT on port 443).
 *
 * Synchronous: every call drives the connection until its answer comes or
 * timeout_ms passes. Not thread-safe: one connection belongs to one
 * thread; different threads may hold connections of their own. The only
 * file that includes mosquitto.h is iotmqtt.c.
 *
 * Failures fill struct aws_api_error (aws/awserr.h) with our codes
 * (aws/dataplane.h): ConnectionError / ClientTimeout (no answer, transient),
 * TLSError, MqttConnectRefused, MqttSubscribeRefused, MqttPublishRefused,
 * MqttDisconnected, MqttNoAnswer, and the MQTT 5 reason code and reason
 * string the broker sent in the message.
 */
#ifndef FW_AWS_IOTMQTT_H
#define FW_AWS_IOTMQTT_H

#include <stddef.h>

#include "aws/awserr.h"
#include "service/core/buf.h"

#define IOTMQTT_ALPN "x-amzn-mqtt-ca"
#define IOTMQTT_CLIENT_ID_MAX 128         /* AWS IoT's client id limit in bytes */
#define IOTMQTT_MAX_PAYLOAD (128u * 1024) /* AWS IoT's largest message */
#define IOTMQTT_DEFAULT_TIMEOUT_MS 10000L

struct iotmqtt;

struct iotmqtt_options {
    const char *host;      /* the data endpoint: SNI and the name checked in its certificate */
    const char *address;   /* the numeric address host resolved to and the caller checked
                            * (netresolve.h): the connection goes there; NULL = resolve host */
    int port;              /* 8883, or 443 with alpn */
    int alpn;              /* 1: offer ALPN IOTMQTT_ALPN */
    const char *ca_file;   /* PEM trust anchors (Amazon Root CA 1) */
    const char *cert_pem;  /* the client certificate (PEM) */
    const char *key_pem;   /* its private key (PEM); read into OpenSSL only */
    const char *client_id; /* 1..IOTMQTT_CLIENT_ID_MAX bytes */
    int keepalive_s;       /* 0 = 60 */
    long timeout_ms;       /* per call: connect, subscribe, publish, wait; 0 = default */
};

/* Connects and waits for the CONNACK. 0 with *out set, or a negative FW_E*
 * with err filled: FW_EINVAL (bad options or PEM), FW_EUNAVAILABLE /
 * FW_ETIMEOUT (no answer), FW_EAWS (TLS failure or refused). */
int iotmqtt_connect(const struct iotmqtt_options *o, struct iotmqtt **out,
                    struct aws_api_error *err);

/* Subscribes to n filters (at most 8, QoS 1) and waits for the SUBACK;
 * any refused filter fails the call (err names it, *refused its index). */
int iotmqtt_subscribe(struct iotmqtt *m, const char *const *filters, size_t n, size_t *refused,
                      struct aws_api_error *err);

/* Names the topics whose next message iotmqtt_wait returns; messages on
 * them that arrive before the wait are kept (the first one only). */
void iotmqtt_expect(struct iotmqtt *m, const char *const *topics, size_t n);

/* Publishes payload with QoS 1 and waits for the PUBACK (a refusal is an
 * error: MQTT 5 PUBACK reason >= 0x80, or the broker closing). */
int iotmqtt_publish(struct iotmqtt *m, const char *topic, const void *payload, size_t len,
                    struct aws_api_error *err);

/* Waits for a message on the expected topics: *which = its index,
 * payload gets a copy (the caller wipes it: buf_free_secure). */
int iotmqtt_wait(struct iotmqtt *m, size_t *which, struct buf *payload, struct aws_api_error *err);

/* Sends DISCONNECT when still connected and frees everything (NULL: no-op). */
void iotmqtt_close(struct iotmqtt *m);

/* The broker's address as connected ("host:port") and what TLS settled on,
 * for the verification's report ("" before a connection). */
const char *iotmqtt_peer(const struct iotmqtt *m);
const char *iotmqtt_alpn_used(const struct iotmqtt *m);

#endif
