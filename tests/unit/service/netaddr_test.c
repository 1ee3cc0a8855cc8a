/*
 * netaddr_test.c - literal addresses in every spelling, the internal ranges
 * and allow lists (service/core/netaddr.c), which the webhook SSRF policy
 * rests on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "service/core/netaddr.h"

/* The address of a literal as text, or "" when it is not one. */
static const char *lit(const char *s)
{
    static char out[NETADDR_TEXT_MAX];
    struct netaddr a;
    if (!netaddr_parse_literal(s, strlen(s), &a))
        return "";
    netaddr_format(&a, out);
    return out;
}

static void test_ipv4_spellings(void **state)
{
    (void)state;
    assert_string_equal(lit("127.0.0.1"), "127.0.0.1");
    assert_string_equal(lit("2130706433"), "127.0.0.1");   /* one decimal number */
    assert_string_equal(lit("017700000001"), "127.0.0.1"); /* one octal number */
    assert_string_equal(lit("0x7f000001"), "127.0.0.1");   /* one hex number */
    assert_string_equal(lit("0x7f.1"), "127.0.0.1");       /* a.b: b fills 24 bits */
    assert_string_equal(lit("127.1"), "127.0.0.1");
    assert_string_equal(lit("127.0.1"), "127.0.0.1");     /* a.b.c: c fills 16 bits */
    assert_string_equal(lit("0177.0.0.01"), "127.0.0.1"); /* octal parts */
    assert_string_equal(lit("0xA9.0xFE.0xa9.0xfe"), "169.254.169.254");
    assert_string_equal(lit("0251.0376.0251.0376"), "169.254.169.254");
    assert_string_equal(lit("2852039166"), "169.254.169.254");
    assert_string_equal(lit("0"), "0.0.0.0");
    assert_string_equal(lit("127.0.0.1."), "127.0.0.1"); /* the DNS root dot */
    assert_string_equal(lit("example.com"), "");
    assert_string_equal(lit("1.2.3.4.5"), "");
    assert_string_equal(lit("256.0.0.1"), "");
    assert_string_equal(lit("1.2.65536"), "");
    assert_string_equal(lit("4294967296"), "");
    assert_string_equal(lit("08.0.0.1"), ""); /* 8 is not octal */
    assert_string_equal(lit("1..2"), "");
    assert_string_equal(lit("0x"), "");
    assert_string_equal(lit(""), "");
}

static void test_ipv6_spellings(void **state)
{
    (void)state;
    assert_string_equal(lit("::1"), "::1");
    assert_string_equal(lit("0:0:0:0:0:0:0:1"), "::1");
    assert_string_equal(lit("::ffff:127.0.0.1"), "::ffff:127.0.0.1");
    assert_string_equal(lit("::ffff:7f00:1"), "::ffff:127.0.0.1");
    assert_string_equal(lit("fe80::1%eth0"), "fe80::1");
    assert_string_equal(lit("fd00:ec2::254"), "fd00:ec2::254");
    assert_string_equal(lit(":::1"), "");
}

static const char *kind(const char *s)
{
    struct netaddr a;
    if (!netaddr_parse_literal(s, strlen(s), &a))
        return "not a literal";
    const char *k = netaddr_internal(&a);
    return k ? k : "public";
}

static void test_internal_ranges(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"127.0.0.1", "loopback"},
        {"2130706433", "loopback"},
        {"0x7f.1", "loopback"},
        {"127.255.255.254", "loopback"},
        {"0.0.0.0", "unspecified"},
        {"0", "unspecified"},
        {"10.1.2.3", "private"},
        {"172.16.0.1", "private"},
        {"172.31.255.255", "private"},
        {"192.168.1.1", "private"},
        {"169.254.169.254", "link-local"},
        {"100.64.0.1", "carrier-grade NAT"},
        {"100.100.100.200", "carrier-grade NAT"},
        {"224.0.0.1", "multicast"},
        {"255.255.255.255", "reserved"},
        {"192.0.0.192", "reserved"},
        {"198.18.0.1", "reserved"},
        {"192.0.2.1", "documentation"},
        {"::", "unspecified"},
        {"::1", "loopback"},
        {"::ffff:127.0.0.1", "loopback"},
        {"::ffff:169.254.169.254", "link-local"},
        {"::ffff:0:10.0.0.1", "private"},
        {"::127.0.0.1", "loopback"},
        {"64:ff9b::a9fe:a9fe", "link-local"},
        {"2002:7f00:1::", "loopback"},
        {"fd00:ec2::254", "unique-local"},
        {"fc00::1", "unique-local"},
        {"fe80::1", "link-local"},
        {"fe80::1%lo", "link-local"},
        {"fec0::1", "site-local"},
        {"ff02::1", "multicast"},
        {"2001:db8::1", "documentation"},
        {"2001::1", "reserved"},
        {"100::1", "reserved"},
        /* public */
        {"8.8.8.8", "public"},
        {"172.32.0.1", "public"},
        {"100.128.0.1", "public"},
        {"169.255.0.1", "public"},
        {"11.0.0.1", "public"},
        {"2606:4700::1111", "public"},
        {"::ffff:8.8.8.8", "public"},
        {"64:ff9b::808:808", "public"},
        {"2002:808:808::", "public"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(kind(cases[i][0]), cases[i][1]))
            fail_msg("%s: %s, expected %s", cases[i][0], kind(cases[i][0]), cases[i][1]);
}

static int in_list(const char *list, const char *addr)
{
    struct netaddr_list l;
    struct netaddr a;
    char err[160];
    assert_int_equal(netaddr_list_parse(list, &l, err, sizeof err), 0);
    assert_true(netaddr_parse_literal(addr, strlen(addr), &a));
    return netaddr_list_contains(&l, &a);
}

static void test_allow_lists(void **state)
{
    (void)state;
    assert_true(in_list("127.0.0.1", "127.0.0.1"));
    assert_true(in_list("127.0.0.1", "2130706433"));
    assert_true(in_list("127.0.0.1", "::ffff:127.0.0.1"));
    assert_false(in_list("127.0.0.1", "127.0.0.2"));
    assert_true(in_list(" 10.0.0.0/8 , fd00::/8", "10.200.0.1"));
    assert_true(in_list("10.0.0.0/8,fd00::/8", "fd12::1"));
    assert_false(in_list("10.0.0.0/8,fd00::/8", "fc00::1"));
    assert_true(in_list("0.0.0.0/0", "8.8.8.8"));
    assert_false(in_list("", "127.0.0.1"));
    struct netaddr_list l;
    char err[160];
    assert_int_not_equal(netaddr_list_parse("10.0.0.0/33", &l, err, sizeof err), 0);
    assert_int_not_equal(netaddr_list_parse("example.com", &l, err, sizeof err), 0);
    assert_int_not_equal(netaddr_list_parse("10.0.0.0/", &l, err, sizeof err), 0);
    assert_int_not_equal(netaddr_list_parse("::1/129", &l, err, sizeof err), 0);
    assert_int_not_equal(netaddr_list_parse("10.0.0.0/8x", &l, err, sizeof err), 0);
    assert_non_null(strstr(err, "10.0.0.0/8x"));
    assert_int_equal(netaddr_list_parse(0, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_spellings),
        cmocka_unit_test(test_ipv6_spellings),
        cmocka_unit_test(test_internal_ranges),
        cmocka_unit_test(test_allow_lists),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
