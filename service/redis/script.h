/*
 * script.h - the one way fleetwarden runs Lua in Redis.
 *
 * Every script is a .lua file, embedded at build time by
 * service/redis/lua_embed.py (which also computes its SHA-1), run with
 * EVALSHA on the calling thread's connection and loaded again on NOSCRIPT
 * (Redis restarted, failed over or SCRIPT FLUSH). The embedded text is
 * the definitions of lua/runner.lua and of the folder's own prelude that
 * the script uses, then the script.
 *
 * The rules every script follows (lua/runner.lua has the helpers):
 *   Errors. A script that ends in an expected outcome other than success
 *     (not found, conflict, ...) returns fw_error('NOTFOUND', 'why'): an
 *     error reply "FW_ENOTFOUND why" that redis_reply_rc maps onto that
 *     FW_E* code. It does so before its first write (Redis keeps writes
 *     made before an error). No numeric "error" return codes. Anything
 *     else that goes wrong is FW_EREDIS, logged once (reply.h).
 *   Clock. A script that needs the time reads Redis server time (now_ms(),
 *     TIME: Redis 7 replicates script effects, so this is safe); C passes
 *     only durations (TTL, lease, backoff, delay). So no process's clock
 *     ever decides an order or an expiry. The exceptions are times a caller
 *     chose as such (a job's run_at, an incident's watch cycle) and the
 *     request rate limits' windows: service/redis/README.md lists them.
 *   Keys. Either KEYS (nkeys > 0) or, for the job scripts, the key prefix as
 *     ARGV[1] with key names built from it (one Redis, not Cluster).
 *
 * Thread-safe: the table is read-only; each thread uses its own connection.
 */
#ifndef FW_REDIS_SCRIPT_H
#define FW_REDIS_SCRIPT_H

#include <stddef.h>

struct redisContext;
struct redisReply;

struct redis_script {
    const char *name;         /* for logs, "jobs/claim" */
    const char *sha;          /* SHA-1 (hex) of the text, computed at build time */
    const char *const *lines; /* the text as NULL-terminated lines (ISO C caps literals) */
};

/* Runs s with nkeys keys then arguments, all in argv[0..argc) (lens may be
 * NULL: C strings). 0 with *out the reply (free with freeReplyObject), or
 * FW_EUNAVAILABLE (Redis cannot be reached; the connection is dropped for
 * a reconnect), FW_EREDIS (logged), or the code a script gave fw_error(). */
int redis_script_run(const struct redis_script *s, int nkeys, int argc, const char *const *argv,
                     const size_t *lens, struct redisReply **out);

/* One EVALSHA of a script as hiredis's argv, for a caller that sends it
 * itself (script_group.c pipelines many on one connection). */
#define REDIS_SCRIPT_STACK_ARGS 32
struct redis_script_call {
    const struct redis_script *s;
    int n; /* elements of av and al */
    const char **av;
    size_t *al;
    char nk[16];
    const char *stack_av[REDIS_SCRIPT_STACK_ARGS + 3];
    size_t stack_al[REDIS_SCRIPT_STACK_ARGS + 3];
};
/* Fills k with EVALSHA s nkeys argv...; the strings are borrowed, not copied. */
void redis_script_call_init(struct redis_script_call *k, const struct redis_script *s, int nkeys,
                            int argc, const char *const *argv, const size_t *lens);
void redis_script_call_free(struct redis_script_call *k);
/* Takes r, the answer to k read from c (NULL: none came, c failed), with
 * c idle (no other answer pending): on NOSCRIPT loads the script and sends
 * k once more. Then as redis_script_run: 0 with *out, or the mapped code
 * (FW_EUNAVAILABLE: c is broken; the caller drops it). */
int redis_script_answer(struct redisContext *c, const struct redis_script_call *k,
                        struct redisReply *r, struct redisReply **out);

/* The full text of s (malloc'd), as SCRIPT LOAD sends it. */
char *redis_script_text(const struct redis_script *s);

#endif
