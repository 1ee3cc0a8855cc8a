/*
 * raw_queue.c - the raw ceiling for the queue benchmark: a bare hiredis
 * "reliable queue" with no job records at all.
 *
 * One producer thread LPUSHes N ids; C consumer threads each BLMOVE an id
 * from q:jobs to q:processing and LREM it (the ack). Every thread has its
 * own connection; nothing is pipelined. Timed from start to the last ack.
 * Usage: raw-queue PORT N [CONSUMERS]. Prints "raw jobs/s: X".
 * Test tool, not product code (built by tests/bench/queue/run.sh).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <hiredis/hiredis.h>

static int s_port;
static long s_n;
static atomic_long s_acked;

static redisContext *conn(void)
{
    redisContext *c = redisConnect("127.0.0.1", s_port);
    if (!c || c->err) {
        fprintf(stderr, "raw-queue: cannot connect\n");
        exit(1);
    }
    return c;
}

static void *producer(void *arg)
{
    (void)arg;
    redisContext *c = conn();
    for (long i = 0; i < s_n; i++)
        freeReplyObject(redisCommand(c, "LPUSH bench:q:jobs job-%ld", i));
    redisFree(c);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    redisContext *c = conn();
    while (atomic_load(&s_acked) < s_n) {
        redisReply *r = redisCommand(c, "BLMOVE bench:q:jobs bench:q:processing RIGHT LEFT 0.2");
        if (r && r->type == REDIS_REPLY_STRING) {
            freeReplyObject(redisCommand(c, "LREM bench:q:processing 1 %s", r->str));
            atomic_fetch_add(&s_acked, 1);
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    s_port = atoi(argv[1]);
    s_n = atol(argv[2]);
    int nc = argc > 3 ? atoi(argv[3]) : 1;
    redisContext *c = conn();
    freeReplyObject(redisCommand(c, "DEL bench:q:jobs bench:q:processing"));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t p, cs[64];
    pthread_create(&p, NULL, producer, NULL);
    for (int i = 0; i < nc && i < 64; i++)
        pthread_create(&cs[i], NULL, consumer, NULL);
    pthread_join(p, NULL);
    for (int i = 0; i < nc && i < 64; i++)
        pthread_join(cs[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("raw jobs/s: %.0f\n", (double)s_n / s);
    redisFree(c);
    return 0;
}
