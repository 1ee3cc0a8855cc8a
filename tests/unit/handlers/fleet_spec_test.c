/* fleet_spec_test.c - fleet requests: defaults of the guide, derived names,
 * and one error per bad field under its JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/fleet_spec.h"
#include "service/core/err.h"
#include "service/core/json_keys.h"

static const char *str(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

static void test_defaults(void **state)
{
    (void)state;
    json_t *req = json_pack("{s:s}", "name", "f1"), *errors = json_array(), *spec, *settings;
    assert_int_equal(fleet_spec_parse(req, "eu-west-1", &spec, &settings, errors), 0);
    assert_string_equal(str(spec, "region", 0), "eu-west-1");
    assert_string_equal(str(spec, "tokenExchangeRole", "name"), "GreengrassV2TokenExchangeRole");
    assert_string_equal(str(spec, "tokenExchangeRole", "policyName"),
                        "GreengrassV2TokenExchangeRoleAccess");
    assert_string_equal(str(spec, "roleAlias", "name"), "GreengrassCoreTokenExchangeRoleAlias");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(spec, "roleAlias"),
                                                        "credentialDurationSeconds")),
                     3600);
    assert_string_equal(str(spec, "thingPolicy", "name"), "GreengrassV2IoTThingPolicy");
    assert_string_equal(str(spec, "thingPolicy", "mode"), "shared");
    assert_string_equal(str(spec, "provisioningRole", "name"), "GreengrassFleetProvisioningRole");
    assert_string_equal(str(spec, "template", "name"), "f1-template");
    assert_string_equal(str(spec, "claimPolicy", "name"), "f1-claim-policy");
    assert_true(json_is_true(json_object_get(json_object_get(spec, "template"), "enabled")));
    assert_true(json_is_true(json_object_get(spec, "createThingGroups")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "thingGroups"), 0)),
                        "f1");
    assert_true(json_is_null(json_object_get(spec, "assumeRole")));
    json_t *empty = json_pack("{s:{}, s:{}}", "rotation", "watch");
    assert_true(json_equal(settings, empty));
    json_decref(empty);
    json_decref(spec);
    json_decref(settings);
    json_decref(req);
    json_decref(errors);
}

static void test_overrides(void **state)
{
    (void)state;
    json_t *req = json_loads(
        "{\"name\":\"f2\",\"region\":\"us-west-2\",\"thingGroups\":[\"g1\"],"
        "\"thingPolicy\":{\"mode\":\"perDevice\"},\"template\":{\"name\":\"T\",\"enabled\":false,"
        "\"preProvisioningHook\":\"arn:aws:lambda:us-west-2:123456789012:function:h\"},"
        "\"claimPolicyAllowCsr\":true,\"assumeRole\":{\"roleArn\":"
        "\"arn:aws:iam::123456789012:role/R\",\"externalId\":\"ext-1\"},\"rotation\":"
        "{\"periodDays\":7},\"adopt\":true}",
        0, 0);
    json_t *errors = json_array(), *spec, *settings;
    assert_int_equal(fleet_spec_parse(req, 0, &spec, &settings, errors), 0);
    assert_string_equal(str(spec, "region", 0), "us-west-2");
    assert_false(json_is_true(json_object_get(spec, "createThingGroups")));
    assert_true(json_is_null(json_object_get(json_object_get(spec, "thingPolicy"), "name")));
    assert_true(json_is_false(json_object_get(json_object_get(spec, "template"), "enabled")));
    assert_true(json_is_true(json_object_get(json_object_get(spec, "claimPolicy"), "allowCsr")));
    assert_string_equal(str(spec, "assumeRole", "externalId"), "ext-1");
    assert_true(json_is_true(json_object_get(spec, "adopt")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(settings, "rotation"), "periodDays")),
        7);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(spec, "template"), "thingName"), "from")),
        "parameter");
    json_decref(spec);
    json_decref(settings);
    json_decref(req);
    json_decref(errors);
}

struct bad_case {
    const char *json;
    const char *field;
};

static const struct bad_case s_bad[] = {
    /* issue 13: a hook elsewhere than the fleet's region/account; the thing name; the nucleus
       version */
    {"{\"name\":\"f\",\"region\":\"us-east-1\",\"template\":{\"preProvisioningHook\":"
     "\"arn:aws:lambda:eu-west-1:123456789012:function:h\"}}",
     "template.preProvisioningHook"},
    {"{\"name\":\"f\",\"assumeRole\":{\"roleArn\":\"arn:aws:iam::210987654321:role/"
     "R\"},\"template\":"
     "{\"preProvisioningHook\":\"arn:aws:lambda:us-east-1:123456789012:function:h\"}}",
     "template.preProvisioningHook"},
    {"{\"name\":\"f\",\"template\":{\"thingName\":{\"from\":\"mac\"}}}", "template.thingName.from"},
    {"{\"name\":\"f\",\"template\":{\"thingName\":{\"from\":\"certificateId\",\"prefix\":\"a/"
     "b\"}}}",
     "template.thingName.prefix"},
    {"{\"name\":\"f\",\"greengrass\":{\"nucleusVersion\":\"2.16\"}}", "greengrass.nucleusVersion"},
    {"{\"name\":\"f\",\"greengrass\":{\"version\":\"2.16.1\"}}", "greengrass.version"},
    {"{}", "name"},
    {"{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "template.name"},
    {"{\"name\":\"f\",\"template\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
     "template.name"},
    {"{\"name\":\"f\",\"roleAlias\":{\"credentialDurationSeconds\":899}}",
     "roleAlias.credentialDurationSeconds"},
    {"{\"name\":\"f\",\"roleAlias\":{\"credentialDurationSeconds\":43201}}",
     "roleAlias.credentialDurationSeconds"},
    {"{\"name\":\"f\",\"roleAlias\":{\"credentialDurationSeconds\":1.5}}",
     "roleAlias.credentialDurationSeconds"},
    {"{\"name\":\"f\",\"x\":1}", "x"},
    {"{\"name\":\"f\",\"template\":{\"x\":1}}", "template.x"},
    {"{\"name\":\"f\",\"template\":{\"body\":{\"Resources\":{}}}}", "template.body/Resources"},
    {"{\"name\":\"f\",\"thingGroups\":[\"ok\",\"a/b\"]}", "thingGroups[1]"},
    {"{\"name\":\"f\",\"assumeRole\":{}}", "assumeRole.roleArn"},
    {"{\"name\":\"f\",\"assumeRole\":{\"roleArn\":\"arn:aws:iam::123456789012:role/R\",\"foo\":1}}",
     "assumeRole.foo"},
    {"{\"name\":\"f\",\"thingPolicy\":{\"mode\":\"perDevice\",\"name\":\"n\"}}",
     "thingPolicy.name"},
    {"{\"name\":\"f\",\"rotation\":5}", "rotation"},
    {"{\"name\":\"f\",\"region\":\"nowhere\"}", "region"},
};

