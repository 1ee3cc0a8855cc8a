/*
 * sigv4.c - AWS Signature Version 4 signing with OpenSSL 3.
 *
 * The work is split in the stages AWS documents: canonical request
 * (method, URI, query, headers, signed header list, payload hash), string
 * to sign (algorithm, date, scope, hash of the canonical request), then the
 * signature, an HMAC-SHA256 chain over date, region, service and
 * "aws4_request" ending with the string to sign. Every stage is checked
 * byte for byte against AWS's own test suite (tests/data/aws-sigv4).
 *
 * Cost: the EVP_MAC and EVP_MD algorithms are fetched once per process and
 * each thread keeps one MAC and one digest context (freed when the thread
 * exits), because OpenSSL 3's one-shot HMAC() is several times slower.
 * The derived signing key changes once a day per region and service, so
 * it is cached in a small table (SIGV4_CACHE_SLOTS entries, round-robin
 * eviction) guarded by s_cache_lock; a signature then costs two SHA-256 and
 * one HMAC. Evicted entries are wiped, secret copy included.
 */
#include "aws/sigv4.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/core/pct.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_CACHE_SLOTS 16
#define SIGV4_SCRATCH_MAX ((size_t)4 << 20) /* canonical request cap: 4 MiB */

/* ------------------------------------------------------------------ */
/* OpenSSL: algorithms fetched once, contexts kept per thread.         */

static pthread_once_t s_crypto_once = PTHREAD_ONCE_INIT;
static EVP_MAC *s_hmac;         /* read-only after s_crypto_once */
static EVP_MD *s_sha256;        /* read-only after s_crypto_once */
static pthread_key_t s_tls_key; /* -> struct crypto_tls */

struct crypto_tls {
    EVP_MAC_CTX *mac; /* digest already set to SHA256 */
    EVP_MD_CTX *md;
};

static void tls_free(void *p)
{
    struct crypto_tls *t = p;
    if (!t)
        return;
    EVP_MAC_CTX_free(t->mac);
    EVP_MD_CTX_free(t->md);
    free(t);
}

static void crypto_init(void)
{
    s_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    s_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&s_tls_key, tls_free) != 0)
        abort(); /* only fails on resource exhaustion at start-up */
}

static struct crypto_tls *tls_new(void)
{
    struct crypto_tls *t = xcalloc(1, sizeof(*t));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    t->mac = EVP_MAC_CTX_new(s_hmac);
    t->md = EVP_MD_CTX_new();
    if (!t->mac || !t->md || !EVP_MAC_CTX_set_params(t->mac, params)) {
        tls_free(t);
        return NULL;
    }
    if (pthread_setspecific(s_tls_key, t) != 0) {
        tls_free(t);
        return NULL;
    }
    return t;
}

/* The calling thread's contexts, or NULL when OpenSSL is unusable. */
static struct crypto_tls *crypto_get(void)
{
    pthread_once(&s_crypto_once, crypto_init);
    if (!s_hmac || !s_sha256)
        return NULL;
    struct crypto_tls *t = pthread_getspecific(s_tls_key);
    return t ? t : tls_new();
}

static int sha256(const void *data, size_t len, unsigned char out[32])
{
    struct crypto_tls *t = crypto_get();
    unsigned int n = 0;
    if (!t)
        return FW_ECRYPTO;
    if (!EVP_DigestInit_ex2(t->md, s_sha256, NULL) || !EVP_DigestUpdate(t->md, data, len) ||
        !EVP_DigestFinal_ex(t->md, out, &n))
        return FW_ECRYPTO;
    return 0;
}

static int hmac(const void *key, size_t klen, const void *data, size_t dlen, unsigned char out[32])
{
    struct crypto_tls *t = crypto_get();
    size_t n = 0;
    if (!t)
        return FW_ECRYPTO;
    if (!EVP_MAC_init(t->mac, key, klen, NULL) || !EVP_MAC_update(t->mac, data, dlen) ||
        !EVP_MAC_final(t->mac, out, &n, 32))
        return FW_ECRYPTO;
    return 0;
}

