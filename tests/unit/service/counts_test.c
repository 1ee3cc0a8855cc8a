/*
 * counts_test.c - counters by key (service/http/counts.c): the per-address connection limit
 * and the per-token stream and long-poll places rest on them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "service/http/counts.h"

static void test_take_and_put(void **state)
{
    (void)state;
    struct counts *c = counts_new();
    assert_int_equal(counts_take(c, "a", 2), 1);
    assert_int_equal(counts_take(c, "a", 2), 1);
    assert_int_equal(counts_take(c, "a", 2), 0); /* full */
    assert_int_equal(counts_get(c, "a"), 2);
    assert_int_equal(counts_take(c, "b", 2), 1); /* another key has its own */
    counts_put(c, "a");
    assert_int_equal(counts_take(c, "a", 2), 1);
    assert_int_equal(counts_take(c, "x", 0), 1); /* 0: no limit */
    assert_int_equal(counts_take(c, "x", 0), 1);
    counts_put(c, "unknown"); /* nothing to take off */
    counts_put(c, "b");
    assert_int_equal(counts_get(c, "b"), 0);
    /* many keys, all the way down again: entries go at zero */
    char k[COUNTS_KEY_MAX];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(counts_take(c, k, 1), 1);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "10.0.%d.%d", i / 256, i % 256);
        counts_put(c, k);
        assert_int_equal(counts_get(c, k), 0);
    }
    counts_free(c);
}

static void test_address_keys(void **state)
{
    (void)state;
    char key[COUNTS_KEY_MAX];
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "203.0.113.9", &v4.sin_addr);
    counts_address_key((struct sockaddr *)&v4, key);
    assert_string_equal(key, "203.0.113.9");
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &v6.sin6_addr);
    counts_address_key((struct sockaddr *)&v6, key);
    assert_string_equal(key, "2001:db8:1:2::/64"); /* one client usually holds a /64 */
    inet_pton(AF_INET6, "::ffff:203.0.113.9", &v6.sin6_addr);
    counts_address_key((struct sockaddr *)&v6, key);
    assert_string_equal(key, "203.0.113.9"); /* IPv4-mapped: the IPv4 client */
    counts_address_key(0, key);
    assert_string_equal(key, "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_and_put),
        cmocka_unit_test(test_address_keys),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
