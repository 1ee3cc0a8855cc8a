/*
 * awsctx.c - per-worker-thread cache of AWS clients keyed by region and
 * assumed role (+ external id).
 *
 * Load: every AWS step of every handler asks for its client, so the
 * lookup is a linear scan of at most AWSCTX_SLOTS entries and a hit costs
 * no allocation. A miss builds a client (the credentials provider of the
 * process is shared: it is refcounted and thread-safe, and so resolves the
 * service's own credentials once); an assumed-role entry also calls
 * sts:AssumeRole through the plain client of its region and expires five
 * minutes before its credentials do. The cache lives in thread-specific
 * data, so a worker thread that exits frees its clients and nothing is
 * shared between threads. The external id is compared, never logged.
 */
#include "awsctx.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aws/client.h"
#include "aws/creds.h"
#include "aws/sts.h"
#include "jobs/retry.h"
#include "jobs/worker.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define AWSCTX_SLOTS 8
#define AWSCTX_REFRESH_BEFORE_S 300
#define AWSCTX_ROLE_DURATION_S 3600

struct awsctx_entry {
    char region[AWSCTX_REGION_MAX];
    char *role_arn;    /* NULL for the service's own credentials */
    char *external_id; /* NULL when none */
    struct aws_client *client;
    time_t expires; /* 0 = never (own credentials) */
    unsigned long last_used;
};

struct awsctx_cache {
    struct awsctx_entry e[AWSCTX_SLOTS];
    unsigned long tick;
};

static pthread_key_t s_key;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static struct creds_provider *s_chain; /* set once; thread-safe by itself */

static void entry_clear(struct awsctx_entry *e)
{
    aws_client_free(e->client);
    free(e->role_arn);
    xfree_secret(e->external_id);
    memset(e, 0, sizeof *e);
}

static void cache_free(void *p)
{
    struct awsctx_cache *c = p;
    if (!c)
        return;
    for (int i = 0; i < AWSCTX_SLOTS; i++)
        entry_clear(&c->e[i]);
    free(c);
}

static void init_once(void)
{
    pthread_key_create(&s_key, cache_free);
    s_chain = creds_provider_default_chain(0);
}

static struct awsctx_cache *cache_get(void)
{
    pthread_once(&s_once, init_once);
    struct awsctx_cache *c = pthread_getspecific(s_key);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        pthread_setspecific(s_key, c);
    }
    return c;
}

void awsctx_thread_cleanup(void)
{
    pthread_once(&s_once, init_once);
    cache_free(pthread_getspecific(s_key));
    pthread_setspecific(s_key, 0);
}

