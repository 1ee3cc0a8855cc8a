/*
 * http.h - one kept-alive HTTPS connection per thread, for AWS calls.
 *
 * A struct aws_http wraps one libcurl easy handle. Reusing it keeps the
 * connection to the endpoint open between calls (the benchmark in
 * tests/bench/awscalls shows what that saves). Not thread-safe: each worker
 * thread owns its own. TLS peer and host verification are always on.
 * Proxies come from the environment as libcurl reads them (http_proxy,
 * https_proxy, HTTPS_PROXY, no_proxy, NO_PROXY) unless
 * aws_http_set_no_proxy turned them off for a handle. Response bodies are capped, and treated as
 * secrets (they may hold session tokens or private keys): a growing body is copied to a bigger
 * buffer and the old one wiped (never realloc'd), and the body is wiped when the response is reset
 * or cleaned up.
 */
#ifndef FW_AWS_HTTP_H
#define FW_AWS_HTTP_H

#include <stddef.h>

#include "aws/awserr.h"
#include "service/core/buf.h"

#define AWS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define AWS_HTTP_DEFAULT_TIMEOUT_MS 30000
#define AWS_HTTP_DEFAULT_MAX_BODY (8u * 1024 * 1024)

struct aws_http_options {
    long connect_timeout_ms; /* 0 = default */
    long timeout_ms;         /* whole transfer; 0 = default */
    size_t max_body;         /* response body cap in bytes; 0 = default 8 MiB */
    const char *ca_file;     /* NULL = the system store */
};

struct aws_http_header {
    const char *name;
    const char *value;
};

struct aws_http_request {
    const char *method;                    /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;                       /* full URL incl. path and query */
    const struct aws_http_header *headers; /* sent as given (Host included) */
    size_t nheaders;
    const void *body;
    size_t body_len;
    /* A numeric address ("203.0.113.7", "2001:db8::1") the caller resolved and checked:
     * the connection goes there and nowhere else (libcurl's own lookup, a proxy or
     * any other address is refused), while Host and TLS still use the URL's host.
     * NULL: libcurl resolves the URL's host itself. */
    const char *pin_address;
};

struct aws_http_response {
    int status;            /* HTTP status, 0 before an answer */
    struct buf body;       /* capped by the handle's max_body; wiped by cleanup */
    char request_id[128];  /* x-amzn-RequestId or x-amz-request-id */
    char error_type[128];  /* x-amzn-ErrorType, as sent */
    char date[64];         /* the Date header, as sent */
    long long server_time; /* the Date header in epoch seconds; 0 when absent or bad */
};

/* Initialises libcurl once per process; safe to call from any thread, any
 * number of times. 0, or FW_EINTERNAL. aws_http_new calls it. */
int aws_http_global_init(void);

/* A new handle (opt may be NULL). NULL only when libcurl cannot make one.
 * Free with aws_http_free; NULL is a no-op there. */
struct aws_http *aws_http_new(const struct aws_http_options *opt);
void aws_http_free(struct aws_http *h);
/* on = 1: this handle never uses a proxy, whatever the environment says
 * (link-local or loopback endpoints such as IMDS or a container agent). */
void aws_http_set_no_proxy(struct aws_http *h, int on);

void aws_http_response_init(struct aws_http_response *r);
void aws_http_response_cleanup(struct aws_http_response *r);

/* Sends req and fills resp (reset first). Any HTTP status is success here:
 * returns 0 when an answer came back, else FW_ETIMEOUT, FW_EUNAVAILABLE
 * (connection), FW_ETOOBIG (body over the cap) or FW_EAWS (TLS) with err
 * filled (http_status 0 except for ETOOBIG). A request with a pin_address that
 * could not connect there is FW_EUNAVAILABLE. */
int aws_http_send(struct aws_http *h, const struct aws_http_request *req,
                  struct aws_http_response *resp, struct aws_api_error *err);

/* aws_http_send with mutual TLS (the IoT credentials provider): the client
 * certificate and its private key as PEM text the caller holds, handed to
 * libcurl without a copy (CURLOPT_SSLCERT_BLOB / CURLOPT_SSLKEY_BLOB) and
 * forgotten when the call returns. Use a handle of its own for such calls
 * and free it afterwards, so no later call reuses that connection. */
int aws_http_send_mtls(struct aws_http *h, const struct aws_http_request *req, const char *cert_pem,
                       const char *key_pem, struct aws_http_response *resp,
                       struct aws_api_error *err);

/* New connections this handle has opened so far (tests and benchmarks). */
long aws_http_connections(const struct aws_http *h);

#endif
