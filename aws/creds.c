/*
 * creds.c - credentials, the provider base, the chain and the cache.
 *
 * A provider is a vtable, a reference count and an impl. The default chain
 * is a cache wrapped around a chain of the five sources (creds.h lists the
 * order). The chain asks each source in turn: FW_ENOTFOUND means "not
 * configured here, ask the next"; any other error stops it.
 *
 * The cache holds one set of credentials. A get returns a copy while they
 * are more than refresh_before_s from expiry (never, for credentials that
 * do not expire). Otherwise one thread at a time refreshes: refresh_lock
 * serialises refreshes, lock guards the cached value and is never held
 * across network I/O. After a failed refresh the old credentials are still
 * handed out as long as they have not actually expired.
 *
 * Logs say where credentials came from and when they expire, never what
 * they are.
 */
#include "aws/creds.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_internal.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"

/* ------------------------------------------------------------------ */
/* struct creds                                                        */

void creds_cleanup(struct creds *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    xfree_secret(c->secret_access_key);
    xfree_secret(c->session_token);
    memset(c, 0, sizeof(*c));
}

void creds__set(struct creds *out, const char *akid, const char *secret, const char *token,
                time_t expiration, const char *source)
{
    memset(out, 0, sizeof(*out));
    out->access_key_id = xstrdup(akid);
    out->secret_access_key = xstrdup(secret);
    out->session_token = token && *token ? xstrdup(token) : NULL;
    out->expiration = expiration;
    snprintf(out->source, sizeof(out->source), "%s", source);
}

void creds_copy(struct creds *dst, const struct creds *src)
{
    creds__set(dst, src->access_key_id, src->secret_access_key, src->session_token, src->expiration,
               src->source);
}

/* ------------------------------------------------------------------ */
/* Helpers shared by the providers.                                    */

const char *creds__getenv(const struct creds_env *e, const char *name)
{
    const char *v = e && e->fn ? e->fn(name, e->ud) : getenv(name);
    return v && *v ? v : NULL;
}

int creds__fail(struct aws_api_error *err, int rc, const char *code, const char *fmt, ...)
{
    if (!err)
        return rc;
    va_list ap;
    memset(err, 0, sizeof(*err));
    err->cls = AWS_ERRC_CREDENTIALS;
    err->retryable = rc == FW_EUNAVAILABLE || rc == FW_ETIMEOUT;
    snprintf(err->code, sizeof(err->code), "%s", code);
    snprintf(err->operation, sizeof(err->operation), "credentials");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return rc;
}

char *creds__read_secret_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *t = xmalloc(max + 1);
    size_t n = fread(t, 1, max, f);
    int bad = ferror(f) || fgetc(f) != EOF; /* unreadable, or longer than max */
    fclose(f);
    t[n] = '\0';
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' || t[n - 1] == '\t'))
        t[--n] = '\0';
    if (bad || n == 0) {
        xwipe(t, max + 1);
        free(t);
        return NULL;
    }
    return t;
}

/* The one HTTP client (aws/http.c) with the settings of a credential
 * fetch: a handle per fetch carrying this request's short timeouts, the
 * 64 KiB cap and, for link-local endpoints, no proxy. A TLS failure counts
 * as unreachable here, as for any other transport error. */
int creds__http_fetch(const struct creds_http_req *req, struct aws_http_response *resp)
{
    const struct aws_http_options opt = {.connect_timeout_ms = req->connect_timeout_ms,
                                         .timeout_ms = req->timeout_ms,
                                         .max_body = CREDS_HTTP_MAX_BODY};
    const struct aws_http_request hreq = {req->method,
                                          req->url,
                                          req->headers,
                                          req->nheaders,
                                          req->body,
                                          req->body ? req->body_len : 0,
                                          0};
    aws_http_response_init(resp);
    struct aws_http *h = aws_http_new(&opt);
    if (!h)
        return FW_EINTERNAL;
    aws_http_set_no_proxy(h, req->no_proxy);
    int rc = aws_http_send(h, &hreq, resp, NULL);
    aws_http_free(h);
    return rc == FW_EAWS ? FW_EUNAVAILABLE : rc;
}

