/* template_check_test.c - the provisioning template validator, table-driven:
 * each case is a mutation of the guide's body and the JSON pointer of the
 * error (or warning) it must produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/err.h"
#include "service/domain/policies.h"
#include "service/domain/template_check.h"

static json_t *guide(void)
{
    return policies_template_body("GreengrassV2IoTThingPolicy", 0, 0);
}

static json_t *res(json_t *b, const char *name)
{
    return json_object_get(json_object_get(b, "Resources"), name);
}

static json_t *props(json_t *b, const char *name)
{
    return json_object_get(res(b, name), "Properties");
}

typedef void(mutate_fn)(json_t *b);

static void m_none(json_t *b)
{
    (void)b;
}
static void m_no_resources(json_t *b)
{
    json_object_del(b, "Resources");
}
static void m_resources_array(json_t *b)
{
    json_object_set_new(b, "Resources", json_array());
}
static void m_params_string(json_t *b)
{
    json_object_set_new(b, "Parameters", json_string("x"));
}
static void m_no_thing(json_t *b)
{
    json_object_del(json_object_get(b, "Resources"), "MyThing");
}
static void m_two_things(json_t *b)
{
    json_object_set_new(json_object_get(b, "Resources"), "T2", json_deep_copy(res(b, "MyThing")));
}
static void m_no_thing_name(json_t *b)
{
    json_object_del(props(b, "MyThing"), "ThingName");
}
static void m_no_policy(json_t *b)
{
    json_object_del(json_object_get(b, "Resources"), "MyPolicy");
}
static void m_policy_both(json_t *b)
{
    json_object_set_new(props(b, "MyPolicy"), "PolicyDocument", json_string("{\"Statement\":[]}"));
}
static void m_policy_neither(json_t *b)
{
    json_object_del(props(b, "MyPolicy"), "PolicyName");
}
static void m_policy_doc_bad(json_t *b)
{
    json_object_del(props(b, "MyPolicy"), "PolicyName");
    json_object_set_new(props(b, "MyPolicy"), "PolicyDocument", json_string("not json"));
}
static void m_policy_doc_ok(json_t *b)
{
    json_object_del(props(b, "MyPolicy"), "PolicyName");
    json_object_set_new(props(b, "MyPolicy"), "PolicyDocument",
                        json_string("{\"Version\":\"2012-10-17\",\"Statement\":[]}"));
}
static void m_no_cert(json_t *b)
{
    json_object_del(json_object_get(b, "Resources"), "MyCertificate");
}
static void m_cert_literal(json_t *b)
{
    json_object_set_new(props(b, "MyCertificate"), "CertificateId", json_string("abc"));
}
static void m_cert_wrong_ref(json_t *b)
{
    json_object_set_new(props(b, "MyCertificate"), "CertificateId",
                        json_pack("{s:s}", "Ref", "ThingName"));
}
static void m_cert_param_missing(json_t *b)
{
    json_object_del(json_object_get(b, "Parameters"), "AWS::IoT::Certificate::Id");
}
static void m_undeclared_ref(json_t *b)
{
    json_object_set_new(props(b, "MyThing"), "ThingName", json_pack("{s:s}", "Ref", "Serial"));
}
static void m_nested_undeclared(json_t *b)
{
    json_object_set_new(props(b, "MyThing"), "AttributePayload",
                        json_pack("{s:{s:s}}", "serial", "Ref", "Nope"));
}
static void m_bad_type(json_t *b)
{
    json_object_set_new(json_object_get(b, "Resources"), "B",
                        json_pack("{s:s}", "Type", "AWS::S3::Bucket"));
}
static void m_no_type(json_t *b)
{
    json_object_set_new(json_object_get(b, "Resources"), "X", json_object());
}
static void m_not_object_res(json_t *b)
{
    json_object_set_new(json_object_get(b, "Resources"), "Y", json_integer(1));
}
static void m_slash_name(json_t *b)
{
    json_object_set_new(json_object_get(b, "Resources"), "a/b~c",
                        json_pack("{s:s}", "Type", "AWS::S3::Bucket"));
}
static void m_unused_param(json_t *b)
{
    json_object_set_new(json_object_get(b, "Parameters"), "Extra",
                        json_pack("{s:s}", "Type", "String"));
}
static void m_inactive(json_t *b)
{
    json_object_set_new(props(b, "MyCertificate"), "Status", json_string("Inactive"));
}
static void m_no_groups(json_t *b)
{
    json_object_del(props(b, "MyThing"), "ThingGroups");
    json_object_del(json_object_get(b, "Parameters"), "ThingGroupName");
}

struct tc_case {
    const char *name;
    mutate_fn *fn;
    int valid;
    const char *error_pointer;   /* NULL: none expected */
    const char *warning_pointer; /* NULL: none expected */
};

