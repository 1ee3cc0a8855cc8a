/*
 * sigv4_test.c - aws/sigv4.c against AWS's official SigV4 test suite.
 *
 * Table-driven over the case directories of tests/data/aws-sigv4 (or the
 * directory in $FW_SIGV4_SUITE): each directory becomes one named cmocka
 * test that checks the canonical request, the string to sign, the
 * signature and the Authorization header separately, byte for byte. The
 * raw request.txt is read by the small HTTP parser below. Query-string
 * signing (presigned URLs) is checked the same way against query-*.txt. A few extra tests
 * cover the signing-key cache, concurrent signing and bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#ifndef SIGV4_SUITE_DIR
#error "SIGV4_SUITE_DIR must name tests/data/aws-sigv4"
#endif

#define MAX_HEADERS 32

struct suite_case {
    char name[128];
    char dir[1024];
};

/* One parsed case: request, context and expected outputs. */
struct parsed {
    char *raw; /* request.txt, cut in place by the parser */
    struct sigv4_request req;
    struct sigv4_header hdrs[MAX_HEADERS];
    char *hvals[MAX_HEADERS]; /* owned values (continuation lines joined) */
    struct sigv4_params params;
    json_t *ctx;
    int omit_session_token;
};

static char *slurp(const char *dir, const char *file, size_t *len)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(buf_append(&b, chunk, n), 0);
    fclose(f);
    if (len)
        *len = b.len;
    return buf_steal(&b);
}

/* Cuts the next line (without CR/LF) off *p; NULL at the end. */
static char *next_line(char **p, int *at_end)
{
    char *s = *p;
    if (*at_end)
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = s + strlen(s);
        *at_end = 1;
    }
    size_t l = strlen(s);
    if (l && s[l - 1] == '\r')
        s[l - 1] = '\0';
    return s;
}

/* "METHOD SP target SP HTTP/1.1": the target may itself contain spaces. */
static void parse_request_line(struct parsed *c, char *line)
{
    char *sp1 = strchr(line, ' ');
    char *sp2 = strrchr(line, ' ');
    assert_non_null(sp1);
    assert_true(sp2 > sp1);
    *sp1 = '\0';
    *sp2 = '\0';
    c->req.method = line;
    char *target = sp1 + 1;
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    c->req.path = target;
    c->req.query = q;
}

static void parse_header_line(struct parsed *c, char *line)
{
    size_t n = c->req.nheaders;
    if (line[0] == ' ' || line[0] == '\t') { /* obsolete line folding */
        assert_true(n > 0);
        char *joined = xasprintf("%s\n%s", c->hvals[n - 1], line);
        free(c->hvals[n - 1]);
        c->hvals[n - 1] = joined;
        c->hdrs[n - 1].value = joined;
        return;
    }
    char *colon = strchr(line, ':');
    assert_non_null(colon);
    assert_true(n < MAX_HEADERS);
    *colon = '\0';
    c->hvals[n] = xstrdup(colon + 1);
    c->hdrs[n].name = line;
    c->hdrs[n].value = c->hvals[n];
    c->req.nheaders = n + 1;
}

static void parse_request(struct parsed *c, const char *dir)
{
    size_t len = 0;
    c->raw = slurp(dir, "request.txt", &len);
    assert_non_null(c->raw);
    char *p = c->raw;
    int at_end = 0;
    parse_request_line(c, next_line(&p, &at_end));
    c->req.headers = c->hdrs;
    char *line;
    while ((line = next_line(&p, &at_end)) != NULL && *line)
        parse_header_line(c, line);
    c->req.body = at_end ? NULL : p;
    c->req.body_len = at_end ? 0 : strlen(p);
}

static time_t parse_iso8601(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
    return timegm(&tm);
}

static const char *ctx_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void parse_context(struct parsed *c, const char *dir)
{
    char *text = slurp(dir, "context.json", NULL);
    assert_non_null(text);
    json_error_t jerr;
    c->ctx = json_loads(text, 0, &jerr);
    free(text);
    assert_non_null(c->ctx);
    json_t *cred = json_object_get(c->ctx, "credentials");
    c->params.access_key_id = ctx_str(cred, "access_key_id");
    c->params.secret_access_key = ctx_str(cred, "secret_access_key");
    c->params.session_token = ctx_str(cred, "token");
    c->params.region = ctx_str(c->ctx, "region");
    c->params.service = ctx_str(c->ctx, "service");
    c->params.time = parse_iso8601(ctx_str(c->ctx, "timestamp"));
    c->params.normalize_path = json_is_true(json_object_get(c->ctx, "normalize"));
    c->params.add_content_sha256 = json_is_true(json_object_get(c->ctx, "sign_body"));
    /* omit_session_token: the token is added after signing, unsigned. */
    c->omit_session_token = json_is_true(json_object_get(c->ctx, "omit_session_token"));
    if (c->omit_session_token)
        c->params.session_token = NULL;
}