/* Reads exactly n digits at *s into *v; 0 or -1. */
static int digits(const char **s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (**s < '0' || **s > '9')
            return -1;
        *v = *v * 10 + (**s - '0');
    }
    return 0;
}

static int expect(const char **s, char c)
{
    return *(*s)++ == c ? 0 : -1;
}

/* "YYYY-MM-DD" then a 'T' (or space), then "hh:mm:ss"; 0 or -1. */
static int parse_fields(const char **s, struct tm *tm)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (digits(s, 4, &y) || expect(s, '-') || digits(s, 2, &mo) || expect(s, '-') ||
        digits(s, 2, &d))
        return -1;
    if (**s != 'T' && **s != 't' && **s != ' ')
        return -1;
    (*s)++;
    if (digits(s, 2, &h) || expect(s, ':') || digits(s, 2, &mi) || expect(s, ':') ||
        digits(s, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = sec;
    return 0;
}

int creds__parse_time(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!s || parse_fields(&s, &tm))
        return FW_EINVAL;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (strcmp(s, "Z") != 0 && strcmp(s, "z") != 0 && strcmp(s, "+00:00") != 0)
        return FW_EINVAL;
    *out = timegm(&tm);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Provider base.                                                      */

struct creds_provider *creds__provider_new(const struct creds_provider_vtable *vt, void *impl)
{
    struct creds_provider *p = xcalloc(1, sizeof(*p));
    p->vt = vt;
    p->impl = impl;
    atomic_init(&p->refs, 1);
    return p;
}

void creds_provider_acquire(struct creds_provider *p)
{
    atomic_fetch_add(&p->refs, 1);
}

void creds_provider_release(struct creds_provider *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    if (p->vt->destroy)
        p->vt->destroy(p->impl);
    free(p);
}

int creds_provider_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    memset(out, 0, sizeof(*out));
    if (err)
        memset(err, 0, sizeof(*err));
    int rc = p->vt->get(p, out, err);
    if (rc)
        creds_cleanup(out);
    if (rc == FW_ENOTFOUND) /* a bare source said "not configured" */
        rc = creds__fail(err, FW_EUNAVAILABLE, "NoCredentials",
                         "no AWS credentials: %s is not configured", p->vt->name);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Static credentials.                                                 */

static int static_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    (void)err;
    creds_copy(out, p->impl);
    return 0;
}

static void static_destroy(void *impl)
{
    creds_cleanup(impl);
    free(impl);
}

static const struct creds_provider_vtable s_static_vt = {"static", static_get, static_destroy};

struct creds_provider *creds_provider_static(const char *akid, const char *secret,
                                             const char *token)
{
    struct creds *c = xcalloc(1, sizeof(*c));
    creds__set(c, akid, secret, token, 0, "static");
    return creds__provider_new(&s_static_vt, c);
}

/* ------------------------------------------------------------------ */
/* Chain.                                                              */

struct chain {
    struct creds_provider **list; /* owned references */
    size_t n;
};

static int chain_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    const struct chain *ch = p->impl;
    for (size_t i = 0; i < ch->n; i++) {
        int rc = ch->list[i]->vt->get(ch->list[i], out, err);
        if (rc != FW_ENOTFOUND)
            return rc;
        creds_cleanup(out);
    }
    return creds__fail(
        err, FW_EUNAVAILABLE, "NoCredentials",
        "no AWS credentials found (environment, web identity, shared files, container, IMDS)");
}

static void chain_destroy(void *impl)
{
    struct chain *ch = impl;
    for (size_t i = 0; i < ch->n; i++)
        creds_provider_release(ch->list[i]);
    free(ch->list);
    free(ch);
}

static const struct creds_provider_vtable s_chain_vt = {"chain", chain_get, chain_destroy};

struct creds_provider *creds__chain_new(struct creds_provider **list, size_t n)
{
    struct chain *ch = xcalloc(1, sizeof(*ch));
    ch->list = xcalloc(n ? n : 1, sizeof(*ch->list));
    memcpy(ch->list, list, n * sizeof(*list));
    ch->n = n;
    return creds__provider_new(&s_chain_vt, ch);
}

