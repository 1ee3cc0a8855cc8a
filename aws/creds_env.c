/*
 * creds_env.c - credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN, the first source of the chain.
 *
 * The variables are read at every resolution (the cache in front keeps the
 * answer). Only one of the key pair being set is a configuration mistake
 * and is reported instead of skipped. The same reader serves profiles with
 * credential_source = Environment.
 */
#include <stdlib.h>
#include <string.h>

#include "aws/creds_internal.h"
#include "service/core/err.h"
#include "service/core/mem.h"

int creds__from_env(const struct creds_env *e, struct creds *out, struct aws_api_error *err)
{
    const char *akid = creds__getenv(e, "AWS_ACCESS_KEY_ID");
    const char *secret = creds__getenv(e, "AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret)
        return FW_ENOTFOUND;
    if (!akid)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (!secret)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    creds__set(out, akid, secret, creds__getenv(e, "AWS_SESSION_TOKEN"), 0, "environment");
    return 0;
}

static int env_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    return creds__from_env(p->impl, out, err);
}

static void env_destroy(void *impl)
{
    free(impl);
}

static const struct creds_provider_vtable s_env_vt = {"environment", env_get, env_destroy};

struct creds_provider *creds__env_provider_new(const struct creds_env *e)
{
    struct creds_env *copy = xmalloc(sizeof(*copy));
    *copy = *e;
    return creds__provider_new(&s_env_vt, copy);
}
