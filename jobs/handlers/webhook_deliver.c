/*
 * webhook_deliver.c - one signed POST of an incident to its fleet's webhook.
 *
 * The secret is read from the fleet's settings when the job runs (sealed
 * under the KEK at rest, watch_secret.h), opened, and wiped after
 * signing; it never enters a payload, a result, an error or a log line. The URL is checked again at
 * delivery (settings may predate a stricter FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS). Each worker
 * thread keeps one HTTP handle (aws/http.h: libcurl without redirects, capped body), so a burst of
 * incidents reuses its connection to the receiver.
 *
 * Server-side request forgery: the host is resolved here and every address
 * it has is checked (netresolve_checked: loopback, private,
 * link-local, unique-local, carrier-grade NAT, metadata, ... unless
 * FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES allows it); the POST then goes to the
 * address that was checked and nowhere else (aws_http_request.pin_address;
 * no second lookup that a short-TTL DNS answer could turn to 127.0.0.1,
 * and no proxy). What the job records, which a read token can see, is only
 * "refused by policy" or "delivery failed": nothing that tells an open
 * port from a closed one or names an address. The detail goes to the
 * service log for the operator, with the host but never the URL (whose
 * path may hold a secret).
 */
#include "webhook_deliver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/http.h"
#include "jobs/worker.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/core/netaddr.h"
#include "service/core/netresolve.h"
#include "service/domain/store.h"
#include "service/domain/store_fleet.h"
#include "service/domain/store_watch.h"
#include "service/domain/watch_secret.h"
#include "service/domain/webhook_check.h"

#define WEBHOOK_TIMEOUT_MS 5000
#define WEBHOOK_MAX_ANSWER (64u * 1024)

static pthread_key_t s_http_key;
static pthread_once_t s_http_once = PTHREAD_ONCE_INIT;

static void http_free(void *h)
{
    aws_http_free(h);
}

static void http_key_init(void)
{
    pthread_key_create(&s_http_key, http_free);
}

/* The worker thread's handle, freed when the thread exits. */
static struct aws_http *http_handle(void)
{
    pthread_once(&s_http_once, http_key_init);
    struct aws_http *h = pthread_getspecific(s_http_key);
    if (!h) {
        struct aws_http_options o = {WEBHOOK_TIMEOUT_MS, WEBHOOK_TIMEOUT_MS, WEBHOOK_MAX_ANSWER, 0};
        h = aws_http_new(&o);
        pthread_setspecific(s_http_key, h);
    }
    return h;
}

/* The fleet's webhook URL and secret (new strings; the secret opened from
 * its sealed form, watch_secret.h): 0, FW_ENOTFOUND (no webhook), or
 * FW_ECRYPTO/FW_EINVAL (the sealed secret does not open). */
static int fleet_webhook(const char *fleet, char **url, char **secret)
{
    json_t *doc = 0;
    *url = *secret = 0;
    int rc = store_fleet_get(fleet, &doc);
    if (rc)
        return rc;
    const json_t *watch = json_object_get(json_object_get(doc, "settings"), "watch");
    const char *u = json_string_value(json_object_get(json_object_get(watch, "webhook"), "url"));
    rc = u ? watch_secret_open(watch, fleet, secret) : FW_ENOTFOUND;
    if (!rc)
        *url = xstrdup(u);
    json_decref(doc);
    return rc;
}

static char *body_of(json_t *incident, const char *event)
{
    char now[32];
    store_format_time(store_now_ms(), now);
    json_t *b =
        json_pack("{s:s, s:O, s:s}", "event", event, "incident", incident, "deliveredAt", now);
    char *text = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    return text;
}

/* The operator's view of a failed delivery: the log, never the job. */
static void log_failure(const char *host, const char *what, const char *detail)
{
    log_event(LOG_WARN, what, LOG_STR("component", "webhook"), LOG_STR("host", host),
              LOG_STR("detail", detail));
}

static int delivery_failed(struct job_ctx *ctx, const char *host, int retry, const char *detail)
{
    log_failure(host, "webhook delivery failed", detail);
    job_ctx_set_error_msg(ctx, retry ? JOB_FAIL_TRANSIENT : JOB_FAIL_VALIDATION,
                          "WebhookDeliveryFailed", "delivery failed");
    return retry ? FW_EUNAVAILABLE : FW_EINVAL;
}

static int refused(struct job_ctx *ctx, const char *host, const char *detail)
{
    log_failure(host, "webhook refused by policy", detail);
    job_ctx_set_error_msg(ctx, JOB_FAIL_VALIDATION, "WebhookRefused", "refused by policy");
    return FW_EINVAL;
}

/* Resolves host and checks every address it has (netresolve.h); the first
 * one into pin. 0, or the job's error set. */
static int resolve_checked(struct job_ctx *ctx, const char *host, int port,
                           char pin[NETADDR_TEXT_MAX])
{
    char why[400];
    int rc = netresolve_checked(host, port, webhook_policy()->allow_addresses,
                                "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES", pin, why, sizeof why);
    if (rc == FW_EFORBIDDEN)
        return refused(ctx, host, why);
    return rc ? delivery_failed(ctx, host, 1, why) : 0;
}