static const struct tc_case s_cases[] = {
    {"guide", m_none, 1, 0, 0},
    {"no Resources", m_no_resources, 0, "/Resources", 0},
    {"Resources an array", m_resources_array, 0, "/Resources", 0},
    {"Parameters a string", m_params_string, 0, "/Parameters", 0},
    {"no thing", m_no_thing, 0, "/Resources", 0},
    {"two things", m_two_things, 0, "/Resources", 0},
    {"thing without ThingName", m_no_thing_name, 0, "/Resources/MyThing/Properties", 0},
    {"no policy", m_no_policy, 0, "/Resources", 0},
    {"policy name and document", m_policy_both, 0, "/Resources/MyPolicy/Properties", 0},
    {"policy with neither", m_policy_neither, 0, "/Resources/MyPolicy/Properties", 0},
    {"policy document not JSON", m_policy_doc_bad, 0,
     "/Resources/MyPolicy/Properties/PolicyDocument", 0},
    {"policy document", m_policy_doc_ok, 1, 0, 0},
    {"no certificate", m_no_cert, 0, "/Resources", 0},
    {"certificate id literal", m_cert_literal, 0,
     "/Resources/MyCertificate/Properties/CertificateId", 0},
    {"certificate id other ref", m_cert_wrong_ref, 0,
     "/Resources/MyCertificate/Properties/CertificateId", 0},
    {"certificate parameter missing", m_cert_param_missing, 0, "/Parameters", 0},
    {"undeclared ref", m_undeclared_ref, 0, "/Resources/MyThing", 0},
    {"nested undeclared ref", m_nested_undeclared, 0, "/Resources/MyThing", 0},
    {"unsupported type", m_bad_type, 0, "/Resources/B", 0},
    {"no type", m_no_type, 0, "/Resources/X", 0},
    {"resource not an object", m_not_object_res, 0, "/Resources/Y", 0},
    {"pointer escaping", m_slash_name, 0, "/Resources/a~1b~0c", 0},
    {"unused parameter", m_unused_param, 1, 0, "/Parameters/Extra"},
    {"inactive certificate", m_inactive, 1, 0, "/Resources/MyCertificate/Properties/Status"},
    {"no thing groups", m_no_groups, 1, 0, "/Resources/MyThing/Properties"},
};

static int has_pointer(const json_t *list, const char *p)
{
    size_t i;
    json_t *e;
    json_array_foreach(
        list, i, e) if (!strcmp(json_string_value(json_object_get(e, "pointer")), p)) return 1;
    return 0;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const struct tc_case *c = &s_cases[i];
        json_t *b = guide();
        c->fn(b);
        json_t *r = template_check_json(b);
        char *txt = json_dumps(r, JSON_COMPACT);
        if (json_is_true(json_object_get(r, "valid")) != c->valid ||
            (c->error_pointer && !has_pointer(json_object_get(r, "errors"), c->error_pointer)) ||
            (c->warning_pointer &&
             !has_pointer(json_object_get(r, "warnings"), c->warning_pointer)) ||
            (c->valid && json_array_size(json_object_get(r, "errors"))))
            fail_msg("case \"%s\": %s", c->name, txt);
        free(txt);
        json_decref(r);
        json_decref(b);
    }
}

/* The guide's body padded with a Description to exactly total characters. */
static char *padded(size_t total)
{
    json_t *b = guide();
    char *base = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    size_t n = strlen(base);
    char *out = malloc(total + 1);
    int pad = (int)(total - n - 17);
    snprintf(out, total + 1, "%.*s,\"Description\":\"%*s\"}", (int)(n - 1), base, pad, "");
    free(base);
    return out;
}

