/*
 * group_probe.c - `jobs-probe group` (see group_probe.h).
 *
 * The echo script answers its one argument, which names the thread and the
 * call, so an answer handed to the wrong thread (or in the wrong order) is
 * seen as a mismatch. Its SHA-1 is learnt from SCRIPT LOAD (the runner
 * checks a reload against it).
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

static const char *const s_lines[] = {"return ARGV[1]", NULL};
static char s_sha[48];
static const struct redis_script s_echo = {"test/echo", s_sha, s_lines};

struct tally {
    int calls;
    atomic_int ok, mismatch, unavailable, other;
};

static void *caller(void *arg)
{
    struct tally *t = arg;
    static atomic_int next_thread;
    int me = atomic_fetch_add(&next_thread, 1);
    for (int i = 0; i < t->calls; i++) {
        char want[48];
        snprintf(want, sizeof want, "t%d.c%d", me, i);
        const char *argv[] = {want};
        redisReply *r = NULL;
        int rc = redis_script_run_grouped(&s_echo, 0, 1, argv, NULL, &r);
        if (rc == 0) {
            int same = r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0;
            atomic_fetch_add(same ? &t->ok : &t->mismatch, 1);
            freeReplyObject(r);
        } else {
            atomic_fetch_add(rc == FW_EUNAVAILABLE ? &t->unavailable : &t->other, 1);
        }
    }
    store_conn_close();
    return NULL;
}

/* Learns the echo script's SHA-1, then forgets every script unless keep. */
static int load_echo(int keep)
{
    int rc;
    redisReply *r = store_conn_cmd(&rc, "SCRIPT LOAD %s", s_lines[0]);
    if (!r)
        return rc;
    snprintf(s_sha, sizeof s_sha, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    if (!keep && (r = store_conn_cmd(&rc, "SCRIPT FLUSH")) != NULL)
        freeReplyObject(r);
    return s_sha[0] ? 0 : FW_EREDIS;
}

int group_probe(int threads, int calls, int keep_scripts, int wait_go)
{
    if (threads < 1 || threads > 64 || load_echo(keep_scripts) != 0)
        return 2;
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (wait_go && !fgets(line, sizeof line, stdin))
        return 2;
    struct tally t = {.calls = calls};
    pthread_t th[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, caller, &t);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    redis_script_group_close();
    printf("ok %d mismatch %d unavailable %d other %d\n", atomic_load(&t.ok),
           atomic_load(&t.mismatch), atomic_load(&t.unavailable), atomic_load(&t.other));
    return 0;
}
