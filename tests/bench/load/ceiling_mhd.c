/*
 * ceiling_mhd.c - the ceiling of an HTTP read endpoint on this machine, measured in the same
 * run as fleetwarden (tests/bench/load/run.sh, tests/bench/run-all.sh): libmicrohttpd with an
 * internal polling thread pool of 2 (as in ../shared/research/limits.md section 2) answering
 *   static  a fixed 100-byte JSON body, or
 *   redis   the same body read with one synchronous hiredis GET per request (one connection
 *           per MHD thread).
 * usage: ceiling-mhd PORT static|redis REDIS_PORT [THREADS]
 */
#include <hiredis/hiredis.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char BODY[] =
    "{\"id\":\"bench\",\"state\":\"ready\",\"region\":\"us-east-1\",\"items\":[1,2,3],"
    "\"note\":\"one hundred bytes of json\"}";
static int s_redis_port;
static int s_static;
static __thread redisContext *t_redis;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **ptr)
{
    (void)cls, (void)url, (void)method, (void)version, (void)data, (void)size;
    if (!*ptr) {
        *ptr = (void *)1;
        return MHD_YES;
    }
    struct MHD_Response *r;
    if (s_static) {
        r = MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
    } else {
        if (!t_redis)
            t_redis = redisConnect("127.0.0.1", s_redis_port);
        redisReply *rep = t_redis ? redisCommand(t_redis, "GET bench:item") : 0;
        if (!rep || rep->type != REDIS_REPLY_STRING) {
            if (rep)
                freeReplyObject(rep);
            r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            enum MHD_Result ret = MHD_queue_response(c, 500, r);
            MHD_destroy_response(r);
            return ret;
        }
        r = MHD_create_response_from_buffer(rep->len, rep->str, MHD_RESPMEM_MUST_COPY);
        freeReplyObject(rep);
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT static|redis REDIS_PORT [THREADS]\n", argv[0]);
        return 2;
    }
    s_static = !strcmp(argv[2], "static");
    s_redis_port = atoi(argv[3]);
    unsigned threads = argc > 4 ? (unsigned)atoi(argv[4]) : 2;
    if (!s_static) {
        redisContext *rc = redisConnect("127.0.0.1", s_redis_port);
        redisReply *rep = rc ? redisCommand(rc, "SET bench:item %s", BODY) : 0;
        if (!rep)
            return 1;
        freeReplyObject(rep);
        redisFree(rc);
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)atoi(argv[1]), 0, 0, on_request, 0,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
    if (!d)
        return 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, 0);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
