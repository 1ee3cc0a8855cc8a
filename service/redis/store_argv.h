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

struct redis_script;

struct store_argv {
    char *s[STORE_ARGV_MAX];
    int n;
    int overflow;                      /* an argument did not fit */
    const struct redis_script *script; /* set by store_argv_script */
    int nkeys;
};

/* Appends a copy of s (NULL = ""). */
void store_argv_add(struct store_argv *a, const char *s);
/* Appends a formatted argument. */
void store_argv_addf(struct store_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a keyset page's position as the list scripts take it: the last item's creation ms
 * ("" when ms < 0: the first page), its id, and the page's limit. */
void store_argv_add_keyset(struct store_argv *a, long long ms, const char *id, int limit);
/* Makes the command a run of an embedded script (service/redis/script.h):
 * the caller adds the nkeys keys, then the arguments; store_argv_run runs
 * it with EVALSHA. Call it first, on an empty argv. */
void store_argv_script(struct store_argv *a, const struct redis_script *s, int nkeys);
/* Runs the command and frees the arguments. NULL with *rc set on failure
 * (reply.h: FW_EUNAVAILABLE, FW_EREDIS, a script's FW_E* code;
 * FW_EINTERNAL when arguments did not fit). */
redisReply *store_argv_run(struct store_argv *a, int *rc);
/* Runs the command for its effect only (the reply is freed): 0, or the code run gives. */
int store_argv_exec(struct store_argv *a);
/* Runs a command (a script) that answers an integer: 0 with *n the integer (0 when the answer is
 * no integer), or the code run gives (*n 0). */
int store_argv_run_int(struct store_argv *a, long long *n);
/* Frees the arguments without running (run does it itself). */
void store_argv_free(struct store_argv *a);

#endif
