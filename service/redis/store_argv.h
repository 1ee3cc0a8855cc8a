/*
 * store_argv.h - a Redis command built argument by argument, run on the
 * calling thread's connection (store_conn.h).
 *
 * Arguments are copied, so callers may pass temporaries. A command with
 * more than STORE_ARGV_MAX arguments is never sent cut short: run refuses
 * it with FW_EINTERNAL (a silently cut HMGET once looked like a Redis error).
 */
#ifndef FW_STORE_ARGV_H
#define FW_STORE_ARGV_H

#include <hiredis/hiredis.h>

#define STORE_ARGV_MAX 96

struct store_argv {
    char *s[STORE_ARGV_MAX];
    int n;
    int overflow;   /* an argument did not fit */
};

/* Appends a copy of s (NULL = ""). */
void store_argv_add(struct store_argv *a, const char *s);
/* Appends a formatted argument. */
void store_argv_addf(struct store_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts "EVAL script nkeys"; the caller adds the keys, then the arguments. */
void store_argv_eval(struct store_argv *a, const char *script, int nkeys);
/* Runs the command and frees the arguments. NULL with *rc set on failure
 * (error replies included; FW_EINTERNAL when arguments did not fit). */
redisReply *store_argv_run(struct store_argv *a, int *rc);
/* Frees the arguments without running (run does it itself). */
void store_argv_free(struct store_argv *a);

#endif
