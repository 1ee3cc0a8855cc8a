/*
 * creds_profile.c - credentials from the shared files: ~/.aws/credentials
 * and ~/.aws/config (or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE),
 * profile AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default").
 *
 * A key is looked up in the credentials file's [NAME] first, then in the
 * config file's [profile NAME] ([default] or [profile default] for the
 * default profile), as botocore does. A profile gives either static keys
 * (aws_access_key_id, aws_secret_access_key, aws_session_token) or a role:
 * role_arn with one of
 *   source_profile = OTHER       OTHER's credentials (itself resolved the
 *                                same way, so roles can chain; a profile
 *                                naming itself uses its own static keys),
 *   credential_source = Environment | Ec2InstanceMetadata | EcsContainer,
 *   web_identity_token_file = PATH  (AssumeRoleWithWebIdentity),
 * traded through STS AssumeRole (signed with the source credentials) with
 * role_session_name, external_id and duration_seconds when given. The STS
 * region is AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else
 * us-east-1. credential_process, SSO and MFA profiles are reported as
 * unsupported rather than skipped.
 *
 * The files are read again at every resolution (that is, at every
 * refresh), so edits are picked up without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/creds_internal.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define PROFILE_MAX_DEPTH 5

struct profile_ctx {
    const struct creds_env *env;
    struct creds_ini *creds_file;  /* NULL when absent */
    struct creds_ini *config_file; /* NULL when absent */
    char creds_path[1024];
    char config_path[1024];
};

/* ------------------------------------------------------------------ */
/* Files.                                                              */

/* Expands a leading "~/" with HOME; 0, or FW_EINVAL when HOME is unset. */
static int expand_path(const struct creds_env *e, const char *path, char *out, size_t cap)
{
    if (strncmp(path, "~/", 2) != 0) {
        snprintf(out, cap, "%s", path);
        return 0;
    }
    const char *home = creds__getenv(e, "HOME");
    if (!home)
        return FW_EINVAL;
    snprintf(out, cap, "%s/%s", home, path + 2);
    return 0;
}

static int load_one(const char *what, const char *path, struct creds_ini **out,
                    struct aws_api_error *err)
{
    char why[256] = "";
    int rc = creds_ini_load(path, out, why, sizeof(why));
    if (rc == FW_ENOTFOUND)
        return 0;
    if (rc)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration", "%s file %.300s: %s", what, path,
                           why);
    return 0;
}

/* Loads both files; FW_ENOTFOUND when neither exists. */
static int load_files(struct profile_ctx *c, struct aws_api_error *err)
{
    const char *cp = creds__getenv(c->env, "AWS_SHARED_CREDENTIALS_FILE");
    const char *fp = creds__getenv(c->env, "AWS_CONFIG_FILE");
    int have_cp = expand_path(c->env, cp ? cp : "~/.aws/credentials", c->creds_path,
                              sizeof(c->creds_path)) == 0;
    int have_fp =
        expand_path(c->env, fp ? fp : "~/.aws/config", c->config_path, sizeof(c->config_path)) == 0;
    int rc = have_cp ? load_one("credentials", c->creds_path, &c->creds_file, err) : 0;
    if (!rc && have_fp)
        rc = load_one("config", c->config_path, &c->config_file, err);
    if (!rc && !c->creds_file && !c->config_file)
        rc = FW_ENOTFOUND;
    return rc;
}

static const struct creds_ini_section *config_section(const struct profile_ctx *c, const char *name)
{
    char sec[300];
    if (!strcmp(name, "default")) {
        const struct creds_ini_section *s = creds_ini_section(c->config_file, "default");
        if (s)
            return s;
    }
    snprintf(sec, sizeof(sec), "profile %s", name);
    return creds_ini_section(c->config_file, sec);
}

static int profile_exists(const struct profile_ctx *c, const char *name)
{
    return creds_ini_section(c->creds_file, name) || config_section(c, name);
}

/* The profile's value of key: credentials file first, then config. */
static const char *pget(const struct profile_ctx *c, const char *name, const char *key)
{
    const char *v = creds_ini_get(creds_ini_section(c->creds_file, name), key);
    if (!v)
        v = creds_ini_get(config_section(c, name), key);
    return v && *v ? v : NULL;
}