static void parsed_free(struct parsed *c)
{
    for (size_t i = 0; i < c->req.nheaders; i++)
        free(c->hvals[i]);
    free(c->raw);
    json_decref(c->ctx);
}

static void expect_equal(const char *casename, const char *stage, const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        print_error("case %s, stage %s differs\n--- want\n%s\n--- got\n%s\n", casename, stage, want,
                    got);
        fail_msg("case %s: %s mismatch", casename, stage);
    }
}

static void check_stage_text(const struct suite_case *sc, struct parsed *c, const char *file,
                             int sts)
{
    char *want = slurp(sc->dir, file, NULL);
    assert_non_null(want);
    struct buf got;
    buf_init(&got, 1 << 20);
    int rc = sts ? sigv4_string_to_sign(&c->req, &c->params, &got)
                 : sigv4_canonical_request(&c->req, &c->params, &got);
    assert_int_equal(rc, 0);
    expect_equal(sc->name, file, buf_cstr(&got), want);
    buf_free(&got);
    free(want);
}

static void check_signature(const struct suite_case *sc, struct parsed *c)
{
    char *want = slurp(sc->dir, "header-signature.txt", NULL);
    char sig[65];
    assert_non_null(want);
    assert_int_equal(sigv4_signature(&c->req, &c->params, sig), 0);
    expect_equal(sc->name, "signature", sig, want);
    free(want);
}

/* The Authorization line of header-signed-request.txt must match ours. */
static void check_authorization(const struct suite_case *sc, struct parsed *c)
{
    char *signed_req = slurp(sc->dir, "header-signed-request.txt", NULL);
    assert_non_null(signed_req);
    char *line = strstr(signed_req, "\nAuthorization:");
    assert_non_null(line);
    line += strlen("\nAuthorization:");
    line[strcspn(line, "\r\n")] = '\0';
    struct sigv4_result res;
    assert_int_equal(sigv4_sign(&c->req, &c->params, &res), 0);
    expect_equal(sc->name, "authorization", buf_cstr(&res.authorization), line);
    assert_string_equal(res.amz_date, "20150830T123600Z");
    buf_free(&res.authorization);
    free(signed_req);
}

/* Query signing: the query of query-signed-request.txt's request line
 * ("METHOD PATH?QUERY HTTP/1.1") must be what sigv4_presign gives. */
static void check_presigned_query(const struct suite_case *sc, struct parsed *c, long expires_s)
{
    char *signed_req = slurp(sc->dir, "query-signed-request.txt", NULL);
    assert_non_null(signed_req);
    signed_req[strcspn(signed_req, "\r\n")] = '\0';
    size_t prefix = strlen(c->req.method) + 1 + strlen(c->req.path) + 1;
    size_t len = strlen(signed_req);
    assert_true(len > prefix + 9);
    signed_req[len - 9] = '\0'; /* " HTTP/1.1" */
    struct buf got;
    buf_init(&got, 1 << 20);
    assert_int_equal(sigv4_presign(&c->req, &c->params, expires_s, &got), 0);
    expect_equal(sc->name, "presigned query", buf_cstr(&got), signed_req + prefix);
    buf_free(&got);
    free(signed_req);
}

static void check_query_file(const struct suite_case *sc, const char *file, const char *got)
{
    char *want = slurp(sc->dir, file, NULL);
    assert_non_null(want);
    expect_equal(sc->name, file, got, want);
    free(want);
}

static void check_query_signing(const struct suite_case *sc, struct parsed *c)
{
    long expires_s = (long)json_integer_value(json_object_get(c->ctx, "expiration_in_seconds"));
    struct buf canonical, sts;
    char sig[65];
    assert_true(expires_s > 0);
    buf_init(&canonical, 1 << 20);
    buf_init(&sts, 1 << 20);
    assert_int_equal(sigv4_presign_stages(&c->req, &c->params, expires_s, &canonical, &sts, sig),
                     0);
    check_query_file(sc, "query-canonical-request.txt", buf_cstr(&canonical));
    check_query_file(sc, "query-string-to-sign.txt", buf_cstr(&sts));
    check_query_file(sc, "query-signature.txt", sig);
    buf_free(&canonical);
    buf_free(&sts);
    /* With omit_session_token the token is added to the URL after signing: not our job. */
    if (!c->omit_session_token)
        check_presigned_query(sc, c, expires_s);
}

