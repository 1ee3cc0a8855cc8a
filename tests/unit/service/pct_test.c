/* pct_test.c - hex digits and the lenient percent-decoding (service/core/pct.c) that SigV4's
 * canonical query and IAM's policy documents use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/pct.h"

static void test_hexval(void **state)
{
    (void)state;
    assert_int_equal(pct_hexval('0'), 0);
    assert_int_equal(pct_hexval('9'), 9);
    assert_int_equal(pct_hexval('a'), 10);
    assert_int_equal(pct_hexval('F'), 15);
    assert_int_equal(pct_hexval('g'), -1);
    assert_int_equal(pct_hexval('%'), -1);
    assert_int_equal(pct_hexval(0), -1);
}

static void test_decode(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"%7B%22a%22%3A1%7D", "{\"a\":1}"},
        {"a%2fb", "a/b"},
        {"100%", "100%"},
        {"%zz%4", "%zz%4"},
        {"%%41", "%A"},
        {"", ""},
        {"plain+text", "plain+text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 99;
        char *d = pct_decode(cases[i].in, strlen(cases[i].in), &n);
        assert_string_equal(d, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
        free(d);
    }
    size_t n = 0;
    char *d = pct_decode("a%00b", 5, &n); /* a NUL byte is decoded; the length says so */
    assert_int_equal(n, 3);
    assert_memory_equal(d, "a\0b", 3);
    free(d);
    d = pct_decode("%41%42", 3, 0); /* only the n bytes given are read */
    assert_string_equal(d, "A");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hexval),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
