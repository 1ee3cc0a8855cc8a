/* Unit tests for service/core/buf.c and service/core/err.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/buf.h"
#include "service/core/err.h"

static void test_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_string_equal(buf_cstr(&b), "");
    assert_int_equal(buf_puts(&b, "12345"), 0);
    assert_int_equal(buf_puts(&b, "6789"), FW_ETOOBIG);
    assert_string_equal(buf_cstr(&b), "12345");
    assert_int_equal(buf_printf(&b, "%d", 678), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(buf_append(&b, "x", 1), FW_ETOOBIG);
    buf_free(&b);
    buf_free(&b);
}

static void test_binary_and_steal(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    char *s = buf_steal(&b);
    assert_int_equal(s[2], 'b');
    assert_null(b.ptr);
    free(s);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(fw_err_http_status(FW_ENOTFOUND), 404);
    assert_int_equal(fw_err_http_status(FW_ETOOBIG), 413);
    assert_string_equal(fw_err_name(FW_EINVAL), "FW_EINVAL");
    assert_string_equal(fw_err_name(0), "FW_OK");
    assert_string_equal(fw_strerror(12345), "unknown error");
    assert_int_equal(fw_err_http_status(12345), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cap),
                                       cmocka_unit_test(test_binary_and_steal),
                                       cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, 0, 0);
}
