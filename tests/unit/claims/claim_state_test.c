/* Unit tests for the claim state machine (service/domain/store_claim.c, pure
 * part), claim ids, and the API view and request validation
 * (routes/claims_view.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "routes/claims_view.h"
#include "service/core/err.h"
#include "service/domain/store_claim.h"

static void test_state_names(void **state)
{
    (void)state;
    for (int s = 0; s < CLAIM_NSTATES; s++)
        assert_int_equal(store_claim_state_parse(store_claim_state_name(s)), s);
    assert_int_equal(store_claim_state_parse("sleeping"), -1);
    assert_int_equal(store_claim_state_parse(0), -1);
    assert_null(store_claim_state_name(CLAIM_NSTATES));
}

/* Table: from, to, allowed. */
static void test_transitions(void **state)
{
    (void)state;
    static const struct {
        int from, to, ok;
    } t[] = {
        {CLAIM_CREATING, CLAIM_ACTIVE, 1},
        {CLAIM_CREATING, CLAIM_FAILED, 1},
        {CLAIM_CREATING, CLAIM_INACTIVE, 0},
        {CLAIM_CREATING, CLAIM_DELETED, 0},
        {CLAIM_CREATING, CLAIM_REVOKED, 0},
        {CLAIM_ACTIVE, CLAIM_ROTATING, 1},
        {CLAIM_ACTIVE, CLAIM_INACTIVE, 1},
        {CLAIM_ACTIVE, CLAIM_REVOKED, 1},
        {CLAIM_ACTIVE, CLAIM_DELETED, 1},
        {CLAIM_ACTIVE, CLAIM_CREATING, 0},
        {CLAIM_ROTATING, CLAIM_INACTIVE, 1},
        {CLAIM_ROTATING, CLAIM_ACTIVE, 0},
        {CLAIM_ROTATING, CLAIM_REVOKED, 1},
        {CLAIM_INACTIVE, CLAIM_ACTIVE, 1},
        {CLAIM_INACTIVE, CLAIM_INACTIVE, 1},
        {CLAIM_INACTIVE, CLAIM_ROTATING, 0},
        {CLAIM_REVOKED, CLAIM_ACTIVE, 0},
        {CLAIM_REVOKED, CLAIM_INACTIVE, 0},
        {CLAIM_REVOKED, CLAIM_REVOKED, 1},
        {CLAIM_REVOKED, CLAIM_DELETED, 1},
        {CLAIM_DELETED, CLAIM_ACTIVE, 0},
        {CLAIM_DELETED, CLAIM_DELETED, 1},
        {CLAIM_FAILED, CLAIM_ACTIVE, 0},
        {CLAIM_FAILED, CLAIM_DELETED, 1},
        {-1, CLAIM_ACTIVE, 0},
        {CLAIM_ACTIVE, CLAIM_NSTATES, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (store_claim_transition_ok(t[i].from, t[i].to) != t[i].ok)
            fail_msg("transition %d -> %d: expected %d", t[i].from, t[i].to, t[i].ok);
    }
    assert_true(store_claim_state_active(CLAIM_ROTATING));
    assert_false(store_claim_state_active(CLAIM_INACTIVE));
}

static void test_ids(void **state)
{
    (void)state;
    char a[CLAIM_ID_MAX], b[CLAIM_ID_MAX];
    assert_int_equal(store_claim_id_new(a), 0);
    assert_int_equal(store_claim_id_new(b), 0);
    assert_true(store_claim_id_valid(a));
    assert_string_not_equal(a, b);
    assert_false(store_claim_id_valid("clm_XYZ"));
    assert_false(store_claim_id_valid("clm_0123456789abcdef0123456/"));
    assert_false(store_claim_id_valid(0));
}

static void test_view(void **state)
{
    (void)state;
    json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", "clm_1", "fleet",
                          "f", "state", "active", "keySource", "generated", "keyType", "ec-p256",
                          "created", "1795842000000", "bundleDownloaded", "0", "keyHeld", "1",
                          "expectedDevices", "12");
    json_t *v = claims_view(f);
    assert_string_equal(json_string_value(json_object_get(v, "createdAt")),
                        "2026-11-28T05:00:00.000Z");
    assert_true(json_is_null(json_object_get(v, "registrations")));
    assert_true(json_is_null(json_object_get(v, "certificateId")));
    assert_int_equal(json_integer_value(json_object_get(v, "expectedDevices")), 12);
    assert_true(json_is_true(json_object_get(v, "privateKeyHeld")));
    assert_true(json_is_false(json_object_get(v, "bundleDownloaded")));
    json_decref(v);
    json_object_set_new(f, "regLastHour", json_string("3"));
    json_object_set_new(f, "regTotal", json_string("40"));
    json_object_set_new(f, "regUpdatedAt", json_string("1795842000000"));
    json_object_set_new(f, "csr", json_string("-----BEGIN CERTIFICATE REQUEST-----"));
    v = claims_view(f);
    json_t *r = json_object_get(v, "registrations");
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 40);
    assert_int_equal(json_integer_value(json_object_get(r, "lastHour")), 3);
    char *text = json_dumps(v, 0);
    assert_null(strstr(text, "REQUEST")); /* the CSR is not shown */
    free(text);
    json_decref(v);
    json_decref(f);
}