/* ------------------------------------------------------------------ */
/* Resolution.                                                         */

static int resolve(const struct profile_ctx *c, const char *name, int depth, struct creds *out,
                   struct aws_api_error *err);

static int unsupported(const struct profile_ctx *c, const char *name, struct aws_api_error *err)
{
    static const char *const keys[] = {"credential_process", "sso_session", "sso_start_url"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (pget(c, name, keys[i]))
            return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                               "profile %.64s uses %s, which fleetwarden does not support", name,
                               keys[i]);
    }
    return 0;
}

/* Static keys of a profile; FW_ENOTFOUND when it has none (top level only). */
static int static_keys(const struct profile_ctx *c, const char *name, int depth, struct creds *out,
                       struct aws_api_error *err)
{
    const char *akid = pget(c, name, "aws_access_key_id");
    const char *secret = pget(c, name, "aws_secret_access_key");
    char source[96];
    if (akid && secret) {
        snprintf(source, sizeof(source), "profile %.80s", name);
        creds__set(out, akid, secret, pget(c, name, "aws_session_token"), 0, source);
        return 0;
    }
    if (akid || secret)
        return creds__fail(
            err, FW_EINVAL, "InvalidConfiguration",
            "profile %.64s has only one of aws_access_key_id and aws_secret_access_key", name);
    int rc = unsupported(c, name, err);
    if (rc)
        return rc;
    if (depth == 0)
        return FW_ENOTFOUND;
    return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                       "source profile %.64s has no credentials", name);
}

static int from_provider(struct creds_provider *p, const char *what, struct creds *out,
                         struct aws_api_error *err)
{
    int rc = p->vt->get(p, out, err);
    creds_provider_release(p);
    if (rc == FW_ENOTFOUND)
        rc = creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                         "credential_source %s has no credentials", what);
    return rc;
}

static int credential_source(const struct profile_ctx *c, const char *cs, struct creds *out,
                             struct aws_api_error *err)
{
    if (!strcmp(cs, "Environment"))
        return from_provider(creds__env_provider_new(c->env), cs, out, err);
    if (!strcmp(cs, "Ec2InstanceMetadata"))
        return from_provider(creds__imds_provider_new(c->env), cs, out, err);
    if (!strcmp(cs, "EcsContainer"))
        return from_provider(creds__container_provider_new(c->env), cs, out, err);
    return creds__fail(err, FW_EINVAL, "InvalidConfiguration", "unknown credential_source %.64s",
                       cs);
}

/* The credentials a role profile assumes its role with. */
static int source_creds(const struct profile_ctx *c, const char *name, int depth, struct creds *out,
                        struct aws_api_error *err)
{
    const char *src = pget(c, name, "source_profile");
    const char *cs = pget(c, name, "credential_source");
    if (src && cs)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "profile %.64s sets both source_profile and credential_source", name);
    if (cs)
        return credential_source(c, cs, out, err);
    if (!src)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "profile %.64s has role_arn but no source_profile or credential_source",
                           name);
    if (!profile_exists(c, src))
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "source_profile %.64s does not exist", src);
    if (!strcmp(src, name))
        return static_keys(c, src, depth + 1, out, err);
    return resolve(c, src, depth + 1, out, err);
}

static const char *sts_region(const struct profile_ctx *c, const char *name)
{
    const char *r = creds__getenv(c->env, "AWS_REGION");
    if (!r)
        r = creds__getenv(c->env, "AWS_DEFAULT_REGION");
    return r ? r : pget(c, name, "region");
}

static char *assume_role_form(const struct profile_ctx *c, const char *name, const char *role_arn)
{
    char session[64];
    const char *sn = pget(c, name, "role_session_name");
    const char *ext = pget(c, name, "external_id");
    const char *dur = pget(c, name, "duration_seconds");
    snprintf(session, sizeof(session), "%s", sn ? sn : "");
    if (!sn)
        snprintf(session, sizeof(session), "fleetwarden-%lld", (long long)time(NULL));
    char *form = creds__form_add(NULL, "Action", "AssumeRole");
    form = creds__form_add(form, "Version", "2011-06-15");
    form = creds__form_add(form, "RoleArn", role_arn);
    form = creds__form_add(form, "RoleSessionName", session);
    if (ext)
        form = creds__form_add(form, "ExternalId", ext);
    if (dur)
        form = creds__form_add(form, "DurationSeconds", dur);
    return form;
}

