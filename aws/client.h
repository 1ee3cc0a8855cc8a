/*
 * client.h - the generic executor: one AWS operation, built, signed, sent,
 * parsed and retried.
 *
 * A struct aws_client holds the region, a credentials provider, resolved
 * endpoints, retry settings, a retry quota and an HTTP handle. It is NOT
 * thread-safe: each worker thread owns its client (and its HTTP handle).
 * What clients may share across threads is thread-safe by itself: the
 * credentials provider (refcounted) and the retry quota (locked).
 *
 * The operation modules (sts.c, iam.c, iot.c, cloudwatch.c) describe a call
 * with struct aws_call, run it with aws_client_call and read the parsed
 * answer from struct aws_reply. Job handlers call those modules, not this
 * executor, unless they need an operation the modules do not have.
 */
#ifndef FW_AWS_CLIENT_H
#define FW_AWS_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "aws/awserr.h"
#include "aws/endpoint.h"
#include "aws/retry.h"
#include "service/core/buf.h"

struct aws_client;
struct aws_http;
struct aws_http_options;
struct creds_provider;
struct xml_node;

enum aws_protocol { AWS_PROTO_QUERY = 0, AWS_PROTO_REST_JSON };

/* Test hooks: all optional, all take hooks_ud. */
typedef void(aws_sleep_fn)(long ms, void *ud);
typedef double(aws_rand_fn)(void *ud);  /* uniform in [0, 1) */
typedef time_t(aws_clock_fn)(void *ud); /* UTC seconds, for signing */
typedef const char *(aws_getenv_fn)(const char *name, void *ud);

struct aws_client_options {
    const char *region;           /* NULL = AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 */
    struct creds_provider *creds; /* NULL = the default chain; else a reference is taken */
    struct aws_http *http;        /* NULL = the client owns one; else borrowed (same thread) */
    const struct aws_http_options *http_options; /* for an owned handle; NULL = defaults */
    struct aws_retry_quota *quota;          /* NULL = the client owns one; else borrowed, shared */
    const struct aws_retry_settings *retry; /* NULL = AWS_MAX_ATTEMPTS / AWS_RETRY_MODE */
    aws_getenv_fn *getenv_fn;               /* NULL = getenv; used for region, endpoints, retries */
    void *getenv_ud;
    aws_sleep_fn *sleep_fn; /* NULL = nanosleep */
    aws_rand_fn *rand_fn;   /* NULL = a per-client PRNG seeded from the clock */
    aws_clock_fn *clock_fn; /* NULL = time() */
    void *hooks_ud;
};

/* A new client in *out. 0, or FW_EINVAL (bad AWS_MAX_ATTEMPTS or
 * AWS_RETRY_MODE, bad region or endpoint override) or FW_EINTERNAL (libcurl)
 * with err filled. Free with aws_client_free (NULL is a no-op). */
int aws_client_new(const struct aws_client_options *opt, struct aws_client **out,
                   struct aws_api_error *err);
void aws_client_free(struct aws_client *c);
const char *aws_client_region(const struct aws_client *c);
/* The HTTP handle in use (owned or borrowed). */
struct aws_http *aws_client_http(struct aws_client *c);
/* Attempts made by the last aws_client_call (1 = no retry). */
int aws_client_last_attempts(const struct aws_client *c);

/* One operation's request, built by an operation module. */
struct aws_call {
    enum aws_service svc;
    enum aws_protocol protocol;
    const char *operation; /* "CreatePolicy"; static storage */
    const char *method;    /* rest-json: "GET", ...; query: "POST" */
    struct buf path;       /* rest-json: URI-encoded path; query: "/" */
    struct buf query;      /* rest-json: encoded query string without '?' */
    struct buf body;       /* query: form body; rest-json: JSON or empty */
    int anonymous;         /* 1: send unsigned (AssumeRoleWithWebIdentity) */
    int overflow;          /* set when a part outgrew AWS_CALL_MAX_BODY */
    const char
        *header_name; /* rest-json: one header member (x-amzn-principal), signed; NULL = none */
    const char *header_value; /* borrowed for the call */
};

#define AWS_CALL_MAX_BODY (4u * 1024 * 1024)

/* Query protocol: POST / with Action and Version already in the body. */
void aws_call_init_query(struct aws_call *c, enum aws_service svc, const char *action,
                         const char *version);
/* rest-json: method and an empty path; append with aws_call_path*. */
void aws_call_init_rest(struct aws_call *c, enum aws_service svc, const char *operation,
                        const char *method);
void aws_call_cleanup(struct aws_call *c);
/* Appends literal path text (not encoded: it must be safe already). */
void aws_call_path(struct aws_call *c, const char *literal);
/* Appends one URI-encoded path label ('/' is encoded too). */
void aws_call_path_label(struct aws_call *c, const char *value);
/* rest-json: appends name=value (both encoded) to the query string. */
void aws_call_qs(struct aws_call *c, const char *name, const char *value);
/* query protocol: appends name=value (both encoded) to the form body;
 * NULL value adds nothing. */
void aws_call_param(struct aws_call *c, const char *name, const char *value);
void aws_call_param_int(struct aws_call *c, const char *name, long long value);
/* rest-json: sends name: value (both borrowed until the call ends) as a
 * signed header, for members the model places in a header. */
void aws_call_header(struct aws_call *c, const char *name, const char *value);
/* rest-json: serializes obj (not stolen) as the body. 0 or FW_EINVAL. */
int aws_call_json(struct aws_call *c, const json_t *obj);

/* The parsed answer of a successful call. */
struct aws_reply {
    int http_status;
    char request_id[128];
    struct xml_node *xml;          /* query: root <OpResponse>; else NULL */
    const struct xml_node *result; /* query: <OpResult> or NULL */
    json_t *json;                  /* rest-json: body object ({} when empty) */
};

void aws_reply_cleanup(struct aws_reply *r);

/* Runs call: endpoint, credentials, SigV4, send, parse, retry. On success
 * returns 0 and fills reply (free with aws_reply_cleanup). On failure
 * returns a negative FW_E* (see awserr_to_fw) with err filled, including
 * err->operation ("iot:CreatePolicy") and a hint; reply is then empty.
 * err may be NULL. */
int aws_client_call(struct aws_client *c, struct aws_call *call, struct aws_reply *reply,
                    struct aws_api_error *err);

/* Appends s in RFC 3986 encoding as SigV4 wants it (unreserved kept; '/'
 * kept only when keep_slash). 0, or FW_ETOOBIG from the buffer's cap. */
int aws_uri_encode(struct buf *out, const char *s, int keep_slash);

/* A list of owned strings, for list operations. */
struct aws_strlist {
    char **items;
    size_t n;
};
void aws_strlist_push(struct aws_strlist *l, const char *s);
void aws_strlist_cleanup(struct aws_strlist *l);

#endif
