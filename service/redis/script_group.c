/*
 * script_group.c - group commit of scripts on shared connections (see
 * script_group.h).
 *
 * No thread of its own: the caller that finds a connection free leads
 * one group (takes every waiting call, sends them with
 * redisAppendCommandArgv, reads each answer with redisGetReply), marks the
 * calls done and wakes their threads, then wakes the first call that came
 * in meanwhile, whose thread leads the next group. So a lone call costs one
 * mutex more than redis_script_run, and a connection is used by one thread
 * at a time (its busy flag), never under the mutex. The leader also makes
 * the batches: calls of a group that may share one (same batch form, same
 * first argument) go as one EVALSHA, whose answer's elements it hands out.
 */
#include "service/redis/script_group.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/redis/reply.h"
#include "service/redis/store_conn.h"

struct group_call {
    struct redis_script_call call;
    const struct redis_script *many; /* call.s's batch form (script_group.h), or NULL */
    struct redisReply *reply;        /* the answer, owned by the caller once done */
    int rc;
    int done;
    pthread_cond_t cond; /* signalled when done, or when this call is to lead */
    struct group_call *next;
};

/* Connections groups go on: a group may be sent on one while another's answers are awaited
 * on the other, so Redis always has the next group in hand (one alone left Redis idle while the
 * answers were handed out and the next group was sent: fewer jobs/s with many workers). */
#define GROUP_CONNS 2

struct group_conn {
    int busy;                     /* a group is on the wire; its leader alone uses slot */
    struct store_conn_slot *slot; /* created on first use */
};

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static struct group_call *s_head, *s_tail; /* waiting to be sent */
static struct group_conn s_conns[GROUP_CONNS];

/* What goes on the wire for a group: one EVALSHA per call, but calls with the same batch form
 * and the same first argument go as one EVALSHA of the batch form. */
struct unit {
    struct group_call *first;      /* the unit's one call, or its batch's first */
    int m;                         /* calls in the unit */
    struct group_call **calls;     /* batch only: the m calls, in the batch's order */
    struct redis_script_call send; /* batch only: the batch's EVALSHA */
    char (*counts)[12];            /* batch only: each call's argument count, as text */
};

/* Whether k may go in b's batch: same batch form, no keys, the same first argument. */
static int same_batch(const struct group_call *b, const struct group_call *k)
{
    const struct redis_script_call *x = &b->call, *y = &k->call;
    return k->many && k->many == b->many && strcmp(x->nk, "0") == 0 && strcmp(y->nk, "0") == 0 &&
           x->n > 3 && y->n > 3 && y->al[3] == x->al[3] &&
           memcmp(y->av[3], x->av[3], x->al[3]) == 0;
}

/* Makes the batch EVALSHA of u's calls: the shared first argument, then each call's count and
 * its further arguments (run_batch in service/redis/lua/runner.lua). */
static void batch_init(struct unit *u)
{
    int argc = 1;
    for (int i = 0; i < u->m; i++)
        argc += 1 + u->calls[i]->call.n - 4;
    const char **av = xcalloc((size_t)argc, sizeof *av);
    size_t *al = xcalloc((size_t)argc, sizeof *al);
    u->counts = xcalloc((size_t)u->m, sizeof *u->counts);
    const struct redis_script_call *c0 = &u->calls[0]->call;
    int j = 0;
    av[j] = c0->av[3], al[j++] = c0->al[3];
    for (int i = 0; i < u->m; i++) {
        const struct redis_script_call *k = &u->calls[i]->call;
        al[j] = (size_t)snprintf(u->counts[i], sizeof u->counts[i], "%d", k->n - 4);
        av[j++] = u->counts[i];
        for (int a = 4; a < k->n; a++)
            av[j] = k->av[a], al[j++] = k->al[a];
    }
    redis_script_call_init(&u->send, u->calls[0]->many, 0, argc, av, al);
    free(av);
    free(al);
}

/* Splits the units of group g (n calls) off; returns how many. */
static int make_units(struct group_call *g, int n, struct unit *units)
{
    struct group_call **taken = xcalloc((size_t)n, sizeof *taken);
    int nu = 0, nt = 0;
    for (struct group_call *k = g; k; k = k->next) {
        int done = 0;
        for (int t = 0; t < nt && !done; t++)
            done = taken[t] == k;
        if (done)
            continue;
        struct unit *u = &units[nu++];
        *u = (struct unit){.first = k, .m = 1};
        if (!k->many)
            continue;
        for (struct group_call *o = k->next; o; o = o->next)
            if (same_batch(k, o))
                u->m++;
        if (u->m == 1)
            continue;
        u->calls = xcalloc((size_t)u->m, sizeof *u->calls);
        int i = 0;
        u->calls[i++] = k;
        for (struct group_call *o = k->next; o; o = o->next)
            if (same_batch(k, o))
                u->calls[i++] = taken[nt++] = o;
        batch_init(u);
    }
    free(taken);
    return nu;
}

/* Hands each call of batch u its element of the batch's answer arr (taken). */
static void batch_answers(struct unit *u, redisReply *arr)
{
    if (arr->type != REDIS_REPLY_ARRAY || arr->elements != (size_t)u->m) {
        log_event(LOG_ERROR, "redis script: a batch answered other than one element per call",
                  LOG_STR("script", u->send.s->name), LOG_INT("calls", u->m));
        for (int i = 0; i < u->m; i++)
            u->calls[i]->rc = FW_EREDIS;
    } else {
        for (int i = 0; i < u->m; i++) {
            struct group_call *k = u->calls[i];
            redisReply *e = arr->element[i];
            arr->element[i] = NULL; /* now k's: freeReplyObject skips it */
            k->rc = redis_reply_rc(e, k->call.s->name);
            if (k->rc)
                freeReplyObject(e);
            else
                k->reply = e;
        }
    }
    freeReplyObject(arr);
}

