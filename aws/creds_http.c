/*
 * creds_http.c - the one small HTTP fetch the credential sources need
 * (container endpoint, IMDSv2, STS for AssumeRole and web identity).
 *
 * Deliberately minimal and separate from aws/http.c: one easy handle per
 * fetch, http/https only, no redirects, hard timeouts, the answer capped
 * at CREDS_HTTP_MAX_BODY. The answer buffer is allocated once at the cap
 * and never reallocated, so a secret in it exists in one place and is
 * wiped on free. Credential fetches are rare (once per expiry), so the
 * cost of a fresh connection does not matter.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "aws/creds_internal.h"
#include "service/err.h"
#include "service/mem.h"

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc;   /* written once under s_curl_once */

static void curl_init_once(void)
{
    s_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
    char *ptr;          /* CREDS_HTTP_MAX_BODY + 1 bytes */
    size_t len;
    int overflow;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    if (n > CREDS_HTTP_MAX_BODY - s->len) {
        s->overflow = 1;
        return 0;   /* aborts the transfer */
    }
    memcpy(s->ptr + s->len, data, n);
    s->len += n;
    return n;
}

static int setup(CURL *h, const struct creds_http_req *req, struct curl_slist *hdrs, struct sink *s)
{
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_URL, req->url) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, s) != CURLE_OK;
    if (req->no_proxy)
        bad |= curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK;
    if (req->body) {
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req->body_len) != CURLE_OK;
    }
    return bad ? FW_EINTERNAL : 0;
}

static int map_error(CURLcode rc, const struct sink *s)
{
    if (s->overflow)
        return FW_ETOOBIG;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return FW_ETIMEOUT;
    return FW_EUNAVAILABLE;
}

static struct curl_slist *header_list(const struct creds_http_req *req)
{
    struct curl_slist *list = NULL;
    /* No "Expect: 100-continue" round trip for small bodies. */
    list = curl_slist_append(list, "Expect:");
    for (size_t i = 0; list && i < req->nheaders; i++) {
        struct curl_slist *next = curl_slist_append(list, req->headers[i]);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

static void wipe_list(struct curl_slist *l)
{
    for (; l; l = l->next)
        xwipe(l->data, strlen(l->data));
}

int creds__http_fetch(const struct creds_http_req *req, struct creds_http_resp *resp)
{
    struct sink s = {xmalloc(CREDS_HTTP_MAX_BODY + 1), 0, 0};
    struct curl_slist *hdrs = NULL;
    CURL *h = NULL;
    CURLcode cc = CURLE_OK;
    int rc = FW_EINTERNAL;
    memset(resp, 0, sizeof(*resp));
    pthread_once(&s_curl_once, curl_init_once);
    if (s_curl_init_rc != CURLE_OK)
        goto cleanup;
    h = curl_easy_init();
    hdrs = header_list(req);
    if (!h || !hdrs || setup(h, req, hdrs, &s) != 0)
        goto cleanup;
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = map_error(cc, &s);
        goto cleanup;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    s.ptr[s.len] = '\0';
    resp->body = s.ptr;
    resp->len = s.len;
    s.ptr = NULL;
    rc = 0;
cleanup:
    if (s.ptr) {
        xwipe(s.ptr, s.len);
        free(s.ptr);
    }
    wipe_list(hdrs);   /* may hold an authorization token */
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    return rc;
}

void creds__http_resp_free(struct creds_http_resp *resp)
{
    if (resp->body) {
        xwipe(resp->body, resp->len);
        free(resp->body);
    }
    memset(resp, 0, sizeof(*resp));
}