/* Sends body to the checked address; classifies the answer for the retry policy (the
 * job's error says only "delivery failed" whatever happened). */
static int post(struct job_ctx *ctx, const char *url, const char *pin, const char *host,
                const char *body, const char *sig, const char *event)
{
    struct aws_http *h = http_handle();
    if (!h) {
        job_ctx_set_error_msg(ctx, JOB_FAIL_TRANSIENT, "HttpInit",
                              "could not create an HTTP handle");
        return FW_EINTERNAL;
    }
    struct aws_http_header hdr[] = {{"Content-Type", "application/json"},
                                    {"User-Agent", "fleetwarden-webhook/" FW_VERSION},
                                    {"X-Fleetwarden-Event", event},
                                    {"X-Fleetwarden-Delivery", job_ctx_id(ctx)},
                                    {"X-Fleetwarden-Signature", sig}};
    struct aws_http_request req = {"POST", url,          hdr, sizeof hdr / sizeof hdr[0],
                                   body,   strlen(body), pin};
    struct aws_http_response resp;
    struct aws_api_error err;
    aws_http_response_init(&resp);
    awserr_clear(&err);
    int rc = aws_http_send(h, &req, &resp, &err);
    int status = resp.status;
    aws_http_response_cleanup(&resp);
    if (rc == FW_ETOOBIG && status > 0)
        rc = 0;  /* the answer's body is not needed: its status is enough */
    char d[200]; /* code (63) + pin (47) + text */
    if (rc) {
        snprintf(d, sizeof d, "%s: no answer from %s (%s)",
                 err.code[0] ? err.code : "ConnectionError", pin, fw_strerror(rc));
        return delivery_failed(ctx, host, 1, d);
    }
    if (status >= 200 && status < 300)
        return 0;
    snprintf(d, sizeof d, "%s answered HTTP %d%s", pin, status,
             status >= 300 && status < 400 ? " (redirects are not followed)" : "");
    return delivery_failed(ctx, host, status == 408 || status == 429 || status >= 500, d);
}

static int deliver(struct job_ctx *ctx, json_t *incident, const char *event, const char *url,
                   char *secret)
{
    char why[200] = "the URL has no host", sig[WEBHOOK_SIG_MAX], host[256], pin[NETADDR_TEXT_MAX];
    int port = 0;
    if (webhook_url_check(url, webhook_policy(), why, sizeof why) ||
        webhook_url_host(url, host, sizeof host, &port))
        return refused(ctx, "(settings)", why);
    int rc = resolve_checked(ctx, host, port, pin);
    if (rc)
        return rc;
    char *body = body_of(incident, event);
    rc = webhook_signature(secret, body, strlen(body), sig);
    if (!rc)
        rc = post(ctx, url, pin, host, body, sig, event);
    free(body);
    return rc;
}

/* The incident's fleet webhook into url and secret: 0, 1 when the job is
 * done without a delivery (no webhook; result set), or an error. */
static int load_webhook(struct job_ctx *ctx, json_t *incident, char **url, char **secret)
{
    int rc = fleet_webhook(json_string_value(json_object_get(incident, "fleet")), url, secret);
    if (rc == FW_ECRYPTO || rc == FW_EINVAL) {
        /* Says which key failed, never anything of the secret. */
        job_ctx_set_error_msg(
            ctx, JOB_FAIL_VALIDATION, "WebhookSecretSealed",
            "the fleet's webhook secret does not open with this service's key-encryption key; "
            "set it again with PATCH /v1/fleets/{name}");
        return FW_EINVAL;
    }
    if (rc == FW_ENOTFOUND) {
        job_ctx_set_result(ctx, "{\"delivered\":false,\"reason\":\"the fleet has no webhook\"}");
        return 1;
    }
    return rc; /* Redis errors are retried */
}

int webhook_deliver_handler(struct job_ctx *ctx, json_t *payload, void *ud)
{
    (void)ud;
    const char *id = json_string_value(json_object_get(payload, "incidentId"));
    const char *event = json_string_value(json_object_get(payload, "event"));
    json_t *incident = 0;
    char *url = 0, *secret = 0;
    int rc = store_incident_get(id ? id : "", &incident);
    if (rc == FW_ENOTFOUND) {
        job_ctx_set_error_msg(ctx, JOB_FAIL_VALIDATION, "NoIncident", "no incident %s",
                              id ? id : "(none)");
        return FW_EINVAL;
    }
    if (!rc)
        rc = load_webhook(ctx, incident, &url, &secret);
    if (!rc)
        rc = deliver(ctx, incident, event ? event : "incident.opened", url, secret);
    if (!rc)
        job_ctx_set_result(ctx, "{\"delivered\":true}");
    xfree_secret(secret);
    free(url);
    json_decref(incident);
    return rc == 1 ? 0 : rc;
}