static void test_suite_case(void **state)
{
    const struct suite_case *sc = *state;
    struct parsed c;
    memset(&c, 0, sizeof(c));
    parse_request(&c, sc->dir);
    parse_context(&c, sc->dir);
    check_stage_text(sc, &c, "header-canonical-request.txt", 0);
    check_stage_text(sc, &c, "header-string-to-sign.txt", 1);
    check_signature(sc, &c);
    check_authorization(sc, &c);
    check_query_signing(sc, &c);
    parsed_free(&c);
}

/* ------------------------------------------------------------------ */
/* Tests beyond the suite.                                             */

static const struct sigv4_header s_hdrs[] = {{"Host", "iot.eu-west-1.amazonaws.com"},
                                             {"Content-Type", "application/json"}};

static void fixed_request(struct sigv4_request *req, struct sigv4_params *p)
{
    memset(req, 0, sizeof(*req));
    memset(p, 0, sizeof(*p));
    req->method = "POST";
    req->path = "/role-aliases/a%20b";
    req->query = "b=2&a=1&a=0&flag";
    req->headers = s_hdrs;
    req->nheaders = 2;
    req->body = "{}";
    req->body_len = 2;
    p->access_key_id = "AKIDEXAMPLE";
    p->secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    p->region = "eu-west-1";
    p->service = "execute-api";
    p->time = 1440938160;
    p->normalize_path = 1;
}

/* A sent "%20" is encoded again; queries sort by key, then value. */
static void test_double_encoding_and_query(void **state)
{
    (void)state;
    struct sigv4_request req;
    struct sigv4_params p;
    fixed_request(&req, &p);
    struct buf out;
    buf_init(&out, 1 << 16);
    assert_int_equal(sigv4_canonical_request(&req, &p, &out), 0);
    assert_non_null(strstr(buf_cstr(&out), "POST\n/role-aliases/a%2520b\na=0&a=1&b=2&flag=\n"));
    buf_free(&out);
}

/* The cached signing key gives the same signature as a fresh derivation. */
static void test_key_cache(void **state)
{
    (void)state;
    struct sigv4_request req;
    struct sigv4_params p;
    char a[65], b[65], c[65];
    fixed_request(&req, &p);
    sigv4_cache_clear();
    assert_int_equal(sigv4_signature(&req, &p, a), 0);
    assert_int_equal(sigv4_signature(&req, &p, b), 0);
    sigv4_cache_clear();
    assert_int_equal(sigv4_signature(&req, &p, c), 0);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    p.secret_access_key = "another-secret"; /* same scope, other secret: no stale hit */
    assert_int_equal(sigv4_signature(&req, &p, b), 0);
    assert_string_not_equal(a, b);
    for (int day = 0; day < 40; day++) { /* more scopes than cache slots */
        p.time += 86400;
        assert_int_equal(sigv4_signature(&req, &p, c), 0);
    }
}

static void *sign_many(void *arg)
{
    const char *want = arg;
    struct sigv4_request req;
    struct sigv4_params p;
    char sig[65];
    fixed_request(&req, &p);
    for (int i = 0; i < 2000; i++) {
        if (sigv4_signature(&req, &p, sig) != 0 || strcmp(sig, want) != 0)
            return (void *)1;
        if (i % 100 == 0)
            sigv4_cache_clear();
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct sigv4_request req;
    struct sigv4_params p;
    char want[65];
    pthread_t t[4];
    fixed_request(&req, &p);
    assert_int_equal(sigv4_signature(&req, &p, want), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, sign_many, want), 0);
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    struct sigv4_request req;
    struct sigv4_params p;
    struct sigv4_result res;
    fixed_request(&req, &p);
    req.headers = &s_hdrs[1]; /* no Host */
    req.nheaders = 1;
    assert_int_equal(sigv4_sign(&req, &p, &res), FW_EINVAL);
    fixed_request(&req, &p);
    p.region = "";
    assert_int_equal(sigv4_sign(&req, &p, &res), FW_EINVAL);
    fixed_request(&req, &p);
    p.secret_access_key = NULL;
    assert_int_equal(sigv4_sign(&req, &p, &res), FW_EINVAL);
    fixed_request(&req, &p);
    struct buf q;
    buf_init(&q, 4096);
    assert_int_equal(sigv4_presign(&req, &p, 604801, &q), FW_EINVAL); /* over 7 days */
    assert_int_equal(sigv4_presign(&req, &p, 0, &q), FW_EINVAL);
    assert_int_equal(q.len, 0);
    buf_free(&q);
}

/* Random paths and queries (dots, slashes, percents, UTF-8 bytes): the
 * signer never crashes, and a normalized path starts with '/' and holds no
 * "//" or dot segment. Run under ASan in the sanitizer build. */
