/*
 * verify_cleanup.c - step 6 for what RegisterThing made: the thing leaves
 * its groups and is deleted, the device certificate is deactivated,
 * detached from its policies and deleted.
 *
 * The things are found from the certificate (ListPrincipalThings) and the
 * name the journal recorded before RegisterThing, so a crash between the
 * two finds them too. Only a thing this verification made is deleted: its
 * name is under the verification prefix, carries this run's token or
 * the certificate's id, or is the name the run found free just before its
 * RegisterThing (journal "thingNew"); any other thing (a template that maps onto an
 * existing thing) only loses the certificate. Every call treats "already
 * gone" as done. AWS detaches principals asynchronously, so a delete
 * refused with DeleteConflictException is tried again a few times.
 *
 * Left by design: a per-device policy the template made from a
 * PolicyDocument (named after the document's hash, shared by every device
 * whose document renders the same); a certificate made by an interrupted
 * CreateKeysAndCertificate whose answer never came (AWS deletes it an hour
 * later, when its ownership token expires).
 */
#include "verify_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aws/client.h"
#include "aws/iot.h"
#include "aws/iotthing.h"
#include "service/core/err.h"

#define CONFLICT_TRIES 5

static int gone(const struct verify_ctx *v, int rc)
{
    return !rc || v->err.cls == AWS_ERRC_NOTFOUND;
}

/* 0 done, an outage (negative), or 1 refused (v->err; noted in left). */
static int judge(struct verify_ctx *v, int rc, json_t *left, const char *what)
{
    if (gone(v, rc))
        return 0;
    if (verify_outage(v, &v->err))
        return awserr_to_fw(&v->err);
    json_array_append_new(left, json_sprintf("%s (%s: %s)", what, v->err.code, v->err.message));
    return 1;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, 0);
}

/* fresh: the name the run checked no thing had before its RegisterThing (journal
 * "thingNew"), or NULL. */
static int ours(const struct verify_ctx *v, const char *thing, const char *cert_id,
                const char *fresh)
{
    return (fresh && !strcmp(thing, fresh)) ||
           !strncmp(thing, VERIFY_THING_PREFIX, strlen(VERIFY_THING_PREFIX)) ||
           (v->token[0] && strstr(thing, v->token)) ||
           (cert_id && cert_id[0] && strstr(thing, cert_id));
}

typedef int(list_fn)(struct aws_client *c, const char *of, struct aws_strlist *out,
                     struct aws_api_error *err);
typedef int(take_fn)(struct aws_client *c, const char *item, const char *from,
                     struct aws_api_error *err);

/* Lists what hangs on from (a thing's groups, a certificate's policies: what names the list) and
 * takes each away (rate-limited as family); stops at the first refusal or outage, as judge(). */
static int take_each(struct verify_ctx *v, const char *from, list_fn *list, const char *what,
                     const char *family, take_fn *take, json_t *left)
{
    struct aws_strlist items = {0};
    awserr_clear(&v->err);
    verify_call(v, "iot-describe", 0);
    int rc = list(v->aws, from, &items, &v->err);
    if (rc)
        return judge(v, rc, left, what);
    for (size_t i = 0; !rc && i < items.n; i++) {
        verify_call(v, family, 0);
        rc = judge(v, take(v->aws, items.items[i], from, &v->err), left, items.items[i]);
    }
    aws_strlist_cleanup(&items);
    return rc;
}

static int leave_groups(struct verify_ctx *v, const char *thing, json_t *left)
{
    return take_each(v, thing, iot_list_thing_groups_for_thing,
                     "the thing groups of the verification's thing", "iot-thing",
                     iot_remove_thing_from_group, left);
}

static int delete_thing(struct verify_ctx *v, const char *thing)
{
    int rc = 0;
    for (int i = 0; i < CONFLICT_TRIES; i++) {
        awserr_clear(&v->err);
        verify_call(v, "iot-thing", 0);
        rc = iot_delete_thing(v->aws, thing, &v->err);
        if (!rc || v->err.cls != AWS_ERRC_CONFLICT)
            break;
        pause_ms(1000);
    }
    return rc;
}

