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
 * at a time (its busy flag), never under the mutex.
 */
#include "service/redis/script_group.h"

#include <pthread.h>
#include <stdlib.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/redis/store_conn.h"

struct group_call {
    struct redis_script_call call;
    struct redisReply *reply; /* the answer, owned by the caller once done */
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

/* Reads the group's answers in order; a broken connection leaves the rest NULL. */
static void read_answers(redisContext *c, struct group_call *g, redisReply **raw)
{
    int broken = 0, i = 0;
    for (struct group_call *k = g; k; k = k->next, i++) {
        void *r = NULL;
        if (!broken && redisGetReply(c, &r) != REDIS_OK)
            broken = 1;
        raw[i] = broken ? NULL : r;
    }
}

/* Sends group g on slot and fills each call's answer. */
static void send_group(struct store_conn_slot *slot, struct group_call *g, int n)
{
    redisContext *c = store_conn_slot_get(slot);
    if (!c) {
        for (struct group_call *k = g; k; k = k->next)
            k->rc = FW_EUNAVAILABLE;
        return;
    }
    for (struct group_call *k = g; k; k = k->next)
        redisAppendCommandArgv(c, k->call.n, k->call.av, k->call.al);
    redisReply **raw = xcalloc((size_t)n, sizeof *raw);
    read_answers(c, g, raw);
    int i = 0, broken = 0;
    /* Only now, with no answer pending on c, may a NOSCRIPT answer load its script. */
    for (struct group_call *k = g; k; k = k->next, i++) {
        k->rc = redis_script_answer(c, &k->call, raw[i], &k->reply);
        broken |= k->rc == FW_EUNAVAILABLE;
    }
    free(raw);
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

int redis_script_run_grouped(const struct redis_script *s, int nkeys, int argc,
                             const char *const *argv, const size_t *lens, struct redisReply **out)
{
    struct group_call me = {.rc = 0};
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
