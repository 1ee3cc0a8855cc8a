/* Unit tests for service/http/router.c: literal and parameter segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "service/http/router.h"

struct row {
    const char *pattern, *path;
    int match;
    const char *param; /* first parameter's value when matched */
};

static const struct row s_rows[] = {
    {"/healthz", "/healthz", 1, 0},
    {"/healthz", "/healthz/", 0, 0},
    {"/v1/jobs/{id}", "/v1/jobs/abc", 1, "abc"},
    {"/v1/jobs/{id}", "/v1/jobs/", 0, 0},
    {"/v1/jobs/{id}", "/v1/jobs", 0, 0},
    {"/v1/jobs/{id}/cancel", "/v1/jobs/x1/cancel", 1, "x1"},
    {"/v1/jobs/{id}/cancel", "/v1/jobs/x1/retry", 0, 0},
    {"/v1/tokens", "/v1/tokens/x", 0, 0},
    {"/v1/tokens", "v1/tokens", 0, 0},
    {"/v1/a/{x}/b/{y}", "/v1/a/1/b/2", 1, "1"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++) {
        struct router_match m;
        int got = router_match(s_rows[i].pattern, s_rows[i].path, &m);
        if (got != s_rows[i].match)
            fail_msg("row %zu: %s vs %s: got %d", i, s_rows[i].pattern, s_rows[i].path, got);
        if (got && s_rows[i].param)
            assert_string_equal(m.values[0], s_rows[i].param);
    }
}

static void test_two_params(void **state)
{
    (void)state;
    struct router_match m;
    assert_true(router_match("/v1/a/{x}/b/{y}", "/v1/a/1/b/2", &m));
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.names[1], "y");
    assert_string_equal(m.values[1], "2");
}

static void test_limits(void **state)
{
    (void)state;
    struct router_match m;
    char longpath[2048];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_false(router_match("/{x}", longpath, &m));
    assert_false(router_match("/{x}", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n", &m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_table),
                                       cmocka_unit_test(test_two_params),
                                       cmocka_unit_test(test_limits)};
    return cmocka_run_group_tests(tests, 0, 0);
}