/* One thing the certificate is attached to (or the recorded name). */
static int remove_thing(struct verify_ctx *v, const char *thing, const char *cert_id,
                        const char *arn, const char *fresh, json_t *done, json_t *left)
{
    awserr_clear(&v->err);
    verify_call(v, "iot-describe", 0);
    int rc = iot_describe_thing(v->aws, thing, &v->err);
    if (rc)
        return judge(v, rc, left, thing);
    int mine = ours(v, thing, cert_id, fresh);
    rc = mine ? leave_groups(v, thing, left) : 0;
    if (!rc && arn) {
        verify_call(v, "iot-thing", 0);
        rc = judge(v, iot_detach_thing_principal(v->aws, thing, arn, &v->err), left, thing);
    }
    if (!rc && mine)
        rc = judge(v, delete_thing(v, thing), left, thing);
    if (!rc)
        json_array_append_new(
            done, json_sprintf(mine ? "thing %s (left its groups, deleted)"
                                    : "thing %s kept (not made by the verification): certificate "
                                      "detached",
                               thing));
    return rc;
}

static int detach_policies(struct verify_ctx *v, const char *arn, json_t *left)
{
    return take_each(v, arn, iot_list_attached_policies,
                     "the policies of the verification's certificate", "iot-policy-attach",
                     iot_detach_policy, left);
}

static int delete_cert(struct verify_ctx *v, const char *id, const char *arn, json_t *done,
                       json_t *left)
{
    awserr_clear(&v->err);
    verify_call(v, "iot-cert-update", 0);
    int rc = iot_update_certificate(v->aws, id, "INACTIVE", &v->err);
    /* a certificate RegisterThing never activated is PENDING_ACTIVATION: UpdateCertificate refuses
     * it */
    rc = rc && v->err.cls == AWS_ERRC_VALIDATION ? 0 : judge(v, rc, left, id);
    rc = rc ? rc : detach_policies(v, arn, left);
    for (int i = 0; !rc && i < CONFLICT_TRIES; i++) {
        awserr_clear(&v->err);
        verify_call(v, "iot-cert-update", 0);
        int d = iot_delete_certificate(v->aws, id, 0, &v->err);
        if (d && v->err.cls == AWS_ERRC_CONFLICT && i + 1 < CONFLICT_TRIES) {
            pause_ms(1000);
            continue;
        }
        rc = judge(v, d, left, id);
        break;
    }
    if (!rc)
        json_array_append_new(done,
                              json_sprintf("certificate %s (deactivated, detached, deleted)", id));
    return rc;
}

/* The recorded name, then every thing the certificate is attached to. */
static int remove_things(struct verify_ctx *v, const json_t *made, const char *cert_id,
                         const char *arn, json_t *done, json_t *left)
{
    struct aws_strlist things = {0};
    const char *planned = json_string_value(json_object_get(made, "thingName"));
    const char *fresh = json_is_true(json_object_get(made, "thingNew")) ? planned : 0;
    int rc = 0;
    if (arn) {
        awserr_clear(&v->err);
        verify_call(v, "iot-describe", 0);
        rc = iot_list_principal_things(v->aws, arn, &things, &v->err);
        rc = judge(v, rc, left, "the things of the verification's certificate");
    }
    if (planned && planned[0]) {
        int listed = 0;
        for (size_t i = 0; i < things.n; i++)
            listed |= !strcmp(things.items[i], planned);
        if (!listed)
            aws_strlist_push(&things, planned);
    }
    for (size_t i = 0; rc <= 0 && i < things.n; i++) {
        int r = remove_thing(v, things.items[i], cert_id, arn, fresh, done, left);
        rc = r < 0 ? r : rc ? rc : r;
    }
    aws_strlist_cleanup(&things);
    return rc;
}

int verify_device_remove(struct verify_ctx *v, const json_t *made, json_t *done, json_t *left)
{
    const json_t *dc = json_object_get(made, "deviceCertificate");
    const char *id = json_string_value(json_object_get(dc, "id")),
               *arn = json_string_value(json_object_get(dc, "arn"));
    int rc = remove_things(v, made, id, arn, done, left);
    if (rc < 0)
        return rc;
    if (id && arn && (rc = delete_cert(v, id, arn, done, left)) < 0)
        return rc;
    return 0;
}
