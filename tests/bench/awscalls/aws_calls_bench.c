/*
 * aws_calls_bench.c - AWS calls per second through aws/, against the emulator.
 *
 *   aws-calls-bench OP N [THREADS]     OP: sts (GetCallerIdentity) or iot
 *                                          (DescribeEndpoint)
 *
 * Runs N calls three ways and prints one line per mode: "reuse" (one client
 * and HTTP handle, kept-alive connection), "fresh" (a new client and handle
 * per call: new TCP connection, new credentials lookup) and, with THREADS,
 * "threads" (THREADS workers, each with its own client, sharing one
 * credentials provider and one retry quota - the service's layout). The
 * endpoint and credentials come from the environment (AWS_ENDPOINT_URL...).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/client.h"
#include "aws/creds.h"
#include "aws/http.h"
#include "aws/iot.h"
#include "aws/retry.h"
#include "aws/sts.h"
#include "service/core/log.h"

struct bench {
    const char *op;
    long n;
    struct creds_provider *creds;
    struct aws_retry_quota *quota;
    long failures;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one_call(struct aws_client *c, const char *op)
{
    if (strcmp(op, "iot") == 0) {
        char *address = 0;
        int rc = iot_describe_endpoint(c, "iot:Data-ATS", &address, NULL);
        free(address);
        return rc;
    }
    struct sts_caller_identity id;
    int rc = sts_get_caller_identity(c, &id, NULL);
    sts_caller_identity_cleanup(&id);
    return rc;
}

static struct aws_client *new_client(struct bench *b)
{
    struct aws_client_options opt = {0};
    opt.creds = b->creds;
    opt.quota = b->quota;
    struct aws_client *c = 0;
    if (aws_client_new(&opt, &c, NULL))
        return 0;
    return c;
}

static long run_reuse(struct bench *b, long n)
{
    struct aws_client *c = new_client(b);
    long failed = 0;
    for (long i = 0; c && i < n; i++)
        failed += one_call(c, b->op) != 0;
    aws_client_free(c);
    return failed;
}

static long run_fresh(struct bench *b, long n)
{
    long failed = 0;
    for (long i = 0; i < n; i++) {
        struct aws_client_options opt = {0}; /* default chain each time, as a naive caller would */
        struct aws_client *c = 0;
        if (aws_client_new(&opt, &c, NULL)) {
            failed++;
            continue;
        }
        failed += one_call(c, b->op) != 0;
        aws_client_free(c);
    }
    return failed;
}

struct worker {
    struct bench *b;
    long n;
    long failed;
    pthread_t tid;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->failed = run_reuse(w->b, w->n);
    return NULL;
}

static long run_threads(struct bench *b, int threads)
{
    struct worker *w = calloc((size_t)threads, sizeof *w);
    long failed = 0;
    for (int i = 0; i < threads; i++) {
        w[i].b = b;
        w[i].n = b->n / threads;
        pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].tid, NULL);
        failed += w[i].failed;
    }
    free(w);
    return failed;
}

static void report(const char *mode, long n, double secs, long failed)
{
    printf("%-8s calls=%ld seconds=%.3f calls_per_s=%.0f mean_ms=%.3f failed=%ld\n", mode, n, secs,
           (double)n / secs, secs * 1000.0 / (double)n, failed);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: aws-calls-bench sts|iot N [THREADS]\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    struct bench b = {argv[1], strtol(argv[2], NULL, 10), 0, 0, 0};
    int threads = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 0;
    b.creds = creds_provider_default_chain(NULL);
    b.quota = aws_retry_quota_new(AWS_RETRY_QUOTA_INITIAL);
    run_reuse(&b, 20); /* warm-up: credentials resolved, code paged in */
    double t0 = now_s();
    long f = run_reuse(&b, b.n);
    report("reuse", b.n, now_s() - t0, f);
    t0 = now_s();
    f = run_fresh(&b, b.n);
    report("fresh", b.n, now_s() - t0, f);
    if (threads > 0) {
        t0 = now_s();
        f = run_threads(&b, threads);
        report("threads", b.n / threads * threads, now_s() - t0, f);
    }
    aws_retry_quota_free(b.quota);
    creds_provider_release(b.creds);
    return 0;
}
