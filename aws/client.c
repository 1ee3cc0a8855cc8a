/*
 * client.c - the executor behind every AWS operation in aws/.
 *
 * One call goes: resolve the endpoint (cached per service), get
 * credentials (the provider caches and refreshes them), sign with SigV4 for
 * the endpoint's signing region and name, send on the thread's kept-alive
 * HTTP handle, then parse the XML (query protocol) or JSON (rest-json)
 * answer. A failure becomes a struct aws_api_error; retry.c decides whether
 * to try again and how long to wait. The Host header we sign is the
 * endpoint's host including a non-default port, and we send exactly that
 * header, so a local emulator verifies the same signature AWS would.
 * Secrets stay in struct creds and the Authorization value; neither is
 * logged or copied into an error.
 */
#include "aws/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds.h"
#include "aws/http.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"

struct aws_client {
    char region[32];
    struct creds_provider *creds; /* a reference we hold */
    struct aws_http *http;
    int owns_http;
    struct aws_retry_quota *quota;
    int owns_quota;
    struct aws_retry_settings retry;
    aws_getenv_fn *getenv_fn;
    void *getenv_ud;
    aws_sleep_fn *sleep_fn;
    aws_rand_fn *rand_fn;
    aws_clock_fn *clock_fn;
    void *hooks_ud;
    unsigned int rand_state; /* the default PRNG's state */
    long skew_s;             /* server clock minus ours, learnt from a skew error */
    struct aws_endpoint ep[AWS_SVC_COUNT_];
    int ep_ok[AWS_SVC_COUNT_];
    int last_attempts;
};

/* ------------------------------------------------------------ helpers */

static const char *client_env(const struct aws_client *c, const char *name)
{
    const char *v = c->getenv_fn ? c->getenv_fn(name, c->getenv_ud) : getenv(name);
    return (v && *v) ? v : 0;
}

