/*
 * sigv4.h - AWS Signature Version 4, as pure staged functions.
 *
 * canonical request -> string to sign -> signature -> Authorization value.
 * The signing time is an argument; nothing here reads the clock or the
 * environment, so AWS's official test suite can check every stage.
 *
 * Rules applied (as AWS requires for every service but S3):
 * - the path is normalized when normalize_path is set (dot segments removed,
 *   runs of slashes collapsed) and each segment is URI-encoded once more
 *   than it was sent ("double encoding": a sent "%20" signs as "%2520");
 * - query parameters are decoded, re-encoded strictly (RFC 3986 unreserved
 *   characters only) and sorted by key, then value;
 * - header names are lowercased, values trimmed with inner whitespace runs
 *   (including folded line breaks) turned into one space, and repeated
 *   headers joined with commas in the order given.
 *
 * Thread-safety: every function may be called from many threads at once.
 * Derived signing keys are cached per (date, region, service, secret) in a
 * small mutex-protected table; evicted keys and secrets are wiped.
 */
#ifndef FW_AWS_SIGV4_H
#define FW_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "service/core/buf.h"

struct sigv4_header {
    const char *name;  /* as sent; canonicalization lowercases */
    const char *value; /* as sent; canonicalization trims and folds */
};

/*
 * A request to sign. Every header given is signed, so pass only headers
 * that reach AWS unchanged (Host, Content-Type, ...). Headers named
 * Authorization, X-Amz-Date, X-Amz-Security-Token or X-Amz-Content-Sha256
 * are ignored: the signer supplies those from sigv4_params.
 */
struct sigv4_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* path as sent (already encoded), e.g. "/a/b%20c"; "" = "/" */
    const char *query;  /* query as sent, without '?', or NULL */
    const struct sigv4_header *headers; /* must include Host */
    size_t nheaders;
    const void *body; /* NULL when body_len is 0 */
    size_t body_len;
};

struct sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL when none; signed as X-Amz-Security-Token */
    const char *region;        /* e.g. "us-east-1" */
    const char *service;       /* signing name, e.g. "execute-api", "iam" */
    time_t time;               /* signing time, UTC seconds */
    int normalize_path;        /* 1 for every service but S3 */
    int add_content_sha256;    /* 1 to sign x-amz-content-sha256 (header signing only) */
};

/*
 * The headers a signed request must carry, all NUL-terminated: send
 * "X-Amz-Date: amz_date", "Authorization: authorization", plus
 * "X-Amz-Security-Token: <session_token>" when a token was given and
 * "X-Amz-Content-Sha256: content_sha256" when add_content_sha256 was set.
 */
struct sigv4_result {
    char amz_date[17];        /* YYYYMMDDTHHMMSSZ */
    char content_sha256[65];  /* hex SHA-256 of the body (always set) */
    struct buf authorization; /* the Authorization header value; caller frees */
};

/*
 * The stages of Authorization-header signing. Each stage appends to out, which the caller
 * initialised with buf_init. Returns 0, FW_EINVAL (missing
 * method/path/Host/credentials/region/service), FW_ETOOBIG (out's cap reached) or FW_ECRYPTO
 * (OpenSSL failed).
 */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_params *p,
                            struct buf *out);
int sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_params *p,
                         struct buf *out);
/* Writes the lowercase hex signature (64 chars + NUL). Same errors. */
int sigv4_signature(const struct sigv4_request *req, const struct sigv4_params *p, char out[65]);
/*
 * Signs a request for the Authorization header; fills res. On success free
 * res->authorization with buf_free; on failure res holds nothing to free.
 * Same errors.
 */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
               struct sigv4_result *res);

/*
 * Query-string signing (a presigned URL valid expires_s seconds, 1..604800):
 * appends to query_out the query to send, that is the request's own query
 * as given, then X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 * X-Amz-SignedHeaders, X-Amz-Expires, X-Amz-Security-Token (with a token)
 * and X-Amz-Signature. add_content_sha256 does not apply. Same errors as
 * the stages (FW_EINVAL for expires_s out of range).
 */
int sigv4_presign(const struct sigv4_request *req, const struct sigv4_params *p, long expires_s,
                  struct buf *query_out);
/* Its stages, for tests and debugging: fills whichever of canonical,
 * string_to_sign and signature are not NULL. Same errors. */
int sigv4_presign_stages(const struct sigv4_request *req, const struct sigv4_params *p,
                         long expires_s, struct buf *canonical, struct buf *string_to_sign,
                         char signature[65]);

/* Appends s[0..n) URI-encoded as SigV4 wants: every byte but A-Z a-z 0-9
 * - . _ ~ as %XX (uppercase hex). Also right for form bodies of the AWS
 * query protocol. 0 or FW_ETOOBIG. */
int sigv4_uri_encode(struct buf *out, const char *s, size_t n);

/* Formats t as YYYYMMDDTHHMMSSZ (UTC). */
void sigv4_format_amz_date(time_t t, char out[17]);

/* Drops (and wipes) every cached signing key. Safe at any time. */
void sigv4_cache_clear(void);

#endif
