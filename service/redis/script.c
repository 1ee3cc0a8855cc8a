/*
 * script.c - EVALSHA with NOSCRIPT reload (see script.h).
 *
 * The SHA-1 comes from the build (lua_embed.py), so running a script needs
 * no state here: the common path is one EVALSHA. The text is joined only to
 * load it after NOSCRIPT; SCRIPT LOAD's answer must be the same SHA-1, else
 * the embedded text and its SHA-1 disagree (a build bug, reported).
 */
#include "service/redis/script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/redis/reply.h"
#include "service/redis/store_conn.h"

#define SCRIPT_STACK_ARGS 32

char *redis_script_text(const struct redis_script *s)
{
    size_t n = 1;
    for (const char *const *l = s->lines; *l; l++)
        n += strlen(*l);
    char *text = xmalloc(n);
    size_t off = 0;
    for (const char *const *l = s->lines; *l; l++) {
        size_t k = strlen(*l);
        memcpy(text + off, *l, k);
        off += k;
    }
    text[off] = '\0';
    return text;
}

static int is_noscript(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

/* SCRIPT LOAD of s on c. 0, FW_EUNAVAILABLE or FW_EREDIS. */
static int load(redisContext *c, const struct redis_script *s)
{
    char *text = redis_script_text(s);
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", text);
    free(text);
    int rc = redis_reply_rc(r, s->name);
    if (rc == 0 && (r->type != REDIS_REPLY_STRING || strcmp(r->str, s->sha) != 0)) {
        log_event(LOG_ERROR, "redis script: loaded text has another SHA-1 than embedded",
                  LOG_STR("script", s->name), LOG_STR("sha", s->sha));
        rc = FW_EREDIS;
    }
    if (r)
        freeReplyObject(r);
    return rc;
}

/* EVALSHA s on c, and once more after loading it on NOSCRIPT. The reply,
 * or NULL with *rc set (FW_EUNAVAILABLE when c broke). */
static redisReply *run_on(redisContext *c, const struct redis_script *s, int n, const char **av,
                          const size_t *al, int *rc)
{
    *rc = 0;
    redisReply *r = redisCommandArgv(c, n, av, al);
    if (is_noscript(r)) {
        freeReplyObject(r);
        *rc = load(c, s);
        r = *rc == 0 ? redisCommandArgv(c, n, av, al) : NULL;
    }
    if (!r && (c->err || *rc == 0))
        *rc = FW_EUNAVAILABLE;
    return r;
}

int redis_script_run(const struct redis_script *s, int nkeys, int argc, const char *const *argv,
                     const size_t *lens, struct redisReply **out)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EUNAVAILABLE;
    const char *stack_av[SCRIPT_STACK_ARGS + 3];
    size_t stack_al[SCRIPT_STACK_ARGS + 3];
    int big = argc > SCRIPT_STACK_ARGS;
    const char **av = big ? xmalloc(sizeof *av * (size_t)(argc + 3)) : stack_av;
    size_t *al = big ? xmalloc(sizeof *al * (size_t)(argc + 3)) : stack_al;
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    av[0] = "EVALSHA", av[1] = s->sha, av[2] = nk;
    for (int i = 0; i < 3; i++)
        al[i] = strlen(av[i]);
    for (int i = 0; i < argc; i++) {
        av[3 + i] = argv[i];
        al[3 + i] = lens ? lens[i] : strlen(argv[i]);
    }
    int rc;
    redisReply *r = run_on(c, s, argc + 3, av, al, &rc);
    if (big) {
        free(av);
        free(al);
    }
    if (r)
        rc = redis_reply_rc(r, s->name);
    if (rc == FW_EUNAVAILABLE)
        store_conn_broken(); /* hiredis: a context after an I/O error is useless */
    if (rc && r)
        freeReplyObject(r);
    if (rc)
        return rc;
    *out = r;
    return 0;
}