static void test_bad_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad[0]; i++) {
        json_t *req = json_loads(s_bad[i].json, 0, 0), *errors = json_array(), *spec = 0,
               *settings = 0;
        assert_non_null(req);
        assert_int_equal(fleet_spec_parse(req, 0, &spec, &settings, errors), FW_EINVAL);
        assert_null(spec);
        int found = 0;
        size_t j;
        json_t *e;
        json_array_foreach(errors, j, e) found |=
            !strcmp(json_string_value(json_object_get(e, "field")), s_bad[i].field);
        if (!found)
            fail_msg("%s: no error for %s: %s", s_bad[i].json, s_bad[i].field,
                     json_dumps(errors, 0));
        json_decref(req);
        json_decref(errors);
    }
}

static void test_patch_settings(void **state)
{
    (void)state;
    json_t *cur = json_pack("{s:{s:i}, s:{}}", "rotation", "periodDays", 30, "watch");
    json_t *req = json_pack("{s:{s:s}}", "watch", "action", "alert"), *errors = json_array(),
           *out = 0;
    assert_int_equal(fleet_spec_patch_settings(req, cur, &out, errors), 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "rotation"), "periodDays")), 30);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "watch"), "action")),
                        "alert");
    json_decref(out);
    json_decref(req);
    req =
        json_pack("{s:i, s:s, s:{s:s}}", "rotation", 1, "name", "x", "watch", "action", "explode");
    assert_int_equal(fleet_spec_patch_settings(req, cur, &out, errors), FW_EINVAL);
    assert_int_equal(json_array_size(errors), 3);
    json_decref(req);
    json_decref(cur);
    json_decref(errors);
}

static void boundary_is(const json_t *spec, const char *role, const char *want)
{
    const json_t *b = json_object_get(json_object_get(spec, role), "permissionsBoundary");
    if (want)
        assert_string_equal(json_string_value(b), want);
    else
        assert_true(json_is_null(b));
}

