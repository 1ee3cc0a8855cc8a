/*
 * claim_find.c - finding the certificate a claim's CreateCertificateFromCsr
 * made when its answer never came (see claim_find.h).
 */
#include "claim_find.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "jobs/ratelimit.h"
#include "service/core/err.h"
#include "service/domain/keys.h"
#include "service/domain/store_claim.h"

#define FIND_SLACK_S 300

/* 1 when the certificate cert_id holds the claim's public key (out filled), 0
 * when it does not, -1 when AWS could not say (err set): a certificate we could
 * not describe may be ours, so the search must stop there, not go on to make
 * another one. */
static int cert_matches(struct aws_client *aws, const char *fp, const char *cert_id,
                        struct iot_certificate *out, struct aws_api_error *err)
{
    struct keys_info ki;
    ratelimit_acquire("iot-describe");
    if (iot_describe_certificate(aws, cert_id, out, err))
        return err->cls == AWS_ERRC_NOTFOUND ? (awserr_clear(err), 0) : -1;
    return out->certificate_pem && fp &&
           !keys_cert_info(out->certificate_pem, strlen(out->certificate_pem), &ki) &&
           !strcmp(ki.fp, fp);
}

/* Appends {id, at} of the certificates created at or after since_s (epoch s)
 * to ids (iot_list_certificates_since: newest first, stopping at the first
 * page that reaches older ones). */
static int list_recent(struct aws_client *aws, double since_s, json_t *ids,
                       struct aws_api_error *err)
{
    struct iot_certificate_list l = {0};
    ratelimit_acquire("iot-describe");
    int rc = iot_list_certificates_since(aws, since_s, &l, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].certificate_id)
            json_array_append_new(ids, json_pack("{s:s,s:f}", "id", l.items[i].certificate_id, "at",
                                                 l.items[i].creation_date));
    iot_certificate_list_cleanup(&l);
    return 0;
}

struct near {
    const char *id;
    double dist; /* seconds between its creation and our request */
};

static int near_cmp(const void *a, const void *b)
{
    double x = ((const struct near *)a)->dist, y = ((const struct near *)b)->dist;
    return (x > y) - (x < y);
}

/* The listed certificates no other claim holds, with their distance from
 * our request. A certificate recorded by another claim carries that claim's
 * key, never ours: skipping those keeps a recovery in a bulk run (where the
 * window holds the certificates of hundreds of claims) to a few describes,
 * even when the worker is killed again every few seconds. NULL with *rc set
 * on error. */
static struct near *unowned(json_t *ids, const char *self, double req_s, size_t *n, int *rc)
{
    size_t all = json_array_size(ids), i;
    const char **cert = calloc(all ? all : 1, sizeof *cert);
    char(*owner)[CLAIM_ID_MAX] = calloc(all ? all : 1, sizeof *owner);
    struct near *order = calloc(all ? all : 1, sizeof *order);
    *rc = cert && owner && order ? 0 : FW_EINTERNAL;
    for (i = 0; !*rc && i < all; i++)
        cert[i] = json_string_value(json_object_get(json_array_get(ids, i), "id"));
    if (!*rc)
        *rc = store_claim_cert_owners(cert, all, owner);
    *n = 0;
    for (i = 0; !*rc && i < all; i++) {
        if (owner[i][0] && strcmp(owner[i], self))
            continue;
        double d = json_number_value(json_object_get(json_array_get(ids, i), "at")) - req_s;
        order[*n].id = cert[i];
        order[(*n)++].dist = d < 0 ? -d : d;
    }
    free(cert);
    free(owner);
    if (*rc) {
        free(order);
        return NULL;
    }
    return order;
}

int claim_find_cert(struct aws_client *aws, const char *claim_id, const char *fp,
                    long long requested_ms, struct iot_certificate *out, struct aws_api_error *err)
{
    if (!fp || requested_ms <= 0)
        return 0;
    json_t *ids = json_array();
    double req_s = (double)requested_ms / 1000.0;
    awserr_clear(err);
    int found = list_recent(aws, req_s - FIND_SLACK_S, ids, err);
    /* Describe the certificates made closest to our request first: in a bulk run the window
     * holds hundreds of other claims' certificates, and describing them all (rate-limited)
     * made a recovery take minutes. */
    size_t n = 0, i;
    struct near *order = found ? 0 : unowned(ids, claim_id, req_s, &n, &found);
    if (order)
        qsort(order, n, sizeof *order, near_cmp);
    for (i = 0; order && i < n && !found; i++) {
        iot_certificate_cleanup(out);
        found = cert_matches(aws, fp, order[i].id, out, err);
    }
    if (found != 1)
        iot_certificate_cleanup(out);
    free(order);
    json_decref(ids);
    return found;
}