static void check_random_path(const char *path, const char *query)
{
    struct sigv4_request req;
    struct sigv4_params p;
    fixed_request(&req, &p);
    req.path = path;
    req.query = query;
    struct buf out;
    buf_init(&out, 1 << 16);
    assert_int_equal(sigv4_canonical_request(&req, &p, &out), 0);
    const char *uri = strchr(buf_cstr(&out), '\n') + 1;
    size_t n = strcspn(uri, "\n");
    char *u = xstrndup(uri, n);
    assert_true(u[0] == '/');
    assert_null(strstr(u, "//"));
    assert_null(strstr(u, "/./"));
    assert_null(strstr(u, "/../"));
    free(u);
    buf_free(&out);
}

static void test_random_paths(void **state)
{
    (void)state;
    static const char alphabet[] = "/./%2a=&\xe1\x88\xb4 +~";
    char path[48], query[48];
    unsigned seed = 4242;
    for (int round = 0; round < 5000; round++) {
        size_t lp = (size_t)(rand_r(&seed) % 47), lq = (size_t)(rand_r(&seed) % 47);
        for (size_t i = 0; i < lp; i++)
            path[i] = alphabet[rand_r(&seed) % (int)(sizeof(alphabet) - 1)];
        for (size_t i = 0; i < lq; i++)
            query[i] = alphabet[rand_r(&seed) % (int)(sizeof(alphabet) - 1)];
        path[lp] = '\0';
        query[lq] = '\0';
        check_random_path(path, query);
    }
}

/* ------------------------------------------------------------------ */

static int case_cmp(const void *a, const void *b)
{
    return strcmp(((const struct suite_case *)a)->name, ((const struct suite_case *)b)->name);
}

static size_t list_cases(const char *root, struct suite_case **out)
{
    DIR *d = opendir(root);
    size_t n = 0, cap = 64;
    struct suite_case *cases = xcalloc(cap, sizeof(*cases));
    struct dirent *e;
    if (!d) {
        fprintf(stderr, "cannot open SigV4 suite %s\n", root);
        exit(1);
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(cases[0].name))
            continue;
        snprintf(cases[n].name, sizeof(cases[n].name), "%.127s", e->d_name);
        snprintf(cases[n].dir, sizeof(cases[n].dir), "%.800s/%.127s", root, e->d_name);
        char probe[1100];
        snprintf(probe, sizeof(probe), "%s/context.json", cases[n].dir);
        FILE *f = fopen(probe, "r");
        if (!f)
            continue;
        fclose(f);
        if (++n == cap) {
            cap *= 2;
            cases = xrealloc(cases, cap * sizeof(*cases));
        }
    }
    closedir(d);
    qsort(cases, n, sizeof(*cases), case_cmp);
    *out = cases;
    return n;
}

/* The signing time comes from our clock plus a server-taught skew: any
 * value must still give a 16-character X-Amz-Date (found by fuzz_sigv4). */
static void test_amz_date_range(void **state)
{
    (void)state;
    char d[17];
    sigv4_format_amz_date(1440938160, d);
    assert_string_equal(d, "20150830T123600Z");
    sigv4_format_amz_date((time_t)-1, d);
    assert_string_equal(d, "19700101T000000Z");
    sigv4_format_amz_date((time_t)253402300800LL, d); /* year 10000 */
    assert_string_equal(d, "99991231T235959Z");
    sigv4_format_amz_date((time_t)(1LL << 62), d); /* gmtime_r fails */
    assert_string_equal(d, "99991231T235959Z");
}

int main(void)
{
    const char *root = getenv("FW_SIGV4_SUITE") ? getenv("FW_SIGV4_SUITE") : SIGV4_SUITE_DIR;
    struct suite_case *cases = NULL;
    size_t n = list_cases(root, &cases);
    if (n < 30) {
        fprintf(stderr, "SigV4 suite at %s has only %zu cases\n", root, n);
        return 1;
    }
    struct CMUnitTest *tests = xcalloc(n, sizeof(*tests));
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = test_suite_case;
        tests[i].initial_state = &cases[i];
    }
    int failed = _cmocka_run_group_tests("aws-sigv4 official suite", tests, n, NULL, NULL);
    const struct CMUnitTest extra[] = {
        cmocka_unit_test(test_double_encoding_and_query),
        cmocka_unit_test(test_key_cache),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_random_paths),
        cmocka_unit_test(test_amz_date_range),
    };
    failed += cmocka_run_group_tests_name("aws-sigv4 extra", extra, NULL, NULL);
    sigv4_cache_clear();
    free(tests);
    free(cases);
    return failed;
}