/* The list reads only claims_view_fields: a view of the record cut down to
 * them must equal the view of the whole record (one with every field a
 * claim gets, the CSR and certificate PEM included). */
static void test_view_fields(void **state)
{
    (void)state;
    json_t *f = json_object();
    const char *extra[] = {"csr", "certificatePem", "certRequested", "keyErasedReason",
                           "regMetric"};
    for (size_t i = 0; i < claims_view_nfields; i++)
        json_object_set_new(f, claims_view_fields[i], json_string("1795842000001"));
    json_object_set_new(f, "state", json_string("active"));
    json_object_set_new(f, "note", json_string("n"));
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        json_object_set_new(f, extra[i], json_string("-----BEGIN-----"));
    json_t *cut = json_object();
    for (size_t i = 0; i < claims_view_nfields; i++)
        json_object_set(cut, claims_view_fields[i], json_object_get(f, claims_view_fields[i]));
    json_t *a = claims_view(f), *b = claims_view(cut);
    assert_true(json_equal(a, b));
    assert_non_null(json_object_get(json_object_get(a, "registrations"), "total"));
    json_decref(a);
    json_decref(b);
    json_decref(cut);
    json_decref(f);
}

/* Parses body text; returns the rc and the problem's first field ("" none). */
static int parse(const char *text, char field[64])
{
    json_t *body = json_loads(text, 0, 0);
    struct http_resp resp;
    memset(&resp, 0, sizeof resp);
    struct claims_create_req req;
    int rc = claims_parse_create(body, &req, &resp);
    field[0] = 0;
    if (resp.json) {
        json_t *e = json_array_get(json_object_get(resp.json, "errors"), 0);
        snprintf(field, 64, "%s", json_string_value(json_object_get(e, "field")));
    }
    json_decref(resp.json);
    json_decref(body);
    return rc;
}

static void test_parse_create(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int ok;
        const char *field;
    } t[] = {
        {"{}", 1, ""},
        {"{\"keySource\":\"aws\"}", 1, ""},
        {"{\"keyType\":\"rsa2048\",\"note\":\"n\",\"expectedDevices\":3}", 1, ""},
        {"{\"keySource\":\"csr\",\"csr\":\"x\"}", 1, ""},
        {"{\"keySource\":\"tpm\"}", 0, "keySource"},
        {"{\"keySource\":5}", 0, "keySource"},
        {"{\"keyType\":\"ec-p521\"}", 0, "keyType"},
        {"{\"keySource\":\"csr\"}", 0, "csr"},
        {"{\"keySource\":\"csr\",\"csr\":\"x\",\"keyType\":\"rsa2048\"}", 0, "keyType"},
        {"{\"keySource\":\"aws\",\"keyType\":\"ec-p256\"}", 0, "keyType"},
        {"{\"csr\":\"x\"}", 0, "csr"},
        {"{\"expectedDevices\":0}", 0, "expectedDevices"},
        {"{\"expectedDevices\":1.5}", 0, "expectedDevices"},
        {"{\"note\":7}", 0, "note"},
        {"{\"x\":1}", 0, "x"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char field[64];
        int rc = parse(t[i].body, field);
        if ((rc == 0) != t[i].ok || strcmp(field, t[i].field))
            fail_msg("%s: rc %d field '%s'", t[i].body, rc, field);
    }
    assert_int_equal(claims_utf8_len("\xc3\xa9t\xc3\xa9"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_names), cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_ids),         cmocka_unit_test(test_view),
        cmocka_unit_test(test_view_fields), cmocka_unit_test(test_parse_create),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
