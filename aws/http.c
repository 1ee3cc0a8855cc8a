/*
 * http.c - the AWS calls' HTTP transport over one libcurl easy handle.
 *
 * The only file that includes curl/curl.h. Each request resets the handle's
 * options (curl_easy_reset keeps the live connection and the DNS cache), so
 * nothing from one call leaks into the next, while the TCP/TLS connection
 * is reused. libcurl reads the proxy variables itself on every transfer,
 * including no_proxy/NO_PROXY, so we set no proxy option at all. Headers we
 * care about (request id, error type) are captured as they arrive.
 */
#include "aws/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/core/netaddr.h"

struct aws_http {
    CURL *curl;
    struct aws_http_options opt;
    char errbuf[CURL_ERROR_SIZE];
    long connections;      /* new connections made so far */
    int no_proxy;          /* 1: CURLOPT_NOPROXY "*" on every transfer */
    int too_big;           /* the current body hit the cap */
    const char *mtls_cert; /* aws_http_send_mtls: borrowed for one call */
    const char *mtls_key;
};

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_init_rc;

static void global_init_once(void)
{
    s_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : FW_EINTERNAL;
}

int aws_http_global_init(void)
{
    pthread_once(&s_once, global_init_once);
    return s_init_rc;
}

struct aws_http *aws_http_new(const struct aws_http_options *opt)
{
    if (aws_http_global_init())
        return 0;
    CURL *curl = curl_easy_init();
    if (!curl)
        return 0;
    struct aws_http *h = xcalloc(1, sizeof *h);
    h->curl = curl;
    if (opt)
        h->opt = *opt;
    if (h->opt.connect_timeout_ms <= 0)
        h->opt.connect_timeout_ms = AWS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if (h->opt.timeout_ms <= 0)
        h->opt.timeout_ms = AWS_HTTP_DEFAULT_TIMEOUT_MS;
    if (!h->opt.max_body)
        h->opt.max_body = AWS_HTTP_DEFAULT_MAX_BODY;
    h->opt.ca_file = opt && opt->ca_file ? xstrdup(opt->ca_file) : 0;
    return h;
}

void aws_http_free(struct aws_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free((char *)h->opt.ca_file);
    free(h);
}

void aws_http_set_no_proxy(struct aws_http *h, int on)
{
    h->no_proxy = on != 0;
}

void aws_http_response_init(struct aws_http_response *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body, AWS_HTTP_DEFAULT_MAX_BODY);
}

void aws_http_response_cleanup(struct aws_http_response *r)
{
    if (r)
        buf_free_secure(&r->body); /* may hold keys or session tokens */
}

long aws_http_connections(const struct aws_http *h)
{
    return h->connections;
}

struct transfer {
    struct aws_http *h;
    struct aws_http_response *resp;
    struct netaddr pin; /* the one address a pinned request may connect to */
};

/* Makes room for n more bytes (and the NUL) without realloc: a bigger
 * buffer is allocated, the content copied and the old buffer wiped, so no
 * stale copy of a secret is left in freed memory. Past the cap it does
 * nothing and buf_append reports FW_ETOOBIG. */
static void body_reserve(struct buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n || b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *bigger = xmalloc(cap);
    if (b->ptr) {
        memcpy(bigger, b->ptr, b->len + 1);
        xwipe(b->ptr, b->cap);
        free(b->ptr);
    }
    b->ptr = bigger;
    b->cap = cap;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    body_reserve(&t->resp->body, len);
    if (buf_append(&t->resp->body, data, len)) {
        t->h->too_big = 1;
        return 0;
    }
    return len;
}

/* Copies a header value (trimmed) when the line is "name: value". */
static void capture(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
    size_t nlen = strlen(name);
    if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
        return;
    const char *v = line + nlen + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t vlen = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    struct aws_http_response *r = t->resp;
    capture(data, len, "x-amzn-RequestId", r->request_id, sizeof r->request_id);
    capture(data, len, "x-amz-request-id", r->request_id, sizeof r->request_id);
    capture(data, len, "x-amzn-ErrorType", r->error_type, sizeof r->error_type);
    capture(data, len, "Date", r->date, sizeof r->date);
    return len;
}

/* The list may hold X-Amz-Security-Token: wipe before freeing. */
static void free_headers(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l; l = l->next)
        xwipe(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

static int has_header(const struct aws_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return 1;
    return 0;
}

/* Builds the header list; "Expect:" stops curl's 100-continue pause on
 * larger bodies, and "Content-Type:" stops curl labelling a bodiless POST
 * or DELETE as a form. NULL when curl cannot allocate. */
static struct curl_slist *build_headers(const struct aws_http_request *req)
{
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");
    if (list && !has_header(req, "Content-Type")) {
        struct curl_slist *next = curl_slist_append(list, "Content-Type:");
        if (!next)
            curl_slist_free_all(list);
        list = next;
    }
    for (size_t i = 0; list && i < req->nheaders; i++) {
        char *line = xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);
        struct curl_slist *next = curl_slist_append(list, line);
        xwipe(line, strlen(line)); /* may carry a session token */
        free(line);
        if (!next) {
            free_headers(list);
            return 0;
        }
        list = next;
    }
    return list;
}

