/* http_test.c - building responses (service/http/http.c): a header past the limit is refused
 * where the caller sees it, never dropped in silence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "service/core/err.h"
#include "service/http/http.h"

static void free_headers(struct http_resp *r)
{
    for (int i = 0; i < r->nheaders; i++)
        free(r->header_values[i]);
    json_decref(r->json);
}

static void test_thirteenth_header_is_refused(void **state)
{
    (void)state;
    static const char *names[HTTP_MAX_HEADERS + 1] = {"H0", "H1", "H2", "H3",  "H4",  "H5", "H6",
                                                      "H7", "H8", "H9", "H10", "H11", "H12"};
    struct http_resp r = {0};
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        assert_int_equal(http_resp_header(&r, names[i], "v"), 0);
    assert_null(r.header_refused);
    assert_int_equal(http_resp_header(&r, names[HTTP_MAX_HEADERS], "v"), FW_ETOOBIG);
    assert_string_equal(r.header_refused, "H12");
    assert_int_equal(r.nheaders, HTTP_MAX_HEADERS);
    /* replacing one already set needs no room */
    assert_int_equal(http_resp_header(&r, "h3", "new"), 0);
    assert_string_equal(r.header_values[3], "new");
    /* the first refused name is the one the server logs */
    assert_int_equal(http_resp_header(&r, "Another", "v"), FW_ETOOBIG);
    assert_string_equal(r.header_refused, "H12");
    free_headers(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thirteenth_header_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