/* Takes unit u's answer raw (NULL: none came) on c, idle. FW_EUNAVAILABLE when c broke. */
static int unit_answer(redisContext *c, struct unit *u, redisReply *raw)
{
    if (!u->calls) {
        u->first->rc = redis_script_answer(c, &u->first->call, raw, &u->first->reply);
        return u->first->rc;
    }
    redisReply *arr = NULL;
    int rc = redis_script_answer(c, &u->send, raw, &arr);
    if (rc == 0)
        batch_answers(u, arr);
    for (int i = 0; rc && i < u->m; i++)
        u->calls[i]->rc = rc;
    return rc;
}

static void unit_free(struct unit *u)
{
    if (!u->calls)
        return;
    redis_script_call_free(&u->send);
    free(u->calls);
    free(u->counts);
}

/* Sends group g (n calls) on slot and fills each call's answer. */
static void send_group(struct store_conn_slot *slot, struct group_call *g, int n)
{
    redisContext *c = store_conn_slot_get(slot);
    if (!c) {
        for (struct group_call *k = g; k; k = k->next)
            k->rc = FW_EUNAVAILABLE;
        return;
    }
    struct unit *units = xcalloc((size_t)n, sizeof *units);
    int nu = make_units(g, n, units);
    for (int i = 0; i < nu; i++) {
        const struct redis_script_call *k = units[i].calls ? &units[i].send : &units[i].first->call;
        redisAppendCommandArgv(c, k->n, k->av, k->al);
    }
    redisReply **raw = xcalloc((size_t)nu, sizeof *raw);
    int broken = 0;
    for (int i = 0; i < nu; i++) {
        void *r = NULL;
        if (!broken && redisGetReply(c, &r) != REDIS_OK)
            broken = 1;
        raw[i] = broken ? NULL : r;
    }
    /* Only now, with no answer pending on c, may a NOSCRIPT answer load its script. */
    broken = 0;
    for (int i = 0; i < nu; i++) {
        broken |= unit_answer(c, &units[i], raw[i]) == FW_EUNAVAILABLE;
        unit_free(&units[i]);
    }
    free(raw);
    free(units);
    if (broken)
        store_conn_slot_broken(slot); /* hiredis: a context after an I/O error is useless */
}

/* A connection no group is on, or NULL. Under s_mu. */
static struct group_conn *free_conn(void)
{
    for (int i = 0; i < GROUP_CONNS; i++)
        if (!s_conns[i].busy)
            return &s_conns[i];
    return NULL;
}

/* Leads one group on gc; called and returns with s_mu held. */
static void lead(struct group_conn *gc)
{
    gc->busy = 1;
    struct group_call *g = s_head;
    s_head = s_tail = NULL;
    if (!gc->slot)
        gc->slot = store_conn_slot_new();
    int n = 0;
    for (struct group_call *k = g; k; k = k->next)
        n++;
    pthread_mutex_unlock(&s_mu);
    send_group(gc->slot, g, n);
    pthread_mutex_lock(&s_mu);
    for (struct group_call *k = g, *next; k; k = next) {
        next = k->next; /* k's thread may return as soon as s_mu is free */
        k->done = 1;
        pthread_cond_signal(&k->cond);
    }
    gc->busy = 0;
    if (s_head)
        pthread_cond_signal(&s_head->cond); /* its thread leads the next group */
}

/* Queues a call (of many's batch form, if not NULL) and waits for its answer. */
static int run(const struct redis_script *s, const struct redis_script *many, int nkeys, int argc,
               const char *const *argv, const size_t *lens, struct redisReply **out)
{
    struct group_call me = {.many = many};
    redis_script_call_init(&me.call, s, nkeys, argc, argv, lens);
    pthread_cond_init(&me.cond, NULL);
    pthread_mutex_lock(&s_mu);
    if (s_tail)
        s_tail->next = &me;
    else
        s_head = &me;
    s_tail = &me;
    while (!me.done) {
        /* Lead only while calls wait (ours, unless a group took it and we woke spuriously). */
        struct group_conn *gc = s_head ? free_conn() : NULL;
        if (gc)
            lead(gc);
        else
            pthread_cond_wait(&me.cond, &s_mu);
    }
    pthread_mutex_unlock(&s_mu);
    pthread_cond_destroy(&me.cond);
    redis_script_call_free(&me.call);
    if (me.rc == 0)
        *out = me.reply;
    return me.rc;
}

int redis_script_run_grouped(const struct redis_script *s, int nkeys, int argc,
                             const char *const *argv, const size_t *lens, struct redisReply **out)
{
    return run(s, NULL, nkeys, argc, argv, lens, out);
}

int redis_script_run_batched(const struct redis_script *s, const struct redis_script *many,
                             int argc, const char *const *argv, const size_t *lens,
                             struct redisReply **out)
{
    return run(s, many, 0, argc, argv, lens, out);
}

void redis_script_group_close(void)
{
    pthread_mutex_lock(&s_mu);
    for (int i = 0; i < GROUP_CONNS; i++)
        if (!s_conns[i].busy && s_conns[i].slot) {
            store_conn_slot_free(s_conns[i].slot);
            s_conns[i].slot = NULL;
        }
    pthread_mutex_unlock(&s_mu);
}
