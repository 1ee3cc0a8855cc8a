/*
 * dataplane.h - the pure rules of talking to AWS IoT's data plane as a
 * device: which endpoint hosts may be dialled, when ALPN is offered, what
 * an MQTT 5 reason code means as an error, and the hint that names the
 * resource to fix when a step of a fleet verification fails.
 *
 * No I/O, no allocation beyond the caller's buffers; thread-safe;
 * unit-tested in tests/unit/aws_dataplane.
 */
#ifndef FW_AWS_DATAPLANE_H
#define FW_AWS_DATAPLANE_H

#include <stddef.h>

#include "aws/awserr.h"

/* Our own error codes for what the data plane did (aws_api_error.code). */
#define DP_ERR_CONNECT_REFUSED "MqttConnectRefused"
#define DP_ERR_SUBSCRIBE_REFUSED "MqttSubscribeRefused"
#define DP_ERR_PUBLISH_REFUSED "MqttPublishRefused"
#define DP_ERR_DISCONNECTED "MqttDisconnected"
#define DP_ERR_NO_ANSWER "MqttNoAnswer"
#define DP_ERR_BAD_ANSWER "MalformedResponse"

#define DP_HOST_MAX 253

/*
 * 0 when host may be dialled as an IoT endpoint of region: an AWS name
 * (PREFIX-ats.iot.REGION.amazonaws.com, PREFIX.iot.REGION.amazonaws.com,
 * PREFIX.credentials.iot.REGION.amazonaws.com, and the .amazonaws.com.cn
 * names of the China regions), or a name listed in allow (comma-separated,
 * FLEETWARDEN_IOT_ENDPOINT_HOSTS, e.g. "localhost" for the emulator).
 * Anything else, any character outside [A-Za-z0-9.-], or over 253
 * characters: FW_EINVAL with why.
 */
int dataplane_endpoint_ok(const char *host, const char *region, const char *allow, char *why,
                          size_t whylen);

/* 1 when ALPN x-amzn-mqtt-ca is offered: mode "on", or "auto" (NULL, "")
 * on port 443 where AWS needs it; "off" never. -1 for an unknown mode. */
int dataplane_alpn_wanted(int port, const char *mode);

/* 1 when an IoT policy document lets a device use only
 * CreateCertificateFromCsr: it names the certificates/create-from-csr
 * topics and nothing that covers certificates/create/ (the topic itself,
 * certificates/create-star, certificates/star). */
int dataplane_claim_policy_csr_only(const char *policy_document);

/* The MQTT 5 reason code's name ("Not authorized" for 0x87), or
 * "reason 0xNN" in buf for codes without one. */
const char *dataplane_reason_name(int code, char *buf, size_t buflen);

/*
 * Fills e for a refusal of the broker: code (one of DP_ERR_*), the
 * operation ("iot:Connect"), the reason code and string in the message,
 * and the class: Not authorized / Banned / Bad user name or password ->
 * access; Server busy / Quota exceeded / Connection rate exceeded ->
 * throttling; Server unavailable -> transient; others -> validation.
 * reason_code < 0: the broker closed the connection without one.
 */
void dataplane_mqtt_error(struct aws_api_error *e, const char *code, const char *operation,
                          int reason_code, const char *reason_string, const char *detail);

/* ---- hints: what to fix when a verification step fails ---- */

/* The verification steps (the job's step list, in order). */
enum dp_step {
    DP_STEP_CLAIM = 1,   /* the claim certificate to provision with */
    DP_STEP_CERTIFICATE, /* MQTT with the claim, CreateKeysAndCertificate / CreateCertificateFromCsr
                          */
    DP_STEP_REGISTER,    /* RegisterThing through the fleet's template */
    DP_STEP_THING_CONNECT, /* MQTT again as the new thing */
    DP_STEP_CREDENTIALS,   /* the credentials provider and STS GetCallerIdentity */
    DP_STEP_CLEANUP,       /* everything made, removed */
    DP_STEP_COUNT_ = DP_STEP_CLEANUP
};

/* "claim", "certificate", "registerThing", "thingConnect", "credentials", "cleanup". */
const char *dataplane_step_name(int step);

/* What failed inside a step. */
enum dp_fail {
    DP_FAIL_AWS = 0,     /* a control-plane call or the credentials provider answered an error */
    DP_FAIL_UNREACHABLE, /* no TCP connection / timeout */
    DP_FAIL_TLS,         /* TLS handshake or certificate check */
    DP_FAIL_CONNECT,     /* CONNACK refused or closed without one */
    DP_FAIL_SUBSCRIBE,   /* SUBACK refused `topic` (a filter) */
    DP_FAIL_PUBLISH,     /* PUBACK refused `topic`, or the broker closed on it */
    DP_FAIL_NO_ANSWER,   /* published `topic`, no answer on its accepted/rejected topics */
    DP_FAIL_REJECTED,    /* the fleet provisioning API answered on .../rejected */
    DP_FAIL_IDENTITY     /* STS accepted the credentials but they are another role's */
};

/* The fleet's resources as the hint names them (any may be NULL). */
struct dp_names {
    const char *claim_policy; /* the claim certificate's policy */
    const char *template_name;
    const char *provisioning_role; /* the template's role ARN or name */
    const char *hook_arn;          /* the template's pre-provisioning hook, or NULL */
    const char *thing_policy;      /* NULL: per-device policy of the template */
    const char *role_alias;
    const char *role_arn;  /* the role the alias points at */
    const char *client_id; /* the MQTT client id that was used */
    const char *host;      /* host:port of the endpoint that was dialled */
};

struct dp_failure {
    int step; /* enum dp_step */
    enum dp_fail kind;
    const char *topic;               /* SUBSCRIBE, PUBLISH, NO_ANSWER: the topic or filter */
    const struct aws_api_error *err; /* AWS's error (code, message, status), may be NULL */
};

/* Writes the hint: one sentence naming the resource to fix and how, e.g.
 * "claim policy `line-7-claim-policy` does not allow iot:Publish on
 * `$aws/provisioning-templates/line-7-template/provision/json`". Always
 * writes something (a generic hint when nothing better is known). */
void dataplane_hint(const struct dp_names *n, const struct dp_failure *f, char *out, size_t outlen);

#endif