static void default_sleep(long ms, void *ud)
{
    (void)ud;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double default_rand(struct aws_client *c)
{
    return (double)rand_r(&c->rand_state) / ((double)RAND_MAX + 1.0);
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static time_t now_s(struct aws_client *c)
{
    return (c->clock_fn ? c->clock_fn(c->hooks_ud) : time(NULL)) + c->skew_s;
}

int aws_uri_encode(struct buf *out, const char *s, int keep_slash)
{
    if (!keep_slash)
        return sigv4_uri_encode(out, s, strlen(s));
    for (;;) {
        size_t seg = strcspn(s, "/");
        int rc = sigv4_uri_encode(out, s, seg);
        if (rc || !s[seg])
            return rc;
        if ((rc = buf_append(out, "/", 1)))
            return rc;
        s += seg + 1;
    }
}

void aws_strlist_push(struct aws_strlist *l, const char *s)
{
    l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
    l->items[l->n++] = xstrdup(s ? s : "");
}

void aws_strlist_cleanup(struct aws_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = 0;
    l->n = 0;
}

/* ------------------------------------------------------------ lifecycle */

static int setup_retry(struct aws_client *c, const struct aws_client_options *opt,
                       struct aws_api_error *err)
{
    if (opt->retry) {
        c->retry = *opt->retry;
        if (c->retry.max_attempts < 1)
            c->retry.max_attempts = 1;
        return 0;
    }
    const char *bad = 0;
    if (aws_retry_settings_from_env(&c->retry, (aws_retry_getenv_fn *)c->getenv_fn, c->getenv_ud,
                                    &bad)) {
        awserr_set(err, 0, "InvalidConfiguration", "%s is not valid", bad);
        return FW_EINVAL;
    }
    return 0;
}

static void setup_region(struct aws_client *c, const char *region)
{
    if (!region)
        region = client_env(c, "AWS_REGION");
    if (!region)
        region = client_env(c, "AWS_DEFAULT_REGION");
    snprintf(c->region, sizeof c->region, "%s", region ? region : "us-east-1");
}

static int setup_http(struct aws_client *c, const struct aws_client_options *opt,
                      struct aws_api_error *err)
{
    if (opt->http) {
        c->http = opt->http;
        return 0;
    }
    c->http = aws_http_new(opt->http_options);
    if (!c->http) {
        awserr_set(err, 0, "InternalError", "libcurl could not create a handle");
        return FW_EINTERNAL;
    }
    c->owns_http = 1;
    return 0;
}

static void setup_hooks(struct aws_client *c, const struct aws_client_options *opt)
{
    c->getenv_fn = opt->getenv_fn;
    c->getenv_ud = opt->getenv_ud;
    c->sleep_fn = opt->sleep_fn;
    c->rand_fn = opt->rand_fn;
    c->clock_fn = opt->clock_fn;
    c->hooks_ud = opt->hooks_ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    c->rand_state = (unsigned int)(ts.tv_nsec ^ ts.tv_sec ^ (long)(size_t)c);
}

int aws_client_new(const struct aws_client_options *opt, struct aws_client **out,
                   struct aws_api_error *err)
{
    static const struct aws_client_options defaults = {0};
    if (!opt)
        opt = &defaults;
    *out = 0;
    struct aws_client *c = xcalloc(1, sizeof *c);
    setup_hooks(c, opt);
    setup_region(c, opt->region);
    int rc = setup_retry(c, opt, err);
    if (!rc)
        rc = setup_http(c, opt, err);
    if (rc) {
        aws_client_free(c);
        return rc;
    }
    if (opt->creds) {
        creds_provider_acquire(opt->creds);
        c->creds = opt->creds;
    } else {
        struct creds_chain_options copt = {(creds_getenv_fn *)opt->getenv_fn, opt->getenv_ud};
        c->creds = creds_provider_default_chain(&copt);
    }
    c->quota = opt->quota;
    if (!c->quota) {
        c->quota = aws_retry_quota_new(AWS_RETRY_QUOTA_INITIAL);
        c->owns_quota = 1;
    }
    *out = c;
    return 0;
}

void aws_client_free(struct aws_client *c)
{
    if (!c)
        return;
    if (c->creds)
        creds_provider_release(c->creds);
    if (c->owns_http)
        aws_http_free(c->http);
    if (c->owns_quota)
        aws_retry_quota_free(c->quota);
    free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
    return c->region;
}

struct aws_http *aws_client_http(struct aws_client *c)
{
    return c->http;
}

int aws_client_last_attempts(const struct aws_client *c)
{
    return c->last_attempts;
}

/* ------------------------------------------------------------ requests */

static void call_init(struct aws_call *c, enum aws_service svc, enum aws_protocol proto,
                      const char *op, const char *method)
{
    memset(c, 0, sizeof *c);
    c->svc = svc;
    c->protocol = proto;
    c->operation = op;
    c->method = method;
    buf_init(&c->path, AWS_CALL_MAX_BODY);
    buf_init(&c->query, AWS_CALL_MAX_BODY);
    buf_init(&c->body, AWS_CALL_MAX_BODY);
}

static void note(struct aws_call *c, int rc)
{
    if (rc)
        c->overflow = 1;
}

void aws_call_init_query(struct aws_call *c, enum aws_service svc, const char *action,
                         const char *version)
{
    call_init(c, svc, AWS_PROTO_QUERY, action, "POST");
    note(c, buf_puts(&c->path, "/"));
    note(c, buf_printf(&c->body, "Action=%s&Version=%s", action, version));
}

void aws_call_init_rest(struct aws_call *c, enum aws_service svc, const char *operation,
                        const char *method)
{
    call_init(c, svc, AWS_PROTO_REST_JSON, operation, method);
}

void aws_call_header(struct aws_call *c, const char *name, const char *value)
{
    c->header_name = name;
    c->header_value = value;
}

void aws_call_cleanup(struct aws_call *c)
{
    if (!c)
        return;
    buf_free(&c->path);
    buf_free(&c->query);
    buf_free_secure(&c->body); /* may carry a web identity token or a key */
}

void aws_call_path(struct aws_call *c, const char *literal)
{
    note(c, buf_puts(&c->path, literal));
}

void aws_call_path_label(struct aws_call *c, const char *value)
{
    note(c, aws_uri_encode(&c->path, value ? value : "", 0));
}

static void append_pair(struct aws_call *c, struct buf *b, const char *name, const char *value)
{
    if (b->len)
        note(c, buf_puts(b, "&"));
    note(c, aws_uri_encode(b, name, 0));
    note(c, buf_puts(b, "="));
    note(c, aws_uri_encode(b, value, 0));
}

void aws_call_qs(struct aws_call *c, const char *name, const char *value)
{
    if (value)
        append_pair(c, &c->query, name, value);
}

void aws_call_param(struct aws_call *c, const char *name, const char *value)
{
    if (value)
        append_pair(c, &c->body, name, value);
}

void aws_call_param_int(struct aws_call *c, const char *name, long long value)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    append_pair(c, &c->body, name, num);
}

int aws_call_json(struct aws_call *c, const json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!s)
        return FW_EINVAL;
    buf_reset(&c->body);
    note(c, buf_puts(&c->body, s));
    size_t len = strlen(s);
    xwipe(s, len);
    free(s);
    return 0;
}

