/*
 * verify_spec_test.c - what a fleet verification may be asked (service/domain/verify_spec.c):
 * the request body, the fleet setting and its schedule, the schedule's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service/core/err.h"
#include "service/domain/verify_spec.h"

/* 0 when body is accepted; else the field of the first problem in field. */
static int body(const char *text, char *field)
{
    json_t *b = text ? json_loads(text, 0, 0) : 0, *errs = json_array();
    int rc = verify_spec_body(b, errs);
    const char *first = json_string_value(json_object_get(json_array_get(errs, 0), "field"));
    if (field)
        snprintf(field, 200, "%s", first ? first : "");
    json_decref(b);
    json_decref(errs);
    return rc;
}

static void bodies(void **state)
{
    (void)state;
    char f[200];
    assert_int_equal(body(0, f), 0);
    assert_int_equal(body("{}", f), 0);
    assert_int_equal(body("{\"parameters\":{\"ThingName\":\"fwverify-x\",\"SerialNumber\":\"1\"},"
                          "\"claimId\":\"clm_0123456789abcdef01234567\"}",
                          f),
                     0);
    assert_int_equal(body("{\"parameters\":{\"ThingName\":\"line-7-0042\"}}", f), FW_EINVAL);
    assert_string_equal(f, "parameters.ThingName"); /* the cleanup deletes the thing: only ours */
    assert_int_equal(body("{\"parameters\":{\"ThingName\":\"fwverify-a b\"}}", f), FW_EINVAL);
    assert_int_equal(body("{\"parameters\":{\"n\":1}}", f), FW_EINVAL);
    assert_string_equal(f, "parameters.n");
    assert_int_equal(body("{\"parameters\":[]}", f), FW_EINVAL);
    assert_int_equal(body("{\"claimId\":\"x\"}", f), FW_EINVAL);
    assert_string_equal(f, "claimId");
    assert_int_equal(body("{\"force\":true}", f), FW_EINVAL);
    assert_string_equal(f, "force");
    assert_int_equal(body("[]", f), FW_EINVAL);
    /* AWS's bounds: at most 50 parameters, values of at most 4096 characters */
    json_t *many = json_object();
    for (int i = 0; i < 51; i++) {
        char k[16];
        snprintf(k, sizeof k, "p%d", i);
        json_object_set_new(many, k, json_string("v"));
    }
    json_t *b = json_pack("{s:o}", "parameters", many), *errs = json_array();
    assert_int_equal(verify_spec_body(b, errs), FW_EINVAL);
    json_decref(b);
    json_decref(errs);
    char *big = malloc(4200);
    memset(big, 'v', 4097);
    big[4097] = '\0';
    b = json_pack("{s:{s:s}}", "parameters", "p", big);
    errs = json_array();
    assert_int_equal(verify_spec_body(b, errs), FW_EINVAL);
    free(big);
    json_decref(b);
    json_decref(errs);
}

static int settings(const char *text, long *every, char daily[6])
{
    json_t *v = json_loads(text, 0, 0), *errs = json_array();
    int rc = verify_spec_settings(v, errs);
    if (!rc)
        rc = verify_spec_schedule(v, every, daily);
    json_decref(v);
    json_decref(errs);
    return rc;
}

