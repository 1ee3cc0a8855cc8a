/*
 * store_conn.h - one Redis connection per thread, reconnected with backoff.
 *
 * hiredis contexts are not thread-safe, so each thread (an HTTP connection
 * thread, a worker, the scheduler) gets its own, created on first use and
 * freed when the thread exits. After an I/O error the context is useless
 * (hiredis README): callers report it with store_conn_broken() and the next
 * store_conn_get() reconnects, no more often than the backoff allows, so a
 * Redis outage costs each request one fast failure, not a connect timeout.
 *
 * Only service/redis, service/domain and jobs/ include hiredis.h and use this.
 * Every reply goes through the one mapping of reply.h: FW_EUNAVAILABLE when
 * Redis cannot be reached, FW_EREDIS for an error reply (logged), or the
 * FW_E* code a script raised.
 */
#ifndef FW_STORE_CONN_H
#define FW_STORE_CONN_H

#include "service/core/config.h"

struct redisContext;
struct redisReply;

/* Global settings (host, port, db, user, password, prefix). Call once, before threads. */
void store_conn_configure(const struct fw_config *cfg);
/* The calling thread's connected context, or NULL while Redis cannot be
 * reached (store_conn_last_error() says why). Borrowed: do not free. */
struct redisContext *store_conn_get(void);
/* Drops the calling thread's context after an error (NULL reply, I/O error). */
void store_conn_broken(void);
/* Frees the calling thread's context now (thread shutdown). */
void store_conn_close(void);
/* Connects once, on a connection of its own (start-up, `check`): 0; FW_EUNAUTH when Redis
 * refused the credentials or the database (a configuration error: serve and worker exit 2);
 * FW_EUNAVAILABLE when it cannot be reached. why says which, never with the password. */
int store_conn_check(char *why, size_t whylen);
/* Why the last connect failed on this thread ("" when connected). */
const char *store_conn_last_error(void);
/* The key prefix, e.g. "fw:". */
const char *store_prefix(void);
/* Runs one command (argv form) on the calling thread's connection. Returns
 * the reply (free with freeReplyObject), or NULL with *rc set as reply.h
 * says: FW_EUNAVAILABLE when Redis cannot be reached (the connection is
 * dropped for a reconnect), FW_EREDIS for an error reply (logged). */
struct redisReply *store_conn_argv(int *rc, int argc, const char **argv, const size_t *lens);
/* The same with a hiredis format string ("HGET %s %s"). */
struct redisReply *store_conn_cmd(int *rc, const char *fmt, ...);
/* The same on connection c (a store_conn_open one: blocking commands such
 * as XREAD BLOCK). On FW_EUNAVAILABLE the caller frees c. */
struct redisReply *store_conn_cmd_on(struct redisContext *c, int *rc, const char *fmt, ...);

/* A connection not tied to a thread, with the same reconnect backoff and failover watch
 * (script_group.c's shared connection). Its owner serialises every use. */
struct store_conn_slot;
struct store_conn_slot *store_conn_slot_new(void);
/* The slot's connected context, or NULL while Redis cannot be reached (as store_conn_get). */
struct redisContext *store_conn_slot_get(struct store_conn_slot *s);
/* Drops the slot's context after an error; the next get reconnects (backoff applies). */
void store_conn_slot_broken(struct store_conn_slot *s);
/* Frees the slot's context now (no backoff); the slot stays usable. */
void store_conn_slot_close(struct store_conn_slot *s);
void store_conn_slot_free(struct store_conn_slot *s);

/* Opens a separate connection (not the thread's) for a blocking command
 * (the event hub's XREAD BLOCK); NULL on failure. Free with store_conn_free(). */
struct redisContext *store_conn_open(int timeout_ms);
void store_conn_free(struct redisContext *c);

#endif
