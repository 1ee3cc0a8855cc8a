/*
 * fleet_names.c - name and ARN checks from AWS's API models (IAM
 * RoleName/PolicyName patterns, IoT PolicyName, RoleAlias, TemplateName,
 * ThingGroupName) and the documented ARN formats. Pure and table-free: a
 * name is a length range plus a character set, an ARN is split on ':' and
 * each part checked.
 */
#include "service/domain/fleet_names.h"

#include <string.h>

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define WORD ALNUM "_"

int fleet_names_charset(const char *s, unsigned max, const char *set)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    return n >= 1 && n <= max && strspn(s, set) == n;
}

int fleet_names_fleet(const char *s)
{
    return fleet_names_charset(s, 64, ALNUM "_-");
}

int fleet_names_iam_role(const char *s)
{
    return fleet_names_charset(s, 64, WORD "+=,.@-");
}

int fleet_names_iam_policy(const char *s)
{
    return fleet_names_charset(s, 128, WORD "+=,.@-");
}

int fleet_names_iot_policy(const char *s)
{
    return fleet_names_charset(s, 128, WORD "+=,.@-");
}

int fleet_names_role_alias(const char *s)
{
    return fleet_names_charset(s, 128, WORD "=,@-");
}

int fleet_names_template(const char *s)
{
    return fleet_names_charset(s, 36, ALNUM "_-");
}

int fleet_names_thing_group(const char *s)
{
    return fleet_names_charset(s, 128, ALNUM ":_-");
}

static int all_in(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return 0;
    return 1;
}

/* Dash-separated lowercase words ending with a number: us-east-1, us-gov-west-1. */
int fleet_names_region(const char *s)
{
    if (!fleet_names_charset(s, 32, "abcdefghijklmnopqrstuvwxyz0123456789-"))
        return 0;
    const char *last = strrchr(s, '-');
    if (!last || last == s || !last[1] || !all_in(last + 1, strlen(last + 1), "0123456789"))
        return 0;
    if (strstr(s, "--") || !all_in(s, 2, "abcdefghijklmnopqrstuvwxyz"))
        return 0;
    return 1;
}

int fleet_names_bucket(const char *s)
{
    if (!s || strlen(s) < 3 ||
        !fleet_names_charset(s, 63, "abcdefghijklmnopqrstuvwxyz0123456789.-"))
        return 0;
    size_t n = strlen(s);
    return strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]) &&
           strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[n - 1]) && !strstr(s, "..");
}

static int partition_ok(const char *p, size_t n)
{
    return (n == 3 && !strncmp(p, "aws", 3)) || (n == 6 && !strncmp(p, "aws-cn", 6)) ||
           (n == 10 && !strncmp(p, "aws-us-gov", 10));
}

/* Splits "arn:P:SVC:REGION:ACCOUNT:REST" into parts[0..5]; 1 on success. */
static int arn_split(const char *s, const char *parts[6], size_t lens[6])
{
    if (!s || strlen(s) > 2048 || strncmp(s, "arn:", 4))
        return 0;
    const char *p = s;
    for (int i = 0; i < 5; i++) {
        const char *c = strchr(p, ':');
        if (!c)
            return 0;
        parts[i] = p;
        lens[i] = (size_t)(c - p);
        p = c + 1;
    }
    parts[5] = p;
    lens[5] = strlen(p);
    return 1;
}

static int account_ok(const char *p, size_t n)
{
    return n == 12 && all_in(p, n, "0123456789");
}

int fleet_names_role_arn(const char *s)
{
    const char *pt[6];
    size_t ln[6];
    if (!arn_split(s, pt, ln) || !partition_ok(pt[1], ln[1]) || ln[2] != 3 ||
        strncmp(pt[2], "iam", 3))
        return 0;
    if (ln[3] != 0 || !account_ok(pt[4], ln[4]) || strncmp(pt[5], "role/", 5))
        return 0;
    const char *name = strrchr(pt[5], '/') + 1;
    return ln[5] <= 512 && fleet_names_charset(pt[5] + 5, 512, WORD "+=,.@-/") &&
           fleet_names_iam_role(name);
}

int fleet_names_iam_policy_arn(const char *s)
{
    const char *pt[6];
    size_t ln[6];
    if (!arn_split(s, pt, ln) || !partition_ok(pt[1], ln[1]) || ln[2] != 3 ||
        strncmp(pt[2], "iam", 3))
        return 0;
    int aws_owned = ln[4] == 3 && !strncmp(pt[4], "aws", 3);
    if (ln[3] != 0 || !(aws_owned || account_ok(pt[4], ln[4])) || strncmp(pt[5], "policy/", 7))
        return 0;
    const char *name = strrchr(pt[5], '/') + 1;
    return ln[5] <= 512 && fleet_names_charset(pt[5] + 7, 512, WORD "+=,.@-/") &&
           fleet_names_iam_policy(name);
}

int fleet_names_lambda_arn(const char *s)
{
    const char *pt[6];
    size_t ln[6];
    if (!arn_split(s, pt, ln) || !partition_ok(pt[1], ln[1]) || ln[2] != 6 ||
        strncmp(pt[2], "lambda", 6))
        return 0;
    char region[40];
    if (ln[3] >= sizeof region || !account_ok(pt[4], ln[4]) || strncmp(pt[5], "function:", 9))
        return 0;
    memcpy(region, pt[3], ln[3]);
    region[ln[3]] = '\0';
    if (!fleet_names_region(region))
        return 0;
    const char *fn = pt[5] + 9, *q = strchr(fn, ':');
    size_t fnlen = q ? (size_t)(q - fn) : strlen(fn);
    if (fnlen < 1 || fnlen > 64 || !all_in(fn, fnlen, ALNUM "_-."))
        return 0;
    return !q || fleet_names_charset(q + 1, 128, ALNUM "_-$");
}

int fleet_names_arn_account(const char *s, char out[13])
{
    const char *pt[6];
    size_t ln[6];
    out[0] = '\0';
    if (!(fleet_names_role_arn(s) || fleet_names_lambda_arn(s)) || !arn_split(s, pt, ln))
        return 0;
    memcpy(out, pt[4], 12);
    out[12] = '\0';
    return 1;
}

int fleet_names_lambda_in(const char *s, const char *region, const char *account)
{
    const char *pt[6];
    size_t ln[6];
    char acct[13];
    if (!fleet_names_lambda_arn(s) || !arn_split(s, pt, ln) || !fleet_names_arn_account(s, acct))
        return 0;
    if (region && (strlen(region) != ln[3] || strncmp(pt[3], region, ln[3])))
        return 0;
    return !account || !*account || !strcmp(acct, account);
}

int fleet_names_version(const char *s)
{
    int parts = 0;
    while (s && parts < 3) {
        size_t n = strspn(s, "0123456789");
        if (n < 1 || n > 6)
            return 0;
        s += n;
        parts++;
        if (*s != '.')
            break;
        s++;
    }
    return s && parts == 3 && *s == '\0';
}

int fleet_names_external_id(const char *s)
{
    return s && strlen(s) >= 2 && fleet_names_charset(s, 1224, WORD "+=,.@:/-");
}
