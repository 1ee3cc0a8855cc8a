/*
 * fleetprov.h - AWS IoT's fleet provisioning MQTT API as a device calls
 * it: CreateKeysAndCertificate, CreateCertificateFromCsr and RegisterThing
 * (developer guide, "Device provisioning MQTT API"), JSON payloads.
 *
 * Each call subscribes to the answer topics (REQUEST/accepted and
 * REQUEST/rejected), publishes the request with QoS 1 and waits for one
 * answer. Answers are checked with bounds before anything is used: a
 * certificate id of 64 hex digits, PEM text of at most 16 KiB, a token of
 * at most 8 KiB of printable characters, a thing name of AWS's pattern.
 * A rejected answer becomes struct aws_api_error with AWS's statusCode,
 * errorCode and errorMessage as they came.
 *
 * The topic, payload and answer functions are pure and unit-tested
 * (tests/unit/aws_dataplane); the calls need an iotmqtt connection.
 * private_key and ownership_token are secrets: wiped by the cleanup
 * functions, never logged.
 */
#ifndef FW_AWS_FLEETPROV_H
#define FW_AWS_FLEETPROV_H

#include <jansson.h>
#include <stddef.h>

#include "aws/awserr.h"

struct iotmqtt;

enum fleetprov_api {
    FLEETPROV_CREATE_KEYS = 0,
    FLEETPROV_CREATE_FROM_CSR,
    FLEETPROV_REGISTER_THING
};

#define FLEETPROV_TOPIC_MAX 160
#define FLEETPROV_PEM_MAX (16u * 1024)
#define FLEETPROV_TOKEN_MAX 8192
#define FLEETPROV_THING_MAX 128
#define FLEETPROV_PARAMS_MAX 50      /* parameters in one RegisterThing */
#define FLEETPROV_PARAM_KEY_MAX 2048 /* AWS's RegisterThing bounds */
#define FLEETPROV_PARAM_VALUE_MAX 4096

/* "$aws/certificates/create/json", "$aws/certificates/create-from-csr/json",
 * "$aws/provisioning-templates/NAME/provision/json", plus suffix ("",
 * "/accepted", "/rejected"). template_name (RegisterThing only) must be
 * 1-36 of [0-9A-Za-z_-]. 0 or FW_EINVAL. */
int fleetprov_topic(enum fleetprov_api api, const char *template_name, const char *suffix,
                    char *out, size_t outlen);
/* "iot:CreateKeysAndCertificate", ... for error messages. */
const char *fleetprov_operation(enum fleetprov_api api);

/* Request payloads as new JSON text (free; the RegisterThing one holds the
 * token: wipe it with xfree_secret). parameters: an object of strings, or
 * NULL; checked against AWS's bounds (FW_EINVAL, why filled). */
char *fleetprov_request_csr(const char *csr_pem);
int fleetprov_request_register(const char *token, const json_t *parameters, char **out, char *why,
                               size_t whylen);

/* A certificate the API made. */
struct fleetprov_cert {
    char certificate_id[65];
    char *certificate_pem;
    char *private_key;     /* CreateKeysAndCertificate only; secret */
    char *ownership_token; /* secret */
};
void fleetprov_cert_cleanup(struct fleetprov_cert *c);

struct fleetprov_registered {
    char thing_name[FLEETPROV_THING_MAX + 1]; /* "" when the template makes no thing */
    json_t *device_configuration;             /* an object ({} when absent) */
};
void fleetprov_registered_cleanup(struct fleetprov_registered *r);

/* The accepted answers, checked. 0, or FW_EAWS with err code
 * MalformedResponse naming what was wrong. want_key: the answer must
 * carry privateKey (CreateKeysAndCertificate). */
int fleetprov_parse_cert(const char *json, size_t len, int want_key, struct fleetprov_cert *out,
                         struct aws_api_error *err);
int fleetprov_parse_registered(const char *json, size_t len, struct fleetprov_registered *out,
                               struct aws_api_error *err);
/* A rejected answer into err (operation set): statusCode, errorCode and
 * errorMessage, classified by the code. Always returns FW_EAWS. */
int fleetprov_parse_rejected(const char *json, size_t len, enum fleetprov_api api,
                             struct aws_api_error *err);

/* ---- the calls (an iotmqtt connection made with the claim certificate) ---- */

/* What a failed call was doing, so the caller can name the refused topic. */
struct fleetprov_trace {
    char topic[FLEETPROV_TOPIC_MAX]; /* the topic or filter of the failing MQTT operation */
    int stage;                       /* 0 subscribe, 1 publish, 2 wait, 3 answer */
};

int fleetprov_create_keys(struct iotmqtt *m, struct fleetprov_cert *out, struct fleetprov_trace *t,
                          struct aws_api_error *err);
int fleetprov_create_from_csr(struct iotmqtt *m, const char *csr_pem, struct fleetprov_cert *out,
                              struct fleetprov_trace *t, struct aws_api_error *err);
int fleetprov_register_thing(struct iotmqtt *m, const char *template_name, const char *token,
                             const json_t *parameters, struct fleetprov_registered *out,
                             struct fleetprov_trace *t, struct aws_api_error *err);

#endif
