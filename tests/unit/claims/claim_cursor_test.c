/* Unit tests for the GET /v1/claims cursor (service/domain/store_claim.c): what
 * format makes, parse takes back, and parse refuses everything else (the
 * route answers 400 naming `cursor` for it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/err.h"
#include "service/domain/store_claim.h"

#define ID "clm_0123456789abcdef01234567"

static void test_round_trip(void **state)
{
    (void)state;
    const long long cases[] = {0, 1, 1795845939294LL, 999999999999999LL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cur[CLAIM_CURSOR_MAX], id[CLAIM_ID_MAX];
        long long ms;
        assert_int_equal(store_claim_cursor_format(cases[i], ID, cur), 0);
        assert_int_equal(store_claim_cursor_parse(cur, &ms, id), 0);
        assert_true(ms == cases[i]);
        assert_string_equal(id, ID);
    }
    char cur[CLAIM_CURSOR_MAX];
    assert_int_equal(store_claim_cursor_format(1795845939294LL, ID, cur), 0);
    assert_string_equal(cur, "1795845939294." ID);
}

static void test_format_refuses(void **state)
{
    (void)state;
    char cur[CLAIM_CURSOR_MAX];
    assert_int_equal(store_claim_cursor_format(-1, ID, cur), FW_EINVAL);
    assert_int_equal(store_claim_cursor_format(1000000000000000LL, ID, cur), FW_EINVAL);
    assert_int_equal(store_claim_cursor_format(5, "inc_0123456789abcdef01234567", cur), FW_EINVAL);
    assert_int_equal(store_claim_cursor_format(5, 0, cur), FW_EINVAL);
    assert_string_equal(cur, "");
}

static void test_parse_refuses(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "5",                               /* an offset, the cursor before keysets */
        "1795845939294",                   /* no id */
        "1795845939294.",                  /* empty id */
        ".clm_0123456789abcdef01234567",   /* no ms */
        "-1.clm_0123456789abcdef01234567", /* a sign */
        "+1.clm_0123456789abcdef01234567",
        " 1.clm_0123456789abcdef01234567",
        "1000000000000000.clm_0123456789abcdef01234567", /* 16 digits */
        "1795845939294:clm_0123456789abcdef01234567",    /* another separator */
        "1795845939294.clm_0123456789ABCDEF01234567",    /* upper case */
        "1795845939294.clm_0123456789abcdef0123456",     /* 23 hex */
        "1795845939294.clm_0123456789abcdef012345678",   /* 25 hex */
        "1795845939294.clm_0123456789abcdef01234567 ",
        "1795845939294.inc_0123456789abcdef01234567",
        "1795845939294.clm_0123456789abcdef01234567.x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long ms;
        char id[CLAIM_ID_MAX];
        assert_int_equal(store_claim_cursor_parse(bad[i], &ms, id), FW_EINVAL);
        assert_true(ms == -1);
        assert_string_equal(id, "");
    }
    long long ms;
    char id[CLAIM_ID_MAX];
    assert_int_equal(store_claim_cursor_parse(0, &ms, id), FW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_format_refuses),
        cmocka_unit_test(test_parse_refuses),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
