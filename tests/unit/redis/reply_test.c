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
    /* A script's outcome: its code. */
    redisReply conflict = reply(REDIS_REPLY_ERROR, "FW_ECONFLICT the lease was lost");
    assert_int_equal(redis_reply_rc(&conflict, "jobs/finish"), FW_ECONFLICT);
    /* Redis answered an error: FW_EREDIS (logged, with text that needs escaping). */
    redisReply wrong = reply(REDIS_REPLY_ERROR, "WRONGTYPE Operation against a key holding \"the\" wrong kind\n");
    assert_int_equal(redis_reply_rc(&wrong, "HGETALL"), FW_EREDIS);
    redisReply script = reply(REDIS_REPLY_ERROR, "ERR user_script:1: Script attempted to access nonexistent global");
    assert_int_equal(redis_reply_rc(&script, "jobs/claim"), FW_EREDIS);
    /* A failover (the node turned replica, or is loading): unavailable, as no answer is. */
    redisReply ro = reply(REDIS_REPLY_ERROR, "READONLY You can't write against a read only replica.");
    assert_int_equal(redis_reply_rc(&ro, "jobs/claim"), FW_EUNAVAILABLE);
    redisReply loading = reply(REDIS_REPLY_ERROR, "LOADING Redis is loading the dataset in memory");
    assert_int_equal(redis_reply_rc(&loading, "HGET"), FW_EUNAVAILABLE);
    redisReply down = reply(REDIS_REPLY_ERROR, "MASTERDOWN Link with MASTER is down");
    assert_int_equal(redis_reply_rc(&down, "HSET"), FW_EUNAVAILABLE);
    /* Only as the error's code: the word elsewhere is an error of its own. */
    redisReply quoted = reply(REDIS_REPLY_ERROR, "ERR user_script:3: READONLY x");
    assert_int_equal(redis_reply_rc(&quoted, "jobs/claim"), FW_EREDIS);
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
    log_set_level(LOG_ERROR + 1);   /* the FW_EREDIS cases log; keep the test output quiet */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_codes),
        cmocka_unit_test(test_reply_rc),
        cmocka_unit_test(test_reply_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
