/*
 * reply.h - the one mapping from a Redis answer onto the FW_E* table
 * (service/core/err.h), and reading reply elements.
 *
 * Every command and every script of fleetwarden is answered through
 * redis_reply_rc (store_conn.c runs commands, script.c runs scripts):
 *   no answer: no connection, an I/O error or a timeout  -> FW_EUNAVAILABLE
 *     ("Redis cannot be reached"; the caller drops the connection)
 *   READONLY, LOADING, MASTERDOWN, NOREPLICAS (a failover: this node cannot
 *     take our commands now; store_conn.c reconnects)      -> FW_EUNAVAILABLE
 *   an error reply "FW_E<NAME> text" from one of our scripts -> FW_E<NAME>
 *     (an outcome the script signals with fw_error(), lua/runner.lua, e.g.
 *     FW_ECONFLICT for a lost lease; not logged: the caller decides)
 *   any other error reply (WRONGTYPE, OOM, a script that failed)  -> FW_EREDIS
 *     ("Redis answered an error"), logged once, here, as "redis error
 *     reply" with what ran and the error text
 */
#ifndef FW_REDIS_REPLY_H
#define FW_REDIS_REPLY_H

#include <stddef.h>

struct redisReply;

/* 0 for a usable reply (not freed), else the code above. what names the
 * command or script for the log ("HGET", "jobs/claim"). */
int redis_reply_rc(const struct redisReply *r, const char *what);

/* 1 when an error text (len bytes) says the node is not a primary that can
 * serve us now (the failover codes above). */
int redis_reply_is_failover(const char *str, size_t len);

/* The FW_E* code an error text starts with ("FW_ECONFLICT lease lost" ->
 * FW_ECONFLICT), or 0 when its first word names no code of the table. */
int redis_reply_fw_code(const char *err);

/* Integer value of a reply element (integer or numeric string); 0 otherwise. */
long long redis_reply_int(const struct redisReply *r);
/* Copies a string, status or integer element into dst (truncating); "" otherwise. */
void redis_reply_str(const struct redisReply *r, char *dst, size_t dstlen);

#endif
