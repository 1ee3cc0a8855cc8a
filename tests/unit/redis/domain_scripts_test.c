/* domain_scripts_test.c - the domain stores' Lua scripts as embedded (service/domain/lua/, run by
 * service/redis/script.h): the constants they share with C agree, and each carries what it uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "service/domain/domain_lua.h"
#include "service/domain/store_claim_index.h"

static void assert_contains(const struct redis_script *s, const char *want)
{
    char *text = redis_script_text(s);
    if (!strstr(text, want))
        fail_msg("%s lacks %s", s->name, want);
    free(text);
}

/* The scripts that pick the state index read P claims:idx and compare it with their copy of
 * CLAIM_INDEX_VERSION: were they to differ, every filtered list would walk every claim. */
static void test_index_version_agrees(void **state)
{
    (void)state;
    const char *want = "local claim_index_version = '" CLAIM_INDEX_VERSION "'";
    assert_contains(&domain_lua_claim_list, want);
    assert_contains(&domain_lua_claim_count_active, want);
}

/* A script gets the prelude's definitions it calls (lua_embed.py), and the runner's. */
static void test_prelude_definitions_go_along(void **state)
{
    (void)state;
    assert_contains(&domain_lua_claim_create, "local function reindex(");
    assert_contains(&domain_lua_claim_transition, "local function reindex(");
    assert_contains(&domain_lua_claim_transition, "local function fw_error(");
    assert_contains(&domain_lua_token_lookup_rated, "local function take(");
    assert_contains(&domain_lua_incident_upsert, "local function inc_event(");
    assert_contains(&domain_lua_doc_create, "local function server_time(");
    char *text = redis_script_text(&domain_lua_token_list);
    assert_null(strstr(text, "local function reindex("));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_version_agrees),
        cmocka_unit_test(test_prelude_definitions_go_along),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
