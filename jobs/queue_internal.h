/*
 * queue_internal.h - what queue*.c share among themselves (not for
 * routes or handlers): running a script and small reply helpers.
 */
#ifndef FW_JOBS_QUEUE_INTERNAL_H
#define FW_JOBS_QUEUE_INTERNAL_H

#include <stddef.h>

#include "queue_lua.h"

struct redisReply;

/* Runs script id with ARGV = prefix, args[0..nargs) on the calling
 * thread's connection (EVALSHA; on NOSCRIPT loads it and runs it again).
 * On 0 *out is the reply (free with freeReplyObject); an error reply is
 * logged and gives FW_EREDIS; a broken connection is dropped (store_conn_broken). */
int queue__eval(enum queue_lua_id id, const char *const *args, int nargs, struct redisReply **out);
/* Integer value of a reply element (integer or numeric string); 0 otherwise. */
long long queue__int(const struct redisReply *r);
/* Copies a string element into dst (truncating); "" for nil. */
void queue__str(const struct redisReply *r, char *dst, size_t dstlen);
/* Redis server time in epoch ms. 0 or FW_EREDIS. */
int queue__server_time(long long *ms);

#endif
