/*
 * creds_ini_test.c - aws/creds_ini.c: the shared config/credentials file
 * dialect, its edge cases and its error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/creds_internal.h"
#include "service/core/err.h"

static struct creds_ini *parse_ok(const char *text)
{
    struct creds_ini *ini = NULL;
    char why[128] = "";
    int rc = creds_ini_parse(text, strlen(text), &ini, why, sizeof(why));
    if (rc)
        fail_msg("parse failed: %s", why);
    return ini;
}

static void parse_bad(const char *text, const char *want_msg)
{
    struct creds_ini *ini = (struct creds_ini *)1;
    char why[128] = "";
    assert_int_equal(creds_ini_parse(text, strlen(text), &ini, why, sizeof(why)), FW_EINVAL);
    assert_null(ini);
    if (!strstr(why, want_msg))
        fail_msg("error '%s' lacks '%s'", why, want_msg);
}

static const char *get(const struct creds_ini *ini, const char *sec, const char *key)
{
    return creds_ini_get(creds_ini_section(ini, sec), key);
}

static void test_basic(void **state)
{
    (void)state;
    struct creds_ini *ini = parse_ok("[default]\n"
                                     "aws_access_key_id=AKIDDEFAULT\n"
                                     "aws_secret_access_key = s3cr3t/with+chars==\n"
                                     "\n"
                                     "[profile dev]\r\n"
                                     "region = eu-west-1\r\n");
    assert_string_equal(get(ini, "default", "aws_access_key_id"), "AKIDDEFAULT");
    assert_string_equal(get(ini, "default", "aws_secret_access_key"), "s3cr3t/with+chars==");
    assert_string_equal(get(ini, "profile dev", "region"), "eu-west-1");
    assert_null(get(ini, "profile dev", "missing"));
    assert_null(get(ini, "nosuch", "region"));
    assert_null(creds_ini_get(NULL, "x"));
    creds_ini_free(ini);
}

static void test_comments_and_whitespace(void **state)
{
    (void)state;
    struct creds_ini *ini = parse_ok("# leading comment\n"
                                     "; another\n"
                                     "  [  spaced  ]   # trailing comment\n"
                                     "\tkey\t=\tvalue with  inner  spaces\t\n"
                                     "hash = a#b ; comment here\n"
                                     "semi = x;y\n"
                                     "empty =\n"
                                     "   \n"
                                     "   # indented comment\n");
    assert_string_equal(get(ini, "spaced", "key"), "value with  inner  spaces");
    assert_string_equal(get(ini, "spaced", "hash"), "a#b");
    assert_string_equal(get(ini, "spaced", "semi"), "x;y");
    assert_string_equal(get(ini, "spaced", "empty"), "");
    creds_ini_free(ini);
}

static void test_subproperties_and_continuation(void **state)
{
    (void)state;
    struct creds_ini *ini = parse_ok("[profile x]\n"
                                     "s3 =\n"
                                     "  max_concurrent_requests = 20\n"
                                     "  addressing_style = path\n"
                                     "region = us-east-1\n"
                                     "long = first\n"
                                     "  second\n");
    assert_string_equal(get(ini, "profile x", "s3.max_concurrent_requests"), "20");
    assert_string_equal(get(ini, "profile x", "s3.addressing_style"), "path");
    assert_string_equal(get(ini, "profile x", "region"), "us-east-1");
    assert_string_equal(get(ini, "profile x", "long"), "first\nsecond");
    creds_ini_free(ini);
}

static void test_merge_and_override(void **state)
{
    (void)state;
    struct creds_ini *ini = parse_ok("[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\nj = 4\n");
    assert_int_equal(ini->nsec, 2);
    assert_string_equal(get(ini, "a", "k"), "3");
    assert_string_equal(get(ini, "a", "j"), "4");
    assert_string_equal(get(ini, "b", "k"), "2");
    creds_ini_free(ini);
    ini = parse_ok(""); /* an empty file is valid and has no sections */
    assert_int_equal(ini->nsec, 0);
    creds_ini_free(ini);
    ini = parse_ok("[only]"); /* no final newline */
    assert_non_null(creds_ini_section(ini, "only"));
    creds_ini_free(ini);
}

static void test_errors(void **state)
{
    (void)state;
    parse_bad("key = value\n", "line 1: property outside of any [section]");
    parse_bad("[ok]\nthis line is wrong\n", "line 2: expected");
    parse_bad("[ok]\n\n[broken\n", "line 3: section header without ']'");
    parse_bad("[]\n", "line 1: empty section name");
    parse_bad("[a] junk\n", "line 1: text after ']'");
    parse_bad("[a]\n = value\n", "line 2: property without a name");
    parse_bad("[a]\ns3 =\n  not a property\n", "line 3: expected");
}

static void test_load(void **state)
{
    (void)state;
    char path[] = "/tmp/fw-ini-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[default]\nregion = eu-north-1\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct creds_ini *ini = NULL;
    char why[128];
    assert_int_equal(creds_ini_load(path, &ini, why, sizeof(why)), 0);
    assert_string_equal(get(ini, "default", "region"), "eu-north-1");
    creds_ini_free(ini);
    /* Over the 1 MiB cap. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[big]\n", f);
    for (int i = 0; i < 70000; i++)
        fputs("key = 0123456789\n", f);
    fclose(f);
    assert_int_equal(creds_ini_load(path, &ini, why, sizeof(why)), FW_ETOOBIG);
    assert_null(ini);
    unlink(path);
    assert_int_equal(creds_ini_load(path, &ini, why, sizeof(why)), FW_ENOTFOUND);
    assert_null(ini);
}

/* Random bytes drawn from the INI alphabet: never a crash, and a clean
 * yes/no answer (run under ASan in the sanitizer build). */
static void test_random_input(void **state)
{
    (void)state;
    static const char alphabet[] = "[]=#; \t\r\nab.";
    char text[96];
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof(text));
        for (size_t i = 0; i < len; i++)
            text[i] = alphabet[rand_r(&seed) % (int)(sizeof(alphabet) - 1)];
        struct creds_ini *ini = NULL;
        char why[128];
        int rc = creds_ini_parse(text, len, &ini, why, sizeof(why));
        assert_true(rc == 0 || rc == FW_EINVAL);
        assert_true((rc == 0) == (ini != NULL));
        creds_ini_free(ini);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_comments_and_whitespace),
        cmocka_unit_test(test_subproperties_and_continuation),
        cmocka_unit_test(test_merge_and_override),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_random_input),
    };
    return cmocka_run_group_tests_name("aws-creds-ini", tests, NULL, NULL);
}
