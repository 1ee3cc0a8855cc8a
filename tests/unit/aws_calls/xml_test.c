/*
 * xml_test.c - the capped DOM: real answers read by path, hostile input
 * refused without crashing (billion laughs, external entities, deep nesting,
 * truncation, random bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/xml.h"
#include "service/core/err.h"
#include "service/core/mem.h"

static const char s_create_role[] =
    "<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <CreateRoleResult>\n    <Role>\n      <Path>/</Path>\n"
    "      "
    "<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%7D</AssumeRolePolicyDocument>\n"
    "      <RoleName>GreengrassV2TokenExchangeRole</RoleName>\n      <RoleId>AROAEXAMPLE</RoleId>\n"
    "      <Arn>arn:aws:iam::123456789012:role/GreengrassV2TokenExchangeRole</Arn>\n"
    "      <CreateDate>2026-11-28T05:00:00Z</CreateDate>\n    </Role>\n  </CreateRoleResult>\n"
    "  <ResponseMetadata>\n    <RequestId>4a93ceee-9966-11e1-b624-b1aEXAMPLE7c</RequestId>\n"
    "  </ResponseMetadata>\n</CreateRoleResponse>\n";

static void test_paths(void **state)
{
    (void)state;
    struct xml_node *root = NULL;
    assert_int_equal(xml_parse(s_create_role, strlen(s_create_role), &root), 0);
    assert_string_equal(root->name, "CreateRoleResponse");
    assert_string_equal(xml_text(root, "CreateRoleResult/Role/RoleName"),
                        "GreengrassV2TokenExchangeRole");
    assert_string_equal(xml_text(root, "ResponseMetadata/RequestId"),
                        "4a93ceee-9966-11e1-b624-b1aEXAMPLE7c");
    assert_null(xml_text(root, "CreateRoleResult/Role/Nope"));
    assert_null(xml_path(root, "Nope/Deeper"));
    assert_string_equal(xml_find(root, "RoleId")->text, "AROAEXAMPLE");
    assert_true(xml_time(xml_path(root, "CreateRoleResult/Role"), "CreateDate") == 1795842000.0);
    char *arn = xml_strdup(root, "CreateRoleResult/Role/Arn");
    assert_string_equal(arn, "arn:aws:iam::123456789012:role/GreengrassV2TokenExchangeRole");
    free(arn);
    xml_free(root);
}

static void test_lists_and_namespaces(void **state)
{
    (void)state;
    const char *doc =
        "<a:R xmlns:a=\"urn:x\" xmlns=\"urn:y\"><Versions><member><VersionId>v1</VersionId>"
        "<IsDefaultVersion>true</IsDefaultVersion></member><other/><member><VersionId>v2</"
        "VersionId>"
        "<IsDefaultVersion>false</IsDefaultVersion></member></Versions><N>42</N>"
        "<T>x &amp; &lt;y&gt; &#65;</T></a:R>";
    struct xml_node *root = NULL;
    assert_int_equal(xml_parse(doc, strlen(doc), &root), 0);
    assert_string_equal(root->name, "R");
    const struct xml_node *m = xml_path(root, "Versions/member");
    assert_string_equal(xml_text(m, "VersionId"), "v1");
    assert_int_equal(xml_bool(m, "IsDefaultVersion"), 1);
    m = xml_next(m);
    assert_string_equal(xml_text(m, "VersionId"), "v2");
    assert_int_equal(xml_bool(m, "IsDefaultVersion"), 0);
    assert_null(xml_next(m));
    assert_int_equal(xml_int(root, "N", -1), 42);
    assert_int_equal(xml_int(root, "T", -1), -1);
    assert_string_equal(xml_text(root, "T"), "x & <y> A");
    xml_free(root);
}

static void expect_rejected(const char *doc, int want)
{
    struct xml_node *root = (struct xml_node *)1;
    int rc = xml_parse(doc, strlen(doc), &root);
    assert_int_equal(rc, want);
    assert_null(root);
}

static void test_billion_laughs(void **state)
{
    (void)state;
    expect_rejected(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol9 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        "]>\n<ErrorResponse><Error><Code>&lol9;</Code></Error></ErrorResponse>",
        FW_EINVAL);
}

static void test_external_entity(void **state)
{
    (void)state;
    expect_rejected(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>",
        FW_EINVAL);
    expect_rejected("<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/evil.dtd\"><r/>", FW_EINVAL);
    /* an undeclared entity is malformed */
    expect_rejected("<r>&undeclared;</r>", FW_EINVAL);
}

static char *nested(int depth)
{
    size_t cap = (size_t)depth * 7 + 16;
    char *s = xmalloc(cap);
    size_t n = 0;
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, "<a>");
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, "</a>");
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    char *ok = nested(XML_DOM_MAX_DEPTH);
    struct xml_node *root = NULL;
    assert_int_equal(xml_parse(ok, strlen(ok), &root), 0);
    xml_free(root);
    free(ok);
    char *deep = nested(XML_DOM_MAX_DEPTH + 1);
    expect_rejected(deep, FW_ETOOBIG);
    free(deep);
    char *very = nested(100000);
    expect_rejected(very, FW_ETOOBIG);
    free(very);
}

static void test_too_many_nodes(void **state)
{
    (void)state;
    size_t n = XML_DOM_MAX_NODES + 10;
    char *s = xmalloc(n * 4 + 16);
    size_t len = 0;
    len += (size_t)snprintf(s, 4, "<r>");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, 5, "<a/>");
    snprintf(s + len, 5, "</r>");
    expect_rejected(s, FW_ETOOBIG);
    free(s);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "   ",
                         "<",
                         "<a>",
                         "<a></b>",
                         "<a><b></a></b>",
                         "not xml at all",
                         "<a x=1/>",
                         "<a>\x01</a>",
                         "<?xml version=\"1.0\"?>",
                         "<a/><b/>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_rejected(bad[i], FW_EINVAL);
    /* truncations of a real answer never crash */
    for (size_t cut = 0; cut < sizeof s_create_role - 1; cut++) {
        struct xml_node *root = NULL;
        int rc = xml_parse(s_create_role, cut, &root);
        assert_true(rc == FW_EINVAL || rc == 0);
        xml_free(root);
    }
    /* random bytes never crash */
    unsigned seed = 1;
    char buf[256];
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = "<>/a=\"&; x\n"[rand_r(&seed) % 11];
        struct xml_node *root = NULL;
        xml_parse(buf, sizeof buf, &root);
        xml_free(root);
    }
}

static void test_iso8601(void **state)
{
    (void)state;
    double t = 0;
    assert_int_equal(xml_parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
    assert_true(t == 0.0);
    assert_int_equal(xml_parse_iso8601("2026-11-28T05:00:00.250Z", &t), 0);
    assert_true(t == 1795842000.25);
    assert_int_equal(xml_parse_iso8601("2026-11-28T05:00:00+00:00", &t), 0);
    assert_int_equal(xml_parse_iso8601("yesterday", &t), FW_EINVAL);
    assert_int_equal(xml_parse_iso8601("2026-11-28T05:00:00+02:00", &t), FW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),          cmocka_unit_test(test_lists_and_namespaces),
        cmocka_unit_test(test_billion_laughs), cmocka_unit_test(test_external_entity),
        cmocka_unit_test(test_depth),          cmocka_unit_test(test_too_many_nodes),
        cmocka_unit_test(test_malformed),      cmocka_unit_test(test_iso8601),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
