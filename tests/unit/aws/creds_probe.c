/*
 * creds_probe.c - creds-probe, a test tool for tests/integration/test_creds.py.
 *
 * Resolves credentials through the default chain (or one provider with
 * --provider) using the real process environment, and prints one JSON
 * line per resolution on stdout: rc, source, access key id, expiry, and
 * SHA-256 digests of the secret key and session token (never the secrets
 * themselves). Options:
 *   --gets N        resolve N times on the same provider (default 1)
 *   --sleep-ms MS   pause between resolutions
 *   --threads T     resolve once from each of T threads at the same time
 *   --provider P    env | webid | profile | container | imds | chain (default: chain)
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/creds.h"
#include "aws/creds_internal.h"
#include "service/core/err.h"

static pthread_mutex_t s_out_lock = PTHREAD_MUTEX_INITIALIZER;

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    out[0] = '\0';
    if (!s || !EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL))
        return;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void print_result(int rc, const struct creds *c, const struct aws_api_error *err)
{
    char secret_sha[65], token_sha[65];
    sha256_hex(c->secret_access_key, secret_sha);
    sha256_hex(c->session_token, token_sha);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "rc", fw_err_name(rc), "source",
                  c->source, "access_key_id", c->access_key_id ? c->access_key_id : "",
                  "secret_sha256", secret_sha, "token_sha256", token_sha, "expires_in",
                  (json_int_t)(c->expiration ? c->expiration - time(NULL) : 0), "error_code",
                  err->code, "error_message", err->message);
    char *line = json_dumps(o, JSON_COMPACT);
    pthread_mutex_lock(&s_out_lock);
    printf("%s\n", line);
    fflush(stdout);
    pthread_mutex_unlock(&s_out_lock);
    free(line);
    json_decref(o);
}

static void resolve_once(struct creds_provider *p)
{
    struct creds c;
    struct aws_api_error err;
    int rc = creds_provider_get(p, &c, &err);
    print_result(rc, &c, &err);
    creds_cleanup(&c);
}

static void *thread_main(void *arg)
{
    resolve_once(arg);
    return NULL;
}

static struct creds_provider *make_provider(const char *name)
{
    static const struct creds_env env = {NULL, NULL};
    if (!strcmp(name, "env"))
        return creds__env_provider_new(&env);
    if (!strcmp(name, "webid"))
        return creds__webid_provider_new(&env);
    if (!strcmp(name, "profile"))
        return creds__profile_provider_new(&env);
    if (!strcmp(name, "container"))
        return creds__container_provider_new(&env);
    if (!strcmp(name, "imds"))
        return creds__imds_provider_new(&env);
    if (!strcmp(name, "chain"))
        return creds_provider_default_chain(NULL);
    return NULL;
}

static void run_threads(struct creds_provider *p, int nthreads)
{
    pthread_t t[64];
    int n = nthreads > 64 ? 64 : nthreads;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&t[i], NULL, thread_main, p) != 0)
            abort();
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
    long gets = 1, sleep_ms = 0, threads = 0;
    const char *provider = "chain";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--gets"))
            gets = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--sleep-ms"))
            sleep_ms = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--threads"))
            threads = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--provider"))
            provider = argv[i + 1];
    }
    struct creds_provider *p = make_provider(provider);
    if (!p) {
        fprintf(stderr, "unknown provider %s\n", provider);
        return 2;
    }
    if (threads > 0)
        run_threads(p, (int)threads);
    for (long i = 0; i < gets && threads == 0; i++) {
        if (i && sleep_ms) {
            struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        resolve_once(p);
    }
    creds_provider_release(p);
    return 0;
}