void aws_reply_cleanup(struct aws_reply *r)
{
    if (!r)
        return;
    xml_free(r->xml);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ executor */

static int endpoint_for(struct aws_client *c, enum aws_service svc, const struct aws_endpoint **out,
                        struct aws_api_error *err)
{
    if (!c->ep_ok[svc]) {
        if (endpoint_resolve(svc, c->region, (endpoint_getenv_fn *)c->getenv_fn, c->getenv_ud,
                             &c->ep[svc])) {
            awserr_set(err, 0, "InvalidConfiguration",
                       "no %s endpoint for region %s (check AWS_REGION and "
                       "AWS_ENDPOINT_URL*)",
                       endpoint_service_name(svc), c->region);
            return FW_EINVAL;
        }
        c->ep_ok[svc] = 1;
    }
    *out = &c->ep[svc];
    return 0;
}

static char *build_url(const struct aws_endpoint *ep, const struct aws_call *call)
{
    const char *path = call->path.len ? buf_cstr(&call->path) : "/";
    if (call->query.len)
        return xasprintf("%s%s?%s", ep->url, path, buf_cstr(&call->query));
    return xasprintf("%s%s", ep->url, path);
}

/* The headers we send and sign; values borrowed from the caller. */
struct call_headers {
    struct aws_http_header h[6];
    size_t n;
};

static void add_header(struct call_headers *hs, const char *name, const char *value)
{
    hs->h[hs->n].name = name;
    hs->h[hs->n].value = value;
    hs->n++;
}

static const char *content_type(const struct aws_call *call)
{
    if (call->protocol == AWS_PROTO_QUERY)
        return "application/x-www-form-urlencoded; charset=utf-8";
    return call->body.len ? "application/json" : 0;
}

static int sign(struct aws_client *c, const struct aws_call *call, const struct aws_endpoint *ep,
                const struct creds *cr, struct call_headers *hs, struct sigv4_result *res,
                struct aws_api_error *err)
{
    struct sigv4_header sh[6];
    for (size_t i = 0; i < hs->n; i++) {
        sh[i].name = hs->h[i].name;
        sh[i].value = hs->h[i].value;
    }
    struct sigv4_request req = {call->method,
                                call->path.len ? buf_cstr(&call->path) : "/",
                                call->query.len ? buf_cstr(&call->query) : NULL,
                                sh,
                                hs->n,
                                call->body.ptr,
                                call->body.len};
    struct sigv4_params p = {cr->access_key_id,
                             cr->secret_access_key,
                             cr->session_token,
                             ep->signing_region,
                             ep->signing_name,
                             now_s(c),
                             1,
                             0};
    memset(res, 0, sizeof *res);
    buf_init(&res->authorization, 4096);
    int rc = sigv4_sign(&req, &p, res);
    if (rc)
        awserr_set(err, 0, "SigningFailed", "could not sign the request: %s", fw_strerror(rc));
    return rc;
}

static int parse_ok(const struct aws_call *call, const struct aws_http_response *resp,
                    struct aws_reply *reply, struct aws_api_error *err)
{
    reply->http_status = resp->status;
    copy_trunc(reply->request_id, sizeof reply->request_id, resp->request_id);
    if (call->protocol == AWS_PROTO_REST_JSON) {
        reply->json =
            resp->body.len ? json_loadb(resp->body.ptr, resp->body.len, 0, NULL) : json_object();
        if (json_is_object(reply->json))
            return 0;
    } else if (xml_parse(resp->body.ptr ? resp->body.ptr : "", resp->body.len, &reply->xml) == 0) {
        char result[96];
        snprintf(result, sizeof result, "%sResult", call->operation);
        reply->result = xml_child(reply->xml, result);
        const char *rid = xml_text(reply->xml, "ResponseMetadata/RequestId");
        if (rid && *rid)
            copy_trunc(reply->request_id, sizeof reply->request_id, rid);
        return 0;
    }
    aws_reply_cleanup(reply);
    awserr_set(err, resp->status, AWSERR_MALFORMED, "the %s answer could not be parsed",
               call->operation);
    copy_trunc(err->request_id, sizeof err->request_id, resp->request_id);
    return FW_EAWS;
}

static int parse_error(const struct aws_call *call, const struct aws_http_response *resp,
                       struct aws_api_error *err)
{
    if (call->protocol == AWS_PROTO_QUERY)
        awserr_from_xml(err, resp->status, resp->body.ptr, resp->body.len, resp->request_id);
    else
        awserr_from_json(err, resp->status, resp->error_type, resp->body.ptr, resp->body.len,
                         resp->request_id);
    return awserr_to_fw(err);
}

static int send_signed(struct aws_client *c, const struct aws_call *call,
                       const struct aws_endpoint *ep, const struct creds *cr, const char *url,
                       struct aws_http_response *resp, struct aws_api_error *err)
{
    struct call_headers hs = {0};
    add_header(&hs, "Host", ep->host);
    if (content_type(call))
        add_header(&hs, "Content-Type", content_type(call));
    if (cr && cr->session_token)
        add_header(&hs, "X-Amz-Security-Token", cr->session_token);
    if (call->header_name && call->header_value)
        add_header(&hs, call->header_name, call->header_value);
    struct sigv4_result res = {0};
    int rc = 0;
    if (cr) {
        rc = sign(c, call, ep, cr, &hs, &res, err);
        if (!rc) {
            add_header(&hs, "X-Amz-Date", res.amz_date);
            add_header(&hs, "Authorization", buf_cstr(&res.authorization));
        }
    }
    if (!rc) {
        struct aws_http_request req = {call->method,   url, hs.h, hs.n, call->body.ptr,
                                       call->body.len, 0};
        rc = aws_http_send(c->http, &req, resp, err);
    }
    buf_free_secure(&res.authorization);
    return rc;
}

/* A credentials failure is not retried here, unless STS throttled the
 * provider's own refresh: retrying a missing file or variable is useless. */
static int get_creds(struct aws_client *c, struct creds *cr, struct aws_api_error *err)
{
    int rc = creds_provider_get(c->creds, cr, err);
    if (rc && err->cls != AWS_ERRC_THROTTLING) {
        err->cls = AWS_ERRC_CREDENTIALS;
        err->retryable = 0;
    }
    return rc;
}

static int attempt_once(struct aws_client *c, const struct aws_call *call,
                        const struct aws_endpoint *ep, const char *url, struct aws_reply *reply,
                        struct aws_api_error *err, long long *server_time)
{
    struct creds cr = {0};
    struct aws_http_response resp;
    aws_http_response_init(&resp);
    int rc = 0;
    if (!call->anonymous)
        rc = get_creds(c, &cr, err);
    if (!rc)
        rc = send_signed(c, call, ep, call->anonymous ? NULL : &cr, url, &resp, err);
    if (!rc && resp.status >= 200 && resp.status < 300)
        rc = parse_ok(call, &resp, reply, err);
    else if (!rc)
        rc = parse_error(call, &resp, err);
    *server_time = resp.server_time;
    creds_cleanup(&cr);
    aws_http_response_cleanup(&resp);
    return rc;
}

/* AWS refuses signatures more than 5 (some services 15) minutes off its
 * clock. Like the SDKs, we learn the offset from the answer's Date header
 * and sign with it from then on. */
static int is_skew_error(const struct aws_api_error *err)
{
    if (!strcmp(err->code, "RequestTimeTooSkewed") || !strcmp(err->code, "RequestExpired") ||
        !strcmp(err->code, "RequestInTheFuture"))
        return 1;
    int sig = !strcmp(err->code, "SignatureDoesNotMatch") ||
              !strcmp(err->code, "InvalidSignatureException") || !strcmp(err->code, "AuthFailure");
    return sig && (strstr(err->message, "expired") || strstr(err->message, "not yet current"));
}

static int fix_skew(struct aws_client *c, const struct aws_api_error *err, long long server_time)
{
    if (!server_time || !is_skew_error(err))
        return 0;
    long skew =
        (long)(server_time - (long long)(c->clock_fn ? c->clock_fn(c->hooks_ud) : time(NULL)));
    if (labs(skew - c->skew_s) < 60)
        return 0;
    c->skew_s = skew;
    log_event(LOG_WARN, "aws clock skew detected; signing with the server's time",
              LOG_INT("skew_s", skew));
    return 1;
}

static void log_retry(const struct aws_call *call, const struct aws_api_error *err, int attempt,
                      long delay_ms)
{
    log_event(LOG_INFO, "aws call retried", LOG_STR("op", call->operation),
              LOG_STR("code", err->code), LOG_INT("status", err->http_status),
              LOG_INT("attempt", attempt), LOG_INT("delay_ms", delay_ms));
}

static void backoff(struct aws_client *c, const struct aws_call *call,
                    const struct aws_api_error *err, int attempt)
{
    double r = c->rand_fn ? c->rand_fn(c->hooks_ud) : default_rand(c);
    long delay_ms = aws_retry_backoff_ms(attempt, r);
    log_retry(call, err, attempt, delay_ms);
    if (c->sleep_fn)
        c->sleep_fn(delay_ms, c->hooks_ud);
    else
        default_sleep(delay_ms, 0);
}

static int run_attempts(struct aws_client *c, const struct aws_call *call,
                        const struct aws_endpoint *ep, struct aws_reply *reply,
                        struct aws_api_error *err)
{
    char *url = build_url(ep, call);
    char op[sizeof err->operation];
    memcpy(op, err->operation, sizeof op);
    int rc = 0;
    int taken = 0;
    int skew_fixed = 0;
    for (int attempt = 1;; attempt++) {
        c->last_attempts = attempt;
        awserr_clear(err);
        long long server_time = 0;
        rc = attempt_once(c, call, ep, url, reply, err, &server_time);
        /* Providers may reset err; the operation name must survive. */
        memcpy(err->operation, op, sizeof op);
        if (!rc) {
            if (c->retry.mode != AWS_RETRY_MODE_LEGACY)
                aws_retry_quota_release(c->quota, taken);
            break;
        }
        if (!skew_fixed && fix_skew(c, err, server_time)) {
            skew_fixed = 1; /* one immediate re-signed attempt, outside the quota */
            continue;
        }
        if (!aws_retry_should(&c->retry, c->quota, attempt, err, &taken))
            break;
        backoff(c, call, err, attempt);
    }
    free(url);
    return rc;
}

int aws_client_call(struct aws_client *c, struct aws_call *call, struct aws_reply *reply,
                    struct aws_api_error *err)
{
    struct aws_api_error local;
    if (!err)
        err = &local;
    awserr_clear(err);
    memset(reply, 0, sizeof *reply);
    snprintf(err->operation, sizeof err->operation, "%s:%s", endpoint_service_name(call->svc),
             call->operation);
    c->last_attempts = 0;
    if (call->overflow) {
        awserr_set(err, 0, "RequestTooLarge", "the %s request is larger than %u bytes",
                   call->operation, AWS_CALL_MAX_BODY);
        return FW_ETOOBIG;
    }
    const struct aws_endpoint *ep = 0;
    int rc = endpoint_for(c, call->svc, &ep, err);
    if (!rc)
        rc = run_attempts(c, call, ep, reply, err);
    if (rc)
        awserr_add_hint(err);
    return rc;
}