static void set_method(CURL *c, const struct aws_http_request *req)
{
    if (strcmp(req->method, "GET") == 0 && !req->body_len) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        return;
    }
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (strcmp(req->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

/* Mutual TLS with PEM held in memory; libcurl reads it in place (no copy of the key). */
static void set_client_cert(struct aws_http *h)
{
    if (!h->mtls_cert || !h->mtls_key)
        return;
    struct curl_blob cert = {(void *)h->mtls_cert, strlen(h->mtls_cert), CURL_BLOB_NOCOPY};
    struct curl_blob key = {(void *)h->mtls_key, strlen(h->mtls_key), CURL_BLOB_NOCOPY};
    curl_easy_setopt(h->curl, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h->curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h->curl, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h->curl, CURLOPT_SSLKEYTYPE, "PEM");
    curl_easy_setopt(h->curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
}

/* CURLOPT_OPENSOCKETFUNCTION of a pinned request: the last word on where it connects, so
 * that nothing (a proxy from the environment, a connection-reuse quirk) reaches another
 * address than the one the caller checked. */
static curl_socket_t open_pinned(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    const struct transfer *t = ud;
    struct netaddr got;
    if (purpose != CURLSOCKTYPE_IPCXN || netaddr_from_sockaddr(&a->addr, &got) ||
        got.v6 != t->pin.v6 || memcmp(got.b, t->pin.b, got.v6 ? 16 : 4))
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

/* "::ADDR:" (any host, any port -> ADDR, same port) for CURLOPT_CONNECT_TO; NULL when
 * pin is not a numeric address. */
static struct curl_slist *pin_list(const char *pin, struct transfer *t)
{
    if (!netaddr_parse_literal(pin, strlen(pin), &t->pin))
        return 0;
    char text[NETADDR_TEXT_MAX], entry[NETADDR_TEXT_MAX + 8];
    netaddr_format(&t->pin, text);
    snprintf(entry, sizeof entry, t->pin.v6 ? "::[%s]:" : "::%s:", text);
    return curl_slist_append(0, entry);
}

static void set_pin(CURL *c, struct curl_slist *pins, struct transfer *t)
{
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, pins);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_pinned);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, t);
    /* libcurl reuses a kept-alive connection only for the same host and connect-to
     * entry, so a burst of deliveries to one receiver still shares its connection. */
}

static void set_options(struct aws_http *h, const struct aws_http_request *req,
                        struct curl_slist *hdrs, struct transfer *t)
{
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->opt.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->opt.ca_file);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->opt.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->opt.timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (h->no_proxy)
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    set_client_cert(h);
    set_method(c, req);
}

/* Maps a transfer failure to our error; the URL is safe to show (no secret
 * travels in it), the curl message names the cause. */
static int transfer_error(struct aws_http *h, CURLcode cc, const struct aws_http_request *req,
                          struct aws_api_error *err)
{
    const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
    if (h->too_big) {
        awserr_set(err, 0, AWSERR_TOO_LARGE, "answer from %s is larger than %zu bytes", req->url,
                   h->opt.max_body);
        return FW_ETOOBIG;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        awserr_set(err, 0, AWSERR_TIMEOUT, "timed out calling %s: %s", req->url, why);
        return FW_ETIMEOUT;
    }
    if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR ||
        cc == CURLE_SSL_CACERT_BADFILE) {
        awserr_set(err, 0, AWSERR_TLS, "TLS failure calling %s: %s", req->url, why);
        return FW_EAWS;
    }
    awserr_set(err, 0, AWSERR_CONNECTION, "cannot reach %s: %s", req->url, why);
    return FW_EUNAVAILABLE;
}

int aws_http_send(struct aws_http *h, const struct aws_http_request *req,
                  struct aws_http_response *resp, struct aws_api_error *err)
{
    buf_free_secure(&resp->body);
    buf_init(&resp->body, h->opt.max_body);
    resp->status = 0;
    resp->request_id[0] = '\0';
    resp->error_type[0] = '\0';
    resp->date[0] = '\0';
    resp->server_time = 0;
    h->errbuf[0] = '\0';
    h->too_big = 0;
    struct curl_slist *hdrs = build_headers(req);
    if (!hdrs) {
        awserr_set(err, 0, AWSERR_CONNECTION, "cannot build the request headers");
        return FW_EINTERNAL;
    }
    struct transfer t = {.h = h, .resp = resp};
    struct curl_slist *pins = req->pin_address ? pin_list(req->pin_address, &t) : 0;
    if (req->pin_address && !pins) {
        free_headers(hdrs);
        awserr_set(err, 0, AWSERR_CONNECTION, "the pinned address is not a numeric address");
        return FW_EUNAVAILABLE;
    }
    set_options(h, req, hdrs, &t);
    if (pins)
        set_pin(h->curl, pins, &t);
    CURLcode cc = curl_easy_perform(h->curl);
    long connects = 0;
    curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects);
    h->connections += connects;
    int rc = 0;
    if (cc != CURLE_OK) {
        rc = transfer_error(h, cc, req, err);
    } else {
        long status = 0;
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        resp->status = (int)status;
        time_t server = resp->date[0] ? curl_getdate(resp->date, NULL) : 0;
        resp->server_time = server > 0 ? (long long)server : 0;
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h->curl, CURLOPT_CONNECT_TO, NULL);
    free_headers(hdrs);
    curl_slist_free_all(pins);
    return rc;
}

int aws_http_send_mtls(struct aws_http *h, const struct aws_http_request *req, const char *cert_pem,
                       const char *key_pem, struct aws_http_response *resp,
                       struct aws_api_error *err)
{
    h->mtls_cert = cert_pem;
    h->mtls_key = key_pem;
    int rc = aws_http_send(h, req, resp, err);
    h->mtls_cert = h->mtls_key = 0;
    curl_easy_reset(h->curl); /* libcurl forgets the borrowed PEM text */
    return rc;
}
