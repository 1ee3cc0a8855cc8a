/* log_test.c - log lines (service/core/log.c): typed fields come out as JSON whatever the strings
 * hold (quotes, backslashes, control characters: an AWS error code or a Redis error reply). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "service/core/log.h"

/* Runs fn with stderr going to a temporary file; returns the one line it wrote, parsed. */
static json_t *capture(void (*fn)(void))
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    char line[4096] = "";
    rewind(tmp);
    assert_non_null(fgets(line, sizeof line, tmp));
    fclose(tmp);
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    if (!o)
        fail_msg("not JSON: %s (%s)", line, e.text);
    return o;
}

static void log_awkward(void)
{
    log_event(LOG_WARN, "a \"quoted\" message", LOG_STR("code", "Throttl\"ing\\\n\x01"),
              LOG_STR("none", NULL), LOG_INT("attempt", 3), LOG_BOOL("revoke", 7),
              LOG_DBL("ms", 1.5), LOG_DBL("nan", NAN));
}

static void test_typed_fields_are_json(void **state)
{
    (void)state;
    json_t *o = capture(log_awkward);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "a \"quoted\" message");
    assert_string_equal(json_string_value(json_object_get(o, "code")), "Throttl\"ing\\\n\x01");
    assert_true(json_is_null(json_object_get(o, "none")));
    assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 3);
    assert_true(json_is_true(json_object_get(o, "revoke")));
    assert_true(json_number_value(json_object_get(o, "ms")) == 1.5);
    assert_true(json_is_null(json_object_get(o, "nan")));
    assert_non_null(json_object_get(o, "ts"));
    json_decref(o);
}

static void log_plain(void)
{
    log_msg(LOG_ERROR, "%d%% of \"%s\"", 50, "x");
}

static void test_message_only(void **state)
{
    (void)state;
    json_t *o = capture(log_plain);
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "50% of \"x\"");
    assert_int_equal(json_object_size(o), 3);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_fields_are_json),
        cmocka_unit_test(test_message_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
