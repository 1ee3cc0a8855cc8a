/* Unit tests for service/client_addr.c: address blocks and the client
 * behind trusted proxies (issue 17, item 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/client_addr.h"

static struct client_cidr s_list[CLIENT_ADDR_PROXIES_MAX];
static int s_n;

static void trust(const char *list)
{
    int bad;
    assert_int_equal(client_addr_parse_list(list, s_list, &s_n, &bad), 0);
}

static void test_trusted(void **state)
{
    (void)state;
    trust("10.0.0.0/8,192.0.2.7,2001:db8::/32,0.0.0.0/0");
    assert_true(client_addr_trusted("10.255.1.2", s_list, 2));
    assert_false(client_addr_trusted("11.0.0.1", s_list, 2));
    assert_true(client_addr_trusted("192.0.2.7", s_list, 2));
    assert_false(client_addr_trusted("192.0.2.8", s_list, 2));
    assert_true(client_addr_trusted("::ffff:10.1.2.3", s_list, 2)); /* IPv4-mapped */
    assert_true(client_addr_trusted("2001:db8:1::5", s_list, 3));
    assert_false(client_addr_trusted("2001:db9::5", s_list, 3));
    assert_true(client_addr_trusted("203.0.113.9", s_list, 4)); /* 0.0.0.0/0 */
    assert_false(client_addr_trusted("not an ip", s_list, 4));
    assert_false(client_addr_trusted("", s_list, 4));
}

struct row {
    const char *peer, *xff, *want;
};

static void test_resolve(void **state)
{
    (void)state;
    trust("10.0.0.0/8, 127.0.0.1");
    static const struct row rows[] = {
        {"203.0.113.9", 0, "203.0.113.9"},
        /* an untrusted peer's header is ignored */
        {"203.0.113.9", "1.2.3.4", "203.0.113.9"},
        {"127.0.0.1", 0, "127.0.0.1"},
        {"127.0.0.1", "198.51.100.4", "198.51.100.4"},
        /* the client wrote its own entry first: the rightmost untrusted one counts */
        {"127.0.0.1", "6.6.6.6, 198.51.100.4", "198.51.100.4"},
        {"127.0.0.1", "6.6.6.6, 198.51.100.4, 10.1.1.1", "198.51.100.4"},
        {"10.2.2.2", "198.51.100.4,10.1.1.1,10.3.3.3", "198.51.100.4"},
        /* every hop trusted: the leftmost */
        {"127.0.0.1", "10.9.9.9, 10.1.1.1", "10.9.9.9"},
        /* garbage stops the walk at the last address that could be checked */
        {"127.0.0.1", "1.2.3.4, not-an-ip", "127.0.0.1"},
        {"127.0.0.1", "garbage, 10.1.1.1", "10.1.1.1"},
        {"127.0.0.1", "1.2.3.4:5678", "127.0.0.1"},
        {"127.0.0.1", "", "127.0.0.1"},
        {"127.0.0.1", " , ", "127.0.0.1"},
        {"127.0.0.1", "2001:db8::7", "2001:db8::7"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[CLIENT_ADDR_MAX];
        client_addr_resolve(rows[i].peer, rows[i].xff, s_list, s_n, out, sizeof out);
        if (strcmp(out, rows[i].want))
            fail_msg("row %zu: peer %s xff %s: got %s, want %s", i, rows[i].peer,
                     rows[i].xff ? rows[i].xff : "-", out, rows[i].want);
    }
}

static void test_long_header(void **state)
{
    (void)state;
    trust("0.0.0.0/0");
    char xff[4000] = "";
    for (int i = 0; i < 200; i++)
        strcat(xff, "1.1.1.1,");
    strcat(xff, "2.2.2.2");
    char out[CLIENT_ADDR_MAX];
    client_addr_resolve("127.0.0.1", xff, s_list, s_n, out, sizeof out);
    assert_string_equal(out, "1.1.1.1"); /* at most CLIENT_ADDR_XFF_MAX hops are looked at */
    char huge[300];
    memset(huge, '9', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    client_addr_resolve("127.0.0.1", huge, s_list, s_n, out, sizeof out);
    assert_string_equal(out, "127.0.0.1");
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct client_cidr l[CLIENT_ADDR_PROXIES_MAX];
    int n, bad;
    assert_int_equal(client_addr_parse_list("10.0.0.0/8,10.0.0.1/8", l, &n, &bad), -1);
    assert_int_equal(bad, 1);
    assert_int_equal(client_addr_parse_list("x", l, &n, &bad), -1);
    assert_int_equal(bad, 0);
    assert_int_equal(client_addr_parse_list("1.2.3.4/24x", l, &n, &bad), -1);
    assert_int_equal(client_addr_parse_list("1.2.3.0/24", l, &n, &bad), 0);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trusted),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_long_header),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