/* Parses the request text with the defaults d (NULL: the built-in ones), which must succeed, and
 * checks the roles' mode and their permissions boundaries (NULL: none, a JSON null). */
static void roles_are(const char *text, const struct fleet_spec_defaults *d, const char *mode,
                      const char *tes_boundary, const char *prov_boundary)
{
    json_t *req = json_loads(text, 0, 0), *errors = json_array(), *spec, *settings;
    assert_non_null(req);
    int rc = d ? fleet_spec_parse_ex(req, d, &spec, &settings, errors)
               : fleet_spec_parse(req, 0, &spec, &settings, errors);
    assert_int_equal(rc, 0);
    assert_string_equal(str(spec, "iamRoles", 0), mode);
    boundary_is(spec, "tokenExchangeRole", tes_boundary);
    boundary_is(spec, "provisioningRole", prov_boundary);
    json_decref(spec);
    json_decref(settings);
    json_decref(req);
    json_decref(errors);
}

/* The fields of a request's errors, in order, as one string "a b c". */
static void fields_of(const json_t *errors, char *out, size_t len)
{
    size_t i, at = 0;
    json_t *e;
    out[0] = 0;
    json_array_foreach(errors, i, e) at +=
        (size_t)snprintf(out + at, at < len ? len - at : 0, "%s%s", at ? " " : "",
                         json_string_value(json_object_get(e, "field")));
}

/* Unknown members are named under their path, in every part of a fleet request
 * (json_unknown_fields: fleet_spec and watch_rules report them the same way). */
static void test_unknown_members_named(void **state)
{
    (void)state;
    json_t *req = json_loads(
        "{\"name\":\"f\",\"surprise\":1,\"template\":{\"nope\":1},\"watch\":{\"x\":1,"
        "\"webhook\":{\"y\":1},\"rules\":{\"baselineJump\":{\"enabled\":true,"
        "\"statistic\":\"Maximum\",\"periodSeconds\":300,\"alpha\":0.5,\"threshhold\":3}}}}",
        0, 0);
    json_t *errors = json_array(), *spec = 0, *settings = 0;
    char fields[400];
    assert_non_null(req);
    assert_int_equal(fleet_spec_parse(req, 0, &spec, &settings, errors), FW_EINVAL);
    fields_of(errors, fields, sizeof fields);
    /* the webhook's url and secret are missing too: named between the unknown members */
    assert_non_null(strstr(fields, "surprise template.nope watch.x watch.webhook.y "));
    assert_non_null(strstr(fields, " watch.rules.baselineJump.threshhold"));
    assert_null(strstr(fields, "enabled"));
    assert_null(strstr(fields, "periodSeconds"));
    json_decref(req);
    json_decref(errors);
}

/* A long unknown name of two-byte characters is cut between characters, so it is still
 * reported (cut inside a character, the error could not be made and the request passed). */
static void test_long_unknown_member_reported(void **state)
{
    (void)state;
    char key[301], want[JSON_FIELD_NAME_MAX + 1];
    for (int i = 0; i < 150; i++)
        memcpy(key + 2 * i, "\xc3\xa9", 2);
    key[300] = 0;
    memcpy(want, key, JSON_FIELD_NAME_MAX);
    want[JSON_FIELD_NAME_MAX] = 0;
    json_t *req = json_pack("{s:s, s:i}", "name", "f", key, 1), *errors = json_array(), *spec = 0,
           *settings = 0;
    assert_int_equal(fleet_spec_parse(req, 0, &spec, &settings, errors), FW_EINVAL);
    assert_int_equal(json_array_size(errors), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
                        want);
    json_decref(req);
    /* a bound inside a character: the name is cut before that character */
    char odd[302];
    odd[0] = 'a';
    memcpy(odd + 1, key, sizeof key);
    static const char *const none[] = {0};
    json_array_clear(errors);
    req = json_pack("{s:i}", odd, 1);
    assert_int_equal(json_unknown_fields(req, none, "x", errors), 1);
    const char *f = json_string_value(json_object_get(json_array_get(errors, 0), "field"));
    assert_non_null(f);
    assert_int_equal(strlen(f), 2 + JSON_FIELD_NAME_MAX - 1);
    assert_memory_equal(f, "x.a", 3);
    json_decref(req);
    /* an unknown watch rule of such a name: named (cut) as well, so the request is refused */
    json_array_clear(errors);
    req = json_pack("{s:s, s:{s:{s:{}}}}", "name", "f", "watch", "rules", key);
    assert_int_equal(fleet_spec_parse(req, 0, &spec, &settings, errors), FW_EINVAL);
    assert_int_equal(json_array_size(errors), 1);
    f = json_string_value(json_object_get(json_array_get(errors, 0), "field"));
    assert_non_null(f);
    assert_int_equal(strlen(f), strlen("watch.rules.") + JSON_FIELD_NAME_MAX);
    json_decref(req);
    json_decref(errors);
}

