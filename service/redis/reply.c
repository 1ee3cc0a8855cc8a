/*
 * reply.c - see reply.h.
 */
#include "service/redis/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "service/core/buf.h"
#include "service/core/err.h"
#include "service/core/json_out.h"
#include "service/core/log.h"

int redis_reply_fw_code(const char *err)
{
    if (!err || strncmp(err, "FW_E", 4) != 0)
        return 0;
    size_t n = strcspn(err, " ");
    for (int code = FW_ERR_FIRST_ + 1; code < FW_ERR_LAST_; code++) {
        const char *name = fw_err_name(code);
        if (strlen(name) == n && strncmp(name, err, n) == 0)
            return code;
    }
    return 0;
}

/* Copies s into t, cut at 300 bytes, bytes outside printable ASCII as '?'
 * (an error text may quote anything a script was given). */
static const char *printable(const char *s, char t[301])
{
    size_t n = 0;
    for (; s && s[n] && n < 300; n++)
        t[n] = (s[n] < 0x20 || s[n] > 0x7e) ? '?' : s[n];
    t[n] = '\0';
    return t;
}

/* Logs an error reply: {"command": what, "error": text}. */
static void log_error_reply(const char *what, const char *text)
{
    char w[301], t[301];
    log_event(LOG_ERROR, "redis error reply", LOG_STR("command", printable(what, w)),
              LOG_STR("error", printable(text, t)));
}

int redis_reply_is_failover(const char *str, size_t len)
{
    static const char *const codes[] = {"READONLY ", "LOADING ", "MASTERDOWN ", "NOREPLICAS "};
    for (size_t i = 0; str && i < sizeof codes / sizeof codes[0]; i++) {
        size_t n = strlen(codes[i]);
        if (len >= n && !memcmp(str, codes[i], n))
            return 1;
    }
    return 0;
}

int redis_reply_rc(const struct redisReply *r, const char *what)
{
    if (!r)
        return FW_EUNAVAILABLE;
    if (r->type != REDIS_REPLY_ERROR)
        return 0;
    int code = redis_reply_fw_code(r->str);
    if (code)
        return code;
    if (redis_reply_is_failover(r->str, r->len))
        return FW_EUNAVAILABLE; /* store_conn reconnects; not an error of ours to log */
    log_error_reply(what, r->str ? r->str : "");
    return FW_EREDIS;
}

long long redis_reply_int(const struct redisReply *r)
{
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        return strtoll(r->str, NULL, 10);
    return 0;
}

void redis_reply_str(const struct redisReply *r, char *dst, size_t dstlen)
{
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        snprintf(dst, dstlen, "%s", r->str);
    else if (r && r->type == REDIS_REPLY_INTEGER)
        snprintf(dst, dstlen, "%lld", r->integer);
    else if (dstlen)
        dst[0] = '\0';
}
