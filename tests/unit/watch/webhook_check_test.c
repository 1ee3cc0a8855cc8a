/*
 * webhook_check_test.c - webhook URL rules and the HMAC-SHA256 signature
 * (service/domain/webhook_check.c), the latter against RFC 4231 case 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/webhook_check.h"

static void test_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *allow;
        int ok;
    } cases[] = {
        {"https://hooks.example.com/x?y=1", 0, 1},
        {"https://hooks.example.com:8443/x", 0, 1},
        {"https://[::1]:8443/x", 0, 1},
        {"http://hooks.example.com/x", 0, 0},
        {"http://127.0.0.1:8080/x", "127.0.0.1", 1},
        {"http://127.0.0.1:8080/x", "localhost, 127.0.0.1", 1},
        {"http://127.0.0.10/x", "127.0.0.1", 0},
        {"http://localhost/x", "127.0.0.1", 0},
        {"https://user:pw@hooks.example.com/", 0, 0},
        {"https://hooks.example.com/#frag", 0, 0},
        {"https://hooks example.com/", 0, 0},
        {"https://hooks.example.com/a<b>", 0, 0},
        {"https://hooks.example.com/a\"b", 0, 0},
        {"https://hooks.example.com/{x}|y", 0, 0},
        {"https://hooks.example.com/a%3Cb%3E", 0, 1},
        {"https:///x", 0, 0},
        {"https://h:99999999/", 0, 0},
        {"https://h:/", 0, 0},
        {"ftp://h/", 0, 0},
        {"", 0, 0},
        {0, 0, 0},
    };
    char why[200];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = webhook_url_check(cases[i].url, cases[i].allow, why, sizeof why);
        if ((rc == 0) != cases[i].ok)
            fail_msg("case %zu (%s): rc %d, %s", i, cases[i].url ? cases[i].url : "(null)", rc, why);
    }
}

static void test_signature(void **state)
{
    (void)state;
    char sig[WEBHOOK_SIG_MAX];
    const char *msg = "what do ya want for nothing?";
    assert_int_equal(webhook_signature("Jefe", msg, strlen(msg), sig), 0);
    assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_int_not_equal(webhook_signature(0, msg, 1, sig), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_signature),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
