/*
 * sigv4_bench.c - signatures per second of aws/sigv4.c (sigv4-bench).
 *
 * The request of shared/research/limits.md section 3: POST
 * https://a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com/topics/devices/dev-0001/telemetry?qos=1,
 * service iotdata, static credentials, a 300-byte JSON body, signed headers
 * content-type;host;x-amz-date. Every iteration builds a fresh request and
 * signs it (payload SHA-256, canonical request, string to sign, signature,
 * Authorization value); 200 warm-up iterations first.
 *
 *   sigv4-bench check          print the signature for 2024-01-15T09:30:00Z
 *   sigv4-bench cached N       N signatures, signing key cache warm (our normal path)
 *   sigv4-bench uncached N     N signatures, key derived every time (cache cleared)
 * Timing lines: "MODE N SECONDS SIGS_PER_S".
 * Built by meson (tests/unit/aws/meson.build); never run by meson test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/sigv4.h"

#define BENCH_TIME 1705311000 /* 2024-01-15T09:30:00Z */
#define BENCH_BODY_LEN 300

/* The same 300-byte body as tests/bench/sigv4/sigv4_py.py builds. */
static void make_body(char body[BENCH_BODY_LEN + 1])
{
    const char *head =
        "{\"deviceId\":\"dev-0001\",\"ts\":1705311000,\"temp\":21.5,\"hum\":40.25,\"pad\":\"";
    const char *tail = "\"}";
    size_t h = strlen(head), t = strlen(tail);
    memcpy(body, head, h);
    memset(body + h, 'x', BENCH_BODY_LEN - h - t);
    memcpy(body + BENCH_BODY_LEN - t, tail, t);
    body[BENCH_BODY_LEN] = '\0';
}

static int sign_once(const char *body, char *sig_out)
{
    const struct sigv4_header headers[] = {
        {"Content-Type", "application/json"},
        {"Host", "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"},
    };
    const struct sigv4_request req = {
        "POST", "/topics/devices/dev-0001/telemetry", "qos=1", headers, 2, body, BENCH_BODY_LEN};
    const struct sigv4_params p = {"AKIDEXAMPLE",
                                   "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                   NULL,
                                   "eu-west-1",
                                   "iotdata",
                                   BENCH_TIME,
                                   1,
                                   0};
    struct sigv4_result res;
    int rc = sigv4_sign(&req, &p, &res);
    if (rc)
        return rc;
    if (sig_out) {
        const char *s = strstr(buf_cstr(&res.authorization), "Signature=");
        snprintf(sig_out, 65, "%s", s ? s + 10 : "");
    }
    buf_free(&res.authorization);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *mode, long n, const char *body)
{
    int uncached = !strcmp(mode, "uncached");
    for (int i = 0; i < 200; i++) {
        if (sign_once(body, NULL))
            return 1;
    }
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (uncached)
            sigv4_cache_clear();
        if (sign_once(body, NULL))
            return 1;
    }
    double dt = now_s() - t0;
    printf("%s %ld %.4f %.0f\n", mode, n, dt, (double)n / dt);
    return 0;
}

int main(int argc, char **argv)
{
    char body[BENCH_BODY_LEN + 1];
    char sig[65];
    make_body(body);
    if (argc >= 2 && !strcmp(argv[1], "check")) {
        if (sign_once(body, sig))
            return 1;
        printf("%s\n", sig);
        return 0;
    }
    if (argc < 3 || (strcmp(argv[1], "cached") != 0 && strcmp(argv[1], "uncached") != 0)) {
        fprintf(stderr, "usage: sigv4-bench check | cached N | uncached N\n");
        return 2;
    }
    int rc = run(argv[1], strtol(argv[2], NULL, 10), body);
    sigv4_cache_clear();
    return rc;
}