/* ------------------------------------------------------------------ */
/* Cache.                                                              */

struct cached {
    struct creds_provider *inner; /* owned reference */
    long refresh_before_s;
    pthread_mutex_t refresh_lock; /* held by the one thread refreshing */
    pthread_mutex_t lock;         /* guards have and cur; never held across I/O */
    int have;                     /* protected by lock */
    struct creds cur;             /* protected by lock */
};

/* Requires c->lock. */
static int cached_fresh(const struct cached *c, time_t now)
{
    return c->have && (c->cur.expiration == 0 || now < c->cur.expiration - c->refresh_before_s);
}

/* Requires c->lock. */
static int cached_valid(const struct cached *c, time_t now)
{
    return c->have && (c->cur.expiration == 0 || now < c->cur.expiration);
}

/* Copies the cached value when pred holds; 1 when copied. */
static int cached_take(struct cached *c, struct creds *out, int fresh_only)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&c->lock);
    int ok = fresh_only ? cached_fresh(c, now) : cached_valid(c, now);
    if (ok)
        creds_copy(out, &c->cur);
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static void cached_store(struct cached *c, const struct creds *fresh)
{
    pthread_mutex_lock(&c->lock);
    creds_cleanup(&c->cur);
    creds_copy(&c->cur, fresh);
    c->have = 1;
    pthread_mutex_unlock(&c->lock);
    if (fresh->expiration)
        log_msg(LOG_INFO, "credentials from %s, expiring in %lds", fresh->source,
                (long)(fresh->expiration - time(NULL)));
    else
        log_msg(LOG_INFO, "credentials from %s", fresh->source);
}

/* Requires c->refresh_lock. */
static int cached_refresh(struct cached *c, struct creds *out, struct aws_api_error *err)
{
    struct creds fresh;
    memset(&fresh, 0, sizeof(fresh));
    int rc = c->inner->vt->get(c->inner, &fresh, err);
    if (rc == 0) {
        cached_store(c, &fresh);
        *out = fresh; /* hand the new copy over */
        return 0;
    }
    creds_cleanup(&fresh);
    if (cached_take(c, out, 0)) {
        log_msg(LOG_WARN,
                "credentials refresh failed (%s), keeping credentials from %s until they expire",
                fw_err_name(rc), out->source);
        if (err)
            memset(err, 0, sizeof(*err));
        return 0;
    }
    return rc;
}

static int cached_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    struct cached *c = p->impl;
    if (cached_take(c, out, 1))
        return 0;
    pthread_mutex_lock(&c->refresh_lock);
    int rc = 0;
    if (!cached_take(c, out, 1)) /* another thread may have refreshed meanwhile */
        rc = cached_refresh(c, out, err);
    pthread_mutex_unlock(&c->refresh_lock);
    return rc;
}

static void cached_destroy(void *impl)
{
    struct cached *c = impl;
    creds_provider_release(c->inner);
    creds_cleanup(&c->cur);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->refresh_lock);
    free(c);
}

static const struct creds_provider_vtable s_cached_vt = {"cache", cached_get, cached_destroy};

struct creds_provider *creds__cached_new(struct creds_provider *inner, long refresh_before_s)
{
    struct cached *c = xcalloc(1, sizeof(*c));
    c->inner = inner;
    c->refresh_before_s = refresh_before_s;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->refresh_lock, NULL);
    return creds__provider_new(&s_cached_vt, c);
}

/* ------------------------------------------------------------------ */
/* The default chain.                                                  */

struct creds_provider *creds_provider_default_chain(const struct creds_chain_options *opt)
{
    struct creds_env env = {opt ? opt->getenv_fn : NULL, opt ? opt->getenv_ud : NULL};
    struct creds_provider *list[] = {
        creds__env_provider_new(&env),     creds__webid_provider_new(&env),
        creds__profile_provider_new(&env), creds__container_provider_new(&env),
        creds__imds_provider_new(&env),
    };
    return creds__cached_new(creds__chain_new(list, sizeof(list) / sizeof(list[0])),
                             CREDS_REFRESH_BEFORE_S);
}