/* A field name: the path and a dot, then the name; a long path is cut too. */
static void test_field_name(void **state)
{
    (void)state;
    char f[JSON_FIELD_MAX], path[200];
    json_field_name(f, "", "name");
    assert_string_equal(f, "name");
    json_field_name(f, "watch.webhook", "url");
    assert_string_equal(f, "watch.webhook.url");
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = 0;
    json_field_name(f, path, "x");
    assert_int_equal(strlen(f), 90 + 2);
}

/* Counted without a list; named without a dot at the top; nothing in what is no object. */
static void test_unknown_fields_counted(void **state)
{
    (void)state;
    static const char *const ab[] = {"a", "b", 0};
    json_t *o = json_pack("{s:i, s:i, s:i}", "a", 1, "c", 2, "b", 3), *errors = json_array();
    assert_int_equal(json_unknown_fields(o, ab, "", 0), 1);
    assert_int_equal(json_unknown_fields(o, ab, "", errors), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "field")),
                        "c");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "message")),
                        "unknown field");
    assert_int_equal(json_unknown_fields(errors, ab, "p", errors), 0);
    assert_int_equal(json_array_size(errors), 1);
    json_decref(o);
    json_decref(errors);
}

/* Issue 17: the roles' permissions boundaries and the pre-created mode. */

/* The roles' permissions boundaries and the pre-created mode. */
static void test_iam_roles_and_boundaries(void **state)
{
    (void)state;
    roles_are("{\"name\":\"b1\"}", 0, "managed", "FleetwardenTokenExchangeBoundary",
              "FleetwardenProvisioningBoundary");
    /* the settings' defaults: none for one role, an ARN for the other, managed */
    struct fleet_spec_defaults d = {0, 0, "", "arn:aws:iam::123456789012:policy/B"};
    roles_are("{\"name\":\"b1\"}", &d, "managed", 0, "arn:aws:iam::123456789012:policy/B");
    /* a request's own boundary, or null */
    roles_are("{\"name\":\"b2\",\"tokenExchangeRole\":{\"permissionsBoundary\":\"Mine\"},"
              "\"provisioningRole\":{\"permissionsBoundary\":null}}",
              0, "managed", "Mine", 0);
    /* pre-created: no boundary at all, and giving one is an error */
    roles_are("{\"name\":\"b3\",\"iamRoles\":\"precreated\"}", 0, "precreated", 0, 0);
    json_t *errors = json_array(), *spec, *settings;
    json_t *req = json_loads("{\"name\":\"b4\",\"iamRoles\":\"precreated\",\"tokenExchangeRole\":"
                             "{\"permissionsBoundary\":\"X\"}}",
                             0, 0);
    assert_int_equal(fleet_spec_parse(req, 0, &spec, &settings, errors), FW_EINVAL);
    assert_string_equal(str(json_array_get(errors, 0), "field", 0),
                        "tokenExchangeRole.permissionsBoundary");
    json_decref(req);
    json_array_clear(errors);
    req = json_loads("{\"name\":\"b5\",\"iamRoles\":\"admin\",\"provisioningRole\":"
                     "{\"permissionsBoundary\":\"arn:aws:iam::123456789012:role/NotAPolicy\"}}",
                     0, 0);
    assert_int_equal(fleet_spec_parse(req, 0, &spec, &settings, errors), FW_EINVAL);
    assert_int_equal(json_array_size(errors), 2);
    json_decref(req);
    json_decref(errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_unknown_members_named),
        cmocka_unit_test(test_long_unknown_member_reported),
        cmocka_unit_test(test_unknown_fields_counted),
        cmocka_unit_test(test_field_name),
        cmocka_unit_test(test_patch_settings),
        cmocka_unit_test(test_iam_roles_and_boundaries),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
