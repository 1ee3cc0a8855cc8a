/*
 * schedule.c - next-tick computation for recurring schedules.
 *
 * Pure. Slots of "every N s" are multiples of N ms-seconds since the epoch,
 * so every process computes the same slot for the same moment (the slot is
 * part of the job id: no duplicates across processes).
 */
#include "schedule.h"

#include <ctype.h>

#include "service/core/err.h"

int schedule_parse_daily(const char *s, int *minute_of_day)
{
    if (!s || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]) || s[5] != '\0')
        return FW_EINVAL;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return FW_EINVAL;
    *minute_of_day = h * 60 + m;
    return 0;
}

int schedule_spec_check(const struct schedule_spec *s)
{
    int every = s->every_s > 0;
    int daily = s->daily_min >= 0;
    if (every == daily)
        return FW_EINVAL;
    if (every && s->every_s > 31L * 86400)
        return FW_EINVAL;
    if (daily && s->daily_min >= 1440)
        return FW_EINVAL;
    return 0;
}

long long schedule_next_ms(const struct schedule_spec *s, long long now_ms)
{
    if (s->every_s > 0) {
        long long period = (long long)s->every_s * 1000;
        return (now_ms / period + 1) * period;
    }
    const long long day = 86400LL * 1000;
    long long at = (now_ms / day) * day + (long long)s->daily_min * 60 * 1000;
    return at > now_ms ? at : at + day;
}
