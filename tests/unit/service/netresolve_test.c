/*
 * netresolve_test.c - netresolve_checked: every address a name has is
 * checked, an internal one refuses the name unless allowed, the checked
 * address comes back for the caller to connect to. Literals only (no DNS
 * needed): getaddrinfo answers them itself, in every spelling inet_aton
 * takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "service/core/err.h"
#include "service/core/netresolve.h"

static int resolve(const char *host, const char *allow, char pin[NETADDR_TEXT_MAX], char *why,
                   size_t whylen)
{
    struct netaddr_list l;
    char err[160];
    assert_int_equal(netaddr_list_parse(allow, &l, err, sizeof err), 0);
    return netresolve_checked(host, 8883, &l, "FLEETWARDEN_TEST_ALLOW", pin, why, whylen);
}

static void test_public_address_is_pinned(void **state)
{
    (void)state;
    char pin[NETADDR_TEXT_MAX], why[300] = "";
    assert_int_equal(resolve("1.1.1.1", "", pin, why, sizeof why), 0);
    assert_string_equal(pin, "1.1.1.1");
}

static void test_internal_address_refused_with_the_setting(void **state)
{
    (void)state;
    static const char *const internal[] = {"127.0.0.1",       "0x7f.1", "2130706433", "10.1.2.3",
                                           "169.254.169.254", "::1",    "fd00::1",    "100.64.0.1"};
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        char pin[NETADDR_TEXT_MAX] = "x", why[300] = "";
        assert_int_equal(resolve(internal[i], "", pin, why, sizeof why), FW_EFORBIDDEN);
        assert_string_equal(pin, "");
        assert_non_null(strstr(why, "(FLEETWARDEN_TEST_ALLOW)"));
        assert_non_null(strstr(why, " resolves to "));
    }
    char pin[NETADDR_TEXT_MAX], why[300];
    assert_int_equal(resolve("0x7f.1", "", pin, why, sizeof why), FW_EFORBIDDEN);
    assert_string_equal(
        why, "0x7f.1 resolves to 127.0.0.1, a loopback address (FLEETWARDEN_TEST_ALLOW)");
}

static void test_allowed_internal_address(void **state)
{
    (void)state;
    char pin[NETADDR_TEXT_MAX], why[300];
    assert_int_equal(resolve("127.0.0.1", "127.0.0.1,::1", pin, why, sizeof why), 0);
    assert_string_equal(pin, "127.0.0.1");
    assert_int_equal(resolve("::1", "127.0.0.1,::1", pin, why, sizeof why), 0);
    assert_string_equal(pin, "::1");
    assert_int_equal(resolve("10.9.8.7", "10.0.0.0/8", pin, why, sizeof why), 0);
    assert_int_equal(resolve("10.9.8.7", "127.0.0.1", pin, why, sizeof why), FW_EFORBIDDEN);
    assert_int_equal(netresolve_checked("127.0.0.1", 1, 0, "S", pin, why, sizeof why),
                     FW_EFORBIDDEN);
}

static void test_unresolvable(void **state)
{
    (void)state;
    char pin[NETADDR_TEXT_MAX], why[300];
    assert_int_equal(resolve("", "", pin, why, sizeof why), FW_EUNAVAILABLE);
    assert_non_null(strstr(why, "cannot resolve"));
    assert_int_equal(netresolve_checked(0, 1, 0, "S", pin, why, sizeof why), FW_EUNAVAILABLE);
    assert_string_equal(pin, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_address_is_pinned),
        cmocka_unit_test(test_internal_address_refused_with_the_setting),
        cmocka_unit_test(test_allowed_internal_address),
        cmocka_unit_test(test_unresolvable),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
