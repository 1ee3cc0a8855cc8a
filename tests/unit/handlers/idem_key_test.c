/* Unit tests for service/domain/idem_key.c: the Idempotency-Key bounds and
 * the request fingerprint that tells a replay from another request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/idem_key.h"

static void test_key_bounds(void **state)
{
    (void)state;
    char k[IDEM_KEY_MAX + 2];
    memset(k, 'a', sizeof k);
    k[IDEM_KEY_MAX] = 0;
    assert_true(idem_key_valid(k));
    k[IDEM_KEY_MAX] = 'a';
    k[IDEM_KEY_MAX + 1] = 0;
    assert_false(idem_key_valid(k));
    assert_true(idem_key_valid("3f2b8c1e-9d4a-4e6b-a1c2-7d8e9f0a1b2c"));
    assert_true(idem_key_valid("batch_42.v1:x~y+z/w="));
    const char *bad[] = {"", "a b", "a\tb", "caf\xc3\xa9", "a\"b", "a\\b", "a\nb", "a%b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(idem_key_valid(bad[i]));
    assert_false(idem_key_valid(0));
}

static void fp(const char *m, const char *p, const char *v, const char *body,
               char out[IDEM_FP_HEX + 1])
{
    idem_fingerprint(m, p, v, body, body ? strlen(body) : 0, out);
    assert_int_equal(strlen(out), IDEM_FP_HEX);
}

static void test_fingerprint_tells_requests_apart(void **state)
{
    (void)state;
    char a[IDEM_FP_HEX + 1], b[IDEM_FP_HEX + 1];
    fp("POST", "/v1/fleets", 0, "{\"name\":\"a\"}", a);
    fp("POST", "/v1/fleets", 0, "{\"name\":\"a\"}", b);
    assert_string_equal(a, b);
    const char *other[][4] = {
        {"POST", "/v1/fleets", 0, "{\"name\":\"b\"}"},
        {"POST", "/v1/fleets", "dryRun=true", "{\"name\":\"a\"}"},
        {"PUT", "/v1/fleets", 0, "{\"name\":\"a\"}"},
        {"POST", "/v1/fleets/a/claims", 0, "{\"name\":\"a\"}"},
        {"POST", "/v1/fleets", 0, "{\"name\": \"a\"}"}, /* body bytes, not meaning */
        /* parts cannot run into each other */
        {"POST", "/v1/fleets{\"name\":", 0, "\"a\"}"},
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        fp(other[i][0], other[i][1], other[i][2], other[i][3], b);
        assert_string_not_equal(a, b);
    }
    fp("POST", "/v1/watch/run", 0, 0, a);
    fp("POST", "/v1/watch/run", 0, "", b);
    assert_string_equal(a, b); /* no body and an empty one are the same request */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_bounds),
        cmocka_unit_test(test_fingerprint_tells_requests_apart),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