static const char *nz(const char *s)
{
    return (s && *s) ? s : 0;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct awsctx_entry *find(struct awsctx_cache *c, const char *region, const char *role,
                                 const char *ext)
{
    time_t now = time(0);
    for (int i = 0; i < AWSCTX_SLOTS; i++) {
        struct awsctx_entry *e = &c->e[i];
        if (!e->client || strcmp(e->region, region) || !same(e->role_arn, role) ||
            !same(e->external_id, ext))
            continue;
        if (e->expires && now >= e->expires) {
            entry_clear(e);
            return 0;
        }
        e->last_used = ++c->tick;
        return e;
    }
    return 0;
}

/* A free slot, or the least recently used one (cleared). */
static struct awsctx_entry *victim(struct awsctx_cache *c)
{
    struct awsctx_entry *v = &c->e[0];
    for (int i = 0; i < AWSCTX_SLOTS; i++) {
        if (!c->e[i].client)
            return &c->e[i];
        if (c->e[i].last_used < v->last_used)
            v = &c->e[i];
    }
    entry_clear(v);
    return v;
}

static struct aws_client *new_client(const char *region, struct creds_provider *creds,
                                     struct aws_api_error *err)
{
    struct aws_client_options opt = {0};
    opt.region = region;
    opt.creds = creds;
    struct aws_client *cl = 0;
    if (aws_client_new(&opt, &cl, err))
        return 0;
    return cl;
}

/* Assumes role through base; a client signing with the temporary keys. */
static struct aws_client *assume(struct aws_client *base, const char *region, const char *role,
                                 const char *ext, time_t *expires, struct aws_api_error *err)
{
    struct sts_assume_role_input in = {0};
    in.role_arn = role;
    in.role_session_name = "fleetwarden";
    in.duration_s = AWSCTX_ROLE_DURATION_S;
    in.external_id = ext;
    struct sts_credentials sc = {0};
    if (sts_assume_role(base, &in, &sc, err))
        return 0;
    struct creds_provider *p =
        creds_provider_static(sc.access_key_id, sc.secret_access_key, sc.session_token);
    struct aws_client *cl = new_client(region, p, err);
    creds_provider_release(p);
    time_t exp = sc.expiration > 0 ? (time_t)sc.expiration : time(0) + AWSCTX_ROLE_DURATION_S;
    *expires = exp - AWSCTX_REFRESH_BEFORE_S;
    if (*expires <= time(0))
        *expires = time(0) + 60;
    sts_credentials_cleanup(&sc);
    return cl;
}

static void region_of(const char *region, char out[AWSCTX_REGION_MAX])
{
    const char *r = nz(region);
    snprintf(out, AWSCTX_REGION_MAX, "%s", r ? r : config_get()->aws_region);
}

static struct aws_client *store(struct awsctx_cache *c, const char *region, const char *role,
                                const char *ext, struct aws_client *cl, time_t expires)
{
    struct awsctx_entry *e = victim(c);
    snprintf(e->region, sizeof e->region, "%s", region);
    e->role_arn = role ? xstrdup(role) : 0;
    e->external_id = ext ? xstrdup(ext) : 0;
    e->client = cl;
    e->expires = expires;
    e->last_used = ++c->tick;
    return cl;
}

struct aws_client *awsctx_client(const char *region, const char *role_arn, const char *external_id,
                                 struct aws_api_error *err)
{
    struct awsctx_cache *c = cache_get();
    char reg[AWSCTX_REGION_MAX];
    region_of(region, reg);
    const char *role = nz(role_arn), *ext = role ? nz(external_id) : 0;
    awserr_clear(err);
    struct awsctx_entry *e = find(c, reg, role, ext);
    if (e)
        return e->client;
    if (!role) {
        struct aws_client *cl = new_client(reg, s_chain, err);
        return cl ? store(c, reg, 0, 0, cl, 0) : 0;
    }
    struct aws_client *base = awsctx_client(reg, 0, 0, err);
    if (!base)
        return 0;
    time_t expires = 0;
    struct aws_client *cl = assume(base, reg, role, ext, &expires, err);
    return cl ? store(c, reg, role, ext, cl, expires) : 0;
}

/* AWS's error classes and the job runtime's failure classes mean the same; the table keeps
 * them apart so that the runtime never sees an AWS type. */
enum job_fail_class awsctx_job_class(enum aws_err_class cls)
{
    switch (cls) {
    case AWS_ERRC_NONE: return JOB_FAIL_NONE;
    case AWS_ERRC_THROTTLING: return JOB_FAIL_THROTTLED;
    case AWS_ERRC_TRANSIENT: return JOB_FAIL_TRANSIENT;
    case AWS_ERRC_ACCESS: return JOB_FAIL_ACCESS;
    case AWS_ERRC_VALIDATION: return JOB_FAIL_VALIDATION;
    case AWS_ERRC_NOTFOUND: return JOB_FAIL_NOTFOUND;
    case AWS_ERRC_CONFLICT: return JOB_FAIL_CONFLICT;
    case AWS_ERRC_LIMIT: return JOB_FAIL_LIMIT;
    case AWS_ERRC_CREDENTIALS: return JOB_FAIL_CREDENTIALS;
    case AWS_ERRC_SETTLING: return JOB_FAIL_SETTLING;
    case AWS_ERRC_OTHER: break;
    }
    return JOB_FAIL_OTHER;
}

enum job_fail_class awsctx_fail_class(const struct aws_api_error *err, int rc)
{
    return err && err->cls != AWS_ERRC_NONE ? awsctx_job_class(err->cls) : retry_class_of(rc);
}

void awsctx_job_error(const struct aws_api_error *err, struct job_error *out)
{
    memset(out, 0, sizeof *out);
    out->cls = awsctx_job_class(err->cls);
    out->unreachable = err->http_status == 0 && !strcmp(err->code, AWSERR_CONNECTION);
    out->http_status = err->http_status;
    snprintf(out->code, sizeof out->code, "%s", err->code);
    snprintf(out->message, sizeof out->message, "%s", err->message);
    snprintf(out->request_id, sizeof out->request_id, "%s", err->request_id);
    snprintf(out->operation, sizeof out->operation, "%s", err->operation);
}

int awsctx_fail(struct job_ctx *ctx, const struct aws_api_error *err)
{
    struct job_error je;
    awsctx_job_error(err, &je);
    job_ctx_set_error(ctx, &je);
    int rc = awserr_to_fw(err);
    return rc ? rc : FW_EAWS;
}
