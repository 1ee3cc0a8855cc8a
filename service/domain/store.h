/*
 * store.h - the service's own records in Redis: API tokens and the audit trail.
 *
 * Every function uses the calling thread's connection (store_conn.h).
 * Errors: FW_EUNAVAILABLE while Redis cannot be reached (the API answers
 * 503), FW_EREDIS for an error reply, FW_ENOTFOUND, FW_EINVAL for a bad cursor.
 *
 * Layout (prefix P, default "fw:"):
 *   P token:<sha256hex>   hash  id name scope created lastUsed
 *   P tokenid:<id>        string -> sha256hex
 *   P tokens              zset   id by created (ms)
 *   P tokens:epoch        string counter bumped by every token deletion
 *   P audit               stream capped at cfg.audit_max entries (approximately):
 *                         ts token method path status requestId client
 *   P authfail            stream of sampled 401s, capped at STORE_AUTHFAIL_MAX entries
 *   P kek:check           string: the KEK's check value (seal_kek_check_value), written once
 *   P ready:<process>     string "1" with a 30 s TTL, written by each /readyz
 */
#ifndef FW_STORE_H
#define FW_STORE_H

#include <stddef.h>
#include <jansson.h>

#include "service/core/auth.h"

/* PING; 0 or FW_EUNAVAILABLE with a reason in why. */
int store_ping(char *why, size_t whylen);

/* /readyz's write: SET P ready:<process> with a short TTL. 0; FW_EUNAVAILABLE when Redis
 * cannot be reached; FW_EREDIS when it answered with an error (a read-only replica, OOM,
 * MISCONF, an ACL refusal), with Redis's error code (READONLY, OOM, ...) in code. */
int store_ready_write(const char *process, char *code, size_t codelen);

/* Compares check (the KEK's check value, seal.h) with the one kept in Redis, writing it when
 * there is none yet (SET NX: the first start with this Redis, or the first after an upgrade
 * from a version that kept none; *written is then 1). 0 when equal or just written;
 * FW_ECONFLICT when Redis holds another (this KEK is not the one the data was sealed with);
 * FW_EUNAVAILABLE / FW_EREDIS. With write 0 it only compares (FW_ENOTFOUND: none kept). */
int store_kek_check(const char *check, int write, int *written);

/* Stores a new token record under its hash. */
int store_token_create(const char *hash_hex, const struct auth_token *t);
/* Finds a token by hash and refreshes its last-used time (at most once a minute). */
int store_token_lookup(const char *hash_hex, struct auth_token *out);
/* The same, and in the same script the request counted against the rate limits of r
 * (store_rate.h; r->token_id is ignored: the token found is counted): one Redis round trip
 * where a lookup and store_rate_take are two. Returns as store_token_lookup (FW_ENOTFOUND
 * after counting the address); *throttled is FW_ETHROTTLED (with *retry_after_s, *by_token)
 * or 0. */
struct store_rate_req;
int store_token_lookup_rated(const char *hash_hex, const struct store_rate_req *r,
                             struct auth_token *out, int *throttled, int *retry_after_s,
                             int *by_token);
/* Deletes by public id, in one atomic step with the check that an admin
 * token is not the last one: FW_ECONFLICT then (nothing deleted);
 * FW_ENOTFOUND when unknown. */
int store_token_delete(const char *id);
/* One page of tokens (oldest first): items is a new array of
 * {"id","name","scope","createdAt","lastUsedAt"}; *next is a new string or NULL: a keyset
 * cursor ("MS.ID", the last token given), so deleting a token of an earlier page skips none of
 * the next. An offset cursor of earlier versions (digits) is still taken. 0, FW_EINVAL (cursor). */
int store_token_list(int limit, const char *cursor, json_t **items, char **next);

struct audit_entry {
    const char *token_id;
    const char *method;
    const char *path;
    int status;
    const char *request_id;
    const char *client; /* the client's address (service/client_addr.h), or NULL */
};

int store_audit_append(const struct audit_entry *e, int maxlen);
/* Newest first; items is a new array; *next a new cursor string or NULL. */
int store_audit_list(int limit, const char *cursor, json_t **items, char **next);

/* Requests answered 401, sampled by the server (at most one a second per process): kept
 * apart from the audit trail, which an anonymous flood must not be able to push out,
 * and capped, so it cannot fill Redis either. */
#define STORE_AUTHFAIL_MAX 1000
struct authfail_entry {
    const char *addr;
    const char *method;
    const char *path; /* cut and made printable by the server */
    const char *request_id;
    const char *reason;
    long long skipped; /* 401s since the previous entry of this process that were not recorded */
};
int store_authfail_append(const struct authfail_entry *e);
/* Newest first, like store_audit_list. */
int store_authfail_list(int limit, const char *cursor, json_t **items, char **next);

/* RFC 3339 UTC with milliseconds for a Unix time in ms. */
void store_format_time(long long ms, char out[32]);
long long store_now_ms(void);

#endif
