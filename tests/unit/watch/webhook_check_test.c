/*
 * webhook_check_test.c - webhook URL rules and the HMAC-SHA256 signature
 * (service/domain/webhook_check.c), the latter against RFC 4231 case 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/webhook_check.h"

static const char *check(const char *url, const char *allow_http, const char *allow_addrs,
                         char why[200])
{
    struct netaddr_list l;
    char err[160];
    assert_int_equal(netaddr_list_parse(allow_addrs, &l, err, sizeof err), 0);
    struct webhook_policy p = {allow_http, &l};
    why[0] = 0;
    return webhook_url_check(url, &p, why, 200) ? why : 0;
}

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
        {"https://[2606:4700::1111]:8443/x", 0, 1},
        {"https://203.0.114.1/x", 0, 1},
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
        const char *bad = check(cases[i].url, cases[i].allow, "127.0.0.1", why);
        if ((bad == 0) != cases[i].ok)
            fail_msg("case %zu (%s): %s", i, cases[i].url ? cases[i].url : "(null)",
                     bad ? bad : "accepted");
    }
}

/* A literal internal address in any spelling is refused when the URL is set, unless the
 * allow list covers it; names are left to the check at delivery. */
static void test_internal_literals(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "https://127.0.0.1/x",
        "https://2130706433/x",
        "https://017700000001/",
        "https://0x7f.1/",
        "https://127.1:8443/",
        "https://0x7f000001/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://0xa9.0xfe.0xa9.0xfe/",
        "https://2852039166/",
        "https://0.0.0.0/",
        "https://0/",
        "https://10.0.0.1/",
        "https://192.168.0.1/",
        "https://172.16.5.4/",
        "https://100.100.100.200/",
        "https://[fd00:ec2::254]/",
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://localhost/",
        "https://LOCALHOST./",
        "https://api.localhost/",
        "https://127.0.0.1./",
        "https://[64:ff9b::a9fe:a9fe]/",
    };
    char why[200];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *bad = check(refused[i], 0, 0, why);
        if (!bad || !strstr(bad, "FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES"))
            fail_msg("%s was not refused as internal (%s)", refused[i], bad ? bad : "accepted");
    }
    assert_non_null(strstr(check("https://0x7f.1/", 0, 0, why), "loopback"));
    assert_non_null(strstr(check("https://169.254.169.254/", 0, 0, why), "link-local"));
    /* explicitly allowed */
    assert_null(check("https://127.0.0.1/x", 0, "127.0.0.0/8", why));
    assert_null(check("https://0x7f.1/x", 0, "127.0.0.1", why));
    assert_null(check("https://[::ffff:127.0.0.1]/x", 0, "127.0.0.1", why));
    assert_null(check("http://127.0.0.1:9/x", "127.0.0.1", "127.0.0.1", why));
    assert_non_null(check("https://10.0.0.1/x", 0, "127.0.0.1", why));
    /* names resolve at delivery */
    assert_null(check("https://metadata.internal.example/x", 0, 0, why));
}

static void test_host_and_mask(void **state)
{
    (void)state;
    char host[64];
    int port = 0;
    assert_int_equal(webhook_url_host("https://hooks.example.com/a/b?c", host, sizeof host, &port),
                     0);
    assert_string_equal(host, "hooks.example.com");
    assert_int_equal(port, 443);
    assert_int_equal(webhook_url_host("http://127.0.0.1:8080", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(webhook_url_host("https://[::1]:8443/x", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 8443);
    assert_int_not_equal(webhook_url_host("https://h:0/", host, sizeof host, &port), 0);
    char *m = webhook_url_masked("https://hooks.slack.com/services/T000/B000/XXXX?x=1");
    assert_string_equal(m, "https://hooks.slack.com/***");
    free(m);
    m = webhook_url_masked("https://hooks.example.com:8443?token=s3cret");
    assert_string_equal(m, "https://hooks.example.com:8443/***");
    free(m);
    m = webhook_url_masked("https://hooks.example.com/");
    assert_string_equal(m, "https://hooks.example.com");
    free(m);
}

static void test_signature(void **state)
{
    (void)state;
    char sig[WEBHOOK_SIG_MAX];
    const char *msg = "what do ya want for nothing?";
    assert_int_equal(webhook_signature("Jefe", msg, strlen(msg), sig), 0);
    assert_string_equal(sig,
                        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_int_not_equal(webhook_signature(0, msg, 1, sig), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_internal_literals),
        cmocka_unit_test(test_host_and_mask),
        cmocka_unit_test(test_signature),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