static void hex32(const unsigned char in[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[64] = '\0';
}

/* ------------------------------------------------------------------ */
/* Signing-key cache.                                                  */

struct key_slot {
    int used;
    char date[9]; /* YYYYMMDD */
    char region[32];
    char service[64];
    char *secret;          /* owned copy; wiped on eviction */
    unsigned char key[32]; /* kSigning */
};

static pthread_mutex_t s_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct key_slot s_cache[SIGV4_CACHE_SLOTS]; /* protected by s_cache_lock */
static size_t s_cache_next;                        /* protected by s_cache_lock */

static void slot_wipe(struct key_slot *s)
{
    xfree_secret(s->secret);
    xwipe(s, sizeof(*s));
    memset(s, 0, sizeof(*s));
}

void sigv4_cache_clear(void)
{
    pthread_mutex_lock(&s_cache_lock);
    for (size_t i = 0; i < SIGV4_CACHE_SLOTS; i++)
        slot_wipe(&s_cache[i]);
    s_cache_next = 0;
    pthread_mutex_unlock(&s_cache_lock);
}

static int slot_matches(const struct key_slot *s, const char *date, const struct sigv4_params *p)
{
    return s->used && !strcmp(s->date, date) && !strcmp(s->region, p->region) &&
           !strcmp(s->service, p->service) && !strcmp(s->secret, p->secret_access_key);
}

static int cache_lookup(const char *date, const struct sigv4_params *p, unsigned char key[32])
{
    int found = 0;
    pthread_mutex_lock(&s_cache_lock);
    for (size_t i = 0; i < SIGV4_CACHE_SLOTS && !found; i++) {
        if (slot_matches(&s_cache[i], date, p)) {
            memcpy(key, s_cache[i].key, 32);
            found = 1;
        }
    }
    pthread_mutex_unlock(&s_cache_lock);
    return found;
}

static void cache_store(const char *date, const struct sigv4_params *p, const unsigned char key[32])
{
    /* Names too long for a slot are simply not cached. */
    if (strlen(p->region) >= sizeof(s_cache[0].region) ||
        strlen(p->service) >= sizeof(s_cache[0].service))
        return;
    pthread_mutex_lock(&s_cache_lock);
    struct key_slot *s = &s_cache[s_cache_next];
    s_cache_next = (s_cache_next + 1) % SIGV4_CACHE_SLOTS;
    slot_wipe(s);
    s->used = 1;
    memcpy(s->date, date, 9);
    memcpy(s->region, p->region, strlen(p->region) + 1); /* lengths checked above */
    memcpy(s->service, p->service, strlen(p->service) + 1);
    s->secret = xstrdup(p->secret_access_key);
    memcpy(s->key, key, 32);
    pthread_mutex_unlock(&s_cache_lock);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int derive_key(const char *date, const struct sigv4_params *p, unsigned char key[32])
{
    char *k0 = xasprintf("AWS4%s", p->secret_access_key);
    unsigned char a[32], b[32];
    int rc = hmac(k0, strlen(k0), date, 8, a);
    if (!rc)
        rc = hmac(a, 32, p->region, strlen(p->region), b);
    if (!rc)
        rc = hmac(b, 32, p->service, strlen(p->service), a);
    if (!rc)
        rc = hmac(a, 32, "aws4_request", 12, key);
    xfree_secret(k0);
    xwipe(a, sizeof(a));
    xwipe(b, sizeof(b));
    return rc;
}

static int signing_key(const char *date, const struct sigv4_params *p, unsigned char key[32])
{
    if (cache_lookup(date, p, key))
        return 0;
    int rc = derive_key(date, p, key);
    if (!rc)
        cache_store(date, p, key);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Encoding helpers.                                                   */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int sigv4_uri_encode(struct buf *out, const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
        int rc = is_unreserved(c) ? buf_append(out, &s[i], 1) : buf_append(out, esc, 3);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Canonical URI.                                                      */

/* Appends the path with every segment encoded and the slashes kept. */
static int path_encode_raw(struct buf *out, const char *path)
{
    for (const char *s = path; *s; s++) {
        int rc = *s == '/' ? buf_append(out, "/", 1) : sigv4_uri_encode(out, s, 1);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * RFC 3986 remove_dot_segments plus collapsing of empty segments: the
 * kept segments go to segs (pointers into path). Returns their count and
 * sets *trailing when the result ends with a slash.
 */
static size_t path_segments(const char *path, struct str *segs, int *trailing)
{
    size_t n = 0;
    const char *s = path;
    *trailing = 0;
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        int dot = len == 1 && s[0] == '.';
        int dotdot = len == 2 && s[0] == '.' && s[1] == '.';
        if (dotdot && n > 0)
            n--;
        else if (len > 0 && !dot && !dotdot)
            segs[n++] = (struct str){s, len};
        if (len > 0)
            *trailing = dot || dotdot || e != NULL;
        s += len;
    }
    return n;
}

static int path_encode_normalized(struct buf *out, const char *path)
{
    size_t max = 1;
    for (const char *s = path; *s; s++)
        max += *s == '/';
    struct str *segs = xmalloc(max * sizeof(*segs));
    int trailing = 0;
    size_t n = path_segments(path, segs, &trailing);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = buf_append(out, "/", 1);
        if (!rc)
            rc = sigv4_uri_encode(out, segs[i].ptr, segs[i].len);
    }
    if (!rc && (n == 0 || trailing))
        rc = buf_append(out, "/", 1);
    free(segs);
    return rc;
}

static int canonical_uri(struct buf *out, const char *path, int normalize)
{
    if (!path || !*path)
        return buf_append(out, "/", 1);
    return normalize ? path_encode_normalized(out, path) : path_encode_raw(out, path);
}

/* ------------------------------------------------------------------ */
/* Canonical query string.                                             */

struct qparam {
    char *key;   /* strictly encoded */
    char *value; /* strictly encoded, "" when absent */
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Decodes s[0..n) and encodes it again strictly, as a new string. */
static char *reencode(const char *s, size_t n)
{
    size_t dlen = 0;
    char *d = pct_decode(s, n, &dlen);
    struct buf b;
    buf_init(&b, SIZE_MAX / 4);
    sigv4_uri_encode(&b, d, dlen); /* cannot hit the cap */
    free(d);
    return buf_steal(&b);
}

static size_t query_split(const char *q, struct qparam *ps)
{
    size_t n = 0;
    while (*q) {
        const char *e = strchr(q, '&');
        size_t len = e ? (size_t)(e - q) : strlen(q);
        if (len > 0) {
            const char *eq = memchr(q, '=', len);
            size_t klen = eq ? (size_t)(eq - q) : len;
            ps[n].key = reencode(q, klen);
            ps[n].value = eq ? reencode(eq + 1, len - klen - 1) : xstrdup("");
            n++;
        }
        q += len + (e ? 1 : 0);
    }
    return n;
}

static int canonical_query(struct buf *out, const char *query)
{
    if (!query || !*query)
        return 0;
    size_t max = 1;
    for (const char *s = query; *s; s++)
        max += *s == '&';
    struct qparam *ps = xmalloc(max * sizeof(*ps));
    size_t n = query_split(query, ps);
    qsort(ps, n, sizeof(*ps), qparam_cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            rc = buf_printf(out, "%s%s=%s", i ? "&" : "", ps[i].key, ps[i].value);
        free(ps[i].key);
        free(ps[i].value);
    }
    free(ps);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Canonical headers.                                                  */

struct chdr {
    char *name;   /* lowercased */
    char *value;  /* trimmed, whitespace runs folded */
    size_t order; /* position given, so repeated headers keep their order */
};

static int chdr_cmp(const void *a, const void *b)
{
    const struct chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char *fold_value(const char *v)
{
    char *d = xmalloc(strlen(v) + 1);
    size_t j = 0;
    int pending_space = 0;
    for (const char *s = v; *s; s++) {
        if (is_space(*s)) {
            pending_space = j > 0;
            continue;
        }
        if (pending_space)
            d[j++] = ' ';
        pending_space = 0;
        d[j++] = *s;
    }
    d[j] = '\0';
    return d;
}

static char *lower_name(const char *name)
{
    char *d = fold_value(name);
    for (char *s = d; *s; s++) {
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    }
    return d;
}

/* Headers the signer supplies itself; copies given by the caller are dropped. */
static int is_signer_header(const char *lname)
{
    return !strcmp(lname, "authorization") || !strcmp(lname, "x-amz-date") ||
           !strcmp(lname, "x-amz-security-token") || !strcmp(lname, "x-amz-content-sha256");
}

struct canon {
    struct buf text;           /* the canonical request */
    struct buf headers;        /* the CanonicalHeaders block, one "name:value\n" per header */
    struct buf signed_headers; /* "host;x-amz-date" */
    struct buf presign;        /* query signing:
                                  "X-Amz-Algorithm=...&X-Amz-Expires=N[&X-Amz-Security-Token=...]" */
    char payload_hex[65];
    char amz_date[17];
    char date[9];   /* YYYYMMDD */
    long expires_s; /* > 0: query signing (presigned URL) */
};

static void chdr_add(struct chdr *h, size_t *n, const char *name, const char *value)
{
    h[*n].name = xstrdup(name);
    h[*n].value = fold_value(value);
    h[*n].order = *n;
    (*n)++;
}

/* Collects the request's headers plus the signer's; FW_EINVAL without Host. */
static int headers_collect(const struct sigv4_request *req, const struct sigv4_params *p,
                           const struct canon *c, struct chdr *h, size_t *n)
{
    int have_host = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        char *lname = lower_name(req->headers[i].name);
        if (is_signer_header(lname) || !*lname) {
            free(lname);
            continue;
        }
        have_host |= !strcmp(lname, "host");
        h[*n].name = lname;
        h[*n].value = fold_value(req->headers[i].value ? req->headers[i].value : "");
        h[*n].order = *n;
        (*n)++;
    }
    if (c->expires_s > 0) /* query signing: the X-Amz-* values go in the query */
        return have_host ? 0 : FW_EINVAL;
    chdr_add(h, n, "x-amz-date", c->amz_date);
    if (p->session_token && *p->session_token)
        chdr_add(h, n, "x-amz-security-token", p->session_token);
    if (p->add_content_sha256)
        chdr_add(h, n, "x-amz-content-sha256", c->payload_hex);
    return have_host ? 0 : FW_EINVAL;
}

static int headers_emit(struct canon *c, const struct chdr *h, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int first = i == 0 || strcmp(h[i - 1].name, h[i].name) != 0;
        int last = i + 1 == n || strcmp(h[i + 1].name, h[i].name) != 0;
        if (first) {
            rc = buf_printf(&c->headers, "%s:", h[i].name);
            if (!rc)
                rc = buf_printf(&c->signed_headers, "%s%s", i ? ";" : "", h[i].name);
        }
        if (!rc)
            rc = buf_printf(&c->headers, "%s%s", first ? "" : ",", h[i].value);
        if (!rc && last)
            rc = buf_append(&c->headers, "\n", 1);
    }
    return rc;
}

static int canonical_headers(struct canon *c, const struct sigv4_request *req,
                             const struct sigv4_params *p)
{
    struct chdr *h = xcalloc(req->nheaders + 3, sizeof(*h));
    size_t n = 0;
    int rc = headers_collect(req, p, c, h, &n);
    if (!rc) {
        qsort(h, n, sizeof(*h), chdr_cmp);
        rc = headers_emit(c, h, n);
    }
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        xfree_secret(h[i].value); /* may be the session token */
    }
    free(h);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Stages.                                                             */

/* Times strftime's %Y shows as four digits: 1970-01-01T00:00:00Z (the
 * epoch; glibc does not pad years below 1000) to 9999-12-31T23:59:59Z. */
#define AMZ_DATE_MIN_S 0LL
#define AMZ_DATE_MAX_S 253402300799LL

void sigv4_format_amz_date(time_t t, char out[17])
{
    /* The signing time is our clock plus a skew learnt from a server's Date
     * header, so it can be absurd. Clamped, gmtime_r cannot fail and
     * strftime always fills exactly 16 characters (a year outside 0..9999
     * would not fit and leave out unterminated); AWS then refuses the
     * signature, which is the right answer to such a clock. */
    if ((long long)t < AMZ_DATE_MIN_S)
        t = (time_t)AMZ_DATE_MIN_S;
    if ((long long)t > AMZ_DATE_MAX_S)
        t = (time_t)AMZ_DATE_MAX_S;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int params_valid(const struct sigv4_request *req, const struct sigv4_params *p)
{
    return req && p && req->method && *req->method && p->access_key_id && *p->access_key_id &&
           p->secret_access_key && p->region && *p->region && p->service && *p->service &&
           (req->body || req->body_len == 0) && (req->headers || req->nheaders == 0);
}

static void canon_free(struct canon *c)
{
    buf_free_secure(&c->text); /* these three hold the session token when there is one */
    buf_free_secure(&c->headers);
    buf_free_secure(&c->presign);
    buf_free(&c->signed_headers);
}

/* Query signing: the X-Amz-* parameters, values strictly encoded, in the
 * order AWS's own signers put them on the wire. */
static int presign_params(struct canon *c, const struct sigv4_params *p)
{
    struct buf *b = &c->presign;
    char *scope =
        xasprintf("%s/%s/%s/%s/aws4_request", p->access_key_id, c->date, p->region, p->service);
    int rc = buf_puts(b, "X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=");
    if (!rc)
        rc = sigv4_uri_encode(b, scope, strlen(scope));
    if (!rc)
        rc = buf_printf(b, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", c->amz_date);
    if (!rc)
        rc = sigv4_uri_encode(b, c->signed_headers.ptr, c->signed_headers.len);
    if (!rc)
        rc = buf_printf(b, "&X-Amz-Expires=%ld", c->expires_s);
    if (!rc && p->session_token && *p->session_token) {
        rc = buf_puts(b, "&X-Amz-Security-Token=");
        if (!rc)
            rc = sigv4_uri_encode(b, p->session_token, strlen(p->session_token));
    }
    free(scope);
    return rc;
}

/* The query to canonicalize: the request's own plus, when presigning, ours. */
static int canonical_query_all(struct canon *c, const struct sigv4_request *req)
{
    if (!c->presign.len)
        return canonical_query(&c->text, req->query);
    struct buf all;
    buf_init(&all, SIGV4_SCRATCH_MAX);
    int rc = buf_printf(&all, "%s%s%s", req->query ? req->query : "",
                        req->query && *req->query ? "&" : "", c->presign.ptr);
    if (!rc)
        rc = canonical_query(&c->text, all.ptr);
    buf_free_secure(&all);
    return rc;
}

static int canon_assemble(struct canon *c, const struct sigv4_request *req,
                          const struct sigv4_params *p)
{
    int rc = buf_printf(&c->text, "%s\n", req->method); /* HTTPMethod */
    if (!rc)
        rc = canonical_uri(&c->text, req->path, p->normalize_path); /* CanonicalURI */
    if (!rc)
        rc = buf_append(&c->text, "\n", 1);
    if (!rc)
        rc = canonical_query_all(c, req); /* CanonicalQueryString */
    if (!rc)
        rc = buf_printf(&c->text, "\n%s\n%s\n%s", buf_cstr(&c->headers), /* CanonicalHeaders */
                        buf_cstr(&c->signed_headers),                    /* SignedHeaders */
                        c->payload_hex);                                 /* HashedPayload */
    return rc;
}

/* expires_s: 0 for header signing, 1..604800 for query signing. */
static int canon_build(struct canon *c, const struct sigv4_request *req,
                       const struct sigv4_params *p, long expires_s)
{
    unsigned char md[32];
    c->expires_s = expires_s;
    buf_init(&c->text, SIGV4_SCRATCH_MAX);
    buf_init(&c->headers, SIGV4_SCRATCH_MAX);
    buf_init(&c->signed_headers, SIGV4_SCRATCH_MAX);
    buf_init(&c->presign, SIGV4_SCRATCH_MAX);
    if (!params_valid(req, p) || expires_s < 0 || expires_s > 604800)
        return FW_EINVAL;
    sigv4_format_amz_date(p->time, c->amz_date);
    memcpy(c->date, c->amz_date, 8);
    c->date[8] = '\0';
    int rc = sha256(req->body ? req->body : "", req->body_len, md);
    if (rc)
        return rc;
    hex32(md, c->payload_hex);
    rc = canonical_headers(c, req, p);
    if (!rc && expires_s > 0)
        rc = presign_params(c, p);
    if (!rc)
        rc = canon_assemble(c, req, p);
    return rc;
}

static int sts_build(const struct canon *c, const struct sigv4_params *p, struct buf *out)
{
    unsigned char md[32];
    char hex[65];
    int rc = sha256(c->text.ptr, c->text.len, md);
    if (rc)
        return rc;
    hex32(md, hex);
    return buf_printf(out, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", c->amz_date, c->date,
                      p->region, p->service, hex);
}

static int signature_build(const struct canon *c, const struct sigv4_params *p, char out[65])
{
    unsigned char key[32], sig[32];
    struct buf sts;
    buf_init(&sts, SIGV4_SCRATCH_MAX);
    int rc = sts_build(c, p, &sts);
    if (!rc)
        rc = signing_key(c->date, p, key);
    if (!rc)
        rc = hmac(key, 32, sts.ptr, sts.len, sig);
    if (!rc)
        hex32(sig, out);
    xwipe(key, sizeof(key));
    buf_free(&sts);
    return rc;
}

int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_params *p,
                            struct buf *out)
{
    struct canon c;
    int rc = canon_build(&c, req, p, 0);
    if (!rc)
        rc = buf_append(out, c.text.ptr, c.text.len);
    canon_free(&c);
    return rc;
}

int sigv4_string_to_sign(const struct sigv4_request *req, const struct sigv4_params *p,
                         struct buf *out)
{
    struct canon c;
    int rc = canon_build(&c, req, p, 0);
    if (!rc)
        rc = sts_build(&c, p, out);
    canon_free(&c);
    return rc;
}

int sigv4_signature(const struct sigv4_request *req, const struct sigv4_params *p, char out[65])
{
    struct canon c;
    int rc = canon_build(&c, req, p, 0);
    if (!rc)
        rc = signature_build(&c, p, out);
    canon_free(&c);
    return rc;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
               struct sigv4_result *res)
{
    struct canon c;
    char sig[65];
    buf_init(&res->authorization, 4096 + SIGV4_SCRATCH_MAX);
    int rc = canon_build(&c, req, p, 0);
    if (!rc)
        rc = signature_build(&c, p, sig);
    if (!rc)
        rc = buf_printf(
            &res->authorization,
            SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
            p->access_key_id, c.date, p->region, p->service, buf_cstr(&c.signed_headers), sig);
    if (!rc) {
        memcpy(res->amz_date, c.amz_date, sizeof(res->amz_date));
        memcpy(res->content_sha256, c.payload_hex, sizeof(res->content_sha256));
    } else {
        buf_free(&res->authorization);
    }
    canon_free(&c);
    return rc;
}

int sigv4_presign(const struct sigv4_request *req, const struct sigv4_params *p, long expires_s,
                  struct buf *query_out)
{
    struct canon c;
    char sig[65];
    if (expires_s <= 0)
        return FW_EINVAL;
    int rc = canon_build(&c, req, p, expires_s);
    if (!rc)
        rc = signature_build(&c, p, sig);
    if (!rc && req->query && *req->query)
        rc = buf_printf(query_out, "%s&", req->query);
    if (!rc)
        rc = buf_printf(query_out, "%s&X-Amz-Signature=%s", c.presign.ptr, sig);
    canon_free(&c);
    return rc;
}

int sigv4_presign_stages(const struct sigv4_request *req, const struct sigv4_params *p,
                         long expires_s, struct buf *canonical, struct buf *string_to_sign,
                         char signature[65])
{
    struct canon c;
    if (expires_s <= 0)
        return FW_EINVAL;
    int rc = canon_build(&c, req, p, expires_s);
    if (!rc && canonical)
        rc = buf_append(canonical, c.text.ptr, c.text.len);
    if (!rc && string_to_sign)
        rc = sts_build(&c, p, string_to_sign);
    if (!rc && signature)
        rc = signature_build(&c, p, signature);
    canon_free(&c);
    return rc;
}
