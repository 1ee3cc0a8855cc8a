/* Unit tests for service/domain/claim_fields.c and the two renderers made
 * from its table: claims_view (routes/claims_view.c) and claims_list_text
 * (routes/claims_text.c) give the same bytes, and the bytes the
 * hand-written view gave before the table (the golden strings below were
 * written by main's claims_view.c at 2d11cb3; members of rows added since
 * are left out of that comparison), for a record with every field set and
 * for one with only what creation writes; every field alone;
 * the list reads exactly the shown fields; the builder counts its pairs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "routes/claims_text.h"
#include "routes/claims_view.h"
#include "service/core/json_out.h"
#include "service/domain/claim_fields.h"

static const char s_full_record[] =
    "{\"id\":\"clm_0123456789abcdef01234567\",\"fleet\":\"line-7\",\"state\":\"rotating\",\"ke"
    "ySource\":\"csr\",\"keyType\":\"ec-p256\",\"certificateId\":\"c0ffee\",\"certificateArn\""
    ":\"arn:aws:iot:us-east-1:123456789012:cert/c0ffee\",\"publicKeyFp\":\"ab12\",\"created\":"
    "\"1764300000001\",\"activated\":\"1764300000002\",\"expires\":\"1764300000003\",\"rotatin"
    "gAt\":\"1764300000004\",\"graceUntil\":\"1764300000005\",\"inactiveAt\":\"1764300000006\""
    ",\"revokedAt\":\"1764300000007\",\"deletedAt\":\"1764300000008\",\"bundleDownloadedAt\":\""
    "1764300000009\",\"updated\":\"1764300000010\",\"predecessor\":\"clm_aaaaaaaaaaaaaaaaaaaaa"
    "aaa\",\"successor\":\"clm_bbbbbbbbbbbbbbbbbbbbbbbb\",\"disableReason\":\"too \\\"many\\\""
    "\",\"regLastHour\":\"12\",\"regTotal\":\"345\",\"regUpdatedAt\":\"1764300000011\",\"expec"
    "tedDevices\":\"100\",\"note\":\"caf\\u00e9\",\"bundleDownloaded\":\"1\",\"keyHeld\":\"1\""
    ",\"error\":\"boom\",\"job\":\"j_0123456789abcdef01234567\",\"csr\":\"-----BEGIN CERTIFICA"
    "TE REQUEST-----\",\"certificatePem\":\"-----BEGIN CERTIFICATE-----\",\"keyErasedReason\":"
    "\"downloaded\",\"certRequested\":\"1764300000000\",\"regMetric\":\"present\",\"fleetUid\""
    ":\"u1\"}";
static const char s_full_view[] =
    "{\"id\":\"clm_0123456789abcdef01234567\",\"href\":\"/v1/claims/clm_0123456789abcdef012345"
    "67\",\"fleet\":\"line-7\",\"state\":\"rotating\",\"keySource\":\"csr\",\"keyType\":\"ec-p"
    "256\",\"certificateId\":\"c0ffee\",\"certificateArn\":\"arn:aws:iot:us-east-1:12345678901"
    "2:cert/c0ffee\",\"publicKeyFingerprint\":\"ab12\",\"createdAt\":\"2025-11-28T03:20:00.001"
    "Z\",\"activatedAt\":\"2025-11-28T03:20:00.002Z\",\"expiresAt\":\"2025-11-28T03:20:00.003Z"
    "\",\"rotationStartedAt\":\"2025-11-28T03:20:00.004Z\",\"graceUntil\":\"2025-11-28T03:20:0"
    "0.005Z\",\"retiredAt\":\"2025-11-28T03:20:00.006Z\",\"revokedAt\":\"2025-11-28T03:20:00.0"
    "07Z\",\"deletedAt\":\"2025-11-28T03:20:00.008Z\",\"bundleDownloadedAt\":\"2025-11-28T03:2"
    "0:00.009Z\",\"updatedAt\":\"2025-11-28T03:20:00.010Z\",\"predecessor\":\"clm_aaaaaaaaaaaa"
    "aaaaaaaaaaaa\",\"successor\":\"clm_bbbbbbbbbbbbbbbbbbbbbbbb\",\"disableReason\":\"too \\\""
    "many\\\"\",\"registrations\":{\"lastHour\":12,\"total\":345,\"updatedAt\":\"2025-11-28T03"
    ":20:00.011Z\"},\"expectedDevices\":100,\"note\":\"caf\xc3\xa9\",\"bundleDownloaded\":true"
    ",\"privateKeyHeld\":true,\"error\":\"boom\",\"job\":{\"id\":\"j_0123456789abcdef01234567\""
    ",\"href\":\"/v1/jobs/j_0123456789abcdef01234567\"}}";
static const char s_min_record[] =
    "{\"id\":\"clm_0123456789abcdef01234567\",\"fleet\":\"line-7\",\"state\":\"creating\",\"ke"
    "ySource\":\"generated\",\"keyType\":\"ec-p256\",\"created\":\"1764300000001\",\"updated\""
    ":\"1764300000001\",\"bundleDownloaded\":\"0\",\"keyHeld\":\"0\"}";
static const char s_min_view[] =
    "{\"id\":\"clm_0123456789abcdef01234567\",\"href\":\"/v1/claims/clm_0123456789abcdef012345"
    "67\",\"fleet\":\"line-7\",\"state\":\"creating\",\"keySource\":\"generated\",\"keyType\":"
    "\"ec-p256\",\"certificateId\":null,\"certificateArn\":null,\"publicKeyFingerprint\":null,"
    "\"createdAt\":\"2025-11-28T03:20:00.001Z\",\"activatedAt\":null,\"expiresAt\":null,\"rota"
    "tionStartedAt\":null,\"graceUntil\":null,\"retiredAt\":null,\"revokedAt\":null,\"deletedA"
    "t\":null,\"bundleDownloadedAt\":null,\"updatedAt\":\"2025-11-28T03:20:00.001Z\",\"predece"
    "ssor\":null,\"successor\":null,\"disableReason\":null,\"registrations\":null,\"expectedDe"
    "vices\":null,\"note\":null,\"bundleDownloaded\":false,\"privateKeyHeld\":false,\"error\":"
    "null,\"job\":null}";

/* claims_view of record, compact; and the list renderer of [record]. */
static void render_both(const json_t *record, char **view, struct buf *text)
{
    json_t *v = claims_view(record);
    assert_non_null(v);
    *view = json_out_compact(v, 0);
    assert_non_null(*view);
    json_decref(v);
    json_t *one = json_pack("[O]", record);
    buf_init(text, (size_t)1 << 20);
    assert_int_equal(claims_list_text(one, text), 0);
    json_decref(one);
}

