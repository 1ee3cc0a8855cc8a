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

void redis_script_call_init(struct redis_script_call *k, const struct redis_script *s, int nkeys,
                            int argc, const char *const *argv, const size_t *lens)
{
    k->s = s;
    k->n = argc + 3;
    int big = argc > REDIS_SCRIPT_STACK_ARGS;
    k->av = big ? xmalloc(sizeof *k->av * (size_t)k->n) : k->stack_av;
    k->al = big ? xmalloc(sizeof *k->al * (size_t)k->n) : k->stack_al;
    snprintf(k->nk, sizeof k->nk, "%d", nkeys);
    k->av[0] = "EVALSHA", k->av[1] = s->sha, k->av[2] = k->nk;
    for (int i = 0; i < 3; i++)
        k->al[i] = strlen(k->av[i]);
    for (int i = 0; i < argc; i++) {
        k->av[3 + i] = argv[i];
        k->al[3 + i] = lens ? lens[i] : strlen(argv[i]);
    }
}

void redis_script_call_free(struct redis_script_call *k)
{
    if (k->av != k->stack_av)
        free(k->av);
    if (k->al != k->stack_al)
        free(k->al);
}

int redis_script_answer(struct redisContext *c, const struct redis_script_call *k,
                        struct redisReply *r, struct redisReply **out)
{
    int rc = 0;
    if (is_noscript(r)) {
        freeReplyObject(r);
        rc = load(c, k->s);
        r = rc == 0 ? redisCommandArgv(c, k->n, k->av, k->al) : NULL;
    }
    if (!r && (c->err || rc == 0))
        rc = FW_EUNAVAILABLE;
    if (r)
        rc = redis_reply_rc(r, k->s->name);
    if (rc && r)
        freeReplyObject(r);
    if (rc)
        return rc;
    *out = r;
    return 0;
}

int redis_script_run(const struct redis_script *s, int nkeys, int argc, const char *const *argv,
                     const size_t *lens, struct redisReply **out)
{
    redisContext *c = store_conn_get();
    if (!c)
        return FW_EUNAVAILABLE;
    struct redis_script_call k;
    redis_script_call_init(&k, s, nkeys, argc, argv, lens);
    int rc = redis_script_answer(c, &k, redisCommandArgv(c, k.n, k.av, k.al), out);
    redis_script_call_free(&k);
    if (rc == FW_EUNAVAILABLE)
        store_conn_broken(); /* hiredis: a context after an I/O error is useless */
    return rc;
}
