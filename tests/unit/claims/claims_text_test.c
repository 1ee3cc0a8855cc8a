/* Unit tests for routes/claims_text.c: claims_list_text gives byte for byte
 * what list_claims gave before (json_out_compact of an array of
 * claims_view), on generated records: every state, fields missing or
 * empty, strings with quotes, control characters and non-ASCII, ids long
 * enough that an href is cut inside a character, odd numbers and times. */
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
#include "tests/unit/test_render.h"
#include "tests/unit/test_values.h"

#define E "\xc3\xa9"
#define E10 E E E E E E E E E E
static const char *const s_strings[] = {
    TEST_ODD_STRINGS,
    "clm_0123456789abcdef01234567",
    "j_0123456789abcdef01234567",
    "bench",
    "arn:aws:iot:us-east-1:123456789012:cert/abc",
    "c_x" E10 E10 E10,                             /* the claim href is cut inside a character */
    "j_x" E10 E10 E10 E10 E10 E10 E10 E10 E10 E10, /* so is the job link's */
    "x123456789012345678901234567890123456789012345678901",
};
static const char *const s_states[] = {"creating", "active",  "rotating", "inactive",
                                       "revoked",  "deleted", "failed"};
static const char *const s_times[] = {TEST_MS_TEXTS};
static const char *const s_ints[] = {TEST_INT_TEXTS};

static const char *value_for(const char *f)
{
    static const char *const times[] = {"created",    "activated",   "expires",
                                        "rotatingAt", "graceUntil",  "inactiveAt",
                                        "revokedAt",  "deletedAt",   "bundleDownloadedAt",
                                        "updated",    "regUpdatedAt"};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++)
        if (!strcmp(f, times[i]))
            return TEST_ANY(s_times);
    if (!strcmp(f, "state"))
        return test_pick(6) ? s_states[test_pick(7)] : TEST_ANY(s_strings);
    if (!strcmp(f, "regLastHour") || !strcmp(f, "regTotal") || !strcmp(f, "expectedDevices"))
        return TEST_ANY(s_ints);
    if (!strcmp(f, "bundleDownloaded") || !strcmp(f, "keyHeld"))
        return test_pick(3) == 0 ? "" : test_pick(2) ? "1" : "0";
    return TEST_ANY(s_strings);
}

/* A record as store_claim_list_fields gives it: string fields, some absent. */
static json_t *make_record(void)
{
    json_t *o = json_object();
    for (size_t i = 0; i < claims_view_nfields; i++)
        if (test_pick(5))
            json_object_set_new(o, claims_view_fields[i],
                                json_string(value_for(claims_view_fields[i])));
    return o;
}

/* list_claims before: json_out_compact of the array of claims_view. */
static void same(const json_t *records)
{
    json_t *out = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(records, i, f) json_array_append_new(out, claims_view(f));
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    assert_int_equal(claims_list_text(records, &b), 0);
    free(test_same_text(out, &b));
    json_decref(out);
    buf_free(&b);
}

static void test_generated_pages(void **state)
{
    (void)state;
    for (int page = 0; page < 1000; page++) {
        json_t *records = json_array();
        for (unsigned n = test_pick(20); n > 0; n--)
            json_array_append_new(records, make_record());
        same(records);
        json_decref(records);
    }
}

static void test_edge_records(void **state)
{
    (void)state;
    json_t *records =
        json_pack("[{}, {s:s}, {s:s, s:s}, {s:s, s:s}, {s:s}]", "id", "c_x" E10 E10 E10, "id",
                  "c_1", "job", "j_x" E10 E10 E10 E10 E10 E10 E10 E10 E10 E10, "id", "c_2",
                  "regUpdatedAt", "5", "id", "c_3");
    same(records);
    json_decref(records);
    json_t *empty = json_array();
    same(empty);
    json_decref(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_pages),
        cmocka_unit_test(test_edge_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