/* The view without the members a row added after the golden was written
 * (a new field is one table row: this test needs no change for it). */
static char *view_as_of_golden(const json_t *record, const char *golden)
{
    json_t *v = claims_view(record), *g = json_loads(golden, 0, 0);
    assert_non_null(v);
    assert_non_null(g);
    for (size_t i = 0; i < CLAIM_NFIELDS; i++)
        if (!json_object_get(g, claim_fields[i].json))
            json_object_del(v, claim_fields[i].json);
    char *out = json_out_compact(v, 0);
    json_decref(v);
    json_decref(g);
    return out;
}

/* Both renderers agree on record, and show the golden's members as it does. */
static void same_as(json_t *record, const char *want)
{
    char *view, *old = view_as_of_golden(record, want);
    struct buf text;
    render_both(record, &view, &text);
    assert_string_equal(old, want);
    /* the list is "[" view "]" */
    if (text.len != strlen(view) + 2 || memcmp(text.ptr + 1, view, strlen(view)))
        fail_msg("view %s\n text %s", view, text.ptr);
    free(view);
    free(old);
    buf_free(&text);
}

/* A value of the row's kind for a row the golden record does not have. */
static const char *sample(enum claim_view view)
{
    return view == CLAIM_VIEW_FLAG                            ? "1"
           : view == CLAIM_VIEW_STR || view == CLAIM_VIEW_JOB ? "x\"y"
                                                              : "1764300000999";
}

