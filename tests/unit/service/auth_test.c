/* Unit tests for service/core/auth.c: token shape, hashing, bearer parsing, scopes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/auth.h"

static void test_generate(void **state)
{
    (void)state;
    char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1], id[AUTH_ID_LEN + 1];
    assert_int_equal(auth_token_generate(t1, id), 0);
    assert_int_equal(strlen(t1), AUTH_TOKEN_LEN);
    assert_true(auth_token_wellformed(t1));
    assert_int_equal(strlen(id), AUTH_ID_LEN);
    assert_int_equal(strncmp(id, "tok_", 4), 0);
    assert_int_equal(auth_token_generate(t2, id), 0);
    assert_string_not_equal(t1, t2);
}

static void test_hash(void **state)
{
    (void)state;
    char h[AUTH_HASH_HEX_LEN + 1];
    auth_token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_wellformed(void **state)
{
    (void)state;
    assert_false(auth_token_wellformed("fw_short"));
    assert_false(auth_token_wellformed("xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(auth_token_wellformed("fw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assert_true(auth_token_wellformed("fw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_"));
}

static void test_bearer(void **state)
{
    (void)state;
    assert_null(auth_bearer(0));
    assert_null(auth_bearer("Basic abc"));
    assert_null(auth_bearer("Bearer "));
    assert_string_equal(auth_bearer("Bearer fw_x"), "fw_x");
    assert_string_equal(auth_bearer("bearer   fw_y"), "fw_y");
}

static void test_scopes(void **state)
{
    (void)state;
    assert_int_equal(auth_scope_parse("read"), SCOPE_READ);
    assert_int_equal(auth_scope_parse("operate"), SCOPE_OPERATE);
    assert_int_equal(auth_scope_parse("admin"), SCOPE_ADMIN);
    assert_int_equal(auth_scope_parse("root"), SCOPE_NONE);
    assert_true(SCOPE_READ < SCOPE_OPERATE && SCOPE_OPERATE < SCOPE_ADMIN);
    assert_string_equal(auth_scope_name(SCOPE_OPERATE), "operate");
}

static void test_names(void **state)
{
    (void)state;
    assert_true(auth_name_valid("ci-bot 1.0_x"));
    assert_false(auth_name_valid(""));
    assert_false(auth_name_valid("a/b"));
    assert_false(auth_name_valid("quote\""));
    assert_false(
        auth_name_valid("12345678901234567890123456789012345678901234567890123456789012345"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),   cmocka_unit_test(test_hash),
        cmocka_unit_test(test_wellformed), cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_scopes),     cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