static int valid_text(const char *s)
{
    json_t *r = template_check(s, strlen(s));
    int v = json_is_true(json_object_get(r, "valid"));
    json_decref(r);
    return v;
}

static void test_text_limits(void **state)
{
    (void)state;
    json_t *r = template_check("{nope", 5);
    assert_false(json_is_true(json_object_get(r, "valid")));
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(r, "errors"), 0), "message")),
                           "not valid JSON"));
    json_decref(r);
    char *ok = padded(TEMPLATE_BODY_MAX), *over = padded(TEMPLATE_BODY_MAX + 1);
    assert_int_equal(strlen(ok), TEMPLATE_BODY_MAX);
    assert_true(valid_text(ok));
    assert_false(valid_text(over));
    /* Characters, not bytes: one space of the padding becomes a two-byte
     * character, so 10,241 bytes are still 10,240 characters. */
    const char *pad = strstr(ok, "Description\":\"") + 14;
    char *multi = malloc(strlen(ok) + 2);
    snprintf(multi, strlen(ok) + 2, "%.*s\xc3\xa9%s", (int)(pad - ok), ok, pad + 1);
    assert_int_equal(strlen(multi), TEMPLATE_BODY_MAX + 1);
    assert_true(valid_text(multi));
    free(multi);
    free(ok);
    free(over);
}

/* AWS's pattern for descriptions, [^\p{C}]*, and 500 characters counted as characters. */
static void test_description(void **state)
{
    (void)state;
    char why[200], buf[1200];
    static const char *const ok[] = {"", "line 7 night shift",
                                     "Ligne 7 \xe2\x80\x94 \xc3\xa9quipe \xe2\x9c\x93",
                                     "\xf0\x9f\x8f\xad factory"};
    static const char *const bad[] = {"tab\there",
                                      "bell\x07",
                                      "del\x7f",
                                      "c1 \xc2\x85",
                                      "zero\xe2\x80\x8bwidth",
                                      "bom\xef\xbb\xbf",
                                      "pua \xee\x80\x80",
                                      "nonchar \xef\xbf\xbe",
                                      "bidi \xe2\x80\xae"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(template_description_check(ok[i], strlen(ok[i]), why, sizeof why), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (template_description_check(bad[i], strlen(bad[i]), why, sizeof why) != FW_EINVAL)
            fail_msg("accepted bad description %zu", i);
        assert_non_null(strstr(why, "U+"));
    }
    /* 500 two-byte characters (1,000 bytes) are within the limit, 501 are not */
    for (int i = 0; i < 500; i++)
        memcpy(buf + 2 * i, "\xc3\xa9", 2);
    assert_int_equal(template_description_check(buf, 1000, why, sizeof why), 0);
    memcpy(buf + 1000, "\xc3\xa9", 2);
    assert_int_equal(template_description_check(buf, 1002, why, sizeof why), FW_EINVAL);
}

/* A verdict's errors as request fields: the member's name, then the error's pointer. */
static void test_errors_as_fields(void **state)
{
    (void)state;
    json_t *body = json_pack("{s:{}}", "Resources");
    json_t *r = template_check_json(body), *errors = json_array();
    template_check_fields(r, "template.body", errors);
    size_t n = json_array_size(json_object_get(r, "errors"));
    assert_true(n > 0);
    assert_int_equal(json_array_size(errors), n);
    for (size_t i = 0; i < n; i++) {
        json_t *want = json_array_get(json_object_get(r, "errors"), i),
               *got = json_array_get(errors, i);
        char f[300];
        snprintf(f, sizeof f, "template.body%s",
                 json_string_value(json_object_get(want, "pointer")));
        assert_string_equal(json_string_value(json_object_get(got, "field")), f);
        assert_string_equal(json_string_value(json_object_get(got, "message")),
                            json_string_value(json_object_get(want, "message")));
        assert_int_equal(json_object_size(got), 2);
    }
    json_decref(r);
    r = template_check("{}", 2);
    json_array_clear(errors);
    template_check_fields(r, "body", errors);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
                        "body/Resources");
    json_decref(r);
    json_decref(errors);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_text_limits),
        cmocka_unit_test(test_description),
        cmocka_unit_test(test_errors_as_fields),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