/* The golden full record with every row of today's table set. */
static json_t *full_record(void)
{
    json_t *record = json_loads(s_full_record, 0, 0);
    for (size_t i = 0; i < CLAIM_NFIELDS; i++)
        if (!json_object_get(record, claim_fields[i].name))
            json_object_set_new(record, claim_fields[i].name,
                                json_string(sample(claim_fields[i].view)));
    return record;
}

static void test_every_field_set(void **state)
{
    (void)state;
    json_t *record = full_record();
    same_as(record, s_full_view);
    json_decref(record);
}

static void test_optional_fields_missing(void **state)
{
    (void)state;
    json_t *record = json_loads(s_min_record, 0, 0);
    same_as(record, s_min_view);
    json_decref(record);
}

/* Each field alone (and with the full record minus it): both renderers agree. */
static void test_each_field_alone_and_left_out(void **state)
{
    (void)state;
    json_t *full = full_record();
    for (size_t i = 0; i < CLAIM_NFIELDS; i++) {
        const char *name = claim_fields[i].name;
        json_t *alone = json_pack("{s:O}", name, json_object_get(full, name)),
               *without = json_copy(full);
        json_object_del(without, name);
        json_t *pair[] = {alone, without};
        for (size_t k = 0; k < 2; k++) {
            char *view;
            struct buf text;
            render_both(pair[k], &view, &text);
            if (text.len != strlen(view) + 2 || memcmp(text.ptr + 1, view, strlen(view)))
                fail_msg("%s: view %s\n text %s", name, view, text.ptr);
            free(view);
            buf_free(&text);
            json_decref(pair[k]);
        }
    }
    json_decref(full);
}

/* A list reads claims_view_fields: every row the view shows or reads, no other. */
static void test_list_reads_the_shown_fields(void **state)
{
    (void)state;
    size_t shown = 0;
    for (size_t i = 0; i < CLAIM_NFIELDS; i++) {
        int listed = 0;
        for (size_t k = 0; k < claims_view_nfields; k++)
            listed |= !strcmp(claims_view_fields[k], claim_fields[i].name);
        assert_int_equal(listed, claim_fields[i].view != CLAIM_VIEW_NONE);
        shown += listed;
    }
    assert_int_equal(shown, claims_view_nfields);
}

static void test_builder_counts(void **state)
{
    (void)state;
    struct claim_kv kv;
    claim_kv_init(&kv, CLAIM_BY_SET);
    assert_int_equal(kv.n, 0);
    claim_kv_str(&kv, CLAIM_F_CERT_ID, "c0ffee");
    claim_kv_str(&kv, CLAIM_F_CERT_PEM, 0);
    claim_kv_int(&kv, CLAIM_F_EXPIRES, 1764300000003LL);
    assert_int_equal(kv.n, 3);
    const char *want[] = {"certificateId", "c0ffee",       "certificatePem", "",
                          "expires",       "1764300000003"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(kv.kv[i], want[i]);
    assert_true(claim_kv_has(&kv, CLAIM_F_EXPIRES));
    assert_false(claim_kv_has(&kv, CLAIM_F_STATE));
    assert_string_equal(claim_field_name(CLAIM_F_PUBLIC_KEY_FP), "publicKeyFp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_set),
        cmocka_unit_test(test_optional_fields_missing),
        cmocka_unit_test(test_each_field_alone_and_left_out),
        cmocka_unit_test(test_list_reads_the_shown_fields),
        cmocka_unit_test(test_builder_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
