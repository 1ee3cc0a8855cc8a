/* reply_test.c - the one mapping from a Redis answer onto FW_E* codes (service/redis/reply.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "service/core/err.h"
#include "service/core/log.h"
#include "service/redis/reply.h"

static redisReply reply(int type, const char *str)
{
    redisReply r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.str = (char *)str;
    r.len = str ? strlen(str) : 0;
    return r;
}

static void test_script_codes(void **state)
{
    (void)state;
    assert_int_equal(redis_reply_fw_code("FW_ECONFLICT the lease was lost"), FW_ECONFLICT);
    assert_int_equal(redis_reply_fw_code("FW_ENOTFOUND no such job"), FW_ENOTFOUND);
    assert_int_equal(redis_reply_fw_code("FW_EUNPROCESSABLE x"), FW_EUNPROCESSABLE);
    assert_int_equal(redis_reply_fw_code("FW_ECONFLICT"), FW_ECONFLICT);
    /* Not a code of the table, or not at the start: no code. */
    assert_int_equal(redis_reply_fw_code("FW_ENOSUCH x"), 0);
    assert_int_equal(redis_reply_fw_code("FW_ECONFLICTS x"), 0);
    assert_int_equal(redis_reply_fw_code("FW_ECONF x"), 0);
    assert_int_equal(redis_reply_fw_code("ERR FW_ECONFLICT x"), 0);
    assert_int_equal(redis_reply_fw_code("WRONGTYPE Operation against a key"), 0);
    assert_int_equal(redis_reply_fw_code(""), 0);
    assert_int_equal(redis_reply_fw_code(NULL), 0);
}

/* An error reply's text, and the code it must map onto. */
static const struct {
    const char *text, *what;
    int want;
} s_errors[] = {
    /* A script's outcome: its code. */
    {"FW_ECONFLICT the lease was lost", "jobs/finish", FW_ECONFLICT},
    /* Redis answered an error: FW_EREDIS (logged, with text that needs escaping). */
    {"WRONGTYPE Operation against a key holding \"the\" wrong kind\n", "HGETALL", FW_EREDIS},
    {"ERR user_script:1: Script attempted to access nonexistent global", "jobs/claim", FW_EREDIS},
    /* A failover (the node turned replica, or is loading): unavailable, as no answer is. */
    {"READONLY You can't write against a read only replica.", "jobs/claim", FW_EUNAVAILABLE},
    {"LOADING Redis is loading the dataset in memory", "HGET", FW_EUNAVAILABLE},
    {"MASTERDOWN Link with MASTER is down", "HSET", FW_EUNAVAILABLE},
    {"NOREPLICAS Not enough good replicas to write.", "HSET", FW_EUNAVAILABLE},
    /* Only as the error's code: the word elsewhere is an error of its own. */
    {"ERR user_script:3: READONLY x", "jobs/claim", FW_EREDIS},
};

static void test_reply_rc(void **state)
{
    (void)state;
    /* No answer at all: Redis cannot be reached. */
    assert_int_equal(redis_reply_rc(NULL, "HGET"), FW_EUNAVAILABLE);
    /* Answers that are no error. */
    redisReply ok = reply(REDIS_REPLY_STATUS, "OK");
    assert_int_equal(redis_reply_rc(&ok, "SET"), 0);
    redisReply nil = reply(REDIS_REPLY_NIL, NULL);
    assert_int_equal(redis_reply_rc(&nil, "GET"), 0);
    for (size_t i = 0; i < sizeof s_errors / sizeof s_errors[0]; i++) {
        redisReply e = reply(REDIS_REPLY_ERROR, s_errors[i].text);
        if (redis_reply_rc(&e, s_errors[i].what) != s_errors[i].want)
            fail_msg("%s: not %s", s_errors[i].text, fw_err_name(s_errors[i].want));
    }
}

static void test_reply_values(void **state)
{
    (void)state;
    redisReply i;
    memset(&i, 0, sizeof i);
    i.type = REDIS_REPLY_INTEGER;
    i.integer = -42;
    redisReply s = reply(REDIS_REPLY_STRING, "1796591551608");
    redisReply n = reply(REDIS_REPLY_NIL, NULL);
    assert_int_equal(redis_reply_int(&i), -42);
    assert_int_equal(redis_reply_int(&s), 1796591551608LL);
    assert_int_equal(redis_reply_int(&n), 0);
    assert_int_equal(redis_reply_int(NULL), 0);
    char buf[8];
    redis_reply_str(&s, buf, sizeof buf);
    assert_string_equal(buf, "1796591");
    redis_reply_str(&i, buf, sizeof buf);
    assert_string_equal(buf, "-42");
    redis_reply_str(&n, buf, sizeof buf);
    assert_string_equal(buf, "");
}

int main(void)
{
    log_set_level(LOG_ERROR + 1); /* the FW_EREDIS cases log; keep the test output quiet */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_codes),
        cmocka_unit_test(test_reply_rc),
        cmocka_unit_test(test_reply_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