static void schedules(void **state)
{
    (void)state;
    long every;
    char daily[6];
    assert_int_equal(settings("{\"schedule\":{\"dailyAt\":\"03:30\"}}", &every, daily), 0);
    assert_string_equal(daily, "03:30");
    assert_int_equal(every, 0);
    assert_int_equal(settings("{\"schedule\":{\"everyHours\":24}}", &every, daily), 0);
    assert_int_equal(every, 86400);
    assert_string_equal(daily, "");
    assert_int_equal(settings("{\"schedule\":null}", &every, daily), FW_ENOTFOUND);
    assert_int_equal(settings("{}", &every, daily), FW_ENOTFOUND);
    const char *bad[] = {"{\"schedule\":{\"dailyAt\":\"25:00\"}}",
                         "{\"schedule\":{\"everyHours\":0}}",
                         "{\"schedule\":{\"everyHours\":745}}",
                         "{\"schedule\":{\"everyHours\":1.5}}",
                         "{\"schedule\":{\"dailyAt\":\"03:00\",\"everyHours\":2}}",
                         "{\"schedule\":{}}",
                         "{\"schedule\":\"daily\"}",
                         "{\"when\":1}",
                         "{\"parameters\":{\"ThingName\":\"x\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(settings(bad[i], &every, daily), FW_EINVAL);
}

static void schedule_names(void **state)
{
    (void)state;
    char n[VERIFY_SCHEDULE_NAME_MAX];
    verify_spec_schedule_name("line-7", n);
    assert_string_equal(n, "verify.line-7");
    char longname[65], other[65], m[VERIFY_SCHEDULE_NAME_MAX];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    memcpy(other, longname, 65);
    other[63] = 'b';
    verify_spec_schedule_name(longname, n);
    verify_spec_schedule_name(other, m);
    assert_true(strlen(n) <= 64);
    assert_int_equal(strncmp(n, "verify.aaaa", 11), 0);
    assert_string_not_equal(n, m); /* names alike in their first 48 characters stay apart */
}

/* The name template (spec.template as JSON) gives the verification's thing with given
 * parameters (JSON or NULL) and the certificate id cert (NULL: not known yet); param: the
 * parameter that named it outside the prefix. */
static enum verify_name name_of(const char *tpl, const char *given, const char *cert, char *out,
                                char *param)
{
    json_t *t = json_loads(tpl, 0, 0), *g = given ? json_loads(given, 0, 0) : 0;
    json_t *b = verify_spec_template_body(t), *p = verify_spec_parameters("f", "tok", "grp", g);
    enum verify_name r = verify_spec_thing_name(b, p, cert, out, 300, param, 128);
    json_decref(t);
    json_decref(g);
    json_decref(b);
    json_decref(p);
    return r;
}

static const char *body_naming(const char *thing_name)
{
    static char buf[800];
    snprintf(
        buf, sizeof buf,
        "{\"body\":{\"Parameters\":{\"Site\":{\"Type\":\"String\",\"Default\":\"plant3\"}},"
        "\"Resources\":{\"T\":{\"Type\":\"AWS::IoT::Thing\",\"Properties\":{\"ThingName\":%s}}}}}",
        thing_name);
    return buf;
}

static void thing_names(void **state)
{
    (void)state;
    char n[300], p[128];
    /* the generated templates: ThingName, prefix + SerialNumber, prefix + certificate id */
    assert_int_equal(name_of("{}", 0, 0, n, p), VERIFY_NAME_OURS);
    assert_string_equal(n, "fwverify-f-tok");
    assert_int_equal(
        name_of("{\"thingName\":{\"from\":\"serialNumber\",\"prefix\":\"line7-\"}}", 0, 0, n, p),
        VERIFY_NAME_OURS);
    assert_string_equal(n, "line7-fwverify-tok");
    assert_int_equal(name_of("{\"thingName\":{\"from\":\"serialNumber\",\"prefix\":\"line7-\"}}",
                             "{\"SerialNumber\":\"0042\"}", 0, n, p),
                     VERIFY_NAME_FOREIGN);
    assert_string_equal(n, "line7-0042");
    assert_string_equal(p, "SerialNumber");
    assert_int_equal(name_of("{\"thingName\":{\"from\":\"certificateId\",\"prefix\":\"gg-\"}}",
                             "{\"SerialNumber\":\"0042\"}", "abc", n, p),
                     VERIFY_NAME_OURS);
    assert_string_equal(n, "gg-abc");
    /* a custom body: Ref, Fn::Join, a Default, a fixed name, what cannot be computed */
    assert_int_equal(name_of(body_naming("{\"Fn::Join\":[\"-\",[{\"Ref\":\"Site\"},{\"Ref\":"
                                         "\"SerialNumber\"}]]}"),
                             0, 0, n, p),
                     VERIFY_NAME_OURS);
    assert_string_equal(n, "plant3-fwverify-tok");
    assert_int_equal(name_of(body_naming("{\"Fn::Join\":[\"-\",[{\"Ref\":\"Site\"},{\"Ref\":"
                                         "\"SerialNumber\"}]]}"),
                             "{\"SerialNumber\":\"7\"}", 0, n, p),
                     VERIFY_NAME_FOREIGN);
    assert_string_equal(p, "Site");
    assert_int_equal(name_of(body_naming("\"prod-thing\""), 0, 0, n, p), VERIFY_NAME_FOREIGN);
    assert_string_equal(p, "");
    assert_int_equal(name_of(body_naming("{\"Ref\":\"DeviceId\"}"), 0, 0, n, p),
                     VERIFY_NAME_UNKNOWN);
    assert_non_null(strstr(n, "DeviceId"));
    assert_int_equal(
        name_of(body_naming("{\"Ref\":\"DeviceId\"}"), "{\"DeviceId\":\"fwverify-d\"}", 0, n, p),
        VERIFY_NAME_OURS);
    assert_int_equal(name_of(body_naming("{\"Fn::Sub\":\"${SerialNumber}\"}"), 0, 0, n, p),
                     VERIFY_NAME_UNKNOWN);
    assert_int_equal(name_of("{\"body\":{\"Resources\":{}}}", 0, 0, n, p), VERIFY_NAME_NONE);
    /* the route's check names the parameter */
    json_t *errs = json_array(), *t = json_loads(body_naming("{\"Ref\":\"SerialNumber\"}"), 0, 0),
           *g = json_pack("{s:s}", "SerialNumber", "0042");
    assert_int_equal(verify_spec_check_name(t, g, "parameters", errs), FW_EINVAL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "field")),
                        "parameters.SerialNumber");
    json_decref(errs);
    json_decref(t);
    json_decref(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(bodies), cmocka_unit_test(schedules),
                                       cmocka_unit_test(schedule_names),
                                       cmocka_unit_test(thing_names)};
    return cmocka_run_group_tests(tests, 0, 0);
}
