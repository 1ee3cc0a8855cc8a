/*
 * group_probe.c - `jobs-probe group` (see group_probe.h).
 *
 * The echo script (lua/prelude.lua) answers the call's name, which names
 * the thread and the call, so an answer handed to the wrong thread (or in
 * the wrong order) is seen as a mismatch. Every tenth call asks for
 * FW_ECONFLICT and every tenth (offset by five) raises an error, so a batch
 * holds answers and errors side by side.
 */
#include "group_probe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/redis/script_group.h"
#include "service/redis/store_conn.h"
#include "tests/tools/jobs-probe/probe_lua.h" /* generated from lua/ */

#define PROBE_PREFIX "fw:probe:"

struct tally {
    int calls, batch;
    atomic_int ok, mismatch, conflict, unavailable, other;
};

/* Call i of thread me: its name, and the answer it asks for. */
static void call_name(int me, int i, char *name, size_t size)
{
    const char *kind = i % 10 == 0 ? "conflict." : i % 10 == 5 ? "raise." : "";
    snprintf(name, size, "%st%d.c%d", kind, me, i);
}

static void count(struct tally *t, int rc, const redisReply *r, const char *name)
{
    if (rc == 0) {
        int same = r->type == REDIS_REPLY_STRING && strcmp(r->str, name) == 0;
        atomic_fetch_add(same ? &t->ok : &t->mismatch, 1);
    } else {
        atomic_fetch_add(rc == FW_ECONFLICT      ? &t->conflict
                         : rc == FW_EUNAVAILABLE ? &t->unavailable
                                                 : &t->other,
                         1);
    }
}

static void *caller(void *arg)
{
    struct tally *t = arg;
    static atomic_int next_thread;
    int me = atomic_fetch_add(&next_thread, 1);
    for (int i = 0; i < t->calls; i++) {
        char name[48];
        call_name(me, i, name, sizeof name);
        const char *argv[] = {PROBE_PREFIX, name};
        redisReply *r = NULL;
        int rc = t->batch ? redis_script_run_batched(&probe_lua_echo, &probe_lua_echo_many, 2, argv,
                                                     NULL, &r)
                          : redis_script_run_grouped(&probe_lua_echo, 0, 2, argv, NULL, &r);
        count(t, rc, r, name);
        if (rc == 0)
            freeReplyObject(r);
    }
    store_conn_close();
    return NULL;
}

/* Empties the probe's counters and, unless keep, Redis's script cache. */
static int reset(int keep)
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "DEL %sran %sraised", PROBE_PREFIX, PROBE_PREFIX);
    if (!r)
        return rc;
    freeReplyObject(r);
    if (!keep && (r = store_conn_cmd(&rc, "SCRIPT FLUSH")) != NULL)
        freeReplyObject(r);
    return rc;
}

int group_probe(int threads, int calls, int keep_scripts, int wait_go, int batch)
{
    if (threads < 1 || threads > 64 || reset(keep_scripts) != 0)
        return 2;
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (wait_go && !fgets(line, sizeof line, stdin))
        return 2;
    struct tally t = {.calls = calls, .batch = batch};
    pthread_t th[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, caller, &t);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    redis_script_group_close();
    printf("ok %d mismatch %d conflict %d unavailable %d other %d\n", atomic_load(&t.ok),
           atomic_load(&t.mismatch), atomic_load(&t.conflict), atomic_load(&t.unavailable),
           atomic_load(&t.other));
    return 0;
}
