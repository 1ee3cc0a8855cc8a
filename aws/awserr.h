/*
 * awserr.h - the one typed error every aws/ call can report.
 *
 * Fixed-size fields so the failure path never allocates (redis ANET_ERR_LEN).
 * Never holds a secret: messages come from AWS answers or our own text.
 */
#ifndef FW_AWS_AWSERR_H
#define FW_AWS_AWSERR_H

enum aws_err_class {
    AWS_ERRC_NONE = 0,
    AWS_ERRC_THROTTLING,  /* retry; does not use up a job attempt */
    AWS_ERRC_TRANSIENT,   /* 5xx, timeouts, connection errors: retry */
    AWS_ERRC_ACCESS,      /* AccessDenied & co: never retry */
    AWS_ERRC_VALIDATION,  /* bad input: never retry */
    AWS_ERRC_NOTFOUND,    /* the resource does not exist */
    AWS_ERRC_CONFLICT,    /* already exists, delete conflict, state conflict */
    AWS_ERRC_LIMIT,       /* a quota such as five policy versions */
    AWS_ERRC_CREDENTIALS, /* no credentials could be resolved */
    AWS_ERRC_OTHER,
    AWS_ERRC_SETTLING /* AWS has not caught up with a change we just made (IAM eventual
                       * consistency, a policy detached moments ago): retry later, like a
                       * throttle; set by the handler that knows, never by a code */
};

struct aws_api_error {
    int http_status; /* 0 when no answer came back */
    enum aws_err_class cls;
    int retryable;       /* 1 when a retry may succeed */
    char code[64];       /* AWS error code, e.g. "AccessDenied" */
    char message[512];   /* AWS message plus our hint, if any */
    char request_id[64]; /* x-amzn-RequestId / RequestId */
    char operation[64];  /* e.g. "iot:CreateRoleAlias" */
};

/* --- awserr.c: filling, parsing and classifying (owned by the calls block) --- */

#include <stddef.h>

/* Codes we set ourselves when no AWS answer explains the failure. */
#define AWSERR_CONNECTION "ConnectionError"  /* connect/send/receive failed */
#define AWSERR_TIMEOUT "ClientTimeout"       /* our connect or total timeout hit */
#define AWSERR_TOO_LARGE "ResponseTooLarge"  /* answer over the body cap */
#define AWSERR_MALFORMED "MalformedResponse" /* answer we could not parse */
#define AWSERR_TLS "TLSError"                /* certificate or handshake failure */

/* Resets every field (cls AWS_ERRC_NONE). NULL is a no-op. */
void awserr_clear(struct aws_api_error *e);
/* Sets status, code and a printf message, then classifies (cls, retryable).
 * Keeps e->operation. NULL e is a no-op. Never pass a secret in fmt args. */
void awserr_set(struct aws_api_error *e, int http_status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets cls and retryable from e->code and e->http_status. Pure. */
void awserr_classify(struct aws_api_error *e);
/* Class of an AWS error code alone (AWS_ERRC_NONE when the code is unknown). */
enum aws_err_class awserr_class_of_code(const char *code);
/* 1 when code is one of AWS's throttling codes. */
int awserr_is_throttle_code(const char *code);
/* Fills e from a query-protocol (XML) error answer. Always fills something:
 * an unparsable body gives code "HttpNNN" with the status. */
void awserr_from_xml(struct aws_api_error *e, int http_status, const char *body, size_t len,
                     const char *request_id_header);
/* Fills e from a rest-json error answer: code from the x-amzn-ErrorType
 * header (":..." suffix stripped) or __type/code in the body ("...#" prefix
 * stripped); message from message/Message. */
void awserr_from_json(struct aws_api_error *e, int http_status, const char *error_type_header,
                      const char *body, size_t len, const char *request_id_header);
/* Appends a hint that tells the operator what to do for well-known failures
 * (PassRole, five versions, delete conflicts, credentials and clock). */
void awserr_add_hint(struct aws_api_error *e);
/* Appends " (text)" to the message, truncating to fit. */
void awserr_append(struct aws_api_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The FW_E* code a caller returns for e: FW_ENOTFOUND, FW_ECONFLICT,
 * FW_ETHROTTLED, FW_EUNAVAILABLE, FW_ETIMEOUT, FW_EINVAL or FW_EAWS. */
int awserr_to_fw(const struct aws_api_error *e);
/* "throttling", "transient", ...; never NULL. */
const char *awserr_class_name(enum aws_err_class cls);

#endif