static int assume_role(const struct profile_ctx *c, const char *name, const char *role_arn,
                       int depth, struct creds *out, struct aws_api_error *err)
{
    struct creds src;
    char source[96];
    memset(&src, 0, sizeof(src));
    if (pget(c, name, "mfa_serial"))
        return creds__fail(
            err, FW_EINVAL, "InvalidConfiguration",
            "profile %.64s needs an MFA code (mfa_serial), which a service cannot type", name);
    int rc = source_creds(c, name, depth, &src, err);
    if (rc) {
        creds_cleanup(&src);
        return rc;
    }
    snprintf(source, sizeof(source), "profile %.60s via AssumeRole", name);
    char *form = assume_role_form(c, name, role_arn);
    const struct creds_sts_call call = {c->env, sts_region(c, name), form, &src, source};
    rc = creds__sts_call(&call, out, err);
    free(form);
    creds_cleanup(&src);
    return rc;
}

static int web_identity(const struct profile_ctx *c, const char *name, const char *role_arn,
                        struct creds *out, struct aws_api_error *err)
{
    char source[96];
    snprintf(source, sizeof(source), "profile %.50s via AssumeRoleWithWebIdentity", name);
    struct creds_webid_args a = {pget(c, name, "web_identity_token_file"), role_arn,
                                 pget(c, name, "role_session_name"), sts_region(c, name), source};
    return creds__webid_assume(c->env, &a, out, err);
}

static int resolve(const struct profile_ctx *c, const char *name, int depth, struct creds *out,
                   struct aws_api_error *err)
{
    if (depth >= PROFILE_MAX_DEPTH)
        return creds__fail(err, FW_EINVAL, "InvalidConfiguration",
                           "profile %.64s: source_profile chain too long or circular", name);
    const char *role_arn = pget(c, name, "role_arn");
    if (!role_arn)
        return static_keys(c, name, depth, out, err);
    if (pget(c, name, "web_identity_token_file"))
        return web_identity(c, name, role_arn, out, err);
    return assume_role(c, name, role_arn, depth, out, err);
}

/* ------------------------------------------------------------------ */
/* The provider.                                                       */

static int profile_missing(const struct profile_ctx *c, const char *name, int explicit_name,
                           struct aws_api_error *err)
{
    if (!explicit_name)
        return FW_ENOTFOUND;
    return creds__fail(err, FW_EINVAL, "ProfileNotFound",
                       "profile %.64s not found in %.200s or %.200s", name, c->creds_path,
                       c->config_path);
}

static int profile_get(struct creds_provider *p, struct creds *out, struct aws_api_error *err)
{
    struct profile_ctx c;
    memset(&c, 0, sizeof(c));
    c.env = p->impl;
    const char *name = creds__getenv(c.env, "AWS_PROFILE");
    if (!name)
        name = creds__getenv(c.env, "AWS_DEFAULT_PROFILE");
    int explicit_name = name != NULL;
    if (!name)
        name = "default";
    int rc = load_files(&c, err);
    if (rc == FW_ENOTFOUND || (!rc && !profile_exists(&c, name)))
        rc = profile_missing(&c, name, explicit_name, err);
    else if (!rc)
        rc = resolve(&c, name, 0, out, err);
    creds_ini_free(c.creds_file);
    creds_ini_free(c.config_file);
    return rc;
}

static void profile_destroy(void *impl)
{
    free(impl);
}

static const struct creds_provider_vtable s_profile_vt = {"profile", profile_get, profile_destroy};

struct creds_provider *creds__profile_provider_new(const struct creds_env *e)
{
    struct creds_env *copy = xmalloc(sizeof(*copy));
    *copy = *e;
    return creds__provider_new(&s_profile_vt, copy);
}
